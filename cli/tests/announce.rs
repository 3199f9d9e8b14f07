//! `trackwire announce` over `udp::Announcer`: the JSON object and exit codes against
//! `trackwire tracker`, a silent tracker marked not working after `--timeout`, a bad URL
//! in one tier beside a working tier, .torrent input (tiers and the info hash of the raw
//! `info` bytes, checked with Python's hashlib), and usage errors.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bt_bencode::Value as Bencode;
use common::procs::{free_udp_port, require, start_tracker, tool, Proc};
use serde_json::{json, Value};

/// Runs `trackwire announce ARGS` to the end.
fn announce(args: &[&str]) -> Output {
    tool(&["announce"]).args(args).output().unwrap()
}

/// The one JSON object of `announce --json` (stdout must hold exactly one line).
fn object(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn tracker_on(host: &str, bind: &str) -> (Proc, String) {
    let port = free_udp_port(bind);
    let addr = format!("{host}:{port}");
    // `--log-requests`: the tests read the info hashes the tracker saw from its log.
    let p = start_tracker(
        std::slice::from_ref(&addr),
        &["--interval", "900", "--log-requests"],
    );
    (p, format!("udp://{addr}"))
}

/// A scratch file path under the target directory.
fn scratch_file(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("announce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// SHA-1 of `bytes` as hex, computed by Python's hashlib: independent of the tool's code.
fn python_sha1(bytes: &[u8]) -> String {
    let python = require("python3");
    let mut child = Command::new(python)
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest())",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn json_shape_and_exit_codes_against_our_tracker() {
    let (_tracker, url) = tracker_on("127.0.0.1", "127.0.0.1");
    let hash = "5a".repeat(20);
    // A leecher first: it gets nobody.
    let out = announce(&[
        "--tier",
        &url,
        "--info-hash",
        &hash,
        "--port",
        "7001",
        "--left",
        "5",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        object(&out),
        json!({
            "trackers": [{
                "url": url, "tier": 0, "status": "working", "message": null,
                "seeders": 0, "leechers": 1, "peers": 0,
            }],
            "peers": [],
        })
    );
    // Then a seeder: the leecher is handed out and merged.
    let out = announce(&[&url, "--info-hash", &hash, "--port", "7002", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = object(&out);
    let keys: Vec<&str> = v["trackers"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["url", "tier", "status", "message", "seeders", "leechers", "peers"]
    );
    assert_eq!(v["trackers"][0]["status"], "working");
    assert_eq!(v["trackers"][0]["seeders"], 1);
    assert_eq!(v["trackers"][0]["leechers"], 1);
    assert_eq!(v["trackers"][0]["peers"], 1);
    assert_eq!(v["peers"], json!(["127.0.0.1:7001"]));
    // The table: a header, the row, the peers.
    let out = announce(&[&url, "--info-hash", &hash, "--port", "7003"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("TIER STATUS"), "{text}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row, ["0", "working", "2", "1", "2", url.as_str()], "{text}");
    assert_eq!(lines[2], "2 peers", "{text}");
    let mut peers = lines[3..].to_vec();
    peers.sort_unstable();
    assert_eq!(peers, ["  127.0.0.1:7001", "  127.0.0.1:7002"], "{text}");
}

#[test]
fn a_silent_tracker_is_not_working_after_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let url = format!("udp://{addr}");
    let hash = "01".repeat(20);
    let start = Instant::now();
    let out = announce(&[&url, "--info-hash", &hash, "--timeout", "1", "--json"]);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        object(&out),
        json!({
            "trackers": [{
                "url": url, "tier": 0, "status": "not_working",
                "message": format!("timed out ({addr})"),
                "seeders": null, "leechers": null, "peers": 0,
            }],
            "peers": [],
        })
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // It was asked, and retried within the timeout: connect requests, 16 bytes each.
    silent.set_nonblocking(true).unwrap();
    let mut seen = 0;
    let mut buf = [0u8; 64];
    while let Ok((n, _)) = silent.recv_from(&mut buf) {
        assert_eq!(n, 16);
        seen += 1;
    }
    assert!((2..=4).contains(&seen), "{seen} connect requests");
    // A name that does not resolve: the resolver's error is the message.
    let out = announce(&["udp://no-such-host.invalid:6969", "--info-hash", &hash]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("not_working")
            && text.contains(
                "udp://no-such-host.invalid:6969  cannot resolve no-such-host.invalid:6969: "
            ),
        "{text}"
    );
    assert!(text.ends_with("0 peers\n"), "{text}");
}

#[test]
fn a_bad_url_in_one_tier_does_not_stop_another_tier() {
    let (_tracker, good) = tracker_on("127.0.0.1", "127.0.0.1");
    let hash = "02".repeat(20);
    for mode in ["tiers", "all-tiers", "all"] {
        let out = announce(&[
            "--tier",
            "http://127.0.0.1:1/announce,udp://[::1:6969",
            "udp://127.0.0.1",
            &good,
            "--info-hash",
            &hash,
            "--mode",
            mode,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{mode}");
        let v = object(&out);
        let rows: Vec<(Value, Value, Value)> = v["trackers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["tier"].clone(), t["status"].clone(), t["message"].clone()))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    json!(0),
                    json!("not_working"),
                    json!("bad URL: not a udp:// URL at byte 0")
                ),
                (
                    json!(0),
                    json!("not_working"),
                    json!("bad URL: invalid bracketed IPv6 address at byte 6")
                ),
                (
                    json!(1),
                    json!("not_working"),
                    json!("bad URL: no port at byte 15")
                ),
                (json!(2), json!("working"), json!(null)),
            ],
            "{mode}"
        );
    }
    // Only bad URLs: nobody worked.
    let out = announce(&["udp://127.0.0.1", "--info-hash", &hash]);
    assert_eq!(out.status.code(), Some(2));
}

/// Writes `bytes` as a .torrent and announces it (`--mode all`, 1 s per silent address).
fn announce_torrent(name: &str, bytes: &[u8], extra: &[&str]) -> Output {
    let path = scratch_file(name);
    std::fs::write(&path, bytes).unwrap();
    let mut args = vec![path.to_str().unwrap(), "--timeout", "1", "--json"];
    args.extend_from_slice(extra);
    announce(&args)
}

#[test]
fn a_torrent_gives_its_tiers_and_the_info_hash_of_its_raw_info_bytes() {
    let (mut tracker, good) = tracker_on("127.0.0.1", "127.0.0.1");
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("udp://{}", silent.local_addr().unwrap());
    // Built with the bencode crate: `announce` plus `announce-list`, which wins (BEP 12).
    let mut info = BTreeMap::new();
    info.insert("length", Bencode::from(1234));
    info.insert("name", Bencode::from("file.bin"));
    info.insert("piece length", Bencode::from(16384));
    info.insert(
        "pieces",
        Bencode::ByteStr(bt_bencode::ByteString::from(vec![7u8; 20])),
    );
    let info = Bencode::from(info);
    let mut torrent = BTreeMap::new();
    torrent.insert("announce", Bencode::from("udp://127.0.0.1:1/ignored"));
    torrent.insert(
        "announce-list",
        Bencode::from(vec![
            Bencode::from(vec![Bencode::from(silent_url.as_str())]),
            Bencode::from(vec![
                Bencode::from(good.as_str()),
                Bencode::from("http://tracker.example/announce"),
            ]),
        ]),
    );
    torrent.insert("info", info.clone());
    let bytes = bt_bencode::to_vec(&Bencode::from(torrent)).unwrap();
    let info_bytes = bt_bencode::to_vec(&info).unwrap();
    assert!(bytes.windows(info_bytes.len()).any(|w| w == info_bytes));
    let hash = python_sha1(&info_bytes);
    let out = announce_torrent("built.torrent", &bytes, &["--mode", "all"]);
    assert_eq!(out.status.code(), Some(0));
    let v = object(&out);
    let rows: Vec<(Value, Value, Value)> = v["trackers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["url"].clone(), t["tier"].clone(), t["status"].clone()))
        .collect();
    assert_eq!(
        rows,
        [
            (json!(silent_url), json!(0), json!("not_working")),
            (json!(good), json!(1), json!("working")),
            (
                json!("http://tracker.example/announce"),
                json!(1),
                json!("not_working")
            ),
        ]
    );
    assert!(
        tracker
            .wait_for(&format!("announce {hash} "), Duration::from_secs(5))
            .is_some(),
        "the tracker never saw info hash {hash}: {:?}",
        tracker.lines()
    );

    // Written by hand, with the keys of `info` out of order: a tool that re-encoded
    // `info` would sort them and announce another hash. Only `announce` this time.
    let info = b"d6:pieces20:ABCDEFGHIJKLMNOPQRST4:name3:abc12:piece lengthi16384e6:lengthi9ee";
    let mut bytes = format!("d8:announce{}:{good}4:info", good.len()).into_bytes();
    bytes.extend_from_slice(info);
    bytes.push(b'e');
    let hash = python_sha1(info);
    let out = announce_torrent("unsorted.torrent", &bytes, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(object(&out)["trackers"][0]["url"], good.as_str());
    assert!(
        tracker
            .wait_for(&format!("announce {hash} "), Duration::from_secs(5))
            .is_some(),
        "the tracker never saw info hash {hash}: {:?}",
        tracker.lines()
    );
}

#[test]
fn an_unreadable_torrent_exits_1_with_one_line() {
    let missing = scratch_file("missing.torrent");
    let _ = std::fs::remove_file(&missing);
    let garbage = scratch_file("garbage.torrent");
    std::fs::write(&garbage, b"d8:announce").unwrap();
    let no_info = scratch_file("no-info.torrent");
    std::fs::write(&no_info, b"d8:announce14:udp://a.test:1e").unwrap();
    let no_trackers = scratch_file("no-trackers.torrent");
    std::fs::write(&no_trackers, b"d4:infod4:name1:xee").unwrap();
    for (path, needle) in [
        (&missing, "cannot read"),
        (&garbage, "not bencode"),
        (&no_info, "no `info` dictionary"),
        (&no_trackers, "lists no trackers"),
    ] {
        let out = announce(&[path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{path:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("trackwire: ") && err.contains(needle),
            "{err}"
        );
    }
}

#[test]
fn bad_hex_and_missing_trackers_are_usage_errors() {
    let hash = "ab".repeat(20);
    let torrent = scratch_file("usage.torrent");
    std::fs::write(&torrent, b"d8:announce14:udp://a.test:14:infod4:name1:xee").unwrap();
    let torrent = torrent.to_str().unwrap();
    let odd = "a".repeat(39);
    let long = "a".repeat(42);
    let signed = format!("+{}", "a".repeat(39));
    let accented = format!("é{}", "a".repeat(38));
    for (args, needle) in [
        (
            vec!["udp://127.0.0.1:1", "--info-hash", "abc"],
            "40 hex digits",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &odd],
            "40 hex digits",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &long],
            "40 hex digits",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &signed],
            "not a hex digit",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &accented],
            "not a hex digit",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &hash, "--peer-id", "0"],
            "40 hex digits",
        ),
        (vec!["udp://127.0.0.1:1"], "--info-hash"),
        (vec!["--info-hash", &hash], "no trackers"),
        (vec!["--info-hash", &hash, "--tier", ","], "lists no URL"),
        (vec![torrent, "--info-hash", &hash], "give one"),
        (vec![torrent, torrent], "one .torrent"),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &hash, "--mode", "some"],
            "--mode",
        ),
        (
            vec!["udp://127.0.0.1:1", "--info-hash", &hash, "--timeout", "0"],
            "1..=86400",
        ),
    ] {
        let out = announce(&args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn scrape_still_answers_per_tracker() {
    let (_tracker, url) = tracker_on("127.0.0.1", "127.0.0.1");
    let hash = "03".repeat(20);
    let out = announce(&[&url, "--info-hash", &hash, "--left", "9", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    // Scrapes go to every tracker of every tier; a bad URL is that tracker's line.
    let out = announce(&[
        "--tier",
        &format!("{url},udp://x"),
        "--info-hash",
        &hash,
        "--scrape",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            format!("{url}: 0 seeders (complete), 1 leechers (incomplete), 0 downloaded"),
            "udp://x: bad URL: no port at byte 7".to_string(),
        ]
    );
}
