//! Helpers for `benches/load`: the info hashes `aquatic_udp_load_test` 0.9 announces, and
//! the few BEP 15 datagrams the probe and the flood need.
//!
//! The datagrams are written by hand rather than with trackwire's codec so that the
//! benchmark measures the tracker with a client that shares none of its code.

use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The seed of `InfoHashDist::new` in aquatic_udp_load_test 0.9.0 (`src/lib.rs`).
pub const LOAD_TEST_HASH_SEED: u64 = 0xc3aa_8be6_17b3_acce;

/// The load test's default `requests.number_of_torrents`.
pub const LOAD_TEST_TORRENTS: usize = 1_000_000;

/// BEP 15's connect magic (`protocol_id`).
const PROTOCOL_ID: u64 = 0x0417_2710_1980;

/// The info hashes the load test draws its announces and scrapes from, in its order.
///
/// It fills each hash byte by byte with `rng.gen::<u8>()`, which in rand 0.8 takes the
/// low byte of one `next_u32` per byte: generating 20 bytes in one `fill` call would
/// give other hashes.
pub fn load_test_info_hashes(count: usize) -> impl Iterator<Item = [u8; 20]> {
    let mut rng = SmallRng::seed_from_u64(LOAD_TEST_HASH_SEED);
    (0..count).map(move |_| {
        let mut bytes = [0u8; 20];
        for byte in bytes.iter_mut() {
            *byte = rng.gen();
        }
        bytes
    })
}

/// Lower-case hex, the whitelist format of opentracker and of `--access-list`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Parses 40 hex digits into an info hash.
pub fn parse_hash(text: &str) -> Result<[u8; 20], String> {
    let text = text.trim();
    if text.len() != 40 || !text.is_ascii() {
        return Err(format!("info hash {text:?}: expected 40 hex digits"));
    }
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = &text[i * 2..i * 2 + 2];
        *byte = u8::from_str_radix(pair, 16)
            .map_err(|e| format!("info hash {text:?} at digit {}: {e}", i * 2))?;
    }
    Ok(out)
}

/// A BEP 15 connect request.
pub fn connect_request(tid: u32) -> [u8; 16] {
    let mut d = [0u8; 16];
    d[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
    d[12..].copy_from_slice(&tid.to_be_bytes());
    d
}

/// A 98-byte BEP 15 announce (event `started`, 30 peers wanted, like the load test's).
pub fn announce_request(
    cid: u64,
    tid: u32,
    hash: &[u8; 20],
    peer_id: &[u8; 20],
    port: u16,
) -> [u8; 98] {
    let mut d = [0u8; 98];
    d[..8].copy_from_slice(&cid.to_be_bytes());
    d[8..12].copy_from_slice(&1u32.to_be_bytes());
    d[12..16].copy_from_slice(&tid.to_be_bytes());
    d[16..36].copy_from_slice(hash);
    d[36..56].copy_from_slice(peer_id);
    // downloaded 0, left 1000, uploaded 0
    d[64..72].copy_from_slice(&1000u64.to_be_bytes());
    d[80..84].copy_from_slice(&2u32.to_be_bytes());
    d[92..96].copy_from_slice(&30i32.to_be_bytes());
    d[96..98].copy_from_slice(&port.to_be_bytes());
    d
}

/// What a tracker answered to one request of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A connect reply carrying this connection id.
    Connected(u64),
    /// A full announce reply (at least 20 bytes).
    Announced,
    /// An announce reply of 8 bytes: opentracker's answer for a hash not on its whitelist.
    Refused,
    /// An error reply (action 3).
    Error,
}

/// Reads a reply to transaction `tid`; `None` for anything else (another tid, garbage).
pub fn parse_reply(d: &[u8], tid: u32) -> Option<Reply> {
    let action = u32::from_be_bytes(d.get(0..4)?.try_into().ok()?);
    let got = u32::from_be_bytes(d.get(4..8)?.try_into().ok()?);
    if got != tid {
        return None;
    }
    match action {
        0 => Some(Reply::Connected(u64::from_be_bytes(
            d.get(8..16)?.try_into().ok()?,
        ))),
        1 if d.len() >= 20 => Some(Reply::Announced),
        1 => Some(Reply::Refused),
        3 => Some(Reply::Error),
        _ => None,
    }
}

/// Sends `request` and waits until `deadline` for the reply to `tid`, skipping stale
/// replies to earlier requests.
pub fn exchange(
    sock: &UdpSocket,
    request: &[u8],
    tid: u32,
    deadline: Instant,
) -> std::io::Result<Option<Reply>> {
    sock.send(request)?;
    let mut buf = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        match sock.recv(&mut buf) {
            Ok(n) => {
                if let Some(r) = buf.get(..n).and_then(|d| parse_reply(d, tid)) {
                    return Ok(Some(r));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None)
            }
            // A previous datagram's ICMP port unreachable: the tracker is not (yet) there.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// A UDP socket bound to `source` (port 0) and connected to `target`.
pub fn socket(source: &str, target: SocketAddr) -> Result<UdpSocket, String> {
    let sock = UdpSocket::bind((source, 0)).map_err(|e| format!("bind {source}: {e}"))?;
    sock.connect(target)
        .map_err(|e| format!("connect {target}: {e}"))?;
    Ok(sock)
}

/// Command-line flags as `--name value` pairs, with typed look-ups that name the flag.
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    /// Reads the process arguments; every flag takes one value.
    pub fn from_env(usage: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let Some(name) = flag.strip_prefix("--") else {
                return Err(format!("unexpected argument {flag:?}\nusage: {usage}"));
            };
            let value = it
                .next()
                .ok_or_else(|| format!("--{name} needs a value\nusage: {usage}"))?;
            pairs.push((name.to_string(), value));
        }
        Ok(Self { pairs })
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last value given for `name`, parsed, or `default`.
    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.all(name).last() {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}")),
        }
    }
}
