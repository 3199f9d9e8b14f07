//! `examples/announce` and the `udp::Client` API against Debian's opentracker: connect,
//! announce, scrape, and the error reply to a bad connection id (after which the client
//! must drop the id and reconnect). Runs when `TRACKWIRE_INTEROP=1` (set by `.ci/run`,
//! which installs opentracker); otherwise it says loudly that it was skipped.

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use common::driver::{run, Outcome, Wire};
use common::procs::{interop_enabled, start_opentracker};
use trackwire::udp::client::{AnnounceParams, Client, ClientConfig, RetryPolicy};
use trackwire::udp::{InfoHash, PeerId};
use trackwire::Instant;

const WHITELISTED: [u8; 20] = [0xaa; 20];

/// One opentracker at a time: two instances started together interfere.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn announce_example(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(common::procs::example("announce"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(text.trim()).unwrap_or_else(|_| {
        panic!(
            "not JSON: {text:?} {:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

#[test]
fn announce_example_against_opentracker() {
    if !interop_enabled("announce_example_against_opentracker") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_ot, port) = start_opentracker(&[[0xaa; 20], [0xbb; 20]]);
    let url = format!("udp://127.0.0.1:{port}/announce");
    let hash = "aa".repeat(20);
    let (code, v) = announce_example(&[
        &url,
        "--info-hash",
        &hash,
        "--port",
        "7001",
        "--left",
        "100",
        "--event",
        "started",
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["type"], "announce_response");
    // opentracker lists the requester itself.
    assert!(
        v["peers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "127.0.0.1:7001"),
        "{v}"
    );
    let (code, v) = announce_example(&[&url, "--info-hash", &hash, "--scrape"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["files"][0]["incomplete"], 1, "{v}");
    // A hash outside the whitelist gets opentracker's 8-byte reply, which is not a valid
    // announce response: the client ignores it and times out (exit 2).
    let (code, v) = announce_example(&[&url, "--info-hash", &"cc".repeat(20), "--timeout", "2"]);
    assert_eq!(code, Some(2), "{v}");
}

#[test]
fn client_api_against_opentracker() {
    if !interop_enabled("client_api_against_opentracker") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_ot, port) = start_opentracker(&[[0xaa; 20], [0xbb; 20]]);
    let tracker = format!("127.0.0.1:{port}").parse().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let retry = RetryPolicy {
        initial_timeout: Duration::from_millis(500),
        backoff: 1,
        max_sends: 4,
    };
    let mut client = Client::<4>::new(ClientConfig::new(tracker).with_retry(retry), 77).unwrap();
    let start = std::time::Instant::now();
    let mut params = AnnounceParams::new(
        InfoHash(WHITELISTED),
        PeerId(*b"-TW0001-interop00001"),
        7100,
    );
    params.left = 5;
    let a = client.announce(Instant::ZERO, params).unwrap();
    let s = client
        .scrape(
            Instant::ZERO,
            &[InfoHash(WHITELISTED), InfoHash([0xbb; 20])],
        )
        .unwrap();
    let (mut keep_out, mut keep_in) = (|_: &[u8]| true, |_: &mut [u8]| true);
    let (done, stats) = run(
        &mut client,
        &socket,
        start,
        2,
        Duration::from_secs(10),
        Wire {
            keep_out: &mut keep_out,
            keep_in: &mut keep_in,
        },
    );
    assert_eq!(
        stats.connects, 1,
        "one connect serves both exchanges: {stats:?}"
    );
    for (id, outcome) in &done {
        match outcome {
            Outcome::Announced {
                peers, leechers, ..
            } if *id == a => {
                assert!(*leechers >= 1);
                assert!(peers.iter().any(|p| p.port() == 7100), "{peers:?}");
            }
            // The scrape may overtake the announce, so its counts are checked below.
            Outcome::Scraped(rows) if *id == s => {
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[0].0, InfoHash(WHITELISTED));
                assert_eq!(rows[1].0, InfoHash([0xbb; 20]));
            }
            other => panic!("{id:?}: {other:?}"),
        }
    }
    // Now that the announce is in, a scrape counts it, on the cached id.
    let t = Instant::from_millis(start.elapsed().as_millis() as u64);
    let s = client.scrape(t, &[InfoHash(WHITELISTED)]).unwrap();
    let (mut keep_out, mut keep_in) = (|_: &[u8]| true, |_: &mut [u8]| true);
    let (done, stats) = run(
        &mut client,
        &socket,
        start,
        1,
        Duration::from_secs(10),
        Wire {
            keep_out: &mut keep_out,
            keep_in: &mut keep_in,
        },
    );
    assert_eq!(stats.connects, 0, "the cached id was not used: {stats:?}");
    let [(id, Outcome::Scraped(rows))] = &done[..] else {
        panic!("{done:?}")
    };
    assert_eq!(*id, s);
    assert!(rows[0].1.incomplete >= 1, "{rows:?}");

    // A fresh client whose connect reply is altered on the way in: its announce carries
    // a connection id opentracker never issued, which opentracker answers with an error.
    let mut client = Client::<4>::new(ClientConfig::new(tracker).with_retry(retry), 78).unwrap();
    let start = std::time::Instant::now();
    let bad = client.announce(Instant::ZERO, params).unwrap();
    let mut keep_out = |_: &[u8]| true;
    let mut keep_in = |d: &mut [u8]| {
        if d.len() == 16 && d[..4] == [0, 0, 0, 0] {
            d[15] ^= 0xff; // the last byte of the connection id
        }
        true
    };
    let (done, _) = run(
        &mut client,
        &socket,
        start,
        1,
        Duration::from_secs(10),
        Wire {
            keep_out: &mut keep_out,
            keep_in: &mut keep_in,
        },
    );
    assert_eq!(done.len(), 1);
    let (id, Outcome::Failed(message)) = &done[0] else {
        panic!("{done:?}")
    };
    assert_eq!(*id, bad);
    assert_eq!(
        message, b"Connection ID missmatch.\0",
        "the message is kept exactly"
    );
    // The rejected id was dropped: the next announce connects again and succeeds.
    assert!(
        client.connection_id().is_none(),
        "the rejected id is still cached"
    );
    let t = Instant::from_millis(start.elapsed().as_millis() as u64);
    let again = client.announce(t, params).unwrap();
    let (mut keep_out, mut keep_in) = (|_: &[u8]| true, |_: &mut [u8]| true);
    let (done, stats) = run(
        &mut client,
        &socket,
        start,
        1,
        Duration::from_secs(10),
        Wire {
            keep_out: &mut keep_out,
            keep_in: &mut keep_in,
        },
    );
    assert_eq!(stats.connects, 1, "{stats:?}");
    assert!(
        matches!(&done[..], [(id, Outcome::Announced { .. })] if *id == again),
        "{done:?}"
    );
}
