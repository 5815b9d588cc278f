//! `reboot`: the server shut down (planned, User32 1074 and EventLog 6006;
//! or not, EventLog 6008 and Kernel-Power 41) until the event log service
//! started again (6005), under its name or one it was given at that boot;
//! restarts in a row are one finding.

use faultline_parser::{Span, Timestamp};

use super::kinds::{BOOTED, SHUT_DOWN};
use super::{Draft, FailureMode, host_clusters_by};
use crate::clock::{ClockStep, set_right};
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

/// Why a machine went down uncleanly, as Kernel-Power 41 says (its
/// `BugcheckCode` in decimal, its `PowerButtonTimestamp` a FILETIME, both
/// zero when Windows saw neither), with the steps that fit; or, for
/// EventLog 6008, when it was last running by its own words (the machine's
/// local time, in its locale's format).
fn unclean_why(e: &EventRow) -> Option<Unclean> {
    match e.event.event_id {
        41 => {
            let number = |name: &str| {
                let v = e.data(name)?.trim();
                match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => v.parse::<u64>().ok(),
                }
            };
            let (bugcheck, button) = (number("BugcheckCode"), number("PowerButtonTimestamp"));
            if bugcheck.is_none() && button.is_none() {
                return None;
            }
            // Older Windows records no power button: say only what it does.
            let neither = if button.is_some() { "no bug check and no power button" } else { "no bug check" };
            if let Some(code) = bugcheck.filter(|&c| c != 0) {
                return Some(Unclean {
                    said: format!(
                        "Windows stopped with bug check 0x{code:X} (a blue screen; Kernel-Power 41)."
                    ),
                    steps: BUG_CHECK,
                    down: None,
                });
            }
            if let Some(at) = button.and_then(faultline_parser::time::filetime) {
                return Some(Unclean {
                    said: format!(
                        "Its power button was pressed at {} by its clock, with no bug check (Kernel-Power 41; a \
                         virtual machine's host sending it a press reads the same): it was turned off by hand, \
                         likely because it had stopped answering.",
                        at.to_prose()
                    ),
                    steps: POWER_BUTTON,
                    down: Some(at),
                });
            }
            Some(Unclean {
                said: format!(
                    "Kernel-Power 41 names {neither}: the machine lost power, hung and was reset, or, as a \
                     virtual machine, was powered off or reset by its host."
                ),
                steps: POWER_LOST,
                down: None,
            })
        }
        6008 => {
            // `1:34:44 PM` and `8/25/2015`, with the left-to-right marks
            // some locales put between the date's parts.
            let part = |at: usize| {
                e.event
                    .data_at(at)
                    .map(|v| v.replace(['\u{200e}', '\u{200f}'], ""))
                    .filter(|v| !v.trim().is_empty())
            };
            let (time, date) = (part(0)?, part(1)?);
            Some(Unclean {
                said: format!(
                    "Windows logged the shutdown before that boot as unexpected: it was last running at {time} on {date} (EventLog 6008, the machine's local time)."
                ),
                steps: &[],
                down: None,
            })
        }
        _ => None,
    }
}

/// What an unclean shutdown's event says of it.
struct Unclean {
    /// In a sentence.
    said: String,
    /// The steps that fit.
    steps: &'static [&'static str],
    /// When the machine went down, when the event says (the power button
    /// pressed).
    down: Option<Timestamp>,
}

/// How long before its boot a power button's press is still that
/// shutdown's.
const PRESSED_WITHIN: Span = Span::hours(24);

/// The step after a planned restart of a machine that serves no site.
const WHO_ASKED: &str = "Confirm the restart was meant: User32 1074 names the program and account that asked \
    for it, with the reason and comment given.";

/// Steps after a bug check.
const BUG_CHECK: &[&str] = &[
    "Open the memory dump the bug check wrote (C:\\Windows\\MEMORY.DMP or C:\\Windows\\Minidump; WER 1001 after the boot names it) with WinDbg's !analyze -v: it names the driver that failed; update or remove that driver.",
];

/// Steps after the power button.
const POWER_BUTTON: &[&str] = &[
    "Ask who turned the machine off and why: a server that stops answering usually ran out of memory or hung on a driver or disk; read its last events before the press.",
];

/// Steps after power lost or a reset.
const POWER_LOST: &[&str] = &[
    "Check the power supply and UPS, the hardware's own log (iLO, iDRAC), or for a virtual machine the hypervisor's events for a power-off or reset of this guest (a host crash or failover resets its guests too).",
];

/// A planned shutdown's request, as said.
struct Asked {
    by_winlogon: bool,
    said: String,
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let renames = crate::renames::renames(store);
    // A boot's own events timed by a clock set back minutes later are
    // placed by the clock as set right (plaso's DC1: Kernel-Power 41
    // timed two hours ahead of the 6008 and 6005 of the same boot).
    let steps = crate::clock::clock_steps(store);
    let right = |e: &EventRow| set_right(&steps, e).map_or_else(|| e.time(), |(t, _)| t);
    for c in host_clusters_by(store.events_of(SHUT_DOWN), &right, Span::mins(30)) {
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
                |r: &&Rename| r.time >= right(first) - RENAMED_BEFORE && r.time <= right(last) + BACK_WITHIN;
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
            let at = right(e);
            if written_at_boot(e) {
                // Looked for by both clocks: the boot's 6005 may have been
                // written before the clock was set right or after.
                let near = |t: Timestamp| store.events_between(BOOTED, t - BOOT_NEAR, t + BOOT_NEAR);
                let logged = (at != e.time()).then(|| near(e.time()));
                return near(at)
                    .chain(logged.into_iter().flatten())
                    .filter(ours)
                    .min_by_key(|b| (right(b) - at).abs());
            }
            let until = next.unwrap_or_else(|| at + BACK_WITHIN);
            store.events_between(BOOTED, at, until).find(|b| ours(b) && right(b) >= at)
        };
        // A boot between two shutdowns ends one restart and the next
        // begins (a domain controller's promotion restarts it twice in
        // minutes): each restart's boot is cited, the window runs to the
        // last.
        let mut boots: Vec<&EventRow> = Vec::new();
        for (i, e) in c.iter().enumerate() {
            let next = c.get(i + 1).map(|n| right(n));
            if let Some(b) = boot_of(e, next)
                && !boots.iter().any(|o| std::ptr::eq(*o, b))
            {
                boots.push(b);
            }
        }
        let boot = boots.last().copied();
        let end = boot.map_or_else(|| right(last), |b| right(b).max(right(last)));
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
        // A restart is a shutdown a boot follows: with none in the evidence,
        // it is a shutdown whatever was asked for.
        let went = match (off, boot) {
            (false, Some(_)) => format!("restarted{how}"),
            (true, Some(b)) => format!(
                "shut down{how}, and was started again {} later",
                crate::describe::duration(right(b) - right(first))
            ),
            (_, None) => format!("shut down{how}, and no boot follows in the evidence"),
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
        // What the unclean shutdown's own events say of it.
        let why: Vec<(Timestamp, Unclean)> =
            c.iter().filter_map(|e| Some((right(e), unclean_why(e)?))).collect();
        for (at, u) in &why {
            text.push(' ');
            if boots.len() > 1 {
                text.push_str(&format!("The restart at {}: ", at.to_prose()));
            }
            text.push_str(&u.said);
        }
        if let Some(b) = boot.filter(|b| !b.host.eq_ignore_ascii_case(&first.host)) {
            text.push_str(&format!(" It came back named {} (EventLog 6011: renamed).", b.host));
        }
        // Events placed by the clock as set right say so, once per step.
        let moved: Vec<&ClockStep> =
            c.iter().chain(&boots).filter_map(|e| set_right(&steps, e)).map(|(_, s)| s).collect();
        let mut told: Vec<&ClockStep> = Vec::new();
        for s in moved {
            if told.iter().any(|t| std::ptr::eq(*t, s)) {
                continue;
            }
            told.push(s);
            text.push_str(&format!(
                " Its clock ran {} ahead from that boot until it was set back at {}: the boot's events it timed before then are placed here by the clock as set right.",
                crate::describe::duration(Span::mins((s.step().abs().as_secs() + 30) / 60)),
                s.time.to_prose()
            ));
        }
        // A press of the power button is when the machine went down.
        let down = why
            .iter()
            .filter_map(|(at, u)| u.down.filter(|d| *d <= *at && *at - *d <= PRESSED_WITHIN))
            .min()
            .map_or_else(|| right(first), |d| d.min(right(first)));
        let mut d = Draft::new(FailureMode::Reboot, severity, 0.9, down, end)
            .scope(Some(&first.host), None, None)
            .explain(text);
        // Patching advice is for planned restarts; an unclean one gets the
        // steps its events point to.
        let planned = c.iter().any(|e| !written_at_boot(e));
        let specific: Vec<&'static str> = why.iter().flat_map(|(_, u)| u.steps.iter().copied()).collect();
        // A machine that serves no site has no load balancer to leave:
        // what matters is who turned it off and why.
        if !store.serves_web(&first.host) {
            d.remediation = if planned { vec![WHO_ASKED] } else { Vec::new() };
            d.add_steps(&specific);
            if d.remediation.is_empty() {
                d.remediation = FailureMode::Reboot.remediation()[1..].to_vec();
            }
        } else if !specific.is_empty() {
            // The mode's first step is the patching advice (a test holds it).
            d.remediation =
                if planned { FailureMode::Reboot.remediation()[..1].to_vec() } else { Vec::new() };
            d.add_steps(&specific);
        }
        let cite = |d: &mut Draft, e: &EventRow, summary: String, role: Role| {
            let mut cited = store.cite_event(e, summary);
            if let Some((at, s)) = set_right(&steps, e) {
                cited.summary.push_str(&format!(
                    " (timed {} by the clock before it was set back {})",
                    e.time().to_prose(),
                    crate::describe::duration(Span::mins((s.step().abs().as_secs() + 30) / 60))
                ));
                cited.time = at;
            }
            d.cite(cited, role);
        };
        for (e, asked) in c.iter().zip(&asked) {
            let why = asked.as_ref().map_or(String::new(), |a| format!(", asked for by {}", a.said));
            cite(&mut d, e, format!("{} {}: shutdown{why}", e.event.provider, e.event.event_id), Role::Cause);
        }
        for b in boots {
            cite(&mut d, b, "EventLog 6005: the event log service started (boot)".into(), Role::Effect);
        }
        for s in told {
            for e in &s.evidence {
                d.evidence.push(e.clone());
            }
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

    /// The event log stopping cleanly, and no boot after it in the
    /// evidence: a shutdown, not a restart (a restart needs the boot).
    #[test]
    fn a_clean_stop_no_boot_follows_is_a_shutdown() {
        let d = &Given::new().event("DC1", 0, "EventLog", 6006, &[]).detected(detect)[0];
        assert!(
            d.explanation.contains("shut down (planned), and no boot follows in the evidence"),
            "{}",
            d.explanation
        );
        let back =
            Given::new().event("DC1", 0, "EventLog", 6006, &[]).event("DC1", 600, "EventLog", 6005, &[]);
        assert!(back.detected(detect)[0].explanation.contains("restarted (planned)"));
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
        assert_eq!(found[0].remediation, [WHO_ASKED], "no site, no load balancer to leave");
        let web = Given::new().requests(3, "WEB01", 1, 0, "/", (200, 0, 0), 10).event(
            "WEB01",
            10,
            "EventLog",
            6006,
            &[],
        );
        let web = &web.detected(detect)[0];
        assert_eq!(web.severity, Severity::Medium, "a web server went down");
        assert!(web.remediation[0].starts_with("Patch in a maintenance window"), "{:?}", web.remediation);
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

    /// plaso's DC1: the power button pressed, a boot whose Kernel-Power 41
    /// the clock timed two hours ahead until Windows Time set it back, then
    /// that boot's 6008 and 6005 by the clock as set right: one restart,
    /// from the press to the boot, saying what 41 and 6008 say, with the
    /// steps for a machine turned off by hand and no patching advice.
    #[test]
    fn an_unclean_shutdown_says_what_kernel_power_41_says() {
        const KERNEL: &str = "Microsoft-Windows-Kernel-General";
        const POWER: &str = "Microsoft-Windows-Kernel-Power";
        let filetime = |secs: i64| ((at(secs).seconds() + 11_644_473_600) * 10_000_000).to_string();
        let rfc = |secs: i64| at(secs).to_rfc3339();
        let ahead = 7198;
        let d = &Given::new()
            .event("DC1", 40 + ahead, KERNEL, 12, &[])
            .event(
                "DC1",
                56 + ahead,
                POWER,
                41,
                &[("BugcheckCode", "0"), ("PowerButtonTimestamp", &filetime(-300))],
            )
            .event("DC1", 78, KERNEL, 1, &[("NewTime", &rfc(78)), ("OldTime", &rfc(78 + ahead))])
            .positional(
                "DC1",
                79,
                "EventLog",
                6008,
                &["1:34:44 PM", "\u{200e}8/\u{200e}25/\u{200e}2015", "934"],
            )
            .event("DC1", 79, "EventLog", 6005, &[])
            .detected(detect);
        assert_eq!(d.len(), 1, "one restart");
        let d = &d[0];
        assert_eq!((d.start, d.end), (at(-300), at(79)), "from the press to the boot");
        for said in [
            "restarted without a clean shutdown",
            "Its power button was pressed at 2025-11-24 09:55:00 UTC by its clock",
            "it was last running at 1:34:44 PM on 8/25/2015 (EventLog 6008",
            "Its clock ran 2 h 0 min ahead from that boot until it was set back",
        ] {
            assert!(d.explanation.contains(said), "{said}: {}", d.explanation);
        }
        assert_eq!(d.timeline[0].time, at(56), "41 placed by the clock as set right: {:?}", d.timeline);
        assert_eq!(d.remediation, POWER_BUTTON);
        assert!(d.evidence.iter().any(|e| e.summary.contains("the clock was set")), "the step is cited");
    }

    /// A bug check's code, or neither a code nor a press, each with its
    /// steps; a Kernel-Power 41 without its fields (an export without
    /// names) says nothing of its own and keeps the mode's steps.
    #[test]
    fn kernel_power_41_tells_a_bug_check_from_lost_power() {
        let with = |data: &[(&str, &str)]| {
            Given::new()
                .event("WEB01", 90, "EventLog", 6005, &[])
                .event("WEB01", 100, "Microsoft-Windows-Kernel-Power", 41, data)
                .detected(detect)
                .remove(0)
        };
        let d = with(&[("BugcheckCode", "159"), ("PowerButtonTimestamp", "0")]);
        assert!(d.explanation.contains("bug check 0x9F"), "{}", d.explanation);
        assert_eq!(d.remediation, BUG_CHECK);
        let d = with(&[("BugcheckCode", "0"), ("PowerButtonTimestamp", "0")]);
        assert!(d.explanation.contains("no bug check and no power button"), "{}", d.explanation);
        assert_eq!(d.remediation, POWER_LOST);
        let d = with(&[]);
        assert!(!d.explanation.contains("Kernel-Power 41"), "{}", d.explanation);
        assert_eq!(
            d.remediation,
            FailureMode::Reboot.remediation()[1..],
            "no site, no load balancer to leave"
        );
        // Older Windows writes no PowerButtonTimestamp: nothing said of it.
        let d = with(&[("BugcheckCode", "0")]);
        assert!(d.explanation.contains("Kernel-Power 41 names no bug check:"), "{}", d.explanation);
        assert!(FailureMode::Reboot.remediation()[0].starts_with("Patch in a maintenance window"));
    }

    #[test]
    fn a_boot_alone_is_no_restart_finding() {
        assert!((Given::new().event("WEB01", 200, "EventLog", 6005, &[])).detected(detect).is_empty());
    }
}
