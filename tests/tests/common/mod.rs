//! What the test files share: third-party fixtures, and the analysis as
//! the command runs it by default.

use std::path::{Path, PathBuf};

use faultline_analyzer::Scope;
use faultline_parser::ReadConfig;

/// The folder an environment variable names; a relative path is taken from
/// the workspace root, where the README's test command runs. Unset, or
/// naming no folder (a fresh clone without the samples beside it), the
/// caller's tests say loudly that they were skipped.
#[allow(clippy::print_stderr)] // a skipped test must say so
fn folder(var: &str, what: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os(var) else {
        eprintln!("SKIPPED: {var} is not set, so {what} did not run");
        return None;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    if !dir.is_dir() {
        eprintln!("SKIPPED: {var} names {}, not a folder, so {what} did not run", dir.display());
        return None;
    }
    Some(dir)
}

/// The real public samples (`FAULTLINE_SAMPLES`).
#[allow(dead_code)] // the scorecard reads generated evidence only
pub fn samples(what: &str) -> Option<PathBuf> {
    folder("FAULTLINE_SAMPLES", what)
}

/// A folder of SigmaHQ rules used as test fixtures (`FAULTLINE_SIGMA`);
/// the project never ships them.
#[allow(dead_code)] // only the hunt tests read rules
pub fn sigma(what: &str) -> Option<PathBuf> {
    folder("FAULTLINE_SIGMA", what)
}

/// `analyze` of `dir` with the bundled pack, as `faultline analyze` runs
/// by default.
#[allow(dead_code)] // not every test file analyzes
pub fn analyzed_with_the_pack(dir: &Path) -> faultline_analyzer::Report {
    let mut loaded = faultline_hunt::LoadReport::default();
    loaded.add_bundled();
    let hunt = faultline_analyzer::hunting::Hunt::new(loaded.finish());
    faultline_analyzer::analyze_and_hunt(
        &[dir.to_path_buf()],
        &ReadConfig::default(),
        &Scope::default(),
        &hunt,
        &|_| {},
    )
}
