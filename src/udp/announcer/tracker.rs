//! One tracker's state inside the announcer: its address lists and its two families.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::time::Instant;
use crate::udp::client::{Client, ExchangeId, MAX_URL_DATA_LEN};
use crate::udp::types::{canonical_addr, AnnounceEvent};

use super::status::{HostName, TrackerStatus};

/// Where one family's announce of the current turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leg {
    /// Not part of the turn (no address of this family, or the turn has not started).
    Idle,
    /// An announce is in flight (exchange id and event).
    InFlight(ExchangeId, AnnounceEvent),
    /// The tracker answered this turn.
    Answered,
    /// Every address of the family failed this turn, or the tracker refused.
    Failed,
}

/// Where a family's `stopped` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    NotSent,
    Pending(ExchangeId),
    Answered,
    Unanswered,
}

/// IPv4 (index 0) or IPv6 (index 1) of one tracker.
#[derive(Debug, Clone)]
pub(crate) struct Family<const C: usize> {
    /// The client of the current address; rebuilt when the family moves on.
    pub(crate) client: Option<Client<C>>,
    /// Which address of this family (counting only this family's addresses) is current.
    pub(crate) cursor: usize,
    pub(crate) leg: Leg,
    /// A `started` announce went out from this family.
    pub(crate) started_sent: bool,
    /// A `started` announce was answered.
    pub(crate) started_done: bool,
    /// A `completed` announce was answered.
    pub(crate) completed_done: bool,
    pub(crate) stop: Stop,
    /// An unpolled `AddressTimedOut` event: (sequence number, address).
    pub(crate) timed_out: Option<(u64, SocketAddr)>,
}

impl<const C: usize> Family<C> {
    pub(crate) const fn new() -> Self {
        Family {
            client: None,
            cursor: 0,
            leg: Leg::Idle,
            started_sent: false,
            started_done: false,
            completed_done: false,
            stop: Stop::NotSent,
            timed_out: None,
        }
    }
}

/// Whether the host's addresses are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// A name never resolved, or whose addresses all failed: ask at the next turn.
    Needed,
    /// Asked; `event` is the sequence number of the unpolled `Resolve` event, if any.
    Asked {
        deadline: Instant,
        event: Option<u64>,
    },
    /// Addresses known (a literal, or the caller's answer).
    Known,
}

/// One tracker: what its URL said, what resolution gave, and its two families.
#[derive(Debug, Clone)]
pub(crate) struct Tracker<const C: usize, const A: usize> {
    /// The host name to resolve; `None` for a literal.
    pub(crate) host: Option<HostName>,
    pub(crate) port: u16,
    pub(crate) url_data: [u8; MAX_URL_DATA_LEN],
    pub(crate) url_data_len: usize,
    pub(crate) addrs: [IpAddr; A],
    pub(crate) addr_len: usize,
    pub(crate) resolution: Resolution,
    pub(crate) families: [Family<C>; 2],
    /// The tracker's turn in its walk is under way.
    pub(crate) in_turn: bool,
    pub(crate) status: TrackerStatus,
    /// Scrape chunks lost and not yet reported, and the event's sequence number.
    pub(crate) scrapes_lost: Option<(u64, usize)>,
}

impl<const C: usize, const A: usize> Tracker<C, A> {
    pub(crate) fn new(tier: usize, port: u16) -> Self {
        Tracker {
            host: None,
            port,
            url_data: [0; MAX_URL_DATA_LEN],
            url_data_len: 0,
            addrs: [IpAddr::V4(Ipv4Addr::UNSPECIFIED); A],
            addr_len: 0,
            resolution: Resolution::Needed,
            families: [Family::new(), Family::new()],
            in_turn: false,
            status: TrackerStatus::new(tier),
            scrapes_lost: None,
        }
    }

    pub(crate) fn url_data(&self) -> &[u8] {
        self.url_data.get(..self.url_data_len).unwrap_or(&[])
    }

    pub(crate) fn addrs(&self) -> &[IpAddr] {
        self.addrs.get(..self.addr_len).unwrap_or(&[])
    }

    /// Replaces the address list with the first `A` distinct addresses of `ips`.
    pub(crate) fn set_addrs(&mut self, ips: &[IpAddr]) {
        self.addr_len = 0;
        for ip in ips {
            let ip = canonical_addr(SocketAddr::new(*ip, 0)).ip();
            if self.addrs().contains(&ip) {
                continue;
            }
            let Some(slot) = self.addrs.get_mut(self.addr_len) else {
                break;
            };
            *slot = ip;
            self.addr_len = self.addr_len.saturating_add(1);
        }
        for f in &mut self.families {
            f.cursor = 0;
        }
    }

    /// The current address of family `f` (0: IPv4, 1: IPv6), if it has one.
    pub(crate) fn address(&self, f: usize) -> Option<SocketAddr> {
        let cursor = self.families.get(f)?.cursor;
        self.addrs()
            .iter()
            .filter(|ip| usize::from(ip.is_ipv6()) == f)
            .nth(cursor)
            .map(|ip| SocketAddr::new(*ip, self.port))
    }

    /// Whether `from` is one of the tracker's addresses (any port).
    pub(crate) fn owns(&self, from: SocketAddr) -> bool {
        self.addrs().contains(&canonical_addr(from).ip())
    }

    pub(crate) fn family(&mut self, f: usize) -> Option<&mut Family<C>> {
        let family = self.families.get_mut(f);
        debug_assert!(family.is_some(), "family index {f} is 0 or 1");
        family
    }
}
