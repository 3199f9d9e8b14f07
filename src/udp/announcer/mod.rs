//! The multi-tracker announcer: one torrent, many UDP trackers in BEP 12 tiers, both
//! address families. Its documentation is on [`Announcer`], the type users see.

mod config;
mod output;
mod peers;
mod rng;
mod status;
mod tracker;

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use crate::error::{EncodeError, UsageError};
use crate::time::Instant;
use crate::udp::client::{
    AnnounceParams, Client, ClientConfig, ExchangeId, Received, Rejected, TailConfig, Transmit,
    MAX_DATAGRAM_LEN,
};
use crate::udp::types::{canonical_addr, AnnounceEvent, InfoHash};
use crate::udp::url::{TrackerHost, TrackerUrl};

pub use config::{AnnounceMode, AnnouncerConfig};
pub use output::{AnnouncerEvent, AnnouncerReceived};
pub use status::{
    ErrorText, HostName, TrackerError, TrackerId, TrackerState, TrackerStatus, ERROR_TEXT_CAPACITY,
    MAX_HOST_LEN,
};

use peers::PeerSet;
use rng::SplitMix;
use tracker::{Family, Leg, Resolution, Stop, Tracker};

/// One walk over trackers (see [`AnnounceMode`]).
#[derive(Debug, Clone, Copy, Default)]
struct Walk {
    /// A round is under way; `cursor` is the position (in `order`) of the tracker
    /// whose turn it is.
    active: bool,
    cursor: usize,
    /// When the next round starts.
    next_round: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Running,
    Stopping {
        deadline: Instant,
    },
    /// Over; the `ShutdownComplete` event (sequence number, answered, unanswered) until
    /// it is polled.
    Done {
        event: Option<(u64, usize, usize)>,
    },
}

/// How a family's exchange ended.
#[derive(Debug, Clone, Copy)]
// Built once per reply and moved into the tracker's status.
#[allow(clippy::large_enum_variant)]
enum End {
    Answered,
    Refused(TrackerError),
}

/// A sans-IO announcer for one torrent over many UDP trackers: BEP 12 tiers, IPv4 and
/// IPv6, failover across a tracker's addresses, re-announce at each tracker's interval,
/// `completed` and `stopped`, merged peers, and a status per tracker for a UI.
///
/// Capacities are const generics: `T` trackers (default 8), `C` exchanges per address's
/// [`Client`] (default 2: the announce and one scrape), `A` addresses kept per tracker
/// (default 4, both families together) and `P` merged peers (default 200). Everything is
/// inside the value; nothing is allocated. Its size is dominated by the clients, two per
/// tracker (IPv4 and IPv6), about `1.2 KiB + C × 1.5 KiB` each, plus 1 KiB of URLData
/// per tracker: about 90 KiB with the defaults, so a std caller may want to `Box` it
/// (`Box::new` builds the value on the stack first; build large ones on a thread with
/// room for them).
///
/// # One torrent per announcer
///
/// Everything the announcer decides is per torrent: which tracker of a tier answered
/// last, when each tracker wants the next announce, whether `started` and `completed`
/// went out, which trackers must get `stopped`, the peers merged for the swarm. A
/// client with many torrents runs one announcer each (they are independent values and
/// can live in one collection). The cost is that two torrents on the same tracker each
/// make their own connect (16 bytes each way per minute); a multi-torrent announcer
/// would need a status matrix of torrents × trackers, sized for the worst case, which a
/// fixed-capacity type cannot afford.
///
/// # The run loop
///
/// The machine contract of the crate, as for [`Client`]:
///
/// 1. [`Announcer::new`]`(config, params, seed)` with `seed` from a real entropy source
///    (the clients' transaction ids and the tier shuffles come from it) and `params`
///    holding a random `key` (BEP 15 asks for the same key over IPv4 and IPv6; the
///    announcer sends `params.key` from both). Add trackers with
///    [`Announcer::add_tracker`]`(tier, url)`, then [`Announcer::start`]`(now)`.
/// 2. Drain: [`Announcer::poll_transmit`] until `Ok(None)`, sending each datagram to
///    [`Transmit::destination`] (one socket per family); [`Announcer::poll_event`] until
///    `None`; then [`Announcer::poll_timeout`].
/// 3. On [`AnnouncerEvent::Resolve`], resolve the host (A and AAAA) and answer with
///    [`Announcer::resolved`] (every address) or [`Announcer::resolve_failed`]. Names
///    are never resolved by the announcer: resolution is I/O.
/// 4. On a datagram, [`Announcer::handle_datagram`]`(now, from, bytes)`: `Ok` says what
///    it did ([`AnnouncerReceived`], borrowing `bytes`), `Err(`[`Rejected`]`)` that it
///    was ignored and changed nothing. On the deadline, [`Announcer::handle_timeout`].
/// 5. Read [`Announcer::status`] and [`Announcer::peers`] whenever the UI wants them;
///    [`Announcer::completed`] when the download finishes, [`Announcer::stop`] at
///    shutdown, then keep driving until [`AnnouncerEvent::ShutdownComplete`].
///
/// ```
/// use trackwire::udp::{
///     AnnounceParams, Announcer, AnnouncerConfig, AnnouncerEvent, InfoHash, PeerId, Request,
///     TrackerState, TrackerUrl,
/// };
/// use trackwire::Instant;
///
/// let mut params = AnnounceParams::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
/// params.key = 0x1234_5678; // random in real use, like the seed
/// let mut ann = Box::new(Announcer::new(AnnouncerConfig::new(), params, 0x5eed)?);
/// let first = ann.add_tracker(0, TrackerUrl::parse("udp://tracker.example:6969/announce")?)?;
/// ann.add_tracker(1, TrackerUrl::parse("udp://[2001:db8::1]:6969")?)?;
/// ann.start(Instant::ZERO)?;
///
/// // Tier 0's tracker has a name: the caller resolves it.
/// let Some(AnnouncerEvent::Resolve { tracker, host }) = ann.poll_event() else { panic!() };
/// assert_eq!((tracker, host.as_str()), (first, "tracker.example"));
/// ann.resolved(Instant::ZERO, tracker, &["192.0.2.7".parse()?, "2001:db8::7".parse()?])?;
///
/// // Both families connect at once.
/// let mut buf = [0u8; <Announcer>::MAX_TRANSMIT_LEN];
/// let mut destinations = Vec::new();
/// while let Some(t) = ann.poll_transmit(Instant::ZERO, &mut buf)? {
///     assert!(matches!(Request::decode(&buf[..t.len])?, Request::Connect(_)));
///     destinations.push(t.destination.to_string());
/// }
/// assert_eq!(destinations, ["192.0.2.7:6969", "[2001:db8::7]:6969"]);
/// assert_eq!(ann.status(first).unwrap().state, TrackerState::Updating);
/// assert_eq!(ann.poll_timeout(), Some(Instant::from_secs(15))); // the retransmission
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # The rules
///
/// * **Tiers.** [`AnnounceMode`] picks one walk over all tiers (BEP 12), one per tier,
///   or one per tracker. A walk gives trackers their turn in order until one answers;
///   that tracker moves to the front of its tier. Tiers are shuffled once, at
///   [`Announcer::start`]; a tracker added later goes to the end of its tier.
/// * **Both families.** A tracker's turn announces over IPv4 and over IPv6 at once, to
///   one address of each family it has. The tracker is [`TrackerState::Working`] as
///   soon as either family answers. A family whose address stays silent for the whole
///   [`AnnouncerConfig::retry`] moves to the tracker's next address of that family
///   ([`AnnouncerEvent::AddressTimedOut`]); an error reply or an undecodable one is the
///   tracker's answer and does not move on. The turn fails when no family answered.
///   After a failed turn, a name is resolved again at the next turn.
/// * **Where replies come from.** A reply counts only from the address its request
///   went to, unless [`AnnouncerConfig::accept_any_tracker_address`] lets any address
///   of the same tracker answer (its transaction id must still match).
/// * **Intervals.** After a walk's round succeeds, its next round starts after the
///   interval of the tracker that answered, clamped to
///   [`min_interval`](AnnouncerConfig::min_interval) ..=
///   [`max_interval`](AnnouncerConfig::max_interval); after a round in which nobody
///   answered, after `min_interval`.
/// * **Events.** Each family's first announce carries `started` until one is answered;
///   after [`Announcer::completed`], each family that got `started` sends `completed`
///   once (until one is answered). [`Announcer::stop`] sends `stopped` to the current
///   address of every family that sent `started`, and declares shutdown done when all
///   are answered or [`AnnouncerConfig::stop_timeout`] passed.
/// * **Peers.** Every announce reply's peers go into one set, IPv4-mapped addresses
///   canonicalized and duplicates dropped, kept until [`Announcer::clear_peers`]. When
///   `P` peers are held, new ones are dropped and counted
///   ([`Announcer::peers_dropped`]).
/// * **Scrapes** ([`Announcer::scrape`]) of any info hashes go through the tracker's
///   client, sharing its connection id, split into datagrams of at most
///   [`Client::max_scrape_hashes`].
#[derive(Debug, Clone)]
pub struct Announcer<
    const T: usize = 8,
    const C: usize = 2,
    const A: usize = 4,
    const P: usize = 200,
> {
    config: AnnouncerConfig,
    params: AnnounceParams,
    rng: SplitMix,
    trackers: [Tracker<C, A>; T],
    len: usize,
    /// Tracker indices, tier by tier; the order walks follow.
    order: [usize; T],
    /// Walks, indexed by [`Announcer::walk_of`].
    walks: [Walk; T],
    started: bool,
    completed: bool,
    shutdown: Shutdown,
    peers: PeerSet<P>,
    next_seq: u64,
}

impl Announcer {
    /// An announcer of the default capacities; [`Announcer::new_sized`] is the same for
    /// any capacities.
    ///
    /// # Errors
    ///
    /// As [`Announcer::new_sized`].
    pub fn new(
        config: AnnouncerConfig,
        params: AnnounceParams,
        seed: u64,
    ) -> Result<Self, UsageError> {
        Self::new_sized(config, params, seed)
    }
}

impl<const T: usize, const C: usize, const A: usize, const P: usize> Announcer<T, C, A, P> {
    /// A buffer of this many bytes always suffices for one
    /// [`Announcer::poll_transmit`] (as for [`Client::MAX_TRANSMIT_LEN`]). Name it as
    /// `<Announcer>::MAX_TRANSMIT_LEN`.
    pub const MAX_TRANSMIT_LEN: usize = MAX_DATAGRAM_LEN;

    /// An announcer for the torrent of `params` (its `event` is ignored: the announcer
    /// sets it), with room for `T` trackers, `C` exchanges per client, `A` addresses per
    /// tracker and `P` peers. `seed` MUST come from a real entropy source.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) with
    /// argument `config.min_interval` if it exceeds `config.max_interval`, or `C` if `C`
    /// is 0 (a client needs a slot for the announce).
    pub fn new_sized(
        config: AnnouncerConfig,
        params: AnnounceParams,
        seed: u64,
    ) -> Result<Self, UsageError> {
        if config.min_interval > config.max_interval {
            return Err(UsageError::invalid_value("config.min_interval"));
        }
        if C == 0 {
            return Err(UsageError::invalid_value("C"));
        }
        Ok(Announcer {
            config,
            params,
            rng: SplitMix::new(seed),
            trackers: core::array::from_fn(|_| Tracker::new(0, 0)),
            len: 0,
            order: [0; T],
            walks: [Walk::default(); T],
            started: false,
            completed: false,
            shutdown: Shutdown::Running,
            peers: PeerSet::new(),
            next_seq: 0,
        })
    }

    // ---- getters ---------------------------------------------------------------------

    /// The configuration.
    pub const fn config(&self) -> &AnnouncerConfig {
        &self.config
    }

    /// The announce parameters (their `event` is set per announce).
    pub const fn params(&self) -> &AnnounceParams {
        &self.params
    }

    /// How many trackers were added.
    pub const fn tracker_count(&self) -> usize {
        self.len
    }

    /// The ids of the trackers, in the order they were added.
    pub fn trackers(&self) -> impl ExactSizeIterator<Item = TrackerId> {
        (0..self.len).map(TrackerId)
    }

    /// A tracker's status; `None` for an id this announcer never gave.
    pub fn status(&self, tracker: TrackerId) -> Option<&TrackerStatus> {
        self.tracker(tracker.0).map(|t| &t.status)
    }

    /// The trackers in the order the walks follow: tier by tier, as shuffled and
    /// promoted so far.
    pub fn walk_order(&self) -> impl Iterator<Item = TrackerId> + '_ {
        self.order.iter().take(self.len).map(|i| TrackerId(*i))
    }

    /// Whether anything of a round is under way: a tracker's turn, an announce in
    /// flight, or a name awaiting resolution. After [`Announcer::start`], a tool that
    /// announces once waits until this is `false`.
    pub fn is_announcing(&self) -> bool {
        self.live().any(|t| {
            t.in_turn
                || matches!(t.resolution, Resolution::Asked { .. })
                || t.families
                    .iter()
                    .any(|f| matches!(f.leg, Leg::InFlight(..)))
        })
    }

    /// Whether shutdown is over ([`AnnouncerEvent::ShutdownComplete`] was queued).
    pub const fn is_shut_down(&self) -> bool {
        matches!(self.shutdown, Shutdown::Done { .. })
    }

    /// The merged peers: every distinct address announce replies handed out since the
    /// last [`Announcer::clear_peers`], in arrival order, IPv4 and IPv6 together.
    pub fn peers(&self) -> impl ExactSizeIterator<Item = SocketAddr> + '_ {
        self.peers.as_slice().iter().copied()
    }

    /// How many new peers were turned away because `P` were already held.
    pub const fn peers_dropped(&self) -> usize {
        self.peers.dropped()
    }

    /// Empties the merged peers (and the dropped count), typically after handing them
    /// to the connection manager.
    pub fn clear_peers(&mut self) {
        self.peers.clear();
    }

    // ---- commands --------------------------------------------------------------------

    /// Adds the tracker at `url` to tier `tier` (0 is tried first). A literal address is
    /// used as is; a name is resolved by the caller when the tracker's turn comes
    /// ([`AnnouncerEvent::Resolve`]). The URL's path and query are sent as BEP 41
    /// URLData. Before [`Announcer::start`] the tracker takes part in the shuffle of its
    /// tier; afterwards it goes to the end of its tier, and if that makes a new walk
    /// (modes other than [`AnnounceMode::Tiers`]) the walk is due at once:
    /// [`Announcer::poll_timeout`] returns [`Instant::ZERO`] until the next
    /// [`Announcer::handle_timeout`] starts it.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) (`trackers`) if `T`
    /// trackers were added; [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong)
    /// (`url`) if the host name is longer than [`MAX_HOST_LEN`];
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState)
    /// (`add_tracker`) after [`Announcer::stop`].
    pub fn add_tracker(
        &mut self,
        tier: usize,
        url: TrackerUrl<'_>,
    ) -> Result<TrackerId, UsageError> {
        if self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("add_tracker"));
        }
        let index = self.len;
        let mut t = Tracker::new(tier, url.port());
        match url.host() {
            TrackerHost::Name(name) => {
                t.host = Some(HostName::new(name).ok_or(UsageError::too_long("url"))?);
            }
            literal => {
                let ip = literal.ip();
                debug_assert!(ip.is_some(), "a literal host has an address");
                t.set_addrs(ip.as_slice());
                t.resolution = Resolution::Known;
            }
        }
        let data = url.url_data().as_bytes();
        t.url_data
            .get_mut(..data.len())
            .ok_or(UsageError::too_long("url"))?
            .copy_from_slice(data);
        t.url_data_len = data.len();
        let slot = self
            .trackers
            .get_mut(index)
            .ok_or(UsageError::full("trackers"))?;
        *slot = t;
        self.len = index.saturating_add(1);
        // The end of its tier in the walk order.
        let at = self
            .order
            .iter()
            .take(index)
            .position(|i| self.tracker(*i).is_some_and(|o| o.status.tier > tier))
            .unwrap_or(index);
        if let Some(tail) = self.order.get_mut(at..=index) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = index;
            }
        }
        for w in &mut self.walks {
            if w.active && w.cursor >= at {
                w.cursor = w.cursor.saturating_add(1);
            }
        }
        if self.started {
            // Its walk, if new, starts at the next `handle_timeout`.
            let g = self.walk_of(index);
            if let Some(w) = self.walks.get_mut(g) {
                if !w.active && w.next_round.is_none() {
                    w.next_round = Some(Instant::ZERO);
                }
            }
        }
        Ok(TrackerId(index))
    }

    /// Sets the transfer counters the next announces carry.
    pub fn set_progress(&mut self, downloaded: i64, left: i64, uploaded: i64) {
        self.params.downloaded = downloaded;
        self.params.left = left;
        self.params.uploaded = uploaded;
    }

    /// Shuffles each tier once and starts every walk's first round.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState) (`start`)
    /// if already started or stopped.
    pub fn start(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.started || self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("start"));
        }
        self.started = true;
        let mut begin = 0usize;
        while begin < self.len {
            let tier = self.tier_at(begin);
            let end = (begin..self.len)
                .find(|p| self.tier_at(*p) != tier)
                .unwrap_or(self.len);
            if let Some(segment) = self.order.get_mut(begin..end) {
                self.rng.shuffle(segment);
            }
            begin = end;
        }
        self.start_due_rounds(now, true);
        Ok(())
    }

    /// Starts a round of every walk that is between rounds, now (a UI's "force
    /// reannounce").
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState)
    /// (`reannounce`) before [`Announcer::start`] or after [`Announcer::stop`].
    pub fn reannounce(&mut self, now: Instant) -> Result<(), UsageError> {
        if !self.started || self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("reannounce"));
        }
        self.start_due_rounds(now, true);
        Ok(())
    }

    /// The download is complete: each family that got `started` announces `completed`,
    /// once, starting with a round of every walk now. Set `left` to 0 with
    /// [`Announcer::set_progress`] first.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState)
    /// (`completed`) before [`Announcer::start`], after [`Announcer::stop`], or if
    /// already called.
    pub fn completed(&mut self, now: Instant) -> Result<(), UsageError> {
        if !self.started || self.completed || self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("completed"));
        }
        self.completed = true;
        self.start_due_rounds(now, true);
        Ok(())
    }

    /// Shutdown: cancels every announce and resolution, sends `stopped` to the current
    /// address of every family that sent `started`, and stops scheduling rounds.
    /// [`AnnouncerEvent::ShutdownComplete`] follows when all are answered or after
    /// [`AnnouncerConfig::stop_timeout`] (at once if no family sent `started`).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState) (`stop`) if
    /// already stopping or stopped.
    pub fn stop(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("stop"));
        }
        let mut params = self.params;
        params.event = AnnounceEvent::Stopped;
        for t in self.trackers.iter_mut().take(self.len) {
            t.in_turn = false;
            t.resolution = match t.resolution {
                Resolution::Asked { .. } => Resolution::Needed,
                r => r,
            };
            t.status.next_announce = None;
            for f in &mut t.families {
                let Some(client) = f.client.as_mut() else {
                    f.leg = Leg::Idle;
                    continue;
                };
                if let Leg::InFlight(id, _) = f.leg {
                    // The exchange is ours and running: cancel cannot fail.
                    let _ = client.cancel(id);
                }
                f.leg = Leg::Idle;
                if f.started_sent {
                    f.stop = match client.announce(now, params) {
                        Ok(id) => Stop::Pending(id),
                        Err(_) => Stop::Unanswered,
                    };
                }
            }
            t.status.announcing = t
                .families
                .iter()
                .any(|f| matches!(f.stop, Stop::Pending(_)));
        }
        for w in &mut self.walks {
            *w = Walk::default();
        }
        self.shutdown = Shutdown::Stopping {
            deadline: now.saturating_add(self.config.stop_timeout),
        };
        self.check_shutdown();
        Ok(())
    }

    /// The caller's answer to [`AnnouncerEvent::Resolve`]: every address the name has
    /// (A and AAAA, in the resolver's order). The first `A` distinct ones are kept. The
    /// tracker's turn goes on with them: one announce per family.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::UnknownHandle`](crate::UsageErrorKind::UnknownHandle)
    /// (`tracker`) for an id this announcer never gave;
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState)
    /// (`resolved`) if no resolution of it is awaited.
    pub fn resolved(
        &mut self,
        now: Instant,
        tracker: TrackerId,
        addresses: &[IpAddr],
    ) -> Result<(), UsageError> {
        let i = tracker.0;
        let t = self
            .tracker_mut(i)
            .ok_or(UsageError::unknown_handle("tracker"))?;
        if !matches!(t.resolution, Resolution::Asked { .. }) {
            return Err(UsageError::invalid_state("resolved"));
        }
        t.set_addrs(addresses);
        t.resolution = Resolution::Known;
        if t.addr_len == 0 {
            t.status.last_error = Some(TrackerError::NoAddress);
            // Ask again at the next turn: the name may gain addresses.
            t.resolution = Resolution::Needed;
        } else {
            self.launch(i, now);
        }
        self.settle(i, now);
        Ok(())
    }

    /// The caller's answer to [`AnnouncerEvent::Resolve`] when the name did not resolve:
    /// the tracker's turn fails ([`TrackerError::Resolve`]) and the walk moves on.
    ///
    /// # Errors
    ///
    /// As [`Announcer::resolved`] (argument `resolve_failed` for the state).
    pub fn resolve_failed(&mut self, now: Instant, tracker: TrackerId) -> Result<(), UsageError> {
        let i = tracker.0;
        let t = self
            .tracker_mut(i)
            .ok_or(UsageError::unknown_handle("tracker"))?;
        if !matches!(t.resolution, Resolution::Asked { .. }) {
            return Err(UsageError::invalid_state("resolve_failed"));
        }
        t.resolution = Resolution::Needed;
        t.status.last_error = Some(TrackerError::Resolve);
        self.settle(i, now);
        Ok(())
    }

    /// Scrapes `hashes` (any torrents) through `tracker`'s client, sharing the
    /// connection id of its announces, split into datagrams of at most
    /// [`Client::max_scrape_hashes`] each (72 over IPv4, 71 over IPv6). The IPv4 client
    /// is used when the tracker has one, else the IPv6 one. Returns how many datagrams
    /// it makes; their replies come back as [`AnnouncerReceived::Scraped`], silence as
    /// [`AnnouncerEvent::ScrapeTimedOut`]. A row for this announcer's own torrent also
    /// updates the tracker's status (seeders, leechers, downloaded).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::UnknownHandle`](crate::UsageErrorKind::UnknownHandle)
    /// (`tracker`); [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue)
    /// (`hashes`) if empty; [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState)
    /// (`scrape`) if the tracker has no address yet or shutdown began;
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) (`exchanges`) if the
    /// datagrams need more of the client's `C` slots than are free (one is always kept
    /// for the announce). Nothing is sent unless everything is.
    pub fn scrape(
        &mut self,
        now: Instant,
        tracker: TrackerId,
        hashes: &[InfoHash],
    ) -> Result<usize, UsageError> {
        if self.tracker(tracker.0).is_none() {
            return Err(UsageError::unknown_handle("tracker"));
        }
        if hashes.is_empty() {
            return Err(UsageError::invalid_value("hashes"));
        }
        if self.shutdown != Shutdown::Running {
            return Err(UsageError::invalid_state("scrape"));
        }
        let i = tracker.0;
        let f = (0..2)
            .find(|f| self.family(i, *f).is_some_and(|fam| fam.client.is_some()))
            .or_else(|| (0..2).find(|f| self.tracker(i).is_some_and(|t| t.address(*f).is_some())))
            .ok_or(UsageError::invalid_state("scrape"))?;
        if !self.ensure_client(i, f) {
            return Err(UsageError::invalid_state("scrape"));
        }
        let fam = self
            .family_mut(i, f)
            .ok_or(UsageError::invalid_state("scrape"))?;
        let reserve = usize::from(!matches!(fam.leg, Leg::InFlight(..)));
        let client = fam
            .client
            .as_mut()
            .ok_or(UsageError::invalid_state("scrape"))?;
        let max = client.max_scrape_hashes().max(1);
        let chunks = hashes.chunks(max).count();
        let free = C.saturating_sub(client.in_flight()).saturating_sub(reserve);
        if chunks > free {
            return Err(UsageError::full("exchanges"));
        }
        for chunk in hashes.chunks(max) {
            client.scrape(now, chunk)?;
        }
        Ok(chunks)
    }

    // ---- inputs ----------------------------------------------------------------------

    /// Handles a datagram received from `from`, and returns what it did: the only
    /// report of an announce, scrape or error it completed. It goes to the client of the
    /// tracker address it came from (or, with
    /// [`AnnouncerConfig::accept_any_tracker_address`], of any tracker that has that
    /// address); the result borrows `datagram`, not the announcer.
    ///
    /// # Errors
    ///
    /// [`Rejected`] if it was ignored and nothing changed:
    /// [`Rejected::UnexpectedSource`] when it came from no tracker address in use,
    /// otherwise what the first client it was offered to said.
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &'a [u8],
    ) -> Result<AnnouncerReceived<'a>, Rejected> {
        let source = canonical_addr(from);
        let any = self.config.accept_any_tracker_address;
        let mut first = None;
        for i in 0..self.len {
            for f in 0..2 {
                let Some(t) = self.tracker_mut(i) else {
                    continue;
                };
                let owns = any && t.owns(from);
                let Some(client) = t.family(f).and_then(|fam| fam.client.as_mut()) else {
                    continue;
                };
                if canonical_addr(client.tracker()) != source && !owns {
                    continue;
                }
                match client.handle_datagram(now, from, datagram) {
                    Ok(r) => return Ok(self.on_received(now, i, f, from, r)),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
        }
        Err(first.unwrap_or(Rejected::UnexpectedSource(from)))
    }

    /// Handles the passing of time: retransmissions and timeouts of every client (and
    /// failover to the next address), resolutions not answered in time, rounds that are
    /// due, the stop deadline. Before the earliest deadline it does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.len {
            for f in 0..2 {
                if let Some(client) = self.family_mut(i, f).and_then(|x| x.client.as_mut()) {
                    client.handle_timeout(now);
                }
                while let Some(event) = self
                    .family_mut(i, f)
                    .and_then(|x| x.client.as_mut())
                    .and_then(Client::poll_event)
                {
                    self.on_client_timeout(now, i, f, event.id());
                }
            }
            let overdue = self.tracker(i).is_some_and(
                |t| matches!(t.resolution, Resolution::Asked { deadline, .. } if deadline <= now),
            );
            if let Some(t) = self.tracker_mut(i).filter(|_| overdue) {
                t.resolution = Resolution::Needed;
                t.status.last_error = Some(TrackerError::Resolve);
                self.settle(i, now);
            }
        }
        if self.started && self.shutdown == Shutdown::Running {
            self.start_due_rounds(now, false);
        }
        if matches!(self.shutdown, Shutdown::Stopping { deadline } if deadline <= now) {
            self.finish_shutdown();
        }
    }

    // ---- outputs ---------------------------------------------------------------------

    /// Writes the next datagram into `buf`, if there is one, and says where it goes.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is too small; nothing changed. A buffer of
    /// [`Announcer::MAX_TRANSMIT_LEN`] bytes always suffices.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, EncodeError> {
        if self.is_shut_down() {
            return Ok(None);
        }
        for t in self.trackers.iter_mut().take(self.len) {
            for f in &mut t.families {
                if let Some(client) = f.client.as_mut() {
                    if let Some(transmit) = client.poll_transmit(now, buf)? {
                        return Ok(Some(transmit));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The earliest deadline: a retransmission or timeout, a resolution's give-up
    /// time, the next round, the stop deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_shut_down() {
            return None;
        }
        let clients = self
            .live()
            .flat_map(|t| t.families.iter())
            .filter_map(|f| f.client.as_ref().and_then(Client::poll_timeout));
        let resolutions = self.live().filter_map(|t| match t.resolution {
            Resolution::Asked { deadline, .. } => Some(deadline),
            _ => None,
        });
        let rounds = self
            .walks
            .iter()
            .filter(|_| self.started && self.shutdown == Shutdown::Running)
            .filter(|w| !w.active)
            .filter_map(|w| w.next_round);
        let stop = match self.shutdown {
            Shutdown::Stopping { deadline } => Some(deadline),
            _ => None,
        };
        clients.chain(resolutions).chain(rounds).chain(stop).min()
    }

    /// The oldest event of what time caused (or of a turn that needs a name resolved).
    pub fn poll_event(&mut self) -> Option<AnnouncerEvent> {
        let mut best: Option<(u64, AnnouncerEvent)> = None;
        let mut consider = |seq: u64, e: AnnouncerEvent| {
            if best.map_or(true, |(s, _)| seq < s) {
                best = Some((seq, e));
            }
        };
        for (i, t) in self.trackers.iter().take(self.len).enumerate() {
            let tracker = TrackerId(i);
            if let (Resolution::Asked { event: Some(s), .. }, Some(host)) = (t.resolution, t.host) {
                consider(s, AnnouncerEvent::Resolve { tracker, host });
            }
            for f in &t.families {
                if let Some((s, address)) = f.timed_out {
                    consider(s, AnnouncerEvent::AddressTimedOut { tracker, address });
                }
            }
            if let Some((s, chunks)) = t.scrapes_lost {
                consider(s, AnnouncerEvent::ScrapeTimedOut { tracker, chunks });
            }
        }
        if let Shutdown::Done {
            event: Some((s, answered, unanswered)),
        } = self.shutdown
        {
            consider(
                s,
                AnnouncerEvent::ShutdownComplete {
                    answered,
                    unanswered,
                },
            );
        }
        let (seq, event) = best?;
        match event {
            AnnouncerEvent::Resolve { tracker, .. } => {
                if let Some(t) = self.tracker_mut(tracker.0) {
                    if let Resolution::Asked { event, .. } = &mut t.resolution {
                        *event = None;
                    }
                }
            }
            AnnouncerEvent::AddressTimedOut { tracker, .. } => {
                if let Some(t) = self.tracker_mut(tracker.0) {
                    for f in &mut t.families {
                        if f.timed_out.is_some_and(|(s, _)| s == seq) {
                            f.timed_out = None;
                        }
                    }
                }
            }
            AnnouncerEvent::ScrapeTimedOut { tracker, .. } => {
                if let Some(t) = self.tracker_mut(tracker.0) {
                    t.scrapes_lost = None;
                }
            }
            AnnouncerEvent::ShutdownComplete { .. } => {
                self.shutdown = Shutdown::Done { event: None };
            }
        }
        Some(event)
    }

    // ---- transitions -----------------------------------------------------------------

    fn tracker(&self, i: usize) -> Option<&Tracker<C, A>> {
        self.trackers.get(..self.len)?.get(i)
    }

    fn tracker_mut(&mut self, i: usize) -> Option<&mut Tracker<C, A>> {
        self.trackers.get_mut(..self.len)?.get_mut(i)
    }

    fn family(&self, i: usize, f: usize) -> Option<&Family<C>> {
        self.tracker(i)?.families.get(f)
    }

    fn family_mut(&mut self, i: usize, f: usize) -> Option<&mut Family<C>> {
        self.tracker_mut(i)?.family(f)
    }

    fn live(&self) -> impl Iterator<Item = &Tracker<C, A>> {
        self.trackers.iter().take(self.len)
    }

    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = s.wrapping_add(1);
        s
    }

    /// The tier of the tracker at walk position `p`.
    fn tier_at(&self, p: usize) -> usize {
        self.order
            .get(p)
            .and_then(|i| self.tracker(*i))
            .map_or(usize::MAX, |t| t.status.tier)
    }

    /// The walk tracker `i` belongs to: one for all (tiers), the first tracker of its
    /// tier (all tiers), or its own (all trackers).
    fn walk_of(&self, i: usize) -> usize {
        match self.config.mode {
            AnnounceMode::Tiers => 0,
            AnnounceMode::AllTrackers => i,
            AnnounceMode::AllTiers => {
                let tier = self.tracker(i).map(|t| t.status.tier);
                (0..self.len)
                    .find(|j| self.tracker(*j).map(|t| t.status.tier) == tier)
                    .unwrap_or(i)
            }
        }
    }

    /// The first walk position after `after` (or from the start) of a tracker of walk `g`.
    fn next_position(&self, g: usize, after: Option<usize>) -> Option<usize> {
        let from = after.map_or(0, |p| p.saturating_add(1));
        (from..self.len).find(|p| self.order.get(*p).is_some_and(|i| self.walk_of(*i) == g))
    }

    /// Starts a round of every walk that is between rounds and due (or of every walk
    /// between rounds, with `all`).
    fn start_due_rounds(&mut self, now: Instant, all: bool) {
        for g in 0..T {
            let due = self
                .walks
                .get(g)
                .is_some_and(|w| !w.active && (all || w.next_round.is_some_and(|at| at <= now)));
            let has_members = self.next_position(g, None).is_some();
            if due && has_members {
                self.start_round(g, now);
            }
        }
    }

    fn start_round(&mut self, g: usize, now: Instant) {
        let Some(p) = self.next_position(g, None) else {
            return;
        };
        if let Some(w) = self.walks.get_mut(g) {
            *w = Walk {
                active: true,
                cursor: p,
                next_round: None,
            };
        }
        if let Some(i) = self.order.get(p).copied() {
            self.start_turn(i, now);
        }
    }

    /// Tracker `i`'s turn in its walk begins.
    fn start_turn(&mut self, i: usize, now: Instant) {
        let seq = self.seq();
        let give_up = now.saturating_add(self.config.retry.give_up_after());
        let Some(t) = self.tracker_mut(i) else {
            return;
        };
        t.in_turn = true;
        t.status.state = TrackerState::Updating;
        t.status.last_error = None;
        t.status.peers_received = 0;
        t.status.next_announce = None;
        for f in &mut t.families {
            if !matches!(f.leg, Leg::InFlight(..)) {
                f.leg = Leg::Idle;
            }
        }
        match t.resolution {
            Resolution::Needed => {
                t.resolution = Resolution::Asked {
                    deadline: give_up,
                    event: Some(seq),
                };
                t.status.announcing = true;
                return;
            }
            Resolution::Asked { .. } => return,
            Resolution::Known => {}
        }
        self.launch(i, now);
        self.settle(i, now);
    }

    /// Announces from each family of tracker `i` that has an address and nothing in
    /// flight.
    fn launch(&mut self, i: usize, now: Instant) {
        for f in 0..2 {
            let idle = self
                .family(i, f)
                .is_some_and(|x| !matches!(x.leg, Leg::InFlight(..)));
            let has_address = self.tracker(i).is_some_and(|t| t.address(f).is_some());
            if idle && has_address {
                self.announce_family(i, f, now);
            }
        }
    }

    /// The event family `f` announces next.
    fn next_event(&self, fam: &Family<C>) -> AnnounceEvent {
        if !fam.started_done {
            AnnounceEvent::Started
        } else if self.completed && !fam.completed_done {
            AnnounceEvent::Completed
        } else {
            AnnounceEvent::None
        }
    }

    /// Announces from family `f` of tracker `i` to its current address.
    fn announce_family(&mut self, i: usize, f: usize, now: Instant) {
        let built = self.ensure_client(i, f);
        let Some(fam) = self.family(i, f) else {
            return;
        };
        let mut params = self.params;
        params.event = self.next_event(fam);
        let address = self.tracker(i).and_then(|t| t.address(f));
        let Some(t) = self.tracker_mut(i) else {
            return;
        };
        if let Some(slot) = t.status.addresses.get_mut(f) {
            *slot = address;
        }
        let Some(fam) = t.family(f) else {
            return;
        };
        let announced = fam
            .client
            .as_mut()
            .filter(|_| built)
            .map(|c| c.announce(now, params));
        fam.leg = match announced {
            Some(Ok(id)) => {
                fam.started_sent |= params.event == AnnounceEvent::Started;
                Leg::InFlight(id, params.event)
            }
            // A slot is always kept free for the announce; a failure here is a bug,
            // and the family simply fails this turn.
            _ => Leg::Failed,
        };
    }

    /// Makes sure family `f` of tracker `i` has a client for its current address;
    /// scrapes of a replaced client are reported lost.
    fn ensure_client(&mut self, i: usize, f: usize) -> bool {
        let seed = self.rng.next_u64();
        let retry = self.config.retry;
        let check_source = !self.config.accept_any_tracker_address;
        let Some(t) = self.tracker(i) else {
            return false;
        };
        let Some(address) = t.address(f) else {
            return false;
        };
        let current = t
            .families
            .get(f)
            .and_then(|x| x.client.as_ref())
            .map(Client::tracker);
        if current == Some(address) {
            return true;
        }
        let tail = match t.url_data() {
            [] => TailConfig::None,
            data => TailConfig::UrlData(data),
        };
        let config = ClientConfig::new(address)
            .with_retry(retry)
            .with_check_source(check_source)
            .with_tail(tail);
        let Ok(client) = Client::<C>::new_sized(config, seed) else {
            return false;
        };
        let seq = self.seq();
        let Some(t) = self.tracker_mut(i) else {
            return false;
        };
        let lost = t.families.get(f).map_or(0, |x| {
            let running = x.client.as_ref().map_or(0, Client::in_flight);
            running.saturating_sub(usize::from(matches!(x.leg, Leg::InFlight(..))))
        });
        if lost > 0 {
            let before = t.scrapes_lost.map_or(0, |(_, n)| n);
            t.scrapes_lost = Some((seq, before.saturating_add(lost)));
        }
        if let Some(fam) = t.family(f) {
            fam.client = Some(client);
        }
        true
    }

    /// After a change to tracker `i`: its state, and its walk if its turn ended.
    fn settle(&mut self, i: usize, now: Instant) {
        let Some(t) = self.tracker_mut(i) else {
            return;
        };
        let answered = t.families.iter().any(|f| f.leg == Leg::Answered);
        let pending = matches!(t.resolution, Resolution::Asked { .. })
            || t.families
                .iter()
                .any(|f| matches!(f.leg, Leg::InFlight(..)));
        t.status.announcing = pending;
        if answered {
            t.status.state = TrackerState::Working;
        }
        if !t.in_turn {
            return;
        }
        if answered {
            t.in_turn = false;
            self.round_succeeded(i, now);
        } else if !pending {
            t.in_turn = false;
            t.status.state = TrackerState::NotWorking;
            if t.host.is_some() {
                t.resolution = Resolution::Needed;
            }
            self.next_turn(i, now);
        }
    }

    /// Tracker `i` answered its turn: it moves to the front of its tier, and its walk
    /// waits for the interval it gave.
    fn round_succeeded(&mut self, i: usize, now: Instant) {
        if self.config.mode != AnnounceMode::AllTrackers {
            let tier = self.tracker(i).map(|t| t.status.tier);
            let pos = self.order.iter().take(self.len).position(|x| *x == i);
            let start = (0..self.len).find(|p| Some(self.tier_at(*p)) == tier);
            if let (Some(pos), Some(start)) = (pos, start) {
                if let Some(segment) = self.order.get_mut(start..=pos) {
                    segment.rotate_right(1);
                }
            }
        }
        let interval = self
            .tracker(i)
            .and_then(|t| t.status.interval)
            .map_or(self.config.min_interval, |s| {
                Duration::from_secs(u64::from(s))
            });
        self.end_round(self.walk_of(i), now, interval);
    }

    /// Tracker `i`'s turn failed: the next tracker of its walk, or the end of the round.
    fn next_turn(&mut self, i: usize, now: Instant) {
        let g = self.walk_of(i);
        let Some(w) = self.walks.get(g).copied() else {
            return;
        };
        if !w.active {
            return;
        }
        match self.next_position(g, Some(w.cursor)) {
            Some(p) => {
                if let Some(w) = self.walks.get_mut(g) {
                    w.cursor = p;
                }
                if let Some(next) = self.order.get(p).copied() {
                    self.start_turn(next, now);
                }
            }
            None => self.end_round(g, now, self.config.min_interval),
        }
    }

    fn end_round(&mut self, g: usize, now: Instant, interval: Duration) {
        let wait = interval.clamp(self.config.min_interval, self.config.max_interval);
        let next = now.saturating_add(wait);
        if let Some(w) = self.walks.get_mut(g) {
            *w = Walk {
                active: false,
                cursor: 0,
                next_round: Some(next),
            };
        }
        for i in 0..self.len {
            if self.walk_of(i) == g {
                if let Some(t) = self.tracker_mut(i) {
                    t.status.next_announce = Some(next);
                }
            }
        }
    }

    /// What a client's accepted datagram did.
    fn on_received<'a>(
        &mut self,
        now: Instant,
        i: usize,
        f: usize,
        from: SocketAddr,
        received: Received<'a, C>,
    ) -> AnnouncerReceived<'a> {
        let tracker = TrackerId(i);
        match received {
            Received::Connected { .. } => AnnouncerReceived::Connected { tracker },
            Received::Announced { id, response } => {
                let mut new_peers = 0usize;
                for peer in response.peers.iter() {
                    if self.peers.insert(peer) {
                        new_peers = new_peers.saturating_add(1);
                    }
                }
                if let Some(t) = self.tracker_mut(i) {
                    t.status.interval = Some(response.interval);
                    t.status.seeders = Some(response.seeders);
                    t.status.leechers = Some(response.leechers);
                    t.status.peers_received =
                        t.status.peers_received.saturating_add(response.peers.len());
                }
                self.end_exchange(now, i, f, id, End::Answered);
                AnnouncerReceived::Announced {
                    tracker,
                    from,
                    response,
                    new_peers,
                }
            }
            Received::Failed { id, error } => {
                let text = TrackerError::Tracker(ErrorText::new(error.message));
                let announce = self.end_exchange(now, i, f, id, End::Refused(text));
                AnnouncerReceived::Failed {
                    tracker,
                    from,
                    error,
                    announce,
                    scrapes: usize::from(!announce),
                }
            }
            Received::ConnectFailed { error, failed } => {
                let text = TrackerError::Tracker(ErrorText::new(error.message));
                let announce = self.end_all(now, i, f, failed.as_slice(), End::Refused(text));
                AnnouncerReceived::Failed {
                    tracker,
                    from,
                    error,
                    announce,
                    scrapes: failed.len().saturating_sub(usize::from(announce)),
                }
            }
            Received::Malformed { id, error } => {
                let announce =
                    self.end_exchange(now, i, f, id, End::Refused(TrackerError::Malformed(error)));
                AnnouncerReceived::Malformed {
                    tracker,
                    from,
                    error,
                    announce,
                    scrapes: usize::from(!announce),
                }
            }
            Received::ConnectMalformed { error, failed } => {
                let end = End::Refused(TrackerError::Malformed(error));
                let announce = self.end_all(now, i, f, failed.as_slice(), end);
                AnnouncerReceived::Malformed {
                    tracker,
                    from,
                    error,
                    announce,
                    scrapes: failed.len().saturating_sub(usize::from(announce)),
                }
            }
            Received::Scraped { response, .. } => {
                let own = self.params.info_hash;
                if let Some((_, row)) = response.iter().find(|(h, _)| *h == own) {
                    if let Some(t) = self.tracker_mut(i) {
                        t.status.seeders = Some(row.complete);
                        t.status.leechers = Some(row.incomplete);
                        t.status.downloaded = Some(row.downloaded);
                    }
                }
                AnnouncerReceived::Scraped { tracker, response }
            }
        }
    }

    /// Ends each of `ids`; returns whether one of them was an announce.
    fn end_all(&mut self, now: Instant, i: usize, f: usize, ids: &[ExchangeId], end: End) -> bool {
        let mut announce = false;
        for id in ids {
            announce |= self.end_exchange(now, i, f, *id, end);
        }
        announce
    }

    /// Exchange `id` of family `f` of tracker `i` was answered (or refused); returns
    /// whether it was an announce (rather than a scrape).
    fn end_exchange(&mut self, now: Instant, i: usize, f: usize, id: ExchangeId, end: End) -> bool {
        let Some(t) = self.tracker_mut(i) else {
            return false;
        };
        let Some(fam) = t.families.get_mut(f) else {
            return false;
        };
        if fam.stop == Stop::Pending(id) {
            fam.stop = Stop::Answered;
            t.status.announcing = t
                .families
                .iter()
                .any(|x| matches!(x.stop, Stop::Pending(_)));
            self.check_shutdown();
            return true;
        }
        let Leg::InFlight(awaited, event) = fam.leg else {
            return false;
        };
        if awaited != id {
            return false;
        }
        match end {
            End::Answered => {
                fam.leg = Leg::Answered;
                match event {
                    AnnounceEvent::Started => fam.started_done = true,
                    AnnounceEvent::Completed => fam.completed_done = true,
                    _ => {}
                }
            }
            End::Refused(error) => {
                fam.leg = Leg::Failed;
                t.status.last_error = Some(error);
            }
        }
        self.settle(i, now);
        true
    }

    /// Client exchange `id` of family `f` of tracker `i` timed out.
    fn on_client_timeout(&mut self, now: Instant, i: usize, f: usize, id: ExchangeId) {
        let seq = self.seq();
        let Some(t) = self.tracker_mut(i) else {
            return;
        };
        let address = t.address(f);
        let Some(fam) = t.families.get_mut(f) else {
            return;
        };
        if fam.stop == Stop::Pending(id) {
            fam.stop = Stop::Unanswered;
            self.check_shutdown();
            return;
        }
        if !matches!(fam.leg, Leg::InFlight(awaited, _) if awaited == id) {
            let before = t.scrapes_lost.map_or(0, |(_, n)| n);
            t.scrapes_lost = Some((seq, before.saturating_add(1)));
            return;
        }
        if let Some(address) = address {
            fam.timed_out = Some((seq, address));
            t.status.last_error = Some(TrackerError::TimedOut(address));
        }
        fam.cursor = fam.cursor.saturating_add(1);
        fam.leg = Leg::Idle;
        if t.address(f).is_some() {
            self.announce_family(i, f, now);
        } else if let Some(fam) = t.family(f) {
            fam.cursor = 0;
            fam.leg = Leg::Failed;
        }
        self.settle(i, now);
    }

    /// Declares shutdown done once no `stopped` is pending.
    fn check_shutdown(&mut self) {
        let Shutdown::Stopping { .. } = self.shutdown else {
            return;
        };
        let pending = self
            .live()
            .flat_map(|t| t.families.iter())
            .any(|f| matches!(f.stop, Stop::Pending(_)));
        if !pending {
            self.finish_shutdown();
        }
    }

    fn finish_shutdown(&mut self) {
        let seq = self.seq();
        let (mut answered, mut unanswered) = (0usize, 0usize);
        for t in self.trackers.iter_mut().take(self.len) {
            t.status.announcing = false;
            for f in &mut t.families {
                if let Stop::Pending(_) = f.stop {
                    f.stop = Stop::Unanswered;
                }
                match f.stop {
                    Stop::Answered => answered = answered.saturating_add(1),
                    Stop::Unanswered => unanswered = unanswered.saturating_add(1),
                    _ => {}
                }
                f.client = None;
                f.timed_out = None;
            }
            t.scrapes_lost = None;
        }
        self.shutdown = Shutdown::Done {
            event: Some((seq, answered, unanswered)),
        };
    }
}
