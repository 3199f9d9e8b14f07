//! The merged, de-duplicated peers of the announcer's rounds.

use core::net::SocketAddr;

use crate::udp::types::canonical_addr;

/// Up to `P` distinct peer addresses, in the order they first arrived.
///
/// When it is full, further new addresses are dropped and counted: the peers already
/// held are as good as the ones turned away, and the next round brings fresh ones. An
/// eviction policy would only churn connections the caller may already be opening.
#[derive(Debug, Clone)]
pub(crate) struct PeerSet<const P: usize> {
    addrs: [SocketAddr; P],
    len: usize,
    dropped: usize,
}

impl<const P: usize> PeerSet<P> {
    pub(crate) const EMPTY: SocketAddr = SocketAddr::V4(core::net::SocketAddrV4::new(
        core::net::Ipv4Addr::UNSPECIFIED,
        0,
    ));

    pub(crate) fn new() -> Self {
        PeerSet {
            addrs: [Self::EMPTY; P],
            len: 0,
            dropped: 0,
        }
    }

    pub(crate) fn as_slice(&self) -> &[SocketAddr] {
        self.addrs.get(..self.len).unwrap_or(&[])
    }

    /// Adds `peer` (IPv4-mapped IPv6 canonicalized to IPv4); returns whether it was new
    /// and kept.
    pub(crate) fn insert(&mut self, peer: SocketAddr) -> bool {
        let peer = canonical_addr(peer);
        if self.as_slice().contains(&peer) {
            return false;
        }
        match self.addrs.get_mut(self.len) {
            Some(slot) => {
                *slot = peer;
                self.len = self.len.saturating_add(1);
                true
            }
            None => {
                self.dropped = self.dropped.saturating_add(1);
                false
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.dropped = 0;
    }

    pub(crate) const fn dropped(&self) -> usize {
        self.dropped
    }
}
