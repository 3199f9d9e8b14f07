//! Interop: the tool and the library against real programs (Debian's opentracker,
//! ctorrent, python3-libtorrent, aria2, transmission-cli). Tests that need a program are
//! `#[ignore]`d with the program named, so that a run without it reports them as
//! ignored rather than passed; `.ci/run` installs them and runs
//! `cargo test -p trackwire-cli -- --include-ignored`. The lossy-loopback tests need no
//! other program and always run.

mod common;

/// One opentracker at a time: two instances started together interfere (they share the
/// test process's scratch directory, whitelist included).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

mod check {
    //! `trackwire check` against Debian's opentracker: exactly its known deviations (the
    //! requester in its own peer list, a 33-byte error reply to a 16-byte datagram with
    //! a bad connection id, and, as a whitelist build, no answer for a random info hash,
    //! so that the fake-peer check cannot be made).

    use crate::common::procs::{json_lines, start_opentracker, tool};
    use serde_json::Value;

    fn check(url: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
        json_lines(
            tool(&["check"])
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
    #[ignore = "interop: needs opentracker; run with --ignored (.ci/run does)"]
    fn opentracker_shows_exactly_its_known_deviations() {
        let _one = crate::ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
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
                ("fake_peers".to_string(), "WARN".to_string()),
                ("amplification".to_string(), "FAIL".to_string())
            ],
            "{report}"
        );
        assert_eq!(code, Some(1));
    }
}

mod opentracker {
    //! `trackwire announce` and the `udp::Client` API against Debian's opentracker: connect,
    //! announce, scrape, and the error reply to a bad connection id (after which the client
    //! must drop the id and reconnect).

    use std::net::UdpSocket;
    use std::time::Duration;

    use crate::common::driver::{run, Outcome, Wire};
    use crate::common::procs::{start_opentracker, tool};
    use trackwire::udp::{AnnounceParams, Client, ClientConfig, InfoHash, PeerId, RetryPolicy};
    use trackwire::{Instant, StdClock};

    const WHITELISTED: [u8; 20] = [0xaa; 20];

    use crate::ONE_AT_A_TIME;

    fn announce_tool(args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = tool(&["announce", "--json"]).args(args).output().unwrap();
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
    #[ignore = "interop: needs opentracker; run with --ignored (.ci/run does)"]
    fn announce_against_opentracker() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let (_ot, port) = start_opentracker(&[[0xaa; 20], [0xbb; 20]]);
        let url = format!("udp://127.0.0.1:{port}/announce");
        let hash = "aa".repeat(20);
        let (code, v) = announce_tool(&[
            &url,
            "--info-hash",
            &hash,
            "--port",
            "7001",
            "--left",
            "100",
        ]);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["trackers"][0]["status"], "working", "{v}");
        assert_eq!(v["trackers"][0]["leechers"], 1, "{v}");
        // opentracker lists the requester itself.
        assert_eq!(v["peers"], serde_json::json!(["127.0.0.1:7001"]), "{v}");
        let (code, v) = announce_tool(&[&url, "--info-hash", &hash, "--scrape"]);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["files"][0]["incomplete"], 1, "{v}");
        // A hash outside the whitelist gets opentracker's 8-byte reply (action 1 and the
        // transaction id): it ends the exchange at once, as the tracker's answer, and the
        // tracker shows as not working with the decode error (exit 2), long before the
        // 20 s timeout.
        let start = std::time::Instant::now();
        let (code, v) = announce_tool(&[&url, "--info-hash", &"cc".repeat(20), "--timeout", "20"]);
        assert!(start.elapsed() < Duration::from_secs(10), "{v}");
        assert_eq!(code, Some(2), "{v}");
        assert_eq!(v["trackers"][0]["status"], "not_working", "{v}");
        let message = v["trackers"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("malformed reply: "), "{v}");
    }

    /// The `info` dictionary of the interop torrent, and its info hash.
    fn interop_torrent_info() -> (bt_bencode::Value, [u8; 20]) {
        use sha1::Digest;
        let mut info = std::collections::BTreeMap::new();
        info.insert("length", bt_bencode::Value::from(4096));
        info.insert("name", bt_bencode::Value::from("interop.bin"));
        info.insert("piece length", bt_bencode::Value::from(16384));
        info.insert(
            "pieces",
            bt_bencode::Value::ByteStr(bt_bencode::ByteString::from(vec![0x11u8; 20])),
        );
        let info = bt_bencode::Value::from(info);
        let hash = sha1::Sha1::digest(bt_bencode::to_vec(&info).unwrap()).into();
        (info, hash)
    }

    /// The issue's interop: one torrent whose tiers are `[a silent UDP socket,
    /// opentracker]` and `[trackwire tracker on ::1]`. The announcer marks the silent
    /// tracker not working after its timeout, reaches both working trackers, and merges
    /// their peers: each tracker was first told of a different peer.
    #[test]
    #[ignore = "interop: needs opentracker; .ci/run runs --include-ignored"]
    fn announce_a_torrent_over_tiers_with_opentracker_and_our_tracker_on_ipv6() {
        use crate::common::procs::{free_udp_port, start_tracker};
        use serde_json::json;

        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let (info, hash) = interop_torrent_info();
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let silent_url = format!("udp://{}", silent.local_addr().unwrap());
        let (_ot, ot_port) = start_opentracker(&[hash]);
        let ot_url = format!("udp://127.0.0.1:{ot_port}/announce");
        let tw_port = free_udp_port("::1");
        let _tw = start_tracker(&[format!("[::1]:{tw_port}")], &[]);
        let tw_url = format!("udp://[::1]:{tw_port}");

        let mut torrent = std::collections::BTreeMap::new();
        torrent.insert(
            "announce-list",
            bt_bencode::Value::from(vec![
                bt_bencode::Value::from(vec![
                    bt_bencode::Value::from(silent_url.as_str()),
                    bt_bencode::Value::from(ot_url.as_str()),
                ]),
                bt_bencode::Value::from(vec![bt_bencode::Value::from(tw_url.as_str())]),
            ]),
        );
        torrent.insert("info", info);
        let dir = crate::common::procs::scratch("interop-torrent");
        let file = dir.join("interop.torrent");
        std::fs::write(
            &file,
            bt_bencode::to_vec(&bt_bencode::Value::from(torrent)).unwrap(),
        )
        .unwrap();
        let file = file.to_str().unwrap();

        // A different peer into each tracker first.
        for (url, port) in [(&ot_url, "7201"), (&tw_url, "7202")] {
            let (code, v) =
                announce_tool(&[url, "--info-hash", &hex, "--port", port, "--left", "1"]);
            assert_eq!(code, Some(0), "{v}");
        }

        // Every tracker (--mode all): the table, as people see it.
        let start = std::time::Instant::now();
        let out = tool(&[
            "announce",
            file,
            "--mode",
            "all",
            "--timeout",
            "2",
            "--port",
            "7300",
        ])
        .output()
        .unwrap();
        let took = start.elapsed();
        let table = String::from_utf8(out.stdout).unwrap();
        eprintln!("trackwire announce {file} --mode all --timeout 2 --port 7300\n{table}");
        assert_eq!(out.status.code(), Some(0), "{table}");
        assert!(took >= Duration::from_millis(1900), "{took:?}");
        let row = |url: &str| {
            table
                .lines()
                .find(|l| l.contains(url))
                .unwrap_or_else(|| panic!("no row for {url}: {table}"))
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        assert_eq!(row(&silent_url)[..2], ["0", "not_working"], "{table}");
        assert!(
            table.contains(&format!("timed out ({})", &silent_url[6..])),
            "{table}"
        );
        assert_eq!(row(&ot_url)[..2], ["0", "working"], "{table}");
        assert_eq!(row(&tw_url)[..2], ["1", "working"], "{table}");
        for peer in ["127.0.0.1:7201", "[::1]:7202"] {
            assert!(table.lines().any(|l| l.trim() == peer), "{peer}: {table}");
        }

        // The same as one JSON object.
        let (code, v) = announce_tool(&[file, "--mode", "all", "--timeout", "2", "--port", "7301"]);
        assert_eq!(code, Some(0), "{v}");
        let rows: Vec<(serde_json::Value, serde_json::Value, serde_json::Value)> = v["trackers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["url"].clone(), t["tier"].clone(), t["status"].clone()))
            .collect();
        assert_eq!(
            rows,
            [
                (json!(silent_url), json!(0), json!("not_working")),
                (json!(ot_url), json!(0), json!("working")),
                (json!(tw_url), json!(1), json!("working")),
            ],
            "{v}"
        );
        let peers = v["peers"].as_array().unwrap();
        for peer in ["127.0.0.1:7201", "[::1]:7202"] {
            assert!(peers.iter().any(|p| p == peer), "{peer}: {v}");
        }

        // One tracker per tier (--mode all-tiers): tier 0 is shuffled, so the silent
        // socket is either tried first and fails, or never reached; opentracker and the
        // IPv6 tracker answer either way, and both peers are merged.
        let (code, v) = announce_tool(&[
            file,
            "--mode",
            "all-tiers",
            "--timeout",
            "2",
            "--port",
            "7302",
        ]);
        assert_eq!(code, Some(0), "{v}");
        let status = |i: usize| v["trackers"][i]["status"].as_str().unwrap().to_string();
        assert!(
            ["not_working", "not_contacted"].contains(&status(0).as_str()),
            "{v}"
        );
        assert_eq!(
            (status(1), status(2)),
            ("working".into(), "working".into()),
            "{v}"
        );
        let peers = v["peers"].as_array().unwrap();
        for peer in ["127.0.0.1:7201", "[::1]:7202"] {
            assert!(peers.iter().any(|p| p == peer), "{peer}: {v}");
        }
    }

    #[test]
    #[ignore = "interop: needs opentracker; run with --ignored (.ci/run does)"]
    fn client_api_against_opentracker() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let (_ot, port) = start_opentracker(&[[0xaa; 20], [0xbb; 20]]);
        let tracker = format!("127.0.0.1:{port}").parse().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let retry = RetryPolicy {
            initial_timeout: Duration::from_millis(500),
            backoff: 1,
            max_sends: 4,
        };
        let mut client =
            Client::<4>::new_sized(ClientConfig::new(tracker).with_retry(retry), 77).unwrap();
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
        let t = StdClock::with_origin(start).now();
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
        let mut client =
            Client::<4>::new_sized(ClientConfig::new(tracker).with_retry(retry), 78).unwrap();
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
        let t = StdClock::with_origin(start).now();
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
}

mod tracker {
    //! Real BitTorrent clients against `trackwire tracker`: python3-libtorrent over IPv4 and
    //! IPv6 (announce, peers, scrape, a download from the peer handed out), aria2c (downloads
    //! from a libtorrent seeder it can only have found through our tracker) and
    //! transmission-cli (takes that seeder from our reply).

    use std::path::Path;
    use std::process::Command;
    use std::time::Duration;

    use crate::common::procs::{
        free_tcp_port, free_udp_port, require, scratch, start_tracker, wait_for_file, Proc,
    };

    const PYTHON: &str = "/usr/bin/python3";

    fn script(name: &str) -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/interop")
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
        let mut tracker = start_tracker(&[bind], &["--interval", "5", "--log-requests"]);
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
    #[ignore = "interop: needs python3-libtorrent; run with --ignored (.ci/run does)"]
    fn libtorrent_ipv4() {
        require("python3");
        libtorrent_two_sessions("127.0.0.1");
    }

    #[test]
    #[ignore = "interop: needs python3-libtorrent; run with --ignored (.ci/run does)"]
    fn libtorrent_ipv6() {
        libtorrent_two_sessions("::1");
    }

    /// A libtorrent seeder announced to a fresh tracker; returns (tracker, seeder, workdir).
    fn seeded(name: &str) -> (Proc, Proc, std::path::PathBuf) {
        let port = free_udp_port("127.0.0.1");
        let tracker = start_tracker(
            &[format!("127.0.0.1:{port}")],
            &["--interval", "5", "--log-requests"],
        );
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
    #[ignore = "interop: needs aria2 and python3-libtorrent; run with --ignored (.ci/run does)"]
    fn aria2c_downloads_from_the_peer_we_hand_out() {
        let aria2 = require("aria2c");
        let (mut tracker, _seeder, dir) = seeded("aria2");
        let dl = dir.join("aria2-dl");
        std::fs::create_dir_all(&dl).unwrap();
        // aria2 speaks UDP trackers only from its DHT socket, so DHT must be on (measured
        // with aria2 1.36).
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
    #[ignore = "interop: needs transmission-cli and python3-libtorrent; run with --ignored (.ci/run does)"]
    fn transmission_cli_takes_the_peer_we_hand_out() {
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
}

mod ctorrent {
    //! Interop with the real client: Debian's Enhanced CTorrent dnh3.3.2 (`ctorrent`),
    //! seeding a small torrent made with `ctorrent -t`, connects with `-S` to
    //! `trackwire ctcs serve` (the web console, steered through its JSON API, its
    //! `--json-events` read back). The console asks for status, detail, peers and config;
    //! the tests set both limits and `max_peers`, see the changes reported back, and quit
    //! it; with a password
    //! (`-S host:port:` and the password on ctorrent's stdin) a right one is accepted and a
    //! wrong one refused. At protocols 1 and 2 the same requests are answered in the old
    //! forms.
    //!
    //! Ignored unless asked for (`--ignored`, as `.ci/run` does after installing
    //! `ctorrent`), so that a run without the peer shows them as ignored. The tracker URL in the
    //! torrent is unreachable on purpose (no tracker is needed): ctorrent then exits at once
    //! on `CTQUIT`, without the final `CTSTATUS` (measured from dnh3.3.2).

    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use crate::common::procs::{free_tcp_port, require, scratch, value_of, CtcsServer, Proc};
    use serde_json::{json, Value};

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

    /// `POST /api/torrents/CONN/quit`: ctorrent exits 0, the server reports `closed` and
    /// the torrent moves to the history.
    fn quit(srv: &mut CtcsServer, ct: &mut Proc, conn: u64) {
        let m = srv.mark();
        srv.command(&format!("/api/torrents/{conn}/quit"), json!({}));
        srv.wait_event(m, conn, "closed", Duration::from_secs(20));
        assert_eq!(
            ct.finish(Duration::from_secs(20)),
            Some(0),
            "ctorrent: {:?}",
            ct.lines()
        );
        let (_, list) = srv.get("/api/torrents");
        assert_eq!(list, json!([]));
        let (_, history) = srv.get("/api/history");
        assert_eq!(history[0]["name"], "x.torrent", "{history}");
    }

    #[test]
    #[ignore = "interop: needs ctorrent (Debian's Enhanced CTorrent); run with --ignored (.ci/run does)"]
    fn ctorrent_status_detail_peers_config_limits_quit() {
        let started = Instant::now();
        let dir = torrent("ctcs-session");
        let mut srv = CtcsServer::start("127.0.0.1:0", &[]);
        let addr = srv.addr.clone();
        let mut ct = ctorrent(&dir, &addr, None);

        // PROTOCOL 0003, CTORRENT, CTSTATUS on connect.
        let (hello, after_hello) = srv.wait_event(0, 1, "hello", T);
        let peer_id = hello["peer_id"].as_str().unwrap().to_string();
        assert!(peer_id.starts_with("-CD0303-"), "{hello}");
        assert!(trackwire::ctcs::PeerIdText::parse(peer_id.as_bytes()).is_some());
        assert_eq!(hello["filename"], "x.torrent");
        assert_eq!(
            int(&hello, "start_timestamp"),
            int(&hello, "current_timestamp")
        );
        let (st, _) = srv.wait_event(after_hello, 1, "status", T);
        assert_eq!(st["protocol"], 3);
        // -D 100 -U 50 are KB/s; CTCS speaks bytes/s.
        assert_eq!(int(&st, "dl_limit"), 102_400, "{st}");
        assert_eq!(int(&st, "ul_limit"), 51_200, "{st}");
        let n_total = (PAYLOAD_LEN as i64 + PIECE_LEN - 1) / PIECE_LEN;
        assert_eq!(int(&st, "n_total"), n_total, "{st}");
        assert_eq!(int(&st, "n_have"), n_total, "seeding (-f): {st}");

        // The console's list: the torrent by name, as the client reported it.
        let (status, list) = srv.get("/api/torrents");
        assert_eq!(status, 200);
        let t = &list[0];
        assert_eq!(
            (t["id"].clone(), t["name"].clone()),
            (1.into(), "x.torrent".into())
        );
        assert_eq!(t["peer_id"], peer_id.as_str());
        assert_eq!((int(t, "dl_limit"), int(t, "ul_limit")), (102_400, 51_200));
        assert_eq!(t["seeding"], true, "{t}");

        // The console asks for detail, files, peers and options on identification.
        let (detail, after) = srv.wait_event(after_hello, 1, "detail", T);
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
        let (done, _) = srv.wait_event(after_hello, 1, "peers_done", T);
        assert_eq!(done["items"], 0);

        let (_, config_from) = srv.wait(after_hello, "the config list", T, |v| {
            v["event"] == "config"
        });
        let (done, end) = srv.wait_event(after_hello, 1, "config_done", T);
        let items = srv.config_items(config_from - 1, end);
        assert_eq!(done["items"], items.len() as u64);
        assert_eq!(items.first().map(|(n, _)| n.as_str()), Some("verbose"));
        assert_eq!(value_of(&items, "max_peers"), "100");
        assert_eq!(value_of(&items, "ctcs_server"), addr);
        let (mp, _) = srv.wait(after_hello, "max_peers item", T, |v| {
            v["name"] == "max_peers"
        });
        assert_eq!(
            (mp["value_type"].clone(), mp["range"].clone()),
            ("I".into(), "20-1000".into())
        );
        let (_, d) = srv.get("/api/torrents/1");
        assert_eq!(d["files"][0]["name"], "payload.bin", "{d}");
        assert_eq!(int(&d["detail"], "torrent_size"), PAYLOAD_LEN as i64);

        // Lower limits (a seeding dnh3.3.2 only takes a lower download limit) and an
        // option, through the API.
        let m = srv.mark();
        srv.command(
            "/api/torrents/1/limits",
            json!({"dl_limit": 20480, "ul_limit": 10240}),
        );
        srv.command(
            "/api/torrents/1/config",
            json!({"name": "max_peers", "value": "50"}),
        );
        srv.wait(m, "CTBW with 20480,10240", T, |v| {
            v["conn"] == 1
                && v["event"] == "bandwidth"
                && v["dl_limit"] == 20480
                && v["ul_limit"] == 10240
        });
        srv.wait(m, "a status with 20480,10240", T, |v| {
            v["event"] == "status" && v["dl_limit"] == 20480 && v["ul_limit"] == 10240
        });
        let (_, end) = srv.wait(m, "the config list after the change", T, |v| {
            v["event"] == "config_done"
        });
        assert_eq!(value_of(&srv.config_items(m, end), "max_peers"), "50");
        let (_, t) = srv.get("/api/torrents/1");
        assert_eq!((int(&t, "dl_limit"), int(&t, "ul_limit")), (20480, 10240));

        // A higher download limit is ignored while seeding; a bad value gets a CTINFO 2.
        let m = srv.mark();
        srv.command("/api/torrents/1/limits", json!({"dl_limit": 40960}));
        srv.command(
            "/api/torrents/1/config",
            json!({"name": "max_peers", "value": "5"}),
        );
        srv.wait(m, "CTINFO 2 for max_peers 5", T, |v| {
            v["event"] == "info"
                && v["severity"] == 2
                && v["message"] == "Malformed or invalid input from CTCS: CTCONFIG max_peers 5"
        });
        let (st, _) = srv.wait_event(m, 1, "status", T);
        assert_eq!(int(&st, "dl_limit"), 20480, "{st}");

        quit(&mut srv, &mut ct, 1);
        eprintln!("ctorrent session: {:?}", started.elapsed());
    }

    #[test]
    #[ignore = "interop: needs ctorrent (Debian's Enhanced CTorrent); run with --ignored (.ci/run does)"]
    fn ctorrent_right_password_is_accepted() {
        let dir = torrent("ctcs-auth-ok");
        let mut srv = CtcsServer::start("127.0.0.1:0", &["--password", "s3cret pw"]);
        let server = format!("{}:", srv.addr);
        let mut ct = ctorrent(&dir, &server, Some("s3cret pw"));
        let (hello, after) = srv.wait_event(0, 1, "hello", T);
        assert_eq!(hello["filename"], "x.torrent");
        let (st, _) = srv.wait_event(after, 1, "status", T);
        assert_eq!(int(&st, "ul_limit"), 51_200);
        let (_, list) = srv.get("/api/torrents");
        assert_eq!(list[0]["name"], "x.torrent", "{list}");
        assert!(srv
            .events_since(0)
            .iter()
            .all(|v| v["event"] != "auth_failed"));
        quit(&mut srv, &mut ct, 1);
    }

    #[test]
    #[ignore = "interop: needs ctorrent (Debian's Enhanced CTorrent); run with --ignored (.ci/run does)"]
    fn ctorrent_wrong_password_is_refused() {
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
        let (_, after_hello) = srv.wait_event(0, 1, "hello", T);

        // Asked for on identification: files, peers, options, in the old forms.
        let (file, after) = srv.wait_event(after_hello, 1, "file", T);
        assert_eq!(file["filename"], "payload.bin");
        assert!(file.get("priority").is_none(), "{file}");
        assert_eq!(file.get("n_available").is_some(), version == 2, "{file}");
        let (done, _) = srv.wait_event(after, 1, "files_done", T);
        assert_eq!(done["items"], 1);

        let (done, _) = srv.wait_event(after_hello, 1, "peers_done", T);
        assert_eq!(done["items"], 0);

        // SENDCONF is safe; only the server's positional CTCONFIG crashes dnh3.3.2.
        let (cfg, after) = srv.wait_event(after_hello, 1, "config", T);
        assert_eq!(cfg["maxpeers"], 100, "{cfg}");
        assert_eq!(cfg["seedtime"], 72, "{cfg}");
        assert_eq!(cfg.get("cache_size").is_some(), version == 2, "{cfg}");
        let (done, _) = srv.wait_event(after, 1, "config_done", T);
        assert_eq!(done["items"], 1);

        // A limit, then the status the console asks for, in the old form.
        let m = srv.mark();
        srv.command("/api/torrents/1/limits", json!({"ul_limit": 10240}));
        srv.wait(m, "CTBW with ul_limit 10240", T, |v| {
            v["event"] == "bandwidth" && v["ul_limit"] == 10240
        });
        let (st, _) = srv.wait(m, "an old-form status", T, |v| {
            v["event"] == "status" && v["protocol"] == version
        });
        assert_eq!(st.get("total_seeders").is_some(), version == 2, "{st}");
        assert_eq!(int(&st, "ul_limit"), 10240);
        quit(&mut srv, &mut ct, 1);
    }

    #[test]
    #[ignore = "interop: needs ctorrent (Debian's Enhanced CTorrent); run with --ignored (.ci/run does)"]
    fn ctorrent_protocol_1() {
        ctorrent_old_protocol(1);
    }

    #[test]
    #[ignore = "interop: needs ctorrent (Debian's Enhanced CTorrent); run with --ignored (.ci/run does)"]
    fn ctorrent_protocol_2() {
        ctorrent_old_protocol(2);
    }
}

mod loopback {
    //! Our client against our server over real loopback sockets, with datagrams lost on the
    //! way in both directions: every exchange still completes, through retries and
    //! reconnects. No external program is needed, so this always runs.

    use std::net::{SocketAddr, UdpSocket};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use crate::common::driver::{run, Outcome, Wire};
    use trackwire::udp::{
        AnnounceParams, Client, ClientConfig, InfoHash, PeerId, RetryPolicy, ScrapeRow, Server,
        ServerAction, ServerConfig,
    };
    use trackwire::{Instant, StdClock};

    /// A tracker thread: `udp::Server` on a socket, dropping every `drop_every`-th datagram
    /// it receives; answers announces with two fixed peers and scrapes with fixed rows.
    fn spawn_server(bind: &str, drop_every: usize) -> (SocketAddr, Arc<AtomicBool>) {
        let socket = UdpSocket::bind(bind).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let server = Server::new(ServerConfig::new(), *b"loopback-secret!");
            let clock = StdClock::new();
            socket
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let (mut buf, mut reply) = ([0u8; 2048], [0u8; 1500]);
            let mut n_in = 0usize;
            while !flag.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                n_in += 1;
                if drop_every > 0 && n_in % drop_every == 0 {
                    continue; // lost on the way in
                }
                let now = clock.now();
                let len = match server.handle_datagram(now, from, &buf[..n], &mut reply) {
                    ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                    ServerAction::Announce(a) => {
                        let peers: [SocketAddr; 3] = [
                            "10.1.1.1:1".parse().unwrap(),
                            "[2001:db8::1]:2".parse().unwrap(),
                            "10.1.1.2:2".parse().unwrap(),
                        ];
                        a.respond(60, 1, 2, peers, &mut reply).unwrap()
                    }
                    ServerAction::Scrape(s) => s
                        .respond(
                            |h| ScrapeRow {
                                complete: u32::from(h.0[0]),
                                downloaded: 7,
                                incomplete: 1,
                            },
                            &mut reply,
                        )
                        .unwrap(),
                    _ => 0,
                };
                if len > 0 {
                    socket.send_to(&reply[..len], from).unwrap();
                }
            }
        });
        (addr, stop)
    }

    fn lossy_exchanges(server_bind: &str, client_bind: &str) {
        // The server loses every 3rd datagram, the client every 4th of its own.
        let (server, stop) = spawn_server(server_bind, 3);
        let socket = UdpSocket::bind(client_bind).unwrap();
        let retry = RetryPolicy {
            initial_timeout: Duration::from_millis(150),
            backoff: 1,
            max_sends: 12,
        };
        let mut client = Client::<8>::new_sized(
            ClientConfig::new(server)
                .with_retry(retry)
                .with_connection_id_lifetime(Duration::from_millis(700)),
            0x5eed_1234_abcd_0042,
        )
        .unwrap();
        let start = std::time::Instant::now();
        let now = Instant::ZERO;
        let mut ids = Vec::new();
        for i in 0..6u8 {
            ids.push(
                client
                    .announce(
                        now,
                        AnnounceParams::new(InfoHash([i; 20]), PeerId([9; 20]), 6881),
                    )
                    .unwrap(),
            );
        }
        let hashes: Vec<InfoHash> = (1..=2u8).map(|i| InfoHash([i; 20])).collect();
        ids.push(client.scrape(now, &hashes).unwrap());
        let mut n_out = 0usize;
        let mut keep_out = |_: &[u8]| {
            n_out += 1;
            n_out % 4 != 0
        };
        let mut keep_in = |_: &mut [u8]| true;
        let (done, stats) = run(
            &mut client,
            &socket,
            start,
            ids.len(),
            Duration::from_secs(30),
            Wire {
                keep_out: &mut keep_out,
                keep_in: &mut keep_in,
            },
        );
        assert_eq!(
            done.len(),
            ids.len(),
            "not every exchange ended: {done:?} {stats:?}"
        );
        // After the connection id's 700 ms, a new batch must connect again.
        std::thread::sleep(Duration::from_millis(800));
        let t = StdClock::with_origin(start).now();
        let later: Vec<_> = (10..13u8)
            .map(|i| {
                client
                    .announce(
                        t,
                        AnnounceParams::new(InfoHash([i; 20]), PeerId([9; 20]), 6881),
                    )
                    .unwrap()
            })
            .collect();
        let mut keep_out2 = |_: &[u8]| true;
        let mut keep_in2 = |_: &mut [u8]| true;
        let (done2, stats2) = run(
            &mut client,
            &socket,
            start,
            later.len(),
            Duration::from_secs(30),
            Wire {
                keep_out: &mut keep_out2,
                keep_in: &mut keep_in2,
            },
        );
        stop.store(true, Ordering::Relaxed);
        assert_eq!(done2.len(), later.len(), "{done2:?} {stats2:?}");
        assert!(
            done2
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Announced { .. })),
            "{done2:?}"
        );
        assert!(
            stats2.connects >= 1,
            "the expired id was reused: {stats2:?}"
        );
        assert!(stats.dropped_out > 0, "no loss was injected: {stats:?}");
        let v6 = server.is_ipv6();
        for (id, outcome) in &done {
            assert!(ids.contains(id));
            match outcome {
                Outcome::Announced {
                    interval, peers, ..
                } => {
                    assert_eq!(*interval, 60);
                    // Only peers of the socket's family come back.
                    assert_eq!(peers.len(), if v6 { 1 } else { 2 }, "{peers:?}");
                    assert!(peers.iter().all(|p| p.is_ipv6() == v6));
                }
                Outcome::Scraped(rows) => {
                    let got: Vec<(u8, u32)> =
                        rows.iter().map(|(h, r)| (h.0[0], r.complete)).collect();
                    assert_eq!(got, [(1, 1), (2, 2)]);
                }
                other => panic!("exchange {id:?} ended with {other:?}; {stats:?}"),
            }
        }
        eprintln!("{stats:?}");
    }

    #[test]
    fn lossy_loopback_ipv4() {
        lossy_exchanges("127.0.0.1:0", "127.0.0.1:0");
    }

    #[test]
    fn lossy_loopback_ipv6() {
        lossy_exchanges("[::1]:0", "[::1]:0");
    }
}
