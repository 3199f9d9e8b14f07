//! The `decode` example prints one JSON object per datagram of every capture file, with
//! the error object exactly where the codec tests expect an error.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The example binary, which `cargo test` builds next to the test binaries.
fn example() -> PathBuf {
    let mut p = std::env::current_exe().unwrap();
    p.pop(); // the test binary
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples")
        .join(format!("decode{}", std::env::consts::EXE_SUFFIX))
}

fn run(args: &[&str], stdin: &[u8]) -> (Option<i32>, Vec<Value>) {
    let exe = example();
    assert!(
        exe.exists(),
        "{} was not built (run `cargo test`, which builds examples)",
        exe.display()
    );
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout).unwrap();
    let values = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    (out.status.code(), values)
}

#[test]
fn prints_every_datagram_of_every_file() {
    let all = common::all_datagrams();
    let mut files: Vec<&str> = all.iter().map(|d| d.file.as_str()).collect();
    files.dedup();
    for file in files {
        let text = std::fs::read(common::udp_vectors_dir().join(file)).unwrap();
        let (code, values) = run(&["udp"], &text);
        let datagrams: Vec<_> = all.iter().filter(|d| d.file == file).collect();
        assert_eq!(
            values.len(),
            datagrams.len(),
            "{file}: one object per datagram"
        );
        let mut failed = false;
        for (v, d) in values.iter().zip(&datagrams) {
            if let Some(kind) = v.get("error") {
                failed = true;
                assert!(kind.is_string(), "{file}:{}", d.line);
                assert_eq!(v["len"], d.bytes.len(), "{file}:{}", d.line);
                assert!(v["offset"].as_u64().unwrap() as usize <= d.bytes.len());
            } else {
                let t = v["type"].as_str().unwrap();
                assert_eq!(
                    t.ends_with("_request"),
                    d.from_client,
                    "{file}:{}: {t}",
                    d.line
                );
                assert!(v["transaction_id"].is_u64(), "{file}:{}", d.line);
            }
        }
        assert_eq!(
            code,
            Some(if failed { 1 } else { 0 }),
            "{file}: exit status"
        );
    }
}

#[test]
fn announce_json_fields() {
    let hex = "36e71e1fd34275990000000188880003aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2d4c42303030312d7564706c6162706565723031000000000000000000000000000003e8000000000000000000000002000000004c414221000000321c87010102052f61626364020365666700";
    let (code, v) = run(&["udp", "--from", "client", hex], b"");
    assert_eq!(code, Some(0));
    let v = &v[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "type",
            "connection_id",
            "action",
            "transaction_id",
            "info_hash",
            "peer_id",
            "downloaded",
            "left",
            "uploaded",
            "event",
            "ip",
            "key",
            "num_want",
            "port",
            "options",
            "url_data"
        ]
    );
    assert_eq!(v["connection_id"], "36e71e1fd3427599");
    assert_eq!(v["event"], "started");
    assert_eq!(v["ip"], "0.0.0.0");
    assert_eq!(v["url_data"], "/abcdefg");
    assert_eq!(v["options"][0], serde_json::json!({"type": 1, "data": ""}));
    assert_eq!(
        v["options"][2],
        serde_json::json!({"type": 2, "data": "2f61626364"})
    );
}

#[test]
fn legacy_extensions_and_ipv6_flags() {
    // The 100-byte aria2-style announce under the legacy grammar: no extensions.
    let hex = "36e71e1fd34275990000000177770001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2d4c42303030312d7564706c6162706565723031000000000000000000000000000003e8000000000000000000000004000000004c414221000000321c210000";
    let (code, v) = run(&["udp", "--legacy-extensions", hex], b"");
    assert_eq!(code, Some(0));
    assert_eq!(v[0]["extensions"], serde_json::json!({}));
    assert_eq!(v[0]["event"], "paused");
    // One 18-byte peer as IPv6, and the same bytes as IPv4.
    let reply = "0000000100000001000007080000000300000007000000000000000000000000000000011ae1";
    let (_, v6) = run(&["udp", "--ipv6", "--from", "tracker", reply], b"");
    assert_eq!(v6[0]["peers"], serde_json::json!(["[::1]:6881"]));
    let (_, v4) = run(&["udp", "--from", "tracker", reply], b"");
    assert_eq!(v4[0]["peers"].as_array().unwrap().len(), 3);
    // A bad datagram gives the error object and exit status 1.
    let (code, v) = run(&["udp", "--from", "tracker", "00000001000000"], b"");
    assert_eq!(code, Some(1));
    assert_eq!(
        v[0],
        serde_json::json!({"error": "truncated", "offset": 4, "len": 7})
    );
}
