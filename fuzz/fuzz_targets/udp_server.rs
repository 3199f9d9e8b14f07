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
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    canonical_addr, payload_budget, AddressFamily, AnnounceEvent, AnnounceRequest,
    AnnounceResponse, AnnounceTail, ConnectRequest, ConnectResponse, ConnectionId,
    ConnectionIdScheme, ErrorResponse, InfoHash, InfoHashes, PeerId, Peers, RequestHeader,
    ScrapeRequest, ScrapeResponse, ScrapeRow, Server, ServerAction, ServerConfig, TailGrammar,
    TransactionId,
};
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
    reply: ReplySize,
    start_ms: u64,
    steps: Vec<(Step, bool)>,
}

struct Run {
    server: Server,
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
        let action = self
            .server
            .handle_datagram(self.now, from, bytes, &mut reply);
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
                let r = s.respond(
                    |h| ScrapeRow {
                        complete: u32::from(h.0[0]),
                        downloaded: 0,
                        incomplete: 1,
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
                tail,
                answer,
            } => {
                let req = AnnounceRequest {
                    connection_id: ConnectionId(self.cid(*cid)),
                    transaction_id: TransactionId(*tid),
                    info_hash: InfoHash([1; 20]),
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
                let hs: Vec<InfoHash> = (0..*hashes).map(|i| InfoHash([i; 20])).collect();
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
        .with_max_scrape_hashes(s.max_scrape_hashes.into());
    let reply_len = match s.reply {
        ReplySize::Large => 65_536,
        ReplySize::Mtu => 1472,
        ReplySize::Tiny(n) => n.into(),
    };
    let mut run = Run {
        server: Server::new(config, s.secret),
        now: Instant::from_millis(s.start_ms),
        issued: Vec::new(),
        reply_len,
    };
    for (step, twice) in s.steps.iter().take(128) {
        run.step(step, *twice);
    }
});
