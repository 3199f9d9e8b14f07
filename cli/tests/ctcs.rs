//! `trackwire ctcs serve` (the web console) against `trackwire ctcs simulate` over
//! loopback: the server is steered through its JSON API and its `--json-events` lines
//! are checked; the simulated ctorrent must answer every request consistently, follow
//! protocols 1, 2 and 3, authenticate, apply limits and options, reconnect, and exit 0
//! on `quit`. The flags: ranges refused with exit 64, a console beyond loopback without
//! a password refused, SIGTERM a clean stop. Then `trackwire ctcs check` against the
//! server (every check passes) and against a deliberately bad server (it must catch
//! it). No external program is needed.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use common::procs::{free_tcp_port, json_lines, tool, value_of, CtcsServer, Proc};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(10);

fn client(server: &str, extra: &[&str]) -> Proc {
    let mut cmd = tool(&["ctcs", "simulate"]);
    cmd.arg("--server").arg(server).args(extra);
    Proc::spawn("ctcs simulate", cmd)
}

/// A dnh3.3.2 text peer id (`-CD0303-0x` and hex digits) with the default `-CD0303-` prefix.
fn is_dnh_peer_id(text: &str) -> bool {
    text.starts_with("-CD0303-") && trackwire::ctcs::PeerIdText::parse(text.as_bytes()).is_some()
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer `{key}` in {v}"))
}

/// `POST /api/torrents/CONN/quit`: the client exits 0, the server reports the final
/// status, then `closed`, and the torrent leaves the API's list for its history.
fn quit(srv: &mut CtcsServer, cli: &mut Proc, conn: u64) {
    let m = srv.mark();
    srv.command(&format!("/api/torrents/{conn}/quit"), json!({}));
    let (_, after) = srv.wait_event(m, conn, "status", T);
    srv.wait_event(after, conn, "closed", T);
    assert_eq!(cli.finish(T), Some(0), "client log: {:?}", cli.lines());
    let (status, list) = srv.get("/api/torrents");
    assert_eq!(status, 200);
    assert!(
        list.as_array().unwrap().iter().all(|t| t["id"] != conn),
        "{list}"
    );
}

#[test]
fn protocol_3_every_request_and_command() {
    let mut srv = CtcsServer::start("127.0.0.1:0", &[]);
    let addr = srv.addr.clone();
    // Before any client: an empty list.
    assert_eq!(srv.get("/api/torrents"), (200, json!([])));
    let mut cli = client(
        &addr,
        &[
            "--peers", "4", "--files", "3", "--dlimit", "102400", "--ulimit", "51200",
        ],
    );

    // Identification and the first, unsolicited status.
    let (hello, after_hello) = srv.wait_event(0, 1, "hello", T);
    let peer_id = hello["peer_id"].as_str().unwrap().to_string();
    assert!(is_dnh_peer_id(&peer_id), "{hello}");
    assert_eq!(hello["filename"], "simulated.torrent");
    let start = int(&hello, "start_timestamp");
    assert!(start > 1_600_000_000, "{hello}");
    assert!(int(&hello, "current_timestamp") >= start, "{hello}");
    let (st, _) = srv.wait_event(after_hello, 1, "status", T);
    assert_eq!(st["protocol"], 3);
    assert_eq!(int(&st, "dl_limit"), 102_400);
    assert_eq!(int(&st, "ul_limit"), 51_200);
    let n_total = int(&st, "n_total");
    assert!(n_total > 0);
    assert_eq!(int(&st, "n_have"), n_total, "a seeder: {st}");
    assert_eq!(int(&st, "n_avail"), n_total);
    for key in [
        "total_seeders",
        "total_leechers",
        "connecting",
        "cache_used",
    ] {
        assert!(st.get(key).is_some(), "v3 status has {key}: {st}");
    }

    // The API lists it, by its name and peer id, with the limits it reported.
    let (status, list) = srv.get("/api/torrents");
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let t = &list[0];
    assert_eq!(t["id"], 1);
    assert_eq!(t["name"], "simulated.torrent");
    assert_eq!(t["peer_id"], peer_id.as_str());
    assert_eq!((int(t, "dl_limit"), int(t, "ul_limit")), (102_400, 51_200));
    assert_eq!(t["progress"], 1.0);
    assert_eq!(t["seeding"], true);

    // On identification the console asks for the options, the detail and the peers.
    // peers: as many as --peers, consistent with the status counts.
    let (done, _) = srv.wait_event(after_hello, 1, "peers_done", T);
    assert_eq!(done["items"], 4);
    let (_, peers_from) = srv.wait(after_hello, "the peers block", T, |v| v["event"] == "peer");
    let peers: Vec<Value> = srv
        .events_since(peers_from - 1)
        .into_iter()
        .take_while(|v| v["event"] != "peers_done")
        .filter(|v| v["event"] == "peer")
        .collect();
    assert_eq!(peers.len(), 4, "{peers:?}");
    let mut ids = BTreeSet::new();
    let mut seeds = 0;
    let mut ul_rates = 0;
    let mut ul_totals = 0;
    for p in &peers {
        let id = p["peer_id"].as_str().unwrap();
        assert!(is_dnh_peer_id(id), "{p}");
        ids.insert(id.to_string());
        p["address"].as_str().unwrap().parse::<Ipv4Addr>().unwrap();
        assert_eq!(p["choke_interest"].as_str().unwrap().len(), 4);
        let n = int(p, "n_pieces");
        assert!((0..=n_total).contains(&n), "{p}");
        seeds += i64::from(n == n_total);
        ul_rates += int(p, "ul_rate");
        ul_totals += int(p, "ul_total");
    }
    assert_eq!(ids.len(), 4, "distinct peer ids");
    assert_eq!(int(&st, "seeders"), seeds);
    assert_eq!(int(&st, "leechers"), 4 - seeds);
    assert_eq!(int(&st, "ul_rate"), ul_rates);
    assert_eq!(int(&st, "ul_total"), ul_totals);

    // detail: file sizes add up to the torrent size, pieces are consistent.
    let (detail, after_detail) = srv.wait_event(after_hello, 1, "detail", T);
    let (files_done, _) = srv.wait_event(after_detail, 1, "files_done", T);
    assert_eq!(files_done["items"], 3);
    let files: Vec<Value> = srv
        .events_since(after_detail)
        .into_iter()
        .take_while(|v| v["event"] != "files_done")
        .filter(|v| v["event"] == "file")
        .collect();
    assert_eq!(files.len(), 3);
    let size = int(&detail, "torrent_size");
    let piece = int(&detail, "piece_size");
    assert_eq!(files.iter().map(|f| int(f, "filesize")).sum::<i64>(), size);
    assert_eq!((size + piece - 1) / piece, n_total);
    for (i, f) in files.iter().enumerate() {
        assert_eq!(int(f, "fileno"), i as i64 + 1);
        let pieces = int(f, "n_pieces");
        assert!(pieces >= (int(f, "filesize") + piece - 1) / piece && pieces <= n_total);
        assert_eq!(int(f, "n_have"), pieces);
        assert_eq!(int(f, "n_available"), pieces);
        assert!(f.get("priority").is_some() && f.get("current_priority").is_some());
    }
    assert!(int(&detail, "current_timestamp") >= start);

    // config: the dnh3.3.2 v3 list.
    let (done, config_end) = srv.wait_event(after_hello, 1, "config_done", T);
    assert_eq!(done["items"], 13);
    let items = srv.config_items(after_hello, config_end);
    let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "verbose",
            "seed_time",
            "seed_ratio",
            "max_peers",
            "min_peers",
            "cache",
            "pause",
            "out_normal",
            "out_interact",
            "out_error",
            "out_debug",
            "input",
            "ctcs_server"
        ]
    );
    assert_eq!(value_of(&items, "max_peers"), "100");
    assert_eq!(value_of(&items, "ctcs_server"), addr);
    let (mp, _) = srv.wait(after_hello, "max_peers config", T, |v| {
        v["name"] == "max_peers"
    });
    assert_eq!(mp["value_type"], "I");
    assert_eq!(mp["range"], "20-1000");
    assert_eq!(mp["short_desc"], "Max peers [-M]");
    assert_eq!(mp["long_desc"], "Current peers: 4");

    // The details the API gives are those blocks.
    let (status, d) = srv.get("/api/torrents/1");
    assert_eq!(status, 200);
    assert_eq!(d["files"].as_array().unwrap().len(), 3, "{d}");
    assert_eq!(d["peers"].as_array().unwrap().len(), 4, "{d}");
    assert_eq!(int(&d["detail"], "torrent_size"), size);
    let max_peers = d["config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "max_peers")
        .unwrap_or_else(|| panic!("no max_peers in {d}"));
    assert_eq!(max_peers["value"], "100");

    // Limits and an option; the limits reach the client (SETDLIMIT, SETULIMIT), come
    // back in a CTBW, then in the status the console asks for, and in the API.
    let m = srv.mark();
    srv.command("/api/torrents/1/limits", json!({"dl_limit": 20480}));
    srv.command("/api/torrents/1/limits", json!({"ul_limit": 10240}));
    srv.command(
        "/api/torrents/1/config",
        json!({"name": "max_peers", "value": "50"}),
    );
    assert!(
        cli.wait_for("SETDLIMIT 20480: applied", T).is_some(),
        "{:?}",
        cli.lines()
    );
    let (bw, _) = srv.wait(m, "CTBW with the new limits", T, |v| {
        v["event"] == "bandwidth" && v["dl_limit"] == 20480 && v["ul_limit"] == 10240
    });
    assert!(int(&bw, "ul_rate") <= 10240, "{bw}");
    srv.wait(m, "a status with the new limits", T, |v| {
        v["event"] == "status" && v["dl_limit"] == 20480 && v["ul_limit"] == 10240
    });
    let (_, t) = srv.get("/api/torrents/1");
    assert_eq!((int(&t, "dl_limit"), int(&t, "ul_limit")), (20480, 10240));
    // The option change is followed by SENDCONF.
    let (_, end) = srv.wait(m, "the config list after the change", T, |v| {
        v["event"] == "config_done"
    });
    assert_eq!(value_of(&srv.config_items(m, end), "max_peers"), "50");

    // The seed rule: a higher download limit is ignored; bad options get a CTINFO 2.
    let m = srv.mark();
    srv.command("/api/torrents/1/limits", json!({"dl_limit": 40960}));
    srv.command(
        "/api/torrents/1/config",
        json!({"name": "max_peers", "value": "5"}),
    );
    srv.command(
        "/api/torrents/1/config",
        json!({"name": "no_such_option", "value": "1"}),
    );
    srv.wait(m, "CTINFO for max_peers 5", T, |v| {
        v["event"] == "info"
            && v["severity"] == 2
            && v["message"] == "Malformed or invalid input from CTCS: CTCONFIG max_peers 5"
    });
    srv.wait(m, "CTINFO for the unknown option", T, |v| {
        v["event"] == "info" && v["message"] == "Unknown config option no_such_option from CTCS"
    });
    let (st, _) = srv.wait_event(m, 1, "status", T);
    assert_eq!(int(&st, "dl_limit"), 20480, "40960 is not lower: ignored");

    // update and restart are accepted (no reply); bad values and unknown torrents are
    // refused by the API, and nothing reaches the client.
    srv.command("/api/torrents/1/update", json!({}));
    srv.command("/api/torrents/1/restart", json!({}));
    assert!(cli.wait_for("CTUPDATE", T).is_some(), "{:?}", cli.lines());
    assert!(cli.wait_for("CTRESTART", T).is_some(), "{:?}", cli.lines());
    assert_eq!(srv.post("/api/torrents/7/update", &json!({})).0, 404);
    assert_eq!(
        srv.post("/api/torrents/1/limits", &json!({"dl_limit": -1}))
            .0,
        400
    );
    assert_eq!(
        srv.post("/api/torrents/1/limits", &json!({"dl_limit": 1e20}))
            .0,
        422
    );

    quit(&mut srv, &mut cli, 1);
    // Terminated: in the history, by name.
    let (_, history) = srv.get("/api/history");
    assert_eq!(history[0]["name"], "simulated.torrent", "{history}");
    assert_eq!(history[0]["peer_id"], peer_id.as_str());
}

#[test]
fn password_right_and_wrong() {
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--password", "s3cret pw"]);
    let addr = srv.addr.clone();
    let mut good = client(&addr, &["--password", "s3cret pw"]);
    srv.wait_event(0, 1, "hello", T);
    srv.wait_event(0, 1, "status", T);

    // Connection 2: wrong password, refused and closed; no identity is accepted.
    let started = Instant::now();
    let mut bad = client(&addr, &["--password", "wrong"]);
    let (failed, _) = srv.wait_event(0, 2, "auth_failed", T);
    assert_eq!(failed["reason"], "wrong password");
    srv.wait_event(0, 2, "closed", T);
    // Like dnh3.3.2, the client comes back 5 s later with the same password.
    let (again, _) = srv.wait_event(0, 3, "auth_failed", T);
    assert_eq!(again["reason"], "wrong password");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(4500), "{elapsed:?}");
    let events = srv.events_since(0);
    assert!(
        !events
            .iter()
            .any(|v| v["conn"] != 1 && (v["event"] == "hello" || v["event"] == "status")),
        "{events:?}"
    );
    let (_, list) = srv.get("/api/torrents");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // Still retrying (dnh3.3.2 never gives up): killed here.
    assert_eq!(bad.finish(Duration::from_millis(200)), None);

    // The authenticated client is unaffected.
    let m = srv.mark();
    srv.command("/api/torrents/1/limits", json!({"ul_limit": 30000}));
    srv.wait(m, "a status with the new upload limit", T, |v| {
        v["conn"] == 1 && v["event"] == "status" && v["ul_limit"] == 30000
    });
    quit(&mut srv, &mut good, 1);
}

fn old_protocol(version: u64) {
    let v = version.to_string();
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--protocol", &v]);
    let addr = srv.addr.clone();
    let mut cli = client(&addr, &["--peers", "2", "--files", "2", "--ulimit", "8000"]);
    let (_, after_hello) = srv.wait_event(0, 1, "hello", T);

    // CTPEERS … CTPDONE, asked for on identification.
    let (done, _) = srv.wait_event(after_hello, 1, "peers_done", T);
    assert_eq!(done["items"], 2);

    // CTFILES … CTFDONE, with the fields of the version
    let (detail, after) = srv.wait_event(after_hello, 1, "detail", T);
    let (done, files_end) = srv.wait_event(after, 1, "files_done", T);
    assert_eq!(done["items"], 2);
    let files: Vec<Value> = srv
        .events_since(after)
        .into_iter()
        .take_while(|v| v["event"] != "files_done")
        .filter(|v| v["event"] == "file")
        .collect();
    assert!(files_end > after);
    assert_eq!(files.len(), 2);
    assert_eq!(
        files.iter().map(|f| int(f, "filesize")).sum::<i64>(),
        int(&detail, "torrent_size")
    );
    for f in &files {
        assert!(f.get("priority").is_none(), "{f}");
        assert_eq!(f.get("n_available").is_some(), version == 2, "{f}");
    }

    // One positional CTCONFIG line, reported as one config item.
    let (cfg, after) = srv.wait_event(after_hello, 1, "config", T);
    assert_eq!(cfg["maxpeers"], 100);
    assert_eq!(cfg["minpeers"], 1);
    assert_eq!(cfg["seedtime"], 72);
    assert_eq!(cfg.get("cache_size").is_some(), version == 2, "{cfg}");
    assert_eq!(cfg.get("soft_quit").is_some(), version == 1, "{cfg}");
    let (done, _) = srv.wait_event(after, 1, "config_done", T);
    assert_eq!(done["items"], 1);

    // Limits work; the status the console asks for after them is in the old form
    // (version 1: no tracker totals, connecting or cache).
    let m = srv.mark();
    srv.command("/api/torrents/1/limits", json!({"ul_limit": 4000}));
    srv.wait(m, "CTBW with ul_limit 4000", T, |v| {
        v["event"] == "bandwidth" && v["ul_limit"] == 4000
    });
    let (st, _) = srv.wait(m, "a status with ul_limit 4000", T, |v| {
        v["event"] == "status" && v["ul_limit"] == 4000
    });
    assert_eq!(st["protocol"], version);
    assert_eq!(st.get("total_seeders").is_some(), version == 2, "{st}");
    assert_eq!(st.get("cache_used").is_some(), version == 2, "{st}");

    quit(&mut srv, &mut cli, 1);
}

#[test]
fn protocol_1() {
    old_protocol(1);
}

#[test]
fn protocol_2() {
    old_protocol(2);
}

#[test]
fn status_poll() {
    let mut srv = CtcsServer::start("127.0.0.1:0", &["--status-interval", "1"]);
    let addr = srv.addr.clone();
    let mut cli = client(&addr, &[]);
    let (_, after) = srv.wait_event(0, 1, "hello", T);
    // The first status is unsolicited; two more come from the poll alone.
    let (_, after) = srv.wait_event(after, 1, "status", T);
    let polled = Instant::now();
    let (_, after) = srv.wait_event(after, 1, "status", T);
    srv.wait_event(after, 1, "status", T);
    assert!(
        polled.elapsed() >= Duration::from_millis(1500),
        "two polls, 1 s apart"
    );
    quit(&mut srv, &mut cli, 1);
}

#[test]
fn two_clients_at_once() {
    let mut srv = CtcsServer::start("127.0.0.1:0", &[]);
    let addr = srv.addr.clone();
    let mut a = client(&addr, &["--peers", "1"]);
    srv.wait_event(0, 1, "hello", T);
    let mut b = client(&addr, &["--peers", "5", "--torrent", "other.torrent"]);
    let (h, _) = srv.wait_event(0, 2, "hello", T);
    assert_eq!(h["filename"], "other.torrent");
    let (d2, _) = srv.wait_event(0, 2, "peers_done", T);
    let (d1, _) = srv.wait_event(0, 1, "peers_done", T);
    assert_eq!(
        (d1["items"].clone(), d2["items"].clone()),
        (1.into(), 5.into())
    );
    let (_, list) = srv.get("/api/torrents");
    let names: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["simulated.torrent", "other.torrent"])
    );
    quit(&mut srv, &mut b, 2);
    quit(&mut srv, &mut a, 1);
}

#[test]
fn client_retries_a_refused_connect_after_15_s() {
    let port = free_tcp_port("127.0.0.1");
    let listen = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let mut cli = client(&listen, &[]);
    assert!(
        cli.wait_for("cannot connect", T).is_some(),
        "{:?}",
        cli.lines()
    );
    let mut srv = CtcsServer::start(&listen, &[]);
    srv.wait_event(0, 1, "hello", Duration::from_secs(25));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(14) && elapsed < Duration::from_secs(25),
        "{elapsed:?}"
    );
    quit(&mut srv, &mut cli, 1);
}

/// `trackwire ctcs serve ARGS` with a scratch database, run to its end (it must end by
/// itself: these are refused).
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let db = std::env::temp_dir().join(format!("trackwire-refused-{}.sqlite3", std::process::id()));
    let mut cmd = tool(&["ctcs", "serve", "--db"]);
    cmd.arg(&db);
    if !args.contains(&"--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    cmd.args(args).env_remove("TRACKWIRE_WEB_PASSWORD");
    let out = cmd.output().unwrap();
    assert!(out.stdout.is_empty());
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn serve_refuses_bad_values_with_their_range() {
    for (args, expected) in [
        (
            &["--status-interval", "1e20"][..],
            "trackwire: --status-interval: `1e20` is not a number of seconds from 1s to 3600s",
        ),
        (
            &["--idle-timeout", "NaN"],
            "trackwire: --idle-timeout: `NaN` is not a number of seconds from 1s to 86400s",
        ),
        (
            &["--sniff-timeout", "-1"],
            "trackwire: --sniff-timeout: `-1` is not a number of seconds from 10ms to 60s",
        ),
        (
            &["--line-timeout", "0.01"],
            "trackwire: --line-timeout: 10ms is out of range (100ms to 3600s)",
        ),
        (
            &["--handshake-timeout", "7200"],
            "trackwire: --handshake-timeout: 7200s is out of range (100ms to 3600s)",
        ),
        (
            &["--idle-timeout", "10"],
            "trackwire: --idle-timeout: the idle timeout must be longer than the status interval",
        ),
        (
            &["--password", "123456789012345678901"],
            "trackwire: --password: a CTCS password is 1 to 20 bytes",
        ),
        (
            &["--max-connections", "0"],
            "trackwire: invalid value '0' for '--max-connections <N>': 0 is not in 1..=65536",
        ),
        (
            &["--protocol", "4"],
            "trackwire: invalid value '4' for '--protocol <N>': 4 is not in 1..=3",
        ),
        (
            &["--listen", "no-such-host.invalid:1"],
            "trackwire: --listen no-such-host.invalid:1: ",
        ),
        (&["--poll", "1"], "trackwire: unexpected argument '--poll'"),
    ] {
        let (code, err) = refused(args);
        assert_eq!(code, Some(64), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(expected), "{args:?}: {err}");
    }
}

#[test]
fn serve_beyond_loopback_needs_a_web_password() {
    let port = free_tcp_port("127.0.0.1");
    let web = format!("0.0.0.0:{port}");
    let (code, err) = refused(&["--web", &web]);
    assert_eq!(code, Some(64), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "trackwire: --web-password: the web console on {web} is reachable beyond loopback"
        )),
        "{err}"
    );
    // With a password (from the environment, off the command line) it starts, and the
    // API wants it.
    let mut cmd = tool(&[
        "ctcs",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--web",
        &web,
        "--db",
    ]);
    cmd.arg(common::procs::scratch("ctcs-web-pw").join("ctcs.sqlite3"))
        .env("TRACKWIRE_WEB_PASSWORD", "s3cret");
    let mut srv = Proc::spawn("ctcs serve --web", cmd);
    assert!(
        srv.wait_for("web console on", T).is_some(),
        "{:?}",
        srv.lines()
    );
    let local = format!("127.0.0.1:{port}");
    let (status, _) = common::procs::http(&local, "GET", "/api/torrents", None);
    assert_eq!(status, 401);
    srv.terminate();
    assert_eq!(srv.finish(T), Some(0), "{:?}", srv.lines());
}

#[test]
fn serve_stops_cleanly_on_sigterm_and_sigint() {
    for (name, stop) in [
        ("SIGTERM", Proc::terminate as fn(&Proc)),
        ("SIGINT", Proc::interrupt),
    ] {
        let mut srv = CtcsServer::start("127.0.0.1:0", &[]);
        let addr = srv.addr.clone();
        let mut cli = client(&addr, &[]);
        srv.wait_event(0, 1, "hello", T);
        stop(&srv.proc);
        assert_eq!(
            srv.proc.finish(T),
            Some(0),
            "{name}: {:?}",
            srv.proc.lines()
        );
        assert!(
            srv.proc.lines().iter().any(|l| l.starts_with("stopped (")),
            "{name}: {:?}",
            srv.proc.lines()
        );
        // The client lost its server and tries again, as dnh3.3.2 does.
        assert!(
            cli.wait_for("reconnecting", T).is_some(),
            "{name}: {:?}",
            cli.lines()
        );
    }
}

fn check(addr: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    json_lines(
        tool(&[
            "ctcs",
            "check",
            "--json",
            "--wait-ms",
            "1300",
            "--server",
            addr,
        ])
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
fn check_passes_our_server() {
    for (protocol, password) in [
        ("3", None),
        ("2", None),
        ("1", None),
        ("3", Some("s3cret pw")),
    ] {
        let port = free_tcp_port("127.0.0.1");
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = tool(&["ctcs", "serve"]);
        let db = common::procs::scratch(&format!("ctcs-check-{protocol}")).join("ctcs.sqlite3");
        cmd.args([
            "--listen",
            &addr,
            "--status-interval",
            "1",
            "--protocol",
            protocol,
        ]);
        cmd.arg("--db").arg(&db);
        if let Some(pw) = password {
            cmd.args(["--password", pw]);
        }
        let mut server = Proc::spawn("ctcs serve", cmd);
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
fn check_catches_a_bad_server() {
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
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
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

#[test]
fn check_of_a_closed_port_is_unreachable() {
    let port = free_tcp_port("127.0.0.1");
    let out = tool(&["ctcs", "check", "--server", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("trackwire: cannot connect to 127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn serve_accepts_a_host_name_and_refuses_a_busy_port() {
    let mut srv = CtcsServer::start("localhost:0", &[]);
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let mut cli = client(&format!("localhost:{port}"), &[]);
    let (hello, _) = srv.wait(0, "hello", T, |v| v["event"] == "hello");
    quit(&mut srv, &mut cli, hello["conn"].as_u64().unwrap());
    // The port is taken now: exit 1 and one line.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let db = common::procs::scratch("ctcs-busy").join("ctcs.sqlite3");
    let out = tool(&["ctcs", "serve", "--listen", &addr, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("trackwire: cannot listen on {addr}")),
        "{err}"
    );
}
