//! A minimal CTCS server loop over `ctcs::ServerSession`: one ctorrent at a time, its
//! status printed every few seconds (the `trackwire ctcs serve` command is the full tool:
//! many clients, commands on stdin, JSON events).
//!
//! ```text
//! cargo run --example ctcs_server -- 127.0.0.1:2780
//! ctorrent -S 127.0.0.1:2780 some.torrent     # Enhanced CTorrent, in another terminal
//! ```
//!
//! The session does the protocol: `PROTOCOL` negotiation, identification, framing, the
//! status poll. The loop reads bytes straight into the session's own input buffer, reads
//! its events (the lines are acted on as they are polled), writes the lines it queues,
//! and sleeps until its next deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use trackwire::ctcs::{ServerConfig, ServerEvent, ServerSession};
use trackwire::StdClock;

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
        let mut session = ServerSession::new(config, clock.now())?;
        let mut line = [0u8; ServerSession::MAX_TRANSMIT_LEN];
        loop {
            // 1. Events first: received lines are acted on as they are polled, and
            //    acting on one may queue a reply.
            if report(&mut session) {
                break;
            }
            // 2. Write every line the session queued (PROTOCOL first, then requests),
            //    one whole line per call.
            while let Some(n) = session.poll_transmit(&mut line)? {
                stream.write_all(&line[..n])?;
            }
            // 3. Wait for bytes until the session's next deadline (the status poll).
            let wait = session.poll_timeout().map_or(Duration::from_secs(1), |at| {
                at.saturating_duration_since(clock.now())
            });
            stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            // 4. Read straight into the session's input buffer: with every event polled
            //    there is room for a whole line, so no buffer of our own is needed.
            match stream.read(session.input_buf()) {
                Ok(0) => session.handle_closed(),
                Ok(n) => session.commit_input(clock.now(), n)?,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    session.handle_timeout(clock.now())
                }
                Err(_) => session.handle_closed(),
            }
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
