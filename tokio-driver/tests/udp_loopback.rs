//! The tokio drivers on loopback: two trackers (IPv4 and IPv6) served by `tracker::serve`,
//! one silent address, and `announce::announce_all` to all three at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use trackwire::udp::{
    AnnounceParams, ClientConfig, IncomingAnnounce, IncomingScrape, InfoHash, PeerId, RetryPolicy,
    ScrapeRow, Server, ServerConfig,
};
use trackwire::Instant;
use trackwire_tokio::announce::{announce_all, AnnounceError};
use trackwire_tokio::tracker::{serve, Swarms};

/// Every announcer is remembered by its address and handed to the next ones.
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
        a.respond(120, peers.len() as u32, 0, others, reply)
            .unwrap_or(0)
    }

    fn scrape(&mut self, _: Instant, s: &IncomingScrape<'_>, reply: &mut [u8]) -> usize {
        s.respond(
            |h| ScrapeRow {
                complete: 0,
                downloaded: 0,
                incomplete: self.0.get(&h).map_or(0, |p| p.len() as u32),
            },
            reply,
        )
        .unwrap_or(0)
    }
}

async fn spawn_tracker(bind: &str, stop: watch::Receiver<bool>) -> SocketAddr {
    let socket = UdpSocket::bind(bind).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(serve(
        socket,
        Server::new(ServerConfig::new(), [5; 16]),
        Memory::default(),
        stop,
    ));
    addr
}

#[tokio::test]
async fn announce_to_several_trackers_at_once() {
    let (stop_tx, stop) = watch::channel(false);
    let v4 = spawn_tracker("127.0.0.1:0", stop.clone()).await;
    let v6 = spawn_tracker("[::1]:0", stop.clone()).await;
    // A bound socket that never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dead = silent.local_addr().unwrap();
    let trackers = [v4, v6, dead];
    let quick = RetryPolicy {
        initial_timeout: Duration::from_millis(200),
        backoff: 1,
        max_sends: 3,
    };
    let config = move |t| ClientConfig::new(t).with_retry(quick);
    let hash = InfoHash([0x42; 20]);

    let first = announce_all(
        &trackers,
        AnnounceParams::new(hash, PeerId([1; 20]), 7001),
        config,
        11,
    )
    .await
    .unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].tracker, v4);
    assert!(
        matches!(&first[0].result, Ok(a) if a.peers.is_empty() && a.interval == 120),
        "{first:?}"
    );
    assert!(
        matches!(&first[1].result, Ok(a) if a.peers.is_empty()),
        "{first:?}"
    );
    assert!(
        matches!(first[2].result, Err(AnnounceError::TimedOut)),
        "{first:?}"
    );

    // A second announcer learns about the first, each tracker in its own family.
    let second = announce_all(
        &trackers[..2],
        AnnounceParams::new(hash, PeerId([2; 20]), 7002),
        config,
        12,
    )
    .await
    .unwrap();
    let Ok(a4) = &second[0].result else {
        panic!("{second:?}")
    };
    assert_eq!(a4.peers, ["127.0.0.1:7001".parse::<SocketAddr>().unwrap()]);
    let Ok(a6) = &second[1].result else {
        panic!("{second:?}")
    };
    assert_eq!(a6.peers, ["[::1]:7001".parse::<SocketAddr>().unwrap()]);
    stop_tx.send(true).unwrap();
}
