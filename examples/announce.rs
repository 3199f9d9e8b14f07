//! A blocking announce over std UDP: the run loop every `udp::Client` driver has, in its
//! smallest form (the `trackwire announce` command is the full tool).
//!
//! ```text
//! cargo run --example announce -- 127.0.0.1:6969 [INFO_HASH_HEX40]
//! ```
//!
//! The client is sans-IO: it never touches the socket or the clock. The loop below hands
//! it the time and every datagram that arrives, sends what it asks to send, and sleeps
//! until it wants to be woken (its retry timer). Connect, retries and connection-id
//! reuse all happen inside the client.

use std::net::{ToSocketAddrs, UdpSocket};
use std::time::Duration;

use trackwire::udp::{
    AnnounceEvent, AnnounceParams, Client, ClientConfig, ClientEvent, InfoHash, PeerId, Received,
};
use trackwire::StdClock;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tracker = args
        .next()
        .ok_or("usage: announce HOST:PORT [INFO_HASH_HEX40]")?
        .to_socket_addrs()?
        .next()
        .ok_or("the tracker name resolves to nothing")?;
    let mut info_hash = [0xaa; 20];
    if let Some(hex) = args.next() {
        for (i, byte) in info_hash.iter_mut().enumerate() {
            let digits = hex
                .get(2 * i..2 * i + 2)
                .ok_or("the info hash is 40 hex digits")?;
            *byte = u8::from_str_radix(digits, 16)?;
        }
    }

    let socket = UdpSocket::bind(if tracker.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    })?;
    let clock = StdClock::new();
    // The seed randomises transaction ids: take it from the OS in real programs.
    let seed = u64::from(std::process::id()) << 32 | 0x5eed;
    let mut client = Client::<1>::new_sized(ClientConfig::new(tracker), seed)?;

    let mut params =
        AnnounceParams::new(InfoHash(info_hash), PeerId(*b"-TW0001-example00001"), 6881);
    params.event = AnnounceEvent::Started;
    params.left = 1000;
    client.announce(clock.now(), params)?;

    let mut out = [0u8; Client::<1>::MAX_TRANSMIT_LEN];
    let mut buf = [0u8; 2048];
    loop {
        // 1. What time caused: an exchange that ended without a reply (every retry
        //    unanswered).
        if let Some(ClientEvent::TimedOut { .. }) = client.poll_event() {
            println!("no reply from {tracker}");
            return Ok(());
        }
        // 2. Send whatever the client queued (a connect first, then the announce), one
        //    datagram per call.
        while let Some(t) = client.poll_transmit(clock.now(), &mut out)? {
            socket.send_to(&out[..t.len], t.destination)?;
        }
        // 3. Wait for a datagram, or until the client's next deadline.
        let wait = client.poll_timeout().map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(clock.now())
        });
        socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match socket.recv_from(&mut buf) {
            // 4. Hand it over; a reply that ends the exchange comes back at once.
            Ok((n, from)) => match client.handle_datagram(clock.now(), from, &buf[..n]) {
                Ok(Received::Announced { response, .. }) => {
                    println!(
                        "interval {} s, {} seeders, {} leechers",
                        response.interval, response.seeders, response.leechers
                    );
                    for peer in response.peers.iter() {
                        println!("peer {peer}");
                    }
                    return Ok(());
                }
                Ok(Received::Failed { error, .. } | Received::ConnectFailed { error, .. }) => {
                    println!("tracker error: {}", String::from_utf8_lossy(error.text()));
                    return Ok(());
                }
                // The connect reply, or a datagram that is not ours: keep going.
                Ok(_) | Err(_) => {}
            },
            // 5. Nothing arrived in time: let the client retry.
            Err(_) => client.handle_timeout(clock.now()),
        }
    }
}
