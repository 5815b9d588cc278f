//! Process starts as the hunt reads them: Sysmon 1 and Security 4688 of one
//! start folded into one detection, and the shells and programs an IIS
//! worker started, generations down.

use std::collections::BTreeMap;

use faultline_parser::value::ends_with_ignore_case;
use faultline_parser::{RecordId, WinEvent};

use super::keys::host_key;
use crate::finding::Evidence;

use super::{Detection, event_detection, rule_identity};

/// A process start as an event logs it: Sysmon 1 or Security 4688.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ProcessStart {
    /// Its process id (Sysmon writes it in decimal, Security in hex).
    pid: u64,
    /// Its image, lower case.
    image: String,
    /// Logged by Sysmon (else by Security auditing).
    sysmon: bool,
}

impl ProcessStart {
    /// The start `e` logs, if it is a process start.
    pub(super) fn of(e: &WinEvent) -> Option<ProcessStart> {
        use faultline_parser::winevent::Family;
        let (pid, image, sysmon) = match (e.event_id, e.family()) {
            (1, Family::Sysmon) => (e.data("ProcessId")?.trim().parse().ok()?, e.data("Image")?, true),
            (4688, Family::SecurityAuditing) => {
                let hex = e.data("NewProcessId")?.trim();
                let hex = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")).unwrap_or(hex);
                (u64::from_str_radix(hex, 16).ok()?, e.data("NewProcessName")?, false)
            }
            _ => return None,
        };
        Some(ProcessStart { pid, image: image.to_lowercase(), sysmon })
    }
}

/// The key of the event at `place` (its line, else its record) of the
/// file `path`.
pub(super) fn event_key(path: &str, (line, record): (Option<u64>, Option<RecordId>)) -> u64 {
    use std::hash::BuildHasher as _;
    super::keys::SCRIPT_KEYS.hash_one((path, line, record.map(RecordId::key)))
}

/// Gives the detections of an IIS worker's doing that name no app pool
/// (see [`HuntSink::note_worker_event`](super::HuntSink::note_worker_event))
/// the pool another event of the same worker process names.
pub(super) fn place_workers_in_pools(
    detections: &mut [Detection],
    pools: &hashbrown::HashMap<u64, String>,
    events: &[(u64, u64)],
) {
    if pools.is_empty() || events.is_empty() {
        return;
    }
    let events: hashbrown::HashMap<u64, u64> = events.iter().copied().collect();
    for d in detections.iter_mut().filter(|d| d.app_pool.is_none()) {
        let event = event_key(&d.evidence.path, (d.evidence.line, d.evidence.record));
        if let Some(pool) = events.get(&event).and_then(|process| pools.get(process)) {
            d.app_pool = Some(pool.clone());
        }
    }
}

/// The values of a process start (Sysmon 1, Security 4688) that say what
/// ran, as whom, and started by what: a summary shows them first.
pub(super) fn what_ran(name: &str) -> bool {
    matches!(
        name,
        "Image"
            | "CommandLine"
            | "User"
            | "ParentImage"
            | "ParentCommandLine"
            | "ParentUser"
            | "NewProcessName"
            | "ParentProcessName"
            | "SubjectUserName"
            | "TargetUserName"
    )
}

/// How far apart Sysmon's and Security's records of one process start may
/// be: both are written as the process is created, each by its own writer.
pub(super) const SAME_START: i64 = 2;

/// Folds a detection of a process start that Security auditing logged
/// into the same rule's detection of the same start that Sysmon logged
/// (same host, process id and image, within [`SAME_START`] seconds): a
/// server auditing both would otherwise show every shell its worker
/// started twice. The Sysmon record stays the evidence (it has the
/// hashes and the parent); its summary names the Security record too.
/// `detections` are in [`sort`](super::sort) order, and stay so.
pub(super) fn fold_double_logged(detections: &mut Vec<Detection>) {
    let (folded, also) = double_logged(detections);
    if also.is_empty() {
        return;
    }
    for (j, places) in also {
        // The reference is what the fold must not lose: the record's
        // text gives way to it (a Sysmon start's summary is often at the
        // limit already).
        let also = format!(" (also in Security 4688: {})", places.join(", "));
        let summary = &mut detections[j].evidence.summary;
        let room = crate::describe::EVENT_TEXT.saturating_sub(also.len() + '…'.len_utf8()).max(40);
        *summary = crate::describe::cut_line(format!("{}{also}", crate::describe::cut_to(summary, room)));
    }
    let mut i = 0;
    detections.retain(|_| {
        i += 1;
        !folded[i - 1]
    });
}

/// The rule (see [`rule_identity`]: two rules without an id may share a
/// title), host, process id and image of a detection of a process start.
pub(super) type StartKey<'a> = (usize, &'a str, u64, &'a str);

pub(super) fn start_key(d: &Detection) -> Option<(StartKey<'_>, bool)> {
    let p = d.process.as_ref()?;
    Some(((rule_identity(&d.rule), d.host.as_str(), p.pid, p.image.as_str()), p.sysmon))
}

/// Which detections are Security's record of a start Sysmon's detection
/// holds, and per Sysmon detection the places of those records.
pub(super) fn double_logged(detections: &[Detection]) -> (Vec<bool>, BTreeMap<usize, Vec<String>>) {
    let mut by_sysmon: hashbrown::HashMap<StartKey<'_>, Vec<usize>> = hashbrown::HashMap::new();
    for (i, d) in detections.iter().enumerate() {
        if let Some((k, true)) = start_key(d) {
            by_sysmon.entry(k).or_default().push(i);
        }
    }
    let mut folded = vec![false; detections.len()];
    let mut also: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    if by_sysmon.is_empty() {
        return (folded, also);
    }
    for (i, d) in detections.iter().enumerate() {
        let Some((k, false)) = start_key(d) else { continue };
        let close = |j: &&usize| (detections[**j].time.seconds() - d.time.seconds()).abs() <= SAME_START;
        if let Some(&j) = by_sysmon.get(&k).and_then(|list| list.iter().find(close)) {
            folded[i] = true;
            let place = d
                .evidence
                .record
                .map_or_else(|| d.evidence.path.clone(), |r| format!("{}#{r}", d.evidence.path));
            also.entry(j).or_default().push(place);
        }
    }
    (folded, also)
}

/// The system's own service hosts and installers (in System32), which
/// start programs as SYSTEM all day: no parent an app pool's program
/// could be. By full path: a Potato binary named svchost.exe in a site's
/// folder is not one.
pub(super) const SERVICE_HOSTS: [&str; 12] = [
    "services.exe",
    "svchost.exe",
    "wininit.exe",
    "smss.exe",
    "csrss.exe",
    "winlogon.exe",
    "lsass.exe",
    "wbem\\wmiprvse.exe",
    "taskeng.exe",
    "msiexec.exe",
    "taskhostw.exe",
    "wbem\\wmiapsrv.exe",
];

/// Whether an image is one of [`SERVICE_HOSTS`] in the system's folder.
pub(super) fn is_service_host(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    let Some(name) = lower.strip_prefix("c:\\windows\\system32\\") else { return false };
    SERVICE_HOSTS.contains(&name)
}

/// Whether a Sysmon 1 start runs as the system account: its logon session
/// is SYSTEM's (0x3e7), or, where Sysmon names no session, its `User` is
/// `...\SYSTEM`.
pub(super) fn runs_as_system(e: &WinEvent, user: &str) -> bool {
    match e.data("LogonId") {
        Some(id) => id.trim().eq_ignore_ascii_case("0x3e7"),
        None => user.rsplit('\\').next().is_some_and(|name| name.eq_ignore_ascii_case("SYSTEM")),
    }
}

/// How many processes, the writer first, are looked at up to the worker's
/// child: cmd.exe started by w3wp.exe starting powershell.exe that writes
/// the page is two; a chain of processes with a loop in it ends here too.
pub(super) const WORKER_GENERATIONS: usize = 4;

/// The app pool entry (see [`Pending::worker_children`](super::Pending::worker_children)) of the worker
/// whose child is the process `key` or one of its ancestors within
/// [`WORKER_GENERATIONS`], when a shell is on the way (the child itself or
/// one below it: w3wp.exe starting php-cgi.exe starting cmd.exe is a PHP
/// shell's command); `None` otherwise (a runtime writing its own pages).
pub(super) fn worker_shell_of<'p>(
    key: u64,
    parents: &hashbrown::HashMap<u64, u64>,
    worker_children: &'p hashbrown::HashMap<u64, Option<String>>,
    shells: &hashbrown::HashSet<u64>,
) -> Option<&'p Option<String>> {
    let (mut at, mut shell) = (key, false);
    for _ in 0..WORKER_GENERATIONS {
        shell |= shells.contains(&at);
        if let Some(pool) = worker_children.get(&at) {
            return shell.then_some(pool);
        }
        at = *parents.get(&at)?;
    }
    None
}

/// The shells and tools whose start by the worker the bundled rule
/// reports (its list, which a test holds them to): only what one of them
/// writes, or a program it started, is a shell's doing. The worker's
/// other children are an application's runtimes (PHP's FastCGI updating
/// a WordPress plugin, java.exe unpacking a WAR, node.exe under iisnode),
/// whose pages are the application's, unless they started a shell.
pub(super) const WORKER_SHELLS: [&str; 19] = [
    "\\cmd.exe",
    "\\powershell.exe",
    "\\pwsh.exe",
    "\\whoami.exe",
    "\\net.exe",
    "\\net1.exe",
    "\\ipconfig.exe",
    "\\systeminfo.exe",
    "\\certutil.exe",
    "\\bitsadmin.exe",
    "\\nltest.exe",
    "\\quser.exe",
    "\\tasklist.exe",
    "\\wmic.exe",
    "\\reg.exe",
    "\\rundll32.exe",
    "\\mshta.exe",
    "\\cscript.exe",
    "\\wscript.exe",
];

/// Whether `image` is one of [`WORKER_SHELLS`].
pub(super) fn is_worker_shell(image: &str) -> bool {
    WORKER_SHELLS.iter().any(|shell| ends_with_ignore_case(image.as_bytes(), shell.as_bytes()))
}

impl super::HuntSink<'_> {
    /// Notes a process start (Sysmon 1) an escalation may be made of: one
    /// running as an app pool identity, or one running as SYSTEM whose
    /// parent is no service host of the system's (its parent's identity
    /// is known once the whole read is).
    pub(super) fn note_process(&mut self, e: &WinEvent) {
        use faultline_parser::winevent::{Family, is_pool_identity};
        let Some(natives) = &self.hunt.natives else { return };
        if (e.family(), e.event_id) != (Family::Sysmon, 1) {
            return;
        }
        let (Some(user), Some(guid)) = (e.data("User"), e.data("ProcessGuid")) else { return };
        if is_pool_identity(user) {
            let host = self.resolve.host_of(e.computer.as_deref());
            let key = host_key(&host.name, guid.as_bytes(), &mut self.key);
            self.pending.pool_processes.insert(key, user.to_string());
            return;
        }
        let parent_image = e.data("ParentImage").unwrap_or_default();
        if !runs_as_system(e, user) || is_service_host(parent_image) {
            return;
        }
        let Some(parent) = e.data("ParentProcessGuid") else { return };
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return };
        // Kept until the whole read says whether the parent ran as an app
        // pool: a line's summary, and the fields that say what ran.
        let summary = crate::describe::cut_line(crate::describe::describe_event_leading(e, &what_ran));
        let evidence = Evidence::in_file(self.resolve.file(), (e.origin.line(), e.record_id), time, summary);
        let key = host_key(&host.name, parent.as_bytes(), &mut self.key);
        let fields = ["Image", "User", "ParentImage"];
        let mut d = event_detection(&natives.pool_escalation, e, &host.name, (time, evidence), &fields);
        d.process = ProcessStart::of(e);
        // Sysmon 13.3 on names the parent's account itself.
        if let Some(identity) = e.data("ParentUser").filter(|p| is_pool_identity(p)) {
            self.pending.pool_processes.insert(key, identity.to_string());
        }
        self.pending.system_starts.push((key, d));
    }

    /// Notes a thread a program other than the worker created in another
    /// process (Sysmon 8, which names no account): an injection if the
    /// whole read says the source ran as an app pool identity. The
    /// worker's own are the bundled rule's.
    pub(super) fn note_remote_thread(&mut self, e: &WinEvent) {
        use faultline_parser::winevent::{Family, is_worker_image};
        let Some(natives) = &self.hunt.natives else { return };
        if (e.family(), e.event_id) != (Family::Sysmon, 8) {
            return;
        }
        let (Some(source), Some(image)) = (e.data("SourceProcessGuid"), e.data("SourceImage")) else {
            return;
        };
        if is_worker_image(image) {
            return;
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return };
        let leading = |name: &str| matches!(name, "SourceImage" | "TargetImage");
        let summary = crate::describe::cut_line(crate::describe::describe_event_leading(e, &leading));
        let evidence = Evidence::in_file(self.resolve.file(), (e.origin.line(), e.record_id), time, summary);
        let key = host_key(&host.name, source.as_bytes(), &mut self.key);
        let fields = ["SourceImage", "TargetImage", "StartAddress"];
        let d = event_detection(&natives.pool_injection, e, &host.name, (time, evidence), &fields);
        self.pending.remote_threads.push((key, d));
    }

    /// Notes the app pool a Sysmon event names for an IIS worker process
    /// (its start's command line, its child's record of it, or its
    /// account): what a detection of that worker's doing under a Sysmon
    /// event naming no account (a thread it created, a process it opened,
    /// a file it wrote before Sysmon logged the user) takes its pool from.
    pub(super) fn note_worker_pool(&mut self, e: &WinEvent) {
        use faultline_parser::winevent::{Family, is_worker_image};
        if e.family() != Family::Sysmon {
            return;
        }
        let guid = if e.data("Image").is_some_and(is_worker_image) {
            e.data("ProcessGuid")
        } else if e.event_id == 1 && e.data("ParentImage").is_some_and(is_worker_image) {
            e.data("ParentProcessGuid")
        } else {
            None
        };
        let (Some(guid), Some(pool)) = (guid, e.app_pool()) else { return };
        let host = self.resolve.host_of(e.computer.as_deref());
        let key = host_key(&host.name, guid.as_bytes(), &mut self.key);
        self.pending.worker_pools.entry(key).or_insert_with(|| pool.to_string());
    }

    /// Notes that the event at `place` of the file being read, which rules
    /// matched and which names no app pool, is the doing of an IIS worker
    /// process (its image, or the source image of a thread it created or a
    /// process it opened): its pool may be named by another event of that
    /// process (see [`Self::note_worker_pool`]).
    pub(super) fn note_worker_event(&mut self, e: &WinEvent, place: (Option<u64>, Option<RecordId>)) {
        use faultline_parser::winevent::{Family, is_worker_image};
        if e.family() != Family::Sysmon {
            return;
        }
        let acting = [("Image", "ProcessGuid"), ("SourceImage", "SourceProcessGuid")]
            .into_iter()
            .find(|(image, _)| e.data(image).is_some_and(is_worker_image))
            .and_then(|(_, guid)| e.data(guid));
        let Some(guid) = acting else { return };
        let host = self.resolve.host_of(e.computer.as_deref());
        let process = host_key(&host.name, guid.as_bytes(), &mut self.key);
        let event = event_key(&self.resolve.file().path, place);
        self.pending.worker_events.push((event, process));
    }

    /// Notes which process started which (Sysmon 1), which the IIS worker
    /// started and which are shells; holds the first script file each
    /// other program wrote (Sysmon 11), counting the rest, until the whole
    /// read says whether it descends from the worker through a shell. The
    /// worker's own writes are the bundled rule's.
    pub(super) fn note_lineage(&mut self, e: &WinEvent) {
        use faultline_parser::winevent::{Family, is_script_file, is_worker_image};
        let Some(natives) = &self.hunt.natives else { return };
        if e.family() != Family::Sysmon {
            return;
        }
        let Some(guid) = e.data("ProcessGuid") else { return };
        match e.event_id {
            1 => {
                let Some(parent) = e.data("ParentProcessGuid") else { return };
                let host = self.resolve.host_of(e.computer.as_deref());
                let key = host_key(&host.name, guid.as_bytes(), &mut self.key);
                let parent = host_key(&host.name, parent.as_bytes(), &mut self.key);
                self.pending.process_parents.insert(key, parent);
                if e.data("Image").is_some_and(is_worker_shell) {
                    self.pending.shells.insert(key);
                }
                if e.data("ParentImage").is_some_and(is_worker_image) {
                    self.pending.worker_children.insert(key, e.app_pool().map(str::to_string));
                }
            }
            11 => {
                let (Some(target), Some(image)) = (e.data("TargetFilename"), e.data("Image")) else { return };
                // The worker's own writes are the bundled rule's: not held.
                if is_worker_image(image) || !is_script_file(target) {
                    return;
                }
                let host = self.resolve.host_of(e.computer.as_deref());
                let Some(time) = self.resolve.time(&host, e.time) else { return };
                // One held per writing process: an installer writes
                // thousands of pages, each counted, none kept.
                let key = host_key(&host.name, guid.as_bytes(), &mut self.key);
                if self.pending.script_writes.later(key, time) {
                    return;
                }
                let leading = |name: &str| matches!(name, "Image" | "TargetFilename" | "User");
                let summary = crate::describe::cut_line(crate::describe::describe_event_leading(e, &leading));
                let evidence =
                    Evidence::in_file(self.resolve.file(), (e.origin.line(), e.record_id), time, summary);
                let fields = ["Image", "TargetFilename", "User"];
                let d =
                    event_detection(&natives.worker_shell_script, e, &host.name, (time, evidence), &fields);
                self.pending.script_writes.add(key, d, 1);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_hunt::Level;
    use faultline_parser::{RecordId, Timestamp};

    use super::*;
    use crate::hunting::RuleInfo;
    use crate::hunting::natives::native;
    use crate::resolve::SourceKind;

    /// Two rules without an id that share a title are two rules: a
    /// Security start one matched folds into the Sysmon start the same
    /// rule matched, not the other's.
    #[test]
    fn a_start_folds_into_its_own_rules_sysmon_detection() {
        let (a, b) =
            (native("same", "Shell", Level::High, "T1059"), native("same", "Shell", Level::High, "T1059"));
        let start = |rule: &Arc<RuleInfo>, sysmon: bool, record: u64| Detection {
            process: Some(ProcessStart { pid: 4242, image: "cmd.exe".into(), sysmon }),
            ..Detection::new(
                rule,
                "WEB01",
                Timestamp::from_parts(1_700_000_000, 0),
                Evidence {
                    source: SourceKind::Evtx,
                    path: "logs.evtx".into(),
                    line: None,
                    record: RecordId::new(record),
                    time: Timestamp::from_parts(1_700_000_000, 0),
                    summary: "cmd.exe".into(),
                },
            )
        };
        let (folded, also) = double_logged(&[start(&a, true, 1), start(&b, false, 2)]);
        assert_eq!((folded, also.len()), (vec![false, false], 0), "another rule's start stays");
        let (folded, also) = double_logged(&[start(&a, true, 1), start(&a, false, 2)]);
        assert_eq!((folded, also.len()), (vec![false, true], 1), "its own rule's start folds");
    }
}
