//! `ctcs_client --check`: against `examples/ctcs_server` (which must pass every check in
//! protocols 3, 2 and 1, with and without a password), and against a deliberately bad
//! server, which it must catch.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::procs::{example, free_tcp_port, json_lines, Proc};
use serde_json::Value;

fn check(addr: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    json_lines(
        Command::new(example("ctcs_client"))
            .args(["--check", "--json", "--wait-ms", "1300", "--server", addr])
            .args(extra),
    )
}

fn verdicts(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["check"].as_str().unwrap().into(),
                r["verdict"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn our_ctcs_server_passes_every_check() {
    for (protocol, password) in [
        ("3", None),
        ("2", None),
        ("1", None),
        ("3", Some("s3cret pw")),
    ] {
        let port = free_tcp_port("127.0.0.1");
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(example("ctcs_server"));
        cmd.args(["--listen", &addr, "--poll", "1", "--protocol", protocol]);
        if let Some(pw) = password {
            cmd.args(["--password", pw]);
        }
        let mut server = Proc::spawn("ctcs_server", cmd);
        assert!(server
            .wait_for("listening on", Duration::from_secs(10))
            .is_some());
        let extra: Vec<&str> = password.map(|p| vec!["--password", p]).unwrap_or_default();
        let (code, rows) = check(&addr, &extra);
        let failing: Vec<_> = verdicts(&rows)
            .into_iter()
            .filter(|(_, v)| v != "PASS")
            .collect();
        assert_eq!(
            failing,
            [],
            "protocol {protocol}, password {password:?}: {rows:#?}"
        );
        assert_eq!(rows.len(), 9);
        assert_eq!(code, Some(0));
    }
}

#[test]
fn a_bad_server_is_caught() {
    // Sends a bare CTCONFIG (which crashes dnh3.3.2) on the first connection, and no
    // PROTOCOL at all on the second.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(2).enumerate() {
            let Ok(mut s) = stream else { return };
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            if n == 0 {
                s.write_all(b"PROTOCOL 0003\nSENDSTATUS\nCTCONFIG\n")
                    .unwrap();
            }
            let mut buf = [0u8; 8192];
            let end = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < end {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    _ => continue,
                }
            }
        }
    });
    let (code, rows) = check(&addr, &[]);
    let v = verdicts(&rows);
    let get = |name: &str| v.iter().find(|(c, _)| c == name).map(|(_, x)| x.as_str());
    assert_eq!(get("protocol_sent"), Some("PASS"));
    assert_eq!(get("protocol_on_reconnect"), Some("FAIL"), "{rows:#?}");
    assert_eq!(get("never_harmful_lines"), Some("FAIL"), "{rows:#?}");
    // It never asked again after the first SENDSTATUS, so liveness is unproven.
    assert_eq!(get("line_of_4294_bytes"), Some("WARN"), "{rows:#?}");
    assert_eq!(code, Some(1));
}
