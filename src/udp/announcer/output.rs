//! What the announcer hands back: outcomes of datagrams, and events of time.

use core::net::SocketAddr;

use crate::error::DecodeError;
use crate::udp::client::ScrapeReply;
use crate::udp::response::{AnnounceResponse, ErrorResponse};

use super::status::{HostName, TrackerId};

/// What an accepted datagram did, returned by
/// [`Announcer::handle_datagram`](super::Announcer::handle_datagram): its only report.
/// Replies borrow the datagram, not the announcer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "an announce or scrape outcome is reported only here"]
// A scrape reply carries its info hashes inline; see `udp::ScrapeReply`.
#[allow(clippy::large_enum_variant)]
pub enum AnnouncerReceived<'a> {
    /// A connect reply: the tracker's requests go out next.
    Connected {
        /// The tracker.
        tracker: TrackerId,
    },
    /// An announce was answered; its peers were merged into
    /// [`Announcer::peers`](super::Announcer::peers).
    Announced {
        /// The tracker.
        tracker: TrackerId,
        /// The address the reply came from.
        from: SocketAddr,
        /// The reply, peers borrowed from the datagram.
        response: AnnounceResponse<'a>,
        /// How many of its peers were new to the merged set (and kept).
        new_peers: usize,
    },
    /// The tracker answered with an error reply: to the announce, to a scrape, or to
    /// the connect they waited for.
    Failed {
        /// The tracker.
        tracker: TrackerId,
        /// The address the reply came from.
        from: SocketAddr,
        /// The error, message exactly as received.
        error: ErrorResponse<'a>,
        /// Whether the announce failed (it is also recorded in the tracker's status).
        announce: bool,
        /// How many scrapes failed.
        scrapes: usize,
    },
    /// The tracker answered with a datagram that does not decode: to the announce, to a
    /// scrape, or to the connect they waited for.
    Malformed {
        /// The tracker.
        tracker: TrackerId,
        /// The address the reply came from.
        from: SocketAddr,
        /// What is wrong with it, and at which byte.
        error: DecodeError,
        /// Whether the announce failed.
        announce: bool,
        /// How many scrapes failed.
        scrapes: usize,
    },
    /// A scrape was answered.
    Scraped {
        /// The tracker.
        tracker: TrackerId,
        /// The rows, paired with the info hashes asked for.
        response: ScrapeReply<'a>,
    },
}

/// What the passing of time caused, from
/// [`Announcer::poll_event`](super::Announcer::poll_event), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
// The host name is inline (no allocator); events are polled one at a time, not stored.
#[allow(clippy::large_enum_variant)]
pub enum AnnouncerEvent {
    /// A tracker's turn needs its host's addresses: resolve `host` (A and AAAA) and
    /// answer with [`Announcer::resolved`](super::Announcer::resolved) (every address)
    /// or [`Announcer::resolve_failed`](super::Announcer::resolve_failed).
    Resolve {
        /// The tracker.
        tracker: TrackerId,
        /// Its host name, as written in its URL.
        host: HostName,
    },
    /// An address stayed silent for the whole retry policy; its family moved to the
    /// tracker's next address of that family, if it has one.
    ///
    /// One such event is held per tracker and family: if a second address of the same
    /// family times out before the first event was polled, only the later is reported.
    AddressTimedOut {
        /// The tracker.
        tracker: TrackerId,
        /// The silent address.
        address: SocketAddr,
    },
    /// Scrapes of a tracker went unanswered for the whole retry policy, or were dropped
    /// because their family moved to another address.
    ScrapeTimedOut {
        /// The tracker.
        tracker: TrackerId,
        /// How many scrape datagrams (chunks) were lost.
        chunks: usize,
    },
    /// Shutdown is over: every `stopped` announce was answered, or the stop deadline
    /// passed. Nothing more will be sent.
    ShutdownComplete {
        /// `stopped` announces answered (by an announce, error or malformed reply).
        answered: usize,
        /// `stopped` announces still unanswered when shutdown ended.
        unanswered: usize,
    },
}
