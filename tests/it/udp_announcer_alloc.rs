//! `udp::Announcer` never allocates: a whole life — start, name resolution, announces
//! over IPv4 and IPv6 answered by `udp::Server`, a silent tracker timing out and failing
//! over, a batched scrape, a re-announce, `completed`, `stop` and its deadline — runs
//! under a counting global allocator with zero allocations. Buffers and the (boxed)
//! announcer are made before counting; the file holds one `#[test]` so no other test
//! thread allocates meanwhile.

use core::net::{IpAddr, SocketAddr};
use std::hint::black_box;
use std::time::Duration;

use trackwire::udp::{
    AnnounceMode, AnnounceParams, Announcer, AnnouncerConfig, AnnouncerEvent, AnnouncerReceived,
    InfoHash, PeerId, RetryPolicy, ScrapeRow, Server, ServerAction, ServerConfig, TrackerId,
    TrackerState, TrackerUrl,
};
use trackwire::Instant;
use trackwire_alloc_count::count;

/// What the life of the announcer produced, to check it really ran.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    announced: usize,
    scraped: usize,
    resolved: usize,
    timed_out: usize,
    shutdown: Option<(usize, usize)>,
}

const V4: &str = "udp://127.0.0.1:6969/announce";
const V6: &str = "udp://[::1]:6969";
const NAMED: &str = "udp://tracker.example:6969/announce?passkey=abc";
const NAMED_IPS: [IpAddr; 2] = [
    IpAddr::V4(core::net::Ipv4Addr::new(192, 0, 2, 50)), // silent: fails over
    IpAddr::V4(core::net::Ipv4Addr::new(127, 0, 0, 1)),
];

fn life(ann: &mut Announcer, server: &Server, out: &mut [u8], reply: &mut [u8]) -> Tally {
    let mut tally = Tally::default();
    let mut now = Instant::from_secs(1);
    let peers: [SocketAddr; 2] = [
        SocketAddr::new(IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 1)), 1),
        SocketAddr::new(IpAddr::V6(core::net::Ipv6Addr::LOCALHOST), 2),
    ];
    ann.start(now).unwrap();
    for step in 0..200 {
        if step == 20 {
            let hashes = [InfoHash([1; 20]), InfoHash([2; 20])];
            black_box(ann.scrape(now, first_tracker(ann), &hashes).ok());
        }
        if step == 40 {
            ann.set_progress(1000, 0, 0);
            ann.completed(now).unwrap();
        }
        if step == 60 {
            ann.stop(now).unwrap();
        }
        while let Some(t) = ann.poll_transmit(now, out).unwrap() {
            // The named tracker's first address is silent.
            if t.destination.ip() == NAMED_IPS[0] {
                continue;
            }
            let len = match server.handle_datagram(now, t.destination, &out[..t.len], reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                ServerAction::Announce(a) => a.respond(1800, 1, 2, peers, reply).unwrap(),
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
            match ann.handle_datagram(now, t.destination, &reply[..len]) {
                Ok(AnnouncerReceived::Announced { response, .. }) => {
                    tally.announced += black_box(response.peers.iter().count().min(1))
                }
                Ok(AnnouncerReceived::Scraped { response, .. }) => {
                    tally.scraped += black_box(response.iter().count())
                }
                _ => {}
            }
        }
        while let Some(e) = ann.poll_event() {
            match e {
                AnnouncerEvent::Resolve { tracker, host } => {
                    assert_eq!(host.as_str(), "tracker.example");
                    ann.resolved(now, tracker, &NAMED_IPS).unwrap();
                    tally.resolved += 1;
                }
                AnnouncerEvent::AddressTimedOut { .. } => tally.timed_out += 1,
                AnnouncerEvent::ShutdownComplete {
                    answered,
                    unanswered,
                } => tally.shutdown = Some((answered, unanswered)),
                _ => {}
            }
        }
        black_box(ann.peers().count());
        for t in ann.trackers() {
            black_box(ann.status(t).map(|s| s.state));
        }
        match ann.poll_timeout() {
            Some(t) => {
                now = now.max(t.min(now.saturating_add(Duration::from_secs(1))));
                ann.handle_timeout(now);
            }
            None => break,
        }
    }
    tally
}

fn first_tracker(ann: &Announcer) -> TrackerId {
    ann.trackers().next().unwrap()
}

#[test]
fn the_announcer_does_not_allocate() {
    let mut out = vec![0u8; <Announcer>::MAX_TRANSMIT_LEN];
    let mut reply = vec![0u8; 1500];
    let server = Server::new(ServerConfig::new(), [9; 16]);
    let quick = RetryPolicy {
        initial_timeout: Duration::from_secs(5),
        backoff: 1,
        max_sends: 2,
    };
    let config = AnnouncerConfig::new()
        .with_mode(AnnounceMode::AllTrackers)
        .with_retry(quick)
        .with_interval_bounds(Duration::from_secs(30), Duration::from_secs(30));
    let mut params = AnnounceParams::new(InfoHash([7; 20]), PeerId([2; 20]), 6881);
    params.key = 0xfeed;
    let mut ann = Box::new(Announcer::new(config, params, 5).unwrap());
    let urls = [V4, V6, NAMED].map(|u| TrackerUrl::parse(u).unwrap());

    let (tally, allocs) = count(|| {
        for (tier, url) in urls.iter().enumerate() {
            ann.add_tracker(tier, *url).unwrap();
        }
        life(&mut ann, &server, &mut out, &mut reply)
    });
    assert_eq!(allocs, 0, "the announcer allocated");
    // The life really ran: three trackers answered (the named one after failing over),
    // re-announced and completed; two peers merged; the scrape came back; shutdown got
    // every stopped answered.
    assert_eq!(tally.resolved, 1);
    assert_eq!(tally.timed_out, 1);
    assert_eq!(tally.scraped, 2);
    assert!(tally.announced >= 6, "{tally:?}");
    assert_eq!(tally.shutdown, Some((3, 0)));
    assert_eq!(ann.peers().count(), 2);
    for t in ann.trackers() {
        assert_eq!(ann.status(t).unwrap().state, TrackerState::Working);
    }
    let ((), n) = count(|| drop(black_box(vec![1u8; 8])));
    assert!(n > 0, "the counter counts");
}
