//! A blocking std driver for `udp::Client` in tests: the run loop of the client's docs,
//! over a real socket, with hooks to drop or alter datagrams on the way.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use trackwire::udp::{Client, ClientEvent, ExchangeId, InfoHash, Received, ScrapeRow, PROTOCOL_ID};
use trackwire::StdClock;

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Announced {
        interval: u32,
        leechers: u32,
        seeders: u32,
        peers: Vec<SocketAddr>,
    },
    Scraped(Vec<(InfoHash, ScrapeRow)>),
    Failed(Vec<u8>),
    ConnectFailed(Vec<u8>),
    TimedOut,
}

/// What the driver saw besides outcomes.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) sent: usize,
    pub(crate) dropped_out: usize,
    pub(crate) dropped_in: usize,
    pub(crate) connects: usize,
    pub(crate) rejected: usize,
    pub(crate) connect_error: Vec<u8>,
}

/// Hooks on the wire: return `false` to drop a datagram; incoming ones may be altered.
pub(crate) struct Wire<'a> {
    pub(crate) keep_out: &'a mut dyn FnMut(&[u8]) -> bool,
    pub(crate) keep_in: &'a mut dyn FnMut(&mut [u8]) -> bool,
}

/// Runs the client until `want` exchanges ended or `limit` passed.
pub(crate) fn run<const N: usize>(
    client: &mut Client<N>,
    socket: &UdpSocket,
    start: std::time::Instant,
    want: usize,
    limit: Duration,
    wire: Wire<'_>,
) -> (Vec<(ExchangeId, Outcome)>, Stats) {
    let clock = StdClock::with_origin(start);
    let now = || clock.now();
    let mut out = [0u8; <Client>::MAX_TRANSMIT_LEN];
    let mut inbuf = [0u8; 65536];
    let mut done = Vec::new();
    let mut stats = Stats::default();
    let end = std::time::Instant::now() + limit;
    while done.len() < want && std::time::Instant::now() < end {
        while let Some(t) = client
            .poll_transmit(now(), &mut out)
            .expect("buffer is MAX_TRANSMIT_LEN")
        {
            let d = &out[..t.len];
            if d.len() == 16 && d[..8] == PROTOCOL_ID.to_be_bytes() {
                stats.connects += 1;
            }
            if (wire.keep_out)(d) {
                socket.send_to(d, t.destination).unwrap();
                stats.sent += 1;
            } else {
                stats.dropped_out += 1;
            }
        }
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::TimedOut { id } => done.push((id, Outcome::TimedOut)),
                other => panic!("unexpected event {other:?}"),
            }
        }
        if done.len() >= want {
            break;
        }
        let t = now();
        let wait = client
            .poll_timeout()
            .map(|d| d.saturating_duration_since(t))
            .unwrap_or(Duration::from_millis(100))
            .clamp(Duration::from_millis(1), Duration::from_millis(200));
        socket.set_read_timeout(Some(wait)).unwrap();
        match socket.recv_from(&mut inbuf) {
            Ok((n, from)) => {
                let d = &mut inbuf[..n];
                if !(wire.keep_in)(d) {
                    stats.dropped_in += 1;
                    continue;
                }
                match client.handle_datagram(now(), from, d) {
                    Ok(Received::Announced { id, response }) => done.push((
                        id,
                        Outcome::Announced {
                            interval: response.interval,
                            leechers: response.leechers,
                            seeders: response.seeders,
                            peers: response.peers.iter().collect(),
                        },
                    )),
                    Ok(Received::Scraped { id, response }) => {
                        done.push((id, Outcome::Scraped(response.iter().collect())))
                    }
                    Ok(Received::Failed { id, error }) => {
                        done.push((id, Outcome::Failed(error.message.to_vec())))
                    }
                    Ok(Received::ConnectFailed { error, failed }) => {
                        stats.connect_error = error.message.to_vec();
                        for id in &failed {
                            done.push((id, Outcome::ConnectFailed(error.message.to_vec())));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => stats.rejected += 1,
                }
            }
            Err(_) => client.handle_timeout(now()),
        }
    }
    (done, stats)
}
