//! A UDP tracker on tokio that remembers every announcer and hands it to the next ones.
//!
//! `cargo run --example tracker -- 127.0.0.1:6969`

use std::collections::HashMap;
use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use trackwire::udp::{IncomingAnnounce, IncomingScrape, InfoHash, ScrapeRow, Server, ServerConfig};
use trackwire::Instant;
use trackwire_tokio::tracker::{serve, Swarms};

#[derive(Default)]
struct Memory(HashMap<InfoHash, Vec<SocketAddr>>);

impl Swarms for Memory {
    fn announce(&mut self, _: Instant, a: &IncomingAnnounce<'_>, reply: &mut [u8]) -> usize {
        let me = SocketAddr::new(a.from.ip(), a.request.port);
        let peers = self.0.entry(a.request.info_hash).or_default();
        let others: Vec<SocketAddr> = peers.iter().copied().filter(|p| *p != me).collect();
        if !peers.contains(&me) {
            peers.push(me);
        }
        eprintln!("announce {} from {me}", a.request.info_hash);
        a.respond(1800, peers.len() as u32, 0, others, reply)
            .unwrap_or(0)
    }

    fn scrape(&mut self, _: Instant, s: &IncomingScrape<'_>, reply: &mut [u8]) -> usize {
        let rows = |h: InfoHash| ScrapeRow {
            complete: 0,
            downloaded: 0,
            incomplete: self.0.get(&h).map_or(0, |p| p.len() as u32),
        };
        s.respond(rows, reply).unwrap_or(0)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6969".into());
    let socket = UdpSocket::bind(&bind).await?;
    eprintln!("listening on {}", socket.local_addr()?);
    // The cookie secret must be unguessable, or anyone can forge connection ids.
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(std::io::Error::other)?;
    let (_stop, shutdown) = watch::channel(false);
    serve(
        socket,
        Server::new(ServerConfig::new(), secret),
        Memory::default(),
        shutdown,
    )
    .await
}
