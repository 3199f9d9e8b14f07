//! `trackwire tracker`: a UDP tracker on std sockets, a thin loop over `udp::Server` with
//! an in-memory swarm store.
//!
//! Peers are kept per torrent, keyed by their address (the datagram's source IP and the
//! announced port; the `ip` field is ignored, as most trackers do, since honouring it
//! lets anyone register any address). IPv4 and IPv6 peers live in the same swarm but are
//! only ever handed to requesters of their own family. `stopped` removes the peer,
//! `completed` counts a download, and peers that stop announcing expire. It prints
//! `listening on ADDR` to stderr once each socket is bound, one line per request, and
//! runs until killed.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use trackwire::udp::{
    AnnounceEvent, Dropped, InfoHash, Rejection, ScrapeRow, Server, ServerAction, ServerConfig,
};
use trackwire::{Instant, StdClock};

use crate::cli::TrackerArgs;
use crate::failure::Failure;

/// What the loops need to know.
struct Options {
    interval: u32,
    peer_timeout: Duration,
}

/// One stderr line (a closed stderr is not worth stopping the tracker for).
fn log(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs `tracker`: binds every address first (so a bad one fails before serving), then
/// serves each on its own thread until killed.
pub(crate) fn run(a: &TrackerArgs) -> Result<ExitCode, Failure> {
    let o = Options {
        interval: a.interval,
        // Two missed announces and a margin.
        peer_timeout: Duration::from_secs(
            a.peer_timeout
                .unwrap_or_else(|| u64::from(a.interval) * 2 + 60),
        ),
    };
    let config = ServerConfig::new().with_max_connection_age(Duration::from_secs(a.max_age));
    let server = Server::new(config, crate::random::bytes());
    let mut sockets = Vec::new();
    for bind in &a.bind {
        for addr in resolve(bind)? {
            let socket = UdpSocket::bind(addr).map_err(|e| {
                Failure::Failed(format!("cannot bind {addr} (from --bind {bind}): {e}"))
            })?;
            log(&format!(
                "listening on {}",
                socket.local_addr().unwrap_or(addr)
            ));
            sockets.push(socket);
        }
    }
    let swarms: Swarms = Mutex::default();
    let clock = StdClock::new();
    std::thread::scope(|s| {
        for socket in sockets {
            let (server, swarms, o) = (&server, &swarms, &o);
            s.spawn(move || serve(socket, server, swarms, o, clock));
        }
    });
    Ok(ExitCode::SUCCESS)
}

/// Every address `bind` names (`HOST:PORT`, `[v6]:PORT`), without repeats.
fn resolve(bind: &str) -> Result<Vec<SocketAddr>, Failure> {
    let mut addrs: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|e| Failure::Usage(format!("--bind {bind}: {e}")))?
        .collect();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(Failure::Usage(format!("--bind {bind}: names no address")));
    }
    Ok(addrs)
}

fn rejection_text(r: Rejection) -> String {
    match r {
        Rejection::BadConnectionId => "bad connection id".into(),
        Rejection::Malformed(e) => format!("malformed: {e}"),
        Rejection::UnknownAction(a) => format!("unknown action {a}"),
        _ => "refused".into(),
    }
}

fn dropped_text(d: Dropped) -> String {
    match d {
        Dropped::Malformed(e) => format!("malformed: {e}"),
        Dropped::ErrorPacket => "an error packet".into(),
        Dropped::Oversized(r) => format!(
            "{} (the reply would be larger than the request)",
            rejection_text(r)
        ),
        Dropped::ReplyBuffer(e) => format!("reply buffer: {e}"),
        _ => "dropped".into(),
    }
}

#[derive(Default)]
struct Swarm {
    /// Listen address → (last announce, is a seeder).
    peers: HashMap<SocketAddr, (Instant, bool)>,
    downloaded: u32,
}

impl Swarm {
    fn counts(&self) -> (u32, u32) {
        let seeders = self.peers.values().filter(|(_, s)| *s).count();
        let leechers = self.peers.len() - seeders;
        (leechers as u32, seeders as u32)
    }

    fn expire(&mut self, now: Instant, timeout: Duration) {
        self.peers
            .retain(|_, (seen, _)| now.saturating_duration_since(*seen) <= timeout);
    }
}

type Swarms = Mutex<HashMap<InfoHash, Swarm>>;

/// One socket's loop: the library's server triages each datagram; announces and scrapes
/// are answered from the swarm store.
fn serve(socket: UdpSocket, server: &Server, swarms: &Swarms, o: &Options, clock: StdClock) {
    let mut buf = [0u8; 2048];
    let mut reply = [0u8; 1500];
    loop {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                log(&format!("receive: {e}"));
                continue;
            }
        };
        let t = clock.now();
        let bytes = buf.get(..n).unwrap_or_default();
        let (len, what) = match server.handle_datagram(t, from, bytes, &mut reply) {
            ServerAction::Connected { len } => (len, "connect".to_string()),
            ServerAction::Rejected { len, reason } => {
                (len, format!("rejected: {}", rejection_text(reason)))
            }
            ServerAction::Dropped(why) => (0, format!("dropped: {}", dropped_text(why))),
            ServerAction::Announce(a) => {
                let r = &a.request;
                let me = SocketAddr::new(a.from.ip(), r.port);
                let mut swarms = swarms.lock().unwrap_or_else(PoisonError::into_inner);
                let swarm = swarms.entry(r.info_hash).or_default();
                swarm.expire(t, o.peer_timeout);
                match r.event {
                    AnnounceEvent::Stopped => {
                        swarm.peers.remove(&me);
                    }
                    event => {
                        let was_seeder = swarm.peers.get(&me).is_some_and(|p| p.1);
                        if event == AnnounceEvent::Completed && !was_seeder {
                            swarm.downloaded = swarm.downloaded.saturating_add(1);
                        }
                        if r.port != 0 {
                            swarm.peers.insert(me, (t, r.left == 0));
                        }
                    }
                }
                let (leechers, seeders) = swarm.counts();
                let others = swarm.peers.keys().copied().filter(|p| *p != me);
                let len = a
                    .respond(o.interval, leechers, seeders, others, &mut reply)
                    .unwrap_or(0);
                (
                    len,
                    format!(
                        "announce {} event={} left={} num_want={} -> {} bytes",
                        r.info_hash, r.event, r.left, r.num_want, len
                    ),
                )
            }
            ServerAction::Scrape(s) => {
                let mut swarms = swarms.lock().unwrap_or_else(PoisonError::into_inner);
                let len = s
                    .respond(
                        |h| match swarms.get_mut(&h) {
                            Some(sw) => {
                                sw.expire(t, o.peer_timeout);
                                let (incomplete, complete) = sw.counts();
                                ScrapeRow {
                                    complete,
                                    downloaded: sw.downloaded,
                                    incomplete,
                                }
                            }
                            None => ScrapeRow::default(),
                        },
                        &mut reply,
                    )
                    .unwrap_or(0);
                (
                    len,
                    format!("scrape {} hashes", s.request.info_hashes.len()),
                )
            }
            _ => (0, "ignored".to_string()),
        };
        log(&format!("{from} {n} bytes: {what}"));
        if len > 0 {
            if let Err(e) = socket.send_to(reply.get(..len).unwrap_or_default(), from) {
                log(&format!("send to {from}: {e}"));
            }
        }
    }
}
