//! Real BitTorrent clients against `examples/tracker`: python3-libtorrent over IPv4 and
//! IPv6 (announce, peers, scrape, a download from the peer handed out), aria2c (downloads
//! from a libtorrent seeder it can only have found through our tracker) and
//! transmission-cli (takes that seeder from our reply). Runs when `TRACKWIRE_INTEROP=1` (set by `.ci/run`, which
//! installs the programs); otherwise each test says loudly that it was skipped.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::procs::{
    free_tcp_port, free_udp_port, interop_enabled, require, scratch, start_tracker, wait_for_file,
    Proc,
};

const PYTHON: &str = "/usr/bin/python3";

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
        .display()
        .to_string()
}

fn libtorrent_two_sessions(host: &str) {
    let port = free_udp_port(host);
    let bind = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut tracker = start_tracker(&[bind], &["--interval", "5"]);
    let dir = scratch(&format!("lt-{}", host.replace(':', "_")));
    let mut py = Proc::spawn("libtorrent", {
        let mut c = Command::new(PYTHON);
        c.arg(script("libtorrent_peers.py"))
            .arg(host)
            .arg(port.to_string())
            .arg(host)
            .arg(&dir);
        c
    });
    let code = py.finish(Duration::from_secs(100));
    let out = py.lines().join("\n");
    assert_eq!(
        code,
        Some(0),
        "libtorrent checks failed:\n{out}\ntracker:\n{}",
        tracker.lines().join("\n")
    );
    for check in [
        "second announcer received",
        "on re-announce",
        "PASS scrape",
        "download completed",
    ] {
        assert!(out.contains(check), "missing `{check}` in:\n{out}");
    }
    eprintln!("{out}");
}

#[test]
fn libtorrent_ipv4() {
    if !interop_enabled("libtorrent_ipv4") {
        return;
    }
    require("python3");
    libtorrent_two_sessions("127.0.0.1");
}

#[test]
fn libtorrent_ipv6() {
    if !interop_enabled("libtorrent_ipv6") {
        return;
    }
    libtorrent_two_sessions("::1");
}

/// A libtorrent seeder announced to a fresh tracker; returns (tracker, seeder, workdir).
fn seeded(name: &str) -> (Proc, Proc, std::path::PathBuf) {
    let port = free_udp_port("127.0.0.1");
    let tracker = start_tracker(&[format!("127.0.0.1:{port}")], &["--interval", "5"]);
    let dir = scratch(name);
    let seed_dir = dir.join("seed");
    let mut seeder = Proc::spawn("seeder", {
        let mut c = Command::new(PYTHON);
        c.arg(script("libtorrent_seed.py"))
            .arg(format!("udp://127.0.0.1:{port}/announce"))
            .arg(&seed_dir)
            .arg(free_tcp_port("127.0.0.1").to_string());
        c
    });
    assert!(
        seeder.wait_for("ready", Duration::from_secs(30)).is_some(),
        "seeder never announced: {:?}",
        seeder.lines()
    );
    (tracker, seeder, dir)
}

fn payload() -> Vec<u8> {
    (0..=255u8).cycle().take(65536).collect()
}

#[test]
fn aria2c_downloads_from_the_peer_we_hand_out() {
    if !interop_enabled("aria2c") {
        return;
    }
    let aria2 = require("aria2c");
    let (mut tracker, _seeder, dir) = seeded("aria2");
    let dl = dir.join("aria2-dl");
    std::fs::create_dir_all(&dl).unwrap();
    // aria2 speaks UDP trackers only from its DHT socket (see shared/spec/real-peers.md).
    let mut client = Proc::spawn("aria2c", {
        let mut c = Command::new(aria2);
        c.arg(format!("--dir={}", dl.display()))
            .arg("--enable-dht=true")
            .arg(format!("--dht-file-path={}", dir.join("dht.dat").display()))
            .arg(format!(
                "--dht-file-path6={}",
                dir.join("dht6.dat").display()
            ))
            .arg("--enable-dht6=false")
            .arg("--bt-enable-lpd=false")
            .arg("--enable-peer-exchange=false")
            .arg(format!("--listen-port={}", free_tcp_port("127.0.0.1")))
            .arg(format!("--dht-listen-port={}", free_udp_port("127.0.0.1")))
            .arg("--seed-time=0")
            .arg("--console-log-level=warn")
            .arg(dir.join("seed/payload.torrent"));
        c
    });
    let ok = wait_for_file(&dl.join("payload.bin"), &payload(), Duration::from_secs(60));
    let code = client.finish(Duration::from_secs(20));
    let log = tracker.lines().join("\n");
    assert!(
        ok,
        "aria2c did not download the payload; tracker log:\n{log}\naria2c: {:?}",
        client.lines()
    );
    assert!(
        log.contains("100 bytes: announce"),
        "no 100-byte aria2 announce in:\n{log}"
    );
    eprintln!("aria2c exited with {code:?}; tracker saw:\n{log}");
}

/// transmission-cli 3.00 takes the peer from our reply ("Got 1 peers from tracker") but,
/// on loopback, never opens a connection to it (with the seeder on 127.0.0.1 or on
/// 127.0.0.2 alike), so this test checks what it reports about our replies rather than
/// a download.
#[test]
fn transmission_cli_takes_the_peer_we_hand_out() {
    if !interop_enabled("transmission-cli") {
        return;
    }
    let tr = require("transmission-cli");
    let (mut tracker, _seeder, dir) = seeded("transmission");
    let cfg = dir.join("tr-config");
    let dl = dir.join("tr-dl");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::create_dir_all(&dl).unwrap();
    let peer_port = free_tcp_port("127.0.0.1");
    std::fs::write(
        cfg.join("settings.json"),
        format!(
            r#"{{"dht-enabled":false,"lpd-enabled":false,"pex-enabled":false,"port-forwarding-enabled":false,"utp-enabled":false,"peer-port":{peer_port},"bind-address-ipv4":"127.0.0.1","bind-address-ipv6":"::1","message-level":3,"rpc-enabled":false}}"#
        ),
    )
    .unwrap();
    let mut client = Proc::spawn("transmission-cli", {
        let mut c = Command::new(tr);
        c.arg("-g")
            .arg(&cfg)
            .arg("-w")
            .arg(&dl)
            .arg("-p")
            .arg(peer_port.to_string())
            .arg(dir.join("seed/payload.torrent"));
        c
    });
    // transmission-cli announces `stopped` first and `started` a second later; the
    // second reply carries the seeder.
    let got = client.wait_for("Got 1 peers from tracker", Duration::from_secs(30));
    client.interrupt();
    client.finish(Duration::from_secs(10));
    let log = tracker.lines().join("\n");
    assert!(
        got.is_some(),
        "transmission-cli never took a peer from our reply; tracker log:\n{log}"
    );
    assert!(
        log.contains(" 98 bytes: announce"),
        "no 98-byte transmission announce in:\n{log}"
    );
    assert!(
        log.contains("event=stopped left=65536 num_want=0"),
        "transmission's start-up `stopped` was not seen:\n{log}"
    );
    eprintln!("tracker saw:\n{log}");
}
