//! The PASS / WARN / FAIL report the conformance checkers print (`check`, `ctcs check`):
//! one row per check, printed as soon as the check completes, as text or one JSON
//! object per line.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

/// How a check came out.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Verdict {
    /// Conforms.
    Pass,
    /// Legal but unwise.
    Warn,
    /// Breaks the rule.
    Fail,
}

/// One check's outcome, in the JSON form (`check`, `verdict`, `rule`, `seen`).
#[derive(Serialize)]
pub(crate) struct Row {
    pub(crate) check: &'static str,
    pub(crate) verdict: Verdict,
    pub(crate) rule: &'static str,
    pub(crate) seen: String,
}

/// Column widths for text rows: rows print one by one, so the widths cannot be
/// measured from the whole table; these fit every check name and most rules.
const CHECK_WIDTH: usize = 22;
const RULE_WIDTH: usize = 58;

/// Prints rows as they come and remembers whether one failed.
pub(crate) struct Report {
    json: bool,
    failed: bool,
    /// Progress goes to stderr only when a person watches it.
    progress: bool,
}

impl Report {
    /// A report in text or JSON.
    pub(crate) fn new(json: bool) -> Self {
        Report {
            json,
            failed: false,
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// Prints one row now.
    pub(crate) fn row(
        &mut self,
        check: &'static str,
        verdict: Verdict,
        rule: &'static str,
        seen: String,
    ) {
        self.failed |= verdict == Verdict::Fail;
        if self.progress {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
        let r = Row {
            check,
            verdict,
            rule,
            seen,
        };
        if self.json {
            crate::out::line(&serde_json::to_string(&r).unwrap_or_default());
        } else {
            let v = match verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            crate::out::line(&format!(
                "{v}  {:<CHECK_WIDTH$} {:<RULE_WIDTH$} {}",
                r.check, r.rule, r.seen
            ));
        }
    }

    /// Exit status 1 if any row FAILed, else 0.
    pub(crate) fn finish(self) -> ExitCode {
        if self.progress {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
        if self.failed {
            ExitCode::from(crate::failure::FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}

impl Report {
    /// [`Report::row`] for a row built elsewhere.
    pub(crate) fn push(&mut self, r: Row) {
        self.row(r.check, r.verdict, r.rule, r.seen);
    }
}
