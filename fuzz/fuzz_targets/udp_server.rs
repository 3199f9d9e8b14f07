//! `udp::Server` over an arbitrary script of datagrams, source addresses and times
//! (forward and backward): raw bytes, and structured connects, announces and scrapes
//! that carry ids it issued (or stale, or forged), answered by the application with
//! arbitrary peers and rows into replies of arbitrary size.
//!
//! Asserts: no panic; a datagram whose connection id was not verified is never answered
//! with more bytes than it carried; a connect reply is 16 bytes, carries the request's
//! transaction id and an id the server accepts from that address at that time; error
//! replies carry the request's transaction id; an announce or scrape reply fits the
//! payload budget of the configured MTU in the requester's family, honours
//! `peer_limit`/`row_limit`, and carries only peers of the requester's family.
//!
//! The operator hooks are drawn too (an allow- or deny-list, a passkey, private mode, a
//! rate limit over a small table, counters): an announce reaches the application only
//! if its hash is allowed and its URLData (if any, and required in private mode) is the
//! passkey; refusals carry the documented reason; a rate-limited drop happens only with
//! a limiter; a scraped denied hash gets a zero row; every datagram is counted once,
//! with its bytes.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    canonical_addr, payload_budget, AccessList, AddressFamily, AnnounceEvent, AnnounceRequest,
    AnnounceResponse, AnnounceTail, ConnectRequest, ConnectResponse, ConnectionId,
    ConnectionIdScheme, Counters, Dropped, ErrorResponse, InfoHash, InfoHashes, ListMode, Listed,
    PeerId, Peers, RateLimitConfig, RateLimiter, Rejection, RequestHeader, ScrapeRequest,
    ScrapeResponse, ScrapeRow, Server, ServerAction, ServerConfig, ServerHooks, SipCookies,
    SortedHashes, TailGrammar, TransactionId, MAX_JOINED_URL_DATA, MSG_NOT_ALLOWED,
    MSG_UNAUTHORIZED, MSG_URL_DATA_REQUIRED,
};

/// The hashes an access list names: announces and scrapes draw from [0..4) so that both
/// listed and unlisted ones occur.
static LISTED: [InfoHash; 2] = [InfoHash([0; 20]), InfoHash([2; 20])];

struct Hooks {
    access: Option<Listed<SortedHashes<'static>>>,
    passkey: Option<Vec<u8>>,
    limiter: Option<RateLimiter<Vec<AtomicU64>>>,
    counters: Counters,
}

impl Hooks {
    fn allowed(&self, h: &InfoHash) -> bool {
        self.access.as_ref().map_or(true, |a| a.allows(h))
    }
}

impl ServerHooks for Hooks {
    fn allows(&self, info_hash: &InfoHash) -> bool {
        self.allowed(info_hash)
    }
    fn authorize(&self, _from: SocketAddr, _a: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        assert!(url_data.len() <= MAX_JOINED_URL_DATA);
        self.passkey.as_deref().map_or(true, |k| k == url_data)
    }
    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        self.limiter.as_ref().map_or(true, |l| l.admit(now, source))
    }
    fn counters(&self) -> Option<&Counters> {
        Some(&self.counters)
    }
}

#[derive(Arbitrary, Debug)]
struct HookConfig {
    access: Option<bool>,
    passkey: Option<Vec<u8>>,
    private: bool,
    /// per second, burst, slots.
    limit: Option<(u16, u8, u8)>,
    limit_key: [u8; 16],
    ipv6_prefix: u8,
}
use trackwire::Instant;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Addr {
    /// One of a few fixed addresses, so that issued ids get reused.
    Known(u8),
    V4([u8; 4], u16),
    V6([u8; 16], u16),
    /// A known IPv4 address in IPv4-mapped IPv6 form.
    Mapped(u8),
}

impl Addr {
    fn resolve(self) -> SocketAddr {
        let known = |i: u8| -> SocketAddr {
            match i % 4 {
                0 => "10.0.0.1:6881".parse().unwrap(),
                1 => "10.0.0.1:6882".parse().unwrap(),
                2 => "[2001:db8::1]:6881".parse().unwrap(),
                _ => "192.0.2.9:51413".parse().unwrap(),
            }
        };
        match self {
            Addr::Known(i) => known(i),
            Addr::V4(ip, port) => SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port),
            Addr::V6(ip, port) => SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port),
            Addr::Mapped(i) => match known(i) {
                SocketAddr::V4(v4) => {
                    SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
                }
                other => other,
            },
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Cid {
    /// The `n`-th id issued so far (counting from the last).
    Issued(u8),
    Forged(u64),
}

#[derive(Arbitrary, Debug)]
enum Answer {
    /// `respond` with these peers (IPv4 and IPv6 mixed).
    Peers(Vec<Addr>),
    /// `respond_compact` with this many compact peers of a family.
    Compact {
        v6: bool,
        count: u16,
    },
    Reject(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Forward(u32),
    Backward(u32),
    Raw {
        from: Addr,
        bytes: Vec<u8>,
    },
    Connect {
        from: Addr,
        tid: u32,
        padding: u8,
    },
    Announce {
        from: Addr,
        cid: Cid,
        tid: u32,
        num_want: i32,
        hash: u8,
        /// URLData options carrying these bytes in chunks of this size (0: the tail is
        /// `tail` as it is).
        url: Option<(Vec<u8>, u8)>,
        passkey_url: bool,
        tail: Vec<u8>,
        answer: Answer,
    },
    Scrape {
        from: Addr,
        cid: Cid,
        tid: u32,
        hashes: u8,
        reject: bool,
    },
}

#[derive(Arbitrary, Debug)]
enum ReplySize {
    Large,
    Mtu,
    Tiny(u8),
}

#[derive(Arbitrary, Debug)]
struct Script {
    secret: [u8; 16],
    max_age_s: u32,
    include_port: bool,
    legacy: bool,
    mtu: u16,
    default_num_want: u16,
    max_num_want: u16,
    max_scrape_hashes: u8,
    hooks: HookConfig,
    reply: ReplySize,
    start_ms: u64,
    steps: Vec<(Step, bool)>,
}

struct Run {
    server: Server<SipCookies, Hooks>,
    now: Instant,
    issued: Vec<ConnectionId>,
    reply_len: usize,
}

impl Run {
    fn cid(&self, c: Cid) -> u64 {
        match c {
            Cid::Issued(n) => self
                .issued
                .iter()
                .rev()
                .nth(usize::from(n) % 4)
                .map_or(0, |c| c.0),
            Cid::Forged(x) => x,
        }
    }

    fn budget(&self, from: SocketAddr) -> usize {
        payload_budget(
            self.server.config().mtu,
            AddressFamily::of(canonical_addr(from)),
        )
    }

    /// Hands one datagram to the server and checks what it did; returns the action for
    /// structured steps to answer.
    fn datagram(&mut self, from: SocketAddr, bytes: &[u8], answer: Option<&Answer>, reject: bool) {
        let mut reply = vec![0u8; self.reply_len];
        let header = RequestHeader::decode(bytes);
        let authenticated = header.is_ok_and(|h| {
            !matches!(h.action, 0 | 3)
                && self.server.scheme().validate(
                    self.now,
                    canonical_addr(from),
                    ConnectionId(h.connection_id),
                )
        });
        let before = self.server.hooks().counters.snapshot();
        let action = self
            .server
            .handle_datagram(self.now, from, bytes, &mut reply);
        let after = self.server.hooks().counters.snapshot();
        assert_eq!(after.requests().total(), before.requests().total() + 1);
        assert_eq!(
            after.bytes_in.total(),
            before.bytes_in.total() + bytes.len() as u64
        );
        let hooks = self.server.hooks();
        match action {
            ServerAction::Dropped(Dropped::RateLimited) => assert!(hooks.limiter.is_some()),
            ServerAction::Rejected { len, reason } => {
                let message = ErrorResponse::decode(&reply[..len]).unwrap().message;
                match reason {
                    Rejection::NotAllowed => assert_eq!(message, MSG_NOT_ALLOWED),
                    Rejection::Unauthorized => assert_eq!(message, MSG_UNAUTHORIZED),
                    Rejection::UrlDataRequired => {
                        assert_eq!(message, MSG_URL_DATA_REQUIRED);
                        assert!(self.server.config().private);
                    }
                    _ => {}
                }
                if let Ok(a) = AnnounceRequest::decode_with(bytes, TailGrammar::Raw) {
                    if reason == Rejection::NotAllowed {
                        assert!(!hooks.allowed(&a.info_hash));
                    }
                }
            }
            ServerAction::Announce(a) => {
                assert!(hooks.allowed(&a.request.info_hash));
                let url = match a.request.tail {
                    AnnounceTail::Options(o) if o.url_data().next().is_some() => {
                        let mut joined = vec![0u8; o.url_data_len()];
                        o.copy_url_data(&mut joined).unwrap();
                        Some(joined)
                    }
                    AnnounceTail::Extensions(e) => e.request_string.map(|s| s.as_bytes().to_vec()),
                    _ => None,
                };
                match (url, &hooks.passkey) {
                    (None, _) => assert!(!self.server.config().private),
                    (Some(u), Some(k)) => assert_eq!(&u, k),
                    (Some(u), None) => assert!(u.len() <= MAX_JOINED_URL_DATA),
                }
            }
            _ => {}
        }
        let written = match action {
            ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => Some(len),
            _ => None,
        };
        if let Some(len) = written {
            assert!(len <= reply.len());
            if !authenticated {
                assert!(
                    len <= bytes.len(),
                    "unauthenticated {}-byte datagram answered with {len} bytes",
                    bytes.len()
                );
            }
        }
        let tid = header.map(|h| h.transaction_id);
        match action {
            ServerAction::Connected { len } => {
                assert_eq!(len, 16);
                let c = ConnectResponse::decode(&reply[..len]).unwrap();
                assert_eq!(Ok(c.transaction_id), tid);
                assert!(ConnectRequest::decode(bytes).is_ok());
                assert!(
                    self.server
                        .scheme()
                        .validate(self.now, from, c.connection_id),
                    "an issued id fails at once"
                );
                self.issued.push(c.connection_id);
            }
            ServerAction::Rejected { len, .. } => {
                let e = ErrorResponse::decode(&reply[..len]).unwrap();
                assert_eq!(Ok(e.transaction_id), tid);
                assert!(len <= 8 + 32);
            }
            ServerAction::Announce(a) => {
                assert!(authenticated);
                let family = a.family();
                assert_eq!(family, AddressFamily::of(canonical_addr(from)));
                let budget = self.budget(from);
                assert!(20 + a.peer_limit() * family.peer_len() <= budget.max(20));
                let Some(answer) = answer else { return };
                let mut out = vec![0u8; self.reply_len];
                let r = match answer {
                    Answer::Peers(peers) => {
                        let peers: Vec<SocketAddr> = peers.iter().map(|p| p.resolve()).collect();
                        a.respond(1800, 1, 2, peers, &mut out)
                    }
                    Answer::Compact { v6, count } => {
                        let fam = if *v6 {
                            AddressFamily::Ipv6
                        } else {
                            AddressFamily::Ipv4
                        };
                        let raw = vec![9u8; usize::from(*count) * fam.peer_len()];
                        a.respond_compact(
                            1800,
                            1,
                            2,
                            Peers::from_compact(fam, &raw).unwrap(),
                            &mut out,
                        )
                    }
                    Answer::Reject(msg) => {
                        let _ = a.reject(msg, &mut out);
                        return;
                    }
                };
                if let Ok(len) = r {
                    assert!(
                        len <= budget,
                        "announce reply of {len} bytes over budget {budget}"
                    );
                    let resp = AnnounceResponse::decode(&out[..len], family).unwrap();
                    assert!(resp.peers.len() <= a.peer_limit());
                    assert_eq!(resp.transaction_id, a.request.transaction_id);
                }
            }
            ServerAction::Scrape(s) => {
                assert!(authenticated);
                let budget = self.budget(from);
                let mut out = vec![0u8; self.reply_len];
                if reject {
                    let _ = s.reject(b"no", &mut out);
                    return;
                }
                let r = self.server.respond_scrape(
                    &s,
                    |h| {
                        assert!(
                            self.server.hooks().allowed(&h),
                            "a denied hash was looked up"
                        );
                        ScrapeRow {
                            complete: u32::from(h.0[0]),
                            downloaded: 0,
                            incomplete: 1,
                        }
                    },
                    &mut out,
                );
                if let Ok(len) = r {
                    assert!(
                        len <= budget.max(8),
                        "scrape reply of {len} bytes over budget {budget}"
                    );
                    let resp = ScrapeResponse::decode(&out[..len]).unwrap();
                    assert!(resp.rows.len() <= s.row_limit());
                    assert!(resp.rows.len() <= s.request.info_hashes.len());
                    for (row, h) in resp.rows.iter().zip(s.request.info_hashes.iter()) {
                        if !self.server.hooks().allowed(&h) {
                            assert_eq!(row, ScrapeRow::default());
                        }
                    }
                }
            }
            ServerAction::Dropped(_) => {}
            _ => {}
        }
    }

    fn step(&mut self, step: &Step, twice: bool) {
        let rounds = if twice { 2 } else { 1 };
        match step {
            Step::Forward(ms) => {
                self.now = self.now.saturating_add(Duration::from_millis((*ms).into()))
            }
            Step::Backward(ms) => {
                self.now = self.now.saturating_sub(Duration::from_millis((*ms).into()))
            }
            Step::Raw { from, bytes } => {
                for _ in 0..rounds {
                    self.datagram(from.resolve(), bytes, None, false);
                }
            }
            Step::Connect { from, tid, padding } => {
                let mut buf = vec![0u8; 16 + usize::from(*padding)];
                ConnectRequest {
                    transaction_id: TransactionId(*tid),
                }
                .encode(&mut buf)
                .unwrap();
                self.datagram(from.resolve(), &buf, None, false);
            }
            Step::Announce {
                from,
                cid,
                tid,
                num_want,
                hash,
                url,
                passkey_url,
                tail,
                answer,
            } => {
                let mut options = Vec::new();
                let url = match (passkey_url, &self.server.hooks().passkey, url) {
                    (true, Some(k), _) => Some((k.clone(), 255)),
                    (_, _, u) => u.clone(),
                };
                let tail: &[u8] = match url {
                    Some((bytes, chunk)) => {
                        for c in bytes.chunks(usize::from(chunk.max(1))) {
                            options.push(2);
                            options.push(c.len() as u8);
                            options.extend_from_slice(c);
                        }
                        &options
                    }
                    None => tail,
                };
                let req = AnnounceRequest {
                    connection_id: ConnectionId(self.cid(*cid)),
                    transaction_id: TransactionId(*tid),
                    info_hash: InfoHash([hash % 4; 20]),
                    peer_id: PeerId([2; 20]),
                    downloaded: 0,
                    left: 10,
                    uploaded: 0,
                    event: AnnounceEvent::Started,
                    ip: 0,
                    key: 5,
                    num_want: *num_want,
                    port: 6881,
                    tail: AnnounceTail::Raw(tail),
                };
                let mut buf = vec![0u8; req.encoded_len()];
                let n = req.encode(&mut buf).unwrap();
                for _ in 0..rounds {
                    self.datagram(from.resolve(), &buf[..n], Some(answer), false);
                }
            }
            Step::Scrape {
                from,
                cid,
                tid,
                hashes,
                reject,
            } => {
                let hs: Vec<InfoHash> = (0..*hashes).map(|i| InfoHash([i % 4; 20])).collect();
                let req = ScrapeRequest {
                    connection_id: ConnectionId(self.cid(*cid)),
                    transaction_id: TransactionId(*tid),
                    info_hashes: InfoHashes::from_slice(&hs),
                };
                let mut buf = vec![0u8; req.encoded_len()];
                let n = req.encode(&mut buf).unwrap();
                self.datagram(from.resolve(), &buf[..n], None, *reject);
            }
        }
    }
}

fuzz_target!(|s: Script| {
    let config = ServerConfig::new()
        .with_max_connection_age(Duration::from_secs(s.max_age_s.into()))
        .with_include_port(s.include_port)
        .with_tail_grammar(if s.legacy {
            TailGrammar::Legacy
        } else {
            TailGrammar::Bep41
        })
        // At least the IPv4 minimum MTU (RFC 791): below it even a connect reply cannot fit.
        .with_mtu(usize::from(s.mtu).max(68))
        .with_default_num_want(s.default_num_want.into())
        .with_max_num_want(s.max_num_want.into())
        .with_max_scrape_hashes(s.max_scrape_hashes.into())
        .with_private(s.hooks.private);
    let h = &s.hooks;
    let hooks = Hooks {
        access: h.access.map(|allow| {
            let mode = if allow {
                ListMode::Allow
            } else {
                ListMode::Deny
            };
            Listed::new(mode, SortedHashes::new(&LISTED).unwrap())
        }),
        passkey: h.passkey.clone(),
        limiter: h.limit.map(|(per_second, burst, n)| {
            let slots = (0..=usize::from(n)).map(|_| AtomicU64::new(0)).collect();
            let config =
                RateLimitConfig::new(u32::from(per_second).max(1), u32::from(burst).max(1))
                    .with_ipv6_prefix(h.ipv6_prefix);
            RateLimiter::new(config, h.limit_key, slots).unwrap()
        }),
        counters: Counters::new(),
    };
    let reply_len = match s.reply {
        ReplySize::Large => 65_536,
        ReplySize::Mtu => 1472,
        ReplySize::Tiny(n) => n.into(),
    };
    let mut run = Run {
        server: Server::new(config, s.secret).with_hooks(hooks),
        now: Instant::from_millis(s.start_ms),
        issued: Vec::new(),
        reply_len,
    };
    for (step, twice) in s.steps.iter().take(128) {
        run.step(step, *twice);
    }
});
