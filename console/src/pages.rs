//! The three pages, rendered whole on the server (so they read right without
//! JavaScript, and every client string is escaped in one place, [`escape`]); the page
//! script then polls the JSON API once a second and redraws the live parts.

use std::fmt::Write as _;

use crate::html::escape;
use crate::state::{Policy, State, Summary, Terminated, Torrent};

/// Bytes/s as the pages show them.
pub(crate) fn rate(bytes_per_s: i64) -> String {
    format!("{} /s", bytes(bytes_per_s.max(0).unsigned_abs()))
}

/// A limit: "none" for 0 (or below: dnh3.3.2 echoes negative limits; they limit nothing).
pub(crate) fn limit(bytes_per_s: i64) -> String {
    if bytes_per_s <= 0 {
        "none".to_owned()
    } else {
        rate(bytes_per_s)
    }
}

/// A byte count with a binary unit, one decimal.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    // Display only: precision loss past 2^53 bytes does not matter.
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS.get(unit).unwrap_or(&"B"))
    }
}

fn percent(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` UTC (the script shows local time instead).
pub(crate) fn time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn layout(title: &str, page: &str, id: Option<u64>, main: &str) -> String {
    let id_attr = id.map(|i| format!(" data-id=\"{i}\"")).unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} — trackwire CTCS</title><link rel=\"stylesheet\" href=\"/static/console.css\"></head>\
<body data-page=\"{page}\"{id_attr}><header><h1>trackwire CTCS</h1><nav>\
<a href=\"/\">All torrents</a><a href=\"/limits\">Advanced limits</a></nav>\
<span id=\"live\" class=\"live\">live</span></header><main>{main}</main>\
<script src=\"/static/console.js\"></script></body></html>\n",
        title = escape(title)
    )
}

fn severity_class(severity: i32) -> &'static str {
    match severity {
        1 => "sev1",
        2 => "sev2",
        3 => "sev3",
        _ => "sev0",
    }
}

/// One row of the All torrents table; the script builds the same cells.
fn torrent_row(s: &Summary) -> String {
    let msg = s.last_message.as_ref().map_or(String::new(), |m| {
        format!(
            "<span class=\"{}\">{}</span>",
            severity_class(m.severity),
            escape(&m.text)
        )
    });
    format!(
        "<tr data-id=\"{id}\"><td class=\"name\"><a href=\"/torrent/{id}\">{name}</a><br><small>{peer}</small></td>\
<td>{started}</td><td>{s_conn} ({s_tr})</td><td>{l_conn} ({l_tr})</td>\
<td><progress max=\"1000\" value=\"{pw:.0}\"></progress> {progress} <small>avail {avail}</small></td>\
<td class=\"dl-rate num\">{dlr}</td><td class=\"ul-rate num\">{ulr}</td>\
<td class=\"num\">{dlt}</td><td class=\"num\">{ult}</td>\
<td class=\"limits num\">{dll} / {ull}</td><td class=\"msg\">{msg}</td></tr>",
        id = s.id,
        name = escape(&s.name),
        peer = escape(&s.peer_id),
        started = time(s.start_timestamp),
        s_conn = s.seeders,
        s_tr = s.total_seeders,
        l_conn = s.leechers,
        l_tr = s.total_leechers,
        pw = s.progress * 1000.0,
        progress = percent(s.progress),
        avail = percent(s.availability),
        dlr = rate(i64::from(s.dl_rate)),
        ulr = rate(i64::from(s.ul_rate)),
        dlt = bytes(s.dl_total),
        ult = bytes(s.ul_total),
        dll = limit(i64::from(s.dl_limit)),
        ull = limit(i64::from(s.ul_limit)),
    )
}

fn history_row(t: &Terminated) -> String {
    let progress = if t.pieces > 0 {
        percent(f64::from(t.have) / f64::from(t.pieces))
    } else {
        "?".into()
    };
    format!(
        "<tr><td>{}</td><td><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        escape(&t.name),
        escape(&t.peer_id),
        time(t.started),
        time(t.ended),
        progress,
        bytes(t.dl_total),
        bytes(t.ul_total)
    )
}

/// The All torrents page.
pub(crate) fn index(state: &State) -> String {
    let mut rows = String::new();
    for t in state.torrents.values() {
        rows.push_str(&torrent_row(&t.summary));
    }
    let mut hist = String::new();
    for t in &state.history {
        hist.push_str(&history_row(t));
    }
    let dl: i64 = state
        .torrents
        .values()
        .map(|t| i64::from(t.summary.dl_rate.max(0)))
        .sum();
    let ul: i64 = state
        .torrents
        .values()
        .map(|t| i64::from(t.summary.ul_rate.max(0)))
        .sum();
    let main = format!(
        "<section class=\"globals\"><h2>All torrents</h2><p>Download <b id=\"g-dl\">{}</b> of <span id=\"g-dlcap\">{}</span> · \
Upload <b id=\"g-ul\">{}</b> of <span id=\"g-ulcap\">{}</span> · <span id=\"g-count\">{}</span> connected</p></section>\
<table id=\"torrents\"><thead><tr><th>Torrent</th><th>Started</th><th>Seeders (tracker)</th><th>Leechers (tracker)</th>\
<th>Progress</th><th>Down</th><th>Up</th><th>Downloaded</th><th>Uploaded</th><th>Limits down / up</th><th>Last message</th></tr></thead>\
<tbody>{rows}</tbody></table>\
<h2>Terminated</h2><table id=\"history\"><thead><tr><th>Torrent</th><th>Peer id</th><th>Started</th><th>Ended</th>\
<th>Progress</th><th>Downloaded</th><th>Uploaded</th></tr></thead><tbody>{hist}</tbody></table>",
        rate(dl),
        limit(i64::from(state.globals.dl_cap)),
        rate(ul),
        limit(i64::from(state.globals.ul_cap)),
        state.torrents.len(),
    );
    layout("All torrents", "index", None, &main)
}

/// The Torrent details page.
pub(crate) fn details(t: &Torrent, policy: &Policy) -> String {
    let s = &t.summary;
    let seed_left = t
        .config
        .iter()
        .find(|c| c.name == "seed_time")
        .map_or("?".to_owned(), |c| format!("{} h", c.value));
    let ratio = s.ratio.map_or("?".to_owned(), |r| format!("{r:.2}"));
    let mut cfg = String::new();
    for c in &t.config {
        let _ = write!(
            cfg,
            "<tr data-name=\"{name}\"><td><b>{name}</b><br><small>{short}</small></td><td class=\"current\">{value}</td>\
<td><small class=\"long\">{long}</small></td><td><form class=\"cfg\" data-name=\"{name}\">\
<input name=\"value\" value=\"{value}\" aria-label=\"{name}\"> <button type=\"submit\">Set</button></form></td></tr>",
            name = escape(&c.name),
            short = escape(&c.short),
            value = escape(&c.value),
            long = escape(&c.long),
        );
    }
    let mut msgs = String::new();
    for m in t.messages.iter().rev() {
        let _ = write!(
            msgs,
            "<li class=\"{}\"><time>{}</time> {}</li>",
            severity_class(m.severity),
            time(m.time),
            escape(&m.text)
        );
    }
    let mut files = String::new();
    for f in &t.files {
        let frac = |x: i32| {
            if f.pieces > 0 {
                percent(f64::from(x) / f64::from(f.pieces))
            } else {
                "?".into()
            }
        };
        let _ = write!(
            files,
            "<tr><td>{}</td><td class=\"name\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.number,
            escape(&f.name),
            bytes(f.size),
            frac(f.have),
            frac(f.available),
            f.priority
        );
    }
    let mut peers = String::new();
    for p in &t.peers {
        let _ = write!(
            peers,
            "<tr><td><small>{}</small></td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&p.peer_id),
            escape(&p.client),
            escape(&p.address),
            escape(&p.flags),
            rate(i64::from(p.dl_rate)),
            rate(i64::from(p.ul_rate)),
            bytes(p.dl_total),
            bytes(p.ul_total),
            p.pieces
        );
    }
    let main = format!(
        "<h2 id=\"t-name\">{name}</h2>\
<dl id=\"summary\" class=\"summary\"><dt>Peer id</dt><dd id=\"s-peer\">{peer}</dd><dt>Address</dt><dd>{addr}</dd>\
<dt>Started</dt><dd>{started}</dd><dt>Progress</dt><dd id=\"s-progress\">{progress} (available {avail})</dd>\
<dt>Rates down / up</dt><dd id=\"s-rates\">{dlr} / {ulr}</dd><dt>Limits down / up</dt><dd id=\"s-limits\">{dll} / {ull}</dd>\
<dt>Totals down / up</dt><dd id=\"s-totals\">{dlt} / {ult}</dd><dt>Ratio</dt><dd id=\"s-ratio\">{ratio}</dd>\
<dt>Seed time left</dt><dd id=\"s-seed\">{seed_left}</dd><dt>Policy</dt><dd id=\"s-policy\">min {pmin} · max {pmax} · {shared}</dd></dl>\
<p class=\"actions\"><button id=\"act-update\" data-action=\"update\">Update</button> \
<button id=\"act-restart\" data-action=\"restart\">Restart</button> \
<button id=\"act-quit\" data-action=\"quit\" class=\"danger\">Terminate</button> <span id=\"act-result\"></span></p>\
<h3>Configuration</h3><table id=\"config\"><thead><tr><th>Option</th><th>Current</th><th></th><th>Change</th></tr></thead><tbody>{cfg}</tbody></table>\
<h3>Messages</h3><ul id=\"messages\" class=\"messages\">{msgs}</ul>\
<h3>Files</h3><table id=\"files\"><thead><tr><th>#</th><th>Name</th><th>Size</th><th>Have</th><th>Available</th><th>Priority</th></tr></thead><tbody>{files}</tbody></table>\
<h3>Peers</h3><table id=\"peers\"><thead><tr><th>Peer id</th><th>Client</th><th>Address</th><th>Flags</th><th>From</th><th>To</th><th>Downloaded</th><th>Uploaded</th><th>Pieces</th></tr></thead><tbody>{peers}</tbody></table>",
        name = escape(&s.name),
        peer = escape(&s.peer_id),
        addr = escape(&s.address),
        started = time(s.start_timestamp),
        progress = percent(s.progress),
        avail = percent(s.availability),
        dlr = rate(i64::from(s.dl_rate)),
        ulr = rate(i64::from(s.ul_rate)),
        dll = limit(i64::from(s.dl_limit)),
        ull = limit(i64::from(s.ul_limit)),
        dlt = bytes(s.dl_total),
        ult = bytes(s.ul_total),
        pmin = limit(i64::from(policy.dl_min)),
        pmax = limit(i64::from(policy.dl_max)),
        shared = if policy.dl_shared { "shared" } else { "not shared" },
    );
    layout(&s.name, "details", Some(s.id), &main)
}

/// The Advanced limits page.
pub(crate) fn limits(state: &State) -> String {
    let kib = |v: u32| v / 1024;
    let mut rows = String::new();
    for t in state.torrents.values() {
        let s = &t.summary;
        let p = state.policy(&s.name);
        let checked = |b: bool| if b { " checked" } else { "" };
        let _ = write!(
            rows,
            "<tr data-id=\"{id}\"><td class=\"name\">{name}</td>\
<td class=\"current num\">{dll} / {ull}</td><td class=\"rates num\">{dlr} / {ulr}</td>\
<td><form class=\"set-limits\" data-id=\"{id}\"><input name=\"dl_limit\" type=\"number\" min=\"0\" placeholder=\"down KiB/s\" aria-label=\"download limit KiB/s\"> \
<input name=\"ul_limit\" type=\"number\" min=\"0\" placeholder=\"up KiB/s\" aria-label=\"upload limit KiB/s\"> <button type=\"submit\">Set</button></form></td>\
<td><form class=\"policy\" data-id=\"{id}\">\
down <input name=\"dl_min\" type=\"number\" min=\"0\" value=\"{dmin}\" aria-label=\"download minimum KiB/s\">–<input name=\"dl_max\" type=\"number\" min=\"0\" value=\"{dmax}\" aria-label=\"download maximum KiB/s\"> \
<label><input name=\"dl_shared\" type=\"checkbox\"{dsh}> shared</label><br>\
up <input name=\"ul_min\" type=\"number\" min=\"0\" value=\"{umin}\" aria-label=\"upload minimum KiB/s\">–<input name=\"ul_max\" type=\"number\" min=\"0\" value=\"{umax}\" aria-label=\"upload maximum KiB/s\"> \
<label><input name=\"ul_shared\" type=\"checkbox\"{ush}> shared</label><br>\
ratio cap <input name=\"ratio_cap\" type=\"number\" min=\"0\" step=\"0.01\" value=\"{ratio}\" aria-label=\"share ratio cap\"> <button type=\"submit\">Save</button></form></td></tr>",
            id = s.id,
            name = escape(&s.name),
            dll = limit(i64::from(s.dl_limit)),
            ull = limit(i64::from(s.ul_limit)),
            dlr = rate(i64::from(s.dl_rate)),
            ulr = rate(i64::from(s.ul_rate)),
            dmin = kib(p.dl_min),
            dmax = kib(p.dl_max),
            dsh = checked(p.dl_shared),
            umin = kib(p.ul_min),
            umax = kib(p.ul_max),
            ush = checked(p.ul_shared),
            ratio = f64::from(p.ratio_cap) / 100.0,
        );
    }
    let main = format!(
        "<h2>Advanced limits</h2>\
<form id=\"caps\"><fieldset><legend>Global caps (KiB/s, 0 = none)</legend>\
download <input name=\"dl_cap\" type=\"number\" min=\"0\" value=\"{dcap}\" aria-label=\"global download cap KiB/s\"> \
upload <input name=\"ul_cap\" type=\"number\" min=\"0\" value=\"{ucap}\" aria-label=\"global upload cap KiB/s\"> \
<button type=\"submit\">Save</button> <span id=\"caps-result\"></span></fieldset></form>\
<p class=\"hint\">Limits are in KiB/s. <i>Set</i> sends the limit to the client now; the policy (minimum, maximum, shared in the \
global pool, share-ratio cap) is kept by torrent name across restarts.</p>\
<table id=\"limits\"><thead><tr><th>Torrent</th><th>Limits down / up</th><th>Rates down / up</th><th>Set now</th><th>Policy</th></tr></thead>\
<tbody>{rows}</tbody></table><p id=\"limits-result\"></p>",
        dcap = kib(state.globals.dl_cap),
        ucap = kib(state.globals.ul_cap),
    );
    layout("Advanced limits", "limits", None, &main)
}

/// The details page of a torrent that is not connected (any more).
pub(crate) fn gone(id: u64) -> String {
    layout(
        "Not connected",
        "gone",
        None,
        &format!("<h2>Torrent {id} is not connected</h2><p><a href=\"/\">All torrents</a></p>"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(u64::MAX), "16777216.0 TiB");
        assert_eq!(limit(0), "none");
        assert_eq!(limit(-5), "none");
        assert_eq!(limit(16384), "16.0 KiB /s");
    }

    #[test]
    fn times() {
        assert_eq!(time(0), "1970-01-01 00:00:00");
        assert_eq!(time(1_795_312_162), "2026-11-22 01:49:22");
        assert_eq!(time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(time(-1), "1969-12-31 23:59:59");
    }
}
