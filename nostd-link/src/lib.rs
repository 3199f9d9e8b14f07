//! A `no_std`, no-`alloc` static library that drives trackwire's state machines with fixed
//! buffers. It exists to prove, at link time, that those paths need neither `std` nor an
//! allocator: `.ci/run` builds it, and any use of either fails the build (there is no
//! global allocator and no `std` to link).

#![no_std]

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use trackwire::ctcs::{ServerConfig as CtcsConfig, ServerEvent, ServerSession};
use trackwire::udp::{
    AnnounceParams, Client, ClientConfig, InfoHash, PeerId, Received, Server, ServerAction,
    ServerConfig,
};
use trackwire::Instant;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

const TRACKER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 6969));
const CLIENT: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 6881));

/// Runs one announce between a `udp::Client` and a `udp::Server` entirely in memory and
/// returns the number of peers the client received (the server hands out one), or -1.
#[no_mangle]
pub extern "C" fn trackwire_udp_round_trip(seed: u64) -> i32 {
    let Ok(mut client) = Client::<2>::new_sized(ClientConfig::new(TRACKER), seed) else {
        return -1;
    };
    let server = Server::new(ServerConfig::new(), [7; 16]);
    let params = AnnounceParams::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
    let now = Instant::from_secs(1);
    if client.announce(now, params).is_err() {
        return -1;
    }
    let mut out = [0u8; Client::<2>::MAX_TRANSMIT_LEN];
    let mut reply = [0u8; Client::<2>::MAX_TRANSMIT_LEN];
    // Connect, then announce: two round trips.
    for _ in 0..2 {
        let Ok(Some(t)) = client.poll_transmit(now, &mut out) else {
            return -1;
        };
        let Some(request) = out.get(..t.len) else {
            return -1;
        };
        let len = match server.handle_datagram(now, CLIENT, request, &mut reply) {
            ServerAction::Connected { len } => len,
            ServerAction::Announce(a) => {
                let peer = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 1));
                match a.respond(60, 0, 1, [peer], &mut reply) {
                    Ok(len) => len,
                    Err(_) => return -1,
                }
            }
            _ => return -1,
        };
        let Some(answer) = reply.get(..len) else {
            return -1;
        };
        match client.handle_datagram(now, TRACKER, answer) {
            Ok(Received::Announced { response, .. }) => {
                return i32::try_from(response.peers.len()).unwrap_or(-1);
            }
            Ok(_) => {}
            Err(_) => return -1,
        }
    }
    -1
}

/// Feeds a ctorrent opening (PROTOCOL, CTORRENT, CTSTATUS) to a `ctcs::ServerSession`,
/// asks for status, and returns how many lines the session wrote (PROTOCOL and
/// SENDSTATUS: 2) or -1.
#[no_mangle]
pub extern "C" fn trackwire_ctcs_server_session() -> i32 {
    let now = Instant::from_secs(1_795_312_162);
    let Ok(mut session) = ServerSession::new(CtcsConfig::new(), now) else {
        return -1;
    };
    let input: &[u8] = b"PROTOCOL 0003\nCTORRENT -CD0303-0x99D5B07A8235753C6FADB642 1795312162 1795312162 single.torrent\nCTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\n";
    if session.handle_input(now, input).is_err() {
        return -1;
    }
    let mut hello = false;
    while let Some(event) = session.poll_event() {
        hello |= matches!(event, ServerEvent::Hello(_));
    }
    if !hello || session.request_status().is_err() {
        return -1;
    }
    let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
    let mut lines = 0;
    while let Ok(Some(_)) = session.poll_transmit(&mut buf) {
        lines += 1;
    }
    lines
}
