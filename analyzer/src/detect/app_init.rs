//! `app-init-failure`: 500s raised before the application's own code ran.
//! FREB names a module at the start of the pipeline (ASP.NET's
//! initialization module, ISAPI, FastCGI, iisnode) that set the error, so
//! the application's own logging never ran. A detailed error page naming
//! such a module is the same evidence (timed by its file).

use faultline_parser::Span;

use super::kinds::NODE_APP_CRASHED;
use super::{Draft, FailureMode, clusters, grouped};
use crate::evidence::{Store, TraceRow};
use crate::finding::{Role, Severity};

/// Modules that fail before the application's code runs.
const INIT_MODULES: &[&str] =
    &["AspNetInitializationExceptionModule", "IsapiModule", "FastCgiModule", "iisnode"];

/// What to do when the failing module runs another runtime's process: the
/// mode's own steps are ASP.NET's (its bin folder, its detailed error).
fn module_remedy(module: &str) -> Option<&'static [&'static str]> {
    match module {
        "iisnode" => Some(&[
            "Read iisnode's logging-errors.txt and the app's stdout/stderr logs (iisnode's logDirectory; on App \
                Service under LogFiles\\Application or the site's iisnode folder): they say why node.exe exited.",
            "Check the Node version the site runs (WEBSITE_NODE_DEFAULT_VERSION, or iisnode's \
                nodeProcessCommandLine), the entry script web.config names, and that the app listens on \
                process.env.PORT.",
        ]),
        "FastCgiModule" => Some(&[
            "Run the FastCGI executable (php-cgi.exe, python.exe) by hand with the site's settings: its own \
                error output says why it exits.",
            "Check the handler mapping's executable path and arguments, and that the pool identity can read and \
                run them.",
        ]),
        _ => None,
    }
}

/// What the module failing says, beyond "before the app ran".
fn module_meaning(module: &str, sub: u32) -> &'static str {
    match (module, sub) {
        ("iisnode", 1000..=1002) => {
            " iisnode could not start node.exe or reach it over its named pipe (500.1000-500.1002): the Node \
                app crashed while starting or does not listen on process.env.PORT; iisnode's \
                logging-errors.txt and the app's stderr say why."
        }
        ("iisnode", _) => " iisnode failed the request before the Node app answered it.",
        ("FastCgiModule", _) => {
            " The FastCGI process (PHP, Python) exited or could not start; its own error output says why."
        }
        _ => "",
    }
}

/// What to do when node.exe runs an older Node than the app was written
/// for.
const OLD_NODE_REMEDY: &[&str] = &[
    "Set the Node.js version the app needs (App Service: the WEBSITE_NODE_DEFAULT_VERSION setting, such as \
        ~20; on premises: iisnode's nodeProcessCommandLine in web.config or iisnode.yml) and restart the site.",
    "Run the entry script with that version by hand (node server.js): the same error shows, or the app starts.",
];

/// The exception an iisnode log entry names, after iisnode's own words
/// (`SyntaxError: Unexpected token >`), without a closing full stop.
fn node_exception(text: &str) -> &str {
    text.lines()
        .skip_while(|l| l.contains("Application has thrown an uncaught exception"))
        .map(|l| l.trim().trim_end_matches('.'))
        .find(|l| !l.is_empty())
        .unwrap_or("an uncaught exception")
}

/// iisnode's log of node.exe ending on an uncaught exception: named in the
/// host's iisnode finding its pages or traces made (pages, undated, or
/// traces of the same half hour), or a finding of its own.
fn node_crashes(store: &Store, out: &mut Vec<(Draft, &str)>) {
    for c in super::host_clusters(store.events_of(NODE_APP_CRASHED), Span::mins(30)) {
        let (first, last) = (c[0], c[c.len() - 1]);
        let text = first.data_at(0).unwrap_or_default();
        let exception = node_exception(text);
        // Node's module loader was `module.js` before Node 10
        // (`internal/modules/cjs/loader.js` since).
        let old_node = text.contains("(module.js:");
        let meaning = match (exception.starts_with("SyntaxError"), old_node) {
            (true, true) => {
                " The app's code does not parse, and the stack runs through module.js, the module loader of \
                    Node.js before version 10: the site runs an older Node than the app was written for (App \
                    Service's default when WEBSITE_NODE_DEFAULT_VERSION is not set), which does not know the \
                    syntax."
            }
            (true, false) => {
                " The app's code does not parse under the Node.js the site runs (a syntax error in the \
                    deployed code, or syntax newer than that Node)."
            }
            _ => " iisnode starts node.exe again; requests fail with 500.1000-500.1002 meanwhile.",
        };
        let said = format!(
            "iisnode's log has node.exe ending on an uncaught exception {} time{} ({} to {}): {exception}.{meaning}",
            c.len(),
            if c.len() == 1 { "" } else { "s" },
            first.time().to_prose(),
            last.time().to_prose(),
        );
        let remedy: &'static [&'static str] =
            if old_node { OLD_NODE_REMEDY } else { module_remedy("iisnode").unwrap_or_default() };
        let near = |d: &Draft| {
            crate::finding::timed_by_files(&d.evidence)
                || (d.start - Span::mins(30) <= last.time() && first.time() <= d.end + Span::mins(30))
        };
        let traced = out.iter_mut().find(|(d, module)| {
            *module == "iisnode" && d.scope.host.as_deref() == Some(&*first.host) && near(d)
        });
        let d = match traced.map(|(d, _)| d) {
            Some(d) => {
                d.explanation.push(' ');
                d.explanation.push_str(&said);
                // Pages hold no time: the log's entries date the failure.
                if crate::finding::timed_by_files(&d.evidence) {
                    (d.start, d.end) = (first.time(), last.time());
                }
                d
            }
            None => {
                let severity = if c.len() >= 3 { Severity::High } else { Severity::Medium };
                let d = Draft::new(FailureMode::AppInitFailure, severity, 0.8, first.time(), last.time())
                    .scope(Some(&first.host), None, None)
                    .explain(format!(
                        "The Node.js application failed before it could answer: {said} Requests get \
                            500.1000-500.1002 from iisnode while node.exe is down."
                    ));
                out.push((d, "iisnode"));
                &mut out.last_mut().expect("just pushed").0
            }
        };
        d.remediation = remedy.to_vec();
        let cited = if c.len() > 1 { vec![first, last] } else { vec![first] };
        for e in cited {
            d.cite(
                store.cite_event(
                    e,
                    format!("iisnode: node.exe ended: {}", node_exception(e.data_at(0).unwrap_or_default())),
                ),
                Role::Cause,
            );
        }
    }
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let mut drafts = traced(store);
    node_crashes(store, &mut drafts);
    out.extend(drafts.into_iter().map(|(d, _)| d));
}

/// The findings traces and error pages make, each with the module that set
/// the error.
fn traced(store: &Store) -> Vec<(Draft, &str)> {
    let mut out = Vec::new();
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
                .filter(|r| {
                    r.host == first.host
                        && r.status.code == 500
                        && r.status.sub == first.trace.substatus.unwrap_or(0)
                })
                .collect(),
            None => Vec::new(),
        };
        let end = rows.last().map_or(start, |r| r.time);
        let status = format!("500.{}", first.trace.substatus.unwrap_or(0));
        let pages = c.iter().all(|t| store.kind(t.source) == crate::resolve::SourceKind::Errorpage);
        let seen = match (pages, rows.len()) {
            (true, 0) => format!(
                "{} detailed error page{} show{} {status} set by {module} at {at}",
                c.len(),
                if c.len() == 1 { "" } else { "s" },
                if c.len() == 1 { "s" } else { "" }
            ),
            (false, 0) => format!("FREB shows {module} setting {status} at {at}"),
            (_, n) => format!("{n} requests got 500 while FREB shows {module} setting {status} at {at}"),
        };
        let mut d = Draft::new(FailureMode::AppInitFailure, Severity::High, 0.85, start, end)
            .scope(Some(&first.host), first.trace.site_id, first.trace.app_pool.as_deref())
            .explain(format!(
                "{seen}: the request failed before the application's own code ran. The application failed \
                    to initialize ({}), so its own logging never ran.{}{}",
                match module {
                    "iisnode" | "FastCgiModule" => "its process exited or never started",
                    _ => "a missing assembly, configuration value or dependency at startup",
                },
                module_meaning(module, first.trace.substatus.unwrap_or(0)),
                if pages {
                    " (Times are the page files' modification times: a page holds none.)"
                } else {
                    ""
                }
            ));
        if pages && rows.is_empty() {
            d.explanation.push_str(&super::status::copy_dated(store, &first.host, start, end));
        }
        if let Some(steps) = module_remedy(module) {
            d = d.remedy(steps);
        }
        d.cite_first(c.iter(), 3, Role::Cause, |t| store.cite_trace(t));
        d.cite_first(rows.iter(), 5, Role::Effect, |r| store.cite_request(r));
        out.push((d, module));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    /// HelixAutomations' iisnode log: node.exe ending again and again on a
    /// SyntaxError whose stack runs through module.js (Node before 10).
    fn node_crashed(e: Given, secs: i64, exception: &str) -> Given {
        e.positional(
            "SITE",
            secs,
            "iisnode",
            1000,
            &[&format!(
                "Application has thrown an uncaught exception and is terminated:\n{exception}\n    at \
                    Module._compile (module.js:434:25)\n    at Object..js (module.js:464:10)"
            )],
        )
    }

    /// A FREB trace of iisnode a day after the log's crashes is another
    /// failure: each its own finding.
    #[test]
    fn iisnodes_log_joins_only_the_iisnode_finding_of_its_time() {
        let found = node_crashed(Given::new(), 100, "SyntaxError: Unexpected token >")
            .trace("SITE", 86_400, "https://site:80/server.js", (500, 1002), "iisnode")
            .detected(detect);
        assert_eq!(found.len(), 2);
        assert!(found.iter().any(
            |d| d.explanation.starts_with("FREB shows iisnode") && !d.explanation.contains("SyntaxError")
        ));
    }

    #[test]
    fn iisnodes_log_names_why_node_exe_ended() {
        let mut e = Given::new();
        for at in [100, 101, 160] {
            e = node_crashed(e, at, "SyntaxError: Unexpected token >");
        }
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!((d.id, d.severity), (FailureMode::AppInitFailure, Severity::High));
        assert!(d.explanation.contains("3 times"), "{}", d.explanation);
        assert!(d.explanation.contains("SyntaxError: Unexpected token >"), "{}", d.explanation);
        assert!(d.explanation.contains("older Node than the app was written for"), "{}", d.explanation);
        assert!(d.remediation[0].contains("WEBSITE_NODE_DEFAULT_VERSION"));
        // Once, and not a syntax error: a crash, named as such, at medium.
        let once = node_crashed(Given::new(), 100, "Error: listen EADDRINUSE :::8080").detected(detect);
        assert_eq!(once[0].severity, Severity::Medium);
        assert!(!once[0].explanation.contains("older Node"), "{}", once[0].explanation);
        // With the error page iisnode served, one finding that says both.
        let both = node_crashed(Given::new(), 100, "SyntaxError: Unexpected token >")
            .error_page("SITE", 9_000, "https://site:80/server.js", (500, 1000), "iisnode")
            .detected(detect);
        assert_eq!(both.len(), 1);
        assert!(
            both[0].explanation.contains("detailed error page")
                && both[0].explanation.contains("SyntaxError")
        );
        assert_eq!((both[0].start, both[0].end), (at(100), at(100)), "dated by the log, not the page's file");
    }

    /// thinkwhale's page, dated by its copy twelve years after the host's
    /// event log ends, says its date is a copy's, as status findings of
    /// error pages do; one dated within the log's days does not.
    #[test]
    fn an_error_page_dated_by_its_copy_says_so() {
        let page = |secs: i64| {
            Given::new()
                .positional("SITE", 0, "IIS Express", 2268, &["x"])
                .error_page("SITE", secs, "http://site:80/index.js", (500, 1001), "iisnode")
                .detected(detect)
        };
        let copied = page(30 * 86_400);
        assert!(copied[0].explanation.contains("a copy's date"), "{}", copied[0].explanation);
        let same_day = page(3_600);
        assert!(!same_day[0].explanation.contains("a copy's date"), "{}", same_day[0].explanation);
    }

    #[test]
    fn a_500_set_by_an_initialization_module_is_an_init_failure() {
        let e = Given::new()
            .trace("WEB01", 100, "http://shop/", (500, 0), "AspNetInitializationExceptionModule")
            .requests(7, "WEB01", 1, 100, "/", (500, 0, 0), 20);
        let found = e.detected(detect);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, FailureMode::AppInitFailure);
        assert!(
            found[0].explanation.starts_with("7 requests got 500 while FREB shows"),
            "{}",
            found[0].explanation
        );
    }

    /// iisnode's failure is a Node process's: its steps are Node's, not
    /// ASP.NET's bin folder.
    #[test]
    fn a_node_app_that_did_not_start_gets_nodes_steps() {
        let e = Given::new().trace("WEB01", 100, "http://shop/", (500, 1001), "iisnode").requests(
            3,
            "WEB01",
            1,
            100,
            "/",
            (500, 1001, 0),
            20,
        );
        let d = &e.detected(detect)[0];
        assert!(d.explanation.contains("its process exited or never started"), "{}", d.explanation);
        assert!(d.remediation[0].contains("logging-errors.txt"), "{:?}", d.remediation);
        let asp = Given::new()
            .trace("WEB01", 100, "http://shop/", (500, 0), "AspNetInitializationExceptionModule")
            .detected(detect);
        assert!(asp[0].remediation[1].contains("bin folder"), "{:?}", asp[0].remediation);
    }

    #[test]
    fn a_500_set_by_the_application_is_not() {
        let e = Given::new()
            .trace("WEB01", 100, "http://shop/", (500, 0), "ManagedPipelineHandler")
            .requests(7, "WEB01", 1, 100, "/", (500, 0, 0), 20);
        assert!(e.detected(detect).is_empty());
    }
}
