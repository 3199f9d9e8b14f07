//! A minimal CTCS server loop over `ctcs::ServerSession`: one ctorrent at a time, its
//! status printed every few seconds (the `trackwire ctcs serve` command is the full tool:
//! many clients, commands on stdin, JSON events).
//!
//! ```text
//! cargo run --features std --example ctcs_server -- 127.0.0.1:2780
//! ctorrent -S 127.0.0.1:2780 some.torrent     # Enhanced CTorrent, in another terminal
//! ```
//!
//! The session does the protocol: `PROTOCOL` negotiation, identification, framing, the
//! status poll. The loop feeds it bytes and time, writes the lines it queues, and reads
//! its events.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use trackwire::ctcs::server::MAX_TRANSMIT_LEN;
use trackwire::ctcs::{ServerConfig, ServerEvent, ServerSession};
use trackwire::time::StdClock;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2780".into());
    let listener = TcpListener::bind(&bind)?;
    println!("listening on {}", listener.local_addr()?);
    let clock = StdClock::new();
    for stream in listener.incoming() {
        let mut stream = stream?;
        println!("client {} connected", stream.peer_addr()?);
        // Ask for a CTSTATUS every 5 s; the session keeps the timer.
        let config = ServerConfig::new().with_poll_interval(Some(Duration::from_secs(5)));
        let mut session = ServerSession::new(clock.now(), config)?;
        let mut input = [0u8; 4096];
        let mut line = [0u8; MAX_TRANSMIT_LEN];
        let mut closed = false;
        while !closed {
            // Write every line the session queued (PROTOCOL first, then requests).
            while let Some(n) = session.poll_transmit(clock.now(), &mut line)? {
                stream.write_all(&line[..n])?;
            }
            closed = report(&mut session);
            // Wait for bytes until the session's next deadline (the status poll).
            let wait = session.poll_timeout().map_or(Duration::from_secs(1), |at| {
                at.saturating_duration_since(clock.now())
            });
            stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            match stream.read(&mut input) {
                Ok(0) => session.handle_closed(clock.now()),
                Ok(n) => {
                    // The session stops taking input while it has events to hand out:
                    // read them, then feed it the rest.
                    let mut rest = &input[..n];
                    while !rest.is_empty() && !closed {
                        let used = session.handle_input(clock.now(), rest);
                        rest = &rest[used..];
                        closed = report(&mut session);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    session.handle_timeout(clock.now())
                }
                Err(_) => session.handle_closed(clock.now()),
            }
            closed |= report(&mut session);
        }
        println!("client gone");
    }
    Ok(())
}

/// Prints the session's events; returns whether the connection closed.
fn report(session: &mut ServerSession) -> bool {
    let mut closed = false;
    while let Some(event) = session.poll_event() {
        match event {
            ServerEvent::Hello(t) => println!("torrent {} from {}", t.filename, t.peer_id),
            ServerEvent::Status { status: s, .. } => println!(
                "{}/{} pieces, down {} B/s, up {} B/s, {} seeders, {} leechers",
                s.n_have, s.n_total, s.dl_rate, s.ul_rate, s.seeders, s.leechers
            ),
            ServerEvent::Closed => closed = true,
            other => println!("{}", other.name()),
        }
    }
    closed
}
