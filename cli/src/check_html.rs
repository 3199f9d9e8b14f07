//! `trackwire check --html FILE`: the rows of a run as one self-contained HTML page
//! (inline CSS, no script, nothing fetched), for people who would rather look than read.
//! Every text that came from the run (the URL, what the tracker sent back) is escaped.

use std::fmt::Write;
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::check::verdict_name;
use crate::report::Verdict;

/// One row as the page shows it.
pub(crate) struct HtmlRow {
    /// The tracker address the row is about.
    pub(crate) address: String,
    pub(crate) check: &'static str,
    pub(crate) verdict: Verdict,
    pub(crate) rule: &'static str,
    pub(crate) seen: String,
}

/// What the page is made of.
pub(crate) struct HtmlReport<'a> {
    /// The tracker URL as given.
    pub(crate) url: &'a str,
    /// Every address the URL resolved to, in the order probed.
    pub(crate) addresses: &'a [SocketAddr],
    /// When the run started.
    pub(crate) started: SystemTime,
    pub(crate) rows: &'a [HtmlRow],
}

const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.seen{font-family:monospace;word-break:break-all}\
.PASS{background:#dff5e1;color:#14532d}.WARN{background:#fff4d6;color:#713f12}\
.FAIL{background:#fde2e2;color:#7f1d1d}td.v{font-weight:bold}\
.totals span{margin-right:1em;padding:2px 6px}";

impl HtmlReport<'_> {
    /// The whole page.
    pub(crate) fn render(&self) -> String {
        let mut h = String::new();
        let title = format!("trackwire check {}", self.url);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
            escape(&title),
            escape(&title)
        );
        let addresses: Vec<String> = self.addresses.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            h,
            "<p>Tracker <code>{}</code>; addresses <code>{}</code>; started {} \
             (trackwire {}).</p>",
            escape(self.url),
            escape(&addresses.join(", ")),
            utc(self.started),
            env!("CARGO_PKG_VERSION")
        );
        let count = |v: Verdict| self.rows.iter().filter(|r| r.verdict == v).count();
        let _ = write!(h, "<p class=\"totals\">");
        for v in [Verdict::Pass, Verdict::Warn, Verdict::Fail] {
            let name = verdict_name(v);
            let _ = write!(h, "<span class=\"{name}\">{name} {}</span>", count(v));
        }
        h.push_str("</p>\n");
        for address in &addresses {
            let _ = write!(
                h,
                "<h2>{}</h2>\n<table><tr><th>verdict</th><th>check</th><th>rule</th>\
                 <th>seen</th></tr>\n",
                escape(address)
            );
            for r in self.rows.iter().filter(|r| &r.address == address) {
                let v = verdict_name(r.verdict);
                let _ = writeln!(
                    h,
                    "<tr class=\"{v}\"><td class=\"v\">{v}</td><td>{}</td><td>{}</td>\
                     <td class=\"seen\">{}</td></tr>",
                    escape(r.check),
                    escape(r.rule),
                    escape(&r.seen)
                );
            }
            h.push_str("</table>\n");
        }
        h.push_str("</body></html>\n");
        h
    }
}

/// Text made safe for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-12-07 20:21:55 UTC`, without a date crate: days since 1970 to a civil date
/// (Howard Hinnant's `civil_from_days`).
fn utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escapes() {
        assert_eq!(utc(SystemTime::UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_588_515);
        assert_eq!(utc(t), "2026-12-06 20:21:55 UTC");
        let leap = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(utc(leap), "2000-02-29 00:00:00 UTC");
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
