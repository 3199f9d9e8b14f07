//! `trackwire tracker`: a UDP tracker on std threads, a thin driver over `udp::Server`.
//!
//! * [`config`]: flags over the `--config` TOML file over defaults;
//! * [`sockets`]: one `SO_REUSEPORT` socket per worker and address;
//! * [`worker`]: the receive–triage–answer loop;
//! * [`swarm`]: the sharded swarm store (cost per announce independent of swarm size);
//! * [`access`]: the access list, passkeys, rate limit and counters as `ServerHooks`;
//! * [`metrics`]: Prometheus text on `--metrics ADDR`.
//!
//! Peers are kept per torrent, keyed by their address (the datagram's source IP and the
//! announced port; the `ip` field is ignored, as most trackers do, since honouring it
//! lets anyone register any address). IPv4 and IPv6 peers are only ever handed to
//! requesters of their own family. The main thread waits for signals: SIGHUP re-reads
//! the lists, SIGTERM and SIGINT stop the workers, print the final counts and exit 0.

mod access;
mod config;
mod metrics;
mod sockets;
mod swarm;
mod worker;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use trackwire::udp::{Counters, Server, ServerConfig};
use trackwire::StdClock;

use crate::cli::TrackerArgs;
use crate::failure::Failure;

use config::Settings;

/// `trackwire tracker --help`, after the flags.
pub(crate) const HELP: &str = "\
Every flag can also be given in a TOML file (--config FILE); a flag given on the
command line overrides the file. Keys (all optional):
  bind = [\"0.0.0.0:6969\", \"[::]:6969\"]   addresses to serve on (--bind)
  workers = 2                 threads per address, each with its own SO_REUSEPORT socket
  interval = 1800             announce interval, seconds
  interval_jitter = 60        random change of each interval sent, up to ± seconds
  peer_timeout = 3660         forget peers silent this long, seconds
  max_age = 120               connection id lifetime, seconds
  max_torrents = 1000000      cap on torrents held
  max_peers_per_torrent = 200000   cap on peer addresses per torrent
  recv_buffer = 8388608       SO_RCVBUF asked for each socket, bytes
  log_requests = false        one line per request on stderr
  access_list = \"hashes.txt\"  40 hex digits a line, `#` comments (paths: from the
                              working directory)
  access_mode = \"allow\"       or \"deny\"
  passkeys = \"keys.txt\"       private mode: one passkey a line
  rate_limit = \"50:100\"       PER_SECOND[:BURST] per source address (IPv6: per /64)
  rate_limit_exempt = [\"127.0.0.1\", \"10.0.0.0/8\"]   sources never rate-limited
  metrics = \"127.0.0.1:9000\"  serve http://ADDR/metrics
Unknown keys and values out of range are usage errors.

Replies to announces: peers of the requester's address family only, from a random
window of the swarm; seeders and leechers count clients, so a client announcing over
IPv4 and IPv6 with the same peer id and key counts once. Error replies (BEP 15 action 3):
  info hash not allowed              the access list refuses the hash (scrapes of it
                                     get an all-zero row instead)
  passkey required                   private mode, and the announce has no URL data
  unauthorized                       the passkey is not in --passkeys
  tracker full: too many torrents    --max-torrents reached, and the torrent is new
  tracker full: too many peers       --max-peers-per-torrent reached, and the peer is new
A passkey travels as BEP 41 URL data, in either form: udp://HOST:PORT/announce/KEY or
udp://HOST:PORT/any/path?passkey=KEY. Scrapes carry no URL data and are served in
private mode too.

Peers silent for --peer-timeout are dropped, and torrents left empty freed, by a sweep
every min(peer-timeout/2, 60) seconds (at least 1). Datagrams are received whole (a
65 536-byte buffer); a rate-limited source is dropped unanswered and counted.

Signals: SIGHUP re-reads --access-list and --passkeys (swarms are kept; a file that
does not read keeps the old lists and logs one line); SIGTERM or SIGINT stops the
workers, prints the final counts on stderr, and exits 0.

Metrics (--metrics, OpenMetrics text at GET /metrics), all named trackwire_…:
  requests_total, replies_total {kind, family}; received_bytes_total, sent_bytes_total
  {family}; rejected_total {reason}; dropped_total {reason, incl. rate_limited and
  truncated}; torrents, peers {family}, seeders, leechers; sweeps_total,
  expired_peers_total, freed_torrents_total; reloads_total, reload_failures_total;
  resident_memory_bytes.

Exit status:
  0   stopped by SIGTERM or SIGINT
  1   an address cannot be bound
  64  a usage error (bad flag, value, config file or list file)";

/// One stderr line (a closed stderr is not worth stopping the tracker for).
fn log(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// How often the sweep runs for a given peer timeout.
fn sweep_every(peer_timeout: Duration) -> Duration {
    (peer_timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Runs `tracker`: resolves settings, binds every socket first (so a bad address fails
/// before serving), then serves until SIGTERM or SIGINT.
pub(crate) fn run(a: &TrackerArgs) -> Result<ExitCode, Failure> {
    let s = Settings::resolve(a)?;
    let policy = access::Policy::new(
        s.access_list.clone().map(|p| (p, s.access_mode)),
        s.passkeys.clone(),
        s.rate_limit,
        s.rate_limit_exempt.clone(),
    )
    .map_err(Failure::Usage)?;
    let policy = Arc::new(policy);
    let config = ServerConfig::new()
        .with_max_connection_age(s.max_age)
        .with_announce_interval(s.interval)
        .with_interval_jitter(s.interval_jitter)
        .with_private(policy.private());
    let secret = crate::random::bytes();

    let sockets = sockets::bind_all(&s.bind, s.workers, s.recv_buffer)?;
    let metrics_listener = match &s.metrics {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr.as_str())
                .map_err(|e| Failure::Failed(format!("cannot bind --metrics {addr}: {e}")))?;
            log(&format!(
                "metrics on http://{}/metrics",
                l.local_addr().map_or(addr.clone(), |a| a.to_string())
            ));
            Some(l)
        }
        None => None,
    };
    // Registered before any worker runs, so an early signal is never the default
    // action (which would kill the process without the final counts).
    let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT])
        .map_err(|e| Failure::Failed(format!("cannot install signal handlers: {e}")))?;

    let store = Arc::new(swarm::Store::new(
        s.workers,
        s.max_torrents,
        s.max_peers_per_torrent,
    ));
    let stop = AtomicBool::new(false);
    let truncated = Arc::new(AtomicU64::new(0));
    let reloads: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let counters: Vec<Arc<Counters>> = sockets.iter().map(|_| Arc::new(Counters::new())).collect();
    let sources = metrics::Sources {
        counters: counters.clone(),
        store: Arc::clone(&store),
        truncated: Arc::clone(&truncated),
        reloads: Arc::clone(&reloads),
    };
    let shared = worker::Shared {
        store: &store,
        stop: &stop,
        truncated: &truncated,
        log_requests: s.log_requests,
        clock: StdClock::new(),
    };
    let seed = u64::from_le_bytes(crate::random::bytes());

    std::thread::scope(|scope| {
        for (i, (socket, c)) in sockets.into_iter().zip(&counters).enumerate() {
            let hooks = access::WorkerHooks::new(Arc::clone(&policy), Arc::clone(c));
            let server = Server::new(config, secret).with_hooks(hooks);
            let shared = &shared;
            let seed = seed
                .wrapping_add(i as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let started = std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn_scoped(scope, move || worker::serve(socket, server, shared, seed));
            if let Err(e) = started {
                // The workers already running must stop, or the scope never ends.
                shared.stop.store(true, Ordering::Relaxed);
                return Err(Failure::Failed(format!("cannot start a worker: {e}")));
            }
        }
        let (stop, store, clock) = (&stop, &store, shared.clock);
        scope.spawn(move || {
            let every = sweep_every(s.peer_timeout);
            let timeout = u64::try_from(s.peer_timeout.as_millis()).unwrap_or(u64::MAX);
            let mut next = clock.now().as_millis() + every.as_millis() as u64;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(worker::TICK);
                let now = clock.now().as_millis();
                if now >= next {
                    store.sweep(now.saturating_sub(timeout));
                    next = now + every.as_millis() as u64;
                }
            }
        });
        if let Some(l) = metrics_listener {
            let sources = &sources;
            scope.spawn(move || metrics::serve(l, sources, stop));
        }
        for sig in signals.forever() {
            if sig == SIGHUP {
                match policy.reload() {
                    Ok((hashes, keys)) => {
                        reloads[0].fetch_add(1, Ordering::Relaxed);
                        log(&format!(
                            "SIGHUP: reloaded ({hashes} info hashes, {keys} passkeys)"
                        ));
                    }
                    Err(e) => {
                        reloads[1].fetch_add(1, Ordering::Relaxed);
                        log(&format!(
                            "SIGHUP: reload failed, keeping the old lists: {e}"
                        ));
                    }
                }
            } else {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        Ok::<(), Failure>(())
    })?;
    let snap = sources.snapshot();
    let st = store.stats();
    log(&format!(
        "stopped: {} requests, {} replies, {} torrents, {} peers, {} bytes resident",
        snap.requests().total(),
        snap.replies().total(),
        st.torrents,
        st.totals.peers[0] + st.totals.peers[1],
        metrics::rss_bytes()
    ));
    Ok(ExitCode::SUCCESS)
}
