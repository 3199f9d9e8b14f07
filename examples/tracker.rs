//! A real UDP tracker on std sockets: a thin loop over [`trackwire::udp::Server`] with an
//! in-memory swarm store.
//!
//! ```text
//! cargo run --release --example tracker -- --bind 127.0.0.1:6969 [--bind [::1]:6969]
//!     [--interval SECS] [--peer-timeout SECS] [--max-age SECS]
//! ```
//!
//! Peers are kept per torrent, keyed by their address (the datagram's source IP and the
//! announced port; the `ip` field is ignored, as most trackers do, since honouring it
//! lets anyone register any address). IPv4 and IPv6 peers live in the same swarm but are
//! only ever handed to requesters of their own family. `stopped` removes the peer,
//! `completed` counts a download, and peers that stop announcing expire. It prints
//! `listening on ADDR` to stderr once each socket is bound, one line per request, and
//! runs until killed.

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use trackwire::udp::server::{ServerAction, ServerConfig};
use trackwire::udp::{AnnounceEvent, InfoHash, ScrapeRow, Server};
use trackwire::Instant;

struct Options {
    binds: Vec<SocketAddr>,
    interval: u32,
    peer_timeout: Duration,
    max_age: Duration,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: tracker --bind ADDR [--bind ADDR ...] [--interval SECS] [--peer-timeout SECS] [--max-age SECS]"
    );
    ExitCode::from(64)
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        binds: Vec::new(),
        interval: 1800,
        peer_timeout: Duration::ZERO,
        max_age: Duration::from_secs(120),
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => o
                .binds
                .push(value()?.parse().map_err(|e| format!("--bind: {e}"))?),
            "--interval" => {
                o.interval = value()?.parse().map_err(|e| format!("--interval: {e}"))?
            }
            "--peer-timeout" => {
                o.peer_timeout = Duration::from_secs(
                    value()?
                        .parse()
                        .map_err(|e| format!("--peer-timeout: {e}"))?,
                )
            }
            "--max-age" => {
                o.max_age =
                    Duration::from_secs(value()?.parse().map_err(|e| format!("--max-age: {e}"))?)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.binds.is_empty() {
        o.binds
            .push("127.0.0.1:6969".parse().map_err(|_| "default bind")?);
    }
    if o.peer_timeout.is_zero() {
        // Two missed announces and a margin.
        o.peer_timeout = Duration::from_secs(u64::from(o.interval) * 2 + 60);
    }
    Ok(o)
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

type Swarms = Arc<Mutex<HashMap<InfoHash, Swarm>>>;

/// 16 bytes from the OS for the cookie secret.
fn secret() -> [u8; 16] {
    let mut s = [0u8; 16];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut s)) {
        Ok(()) => s,
        Err(_) => {
            // Without /dev/urandom, std's per-process random hash keys are the next best.
            use std::hash::{BuildHasher, Hasher};
            let mut out = [0u8; 16];
            for (i, chunk) in out.chunks_mut(8).enumerate() {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(i);
                chunk.copy_from_slice(&h.finish().to_le_bytes());
            }
            out
        }
    }
}

fn serve(socket: UdpSocket, server: Arc<Server>, swarms: Swarms, o: Arc<Options>) {
    let start = std::time::Instant::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let mut buf = [0u8; 2048];
    let mut reply = [0u8; 1500];
    loop {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("recv: {e}");
                continue;
            }
        };
        let t = now();
        let bytes = &buf[..n];
        let (len, what) = match server.handle_datagram(t, from, bytes, &mut reply) {
            ServerAction::Connected { len } => (len, "connect".to_string()),
            ServerAction::Rejected { len, reason } => (len, format!("rejected {reason:?}")),
            ServerAction::Dropped(why) => (0, format!("dropped {why:?}")),
            ServerAction::Announce(a) => {
                let r = &a.request;
                let me = SocketAddr::new(a.from.ip(), r.port);
                let mut swarms = swarms.lock().unwrap();
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
                let mut swarms = swarms.lock().unwrap();
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
        eprintln!("{from} {n} bytes: {what}");
        if len > 0 {
            if let Err(e) = socket.send_to(&reply[..len], from) {
                eprintln!("send to {from}: {e}");
            }
        }
    }
}

fn main() -> ExitCode {
    let o = match parse(std::env::args().skip(1)) {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("tracker: {e}");
            return usage();
        }
    };
    let mut config = ServerConfig::default();
    config.max_connection_age = o.max_age;
    let server = Arc::new(Server::new(config, secret()));
    let swarms: Swarms = Arc::default();
    let mut threads = Vec::new();
    for bind in &o.binds {
        let socket = match UdpSocket::bind(bind) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("tracker: cannot bind {bind}: {e}");
                return ExitCode::from(1);
            }
        };
        eprintln!("listening on {}", socket.local_addr().unwrap_or(*bind));
        let (server, swarms, o) = (server.clone(), swarms.clone(), o.clone());
        threads.push(std::thread::spawn(move || serve(socket, server, swarms, o)));
    }
    for t in threads {
        let _ = t.join();
    }
    ExitCode::SUCCESS
}
