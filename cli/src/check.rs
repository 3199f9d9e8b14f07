//! `trackwire check`: a conformance battery for a live UDP tracker (BEP 15 and BEP 41),
//! a superset of what tracker operators and list maintainers watch (newTrackon's checks
//! among them).
//!
//! One row per check: PASS, WARN (legal but unwise) or FAIL (breaks BEP 15/41), with the
//! rule it comes from and what was seen, printed as each check completes. Every address
//! the tracker's name resolves to (A and AAAA) gets the whole battery on its own, and
//! its rows are grouped under it. The datagrams are built and read by the library's
//! codecs; this file only decides what to send and what to make of the answer.

use std::collections::HashSet;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use trackwire::udp::{
    encode_url_data, max_scrape_hashes, payload_budget, AddressFamily, AnnounceEvent,
    AnnounceRequest, AnnounceTail, ConnectRequest, ConnectionId, InfoHash, InfoHashes, PeerId,
    Response, ScrapeRequest, ScrapeRow, TransactionId, MTU_ETHERNET,
};

use crate::check_html::{HtmlReport, HtmlRow};
use crate::cli::CheckArgs;
use crate::failure::Failure;
use crate::report::Verdict;

/// The info hash announced when none is given.
const DEFAULT_HASH: [u8; 20] = [0x5c; 20];

/// newTrackon's bounds on the announce interval, in seconds: shorter loads the tracker,
/// longer leaves swarms stale.
const INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 300..=10_800;

/// More peers or counts than this for an info hash nobody announced is made up
/// (newTrackon's "fake peers" rule).
const FAKE_PEER_LIMIT: u32 = 10;

/// Runs `check`.
pub(crate) fn run(a: &CheckArgs) -> Result<ExitCode, Failure> {
    let authority = crate::announce::authority(&crate::announce::tracker_url(&a.url)?);
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for addr in authority
        .to_socket_addrs()
        .map_err(|e| Failure::Unreachable(format!("cannot resolve {authority}: {e}")))?
    {
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    if addresses.is_empty() {
        return Err(Failure::Unreachable(format!("{authority} has no address")));
    }
    let started = SystemTime::now();
    let hash = InfoHash(a.info_hash.unwrap_or(DEFAULT_HASH));
    let mut rep = Rows::new(a.json, addresses.len() > 1);
    let mut probes = Vec::new();
    for &tracker in &addresses {
        rep.section(tracker);
        match Probe::new(tracker, Duration::from_millis(a.wait_ms)) {
            Ok(mut probe) => {
                battery(&mut probe, hash, &mut rep);
                probes.push(probe);
            }
            Err(e) => rep.row("connect", Verdict::Fail, "BEP 15 connect", e),
        }
    }
    if a.long {
        lifetimes(&mut probes, hash, &mut rep);
    }
    if let Some(path) = &a.html {
        let report = HtmlReport {
            url: &a.url,
            addresses: &addresses,
            started,
            rows: &rep.kept,
        };
        std::fs::write(path, report.render()).map_err(|e| {
            Failure::Failed(format!(
                "cannot write the HTML report {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(rep.finish())
}

/// Column widths for text rows: rows print one by one, so the widths cannot be
/// measured from the whole table; these fit every check name and most rules.
const CHECK_WIDTH: usize = 22;
const RULE_WIDTH: usize = 58;

/// The rows of a run: printed as they come (text or JSON), kept for the HTML report,
/// and remembered for the exit status.
struct Rows {
    json: bool,
    /// Several addresses: text rows go under a header line per address.
    grouped: bool,
    /// The address the rows being printed are about.
    address: SocketAddr,
    kept: Vec<HtmlRow>,
    failed: bool,
    /// Progress goes to stderr only when a person watches it.
    progress: bool,
}

impl Rows {
    fn new(json: bool, grouped: bool) -> Self {
        use std::io::IsTerminal;
        Rows {
            json,
            grouped,
            address: SocketAddr::from(([0u8; 4], 0)),
            kept: Vec::new(),
            failed: false,
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// Starts the rows of `address`.
    fn section(&mut self, address: SocketAddr) {
        self.address = address;
        if self.grouped && !self.json {
            self.clear_progress();
            crate::out::line(&format!(
                "== {address} ({})",
                family_name(AddressFamily::of(address))
            ));
        }
    }

    fn clear_progress(&self) {
        if self.progress {
            use std::io::Write;
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }

    /// Says on stderr what runs next (a terminal only: nothing when piped or captured).
    fn progress(&self, what: &str) {
        if self.progress {
            use std::io::Write;
            let _ = write!(std::io::stderr(), "\r\x1b[K… {} {what}", self.address);
        }
    }

    /// Prints one row now.
    fn row(&mut self, check: &'static str, verdict: Verdict, rule: &'static str, seen: String) {
        self.failed |= verdict == Verdict::Fail;
        self.clear_progress();
        let address = self.address.to_string();
        if self.json {
            crate::out::json(&serde_json::json!({
                "check": check,
                "verdict": verdict,
                "rule": rule,
                "seen": seen,
                "address": address,
            }));
        } else {
            crate::out::line(&format!(
                "{}  {check:<CHECK_WIDTH$} {rule:<RULE_WIDTH$} {seen}",
                verdict_name(verdict)
            ));
        }
        self.kept.push(HtmlRow {
            address,
            check,
            verdict,
            rule,
            seen,
        });
    }

    /// Exit status 1 if any row FAILed, else 0.
    fn finish(self) -> ExitCode {
        self.clear_progress();
        if self.failed {
            ExitCode::from(crate::failure::FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// PASS, WARN or FAIL.
pub(crate) fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
    }
}

/// One address under test, and what its replies showed along the way.
struct Probe {
    socket: UdpSocket,
    tracker: SocketAddr,
    family: AddressFamily,
    wait: Duration,
    next_tid: u32,
    /// Every transaction id sent: a reply carrying one of them late is not a mismatch.
    sent: HashSet<u32>,
    /// The largest reply seen, for the MTU check.
    largest_reply: usize,
    /// (reply/request ratio, request length, reply length) for unauthenticated datagrams.
    worst_ratio: (f64, usize, usize),
    /// Addresses other than `tracker` that datagrams came from, in order of appearance.
    foreign: Vec<SocketAddr>,
    /// Replies whose transaction id was never sent: (the request's, the reply's).
    tid_mismatches: Vec<(u32, u32)>,
    /// Replies matched to their request.
    replies: usize,
    /// Counts that are negative read as signed 32-bit numbers, described.
    negative: Vec<String>,
    /// Announce and scrape replies whose counts were looked at.
    counted: usize,
    /// The connection id and when it was issued, once connected.
    cid: Option<(ConnectionId, Instant)>,
    /// The first listen port of this probe's announces.
    base: u16,
}

impl Probe {
    fn new(tracker: SocketAddr, wait: Duration) -> Result<Self, String> {
        let bind = if tracker.is_ipv6() {
            SocketAddr::from(([0u16; 8], 0))
        } else {
            SocketAddr::from(([0u8; 4], 0))
        };
        let socket = UdpSocket::bind(bind).map_err(|e| format!("cannot bind {bind}: {e}"))?;
        Ok(Probe {
            socket,
            tracker,
            family: AddressFamily::of(tracker),
            wait,
            next_tid: std::process::id() ^ u32::from(tracker.port()),
            sent: HashSet::new(),
            largest_reply: 0,
            worst_ratio: (0.0, 0, 0),
            foreign: Vec::new(),
            tid_mismatches: Vec::new(),
            replies: 0,
            negative: Vec::new(),
            counted: 0,
            cid: None,
            base: 42_000 + (std::process::id() % 1000) as u16 * 7,
        })
    }

    fn tid(&mut self) -> TransactionId {
        self.next_tid = self
            .next_tid
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12_345)
            | 1;
        self.sent.insert(self.next_tid);
        TransactionId(self.next_tid)
    }

    /// Sends `bytes` and returns the first reply within the wait from the address the
    /// request went to, carrying the request's transaction id (when the request is long
    /// enough to have one). Datagrams from elsewhere, and replies with a transaction id
    /// never sent, are recorded and skipped, as a client skips them.
    fn exchange(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        // Drop late replies to earlier probes.
        self.socket.set_nonblocking(true).ok()?;
        let mut buf = [0u8; 65536];
        while let Ok((_, from)) = self.socket.recv_from(&mut buf) {
            self.note_source(from);
        }
        self.socket.set_nonblocking(false).ok()?;
        self.socket.send_to(bytes, self.tracker).ok()?;
        let wanted = tid_at(bytes, 12);
        let end = Instant::now() + self.wait;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) if from == self.tracker => {
                    let reply = &buf[..n];
                    match (wanted, tid_at(reply, 4)) {
                        (Some(w), Some(got)) if w != got => {
                            if !self.sent.contains(&got) {
                                self.tid_mismatches.push((w, got));
                            }
                            continue;
                        }
                        (Some(_), Some(_)) => self.replies += 1,
                        _ => {}
                    }
                    self.largest_reply = self.largest_reply.max(n);
                    self.note_counts(reply);
                    return Some(reply.to_vec());
                }
                Ok((_, from)) => self.note_source(from),
                Err(_) => return None,
            }
        }
    }

    fn note_source(&mut self, from: SocketAddr) {
        if from != self.tracker && !self.foreign.contains(&from) {
            self.foreign.push(from);
        }
    }

    /// Records counts that are negative as signed 32-bit numbers (newTrackon's check:
    /// trackers that subtract past zero send 2^32 - 1).
    fn note_counts(&mut self, reply: &[u8]) {
        let negative = |v: u32| (v as i32) < 0;
        match self.decode(reply) {
            Ok(Response::Announce(a)) => {
                self.counted += 1;
                for (name, v) in [("seeders", a.seeders), ("leechers", a.leechers)] {
                    if negative(v) {
                        self.negative.push(format!("announce {name} {}", v as i32));
                    }
                }
            }
            Ok(Response::Scrape(s)) => {
                self.counted += 1;
                for row in s.rows.iter() {
                    for (name, v) in [
                        ("complete", row.complete),
                        ("downloaded", row.downloaded),
                        ("incomplete", row.incomplete),
                    ] {
                        if negative(v) {
                            self.negative.push(format!("scrape {name} {}", v as i32));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Like [`Probe::exchange`] for a datagram the tracker cannot authenticate; records
    /// the reply-to-request ratio.
    fn unauthenticated(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let reply = self.exchange(bytes);
        if let Some(r) = &reply {
            let ratio = r.len() as f64 / bytes.len().max(1) as f64;
            if ratio > self.worst_ratio.0 {
                self.worst_ratio = (ratio, bytes.len(), r.len());
            }
        }
        reply
    }

    fn decode<'a>(&self, reply: &'a [u8]) -> Result<Response<'a>, trackwire::DecodeError> {
        Response::decode(reply, self.family)
    }

    fn connect(&mut self) -> Result<ConnectionId, String> {
        let tid = self.tid();
        let mut req = [0u8; 16];
        ConnectRequest {
            transaction_id: tid,
        }
        .encode(&mut req)
        .map_err(|e| e.to_string())?;
        let reply = self.unauthenticated(&req).ok_or_else(|| {
            let mut e = "no reply to connect".to_string();
            if let Some(f) = self.foreign.first() {
                e.push_str(&format!(
                    "; a reply came from {f}, not from {}",
                    self.tracker
                ));
            }
            if let Some((_, got)) = self.tid_mismatches.first() {
                e.push_str(&format!(
                    "; a reply carried transaction id {got}, never sent"
                ));
            }
            e
        })?;
        match self.decode(&reply) {
            Ok(Response::Connect(c)) if c.transaction_id == tid => Ok(c.connection_id),
            Ok(other) => Err(format!("unexpected reply {}", shown(&other))),
            Err(e) => Err(format!("malformed reply: {e}")),
        }
    }

    /// Scrapes `hashes`; the rows, or what came instead.
    fn scrape(&mut self, cid: ConnectionId, hashes: &[InfoHash]) -> Result<Vec<ScrapeRow>, String> {
        let tid = self.tid();
        let s = ScrapeRequest {
            connection_id: cid,
            transaction_id: tid,
            info_hashes: InfoHashes::from_slice(hashes),
        };
        let mut b = vec![0; s.encoded_len()];
        s.encode(&mut b).map_err(|e| e.to_string())?;
        let reply = self.exchange(&b).ok_or("no reply to a scrape")?;
        match self.decode(&reply) {
            Ok(Response::Scrape(r)) if r.rows.len() == hashes.len() => Ok(r.rows.iter().collect()),
            Ok(Response::Scrape(r)) => Err(format!(
                "{} scrape rows for {} hashes",
                r.rows.len(),
                hashes.len()
            )),
            Ok(other) => Err(format!("scrape answered with {}", shown(&other))),
            Err(e) => Err(format!("malformed scrape reply: {e}")),
        }
    }
}

/// The transaction id at `at` (12 in requests, 4 in replies), if the datagram has one.
fn tid_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn announce(
    cid: ConnectionId,
    tid: TransactionId,
    hash: InfoHash,
    port: u16,
) -> AnnounceRequest<'static> {
    let mut peer = *b"-TWCHK0-000000000000";
    peer[14..].copy_from_slice(format!("{port:06}").as_bytes());
    AnnounceRequest {
        connection_id: cid,
        transaction_id: tid,
        info_hash: hash,
        peer_id: PeerId(peer),
        downloaded: 0,
        left: 1000,
        uploaded: 0,
        event: AnnounceEvent::Started,
        ip: 0,
        key: u32::from(port),
        num_want: 50,
        port,
        tail: AnnounceTail::None,
    }
}

fn encode(a: &AnnounceRequest<'_>) -> Vec<u8> {
    let mut b = vec![0; a.encoded_len()];
    a.encode(&mut b).expect("sized buffer");
    b
}

/// An announce reply that matched its request.
struct Announced {
    peers: Vec<SocketAddr>,
    interval: u32,
    leechers: u32,
    seeders: u32,
}

/// What an announce exchange produced.
enum Answer {
    Peers(Announced),
    Error(TransactionId, String),
    Other(String),
    Silence,
}

fn ask(p: &mut Probe, bytes: &[u8], tid: TransactionId) -> Answer {
    let Some(reply) = p.exchange(bytes) else {
        return Answer::Silence;
    };
    match p.decode(&reply) {
        Ok(Response::Announce(a)) if a.transaction_id == tid => Answer::Peers(Announced {
            peers: a.peers.iter().collect(),
            interval: a.interval,
            leechers: a.leechers,
            seeders: a.seeders,
        }),
        Ok(Response::Error(e)) => Answer::Error(
            e.transaction_id,
            String::from_utf8_lossy(e.text()).into_owned(),
        ),
        Ok(other) => Answer::Other(shown(&other)),
        Err(e) => Answer::Other(format!("malformed: {e} ({} bytes)", reply.len())),
    }
}

fn describe(a: &Answer) -> String {
    match a {
        Answer::Peers(a) => format!("announce reply with {} peers", a.peers.len()),
        Answer::Error(t, m) => format!("error reply (tid {t}): \"{}\"", m.escape_debug()),
        Answer::Other(s) => s.clone(),
        Answer::Silence => "no reply".into(),
    }
}

/// The battery for one address: each row is printed as soon as its check is done.
fn battery(p: &mut Probe, hash: InfoHash, rep: &mut Rows) {
    let fam = p.family;
    let budget = payload_budget(MTU_ETHERNET, fam);

    // -- connect ------------------------------------------------------------------------
    rep.progress("connect");
    let cid = match p.connect() {
        Ok(cid) => {
            p.cid = Some((cid, Instant::now()));
            rep.row(
                "connect",
                Verdict::Pass,
                "BEP 15 connect",
                format!("connection id {cid}"),
            );
            cid
        }
        Err(e) => {
            rep.row("connect", Verdict::Fail, "BEP 15 connect", e);
            if !p.foreign.is_empty() {
                reply_source(p, rep);
            }
            if !p.tid_mismatches.is_empty() {
                transaction_ids(p, rep);
            }
            return;
        }
    };

    // -- announce and peers ---------------------------------------------------------------
    rep.progress("announce and peers");
    let base = p.base;
    let tid = p.tid();
    let first = ask(p, &encode(&announce(cid, tid, hash, base)), tid);
    match &first {
        Answer::Peers(a) => rep.row(
            "announce",
            if a.interval == 0 {
                Verdict::Warn
            } else {
                Verdict::Pass
            },
            "BEP 15 announce",
            format!("announce reply, interval {} s", a.interval),
        ),
        other => rep.row(
            "announce",
            Verdict::Fail,
            "BEP 15 announce",
            describe(other),
        ),
    }
    if let Answer::Peers(a) = &first {
        let rule = "newTrackon: announce interval from 300 s to 3 hours";
        if INTERVAL_RANGE.contains(&a.interval) {
            rep.row(
                "announce_interval",
                Verdict::Pass,
                rule,
                format!("{} s", a.interval),
            );
        } else {
            rep.row(
                "announce_interval",
                Verdict::Warn,
                rule,
                format!(
                    "{} s, outside {} to {} s",
                    a.interval,
                    INTERVAL_RANGE.start(),
                    INTERVAL_RANGE.end()
                ),
            );
        }
    }
    let tid = p.tid();
    match ask(p, &encode(&announce(cid, tid, hash, base + 1)), tid) {
        Answer::Peers(a) => {
            let peers = a.peers;
            let first = peers.iter().any(|a| a.port() == base);
            let itself = peers.iter().any(|a| a.port() == base + 1);
            let verdict = if itself { Verdict::Warn } else { Verdict::Pass };
            let mut seen = format!("{} peers in {} form", peers.len(), family_name(fam));
            if first {
                seen.push_str(", including the first announcer");
            }
            if itself {
                seen.push_str(", including the requester itself");
            }
            rep.row(
                "peers_family",
                verdict,
                "BEP 15 IPv4/IPv6 peer lists follow the socket's family",
                seen,
            );
        }
        Answer::Other(s) => rep.row(
            "peers_family",
            Verdict::Fail,
            "BEP 15 IPv4/IPv6 peer lists follow the socket's family",
            s,
        ),
        other => rep.row(
            "peers_family",
            Verdict::Fail,
            "BEP 15 announce",
            describe(&other),
        ),
    }

    // -- a fresh swarm: fake peers, then the swarm's semantics ------------------------------
    rep.progress("fake peers and swarm semantics");
    let fresh = InfoHash(crate::random::bytes());
    let swarm_hash = if fake_peers(p, cid, fresh, rep) {
        fresh
    } else {
        // A whitelisting tracker answers only torrents it knows: the semantics are then
        // read as changes in the given torrent's swarm.
        hash
    };
    swarm_semantics(p, cid, swarm_hash, swarm_hash == fresh, rep);

    // -- scrape -----------------------------------------------------------------------------
    rep.progress("scrape");
    let max = max_scrape_hashes(budget);
    for (check, n) in [
        ("scrape_1", 1usize),
        ("scrape_2", 2),
        ("scrape_mtu_max", max),
    ] {
        let hashes: Vec<InfoHash> = (0..n)
            .map(|i| {
                if i == 0 {
                    hash
                } else {
                    InfoHash([i as u8; 20])
                }
            })
            .collect();
        let tid = p.tid();
        let s = ScrapeRequest {
            connection_id: cid,
            transaction_id: tid,
            info_hashes: InfoHashes::from_slice(&hashes),
        };
        let mut b = vec![0; s.encoded_len()];
        s.encode(&mut b).expect("sized");
        let rule = "BEP 15 scrape: one row per requested hash";
        match p.exchange(&b) {
            None => rep.row(
                check,
                Verdict::Fail,
                rule,
                format!("no reply to {n} hashes"),
            ),
            Some(reply) => match p.decode(&reply) {
                Ok(Response::Scrape(r)) if r.transaction_id == tid && r.rows.len() == n => {
                    rep.row(check, Verdict::Pass, rule, format!("{n} rows"))
                }
                Ok(Response::Scrape(r)) => rep.row(
                    check,
                    Verdict::Fail,
                    rule,
                    format!("{} rows for {n} hashes", r.rows.len()),
                ),
                Ok(other) => rep.row(check, Verdict::Fail, rule, shown(&other)),
                Err(e) => rep.row(check, Verdict::Fail, rule, format!("malformed: {e}")),
            },
        }
    }

    // -- a bad connection id ------------------------------------------------------------------
    rep.progress("a bad connection id");
    let tid = p.tid();
    let bad = ConnectionId(cid.0 ^ 0x5a5a_5a5a_5a5a_5a5a);
    let bytes = encode(&announce(bad, tid, hash, base + 2));
    let rule = "BEP 15: an error reply carries the request's transaction id";
    let answer = match p.unauthenticated(&bytes) {
        None => Answer::Silence,
        Some(r) => match p.decode(&r) {
            Ok(Response::Error(e)) => Answer::Error(
                e.transaction_id,
                String::from_utf8_lossy(e.text()).into_owned(),
            ),
            Ok(Response::Announce(a)) => Answer::Peers(Announced {
                peers: Vec::new(),
                interval: a.interval,
                leechers: a.leechers,
                seeders: a.seeders,
            }),
            Ok(other) => Answer::Other(shown(&other)),
            Err(e) => Answer::Other(format!("malformed: {e}")),
        },
    };
    match &answer {
        Answer::Silence => rep.row("bad_connection_id", Verdict::Pass, rule, "silence".into()),
        Answer::Error(t, m) if *t == tid => rep.row(
            "bad_connection_id",
            Verdict::Pass,
            rule,
            format!("error reply \"{}\"", m.escape_debug()),
        ),
        Answer::Error(t, m) => rep.row(
            "bad_connection_id",
            Verdict::Fail,
            rule,
            format!(
                "error reply with tid {t}, not {tid}: \"{}\"",
                m.escape_debug()
            ),
        ),
        Answer::Peers(..) => rep.row(
            "bad_connection_id",
            Verdict::Fail,
            "BEP 15: connection ids authenticate requests",
            "announce accepted".into(),
        ),
        Answer::Other(s) => rep.row("bad_connection_id", Verdict::Fail, rule, s.clone()),
    }
    // The same at other sizes, for the amplification check below.
    for len in [16usize, 20, 36] {
        let _ = p.unauthenticated(&bytes[..len]);
    }

    // -- truncated requests ---------------------------------------------------------------------
    rep.progress("truncated requests");
    let tid = p.tid();
    let full = encode(&announce(cid, tid, hash, base + 3));
    let mut connect = [0u8; 16];
    ConnectRequest {
        transaction_id: tid,
    }
    .encode(&mut connect)
    .expect("16 bytes");
    let mut larger = Vec::new();
    let mut answered = 0;
    for (what, bytes) in [("connect", &connect[..]), ("announce", &full[..])] {
        for len in 0..bytes.len() {
            let reply = if what == "connect" {
                p.unauthenticated(&bytes[..len])
            } else {
                p.exchange(&bytes[..len])
            };
            if let Some(r) = reply {
                answered += 1;
                if r.len() > len {
                    larger.push(format!("{what}[..{len}] → {} bytes", r.len()));
                }
            }
        }
    }
    let rule = "a reply is never larger than the request (no amplification)";
    if larger.is_empty() {
        rep.row(
            "truncated_requests",
            Verdict::Pass,
            rule,
            format!(
                "{} truncations, {answered} answered, none larger",
                16 + full.len()
            ),
        );
    } else {
        rep.row("truncated_requests", Verdict::Fail, rule, larger.join("; "));
    }

    // -- tolerated tails ----------------------------------------------------------------------------
    rep.progress("tolerated tails");
    let accepted = |p: &mut Probe, tail: &[u8], port: u16| {
        let tid = p.tid();
        let mut bytes = encode(&announce(cid, tid, hash, port));
        bytes.extend_from_slice(tail);
        ask(p, &bytes, tid)
    };
    let mut connect_padded = connect.to_vec();
    connect_padded.extend([0; 4]);
    let r = p.exchange(&connect_padded);
    let ok = r
        .as_deref()
        .is_some_and(|r| matches!(p.decode(r), Ok(Response::Connect(_))));
    let trailing = accepted(
        p,
        &[0xde, 0xad, 0xbe, 0xef, 0x04, 0x00, 0x00, 0x00],
        base + 4,
    );
    let rule = "BEP 15: do not expect packets to be exactly of a certain size";
    match (ok, &trailing) {
        (true, Answer::Peers(..)) => rep.row(
            "trailing_bytes",
            Verdict::Pass,
            rule,
            "padded connect and announce answered".into(),
        ),
        _ => rep.row(
            "trailing_bytes",
            Verdict::Warn,
            rule,
            format!(
                "padded connect answered: {ok}; announce: {}",
                describe(&trailing)
            ),
        ),
    }
    let mut url = vec![0u8; 600];
    let n = encode_url_data(b"/announce?passkey=0123456789", false, &mut url).expect("fits");
    let mut split = vec![0u8; 600];
    let long_url: Vec<u8> = b"/announce?passkey="
        .iter()
        .copied()
        .chain(std::iter::repeat(b'k').take(300))
        .collect();
    let m = encode_url_data(&long_url, true, &mut split).expect("fits");
    let cases: [(&'static str, Vec<u8>, &'static str); 5] = [
        ("bep41_url_data", url[..n].to_vec(), "BEP 41: URLData"),
        (
            "bep41_split_url_data",
            split[..m].to_vec(),
            "BEP 41: URLData split over options",
        ),
        ("bep41_nop", vec![1, 1, 2, 1, b'/', 0], "BEP 41: NOP"),
        (
            "bep41_unknown_option",
            vec![0x77, 3, b'x', b'y', b'z', 0],
            "BEP 41: unknown option types are skipped",
        ),
        (
            "legacy_extensions_tail",
            vec![0, 0],
            "libtorrent/xbt extensions field (aria2's 100-byte announce)",
        ),
    ];
    for (i, (check, tail, rule)) in cases.into_iter().enumerate() {
        match accepted(p, &tail, base + 5 + i as u16) {
            Answer::Peers(..) => rep.row(check, Verdict::Pass, rule, "announce answered".into()),
            other => rep.row(check, Verdict::Fail, rule, describe(&other)),
        }
    }
    let tid = p.tid();
    let mut paused = announce(cid, tid, hash, base + 11);
    paused.event = AnnounceEvent::Paused;
    match ask(p, &encode(&paused), tid) {
        Answer::Peers(..) => rep.row(
            "event_4",
            Verdict::Pass,
            "libtorrent sends event 4 (paused)",
            "announce answered".into(),
        ),
        other => rep.row(
            "event_4",
            Verdict::Warn,
            "libtorrent sends event 4 (paused)",
            describe(&other),
        ),
    }

    // -- num_want ---------------------------------------------------------------------------------
    rep.progress("num_want (260 announces)");
    // A swarm larger than one datagram can carry, so caps show.
    let crowd = 260u16;
    for i in 0..crowd {
        let tid = p.tid();
        let _ = p.exchange(&encode(&announce(cid, tid, hash, base + 100 + i)));
    }
    for (check, want) in [
        ("num_want_-1", -1i32),
        ("num_want_0", 0),
        ("num_want_10000", 10_000),
    ] {
        let tid = p.tid();
        let mut a = announce(cid, tid, hash, base + 12);
        a.num_want = want;
        let rule = "BEP 15 num_want: -1 = default, else the most peers wanted";
        match ask(p, &encode(&a), tid) {
            Answer::Peers(Announced { peers, .. }) => {
                let (verdict, seen) = match want {
                    -1 if peers.is_empty() => {
                        (Verdict::Warn, "no peers for the default".to_string())
                    }
                    0 if !peers.is_empty() => (
                        Verdict::Warn,
                        format!("{} peers though none were wanted", peers.len()),
                    ),
                    _ => (Verdict::Pass, format!("{} peers", peers.len())),
                };
                rep.row(check, verdict, rule, seen);
            }
            other => rep.row(check, Verdict::Fail, rule, describe(&other)),
        }
    }
    rep.row(
        "reply_sizes",
        if p.largest_reply <= budget {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        "replies fit one datagram at MTU 1500",
        format!("largest reply {} bytes, budget {budget}", p.largest_reply),
    );
    let (ratio, req, reply_len) = p.worst_ratio;
    rep.row(
        "amplification",
        if ratio <= 1.0 {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        "an unauthenticated datagram never gets a larger reply",
        if req == 0 {
            "no unauthenticated datagram was answered".into()
        } else {
            format!("largest ratio {ratio:.2} ({req} → {reply_len} bytes)")
        },
    );

    // -- what the replies showed along the way ---------------------------------------------
    reply_source(p, rep);
    transaction_ids(p, rep);
    let rule = "newTrackon: counts never negative as signed 32-bit";
    if p.negative.is_empty() {
        rep.row(
            "counts_non_negative",
            Verdict::Pass,
            rule,
            format!(
                "{} announce and scrape replies, every count below 2^31",
                p.counted
            ),
        );
    } else {
        rep.row(
            "counts_non_negative",
            Verdict::Fail,
            rule,
            format!(
                "{} negative count(s): {}",
                p.negative.len(),
                p.negative
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// The `reply_source` row: every datagram must come from the address the request went to
/// (a multihomed tracker answering from another address is dropped by clients and
/// firewalls).
fn reply_source(p: &Probe, rep: &mut Rows) {
    let rule = "a reply comes from the address the request went to";
    if p.foreign.is_empty() {
        rep.row(
            "reply_source",
            Verdict::Pass,
            rule,
            format!("every reply came from {}", p.tracker),
        );
    } else {
        let seen: Vec<String> = p.foreign.iter().map(ToString::to_string).collect();
        rep.row(
            "reply_source",
            Verdict::Fail,
            rule,
            format!(
                "datagrams came from {}, not from {}",
                seen.join(", "),
                p.tracker
            ),
        );
    }
}

/// The `transaction_ids` row: a reply carries its request's transaction id.
fn transaction_ids(p: &Probe, rep: &mut Rows) {
    let rule = "BEP 15: a reply carries its request's transaction id";
    match p.tid_mismatches.first() {
        None => rep.row(
            "transaction_ids",
            Verdict::Pass,
            rule,
            format!("{} replies, every transaction id matched", p.replies),
        ),
        Some((sent, got)) => rep.row(
            "transaction_ids",
            Verdict::Fail,
            rule,
            format!(
                "{} replies with a transaction id never sent (e.g. {got} for {sent})",
                p.tid_mismatches.len()
            ),
        ),
    }
}

/// The `fake_peers` row: an info hash nobody announced has at most a handful of peers
/// (newTrackon). Announces as the first peer of the swarm semantics and returns whether
/// the tracker answered the fresh hash.
fn fake_peers(p: &mut Probe, cid: ConnectionId, fresh: InfoHash, rep: &mut Rows) -> bool {
    let rule = "newTrackon: at most 10 peers for a random info hash";
    let tid = p.tid();
    let port = p.base + 20;
    match ask(p, &encode(&announce(cid, tid, fresh, port)), tid) {
        Answer::Peers(a) => {
            let others = a.peers.iter().filter(|x| x.port() != port).count();
            let seen = format!(
                "{others} other peers, {} seeders, {} leechers",
                a.seeders, a.leechers
            );
            let fake = u32::try_from(others).unwrap_or(u32::MAX) > FAKE_PEER_LIMIT
                || a.seeders > FAKE_PEER_LIMIT
                || a.leechers > FAKE_PEER_LIMIT;
            if fake {
                rep.row(
                    "fake_peers",
                    Verdict::Fail,
                    rule,
                    format!("fake peers: {seen}"),
                );
            } else {
                rep.row("fake_peers", Verdict::Pass, rule, seen);
            }
            true
        }
        other => {
            rep.row(
                "fake_peers",
                Verdict::Warn,
                rule,
                format!(
                    "a random info hash got {} (a whitelisting tracker cannot be checked; \
                     the swarm checks use the given info hash)",
                    describe(&other)
                ),
            );
            false
        }
    }
}

/// One announce of the swarm checks: `port` is the peer, `left` 0 makes it a seeder.
fn swarm_announce(
    p: &mut Probe,
    cid: ConnectionId,
    hash: InfoHash,
    port: u16,
    event: AnnounceEvent,
    left: i64,
) -> Result<Announced, String> {
    let tid = p.tid();
    let mut a = announce(cid, tid, hash, port);
    a.event = event;
    a.left = left;
    a.num_want = 200;
    match ask(p, &encode(&a), tid) {
        Answer::Peers(a) => Ok(a),
        other => Err(format!("{event} announce: {}", describe(&other))),
    }
}

/// The swarm's semantics, read from announce replies and scrapes as changes, so that
/// other peers of a known torrent do not matter: `stopped` removes a peer, `left` 0 is a
/// seeder, `completed` counts one download. Peer A (port base + 20) has announced already
/// when `fresh`.
fn swarm_semantics(p: &mut Probe, cid: ConnectionId, hash: InfoHash, fresh: bool, rep: &mut Rows) {
    let (pa, pb, pc) = (p.base + 20, p.base + 21, p.base + 22);
    let rows = [
        "stopped_removes_peer",
        "left_0_is_seeder",
        "completed_counted_once",
    ];
    let outcome = (|| -> Result<(), String> {
        if !fresh {
            swarm_announce(p, cid, hash, pa, AnnounceEvent::Started, 1000)?;
        }
        // -- stopped --
        let before = swarm_announce(p, cid, hash, pb, AnnounceEvent::Started, 1000)?;
        let s1 = p.scrape(cid, &[hash])?[0];
        swarm_announce(p, cid, hash, pa, AnnounceEvent::Stopped, 1000)?;
        let after = swarm_announce(p, cid, hash, pb, AnnounceEvent::None, 1000)?;
        let s2 = p.scrape(cid, &[hash])?[0];
        let listed = |a: &Announced| a.peers.iter().any(|x| x.port() == pa);
        let mut wrong = Vec::new();
        if listed(&after) {
            wrong.push("still in the peer list".to_string());
        }
        if after.leechers >= before.leechers {
            wrong.push(format!(
                "announce leechers {} → {}",
                before.leechers, after.leechers
            ));
        }
        if s2.incomplete >= s1.incomplete {
            wrong.push(format!(
                "scrape incomplete {} → {}",
                s1.incomplete, s2.incomplete
            ));
        }
        let rule = "BEP 15: `stopped` removes the peer from lists and counts";
        if wrong.is_empty() {
            rep.row(
                rows[0],
                Verdict::Pass,
                rule,
                format!(
                    "listed before: {}, after: no; leechers {} → {}; scrape incomplete {} → {}",
                    if listed(&before) { "yes" } else { "no" },
                    before.leechers,
                    after.leechers,
                    s1.incomplete,
                    s2.incomplete
                ),
            );
        } else {
            rep.row(
                rows[0],
                Verdict::Fail,
                rule,
                format!("after `stopped`: {}", wrong.join("; ")),
            );
        }
        // -- left 0 --
        let seeder = swarm_announce(p, cid, hash, pc, AnnounceEvent::Started, 0)?;
        let s3 = p.scrape(cid, &[hash])?[0];
        let rule = "BEP 15: `left` 0 is a seeder (scrape `complete`)";
        let seen = format!(
            "announce seeders {} → {}; scrape complete {} → {}",
            after.seeders, seeder.seeders, s2.complete, s3.complete
        );
        if seeder.seeders > after.seeders && s3.complete > s2.complete {
            rep.row(rows[1], Verdict::Pass, rule, seen);
        } else {
            rep.row(rows[1], Verdict::Fail, rule, seen);
        }
        // -- completed, twice --
        swarm_announce(p, cid, hash, pb, AnnounceEvent::Completed, 0)?;
        let s4 = p.scrape(cid, &[hash])?[0];
        swarm_announce(p, cid, hash, pb, AnnounceEvent::Completed, 0)?;
        let s5 = p.scrape(cid, &[hash])?[0];
        let rule = "BEP 15: `completed` raises scrape `downloaded` once";
        let seen = format!(
            "downloaded {} → {} → {} (completed sent twice)",
            s3.downloaded, s4.downloaded, s5.downloaded
        );
        let once = s4.downloaded == s3.downloaded.wrapping_add(1) && s5.downloaded == s4.downloaded;
        rep.row(
            rows[2],
            if once { Verdict::Pass } else { Verdict::Fail },
            rule,
            seen,
        );
        // Leave the swarm as it was found.
        for port in [pb, pc] {
            let _ = swarm_announce(p, cid, hash, port, AnnounceEvent::Stopped, 0);
        }
        Ok(())
    })();
    if let Err(e) = outcome {
        // The rows not reached yet fail with what stopped them.
        let done: Vec<&str> = rep
            .kept
            .iter()
            .filter(|r| r.address == p.tracker.to_string())
            .map(|r| r.check)
            .collect();
        for check in rows.into_iter().filter(|c| !done.contains(c)) {
            rep.row(
                check,
                Verdict::Fail,
                "BEP 15 announce and scrape",
                e.clone(),
            );
        }
    }
}

/// The connection-id lifetime checks (`--long`), on every address at once: the id of
/// each address's battery is reused about 2 minutes, 5 minutes and an hour after it was
/// issued.
fn lifetimes(probes: &mut [Probe], hash: InfoHash, rep: &mut Rows) {
    for (check, secs) in [
        ("cid_after_2_minutes", 115u64),
        ("cid_after_5_minutes", 300),
        ("cid_after_1_hour", 3605),
    ] {
        for p in probes.iter_mut() {
            let Some((cid, issued)) = p.cid else {
                continue;
            };
            rep.section(p.tracker);
            rep.progress(&format!("{check}: waiting"));
            let due = issued + Duration::from_secs(secs);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let tid = p.tid();
            let port = p.base + 13;
            let answer = ask(p, &encode(&announce(cid, tid, hash, port)), tid);
            let accepted = matches!(answer, Answer::Peers(..));
            let (verdict, rule) = match secs {
                115 => (
                    if accepted {
                        Verdict::Pass
                    } else {
                        Verdict::Fail
                    },
                    "BEP 15: a connection id is valid for 2 minutes",
                ),
                300 => (
                    if accepted {
                        Verdict::Pass
                    } else {
                        Verdict::Warn
                    },
                    "uTorrent and BitComet reuse a connection id for ~5 minutes",
                ),
                _ => (
                    if accepted {
                        Verdict::Warn
                    } else {
                        Verdict::Pass
                    },
                    "BEP 15: connection ids expire",
                ),
            };
            rep.row(check, verdict, rule, describe(&answer));
        }
    }
}

/// A reply as `decode udp` prints it (never a Rust `Debug` dump).
fn shown(r: &Response<'_>) -> String {
    crate::udp_json::response_json(r).to_string()
}

/// The family as people write it.
fn family_name(f: AddressFamily) -> &'static str {
    match f {
        AddressFamily::Ipv4 => "IPv4",
        _ => "IPv6",
    }
}
