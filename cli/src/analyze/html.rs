//! `faultline analyze --format html`: one self-contained page (inline CSS
//! and SVG, no script, no network, a print stylesheet) to attach to a
//! post-incident review: a summary of the answer, the findings, a chart per
//! host and site of requests and server errors over the evidence with the
//! incident windows shaded and the causes marked, each finding's own chart
//! zoomed on its window with lanes of its evidence by source, every chart
//! with a time axis in the reader's zone; the status and HTTP.sys reason
//! breakdowns, and what was read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use faultline_analyzer::evidence::Status;
use faultline_analyzer::finding::Role;
use faultline_analyzer::inventory::FileStatus;
use faultline_analyzer::{Finding, Report};
use faultline_hunt::Level;

use super::chart::{self, Marks, Series, Sites, Window};
use super::text::{finding_time, place, related, scope, untimed};
use crate::config::Zone;
use crate::style::sanitize;
use crate::totals::{TOTALS_HEADER, totals_rows};

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(text: &str) -> String {
    let text = sanitize(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d1d1f;padding:0 16px}\
h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:16px;margin-top:24px}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f6}td.n{text-align:right}code{font-size:12px;word-break:break-all}\
.critical,.high{color:#b00020;font-weight:600}.medium{color:#a15c00;font-weight:600}.low,.info{color:#555}\
.cause{color:#b00020;font-weight:600}.effect{color:#a15c00}.context{color:#666}\
svg.chart{background:#fbfbfd;border:1px solid #ddd;margin:6px 0;max-width:100%;height:auto}.legend span{margin-right:14px}\
.summary{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.summary div{border:1px solid #ddd;border-radius:6px;padding:8px 12px;background:#fbfbfd}\
.summary b{display:block;font-size:20px}\
@media print{body{max-width:none;margin:0;padding:0;font-size:11px}svg.chart{width:100%;break-inside:avoid}\
h2,h3{break-after:avoid}tr,li{break-inside:avoid}a{color:inherit;text-decoration:none}.summary div{background:none}}";

/// Writes the report.
pub fn write(out: &mut dyn Write, report: &Report, zone: &Zone) -> anyhow::Result<()> {
    let mut page = String::with_capacity(64 * 1024);
    let inv = &report.inventory;
    let read = inv.files.iter().filter(|f| f.format.is_some()).count();
    let records: u64 = inv.files.iter().map(|f| f.records).sum();
    let rejected: u64 = inv.files.iter().map(|f| f.rejected).sum();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultline analysis</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\n\
         <h1>faultline analysis</h1>\n<p>{read} files read, {records} records, {rejected} rejected. Times are in {}.</p>\n",
        esc(zone.name())
    );

    summary(&mut page, report, zone);
    findings_summary(&mut page, report, zone);
    charts(&mut page, report, zone);
    for (i, f) in report.findings.iter().enumerate() {
        finding(&mut page, report, i, f, zone);
    }
    security(&mut page, report, zone);
    breakdowns(&mut page, report);
    evidence_read(&mut page, report, zone);
    page.push_str("</body></html>\n");
    out.write_all(page.as_bytes())?;
    Ok(())
}

/// The security lens's detections, one row per rule.
fn security(page: &mut String, report: &Report, zone: &Zone) {
    if report.detections.is_empty() {
        return;
    }
    page.push_str(
        "<h2>Security lens</h2>\n<table><tr><th>Level</th><th>Rule</th><th>Author</th><th>Techniques</th>\
         <th>Detections</th><th>Hosts</th><th>First</th><th>First evidence</th></tr>\n",
    );
    for hits in crate::hunt::by_rule(&report.detections) {
        let first = hits.first();
        let rule = &first.rule.meta;
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code> {}</td></tr>",
            rule.level.name(),
            esc(&rule.title),
            esc(rule.author.as_deref().unwrap_or("-")),
            esc(&rule.techniques.join(", ")),
            hits.list.len(),
            esc(&hits.hosts.join(", ")),
            esc(&zone.time(first.time)),
            esc(&first.evidence.place()),
            esc(&first.evidence.summary)
        );
    }
    page.push_str("</table>\n");
}

/// The answer first: how many incidents, where, how bad, over what span,
/// and what could not be read.
fn summary(page: &mut String, report: &Report, zone: &Zone) {
    let findings = &report.findings;
    let incidents = report.incidents();
    let hosts: BTreeSet<&str> = findings.iter().filter_map(|f| f.scope.host.as_deref()).collect();
    let worst = findings.iter().map(|f| f.severity).max();
    let files = &report.inventory.files;
    let first = files.iter().filter_map(|f| f.first).min();
    let last = files.iter().filter_map(|f| f.last).max();
    let unreadable = files.iter().filter(|f| f.status == FileStatus::Failed).count();
    let rejected: u64 = files.iter().map(|f| f.rejected).sum();
    let serious = report.detections.iter().filter(|d| d.rule.meta.level >= Level::Medium).count();
    let cell = |page: &mut String, value: &str, what: &str, class: &str| {
        let _ = write!(page, "<div class=\"{class}\"><b>{}</b>{}</div>", esc(value), esc(what));
    };
    page.push_str("<section class=\"summary\" aria-label=\"summary\">");
    cell(page, &incidents.to_string(), if incidents == 1 { "incident" } else { "incidents" }, "");
    cell(page, &findings.len().to_string(), if findings.len() == 1 { "finding" } else { "findings" }, "");
    let host_list =
        if hosts.is_empty() { "-".to_string() } else { hosts.iter().copied().collect::<Vec<_>>().join(", ") };
    cell(page, &host_list, if hosts.len() == 1 { "host affected" } else { "hosts affected" }, "");
    let worst_name = worst.map_or("none", |w| w.name());
    cell(page, worst_name, "worst severity", worst_name);
    let span = match (first, last) {
        (Some(a), Some(b)) => format!("{} to {}", zone.time(a), zone.time(b)),
        _ => "-".to_string(),
    };
    cell(page, &span, "span of the evidence read", "");
    let lost = files.iter().filter(|f| f.lost > 0).count();
    let lost = match lost {
        0 => String::new(),
        n => format!(", {n} file{} partly lost", if n == 1 { "" } else { "s" }),
    };
    cell(page, &format!("{unreadable} files, {rejected} records{lost}"), "could not be read", "");
    cell(page, &serious.to_string(), "security detections (medium or above)", "");
    page.push_str("</section>\n");
}

fn findings_summary(page: &mut String, report: &Report, zone: &Zone) {
    for note in super::report_notes(report, &|t| zone.time(t)) {
        let _ = writeln!(page, "<p class=\"legend\">{}</p>", esc(&note));
    }
    page.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        let _ = writeln!(page, "<p>{}</p>", super::no_findings(report));
        return;
    }
    page.push_str("<table><tr><th>#</th><th>Finding</th><th>Severity</th><th>Confidence</th><th>From</th><th>To</th><th>Where</th></tr>\n");
    for (i, f) in report.findings.iter().enumerate() {
        let [id, title, sev, confidence, start, end, scope] = headline(f, zone);
        let _ = writeln!(
            page,
            "<tr><td class=\"n\"><a href=\"#f{n}\">{n}</a></td><td><code>{id}</code> {title}</td><td class=\"{sev}\">{sev}</td><td class=\"n\">{confidence}</td><td>{start}</td><td>{end}</td><td>{scope}</td></tr>",
            n = i + 1,
        );
    }
    page.push_str("</table>\n");
}

/// The escaped facts that head a finding: id, title, severity, confidence,
/// window and scope.
fn headline(f: &Finding, zone: &Zone) -> [String; 7] {
    [
        esc(f.id.id()),
        esc(f.title),
        f.severity.name().to_string(),
        format!("{:.2}", f.confidence),
        finding_time(f, f.start, zone),
        finding_time(f, f.end, zone),
        esc(&scope(f)),
    ]
}

fn finding(page: &mut String, report: &Report, i: usize, f: &Finding, zone: &Zone) {
    let [id, title, sev, confidence, start, end, scope] = headline(f, zone);
    let _ = writeln!(
        page,
        "<h3 id=\"f{n}\">{n}. <code>{id}</code> {title}</h3>\n<p><span class=\"{sev}\">{sev}</span>, confidence {confidence}; {start} to {end}; {scope}</p>",
        n = i + 1
    );
    if let Some(list) = related(report, f) {
        let _ = writeln!(page, "<p>Same incident on other hosts: {}</p>", esc(&list));
    }
    let _ = writeln!(page, "<p>{}</p>", esc(&zone.prose(&f.explanation)));
    zoomed_chart(page, report, f, zone);
    if !f.timeline.is_empty() {
        page.push_str("<table><tr><th>Time</th><th>Role</th><th>What</th></tr>\n");
        for step in &f.timeline {
            let role = match step.role {
                Role::Cause => "cause",
                Role::Effect => "effect",
                Role::Context => "context",
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td class=\"{role}\">{role}</td><td>{}</td></tr>",
                finding_time(f, step.time, zone),
                esc(&step.summary)
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("<p>Evidence:</p><ul>\n");
    for e in &f.evidence {
        let _ = writeln!(page, "<li><code>{}</code> {}</li>", esc(&place(e)), esc(&e.summary));
    }
    if let Some(more) = super::more_evidence(f, f.evidence.len(), "JSON") {
        let _ = writeln!(page, "<li>… {}</li>", esc(&more));
    }
    page.push_str("</ul>\n");
    if !f.remediation.is_empty() {
        page.push_str("<p>What to do:</p><ul>\n");
        for r in &f.remediation {
            let _ = writeln!(page, "<li>{}</li>", esc(r));
        }
        page.push_str("</ul>\n");
    }
}

/// A chart per host and site over the whole evidence: requests (grey) and
/// server errors (red) per bucket of minutes, the windows of the findings
/// on that host shaded and their causes marked, a time axis.
fn charts(page: &mut String, report: &Report, zone: &Zone) {
    let minutes = &report.store.minutes;
    let (Some(first), Some(last)) = (minutes.keys().map(|k| k.2).min(), minutes.keys().map(|k| k.2).max())
    else {
        return;
    };
    let window = Window::new(first, last);
    let places: BTreeSet<(Arc<str>, Option<u32>)> = minutes
        .keys()
        .map(|k| (k.0.clone(), k.1))
        .chain(report.store.errors.iter().map(|e| (e.host.clone(), e.site)))
        .collect();
    let _ = writeln!(
        page,
        "<h2>Traffic</h2>\n<p class=\"legend\"><span style=\"color:#888\">■ requests</span><span style=\"color:#d00\">■ server errors (5xx)</span><span style=\"color:#6a3fb5\">■ HTTP.sys errors</span><span style=\"color:#f5a623\">■ incident window</span><span style=\"color:#b00020\">| cause</span><span style=\"color:#7b1fa2\">▮ security detection</span> per {}, {} to {}</p>",
        window.per(),
        zone.time(faultline_parser::Timestamp::from_parts(first * 60, 0)),
        zone.time(faultline_parser::Timestamp::from_parts(last * 60 + 60, 0))
    );
    for (host, site) in &places {
        let series = Series::of(report, &window, host, Sites::Exactly(*site));
        let label = format!("{host}, site {}", site.map_or("-".to_string(), |s| s.to_string()));
        let _ = writeln!(page, "<h3>{}</h3>", esc(&label));
        let this_site = site.map(|s| s.to_string());
        let shown: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| {
                f.scope.host.as_deref().is_none_or(|h| h == &**host)
                    && (f.scope.site.is_none() || f.scope.site == this_site)
            })
            .collect();
        // Detections of medium or above on this host (and site, when they
        // name one) within the chart.
        let detections: Vec<_> = report
            .detections
            .iter()
            .filter(|d| d.rule.meta.level >= Level::Medium && d.host == **host)
            .filter(|d| d.site.is_none() || d.site == this_site)
            .filter(|d| (first..=last).contains(&d.time.minute()))
            .collect();
        chart::draw(page, &window, &series, &Marks::Findings(shown, detections), &label, zone);
        chart::latency(page, &series, &label, &window, zone);
    }
}

/// A finding's own chart: its host (and site) from before it started to
/// after it ended, per minute, with lanes of its evidence by source.
fn zoomed_chart(page: &mut String, report: &Report, f: &Finding, zone: &Zone) {
    // No time, no stretch of the host's minutes to draw.
    let Some(host) = f.scope.host.as_deref().filter(|_| !untimed(f)) else { return };
    let (start, end) = (f.start.minute(), f.end.minute());
    let context = ((end - start) / 2).max(10);
    let window = Window::new(start - context, end + context);
    let sites =
        f.scope.site.as_deref().and_then(|s| s.parse().ok()).map_or(Sites::All, |s| Sites::Exactly(Some(s)));
    let series = Series::of(report, &window, host, sites);
    let label = format!("{host}, {} to {}", zone.time(f.start), zone.time(f.end));
    chart::draw(page, &window, &series, &Marks::Zoom(f), &label, zone);
}

/// Status codes of the requests that were not plain successes, and HTTP.sys
/// reasons, most frequent first.
fn breakdowns(page: &mut String, report: &Report) {
    let a = &report.store;
    let mut statuses: BTreeMap<Status, u64> = BTreeMap::new();
    for r in &a.requests {
        *statuses.entry(r.status).or_default() += 1;
    }
    let mut reasons: BTreeMap<(Arc<str>, String), u64> = BTreeMap::new();
    for e in &a.errors {
        *reasons.entry((e.phrase.clone(), e.queue.as_deref().unwrap_or("-").to_string())).or_default() += 1;
    }
    if !statuses.is_empty() {
        page.push_str("<h2>Status codes</h2>\n<p>Requests kept for analysis (errors, redirects, slow or cut-off requests).</p>\n<table><tr><th>Status</th><th>Win32</th><th>Requests</th></tr>\n");
        let mut rows: Vec<_> = statuses.into_iter().collect();
        rows.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        for (Status { code, sub, win32 }, n) in rows.into_iter().take(30) {
            let _ = writeln!(page, "<tr><td>{code}.{sub}</td><td>{win32}</td><td class=\"n\">{n}</td></tr>");
        }
        page.push_str("</table>\n");
    }
    if !reasons.is_empty() {
        page.push_str("<h2>HTTP.sys reasons</h2>\n<table><tr><th>Reason</th><th>Queue (app pool)</th><th>Rows</th></tr>\n");
        let mut rows: Vec<_> = reasons.into_iter().collect();
        rows.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        for ((reason, queue), n) in rows.into_iter().take(30) {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
                esc(&reason),
                esc(&queue)
            );
        }
        page.push_str("</table>\n");
    }
}

fn evidence_read(page: &mut String, report: &Report, zone: &Zone) {
    page.push_str("<h2>Evidence read</h2>\n<table><tr>");
    for h in TOTALS_HEADER {
        let _ = write!(page, "<th>{h}</th>");
    }
    page.push_str("</tr>\n");
    for row in totals_rows(&report.inventory, zone) {
        page.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let class = if (1..=3).contains(&c) { " class=\"n\"" } else { "" };
            let _ = write!(page, "<td{class}>{}</td>", esc(cell));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn evidence_text_cannot_open_tags() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
