//! A UDP tracker on a tokio socket: the loop of [`udp::Server`](trackwire::udp::Server),
//! with the application's swarm store behind [`Swarms`].

use std::io;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use trackwire::udp::{IncomingAnnounce, IncomingScrape, Server, ServerAction};
use trackwire::{Instant, StdClock};

/// The application's side of a tracker: answers authenticated announces and scrapes.
pub trait Swarms {
    /// Records the announce and writes the reply (with
    /// [`IncomingAnnounce::respond`]) into `reply`; returns its length (0 to stay silent).
    fn announce(&mut self, now: Instant, request: &IncomingAnnounce<'_>, reply: &mut [u8])
        -> usize;
    /// Writes the scrape reply (with [`IncomingScrape::respond`]) into `reply`; returns
    /// its length (0 to stay silent).
    fn scrape(&mut self, now: Instant, request: &IncomingScrape<'_>, reply: &mut [u8]) -> usize;
}

/// Serves `socket` until `shutdown` turns true (or its sender is dropped).
///
/// # Errors
///
/// An I/O error from the socket other than a failed send (sends to vanished clients are
/// ignored).
pub async fn serve<S: Swarms>(
    socket: UdpSocket,
    server: Server,
    mut swarms: S,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let clock = StdClock::new();
    let mut buf = vec![0u8; 65536];
    let mut reply = [0u8; 1500];
    loop {
        let (n, from) = tokio::select! {
            r = socket.recv_from(&mut buf) => r?,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ok(());
                }
                continue;
            }
        };
        let now = clock.now();
        let len = match server.handle_datagram(now, from, &buf[..n], &mut reply) {
            ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
            ServerAction::Announce(a) => swarms.announce(now, &a, &mut reply),
            ServerAction::Scrape(s) => swarms.scrape(now, &s, &mut reply),
            _ => 0,
        };
        if len > 0 {
            let _ = socket.send_to(&reply[..len], from).await;
        }
    }
}
