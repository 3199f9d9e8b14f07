//! Announces one torrent to several UDP trackers at once and prints each answer.
//!
//! `cargo run --example announce_all -- INFO_HASH_HEX40 HOST:PORT [HOST:PORT ...]`

use std::net::{SocketAddr, ToSocketAddrs};

use trackwire::udp::{AnnounceParams, ClientConfig, InfoHash, PeerId};
use trackwire_tokio::announce::announce_all;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: announce_all INFO_HASH_HEX40 HOST:PORT [HOST:PORT ...]";
    let hex = args.next().expect(usage);
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect(usage))
        .collect();
    let hash = InfoHash(bytes.try_into().expect(usage));
    let trackers: Vec<SocketAddr> = args
        .map(|a| a.to_socket_addrs().expect(usage).next().expect(usage))
        .collect();
    // Transaction ids are the only defence against forged replies: seed them from the OS.
    let seed = getrandom::u64().map_err(std::io::Error::other)?;
    let params = AnnounceParams::new(hash, PeerId(*b"-TW0001-tokio-000001"), 6881);
    for outcome in announce_all(&trackers, params, ClientConfig::new, seed).await? {
        println!("{}: {:?}", outcome.tracker, outcome.result);
    }
    Ok(())
}
