//! The identifiers and small enums of BEP 15.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The connection id a tracker hands out in its connect response (`int64_t`), opaque to
/// the client and echoed in every later request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The transaction id a client picks for each request (`int32_t`); the reply must carry
/// the same value. BEP 15's only defence against spoofed replies, so it must be random.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId(pub u32);

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Writes 20 bytes as 40 lower-case hex digits.
fn hex20(bytes: &[u8; 20], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// A torrent's 20-byte info hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InfoHash(pub [u8; 20]);

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex20(&self.0, f)
    }
}

/// A peer's 20-byte peer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PeerId(pub [u8; 20]);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex20(&self.0, f)
    }
}

/// One row of a scrape response: the counts of one requested torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScrapeRow {
    /// Seeders: peers with the whole torrent.
    pub complete: u32,
    /// How many times the torrent was downloaded completely.
    pub downloaded: u32,
    /// Leechers: peers still downloading.
    pub incomplete: u32,
}

/// The `action` field: what a datagram is (BEP 15 "actions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// 0: connect.
    Connect,
    /// 1: announce.
    Announce,
    /// 2: scrape.
    Scrape,
    /// 3: error (tracker replies only).
    Error,
}

impl Action {
    /// The action's wire value.
    pub const fn to_u32(self) -> u32 {
        match self {
            Action::Connect => 0,
            Action::Announce => 1,
            Action::Scrape => 2,
            Action::Error => 3,
        }
    }

    /// The action with wire value `v`, if BEP 15 defines one.
    pub const fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Action::Connect),
            1 => Some(Action::Announce),
            2 => Some(Action::Scrape),
            3 => Some(Action::Error),
            _ => None,
        }
    }
}

/// The announce `event` field.
///
/// BEP 15 defines 0–3. libtorrent also sends 4 for a paused partial seed (BEP 21's
/// `paused`, which it writes over UDP as well), and trackers see other values in
/// production; they are kept, never rejected, so a tracker can decide for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AnnounceEvent {
    /// 0: a regular announce.
    #[default]
    None,
    /// 1: the download completed.
    Completed,
    /// 2: the first announce of a session.
    Started,
    /// 3: the last announce of a session.
    Stopped,
    /// 4: libtorrent's "paused" (a partial seed that stopped downloading).
    Paused,
    /// Any other value, unchanged. [`AnnounceEvent::from_u32`] never produces 0–4 here.
    Other(u32),
}

impl AnnounceEvent {
    /// The event for wire value `v`.
    #[inline]
    pub const fn from_u32(v: u32) -> Self {
        match v {
            0 => AnnounceEvent::None,
            1 => AnnounceEvent::Completed,
            2 => AnnounceEvent::Started,
            3 => AnnounceEvent::Stopped,
            4 => AnnounceEvent::Paused,
            other => AnnounceEvent::Other(other),
        }
    }

    /// The event's wire value.
    #[inline]
    pub const fn to_u32(self) -> u32 {
        // In two steps: the first maps every variant to its position (the value of
        // 0–4, and 5 for `Other`), which the compiler reads as the enum's tag itself;
        // the second then only picks `Other`'s payload. One match straight to the
        // values compiled to a jump table in the announce encoder.
        let position = match self {
            AnnounceEvent::None => 0,
            AnnounceEvent::Completed => 1,
            AnnounceEvent::Started => 2,
            AnnounceEvent::Stopped => 3,
            AnnounceEvent::Paused => 4,
            AnnounceEvent::Other(_) => 5,
        };
        match self {
            AnnounceEvent::Other(v) => v,
            _ => position,
        }
    }
}

impl fmt::Display for AnnounceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnnounceEvent::None => f.write_str("none"),
            AnnounceEvent::Completed => f.write_str("completed"),
            AnnounceEvent::Started => f.write_str("started"),
            AnnounceEvent::Stopped => f.write_str("stopped"),
            AnnounceEvent::Paused => f.write_str("paused"),
            AnnounceEvent::Other(v) => write!(f, "other:{v}"),
        }
    }
}

/// The address family of the socket a datagram travelled on.
///
/// BEP 15: the peer format of an announce response "is determined by the address family
/// of the underlying UDP packet" — 6-byte IPv4 or 18-byte IPv6 entries. It is never
/// inferred from the payload length: every 18-byte list is also a multiple of 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4: 6-byte peers (4-byte address, 2-byte port).
    Ipv4,
    /// IPv6: 18-byte peers (16-byte address, 2-byte port).
    Ipv6,
}

impl AddressFamily {
    /// The family of `addr`, after [canonicalizing](canonical_addr) IPv4-mapped IPv6.
    pub fn of(addr: SocketAddr) -> Self {
        match canonical_addr(addr) {
            SocketAddr::V4(_) => AddressFamily::Ipv4,
            SocketAddr::V6(_) => AddressFamily::Ipv6,
        }
    }

    /// The size of one compact peer entry in this family.
    pub const fn peer_len(self) -> usize {
        match self {
            AddressFamily::Ipv4 => crate::udp::layout::peer_v4::LEN,
            AddressFamily::Ipv6 => crate::udp::layout::peer_v6::LEN,
        }
    }
}

/// `addr` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into plain IPv4.
///
/// A dual-stack `[::]` socket reports IPv4 clients as mapped addresses; a tracker that
/// keys peers or picks the response family by address should canonicalize first.
pub fn canonical_addr(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        v4 @ SocketAddr::V4(_) => v4,
    }
}

/// How many peers a tracker should return for an announce's `num_want`.
///
/// BEP 15: −1 asks for the tracker's default. Any negative value is treated the same
/// way (trackers that read the field as unsigned turn −1 into "as many as possible").
/// 0 asks for no peers (a stopping client sends it). A positive value is honoured up to
/// `max`. The default is itself capped at `max`.
pub fn effective_num_want(num_want: i32, default: u32, max: u32) -> u32 {
    match u32::try_from(num_want) {
        Err(_) => default.min(max),
        Ok(n) => n.min(max),
    }
}

/// The announce `ip` field as an address, or `None` for 0 ("use the sender's address").
pub fn announce_ip(ip: u32) -> Option<Ipv4Addr> {
    if ip == 0 {
        None
    } else {
        Some(Ipv4Addr::from(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv6Addr, SocketAddrV6};
    use std::string::ToString;

    #[test]
    fn event_keeps_every_value() {
        for v in [0, 1, 2, 3, 4, 5, 7, u32::MAX] {
            assert_eq!(AnnounceEvent::from_u32(v).to_u32(), v);
        }
        assert_eq!(AnnounceEvent::from_u32(4).to_string(), "paused");
        assert_eq!(AnnounceEvent::from_u32(7).to_string(), "other:7");
    }

    #[test]
    fn num_want_semantics() {
        assert_eq!(effective_num_want(-1, 50, 200), 50);
        assert_eq!(effective_num_want(i32::MIN, 500, 200), 200);
        assert_eq!(effective_num_want(0, 50, 200), 0);
        assert_eq!(effective_num_want(10_000, 50, 200), 200);
        assert_eq!(effective_num_want(10, 50, 200), 10);
    }

    #[test]
    fn mapped_addresses_become_ipv4() {
        let mapped = SocketAddr::V6(SocketAddrV6::new(
            Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped(),
            6881,
            0,
            0,
        ));
        assert_eq!(canonical_addr(mapped), "127.0.0.1:6881".parse().unwrap());
        assert_eq!(AddressFamily::of(mapped), AddressFamily::Ipv4);
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1);
        assert_eq!(canonical_addr(v6), v6);
        assert_eq!(AddressFamily::of(v6), AddressFamily::Ipv6);
    }

    #[test]
    fn ip_zero_means_sender() {
        assert_eq!(announce_ip(0), None);
        assert_eq!(announce_ip(0x7f00_0001), Some(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn ids_display_as_hex() {
        assert_eq!(
            ConnectionId(0x36e7_1e1f_d342_7599).to_string(),
            "36e71e1fd3427599"
        );
        assert_eq!(TransactionId(1).to_string(), "00000001");
        assert_eq!(InfoHash([0xaa; 20]).to_string(), "aa".repeat(20));
    }
}
