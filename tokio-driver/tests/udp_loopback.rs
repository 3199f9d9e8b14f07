//! The tokio drivers on loopback: two trackers (IPv4 and IPv6) served by `tracker::serve`,
//! one silent address, a URL of another scheme, and `announce::announce_tiers` over them
//! in tiers, by name and by address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use trackwire::udp::{
    AnnounceMode, AnnounceParams, AnnouncerConfig, IncomingAnnounce, IncomingScrape, InfoHash,
    PeerId, RetryPolicy, ScrapeRow, Server, ServerConfig, TrackerState,
};
use trackwire::Instant;
use trackwire_tokio::announce::announce_tiers;
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

fn quick() -> AnnouncerConfig {
    AnnouncerConfig::new()
        .with_mode(AnnounceMode::AllTrackers)
        .with_retry(RetryPolicy {
            initial_timeout: Duration::from_millis(200),
            backoff: 1,
            max_sends: 3,
        })
}

fn params(peer: u8, port: u16) -> AnnounceParams {
    let mut p = AnnounceParams::new(InfoHash([0x42; 20]), PeerId([peer; 20]), port);
    p.key = 0x5eed;
    p
}

#[tokio::test]
async fn announce_to_several_trackers_at_once() {
    let (stop_tx, stop) = watch::channel(false);
    let v4 = spawn_tracker("127.0.0.1:0", stop.clone()).await;
    let v6 = spawn_tracker("[::1]:0", stop.clone()).await;
    // A bound socket that never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dead = silent.local_addr().unwrap();
    let tiers = vec![
        vec![format!("udp://{dead}"), format!("udp://{v4}/announce")],
        vec![format!("udp://{v6}")],
        vec!["http://not.udp.example/announce".to_string()],
    ];

    // Results arrive as they are known: the two live trackers long before the silent
    // one (600 ms), the bad URL at once.
    let started = std::time::Instant::now();
    let mut arrivals: Vec<(String, TrackerState, Duration)> = Vec::new();
    let first = announce_tiers(&tiers, quick(), params(1, 7001), 11, |r| {
        arrivals.push((r.url.clone(), r.state, started.elapsed()))
    })
    .await
    .unwrap();
    assert_eq!(arrivals.len(), 4, "{arrivals:?}");
    assert_eq!(arrivals[0].1, TrackerState::NotWorking, "{arrivals:?}");
    let live: Vec<&(String, TrackerState, Duration)> = arrivals
        .iter()
        .filter(|a| a.1 == TrackerState::Working)
        .collect();
    assert_eq!(live.len(), 2, "{arrivals:?}");
    assert!(
        live.iter().all(|a| a.2 < Duration::from_millis(500)),
        "{arrivals:?}"
    );
    assert_eq!(arrivals[3].0, format!("udp://{dead}"));
    assert!(arrivals[3].2 >= Duration::from_millis(600), "{arrivals:?}");

    let t = &first.trackers;
    assert_eq!(t.len(), 4);
    assert_eq!((t[0].state, t[0].tier), (TrackerState::NotWorking, 0));
    assert_eq!(
        t[0].message.as_deref(),
        Some(&*format!("timed out ({dead})"))
    );
    assert_eq!(
        (t[1].state, t[1].interval, t[1].peers),
        (TrackerState::Working, Some(120), 0)
    );
    assert_eq!((t[2].state, t[2].tier), (TrackerState::Working, 1));
    assert_eq!(t[3].state, TrackerState::NotWorking);
    assert!(t[3]
        .message
        .as_deref()
        .unwrap()
        .starts_with("bad URL: not a udp:// URL"));
    assert!(!first.all_working() && first.any_working());
    assert!(first.peers.is_empty());

    // A second announcer learns about the first from both trackers, each in its own
    // family, merged into one list; BEP 12 tiers stop at the first tracker that answers.
    let both = vec![vec![format!("udp://{v4}")], vec![format!("udp://{v6}")]];
    let second = announce_tiers(&both, quick(), params(2, 7002), 12, |_| {})
        .await
        .unwrap();
    assert!(second.all_working(), "{second:?}");
    let mut peers = second.peers.clone();
    peers.sort();
    assert_eq!(
        peers,
        [
            "127.0.0.1:7001".parse::<SocketAddr>().unwrap(),
            "[::1]:7001".parse().unwrap()
        ]
    );
    let tiered = announce_tiers(
        &both,
        quick().with_mode(AnnounceMode::Tiers),
        params(3, 7003),
        13,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(tiered.trackers[0].state, TrackerState::Working);
    assert_eq!(tiered.trackers[1].state, TrackerState::NotContacted);
    stop_tx.send(true).unwrap();
}

/// A name is resolved by the driver (`localhost`), then announced to over every family
/// it resolves to; the tracker works as soon as one family answers.
#[tokio::test]
async fn names_are_resolved_and_either_family_counts() {
    let (stop_tx, stop) = watch::channel(false);
    let v4 = spawn_tracker("127.0.0.1:0", stop.clone()).await;
    let tiers = vec![vec![format!("udp://localhost:{}/announce", v4.port())]];
    let summary = announce_tiers(&tiers, quick(), params(4, 7004), 14, |_| {})
        .await
        .unwrap();
    assert_eq!(
        summary.trackers[0].state,
        TrackerState::Working,
        "{summary:?}"
    );
    assert_eq!(summary.trackers[0].interval, Some(120));
    let unresolvable = vec![vec!["udp://no-such-host.invalid:6969".to_string()]];
    let summary = announce_tiers(&unresolvable, quick(), params(5, 7005), 15, |_| {})
        .await
        .unwrap();
    assert_eq!(summary.trackers[0].state, TrackerState::NotWorking);
    assert_eq!(
        summary.trackers[0].message.as_deref(),
        Some("name not resolved")
    );
    stop_tx.send(true).unwrap();
}
