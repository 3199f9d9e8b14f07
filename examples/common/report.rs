//! The PASS / WARN / FAIL report the conformance checkers print (`check_tracker`,
//! `ctcs_client --check`): one row per check, as text or one JSON object per line.

use std::process::ExitCode;

use serde_json::json;

/// How a check came out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Conforms.
    Pass,
    /// Legal but unwise.
    Warn,
    /// Breaks the rule.
    Fail,
}

/// One check's outcome.
pub(crate) struct Row {
    pub(crate) check: &'static str,
    pub(crate) verdict: Verdict,
    pub(crate) rule: &'static str,
    pub(crate) seen: String,
}

/// Prints the rows (`json`: one object per line) and returns exit status 1 if any
/// FAILed, else 0.
pub(crate) fn print(rows: &[Row], json_out: bool) -> ExitCode {
    let width = rows.iter().map(|r| r.check.len()).max().unwrap_or(0);
    let rule_width = rows
        .iter()
        .map(|r| r.rule.chars().count())
        .max()
        .unwrap_or(0)
        .min(70);
    for r in rows {
        let v = match r.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        if json_out {
            println!(
                "{}",
                json!({"check": r.check, "verdict": v, "rule": r.rule, "seen": r.seen})
            );
        } else {
            println!(
                "{v}  {:<width$} {:<rule_width$} {}",
                r.check, r.rule, r.seen
            );
        }
    }
    if rows.iter().any(|r| r.verdict == Verdict::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
