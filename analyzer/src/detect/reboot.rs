//! `reboot`: the server shut down (planned, User32 1074 and EventLog 6006;
//! or not, EventLog 6008 and Kernel-Power 41) until the event log service
//! started again (6005).

use faultline_parser::Span;

use super::kinds::{BOOTED, SHUT_DOWN};
use super::{Draft, FailureMode, host_clusters};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let renames = crate::renames::renames(store);
    for c in host_clusters(store.events_of(SHUT_DOWN), Span::mins(30)) {
        let first = c[0];
        // The machine may come back under the name it was given before the
        // restart (EventLog 6011, written at that boot).
        let mut names: Vec<&str> = vec![&first.host];
        let mut at = 0;
        while at < names.len() {
            let name = names[at];
            for r in renames.iter().filter(|r| r.from.eq_ignore_ascii_case(name)) {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(&r.to)) {
                    names.push(&r.to);
                }
            }
            at += 1;
        }
        let boot_after = |t| {
            store
                .events_of(BOOTED)
                .find(|b| names.iter().any(|n| b.host.eq_ignore_ascii_case(n)) && b.time() >= t)
        };
        // A boot between two shutdowns ends one restart and the next
        // begins (a domain controller's promotion restarts it twice in
        // minutes): each restart's boot is cited, the window runs to the
        // last.
        let mut boots = Vec::new();
        for (i, e) in c.iter().enumerate() {
            let next = c.get(i + 1).map(|n| n.time());
            if let Some(b) = boot_after(e.time()).filter(|b| next.is_none_or(|n| b.time() <= n))
                && !boots.iter().any(|o: &&crate::evidence::EventRow| std::ptr::eq(*o, b))
            {
                boots.push(b);
            }
        }
        let boot = boots.last().copied();
        let end = boot.map_or_else(|| c[c.len() - 1].time(), |b| b.time().max(c[c.len() - 1].time()));
        let unclean = c.iter().any(|e| matches!(e.event.event_id, 6008 | 41));
        let how = match (unclean, boots.len()) {
            (true, n) if n > 1 => format!(" {n} times, once at least without a clean shutdown"),
            (true, _) => " without a clean shutdown".to_string(),
            (false, n) if n > 1 => format!(" {n} times (planned)"),
            (false, _) => " (planned)".to_string(),
        };
        // A machine with no IIS evidence (a workstation, a domain controller
        // in the same collection) restarting is background to an IIS case.
        let (severity, text) = if store.serves_web(&first.host) {
            (
                Severity::Medium,
                format!(
                    "The server restarted{how}: IIS stopped with it, so requests in that window were refused \
                        and not logged, and the first requests after the boot paid cold starts."
                ),
            )
        } else {
            (
                Severity::Info,
                format!(
                    "The machine restarted{how}. Nothing in the evidence shows IIS on it (no web logs, no IIS \
                        events), so no site went down with it."
                ),
            )
        };
        let mut text = text;
        if let Some(b) = boot.filter(|b| !b.host.eq_ignore_ascii_case(&first.host)) {
            text.push_str(&format!(" It came back named {} (EventLog 6011: renamed).", b.host));
        }
        let mut d = Draft::new(FailureMode::Reboot, severity, 0.9, first.time(), end)
            .scope(Some(&first.host), None, None)
            .explain(text);
        for e in &c {
            d.cite(
                store.cite_event(e, format!("{} {}: shutdown", e.event.provider, e.event.event_id)),
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

    #[test]
    fn a_boot_alone_is_no_restart_finding() {
        assert!((Given::new().event("WEB01", 200, "EventLog", 6005, &[])).detected(detect).is_empty());
    }
}
