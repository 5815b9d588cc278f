//! `faultline query`: SQL over the normalized tables, or a named classic.

use std::io::Write;

use anyhow::Context;
use faultline_tables::{Projection, QUERIES, QueryResult, Tables, named_query};

use crate::args::{GlobalArgs, QueryArgs, QueryFormat, Security};
use crate::config::{output, read_config, scope, warn_unused_corrections};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::style::sanitize;
use crate::unreadable::report_reading;

/// Widest cell shown in a text table; CSV and JSON keep every character.
const CELL_WIDTH: usize = 80;

/// A cell as a text table shows it, and whether it was cut to fit.
fn shown(text: &str) -> (String, bool) {
    let clean = sanitize(text);
    if clean.chars().count() <= CELL_WIDTH {
        return (clean, false);
    }
    let mut cut: String = clean.chars().take(CELL_WIDTH - 1).collect();
    cut.push('…');
    (cut, true)
}

/// An aligned table: header, rule, rows, and the row count.
fn write_text(out: &mut dyn Write, result: &QueryResult) -> std::io::Result<()> {
    let mut cut = false;
    let mut show = |c: &String| {
        let (text, was_cut) = shown(c);
        cut |= was_cut;
        text
    };
    let header: Vec<String> = result.columns().iter().map(&mut show).collect();
    let rows: Vec<Vec<String>> =
        result.text_rows().iter().map(|r| r.iter().map(&mut show).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(&header))?;
    writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    writeln!(
        out,
        "({} row{}{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        if cut {
            format!("; cells cut at {CELL_WIDTH} characters, --format csv or json keeps them whole")
        } else {
            String::new()
        }
    )
}

/// A Markdown table, cells escaped so that evidence cannot inject markup.
fn write_markdown(out: &mut dyn Write, result: &QueryResult) -> std::io::Result<()> {
    let cell = |c: &str| crate::markdown::escape(c);
    let header: Vec<String> = result.columns().iter().map(|c| cell(c)).collect();
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}|", vec!["---"; header.len()].join("|"))?;
    for r in result.text_rows() {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

fn list_queries(out: &mut dyn Write) -> std::io::Result<()> {
    for q in QUERIES {
        writeln!(out, "{:<22} {}", q.name, q.description)?;
        writeln!(out, "{:<22} {}", "", q.sql.split_whitespace().collect::<Vec<_>>().join(" "))?;
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: &QueryArgs) -> anyhow::Result<Exit> {
    let mut out = output(global.output.as_ref())?;
    if args.list_queries {
        list_queries(&mut out)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let sql = match (&args.sql, &args.query) {
        (Some(sql), _) if sql.trim().is_empty() => {
            let tables: Vec<&str> = faultline_tables::TableName::ALL.iter().map(|t| t.name()).collect();
            writeln!(
                std::io::stderr(),
                "error: --sql: the SQL is empty (a SELECT over {})",
                tables.join(", ")
            )?;
            return Ok(Exit::Usage);
        }
        (Some(sql), _) => sql.clone(),
        (None, Some(name)) => match named_query(name) {
            Some(q) => q.sql.to_string(),
            None => {
                let names: Vec<&str> = QUERIES.iter().map(|q| q.name).collect();
                writeln!(
                    std::io::stderr(),
                    "error: --query: no query named {:?}; the named queries are {}",
                    sanitize(name),
                    names.join(", ")
                )?;
                return Ok(Exit::Usage);
            }
        },
        (None, None) => anyhow::bail!("give --sql, --query NAME or --list-queries"),
    };
    let bar = Bar::new(global.quiet);
    let projection = Projection::of_sql(&sql);
    let mut read = read_config(&args.reading);
    let scope = scope(&args.range, &args.reading);
    // Rules are read only for a query of the detections, or of the events
    // when rules of the user's may read events outside the catalogue (the
    // table then holds every event, as the detections' would).
    let hunt = if projection.hunts() {
        args.lens.hunt()?
    } else {
        if projection.reads_events() && args.lens.security == Security::All && !args.lens.rules.is_empty() {
            read = args.lens.hunt()?.reading(&read);
        }
        faultline_analyzer::hunting::Hunt::none()
    };
    let tables = Tables::load(&args.paths, &read, &scope, &projection, &hunt, &bar)
        .context("reading the evidence into tables")?;
    bar.finish();
    warn_unused_corrections(&scope);
    if let Some(exit) = report_reading(&tables.reading)? {
        return Ok(exit);
    }
    let result = match tables.sql(&sql) {
        Ok(r) => r,
        Err(e) => {
            writeln!(std::io::stderr(), "error: {e}")?;
            return Ok(Exit::Usage);
        }
    };
    match args.format {
        QueryFormat::Csv => result.write_csv(&mut out)?,
        QueryFormat::Json => result.write_json(&mut out, false)?,
        QueryFormat::Jsonl => result.write_json(&mut out, true)?,
        QueryFormat::Markdown => write_markdown(&mut out, &result)?,
        QueryFormat::Text => write_text(&mut out, &result)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}
