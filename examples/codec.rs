//! The codecs on their own: typed messages to bytes and back, with no socket, no clock
//! and no allocation in the library calls.
//!
//! ```text
//! cargo run --example codec
//! ```
//!
//! A UDP tracker announce (BEP 15, with BEP 41 URLData) is encoded, decoded again and
//! compared; a reply from a tracker is decoded from its bytes; a malformed datagram
//! shows the error's kind and offset; then one CTCS line goes the same way. The
//! `trackwire` command (`cli/`) does this for whole captures: `trackwire decode udp`.

use trackwire::ctcs::{ClientMessage, CtBw, Version};
use trackwire::udp::{
    encode_url_data, AddressFamily, AnnounceEvent, AnnounceRequest, AnnounceTail, ConnectionId,
    InfoHash, Options, PeerId, Request, Response, TransactionId,
};

fn main() {
    // BEP 41 URLData (the path and query of udp://host:port/announce?key=1) travels as
    // options after the 98-byte announce.
    let mut tail = [0u8; 64];
    let tail_len = encode_url_data(b"/announce?key=1", false, &mut tail).expect("fits");
    let options = Options::decode(&tail[..tail_len]).expect("just encoded");
    let announce = AnnounceRequest {
        connection_id: ConnectionId(0x0123_4567_89ab_cdef),
        transaction_id: TransactionId(7),
        info_hash: InfoHash([0xaa; 20]),
        peer_id: PeerId(*b"-TW0001-example00001"),
        downloaded: 0,
        left: 1000,
        uploaded: 0,
        event: AnnounceEvent::Started,
        ip: 0,
        key: 42,
        num_want: -1,
        port: 6881,
        tail: AnnounceTail::Options(options),
    };
    let mut buf = [0u8; 200];
    let len = announce.encode(&mut buf).expect("200 bytes is enough");
    println!("announce, {len} bytes: {}", hex(&buf[..len]));

    // Decoding borrows from the buffer: the URLData is a view into `buf`, not a copy.
    match Request::decode(&buf[..len]) {
        Ok(Request::Announce(back)) => {
            assert_eq!(back, announce);
            let url: Vec<u8> = match back.tail {
                AnnounceTail::Options(o) => o.url_data().flatten().copied().collect(),
                _ => Vec::new(),
            };
            println!(
                "decoded: {} event={} port={} url_data={}",
                back.info_hash,
                back.event,
                back.port,
                String::from_utf8_lossy(&url)
            );
        }
        Ok(_) => println!("decoded a request that is not an announce"),
        Err(e) => println!("cannot decode what was just encoded: {e}"),
    }

    // A tracker's announce reply with one IPv4 peer (6 bytes: address, port).
    let reply = [
        0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 7, 8, 0, 0, 0, 2, 0, 0, 0, 5, 127, 0, 0, 1, 0x1a, 0xe1,
    ];
    match Response::decode(&reply, AddressFamily::Ipv4) {
        Ok(Response::Announce(a)) => {
            let peers: Vec<String> = a.peers.iter().map(|p| p.to_string()).collect();
            println!(
                "reply: interval {} s, {} seeders, {} leechers, peers {}",
                a.interval,
                a.seeders,
                a.leechers,
                peers.join(" ")
            );
        }
        Ok(_) => println!("decoded a reply that is not an announce"),
        Err(e) => println!("not a reply: {e}"),
    }

    // Malformed input is a typed error that says what and where, never a panic.
    let err = Response::decode(&reply[..11], AddressFamily::Ipv4).expect_err("cut short");
    println!(
        "11 bytes of it: {err} (kind {}, offset {})",
        err.kind().name(),
        err.offset()
    );

    // CTCS: one client line, as Enhanced CTorrent writes it in protocol 3.
    let bw = ClientMessage::CtBw(CtBw {
        dl_rate: 1024,
        ul_rate: 2048,
        dl_limit: 0,
        ul_limit: 51200,
    });
    let mut line = [0u8; 64];
    let n = bw.encode(Version::V3, &mut line).expect("fits");
    print!("ctcs line: {}", String::from_utf8_lossy(&line[..n]));
    // Lines are decoded without their line end.
    let back = ClientMessage::decode(&line[..n - 1], Version::V3).expect("just encoded");
    assert_eq!(back, bw);
    println!("decoded again: {}", back.keyword());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
