//! The progress bar on standard error.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use faultline_analyzer::pass::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// While reading: how far, how fast, how long is left.
const READING: &str =
    "{spinner} reading evidence {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta} left";
/// After reading: what the command is doing, and for how long.
const PHASE: &str = "{spinner} {msg} {elapsed}";

/// A byte-count progress bar, hidden when standard error is not a terminal
/// or with `--quiet`, never on standard output. Its length is the input's
/// size, once the files are found (archive members by their declared
/// size); a second phase (analysis, sorting, writing) shows as a spinner.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    /// Bytes read so far, kept at most the total: a file read twice (it
    /// shrank while read) or a member larger than it said would otherwise
    /// run the bar past its end.
    done: AtomicU64,
}

impl Bar {
    /// A bar for reading the evidence.
    pub fn new(quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar::to(ProgressDrawTarget::hidden());
        }
        Bar::to(ProgressDrawTarget::stderr())
    }

    /// A bar drawn on `target`.
    pub fn to(target: ProgressDrawTarget) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(ProgressStyle::with_template(READING).unwrap_or_else(|_| ProgressStyle::default_bar()));
        Bar { bar, done: AtomicU64::new(0) }
    }

    /// Clears the bar once the command's work is done.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// The total, once set.
    #[cfg(test)]
    pub fn length(&self) -> Option<u64> {
        self.bar.length()
    }

    /// How far the bar is.
    #[cfg(test)]
    pub fn position(&self) -> u64 {
        self.bar.position()
    }
}

impl Progress for Bar {
    fn total(&self, bytes: u64) {
        self.bar.set_length(bytes);
    }

    fn advance(&self, bytes: u64) {
        let total = self.bar.length().unwrap_or(u64::MAX);
        let step = |done: u64| Some(done.saturating_add(bytes).min(total));
        let previous = self.done.fetch_update(Ordering::Relaxed, Ordering::Relaxed, step).unwrap_or_default();
        let now = previous.saturating_add(bytes).min(total);
        self.bar.inc(now.saturating_sub(previous));
    }

    fn phase(&self, name: &str) {
        self.bar.set_style(
            ProgressStyle::with_template(PHASE).unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.bar.set_message(name.to_string());
        // The phase's own time, not the read's.
        self.bar.reset_elapsed();
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    /// A terminal that keeps what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn lines(&self) -> Vec<String> {
            self.0.lock().map(|l| l.clone()).unwrap_or_default()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _n: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _n: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _n: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _n: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.is_empty()
                && let Ok(mut lines) = self.0.lock()
            {
                lines.push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_bar_has_the_inputs_size_and_never_passes_it() {
        let screen = Screen::default();
        let bar = Bar::to(ProgressDrawTarget::term_like_with_hz(Box::new(screen.clone()), 200));
        bar.total(4 << 20);
        for _ in 0..3 {
            bar.advance(1 << 20);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(bar.length(), Some(4 << 20));
        assert_eq!(bar.position(), 3 << 20);
        // A file read again after it shrank: more bytes than were found.
        bar.advance(3 << 20);
        assert_eq!(bar.position(), 4 << 20, "at the total, not past it");
        let drawn = screen.lines();
        let reading = drawn.iter().find(|l| l.contains("reading evidence")).expect("drawn");
        assert!(reading.contains("/4.00 MiB"), "the total is shown: {reading}");
        assert!(reading.contains("left"), "time left is shown: {reading}");
        assert!(!drawn.iter().any(|l| l.contains("/0 B")), "{drawn:?}");
        bar.phase("analysing");
        // The spinner draws on its own thread: wait for it (at most 5 s on
        // a loaded machine) rather than a fixed time.
        for _ in 0..100 {
            if screen.lines().iter().any(|l| l.contains("analysing")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(screen.lines().iter().any(|l| l.contains("analysing")), "{:?}", screen.lines());
        bar.finish();
    }

    #[test]
    fn quiet_draws_nothing() {
        let bar = Bar::new(true);
        bar.total(10);
        bar.advance(5);
        assert!(bar.bar.is_hidden());
    }
}
