//! The native detectors: what a Sigma rule cannot say because it needs more
//! than one record (a script answering POSTs nobody asked for with GET, a
//! logging gap after logging was switched off, a first sighting kept with
//! its repeats counted), with the metadata each reports under.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use faultline_hunt::rule::Meta;
use faultline_hunt::{Level, Rule};
use faultline_parser::value::ends_with_ignore_case;
use faultline_parser::{Request, Timestamp, WinEvent};

use crate::finding::Evidence;

use super::keys::{account_key, host_key, row_key};
use super::posted::{PostOnly, Posted, on_a_schedule};
use super::process::worker_shell_of;
use super::{Detection, Hunt, HuntSink, Pending, RuleInfo, event_detection, order, pools, sort};

/// The detectors written in code because no single record says what they
/// find: each needs the whole read.
#[derive(Debug)]
pub(super) struct Natives {
    /// A script answering POSTs that no one asks for with GET.
    pub(super) post_only: Arc<RuleInfo>,
    /// A module outside Microsoft's and common vendors' set in a FREB
    /// trace's pipeline, proven native by the trace.
    pub(super) native_module: Arc<RuleInfo>,
    /// The same, where the trace cannot tell native from managed code.
    pub(super) unknown_module: Arc<RuleInfo>,
    /// Access logging switched off, and the access log then silent on a
    /// host that was logging.
    pub(super) logging_off: Arc<RuleInfo>,
    /// A process running as SYSTEM started by a program that ran as an
    /// app pool identity: a web shell's privilege escalation (the Potato
    /// exploits).
    pub(super) pool_escalation: Arc<RuleInfo>,
    /// A thread created in another process by a program that ran as an
    /// app pool identity: a web shell's code moved into a process of
    /// another account (Rotten Potato's notepad into the SYSTEM one).
    pub(super) pool_injection: Arc<RuleInfo>,
    /// The Windows Event Log service started with no boot beside it: it
    /// had been stopped or had crashed.
    pub(super) log_service_restarted: Arc<RuleInfo>,
    /// Script files written by a shell or tool the IIS worker started, or
    /// by a program started from one: a web shell's command dropping
    /// another.
    pub(super) worker_shell_script: Arc<RuleInfo>,
    /// A password accepted by the FTP service from a client whose guessing
    /// the bundled correlations found, during it or soon after.
    pub(super) ftp_guessed: Arc<RuleInfo>,
    /// The same on the web site, after the site's password guessing.
    pub(super) web_guessed: Arc<RuleInfo>,
    /// A script the worker wrote, only ever POSTed to, its worker starting
    /// a shell as a POST was answered (see [`posted`](super::posted)).
    pub(super) uploaded_shell: Arc<RuleInfo>,
    /// The same where no write of the script was seen.
    pub(super) posted_shell: Arc<RuleInfo>,
    /// The bundled rule whose matches are rejected credentials on the web
    /// site (its index among the loaded rules), if loaded.
    pub(super) web_rejected: Vec<usize>,
}

impl Natives {
    /// The native detectors, when the bundled pack is loaded (they report
    /// under its namespace, beside its rules).
    pub(super) fn of(rules: &[Rule]) -> Option<Natives> {
        rules.iter().any(Rule::is_bundled).then(|| Natives {
            post_only: native(
                "post-only-script",
                "Script Answering POSTs That Nobody Asks For With GET",
                Level::Medium,
                "T1505.003",
            ),
            native_module: native(
                "unknown-native-module",
                "Native Module Outside Microsoft's Set In The IIS Pipeline",
                Level::High,
                "T1505.004",
            ),
            unknown_module: native(
                "unknown-module",
                "Module Outside Microsoft's Set In The IIS Pipeline",
                Level::Low,
                "T1505.004",
            ),
            logging_off: native(
                "logging-switched-off",
                "Access Log Silent After Logging Is Switched Off",
                Level::High,
                "T1562.002",
            ),
            pool_escalation: native(
                "pool-identity-escalation",
                "Process Running As SYSTEM Started By A Program Running As An App Pool Identity",
                Level::Critical,
                "T1134.001",
            ),
            pool_injection: native(
                "pool-identity-remote-thread",
                "Program Running As An App Pool Identity Creates A Thread In Another Process",
                Level::High,
                "T1055",
            ),
            log_service_restarted: native(
                "event-log-service-restarted",
                "Windows Event Log Service Started Without A Boot",
                Level::Medium,
                "T1562.002",
            ),
            worker_shell_script: native(
                "worker-shell-writes-script",
                "Shell Started By The IIS Worker Writes A Script File",
                Level::High,
                "T1505.003",
            ),
            ftp_guessed: native(
                "ftp-password-guessed",
                "Password Guessed On The FTP Service",
                Level::High,
                "T1110",
            ),
            web_guessed: native("web-password-guessed", "Password Guessed On The Site", Level::High, "T1110"),
            uploaded_shell: native(
                "uploaded-script-runs-commands",
                "Script The IIS Worker Wrote Runs Commands When POSTed To",
                Level::Critical,
                "T1505.003",
            ),
            posted_shell: native(
                "posted-script-runs-commands",
                "Script Only Ever POSTed To Runs Commands",
                Level::High,
                "T1505.003",
            ),
            web_rejected: rules
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.is_bundled() && WEB_REJECTED_RULES.contains(&r.name.as_deref().unwrap_or_default())
                })
                .map(|(i, _)| i)
                .collect(),
        })
    }
}

/// Of `pending` detections keyed by the process that acted (a SYSTEM
/// start's parent, a remote thread's source), those whose process ran as
/// an app pool identity, saying so (`what` by a program running as it)
/// under `field`, on the pool, in order.
fn by_pool_programs(
    pending: Vec<(u64, Detection)>,
    pool_processes: &hashbrown::HashMap<u64, String>,
    what: &str,
    field: &str,
) -> Vec<Detection> {
    let mut found: Vec<Detection> = pending
        .into_iter()
        .filter_map(|(process, mut d)| {
            let identity = pool_processes.get(&process)?;
            d.evidence.summary = crate::describe::cut_line(format!(
                "{what} a program running as {identity}: {}",
                d.evidence.summary
            ));
            d.matched.push((field.into(), identity.clone()));
            d.app_pool = faultline_parser::winevent::pool_of_identity(identity).map(str::to_string);
            Some(d)
        })
        .collect();
    sort(&mut found);
    found
}

/// The metadata of a native detector.
pub(super) fn native(id: &str, title: &str, level: faultline_hunt::Level, technique: &str) -> Arc<RuleInfo> {
    Arc::new(RuleInfo {
        meta: Meta {
            id: format!("faultline-native-{id}"),
            title: title.into(),
            author: Some("faultline".into()),
            level,
            status: Some("experimental".into()),
            license: None,
            techniques: vec![technique.into()],
            origin: format!("native:{id}"),
        },
        fields: Vec::new(),
        index: usize::MAX,
        silent: false,
        interest: Vec::new(),
        spelled: BTreeMap::new(),
    })
}

/// The name of the bundled rule whose matches are the web site's rejected
/// credentials.
pub(super) const WEB_REJECTED_RULES: [&str; 2] =
    ["faultline_web_auth_rejected", "faultline_web_form_login_failed"];

/// The most clients a script that only takes POSTs is seen from and still
/// reported: a dropped web shell is driven by its operator from an address
/// or a few, while a script the application's pages POST to (an AJAX
/// handler) is POSTed by its visitors.
pub(super) const POST_ONLY_CLIENTS: usize = 3;

/// The most signed-in users a script that only takes POSTs is seen from
/// and still reported: a shell's operator is one identity (or none), while
/// an application's pages that POST to a handler of its own (SharePoint's
/// list views paging through `inplview.aspx`) do so as each of its users,
/// behind a proxy or a NAT that shows them all as one client.
pub(super) const POST_ONLY_USERS: usize = 1;

/// Notes that `poster` (a client, a user) POSTed to the script `key`, up
/// to one more than `most`: past that the number no longer matters.
pub(super) fn note_poster<T: PartialEq>(
    posters: &mut hashbrown::HashMap<u64, Vec<T>>,
    key: u64,
    poster: T,
    most: usize,
) {
    let seen = posters.entry(key).or_default();
    if seen.len() <= most && !seen.contains(&poster) {
        seen.push(poster);
    }
}

/// A host was logging before a switch-off: this many of the
/// `LOGGING_BEFORE` minutes before it have rows.
pub(super) const LOGGING_MINUTES: usize = 10;
pub(super) const LOGGING_BEFORE: i64 = 30;

/// The silence after it, in minutes, at least; and more than twice the
/// longest silence of the `USUAL_SILENCE_OVER` minutes before it.
pub(super) const SILENCE_MINUTES: i64 = 15;

pub(super) const USUAL_SILENCE_OVER: i64 = 180;

/// The switch-offs whose host then logged nothing for a while, until its
/// access log resumed, each with the silence in its summary. A silence to
/// the end of what the host's log holds is not one: the collection may end
/// there (the switch itself is the configuration rules' detection, and the
/// analysis reports the missing log).
pub(super) fn logging_gaps(
    logged: &BTreeSet<(u64, i64)>,
    switched_off: Vec<(u64, Detection)>,
) -> Vec<Detection> {
    let mut out: Vec<(u64, i64, Detection)> = Vec::new();
    for (host, mut d) in switched_off {
        let at = d.time.minute();
        let before: Vec<i64> =
            logged.range((host, at - USUAL_SILENCE_OVER)..=(host, at)).map(|(_, m)| *m).collect();
        let recent = before.iter().filter(|m| **m >= at - LOGGING_BEFORE).count();
        if recent < LOGGING_MINUTES {
            continue;
        }
        let usual = before.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let Some(end) = logged.range((host, at + 1)..=(host, i64::MAX)).next().map(|(_, m)| *m) else {
            continue;
        };
        let when = Timestamp::of_minute(end).to_prose();
        let until = format!("until {}", when.replacen(":00 UTC", " UTC", 1));
        let silence = end - at;
        if silence < SILENCE_MINUTES || silence <= 2 * usual {
            continue;
        }
        d.evidence.summary = crate::describe::cut_line(format!(
            "no access-log row on {} for {silence} min {until} after: {}",
            d.host, d.evidence.summary
        ));
        out.push((host, end, d));
    }
    // The appcmd and the configuration change it made are one switch: the
    // first of those before one silence stands for them.
    out.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| order(&a.2, &b.2)));
    out.dedup_by_key(|(host, end, _)| (*host, *end));
    let mut out: Vec<Detection> = out.into_iter().map(|(_, _, d)| d).collect();
    sort(&mut out);
    out
}

/// Per key (a host and a path, a host and a module), the first detection
/// in [`sort`] order and how many there were: what a native detector
/// reports, held in memory that grows with the keys, not the rows.
#[derive(Debug, Default)]
pub(super) struct Firsts(BTreeMap<u64, (Detection, usize)>);

impl Firsts {
    pub(super) fn add(&mut self, key: u64, mut d: Detection, n: usize) {
        match self.0.entry(key) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert((d, n));
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let (first, count) = o.get_mut();
                *count += n;
                let last = first.end.unwrap_or(first.time).max(d.end.unwrap_or(d.time));
                if order(&d, first).is_lt() {
                    std::mem::swap(first, &mut d);
                }
                first.end = (last > first.time).then_some(last);
            }
        }
    }

    /// Counts one more for `key` without its detection when the key's
    /// first is earlier than `time` (rows come in time order, so most
    /// repeats are later: no detection need be built for them); `false`
    /// when the detection must be added.
    pub(super) fn later(&mut self, key: u64, time: Timestamp) -> bool {
        match self.0.get_mut(&key) {
            Some((first, count)) if first.time < time => {
                *count += 1;
                first.end = first.end.max(Some(time));
                true
            }
            _ => false,
        }
    }

    pub(super) fn absorb(&mut self, other: Firsts) {
        for (key, (d, n)) in other.0 {
            self.add(key, d, n);
        }
    }

    /// One detection per key `keep` keeps (it may complete the detection
    /// with what the whole read says), its summary saying how many the key
    /// had (`what(n)`), in [`sort`] order.
    pub(super) fn report(
        self,
        keep: impl Fn(u64, &mut Detection) -> bool,
        what: impl Fn(u64, usize) -> String,
    ) -> Vec<Detection> {
        let mut out: Vec<Detection> = self
            .0
            .into_iter()
            .filter_map(|(key, (mut first, n))| keep(key, &mut first).then_some((key, (first, n))))
            .map(|(key, (mut first, n))| {
                first.evidence.summary =
                    crate::describe::cut_line(format!("{}; first: {}", what(key, n), first.evidence.summary));
                first
            })
            .collect();
        sort(&mut out);
        out
    }
}

/// Extensions of pages that run code. Not `.asmx`: SOAP services take
/// only POSTs by design (Exchange's EWS among them).
pub(super) const SCRIPTS: [&[u8]; 6] = [b".aspx", b".ashx", b".asp", b".php", b".jsp", b".cshtml"];

pub(super) fn is_script(stem: &[u8]) -> bool {
    SCRIPTS.iter().any(|e| ends_with_ignore_case(stem, e))
}

impl HuntSink<'_> {
    /// Notes the minute of an access-log row on its host (once per minute
    /// and computer name: rows come in time order).
    pub(super) fn note_logged(&mut self, r: &Request<'_>) {
        if self.hunt.natives.is_none() {
            return;
        }
        let raw = r.time.minute();
        let computer = r.computer_name.unwrap_or_default();
        // Compared in line: a call to memcmp per row for a few bytes cost
        // more than the rest of the noting.
        let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
        if self.last_logged.1 == raw && same(&self.last_logged.0, computer) {
            return;
        }
        let host = self.resolve.host(r.computer_name);
        // A row outside the time range notes nothing, and the next row of
        // its minute asks again.
        let Some(time) = self.resolve.time(&host, r.time) else { return };
        self.last_logged.0.clear();
        self.last_logged.0.extend_from_slice(computer);
        self.last_logged.1 = raw;
        let key = host_key(&host.name, b"", &mut self.key);
        self.pending.logged.insert((key, time.minute()));
        // A skew of part of a minute spreads one logged minute over two.
        let last = Timestamp::last_of_minute(raw);
        if let Some(end) = self.resolve.time(&host, last) {
            self.pending.logged.insert((key, end.minute()));
        }
    }

    /// Keeps an event that switches access logging off.
    pub(super) fn note_switch(&mut self, e: &WinEvent) {
        let Some(natives) = &self.hunt.natives else { return };
        if crate::logging_switch::logging_switch(e) != Some(crate::logging_switch::Switch::Off) {
            return;
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return };
        let place = (e.origin.line(), e.record_id);
        let fields = ["Configuration", "NewValue", "CommandLine"];
        // What switched it off first (the line is cut): the command line or
        // the setting, before a process start's metadata.
        let said = crate::describe::describe_event_ranked(e, &|name| {
            u8::from(!fields.iter().any(|f| f.eq_ignore_ascii_case(name)))
        });
        let evidence = Evidence::in_file(self.resolve.file(), place, time, said);
        let key = host_key(&host.name, b"", &mut self.key);
        let d = event_detection(&natives.logging_off, e, &host.name, (time, evidence), &fields);
        self.pending.switched_off.push((key, d));
    }

    /// Notes a boot (Kernel-General 12, EventLog 6009), or keeps the Windows
    /// Event Log service entering the running state (Service Control
    /// Manager 7036): a start with no boot beside it, once the whole read
    /// is known, is the service stopped or crashed and started again.
    pub(super) fn note_log_service(&mut self, e: &WinEvent) {
        use crate::detect::kinds::{BOOT_MARKS, SERVICE_CHANGED};
        let Some(natives) = &self.hunt.natives else { return };
        let family = e.family();
        let of = |kinds: &[crate::evidence::EventKind]| kinds.iter().any(|k| k.is(family, e.event_id));
        let boot = of(BOOT_MARKS);
        let started = of(SERVICE_CHANGED) && faultline_parser::winevent::event_log_service_started(e);
        if !boot && !started {
            return;
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return };
        let key = host_key(&host.name, b"", &mut self.key);
        if boot {
            self.pending.boots.insert((key, time.seconds()));
            return;
        }
        let summary = crate::describe::cut_line(crate::describe::headline(e));
        let evidence = Evidence::in_file(self.resolve.file(), (e.origin.line(), e.record_id), time, summary);
        let d = event_detection(
            &natives.log_service_restarted,
            e,
            &host.name,
            (time, evidence),
            &["param1", "param2"],
        );
        self.pending.log_service_starts.push((key, d));
    }

    /// Notes a GET of a path, or keeps a POST to a script answered 200.
    pub(super) fn note_script(&mut self, r: &Request<'_>, summary: &dyn Fn() -> String) {
        let (Some(natives), Some(stem), Some(method)) = (&self.hunt.natives, r.uri_stem, r.method) else {
            return;
        };
        if !is_script(stem) {
            return;
        }
        let get = method.eq_ignore_ascii_case(b"GET") || method.eq_ignore_ascii_case(b"HEAD");
        // The server calling itself (WordPress's wp-cron.php from 127.0.0.1)
        // is not a visitor.
        let local = r.client_ip.and_then(|a| a.ip()).is_some_and(|ip| ip.is_loopback());
        let post = method.eq_ignore_ascii_case(b"POST") && r.status == Some(200) && !local;
        if !get && !post {
            return;
        }
        let host = self.resolve.host(r.computer_name);
        let key = host_key(&host.name, stem, &mut self.key);
        if get {
            self.pending.gets.insert(key);
            return;
        }
        let Some(time) = self.resolve.time(&host, r.time) else { return };
        let client = self.hunt.client(r).map(|ip| ip.to_canonical());
        if let Some(ip) = client {
            note_poster(&mut self.pending.post_clients, key, ip, POST_ONLY_CLIENTS);
        }
        if let Some(user) = r.username.and_then(faultline_parser::value::present).and_then(account_key) {
            note_poster(&mut self.pending.post_users, key, user, POST_ONLY_USERS);
        }
        let many = |posters: Option<usize>, most: usize| posters.is_some_and(|n| n > most);
        if many(self.pending.post_clients.get(&key).map(Vec::len), POST_ONLY_CLIENTS)
            || many(self.pending.post_users.get(&key).map(Vec::len), POST_ONLY_USERS)
        {
            self.pending.post_times.forget(key);
        } else {
            let file = self.resolve.file();
            let posted =
                Posted { time, source: file.kind, path: Arc::clone(&file.path), line: r.origin.line, client };
            self.pending.post_times.note(key, posted);
        }
        if self.pending.posts.later(key, time) {
            return;
        }
        let matched = vec![("cs-uri-stem".into(), String::from_utf8_lossy(stem).into_owned())];
        let detection = self.row_detection(&natives.post_only, r, (&host.name, time), summary(), matched);
        // Answered 200, as a site answering any path answers a scanner's posts.
        self.note_answered(r);
        // Its folder's pool is found after the read, as a shown row's.
        if let Some(folder) = pools::folder(&String::from_utf8_lossy(stem)) {
            self.pending.web_paths.push((row_key(&detection.evidence.path, r.origin.line), folder.into()));
        }
        self.pending.posts.add(key, detection, 1);
    }
}

impl Hunt {
    /// The native detectors over the whole read, each once per host and
    /// what it is about with its repeats counted: scripts answering POSTs
    /// that no GET asked for, unknown pipeline modules, logging switched
    /// off and then silent, an app pool's program starting one as SYSTEM,
    /// the event log service started without a boot, and scripts a shell
    /// the worker started wrote.
    pub(super) fn natives(&self, pending: Pending) -> (Vec<Detection>, Vec<PostOnly>) {
        let Pending {
            gets,
            posts,
            mut post_times,
            post_clients,
            post_users,
            modules,
            logged,
            switched_off,
            quiet: _,
            traced: _,
            logged_requests: _,
            pool_processes,
            system_starts,
            remote_threads,
            log_service_starts,
            process_parents,
            worker_children,
            worker_pools: _,
            worker_events: _,
            shells,
            script_writes,
            ftp_logins: _,
            web_logins: _,
            rejections: _,
            site_pools: _,
            web_paths: _,
            answered: _,
            boots,
            clock_events: _,
            sources: _,
            time_doubts: _,
        } = pending;
        let clients = |key: u64| post_clients.get(&key).map_or(0, Vec::len);
        let users = |key: u64| post_users.get(&key).map_or(0, Vec::len);
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let post_only = |key: u64| {
            !gets.contains(&key) && clients(key) <= POST_ONLY_CLIENTS && users(key) <= POST_ONLY_USERS
        };
        // A monitoring agent's health check, POSTed on its schedule from
        // inside the network, is no shell's.
        let mut scheduled = BTreeSet::new();
        let scripts: Vec<PostOnly> = posts
            .0
            .iter()
            .filter(|(key, _)| post_only(**key))
            .filter_map(|(key, (first, _))| {
                let posted = post_times.take(*key);
                if on_a_schedule(&posted) {
                    scheduled.insert(*key);
                    return None;
                }
                Some(PostOnly { first: (first.evidence.path.clone(), first.evidence.line), posted })
            })
            .collect();
        let mut out = posts.report(
            |key, _| post_only(key) && !scheduled.contains(&key),
            |key, n| {
                let from = match clients(key) {
                    0 => String::new(),
                    c => format!(" from {c} client{}", plural(c)),
                };
                format!("{n} POST{} answered 200{from}, never asked for with GET", plural(n))
            },
        );
        out.extend(modules.report(|_, _| true, |_, n| format!("in the pipeline of {n} trace{}", plural(n))));
        out.extend(logging_gaps(&logged, switched_off));
        out.extend(by_pool_programs(system_starts, &pool_processes, "started as SYSTEM by", "ParentUser"));
        out.extend(by_pool_programs(remote_threads, &pool_processes, "a thread created by", "SourceUser"));
        let mut restarted: Vec<Detection> = log_service_starts
            .into_iter()
            .filter_map(|(host, d)| {
                let at = d.time.seconds();
                let within = crate::detect::BOOT_NEAR.as_secs();
                let near = (host, at.saturating_sub(within))..=(host, at.saturating_add(within));
                boots.range(near).next().is_none().then_some(d)
            })
            .collect();
        sort(&mut restarted);
        out.extend(restarted);
        out.extend(script_writes.report(
            |writer, d| {
                let Some(pool) = worker_shell_of(writer, &process_parents, &worker_children, &shells) else {
                    return false;
                };
                // The worker's pool, where its command line or the shell's
                // account names it; else the write's own account's.
                if let Some(pool) = pool {
                    d.app_pool = Some(pool.clone());
                }
                true
            },
            |_, n| format!("{n} script file{} written by a shell the IIS worker started", plural(n)),
        ));
        (out, scripts)
    }

    /// The native detectors (on with the bundled pack): what no single
    /// record says, written in code.
    pub fn native_detectors(&self) -> impl Iterator<Item = &Arc<RuleInfo>> {
        // Taken apart whole, so that a detector added and not listed does
        // not compile.
        self.natives.iter().flat_map(|n| {
            let Natives {
                post_only,
                native_module,
                unknown_module,
                logging_off,
                pool_escalation,
                pool_injection,
                log_service_restarted,
                worker_shell_script,
                ftp_guessed,
                web_guessed,
                uploaded_shell,
                posted_shell,
                web_rejected: _,
            } = n;
            [
                post_only,
                native_module,
                unknown_module,
                logging_off,
                pool_escalation,
                pool_injection,
                log_service_restarted,
                worker_shell_script,
                ftp_guessed,
                web_guessed,
                uploaded_shell,
                posted_shell,
            ]
        })
    }
}
