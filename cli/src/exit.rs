//! Exit statuses: 0 success, 1 findings at or above `--fail-on`, 2 usage
//! error or no readable input.

use std::process::ExitCode;

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Ok,
    /// Findings at or above `--fail-on` were found.
    Findings,
    /// Bad arguments.
    Usage,
    /// Nothing could be read, or output could not be written.
    Error,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        match e {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Findings => ExitCode::from(1),
            Exit::Usage | Exit::Error => ExitCode::from(2),
        }
    }
}
