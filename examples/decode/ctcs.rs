//! The `ctcs` mode (not written yet).

use std::process::ExitCode;

/// Runs the `ctcs` mode with the arguments after the mode name.
pub(crate) fn run(_args: Vec<String>) -> ExitCode {
    eprintln!("decode: the ctcs mode is not implemented yet");
    ExitCode::from(2)
}
