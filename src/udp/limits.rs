//! Size limits and an MTU calculator.
//!
//! BEP 15 says a scrape holds "up to about 74" hashes: ⌊(1500 − 16) / 20⌋, which forgets
//! the IP and UDP headers. Counting them, a 1500-byte MTU leaves 1472 bytes of payload
//! over IPv4 (72 hashes) and 1452 over IPv6 (71); IPv6's minimum MTU of 1280 leaves 1232
//! (60 hashes). The same budget bounds how many peers or scrape rows a reply may carry
//! (100 IPv6 peers are 1820 bytes: EMSGSIZE on a 1500-byte link).

use crate::udp::layout::{
    announce_response, peer_v4, peer_v6, scrape_request, scrape_response, scrape_row,
};
use crate::udp::types::AddressFamily;

/// BEP 15's scrape limit, computed without the IP and UDP headers.
pub const BEP15_MAX_SCRAPE_HASHES: usize = 74;
/// The Ethernet MTU.
pub const MTU_ETHERNET: usize = 1500;
/// IPv6's minimum link MTU.
pub const MTU_IPV6_MIN: usize = 1280;
/// The size of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// The size of an IPv6 header without extension headers.
pub const IPV6_HEADER_LEN: usize = 40;
/// The size of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// The largest UDP payload any datagram can have.
pub const MAX_UDP_PAYLOAD: usize = 65_507;
/// opentracker's reply budget ("around 1200 bytes": 200 IPv4 or 66 IPv6 peers), a safe
/// choice below every common MTU.
pub const OPENTRACKER_REPLY_BUDGET: usize = 1220;

/// The UDP payload that fits one unfragmented datagram on a link of `mtu` bytes.
pub const fn payload_budget(mtu: usize, family: AddressFamily) -> usize {
    let ip = match family {
        AddressFamily::Ipv4 => IPV4_HEADER_LEN,
        AddressFamily::Ipv6 => IPV6_HEADER_LEN,
    };
    mtu.saturating_sub(ip).saturating_sub(UDP_HEADER_LEN)
}

/// How many info hashes a scrape request of at most `payload` bytes can carry.
pub const fn max_scrape_hashes(payload: usize) -> usize {
    payload.saturating_sub(scrape_request::HEADER_LEN) / scrape_request::INFO_HASH_LEN
}

/// How many rows a scrape response of at most `payload` bytes can carry.
pub const fn max_scrape_rows(payload: usize) -> usize {
    payload.saturating_sub(scrape_response::HEADER_LEN) / scrape_row::LEN
}

/// How many peers of `family` an announce response of at most `payload` bytes can carry.
pub const fn max_peers(payload: usize, family: AddressFamily) -> usize {
    let room = payload.saturating_sub(announce_response::LEN);
    match family {
        AddressFamily::Ipv4 => room / peer_v4::LEN,
        AddressFamily::Ipv6 => room / peer_v6::LEN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressFamily::{Ipv4, Ipv6};

    #[test]
    fn scrape_limits_match_the_known_numbers() {
        assert_eq!(max_scrape_hashes(MTU_ETHERNET), BEP15_MAX_SCRAPE_HASHES);
        assert_eq!(max_scrape_hashes(payload_budget(MTU_ETHERNET, Ipv4)), 72);
        assert_eq!(max_scrape_hashes(payload_budget(MTU_ETHERNET, Ipv6)), 71);
        assert_eq!(max_scrape_hashes(payload_budget(MTU_IPV6_MIN, Ipv6)), 60);
        assert_eq!(max_scrape_hashes(0), 0);
    }

    #[test]
    fn peer_limits() {
        assert_eq!(max_peers(OPENTRACKER_REPLY_BUDGET, Ipv4), 200);
        assert_eq!(max_peers(OPENTRACKER_REPLY_BUDGET, Ipv6), 66);
        assert_eq!(max_peers(payload_budget(MTU_ETHERNET, Ipv6), Ipv6), 79);
        assert_eq!(max_scrape_rows(payload_budget(MTU_ETHERNET, Ipv4)), 122);
    }
}
