//! `memory-exhaustion`: the server ran out of memory. The
//! resource-exhaustion detector warns (2004), workers die of
//! OutOfMemoryException (.NET Runtime 1026), HTTP.sys refuses connections.

use std::collections::BTreeMap;

use faultline_parser::w3c::ReasonKind;

use super::kinds::{DOTNET_TERMINATED, LOW_MEMORY};
use super::{Draft, FailureMode};
use crate::evidence::{ErrRow, EventRow, Store};
use crate::finding::{Role, Severity};

/// One host's evidence of running out of memory.
#[derive(Default)]
struct Exhaustion<'a> {
    warning: Option<&'a EventRow>,
    out_of_memory: Vec<&'a EventRow>,
    refused: Vec<&'a ErrRow>,
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let mut hosts: BTreeMap<&str, Exhaustion<'_>> = BTreeMap::new();
    for r in store.errors.iter().filter(|r| r.reason == ReasonKind::ConnectionsRefused) {
        hosts.entry(&r.host).or_default().refused.push(r);
    }
    let oom = store
        .events_of(DOTNET_TERMINATED)
        .filter(|e| e.data_at(0).is_some_and(|t| t.contains("OutOfMemoryException")));
    for e in oom {
        hosts.entry(&e.host).or_default().out_of_memory.push(e);
    }
    for e in store.events_of(LOW_MEMORY) {
        if let Some(h) = hosts.get_mut(&*e.host) {
            h.warning = h.warning.or(Some(e));
        }
    }
    for (host, Exhaustion { warning, out_of_memory, refused }) in hosts {
        let start = warning
            .map(EventRow::time)
            .or_else(|| refused.first().map(|r| r.time))
            .or_else(|| out_of_memory.first().map(|e| e.time()))
            .unwrap_or_default();
        let end = refused.last().map(|r| r.time).max(out_of_memory.last().map(|e| e.time())).unwrap_or(start);
        let confidence = if warning.is_some() { 0.9 } else { 0.75 };
        let mut d = Draft::new(FailureMode::MemoryExhaustion, Severity::High, confidence, start, end)
            .scope(Some(host), None, None)
            .explain(format!(
                "The server ran out of memory: {}{} workers died of OutOfMemoryException and HTTP.sys \
                    refused {} connections.",
                if warning.is_some() { "the resource-exhaustion detector warned (2004), " } else { "" },
                out_of_memory.len(),
                store.errors_counted(&refused)
            ));
        if let Some(e) = warning {
            d.cite(
                store.cite_event(e, "Resource-Exhaustion-Detector 2004: low virtual memory".into()),
                Role::Cause,
            );
        }
        for e in &out_of_memory {
            d.cite(store.cite_event(e, ".NET Runtime 1026: OutOfMemoryException".into()), Role::Effect);
        }
        d.cite_first(refused.iter(), 5, Role::Effect, |r| store.cite_error(r));
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn workers_dying_of_out_of_memory_and_refused_connections_are_memory_exhaustion() {
        let e = Given::new()
            .event("WEB01", 0, "Microsoft-Windows-Resource-Exhaustion-Detector", 2004, &[])
            .positional("WEB01", 30, ".NET Runtime", 1026, &["Exception Info: System.OutOfMemoryException"])
            .errors(3, "WEB01", 40, 503, ReasonKind::ConnectionsRefused, None);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].confidence), (FailureMode::MemoryExhaustion, 0.9));
        assert!(
            found[0].explanation.contains("1 workers died of OutOfMemoryException and HTTP.sys refused 3")
        );
    }

    #[test]
    fn a_low_memory_warning_alone_or_another_exception_is_not_exhaustion() {
        let e = Given::new()
            .event("WEB01", 0, "Microsoft-Windows-Resource-Exhaustion-Detector", 2004, &[])
            .positional(
                "WEB01",
                30,
                ".NET Runtime",
                1026,
                &["Exception Info: System.NullReferenceException"],
            );
        assert!(e.detected(detect).is_empty());
    }
}
