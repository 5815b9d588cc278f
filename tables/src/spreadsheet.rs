//! The one policy for every CSV faultline writes. A CSV is opened by people
//! and spreadsheets, and its cells are evidence an attacker chose (a user
//! agent, a query string), so a cell is made inert there: its control and
//! bidirectional characters escaped, and a cell a spreadsheet would run as a
//! formula given a leading `'`. JSON, JSON lines and Parquet carry values
//! exactly as read.

use std::borrow::Cow;

use faultline_parser::diagnostic::escape_controls;
use polars::prelude::*;

/// A formula starts with `=`, `@`, or a sign followed by more (OWASP's list;
/// tab and carriage return are escaped first). A lone `-` or `+`, W3C's empty
/// field, is text to every spreadsheet and stays as written.
fn runs_as_formula(text: &str) -> bool {
    text.starts_with(['=', '@']) || (text.len() > 1 && text.starts_with(['+', '-']))
}

/// A text cell as CSV writes it, before quoting: borrowed when nothing in it
/// needs changing.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    let escaped = escape_controls(text);
    if runs_as_formula(&escaped) { Cow::Owned(format!("'{escaped}")) } else { escaped }
}

/// A text cell as CSV writes it: made inert, then quoted when it holds a
/// separator or a quote (RFC 4180; line breaks are escaped already).
pub fn csv_field(text: &str) -> String {
    let cell = csv_text(text);
    if cell.contains([',', '"']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.into_owned() }
}

/// The frame with every text column made inert; columns with nothing to
/// change are kept as they are.
pub(crate) fn inert_text(frame: DataFrame) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for c in frame.columns() {
        if c.dtype() != &DataType::String {
            continue;
        }
        let texts = c.str()?;
        if !texts.iter().flatten().any(|t| matches!(csv_text(t), Cow::Owned(_))) {
            continue;
        }
        let inert: StringChunked = texts.iter().map(|v| v.map(csv_text)).collect();
        out.with_column(inert.with_name(c.name().clone()).into_series().into())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_values_kept() {
        assert_eq!(csv_text("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(csv_text("-2+3"), "'-2+3");
        assert!(matches!(csv_text("-"), Cow::Borrowed("-")));
        assert!(matches!(csv_text("/default.aspx"), Cow::Borrowed(_)));
        // A tab or line break is escaped, so it can neither start a formula nor end the row.
        assert_eq!(csv_text("\t=1"), "\\t=1");
        assert_eq!(csv_field("a\r\nb"), "a\\r\\nb");
    }

    #[test]
    fn fields_are_quoted_only_when_they_hold_a_separator_or_quote() {
        assert_eq!(csv_field("GET /a?b=1,2"), "\"GET /a?b=1,2\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn a_frame_keeps_untouched_columns_and_defuses_the_rest() {
        let frame = df!(
            "agent" => ["=cmd|'/c calc'!A1", "Mozilla/5.0", "-"],
            "path" => ["/a", "/b", "/c"],
            "status" => [-1i64, 200, 404],
        )
        .expect("frame");
        let inert = inert_text(frame.clone()).expect("inert");
        let column = |f: &DataFrame, name: &str| f.column(name).expect("column").clone();
        let agents = column(&inert, "agent");
        let agents: Vec<_> = agents.str().expect("text").iter().flatten().collect();
        assert_eq!(agents, ["'=cmd|'/c calc'!A1", "Mozilla/5.0", "-"]);
        for kept in ["path", "status"] {
            assert!(column(&inert, kept).equals(&column(&frame, kept)), "{kept}");
        }
    }
}
