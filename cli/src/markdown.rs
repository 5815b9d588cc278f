//! What every Markdown printer shares: text from the evidence escaped, so
//! that a crafted URL or event message cannot inject links, images or HTML
//! into the page that renders a report, and the evidence-read table.

use std::io::Write;

use faultline_analyzer::Inventory;

use crate::config::Zone;
use crate::style::sanitize;
use crate::totals::{TOTALS_HEADER, totals_rows};

/// Escapes what Markdown and inline HTML would interpret inside a line:
/// emphasis, code, links, table pipes, tags and entities, and a list or
/// heading marker at the start. Line breaks become spaces so that a table
/// cell or list item stays on its line. Punctuation that is inert mid-line
/// (`-`, `(`, `.`) is left alone so the raw text stays readable in chat,
/// except where GitHub's and GitLab's Markdown would make a bare address a
/// link: the `:` before `//` or after `mailto` and `xmpp`, the `.` after
/// `www` and every `@` are escaped, which renders them as they were and
/// leaves no address to find.
pub(crate) fn escape(text: &str) -> String {
    let text = sanitize(&text.replace(['\r', '\n'], " "));
    let mut out = String::with_capacity(text.len() + 8);
    for (at, c) in text.char_indices() {
        // Whether the text before this character ends in `word`, any case.
        let after = |word: &str| {
            text[..at].get(at.saturating_sub(word.len())..).is_some_and(|w| w.eq_ignore_ascii_case(word))
        };
        match c {
            ':' if text[at + 1..].starts_with("//") || after("mailto") || after("xmpp") => {
                out.push_str("\\:")
            }
            '.' if after("www") => out.push_str("\\."),
            '@' => out.push_str("\\@"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if at == 0 => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that holds any text: the fence is one backtick longer than the
/// longest run of backticks inside.
pub(crate) fn code(text: &str) -> String {
    let text = sanitize(&text.replace(['\r', '\n'], " "));
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// [`code`] in a table cell, whose `|` would end the cell even inside a
/// code span (GitHub's tables take `\|` there).
pub(crate) fn table_code(text: &str) -> String {
    code(text).replace('|', "\\|")
}

/// The evidence read, by format.
pub(crate) fn write_totals(out: &mut dyn Write, inv: &Inventory, zone: &Zone) -> std::io::Result<()> {
    writeln!(out, "## Evidence read\n")?;
    writeln!(out, "| {} |", TOTALS_HEADER.join(" | "))?;
    writeln!(out, "|---|---:|---:|---:|---|---|")?;
    for row in totals_rows(inv, zone) {
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    writeln!(out)
}
