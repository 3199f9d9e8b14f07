//! How a run ends badly: one line on stderr (Display, never Debug) and the documented
//! exit code.

use std::io::Write;
use std::process::ExitCode;

/// Exit status for a failed check, an error reply or undecodable input.
pub(crate) const FAILED: u8 = 1;
/// Exit status for a timeout or an unreachable peer.
pub(crate) const UNREACHABLE: u8 = 2;
/// Exit status for a usage error (BSD's `EX_USAGE`).
pub(crate) const USAGE: u8 = 64;

/// Why a subcommand stopped early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A bad flag or value: exit 64.
    Usage(String),
    /// Unreadable or undecodable input, a failed check: exit 1.
    Failed(String),
    /// A timeout or an unreachable peer: exit 2.
    Unreachable(String),
}

impl Failure {
    /// Prints the one line and returns the exit code.
    pub(crate) fn report(self) -> ExitCode {
        let (code, msg) = match self {
            Failure::Usage(m) => (USAGE, m),
            Failure::Failed(m) => (FAILED, m),
            Failure::Unreachable(m) => (UNREACHABLE, m),
        };
        let _ = writeln!(std::io::stderr(), "trackwire: {msg}");
        ExitCode::from(code)
    }
}

/// Turns a clap error into exit 64 and one line (or help and version into exit 0).
pub(crate) fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Help is what was asked for: on stdout, exit 0 (a closed pipe is fine).
            let _ = crate::out::bytes(e.render().to_string().as_bytes());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `trackwire decode` alone: the list of what can follow is the clearest
            // answer, but it is still a usage error.
            let _ = write!(std::io::stderr(), "{}", e.render());
            ExitCode::from(USAGE)
        }
        _ => {
            // clap's message is a paragraph (the error, sometimes with the missing
            // arguments on lines of their own), then usage and a hint: the paragraph, on
            // one line, says it all.
            let text = e.render().to_string();
            let paragraph: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let joined = paragraph.join(" ");
            let first = joined.strip_prefix("error: ").unwrap_or(&joined);
            let _ = writeln!(
                std::io::stderr(),
                "trackwire: {first} (see `trackwire help`, or --help after the subcommand)"
            );
            ExitCode::from(USAGE)
        }
    }
}
