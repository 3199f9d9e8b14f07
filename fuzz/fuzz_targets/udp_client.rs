//! `udp::Client<4>` driven by an arbitrary script: commands (announce, scrape, cancel),
//! time jumps forward and backward, timeouts, transmits into large and short buffers,
//! arbitrary datagrams and structured replies (connect, announce, scrape, error) to
//! datagrams it sent, from the tracker or from elsewhere.
//!
//! Asserts: no panic; after `handle_timeout(now)`, `poll_timeout()` is never earlier
//! than `now`; every datagram is at most `Client::MAX_TRANSMIT_LEN` and the configured
//! payload budget, goes to the tracker, decodes as a request in the configured tail
//! grammar and has a nonzero transaction id; a failed `poll_transmit` (short buffer) and a
//! rejected datagram change nothing; at most `N` exchanges are in flight; every exchange
//! ends at most once, on one channel (a reply from `handle_datagram`, a `poll_event`
//! event, or a cancel), and a refused connect names only exchanges this run issued.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    AddressFamily, AnnounceEvent, AnnounceParams, AnnounceResponse, Client, ClientConfig,
    ConnectResponse, ConnectionId, ErrorResponse, ExchangeId, InfoHash, PeerId, Peers, Received,
    Request, RetryPolicy, ScrapeResponse, ScrapeRow, TailConfig, TailGrammar, TransactionId,
};
use trackwire::Instant;

const N: usize = 4;
const MAX_DATAGRAM_LEN: usize = Client::<N>::MAX_TRANSMIT_LEN;

#[derive(Arbitrary, Debug)]
enum Tail {
    None,
    Url(Vec<u8>),
    Legacy {
        username: Vec<u8>,
        password: Vec<u8>,
        request_string: Option<Vec<u8>>,
    },
}

#[derive(Arbitrary, Debug)]
enum Source {
    Tracker,
    /// The tracker's IPv4 address as IPv4-mapped IPv6.
    Mapped,
    /// Another port on the tracker's address.
    OtherPort(u16),
    Elsewhere,
}

#[derive(Arbitrary, Debug)]
enum Reply {
    Connect(u64),
    Announce {
        interval: u32,
        leechers: u32,
        seeders: u32,
        peers: u8,
        ragged: bool,
    },
    Scrape {
        rows: u8,
    },
    Error(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Forward(u32),
    Backward(u16),
    /// `handle_timeout` at the current time.
    Timeout,
    /// Jump to the next deadline (if any) and handle it.
    TimeoutAtDeadline,
    Announce {
        hash: u8,
        event: u8,
        num_want: i32,
        port: u16,
        left: i64,
    },
    Scrape {
        first: u8,
        count: u8,
    },
    /// Cancel an issued exchange (by index), or one never issued.
    Cancel(u8),
    /// `poll_transmit` into a buffer of full size, or of this many bytes.
    Transmit(Option<u8>),
    /// Drain transmits, events and the timeout, as a run loop does.
    Drain,
    PollEvent,
    Raw {
        from: Source,
        bytes: Vec<u8>,
    },
    /// A reply to the `back`-th datagram sent, counting from the last.
    Reply {
        back: u8,
        from: Source,
        reply: Reply,
        /// Use this transaction id instead of the datagram's.
        tid: Option<u32>,
    },
}

#[derive(Arbitrary, Debug)]
struct Script {
    v6: bool,
    seed: u64,
    initial_timeout_ms: u32,
    backoff: u8,
    max_sends: u8,
    lifetime_ms: u32,
    check_source: bool,
    budget: Option<u16>,
    tail: Tail,
    start_ms: u32,
    steps: Vec<Step>,
}

/// One datagram the client sent: its transaction id, action and (for a scrape) how many
/// hashes it carried.
struct Sent {
    tid: u32,
    action: u32,
    hashes: usize,
}

struct Run {
    client: Client<N>,
    tracker: SocketAddr,
    grammar: TailGrammar,
    budget: usize,
    now: Instant,
    sent: Vec<Sent>,
    ids: Vec<ExchangeId>,
    /// Exchanges that ended, on whichever channel.
    ended: Vec<ExchangeId>,
}

impl Run {
    /// Records that `id` ended; it must be one this run issued, ending for the first time.
    fn end(&mut self, id: ExchangeId) {
        assert!(self.ids.contains(&id), "{id} was never issued");
        assert!(!self.ended.contains(&id), "{id} ended twice");
        assert!(
            self.client.exchange(id).is_none(),
            "{id} ended but is still held"
        );
        self.ended.push(id);
    }

    fn source(&self, s: &Source) -> SocketAddr {
        match (s, self.tracker) {
            (Source::Tracker, t) => t,
            (Source::Mapped, SocketAddr::V4(v4)) => {
                SocketAddr::V6(SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0))
            }
            (Source::Mapped, t) => t,
            (Source::OtherPort(p), t) => SocketAddr::new(t.ip(), *p),
            (Source::Elsewhere, SocketAddr::V4(_)) => "198.51.100.7:6969".parse().unwrap(),
            (Source::Elsewhere, SocketAddr::V6(_)) => "[2001:db8::7]:6969".parse().unwrap(),
        }
    }

    fn transmit(&mut self, size: Option<u8>) -> bool {
        let mut buf = vec![0u8; size.map_or(MAX_DATAGRAM_LEN, usize::from)];
        let before = format!("{:?}", self.client);
        match self.client.poll_transmit(self.now, &mut buf) {
            Ok(None) => false,
            Ok(Some(t)) => {
                assert!(t.len <= MAX_DATAGRAM_LEN, "datagram of {} bytes", t.len);
                assert!(
                    t.len <= self.budget,
                    "datagram of {} bytes over the budget",
                    t.len
                );
                assert_eq!(t.destination, self.tracker);
                let bytes = &buf[..t.len];
                let request = Request::decode_with(bytes, self.grammar)
                    .unwrap_or_else(|e| panic!("the client sent an undecodable datagram: {e}"));
                let tid = request.transaction_id().0;
                assert_ne!(tid, 0, "transaction id 0");
                let (action, hashes) = match request {
                    Request::Connect(_) => (0, 0),
                    Request::Announce(_) => (1, 0),
                    Request::Scrape(s) => (2, s.info_hashes.len()),
                };
                self.sent.push(Sent {
                    tid,
                    action,
                    hashes,
                });
                true
            }
            Err(e) => {
                assert!(e.required() > buf.len());
                assert!(buf.iter().all(|&b| b == 0), "a failed transmit wrote");
                assert_eq!(
                    before,
                    format!("{:?}", self.client),
                    "a failed transmit changed state"
                );
                false
            }
        }
    }

    fn timeout(&mut self) {
        self.client.handle_timeout(self.now);
        if let Some(t) = self.client.poll_timeout() {
            assert!(
                t >= self.now,
                "poll_timeout {t:?} before now {:?}",
                self.now
            );
        }
    }

    fn deliver(&mut self, from: SocketAddr, bytes: &[u8]) {
        let before = format!("{:?}", self.client);
        match self.client.handle_datagram(self.now, from, bytes) {
            Ok(received) => match received {
                Received::Announced { id, response } => {
                    assert_eq!(response.peers.iter().count(), response.peers.len());
                    self.end(id);
                }
                Received::Scraped { id, response } => {
                    let n = response.iter().count();
                    assert_eq!(
                        n,
                        response.hashes().len().min(response.response().rows.len())
                    );
                    let _ = response.is_complete();
                    self.end(id);
                }
                Received::Failed { id, error } => {
                    let _ = error.to_str();
                    self.end(id);
                }
                Received::ConnectFailed { error, failed } => {
                    let _ = error.to_str();
                    assert!(failed.len() <= N);
                    for id in &failed {
                        self.end(id);
                    }
                }
                Received::Connected { waiting, .. } => assert!(waiting <= N),
                _ => {}
            },
            Err(rejected) => {
                let _ = rejected.to_string();
                assert_eq!(
                    before,
                    format!("{:?}", self.client),
                    "a rejected datagram changed state"
                );
            }
        }
    }

    fn reply(&mut self, back: u8, from: &Source, reply: &Reply, tid: Option<u32>) {
        let Some(sent) = self.sent.iter().rev().nth(usize::from(back) % 4) else {
            return;
        };
        let tid = TransactionId(tid.unwrap_or(sent.tid));
        let hashes = sent.hashes;
        let _ = sent.action;
        let from = self.source(from);
        let family = AddressFamily::of(from);
        let mut buf = vec![0u8; 65_536];
        let len = match reply {
            Reply::Connect(cid) => ConnectResponse {
                transaction_id: tid,
                connection_id: ConnectionId(*cid),
            }
            .encode(&mut buf),
            Reply::Announce {
                interval,
                leechers,
                seeders,
                peers,
                ragged,
            } => {
                let stride = family.peer_len();
                let raw: Vec<u8> = (0..usize::from(*peers) * stride).map(|i| i as u8).collect();
                let r = AnnounceResponse {
                    transaction_id: tid,
                    interval: *interval,
                    leechers: *leechers,
                    seeders: *seeders,
                    peers: Peers::from_compact(family, &raw).unwrap(),
                }
                .encode(&mut buf);
                r.map(|n| n + usize::from(*ragged))
            }
            Reply::Scrape { rows } => {
                let n = if *rows == 0 {
                    hashes
                } else {
                    usize::from(*rows) - 1
                };
                let rows: Vec<ScrapeRow> = (0..n)
                    .map(|i| ScrapeRow {
                        complete: i as u32,
                        downloaded: 1,
                        incomplete: 2,
                    })
                    .collect();
                ScrapeResponse::encode_with_rows(tid, rows.iter().copied(), n, &mut buf)
            }
            Reply::Error(msg) => ErrorResponse {
                transaction_id: tid,
                message: msg,
            }
            .encode(&mut buf),
        }
        .expect("64 KiB holds any reply");
        self.deliver(from, &buf[..len]);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Forward(ms) => {
                self.now = self.now.saturating_add(Duration::from_millis((*ms).into()))
            }
            Step::Backward(ms) => {
                self.now = self.now.saturating_sub(Duration::from_millis((*ms).into()))
            }
            Step::Timeout => self.timeout(),
            Step::TimeoutAtDeadline => {
                if let Some(t) = self.client.poll_timeout() {
                    self.now = self.now.max(t);
                }
                self.timeout();
            }
            Step::Announce {
                hash,
                event,
                num_want,
                port,
                left,
            } => {
                let mut p = AnnounceParams::new(InfoHash([*hash; 20]), PeerId([7; 20]), *port);
                p.event = AnnounceEvent::from_u32((*event).into());
                p.num_want = *num_want;
                p.left = *left;
                if let Ok(id) = self.client.announce(self.now, p) {
                    self.ids.push(id);
                }
            }
            Step::Scrape { first, count } => {
                let hashes: Vec<InfoHash> = (0..usize::from(*count))
                    .map(|i| InfoHash([first.wrapping_add(i as u8); 20]))
                    .collect();
                let r = self.client.scrape(self.now, &hashes);
                if hashes.len() > self.client.max_scrape_hashes() || hashes.is_empty() {
                    assert!(r.is_err());
                }
                if let Ok(id) = r {
                    self.ids.push(id);
                }
            }
            Step::Cancel(i) => {
                let i = usize::from(*i);
                if let Some(id) = self.ids.get(i) {
                    let id = *id;
                    if self.client.cancel(id).is_ok() {
                        self.end(id);
                    }
                    assert!(self.client.exchange(id).is_none());
                }
            }
            Step::Transmit(size) => {
                self.transmit(*size);
            }
            Step::Drain => {
                while self.transmit(None) {}
                if let Some(t) = self.client.poll_timeout() {
                    let _ = t;
                }
                while let Some(e) = self.client.poll_event() {
                    self.end(e.id());
                }
            }
            Step::PollEvent => {
                if let Some(e) = self.client.poll_event() {
                    self.end(e.id());
                }
            }
            Step::Raw { from, bytes } => {
                let from = self.source(from);
                self.deliver(from, bytes);
            }
            Step::Reply {
                back,
                from,
                reply,
                tid,
            } => self.reply(*back, from, reply, *tid),
        }
        assert!(self.client.in_flight() <= N);
        let _ = self.client.state();
        let _ = self.client.connection_id();
    }
}

fuzz_target!(|s: Script| {
    let tracker = if s.v6 {
        SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            6969,
            0,
            0,
        ))
    } else {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 6969))
    };
    let retry = RetryPolicy {
        initial_timeout: Duration::from_millis(s.initial_timeout_ms.into()),
        backoff: (s.backoff % 4).into(),
        max_sends: (s.max_sends % 10).into(),
    };
    let (tail, grammar) = match &s.tail {
        Tail::None => (TailConfig::None, TailGrammar::Bep41),
        Tail::Url(u) => (TailConfig::UrlData(u), TailGrammar::Bep41),
        Tail::Legacy {
            username,
            password,
            request_string,
        } => (
            TailConfig::LegacyAuth {
                username,
                password,
                request_string: request_string.as_deref(),
            },
            TailGrammar::Legacy,
        ),
    };
    let mut config = ClientConfig::new(tracker)
        .with_retry(retry)
        .with_connection_id_lifetime(Duration::from_millis(s.lifetime_ms.into()))
        .with_check_source(s.check_source)
        .with_tail(tail);
    if let Some(b) = s.budget {
        config = config.with_payload_budget(b.into());
    }
    let budget = config.payload_budget.min(MAX_DATAGRAM_LEN);
    let Ok(client) = Client::<N>::new_sized(config, s.seed) else {
        return;
    };
    let mut run = Run {
        client,
        tracker,
        grammar,
        budget,
        now: Instant::from_millis(s.start_ms.into()),
        sent: Vec::new(),
        ids: Vec::new(),
        ended: Vec::new(),
    };
    for step in s.steps.iter().take(256) {
        run.step(step);
    }
});
