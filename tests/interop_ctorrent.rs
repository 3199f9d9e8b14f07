//! Interop with the real client: Debian's Enhanced CTorrent dnh3.3.2 (`ctorrent`),
//! seeding a small torrent made with `ctorrent -t`, connects with `-S` to
//! `examples/ctcs_server`. The tests ask for status, detail, peers and config, set both
//! limits and `max_peers`, see the changes reported back, and quit it; with a password
//! (`-S host:port:` and the password on ctorrent's stdin) a right one is accepted and a
//! wrong one refused. At protocols 1 and 2 the same requests are answered in the old
//! forms.
//!
//! Gated: they run only with `TRACKWIRE_INTEROP=1` (as `.ci/run` does, after installing
//! `ctorrent`); otherwise each says loudly that it was skipped. The tracker URL in the
//! torrent is unreachable on purpose (no tracker is needed): ctorrent then exits at once
//! on `CTQUIT`, without the final `CTSTATUS` (spec §9).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::procs::{free_tcp_port, interop_enabled, require, scratch, value_of, CtcsServer, Proc};
use serde_json::Value;

const T: Duration = Duration::from_secs(10);
const PAYLOAD_LEN: usize = 300_000;
const PIECE_LEN: i64 = 262_144;

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer `{key}` in {v}"))
}

/// A scratch directory with `payload.bin` and `x.torrent` made by `ctorrent -t`.
fn torrent(name: &str) -> PathBuf {
    let dir = scratch(name);
    let payload: Vec<u8> = (0..PAYLOAD_LEN)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("payload.bin"), payload).unwrap();
    let mut cmd = Command::new(require("ctorrent"));
    cmd.current_dir(&dir).args([
        "-t",
        "-u",
        "http://127.0.0.1:1/announce",
        "-s",
        "x.torrent",
        "payload.bin",
    ]);
    let mut make = Proc::spawn("ctorrent -t", cmd);
    assert_eq!(make.finish(T), Some(0), "ctorrent -t: {:?}", make.lines());
    assert!(dir.join("x.torrent").is_file());
    dir
}

/// `ctorrent -S SERVER -D 100 -U 50 -f x.torrent` seeding from `dir`; `password` is
/// written to its stdin (for `-S host:port:`).
fn ctorrent(dir: &Path, server: &str, password: Option<&str>) -> Proc {
    let port = free_tcp_port("127.0.0.1").to_string();
    let mut cmd = Command::new(require("ctorrent"));
    cmd.current_dir(dir).args([
        "-v",
        "-S",
        server,
        "-D",
        "100",
        "-U",
        "50",
        "-i",
        "127.0.0.1",
        "-p",
        &port,
        "-f",
        "x.torrent",
    ]);
    match password {
        Some(pw) => Proc::spawn_with_input("ctorrent", cmd, &format!("{pw}\n")),
        None => Proc::spawn("ctorrent", cmd),
    }
}

/// `N quit`: ctorrent exits 0 and the server reports `closed`.
fn quit(srv: &mut CtcsServer, ct: &mut Proc, conn: u64) {
    let m = srv.mark();
    srv.send(&format!("{conn} quit"));
    srv.wait_event(m, conn, "closed", Duration::from_secs(20));
    assert_eq!(
        ct.finish(Duration::from_secs(20)),
        Some(0),
        "ctorrent: {:?}",
        ct.lines()
    );
}

#[test]
fn ctorrent_status_detail_peers_config_limits_quit() {
    if !interop_enabled("ctorrent_status_detail_peers_config_limits_quit") {
        return;
    }
    let started = Instant::now();
    let dir = torrent("ctcs-session");
    let mut srv = CtcsServer::start("127.0.0.1:0", &[]);
    let addr = srv.addr.clone();
    let mut ct = ctorrent(&dir, &addr, None);

    // PROTOCOL 0003, CTORRENT, CTSTATUS on connect.
    let (hello, after) = srv.wait_event(0, 1, "hello", T);
    let peer_id = hello["peer_id"].as_str().unwrap().to_string();
    assert!(peer_id.starts_with("-CD0303-"), "{hello}");
    assert!(trackwire::ctcs::peer_id::parse(peer_id.as_bytes()).is_some());
    assert_eq!(hello["filename"], "x.torrent");
    assert_eq!(
        int(&hello, "start_timestamp"),
        int(&hello, "current_timestamp")
    );
    let (first, _) = srv.wait_event(after, 1, "status", T);
    assert_eq!(first["protocol"], 3);
    // -D 100 -U 50 are KB/s; CTCS speaks bytes/s.
    assert_eq!(int(&first, "dl_limit"), 102_400, "{first}");
    assert_eq!(int(&first, "ul_limit"), 51_200, "{first}");

    let m = srv.mark();
    srv.send("list");
    let (c, _) = srv.wait_event(m, 1, "client", T);
    assert_eq!(c["peer_id"], peer_id.as_str());
    assert_eq!(
        (c["protocol"].clone(), c["announced"].clone()),
        (3.into(), 3.into())
    );

    let n_total = (PAYLOAD_LEN as i64 + PIECE_LEN - 1) / PIECE_LEN;
    let m = srv.mark();
    srv.send("1 status");
    let (st, _) = srv.wait_event(m, 1, "status", T);
    assert_eq!(int(&st, "n_total"), n_total, "{st}");
    assert_eq!(int(&st, "n_have"), n_total, "seeding (-f): {st}");

    let m = srv.mark();
    srv.send("1 detail");
    let (detail, after) = srv.wait_event(m, 1, "detail", T);
    assert_eq!(int(&detail, "torrent_size"), PAYLOAD_LEN as i64);
    assert_eq!(int(&detail, "piece_size"), PIECE_LEN);
    assert!(int(&detail, "seed_timestamp") > 0, "a seed: {detail}");
    let (file, after) = srv.wait_event(after, 1, "file", T);
    assert_eq!(file["filename"], "payload.bin");
    assert_eq!(int(&file, "filesize"), PAYLOAD_LEN as i64);
    assert_eq!(int(&file, "n_pieces"), n_total);
    assert_eq!(int(&file, "n_have"), n_total);
    let (done, _) = srv.wait_event(after, 1, "files_done", T);
    assert_eq!(done["items"], 1);

    // Nobody else is in the swarm: an empty peer block.
    let m = srv.mark();
    srv.send("1 peers");
    let (done, _) = srv.wait_event(m, 1, "peers_done", T);
    assert_eq!(done["items"], 0);

    let m = srv.mark();
    srv.send("1 config");
    let (done, end) = srv.wait_event(m, 1, "config_done", T);
    let items = srv.config_items(m, end);
    assert_eq!(done["items"], items.len() as u64);
    assert_eq!(items.first().map(|(n, _)| n.as_str()), Some("verbose"));
    assert_eq!(value_of(&items, "max_peers"), "100");
    assert_eq!(value_of(&items, "ctcs_server"), addr);
    let (mp, _) = srv.wait(m, "max_peers item", T, |v| v["name"] == "max_peers");
    assert_eq!(
        (mp["value_type"].clone(), mp["range"].clone()),
        ("I".into(), "20-1000".into())
    );

    // Lower limits (a seeding dnh3.3.2 only takes a lower download limit) and an option.
    let m = srv.mark();
    srv.send("1 dlimit 20480");
    srv.send("1 ulimit 10240");
    srv.send("1 set max_peers 50");
    srv.wait(m, "CTBW with 20480,10240", T, |v| {
        v["conn"] == 1
            && v["event"] == "bandwidth"
            && v["dl_limit"] == 20480
            && v["ul_limit"] == 10240
    });
    let m = srv.mark();
    srv.send("1 status");
    let (st, _) = srv.wait_event(m, 1, "status", T);
    assert_eq!((int(&st, "dl_limit"), int(&st, "ul_limit")), (20480, 10240));
    let m = srv.mark();
    srv.send("1 config");
    let (_, end) = srv.wait_event(m, 1, "config_done", T);
    assert_eq!(value_of(&srv.config_items(m, end), "max_peers"), "50");

    // A higher download limit is ignored while seeding; a bad value gets a CTINFO 2.
    let m = srv.mark();
    srv.send("1 dlimit 40960");
    srv.send("1 set max_peers 5");
    srv.wait(m, "CTINFO 2 for max_peers 5", T, |v| {
        v["event"] == "info"
            && v["severity"] == 2
            && v["message"] == "Malformed or invalid input from CTCS: CTCONFIG max_peers 5"
    });
    let m = srv.mark();
    srv.send("1 status");
    let (st, _) = srv.wait_event(m, 1, "status", T);
    assert_eq!(int(&st, "dl_limit"), 20480, "{st}");

    quit(&mut srv, &mut ct, 1);
    eprintln!("ctorrent session: {:?}", started.elapsed());
}

#[test]
fn ctorrent_right_password_is_accepted() {
    if !interop_enabled("ctorrent_right_password_is_accepted") {
        return;
    }
    let dir = torrent("ctcs-auth-ok");
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--password", "s3cret pw"]);
    let server = format!("{}:", srv.addr);
    let mut ct = ctorrent(&dir, &server, Some("s3cret pw"));
    let (hello, _) = srv.wait_event(0, 1, "hello", T);
    assert_eq!(hello["filename"], "x.torrent");
    let m = srv.mark();
    srv.send("1 status");
    let (st, _) = srv.wait_event(m, 1, "status", T);
    assert_eq!(int(&st, "ul_limit"), 51_200);
    assert!(srv
        .events_since(0)
        .iter()
        .all(|v| v["event"] != "auth_failed"));
    quit(&mut srv, &mut ct, 1);
}

#[test]
fn ctorrent_wrong_password_is_refused() {
    if !interop_enabled("ctorrent_wrong_password_is_refused") {
        return;
    }
    let dir = torrent("ctcs-auth-bad");
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--password", "s3cret pw"]);
    let server = format!("{}:", srv.addr);
    let started = Instant::now();
    let mut ct = ctorrent(&dir, &server, Some("wrong"));
    let (failed, _) = srv.wait_event(0, 1, "auth_failed", T);
    assert_eq!(failed["reason"], "wrong password");
    srv.wait_event(0, 1, "closed", T);
    // dnh3.3.2 ignores ERROR and reconnects 5 s after the close, with the same password.
    let again = srv.try_wait(0, T, |v| v["conn"] == 2 && v["event"] == "auth_failed");
    let Some((again, _)) = again else {
        panic!(
            "no reconnection within {T:?}\nserver: {:#?}\nctorrent: {:#?}",
            srv.proc.lines(),
            ct.lines()
        );
    };
    assert_eq!(again["reason"], "wrong password");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(4500), "{elapsed:?}");
    let events = srv.events_since(0);
    assert!(
        events
            .iter()
            .all(|v| v["event"] != "hello" && v["event"] != "status"),
        "{events:?}"
    );
    // Still retrying, forever: killed here.
    assert_eq!(ct.finish(Duration::from_millis(200)), None);
}

/// ctorrent at a lower version: it opens with v3 lines (before our `PROTOCOL` arrives),
/// then answers in the old forms.
fn ctorrent_old_protocol(version: u64) {
    let dir = torrent(&format!("ctcs-v{version}"));
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--protocol", &version.to_string()]);
    let addr = srv.addr.clone();
    let mut ct = ctorrent(&dir, &addr, None);
    srv.wait_event(0, 1, "hello", T);

    let m = srv.mark();
    srv.send("1 status");
    let (st, _) = srv.wait(m, "an old-form status", T, |v| {
        v["event"] == "status" && v["protocol"] == version
    });
    assert_eq!(st.get("total_seeders").is_some(), version == 2, "{st}");
    assert_eq!(int(&st, "ul_limit"), 51_200);

    let m = srv.mark();
    srv.send("1 detail");
    let (file, after) = srv.wait_event(m, 1, "file", T);
    assert_eq!(file["filename"], "payload.bin");
    assert!(file.get("priority").is_none(), "{file}");
    assert_eq!(file.get("n_available").is_some(), version == 2, "{file}");
    let (done, _) = srv.wait_event(after, 1, "files_done", T);
    assert_eq!(done["items"], 1);

    let m = srv.mark();
    srv.send("1 peers");
    let (done, _) = srv.wait_event(m, 1, "peers_done", T);
    assert_eq!(done["items"], 0);

    // SENDCONF is safe; only the server's positional CTCONFIG crashes dnh3.3.2.
    let m = srv.mark();
    srv.send("1 config");
    let (cfg, after) = srv.wait_event(m, 1, "config", T);
    assert_eq!(cfg["maxpeers"], 100, "{cfg}");
    assert_eq!(cfg["seedtime"], 72, "{cfg}");
    assert_eq!(cfg.get("cache_size").is_some(), version == 2, "{cfg}");
    let (done, _) = srv.wait_event(after, 1, "config_done", T);
    assert_eq!(done["items"], 1);

    let m = srv.mark();
    srv.send("1 ulimit 10240");
    srv.wait(m, "CTBW with ul_limit 10240", T, |v| {
        v["event"] == "bandwidth" && v["ul_limit"] == 10240
    });
    quit(&mut srv, &mut ct, 1);
}

#[test]
fn ctorrent_protocol_1() {
    if interop_enabled("ctorrent_protocol_1") {
        ctorrent_old_protocol(1);
    }
}

#[test]
fn ctorrent_protocol_2() {
    if interop_enabled("ctorrent_protocol_2") {
        ctorrent_old_protocol(2);
    }
}
