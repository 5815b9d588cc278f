//! The `faultline` command line: argument parsing, progress, printers and
//! exit codes. Everything that reads or reasons about evidence lives in the
//! library crates.

mod analyze;
mod args;
mod config;
mod exit;
mod export;
mod hunt;
mod manual;
mod markdown;
mod progress;
mod query;
mod scan;
mod style;
mod timeline;
mod totals;
mod unreadable;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command, RangeArgs};
use crate::exit::Exit;

// Parsing event logs allocates many small values on every thread; mimalloc's
// thread-local heaps keep that from serialising on the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. mimalloc asks for them
/// on its arenas, and with the kernel's usual `defrag=madvise` each 2 MiB
/// fault may compact memory first: an event-log analysis spent 0.2 to 1.3 s
/// of system time on it from run to run (0.3 s without), and no workload
/// measured here ran slower without them.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process; its
    // arguments are plain integers and a failure leaves things as they were.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    without_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    // An empty window would read as a healthy day.
    if let Some(RangeArgs { from: Some(from), to: Some(to), .. }) = cli.command.range()
        && from >= to
    {
        let _ = Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--from ({from}) must be before --to ({to}): the window holds no time"),
            )
            .print();
        return Exit::Usage.into();
    }
    if let Some(threads) = cli.global.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(usize::from(threads)).build_global()
    {
        return fail(&anyhow::anyhow!("cannot start {threads} worker threads: {e}"));
    }
    let result = match &cli.command {
        Command::Scan(args) => scan::run(&cli.global, args),
        Command::Analyze(args) => analyze::run(&cli.global, args),
        Command::Timeline(args) => timeline::run(&cli.global, args),
        Command::Query(args) => query::run(&cli.global, args),
        Command::Export(args) => export::run(&cli.global, args),
        Command::Hunt(args) => hunt::run(&cli.global, args),
        Command::Completions(args) => {
            config::output(cli.global.output.as_ref()).and_then(|mut out| manual::completions(&mut out, args))
        }
        Command::Man => config::output(cli.global.output.as_ref()).and_then(|mut out| manual::man(&mut out)),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    // serde_json's error gives the I/O error's own source, not the I/O
    // error, as its source: it is asked for the kind itself.
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
    })
}

fn fail(e: &anyhow::Error) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "error: {}", said(e));
    Exit::Error.into()
}

/// An error and its causes on one line, a cause its error's own text
/// already ends with said once (`path: No such file or directory` twice).
fn said(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !line.ends_with(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::said;

    /// A cause its error already quotes is said once; one it does not is
    /// added.
    #[test]
    fn a_cause_an_error_already_says_is_said_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        #[derive(Debug)]
        struct Quoting {
            source: std::io::Error,
        }
        impl std::fmt::Display for Quoting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "out/x: {}", self.source)
            }
        }
        impl std::error::Error for Quoting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let quoted = anyhow::Error::new(Quoting { source: io() }).context("exporting to out/x");
        assert_eq!(said(&quoted), "exporting to out/x: out/x: No such file or directory");
        let plain = anyhow::Error::new(io()).context("reading rules");
        assert_eq!(said(&plain), "reading rules: No such file or directory");
    }
}
