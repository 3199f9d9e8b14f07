//! The UDP tracker client: a sans-IO state machine for one tracker endpoint. Its
//! documentation (run loop, states, timers, retry schedules) is on [`Client`], the type
//! users see.

mod config;
mod exchange;
mod output;
mod retry;
mod tid;

use core::net::SocketAddr;
use core::time::Duration;

use crate::error::{EncodeError, UsageError};
use crate::time::Instant;
use crate::udp::limits::{max_scrape_hashes, payload_budget, MTU_ETHERNET};
use crate::udp::request::{ConnectRequest, InfoHashes, ScrapeRequest, ANNOUNCE_REQUEST_LEN};
use crate::udp::response::{ErrorResponse, Response};
use crate::udp::types::{
    canonical_addr, Action, AddressFamily, ConnectionId, InfoHash, TransactionId,
};

pub use config::{ClientConfig, TailConfig, MAX_URL_DATA_LEN};
pub use exchange::{AnnounceParams, ExchangeId, ExchangeKind, ExchangePhase, ExchangeStatus};
pub use output::{ClientEvent, ExchangeIds, Received, Rejected, ScrapeReply, Transmit};
pub use retry::RetryPolicy;

use config::Tail;
use exchange::{Job, Phase, Slot};
use tid::TidGenerator;

/// The largest datagram a client ever writes; public as [`Client::MAX_TRANSMIT_LEN`].
pub(crate) const MAX_DATAGRAM_LEN: usize = payload_budget(MTU_ETHERNET, AddressFamily::Ipv4);

/// The most info hashes one scrape can carry: what fits [`Client::MAX_TRANSMIT_LEN`]
/// (72).
pub const MAX_SCRAPE_HASHES: usize = max_scrape_hashes(MAX_DATAGRAM_LEN);

/// Where the shared connect stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// No id cached and no connect under way.
    Unconnected,
    /// A connect is queued for `poll_transmit` or awaits its reply.
    Connecting,
    /// An id is cached (until its expiry is handled by `handle_timeout`).
    Connected(ConnectionId),
}

#[derive(Debug, Clone, Copy, Default)]
struct Connection {
    /// The cached id and when it expires.
    cached: Option<(ConnectionId, Instant)>,
    /// A connect must be sent at the next `poll_transmit`.
    connect_queued: bool,
    /// The tid of the last connect sent, and when it was sent.
    awaited: Option<(TransactionId, Instant)>,
}

/// A UDP tracker client for one tracker endpoint, with up to `N` exchanges in flight
/// (`N` defaults to 8).
///
/// A client talks to one tracker address and runs up to `N` exchanges (announces and
/// scrapes, for any number of torrents) at once. They share one connection id: one
/// connect serves every exchange waiting for it, and the id is cached for
/// [`ClientConfig::connection_id_lifetime`] (60 s). The client never touches a socket or
/// a clock: the caller passes datagrams and time in, and takes datagrams, deadlines and
/// events out. All storage is inside the value (`[_; N]`), nothing is allocated; its
/// size is about `1.2 KiB + N × 1.5 KiB` (each slot can hold a full scrape's info
/// hashes; the announce tail is kept inside).
///
/// # The run loop
///
/// 1. Build the client once: [`Client::new`]`(config, seed)` for the default capacity,
///    or [`Client::<N>::new_sized`](Client::new_sized)`(config, seed)` for another,
///    with `seed` from a real entropy source (transaction ids are BEP 15's only defence
///    against spoofing). Allocate one buffer of [`Client::MAX_TRANSMIT_LEN`] bytes.
/// 2. Issue commands whenever needed: [`Client::announce`], [`Client::scrape`],
///    [`Client::cancel`]. Each returns at once; an [`ExchangeId`] names the exchange.
/// 3. After every command or input, drain the outputs in this order:
///    1. [`Client::poll_transmit`] until it returns `Ok(None)`, sending each datagram to
///       [`Transmit::destination`] (one datagram per call);
///    2. [`Client::poll_timeout`]: the next deadline, if any;
///    3. [`Client::poll_event`] until `None`: exchanges that timed out.
/// 4. Wait for a datagram or the deadline, whichever comes first.
/// 5. On a datagram, call [`Client::handle_datagram`]`(now, from, bytes)`. `Ok` carries
///    what it did ([`Received`]): a completed announce or scrape borrowed from `bytes`,
///    an error reply, or a refused connect with the exchanges it failed. That is the
///    only report of these outcomes; the reply does not borrow the client, so new
///    commands can be issued while it is held. `Err(`[`Rejected`]`)` means the datagram
///    was ignored and nothing changed (log it).
/// 6. On the deadline, call [`Client::handle_timeout`]`(now)`. Calling it early, or
///    twice, does nothing.
/// 7. Go to 3.
///
/// Replies come back from the call that delivered them, rather than through
/// `poll_event`, because they borrow the datagram: peer lists and error messages are
/// read in place, never copied. `poll_event` carries only what time causes.
///
/// Time should not go backwards; if it does, nothing panics: waits saturate at zero and
/// a deadline is simply not yet reached.
///
/// ```
/// use trackwire::udp::{AnnounceParams, Client, ClientConfig, InfoHash, PeerId, Request};
/// use trackwire::Instant;
///
/// let tracker = "192.0.2.1:6969".parse().unwrap();
/// let seed = 0x0123_4567_89ab_cdef; // from the OS RNG in real use
/// let mut client = Client::new(ClientConfig::new(tracker), seed)?;
/// let params = AnnounceParams::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
/// let id = client.announce(Instant::ZERO, params)?;
///
/// let mut buf = [0u8; <Client>::MAX_TRANSMIT_LEN];
/// let t = client.poll_transmit(Instant::ZERO, &mut buf)?.unwrap();
/// // sock.send_to(&buf[..t.len], t.destination)
/// assert!(matches!(Request::decode(&buf[..t.len])?, Request::Connect(_)));
/// assert_eq!(client.poll_timeout(), Some(Instant::from_secs(15)));
/// # let _ = id;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # States
///
/// Each exchange moves through these phases ([`ExchangePhase`]); every transition is in
/// the client's code.
///
/// ```text
///              announce() / scrape()          deadline reached, sends left
///                        │                    (any running phase)
///                        ▼                               │
///                ╔═══════════════╗◀──────────────────────┘
///                ║  a send starts ║
///                ╚═══════════════╝
///        id cached and alive │   │ no id: join a connect sent less than
///                            │   │ initial_timeout ago, or queue a new one
///                            │   ▼
///                            │ ┌─────────────────┐  error reply to the connect:
///                            │ │ AwaitingConnect │──▶ returned by handle_datagram as
///                            │ └─────────────────┘    ConnectFailed (naming it) ──▶ Free
///                            │          │ connect reply (serves every waiting exchange)
///                            ▼          ▼
///                          ┌─────────────────┐
///                          │      Ready      │  (an error reply that drops the id sends
///                          └─────────────────┘   exchanges still Ready with it back up)
///                                   │ poll_transmit: the request, with a fresh tid
///                                   ▼
///                          ┌─────────────────┐  announce / scrape / error reply:
///                          │  AwaitingReply  │──▶ returned by handle_datagram ──▶ Free
///                          └─────────────────┘    (an error drops the id it used)
///
///   deadline reached, no sends left (any running phase) ──▶ TimedOut
///   TimedOut ── poll_event ──▶ Free            any phase ── cancel ──▶ Free
/// ```
///
/// The connection itself has a cached id (or none), a connect queued for
/// `poll_transmit` (or not) and the transaction id of the last connect sent (or none).
///
/// # Timers
///
/// | timer | armed | on expiry |
/// |---|---|---|
/// | each running exchange's deadline | when a send starts: previous deadline + [`RetryPolicy::timeout`] | next send starts, or `TimedOut` |
/// | connection-id expiry | connect reply: `now` + lifetime | the cached id is dropped |
///
/// [`Client::poll_timeout`] is the earliest of them.
///
/// # Retry schedules
///
/// [`RetryPolicy`] is data. The two built-in schedules, for a tracker that never answers:
///
/// | policy | sends at (s) | `TimedOut` at (s) |
/// |---|---|---|
/// | [`RetryPolicy::SEED`] (default): "resend after 15 s, stop after 60 s" | 0, 15, 30, 45 | 60 |
/// | [`RetryPolicy::BEP15`]: 15·2ⁿ s, n = 0…8 | 0, 15, 45, 105, 225, 465, 945, 1905, 3825 | 7665 |
///
/// A send is a connect when no id is cached, else the request; a connect reply makes the
/// request go out at once, within the same send (the deadline does not move). So after
/// the id expires in the middle of a retry, the retransmission is a connect and then the
/// request. A new exchange that needs a connect joins one sent less than
/// [`RetryPolicy::initial_timeout`] ago instead of sending another.
///
/// # Transaction ids
///
/// Every datagram, retransmissions included, gets a fresh transaction id from a
/// SplitMix64 generator seeded by the caller; it is never 0 and never one still awaited.
/// Only the latest datagram of an exchange (or the latest connect) is awaited: a reply to
/// a superseded datagram is [`Rejected::UnknownTransaction`].
///
/// # What this fixes compared with real clients
///
/// (Sources: the UDP tracker code of libtorrent (`src/udp_tracker_connection.cpp`),
/// Transmission (`libtransmission/announcer-udp.cc`), rqbit, webtorrent and
/// bip_utracker, and runs of libtorrent 2.0.8, aria2 1.36 and Transmission 3.00 against
/// a scripted tracker.)
///
/// * **Retransmission.** libtorrent, Transmission, rqbit and webtorrent never
///   retransmit (one datagram, then a 10–45 s timeout); aria2 retransmits a connect with
///   the same tid. Here both documented schedules are available and exact, with a new
///   tid for every datagram.
/// * **Expiry mid-retry.** The cached id is checked at every send, so a retransmission
///   after the 60 s lifetime reconnects first (as bip_utracker does).
/// * **Rejected ids are dropped.** libtorrent (and Transmission) keep re-using an id the
///   tracker rejected with "Connection ID missmatch." until their own 60 s expiry. Here
///   an error answering a request that used the cached id drops it.
/// * **Error messages are kept.** libtorrent builds the message from the whole datagram,
///   so it is always empty; here [`Received::Failed`] returns the [`ErrorResponse`]
///   borrowed from the datagram, message intact (NUL included; see
///   [`ErrorResponse::text`]).
/// * **An error fails only its exchange.** An error to one announce leaves the others
///   running (Transmission's `fail_all` applies only to a connect error, which here too
///   fails exactly the exchanges that waited for that connect, named in
///   [`Received::ConnectFailed`]).
/// * **Spoofed or stray replies change nothing.** webtorrent fails a request on a tid
///   mismatch; here a foreign tid, a wrong source address or a malformed reply is
///   reported as [`Rejected`] and the exchange keeps waiting. The source check is
///   configurable ([`ClientConfig::check_source`]), for the NAT and multi-address cases
///   of libtorrent PR #7913.
/// * **Malformed replies are never half-used.** aria2 reads peers past the end of a
///   ragged announce reply; libtorrent fails the announce. Here the datagram is rejected
///   as [`Rejected::Malformed`] and the exchange retransmits on schedule.
/// * **Scrapes are batched.** libtorrent sends one hash per scrape; here a scrape carries
///   as many as fit the payload budget (72 over IPv4, 71 over IPv6 at MTU 1500) and the
///   rows come back paired with their hashes ([`ScrapeReply::iter`]).
/// * **URLData is split, not truncated.** libtorrent truncates the path and query at
///   255 bytes; here they are split into 255-byte URLData options (up to
///   [`MAX_URL_DATA_LEN`]). The legacy authentication, which no real client implements,
///   is available too.
///
/// # Scrapes larger than one datagram
///
/// A scrape of more hashes than [`Client::max_scrape_hashes`] is refused with
/// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) rather than split behind
/// the caller's back: one exchange is one datagram, one transaction id, one reply. Split
/// with `hashes.chunks(client.max_scrape_hashes())`; the exchanges share the connect.
#[derive(Debug, Clone)]
pub struct Client<const N: usize = 8> {
    tracker: SocketAddr,
    retry: RetryPolicy,
    lifetime: Duration,
    check_source: bool,
    max_scrape: usize,
    tail: Tail,
    tids: TidGenerator,
    conn: Connection,
    slots: [Slot; N],
    next_id: u64,
    next_seq: u64,
}

impl Client {
    /// A client of the default capacity (8 exchanges) for `config.tracker`, drawing
    /// transaction ids from a generator seeded with `seed`; [`Client::new_sized`] is the
    /// same for any capacity.
    ///
    /// `seed` MUST come from a real entropy source (the OS RNG): transaction ids are the
    /// only thing that stops an off-path attacker from forging replies, and the
    /// generator is only as unpredictable as its seed.
    ///
    /// # Errors
    ///
    /// As [`Client::new_sized`].
    pub fn new(config: ClientConfig<'_>, seed: u64) -> Result<Self, UsageError> {
        Self::new_sized(config, seed)
    }
}

impl<const N: usize> Client<N> {
    /// A buffer of this many bytes always suffices for one [`Client::poll_transmit`]:
    /// the UDP payload of a 1500-byte IPv4 packet (1472 bytes), which caps
    /// [`ClientConfig::payload_budget`]. It does not depend on `N`: name it as
    /// `<Client>::MAX_TRANSMIT_LEN` (the angle brackets pick the default capacity),
    /// which also works as an array length inside code generic over `N`, where
    /// `Client::<N>::MAX_TRANSMIT_LEN` does not.
    pub const MAX_TRANSMIT_LEN: usize = MAX_DATAGRAM_LEN;

    /// A client with room for `N` exchanges, e.g. `Client::<64>::new_sized(config,
    /// seed)`; see [`Client::new`] for `seed`.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) with argument
    /// `config.tail.url` if the URLData is longer than [`MAX_URL_DATA_LEN`],
    /// `config.tail.username` or `config.tail.request_string` if a legacy field is
    /// longer than 255 bytes, or `config.tail` if an announce with the tail does not fit
    /// the payload budget.
    pub fn new_sized(config: ClientConfig<'_>, seed: u64) -> Result<Self, UsageError> {
        let budget = config.payload_budget.min(MAX_DATAGRAM_LEN);
        let tail = Tail::new(&config.tail)?;
        let announce_len = ANNOUNCE_REQUEST_LEN.saturating_add(tail.announce_tail().encoded_len());
        if announce_len > budget {
            return Err(UsageError::too_long("config.tail"));
        }
        let mut retry = config.retry;
        if retry.initial_timeout.is_zero() {
            retry.initial_timeout = Duration::from_millis(1);
        }
        Ok(Client {
            tracker: config.tracker,
            retry,
            lifetime: config.connection_id_lifetime,
            check_source: config.check_source,
            max_scrape: max_scrape_hashes(budget).min(MAX_SCRAPE_HASHES),
            tail,
            tids: TidGenerator::new(seed),
            conn: Connection::default(),
            slots: core::array::from_fn(|_| Slot::FREE),
            next_id: 1,
            next_seq: 0,
        })
    }

    // ---- getters ---------------------------------------------------------------------

    /// The tracker's address.
    pub const fn tracker(&self) -> SocketAddr {
        self.tracker
    }

    /// The retry policy in use (a zero initial timeout is raised to 1 ms).
    pub const fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The cached connection id, if any. It is dropped by [`Client::handle_timeout`] at
    /// its expiry, and by an error reply to a request that used it.
    pub fn connection_id(&self) -> Option<ConnectionId> {
        self.conn.cached.map(|(id, _)| id)
    }

    /// Where the shared connection stands.
    pub fn state(&self) -> ConnectionState {
        match self.conn.cached {
            Some((id, _)) => ConnectionState::Connected(id),
            None if self.conn.connect_queued || self.conn.awaited.is_some() => {
                ConnectionState::Connecting
            }
            None => ConnectionState::Unconnected,
        }
    }

    /// Where an exchange stands; `None` once it completed, was cancelled, or its event
    /// was polled.
    pub fn exchange(&self, id: ExchangeId) -> Option<ExchangeStatus> {
        self.slot(id).and_then(|s| s.status())
    }

    /// How many exchanges are running (not finished).
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.is_active()).count()
    }

    /// How many info hashes one [`Client::scrape`] may carry: what fits the payload
    /// budget (72 over IPv4 and 71 over IPv6 at the default budget).
    pub const fn max_scrape_hashes(&self) -> usize {
        self.max_scrape
    }

    // ---- commands --------------------------------------------------------------------

    /// Starts an announce; its first datagram is ready for [`Client::poll_transmit`].
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) if all `N` slots are taken (a finished exchange keeps its
    /// slot until its event is polled).
    pub fn announce(
        &mut self,
        now: Instant,
        params: AnnounceParams,
    ) -> Result<ExchangeId, UsageError> {
        self.start(now, Job::Announce(params))
    }

    /// Starts a scrape of `hashes` (in one datagram); the reply's rows come back paired
    /// with them ([`ScrapeReply::iter`]).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if `hashes` is empty; [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if it
    /// holds more than [`Client::max_scrape_hashes`] (split it with `chunks`);
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) if all `N` slots are taken.
    pub fn scrape(&mut self, now: Instant, hashes: &[InfoHash]) -> Result<ExchangeId, UsageError> {
        if hashes.is_empty() {
            return Err(UsageError::invalid_value("hashes"));
        }
        if hashes.len() > self.max_scrape {
            return Err(UsageError::too_long("hashes"));
        }
        let mut stored = [InfoHash([0; 20]); MAX_SCRAPE_HASHES];
        stored
            .iter_mut()
            .zip(hashes)
            .for_each(|(dst, src)| *dst = *src);
        self.start(
            now,
            Job::Scrape {
                len: hashes.len(),
                hashes: stored,
            },
        )
    }

    /// Ends an exchange at once, without an event. A reply that arrives later is
    /// [`Rejected::UnknownTransaction`]. A finished exchange whose event was not polled
    /// yet is discarded with its event.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::UnknownHandle`](crate::UsageErrorKind::UnknownHandle) if `id` names no exchange of this client (completed,
    /// cancelled, polled, or never issued).
    pub fn cancel(&mut self, id: ExchangeId) -> Result<(), UsageError> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.phase != Phase::Free && s.id == id)
            .ok_or(UsageError::unknown_handle("id"))?;
        slot.phase = Phase::Free;
        self.forget_unneeded_connect();
        Ok(())
    }

    // ---- inputs ----------------------------------------------------------------------

    /// Handles a datagram received from `from`, and returns what it did: the only
    /// report of a completed, failed or refused exchange. The result borrows `datagram`,
    /// not the client.
    ///
    /// # Errors
    ///
    /// [`Rejected`] if the datagram was ignored: from an unexpected address, malformed,
    /// with a transaction id that is not awaited, or of the wrong kind for the request it
    /// names. Nothing in the client changed.
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &'a [u8],
    ) -> Result<Received<'a, N>, Rejected> {
        if self.check_source && !same_endpoint(from, self.tracker) {
            return Err(Rejected::UnexpectedSource(from));
        }
        let response =
            Response::decode(datagram, AddressFamily::of(from)).map_err(Rejected::Malformed)?;
        let tid = response.transaction_id();
        let unexpected = |action| Rejected::UnexpectedAction {
            transaction_id: tid,
            action,
        };

        if matches!(self.conn.awaited, Some((t, _)) if t == tid) {
            return match response {
                Response::Connect(c) => Ok(self.on_connected(now, c.connection_id)),
                Response::Error(error) => Ok(self.on_connect_refused(error)),
                Response::Announce(_) => Err(unexpected(Action::Announce)),
                Response::Scrape(_) => Err(unexpected(Action::Scrape)),
            };
        }

        let index = self
            .slots
            .iter()
            .position(|s| s.awaited_tid() == Some(tid))
            .ok_or(Rejected::UnknownTransaction(tid))?;
        let slot = self
            .slot_at(index)
            .ok_or(Rejected::UnknownTransaction(tid))?;
        let Phase::AwaitingReply { connection_id, .. } = slot.phase else {
            debug_assert!(false, "a slot awaiting a tid is not AwaitingReply");
            return Err(Rejected::UnknownTransaction(tid));
        };
        let id = slot.id;
        match (slot.job.kind(), response) {
            (ExchangeKind::Announce, Response::Announce(response)) => {
                slot.phase = Phase::Free;
                Ok(Received::Announced { id, response })
            }
            (ExchangeKind::Scrape, Response::Scrape(response)) => {
                slot.phase = Phase::Free;
                Ok(Received::Scraped {
                    id,
                    response: ScrapeReply::new(slot.job.hashes(), response),
                })
            }
            (_, Response::Error(error)) => {
                slot.phase = Phase::Free;
                self.drop_connection_id(now, connection_id);
                Ok(Received::Failed { id, error })
            }
            (_, Response::Connect(_)) => Err(unexpected(Action::Connect)),
            (_, Response::Announce(_)) => Err(unexpected(Action::Announce)),
            (_, Response::Scrape(_)) => Err(unexpected(Action::Scrape)),
        }
    }

    /// Handles the passing of time: expires the cached connection id, starts
    /// retransmissions and times exchanges out. Before the earliest deadline it does
    /// nothing, so it can be called spuriously.
    ///
    /// If the caller is late by more than one wait, the missed sends are skipped (the
    /// schedule stays anchored: an exchange never outlives its policy).
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.conn.cached, Some((_, expiry)) if expiry <= now) {
            self.conn.cached = None;
        }
        let max_sends = self.retry.sends();
        for index in 0..N {
            // Not `slot_at`: the loop below also reads other fields of `self`.
            let slot = self.slots.get_mut(index);
            debug_assert!(slot.is_some(), "index {index} counts over 0..{N}");
            let Some(slot) = slot else {
                continue;
            };
            if !slot.is_active() || slot.deadline > now {
                continue;
            }
            loop {
                if slot.sends >= max_sends {
                    slot.phase = Phase::TimedOut { seq: self.next_seq };
                    self.next_seq = self.next_seq.wrapping_add(1);
                    break;
                }
                let next = slot.deadline.saturating_add(self.retry.timeout(slot.sends));
                let stuck = next == slot.deadline;
                slot.deadline = next;
                slot.sends = slot.sends.saturating_add(1);
                if next > now || stuck {
                    self.start_send(index, now);
                    break;
                }
            }
        }
        self.forget_unneeded_connect();
    }

    // ---- outputs ---------------------------------------------------------------------

    /// Writes the next datagram to send into `buf`, if there is one: the shared connect
    /// first, then ready requests in slot order. Each gets a fresh transaction id.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is too small for the next datagram. Then nothing
    /// changed: `buf` is untouched, the datagram stays queued and no transaction id was
    /// drawn; call again with at least [`EncodeError::required`] bytes. A buffer of
    /// [`Client::MAX_TRANSMIT_LEN`] bytes always suffices.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, EncodeError> {
        let destination = self.tracker;
        if self.conn.connect_queued {
            let mut tids = self.tids.clone();
            let tid = tids.next(|t| self.is_awaited(t));
            let len = ConnectRequest {
                transaction_id: tid,
            }
            .encode(buf)?;
            self.tids = tids;
            self.conn.connect_queued = false;
            self.conn.awaited = Some((tid, now));
            return Ok(Some(Transmit { destination, len }));
        }
        let Some(index) = self
            .slots
            .iter()
            .position(|s| matches!(s.phase, Phase::Ready { .. }))
        else {
            return Ok(None);
        };
        let mut tids = self.tids.clone();
        let tid = tids.next(|t| self.is_awaited(t));
        let slot = self.slots.get(index);
        debug_assert!(
            slot.is_some(),
            "position() returned an index out of the slots"
        );
        let Some(slot) = slot else {
            return Ok(None);
        };
        let Phase::Ready { connection_id } = slot.phase else {
            debug_assert!(false, "the slot found Ready is not Ready");
            return Ok(None);
        };
        let len = match &slot.job {
            Job::Announce(p) => p
                .request(connection_id, tid, self.tail.announce_tail())
                .encode(buf)?,
            job @ Job::Scrape { .. } => ScrapeRequest {
                connection_id,
                transaction_id: tid,
                info_hashes: InfoHashes::from_slice(job.hashes()),
            }
            .encode(buf)?,
        };
        self.tids = tids;
        if let Some(slot) = self.slot_at(index) {
            slot.phase = Phase::AwaitingReply { tid, connection_id };
        }
        Ok(Some(Transmit { destination, len }))
    }

    /// The earliest deadline: of a running exchange, or of the cached connection id.
    /// Call [`Client::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let exchanges = self
            .slots
            .iter()
            .filter(|s| s.is_active())
            .map(|s| s.deadline);
        let expiry = self.conn.cached.map(|(_, e)| e);
        exchanges.chain(expiry).min()
    }

    /// The oldest event of an exchange that time ended (it timed out). Polling it frees
    /// the exchange's slot. Outcomes of datagrams are never reported here: they are the
    /// return value of [`Client::handle_datagram`].
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let slot = self
            .slots
            .iter_mut()
            .filter(|s| matches!(s.phase, Phase::TimedOut { .. }))
            .min_by_key(|s| match s.phase {
                Phase::TimedOut { seq } => seq,
                _ => u64::MAX,
            })?;
        slot.phase = Phase::Free;
        Some(ClientEvent::TimedOut { id: slot.id })
    }

    // ---- transitions -----------------------------------------------------------------

    fn slot(&self, id: ExchangeId) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.phase != Phase::Free && s.id == id)
    }

    /// Slot `index`, which the caller found in (or counted over) `self.slots`. The
    /// lookup cannot fail; if a broken invariant made it, release builds skip the slot
    /// rather than panic, and debug builds stop here.
    fn slot_at(&mut self, index: usize) -> Option<&mut Slot> {
        let slot = self.slots.get_mut(index);
        debug_assert!(slot.is_some(), "slot index {index} out of 0..{N}");
        slot
    }

    fn is_awaited(&self, tid: TransactionId) -> bool {
        matches!(self.conn.awaited, Some((t, _)) if t == tid)
            || self.slots.iter().any(|s| s.awaited_tid() == Some(tid))
    }

    /// Takes a free slot for `job` and starts its first send.
    fn start(&mut self, now: Instant, job: Job) -> Result<ExchangeId, UsageError> {
        let index = self
            .slots
            .iter()
            .position(|s| s.phase == Phase::Free)
            .ok_or(UsageError::full("exchanges"))?;
        let id = ExchangeId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        let deadline = now.saturating_add(self.retry.timeout(0));
        if let Some(slot) = self.slot_at(index) {
            *slot = Slot {
                id,
                phase: Phase::AwaitingConnect,
                sends: 1,
                deadline,
                job,
            };
        }
        self.start_send(index, now);
        Ok(id)
    }

    /// A send of slot `index` starts at `now`: the request if an id is cached and
    /// alive, otherwise a connect (joined or queued).
    fn start_send(&mut self, index: usize, now: Instant) {
        if matches!(self.conn.cached, Some((_, expiry)) if expiry <= now) {
            self.conn.cached = None;
        }
        let phase = match self.conn.cached {
            Some((connection_id, _)) => Phase::Ready { connection_id },
            None => {
                self.need_connect(now);
                Phase::AwaitingConnect
            }
        };
        if let Some(slot) = self.slot_at(index) {
            slot.phase = phase;
        }
    }

    /// Queues a connect, unless one is queued or was sent less than the initial timeout
    /// ago (its reply will serve this exchange too).
    fn need_connect(&mut self, now: Instant) {
        let recent = matches!(self.conn.awaited,
            Some((_, sent)) if now.saturating_duration_since(sent) < self.retry.initial_timeout);
        if !recent {
            self.conn.connect_queued = true;
        }
    }

    fn on_connected<'a>(&mut self, now: Instant, connection_id: ConnectionId) -> Received<'a, N> {
        self.conn.cached = Some((connection_id, now.saturating_add(self.lifetime)));
        self.conn.awaited = None;
        self.conn.connect_queued = false;
        let mut waiting = 0usize;
        for slot in &mut self.slots {
            if slot.phase == Phase::AwaitingConnect {
                slot.phase = Phase::Ready { connection_id };
                waiting = waiting.saturating_add(1);
            }
        }
        Received::Connected {
            connection_id,
            waiting,
        }
    }

    /// The connect was answered with an error: every exchange waiting for it fails, and
    /// is named in the return value (its only report; the slots are freed at once).
    fn on_connect_refused<'a>(&mut self, error: ErrorResponse<'a>) -> Received<'a, N> {
        self.conn.awaited = None;
        self.conn.connect_queued = false;
        let mut failed = ExchangeIds::EMPTY;
        for slot in &mut self.slots {
            if slot.phase == Phase::AwaitingConnect {
                slot.phase = Phase::Free;
                failed.push(slot.id);
            }
        }
        Received::ConnectFailed { error, failed }
    }

    /// An error answered a request sent with `used`: if that is the cached id, drop it,
    /// and requests still queued with it connect first.
    fn drop_connection_id(&mut self, now: Instant, used: ConnectionId) {
        if !matches!(self.conn.cached, Some((id, _)) if id == used) {
            return;
        }
        self.conn.cached = None;
        for index in 0..N {
            let queued_with_it = self.slots.get(index).is_some_and(|s| {
                s.phase
                    == Phase::Ready {
                        connection_id: used,
                    }
            });
            if queued_with_it {
                self.start_send(index, now);
            }
        }
    }

    /// Forgets the connect when no exchange waits for it any more (a late reply is then
    /// an unknown transaction).
    fn forget_unneeded_connect(&mut self) {
        if !self.slots.iter().any(|s| s.phase == Phase::AwaitingConnect) {
            self.conn.connect_queued = false;
            self.conn.awaited = None;
        }
    }
}

/// Whether `a` and `b` are the same address and port, after canonicalizing IPv4-mapped
/// IPv6 (flow info and scope id are ignored).
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    let (a, b) = (canonical_addr(a), canonical_addr(b));
    a.ip() == b.ip() && a.port() == b.port()
}
