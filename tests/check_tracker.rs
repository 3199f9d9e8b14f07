//! `examples/check_tracker` against `examples/tracker` (every check passes, over IPv4 and
//! IPv6) and against Debian's opentracker (exactly its known deviations: the requester in
//! its own peer list, and a 33-byte error reply to a 16-byte datagram with a bad
//! connection id; `shared/spec/real-peers.md` §5, `shared/spec/udp-anchors.md` §3).

mod common;

use std::process::Command;

use common::procs::{
    example, free_udp_port, interop_enabled, json_lines, start_opentracker, start_tracker,
};
use serde_json::Value;

fn check(url: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    json_lines(
        Command::new(example("check_tracker"))
            .arg(url)
            .arg("--json")
            .args(["--wait-ms", "300"])
            .args(extra),
    )
}

fn not_passing(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .filter(|r| r["verdict"] != "PASS")
        .map(|r| {
            (
                r["check"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn our_tracker_passes_every_check() {
    for (host, bind) in [("127.0.0.1", "127.0.0.1"), ("[::1]", "::1")] {
        let port = free_udp_port(bind);
        let _tracker = start_tracker(&[format!("{host}:{port}")], &[]);
        let (code, rows) = check(&format!("udp://{host}:{port}"), &[]);
        assert!(rows.len() >= 20, "{rows:?}");
        assert_eq!(not_passing(&rows), [], "{rows:#?}");
        assert_eq!(code, Some(0));
    }
}

#[test]
fn opentracker_shows_exactly_its_known_deviations() {
    if !interop_enabled("opentracker_shows_exactly_its_known_deviations") {
        return;
    }
    let (_ot, udp) = start_opentracker(&[[0xaa; 20]]);
    let (code, rows) = check(
        &format!("udp://127.0.0.1:{udp}"),
        &["--info-hash", &"aa".repeat(20)],
    );
    let report: String = rows
        .iter()
        .map(|r| format!("{} {} {}\n", r["verdict"], r["check"], r["seen"]))
        .collect();
    eprintln!("opentracker report:\n{report}");
    assert_eq!(
        not_passing(&rows),
        [
            ("peers_family".to_string(), "WARN".to_string()),
            ("amplification".to_string(), "FAIL".to_string())
        ],
        "{report}"
    );
    assert_eq!(code, Some(1));
}
