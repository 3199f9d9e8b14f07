//! Announce one torrent to several UDP trackers at once.
//!
//! One [`udp::Client`](trackwire::udp::Client) per tracker, one socket per address
//! family, one task: the loop is the client's run loop (drain `poll_transmit`, then
//! `poll_event`, then wait for a datagram or the earliest `poll_timeout`), spread over
//! every client.

use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::time::{sleep_until, Duration, Instant as TokioInstant};
use trackwire::udp::{canonical_addr, AnnounceParams, Client, ClientConfig, ClientEvent, Received};
use trackwire::{StdClock, UsageError};

/// What one tracker answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// Seconds until the next announce.
    pub interval: u32,
    /// Peers still downloading.
    pub leechers: u32,
    /// Peers with the whole torrent.
    pub seeders: u32,
    /// The peers handed out.
    pub peers: Vec<SocketAddr>,
}

/// Why an announce to one tracker failed.
#[derive(Debug)]
pub enum AnnounceError {
    /// The tracker sent an error reply (to the announce or to its connect); the message
    /// is as received (lossy UTF-8).
    Tracker(String),
    /// No answer within the retry policy.
    TimedOut,
    /// The client refused the configuration or the command.
    Usage(UsageError),
}

/// The outcome for one tracker.
#[derive(Debug)]
pub struct TrackerOutcome {
    /// The tracker's address.
    pub tracker: SocketAddr,
    /// Its answer.
    pub result: Result<Announced, AnnounceError>,
}

async fn bind_for(v6: bool) -> io::Result<UdpSocket> {
    UdpSocket::bind(if v6 { "[::]:0" } else { "0.0.0.0:0" }).await
}

async fn recv(socket: &Option<UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Announces `params` to every tracker in `trackers` concurrently and returns one outcome
/// per tracker, in the same order. `config` builds each tracker's client configuration
/// (retry policy, URLData, …); `seed` seeds the transaction ids and must come from a
/// real entropy source.
///
/// # Errors
///
/// An I/O error binding or using a socket; per-tracker failures are in the outcomes.
pub async fn announce_all(
    trackers: &[SocketAddr],
    params: AnnounceParams,
    config: impl Fn(SocketAddr) -> ClientConfig<'static>,
    seed: u64,
) -> io::Result<Vec<TrackerOutcome>> {
    let clock = StdClock::new();
    let now = || clock.now();
    let mut clients: Vec<Option<Client<1>>> = Vec::with_capacity(trackers.len());
    let mut results: Vec<Option<Result<Announced, AnnounceError>>> =
        Vec::with_capacity(trackers.len());
    for (i, t) in trackers.iter().enumerate() {
        // Distinct, still unpredictable seeds per client.
        let s = seed.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let client = Client::<1>::new_sized(config(*t), s);
        match client.and_then(|mut c| c.announce(now(), params).map(|_| c)) {
            Ok(c) => {
                clients.push(Some(c));
                results.push(None);
            }
            Err(e) => {
                clients.push(None);
                results.push(Some(Err(AnnounceError::Usage(e))));
            }
        }
    }
    let v4 = if trackers.iter().any(SocketAddr::is_ipv4) {
        Some(bind_for(false).await?)
    } else {
        None
    };
    let v6 = if trackers.iter().any(SocketAddr::is_ipv6) {
        Some(bind_for(true).await?)
    } else {
        None
    };
    let mut out = [0u8; Client::<1>::MAX_TRANSMIT_LEN];
    let (mut buf4, mut buf6) = (vec![0u8; 65536], vec![0u8; 65536]);
    while results.iter().any(Option::is_none) {
        // 1. Outputs of every client: datagrams, then events.
        for (i, slot) in clients.iter_mut().enumerate() {
            let Some(c) = slot else { continue };
            while let Ok(Some(t)) = c.poll_transmit(now(), &mut out) {
                let socket = if t.destination.is_ipv6() { &v6 } else { &v4 };
                if let Some(s) = socket {
                    // A send error (unreachable) is left to the retry policy.
                    let _ = s.send_to(&out[..t.len], t.destination).await;
                }
            }
            if let Some(ClientEvent::TimedOut { .. }) = c.poll_event() {
                results[i].get_or_insert(Err(AnnounceError::TimedOut));
                *slot = None;
            }
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        // 2. Wait for a datagram or the earliest deadline.
        let deadline = clients
            .iter()
            .flatten()
            .filter_map(Client::poll_timeout)
            .min();
        let wake = match deadline {
            Some(d) => TokioInstant::from_std(clock.to_std(d)),
            None => TokioInstant::now() + Duration::from_secs(1),
        };
        let received = tokio::select! {
            r = recv(&v4, &mut buf4) => Some((r, false)),
            r = recv(&v6, &mut buf6) => Some((r, true)),
            () = sleep_until(wake) => None,
        };
        let t = now();
        let Some((Ok((n, from)), is_v6)) = received else {
            clients
                .iter_mut()
                .flatten()
                .for_each(|c| c.handle_timeout(t));
            continue;
        };
        let bytes = if is_v6 { &buf6[..n] } else { &buf4[..n] };
        // 3. The datagram goes to the client of the tracker it came from.
        let from = canonical_addr(from);
        for (i, slot) in clients.iter_mut().enumerate() {
            let Some(c) = slot else { continue };
            if canonical_addr(c.tracker()) != from {
                continue;
            }
            let done = match c.handle_datagram(t, from, bytes) {
                Ok(Received::Announced { response, .. }) => Some(Ok(Announced {
                    interval: response.interval,
                    leechers: response.leechers,
                    seeders: response.seeders,
                    peers: response.peers.iter().collect(),
                })),
                Ok(Received::Failed { error, .. } | Received::ConnectFailed { error, .. }) => {
                    Some(Err(AnnounceError::Tracker(
                        String::from_utf8_lossy(error.text()).into_owned(),
                    )))
                }
                _ => None,
            };
            if let Some(r) = done {
                results[i] = Some(r);
                *slot = None;
            }
        }
    }
    Ok(trackers
        .iter()
        .zip(results)
        .map(|(t, r)| TrackerOutcome {
            tracker: *t,
            result: r.unwrap_or(Err(AnnounceError::TimedOut)),
        })
        .collect())
}
