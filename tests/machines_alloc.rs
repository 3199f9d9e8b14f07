//! The four state machines never allocate: a full exchange of each — `udp::Client` with
//! `udp::Server`, `ctcs::ClientSession` with `ctcs::ServerSession` — runs in memory under
//! a counting global allocator with zero allocations. Buffers are made before counting;
//! the file holds one `#[test]` so no other test thread allocates meanwhile.

use core::net::{Ipv4Addr, SocketAddr};
use std::hint::black_box;
use std::time::Duration;

use trackwire::ctcs::{
    ClientEvent as CtcsEvent, ClientSession, ClientSessionConfig, CtBw, CtStatus,
    ServerConfig as CtcsServerConfig, ServerEvent, ServerSession,
};
use trackwire::udp::{
    AnnounceParams, Client, ClientConfig, ConnectRequest, ErrorResponse, InfoHash, PeerId,
    Received, ScrapeRow, Server, ServerAction, ServerConfig,
};
use trackwire::Instant;
use trackwire_alloc_count::{count, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TRACKER: SocketAddr =
    SocketAddr::new(core::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 6969);
const PEER: SocketAddr = SocketAddr::new(core::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), 6881);

/// Announce and scrape through client and server; returns what completed.
fn udp_exchange(
    client: &mut Client<4>,
    server: &Server,
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
    let mut client = Box::new(Client::<4>::new_sized(ClientConfig::new(TRACKER), 5).unwrap());
    let mut refused = Box::new(Client::<4>::new_sized(ClientConfig::new(TRACKER), 6).unwrap());
    let mut ctcs_server = Box::new(
        ServerSession::new(CtcsServerConfig::new(), Instant::from_secs(1_795_312_213)).unwrap(),
    );
    let config = ClientSessionConfig::new(*b"-CD0303-abcdefghijkl", 1_795_312_213, b"x.torrent");
    let mut ctcs_client = Box::new(ClientSession::new(config).unwrap());

    let ((announced, scraped), udp_allocs) =
        count(|| udp_exchange(&mut client, &server, &mut out, &mut reply));
    let (failed, refused_allocs) =
        count(|| udp_refused_connect(&mut refused, &mut out, &mut reply));
    let (events, ctcs_allocs) = count(|| ctcs_exchange(&mut ctcs_server, &mut ctcs_client, &mut b));
    assert_eq!(
        (udp_allocs, refused_allocs, ctcs_allocs),
        (0, 0, 0),
        "the state machines allocated"
    );
    // The exchanges really ran.
    assert_eq!((announced, scraped), (2, 2));
    assert_eq!(failed, 2);
    assert!(events >= 6, "only {events} server events");
    // And the counter counts.
    let ((), n) = count(|| drop(black_box(vec![1u8; 8])));
    assert!(n > 0);
}
