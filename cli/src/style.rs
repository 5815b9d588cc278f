//! Terminal colour, honouring `NO_COLOR`, `--quiet` and non-terminal output.

use std::io::IsTerminal;

/// ANSI styles, or nothing when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// Colour only for a terminal, without `NO_COLOR` and `--quiet`.
    pub fn detect(quiet: bool, to_terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Palette { enabled: !quiet && !no_color && to_terminal && std::io::stdout().is_terminal() }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
}

/// Makes text from evidence safe to print: control and bidi characters are
/// shown escaped, so a log line cannot move the cursor or reorder the text.
pub fn sanitize(text: &str) -> String {
    faultline_parser::diagnostic::escape_controls(text).into_owned()
}
