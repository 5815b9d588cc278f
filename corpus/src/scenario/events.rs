//! Windows events as the providers write them (docs/formats.md): manifest
//! providers with named data, classic ones with positional data and
//! qualifiers.

use super::Ctx;
use crate::bundle::Channel;
use crate::evtx::{EventData, EventRecord, Value};

/// An event to be written to a host's log.
#[derive(Debug, Clone)]
pub struct Ev {
    channel: Channel,
    provider: &'static str,
    guid: Option<&'static str>,
    source: Option<&'static str>,
    id: u16,
    qualifiers: Option<u16>,
    level: u8,
    task: u16,
    keywords: u64,
    time_ms: i64,
    pid: u32,
    tid: u32,
    user_sid: Option<String>,
    data: EventData,
    binary: Option<Vec<u8>>,
}

/// Level numbers.
pub const ERROR: u8 = 2;
/// Warning.
pub const WARNING: u8 = 3;
/// Information.
pub const INFO: u8 = 4;

fn qualifiers_for(level: u8) -> u16 {
    match level {
        1 | 2 => 49152,
        3 => 32768,
        _ => 16384,
    }
}

/// Unix ms to FILETIME.
pub fn filetime(ms: i64) -> u64 {
    ((ms + 11_644_473_600_000) * 10_000) as u64
}

/// Text value.
pub fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

impl Ev {
    /// A WAS event (System): named data, qualifiers.
    pub fn was(id: u16, level: u8, time_ms: i64, data: Vec<(&str, Value)>, binary: Option<Vec<u8>>) -> Ev {
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-WAS",
            "{524B5D04-133C-4A62-8362-64E8EDB9CE40}",
            Some("WAS"),
            id,
            level,
            time_ms,
            data,
        )
        .qualified()
        .with_binary(binary)
    }

    /// An event of the IIS worker (W3SVC-WP, Application): named data,
    /// qualifiers.
    pub fn worker(id: u16, level: u8, time_ms: i64, data: Vec<(&str, Value)>) -> Ev {
        Ev::manifest(
            Channel::Application,
            "Microsoft-Windows-IIS-W3SVC-WP",
            "{670080D9-742A-4187-8D16-41143D1290BD}",
            Some("W3SVC-WP"),
            id,
            level,
            time_ms,
            data,
        )
        .qualified()
    }

    /// A manifest provider's event with named data.
    #[allow(clippy::too_many_arguments)]
    pub fn manifest(
        channel: Channel,
        provider: &'static str,
        guid: &'static str,
        source: Option<&'static str>,
        id: u16,
        level: u8,
        time_ms: i64,
        data: Vec<(&str, Value)>,
    ) -> Ev {
        Ev {
            channel,
            provider,
            guid: Some(guid),
            source,
            id,
            qualifiers: None,
            level,
            task: 0,
            keywords: 0x8000_0000_0000_0000,
            time_ms,
            pid: 0,
            tid: 0,
            user_sid: None,
            data: EventData::Named(data.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            binary: None,
        }
    }

    /// A classic (non-manifest) provider's event: positional data, qualifiers.
    pub fn classic(
        channel: Channel,
        provider: &'static str,
        id: u16,
        level: u8,
        time_ms: i64,
        data: Vec<Value>,
    ) -> Ev {
        Ev {
            channel,
            provider,
            guid: None,
            source: None,
            id,
            qualifiers: Some(
                if provider == "Application Error"
                    || provider == ".NET Runtime"
                    || provider == "Windows Error Reporting"
                {
                    0
                } else {
                    qualifiers_for(level)
                },
            ),
            level,
            task: 0,
            keywords: 0x0080_0000_0000_0000,
            time_ms,
            pid: 0,
            tid: 0,
            user_sid: None,
            data: EventData::Positional(data),
            binary: None,
        }
    }

    /// Sets the qualifiers a legacy message id carries.
    pub fn qualified(mut self) -> Ev {
        self.qualifiers = Some(qualifiers_for(self.level));
        self
    }

    /// Adds binary data.
    pub fn with_binary(mut self, binary: Option<Vec<u8>>) -> Ev {
        self.binary = binary;
        self
    }

    /// Sets the writing process and thread.
    pub fn by(mut self, pid: u32, tid: u32) -> Ev {
        self.pid = pid;
        self.tid = tid;
        self
    }

    /// Sets the task.
    pub fn task(mut self, task: u16) -> Ev {
        self.task = task;
        self
    }

    /// Sets the user SID.
    pub fn user(mut self, sid: &str) -> Ev {
        self.user_sid = Some(sid.to_string());
        self
    }

    pub(super) fn into_record(self, host: &str) -> (Channel, EventRecord) {
        let record = EventRecord {
            provider: self.provider.to_string(),
            provider_guid: self.guid.map(str::to_string),
            event_source_name: self.source.map(str::to_string),
            event_id: self.id,
            qualifiers: self.qualifiers,
            version: 0,
            level: self.level,
            task: self.task,
            opcode: 0,
            keywords: self.keywords,
            time_created: filetime(self.time_ms),
            process_id: self.pid,
            thread_id: self.tid,
            channel: self.channel.name().to_string(),
            computer: format!("{host}.contoso.local"),
            user_sid: self.user_sid,
            activity_id: None,
            data: self.data,
            binary: self.binary,
        };
        (self.channel, record)
    }
}

/// UTF-16LE with a terminating NUL, as SCM writes its `Binary`.
pub fn utf16z(text: &str) -> Vec<u8> {
    text.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

/// Service Control Manager 7036: a service entered a state.
pub fn service_state(time_ms: i64, display: &str, key: &str, running: bool) -> Ev {
    let state = if running { "running" } else { "stopped" };
    Ev::manifest(
        Channel::System,
        "Service Control Manager",
        "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
        Some("Service Control Manager"),
        7036,
        INFO,
        time_ms,
        vec![("param1", s(display)), ("param2", s(state))],
    )
    .qualified()
    .with_binary(Some(utf16z(&format!("{key}/{}", if running { 4 } else { 1 }))))
    .by(720, 900)
}

/// A boot: event log started, OS version, kernel start, IIS services running.
pub fn boot(ctx: &mut Ctx, host: &str, t: i64) {
    ctx.event(
        host,
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-Kernel-General",
            "{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}",
            None,
            12,
            INFO,
            t,
            vec![
                ("MajorVersion", Value::U32(10)),
                ("MinorVersion", Value::U32(0)),
                ("BuildVersion", Value::U32(20348)),
                ("StartTime", Value::FileTime(filetime(t - 1500))),
            ],
        )
        .by(4, 8),
    );
    ctx.event(
        host,
        Ev::classic(
            Channel::System,
            "EventLog",
            6009,
            INFO,
            t + 2_000,
            vec![s("10.00."), s("20348"), s("Multiprocessor Free"), s("0")],
        ),
    );
    ctx.event(host, Ev::classic(Channel::System, "EventLog", 6005, INFO, t + 2_100, vec![]));
    ctx.event(host, service_state(t + 21_000, "Windows Process Activation Service", "WAS", true));
    ctx.event(host, service_state(t + 22_500, "World Wide Web Publishing Service", "W3SVC", true));
}

/// A worker process id for a pool on a host, stable for the seed.
pub fn pid(ctx: &mut Ctx) -> u32 {
    4 * (500 + ctx.rng.below(6000) as u32)
}

/// The worker-crash chain of events: .NET Runtime 1026, Application Error
/// 1000 (PID in hex), WAS 5011, WER 1001 later.
pub fn crash(ctx: &mut Ctx, host: &str, pool: &str, at: i64, worker: u32, exception: &str) {
    // A stack overflow is no exception the runtime can report as one: .NET
    // Framework logs the termination itself, and the fault is the stack's
    // (0xC00000FD) in the runtime, not a CLR exception (0xE0434352).
    let overflow = exception.contains("StackOverflow");
    let runtime = if overflow {
        "Application: w3wp.exe\r\nFramework Version: v4.0.30319\r\nDescription: The process was terminated due to stack overflow.\r\nStack:\r\n   at Shop.Orders.Sync.Visit(Shop.Orders.Node)\r\n   at Shop.Orders.Sync.Visit(Shop.Orders.Node)\r\n   at Shop.Orders.Sync.Visit(Shop.Orders.Node)\r\n   at Shop.Orders.Sync.Run()\r\n".to_string()
    } else {
        format!(
            "Application: w3wp.exe\r\nFramework Version: v4.0.30319\r\nDescription: The process was terminated due to an unhandled exception.\r\nException Info: {exception}\r\n   at Shop.Orders.Sync.Run()\r\n   at System.Threading.ThreadHelper.ThreadStart()\r\n"
        )
    };
    let (module, module_version, code) = if overflow {
        ("clr.dll", "4.8.4645.0", "c00000fd")
    } else {
        ("KERNELBASE.dll", "10.0.20348.2227", "e0434352")
    };
    ctx.event(
        host,
        Ev::classic(Channel::Application, ".NET Runtime", 1026, ERROR, at - 40, vec![s(runtime)]),
    );
    ctx.event(
        host,
        Ev::classic(
            Channel::Application,
            "Application Error",
            1000,
            ERROR,
            at,
            vec![
                s("w3wp.exe"),
                s("10.0.20348.1"),
                s("f3d1c1a5"),
                s(module),
                s(module_version),
                s("4b8f3a2e"),
                s(code),
                s("000000000005fb3c"),
                s(format!("{worker:x}")),
                s(format!("01dc5d{:010x}", at as u64 & 0xff_ffff_ffff)),
                s("c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                s(if overflow {
                    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll"
                } else {
                    "C:\\Windows\\System32\\KERNELBASE.dll"
                }),
                s(format!("{:08x}-5d2e-4c1a-9b7e-1f2a3b4c5d6e", at as u32)),
                s(""),
                s(""),
            ],
        )
        .task(100),
    );
    ctx.event(
        host,
        Ev::was(
            5011,
            WARNING,
            at + 180,
            vec![("AppPoolID", s(pool)), ("ProcessID", s(worker.to_string()))],
            Some(vec![0x6D, 0x00, 0x07, 0x80]),
        ),
    );
    ctx.event(
        host,
        Ev::classic(
            Channel::Application,
            "Windows Error Reporting",
            1001,
            INFO,
            at + 6_500,
            vec![
                s("0"),
                s("5"),
                s("CLR20r3"),
                s("Not available"),
                s("0"),
                s("w3wp.exe"),
                s("10.0.20348.1"),
                s("f3d1c1a5"),
                s("mscorlib"),
                s("4.8.9232.0"),
                s("66f4c1b2"),
                s("3f2d"),
                s("a5"),
                s(exception.split(':').next().unwrap_or(exception)),
                s(""),
                s("\\\\?\\C:\\ProgramData\\Microsoft\\Windows\\WER\\Temp\\WERB1C2.tmp.mdmp"),
                s("\\\\?\\C:\\ProgramData\\Microsoft\\Windows\\WER\\ReportArchive\\AppCrash_w3wp.exe_1"),
                s("0"),
                s(format!("{:08x}-5d2e-4c1a-9b7e-1f2a3b4c5d6e", at as u32)),
                s("268435456"),
                s(""),
                s("0"),
            ],
        ),
    );
}

/// An ASP.NET health-monitoring 1309 (event code 3005): an unhandled
/// exception in a request, with the positional fields ASP.NET writes.
#[derive(Debug, Clone)]
pub struct AspNetError<'a> {
    /// Host name (the machine field).
    pub host: &'a str,
    /// Site id and pool.
    pub site: u32,
    /// Application pool.
    pub pool: &'a str,
    /// Web event id, sequence, worker PID and thread id as written.
    pub ids: (&'a str, &'a str, &'a str, &'a str),
    /// Exception type and message.
    pub exception: (&'a str, &'a str),
    /// Request path (on api.example.com).
    pub path: &'a str,
    /// First stack frame.
    pub frame: &'a str,
}

/// The 1309 event for an ASP.NET request error.
pub fn aspnet_1309(time_ms: i64, e: &AspNetError<'_>) -> Ev {
    let account = format!("IIS APPPOOL\\{}", e.pool);
    let (event_id, sequence, pid, thread) = e.ids;
    Ev::classic(
        Channel::Application,
        "ASP.NET 4.0.30319.0",
        1309,
        WARNING,
        time_ms,
        vec![
            s("3005"),
            s("An unhandled exception has occurred."),
            s(""),
            s(""),
            s(event_id),
            s(sequence),
            s("1"),
            s("0"),
            s(format!("/LM/W3SVC/{}/ROOT-1-134085632051234567", e.site)),
            s("Full"),
            s("/"),
            s("C:\\inetpub\\api\\"),
            s(e.host),
            s(pid),
            s("w3wp.exe"),
            s(account.clone()),
            s(e.exception.0),
            s(e.exception.1),
            s(format!("https://api.example.com{}", e.path)),
            s(e.path),
            s("10.0.0.5"),
            s(""),
            s("False"),
            s(""),
            s(account.clone()),
            s(thread),
            s(account),
            s("False"),
            s(e.frame),
        ],
    )
    .task(3)
}

/// An ASP.NET 1316 (event code 4009): the view state a request posted
/// failed its MAC check (detail code 50203: signed with another key), with
/// the request, the client and the state posted.
pub fn aspnet_1316(
    time_ms: i64,
    host: &str,
    site: u32,
    pool: &str,
    client: &str,
    path: &str,
    state: &str,
) -> Ev {
    let account = format!("IIS APPPOOL\\{pool}");
    let (date, time) = crate::w3c::date_and_time(time_ms.div_euclid(1000));
    let when = format!("{date} {time}");
    Ev::classic(
        Channel::Application,
        "ASP.NET 4.0.30319.0",
        1316,
        INFO,
        time_ms,
        vec![
            s("4009"),
            s("Viewstate verification failed. Reason: The viewstate supplied failed integrity check."),
            s(when.clone()),
            s(when),
            s(format!("{:032x}", time_ms.unsigned_abs().wrapping_mul(0x9e37_79b9_7f4a_7c15))),
            s((time_ms.div_euclid(1000) % 10_000).to_string()),
            s("1"),
            s("50203"),
            s(format!("/LM/W3SVC/{site}/ROOT-1-134085632051234567")),
            s("Full"),
            s("/"),
            s("C:\\inetpub\\wwwroot\\"),
            s(host),
            s("5120"),
            s("w3wp.exe"),
            s(account.clone()),
            s(format!("https://shop.example.com{path}")),
            s(path),
            s(client),
            s(""),
            s("False"),
            s(""),
            s(account),
            s("Invalid viewstate."),
            s(client),
            s("51234"),
            s("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
            s(state),
            s(""),
            s(path),
        ],
    )
    .task(3)
}

/// A Security 4624 logon of an app pool's worker as its identity, written
/// when WAS starts a w3wp: logon type 5 (service) for ApplicationPoolIdentity
/// (`IIS APPPOOL\<pool>`), type 4 (batch) for a custom account.
pub fn worker_logon(time_ms: i64, host: &str, domain: &str, user: &str, logon_type: u32) -> Ev {
    Ev::manifest(
        Channel::Security,
        "Microsoft-Windows-Security-Auditing",
        "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        None,
        4624,
        0,
        time_ms,
        vec![
            ("SubjectUserSid", s("S-1-5-18")),
            ("SubjectUserName", s(format!("{host}$"))),
            ("SubjectDomainName", s("CONTOSO")),
            ("SubjectLogonId", Value::Hex64(0x3e7)),
            (
                "TargetUserSid",
                s(if domain == "IIS APPPOOL" {
                    "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"
                } else {
                    "S-1-5-21-1004336348-1177238915-682003330-1108"
                }),
            ),
            ("TargetUserName", s(user)),
            ("TargetDomainName", s(domain)),
            ("TargetLogonId", Value::Hex64(0x2_4f6a1)),
            ("LogonType", Value::U32(logon_type)),
            ("LogonProcessName", s("Advapi  ")),
            ("AuthenticationPackageName", s("Negotiate")),
            ("WorkstationName", s("-")),
            ("LogonGuid", s("{00000000-0000-0000-0000-000000000000}")),
            ("TransmittedServices", s("-")),
            ("LmPackageName", s("-")),
            ("KeyLength", Value::U32(0)),
            ("ProcessId", Value::Hex64(0x2d0)),
            ("ProcessName", s("C:\\Windows\\System32\\svchost.exe")),
            ("IpAddress", s("-")),
            ("IpPort", s("-")),
        ],
    )
    .task(12544)
    .by(684, 2220)
}

/// A Security 4625 failed logon.
#[derive(Debug, Clone)]
pub struct FailedLogon<'a> {
    /// Subject: SID, user, domain, logon id.
    pub subject: (&'a str, &'a str, &'a str, u64),
    /// Target user name (domain CONTOSO).
    pub target: &'a str,
    /// Logon type (3 network, 4 batch...).
    pub logon_type: u32,
    /// Logon process and authentication package.
    pub process: (&'a str, &'a str),
    /// Workstation name.
    pub workstation: &'a str,
    /// Calling process id and name.
    pub caller: (u64, &'a str),
}

/// The 4625 event for a logon that failed with a bad password (0xC000006A).
pub fn failed_logon(time_ms: i64, l: &FailedLogon<'_>) -> Ev {
    Ev::manifest(
        Channel::Security,
        "Microsoft-Windows-Security-Auditing",
        "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        None,
        4625,
        0,
        time_ms,
        vec![
            ("SubjectUserSid", s(l.subject.0)),
            ("SubjectUserName", s(l.subject.1)),
            ("SubjectDomainName", s(l.subject.2)),
            ("SubjectLogonId", Value::Hex64(l.subject.3)),
            ("TargetUserSid", s("S-1-0-0")),
            ("TargetUserName", s(l.target)),
            ("TargetDomainName", s("CONTOSO")),
            ("Status", Value::Hex32(0xC000_006D)),
            ("FailureReason", s("%%2313")),
            ("SubStatus", Value::Hex32(0xC000_006A)),
            ("LogonType", Value::U32(l.logon_type)),
            ("LogonProcessName", s(l.process.0)),
            ("AuthenticationPackageName", s(l.process.1)),
            ("WorkstationName", s(l.workstation)),
            ("TransmittedServices", s("-")),
            ("LmPackageName", s("-")),
            ("KeyLength", Value::U32(0)),
            ("ProcessId", Value::Hex64(l.caller.0)),
            ("ProcessName", s(l.caller.1)),
            ("IpAddress", s("-")),
            ("IpPort", s("-")),
        ],
    )
    .task(12544)
    .by(684, 2220)
}
