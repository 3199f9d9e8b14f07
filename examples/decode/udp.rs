//! The `udp` mode (not written yet).

use std::process::ExitCode;

/// Runs the `udp` mode with the arguments after the mode name.
pub fn run(_args: Vec<String>) -> ExitCode {
    eprintln!("decode: the udp mode is not implemented yet");
    ExitCode::from(2)
}
