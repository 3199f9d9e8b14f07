//! A minimal UDP tracker loop over `udp::Server` (the `trackwire tracker` command is the
//! full tool: many addresses, peer expiry, logging).
//!
//! ```text
//! cargo run --example tracker -- 127.0.0.1:6969
//! ```
//!
//! The server does the protocol: connection-id cookies (stateless, nothing to store per
//! client), decoding, error replies, and the reply encoding. The application owns the
//! swarms: here a map from info hash to the peers that announced, answered from memory.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};

use trackwire::udp::{AnnounceEvent, InfoHash, ScrapeRow, Server, ServerAction, ServerConfig};
use trackwire::StdClock;

/// The peers of one torrent: listen address → whether it is a seeder.
type Swarm = HashMap<SocketAddr, bool>;

fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6969".into());
    let socket = UdpSocket::bind(&bind)?;
    println!("listening on {}", socket.local_addr()?);

    // The secret keys the connection-id cookies: take 16 random bytes in real programs.
    let server = Server::new(ServerConfig::new(), *b"example secret!!");
    let clock = StdClock::new();
    let mut swarms: HashMap<InfoHash, Swarm> = HashMap::new();
    let mut buf = [0u8; 2048];
    let mut reply = [0u8; 1500];
    loop {
        let (n, from) = socket.recv_from(&mut buf)?;
        let len = match server.handle_datagram(clock.now(), from, &buf[..n], &mut reply) {
            // Connect replies and error replies are already in `reply`.
            ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
            // An authenticated announce: update the swarm, answer with the other peers.
            ServerAction::Announce(a) => {
                let r = &a.request;
                let peer = SocketAddr::new(a.from.ip(), r.port);
                let swarm = swarms.entry(r.info_hash).or_default();
                if r.event == AnnounceEvent::Stopped {
                    swarm.remove(&peer);
                } else {
                    swarm.insert(peer, r.left == 0);
                }
                let seeders = swarm.values().filter(|s| **s).count() as u32;
                let leechers = swarm.len() as u32 - seeders;
                // `respond` keeps only peers of the requester's family and what fits.
                let others = swarm.keys().copied().filter(|p| *p != peer);
                a.respond(1800, leechers, seeders, others, &mut reply)
                    .unwrap_or(0)
            }
            // An authenticated scrape: one row per requested hash.
            ServerAction::Scrape(s) => s
                .respond(
                    |hash| {
                        let swarm = swarms.get(&hash);
                        let complete =
                            swarm.map_or(0, |s| s.values().filter(|x| **x).count()) as u32;
                        let total = swarm.map_or(0, |s| s.len()) as u32;
                        ScrapeRow {
                            complete,
                            downloaded: 0,
                            incomplete: total - complete,
                        }
                    },
                    &mut reply,
                )
                .unwrap_or(0),
            // Dropped datagrams get no reply at all (never amplify unauthenticated input).
            _ => 0,
        };
        if len > 0 {
            socket.send_to(&reply[..len], from)?;
        }
        println!("{from}: {n} bytes in, {len} bytes out");
    }
}
