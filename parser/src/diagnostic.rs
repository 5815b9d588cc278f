//! Problems found while reading evidence. Bad input is data: every rejected
//! line or unreadable file becomes a [`Diagnostic`] that names where it is.

use std::fmt;

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something worth knowing that cost no data (an assumption we made).
    Info,
    /// A record was kept but is suspect or was repaired.
    Warning,
    /// A record or a file could not be read; it is counted as rejected.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where in a source a diagnostic points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// The source as a whole.
    File,
    /// A 1-based line of a text source, with the byte offset of its start.
    Line {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's first byte.
        offset: u64,
    },
    /// An EVTX record id.
    Record(u64),
    /// A byte offset in a binary or XML source.
    Offset(u64),
}

/// One problem in one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it is.
    pub location: Location,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong, in words an analyst can act on.
    pub message: String,
    /// Evidence is gone here: a stretch of the file that held records could
    /// not be read (a copy cut short, a wiped or unreadable chunk, zeroed
    /// rows), how many records it held unknown. Whatever the severity, an
    /// analysis of the file is an analysis of what is left.
    pub lost: bool,
}

impl Diagnostic {
    /// A diagnostic about a whole source.
    pub fn file(severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic { location: Location::File, severity, message: message.into(), lost: false }
    }

    /// A diagnostic about one line of a text source.
    pub fn line(line: u64, offset: u64, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            location: Location::Line { line, offset },
            severity,
            message: message.into(),
            lost: false,
        }
    }

    /// The same diagnostic, saying evidence is gone (see [`Diagnostic::lost`]).
    pub fn losing(mut self) -> Self {
        self.lost = true;
        self
    }

    /// Whether this diagnostic stands for a record that was not read.
    pub fn is_rejection(&self) -> bool {
        self.severity == Severity::Error && !matches!(self.location, Location::File)
    }
}

/// Shows at most `max` bytes of a hostile value, escaped so that it is safe
/// on a terminal and unambiguous in a message.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let cut = bytes.len() > max;
    for chunk in bytes[..bytes.len().min(max)].utf8_chunks() {
        out.push_str(&escape_controls(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut {
        out.push('…');
    }
    out
}

/// Text with its control and bidirectional characters escaped, borrowed when
/// it holds none: safe to print, one line, and shown as it is.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || is_bidi_control(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Unicode bidirectional formatting characters, which can make a log line
/// display differently from what it contains.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_escapes_controls_and_bad_bytes() {
        assert_eq!(excerpt(b"a\x1b[31mb", 40), "a\\u{1b}[31mb");
        assert_eq!(excerpt(b"ab\xff", 40), "ab\\xff");
        assert_eq!(excerpt("x\u{202E}y".as_bytes(), 40), "x\\u{202e}y");
        assert_eq!(excerpt(b"abcdef", 3), "abc…");
    }

    #[test]
    fn escaped_text_is_borrowed_unless_it_holds_a_control() {
        assert!(matches!(escape_controls("plain text"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\tb\u{202E}c"), "a\\tb\\u{202e}c");
    }
}
