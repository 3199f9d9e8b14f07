//! What the client hands back: datagrams to send, received replies, rejections, events.

use core::fmt;
use core::net::SocketAddr;

use crate::error::DecodeError;
use crate::udp::response::{AnnounceResponse, ErrorResponse, ScrapeResponse, ScrapeRow};
use crate::udp::types::{Action, ConnectionId, InfoHash, TransactionId};

use super::exchange::ExchangeId;
use super::MAX_SCRAPE_HASHES;

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
/// Every outcome of a datagram is reported here and only here (time-driven outcomes come
/// from [`Client::poll_event`](super::Client::poll_event)). Replies borrow the datagram
/// (`'a`), so peer lists and error messages are not copied; nothing borrows the client,
/// so a caller can re-announce while it still holds the reply. `N` is the client's
/// capacity (8 by default, like [`Client`](super::Client)'s):
/// [`ConnectFailed`](Received::ConnectFailed) names up to `N` exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a completed or failed exchange is reported only here"]
// A scrape reply carries its info hashes inline (see `ScrapeReply`), so the enum is
// scrape-sized; it is built once in the caller's frame, not moved around.
#[allow(clippy::large_enum_variant)]
pub enum Received<'a, const N: usize = 8> {
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
        response: ScrapeReply<'a>,
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
    /// failed, and their handles are retired. This is the only report of it (no
    /// [`ClientEvent`] follows).
    ConnectFailed {
        /// The error, with its message exactly as received.
        error: ErrorResponse<'a>,
        /// The exchanges that failed, in slot order.
        failed: ExchangeIds<N>,
    },
}

/// A set of up to `N` exchange handles, held inline: the exchanges a refused connect
/// failed ([`Received::ConnectFailed`]).
///
/// The client frees their slots when it returns this, so the handles cannot be looked
/// up in it afterwards; this copy is how the caller learns which of its requests
/// failed, without an allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExchangeIds<const N: usize> {
    ids: [ExchangeId; N],
    len: usize,
}

impl<const N: usize> ExchangeIds<N> {
    pub(crate) const EMPTY: Self = ExchangeIds {
        ids: [ExchangeId(0); N],
        len: 0,
    };

    /// Adds `id`; the client never has more than `N` exchanges, so there is room.
    pub(crate) fn push(&mut self, id: ExchangeId) {
        let pushed = self.ids.get_mut(self.len).map(|slot| *slot = id).is_some();
        debug_assert!(pushed, "more than N exchanges waited for one connect");
        if pushed {
            self.len = self.len.saturating_add(1);
        }
    }

    /// The handles, in slot order.
    pub fn as_slice(&self) -> &[ExchangeId] {
        self.ids.get(..self.len).unwrap_or(&[])
    }

    /// An iterator over copies of the handles.
    pub fn iter(&self) -> core::iter::Copied<core::slice::Iter<'_, ExchangeId>> {
        self.as_slice().iter().copied()
    }

    /// How many handles there are.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none (a refused connect no exchange waited for any more).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `id` is among them.
    pub fn contains(&self, id: ExchangeId) -> bool {
        self.as_slice().contains(&id)
    }
}

impl<const N: usize> fmt::Debug for ExchangeIds<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<'s, const N: usize> IntoIterator for &'s ExchangeIds<N> {
    type Item = ExchangeId;
    type IntoIter = core::iter::Copied<core::slice::Iter<'s, ExchangeId>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A scrape reply with its rows mapped back to the info hashes of the request.
///
/// The reply keeps its own copy of the hashes (up to
/// [`MAX_SCRAPE_HASHES`](super::MAX_SCRAPE_HASHES), 1440 bytes) rather than borrowing
/// them from the client or asking the caller to pair the rows with the slice it passed
/// to [`Client::scrape`](super::Client::scrape): borrowing kept the whole client mutably
/// borrowed while the reply lived (no re-announce), and pairing by hand is easy to get
/// wrong silently (the rows carry no hash; pair them with the wrong chunk and every
/// count is misattributed). The price is size, not time: the copy is one move of at
/// most 1440 bytes from the slot the reply frees, once per scrape round trip, and makes
/// [`Received`] about 1.5 KiB.
#[derive(Clone, PartialEq, Eq)]
pub struct ScrapeReply<'a> {
    hashes: [InfoHash; MAX_SCRAPE_HASHES],
    len: usize,
    response: ScrapeResponse<'a>,
}

impl<'a> ScrapeReply<'a> {
    pub(crate) fn new(hashes: &[InfoHash], response: ScrapeResponse<'a>) -> Self {
        let mut stored = [InfoHash([0; 20]); MAX_SCRAPE_HASHES];
        let mut len = 0usize;
        for (dst, src) in stored.iter_mut().zip(hashes) {
            *dst = *src;
            len = len.saturating_add(1);
        }
        debug_assert_eq!(
            len,
            hashes.len(),
            "a scrape holds at most MAX_SCRAPE_HASHES"
        );
        ScrapeReply {
            hashes: stored,
            len,
            response,
        }
    }

    /// The info hashes that were asked for, in request order.
    pub fn hashes(&self) -> &[InfoHash] {
        self.hashes.get(..self.len).unwrap_or(&[])
    }

    /// The reply as decoded.
    pub const fn response(&self) -> &ScrapeResponse<'a> {
        &self.response
    }

    /// Whether the tracker sent exactly one row per info hash, as BEP 15 requires.
    pub fn is_complete(&self) -> bool {
        self.response.rows.len() == self.len
    }

    /// `(info hash, row)` pairs in request order. A reply with fewer rows than hashes
    /// ends early (see [`ScrapeReply::is_complete`]); extra rows are ignored.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (InfoHash, ScrapeRow)> + '_ {
        self.hashes().iter().copied().zip(self.response.rows.iter())
    }
}

impl fmt::Debug for ScrapeReply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The unused tail of the hash array is noise.
        f.debug_struct("ScrapeReply")
            .field("hashes", &self.hashes())
            .field("response", &self.response)
            .finish()
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
/// [`Client::poll_event`](super::Client::poll_event): what the passing of time caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Every send of the retry policy went unanswered.
    TimedOut {
        /// The exchange.
        id: ExchangeId,
    },
}

impl ClientEvent {
    /// The exchange the event is about.
    pub const fn id(&self) -> ExchangeId {
        match self {
            ClientEvent::TimedOut { id } => *id,
        }
    }
}
