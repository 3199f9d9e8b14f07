//! The operator hooks of `udp::Server`, each driven through `handle_datagram`: access
//! lists (announce refused, scrape rows zeroed), BEP 41 passkeys and private mode,
//! per-source rate limiting, interval jitter, counters; and the no-amplification rule
//! under every hook configuration.

use core::net::{IpAddr, SocketAddr};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use trackwire::udp::{
    jittered_interval, AccessList, AddressFamily, AnnounceEvent, AnnounceRequest, AnnounceTail,
    ConnectRequest, ConnectResponse, ConnectionId, Counters, Dropped, InfoHash, InfoHashes,
    ListMode, Listed, PeerId, RateLimitConfig, RateLimiter, Rejection, Response, ScrapeRequest,
    ScrapeRow, Server, ServerAction, ServerConfig, ServerHooks, SipCookies, SortedHashes,
    TailGrammar, TransactionId, MAX_JOINED_URL_DATA, MSG_NOT_ALLOWED, MSG_UNAUTHORIZED,
    MSG_URL_DATA_REQUIRED,
};
use trackwire::Instant;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const ALLOWED: InfoHash = InfoHash([1; 20]);
const OTHER: InfoHash = InfoHash([2; 20]);
static LIST: [InfoHash; 1] = [ALLOWED];

/// Hooks a test configures field by field; every call is recorded.
#[derive(Default)]
struct TestHooks {
    access: Option<Listed<SortedHashes<'static>>>,
    /// The URLData that authorises, if any is checked.
    passkey: Option<Vec<u8>>,
    limiter: Option<RateLimiter<Vec<AtomicU64>>>,
    counters: Counters,
    allow_calls: AtomicUsize,
    auth_seen: Mutex<Vec<Vec<u8>>>,
}

impl ServerHooks for TestHooks {
    fn allows(&self, info_hash: &InfoHash) -> bool {
        self.allow_calls.fetch_add(1, Ordering::Relaxed);
        self.access.as_ref().map_or(true, |a| a.allows(info_hash))
    }
    fn authorize(&self, _from: SocketAddr, _a: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        self.auth_seen.lock().unwrap().push(url_data.to_vec());
        self.passkey.as_deref().map_or(true, |k| k == url_data)
    }
    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        self.limiter.as_ref().map_or(true, |l| l.admit(now, source))
    }
    fn counters(&self) -> Option<&Counters> {
        Some(&self.counters)
    }
}

fn slots(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn limiter(per_second: u32, burst: u32, n: usize) -> RateLimiter<Vec<AtomicU64>> {
    RateLimiter::new(RateLimitConfig::new(per_second, burst), [5; 16], slots(n)).unwrap()
}

fn server(config: ServerConfig, hooks: TestHooks) -> Server<SipCookies, TestHooks> {
    Server::new(config, SECRET).with_hooks(hooks)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn connect_bytes(tid: u32) -> [u8; 16] {
    let mut req = [0u8; 16];
    ConnectRequest {
        transaction_id: TransactionId(tid),
    }
    .encode(&mut req)
    .unwrap();
    req
}

fn connect<H: ServerHooks>(
    s: &Server<SipCookies, H>,
    now: Instant,
    from: SocketAddr,
) -> ConnectionId {
    let mut reply = [0u8; 1500];
    let ServerAction::Connected { len } =
        s.handle_datagram(now, from, &connect_bytes(7), &mut reply)
    else {
        panic!("connect not answered")
    };
    ConnectResponse::decode(&reply[..len])
        .unwrap()
        .connection_id
}

/// An announce for `hash` whose tail is `tail` (raw bytes: BEP 41 options when the
/// server reads BEP 41).
fn announce(cid: ConnectionId, hash: InfoHash, tail: &[u8]) -> Vec<u8> {
    let a = AnnounceRequest {
        connection_id: cid,
        transaction_id: TransactionId(0xabcd),
        info_hash: hash,
        peer_id: PeerId([2; 20]),
        downloaded: 0,
        left: 10,
        uploaded: 0,
        event: AnnounceEvent::Started,
        ip: 0,
        key: 9,
        num_want: -1,
        port: 6881,
        tail: AnnounceTail::Raw(tail),
    };
    let mut b = vec![0; a.encoded_len()];
    a.encode(&mut b).unwrap();
    b
}

/// BEP 41 URLData options carrying `url`, split into chunks of `chunk` bytes.
fn url_data(url: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in url.chunks(chunk) {
        out.push(2);
        out.push(c.len() as u8);
        out.extend_from_slice(c);
    }
    out
}

/// The error reply in `reply[..len]`: its transaction id and message.
fn error_of(reply: &[u8]) -> (TransactionId, Vec<u8>) {
    let Response::Error(e) = Response::decode(reply, AddressFamily::Ipv4).unwrap() else {
        panic!("not an error reply")
    };
    (e.transaction_id, e.message.to_vec())
}

fn expect_rejected(
    action: ServerAction<'_>,
    reply: &[u8],
    want: Rejection,
    message: &[u8],
    request_len: usize,
) {
    let ServerAction::Rejected { len, reason } = action else {
        panic!("expected {want:?}, got {action:?}")
    };
    assert_eq!(reason, want);
    assert!(
        len <= request_len,
        "{len}-byte error for a {request_len}-byte request"
    );
    assert_eq!(
        error_of(&reply[..len]),
        (TransactionId(0xabcd), message.to_vec())
    );
}

#[test]
fn an_allow_list_refuses_unknown_hashes_with_the_documented_error() {
    let hooks = TestHooks {
        access: Some(Listed::new(
            ListMode::Allow,
            SortedHashes::new(&LIST).unwrap(),
        )),
        ..TestHooks::default()
    };
    let s = server(ServerConfig::new(), hooks);
    let t = Instant::from_secs(100);
    let from = addr("192.0.2.1:5000");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    let ok = announce(cid, ALLOWED, &[]);
    assert!(
        matches!(s.handle_datagram(t, from, &ok, &mut reply), ServerAction::Announce(a) if a.request.info_hash == ALLOWED)
    );
    let denied = announce(cid, OTHER, &[]);
    let action = s.handle_datagram(t, from, &denied, &mut reply);
    expect_rejected(
        action,
        &reply,
        Rejection::NotAllowed,
        MSG_NOT_ALLOWED,
        denied.len(),
    );
    // A forged id is refused before the access list is asked.
    let calls = s.hooks().allow_calls.load(Ordering::Relaxed);
    let forged = announce(ConnectionId(cid.0 ^ 1), OTHER, &[]);
    assert!(matches!(
        s.handle_datagram(t, from, &forged, &mut reply),
        ServerAction::Rejected {
            reason: Rejection::BadConnectionId,
            ..
        }
    ));
    assert_eq!(s.hooks().allow_calls.load(Ordering::Relaxed), calls);
    let c = s.hooks().counters.snapshot();
    assert_eq!(c.rejected.not_allowed, 1);
    assert_eq!(c.rejected.bad_connection_id, 1);
    assert_eq!(c.announce.ipv4, 3);
}

#[test]
fn a_deny_list_refuses_only_the_listed_hashes() {
    let hooks = TestHooks {
        access: Some(Listed::new(
            ListMode::Deny,
            SortedHashes::new(&LIST).unwrap(),
        )),
        ..TestHooks::default()
    };
    let s = server(ServerConfig::new(), hooks);
    let t = Instant::from_secs(100);
    let from = addr("[2001:db8::7]:5000");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    let denied = announce(cid, ALLOWED, &[]);
    let action = s.handle_datagram(t, from, &denied, &mut reply);
    expect_rejected(
        action,
        &reply,
        Rejection::NotAllowed,
        MSG_NOT_ALLOWED,
        denied.len(),
    );
    assert!(matches!(
        s.handle_datagram(t, from, &announce(cid, OTHER, &[]), &mut reply),
        ServerAction::Announce(_)
    ));
    assert_eq!(s.hooks().counters.snapshot().announce.ipv6, 2);
}

#[test]
fn a_scraped_denied_hash_gets_a_zero_row_and_the_store_is_not_asked() {
    let hooks = TestHooks {
        access: Some(Listed::new(
            ListMode::Allow,
            SortedHashes::new(&LIST).unwrap(),
        )),
        ..TestHooks::default()
    };
    let s = server(ServerConfig::new(), hooks);
    let t = Instant::from_secs(100);
    let from = addr("192.0.2.1:5000");
    let cid = connect(&s, t, from);
    let hashes = [OTHER, ALLOWED, OTHER];
    let sc = ScrapeRequest {
        connection_id: cid,
        transaction_id: TransactionId(5),
        info_hashes: InfoHashes::from_slice(&hashes),
    };
    let mut b = vec![0; sc.encoded_len()];
    sc.encode(&mut b).unwrap();
    let mut reply = [0u8; 1500];
    // A scrape is never refused for its hashes.
    let ServerAction::Scrape(inc) = s.handle_datagram(t, from, &b, &mut reply) else {
        panic!()
    };
    let mut asked = Vec::new();
    let full = ScrapeRow {
        complete: 4,
        downloaded: 5,
        incomplete: 6,
    };
    let n = s
        .respond_scrape(
            &inc,
            |h| {
                asked.push(h);
                full
            },
            &mut reply,
        )
        .unwrap();
    assert_eq!(
        asked,
        [ALLOWED],
        "the store is asked only about allowed hashes"
    );
    let Response::Scrape(r) = Response::decode(&reply[..n], AddressFamily::Ipv4).unwrap() else {
        panic!()
    };
    let rows: Vec<_> = r.rows.iter().collect();
    assert_eq!(rows, [ScrapeRow::default(), full, ScrapeRow::default()]);
}

fn passkey_hooks(key: &[u8]) -> TestHooks {
    TestHooks {
        passkey: Some(key.to_vec()),
        ..TestHooks::default()
    }
}

#[test]
fn passkeys_in_the_url_path_authorise_announces() {
    let key = b"/announce/0123456789abcdef0123456789abcdef";
    for private in [false, true] {
        let s = server(
            ServerConfig::new().with_private(private),
            passkey_hooks(key),
        );
        let t = Instant::from_secs(100);
        let from = addr("192.0.2.1:5000");
        let cid = connect(&s, t, from);
        let mut reply = [0u8; 1500];
        // The right key, in one option and split over three.
        for chunk in [255, 16] {
            let req = announce(cid, ALLOWED, &url_data(key, chunk));
            let action = s.handle_datagram(t, from, &req, &mut reply);
            assert!(
                matches!(action, ServerAction::Announce(_)),
                "chunk {chunk}: {action:?}"
            );
        }
        // A wrong key, an empty URLData, a key with an extra byte.
        let mut longer = key.to_vec();
        longer.push(b'x');
        for bad in [&b"/announce/wrong"[..], b"", &longer] {
            let req = announce(
                cid,
                ALLOWED,
                &url_data(bad, 255)
                    .iter()
                    .chain(&[2, 0])
                    .copied()
                    .collect::<Vec<_>>(),
            );
            let action = s.handle_datagram(t, from, &req, &mut reply);
            expect_rejected(
                action,
                &reply,
                Rejection::Unauthorized,
                MSG_UNAUTHORIZED,
                req.len(),
            );
        }
        // No URLData at all: served in public mode, refused in private mode.
        let req = announce(cid, ALLOWED, &[]);
        let action = s.handle_datagram(t, from, &req, &mut reply);
        if private {
            expect_rejected(
                action,
                &reply,
                Rejection::UrlDataRequired,
                MSG_URL_DATA_REQUIRED,
                req.len(),
            );
        } else {
            assert!(matches!(action, ServerAction::Announce(_)));
        }
        // The check saw the joined bytes, and was not called without URLData.
        let seen = s.hooks().auth_seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[0], key);
        assert_eq!(seen[1], key, "three chunks are joined");
        let c = s.hooks().counters.snapshot();
        assert_eq!(c.rejected.unauthorized, 3);
        assert_eq!(c.rejected.url_data_required, u64::from(private));
    }
}

#[test]
fn a_signed_query_is_checked_against_the_announce_it_came_with() {
    // A toy signature: the hex of the info hash under a secret prefix. What matters is
    // that the check sees the announce as well as the URLData.
    struct Signed;
    impl ServerHooks for Signed {
        fn authorize(&self, _from: SocketAddr, a: &AnnounceRequest<'_>, url: &[u8]) -> bool {
            url == format!("/announce?sig=k{}", a.info_hash).as_bytes()
        }
    }
    let s = Server::new(ServerConfig::new().with_private(true), SECRET).with_hooks(Signed);
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    let url = format!("/announce?sig=k{ALLOWED}");
    let good = announce(cid, ALLOWED, &url_data(url.as_bytes(), 255));
    assert!(matches!(
        s.handle_datagram(t, from, &good, &mut reply),
        ServerAction::Announce(_)
    ));
    let replayed = announce(cid, OTHER, &url_data(url.as_bytes(), 255));
    let action = s.handle_datagram(t, from, &replayed, &mut reply);
    expect_rejected(
        action,
        &reply,
        Rejection::Unauthorized,
        MSG_UNAUTHORIZED,
        replayed.len(),
    );
}

#[test]
fn overlong_url_data_is_refused_without_a_call() {
    let s = server(ServerConfig::new(), passkey_hooks(b"k"));
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 2000];
    let at_limit = vec![b'a'; MAX_JOINED_URL_DATA];
    let over = vec![b'a'; MAX_JOINED_URL_DATA + 1];
    for (url, called) in [(&at_limit, true), (&over, false)] {
        let before = s.hooks().auth_seen.lock().unwrap().len();
        let req = announce(cid, ALLOWED, &url_data(url, 255));
        let action = s.handle_datagram(t, from, &req, &mut reply);
        expect_rejected(
            action,
            &reply,
            Rejection::Unauthorized,
            MSG_UNAUTHORIZED,
            req.len(),
        );
        let after = s.hooks().auth_seen.lock().unwrap().len();
        assert_eq!(after - before, usize::from(called), "{} bytes", url.len());
    }
}

#[test]
fn the_legacy_request_string_is_checked_like_url_data() {
    let key = b"/announce?passkey=abc";
    let config = ServerConfig::new()
        .with_tail_grammar(TailGrammar::Legacy)
        .with_private(true);
    let s = server(config, passkey_hooks(key));
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    // extensions = 2 (request string), then its length byte and bytes.
    let mut tail = vec![0, 2, key.len() as u8];
    tail.extend_from_slice(key);
    let good = announce(cid, ALLOWED, &tail);
    assert!(matches!(
        s.handle_datagram(t, from, &good, &mut reply),
        ServerAction::Announce(_)
    ));
    *tail.last_mut().unwrap() = b'x';
    let bad = announce(cid, ALLOWED, &tail);
    let action = s.handle_datagram(t, from, &bad, &mut reply);
    expect_rejected(
        action,
        &reply,
        Rejection::Unauthorized,
        MSG_UNAUTHORIZED,
        bad.len(),
    );
}

/// An address of the form `base` + i whose rate-limit slot differs from `avoid`'s.
fn address_in_another_slot(l: &RateLimiter<Vec<AtomicU64>>, avoid: SocketAddr) -> SocketAddr {
    (2..=255u8)
        .map(|i| SocketAddr::from(([198, 51, 100, i], 6881)))
        .find(|a| l.slot_of(a.ip()) != l.slot_of(avoid.ip()))
        .unwrap()
}

#[test]
fn a_flooding_source_is_limited_while_another_is_served() {
    let flooder = addr("203.0.113.1:1000");
    let l = limiter(10, 5, 1024);
    let other = address_in_another_slot(&l, flooder);
    let s = server(
        ServerConfig::new(),
        TestHooks {
            limiter: Some(l),
            ..TestHooks::default()
        },
    );
    let t = Instant::from_secs(1000);
    let mut reply = [0u8; 1500];
    let mut outcomes = (0, 0);
    for i in 0..1000u32 {
        // Garbage and connects alike: the limit is per source, before any parsing.
        let garbage = [0xffu8; 40];
        let req = connect_bytes(i);
        let bytes: &[u8] = if i % 2 == 0 { &req } else { &garbage };
        match s.handle_datagram(t, flooder, bytes, &mut reply) {
            ServerAction::Dropped(Dropped::RateLimited) => outcomes.1 += 1,
            _ => outcomes.0 += 1,
        }
        // The other source keeps being answered in the middle of the flood (5 times:
        // within its own burst).
        if i % 200 == 0 {
            assert!(
                matches!(
                    s.handle_datagram(t, other, &connect_bytes(1), &mut reply),
                    ServerAction::Connected { .. }
                ),
                "round {i}"
            );
        }
    }
    assert_eq!(outcomes, (5, 995), "the burst of 5, then nothing");
    // Tokens come back at 10 a second.
    let later = t.saturating_add(Duration::from_millis(500));
    let admitted = (0..20)
        .filter(|_| {
            !matches!(
                s.handle_datagram(later, flooder, &connect_bytes(1), &mut reply),
                ServerAction::Dropped(Dropped::RateLimited)
            )
        })
        .count();
    assert_eq!(admitted, 5);
    let c = s.hooks().counters.snapshot();
    assert_eq!(c.dropped.rate_limited, 995 + 15);
    // Rate-limited datagrams are still counted by kind.
    assert_eq!(c.connect.ipv4, 500 + 5 + 20);
    assert_eq!(c.invalid.ipv4, 500);
}

#[test]
fn ipv6_sources_are_grouped_by_prefix() {
    let t = Instant::from_secs(10);
    let a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
    let same64: IpAddr = "2001:db8:0:1:ffff::2".parse().unwrap();
    let same56: IpAddr = "2001:db8:0:2::1".parse().unwrap();
    for (prefix, shares_with_56) in [(64u8, false), (56, true)] {
        let l = RateLimiter::new(
            RateLimitConfig::new(1, 2).with_ipv6_prefix(prefix),
            [9; 16],
            slots(1 << 16),
        )
        .unwrap();
        assert_eq!(l.slot_of(a), l.slot_of(same64));
        assert_eq!(
            l.slot_of(a) == l.slot_of(same56),
            shares_with_56,
            "/{prefix}"
        );
        assert!(l.admit(t, a) && l.admit(t, same64));
        assert!(
            !l.admit(t, a) && !l.admit(t, same64),
            "one /64 is one source"
        );
        assert_eq!(l.admit(t, same56), !shares_with_56, "/{prefix}");
    }
    // IPv4-mapped IPv6 is the IPv4 source.
    let l = limiter(1, 1, 64);
    let v4: IpAddr = "192.0.2.1".parse().unwrap();
    assert!(l.admit(t, v4));
    assert!(!l.admit(t, "::ffff:192.0.2.1".parse().unwrap()));
}

#[test]
fn collisions_only_make_limits_stricter() {
    // One slot: every source shares one bucket, so together they get one burst.
    let l = limiter(1, 4, 1);
    let t = Instant::from_secs(10);
    let admitted = (1..=50u8)
        .filter(|i| l.admit(t, IpAddr::from([10, 0, 0, *i])))
        .count();
    assert_eq!(admitted, 4);
    // Many slots: a source never gets more than its burst, collision or not.
    let l = limiter(1, 4, 4096);
    for i in 1..=50u8 {
        let ip = IpAddr::from([10, 0, 0, i]);
        let own = (0..10).filter(|_| l.admit(t, ip)).count();
        assert!(own <= 4, "{ip} got {own}");
    }
}

#[test]
fn a_clock_that_steps_back_never_loosens_a_limit() {
    let l = limiter(1, 3, 8);
    let ip: IpAddr = "192.0.2.5".parse().unwrap();
    let t = Instant::from_secs(100);
    assert_eq!((0..10).filter(|_| l.admit(t, ip)).count(), 3);
    assert!(
        !l.admit(Instant::from_secs(90), ip),
        "earlier is not a refill"
    );
    assert!(!l.admit(Instant::ZERO, ip));
    // Once the clock is past where it was, tokens come back at the configured rate.
    assert!(l.admit(Instant::from_secs(101), ip));
    assert!(!l.admit(Instant::from_secs(101), ip));
}

#[test]
fn threads_share_one_bucket_table_without_exceeding_a_burst() {
    let l = limiter(1, 100, 16);
    let ip: IpAddr = "192.0.2.77".parse().unwrap();
    let t = Instant::from_secs(5);
    let admitted: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| (0..200).filter(|_| l.admit(t, ip)).count()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert!((90..=100).contains(&admitted), "{admitted}");
}

#[test]
fn limiter_settings_are_checked() {
    let cfg = RateLimitConfig::new(1, 1);
    for (config, n, argument) in [
        (cfg, 0, "slots"),
        (RateLimitConfig::new(0, 1), 1, "per_second"),
        (RateLimitConfig::new(1, 0), 1, "burst"),
    ] {
        let e = RateLimiter::new(config, [0; 16], slots(n)).unwrap_err();
        assert_eq!(e.argument(), argument);
    }
    // A very high rate still refills (an emission interval of at least 1 µs).
    let l = RateLimiter::new(RateLimitConfig::new(u32::MAX, 1), [0; 16], slots(1)).unwrap();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    assert!(l.admit(Instant::from_secs(1), ip));
    assert!(l.admit(Instant::from_millis(1001), ip));
}

#[test]
fn malformed_datagrams_are_counted_as_drops() {
    let s = server(ServerConfig::new(), TestHooks::default());
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let v6 = addr("[2001:db8::1]:1");
    let mut reply = [0u8; 1500];
    let mut bad_magic = connect_bytes(1);
    bad_magic[7] ^= 1;
    let cid = connect(&s, t, from);
    let mut error_packet = announce(cid, ALLOWED, &[]);
    error_packet[11] = 3;
    let short_scrape = {
        let mut b = [0u8; 16];
        ScrapeRequest {
            connection_id: ConnectionId(1),
            transaction_id: TransactionId(2),
            info_hashes: InfoHashes::from_slice(&[]),
        }
        .encode(&mut b)
        .unwrap();
        b
    };
    let inputs: [(SocketAddr, &[u8]); 5] = [
        (from, &[1, 2, 3]),
        (v6, &[0; 15]),
        (from, &bad_magic),
        (from, &error_packet),
        (from, &short_scrape),
    ];
    for (src, bytes) in inputs {
        assert!(matches!(
            s.handle_datagram(t, src, bytes, &mut reply),
            ServerAction::Dropped(_)
        ));
    }
    // An authenticated announce cut short gets an error, counted as a rejection.
    let req = announce(cid, ALLOWED, &[]);
    assert!(matches!(
        s.handle_datagram(t, from, &req[..50], &mut reply),
        ServerAction::Rejected {
            reason: Rejection::Malformed(_),
            ..
        }
    ));
    let c = s.hooks().counters.snapshot();
    assert_eq!(c.dropped.malformed, 3);
    assert_eq!(c.dropped.error_packet, 1);
    assert_eq!(c.dropped.oversized, 1);
    assert_eq!(c.rejected.malformed, 1);
    assert_eq!(c.invalid, trackwire::udp::ByFamily { ipv4: 1, ipv6: 1 });
    assert_eq!(c.connect.ipv4, 2);
    assert_eq!(c.error_packets.ipv4, 1);
    assert_eq!(c.scrape.ipv4, 1);
    assert_eq!(c.announce.ipv4, 1);
    assert_eq!(c.requests().total(), 7);
    assert_eq!(c.bytes_in.ipv4, 3 + 16 + 16 + 98 + 16 + 50);
    assert_eq!(c.bytes_in.ipv6, 15);
}

#[test]
fn counters_follow_a_session_and_what_the_driver_sends() {
    let s = server(ServerConfig::new(), TestHooks::default());
    let t = Instant::from_secs(1);
    let from = addr("[2001:db8::2]:9");
    let mut reply = [0u8; 1500];
    let mut sent = 0usize;
    let ServerAction::Connected { len } = s.handle_datagram(t, from, &connect_bytes(1), &mut reply)
    else {
        panic!()
    };
    s.record_sent(from, &reply[..len]);
    sent += len;
    let cid = ConnectResponse::decode(&reply[..len])
        .unwrap()
        .connection_id;
    let req = announce(cid, ALLOWED, &[]);
    let ServerAction::Announce(a) = s.handle_datagram(t, from, &req, &mut reply) else {
        panic!()
    };
    let mut out = [0u8; 1500];
    let n = a
        .respond(a.interval(0), 0, 0, [addr("[2001:db8::3]:1")], &mut out)
        .unwrap();
    s.record_sent(from, &out[..n]);
    sent += n;
    let bad = announce(ConnectionId(5), ALLOWED, &[]);
    let ServerAction::Rejected { len, .. } = s.handle_datagram(t, from, &bad, &mut reply) else {
        panic!()
    };
    s.record_sent(from, &reply[..len]);
    sent += len;
    let c = s.hooks().counters.snapshot();
    assert_eq!((c.connect.ipv6, c.announce.ipv6), (1, 2));
    assert_eq!(
        (
            c.connect_replies.ipv6,
            c.announce_replies.ipv6,
            c.error_replies.ipv6,
            c.scrape_replies.ipv6
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(c.replies().total(), 3);
    assert_eq!(c.bytes_out.ipv6, sent as u64);
    assert_eq!(c.bytes_out.ipv4, 0);
    assert_eq!(c.bytes_in.ipv6, 16 + 98 + 98);
    assert_eq!(c.rejected.bad_connection_id, 1);
    // Two workers' snapshots add up.
    let twice = c.add(&c);
    assert_eq!(twice.bytes_out.ipv6, 2 * sent as u64);
    assert_eq!(twice.rejected.bad_connection_id, 2);
}

#[test]
fn interval_jitter_stays_within_its_bounds() {
    let s = Server::new(
        ServerConfig::new()
            .with_announce_interval(1800)
            .with_interval_jitter(120),
        SECRET,
    );
    let t = Instant::from_secs(1);
    let from = addr("192.0.2.1:1");
    let cid = connect(&s, t, from);
    let mut reply = [0u8; 1500];
    let req = announce(cid, ALLOWED, &[]);
    let ServerAction::Announce(a) = s.handle_datagram(t, from, &req, &mut reply) else {
        panic!()
    };
    assert_eq!((a.interval(0), a.interval(u32::MAX)), (1680, 1920));
    assert_eq!(a.interval(1 << 31), 1800);
    // Every value of the range is reachable, and nothing outside it.
    let seen: HashSet<u32> = (0..100_000u32)
        .map(|i| a.interval(i.wrapping_mul(2_654_435_761)))
        .collect();
    assert_eq!(seen.len(), 241);
    assert!(seen.iter().all(|v| (1680..=1920).contains(v)));
    // Without jitter, the base.
    let plain = Server::new(ServerConfig::new(), SECRET);
    let cid = connect(&plain, t, from);
    let req = announce(cid, ALLOWED, &[]);
    let ServerAction::Announce(a) = plain.handle_datagram(t, from, &req, &mut reply) else {
        panic!()
    };
    assert_eq!(a.interval(12345), 1800);
}

#[test]
fn one_hooked_server_is_shared_by_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let s = server(
        ServerConfig::new(),
        TestHooks {
            limiter: Some(limiter(1000, 1000, 256)),
            ..TestHooks::default()
        },
    );
    shareable(&s);
    let t = Instant::from_secs(1);
    std::thread::scope(|scope| {
        for i in 0..4u8 {
            let s = &s;
            scope.spawn(move || {
                let from = SocketAddr::from(([192, 0, 2, i + 1], 1));
                let mut reply = [0u8; 1500];
                for _ in 0..100 {
                    let _ = s.handle_datagram(t, from, &connect_bytes(1), &mut reply);
                }
            });
        }
    });
    let c = s.hooks().counters.snapshot();
    assert_eq!(c.connect.ipv4, 400, "no increment lost");
    assert_eq!(c.bytes_in.ipv4, 400 * 16);
}

/// A hook configuration drawn by proptest.
#[derive(Debug, Clone)]
struct Config {
    access: Option<ListMode>,
    passkey: Option<Vec<u8>>,
    private: bool,
    limit: Option<(u32, u32, usize)>,
}

fn configs() -> impl Strategy<Value = Config> {
    (
        proptest::option::of(prop_oneof![Just(ListMode::Allow), Just(ListMode::Deny)]),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
        any::<bool>(),
        proptest::option::of((1u32..1000, 1u32..20, 1usize..64)),
    )
        .prop_map(|(access, passkey, private, limit)| Config {
            access,
            passkey,
            private,
            limit,
        })
}

fn build(c: &Config) -> Server<SipCookies, TestHooks> {
    let hooks = TestHooks {
        access: c
            .access
            .map(|m| Listed::new(m, SortedHashes::new(&LIST).unwrap())),
        passkey: c.passkey.clone(),
        limiter: c.limit.map(|(r, b, n)| limiter(r, b, n)),
        ..TestHooks::default()
    };
    server(ServerConfig::new().with_private(c.private), hooks)
}

proptest! {
    /// Under any hook configuration, a datagram whose connection id the server did not
    /// issue to its source is never answered with more bytes than it carried: raw bytes,
    /// and well-formed announces and scrapes with forged ids, with or without URLData.
    #[test]
    fn never_amplifies_under_any_hooks(
        config in configs(),
        inputs in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..200), any::<u64>(), any::<u8>(), 0u8..4),
            1..20,
        ),
        secs in 0u64..100_000,
    ) {
        let s = build(&config);
        let mut reply = [0u8; 1500];
        let (count, mut bytes_in) = (inputs.len() as u64, 0u64);
        for (raw, forged, host, shape) in inputs {
            let from = SocketAddr::from(([198, 51, 100, host], 6881));
            let bytes = match shape {
                0 => raw,
                1 => announce(ConnectionId(forged), if host % 2 == 0 { ALLOWED } else { OTHER }, &url_data(&raw, 255)),
                2 => {
                    let hashes = [ALLOWED; 3];
                    let sc = ScrapeRequest {
                        connection_id: ConnectionId(forged),
                        transaction_id: TransactionId(1),
                        info_hashes: InfoHashes::from_slice(&hashes[..usize::from(host % 4).min(3)]),
                    };
                    let mut b = vec![0; sc.encoded_len()];
                    sc.encode(&mut b).unwrap();
                    b
                }
                _ => connect_bytes(u32::from(host)).iter().chain(&raw).copied().collect(),
            };
            let now = Instant::from_secs(secs);
            bytes_in += bytes.len() as u64;
            match s.handle_datagram(now, from, &bytes, &mut reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => {
                    prop_assert!(len <= bytes.len(), "{} bytes answered with {}", bytes.len(), len)
                }
                ServerAction::Announce(_) | ServerAction::Scrape(_) => {
                    prop_assert!(false, "a forged id was accepted")
                }
                _ => {}
            }
        }
        // Every datagram was counted once.
        let c = s.hooks().counters.snapshot();
        prop_assert_eq!(c.requests().total(), count);
        prop_assert_eq!(c.bytes_in.ipv4, bytes_in);
    }

    /// `jittered_interval` stays within base ± min(jitter, base / 2).
    #[test]
    fn jitter_is_bounded(base in any::<u32>(), jitter in any::<u32>(), random in any::<u32>()) {
        let v = jittered_interval(base, jitter, random);
        let j = jitter.min(base / 2);
        prop_assert!(u64::from(v) + u64::from(j) >= u64::from(base));
        prop_assert!(u64::from(v) <= u64::from(base) + u64::from(j));
    }
}
