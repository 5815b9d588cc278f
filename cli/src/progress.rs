//! The progress bar on standard error.

use std::io::IsTerminal;

use faultline_analyzer::pass::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count progress bar, hidden when standard error is not a terminal
/// or with `--quiet`. Its length is the input's size, once the files are
/// found.
#[derive(Debug)]
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar for reading the evidence.
    pub fn new(quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{spinner} reading evidence {wide_bar} {bytes}/{total_bytes} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar(bar)
    }

    /// Clears the bar once reading is done.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn total(&self, bytes: u64) {
        self.0.set_length(bytes);
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}
