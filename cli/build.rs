//! Names the commit the binary is built from in `faultline --version`,
//! when the source is a git checkout (or `FAULTLINE_COMMIT` says).

#![allow(clippy::print_stdout)] // cargo reads a build script's directives from standard output

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    println!("cargo:rerun-if-env-changed=FAULTLINE_COMMIT");
    let commit = std::env::var("FAULTLINE_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let dir = git(&["rev-parse", "--absolute-git-dir"])?;
        // A checkout moves HEAD; a commit moves the branch HEAD names (its
        // file, or packed-refs once packed). Only files that exist are
        // watched: a missing one would rerun this on every build.
        let mut watched = vec![format!("{dir}/HEAD"), format!("{dir}/packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(format!("{dir}/{branch}"));
        }
        for file in watched.iter().filter(|f| std::path::Path::new(f).exists()) {
            println!("cargo:rerun-if-changed={file}");
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    let full = match commit {
        Some(c) => format!("{version} (commit {c})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=FAULTLINE_VERSION={full}");
}
