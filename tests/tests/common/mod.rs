//! What the test files over real samples share.

use std::path::PathBuf;

/// The samples folder; a relative `FAULTLINE_SAMPLES` is taken from the
/// workspace root, where the README's test command runs. Without it the
/// caller's tests say loudly that they were skipped.
pub fn samples(what: &str) -> Option<PathBuf> {
    match std::env::var_os("FAULTLINE_SAMPLES") {
        Some(dir) => Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)),
        None => {
            #[allow(clippy::print_stderr)] // a skipped test must say so
            {
                eprintln!("SKIPPED: FAULTLINE_SAMPLES is not set, so {what} did not run");
            }
            None
        }
    }
}
