//! Our client against our server over real loopback sockets, with datagrams lost on the
//! way in both directions: every exchange still completes, through retries and
//! reconnects. No external program is needed, so this always runs.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::driver::{run, Outcome, Wire};
use trackwire::udp::client::{AnnounceParams, Client, ClientConfig, RetryPolicy};
use trackwire::udp::server::ServerAction;
use trackwire::udp::{InfoHash, PeerId, ScrapeRow, Server, ServerConfig};
use trackwire::Instant;

/// A tracker thread: `udp::Server` on a socket, dropping every `drop_every`-th datagram
/// it receives; answers announces with two fixed peers and scrapes with fixed rows.
fn spawn_server(bind: &str, drop_every: usize) -> (SocketAddr, Arc<AtomicBool>) {
    let socket = UdpSocket::bind(bind).unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let server = Server::new(ServerConfig::default(), *b"loopback-secret!");
        let start = std::time::Instant::now();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let (mut buf, mut reply) = ([0u8; 2048], [0u8; 1500]);
        let mut n_in = 0usize;
        while !flag.load(Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            n_in += 1;
            if drop_every > 0 && n_in % drop_every == 0 {
                continue; // lost on the way in
            }
            let now = Instant::from_millis(start.elapsed().as_millis() as u64);
            let len = match server.handle_datagram(now, from, &buf[..n], &mut reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                ServerAction::Announce(a) => {
                    let peers: [SocketAddr; 3] = [
                        "10.1.1.1:1".parse().unwrap(),
                        "[2001:db8::1]:2".parse().unwrap(),
                        "10.1.1.2:2".parse().unwrap(),
                    ];
                    a.respond(60, 1, 2, peers, &mut reply).unwrap()
                }
                ServerAction::Scrape(s) => s
                    .respond(
                        |h| ScrapeRow {
                            complete: u32::from(h.0[0]),
                            downloaded: 7,
                            incomplete: 1,
                        },
                        &mut reply,
                    )
                    .unwrap(),
                _ => 0,
            };
            if len > 0 {
                socket.send_to(&reply[..len], from).unwrap();
            }
        }
    });
    (addr, stop)
}

fn lossy_exchanges(server_bind: &str, client_bind: &str) {
    // The server loses every 3rd datagram, the client every 4th of its own.
    let (server, stop) = spawn_server(server_bind, 3);
    let socket = UdpSocket::bind(client_bind).unwrap();
    let retry = RetryPolicy {
        initial_timeout: Duration::from_millis(150),
        backoff: 1,
        max_sends: 12,
    };
    let mut client = Client::<8>::new(
        ClientConfig::new(server)
            .with_retry(retry)
            .with_connection_id_lifetime(Duration::from_millis(700)),
        0x5eed_1234_abcd_0042,
    )
    .unwrap();
    let start = std::time::Instant::now();
    let now = Instant::ZERO;
    let mut ids = Vec::new();
    for i in 0..6u8 {
        ids.push(
            client
                .announce(
                    now,
                    AnnounceParams::new(InfoHash([i; 20]), PeerId([9; 20]), 6881),
                )
                .unwrap(),
        );
    }
    let hashes: Vec<InfoHash> = (1..=2u8).map(|i| InfoHash([i; 20])).collect();
    ids.push(client.scrape(now, &hashes).unwrap());
    let mut n_out = 0usize;
    let mut keep_out = |_: &[u8]| {
        n_out += 1;
        n_out % 4 != 0
    };
    let mut keep_in = |_: &mut [u8]| true;
    let (done, stats) = run(
        &mut client,
        &socket,
        start,
        ids.len(),
        Duration::from_secs(30),
        Wire {
            keep_out: &mut keep_out,
            keep_in: &mut keep_in,
        },
    );
    assert_eq!(
        done.len(),
        ids.len(),
        "not every exchange ended: {done:?} {stats:?}"
    );
    // After the connection id's 700 ms, a new batch must connect again.
    std::thread::sleep(Duration::from_millis(800));
    let t = Instant::from_millis(start.elapsed().as_millis() as u64);
    let later: Vec<_> = (10..13u8)
        .map(|i| {
            client
                .announce(
                    t,
                    AnnounceParams::new(InfoHash([i; 20]), PeerId([9; 20]), 6881),
                )
                .unwrap()
        })
        .collect();
    let mut keep_out2 = |_: &[u8]| true;
    let mut keep_in2 = |_: &mut [u8]| true;
    let (done2, stats2) = run(
        &mut client,
        &socket,
        start,
        later.len(),
        Duration::from_secs(30),
        Wire {
            keep_out: &mut keep_out2,
            keep_in: &mut keep_in2,
        },
    );
    stop.store(true, Ordering::Relaxed);
    assert_eq!(done2.len(), later.len(), "{done2:?} {stats2:?}");
    assert!(
        done2
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Announced { .. })),
        "{done2:?}"
    );
    assert!(
        stats2.connects >= 1,
        "the expired id was reused: {stats2:?}"
    );
    assert!(stats.dropped_out > 0, "no loss was injected: {stats:?}");
    let v6 = server.is_ipv6();
    for (id, outcome) in &done {
        assert!(ids.contains(id));
        match outcome {
            Outcome::Announced {
                interval, peers, ..
            } => {
                assert_eq!(*interval, 60);
                // Only peers of the socket's family come back.
                assert_eq!(peers.len(), if v6 { 1 } else { 2 }, "{peers:?}");
                assert!(peers.iter().all(|p| p.is_ipv6() == v6));
            }
            Outcome::Scraped(rows) => {
                let got: Vec<(u8, u32)> = rows.iter().map(|(h, r)| (h.0[0], r.complete)).collect();
                assert_eq!(got, [(1, 1), (2, 2)]);
            }
            other => panic!("exchange {id:?} ended with {other:?}; {stats:?}"),
        }
    }
    eprintln!("{stats:?}");
}

#[test]
fn lossy_loopback_ipv4() {
    lossy_exchanges("127.0.0.1:0", "127.0.0.1:0");
}

#[test]
fn lossy_loopback_ipv6() {
    lossy_exchanges("[::1]:0", "[::1]:0");
}
