//! `reboot`: the server shut down (planned, User32 1074 and EventLog 6006;
//! or not, EventLog 6008 and Kernel-Power 41) until the event log service
//! started again (6005).

use faultline_parser::Span;

use super::kinds::{BOOTED, SHUT_DOWN};
use super::{Draft, FailureMode, host_clusters};
use crate::evidence::Store;
use crate::finding::{Role, Severity};

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    for c in host_clusters(store.events_of(SHUT_DOWN), Span::mins(30)) {
        let first = c[0];
        let boot = store.events_of(BOOTED).find(|b| b.host == first.host && b.time() >= first.time());
        let end = boot.unwrap_or(c[c.len() - 1]).time();
        let unclean = c.iter().any(|e| matches!(e.event.event_id, 6008 | 41));
        let how = if unclean { " without a clean shutdown" } else { " (planned)" };
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
        let mut d = Draft::new(FailureMode::Reboot, severity, 0.9, first.time(), end)
            .scope(Some(&first.host), None, None)
            .explain(text);
        for e in &c {
            d.cite(
                store.cite_event(e, format!("{} {}: shutdown", e.event.provider, e.event.event_id)),
                Role::Cause,
            );
        }
        if let Some(b) = boot {
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

    #[test]
    fn a_boot_alone_is_no_restart_finding() {
        assert!((Given::new().event("WEB01", 200, "EventLog", 6005, &[])).detected(detect).is_empty());
    }
}
