//! `faultline analyze --format html`: one self-contained page (inline CSS
//! and SVG, no script, no network) to attach to a post-incident review:
//! the findings, a chart per host and site of requests and server errors per
//! minute with the incident windows shaded and the causes marked, the status
//! and HTTP.sys reason breakdowns, and what was read.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use faultline_analyzer::evidence::{Minute, Status};
use faultline_analyzer::finding::Role;
use faultline_analyzer::{Finding, Report};

use super::text::{place, related, scope};
use crate::config::Zone;
use crate::style::sanitize;
use crate::totals::{TOTALS_HEADER, totals_rows};

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
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
svg.chart{background:#fbfbfd;border:1px solid #ddd;margin:6px 0}.legend span{margin-right:14px}";

const CHART_W: f64 = 1000.0;
const CHART_H: f64 = 170.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 22.0;

/// One chart's data per bucket: the bucket's minutes merged (requests, 5xx,
/// latency histogram) and the HTTP.sys error rows (requests IIS never saw,
/// such as 503s from a stopped pool).
struct Series {
    merged: Vec<Minute>,
    refused: Vec<u32>,
}

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
            esc(&crate::hunt::place(first)),
            esc(&first.evidence.summary)
        );
    }
    page.push_str("</table>\n");
}

fn findings_summary(page: &mut String, report: &Report, zone: &Zone) {
    page.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        page.push_str("<p>No findings: nothing in the evidence matches a known failure mode.</p>\n");
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
        zone.time(f.start),
        zone.time(f.end),
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
    let _ = writeln!(page, "<p>{}</p>", esc(&f.explanation));
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
                zone.time(step.time),
                esc(&step.summary)
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("<p>Evidence:</p><ul>\n");
    for e in &f.evidence {
        let _ = writeln!(page, "<li><code>{}</code> {}</li>", esc(&place(e)), esc(&e.summary));
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

/// A chart per host and site: requests (grey) and server errors (red) per
/// bucket of minutes, the windows of the findings on that host shaded, and
/// their causes marked.
fn charts(page: &mut String, report: &Report, zone: &Zone) {
    let minutes = &report.store.minutes;
    let (Some(first), Some(last)) = (minutes.keys().map(|k| k.2).min(), minutes.keys().map(|k| k.2).max())
    else {
        return;
    };
    let span = last - first + 1;
    let bucket = (span as f64 / CHART_W * 2.0).ceil().max(1.0) as i64;
    let buckets = usize::try_from(span.div_euclid(bucket) + 1).unwrap_or(1);
    let mut series: BTreeMap<(Arc<str>, Option<u32>), Series> = BTreeMap::new();
    let new_series = || Series { refused: vec![0; buckets], merged: vec![Minute::default(); buckets] };
    let bucket_of = |minute: i64| usize::try_from((minute - first) / bucket).unwrap_or(0).min(buckets - 1);
    for ((host, site, minute), m) in minutes {
        let s = series.entry((host.clone(), *site)).or_insert_with(new_series);
        let b = bucket_of(*minute);
        s.merged[b].add(m);
    }
    for e in &report.store.errors {
        let minute = e.time.seconds().div_euclid(60);
        if (first..=last).contains(&minute) {
            series.entry((e.host.clone(), e.site)).or_insert_with(new_series).refused[bucket_of(minute)] += 1;
        }
    }
    let per = if bucket == 1 { "minute".to_string() } else { format!("{bucket} minutes") };
    let _ = writeln!(
        page,
        "<h2>Traffic</h2>\n<p class=\"legend\"><span style=\"color:#888\">■ requests</span><span style=\"color:#d00\">■ server errors (5xx)</span><span style=\"color:#6a3fb5\">■ HTTP.sys errors</span><span style=\"color:#f5a623\">■ incident window</span><span style=\"color:#b00020\">| cause</span> per {per}, {} to {}</p>",
        zone.time(faultline_parser::Timestamp::from_parts(first * 60, 0)),
        zone.time(faultline_parser::Timestamp::from_parts(last * 60 + 60, 0))
    );
    let x_of = |minute: i64| PAD_L + (minute - first) as f64 / span as f64 * (CHART_W - PAD_L - 4.0);
    for ((host, site), s) in &series {
        let total: Vec<u32> = s.merged.iter().map(|m| m.total).collect();
        let errors: Vec<u32> = s.merged.iter().map(|m| m.by_class[5]).collect();
        let peak = total.iter().chain(&s.refused).copied().max().unwrap_or(0).max(1);
        let y_of = |v: u32| (CHART_H - PAD_B) - f64::from(v) / f64::from(peak) * (CHART_H - PAD_B - 8.0);
        let points = |v: &[u32]| {
            v.iter()
                .enumerate()
                .map(|(i, &n)| format!("{:.1},{:.1}", x_of(first + i as i64 * bucket), y_of(n)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let label = format!("{host}, site {}", site.map_or("-".to_string(), |s| s.to_string()));
        let _ = writeln!(page, "<h3>{}</h3>", esc(&label));
        let _ = write!(
            page,
            "<svg class=\"chart\" role=\"img\" aria-label=\"requests and server errors per {per} on {}\" width=\"{CHART_W}\" height=\"{CHART_H}\" viewBox=\"0 0 {CHART_W} {CHART_H}\" xmlns=\"http://www.w3.org/2000/svg\">",
            esc(&label)
        );
        let this_site = site.map(|s| s.to_string());
        let shown = |f: &&Finding| {
            f.scope.host.as_deref().is_none_or(|h| h == &**host)
                && (f.scope.site.is_none() || f.scope.site == this_site)
        };
        for f in report.findings.iter().filter(shown) {
            let (x0, x1) = (x_of(f.start.seconds().div_euclid(60)), x_of(f.end.seconds().div_euclid(60)));
            let _ = write!(
                page,
                "<rect class=\"window\" x=\"{x0:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f5a623\" fill-opacity=\"0.22\"><title>{}</title></rect>",
                (x1 - x0).max(2.0),
                CHART_H - PAD_B,
                esc(f.id.id())
            );
            for step in f.timeline.iter().filter(|s| s.role == Role::Cause) {
                let x = x_of(step.time.seconds().div_euclid(60));
                let _ = write!(
                    page,
                    "<line class=\"cause\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{:.1}\" stroke=\"#b00020\" stroke-width=\"1\"><title>{}</title></line>",
                    CHART_H - PAD_B,
                    esc(&step.summary)
                );
            }
        }
        let _ = write!(
            page,
            "<polyline class=\"requests\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.2\" points=\"{}\"/><polyline class=\"errors\" fill=\"none\" stroke=\"#d00\" stroke-width=\"1.4\" points=\"{}\"/>",
            points(&total),
            points(&errors)
        );
        if s.refused.iter().any(|&n| n > 0) {
            let _ = write!(
                page,
                "<polyline class=\"httperr\" fill=\"none\" stroke=\"#6a3fb5\" stroke-width=\"1.4\" points=\"{}\"/>",
                points(&s.refused)
            );
        }
        let _ = write!(
            page,
            "<line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#bbb\"/><text x=\"4\" y=\"14\" font-size=\"11\">{peak}</text><text x=\"4\" y=\"{y:.1}\" font-size=\"11\">0</text>",
            y = CHART_H - PAD_B
        );
        let _ = writeln!(page, "</svg>");
        latency_chart(page, s, &label, &x_of, first, bucket);
    }
}

const LATENCY_H: f64 = 96.0;

/// Median and 95th percentile of time-taken per bucket, on a log scale.
fn latency_chart(
    page: &mut String,
    s: &Series,
    label: &str,
    x_of: &dyn Fn(i64) -> f64,
    first: i64,
    bucket: i64,
) {
    let quantiles = |q: f64| -> Vec<(usize, u64)> {
        s.merged.iter().enumerate().filter_map(|(i, m)| Some((i, m.latency_quantile(q)?))).collect()
    };
    let (p50, p95) = (quantiles(0.5), quantiles(0.95));
    let Some(top) = p95.iter().map(|x| x.1).max() else {
        return;
    };
    let decades = ((top.max(1) as f64).log10().ceil()).max(1.0);
    let y_of = |ms: u64| (LATENCY_H - 14.0) - ((ms.max(1) as f64).log10() / decades) * (LATENCY_H - 22.0);
    // One polyline per run of buckets with traffic: a silence is a gap,
    // not a slope.
    let lines = |v: &[(usize, u64)], class: &str, colour: &str| {
        let mut svg = String::new();
        for run in v.chunk_by(|a, b| b.0 == a.0 + 1) {
            let points: Vec<String> = run
                .iter()
                .map(|(i, ms)| format!("{:.1},{:.1}", x_of(first + *i as i64 * bucket), y_of(*ms)))
                .collect();
            let _ = write!(
                svg,
                "<polyline class=\"{class}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        svg
    };
    let _ = write!(
        page,
        "<svg class=\"chart latency\" role=\"img\" aria-label=\"time-taken percentiles on {}\" width=\"{CHART_W}\" height=\"{LATENCY_H}\" viewBox=\"0 0 {CHART_W} {LATENCY_H}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(label)
    );
    for d in 0..=decades as u32 {
        let ms = 10u64.pow(d);
        let y = y_of(ms);
        let text = if ms >= 1000 { format!("{} s", ms / 1000) } else { format!("{ms} ms") };
        let _ = write!(
            page,
            "<line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e8\"/><text x=\"4\" y=\"{:.1}\" font-size=\"10\">{text}</text>",
            y + 3.0
        );
    }
    let _ = writeln!(
        page,
        "{}{}<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#0b7a75\">time-taken p95 (teal) and median (blue), within a factor of two</text></svg>",
        lines(&p50, "p50", "#7a9cc6"),
        lines(&p95, "p95", "#0b7a75"),
        PAD_L + 4.0,
        LATENCY_H - 3.0
    );
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
