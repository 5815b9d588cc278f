//! What the test files over third-party fixtures share.

use std::path::PathBuf;

/// The folder an environment variable names; a relative path is taken from
/// the workspace root, where the README's test command runs. Without it the
/// caller's tests say loudly that they were skipped.
fn folder(var: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(dir) => Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir)),
        None => {
            #[allow(clippy::print_stderr)] // a skipped test must say so
            {
                eprintln!("SKIPPED: {var} is not set, so {what} did not run");
            }
            None
        }
    }
}

/// The real public samples (`FAULTLINE_SAMPLES`).
pub fn samples(what: &str) -> Option<PathBuf> {
    folder("FAULTLINE_SAMPLES", what)
}

/// A folder of SigmaHQ rules used as test fixtures (`FAULTLINE_SIGMA`);
/// the project never ships them.
#[allow(dead_code)] // only the hunt tests read rules
pub fn sigma(what: &str) -> Option<PathBuf> {
    folder("FAULTLINE_SIGMA", what)
}
