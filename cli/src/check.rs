//! `trackwire check`: a conformance battery for a live UDP tracker (BEP 15 and BEP 41).
//!
//! One row per check: PASS, WARN (legal but unwise) or FAIL (breaks BEP 15/41), with the
//! rule it comes from and what was seen, printed as each check completes. The datagrams
//! are built and read by the library's codecs; this file only decides what to send and
//! what to make of the answer.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use trackwire::udp::{
    encode_url_data, max_scrape_hashes, payload_budget, AddressFamily, AnnounceEvent,
    AnnounceRequest, AnnounceTail, ConnectRequest, ConnectionId, InfoHash, InfoHashes, PeerId,
    Response, ScrapeRequest, TransactionId, MTU_ETHERNET,
};

use crate::cli::CheckArgs;
use crate::failure::Failure;
use crate::report::{Report, Verdict};

/// The info hash announced when none is given.
const DEFAULT_HASH: [u8; 20] = [0x5c; 20];

/// Runs `check`.
pub(crate) fn run(a: &CheckArgs) -> Result<ExitCode, Failure> {
    let authority = crate::announce::authority(&crate::announce::tracker_url(&a.url)?);
    let tracker = authority
        .to_socket_addrs()
        .map_err(|e| Failure::Unreachable(format!("cannot resolve {authority}: {e}")))?
        .next()
        .ok_or_else(|| Failure::Unreachable(format!("{authority} has no address")))?;
    let bind = if tracker.is_ipv6() {
        SocketAddr::from(([0u16; 8], 0))
    } else {
        SocketAddr::from(([0u8; 4], 0))
    };
    let socket = UdpSocket::bind(bind)
        .map_err(|e| Failure::Unreachable(format!("cannot bind {bind}: {e}")))?;
    let mut probe = Probe {
        socket,
        tracker,
        family: AddressFamily::of(tracker),
        wait: Duration::from_millis(a.wait_ms),
        next_tid: std::process::id(),
        largest_reply: 0,
        worst_ratio: (0.0, 0, 0),
    };
    let mut rep = Report::new(a.json);
    battery(
        &mut probe,
        InfoHash(a.info_hash.unwrap_or(DEFAULT_HASH)),
        a.long,
        &mut rep,
    );
    Ok(rep.finish())
}

struct Probe {
    socket: UdpSocket,
    tracker: SocketAddr,
    family: AddressFamily,
    wait: Duration,
    next_tid: u32,
    /// The largest reply seen, for the MTU check.
    largest_reply: usize,
    /// (reply/request ratio, request length, reply length) for unauthenticated datagrams.
    worst_ratio: (f64, usize, usize),
}

impl Probe {
    fn tid(&mut self) -> TransactionId {
        self.next_tid = self
            .next_tid
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12_345)
            | 1;
        TransactionId(self.next_tid)
    }

    /// Sends `bytes` and returns the first reply within the wait, if any.
    fn exchange(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        // Drop late replies to earlier probes.
        self.socket.set_nonblocking(true).ok()?;
        let mut buf = [0u8; 65536];
        while self.socket.recv_from(&mut buf).is_ok() {}
        self.socket.set_nonblocking(false).ok()?;
        self.socket.send_to(bytes, self.tracker).ok()?;
        let end = Instant::now() + self.wait;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) if from == self.tracker => {
                    self.largest_reply = self.largest_reply.max(n);
                    return Some(buf[..n].to_vec());
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
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
        let reply = self.unauthenticated(&req).ok_or("no reply to connect")?;
        match self.decode(&reply) {
            Ok(Response::Connect(c)) if c.transaction_id == tid => Ok(c.connection_id),
            Ok(other) => Err(format!("unexpected reply {}", shown(&other))),
            Err(e) => Err(format!("malformed reply: {e}")),
        }
    }
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

/// What an announce exchange produced.
enum Answer {
    Peers(Vec<SocketAddr>, u32),
    Error(TransactionId, String),
    Other(String),
    Silence,
}

fn ask(p: &mut Probe, bytes: &[u8], tid: TransactionId) -> Answer {
    let Some(reply) = p.exchange(bytes) else {
        return Answer::Silence;
    };
    match p.decode(&reply) {
        Ok(Response::Announce(a)) if a.transaction_id == tid => {
            Answer::Peers(a.peers.iter().collect(), a.interval)
        }
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
        Answer::Peers(p, _) => format!("announce reply with {} peers", p.len()),
        Answer::Error(t, m) => format!("error reply (tid {t}): \"{}\"", m.escape_debug()),
        Answer::Other(s) => s.clone(),
        Answer::Silence => "no reply".into(),
    }
}

/// The battery: each row is printed as soon as its check is done.
fn battery(p: &mut Probe, hash: InfoHash, long: bool, rep: &mut Report) {
    let fam = p.family;
    let budget = payload_budget(MTU_ETHERNET, fam);

    // -- connect ------------------------------------------------------------------------
    rep.progress("connect");
    let cid = match p.connect() {
        Ok(cid) => {
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
            return;
        }
    };

    // -- announce and peers ---------------------------------------------------------------
    rep.progress("announce and peers");
    let base = 42_000 + (std::process::id() % 1000) as u16 * 7;
    let tid = p.tid();
    match ask(p, &encode(&announce(cid, tid, hash, base)), tid) {
        Answer::Peers(_, interval) => rep.row(
            "announce",
            if interval == 0 {
                Verdict::Warn
            } else {
                Verdict::Pass
            },
            "BEP 15 announce",
            format!("announce reply, interval {interval} s"),
        ),
        other => rep.row(
            "announce",
            Verdict::Fail,
            "BEP 15 announce",
            describe(&other),
        ),
    }
    let tid = p.tid();
    match ask(p, &encode(&announce(cid, tid, hash, base + 1)), tid) {
        Answer::Peers(peers, _) => {
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
            Ok(Response::Announce(_)) => Answer::Peers(Vec::new(), 0),
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
            Answer::Peers(peers, _) => {
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

    // -- connection-id lifetime ---------------------------------------------------------------------
    if long {
        for (check, secs, must) in [
            ("cid_after_2_minutes", 115u64, true),
            ("cid_after_1_hour", 3605, false),
        ] {
            rep.progress(&format!("{check}: waiting"));
            std::thread::sleep(
                Duration::from_secs(secs).saturating_sub(Duration::from_secs(if must {
                    0
                } else {
                    115
                })),
            );
            let tid = p.tid();
            let answer = ask(p, &encode(&announce(cid, tid, hash, base + 13)), tid);
            let accepted = matches!(answer, Answer::Peers(..));
            let (verdict, rule) = if must {
                (
                    if accepted {
                        Verdict::Pass
                    } else {
                        Verdict::Fail
                    },
                    "BEP 15: a connection id is valid for 2 minutes",
                )
            } else {
                (
                    if accepted {
                        Verdict::Warn
                    } else {
                        Verdict::Pass
                    },
                    "BEP 15: connection ids expire",
                )
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
