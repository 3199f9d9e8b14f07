//! The four state machines never allocate: a full exchange of each — `udp::Client` with
//! `udp::Server`, `ctcs::ClientSession` with `ctcs::ServerSession` — runs in memory under
//! a counting global allocator with zero allocations, and so does `udp::Server` with every
//! operator hook at work (access list, passkey, rate limit, counters). Buffers, tables and
//! hooks are made before counting; the file holds one `#[test]` so no other test thread
//! allocates meanwhile.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use trackwire::ctcs::{
    ClientEvent as CtcsEvent, ClientSession, ClientSessionConfig, CtBw, CtStatus,
    ServerConfig as CtcsServerConfig, ServerEvent, ServerSession,
};
use trackwire::udp::{
    AccessList, AnnounceEvent, AnnounceParams, AnnounceRequest, AnnounceTail, Client, ClientConfig,
    ConnectRequest, ConnectResponse, Counters, ErrorResponse, InfoHash, InfoHashes, ListMode,
    Listed, PeerId, RateLimitConfig, RateLimiter, Received, ScrapeRequest, ScrapeRow, Server,
    ServerAction, ServerConfig, ServerHooks, SipCookies, SortedHashes, TransactionId,
};
use trackwire::Instant;
use trackwire_alloc_count::count;

const TRACKER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 6969);
const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 6881);

static ALLOWED: [InfoHash; 2] = [InfoHash([1; 20]), InfoHash([3; 20])];

/// Every hook at work: an allow-list, a passkey check, a rate limit, counters.
struct Hooks {
    access: Listed<SortedHashes<'static>>,
    limiter: RateLimiter<Vec<AtomicU64>>,
    counters: Counters,
}

impl ServerHooks for Hooks {
    fn allows(&self, info_hash: &InfoHash) -> bool {
        self.access.allows(info_hash)
    }
    fn authorize(&self, _from: SocketAddr, _a: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        url_data == b"/announce/passkey"
    }
    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        self.limiter.admit(now, source)
    }
    fn counters(&self) -> Option<&Counters> {
        Some(&self.counters)
    }
}

/// The hooked triage on its own: a passkey split over two URLData options (joined on
/// the stack), a denied hash, a scrape answered through the access list, the counters
/// read; returns how many of the four went as expected.
fn hooked_triage(server: &Server<SipCookies, Hooks>, out: &mut [u8], reply: &mut [u8]) -> usize {
    let t = Instant::from_secs(1);
    let from = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)), 1);
    let n = ConnectRequest {
        transaction_id: TransactionId(1),
    }
    .encode(out)
    .unwrap();
    let ServerAction::Connected { len } = server.handle_datagram(t, from, &out[..n], reply) else {
        return 0;
    };
    server.record_sent(from, &reply[..len]);
    let cid = ConnectResponse::decode(&reply[..len])
        .unwrap()
        .connection_id;
    let split = *b"\x02\x0a/announce/\x02\x07passkey";
    let mut ok = 0;
    for (hash, want_announce) in [(InfoHash([1; 20]), true), (InfoHash([2; 20]), false)] {
        let n = AnnounceRequest {
            connection_id: cid,
            transaction_id: TransactionId(2),
            info_hash: hash,
            peer_id: PeerId([2; 20]),
            downloaded: 0,
            left: 0,
            uploaded: 0,
            event: AnnounceEvent::None,
            ip: 0,
            key: 0,
            num_want: 5,
            port: 1,
            tail: AnnounceTail::Raw(&split),
        }
        .encode(out)
        .unwrap();
        match server.handle_datagram(t, from, &out[..n], reply) {
            ServerAction::Announce(a) if want_announce => {
                let len = a.respond(a.interval(7), 0, 1, [PEER], reply).unwrap();
                server.record_sent(from, &reply[..len]);
                ok += 1;
            }
            ServerAction::Rejected { .. } if !want_announce => ok += 1,
            _ => {}
        }
    }
    let hashes = [InfoHash([1; 20]), InfoHash([2; 20])];
    let n = ScrapeRequest {
        connection_id: cid,
        transaction_id: TransactionId(3),
        info_hashes: InfoHashes::from_slice(&hashes),
    }
    .encode(out)
    .unwrap();
    if let ServerAction::Scrape(s) = server.handle_datagram(t, from, &out[..n], reply) {
        let row = ScrapeRow {
            complete: 1,
            downloaded: 1,
            incomplete: 1,
        };
        let len = server.respond_scrape(&s, |_| row, reply).unwrap();
        ok += usize::from(len == 8 + 2 * 12);
    }
    black_box(server.hooks().counters.snapshot());
    ok
}

/// Announce and scrape through client and server; returns what completed.
fn udp_exchange<H: ServerHooks>(
    client: &mut Client<4>,
    server: &Server<SipCookies, H>,
    out: &mut [u8],
    reply: &mut [u8],
) -> (usize, usize) {
    let mut t = Instant::from_secs(1);
    let params = AnnounceParams::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
    client.announce(t, params).unwrap();
    client
        .scrape(t, &[InfoHash([1; 20]), InfoHash([3; 20])])
        .unwrap();
    let (mut announced, mut scraped) = (0, 0);
    for _ in 0..10 {
        while let Some(tx) = client.poll_transmit(t, out).unwrap() {
            let len = match server.handle_datagram(t, PEER, &out[..tx.len], reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                ServerAction::Announce(a) => a.respond(60, 1, 1, [TRACKER, PEER], reply).unwrap(),
                ServerAction::Scrape(s) => s
                    .respond(
                        |_| ScrapeRow {
                            complete: 1,
                            downloaded: 2,
                            incomplete: 3,
                        },
                        reply,
                    )
                    .unwrap(),
                _ => 0,
            };
            match client.handle_datagram(t, TRACKER, &reply[..len]) {
                Ok(Received::Announced { response, .. }) => {
                    announced += black_box(response.peers.iter().count())
                }
                Ok(Received::Scraped { response, .. }) => {
                    scraped += black_box(response.iter().count())
                }
                _ => {}
            }
        }
        while client.poll_event().is_some() {}
        t = t.saturating_add(Duration::from_secs(1));
        client.handle_timeout(t);
    }
    (announced, scraped)
}

/// Two announces whose connect is refused: the report names both, without allocating.
fn udp_refused_connect(client: &mut Client<4>, out: &mut [u8], reply: &mut [u8]) -> usize {
    let t = Instant::from_secs(1);
    for i in 0..2 {
        let params = AnnounceParams::new(InfoHash([i; 20]), PeerId([2; 20]), 6881);
        client.announce(t, params).unwrap();
    }
    let tx = client.poll_transmit(t, out).unwrap().unwrap();
    let connect = ConnectRequest::decode(&out[..tx.len]).unwrap();
    let len = ErrorResponse {
        transaction_id: connect.transaction_id,
        message: b"banned",
    }
    .encode(reply)
    .unwrap();
    match client.handle_datagram(t, TRACKER, &reply[..len]) {
        Ok(Received::ConnectFailed { failed, .. }) => black_box(failed.iter().count()),
        _ => 0,
    }
}

/// A CTCS session: handshake, status, bandwidth, quit; returns the events the server saw.
fn ctcs_exchange(server: &mut ServerSession, client: &mut ClientSession, b: &mut [u8]) -> usize {
    let t = Instant::from_secs(1_795_312_213);
    client.handle_connected(t);
    server.request_status().unwrap();
    server.set_download_limit(20480).unwrap();
    server.quit().unwrap();
    let mut events = 0;
    let status = CtStatus {
        n_have: 4,
        n_total: 4,
        n_avail: 4,
        ..CtStatus::default()
    };
    for _ in 0..50 {
        // Client to server without a copy in between: the client writes its line
        // straight into the server's input buffer.
        while let Some(n) = client.poll_transmit(server.input_buf()).unwrap() {
            server.commit_input(t, n).unwrap();
            while let Some(e) = server.poll_event() {
                events += 1;
                black_box(matches!(e, ServerEvent::Status { .. }));
            }
        }
        while let Some(n) = server.poll_transmit(b).unwrap() {
            client.handle_input(&b[..n]).unwrap();
            while let Some(e) = client.poll_event() {
                match e {
                    CtcsEvent::Connected | CtcsEvent::StatusRequested | CtcsEvent::Quit => {
                        client.send_status(&status).unwrap()
                    }
                    CtcsEvent::DownloadLimit { limit, .. } => client
                        .send_bw(&CtBw {
                            dl_rate: 0,
                            ul_rate: 0,
                            dl_limit: limit,
                            ul_limit: 0,
                        })
                        .unwrap(),
                    _ => {}
                }
            }
        }
        while let Some(e) = client.poll_event() {
            if matches!(e, CtcsEvent::Connected) {
                client.send_status(&status).unwrap();
            }
        }
    }
    events
}

#[test]
fn state_machines_do_not_allocate() {
    let mut out = vec![0u8; Client::<4>::MAX_TRANSMIT_LEN];
    let mut reply = vec![0u8; 1500];
    let mut b = vec![0u8; ServerSession::MAX_TRANSMIT_LEN];
    let server = Server::new(ServerConfig::new(), [9; 16]);
    let slots: Vec<AtomicU64> = (0..1024).map(|_| AtomicU64::new(0)).collect();
    let hooked = Server::new(ServerConfig::new(), [9; 16]).with_hooks(Hooks {
        access: Listed::new(ListMode::Allow, SortedHashes::new(&ALLOWED).unwrap()),
        limiter: RateLimiter::new(RateLimitConfig::new(100, 100), [1; 16], slots).unwrap(),
        counters: Counters::new(),
    });
    let mut hooked_client =
        Box::new(Client::<4>::new_sized(ClientConfig::new(TRACKER), 7).unwrap());
    let mut client = Box::new(Client::<4>::new_sized(ClientConfig::new(TRACKER), 5).unwrap());
    let mut refused = Box::new(Client::<4>::new_sized(ClientConfig::new(TRACKER), 6).unwrap());
    let mut ctcs_server = Box::new(
        ServerSession::new(CtcsServerConfig::new(), Instant::from_secs(1_795_312_213)).unwrap(),
    );
    let config = ClientSessionConfig::new(*b"-CD0303-abcdefghijkl", 1_795_312_213, b"x.torrent");
    let mut ctcs_client = Box::new(ClientSession::new(config).unwrap());

    let ((announced, scraped), udp_allocs) =
        count(|| udp_exchange(&mut client, &server, &mut out, &mut reply));
    let ((hooked_announced, hooked_scraped), hooked_allocs) =
        count(|| udp_exchange(&mut hooked_client, &hooked, &mut out, &mut reply));
    let (hooked_ok, triage_allocs) = count(|| hooked_triage(&hooked, &mut out, &mut reply));
    let (failed, refused_allocs) =
        count(|| udp_refused_connect(&mut refused, &mut out, &mut reply));
    let (events, ctcs_allocs) = count(|| ctcs_exchange(&mut ctcs_server, &mut ctcs_client, &mut b));
    assert_eq!(
        (udp_allocs, refused_allocs, ctcs_allocs),
        (0, 0, 0),
        "the state machines allocated"
    );
    assert_eq!(
        (hooked_allocs, triage_allocs),
        (0, 0),
        "the hooked server allocated"
    );
    // The exchanges really ran.
    assert_eq!((announced, scraped), (2, 2));
    assert_eq!((hooked_announced, hooked_scraped), (2, 2));
    assert_eq!(hooked_ok, 3);
    let c = hooked.hooks().counters.snapshot();
    assert_eq!(c.rejected.not_allowed, 1);
    assert!(c.announce.ipv4 >= 3 && c.scrape.ipv4 >= 2, "{c:?}");
    assert_eq!(failed, 2);
    assert!(events >= 6, "only {events} server events");
    // And the counter counts.
    let ((), n) = count(|| drop(black_box(vec![1u8; 8])));
    assert!(n > 0);
}
