//! `trackwire tracker` end to end: the binary is started on loopback ports the kernel
//! picks, spoken to with hand-built BEP 15 datagrams (so the tests do not lean on the
//! library's own encoders to judge the tracker built on them), and observed through its
//! replies, its log and its `/metrics` endpoint.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::procs::{scratch, tool, Proc};

const MAGIC: u64 = 0x0417_2710_1980;

/// A running tracker: the process, its UDP addresses (IPv4, then IPv6 if bound) and its
/// metrics address.
struct Tracker {
    proc: Proc,
    v4: SocketAddr,
    v6: Option<SocketAddr>,
    metrics: Option<String>,
}

fn start(extra: &[&str], v6: bool, metrics: bool) -> Tracker {
    let mut cmd = tool(&["tracker", "--bind", "127.0.0.1:0", "--workers", "2"]);
    if v6 {
        cmd.args(["--bind", "[::1]:0"]);
    }
    if metrics {
        cmd.args(["--metrics", "127.0.0.1:0"]);
    }
    cmd.args(extra);
    start_cmd(cmd, v6, metrics)
}

fn start_cmd(cmd: Command, v6: bool, metrics: bool) -> Tracker {
    let mut proc = Proc::spawn("tracker", cmd);
    let mut addr = |needle: &str| -> SocketAddr {
        let line = proc
            .wait_for(needle, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no `{needle}` line"));
        let rest = line.split("listening on ").nth(1).unwrap();
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let v4 = addr("listening on 127.");
    let v6 = v6.then(|| addr("listening on [::1]"));
    let metrics = metrics.then(|| {
        let line = proc
            .wait_for("metrics on http://", Duration::from_secs(10))
            .unwrap();
        let a = line.split("http://").nth(1).unwrap();
        a.trim_end_matches("/metrics").to_string()
    });
    Tracker {
        proc,
        v4,
        v6,
        metrics,
    }
}

impl Tracker {
    /// The metrics text.
    fn metrics(&self) -> String {
        let addr = self.metrics.as_ref().expect("started with --metrics");
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        out
    }

    /// The value of the sample `name` (with its labels, exactly as printed).
    fn metric(&self, name: &str) -> u64 {
        let text = self.metrics();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .parse()
            .unwrap()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.proc.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

/// What the tracker answered.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Announce {
        interval: u32,
        leechers: u32,
        seeders: u32,
        peers: Vec<SocketAddr>,
    },
    Scrape(Vec<[u32; 3]>),
    Error(String),
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn parse(b: &[u8], v6: bool) -> Reply {
    match be32(b, 0) {
        1 => {
            let size = if v6 { 18 } else { 6 };
            let peers = b[20..]
                .chunks(size)
                .map(|c| {
                    let port = u16::from_be_bytes([c[size - 2], c[size - 1]]);
                    let ip: std::net::IpAddr = if v6 {
                        <[u8; 16]>::try_from(&c[..16]).unwrap().into()
                    } else {
                        <[u8; 4]>::try_from(&c[..4]).unwrap().into()
                    };
                    SocketAddr::new(ip, port)
                })
                .collect();
            Reply::Announce {
                interval: be32(b, 8),
                leechers: be32(b, 12),
                seeders: be32(b, 16),
                peers,
            }
        }
        2 => Reply::Scrape(
            b[8..]
                .chunks(12)
                .map(|c| [be32(c, 0), be32(c, 4), be32(c, 8)])
                .collect(),
        ),
        3 => Reply::Error(String::from_utf8_lossy(&b[8..]).into_owned()),
        a => panic!("action {a}: {b:?}"),
    }
}

/// One announce's fields.
#[derive(Clone)]
struct Ann {
    hash: [u8; 20],
    peer_id: [u8; 20],
    key: u32,
    left: i64,
    event: u32,
    port: u16,
    url_data: Vec<u8>,
    num_want: i32,
}

impl Ann {
    fn new(hash: [u8; 20], peer: u8, port: u16) -> Ann {
        Ann {
            hash,
            peer_id: [peer; 20],
            key: u32::from(peer) * 7919,
            left: 100,
            event: 0,
            port,
            url_data: Vec::new(),
            num_want: -1,
        }
    }

    fn encode(&self, conn: u64, tid: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(conn.to_be_bytes());
        b.extend(1u32.to_be_bytes());
        b.extend(tid.to_be_bytes());
        b.extend(self.hash);
        b.extend(self.peer_id);
        b.extend(0i64.to_be_bytes());
        b.extend(self.left.to_be_bytes());
        b.extend(0i64.to_be_bytes());
        b.extend(self.event.to_be_bytes());
        b.extend(0u32.to_be_bytes());
        b.extend(self.key.to_be_bytes());
        b.extend(self.num_want.to_be_bytes());
        b.extend(self.port.to_be_bytes());
        // BEP 41: URLData options of up to 255 bytes each.
        for chunk in self.url_data.chunks(255) {
            b.push(2);
            b.push(chunk.len() as u8);
            b.extend(chunk);
        }
        b
    }
}

/// A client socket with a connection id.
struct Client {
    sock: UdpSocket,
    conn: u64,
    tid: u32,
    v6: bool,
}

impl Client {
    fn new(tracker: SocketAddr) -> Client {
        let local = if tracker.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        };
        Client::new_from(local, tracker)
    }

    fn new_from(local: &str, tracker: SocketAddr) -> Client {
        let sock = UdpSocket::bind(local).unwrap();
        sock.connect(tracker).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut c = Client {
            sock,
            conn: 0,
            tid: 1,
            v6: tracker.is_ipv6(),
        };
        let mut req = MAGIC.to_be_bytes().to_vec();
        req.extend(0u32.to_be_bytes());
        req.extend(c.tid.to_be_bytes());
        let r = c.exchange(&req).expect("a connect reply");
        assert_eq!(r.len(), 16);
        c.conn = u64::from_be_bytes(r[8..16].try_into().unwrap());
        c
    }

    /// Sends `req`; the reply with its transaction id, or `None` within `wait`.
    fn exchange_within(&mut self, req: &[u8], wait: Duration) -> Option<Vec<u8>> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        self.sock.send(req).unwrap();
        let tid = &req[12..16];
        let mut buf = [0u8; 2048];
        loop {
            match self.sock.recv(&mut buf) {
                Ok(n) if n >= 8 && &buf[4..8] == tid => return Some(buf[..n].to_vec()),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    fn exchange(&mut self, req: &[u8]) -> Option<Vec<u8>> {
        self.exchange_within(req, Duration::from_secs(5))
    }

    fn next_tid(&mut self) -> u32 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }

    fn announce(&mut self, a: &Ann) -> Reply {
        let tid = self.next_tid();
        let req = a.encode(self.conn, tid);
        parse(&self.exchange(&req).expect("an announce reply"), self.v6)
    }

    fn scrape(&mut self, hashes: &[[u8; 20]]) -> Reply {
        let tid = self.next_tid();
        let mut req = self.conn.to_be_bytes().to_vec();
        req.extend(2u32.to_be_bytes());
        req.extend(tid.to_be_bytes());
        for h in hashes {
            req.extend(h);
        }
        parse(&self.exchange(&req).expect("a scrape reply"), self.v6)
    }
}

fn counts(r: &Reply) -> (u32, u32) {
    match r {
        Reply::Announce {
            leechers, seeders, ..
        } => (*seeders, *leechers),
        other => panic!("not an announce reply: {other:?}"),
    }
}

fn peers(r: &Reply) -> Vec<SocketAddr> {
    match r {
        Reply::Announce { peers, .. } => peers.clone(),
        other => panic!("not an announce reply: {other:?}"),
    }
}

fn error(msg: &str) -> Reply {
    Reply::Error(msg.to_string())
}

/// Polls `f` every 100 ms for up to `limit`; whether it turned true.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn hexs(h: [u8; 20]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- the tests ------------------------------------------------------------------------

#[test]
fn announce_and_scrape_over_both_families_count_a_dual_stack_client_once() {
    let t = start(&["--interval", "900"], true, true);
    let (v4, v6) = (t.v4, t.v6.unwrap());
    let hash = [0x11; 20];
    // A leecher on IPv4 only.
    let mut leecher = Client::new(v4);
    let r = leecher.announce(&Ann::new(hash, 1, 7001));
    assert_eq!(
        r,
        Reply::Announce {
            interval: 900,
            leechers: 1,
            seeders: 0,
            peers: vec![]
        }
    );
    // A seeder on both families: same peer id and key.
    let mut seeder = Ann::new(hash, 2, 7002);
    seeder.left = 0;
    let mut s4 = Client::new(v4);
    let mut s6 = Client::new(v6);
    let r4 = s4.announce(&seeder);
    assert_eq!(counts(&r4), (1, 1));
    assert_eq!(peers(&r4), vec!["127.0.0.1:7001".parse().unwrap()]);
    let r6 = s6.announce(&seeder);
    assert_eq!(counts(&r6), (1, 1), "the IPv6 address is the same client");
    assert_eq!(
        peers(&r6),
        vec![],
        "no IPv4 peer is handed to an IPv6 client"
    );
    // Another IPv6 client gets the seeder's IPv6 address only.
    let mut other6 = Client::new(v6);
    let r = other6.announce(&Ann::new(hash, 3, 7003));
    assert_eq!(counts(&r), (1, 2));
    assert_eq!(peers(&r), vec!["[::1]:7002".parse().unwrap()]);
    // Scrape from either family: 1 seeder, 2 leechers.
    assert_eq!(
        leecher.scrape(&[hash, [0x99; 20]]),
        Reply::Scrape(vec![[1, 0, 2], [0, 0, 0]])
    );
    assert_eq!(other6.scrape(&[hash]), Reply::Scrape(vec![[1, 0, 2]]));
    // The seeder stops over IPv6: still listed over IPv4, still one seeder.
    let mut stop6 = seeder.clone();
    stop6.event = 3;
    let _ = s6.announce(&stop6);
    assert_eq!(leecher.scrape(&[hash]), Reply::Scrape(vec![[1, 0, 2]]));
    // And over IPv4: gone.
    let _ = s4.announce(&stop6);
    assert_eq!(leecher.scrape(&[hash]), Reply::Scrape(vec![[0, 0, 2]]));
    assert_eq!(t.metric("trackwire_torrents"), 1);
    assert_eq!(t.metric("trackwire_peers{family=\"ipv4\"}"), 1);
    assert_eq!(t.metric("trackwire_peers{family=\"ipv6\"}"), 1);
    assert_eq!(t.metric("trackwire_leechers"), 2);
}

#[test]
fn access_list_allow_deny_and_reload_on_sighup() {
    let dir = scratch("tracker-access");
    let list = dir.join("allow.txt");
    let (a, b) = ([0xaa; 20], [0xbb; 20]);
    write(&list, &format!("# allowed\n\n{}  # A\n", hexs(a)));
    let t = start(
        &["--access-list", list.to_str().unwrap(), "--log-requests"],
        false,
        true,
    );
    let mut c = Client::new(t.v4);
    assert_eq!(counts(&c.announce(&Ann::new(a, 1, 7001))), (0, 1));
    assert_eq!(
        c.announce(&Ann::new(b, 1, 7001)),
        error("info hash not allowed")
    );
    // A refused hash scrapes as zeros.
    assert_eq!(c.scrape(&[b, a]), Reply::Scrape(vec![[0, 0, 0], [0, 0, 1]]));
    // A list that does not read keeps the old one.
    write(&list, "not a hash\n");
    t.signal("HUP");
    let mut t = t;
    assert!(t
        .proc
        .wait_for("reload failed", Duration::from_secs(5))
        .is_some());
    assert_eq!(
        c.announce(&Ann::new(b, 1, 7001)),
        error("info hash not allowed")
    );
    // Both hashes now: B is served, and A's swarm is still there.
    write(&list, &format!("{}\n{}\n", hexs(a), hexs(b)));
    t.signal("HUP");
    assert!(t
        .proc
        .wait_for("SIGHUP: reloaded (2 info hashes", Duration::from_secs(5))
        .is_some());
    assert_eq!(counts(&c.announce(&Ann::new(b, 1, 7001))), (0, 1));
    assert_eq!(counts(&c.announce(&Ann::new(a, 2, 7002))), (0, 2));
    assert_eq!(t.metric("trackwire_reloads_total"), 1);
    assert_eq!(t.metric("trackwire_reload_failures_total"), 1);
    assert_eq!(
        t.metric("trackwire_rejected_total{reason=\"not_allowed\"}"),
        2
    );
    drop(t);

    // Deny mode: A refused, anything else served.
    write(&list, &format!("{}\n", hexs(a)));
    let t = start(
        &[
            "--access-list",
            list.to_str().unwrap(),
            "--access-mode",
            "deny",
        ],
        false,
        false,
    );
    let mut c = Client::new(t.v4);
    assert_eq!(
        c.announce(&Ann::new(a, 1, 7001)),
        error("info hash not allowed")
    );
    assert_eq!(counts(&c.announce(&Ann::new(b, 1, 7001))), (0, 1));
}

#[test]
fn passkeys_required_accepted_and_refused() {
    let dir = scratch("tracker-passkeys");
    let keys = dir.join("keys.txt");
    write(&keys, "s3cret\n# a comment\nother\n");
    let t = start(&["--passkeys", keys.to_str().unwrap()], false, false);
    let mut c = Client::new(t.v4);
    let hash = [0x22; 20];
    let mut a = Ann::new(hash, 1, 7001);
    assert_eq!(c.announce(&a), error("passkey required"));
    a.url_data = b"/announce/s3cret".to_vec();
    assert_eq!(counts(&c.announce(&a)), (0, 1));
    a.url_data = b"/announce?passkey=other".to_vec();
    assert_eq!(counts(&c.announce(&a)), (0, 1));
    a.url_data = b"/announce/wrong".to_vec();
    assert_eq!(c.announce(&a), error("unauthorized"));
    a.url_data = b"/announce?passkey=s3cretx".to_vec();
    assert_eq!(c.announce(&a), error("unauthorized"));
    // A key added and reloaded is accepted.
    write(&keys, "s3cret\nnewkey\n");
    t.signal("HUP");
    let mut t = t;
    assert!(t
        .proc
        .wait_for("SIGHUP: reloaded", Duration::from_secs(5))
        .is_some());
    a.url_data = b"/announce/newkey".to_vec();
    assert_eq!(counts(&c.announce(&a)), (0, 1));
}

#[test]
fn caps_on_torrents_and_peers_refuse_with_a_message() {
    let t = start(
        &["--max-torrents", "2", "--max-peers-per-torrent", "2"],
        false,
        true,
    );
    let mut c = Client::new(t.v4);
    assert_eq!(counts(&c.announce(&Ann::new([1; 20], 1, 7001))), (0, 1));
    assert_eq!(counts(&c.announce(&Ann::new([2; 20], 1, 7001))), (0, 1));
    assert_eq!(
        c.announce(&Ann::new([3; 20], 1, 7001)),
        error("tracker full: too many torrents")
    );
    // Known torrents and known peers are still served.
    assert_eq!(counts(&c.announce(&Ann::new([1; 20], 2, 7002))), (0, 2));
    assert_eq!(counts(&c.announce(&Ann::new([1; 20], 1, 7001))), (0, 2));
    assert_eq!(
        c.announce(&Ann::new([1; 20], 3, 7003)),
        error("tracker full: too many peers")
    );
    assert_eq!(t.metric("trackwire_torrents"), 2);
}

#[test]
fn silent_peers_expire_and_the_sweep_frees_their_torrents() {
    let t = start(&["--peer-timeout", "1"], false, true);
    let mut c = Client::new(t.v4);
    for i in 0..5u8 {
        let _ = c.announce(&Ann::new([i + 1; 20], 1, 7001));
    }
    assert_eq!(t.metric("trackwire_torrents"), 5);
    // Nobody touches the torrents again: only the sweep can free them.
    assert!(
        eventually(Duration::from_secs(8), || t.metric("trackwire_torrents")
            == 0),
        "{}",
        t.metrics()
    );
    assert_eq!(t.metric("trackwire_freed_torrents_total"), 5);
    assert_eq!(t.metric("trackwire_expired_peers_total"), 5);
    assert_eq!(t.metric("trackwire_peers{family=\"ipv4\"}"), 0);
    assert_eq!(t.metric("trackwire_leechers"), 0);
}

#[test]
fn large_datagrams_are_received_whole() {
    let mut t = start(&["--log-requests"], false, true);
    let mut c = Client::new(t.v4);
    // A 3000-byte announce: 98 bytes and a tail of BEP 41 end-of-options padding.
    let mut req = Ann::new([0x33; 20], 1, 7001).encode(c.conn, 77);
    req.resize(3000, 0);
    let r = parse(&c.exchange(&req).expect("an announce reply"), false);
    assert_eq!(counts(&r), (0, 1));
    assert!(t
        .proc
        .wait_for("3000 bytes: announce 3333", Duration::from_secs(5))
        .is_some());
    // 3000 bytes of a connect with the wrong magic: dropped unanswered, counted whole.
    let mut junk = vec![0u8; 3000];
    junk[12..16].copy_from_slice(&78u32.to_be_bytes());
    assert_eq!(c.exchange_within(&junk, Duration::from_millis(500)), None);
    assert!(t
        .proc
        .wait_for("3000 bytes: dropped: malformed", Duration::from_secs(5))
        .is_some());
    assert_eq!(t.metric("trackwire_dropped_total{reason=\"malformed\"}"), 1);
    assert_eq!(
        t.metric("trackwire_received_bytes_total{family=\"ipv4\"}"),
        16 + 3000 + 3000
    );
    assert_eq!(t.metric("trackwire_dropped_total{reason=\"truncated\"}"), 0);
}

#[test]
fn metrics_are_prometheus_text_and_move() {
    let t = start(&[], true, true);
    let text = t.metrics();
    assert!(
        text.contains("Content-Type: application/openmetrics-text"),
        "{text}"
    );
    assert!(text.contains("# TYPE trackwire_requests counter"), "{text}");
    assert!(
        text.contains("# HELP trackwire_torrents Torrents held"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    let before = t.metric("trackwire_requests_total{kind=\"connect\",family=\"ipv6\"}");
    let mut c = Client::new(t.v6.unwrap());
    let _ = c.announce(&Ann::new([0x44; 20], 1, 7001));
    assert_eq!(
        t.metric("trackwire_requests_total{kind=\"connect\",family=\"ipv6\"}"),
        before + 1
    );
    assert_eq!(
        t.metric("trackwire_replies_total{kind=\"announce\",family=\"ipv6\"}"),
        1
    );
    assert!(t.metric("trackwire_resident_memory_bytes") > 0);
    // Anything but GET /metrics is a 404.
    let mut s = TcpStream::connect(t.metrics.as_ref().unwrap()).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
}

/// Sends ten connects from `source` at once and counts the replies.
fn connect_replies(t: &Tracker, source: &str) -> u64 {
    let sock = UdpSocket::bind((source, 0)).unwrap();
    sock.connect(t.v4).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for tid in 0..10u32 {
        let mut req = MAGIC.to_be_bytes().to_vec();
        req.extend(0u32.to_be_bytes());
        req.extend(tid.to_be_bytes());
        sock.send(&req).unwrap();
    }
    let mut replies = 0;
    let mut buf = [0u8; 64];
    while sock.recv(&mut buf).is_ok() {
        replies += 1;
    }
    replies
}

#[test]
fn rate_limited_sources_are_dropped_and_counted() {
    let t = start(&["--rate-limit", "1:3"], false, true);
    let replies = connect_replies(&t, "127.0.0.1");
    // The burst of 3, and at most one more token refilled meanwhile.
    assert!((3..=4).contains(&replies), "{replies}");
    assert_eq!(
        t.metric("trackwire_dropped_total{reason=\"rate_limited\"}"),
        10 - replies
    );
}

#[test]
fn exempt_sources_are_never_rate_limited() {
    // 127.0.0.1 is exempt, 127.0.0.2 is not: the same ten connects, only one is limited.
    let t = start(
        &[
            "--rate-limit",
            "1:3",
            "--rate-limit-exempt",
            "127.0.0.1,10.0.0.0/8",
        ],
        false,
        true,
    );
    assert_eq!(connect_replies(&t, "127.0.0.1"), 10);
    let limited = connect_replies(&t, "127.0.0.2");
    assert!((3..=4).contains(&limited), "{limited}");
    assert_eq!(
        t.metric("trackwire_dropped_total{reason=\"rate_limited\"}"),
        10 - limited
    );
}

#[test]
fn interval_jitter_spreads_intervals() {
    let t = start(
        &["--interval", "1000", "--interval-jitter", "100"],
        false,
        false,
    );
    let mut c = Client::new(t.v4);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        match c.announce(&Ann::new([0x55; 20], 1, 7001)) {
            Reply::Announce { interval, .. } => {
                assert!((900..=1100).contains(&interval), "{interval}");
                seen.insert(interval);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(seen.len() > 1, "20 announces, one interval: {seen:?}");
}

#[test]
fn config_file_with_flags_over_it() {
    let dir = scratch("tracker-config");
    let file = dir.join("tracker.toml");
    write(
        &file,
        "bind = [\"127.0.0.1:0\"]\ninterval = 900\nworkers = 1\nmax_torrents = 1\n",
    );
    let cmd = tool(&[
        "tracker",
        "--config",
        file.to_str().unwrap(),
        "--interval",
        "700",
    ]);
    let t = start_cmd(cmd, false, false);
    let mut c = Client::new(t.v4);
    match c.announce(&Ann::new([0x66; 20], 1, 7001)) {
        Reply::Announce { interval, .. } => assert_eq!(interval, 700),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.announce(&Ann::new([0x67; 20], 1, 7001)),
        error("tracker full: too many torrents")
    );
    // Bad files are usage errors that say where.
    for (text, needle) in [
        (
            "bind = [\"127.0.0.1:0\"]\nworkers = 0\n",
            "`workers` = 0 is not in 1..=1024",
        ),
        (
            "bind = [\"127.0.0.1:0\"]\nintervall = 5\n",
            "unknown field `intervall`",
        ),
        (
            "bind = [\"127.0.0.1:0\"]\nrate_limit = \"0\"\n",
            "`rate_limit`",
        ),
        ("interval = 5\n", "--bind ADDR is required"),
    ] {
        write(&file, text);
        let out = tool(&["tracker", "--config", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{text}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn flags_out_of_range_are_usage_errors() {
    for (args, needle) in [
        (&["--workers", "0"][..], "1..=1024"),
        (&["--max-torrents", "0"], "1..=100000000"),
        (&["--max-peers-per-torrent", "0"], "1..=10000000"),
        (&["--interval-jitter", "50000"], "0..=43200"),
        (&["--recv-buffer", "10"], "65536..=1073741824"),
        (&["--rate-limit", "0"], "1..=1000000"),
        (&["--rate-limit", "5:x"], "1..=1000000"),
        (&["--rate-limit-exempt", "10.0.0.0/33"], "0..=32"),
        (
            &["--rate-limit-exempt", "localhost"],
            "not an IPv4 or IPv6 address",
        ),
        (&["--access-mode", "maybe"], "allow"),
    ] {
        let out = tool(&["tracker", "--bind", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A list file that does not read is a usage error at start.
    let out = tool(&[
        "tracker",
        "--bind",
        "127.0.0.1:0",
        "--access-list",
        "/nonexistent/list",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn sigterm_and_sigint_stop_within_two_seconds_with_exit_0() {
    for sig in ["TERM", "INT"] {
        let mut t = start(&[], true, true);
        let mut c = Client::new(t.v4);
        let _ = c.announce(&Ann::new([0x77; 20], 1, 7001));
        let begin = Instant::now();
        t.signal(sig);
        let code = t.proc.finish(Duration::from_secs(2));
        assert_eq!(code, Some(0), "SIG{sig}");
        eprintln!("SIG{sig}: stopped in {:?}", begin.elapsed());
        assert!(t
            .proc
            .wait_for(
                "stopped: 2 requests, 2 replies, 1 torrents, 1 peers",
                Duration::from_secs(1)
            )
            .is_some());
    }
}

#[test]
fn a_65000_peer_swarm_still_answers_each_announce_from_a_window() {
    let t = start(&[], false, true);
    let hash = [0x88; 20];
    let c = Client::new(t.v4);
    const PEERS: u32 = 65_000;
    const BATCH: u32 = 200;
    let fill = Instant::now();
    let mut buf = [0u8; 2048];
    let mut answered = 0u32;
    for batch in 0..PEERS / BATCH {
        for i in 0..BATCH {
            let n = batch * BATCH + i;
            let mut a = Ann::new(hash, 0, u16::try_from(n + 1).unwrap());
            a.peer_id[..4].copy_from_slice(&n.to_be_bytes());
            a.key = n;
            a.num_want = 0;
            c.sock.send(&a.encode(c.conn, n)).unwrap();
        }
        // Replies to this batch (a lost one is not fatal: the count is checked below).
        for _ in 0..BATCH {
            match c.sock.recv(&mut buf) {
                Ok(_) => answered += 1,
                Err(_) => break,
            }
        }
    }
    eprintln!(
        "filled {answered} of {PEERS} announces in {:?}",
        fill.elapsed()
    );
    let held = t.metric("trackwire_peers{family=\"ipv4\"}");
    assert!(held >= u64::from(PEERS) * 99 / 100, "{held}");
    // 100 probes from new peers (from 127.0.0.2, whose ports are all free): each gets
    // the counts and 50 peers of the swarm.
    let mut probe = Client::new_from("127.0.0.2:0", t.v4);
    let probe_ip: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let begin = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..100u8 {
        let one = Instant::now();
        let mut a = Ann::new(hash, i, 7000 + u16::from(i));
        a.peer_id[19] = 0xfe;
        let r = probe.announce(&a);
        slowest = slowest.max(one.elapsed());
        let (seeders, leechers) = counts(&r);
        assert_eq!(u64::from(seeders + leechers), held + u64::from(i) + 1);
        let p = peers(&r);
        assert_eq!(p.len(), 50);
        assert!(
            !p.contains(&SocketAddr::new(probe_ip, a.port)),
            "not itself"
        );
        assert!(p.iter().all(|x| x.ip() == t.v4.ip()), "{p:?}");
    }
    eprintln!(
        "100 probes into a {held}-peer swarm: {:?} in all, slowest {slowest:?}",
        begin.elapsed()
    );
}
