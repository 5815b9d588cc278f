//! `app-init-failure`: 500s raised before the application's own code ran.
//! FREB names a module at the start of the pipeline (ASP.NET's
//! initialization module, ISAPI, FastCGI) that set the error, so the
//! application's own logging never ran.

use faultline_parser::Span;

use super::{Draft, FailureMode, clusters, grouped};
use crate::evidence::{Store, TraceRow};
use crate::finding::{Role, Severity};

/// Modules that fail before the application's code runs.
const INIT_MODULES: &[&str] = &["AspNetInitializationExceptionModule", "IsapiModule", "FastCgiModule"];

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let traces: Vec<&TraceRow> = store
        .traces
        .iter()
        .filter(|t| {
            t.trace
                .summary
                .first_error
                .as_ref()
                .is_some_and(|e| INIT_MODULES.contains(&e.module.as_str()) && e.status == Some(500))
        })
        .collect();
    let per_host = grouped(traces, |t| t.host.clone()).into_values();
    for c in
        per_host.flat_map(|traces| clusters(traces, |t| t.trace.time().unwrap_or_default(), Span::mins(30)))
    {
        let first = c[0];
        let error = first.trace.summary.first_error.as_ref();
        let module = error.map_or("-", |e| e.module.as_str());
        let at = error.and_then(|e| e.notification_name.as_deref()).unwrap_or("the start of the pipeline");
        let start = first.trace.time().unwrap_or_default();
        let rows: Vec<_> = match first.trace.time() {
            Some(t) => store
                .requests_between(t - Span::mins(30), t + Span::mins(30))
                .iter()
                .filter(|r| r.host == first.host && r.status.is(500, 0))
                .collect(),
            None => Vec::new(),
        };
        let end = rows.last().map_or(start, |r| r.time);
        let mut d = Draft::new(FailureMode::AppInitFailure, Severity::High, 0.85, start, end)
            .scope(Some(&first.host), first.trace.site_id, first.trace.app_pool.as_deref())
            .explain(format!(
                "{} requests got 500.0 before the application's own code ran: FREB shows {module} setting \
                    the error at {at}. The application failed to initialize (a missing assembly, \
                    configuration value or dependency at startup), so its own logging never ran.",
                rows.len()
            ));
        d.cite_all(c.iter().take(3).map(|t| store.cite_trace(t)), Role::Cause);
        d.cite_all(rows.iter().take(5).map(|r| store.cite_request(r)), Role::Effect);
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn a_500_set_by_an_initialization_module_is_an_init_failure() {
        let e = Given::new()
            .trace("WEB01", 100, "http://shop/", (500, 0), "AspNetInitializationExceptionModule")
            .requests(7, "WEB01", 1, 100, "/", (500, 0, 0), 20);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, FailureMode::AppInitFailure);
        assert!(found[0].explanation.starts_with("7 requests got 500.0"), "{}", found[0].explanation);
    }

    #[test]
    fn a_500_set_by_the_application_is_not() {
        let e = Given::new()
            .trace("WEB01", 100, "http://shop/", (500, 0), "ManagedPipelineHandler")
            .requests(7, "WEB01", 1, 100, "/", (500, 0, 0), 20);
        assert!(e.detected(detect).is_empty());
    }
}
