//! Virtual-time simulations of `udp::Client` against an in-memory tracker built from the
//! codec. Nothing sleeps: time jumps to `poll_timeout()`.

use std::net::SocketAddr;
use std::time::Duration;

use trackwire::udp::{
    verify_datagram, AddressFamily, AnnounceParams, AnnounceRequest, AnnounceResponse, Client,
    ClientConfig, ClientEvent, ConnectResponse, ConnectionId, ConnectionState, ErrorResponse,
    ExchangeId, ExchangePhase, InfoHash, PeerId, Peers, Received, Rejected, Request, RetryPolicy,
    ScrapeResponse, ScrapeRow, ScrapeRows, TailConfig, TailGrammar, TransactionId,
    MAX_URL_DATA_LEN,
};
use trackwire::{DecodeErrorKind, Instant, UsageErrorKind};

const SEED: u64 = 0x5eed_1234_abcd_0001;

/// `sha1(b"s3cret")` and `sha1(b"wrong")`, from coreutils' `sha1sum`: the password digests
/// the legacy authentication is checked against.
const SHA1_S3CRET: [u8; 20] = hex20("fef341f85d87439e7d91a2d465b9871ef66b5e98");
const SHA1_WRONG: [u8; 20] = hex20("a4b48a81cdab1e1a5dd37907d6c85ca1c61ddc7c");

const fn hex20(s: &str) -> [u8; 20] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

fn v4() -> SocketAddr {
    "192.0.2.1:6969".parse().unwrap()
}

fn v6() -> SocketAddr {
    "[2001:db8::1]:6969".parse().unwrap()
}

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn params(n: u8) -> AnnounceParams {
    let mut p = AnnounceParams::new(InfoHash([n; 20]), PeerId(*b"-TW0001-abcdefghijkl"), 6881);
    p.left = 1000;
    p.key = 0xfeed;
    p.num_want = 50;
    p
}

// ---- the fake tracker ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Announce,
    Scrape,
}

/// A tracker made of the codec: decodes each request and encodes a reply.
struct Tracker {
    addr: SocketAddr,
    next_cid: u64,
    /// Answer connects?
    connects: bool,
    /// Answer announces and scrapes?
    requests: bool,
    /// Connection ids it accepts (others get "Connection ID missmatch.").
    valid: Vec<u64>,
}

impl Tracker {
    fn new(addr: SocketAddr) -> Self {
        Tracker {
            addr,
            next_cid: 0x1000,
            connects: true,
            requests: true,
            valid: Vec::new(),
        }
    }

    fn reply(&mut self, datagram: &[u8]) -> Option<Vec<u8>> {
        let family = AddressFamily::of(self.addr);
        let mut out = vec![0u8; 2048];
        let len = match Request::decode(datagram).expect("client sent a valid request") {
            Request::Connect(c) => {
                if !self.connects {
                    return None;
                }
                self.next_cid += 1;
                self.valid.push(self.next_cid);
                ConnectResponse {
                    transaction_id: c.transaction_id,
                    connection_id: ConnectionId(self.next_cid),
                }
                .encode(&mut out)
                .unwrap()
            }
            req => {
                if !self.requests {
                    return None;
                }
                let tid = req.transaction_id();
                if !self.valid.contains(&req.connection_id().unwrap().0) {
                    error_reply(tid, b"Connection ID missmatch.\0", &mut out)
                } else if let Request::Scrape(s) = req {
                    let rows: Vec<ScrapeRow> = s.info_hashes.iter().map(row_for).collect();
                    ScrapeResponse {
                        transaction_id: tid,
                        rows: ScrapeRows::from_slice(&rows),
                    }
                    .encode(&mut out)
                    .unwrap()
                } else {
                    announce_reply(tid, family, &mut out)
                }
            }
        };
        out.truncate(len);
        Some(out)
    }
}

fn row_for(h: InfoHash) -> ScrapeRow {
    ScrapeRow {
        complete: u32::from(h.0[0]),
        downloaded: u32::from(h.0[1]) * 1000,
        incomplete: u32::from(h.0[2]),
    }
}

fn announce_reply(tid: TransactionId, family: AddressFamily, out: &mut [u8]) -> usize {
    let raw: &[u8] = match family {
        AddressFamily::Ipv4 => &[10, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2],
        AddressFamily::Ipv6 => &[
            0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x1a, 0xe1,
        ],
    };
    AnnounceResponse {
        transaction_id: tid,
        interval: 1800,
        leechers: 3,
        seeders: 4,
        peers: Peers::from_compact(family, raw).unwrap(),
    }
    .encode(out)
    .unwrap()
}

fn error_reply(tid: TransactionId, msg: &[u8], out: &mut [u8]) -> usize {
    ErrorResponse {
        transaction_id: tid,
        message: msg,
    }
    .encode(out)
    .unwrap()
}

fn kind(datagram: &[u8]) -> Kind {
    match Request::decode(datagram).unwrap() {
        Request::Connect(_) => Kind::Connect,
        Request::Announce(_) => Kind::Announce,
        Request::Scrape(_) => Kind::Scrape,
    }
}

fn tid_of(datagram: &[u8]) -> TransactionId {
    Request::decode(datagram).unwrap().transaction_id()
}

// ---- the simulation --------------------------------------------------------------------

/// What an exchange ended with, copied out of the borrowed result.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Announced { peers: usize, interval: u32 },
    Scraped(Vec<(InfoHash, ScrapeRow)>),
    Failed(Vec<u8>),
}

fn owned<const N: usize>(r: &Received<'_, N>) -> Option<(ExchangeId, Outcome)> {
    match r {
        Received::Announced { id, response } => Some((
            *id,
            Outcome::Announced {
                peers: response.peers.len(),
                interval: response.interval,
            },
        )),
        Received::Scraped { id, response } => {
            Some((*id, Outcome::Scraped(response.iter().collect())))
        }
        Received::Failed { id, error } => Some((*id, Outcome::Failed(error.message.to_vec()))),
        _ => None,
    }
}

/// The exchanges a reply ended.
fn ended_by<const N: usize>(r: &Received<'_, N>) -> Vec<ExchangeId> {
    match r {
        Received::Announced { id, .. }
        | Received::Scraped { id, .. }
        | Received::Failed { id, .. } => vec![*id],
        Received::ConnectFailed { failed, .. } | Received::ConnectMalformed { failed, .. } => {
            failed.iter().collect()
        }
        Received::Malformed { id, .. } => vec![*id],
        _ => Vec::new(),
    }
}

struct Sim<const N: usize> {
    client: Client<N>,
    tracker: Tracker,
    now: Instant,
    /// Every datagram the client sent: (time, kind, bytes).
    sent: Vec<(Instant, Kind, Vec<u8>)>,
    events: Vec<(Instant, ClientEvent)>,
    outcomes: Vec<(Instant, ExchangeId, Outcome)>,
}

impl<const N: usize> Sim<N> {
    fn new(config: ClientConfig<'_>) -> Self {
        let tracker = Tracker::new(config.tracker);
        Sim {
            client: Client::new_sized(config, SEED).unwrap(),
            tracker,
            now: Instant::ZERO,
            sent: Vec::new(),
            events: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    fn with_policy(addr: SocketAddr, retry: RetryPolicy) -> Self {
        Self::new(ClientConfig::new(addr).with_retry(retry))
    }

    /// Drains transmits, delivering each to the tracker and its reply (zero latency) back
    /// to the client, then drains events.
    fn pump(&mut self) {
        let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf).unwrap() {
            assert_eq!(t.destination, self.tracker.addr);
            assert!(t.len <= <Client>::MAX_TRANSMIT_LEN);
            let d = buf[..t.len].to_vec();
            self.sent.push((self.now, kind(&d), d.clone()));
            if let Some(reply) = self.tracker.reply(&d) {
                let from = self.tracker.addr;
                let r = self.client.handle_datagram(self.now, from, &reply).unwrap();
                if let Some((id, o)) = owned(&r) {
                    self.outcomes.push((self.now, id, o));
                }
            }
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push((self.now, e));
        }
    }

    /// Jumps to the next deadline and handles it; `false` when nothing is armed.
    fn step(&mut self) -> bool {
        self.pump();
        let Some(t) = self.client.poll_timeout() else {
            return false;
        };
        assert!(t >= self.now, "deadline in the past");
        self.now = t;
        self.client.handle_timeout(t);
        self.pump();
        true
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("simulation did not settle");
    }

    fn send_times(&self, k: Kind) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|(_, kk, _)| *kk == k)
            .map(|(t, _, _)| t.as_millis() / 1000)
            .collect()
    }

    fn all_send_times(&self) -> Vec<(u64, Kind)> {
        self.sent
            .iter()
            .map(|(t, k, _)| (t.as_millis() / 1000, *k))
            .collect()
    }
}

// ---- retry schedules -------------------------------------------------------------------

#[test]
fn seed_policy_schedule_is_exact_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.connects = false;
    let id = sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    assert_eq!(sim.send_times(Kind::Connect), [0, 15, 30, 45]);
    assert_eq!(sim.sent.len(), 4);
    assert_eq!(sim.events, [(secs(60), ClientEvent::TimedOut { id })]);
    // Every datagram had its own transaction id.
    let mut tids: Vec<_> = sim.sent.iter().map(|(_, _, d)| tid_of(d)).collect();
    tids.dedup();
    assert_eq!(tids.len(), 4);
    assert_eq!(sim.client.exchange(id), None);
    assert_eq!(sim.client.state(), ConnectionState::Unconnected);
}

#[test]
fn bep15_policy_schedule_is_exact_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::BEP15);
    sim.tracker.connects = false;
    let id = sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    assert_eq!(
        sim.send_times(Kind::Connect),
        [0, 15, 45, 105, 225, 465, 945, 1905, 3825]
    );
    assert_eq!(sim.events, [(secs(7665), ClientEvent::TimedOut { id })]);
}

#[test]
fn bep15_announce_retries_reconnect_after_expiry_sim() {
    // Connects are answered, announces are not: the id (60 s) expires between the
    // retransmissions at 45 and 105 s, so from then on each retransmission is a connect
    // followed by the announce.
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::BEP15);
    sim.tracker.requests = false;
    let id = sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(
        sim.all_send_times(),
        [
            (0, C),
            (0, A),
            (15, A),
            (45, A),
            (105, C),
            (105, A),
            (225, C),
            (225, A),
            (465, C),
            (465, A),
            (945, C),
            (945, A),
            (1905, C),
            (1905, A),
            (3825, C),
            (3825, A),
        ]
    );
    assert_eq!(sim.events, [(secs(7665), ClientEvent::TimedOut { id })]);
}

#[test]
fn seed_policy_reconnects_mid_retry_with_short_lifetime_sim() {
    let config = ClientConfig::new(v4()).with_connection_id_lifetime(Duration::from_secs(20));
    let mut sim = Sim::<1>::new(config);
    sim.tracker.requests = false;
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(
        sim.all_send_times(),
        [(0, C), (0, A), (15, A), (30, C), (30, A), (45, A)]
    );
    assert_eq!(sim.events.len(), 1);
    assert_eq!(sim.events[0].0, secs(60));
}

#[test]
fn custom_single_send_policy_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::single(Duration::from_secs(10)));
    sim.tracker.connects = false;
    let id = sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    assert_eq!(sim.send_times(Kind::Connect), [0]);
    assert_eq!(sim.events, [(secs(10), ClientEvent::TimedOut { id })]);
}

// ---- connection ids ----------------------------------------------------------------------

#[test]
fn connection_id_is_cached_then_expires_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let cid = sim.client.connection_id().expect("cached");
    assert_eq!(sim.client.state(), ConnectionState::Connected(cid));
    assert_eq!(sim.client.poll_timeout(), Some(secs(60)));

    // 30 s later: the cached id is used, no connect.
    sim.now = secs(30);
    sim.client.handle_timeout(sim.now);
    sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    // At 60 s the id expires.
    sim.now = secs(60);
    sim.client.handle_timeout(sim.now);
    assert_eq!(sim.client.connection_id(), None);
    assert_eq!(sim.client.poll_timeout(), None);
    sim.now = secs(61);
    sim.client.announce(sim.now, params(3)).unwrap();
    sim.pump();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(
        sim.all_send_times(),
        [(0, C), (0, A), (30, A), (61, C), (61, A)]
    );
    assert_eq!(sim.outcomes.len(), 3);
    assert_ne!(sim.client.connection_id(), Some(cid));
}

#[test]
fn lazy_expiry_without_handle_timeout_sim() {
    // A driver that never calls handle_timeout still reconnects once the id is old.
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    sim.now = secs(100);
    sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    assert_eq!(sim.send_times(Kind::Connect), [0, 100]);
}

#[test]
fn zero_lifetime_connects_before_every_request_sim() {
    let config = ClientConfig::new(v4()).with_connection_id_lifetime(Duration::ZERO);
    let mut sim = Sim::<1>::new(config);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    sim.client.announce(sim.now, params(2)).unwrap();
    sim.run();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(sim.all_send_times(), [(0, C), (0, A), (0, C), (0, A)]);
    assert_eq!(sim.outcomes.len(), 2);
}

// ---- replies that must change nothing --------------------------------------------------

/// Starts one announce, answers the connect, and returns the announce datagram.
fn announce_in_flight<const N: usize>(sim: &mut Sim<N>) -> (ExchangeId, Vec<u8>) {
    sim.tracker.requests = false;
    let id = sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    sim.tracker.requests = true;
    let (_, k, d) = sim.sent.last().unwrap().clone();
    assert_eq!(k, Kind::Announce);
    assert_eq!(
        sim.client.exchange(id).unwrap().phase,
        ExchangePhase::AwaitingReply
    );
    (id, d)
}

#[test]
fn spoofed_transaction_ids_are_ignored_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    let (id, announce) = announce_in_flight(&mut sim);
    let real = sim.tracker.reply(&announce).unwrap();
    let before = format!("{:?}", sim.client);
    let deadline = sim.client.poll_timeout();
    let tid = tid_of(&announce);
    for forged in [tid.0.wrapping_add(1), tid.0 ^ 0x8000_0000, 0] {
        let mut out = [0u8; 64];
        let n = announce_reply(TransactionId(forged), AddressFamily::Ipv4, &mut out);
        let r = sim.client.handle_datagram(sim.now, v4(), &out[..n]);
        assert_eq!(
            r.unwrap_err(),
            Rejected::UnknownTransaction(TransactionId(forged))
        );
        // A forged error reply cannot end the exchange either.
        let n = error_reply(TransactionId(forged), b"go away", &mut out);
        assert!(sim
            .client
            .handle_datagram(sim.now, v4(), &out[..n])
            .is_err());
    }
    assert_eq!(format!("{:?}", sim.client), before);
    assert_eq!(sim.client.poll_timeout(), deadline);
    let r = sim.client.handle_datagram(sim.now, v4(), &real).unwrap();
    assert!(matches!(r, Received::Announced { id: got, .. } if got == id));
}

#[test]
fn reply_with_the_wrong_action_is_ignored_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    let (_, announce) = announce_in_flight(&mut sim);
    let before = format!("{:?}", sim.client);
    let mut out = [0u8; 64];
    let n = ScrapeResponse {
        transaction_id: tid_of(&announce),
        rows: ScrapeRows::from_slice(&[]),
    }
    .encode(&mut out)
    .unwrap();
    let err = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap_err();
    assert!(matches!(err, Rejected::UnexpectedAction { .. }), "{err}");
    assert_eq!(format!("{:?}", sim.client), before);
}

#[test]
fn reply_from_an_unexpected_address_is_ignored_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    let (id, announce) = announce_in_flight(&mut sim);
    let reply = sim.tracker.reply(&announce).unwrap();
    let before = format!("{:?}", sim.client);
    let elsewhere: SocketAddr = "192.0.2.1:6970".parse().unwrap();
    let other: SocketAddr = "198.51.100.7:6969".parse().unwrap();
    for from in [elsewhere, other] {
        assert_eq!(
            sim.client
                .handle_datagram(sim.now, from, &reply)
                .unwrap_err(),
            Rejected::UnexpectedSource(from)
        );
    }
    assert_eq!(format!("{:?}", sim.client), before);
    // The IPv4-mapped form of the tracker's address is the tracker.
    let mapped: SocketAddr = "[::ffff:192.0.2.1]:6969".parse().unwrap();
    let r = sim.client.handle_datagram(sim.now, mapped, &reply).unwrap();
    assert!(matches!(r, Received::Announced { id: got, .. } if got == id));
}

#[test]
fn source_check_can_be_turned_off_sim() {
    let mut sim = Sim::<1>::new(ClientConfig::new(v4()).with_check_source(false));
    let (id, announce) = announce_in_flight(&mut sim);
    let reply = sim.tracker.reply(&announce).unwrap();
    let other: SocketAddr = "198.51.100.7:6969".parse().unwrap();
    let r = sim.client.handle_datagram(sim.now, other, &reply).unwrap();
    assert!(matches!(r, Received::Announced { id: got, .. } if got == id));
}

#[test]
fn malformed_replies_without_an_awaited_tid_change_nothing_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    let (id, announce) = announce_in_flight(&mut sim);
    let good = sim.tracker.reply(&announce).unwrap();
    let tid = tid_of(&announce);
    let foreign = TransactionId(tid.0.wrapping_add(1)).0.to_be_bytes();
    let before = format!("{:?}", sim.client);
    let mut ragged_foreign = good.clone();
    ragged_foreign.extend_from_slice(&[1, 2, 3]);
    ragged_foreign[4..8].copy_from_slice(&foreign);
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        good[..7].to_vec(), // too short to carry a transaction id
        ragged_foreign,
        [&[0, 0, 0, 1][..], &foreign[..]].concat(),
    ];
    for bad in &cases {
        let err = sim.client.handle_datagram(sim.now, v4(), bad).unwrap_err();
        assert!(matches!(err, Rejected::Malformed(_)), "{err}");
        assert_eq!(format!("{:?}", sim.client), before);
    }
    // From another address, even the awaited tid changes nothing.
    let other: SocketAddr = "198.51.100.7:6969".parse().unwrap();
    let eight = [&[0, 0, 0, 1][..], &tid.0.to_be_bytes()[..]].concat();
    assert_eq!(
        sim.client
            .handle_datagram(sim.now, other, &eight)
            .unwrap_err(),
        Rejected::UnexpectedSource(other)
    );
    assert_eq!(format!("{:?}", sim.client), before);
    let r = sim.client.handle_datagram(sim.now, v4(), &good).unwrap();
    assert!(matches!(r, Received::Announced { id: got, .. } if got == id));
}

/// Debian's opentracker answers an announce for an info hash outside its whitelist with
/// exactly 8 bytes: action 1 and the transaction id. That ends the exchange at once.
#[test]
fn opentrackers_8_byte_reply_ends_the_announce_at_once_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    let (id, announce) = announce_in_flight(&mut sim);
    let cid = sim.client.connection_id();
    let reply = [&[0, 0, 0, 1][..], &tid_of(&announce).0.to_be_bytes()[..]].concat();
    assert_eq!(reply.len(), 8);
    let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    let Received::Malformed { id: got, error } = r else {
        panic!("{r:?}")
    };
    assert_eq!(got, id);
    // The reply ends where the interval should start.
    assert_eq!((error.kind().name(), error.offset()), ("truncated", 8));
    assert_eq!(sim.client.exchange(id), None);
    assert_eq!(sim.client.in_flight(), 0);
    // Only the connection id's expiry is left: no retransmission at 15 s.
    assert_eq!(
        sim.client.poll_timeout(),
        Some(sim.now.saturating_add(Duration::from_secs(60)))
    );
    assert_eq!(
        sim.client.connection_id(),
        cid,
        "the tracker did not refuse the id"
    );
    // The same bytes again are a stray: the exchange is over.
    assert_eq!(
        sim.client
            .handle_datagram(sim.now, v4(), &reply)
            .unwrap_err(),
        Rejected::Malformed(error)
    );
    sim.run();
    assert!(
        sim.events.is_empty(),
        "no timeout follows: {:?}",
        sim.events
    );
    assert_eq!(sim.send_times(Kind::Announce), [0]);
}

#[test]
fn malformed_replies_with_the_awaited_tid_end_their_exchange_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    let (first, announce) = announce_in_flight(&mut sim);
    let good = sim.tracker.reply(&announce).unwrap();
    sim.client.cancel(first).unwrap();
    let mut ragged = good.clone();
    ragged.extend_from_slice(&[1, 2, 3]); // 20 + 2×6 + 3: aria2 reads past the end
    let mut unknown_action = good.clone();
    unknown_action[3] = 9;
    let cases = [
        (ragged, DecodeErrorKind::PartialRecord { stride: 6 }),
        (unknown_action, DecodeErrorKind::UnknownAction(9)),
        (
            good[..19].to_vec(),
            DecodeErrorKind::Truncated { needed: 1 },
        ),
    ];
    for (bad, kind) in cases {
        let (id, announce) = announce_in_flight(&mut sim);
        let mut bad = bad;
        bad[4..8].copy_from_slice(&tid_of(&announce).0.to_be_bytes());
        let r = sim.client.handle_datagram(sim.now, v4(), &bad).unwrap();
        assert!(
            matches!(r, Received::Malformed { id: got, error } if got == id && error.kind() == kind),
            "{r:?}"
        );
        assert_eq!(sim.client.in_flight(), 0);
    }
}

#[test]
fn malformed_reply_to_the_connect_fails_the_waiting_exchanges_sim() {
    let mut sim = Sim::<3>::with_policy(v4(), RetryPolicy::SEED);
    let a = sim.client.announce(sim.now, params(1)).unwrap();
    let b = sim.client.scrape(sim.now, &[InfoHash([1; 20])]).unwrap();
    let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
    let t = sim
        .client
        .poll_transmit(sim.now, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(kind(&buf[..t.len]), Kind::Connect);
    // A 12-byte connect reply: the connection id is cut short.
    let reply = [
        &[0, 0, 0, 0][..],
        &tid_of(&buf[..t.len]).0.to_be_bytes()[..],
        &[0; 4],
    ]
    .concat();
    let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    let Received::ConnectMalformed { error, failed } = r else {
        panic!("{r:?}")
    };
    assert_eq!(failed.as_slice(), [a, b]);
    assert_eq!(error.offset(), 8);
    assert_eq!(sim.client.in_flight(), 0);
    assert_eq!(sim.client.state(), ConnectionState::Unconnected);
    assert_eq!(sim.client.poll_timeout(), None);
}

// ---- error replies ---------------------------------------------------------------------

#[test]
fn error_reply_fails_only_its_exchange_and_keeps_the_message_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.requests = false;
    let a = sim.client.announce(sim.now, params(1)).unwrap();
    let b = sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    let announces: Vec<_> = sim
        .sent
        .iter()
        .filter(|s| s.1 == Kind::Announce)
        .map(|s| s.2.clone())
        .collect();
    assert_eq!(announces.len(), 2);
    let mut out = [0u8; 64];
    let n = error_reply(tid_of(&announces[0]), b"torrent not registered\0", &mut out);
    let r = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap();
    let Received::Failed { id, error } = r else {
        panic!("{r:?}")
    };
    assert_eq!(id, a);
    assert_eq!(error.message, b"torrent not registered\0");
    assert_eq!(error.to_str(), Ok("torrent not registered"));
    assert_eq!(sim.client.exchange(a), None);
    assert_eq!(
        sim.client.exchange(b).unwrap().phase,
        ExchangePhase::AwaitingReply
    );
    // The other exchange still completes.
    sim.tracker.requests = true;
    let reply = sim.tracker.reply(&announces[1]).unwrap();
    let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    assert!(matches!(r, Received::Announced { id, .. } if id == b));
    assert!(sim.client.poll_event().is_none());
}

#[test]
fn error_to_a_request_with_the_cached_id_drops_it_sim() {
    // The libtorrent capture: the tracker forgot our id and answers
    // "Connection ID missmatch." libtorrent keeps the id for 60 s; we reconnect.
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let first = sim.client.connection_id().unwrap();
    sim.tracker.valid.clear(); // the tracker restarted
    sim.now = secs(5);
    let b = sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    let (_, _, Outcome::Failed(msg)) = &sim.outcomes[1] else {
        panic!("{:?}", sim.outcomes)
    };
    assert_eq!(msg, b"Connection ID missmatch.\0");
    assert_eq!(sim.outcomes[1].1, b);
    assert_eq!(sim.client.connection_id(), None);
    // The next try reconnects and succeeds.
    sim.now = secs(6);
    sim.client.announce(sim.now, params(3)).unwrap();
    sim.pump();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(
        sim.all_send_times(),
        [(0, C), (0, A), (5, A), (6, C), (6, A)]
    );
    assert!(matches!(sim.outcomes[2].2, Outcome::Announced { .. }));
    assert_ne!(sim.client.connection_id(), Some(first));
}

#[test]
fn error_drop_requeues_requests_still_holding_the_id_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.requests = false;
    let a = sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let announce = sim.sent.last().unwrap().2.clone();
    // b is queued with the cached id but not transmitted yet.
    let b = sim.client.announce(sim.now, params(2)).unwrap();
    assert_eq!(
        sim.client.exchange(b).unwrap().phase,
        ExchangePhase::ReadyToSend
    );
    let mut out = [0u8; 64];
    let n = error_reply(tid_of(&announce), b"Connection ID missmatch.\0", &mut out);
    let r = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap();
    assert!(matches!(r, Received::Failed { id, .. } if id == a));
    assert_eq!(
        sim.client.exchange(b).unwrap().phase,
        ExchangePhase::AwaitingConnection
    );
    sim.tracker.requests = true;
    sim.pump();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(sim.all_send_times(), [(0, C), (0, A), (0, C), (0, A)]);
}

#[test]
fn error_answering_the_connect_fails_the_waiting_exchanges_sim() {
    let mut sim = Sim::<4>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.connects = false;
    let ids: Vec<_> = (1..=3)
        .map(|n| sim.client.announce(sim.now, params(n)).unwrap())
        .collect();
    sim.pump();
    assert_eq!(sim.send_times(Kind::Connect), [0]);
    let connect = sim.sent[0].2.clone();
    let mut out = [0u8; 64];
    let n = error_reply(tid_of(&connect), b"banned", &mut out);
    let r = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap();
    let Received::ConnectFailed { error, failed } = r else {
        panic!("{r:?}")
    };
    // One report, naming every exchange that waited, in the order they were issued.
    assert_eq!(error.message, b"banned");
    assert_eq!(failed.as_slice(), &ids[..]);
    assert_eq!(failed.iter().collect::<Vec<_>>(), ids);
    assert_eq!(failed.len(), 3);
    // ... and nothing else: no event repeats it, and the handles are retired.
    assert_eq!(sim.client.poll_event(), None);
    assert!(ids.iter().all(|&id| sim.client.exchange(id).is_none()));
    assert_eq!(sim.client.poll_timeout(), None);
    assert_eq!(sim.client.in_flight(), 0);
    // Time passing afterwards does not bring the refused exchanges back as timeouts.
    sim.now = secs(3600);
    sim.client.handle_timeout(sim.now);
    assert_eq!(sim.client.poll_event(), None);
}

#[test]
fn a_refused_connect_names_only_the_exchanges_that_waited_for_it_sim() {
    // A is sent with a 1 s connection id and waits for its reply; the id has expired
    // when B and C start, so they wait for a second connect, which is refused.
    let config = ClientConfig::new(v4()).with_connection_id_lifetime(Duration::from_secs(1));
    let mut sim = Sim::<4>::new(config);
    sim.tracker.requests = false;
    let a = sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    assert_eq!(
        sim.client.exchange(a).unwrap().phase,
        ExchangePhase::AwaitingReply
    );
    sim.now = secs(2);
    sim.tracker.connects = false;
    let b = sim.client.announce(sim.now, params(2)).unwrap();
    let c = sim.client.scrape(sim.now, &hashes(2)).unwrap();
    sim.pump();
    let connect = sim
        .sent
        .iter()
        .rev()
        .find(|s| s.1 == Kind::Connect)
        .unwrap();
    assert_eq!(connect.0, secs(2));
    let mut out = [0u8; 64];
    let n = error_reply(tid_of(&connect.2), b"go away", &mut out);
    let r = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap();
    let Received::ConnectFailed { failed, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(failed.as_slice(), [b, c]);
    assert!(!failed.contains(a));
    assert_eq!(sim.client.poll_event(), None);
    assert_eq!(
        sim.client.exchange(a).unwrap().phase,
        ExchangePhase::AwaitingReply
    );
    assert_eq!(sim.client.in_flight(), 1);
}

#[test]
fn a_reply_can_be_held_while_the_client_is_used_sim() {
    // The reply borrows the datagram, not the client: re-announce, scrape and read the
    // client's state while the first reply is still in use.
    let mut sim = Sim::<4>::with_policy(v4(), RetryPolicy::SEED);
    let hs = hashes(2);
    let first = sim.client.scrape(sim.now, &hs).unwrap();
    let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
    let mut reply = Vec::new();
    while let Some(t) = sim.client.poll_transmit(sim.now, &mut buf).unwrap() {
        reply = sim.tracker.reply(&buf[..t.len]).unwrap();
        if kind(&buf[..t.len]) == Kind::Connect {
            let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
            assert!(matches!(r, Received::Connected { waiting: 1, .. }));
        }
    }
    let held = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    let again = sim.client.announce(sim.now, params(9)).unwrap();
    let more = sim.client.scrape(sim.now, &hs[..1]).unwrap();
    assert_eq!(sim.client.in_flight(), 2);
    let Received::Scraped { id, response } = &held else {
        panic!("{held:?}")
    };
    assert_eq!(*id, first);
    assert_eq!(response.hashes(), &hs[..]);
    assert_eq!(
        response.iter().collect::<Vec<_>>(),
        hs.iter().map(|&h| (h, row_for(h))).collect::<Vec<_>>()
    );
    // The new exchanges use the cached id: their requests go out at once.
    let t = sim
        .client
        .poll_transmit(sim.now, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(kind(&buf[..t.len]), Kind::Announce);
    drop(held);
    assert_ne!(again, more);
}

// ---- loss, duplication, reordering -----------------------------------------------------

#[test]
fn lost_connect_reply_is_retransmitted_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.connects = false;
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    sim.tracker.connects = true;
    sim.run();
    use Kind::{Announce as A, Connect as C};
    assert_eq!(sim.all_send_times(), [(0, C), (15, C), (15, A)]);
    assert_eq!(sim.outcomes.len(), 1);
    assert!(sim.events.is_empty());
}

#[test]
fn duplicate_and_reordered_replies_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    let (id, first) = announce_in_flight(&mut sim);
    let late = sim.tracker.reply(&first).unwrap();
    // The reply to the first announce is delayed past the retransmission at 15 s.
    sim.tracker.requests = false;
    sim.now = secs(15);
    sim.client.handle_timeout(sim.now);
    sim.pump();
    let second = sim.sent.last().unwrap().2.clone();
    assert_ne!(tid_of(&first), tid_of(&second));
    // The superseded reply arrives: ignored, the exchange keeps waiting.
    assert_eq!(
        sim.client
            .handle_datagram(sim.now, v4(), &late)
            .unwrap_err(),
        Rejected::UnknownTransaction(tid_of(&first))
    );
    assert!(sim.client.exchange(id).is_some());
    sim.tracker.requests = true;
    let reply = sim.tracker.reply(&second).unwrap();
    let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    assert!(matches!(r, Received::Announced { id: got, .. } if got == id));
    // A duplicate after completion is ignored.
    assert_eq!(
        sim.client
            .handle_datagram(sim.now, v4(), &reply)
            .unwrap_err(),
        Rejected::UnknownTransaction(tid_of(&second))
    );
    // So is a duplicate connect reply.
    let connect = sim.sent[0].2.clone();
    let mut out = [0u8; 16];
    ConnectResponse {
        transaction_id: tid_of(&connect),
        connection_id: ConnectionId(7),
    }
    .encode(&mut out)
    .unwrap();
    assert!(sim.client.handle_datagram(sim.now, v4(), &out).is_err());
    assert_ne!(sim.client.connection_id(), Some(ConnectionId(7)));
}

/// A deterministic lossy link: drops, duplicates and delays datagrams both ways.
#[test]
fn lossy_network_every_exchange_ends_exactly_once_sim() {
    for seed in 0..40u64 {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rand = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let config = ClientConfig::new(v4()).with_retry(RetryPolicy::SEED);
        let mut client = Client::<4>::new_sized(config, seed).unwrap();
        let mut tracker = Tracker::new(v4());
        let mut ids = Vec::new();
        for n in 0..4 {
            ids.push(client.announce(Instant::ZERO, params(n)).unwrap());
        }
        // In-flight replies: (arrival time, bytes).
        let mut wire: Vec<(Instant, Vec<u8>)> = Vec::new();
        let mut ended: Vec<ExchangeId> = Vec::new();
        let mut now = Instant::ZERO;
        let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
        for _ in 0..10_000 {
            while let Some(t) = client.poll_transmit(now, &mut buf).unwrap() {
                if rand(4) == 0 {
                    continue; // request lost
                }
                if let Some(reply) = tracker.reply(&buf[..t.len]) {
                    for _ in 0..=rand(2) {
                        // maybe duplicated, each copy delayed 0–20 s
                        let at = now.saturating_add(Duration::from_millis(rand(20_000)));
                        wire.push((at, reply.clone()));
                    }
                }
            }
            while let Some(e) = client.poll_event() {
                ended.push(e.id());
            }
            let next_reply = wire.iter().map(|w| w.0).min();
            let next = match (client.poll_timeout(), next_reply) {
                (None, None) => break,
                (a, b) => a.into_iter().chain(b).min().unwrap(),
            };
            now = now.max(next);
            if let Some(i) = wire.iter().position(|w| w.0 <= now) {
                let (_, d) = wire.remove(i);
                if let Ok(r) = client.handle_datagram(now, v4(), &d) {
                    if let Some((id, o)) = owned(&r) {
                        assert!(matches!(o, Outcome::Announced { peers: 2, .. }));
                        ended.push(id);
                    }
                }
            } else {
                client.handle_timeout(now);
            }
        }
        ended.sort();
        assert_eq!(ended, ids, "seed {seed}: each exchange ends exactly once");
        assert_eq!(client.in_flight(), 0);
    }
}

// ---- concurrency -----------------------------------------------------------------------

#[test]
fn n_concurrent_exchanges_share_one_connect_sim() {
    let mut sim = Sim::<8>::with_policy(v4(), RetryPolicy::SEED);
    let ids: Vec<_> = (0..8)
        .map(|n| sim.client.announce(sim.now, params(n)).unwrap())
        .collect();
    assert_eq!(
        sim.client
            .announce(sim.now, params(9))
            .map_err(|e| e.kind()),
        Err(UsageErrorKind::Full)
    );
    assert_eq!(sim.client.in_flight(), 8);
    sim.pump();
    assert_eq!(sim.send_times(Kind::Connect), [0]);
    assert_eq!(sim.send_times(Kind::Announce).len(), 8);
    let cid = sim.client.connection_id().unwrap();
    let mut tids = Vec::new();
    for (_, _, d) in &sim.sent[1..] {
        let a = AnnounceRequest::decode(d).unwrap();
        assert_eq!(a.connection_id, cid);
        tids.push(a.transaction_id);
    }
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), 8);
    let mut done: Vec<_> = sim.outcomes.iter().map(|o| o.1).collect();
    done.sort();
    assert_eq!(done, ids);
    // Slots are free again.
    assert!(sim.client.announce(sim.now, params(9)).is_ok());
}

#[test]
fn a_new_exchange_joins_a_connect_in_flight_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.connects = false;
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let connect = sim.sent[0].2.clone();
    sim.now = secs(5);
    sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    assert_eq!(sim.sent.len(), 1, "joined the connect sent at 0 s");
    // Its reply (arriving now) serves both.
    sim.tracker.connects = true;
    let reply = sim.tracker.reply(&connect).unwrap();
    let r = sim.client.handle_datagram(sim.now, v4(), &reply).unwrap();
    assert!(matches!(r, Received::Connected { waiting: 2, .. }));
    sim.pump();
    assert_eq!(sim.send_times(Kind::Announce), [5, 5]);
    assert_eq!(sim.outcomes.len(), 2);
}

// ---- scrape --------------------------------------------------------------------------------

fn hashes(n: usize) -> Vec<InfoHash> {
    (0..n)
        .map(|i| {
            let mut h = [0u8; 20];
            h[0] = (i % 251) as u8;
            h[1] = (i / 251) as u8 + 1;
            h[2] = (i * 7 % 256) as u8;
            h[19] = 0xaa;
            InfoHash(h)
        })
        .collect()
}

#[test]
fn scrape_batching_and_row_mapping_ipv4_sim() {
    let mut sim = Sim::<4>::with_policy(v4(), RetryPolicy::SEED);
    assert_eq!(sim.client.max_scrape_hashes(), 72);
    let all = hashes(150);
    assert_eq!(
        sim.client.scrape(sim.now, &all).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
    assert_eq!(
        sim.client.scrape(sim.now, &[]).map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidValue)
    );
    let ids: Vec<_> = all
        .chunks(sim.client.max_scrape_hashes())
        .map(|c| sim.client.scrape(sim.now, c).unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    sim.pump();
    use Kind::{Connect as C, Scrape as S};
    assert_eq!(sim.all_send_times(), [(0, C), (0, S), (0, S), (0, S)]);
    let lens: Vec<_> = sim.sent[1..].iter().map(|s| s.2.len()).collect();
    assert_eq!(lens, [16 + 20 * 72, 16 + 20 * 72, 16 + 20 * 6]);
    assert!(lens.iter().all(|&l| l <= 1472));
    let mut mapped = Vec::new();
    for (i, (_, id, o)) in sim.outcomes.iter().enumerate() {
        assert_eq!(*id, ids[i]);
        let Outcome::Scraped(rows) = o else { panic!() };
        mapped.extend(rows.iter().cloned());
    }
    assert_eq!(mapped.len(), 150);
    for ((h, row), expected) in mapped.iter().zip(&all) {
        assert_eq!(h, expected);
        assert_eq!(*row, row_for(*h));
    }
}

#[test]
fn scrape_limits_follow_the_family_and_budget_sim() {
    let c6 = Client::<1>::new_sized(ClientConfig::new(v6()), SEED).unwrap();
    assert_eq!(c6.max_scrape_hashes(), 71);
    let small = ClientConfig::new(v6()).with_payload_budget(1232);
    assert_eq!(
        Client::<1>::new_sized(small, SEED)
            .unwrap()
            .max_scrape_hashes(),
        60
    );
    let huge = ClientConfig::new(v4()).with_payload_budget(65_000);
    assert_eq!(
        Client::<1>::new_sized(huge, SEED)
            .unwrap()
            .max_scrape_hashes(),
        72
    );
    let tiny = ClientConfig::new(v4()).with_payload_budget(97);
    let err = Client::<1>::new_sized(tiny, SEED).unwrap_err();
    assert_eq!(
        (err.kind(), err.argument()),
        (UsageErrorKind::TooLong, "config.tail")
    );
}

#[test]
fn max_transmit_len_suffices_for_every_datagram_sim() {
    // The largest datagram of each kind, with the payload budget raised past the cap:
    // a full scrape, and an announce with the longest tail of each grammar.
    assert_eq!(<Client>::MAX_TRANSMIT_LEN, 1472);
    assert_eq!(Client::<1>::MAX_TRANSMIT_LEN, <Client>::MAX_TRANSMIT_LEN);
    let url = vec![b'u'; MAX_URL_DATA_LEN];
    let (name, request) = ([b'n'; 255], [b'r'; 255]);
    let tails = [
        TailConfig::None,
        TailConfig::UrlData(&url),
        TailConfig::LegacyAuth {
            username: &name,
            password: b"pw",
            request_string: Some(&request),
        },
    ];
    let mut largest = 0;
    for tail in tails {
        for tracker in [v4(), v6()] {
            let config = ClientConfig::new(tracker)
                .with_tail(tail)
                .with_payload_budget(65_507);
            let mut client = Client::new(config, SEED).unwrap();
            client.announce(Instant::ZERO, params(1)).unwrap();
            let all = hashes(client.max_scrape_hashes());
            client.scrape(Instant::ZERO, &all).unwrap();
            let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
            let t = client
                .poll_transmit(Instant::ZERO, &mut buf)
                .unwrap()
                .unwrap();
            assert_eq!(kind(&buf[..t.len]), Kind::Connect);
            let reply = Tracker::new(tracker).reply(&buf[..t.len]).unwrap();
            let _ = client
                .handle_datagram(Instant::ZERO, tracker, &reply)
                .unwrap();
            let mut kinds = Vec::new();
            while let Some(t) = client.poll_transmit(Instant::ZERO, &mut buf).unwrap() {
                assert!(t.len <= <Client>::MAX_TRANSMIT_LEN);
                kinds.push(kind(&buf[..t.len]));
                largest = largest.max(t.len);
            }
            assert_eq!(kinds, [Kind::Announce, Kind::Scrape]);
        }
    }
    // 72 hashes: 16 + 72 × 20 bytes, the largest datagram a client writes.
    assert_eq!(largest, 1456);
}

#[test]
fn short_scrape_reply_maps_what_it_has_sim() {
    let mut sim = Sim::<1>::with_policy(v4(), RetryPolicy::SEED);
    sim.tracker.requests = false;
    let hs = hashes(3);
    let id = sim.client.scrape(sim.now, &hs).unwrap();
    sim.pump();
    let scrape = sim.sent.last().unwrap().2.clone();
    let rows = [row_for(hs[0]), row_for(hs[1])];
    let mut out = [0u8; 64];
    let n = ScrapeResponse {
        transaction_id: tid_of(&scrape),
        rows: ScrapeRows::from_slice(&rows),
    }
    .encode(&mut out)
    .unwrap();
    let r = sim
        .client
        .handle_datagram(sim.now, v4(), &out[..n])
        .unwrap();
    let Received::Scraped { id: got, response } = r else {
        panic!()
    };
    assert_eq!(got, id);
    assert!(!response.is_complete());
    assert_eq!(response.hashes(), &hs[..]);
    assert_eq!(response.iter().count(), 2);
}

#[test]
fn ipv6_announce_reply_uses_18_byte_peers_sim() {
    let mut sim = Sim::<1>::with_policy(v6(), RetryPolicy::SEED);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    assert_eq!(
        sim.outcomes[0].2,
        Outcome::Announced {
            peers: 1,
            interval: 1800
        }
    );
}

// ---- announce tails ------------------------------------------------------------------------

fn first_announce(config: ClientConfig<'_>) -> Vec<u8> {
    let mut sim = Sim::<1>::new(config);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let a = sim.sent.iter().find(|s| s.1 == Kind::Announce).unwrap();
    a.2.clone()
}

#[test]
fn url_data_tail_is_split_at_255_bytes_sim() {
    let mut url = b"/announce?passkey=".to_vec();
    url.extend((0..300).map(|i| b'a' + (i % 26) as u8));
    let d = first_announce(ClientConfig::new(v4()).with_tail(TailConfig::UrlData(&url)));
    assert_eq!(d.len(), 98 + url.len() + 4);
    let a = AnnounceRequest::decode(&d).unwrap();
    let o = a.options().expect("BEP 41 options");
    let chunks: Vec<_> = o.url_data().map(|c| c.len()).collect();
    assert_eq!(chunks, [255, url.len() - 255]);
    let mut back = vec![0u8; o.url_data_len()];
    o.copy_url_data(&mut back).unwrap();
    assert_eq!(back, url);
    assert_eq!(a.info_hash, InfoHash([1; 20]));
    assert_eq!(a.num_want, 50);

    // A short URL is one URLData, like libtorrent's 109-byte announce.
    let d = first_announce(ClientConfig::new(v4()).with_tail(TailConfig::UrlData(b"/announce")));
    assert_eq!(d.len(), 109);
    assert_eq!(&d[98..], b"\x02\x09/announce");

    // The documented maximum.
    let longest = vec![b'x'; MAX_URL_DATA_LEN];
    let d = first_announce(ClientConfig::new(v6()).with_tail(TailConfig::UrlData(&longest)));
    assert!(d.len() <= 1232);
    let too_long = vec![b'x'; MAX_URL_DATA_LEN + 1];
    let config = ClientConfig::new(v4()).with_tail(TailConfig::UrlData(&too_long));
    let err = Client::<1>::new_sized(config, SEED).unwrap_err();
    assert_eq!(
        (err.kind(), err.argument()),
        (UsageErrorKind::TooLong, "config.tail.url")
    );
}

#[test]
fn legacy_auth_tail_verifies_sim() {
    let tail = TailConfig::LegacyAuth {
        username: b"alice",
        password: b"s3cret",
        request_string: Some(b"/announce?x=1"),
    };
    let d = first_announce(ClientConfig::new(v4()).with_tail(tail));
    let a = AnnounceRequest::decode_with(&d, TailGrammar::Legacy).unwrap();
    let e = a.extensions().expect("legacy extensions");
    assert_eq!(e.bits, 3);
    assert_eq!(e.auth.unwrap().username.as_bytes(), b"alice");
    assert_eq!(e.request_string.unwrap().as_bytes(), b"/announce?x=1");
    assert!(verify_datagram(&d, &SHA1_S3CRET));
    assert!(!verify_datagram(&d, &SHA1_WRONG));

    // Every retransmission is re-hashed over its own (new) transaction id.
    let mut sim = Sim::<1>::new(ClientConfig::new(v4()).with_tail(tail));
    sim.tracker.requests = false;
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.run();
    let announces: Vec<_> = sim.sent.iter().filter(|s| s.1 == Kind::Announce).collect();
    assert_eq!(announces.len(), 4);
    for (_, _, d) in announces {
        assert!(verify_datagram(d, &SHA1_S3CRET));
    }

    let long_name = [b'u'; 256];
    let bad = TailConfig::LegacyAuth {
        username: &long_name,
        password: b"",
        request_string: None,
    };
    let config = ClientConfig::new(v4()).with_tail(bad);
    let err = Client::<1>::new_sized(config, SEED).unwrap_err();
    assert_eq!(
        (err.kind(), err.argument()),
        (UsageErrorKind::TooLong, "config.tail.username")
    );
}

// ---- commands and time -----------------------------------------------------------------

#[test]
fn cancel_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    let (id, announce) = announce_in_flight(&mut sim);
    let reply = sim.tracker.reply(&announce).unwrap();
    sim.client.cancel(id).unwrap();
    assert_eq!(
        sim.client.cancel(id).map_err(|e| e.kind()),
        Err(UsageErrorKind::UnknownHandle)
    );
    assert_eq!(sim.client.exchange(id), None);
    assert_eq!(
        sim.client
            .handle_datagram(sim.now, v4(), &reply)
            .unwrap_err(),
        Rejected::UnknownTransaction(tid_of(&announce))
    );
    // Only the id expiry is left armed.
    assert_eq!(sim.client.poll_timeout(), Some(secs(60)));

    // Cancelling the only exchange waiting for a connect forgets the connect.
    sim.tracker.connects = false;
    sim.now = secs(70);
    sim.client.handle_timeout(sim.now);
    let b = sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    assert_eq!(sim.client.state(), ConnectionState::Connecting);
    sim.client.cancel(b).unwrap();
    assert_eq!(sim.client.state(), ConnectionState::Unconnected);
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn handle_timeout_before_the_deadline_is_a_no_op_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::BEP15);
    sim.tracker.requests = false;
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    let before = format!("{:?}", sim.client);
    let deadline = sim.client.poll_timeout().unwrap();
    assert_eq!(deadline, secs(15));
    for t in [0, 1, 14_999] {
        sim.client.handle_timeout(Instant::from_millis(t));
        sim.client.handle_timeout(Instant::from_millis(t));
    }
    assert_eq!(format!("{:?}", sim.client), before);
    let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
    assert_eq!(sim.client.poll_transmit(secs(14), &mut buf), Ok(None));
    assert_eq!(sim.client.poll_event(), None);
}

#[test]
fn time_going_backwards_never_panics_sim() {
    let mut sim = Sim::<2>::with_policy(v4(), RetryPolicy::SEED);
    sim.now = secs(1000);
    sim.client.announce(sim.now, params(1)).unwrap();
    sim.pump();
    assert_eq!(sim.outcomes.len(), 1);
    // Back to 0: the id (received at 1000 s) counts as fresh, deadlines not yet reached.
    sim.now = Instant::ZERO;
    sim.client.handle_timeout(sim.now);
    sim.tracker.requests = false;
    let id = sim.client.announce(sim.now, params(2)).unwrap();
    sim.pump();
    assert_eq!(sim.send_times(Kind::Connect), [1000]);
    assert_eq!(sim.client.poll_timeout(), Some(secs(15)));
    sim.client.handle_timeout(Instant::ZERO);
    // Forward again, then far back while a retry is due.
    sim.client.handle_timeout(secs(15));
    sim.client.handle_timeout(secs(3));
    let status = sim.client.exchange(id).unwrap();
    assert_eq!(status.sends, 2);
    assert!(status.deadline.unwrap() >= secs(15));
    sim.now = Instant::from_millis(u64::MAX);
    sim.client.handle_timeout(sim.now);
    sim.pump();
    sim.client.handle_timeout(Instant::ZERO);
}

#[test]
fn poll_transmit_with_a_small_buffer_changes_nothing_sim() {
    let config = ClientConfig::new(v4()).with_tail(TailConfig::UrlData(b"/announce"));
    let mut a = Client::<1>::new_sized(config, SEED).unwrap();
    let mut b = a.clone();
    for c in [&mut a, &mut b] {
        c.announce(Instant::ZERO, params(1)).unwrap();
    }
    // Too small for the connect.
    let mut small = [0xeeu8; 15];
    let err = a.poll_transmit(Instant::ZERO, &mut small).unwrap_err();
    assert_eq!(err.required(), 16);
    assert_eq!(small, [0xee; 15]);
    let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
    let mut twin = [0u8; <Client>::MAX_TRANSMIT_LEN];
    let t = a.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
    let u = b.poll_transmit(Instant::ZERO, &mut twin).unwrap().unwrap();
    assert_eq!(
        buf[..t.len],
        twin[..u.len],
        "same tid as without the failed call"
    );
    let mut tracker = Tracker::new(v4());
    let reply = tracker.reply(&buf[..t.len]).unwrap();
    for c in [&mut a, &mut b] {
        let r = c.handle_datagram(Instant::ZERO, v4(), &reply).unwrap();
        assert!(matches!(r, Received::Connected { waiting: 1, .. }));
    }
    // Too small for the 109-byte announce.
    let mut small = [0xeeu8; 108];
    assert_eq!(
        a.poll_transmit(Instant::ZERO, &mut small)
            .unwrap_err()
            .required(),
        109
    );
    assert_eq!(small, [0xee; 108]);
    let t = a.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
    let u = b.poll_transmit(Instant::ZERO, &mut twin).unwrap().unwrap();
    assert_eq!(t.len, 109);
    assert_eq!(buf[..t.len], twin[..u.len]);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

#[test]
fn transaction_ids_depend_on_the_seed_sim() {
    let first = |seed| {
        let mut c = Client::<1>::new_sized(ClientConfig::new(v4()), seed).unwrap();
        c.announce(Instant::ZERO, params(1)).unwrap();
        let mut buf = [0u8; 16];
        let _ = c.poll_transmit(Instant::ZERO, &mut buf).unwrap().unwrap();
        tid_of(&buf)
    };
    assert_eq!(first(1), first(1));
    assert_ne!(first(1), first(2));
    assert_ne!(first(0).0, 0);
}

// ---- property: arbitrary scripts ---------------------------------------------------------

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        /// Arbitrary bytes, from the tracker's address or another one.
        Garbage {
            from_tracker: bool,
            bytes: Vec<u8>,
        },
        /// The fake tracker's reply to the `which`-th datagram sent so far, possibly
        /// mangled.
        Reply {
            which: usize,
            mangle: u8,
        },
        Advance(u64),
        Back(u64),
        JumpToDeadline,
        Timeout,
        Announce(u8),
        Scrape(usize),
        Cancel(u64),
        Transmit(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64))
                .prop_map(|(from_tracker, bytes)| Op::Garbage { from_tracker, bytes }),
            4 => (any::<usize>(), 0u8..6).prop_map(|(which, mangle)| Op::Reply { which, mangle }),
            1 => (0u64..200_000).prop_map(Op::Advance),
            1 => (0u64..100_000).prop_map(Op::Back),
            3 => Just(Op::JumpToDeadline),
            1 => Just(Op::Timeout),
            2 => any::<u8>().prop_map(Op::Announce),
            1 => (0usize..90).prop_map(Op::Scrape),
            1 => (0u64..8).prop_map(Op::Cancel),
            3 => (0usize..1600).prop_map(Op::Transmit),
        ]
    }

    fn config() -> impl Strategy<Value = (bool, bool, u8, u64)> {
        (any::<bool>(), any::<bool>(), 0u8..3, 0u64..90)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_scripts_keep_the_invariants(
            (ipv6, check_source, tail, lifetime) in config(),
            seed in any::<u64>(),
            script in proptest::collection::vec(op(), 0..80),
        ) {
            let addr = if ipv6 { v6() } else { v4() };
            let tail = match tail {
                0 => TailConfig::None,
                1 => TailConfig::UrlData(b"/announce?passkey=0123456789"),
                _ => TailConfig::LegacyAuth {
                    username: b"user",
                    password: b"pw",
                    request_string: Some(b"/a"),
                },
            };
            let retry = if seed % 2 == 0 { RetryPolicy::SEED } else { RetryPolicy::BEP15 };
            let config = ClientConfig::new(addr)
                .with_retry(retry)
                .with_check_source(check_source)
                .with_connection_id_lifetime(Duration::from_secs(lifetime))
                .with_tail(tail);
            let mut client = Client::<4>::new_sized(config, seed).unwrap();
            let mut tracker = Tracker::new(addr);
            let mut now = Instant::ZERO;
            let mut sent: Vec<Vec<u8>> = Vec::new();
            let mut issued: Vec<ExchangeId> = Vec::new();
            // Every exchange ends at most once, on one channel: a report from
            // handle_datagram, an event from poll_event, or a cancel.
            let mut ended: Vec<ExchangeId> = Vec::new();
            let end = |ids: Vec<ExchangeId>, ended: &mut Vec<ExchangeId>| {
                for id in ids {
                    if ended.contains(&id) {
                        return Err(format!("{id} ended twice"));
                    }
                    ended.push(id);
                }
                Ok(())
            };
            let stranger: SocketAddr = "198.51.100.7:1".parse().unwrap();

            for op in script {
                match op {
                    Op::Garbage { from_tracker, bytes } => {
                        let from = if from_tracker { addr } else { stranger };
                        if let Ok(r) = client.handle_datagram(now, from, &bytes) {
                            prop_assert!(end(ended_by(&r), &mut ended).is_ok());
                        }
                    }
                    Op::Reply { which, mangle } => {
                        if sent.is_empty() {
                            continue;
                        }
                        let d = &sent[which % sent.len()];
                        let Some(mut reply) = tracker.reply(d) else { continue };
                        match mangle {
                            0 | 1 => {}
                            2 => reply.truncate(reply.len().saturating_sub(3)),
                            3 => reply[4] ^= 1,
                            4 => reply.extend_from_slice(&[0; 5]),
                            _ => {
                                let mut out = [0u8; 32];
                                let n = error_reply(tid_of(d), b"nope\0", &mut out);
                                reply = out[..n].to_vec();
                            }
                        }
                        if let Ok(r) = client.handle_datagram(now, addr, &reply) {
                            let r = end(ended_by(&r), &mut ended);
                            prop_assert!(r.is_ok(), "{:?}", r);
                        }
                    }
                    Op::Advance(ms) => now = now.saturating_add(Duration::from_millis(ms)),
                    Op::Back(ms) => now = now.saturating_sub(Duration::from_millis(ms)),
                    Op::JumpToDeadline => {
                        if let Some(t) = client.poll_timeout() {
                            now = now.max(t);
                        }
                        client.handle_timeout(now);
                        if let Some(t) = client.poll_timeout() {
                            prop_assert!(t >= now, "deadline {t:?} before now {now:?}");
                        }
                    }
                    Op::Timeout => {
                        client.handle_timeout(now);
                        if let Some(t) = client.poll_timeout() {
                            prop_assert!(t >= now, "deadline {t:?} before now {now:?}");
                        }
                    }
                    Op::Announce(n) => {
                        if let Ok(id) = client.announce(now, params(n)) {
                            issued.push(id);
                        }
                    }
                    Op::Scrape(n) => {
                        let r = client.scrape(now, &hashes(n));
                        let max = client.max_scrape_hashes();
                        match r.map_err(|e| e.kind()) {
                            Ok(id) => issued.push(id),
                            Err(UsageErrorKind::Full) => prop_assert!(n >= 1 && n <= max),
                            Err(UsageErrorKind::TooLong) => prop_assert!(n > max),
                            Err(UsageErrorKind::InvalidValue) => prop_assert_eq!(n, 0),
                            Err(e) => prop_assert!(false, "unexpected {e:?}"),
                        }
                    }
                    Op::Cancel(k) => {
                        if let Some(&id) = issued.get(k as usize) {
                            if client.cancel(id).is_ok() {
                                prop_assert!(end(vec![id], &mut ended).is_ok());
                            }
                        }
                    }
                    Op::Transmit(size) => {
                        let mut buf = vec![0x5au8; size];
                        loop {
                            match client.poll_transmit(now, &mut buf) {
                                Ok(Some(t)) => {
                                    prop_assert!(t.len <= <Client>::MAX_TRANSMIT_LEN);
                                    prop_assert!(t.len <= size);
                                    prop_assert_eq!(t.destination, addr);
                                    let d = buf[..t.len].to_vec();
                                    prop_assert!(Request::decode(&d).is_ok(), "undecodable {d:?}");
                                    prop_assert_ne!(tid_of(&d).0, 0);
                                    sent.push(d);
                                    buf.fill(0x5a);
                                }
                                Ok(None) => break,
                                Err(e) => {
                                    prop_assert!(e.required() > size);
                                    prop_assert!(e.required() <= <Client>::MAX_TRANSMIT_LEN);
                                    prop_assert!(buf.iter().all(|&b| b == 0x5a), "buffer touched");
                                    break;
                                }
                            }
                        }
                    }
                }
                prop_assert!(client.in_flight() <= 4);
                while let Some(e) = client.poll_event() {
                    prop_assert!(issued.contains(&e.id()));
                    let r = end(vec![e.id()], &mut ended);
                    prop_assert!(r.is_ok(), "{:?}", r);
                }
            }
        }
    }
}
