//! `reboot`: the server shut down (planned, User32 1074 and EventLog 6006;
//! or not, EventLog 6008 and Kernel-Power 41) until the event log service
//! started again (6005), under its name or one it was given at that boot;
//! restarts in a row are one finding.

use faultline_parser::{Span, Timestamp};

use super::kinds::{BOOTED, SHUT_DOWN};
use super::{Draft, FailureMode, host_clusters};
use crate::evidence::{EventRow, Store};
use crate::finding::{Role, Severity};
use crate::renames::Rename;

/// How long after its shutdown a machine's boot is still its restart's
/// (a server left off overnight), and a renaming at that boot counts.
const BACK_WITHIN: Span = Span::hours(24);

/// How long before a shutdown a renaming it makes good may be logged.
const RENAMED_BEFORE: Span = Span::hours(1);

/// How close to its boot an unclean shutdown's own events are written.
const BOOT_NEAR: Span = Span::mins(10);

/// The most names a machine's restart is looked for under.
const RENAMED_NAMES: usize = 16;

/// An unclean shutdown (EventLog 6008, Kernel-Power 41): its events are
/// written at the boot that followed it.
fn written_at_boot(e: &EventRow) -> bool {
    matches!(e.event.event_id, 6008 | 41)
}

/// A User32 1074 value: named in an EVTX's EventData, by position in an
/// export without names.
fn param<'e>(e: &'e EventRow, name: &str, at: usize) -> Option<&'e str> {
    if e.event.data.iter().any(|d| d.name.is_some()) { e.data(name) } else { e.data_at(at) }
}

/// Who asked for a planned shutdown and why, as User32 1074 says: the
/// process (its file name), the reason unless Windows has no title for
/// it, and the comment (`msiexec.exe: The Windows Installer initiated a
/// system restart ... 'VMware Tools'`).
fn asked_by(e: &EventRow) -> Option<Asked> {
    if e.event.event_id != 1074 {
        return None;
    }
    let field =
        |name: &str, at: usize| param(e, name, at).map(str::trim).filter(|v| !v.is_empty() && *v != "-");
    let process = field("param1", 0)?;
    // `C:\Windows\system32\winlogon.exe (MINWINPC)`: the file name.
    let process = process.split(" (").next().unwrap_or(process);
    let process = process.rsplit(['\\', '/']).next().unwrap_or(process);
    let mut said = process.to_string();
    if let Some(user) = field("param7", 6) {
        said.push_str(&format!(" on behalf of {user}"));
    }
    if let Some(reason) = field("param3", 2).filter(|r| !r.starts_with("No title for this reason")) {
        said.push_str(&format!(" ({})", reason.trim_end_matches('.')));
    }
    if let Some(comment) = field("param6", 5) {
        said.push_str(&format!(": {}", crate::describe::cut_to(comment.trim_end_matches('.'), 160)));
    }
    // Winlogon carries out what another program asked for, or a user's
    // own request from the Start menu.
    Some(Asked { by_winlogon: process.eq_ignore_ascii_case("winlogon.exe"), said })
}

/// A planned shutdown's request, as said.
struct Asked {
    by_winlogon: bool,
    said: String,
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let renames = crate::renames::renames(store);
    for c in host_clusters(store.events_of(SHUT_DOWN), Span::mins(30)) {
        let first = c[0];
        let last = c[c.len() - 1];
        // The machine may come back under a name it was given for that
        // boot (EventLog 6011, written when the name was changed, which the
        // boot makes good: shortly before the shutdown, or at the boot),
        // followed through a chain of names.
        let mut names: Vec<&str> = vec![&first.host];
        let mut at = 0;
        while at < names.len() && names.len() < RENAMED_NAMES {
            let name = names[at];
            let during =
                |r: &&Rename| r.time >= first.time() - RENAMED_BEFORE && r.time <= last.time() + BACK_WITHIN;
            for r in renames.iter().filter(during).filter(|r| r.from.eq_ignore_ascii_case(name)) {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(&r.to)) {
                    names.push(&r.to);
                }
            }
            at += 1;
        }
        let ours = |b: &&EventRow| names.iter().any(|n| b.host.eq_ignore_ascii_case(n));
        // The boot a shutdown ended in: an unclean one is written at that
        // boot (6008, Kernel-Power 41), beside its 6005; a planned one
        // precedes it, before the next shutdown.
        let boot_of = |e: &EventRow, next: Option<Timestamp>| -> Option<&EventRow> {
            if written_at_boot(e) {
                return store
                    .events_between(BOOTED, e.time() - BOOT_NEAR, e.time() + BOOT_NEAR)
                    .filter(ours)
                    .min_by_key(|b| (b.time() - e.time()).abs());
            }
            let until = next.unwrap_or_else(|| e.time() + BACK_WITHIN);
            store.events_between(BOOTED, e.time(), until).find(ours)
        };
        // A boot between two shutdowns ends one restart and the next
        // begins (a domain controller's promotion restarts it twice in
        // minutes): each restart's boot is cited, the window runs to the
        // last.
        let mut boots: Vec<&EventRow> = Vec::new();
        for (i, e) in c.iter().enumerate() {
            let next = c.get(i + 1).map(|n| n.time());
            if let Some(b) = boot_of(e, next)
                && !boots.iter().any(|o| std::ptr::eq(*o, b))
            {
                boots.push(b);
            }
        }
        let boot = boots.last().copied();
        let end = boot.map_or_else(|| last.time(), |b| b.time().max(last.time()));
        let unclean = c.iter().any(|e| written_at_boot(e));
        let how = match (unclean, boots.len()) {
            (true, n) if n > 1 => format!(" {n} times, once at least without a clean shutdown"),
            (true, _) => " without a clean shutdown".to_string(),
            (false, n) if n > 1 => format!(" {n} times (planned)"),
            (false, _) => " (planned)".to_string(),
        };
        // Asked to shut down or power off rather than restart (1074's
        // type): off until the boot, or to the evidence's end.
        let off = c.iter().any(|e| {
            e.event.event_id == 1074
                && param(e, "param5", 4).is_some_and(|t| {
                    let t = t.trim().to_ascii_lowercase();
                    t == "shutdown" || t == "power off"
                })
        });
        let went = match (off, boot) {
            (false, _) => format!("restarted{how}"),
            (true, Some(b)) => format!(
                "shut down{how}, and was started again {} later",
                crate::describe::duration(b.time() - first.time())
            ),
            (true, None) => format!("shut down{how}, and no boot follows in the evidence"),
        };
        // A machine with no IIS evidence (a workstation, a domain controller
        // in the same collection) restarting is background to an IIS case.
        let (severity, mut text) = if store.serves_web(&first.host) {
            (
                Severity::Medium,
                format!(
                    "The server {went}: IIS stopped with it, so requests in that window were refused \
                        and not logged, and the first requests after the boot paid cold starts."
                ),
            )
        } else {
            (
                Severity::Info,
                format!(
                    "The machine {went}. Nothing in the evidence shows IIS on it (no web logs, no IIS \
                        events), so no site went down with it."
                ),
            )
        };
        // Who asked for each planned restart, and why (User32 1074);
        // winlogon carrying out a request another program made is that
        // request.
        let asked: Vec<Option<Asked>> = c.iter().map(|e| asked_by(e)).collect();
        let others = asked.iter().flatten().any(|a| !a.by_winlogon);
        let listed: Vec<&str> = asked
            .iter()
            .flatten()
            .filter(|a| !(others && a.by_winlogon))
            .take(3)
            .map(|a| a.said.as_str())
            .collect();
        if !listed.is_empty() {
            text.push_str(&format!(" Asked for by {}.", listed.join("; then by ")));
        }
        if let Some(b) = boot.filter(|b| !b.host.eq_ignore_ascii_case(&first.host)) {
            text.push_str(&format!(" It came back named {} (EventLog 6011: renamed).", b.host));
        }
        let mut d = Draft::new(FailureMode::Reboot, severity, 0.9, first.time(), end)
            .scope(Some(&first.host), None, None)
            .explain(text);
        for (e, asked) in c.iter().zip(&asked) {
            let why = asked.as_ref().map_or(String::new(), |a| format!(", asked for by {}", a.said));
            d.cite(
                store.cite_event(e, format!("{} {}: shutdown{why}", e.event.provider, e.event.event_id)),
                Role::Cause,
            );
        }
        for b in boots {
            d.cite(
                store.cite_event(b, "EventLog 6005: the event log service started (boot)".into()),
                Role::Effect,
            );
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    /// omerbenamram's system.evtx record 298: msiexec restarting the
    /// machine for VMware Tools; Windows's "No title for this reason"
    /// left out.
    #[test]
    fn a_planned_restart_says_who_asked_for_it_and_why() {
        let d = &Given::new()
            .event(
                "WEB01",
                0,
                "User32",
                1074,
                &[
                    ("param1", "msiexec.exe"),
                    ("param2", "WEB01"),
                    ("param3", "No title for this reason could be found"),
                    ("param4", "0x80030002"),
                    ("param5", "restart"),
                    ("param6", "The Windows Installer initiated a system restart to complete or continue the configuration of 'VMware Tools'."),
                    ("param7", "NT AUTHORITY\\SYSTEM"),
                ],
            )
            .event("WEB01", 40, "EventLog", 6005, &[])
            .detected(detect)[0];
        assert!(
            d.explanation.contains(
                "Asked for by msiexec.exe on behalf of NT AUTHORITY\\SYSTEM: The Windows Installer initiated a system \
                    restart to complete or continue the configuration of 'VMware Tools'."
            ),
            "{}",
            d.explanation
        );
        assert!(d.timeline[0].summary.contains("asked for by msiexec.exe"), "{:?}", d.timeline);
    }

    /// plaso's DC1: an administrator's Explorer asking to power off, and
    /// winlogon carrying it out; the log ends before any boot.
    #[test]
    fn a_shutdown_asked_for_is_no_restart() {
        let asked = |e: Given, secs: i64, process: &str, kind: &str| {
            e.event(
                "DC1",
                secs,
                "User32",
                1074,
                &[("param1", process), ("param5", kind), ("param7", "CORP\\Administrator")],
            )
        };
        let e = asked(Given::new(), 0, "C:\\Windows\\Explorer.EXE (DC1)", "power off");
        let d = &asked(e, 10, "C:\\Windows\\system32\\winlogon.exe (DC1)", "power off").detected(detect)[0];
        assert!(
            d.explanation.contains("shut down (planned), and no boot follows in the evidence"),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation.contains("Asked for by Explorer.EXE on behalf of CORP\\Administrator."),
            "{}",
            d.explanation
        );
        let back =
            asked(Given::new(), 0, "Explorer.EXE", "shutdown").event("DC1", 900, "EventLog", 6005, &[]);
        let d = &back.detected(detect)[0];
        assert!(
            d.explanation.contains("shut down (planned), and was started again 15 min later"),
            "{}",
            d.explanation
        );
    }

    #[test]
    fn a_restart_runs_from_the_shutdown_to_the_boot() {
        let e = Given::new()
            .event("WEB01", 0, "User32", 1074, &[])
            .event("WEB01", 20, "EventLog", 6006, &[])
            .event("WEB01", 200, "EventLog", 6005, &[])
            .event("WEB02", 50, "EventLog", 6008, &[]);
        let found = e.detected(detect);
        assert_eq!(found.len(), 2, "one per server");
        assert_eq!((found[0].start, found[0].end), (at(0), at(200)));
        assert!(found[0].explanation.contains("(planned)"));
        assert!(found[1].explanation.contains("without a clean shutdown"));
        assert_eq!(found[0].severity, Severity::Info, "no IIS evidence on WEB01");
        let web = Given::new().requests(3, "WEB01", 1, 0, "/", (200, 0, 0), 10).event(
            "WEB01",
            10,
            "EventLog",
            6006,
            &[],
        );
        assert_eq!(web.detected(detect)[0].severity, Severity::Medium, "a web server went down");
    }

    /// plaso's WIN-NBRJP24VCHB: restarted at 09:14, 09:33 (a promotion to
    /// domain controller) and 09:39, booting after each: one finding of
    /// three restarts, each boot cited, the window to the last; Zeus's
    /// machine came back under its new name, whose boot ends the window.
    #[test]
    fn restarts_in_a_row_are_one_finding_to_the_last_boot() {
        let e = Given::new()
            .event("WEB01", 0, "User32", 1074, &[])
            .event("WEB01", 30, "EventLog", 6005, &[])
            .event("WEB01", 600, "User32", 1074, &[])
            .event("WEB01", 660, "EventLog", 6005, &[])
            .event("WEB01", 900, "User32", 1074, &[])
            .event("WEB01", 960, "EventLog", 6005, &[]);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (at(0), at(960)));
        assert!(found[0].explanation.contains("restarted 3 times (planned)"), "{}", found[0].explanation);
        assert_eq!(found[0].timeline.iter().filter(|s| s.role == Role::Effect).count(), 3);
        let renamed = Given::new()
            .event("37L4247F27-25", 0, "User32", 1074, &[])
            .event("PROACTIVE-PC", 60, "EventLog", 6005, &[])
            .positional("WIN-CMUL35D0HFB", 50, "EventLog", 6011, &["37L4247F27-25", "WIN-CMUL35D0HFB"])
            .positional("PROACTIVE-PC", 60, "EventLog", 6011, &["WIN-CMUL35D0HFB", "PROACTIVE-PC"]);
        let found = renamed.detected(detect);
        assert_eq!((found[0].start, found[0].end), (at(0), at(60)), "back under its newest name");
        assert!(found[0].explanation.ends_with("It came back named PROACTIVE-PC (EventLog 6011: renamed)."));
    }

    /// An unclean shutdown is written at the boot that followed it, just
    /// after that boot's 6005: it is that boot's restart, not the next's.
    #[test]
    fn an_unclean_shutdown_is_the_restart_of_the_boot_it_was_written_at() {
        let e = Given::new()
            .event("WEB01", 0, "User32", 1074, &[])
            .event("WEB01", 60, "EventLog", 6005, &[])
            .event("WEB01", 900, "EventLog", 6005, &[])
            .event("WEB01", 901, "EventLog", 6008, &[])
            .event("WEB01", 905, "Microsoft-Windows-Kernel-Power", 41, &[])
            .event("WEB01", 5 * 86_400, "EventLog", 6005, &[]);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (at(0), at(905)));
        assert!(
            found[0].explanation.contains("restarted 2 times, once at least without"),
            "{}",
            found[0].explanation
        );
        let renamed_later = Given::new()
            .event("T", 0, "User32", 1074, &[])
            .positional("WEB02", 3 * 86_400, "EventLog", 6011, &["T", "WEB02"])
            .event("WEB02", 3 * 86_400, "EventLog", 6005, &[]);
        assert_eq!(
            renamed_later.detected(detect)[0].end,
            at(0),
            "a clone booted days later is not its restart"
        );
    }

    #[test]
    fn a_boot_alone_is_no_restart_finding() {
        assert!((Given::new().event("WEB01", 200, "EventLog", 6005, &[])).detected(detect).is_empty());
    }
}
