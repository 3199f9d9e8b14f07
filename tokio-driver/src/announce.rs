//! Announce one torrent to many UDP trackers, in BEP 12 tiers, over IPv4 and IPv6.
//!
//! A thin loop over [`trackwire::udp::Announcer`]: every protocol decision (tier walk,
//! failover across addresses, retries, which reply counts) is the announcer's; this file
//! owns two sockets (one per family), the clock and the resolver (`lookup_host`, run in
//! spawned tasks so a slow name never holds back the others). Each tracker's result is
//! reported as soon as it is known, through a callback.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{lookup_host, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant as TokioInstant};
use trackwire::udp::{
    AnnounceParams, Announcer, AnnouncerConfig, AnnouncerEvent, TrackerId, TrackerState,
    TrackerStatus, TrackerUrl,
};
use trackwire::StdClock;

/// The most trackers one call announces to; the rest are reported as not working.
pub const MAX_TRACKERS: usize = 32;

/// The announcer this driver runs: 32 trackers, 2 exchanges per address, 8 addresses per
/// tracker, 1000 merged peers (about 0.4 MiB, boxed).
type Engine = Announcer<MAX_TRACKERS, 2, 8, 1000>;

/// Builds the engine on a short-lived thread with a large stack: `Box::new` builds its
/// value on the stack first, and a debug build copies a value this size several times,
/// more than a 2 MiB runtime or test thread holds. It takes microseconds, so blocking
/// the runtime thread on the join is harmless.
fn build(config: AnnouncerConfig, params: AnnounceParams, seed: u64) -> io::Result<Box<Engine>> {
    std::thread::Builder::new()
        .name("announcer-build".into())
        .stack_size(32 << 20)
        .spawn(move || Engine::new_sized(config, params, seed).map(Box::new))?
        .join()
        .map_err(|_| io::Error::other("building the announcer panicked"))?
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// One tracker's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerReport {
    /// The URL as given.
    pub url: String,
    /// Its tier (0 first).
    pub tier: usize,
    /// Where it stands: `working`, `not_working`, `updating` or `not_contacted`.
    pub state: TrackerState,
    /// The last error: the tracker's text exactly as sent (lossy UTF-8), a timeout, a
    /// malformed reply, a name that did not resolve, or a URL that did not parse.
    pub message: Option<String>,
    /// Seeders in its answer.
    pub seeders: Option<u32>,
    /// Leechers in its answer.
    pub leechers: Option<u32>,
    /// The interval it asked for, in seconds.
    pub interval: Option<u32>,
    /// Peers it handed out (both families, duplicates included).
    pub peers: usize,
}

/// What one announce over every tier gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// One report per URL, in the order given (tier by tier).
    pub trackers: Vec<TrackerReport>,
    /// The peers of every tracker and both families, merged and de-duplicated.
    pub peers: Vec<SocketAddr>,
}

impl Summary {
    /// Whether at least one tracker answered.
    pub fn any_working(&self) -> bool {
        self.trackers
            .iter()
            .any(|t| t.state == TrackerState::Working)
    }

    /// Whether every tracker answered.
    pub fn all_working(&self) -> bool {
        self.trackers
            .iter()
            .all(|t| t.state == TrackerState::Working)
    }
}

fn report(url: &str, status: &TrackerStatus) -> TrackerReport {
    TrackerReport {
        url: url.to_owned(),
        tier: status.tier,
        state: status.state,
        message: status.last_error.map(|e| e.to_string()),
        seeders: status.seeders,
        leechers: status.leechers,
        interval: status.interval,
        peers: status.peers_received,
    }
}

fn refused(url: &str, tier: usize, message: String) -> TrackerReport {
    TrackerReport {
        url: url.to_owned(),
        tier,
        state: TrackerState::NotWorking,
        message: Some(message),
        seeders: None,
        leechers: None,
        interval: None,
        peers: 0,
    }
}

/// A tracker's answer is final for this one-shot run: it answered, or its turn is over.
fn settled(status: &TrackerStatus) -> bool {
    status.state == TrackerState::Working
        || (status.state == TrackerState::NotWorking && !status.announcing)
}

async fn recv(socket: &Option<UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Announces `params` once to the trackers of `tiers` (each inner list is one tier, in
/// order) the way `config.mode` says, and calls `on_report` for each tracker as soon as
/// its result is known: when it answers, or when its turn failed. URLs that do not parse
/// are reported first, as not working. Returns when no tracker is being announced to
/// any more (trackers the walk never reached stay `not_contacted`).
///
/// `seed` seeds the transaction ids and the tier shuffles and must come from a real
/// entropy source; `params.key` should be random too (it is sent over both families).
///
/// # Errors
///
/// An I/O error binding or using a socket (a missing IPv6 stack is not one: IPv6
/// addresses then simply time out). Per-tracker failures are in the reports.
pub async fn announce_tiers(
    tiers: &[Vec<String>],
    config: AnnouncerConfig,
    params: AnnounceParams,
    seed: u64,
    mut on_report: impl FnMut(&TrackerReport),
) -> io::Result<Summary> {
    let clock = StdClock::new();
    let mut ann = build(config, params, seed)?;
    // Each URL's report slot, and its tracker id when the announcer took it.
    let mut slots: Vec<(String, Option<TrackerId>, Option<TrackerReport>)> = Vec::new();
    for (tier, urls) in tiers.iter().enumerate() {
        for url in urls {
            let added = TrackerUrl::parse(url)
                .map_err(|e| format!("bad URL: {e}"))
                .and_then(|u| ann.add_tracker(tier, u).map_err(|e| e.to_string()));
            match added {
                Ok(id) => slots.push((url.clone(), Some(id), None)),
                Err(message) => {
                    let r = refused(url, tier, message);
                    on_report(&r);
                    slots.push((url.clone(), None, Some(r)));
                }
            }
        }
    }
    let v4 = UdpSocket::bind("0.0.0.0:0").await?;
    // No IPv6 stack: the announcer's IPv6 addresses time out like silent ones.
    let v6 = UdpSocket::bind("[::]:0").await.ok();
    let v4 = Some(v4);
    let (dns_tx, mut dns_rx) = mpsc::unbounded_channel::<(TrackerId, io::Result<Vec<IpAddr>>)>();
    let mut out = vec![0u8; Engine::MAX_TRANSMIT_LEN];
    let (mut buf4, mut buf6) = (vec![0u8; 65536], vec![0u8; 65536]);
    ann.start(clock.now())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    loop {
        // 1. Outputs: datagrams, then events (name lookups run in their own tasks).
        while let Some(t) = ann
            .poll_transmit(clock.now(), &mut out)
            .map_err(io::Error::other)?
        {
            let socket = if t.destination.is_ipv6() { &v6 } else { &v4 };
            if let Some(s) = socket {
                // A send error (unreachable) is left to the retry policy.
                let _ = s.send_to(&out[..t.len], t.destination).await;
            }
        }
        while let Some(event) = ann.poll_event() {
            if let AnnouncerEvent::Resolve { tracker, host } = event {
                let tx = dns_tx.clone();
                let port = slots
                    .iter()
                    .find(|s| s.1 == Some(tracker))
                    .and_then(|s| TrackerUrl::parse(&s.0).ok())
                    .map_or(0, |u| u.port());
                let name = format!("{host}:{port}");
                tokio::spawn(async move {
                    let ips = lookup_host(name)
                        .await
                        .map(|addrs| addrs.map(|a| a.ip()).collect());
                    let _ = tx.send((tracker, ips));
                });
            }
        }
        // 2. Report the trackers whose result just became known.
        for (url, id, done) in &mut slots {
            let Some(status) = id.and_then(|id| ann.status(id)) else {
                continue;
            };
            if done.is_none() && settled(status) {
                let r = report(url, status);
                on_report(&r);
                *done = Some(r);
            }
        }
        let busy = slots.iter().any(|(_, id, done)| {
            done.is_none()
                && id
                    .and_then(|id| ann.status(id))
                    .is_some_and(|s| s.state == TrackerState::Updating)
        });
        if !busy {
            break;
        }
        // 3. Wait for a datagram, a resolver answer or the next deadline.
        let wake = ann
            .poll_timeout()
            .map(|d| TokioInstant::from_std(clock.to_std(d)));
        let sleep = async {
            match wake {
                Some(w) => sleep_until(w).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = recv(&v4, &mut buf4) => {
                if let Ok((n, from)) = r {
                    let _ = ann.handle_datagram(clock.now(), from, &buf4[..n]);
                }
            }
            r = recv(&v6, &mut buf6) => {
                if let Ok((n, from)) = r {
                    let _ = ann.handle_datagram(clock.now(), from, &buf6[..n]);
                }
            }
            Some((tracker, ips)) = dns_rx.recv() => {
                let now = clock.now();
                let _ = match ips {
                    Ok(ips) => ann.resolved(now, tracker, &ips),
                    Err(_) => ann.resolve_failed(now, tracker),
                };
            }
            () = sleep => ann.handle_timeout(clock.now()),
        }
    }
    let trackers = slots
        .into_iter()
        .map(|(url, id, done)| {
            done.unwrap_or_else(|| {
                let status = id.and_then(|id| ann.status(id));
                status.map_or_else(|| refused(&url, 0, "not added".into()), |s| report(&url, s))
            })
        })
        .collect();
    Ok(Summary {
        trackers,
        peers: ann.peers().collect(),
    })
}
