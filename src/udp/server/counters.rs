//! Lock-free counters of what a [`Server`](crate::udp::Server) saw and decided, for a
//! driver to export (Prometheus, logs). The type users see is [`Counters`].

use core::net::SocketAddr;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::udp::server::{Dropped, Rejection, ServerAction};
use crate::udp::types::{canonical_addr, AddressFamily};

/// One counter's position in [`Counters`]; the per-family ones take two slots (IPv4,
/// then IPv6).
#[derive(Clone, Copy)]
enum Slot {
    Connect = 0,
    Announce = 2,
    Scrape = 4,
    ErrorPacket = 6,
    Invalid = 8,
    BytesIn = 10,
    ConnectReplies = 12,
    AnnounceReplies = 14,
    ScrapeReplies = 16,
    ErrorReplies = 18,
    OtherReplies = 20,
    BytesOut = 22,
    RejectedBadConnectionId = 24,
    RejectedMalformed,
    RejectedUnknownAction,
    RejectedNotAllowed,
    RejectedUnauthorized,
    RejectedUrlDataRequired,
    DroppedMalformed,
    DroppedErrorPacket,
    DroppedOversized,
    DroppedReplyBuffer,
    DroppedRateLimited,
    Len,
}

const LEN: usize = Slot::Len as usize;

/// Counters of a tracker's traffic, shared by every worker thread.
///
/// Every counter is an [`AtomicU64`] updated with `Relaxed` increments: no lock, no
/// allocation, and one `Counters` can sit behind a `&` (or an `Arc`) that all workers
/// use at once. Each counter is exact; a [`snapshot`](Counters::snapshot) taken while
/// workers run reads each counter at a slightly different instant, which is what metrics
/// exporters (Prometheus counters) expect. A driver that wants no cross-core traffic on
/// these cache lines can give each worker its own `Counters` and add the snapshots
/// ([`CounterSnapshot::add`]).
///
/// What is counted, and by whom:
///
/// * [`Server::handle_datagram`](crate::udp::Server::handle_datagram) counts every
///   datagram that arrives, by kind (the action field: connect, announce, scrape, error
///   packet; anything without a readable header or with an unknown action is *invalid*)
///   and address family, with its bytes; and every rejection and drop, one counter per
///   reason. A rate-limited datagram is counted both by its kind and as
///   [`dropped.rate_limited`](DropCounts::rate_limited).
/// * The driver counts what it sends, with [`Counters::record_sent`] (or
///   [`Server::record_sent`](crate::udp::Server::record_sent)) after each successful
///   send: connect and error replies written by the triage, and announce and scrape
///   replies written by the application. Only the driver knows whether a send happened.
///
/// Only on targets with 64-bit atomics (`target_has_atomic = "64"`).
#[derive(Debug)]
pub struct Counters {
    c: [AtomicU64; LEN],
}

impl Default for Counters {
    fn default() -> Self {
        Self::new()
    }
}

/// A pair of counts, one per address family (IPv4-mapped IPv6 counts as IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByFamily {
    /// Over IPv4.
    pub ipv4: u64,
    /// Over IPv6.
    pub ipv6: u64,
}

impl ByFamily {
    /// Both families together.
    pub const fn total(&self) -> u64 {
        self.ipv4.saturating_add(self.ipv6)
    }

    const fn add(self, other: ByFamily) -> ByFamily {
        ByFamily {
            ipv4: self.ipv4.wrapping_add(other.ipv4),
            ipv6: self.ipv6.wrapping_add(other.ipv6),
        }
    }
}

/// Error replies the triage wrote, one count per [`Rejection`] reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RejectionCounts {
    /// [`Rejection::BadConnectionId`].
    pub bad_connection_id: u64,
    /// [`Rejection::Malformed`].
    pub malformed: u64,
    /// [`Rejection::UnknownAction`].
    pub unknown_action: u64,
    /// [`Rejection::NotAllowed`].
    pub not_allowed: u64,
    /// [`Rejection::Unauthorized`].
    pub unauthorized: u64,
    /// [`Rejection::UrlDataRequired`].
    pub url_data_required: u64,
}

/// Datagrams the triage dropped, one count per [`Dropped`] reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DropCounts {
    /// [`Dropped::Malformed`].
    pub malformed: u64,
    /// [`Dropped::ErrorPacket`].
    pub error_packet: u64,
    /// [`Dropped::Oversized`], whatever the rejection it replaced.
    pub oversized: u64,
    /// [`Dropped::ReplyBuffer`].
    pub reply_buffer: u64,
    /// [`Dropped::RateLimited`].
    pub rate_limited: u64,
}

/// The counters at one moment, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CounterSnapshot {
    /// Connect requests received (action 0).
    pub connect: ByFamily,
    /// Announce requests received (action 1).
    pub announce: ByFamily,
    /// Scrape requests received (action 2).
    pub scrape: ByFamily,
    /// Error packets received (action 3).
    pub error_packets: ByFamily,
    /// Datagrams too short for a header (16 bytes), or with an unknown action.
    pub invalid: ByFamily,
    /// Bytes of every datagram received.
    pub bytes_in: ByFamily,
    /// Connect replies sent.
    pub connect_replies: ByFamily,
    /// Announce replies sent.
    pub announce_replies: ByFamily,
    /// Scrape replies sent.
    pub scrape_replies: ByFamily,
    /// Error replies sent.
    pub error_replies: ByFamily,
    /// Sent datagrams whose action is none of the four (the driver's own).
    pub other_replies: ByFamily,
    /// Bytes of every datagram sent.
    pub bytes_out: ByFamily,
    /// Error replies written by the triage, by reason.
    pub rejected: RejectionCounts,
    /// Datagrams dropped by the triage, by reason.
    pub dropped: DropCounts,
}

impl CounterSnapshot {
    /// Every datagram received.
    pub const fn requests(&self) -> ByFamily {
        self.connect
            .add(self.announce)
            .add(self.scrape)
            .add(self.error_packets)
            .add(self.invalid)
    }

    /// Every datagram sent.
    pub const fn replies(&self) -> ByFamily {
        self.connect_replies
            .add(self.announce_replies)
            .add(self.scrape_replies)
            .add(self.error_replies)
            .add(self.other_replies)
    }

    /// The sum of two snapshots, counter by counter (wrapping, as the counters do): for
    /// a driver that keeps one [`Counters`] per worker.
    #[must_use]
    pub const fn add(&self, o: &CounterSnapshot) -> CounterSnapshot {
        let (r, s) = (&self.rejected, &o.rejected);
        let (d, e) = (&self.dropped, &o.dropped);
        CounterSnapshot {
            connect: self.connect.add(o.connect),
            announce: self.announce.add(o.announce),
            scrape: self.scrape.add(o.scrape),
            error_packets: self.error_packets.add(o.error_packets),
            invalid: self.invalid.add(o.invalid),
            bytes_in: self.bytes_in.add(o.bytes_in),
            connect_replies: self.connect_replies.add(o.connect_replies),
            announce_replies: self.announce_replies.add(o.announce_replies),
            scrape_replies: self.scrape_replies.add(o.scrape_replies),
            error_replies: self.error_replies.add(o.error_replies),
            other_replies: self.other_replies.add(o.other_replies),
            bytes_out: self.bytes_out.add(o.bytes_out),
            rejected: RejectionCounts {
                bad_connection_id: r.bad_connection_id.wrapping_add(s.bad_connection_id),
                malformed: r.malformed.wrapping_add(s.malformed),
                unknown_action: r.unknown_action.wrapping_add(s.unknown_action),
                not_allowed: r.not_allowed.wrapping_add(s.not_allowed),
                unauthorized: r.unauthorized.wrapping_add(s.unauthorized),
                url_data_required: r.url_data_required.wrapping_add(s.url_data_required),
            },
            dropped: DropCounts {
                malformed: d.malformed.wrapping_add(e.malformed),
                error_packet: d.error_packet.wrapping_add(e.error_packet),
                oversized: d.oversized.wrapping_add(e.oversized),
                reply_buffer: d.reply_buffer.wrapping_add(e.reply_buffer),
                rate_limited: d.rate_limited.wrapping_add(e.rate_limited),
            },
        }
    }
}

/// The four actions of BEP 15, read from a datagram's action field (bytes 8..12 of a
/// request, 0..4 of a reply).
fn action_at(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(field);
    Some(u32::from_be_bytes(a))
}

fn width(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Counters {
    /// All counters at zero.
    pub const fn new() -> Self {
        Counters {
            c: [const { AtomicU64::new(0) }; LEN],
        }
    }

    #[inline]
    fn bump(&self, slot: Slot, by: u64) {
        if let Some(c) = self.c.get(slot as usize) {
            // Wrapping: a counter that ran for 2^64 events starts again, as Prometheus
            // counters are allowed to.
            c.fetch_add(by, Ordering::Relaxed);
        }
    }

    #[inline]
    fn bump_family(&self, slot: Slot, family: AddressFamily, by: u64) {
        let i = (slot as usize).saturating_add(match family {
            AddressFamily::Ipv4 => 0,
            AddressFamily::Ipv6 => 1,
        });
        if let Some(c) = self.c.get(i) {
            c.fetch_add(by, Ordering::Relaxed);
        }
    }

    fn get(&self, slot: Slot) -> u64 {
        self.c
            .get(slot as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn pair(&self, slot: Slot) -> ByFamily {
        let i = slot as usize;
        let at = |j: usize| self.c.get(j).map_or(0, |c| c.load(Ordering::Relaxed));
        ByFamily {
            ipv4: at(i),
            ipv6: at(i.saturating_add(1)),
        }
    }

    /// Counts one datagram sent to `to`: its kind is read from its action field, its
    /// length is `datagram.len()`. Call it after each successful send.
    pub fn record_sent(&self, to: SocketAddr, datagram: &[u8]) {
        let reply = datagram;
        let len = datagram.len();
        let family = AddressFamily::of(canonical_addr(to));
        let slot = match action_at(reply, 0) {
            Some(0) => Slot::ConnectReplies,
            Some(1) => Slot::AnnounceReplies,
            Some(2) => Slot::ScrapeReplies,
            Some(3) => Slot::ErrorReplies,
            _ => Slot::OtherReplies,
        };
        self.bump_family(slot, family, 1);
        self.bump_family(Slot::BytesOut, family, width(len));
    }

    /// Counts one triaged datagram: its kind, its bytes, and the decision.
    pub(crate) fn record_triage(&self, from: SocketAddr, bytes: &[u8], action: &ServerAction<'_>) {
        let family = AddressFamily::of(from);
        let kind = match (bytes.len() >= 16).then(|| action_at(bytes, 8)).flatten() {
            Some(0) => Slot::Connect,
            Some(1) => Slot::Announce,
            Some(2) => Slot::Scrape,
            Some(3) => Slot::ErrorPacket,
            _ => Slot::Invalid,
        };
        self.bump_family(kind, family, 1);
        self.bump_family(Slot::BytesIn, family, width(bytes.len()));
        let reason = match action {
            ServerAction::Rejected { reason, .. } => Some(match reason {
                Rejection::BadConnectionId => Slot::RejectedBadConnectionId,
                Rejection::Malformed(_) => Slot::RejectedMalformed,
                Rejection::UnknownAction(_) => Slot::RejectedUnknownAction,
                Rejection::NotAllowed => Slot::RejectedNotAllowed,
                Rejection::Unauthorized => Slot::RejectedUnauthorized,
                Rejection::UrlDataRequired => Slot::RejectedUrlDataRequired,
            }),
            ServerAction::Dropped(d) => Some(match d {
                Dropped::Malformed(_) => Slot::DroppedMalformed,
                Dropped::ErrorPacket => Slot::DroppedErrorPacket,
                Dropped::Oversized(_) => Slot::DroppedOversized,
                Dropped::ReplyBuffer(_) => Slot::DroppedReplyBuffer,
                Dropped::RateLimited => Slot::DroppedRateLimited,
            }),
            _ => None,
        };
        if let Some(slot) = reason {
            self.bump(slot, 1);
        }
    }

    /// Every counter's value now.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            connect: self.pair(Slot::Connect),
            announce: self.pair(Slot::Announce),
            scrape: self.pair(Slot::Scrape),
            error_packets: self.pair(Slot::ErrorPacket),
            invalid: self.pair(Slot::Invalid),
            bytes_in: self.pair(Slot::BytesIn),
            connect_replies: self.pair(Slot::ConnectReplies),
            announce_replies: self.pair(Slot::AnnounceReplies),
            scrape_replies: self.pair(Slot::ScrapeReplies),
            error_replies: self.pair(Slot::ErrorReplies),
            other_replies: self.pair(Slot::OtherReplies),
            bytes_out: self.pair(Slot::BytesOut),
            rejected: RejectionCounts {
                bad_connection_id: self.get(Slot::RejectedBadConnectionId),
                malformed: self.get(Slot::RejectedMalformed),
                unknown_action: self.get(Slot::RejectedUnknownAction),
                not_allowed: self.get(Slot::RejectedNotAllowed),
                unauthorized: self.get(Slot::RejectedUnauthorized),
                url_data_required: self.get(Slot::RejectedUrlDataRequired),
            },
            dropped: DropCounts {
                malformed: self.get(Slot::DroppedMalformed),
                error_packet: self.get(Slot::DroppedErrorPacket),
                oversized: self.get(Slot::DroppedOversized),
                reply_buffer: self.get(Slot::DroppedReplyBuffer),
                rate_limited: self.get(Slot::DroppedRateLimited),
            },
        }
    }
}
