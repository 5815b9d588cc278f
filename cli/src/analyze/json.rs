//! `faultline analyze --format json`. The shape is a public contract
//! (docs/json.md): fields are only ever added.

use std::io::Write;

/// The report as the JSON contract of docs/json.md.
pub fn write(out: &mut dyn Write, report: &faultline_analyzer::Report) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Tool {
        name: &'static str,
        version: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Input<'a> {
        path: &'a str,
        format: Option<faultline_parser::Format>,
        status: &'a faultline_analyzer::FileStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        host: Option<&'a str>,
        host_source: Option<faultline_analyzer::identity::HostSource>,
        records: u64,
        rejected: u64,
        #[serde(skip_serializing_if = "is_zero")]
        lost: u64,
        first: Option<faultline_parser::Timestamp>,
        last: Option<faultline_parser::Timestamp>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        local_time: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        date_only: bool,
        #[serde(skip_serializing_if = "is_zero")]
        diagnostics_omitted: u64,
    }
    fn is_zero(n: &u64) -> bool {
        *n == 0
    }
    #[derive(serde::Serialize)]
    struct Diag<'a> {
        path: &'a str,
        #[serde(flatten)]
        diagnostic: &'a faultline_analyzer::inventory::ReportedDiagnostic,
    }
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        tool: Tool,
        #[serde(skip_serializing_if = "faultline_analyzer::Window::is_open")]
        window: faultline_analyzer::Window,
        inputs: Vec<Input<'a>>,
        diagnostics: Vec<Diag<'a>>,
        findings: &'a [faultline_analyzer::Finding],
        detections: &'a [faultline_analyzer::hunting::Detection],
        clock_steps: &'a [faultline_analyzer::clock::ClockStep],
        renames: &'a [faultline_analyzer::renames::Rename],
    }
    let files = &report.inventory.files;
    let doc = Doc {
        tool: Tool { name: "faultline", version: env!("CARGO_PKG_VERSION") },
        window: report.window,
        inputs: files
            .iter()
            .map(|f| Input {
                path: &f.path,
                format: f.format,
                status: &f.status,
                reason: f.reason.as_deref(),
                host: f.host.as_deref(),
                host_source: f.host_source,
                records: f.records,
                rejected: f.rejected,
                lost: f.lost,
                first: f.first,
                last: f.last,
                local_time: f.local_time,
                date_only: f.date_only,
                diagnostics_omitted: f.diagnostics_omitted,
            })
            .collect(),
        diagnostics: files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(move |d| Diag { path: &f.path, diagnostic: d }))
            .collect(),
        findings: &report.findings,
        detections: &report.detections,
        clock_steps: &report.clock_steps,
        renames: &report.renames,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
