//! The tracker-side triage: connect, announce, scrape, error replies and drops; cookie
//! expiry and forgery; reply caps; the no-amplification rule.

use crate::common;

use core::net::SocketAddr;
use core::time::Duration;

use proptest::prelude::*;
use trackwire::udp::{
    payload_budget, AddressFamily, AnnounceEvent, AnnounceRequest, AnnounceTail, ConnectRequest,
    ConnectResponse, ConnectionId, Dropped, InfoHash, InfoHashes, PeerId, Rejection, Request,
    Response, ScrapeRequest, ScrapeRow, Server, ServerAction, ServerConfig, TailGrammar,
    TransactionId, MSG_BAD_CONNECTION_ID, MSG_MALFORMED, PROTOCOL_ID,
};
use trackwire::Instant;

const SECRET: [u8; 16] = *b"0123456789abcdef";

fn server() -> Server {
    Server::new(ServerConfig::new(), SECRET)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn connect(s: &Server, now: Instant, from: SocketAddr) -> ConnectionId {
    let mut req = [0u8; 16];
    ConnectRequest {
        transaction_id: TransactionId(7),
    }
    .encode(&mut req)
    .unwrap();
    let mut reply = [0u8; 1500];
    let ServerAction::Connected { len } = s.handle_datagram(now, from, &req, &mut reply) else {
        panic!("connect not answered")
    };
    assert_eq!(len, 16);
    let r = ConnectResponse::decode(&reply[..len]).unwrap();
    assert_eq!(r.transaction_id, TransactionId(7));
    r.connection_id
}

fn announce(cid: ConnectionId, num_want: i32) -> Vec<u8> {
    let a = AnnounceRequest {
        connection_id: cid,
        transaction_id: TransactionId(0xabcd),
        info_hash: InfoHash([1; 20]),
        peer_id: PeerId([2; 20]),
        downloaded: 0,
        left: 10,
        uploaded: 0,
        event: AnnounceEvent::Started,
        ip: 0,
        key: 9,
        num_want,
        port: 6881,
        tail: AnnounceTail::None,
    };
    let mut b = vec![0; a.encoded_len()];
    a.encode(&mut b).unwrap();
    b
}

#[test]
fn connect_then_announce_then_scrape() {
    let s = server();
    let from = addr("192.0.2.1:5000");
    let t = Instant::from_secs(1000);
    let cid = connect(&s, t, from);
    let req = announce(cid, -1);
    let mut reply = [0u8; 1500];
    let ServerAction::Announce(inc) = s.handle_datagram(t, from, &req, &mut reply) else {
        panic!("announce not accepted")
    };
    assert_eq!(inc.from, from);
    assert_eq!(inc.request.port, 6881);
    assert_eq!(inc.family(), AddressFamily::Ipv4);
    assert_eq!(inc.peer_limit(), 50, "num_want -1 gets the default");
    // A mixed swarm: only IPv4 peers reach an IPv4 requester.
    let swarm = [
        addr("10.0.0.1:1"),
        addr("[2001:db8::1]:2"),
        addr("[::ffff:10.0.0.3]:3"),
    ];
    let n = inc.respond(1800, 2, 1, swarm, &mut reply).unwrap();
    let Response::Announce(a) = Response::decode(&reply[..n], AddressFamily::Ipv4).unwrap() else {
        panic!()
    };
    assert_eq!(a.transaction_id, TransactionId(0xabcd));
    let peers: Vec<String> = a.peers.iter().map(|p| p.to_string()).collect();
    assert_eq!(peers, ["10.0.0.1:1", "10.0.0.3:3"]);

    let hashes = [InfoHash([1; 20]), InfoHash([3; 20])];
    let sc = ScrapeRequest {
        connection_id: cid,
        transaction_id: TransactionId(5),
        info_hashes: InfoHashes::from_slice(&hashes),
    };
    let mut b = vec![0; sc.encoded_len()];
    sc.encode(&mut b).unwrap();
    let ServerAction::Scrape(inc) = s.handle_datagram(t, from, &b, &mut reply) else {
        panic!()
    };
    let n = inc
        .respond(
            |h| {
                if h == hashes[0] {
                    ScrapeRow {
                        complete: 1,
                        downloaded: 2,
                        incomplete: 3,
                    }
                } else {
                    ScrapeRow::default()
                }
            },
            &mut reply,
        )
        .unwrap();
    let Response::Scrape(r) = Response::decode(&reply[..n], AddressFamily::Ipv4).unwrap() else {
        panic!()
    };
    let rows: Vec<_> = r.rows.iter().collect();
    assert_eq!(
        rows,
        [
            ScrapeRow {
                complete: 1,
                downloaded: 2,
                incomplete: 3
            },
            ScrapeRow::default()
        ]
    );
}

#[test]
fn connection_ids_expire_after_the_configured_age() {
    let from = addr("192.0.2.1:5000");
    for age in [120u64, 300, 3600] {
        let cfg = ServerConfig::new().with_max_connection_age(Duration::from_secs(age));
        let s = Server::new(cfg, SECRET);
        let t0 = Instant::from_millis(50_000);
        let cid = connect(&s, t0, from);
        let req = announce(cid, 1);
        let mut reply = [0u8; 1500];
        for dt in [0, 1, age / 2, age] {
            let t = t0.saturating_add(Duration::from_secs(dt));
            assert!(
                matches!(
                    s.handle_datagram(t, from, &req, &mut reply),
                    ServerAction::Announce(_)
                ),
                "age {age}, dt {dt}"
            );
        }
        let late = t0.saturating_add(Duration::from_secs(age + 1));
        let ServerAction::Rejected { len, reason } =
            s.handle_datagram(late, from, &req, &mut reply)
        else {
            panic!()
        };
        assert_eq!(reason, Rejection::BadConnectionId);
        let Response::Error(e) = Response::decode(&reply[..len], AddressFamily::Ipv4).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            e.transaction_id,
            TransactionId(0xabcd),
            "error replies carry the request's tid"
        );
        assert_eq!(e.message, MSG_BAD_CONNECTION_ID);
    }
    // Below BEP 15's two minutes is raised to two minutes.
    let cfg = ServerConfig::new().with_max_connection_age(Duration::from_secs(5));
    let s = Server::new(cfg, SECRET);
    let cid = connect(&s, Instant::ZERO, from);
    let mut reply = [0u8; 1500];
    assert!(matches!(
        s.handle_datagram(Instant::from_secs(119), from, &announce(cid, 1), &mut reply),
        ServerAction::Announce(_)
    ));
}

#[test]
fn forged_and_foreign_ids_are_rejected() {
    let s = server();
    let t = Instant::from_secs(10_000);
    let me = addr("192.0.2.1:5000");
    let cid = connect(&s, t, me);
    let mut reply = [0u8; 1500];
    // Another address, another secret, the protocol magic, a neighbour of the real id,
    // an id from the future.
    let other = Server::new(ServerConfig::default(), [9; 16]);
    let attempts = [
        (addr("192.0.2.2:5000"), cid),
        (me, connect(&other, t, me)),
        (me, ConnectionId(PROTOCOL_ID)),
        (me, ConnectionId(cid.0 ^ 1)),
        (me, connect(&s, Instant::from_secs(10_100), me)),
    ];
    for (from, id) in attempts {
        let req = announce(id, 1);
        let r = s.handle_datagram(t, from, &req, &mut reply);
        assert!(
            matches!(
                r,
                ServerAction::Rejected {
                    reason: Rejection::BadConnectionId,
                    ..
                }
            ),
            "{from} {id}: {r:?}"
        );
    }
    // IPv4-mapped is the same peer.
    assert!(matches!(
        s.handle_datagram(
            t,
            addr("[::ffff:192.0.2.1]:5000"),
            &announce(cid, 1),
            &mut reply
        ),
        ServerAction::Announce(_)
    ));
}

#[test]
fn drops() {
    let s = server();
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let mut reply = [0u8; 1500];
    // Too short for a header.
    assert!(matches!(
        s.handle_datagram(t, from, &[0; 15], &mut reply),
        ServerAction::Dropped(Dropped::Malformed(_))
    ));
    // A connect with the wrong magic.
    let mut c = [0u8; 16];
    ConnectRequest {
        transaction_id: TransactionId(1),
    }
    .encode(&mut c)
    .unwrap();
    c[7] ^= 1;
    assert!(matches!(
        s.handle_datagram(t, from, &c, &mut reply),
        ServerAction::Dropped(Dropped::Malformed(_))
    ));
    // An error packet, even with a valid id.
    let cid = connect(&s, t, from);
    let mut e = announce(cid, 1);
    e[11] = 3;
    assert_eq!(
        s.handle_datagram(t, from, &e, &mut reply),
        ServerAction::Dropped(Dropped::ErrorPacket)
    );
    // A bad id on a 16-byte scrape: the error reply (25 bytes) would be larger.
    let sc = ScrapeRequest {
        connection_id: ConnectionId(1),
        transaction_id: TransactionId(2),
        info_hashes: InfoHashes::from_slice(&[]),
    };
    let mut b = [0u8; 16];
    sc.encode(&mut b).unwrap();
    assert_eq!(
        s.handle_datagram(t, from, &b, &mut reply),
        ServerAction::Dropped(Dropped::Oversized(Rejection::BadConnectionId))
    );
    // A reply buffer too small for a connect reply.
    ConnectRequest {
        transaction_id: TransactionId(1),
    }
    .encode(&mut c)
    .unwrap();
    assert!(matches!(
        s.handle_datagram(t, from, &c, &mut [0u8; 8]),
        ServerAction::Dropped(Dropped::ReplyBuffer(_))
    ));
}

#[test]
fn authenticated_but_malformed_gets_an_error_with_its_tid() {
    let s = server();
    let t = Instant::from_secs(1);
    let from = addr("[2001:db8::5]:7");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    let req = announce(cid, 1);
    let ServerAction::Rejected {
        len,
        reason: Rejection::Malformed(e),
    } = s.handle_datagram(t, from, &req[..40], &mut reply)
    else {
        panic!()
    };
    assert_eq!(e.offset(), 36);
    let Response::Error(r) = Response::decode(&reply[..len], AddressFamily::Ipv6).unwrap() else {
        panic!()
    };
    assert_eq!(r.transaction_id, TransactionId(0xabcd));
    let mut odd = req.clone();
    odd[11] = 9;
    assert!(matches!(
        s.handle_datagram(t, from, &odd, &mut reply),
        ServerAction::Rejected {
            reason: Rejection::UnknownAction(9),
            ..
        }
    ));
}

#[test]
fn reply_caps_follow_num_want_and_the_mtu() {
    let s = server();
    let t = Instant::from_secs(1);
    let mut reply = [0u8; 2000];
    let v4_swarm: Vec<SocketAddr> = (0..500u16)
        .map(|p| SocketAddr::from(([10, 0, (p >> 8) as u8, p as u8], p)))
        .collect();
    let v6_swarm: Vec<SocketAddr> = (0..500u16)
        .map(|p| SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, p], p)))
        .collect();
    for (from, swarm, family) in [
        (addr("192.0.2.1:1"), &v4_swarm, AddressFamily::Ipv4),
        (addr("[2001:db8::1]:1"), &v6_swarm, AddressFamily::Ipv6),
    ] {
        let cid = connect(&s, t, from);
        for (num_want, want) in [
            (-1, 50),
            (0, 0),
            (10, 10),
            (
                10_000,
                if family == AddressFamily::Ipv4 {
                    200
                } else {
                    79
                },
            ),
        ] {
            let req = announce(cid, num_want);
            let ServerAction::Announce(inc) = s.handle_datagram(t, from, &req, &mut reply) else {
                panic!()
            };
            assert_eq!(inc.peer_limit(), want, "{family:?} num_want {num_want}");
            let n = inc
                .respond(1800, 0, 0, swarm.iter().copied(), &mut reply)
                .unwrap();
            assert!(n <= payload_budget(1500, family));
            let Response::Announce(a) = Response::decode(&reply[..n], family).unwrap() else {
                panic!()
            };
            assert_eq!(a.peers.len(), want);
        }
    }
    // Scrape rows: 74 by default.
    let from = addr("192.0.2.1:1");
    let cid = connect(&s, t, from);
    let hashes: Vec<InfoHash> = (0..100u8).map(|i| InfoHash([i; 20])).collect();
    let sc = ScrapeRequest {
        connection_id: cid,
        transaction_id: TransactionId(2),
        info_hashes: InfoHashes::from_slice(&hashes),
    };
    let mut b = vec![0; sc.encoded_len()];
    sc.encode(&mut b).unwrap();
    let ServerAction::Scrape(inc) = s.handle_datagram(t, from, &b, &mut reply) else {
        panic!()
    };
    assert_eq!(inc.row_limit(), 74);
    let n = inc.respond(|_| ScrapeRow::default(), &mut reply).unwrap();
    assert_eq!(n, 8 + 74 * 12);
}

#[test]
fn config_setters_reach_the_triage() {
    // Every default, then every setter, seen through the fields and the triage.
    let d = ServerConfig::new();
    assert_eq!(d, ServerConfig::default());
    assert_eq!(
        (
            d.max_connection_age,
            d.include_port,
            d.tail_grammar,
            d.strict_tails
        ),
        (Duration::from_secs(120), false, TailGrammar::Bep41, false)
    );
    assert_eq!(
        (
            d.mtu,
            d.default_num_want,
            d.max_num_want,
            d.max_scrape_hashes
        ),
        (1500, 50, 200, 74)
    );
    assert_eq!(
        (d.private, d.announce_interval, d.interval_jitter),
        (false, 1800, 0)
    );
    let c = ServerConfig::new()
        .with_max_connection_age(Duration::from_secs(600))
        .with_include_port(true)
        .with_tail_grammar(TailGrammar::Legacy)
        .with_strict_tails(true)
        .with_mtu(576)
        .with_default_num_want(7)
        .with_max_num_want(9)
        .with_max_scrape_hashes(3)
        .with_private(true)
        .with_announce_interval(900)
        .with_interval_jitter(30);
    assert_eq!(
        (
            c.max_connection_age,
            c.include_port,
            c.tail_grammar,
            c.strict_tails
        ),
        (Duration::from_secs(600), true, TailGrammar::Legacy, true)
    );
    assert_eq!(
        (
            c.mtu,
            c.default_num_want,
            c.max_num_want,
            c.max_scrape_hashes
        ),
        (576, 7, 9, 3)
    );
    assert_eq!(
        (c.private, c.announce_interval, c.interval_jitter),
        (true, 900, 30)
    );
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let mut reply = [0u8; 1500];
    // Private mode: an announce without URLData is refused.
    let private = Server::new(c, SECRET);
    let cid = connect(&private, t, from);
    assert!(matches!(
        private.handle_datagram(t, from, &announce(cid, -1), &mut reply),
        ServerAction::Rejected {
            reason: Rejection::UrlDataRequired,
            ..
        }
    ));
    let s = Server::new(c.with_private(false), SECRET);
    let cid = connect(&s, t, from);
    for (num_want, want) in [(-1, 7), (100, 9)] {
        let request = announce(cid, num_want);
        let ServerAction::Announce(inc) = s.handle_datagram(t, from, &request, &mut reply) else {
            panic!()
        };
        assert_eq!(inc.peer_limit(), want);
        // The interval is 900 ± 30.
        assert_eq!((inc.interval(0), inc.interval(u32::MAX)), (870, 930));
    }
    // include_port: the id does not work from another port of the same host.
    let other_port = addr("192.0.2.1:2");
    assert!(matches!(
        s.handle_datagram(t, other_port, &announce(cid, -1), &mut reply),
        ServerAction::Rejected {
            reason: Rejection::BadConnectionId,
            ..
        }
    ));
    // The id lives for the configured 600 s.
    let later = Instant::from_secs(500);
    assert!(matches!(
        s.handle_datagram(later, from, &announce(cid, -1), &mut reply),
        ServerAction::Announce(_)
    ));
    // Scrapes are capped at 3 rows (576-byte MTU would allow more).
    let mut scrape = [0u8; 16 + 5 * 20];
    let hashes = [InfoHash([1; 20]); 5];
    let n = ScrapeRequest {
        connection_id: cid,
        transaction_id: TransactionId(3),
        info_hashes: InfoHashes::from_slice(&hashes),
    }
    .encode(&mut scrape)
    .unwrap();
    let ServerAction::Scrape(inc) = s.handle_datagram(t, from, &scrape[..n], &mut reply) else {
        panic!()
    };
    assert_eq!(inc.row_limit(), 3);
}

#[test]
fn one_server_is_shared_by_threads_without_a_lock() {
    // `handle_datagram` takes `&self`: threads triage through one shared reference, and
    // an id issued on one thread is accepted on another.
    fn shareable<T: Send + Sync>(_: &T) {}
    let s = server();
    shareable(&s);
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.9:4000");
    let ids: Vec<ConnectionId> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| connect(&s, t, from)))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut reply = [0u8; 1500];
            let request = announce(ids[0], -1);
            assert!(matches!(
                s.handle_datagram(t, from, &request, &mut reply),
                ServerAction::Announce(_)
            ));
        });
    });
}

#[test]
fn real_client_datagrams_get_the_right_triage() {
    // Replay every request of the captures from one address; connects are answered,
    // everything else (made-up ids) is rejected or dropped, never amplified.
    let s = server();
    let mut reply = [0u8; 1500];
    for d in common::all_datagrams()
        .into_iter()
        .filter(|d| d.from_client)
    {
        let from = if d.family == AddressFamily::Ipv4 {
            addr("127.0.0.1:6881")
        } else {
            addr("[::1]:6881")
        };
        let action = s.handle_datagram(Instant::from_secs(1), from, &d.bytes, &mut reply);
        match action {
            ServerAction::Connected { len } => assert_eq!(len, 16),
            ServerAction::Rejected { len, reason } => {
                assert_eq!(reason, Rejection::BadConnectionId, "{}:{}", d.file, d.line);
                assert!(len <= d.bytes.len());
            }
            ServerAction::Dropped(_) => {}
            other => panic!("{}:{}: {other:?}", d.file, d.line),
        }
        let _ = Request::decode(&d.bytes);
    }
}

proptest! {
    /// Whatever arrives, a datagram is never answered with more bytes than it carried,
    /// and the triage never panics.
    #[test]
    fn never_amplifies(bytes in proptest::collection::vec(any::<u8>(), 0..300), port in any::<u16>(), secs in 0u64..100_000) {
        let s = server();
        let mut reply = [0u8; 1500];
        let from = SocketAddr::from(([198, 51, 100, 7], port));
        match s.handle_datagram(Instant::from_secs(secs), from, &bytes, &mut reply) {
            ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => prop_assert!(len <= bytes.len()),
            ServerAction::Announce(_) | ServerAction::Scrape(_) => prop_assert!(false, "random bytes authenticated"),
            _ => {}
        }
    }

    /// With a valid id in front, any announce body is accepted or answered with an
    /// error carrying the request's transaction id (or, for a request shorter than that
    /// error, dropped).
    #[test]
    fn authenticated_garbage_is_answered_with_its_tid(tail in proptest::collection::vec(any::<u8>(), 0..200), tid in any::<u32>()) {
        let s = server();
        let t = Instant::from_secs(500);
        let from = addr("203.0.113.9:1");
        let cid = connect(&s, t, from);
        let mut bytes = cid.0.to_be_bytes().to_vec();
        bytes.extend(1u32.to_be_bytes());
        bytes.extend(tid.to_be_bytes());
        bytes.extend(&tail);
        let mut reply = [0u8; 1500];
        match s.handle_datagram(t, from, &bytes, &mut reply) {
            ServerAction::Announce(a) => prop_assert_eq!(a.request.transaction_id, TransactionId(tid)),
            ServerAction::Rejected { len, reason: Rejection::Malformed(_) } => {
                prop_assert!(len <= bytes.len());
                let Response::Error(e) = Response::decode(&reply[..len], AddressFamily::Ipv4).unwrap() else { panic!() };
                prop_assert_eq!(e.transaction_id, TransactionId(tid));
            }
            // Even authenticated, an error reply is never longer than the request.
            ServerAction::Dropped(Dropped::Oversized(Rejection::Malformed(_))) => {
                prop_assert!(8 + MSG_MALFORMED.len() > bytes.len());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

#[test]
fn garbage_after_the_announce_is_tolerated_unless_strict() {
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let mut reply = [0u8; 1500];
    for strict in [false, true] {
        let s = Server::new(ServerConfig::new().with_strict_tails(strict), SECRET);
        let cid = connect(&s, t, from);
        let mut req = announce(cid, 1);
        // 0xde claims 0xad bytes of option data that are not there.
        req.extend([0xde, 0xad, 0xbe, 0xef]);
        match s.handle_datagram(t, from, &req, &mut reply) {
            ServerAction::Announce(a) if !strict => {
                assert_eq!(a.request.tail, AnnounceTail::Raw(&[0xde, 0xad, 0xbe, 0xef]))
            }
            ServerAction::Rejected {
                reason: Rejection::Malformed(e),
                ..
            } if strict => {
                assert_eq!(e.offset(), 99)
            }
            other => panic!("strict {strict}: {other:?}"),
        }
    }
}
