//! Exchanges: what the caller asked for, and where each one stands.

use core::fmt;

use crate::time::Instant;
use crate::udp::request::{AnnounceRequest, AnnounceTail};
use crate::udp::types::{AnnounceEvent, ConnectionId, InfoHash, PeerId, TransactionId};

use super::MAX_SCRAPE_HASHES;

/// A handle to one announce or scrape of a [`Client`](super::Client).
///
/// Handles are never reused by a client (they count up from 1 in a `u64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub(crate) u64);

impl ExchangeId {
    /// The handle's number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The fields of an announce that the caller chooses; the client adds the connection
/// id, the transaction id and the configured tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnnounceParams {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our peer id.
    pub peer_id: PeerId,
    /// Bytes downloaded this session.
    pub downloaded: i64,
    /// Bytes left to download.
    pub left: i64,
    /// Bytes uploaded this session.
    pub uploaded: i64,
    /// The announce event.
    pub event: AnnounceEvent,
    /// The `ip` field; 0 (the norm) means "the sender's address".
    pub ip: u32,
    /// The `key` field; BEP 15 asks for the same key in IPv4 and IPv6 announces.
    pub key: u32,
    /// How many peers we want; −1 asks for the tracker's default.
    pub num_want: i32,
    /// Our listening port.
    pub port: u16,
}

impl AnnounceParams {
    /// A regular announce (event none, nothing transferred, `left` 0, `ip` 0, `key` 0,
    /// `num_want` −1) for `info_hash` from `peer_id` listening on `port`.
    pub const fn new(info_hash: InfoHash, peer_id: PeerId, port: u16) -> Self {
        AnnounceParams {
            info_hash,
            peer_id,
            downloaded: 0,
            left: 0,
            uploaded: 0,
            event: AnnounceEvent::None,
            ip: 0,
            key: 0,
            num_want: -1,
            port,
        }
    }
}

impl AnnounceParams {
    /// The announce these parameters make with the client's part: the connection id,
    /// the datagram's transaction id and the configured tail.
    pub(crate) const fn request<'t>(
        &self,
        connection_id: ConnectionId,
        transaction_id: TransactionId,
        tail: AnnounceTail<'t>,
    ) -> AnnounceRequest<'t> {
        AnnounceRequest {
            connection_id,
            transaction_id,
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            downloaded: self.downloaded,
            left: self.left,
            uploaded: self.uploaded,
            event: self.event,
            ip: self.ip,
            key: self.key,
            num_want: self.num_want,
            port: self.port,
            tail,
        }
    }
}

/// What an exchange asks the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeKind {
    /// An announce.
    Announce,
    /// A scrape.
    Scrape,
}

/// Where an exchange stands; see the state diagram in the [`Client`](super::Client) docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExchangePhase {
    /// No connection id is cached: waiting for a connect reply.
    AwaitingConnection,
    /// The request is ready for [`poll_transmit`](super::Client::poll_transmit).
    ReadyToSend,
    /// The request was sent; waiting for its reply.
    AwaitingReply,
    /// Timed out; its [`ClientEvent::TimedOut`](super::ClientEvent::TimedOut) waits for
    /// [`poll_event`](super::Client::poll_event), which frees the slot.
    Finished,
}

/// A snapshot of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ExchangeStatus {
    /// Announce or scrape.
    pub kind: ExchangeKind,
    /// Where it stands.
    pub phase: ExchangePhase,
    /// How many sends of its [`RetryPolicy`](super::RetryPolicy) have started (the first
    /// counts as 1).
    pub sends: u32,
    /// When the current send times out; `None` once finished.
    pub deadline: Option<Instant>,
}

/// The request an exchange repeats until it is answered.
// No allocator: a slot holds a full scrape inline, so every slot is scrape-sized.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Job {
    Announce(AnnounceParams),
    Scrape {
        len: usize,
        hashes: [InfoHash; MAX_SCRAPE_HASHES],
    },
}

impl Job {
    pub(crate) const fn kind(&self) -> ExchangeKind {
        match self {
            Job::Announce(_) => ExchangeKind::Announce,
            Job::Scrape { .. } => ExchangeKind::Scrape,
        }
    }

    /// The info hashes of a scrape (empty for an announce).
    pub(crate) fn hashes(&self) -> &[InfoHash] {
        match self {
            Job::Announce(_) => &[],
            Job::Scrape { len, hashes } => {
                let stored = hashes.get(..*len);
                debug_assert!(stored.is_some(), "scrape of {len} hashes stored in fewer");
                stored.unwrap_or(&[])
            }
        }
    }
}

/// The per-exchange state. Transitions happen in `Client` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Free,
    AwaitingConnect,
    /// The request goes out with `connection_id` at the next `poll_transmit`.
    Ready {
        connection_id: ConnectionId,
    },
    AwaitingReply {
        tid: TransactionId,
        connection_id: ConnectionId,
    },
    /// Timed out; its event waits for `poll_event`, and `seq` orders the events.
    TimedOut {
        seq: u64,
    },
}

/// One of the client's `N` fixed slots.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) id: ExchangeId,
    pub(crate) phase: Phase,
    /// Sends started so far, the first included.
    pub(crate) sends: u32,
    /// When the current send times out.
    pub(crate) deadline: Instant,
    pub(crate) job: Job,
}

impl Slot {
    pub(crate) const FREE: Slot = Slot {
        id: ExchangeId(0),
        phase: Phase::Free,
        sends: 0,
        deadline: Instant::ZERO,
        job: Job::Scrape {
            len: 0,
            hashes: [InfoHash([0; 20]); MAX_SCRAPE_HASHES],
        },
    };

    /// Whether the exchange is running (has a deadline).
    pub(crate) const fn is_active(&self) -> bool {
        matches!(
            self.phase,
            Phase::AwaitingConnect | Phase::Ready { .. } | Phase::AwaitingReply { .. }
        )
    }

    pub(crate) fn status(&self) -> Option<ExchangeStatus> {
        let phase = match self.phase {
            Phase::Free => return None,
            Phase::AwaitingConnect => ExchangePhase::AwaitingConnection,
            Phase::Ready { .. } => ExchangePhase::ReadyToSend,
            Phase::AwaitingReply { .. } => ExchangePhase::AwaitingReply,
            Phase::TimedOut { .. } => ExchangePhase::Finished,
        };
        Some(ExchangeStatus {
            kind: self.job.kind(),
            phase,
            sends: self.sends,
            deadline: self.is_active().then_some(self.deadline),
        })
    }

    /// The transaction id this exchange awaits, if any.
    pub(crate) const fn awaited_tid(&self) -> Option<TransactionId> {
        match self.phase {
            Phase::AwaitingReply { tid, .. } => Some(tid),
            _ => None,
        }
    }
}
