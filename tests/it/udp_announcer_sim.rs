//! Virtual-time simulations of `udp::Announcer` against in-memory trackers built from the
//! codec, and a resolver that answers from a table. Nothing sleeps: time jumps to
//! `poll_timeout()`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use trackwire::udp::{
    AddressFamily, AnnounceEvent, AnnounceMode, AnnounceParams, AnnounceResponse, Announcer,
    AnnouncerConfig, AnnouncerEvent, AnnouncerReceived, ConnectResponse, ConnectionId,
    ErrorResponse, InfoHash, PeerId, Peers, Rejected, Request, RetryPolicy, ScrapeResponse,
    ScrapeRow, ScrapeRows, TrackerError, TrackerId, TrackerState, TrackerUrl, ERROR_TEXT_CAPACITY,
};
use trackwire::{Instant, UsageErrorKind};

const SEED: u64 = 0x5eed_0000_0000_0014;
const KEY: u32 = 0x1234_5678;
const HASH: InfoHash = InfoHash([0x14; 20]);

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn params() -> AnnounceParams {
    let mut p = AnnounceParams::new(HASH, PeerId(*b"-TW0001-announcer-01"), 6881);
    p.key = KEY;
    p.left = 1000;
    p
}

/// A quick retry policy: two sends 5 s apart, giving up after 10 s.
const QUICK: RetryPolicy = RetryPolicy {
    initial_timeout: Duration::from_secs(5),
    backoff: 1,
    max_sends: 2,
};

fn config() -> AnnouncerConfig {
    AnnouncerConfig::new()
        .with_retry(QUICK)
        .with_interval_bounds(Duration::from_secs(60), Duration::from_secs(3600))
}

// ---- the fake trackers -----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Behaviour {
    Answer,
    Silent,
    /// Answers connects, then an error with this text to announces.
    Error(Vec<u8>),
    /// Answers connects, then opentracker's 8-byte reply to announces.
    EightBytes,
    /// Answers connects only.
    Deaf,
}

struct Fake {
    behaviour: Behaviour,
    interval: u32,
    peers: Vec<SocketAddr>,
    /// Replies leave from this address instead of the one asked (multi-homed).
    reply_from: Option<SocketAddr>,
    /// Stays silent for `stopped` announces.
    ignore_stopped: bool,
}

impl Fake {
    fn new(behaviour: Behaviour) -> Self {
        Fake {
            behaviour,
            interval: 1800,
            peers: Vec::new(),
            reply_from: None,
            ignore_stopped: false,
        }
    }

    fn reply(&self, at: SocketAddr, datagram: &[u8]) -> Option<Vec<u8>> {
        if self.behaviour == Behaviour::Silent {
            return None;
        }
        let mut out = vec![0u8; 2048];
        let len = match Request::decode(datagram).expect("a valid request") {
            Request::Connect(c) => ConnectResponse {
                transaction_id: c.transaction_id,
                connection_id: ConnectionId(0xc1d),
            }
            .encode(&mut out)
            .unwrap(),
            Request::Announce(a) => {
                if self.ignore_stopped && a.event == AnnounceEvent::Stopped
                    || self.behaviour == Behaviour::Deaf
                {
                    return None;
                }
                let tid = a.transaction_id;
                match &self.behaviour {
                    Behaviour::Error(text) => ErrorResponse {
                        transaction_id: tid,
                        message: text,
                    }
                    .encode(&mut out)
                    .unwrap(),
                    Behaviour::EightBytes => {
                        out[..4].copy_from_slice(&1u32.to_be_bytes());
                        out[4..8].copy_from_slice(&tid.0.to_be_bytes());
                        8
                    }
                    _ => {
                        let family = AddressFamily::of(at);
                        let raw: Vec<u8> = self
                            .peers
                            .iter()
                            .filter(|p| p.is_ipv6() == at.is_ipv6())
                            .flat_map(|p| {
                                let mut b = match p.ip() {
                                    IpAddr::V4(ip) => ip.octets().to_vec(),
                                    IpAddr::V6(ip) => ip.octets().to_vec(),
                                };
                                b.extend_from_slice(&p.port().to_be_bytes());
                                b
                            })
                            .collect();
                        AnnounceResponse {
                            transaction_id: tid,
                            interval: self.interval,
                            leechers: 3,
                            seeders: 4,
                            peers: Peers::from_compact(family, &raw).unwrap(),
                        }
                        .encode(&mut out)
                        .unwrap()
                    }
                }
            }
            Request::Scrape(s) => {
                if self.behaviour == Behaviour::Deaf {
                    return None;
                }
                let rows: Vec<ScrapeRow> = s
                    .info_hashes
                    .iter()
                    .map(|h| ScrapeRow {
                        complete: u32::from(h.0[0]),
                        downloaded: 77,
                        incomplete: u32::from(h.0[1]),
                    })
                    .collect();
                ScrapeResponse {
                    transaction_id: s.transaction_id,
                    rows: ScrapeRows::from_slice(&rows),
                }
                .encode(&mut out)
                .unwrap()
            }
        };
        out.truncate(len);
        Some(out)
    }
}

/// One datagram the announcer sent.
#[derive(Debug, Clone)]
struct Sent {
    at: u64,
    to: SocketAddr,
    /// `None` for a connect or scrape.
    event: Option<AnnounceEvent>,
    key: Option<u32>,
    scrape_hashes: usize,
}

struct Sim<const P: usize = 200> {
    ann: Announcer<8, 3, 4, P>,
    fakes: HashMap<SocketAddr, Fake>,
    dns: HashMap<String, Option<Vec<IpAddr>>>,
    now: Instant,
    sent: Vec<Sent>,
    events: Vec<(u64, AnnouncerEvent)>,
    /// Outcomes of datagrams: (time, tracker, what).
    outcomes: Vec<(u64, TrackerId, String)>,
    rejected: Vec<Rejected>,
}

impl<const P: usize> Sim<P> {
    fn new(config: AnnouncerConfig) -> Self {
        Sim {
            ann: Announcer::new_sized(config, params(), SEED).unwrap(),
            fakes: HashMap::new(),
            dns: HashMap::new(),
            now: Instant::ZERO,
            sent: Vec::new(),
            events: Vec::new(),
            outcomes: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn fake(&mut self, at: &str, f: Fake) {
        self.fakes.insert(addr(at), f);
    }

    fn add(&mut self, tier: usize, url: &str) -> TrackerId {
        self.ann
            .add_tracker(tier, TrackerUrl::parse(url).unwrap())
            .unwrap()
    }

    fn at(&self) -> u64 {
        self.now.as_millis() / 1000
    }

    fn pump(&mut self) {
        let mut buf = [0u8; <Announcer>::MAX_TRANSMIT_LEN];
        for _ in 0..1000 {
            let mut busy = false;
            while let Some(t) = self.ann.poll_transmit(self.now, &mut buf).unwrap() {
                busy = true;
                let d = buf[..t.len].to_vec();
                let (event, key, scrape_hashes) = match Request::decode(&d).unwrap() {
                    Request::Announce(a) => (Some(a.event), Some(a.key), 0),
                    Request::Scrape(s) => (None, None, s.info_hashes.len()),
                    Request::Connect(_) => (None, None, 0),
                };
                self.sent.push(Sent {
                    at: self.at(),
                    to: t.destination,
                    event,
                    key,
                    scrape_hashes,
                });
                let Some(fake) = self.fakes.get(&t.destination) else {
                    continue;
                };
                let Some(reply) = fake.reply(t.destination, &d) else {
                    continue;
                };
                let from = fake.reply_from.unwrap_or(t.destination);
                match self.ann.handle_datagram(self.now, from, &reply) {
                    Ok(r) => {
                        let (tracker, what) = describe(&r);
                        self.outcomes.push((self.at(), tracker, what));
                    }
                    Err(e) => self.rejected.push(e),
                }
            }
            while let Some(e) = self.ann.poll_event() {
                busy = true;
                self.events.push((self.at(), e));
                if let AnnouncerEvent::Resolve { tracker, host } = e {
                    match self.dns.get(host.as_str()).cloned().flatten() {
                        Some(ips) => self.ann.resolved(self.now, tracker, &ips).unwrap(),
                        None => self.ann.resolve_failed(self.now, tracker).unwrap(),
                    }
                }
            }
            if !busy {
                return;
            }
        }
        panic!("pump did not settle");
    }

    /// Runs every deadline up to and including `until`.
    fn run_until(&mut self, until: Instant) {
        self.pump();
        for _ in 0..10_000 {
            match self.ann.poll_timeout() {
                Some(t) if t <= until => {
                    // Only a walk made due by `add_tracker` after `start` is in the past
                    // (`Instant::ZERO`: due at once).
                    assert!(t >= self.now || t == Instant::ZERO, "deadline in the past");
                    self.now = t.max(self.now);
                    self.ann.handle_timeout(t);
                    self.pump();
                }
                _ => {
                    self.now = self.now.max(until);
                    return;
                }
            }
        }
        panic!("simulation did not settle");
    }

    fn state(&self, t: TrackerId) -> TrackerState {
        self.ann.status(t).unwrap().state
    }

    /// Announces sent: (second, destination, event).
    fn announces(&self) -> Vec<(u64, SocketAddr, AnnounceEvent)> {
        self.sent
            .iter()
            .filter_map(|s| s.event.map(|e| (s.at, s.to, e)))
            .collect()
    }

    /// Every datagram sent to `to`: (second, whether it was an announce).
    fn contacts(&self, to: SocketAddr) -> Vec<(u64, bool)> {
        self.sent
            .iter()
            .filter(|s| s.to == to)
            .map(|s| (s.at, s.event.is_some()))
            .collect()
    }

    /// The first contact with each address, in order.
    fn first_contacts(&self) -> Vec<(u64, SocketAddr)> {
        let mut seen: Vec<(u64, SocketAddr)> = Vec::new();
        for s in &self.sent {
            if !seen.iter().any(|(_, d)| *d == s.to) {
                seen.push((s.at, s.to));
            }
        }
        seen
    }

    fn announced_to(&self, to: SocketAddr) -> Vec<(u64, AnnounceEvent)> {
        self.announces()
            .into_iter()
            .filter(|(_, d, _)| *d == to)
            .map(|(t, _, e)| (t, e))
            .collect()
    }
}

fn describe(r: &AnnouncerReceived<'_>) -> (TrackerId, String) {
    match r {
        AnnouncerReceived::Connected { tracker } => (*tracker, "connected".into()),
        AnnouncerReceived::Announced {
            tracker,
            response,
            new_peers,
            ..
        } => (
            *tracker,
            format!("announced {} new {new_peers}", response.peers.len()),
        ),
        AnnouncerReceived::Failed { tracker, error, .. } => (
            *tracker,
            format!("failed {}", String::from_utf8_lossy(error.text())),
        ),
        AnnouncerReceived::Malformed { tracker, error, .. } => {
            (*tracker, format!("malformed {}", error.kind().name()))
        }
        AnnouncerReceived::Scraped { tracker, response } => {
            (*tracker, format!("scraped {}", response.iter().count()))
        }
        _ => panic!("unknown outcome {r:?}"),
    }
}

// ---- tiers -----------------------------------------------------------------------------

/// Tier 0 holds two silent trackers and one that answers, tier 1 one more. Whatever the
/// shuffle, tier 0 is walked in the announcer's order, one tracker at a time, until the
/// working one answers; it moves to the front of its tier and is asked first next
/// round; tier 1 is never contacted.
#[test]
fn tier_order_and_promotion_sim() {
    for seed in 0..6u64 {
        let mut sim = Sim::<200>::new(config());
        sim.ann = Announcer::new_sized(config(), params(), seed).unwrap();
        sim.fake("192.0.2.1:1", Fake::new(Behaviour::Silent));
        sim.fake("192.0.2.2:1", Fake::new(Behaviour::Silent));
        sim.fake("192.0.2.3:1", Fake::new(Behaviour::Answer));
        sim.fake("192.0.2.4:1", Fake::new(Behaviour::Answer));
        let a = sim.add(0, "udp://192.0.2.1:1");
        sim.add(0, "udp://192.0.2.2:1");
        let good = sim.add(0, "udp://192.0.2.3:1");
        let later = sim.add(1, "udp://192.0.2.4:1");
        assert_eq!(sim.state(a), TrackerState::NotContacted);
        sim.ann.start(sim.now).unwrap();
        let order: Vec<TrackerId> = sim.ann.walk_order().collect();
        assert_eq!(order[3], later, "tier 1 stays after tier 0");
        let ahead = order.iter().position(|t| *t == good).unwrap();
        sim.run_until(secs(100));
        // The trackers before the good one were each tried for 10 s, in walk order.
        let firsts = sim.first_contacts();
        let expected: Vec<(u64, SocketAddr)> = order[..=ahead]
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let n = t.index() as u8 + 1;
                (10 * k as u64, addr(&format!("192.0.2.{n}:1")))
            })
            .collect();
        assert_eq!(firsts, expected, "seed {seed}");
        assert_eq!(sim.state(good), TrackerState::Working);
        assert_eq!(sim.state(later), TrackerState::NotContacted);
        for t in &order[..ahead] {
            assert_eq!(sim.state(*t), TrackerState::NotWorking);
        }
        assert_eq!(sim.ann.walk_order().next(), Some(good), "promoted");
        assert!(!sim.ann.is_announcing());
        // Next round (interval 1800 s): the good tracker first, and only it.
        let answered_at = 10 * ahead as u64;
        let next = sim.ann.status(good).unwrap().next_announce.unwrap();
        assert_eq!(next, secs(answered_at + 1800));
        let before = sim.announces().len();
        sim.run_until(next);
        let round2 = &sim.announces()[before..];
        assert_eq!(
            round2,
            [(answered_at + 1800, addr("192.0.2.3:1"), AnnounceEvent::None)]
        );
    }
}

#[test]
fn next_tier_only_when_a_whole_tier_fails_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Silent));
    sim.fake(
        "192.0.2.2:1",
        Fake::new(Behaviour::Error(b"go away".to_vec())),
    );
    sim.fake("192.0.2.3:1", Fake::new(Behaviour::Answer));
    let a = sim.add(0, "udp://192.0.2.1:1");
    let b = sim.add(0, "udp://192.0.2.2:1");
    let c = sim.add(1, "udp://192.0.2.3:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(30));
    let to_c = sim.announced_to(addr("192.0.2.3:1"));
    let to_a = sim.contacts(addr("192.0.2.1:1"));
    assert_eq!(to_c.len(), 1);
    // Tier 1 starts only after both tier-0 trackers failed (the silent one at 10 s).
    assert!(to_c[0].0 >= to_a[0].0 + 10, "{:?}", sim.announces());
    assert_eq!(
        [sim.state(a), sim.state(b), sim.state(c)],
        [
            TrackerState::NotWorking,
            TrackerState::NotWorking,
            TrackerState::Working
        ]
    );
    // A tracker of a later tier answering does not outrank tier 0: the next round
    // starts from tier 0 again.
    let next = sim.ann.status(c).unwrap().next_announce.unwrap();
    let before = sim.announces().len();
    sim.run_until(next);
    assert_eq!(sim.announces()[before].1.port(), 1);
    assert_ne!(sim.announces()[before].1, addr("192.0.2.3:1"));
}

#[test]
fn all_tiers_and_all_trackers_modes_sim() {
    for (mode, expected) in [(AnnounceMode::AllTiers, 2), (AnnounceMode::AllTrackers, 3)] {
        let mut sim = Sim::<200>::new(config().with_mode(mode));
        for n in 1..=3 {
            sim.fake(&format!("192.0.2.{n}:1"), Fake::new(Behaviour::Answer));
        }
        sim.add(0, "udp://192.0.2.1:1");
        sim.add(0, "udp://192.0.2.2:1");
        sim.add(1, "udp://192.0.2.3:1");
        sim.ann.start(sim.now).unwrap();
        sim.run_until(secs(1));
        let at_zero = sim.announces().iter().filter(|a| a.0 == 0).count();
        assert_eq!(at_zero, expected, "{mode:?}: {:?}", sim.announces());
        let working = sim
            .ann
            .trackers()
            .filter(|t| sim.state(*t) == TrackerState::Working)
            .count();
        assert_eq!(working, expected, "{mode:?}");
    }
}

// ---- addresses and families --------------------------------------------------------------

#[test]
fn failover_across_a_familys_addresses_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.dns.insert(
        "t.example".into(),
        Some(vec![
            "192.0.2.10".parse().unwrap(),
            "192.0.2.11".parse().unwrap(),
        ]),
    );
    sim.fake("192.0.2.10:6969", Fake::new(Behaviour::Silent));
    sim.fake("192.0.2.11:6969", Fake::new(Behaviour::Answer));
    let t = sim.add(0, "udp://t.example:6969/announce");
    sim.ann.start(sim.now).unwrap();
    sim.pump();
    assert!(
        matches!(sim.events[0].1, AnnouncerEvent::Resolve { tracker, host }
        if tracker == t && host.as_str() == "t.example")
    );
    assert_eq!(sim.state(t), TrackerState::Updating);
    sim.run_until(secs(30));
    // Connects to the silent address at 0 and 5 s, then the next address at 10 s.
    assert_eq!(
        sim.contacts(addr("192.0.2.10:6969")),
        [(0, false), (5, false)]
    );
    assert_eq!(
        sim.announces(),
        [(10, addr("192.0.2.11:6969"), AnnounceEvent::Started)]
    );
    assert!(sim.events.iter().any(|(at, e)| *at == 10
        && *e
            == AnnouncerEvent::AddressTimedOut {
                tracker: t,
                address: addr("192.0.2.10:6969")
            }));
    let s = sim.ann.status(t).unwrap();
    assert_eq!(s.state, TrackerState::Working);
    assert_eq!(s.addresses, [Some(addr("192.0.2.11:6969")), None]);
}

#[test]
fn dual_stack_with_one_family_dead_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.dns.insert(
        "t.example".into(),
        Some(vec![
            "192.0.2.10".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        ]),
    );
    sim.fake("192.0.2.10:6969", Fake::new(Behaviour::Deaf));
    let mut v6 = Fake::new(Behaviour::Answer);
    v6.peers = vec![addr("[2001:db8::99]:7000")];
    sim.fake("[2001:db8::10]:6969", v6);
    let t = sim.add(0, "udp://t.example:6969");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    // Both families announce at once, with the same key.
    let keys: Vec<(SocketAddr, Option<u32>)> = sim
        .sent
        .iter()
        .filter(|s| s.event.is_some())
        .map(|s| (s.to, s.key))
        .collect();
    assert_eq!(
        keys,
        [
            (addr("192.0.2.10:6969"), Some(KEY)),
            (addr("[2001:db8::10]:6969"), Some(KEY))
        ]
    );
    let s = sim.ann.status(t).unwrap();
    assert_eq!(s.state, TrackerState::Working);
    assert!(s.announcing, "IPv4 is still trying");
    assert_eq!(
        sim.ann.peers().collect::<Vec<_>>(),
        [addr("[2001:db8::99]:7000")]
    );
    sim.run_until(secs(30));
    let s = sim.ann.status(t).unwrap();
    assert_eq!(
        s.state,
        TrackerState::Working,
        "one family answering is enough"
    );
    assert!(!s.announcing);
    assert_eq!(
        s.last_error,
        Some(TrackerError::TimedOut(addr("192.0.2.10:6969")))
    );
}

#[test]
fn both_families_dead_is_not_working_and_resolves_again_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.dns.insert(
        "t.example".into(),
        Some(vec![
            "192.0.2.10".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        ]),
    );
    let t = sim.add(0, "udp://t.example:6969");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(11));
    assert_eq!(sim.state(t), TrackerState::NotWorking);
    assert_eq!(sim.ann.status(t).unwrap().next_announce, Some(secs(70)));
    sim.run_until(secs(70));
    let resolves = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, AnnouncerEvent::Resolve { .. }))
        .map(|(at, _)| *at)
        .collect::<Vec<_>>();
    assert_eq!(resolves, [0, 70]);
}

#[test]
fn unresolvable_names_fail_their_turn_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.dns.insert("gone.example".into(), None);
    sim.dns.insert("empty.example".into(), Some(vec![]));
    sim.fake("192.0.2.3:1", Fake::new(Behaviour::Answer));
    let gone = sim.add(0, "udp://gone.example:1");
    let empty = sim.add(1, "udp://empty.example:1");
    let good = sim.add(2, "udp://192.0.2.3:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    assert_eq!(
        sim.ann.status(gone).unwrap().last_error,
        Some(TrackerError::Resolve)
    );
    assert_eq!(
        sim.ann.status(empty).unwrap().last_error,
        Some(TrackerError::NoAddress)
    );
    assert_eq!(sim.state(good), TrackerState::Working);
    // A caller that never answers: the turn fails at the retry policy's give-up time.
    let mut sim = Sim::<200>::new(config());
    let t = sim.add(0, "udp://slow.example:1");
    sim.ann.start(sim.now).unwrap();
    assert!(matches!(
        sim.ann.poll_event(),
        Some(AnnouncerEvent::Resolve { .. })
    ));
    assert_eq!(sim.ann.poll_timeout(), Some(secs(10)));
    sim.ann.handle_timeout(secs(10));
    assert_eq!(sim.state(t), TrackerState::NotWorking);
    assert_eq!(
        sim.ann
            .resolved(secs(11), t, &["192.0.2.1".parse().unwrap()])
            .unwrap_err()
            .kind(),
        UsageErrorKind::InvalidState
    );
}

#[test]
fn replies_from_another_address_need_permission_sim() {
    for allow in [false, true] {
        let mut sim = Sim::<200>::new(config().with_accept_any_tracker_address(allow));
        sim.dns.insert(
            "multi.example".into(),
            Some(vec![
                "192.0.2.10".parse().unwrap(),
                "192.0.2.20".parse().unwrap(),
            ]),
        );
        let mut fake = Fake::new(Behaviour::Answer);
        fake.reply_from = Some(addr("192.0.2.20:6969"));
        sim.fake("192.0.2.10:6969", fake);
        // A stranger's address is never accepted.
        let t = sim.add(0, "udp://multi.example:6969");
        sim.ann.start(sim.now).unwrap();
        sim.run_until(secs(0));
        if allow {
            assert_eq!(sim.state(t), TrackerState::Working);
            assert!(sim.rejected.is_empty());
        } else {
            assert_eq!(
                sim.rejected[0],
                Rejected::UnexpectedSource(addr("192.0.2.20:6969"))
            );
            sim.run_until(secs(10));
            // The reply did not count: the family timed out and moved to the next address.
            assert_eq!(
                sim.ann.status(t).unwrap().last_error,
                Some(TrackerError::TimedOut(addr("192.0.2.10:6969")))
            );
            assert_eq!(
                sim.ann.status(t).unwrap().addresses[0],
                Some(addr("192.0.2.20:6969"))
            );
        }
        let stranger = sim
            .ann
            .handle_datagram(sim.now, addr("198.51.100.1:6969"), &[0; 16]);
        assert_eq!(
            stranger.unwrap_err(),
            Rejected::UnexpectedSource(addr("198.51.100.1:6969"))
        );
    }
}

// ---- intervals, events, shutdown -----------------------------------------------------------

#[test]
fn intervals_are_kept_within_bounds_sim() {
    for (interval, expected) in [(10, 60), (900, 900), (100_000, 3600)] {
        let mut sim = Sim::<200>::new(config());
        let mut fake = Fake::new(Behaviour::Answer);
        fake.interval = interval;
        sim.fake("192.0.2.1:1", fake);
        let t = sim.add(0, "udp://192.0.2.1:1");
        sim.ann.start(sim.now).unwrap();
        sim.run_until(secs(expected - 1));
        assert_eq!(sim.announces().len(), 1, "interval {interval}");
        assert_eq!(sim.ann.status(t).unwrap().interval, Some(interval));
        sim.run_until(secs(expected));
        assert_eq!(
            sim.announced_to(addr("192.0.2.1:1")),
            [(0, AnnounceEvent::Started), (expected, AnnounceEvent::None)]
        );
    }
    assert_eq!(
        Announcer::new(
            AnnouncerConfig::new()
                .with_interval_bounds(Duration::from_secs(10), Duration::from_secs(5)),
            params(),
            1
        )
        .unwrap_err()
        .argument(),
        "config.min_interval"
    );
}

#[test]
fn error_text_is_kept_exactly_sim() {
    let long = vec![b'x'; ERROR_TEXT_CAPACITY + 10];
    for text in [
        b"torrent not registered\0".to_vec(),
        vec![0xff, b'a', 0],
        long,
    ] {
        let mut sim = Sim::<200>::new(config());
        sim.fake("192.0.2.1:1", Fake::new(Behaviour::Error(text.clone())));
        let t = sim.add(0, "udp://192.0.2.1:1");
        sim.ann.start(sim.now).unwrap();
        sim.run_until(secs(0));
        let s = sim.ann.status(t).unwrap();
        assert_eq!(s.state, TrackerState::NotWorking);
        let Some(TrackerError::Tracker(kept)) = s.last_error else {
            panic!("{:?}", s.last_error)
        };
        let n = text.len().min(ERROR_TEXT_CAPACITY);
        assert_eq!(kept.as_bytes(), &text[..n]);
        assert_eq!(kept.is_truncated(), text.len() > ERROR_TEXT_CAPACITY);
        assert!(sim
            .outcomes
            .iter()
            .any(|(_, tr, w)| *tr == t && w.starts_with("failed")));
    }
    let e = TrackerError::Tracker(trackwire_error_text(b"bad \xff\0"));
    assert_eq!(e.to_string(), "bad \u{fffd}");
}

fn trackwire_error_text(bytes: &[u8]) -> trackwire::udp::ErrorText {
    // Built through the announcer, the only way a caller gets one.
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Error(bytes.to_vec())));
    let t = sim.add(0, "udp://192.0.2.1:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    match sim.ann.status(t).unwrap().last_error {
        Some(TrackerError::Tracker(text)) => text,
        other => panic!("{other:?}"),
    }
}

/// opentracker's 8-byte reply is the tracker's answer: not working at once, no timeout.
#[test]
fn an_undecodable_reply_ends_the_turn_at_once_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::EightBytes));
    sim.fake("192.0.2.2:1", Fake::new(Behaviour::Answer));
    let bad = sim.add(0, "udp://192.0.2.1:1");
    let good = sim.add(1, "udp://192.0.2.2:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    let s = sim.ann.status(bad).unwrap();
    assert_eq!(s.state, TrackerState::NotWorking);
    assert!(matches!(s.last_error, Some(TrackerError::Malformed(e)) if e.offset() == 8));
    assert_eq!(sim.state(good), TrackerState::Working);
    assert_eq!(sim.announced_to(addr("192.0.2.1:1")).len(), 1);
}

#[test]
fn completed_is_sent_once_per_family_sim() {
    let mut sim = Sim::<200>::new(config().with_mode(AnnounceMode::AllTrackers));
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    sim.fake("[2001:db8::1]:1", Fake::new(Behaviour::Answer));
    sim.add(0, "udp://192.0.2.1:1");
    sim.add(0, "udp://[2001:db8::1]:1");
    assert_eq!(
        sim.ann.completed(sim.now).unwrap_err().kind(),
        UsageErrorKind::InvalidState
    );
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(100));
    sim.ann.set_progress(1000, 0, 0);
    sim.ann.completed(sim.now).unwrap();
    assert_eq!(
        sim.ann.completed(sim.now).unwrap_err().argument(),
        "completed"
    );
    sim.run_until(secs(4000));
    for to in ["192.0.2.1:1", "[2001:db8::1]:1"] {
        let events: Vec<AnnounceEvent> = sim
            .announced_to(addr(to))
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        assert_eq!(
            events,
            [
                AnnounceEvent::Started,
                AnnounceEvent::Completed,
                AnnounceEvent::None,
                AnnounceEvent::None
            ],
            "{to}"
        );
    }
}

#[test]
fn stopped_goes_to_every_started_tracker_with_a_deadline_sim() {
    let mut sim = Sim::<200>::new(
        config()
            .with_mode(AnnounceMode::AllTrackers)
            .with_stop_timeout(Duration::from_secs(4)),
    );
    sim.dns.insert("gone.example".into(), None);
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    sim.fake("192.0.2.2:1", Fake::new(Behaviour::Answer));
    let mut deaf = Fake::new(Behaviour::Answer);
    deaf.ignore_stopped = true;
    sim.fake("192.0.2.3:1", deaf);
    for n in 1..=3 {
        sim.add(0, &format!("udp://192.0.2.{n}:1"));
    }
    sim.add(0, "udp://gone.example:1");
    assert_eq!(sim.ann.stop(sim.now), Ok(()));
    // Stopped before starting: done at once, nothing sent.
    sim.pump();
    assert!(sim.ann.is_shut_down());
    assert!(sim.sent.is_empty());

    let mut sim = Sim::<200>::new(
        config()
            .with_mode(AnnounceMode::AllTrackers)
            .with_stop_timeout(Duration::from_secs(4)),
    );
    sim.dns.insert("gone.example".into(), None);
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    sim.fake("192.0.2.2:1", Fake::new(Behaviour::Answer));
    let mut deaf = Fake::new(Behaviour::Answer);
    deaf.ignore_stopped = true;
    sim.fake("192.0.2.3:1", deaf);
    for n in 1..=3 {
        sim.add(0, &format!("udp://192.0.2.{n}:1"));
    }
    // Never resolves, so never gets `started`, so gets no `stopped`.
    sim.add(0, "udp://gone.example:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(100));
    sim.ann.stop(sim.now).unwrap();
    sim.run_until(secs(200));
    let stopped: Vec<(u64, SocketAddr)> = sim
        .announces()
        .into_iter()
        .filter(|a| a.2 == AnnounceEvent::Stopped)
        .map(|a| (a.0, a.1))
        .collect();
    assert_eq!(
        stopped,
        [
            (100, addr("192.0.2.1:1")),
            (100, addr("192.0.2.2:1")),
            (100, addr("192.0.2.3:1")),
        ]
    );
    let done: Vec<_> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, AnnouncerEvent::ShutdownComplete { .. }))
        .collect();
    assert_eq!(
        done,
        [&(
            104,
            AnnouncerEvent::ShutdownComplete {
                answered: 2,
                unanswered: 1
            }
        )]
    );
    assert!(sim.ann.is_shut_down());
    assert_eq!(sim.ann.poll_timeout(), None);
    // The deaf tracker's stopped went out once: the deadline (4 s) came before the
    // retransmission (5 s), and nothing is sent after it.
    assert_eq!(
        sim.announced_to(addr("192.0.2.3:1")),
        [(0, AnnounceEvent::Started), (100, AnnounceEvent::Stopped)]
    );
    assert_eq!(
        sim.ann.stop(sim.now).unwrap_err().kind(),
        UsageErrorKind::InvalidState
    );
}

#[test]
fn shutdown_ends_as_soon_as_every_stopped_is_answered_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    sim.add(0, "udp://192.0.2.1:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(10));
    sim.ann.stop(sim.now).unwrap();
    sim.pump();
    assert_eq!(
        sim.events.last().unwrap(),
        &(
            10,
            AnnouncerEvent::ShutdownComplete {
                answered: 1,
                unanswered: 0
            }
        )
    );
}

// ---- peers and scrapes -----------------------------------------------------------------------

#[test]
fn peers_are_merged_and_deduplicated_sim() {
    let mut sim = Sim::<4>::new(config().with_mode(AnnounceMode::AllTrackers));
    let mut a = Fake::new(Behaviour::Answer);
    a.peers = vec![addr("10.0.0.1:1"), addr("10.0.0.2:2")];
    let mut b = Fake::new(Behaviour::Answer);
    b.peers = vec![addr("10.0.0.2:2"), addr("10.0.0.3:3")];
    let mut c = Fake::new(Behaviour::Answer);
    // The same peer as IPv4-mapped IPv6, and a real IPv6 peer.
    c.peers = vec![addr("[::ffff:10.0.0.1]:1"), addr("[2001:db8::7]:7")];
    let mut d = Fake::new(Behaviour::Answer);
    d.peers = vec![addr("10.0.0.4:4"), addr("10.0.0.5:5")];
    sim.fake("192.0.2.1:1", a);
    sim.fake("192.0.2.2:1", b);
    sim.fake("[2001:db8::1]:1", c);
    sim.add(0, "udp://192.0.2.1:1");
    sim.add(0, "udp://192.0.2.2:1");
    let v6 = sim.add(1, "udp://[2001:db8::1]:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    assert_eq!(
        sim.ann.peers().collect::<Vec<_>>(),
        [
            addr("10.0.0.1:1"),
            addr("10.0.0.2:2"),
            addr("10.0.0.3:3"),
            addr("[2001:db8::7]:7")
        ]
    );
    assert_eq!(sim.ann.status(v6).unwrap().peers_received, 2);
    assert!(sim
        .outcomes
        .iter()
        .any(|(_, t, w)| *t == v6 && w == "announced 2 new 1"));
    assert_eq!(sim.ann.peers_dropped(), 0);
    // Full at P = 4: the next new peers are dropped and counted.
    sim.fake("192.0.2.4:1", d);
    sim.add(2, "udp://192.0.2.4:1");
    sim.run_until(secs(1));
    assert_eq!(sim.ann.peers().len(), 4);
    assert_eq!(sim.ann.peers_dropped(), 2);
    sim.ann.clear_peers();
    assert_eq!((sim.ann.peers().len(), sim.ann.peers_dropped()), (0, 0));
}

#[test]
fn scrapes_are_split_at_the_mtu_limit_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    let t = sim.add(0, "udp://192.0.2.1:1");
    let unresolved = sim.add(1, "udp://unresolved.example:1");
    let hashes: Vec<InfoHash> = (0..100u8).map(|n| InfoHash([n; 20])).collect();
    assert_eq!(
        sim.ann
            .scrape(sim.now, unresolved, &hashes)
            .unwrap_err()
            .kind(),
        UsageErrorKind::InvalidState,
        "no address to scrape"
    );
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(0));
    let connects = sim.sent.len();
    // C = 3: two slots free for scrapes beside the announce.
    assert_eq!(sim.ann.scrape(sim.now, t, &hashes), Ok(2));
    let mut all = hashes.clone();
    all.push(HASH);
    all.extend((0..50u8).map(|n| InfoHash([n; 20])));
    assert_eq!(
        sim.ann.scrape(sim.now, t, &all).unwrap_err().kind(),
        UsageErrorKind::Full
    );
    sim.pump();
    let scrapes: Vec<usize> = sim.sent[connects..]
        .iter()
        .map(|s| s.scrape_hashes)
        .collect();
    assert_eq!(scrapes, [72, 28], "one connection id, no new connect");
    let scraped: Vec<&String> = sim
        .outcomes
        .iter()
        .map(|o| &o.2)
        .filter(|w| w.starts_with("scraped"))
        .collect();
    assert_eq!(scraped, ["scraped 72", "scraped 28"]);
    // A row for our own torrent fills the status's downloaded count.
    assert_eq!(sim.ann.scrape(sim.now, t, &[HASH]), Ok(1));
    sim.pump();
    let s = sim.ann.status(t).unwrap();
    assert_eq!(
        (s.seeders, s.leechers, s.downloaded),
        (Some(0x14), Some(0x14), Some(77))
    );
    assert_eq!(
        sim.ann.scrape(sim.now, t, &[]).unwrap_err().kind(),
        UsageErrorKind::InvalidValue
    );
}

#[test]
fn commands_check_their_arguments_sim() {
    let mut ann = Announcer::<1, 1, 1, 1>::new_sized(config(), params(), 1).unwrap();
    let url = TrackerUrl::parse("udp://192.0.2.1:1").unwrap();
    let t = ann.add_tracker(0, url).unwrap();
    assert_eq!(ann.add_tracker(0, url).unwrap_err().argument(), "trackers");
    let long = format!("udp://{}:1", "a".repeat(254));
    let mut ann2 = Announcer::new(config(), params(), 1).unwrap();
    assert_eq!(
        ann2.add_tracker(0, TrackerUrl::parse(&long).unwrap())
            .unwrap_err()
            .kind(),
        UsageErrorKind::TooLong
    );
    assert_eq!(
        ann.resolved(Instant::ZERO, t, &[]).unwrap_err().kind(),
        UsageErrorKind::InvalidState
    );
    assert_eq!(
        ann.resolve_failed(Instant::ZERO, t).unwrap_err().argument(),
        "resolve_failed"
    );
    ann.start(Instant::ZERO).unwrap();
    assert_eq!(ann.start(Instant::ZERO).unwrap_err().argument(), "start");
    assert_eq!(
        Announcer::<1, 0, 1, 1>::new_sized(config(), params(), 1)
            .unwrap_err()
            .argument(),
        "C"
    );
}

#[test]
fn unanswered_scrapes_are_reported_as_timed_out_sim() {
    let mut sim = Sim::<200>::new(config());
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Deaf));
    let t = sim.add(0, "udp://192.0.2.1:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(1));
    assert_eq!(sim.ann.scrape(sim.now, t, &[HASH]), Ok(1));
    sim.run_until(secs(20));
    let lost: Vec<&(u64, AnnouncerEvent)> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, AnnouncerEvent::ScrapeTimedOut { .. }))
        .collect();
    assert_eq!(
        lost,
        [&(
            11,
            AnnouncerEvent::ScrapeTimedOut {
                tracker: t,
                chunks: 1
            }
        )]
    );
}

#[test]
fn a_tracker_added_after_start_gets_its_turn_sim() {
    let mut sim = Sim::<200>::new(config().with_mode(AnnounceMode::AllTrackers));
    sim.fake("192.0.2.1:1", Fake::new(Behaviour::Answer));
    sim.fake("192.0.2.2:1", Fake::new(Behaviour::Answer));
    sim.add(0, "udp://192.0.2.1:1");
    sim.ann.start(sim.now).unwrap();
    sim.run_until(secs(5));
    let late = sim.add(0, "udp://192.0.2.2:1");
    assert_eq!(sim.state(late), TrackerState::NotContacted);
    sim.run_until(secs(6));
    assert_eq!(
        sim.announced_to(addr("192.0.2.2:1")),
        [(5, AnnounceEvent::Started)]
    );
    assert_eq!(sim.state(late), TrackerState::Working);
    // A forced re-announce reaches both at once.
    sim.ann.reannounce(sim.now).unwrap();
    sim.pump();
    assert_eq!(sim.announces().iter().filter(|a| a.0 == 6).count(), 2);
}
