//! `trackwire tracker`, `announce` and `check` against each other over loopback, IPv4
//! and IPv6, and an announce exchange captured with `tcpdump` and decoded with
//! `trackwire decode udp --pcap`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::procs::{free_udp_port, json_lines, require, start_tracker, tool, Proc};
use serde_json::Value;

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
fn check_passes_our_tracker_row_by_row() {
    for (host, bind) in [("127.0.0.1", "127.0.0.1"), ("[::1]", "::1")] {
        let port = free_udp_port(bind);
        let _tracker = start_tracker(&[format!("{host}:{port}")], &[]);
        let mut child = tool(&[
            "check",
            &format!("udp://{host}:{port}"),
            "--json",
            "--wait-ms",
            "300",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(first["check"], "connect");
        // The first row is out while the battery (about 20 s) still runs: rows are
        // printed as each check completes, not at the end.
        assert!(
            child.try_wait().unwrap().is_none(),
            "the check had already ended"
        );
        let mut rows = vec![first];
        rows.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
        let out = child.wait_with_output().unwrap();
        assert!(rows.len() >= 20, "{rows:?}");
        assert_eq!(not_passing(&rows), [], "{rows:#?}");
        assert_eq!(out.status.code(), Some(0));
        // Progress goes to a terminal only: piped stderr stays empty.
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}

#[test]
fn check_text_rows_and_an_unreachable_tracker() {
    // Nothing listens: the connect row FAILs (exit 1).
    let port = free_udp_port("127.0.0.1");
    let out = tool(&[
        "check",
        &format!("udp://127.0.0.1:{port}"),
        "--wait-ms",
        "100",
    ])
    .output()
    .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("FAIL  connect "), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(out.status.code(), Some(1));
    // A name that does not resolve: exit 2, one line.
    let out = tool(&["check", "udp://no-such-host.invalid:6969"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("trackwire: cannot resolve no-such-host.invalid:6969"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

fn announce(args: &[&str]) -> (Option<i32>, Vec<Value>) {
    json_lines(tool(&["announce"]).args(args).stderr(Stdio::null()))
}

#[test]
fn announce_and_scrape_against_our_tracker_by_host_name() {
    // `localhost` resolves (to 127.0.0.1 here, and ::1 too where /etc/hosts says so):
    // the tracker binds every address of the name, and the announcer announces over
    // every family the name has.
    let port = free_udp_port("127.0.0.1");
    let mut tracker = Proc::spawn("tracker", {
        let mut c = tool(&[
            "tracker",
            "--bind",
            &format!("localhost:{port}"),
            "--interval",
            "900",
            "--log-requests",
        ]);
        c.arg("--bind").arg("[::1]:0");
        c
    });
    assert!(tracker
        .wait_for(
            &format!("listening on 127.0.0.1:{port}"),
            Duration::from_secs(10)
        )
        .is_some());
    let v6 = tracker
        .wait_for("listening on [::1]:", Duration::from_secs(10))
        .unwrap();
    let v6 = v6.trim_start_matches("listening on ").trim().to_string();
    let localhost_v6 = ("localhost", port)
        .to_socket_addrs()
        .unwrap()
        .any(|a| a.is_ipv6());
    let hash = "5a".repeat(20);
    let url = format!("udp://localhost:{port}/announce?passkey=abc");
    let (code, v) = announce(&[
        &url,
        "--info-hash",
        &hash,
        "--port",
        "7001",
        "--left",
        "100",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(v.len(), 1);
    let t = &v[0]["trackers"][0];
    assert_eq!(t["url"], url.as_str());
    assert_eq!(t["status"], "working");
    assert_eq!(t["seeders"], 0);
    // One leecher per family, the latest answer counting the other family's announce
    // if it came second.
    let families = if localhost_v6 { 2 } else { 1 };
    let leechers = t["leechers"].as_u64().unwrap();
    assert!((1..=families).contains(&leechers), "{v:?}");
    // The second peer, a seeder, over each family's address as a tier of its own, every
    // tracker announced to: each family hands out the first peer's address of its own.
    let urls = [format!("udp://127.0.0.1:{port}"), format!("udp://{v6}")];
    let (code, v) = announce(&[
        &urls[0],
        &urls[1],
        "--mode",
        "all",
        "--info-hash",
        &hash,
        "--port",
        "7002",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    let trackers = v[0]["trackers"].as_array().unwrap();
    assert_eq!(trackers.len(), 2);
    assert!(trackers.iter().all(|t| t["status"] == "working"), "{v:?}");
    // Both announces carry the same peer id and key: one client, one seeder, whichever
    // family the tracker sees first; the first peer is one leecher too.
    assert!(trackers.iter().all(|t| t["seeders"] == 1), "{v:?}");
    assert!(trackers.iter().all(|t| t["leechers"] == 1), "{v:?}");
    let mut expected = vec![serde_json::json!("127.0.0.1:7001")];
    if localhost_v6 {
        expected.push(serde_json::json!("[::1]:7001"));
    }
    let mut peers = v[0]["peers"].as_array().unwrap().clone();
    peers.sort_by_key(|p| p.to_string());
    assert_eq!(peers, expected, "{v:?}");
    // Scrape, in text: each client counts once, whichever families it announced from.
    let out = tool(&["announce", &urls[0], "--info-hash", &hash, "--scrape"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!(
            "{}: 1 seeders (complete), 1 leechers (incomplete), 0 downloaded",
            urls[0]
        )
    );
    // The tracker logged the URLData-carrying announce.
    assert!(tracker
        .wait_for("announce 5a5a", Duration::from_secs(5))
        .is_some());
}

#[test]
fn tracker_refuses_a_busy_address() {
    let busy = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = tool(&["tracker", "--bind", &addr]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("trackwire: cannot bind {addr}")),
        "{err}"
    );
}

/// `tcpdump -i lo -w FILE udp port P` around `trackwire announce` and `trackwire tracker`,
/// then `trackwire decode udp --pcap FILE --port P`: connect, announce and their replies,
/// in order, with addresses of the family used.
fn captured_exchange(host: &str, bind: &str) {
    let tcpdump = require("tcpdump");
    let port = free_udp_port(bind);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("announce-{port}.pcap"));
    // --immediate-mode: packets reach the file as they come, not when a buffer fills.
    let mut cmd = Command::new(tcpdump);
    cmd.args(["-i", "lo", "--immediate-mode", "-U", "-w"])
        .arg(&file)
        .args(["udp", "port", &port.to_string()]);
    let mut capture = Proc::spawn("tcpdump", cmd);
    assert!(
        capture
            .wait_for("listening on lo", Duration::from_secs(10))
            .is_some(),
        "tcpdump did not start (it needs root): {:?}",
        capture.lines()
    );
    let _tracker = start_tracker(&[format!("{host}:{port}")], &[]);
    let hash = "c3".repeat(20);
    let (code, v) = announce(&[
        &format!("udp://{host}:{port}"),
        "--info-hash",
        &hash,
        "--json",
    ]);
    assert_eq!(code, Some(0), "{v:?}");
    // Stop the capture cleanly, so that the file is complete.
    std::thread::sleep(Duration::from_millis(300));
    capture.interrupt();
    assert_eq!(
        capture.finish(Duration::from_secs(10)),
        Some(0),
        "{:?}",
        capture.lines()
    );
    let (code, rows) = json_lines(&mut tool(&[
        "decode",
        "udp",
        "--pcap",
        file.to_str().unwrap(),
        "--port",
        &port.to_string(),
    ]));
    assert_eq!(code, Some(0), "{rows:?}");
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "connect_request",
            "connect_response",
            "announce_request",
            "announce_response"
        ],
        "{rows:#?}"
    );
    for r in &rows {
        let from_client = r["type"].as_str().unwrap().ends_with("_request");
        assert_eq!(r["from"], if from_client { "client" } else { "tracker" });
        let tracker_side = if from_client { &r["dst"] } else { &r["src"] };
        assert_eq!(tracker_side, &Value::from(format!("{host}:{port}")));
        assert!(r["ts"].as_f64().unwrap() > 1.6e9, "{r}");
    }
    assert_eq!(rows[2]["info_hash"], hash.as_str());
    assert_eq!(rows[1]["transaction_id"], rows[0]["transaction_id"]);
    assert_eq!(rows[3]["transaction_id"], rows[2]["transaction_id"]);
    assert_eq!(rows[3]["interval"], 1800);
}

#[test]
fn tcpdump_capture_decodes_ipv4() {
    captured_exchange("127.0.0.1", "127.0.0.1");
}

#[test]
fn tcpdump_capture_decodes_ipv6() {
    captured_exchange("[::1]", "::1");
}
