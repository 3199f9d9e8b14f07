//! What the client hands back: datagrams to send, received replies, rejections, events.

use core::fmt;
use core::net::SocketAddr;

use crate::error::DecodeError;
use crate::udp::response::{AnnounceResponse, ErrorResponse, ScrapeResponse, ScrapeRow};
use crate::udp::types::{Action, ConnectionId, InfoHash, TransactionId};

use super::exchange::ExchangeId;

/// A datagram written by [`Client::poll_transmit`](super::Client::poll_transmit): send
/// the first `len` bytes of the buffer to `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "the datagram must be sent"]
pub struct Transmit {
    /// Where to send it: the tracker.
    pub destination: SocketAddr,
    /// How many bytes of the buffer it fills.
    pub len: usize,
}

/// What an accepted datagram did, returned by
/// [`Client::handle_datagram`](super::Client::handle_datagram).
///
/// Replies that complete an exchange borrow the datagram (`'a`), so peer lists and error
/// messages are not copied; a scrape reply also borrows the client (`'s`) for the info
/// hashes its rows belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum Received<'s, 'a> {
    /// A connect reply: the connection id is cached, and the `waiting` exchanges that
    /// needed it are ready to send their requests.
    Connected {
        /// The new connection id.
        connection_id: ConnectionId,
        /// How many exchanges became ready.
        waiting: usize,
    },
    /// An announce completed; the exchange is finished and its handle retired.
    Announced {
        /// The exchange.
        id: ExchangeId,
        /// The reply.
        response: AnnounceResponse<'a>,
    },
    /// A scrape completed; the exchange is finished and its handle retired.
    Scraped {
        /// The exchange.
        id: ExchangeId,
        /// The reply, with the info hashes its rows belong to.
        response: ScrapeReply<'s, 'a>,
    },
    /// The tracker answered an announce or scrape with an error: that exchange (and no
    /// other) failed. If the request used the cached connection id, the id was dropped,
    /// so the next send connects first.
    Failed {
        /// The exchange.
        id: ExchangeId,
        /// The error, with its message exactly as received.
        error: ErrorResponse<'a>,
    },
    /// The tracker answered the connect with an error: every exchange that waited for it
    /// failed, each reported by a [`ClientEvent::ConnectFailed`].
    ConnectFailed {
        /// The error, with its message exactly as received.
        error: ErrorResponse<'a>,
        /// How many exchanges failed.
        failed: usize,
    },
}

/// A scrape reply with its rows mapped back to the info hashes of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeReply<'s, 'a> {
    pub(crate) hashes: &'s [InfoHash],
    pub(crate) response: ScrapeResponse<'a>,
}

impl<'s, 'a> ScrapeReply<'s, 'a> {
    /// The info hashes that were asked for, in request order.
    pub const fn hashes(&self) -> &'s [InfoHash] {
        self.hashes
    }

    /// The reply as decoded.
    pub const fn response(&self) -> &ScrapeResponse<'a> {
        &self.response
    }

    /// Whether the tracker sent exactly one row per info hash, as BEP 15 requires.
    pub fn is_complete(&self) -> bool {
        self.response.rows.len() == self.hashes.len()
    }

    /// `(info hash, row)` pairs in request order. A reply with fewer rows than hashes
    /// ends early (see [`ScrapeReply::is_complete`]); extra rows are ignored.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (InfoHash, ScrapeRow)> + 's
    where
        'a: 's,
    {
        self.hashes.iter().copied().zip(self.response.rows.iter())
    }
}

/// A datagram that was ignored. Nothing in the client changed: the exchanges keep
/// waiting and retransmitting on their schedule, so a spoofer cannot end one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejected {
    /// It did not come from the tracker's address, and
    /// [`check_source`](super::ClientConfig::check_source) is on.
    UnexpectedSource(SocketAddr),
    /// It is not a valid response (too short, unknown action, a partial peer or row).
    /// Among these: opentracker's 8-byte announce reply for a hash it does not track.
    Malformed(DecodeError),
    /// Its transaction id is not awaited: forged, a duplicate, an answer to a request
    /// that was since retransmitted or cancelled, or torrust's tid 0.
    UnknownTransaction(TransactionId),
    /// Its transaction id is awaited, but by a request it does not answer (a scrape reply
    /// to an announce, an announce reply to a connect, …).
    UnexpectedAction {
        /// The transaction id.
        transaction_id: TransactionId,
        /// What the datagram is.
        action: Action,
    },
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::UnexpectedSource(a) => write!(f, "datagram from unexpected address {a}"),
            Rejected::Malformed(e) => write!(f, "malformed reply: {e}"),
            Rejected::UnknownTransaction(t) => write!(f, "unknown transaction id {t}"),
            Rejected::UnexpectedAction {
                transaction_id,
                action,
            } => write!(
                f,
                "action {} does not answer transaction {transaction_id}",
                action.to_u32()
            ),
        }
    }
}

impl core::error::Error for Rejected {}

/// An exchange that ended without a reply to hand back, from
/// [`Client::poll_event`](super::Client::poll_event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Every send of the retry policy went unanswered.
    TimedOut {
        /// The exchange.
        id: ExchangeId,
    },
    /// The connect the exchange waited for was answered with an error; the message was
    /// returned by [`Received::ConnectFailed`].
    ConnectFailed {
        /// The exchange.
        id: ExchangeId,
    },
}

impl ClientEvent {
    /// The exchange the event is about.
    pub const fn id(&self) -> ExchangeId {
        match self {
            ClientEvent::TimedOut { id } | ClientEvent::ConnectFailed { id } => *id,
        }
    }
}
