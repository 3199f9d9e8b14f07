//! `udp::Announcer<4, 3, 3, 8>` driven by an arbitrary script: trackers added (literal
//! addresses of both families, names, arbitrary text), start, re-announce, completed,
//! stop, progress, resolver answers (arbitrary address lists, failures, answers nobody
//! asked for), scrapes of any size, time jumps forward and backward, timeouts,
//! transmits into large and short buffers, arbitrary datagrams and structured replies
//! (connect, announce with peers, error, opentracker's 8 bytes) to datagrams it sent,
//! from their destination or from elsewhere.
//!
//! Asserts: no panic; after `handle_timeout(now)`, `poll_timeout()` is never earlier
//! than `now`; every datagram is at most `MAX_TRANSMIT_LEN`, decodes as a request and
//! goes to an address one of the trackers has; the merged peers are distinct and at most
//! `P`; `ShutdownComplete` comes at most once, and after it nothing is sent and no
//! deadline is armed; a `Resolve` event names a tracker that has a host name.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    AddressFamily, AnnounceMode, AnnounceParams, AnnounceResponse, Announcer, AnnouncerConfig,
    AnnouncerEvent, ConnectResponse, ConnectionId, ErrorResponse, InfoHash, PeerId, Peers, Request,
    RetryPolicy, TrackerId, TrackerUrl,
};
use trackwire::Instant;

type Ann = Announcer<4, 3, 3, 8>;

#[derive(Arbitrary, Debug)]
enum Url {
    V4(u8, u16),
    V6(u8, u16),
    Name(u8, u16),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Reply {
    Connect(u64),
    Announce { interval: u32, peers: Vec<u8> },
    Error(Vec<u8>),
    EightBytes,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Add {
        tier: u8,
        url: Url,
    },
    Start,
    Reannounce,
    Completed,
    Stop,
    Progress(i64, i64, i64),
    Resolved {
        tracker: u8,
        v4: Vec<u8>,
        v6: Vec<u8>,
    },
    ResolveFailed(u8),
    Scrape {
        tracker: u8,
        count: u16,
    },
    Forward(u32),
    Backward(u16),
    Timeout,
    TimeoutAtDeadline,
    Transmit(Option<u8>),
    Drain,
    /// A reply to the `back`-th datagram sent, counting from the last.
    Reply {
        back: u8,
        elsewhere: Option<u8>,
        reply: Reply,
        tid: Option<u32>,
    },
}

#[derive(Arbitrary, Debug)]
struct Script {
    seed: u64,
    mode: u8,
    accept_any: bool,
    initial_timeout_ms: u16,
    max_sends: u8,
    min_interval_s: u16,
    extra_interval_s: u16,
    stop_timeout_ms: u16,
    steps: Vec<Step>,
}

/// The address family and last octet of a test address.
fn ip(v6: bool, n: u8) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(n)))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
    }
}

struct Run {
    ann: Ann,
    now: Instant,
    /// Every address any tracker was given (literal or resolved).
    known: Vec<IpAddr>,
    /// Datagrams sent: (destination, bytes).
    sent: Vec<(SocketAddr, Vec<u8>)>,
    shutdown_seen: bool,
}

impl Run {
    fn check(&self) {
        let peers: Vec<SocketAddr> = self.ann.peers().collect();
        assert!(peers.len() <= 8);
        for (i, p) in peers.iter().enumerate() {
            assert!(!peers[..i].contains(p), "duplicate peer {p}");
        }
        if self.ann.is_shut_down() {
            assert_eq!(self.ann.poll_timeout(), None);
        }
    }

    fn transmit(&mut self, size: Option<u8>) -> bool {
        let mut buf = vec![0u8; size.map_or(Ann::MAX_TRANSMIT_LEN, usize::from)];
        match self.ann.poll_transmit(self.now, &mut buf) {
            Ok(Some(t)) => {
                assert!(t.len <= Ann::MAX_TRANSMIT_LEN);
                assert!(!self.shutdown_seen, "sent after shutdown");
                assert!(
                    self.known.contains(&t.destination.ip()),
                    "{} is no tracker's",
                    t.destination
                );
                let d = buf[..t.len].to_vec();
                assert!(Request::decode(&d).is_ok());
                self.sent.push((t.destination, d));
                true
            }
            Ok(None) => false,
            Err(e) => {
                assert!(size.is_some(), "a full buffer was too small: {e}");
                false
            }
        }
    }

    fn events(&mut self) {
        while let Some(e) = self.ann.poll_event() {
            match e {
                AnnouncerEvent::Resolve { tracker, host } => {
                    assert!(!host.as_str().is_empty());
                    assert!(tracker.index() < self.ann.tracker_count());
                }
                AnnouncerEvent::ShutdownComplete { .. } => {
                    assert!(!self.shutdown_seen, "shutdown twice");
                    self.shutdown_seen = true;
                }
                _ => {}
            }
        }
    }

    fn reply(&mut self, back: u8, elsewhere: Option<u8>, reply: Reply, tid: Option<u32>) {
        let Some((to, d)) = self
            .sent
            .len()
            .checked_sub(usize::from(back) + 1)
            .and_then(|i| self.sent.get(i))
            .cloned()
        else {
            return;
        };
        let Ok(req) = Request::decode(&d) else { return };
        let tid = tid.map_or(req.transaction_id(), trackwire::udp::TransactionId);
        let family = AddressFamily::of(to);
        let mut out = vec![0u8; 2048];
        let len = match reply {
            Reply::Connect(c) => ConnectResponse {
                transaction_id: tid,
                connection_id: ConnectionId(c),
            }
            .encode(&mut out)
            .unwrap(),
            Reply::Announce { interval, peers } => {
                let stride = if family == AddressFamily::Ipv4 { 6 } else { 18 };
                let n = peers.len() / stride * stride;
                AnnounceResponse {
                    transaction_id: tid,
                    interval,
                    leechers: 1,
                    seeders: 2,
                    peers: Peers::from_compact(family, &peers[..n]).unwrap(),
                }
                .encode(&mut out)
                .unwrap()
            }
            Reply::Error(text) => ErrorResponse {
                transaction_id: tid,
                message: &text[..text.len().min(1000)],
            }
            .encode(&mut out)
            .unwrap(),
            Reply::EightBytes => {
                out[..4].copy_from_slice(&1u32.to_be_bytes());
                out[4..8].copy_from_slice(&tid.0.to_be_bytes());
                8
            }
            Reply::Raw(bytes) => {
                let n = bytes.len().min(2048);
                out[..n].copy_from_slice(&bytes[..n]);
                n
            }
        };
        let from = match elsewhere {
            None => to,
            Some(n) => SocketAddr::new(ip(n % 2 == 1, n / 2), to.port()),
        };
        let _ = self.ann.handle_datagram(self.now, from, &out[..len]);
    }
}

fuzz_target!(|script: Script| {
    let mode = match script.mode % 3 {
        0 => AnnounceMode::Tiers,
        1 => AnnounceMode::AllTiers,
        _ => AnnounceMode::AllTrackers,
    };
    let min = Duration::from_secs(u64::from(script.min_interval_s));
    let config = AnnouncerConfig::new()
        .with_mode(mode)
        .with_accept_any_tracker_address(script.accept_any)
        .with_retry(RetryPolicy {
            initial_timeout: Duration::from_millis(u64::from(script.initial_timeout_ms)),
            backoff: 2,
            max_sends: u32::from(script.max_sends % 4),
        })
        .with_interval_bounds(
            min,
            min + Duration::from_secs(u64::from(script.extra_interval_s)),
        )
        .with_stop_timeout(Duration::from_millis(u64::from(script.stop_timeout_ms)));
    let params = AnnounceParams::new(InfoHash([3; 20]), PeerId([4; 20]), 6881);
    let mut run = Run {
        ann: Ann::new_sized(config, params, script.seed).unwrap(),
        now: Instant::from_secs(1000),
        known: Vec::new(),
        sent: Vec::new(),
        shutdown_seen: false,
    };
    for step in script.steps.into_iter().take(400) {
        match step {
            Step::Add { tier, url } => {
                let text = match url {
                    Url::V4(n, p) => format!("udp://{}:{}", ip(false, n), p.max(1)),
                    Url::V6(n, p) => format!("udp://[{}]:{}/a?b", ip(true, n), p.max(1)),
                    Url::Name(n, p) => format!("udp://t{n}.example:{}", p.max(1)),
                    Url::Text(t) => t,
                };
                if let Ok(url) = TrackerUrl::parse(&text) {
                    if let Some(ip) = url.host().ip() {
                        run.known.push(ip);
                    }
                    let _ = run.ann.add_tracker(usize::from(tier % 4), url);
                }
            }
            Step::Start => drop(run.ann.start(run.now)),
            Step::Reannounce => drop(run.ann.reannounce(run.now)),
            Step::Completed => drop(run.ann.completed(run.now)),
            Step::Stop => drop(run.ann.stop(run.now)),
            Step::Progress(d, l, u) => run.ann.set_progress(d, l, u),
            Step::Resolved { tracker, v4, v6 } => {
                let ips: Vec<IpAddr> = v4
                    .iter()
                    .map(|n| ip(false, *n))
                    .chain(v6.iter().map(|n| ip(true, *n)))
                    .take(16)
                    .collect();
                run.known.extend(&ips);
                let t = run.ann.trackers().nth(usize::from(tracker) % 5);
                let _ = run
                    .ann
                    .resolved(run.now, t.unwrap_or(first_or_any(&run.ann)), &ips);
            }
            Step::ResolveFailed(tracker) => {
                if let Some(t) = run.ann.trackers().nth(usize::from(tracker) % 5) {
                    let _ = run.ann.resolve_failed(run.now, t);
                }
            }
            Step::Scrape { tracker, count } => {
                if let Some(t) = run.ann.trackers().nth(usize::from(tracker) % 5) {
                    let hashes: Vec<InfoHash> =
                        (0..count % 300).map(|n| InfoHash([n as u8; 20])).collect();
                    let _ = run.ann.scrape(run.now, t, &hashes);
                }
            }
            Step::Forward(ms) => {
                run.now = run.now.saturating_add(Duration::from_millis(u64::from(ms)))
            }
            Step::Backward(ms) => {
                run.now = run.now.saturating_sub(Duration::from_millis(u64::from(ms)))
            }
            Step::Timeout => {
                run.ann.handle_timeout(run.now);
                if let Some(t) = run.ann.poll_timeout() {
                    assert!(t >= run.now, "deadline {t:?} before now {:?}", run.now);
                }
            }
            Step::TimeoutAtDeadline => {
                if let Some(t) = run.ann.poll_timeout() {
                    run.now = run.now.max(t);
                    run.ann.handle_timeout(run.now);
                    if let Some(t) = run.ann.poll_timeout() {
                        assert!(t >= run.now, "deadline {t:?} before now {:?}", run.now);
                    }
                }
            }
            Step::Transmit(size) => drop(run.transmit(size)),
            Step::Drain => {
                let mut n = 0;
                while run.transmit(None) {
                    n += 1;
                    assert!(n < 10_000, "poll_transmit never ends");
                }
                run.events();
            }
            Step::Reply {
                back,
                elsewhere,
                reply,
                tid,
            } => run.reply(back, elsewhere, reply, tid),
        }
        run.check();
    }
});

/// An id for a resolver answer when the script names no tracker: the first, or one
/// that does not exist (index 0 of an empty announcer).
fn first_or_any(ann: &Ann) -> TrackerId {
    ann.trackers().next().unwrap_or_else(|| {
        // No tracker yet: any id is unknown to the announcer.
        let mut other = Ann::new_sized(AnnouncerConfig::new(), *ann.params(), 0).unwrap();
        other
            .add_tracker(0, TrackerUrl::parse("udp://192.0.2.1:1").unwrap())
            .unwrap()
    })
}
