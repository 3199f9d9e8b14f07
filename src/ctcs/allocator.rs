//! The global bandwidth allocator, [`Allocator`]; the algorithm and its reasons are
//! documented there, since this module is private.

use core::time::Duration;

use crate::error::UsageError;
use crate::time::Instant;

/// The largest limit a CTCS client can hold, in bytes/s: dnh3.3.2 keeps limits in a C
/// `int`. Policy values and caps are capped here.
pub const MAX_LIMIT: u32 = 0x7FFF_FFFF;

/// The smallest change worth sending and the fixed part of a client's headroom: 1 KiB/s,
/// the unit the original CTCS's pages work in.
pub const MIN_STEP: u32 = 1024;

/// The default number of clients an [`Allocator`] tracks.
pub const DEFAULT_ALLOCATOR_CAPACITY: usize = 32;

/// The default [`AllocatorConfig::change_interval`]: 5 s, the original CTCS's `-i`
/// default.
pub const DEFAULT_CHANGE_INTERVAL: Duration = Duration::from_secs(5);

/// The default [`AllocatorConfig::completion_grace`]: 3 minutes ("a few minutes" in the
/// CTCS 1.3 change list).
pub const DEFAULT_COMPLETION_GRACE: Duration = Duration::from_secs(180);

/// How long after a command a report may still show the old limit: dnh3.3.2 samples its
/// limits once per second, so a different limit after this is the client's own.
const SETTLE: Duration = Duration::from_secs(3);

/// Internal stand-in for "no limit": larger than every finite limit, so ordering works.
const UNLIMITED: u64 = u64::MAX;

/// Which of a client's two limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitDirection {
    /// The download limit, set with `SETDLIMIT`.
    Download,
    /// The upload limit, set with `SETULIMIT`.
    Upload,
}

impl LimitDirection {
    /// Both directions, download first.
    pub const BOTH: [LimitDirection; 2] = [LimitDirection::Download, LimitDirection::Upload];
}

/// The operator's settings: the two caps and the pacing.
///
/// Build it with [`AllocatorConfig::new`] and the `with_*` setters, or assign the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllocatorConfig {
    /// The global download cap shared by the shared clients, bytes/s; 0 = unlimited.
    pub download_cap: u32,
    /// The global upload cap, bytes/s; 0 = unlimited.
    pub upload_cap: u32,
    /// The shortest time between two changes of one client's limit in one direction.
    /// Default [`DEFAULT_CHANGE_INTERVAL`]; zero counts as 1 ms.
    pub change_interval: Duration,
    /// How long a completed download keeps its download limit before it is lowered.
    /// Default [`DEFAULT_COMPLETION_GRACE`].
    pub completion_grace: Duration,
    /// Treat a client that has not reported for this long as idle. Default `None`:
    /// dnh3.3.2 reports only changes, so silence means "as before".
    pub stale_after: Option<Duration>,
}

impl Default for AllocatorConfig {
    /// Both caps unlimited, default pacing.
    fn default() -> Self {
        Self::new(0, 0)
    }
}

impl AllocatorConfig {
    /// Caps of `download_cap` and `upload_cap` bytes/s (0 = unlimited), a 5 s change
    /// interval, a 3 minute completion grace, no staleness.
    pub const fn new(download_cap: u32, upload_cap: u32) -> Self {
        AllocatorConfig {
            download_cap,
            upload_cap,
            change_interval: DEFAULT_CHANGE_INTERVAL,
            completion_grace: DEFAULT_COMPLETION_GRACE,
            stale_after: None,
        }
    }

    /// Sets [`download_cap`](AllocatorConfig::download_cap).
    #[must_use]
    pub const fn with_download_cap(mut self, bytes_per_s: u32) -> Self {
        self.download_cap = bytes_per_s;
        self
    }

    /// Sets [`upload_cap`](AllocatorConfig::upload_cap).
    #[must_use]
    pub const fn with_upload_cap(mut self, bytes_per_s: u32) -> Self {
        self.upload_cap = bytes_per_s;
        self
    }

    /// Sets [`change_interval`](AllocatorConfig::change_interval).
    #[must_use]
    pub const fn with_change_interval(mut self, interval: Duration) -> Self {
        self.change_interval = interval;
        self
    }

    /// Sets [`completion_grace`](AllocatorConfig::completion_grace).
    #[must_use]
    pub const fn with_completion_grace(mut self, grace: Duration) -> Self {
        self.completion_grace = grace;
        self
    }

    /// Sets [`stale_after`](AllocatorConfig::stale_after).
    #[must_use]
    pub const fn with_stale_after(mut self, after: Option<Duration>) -> Self {
        self.stale_after = after;
        self
    }

    const fn cap(&self, direction: LimitDirection) -> u32 {
        match direction {
            LimitDirection::Download => self.download_cap,
            LimitDirection::Upload => self.upload_cap,
        }
    }
}

/// One direction of a torrent's policy: the original CTCS's *Minimum*, *Maximum* and
/// *Shared* columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LimitPolicy {
    /// The limit never goes below this, bytes/s; 0 = no minimum (the floor is then
    /// 1 byte/s for a shared client under a finite cap, since 0 would mean unlimited).
    pub minimum: u32,
    /// The limit never goes above this, bytes/s; 0 = no maximum.
    pub maximum: u32,
    /// Whether the client takes part in the global pool. Default `true`.
    pub shared: bool,
}

impl Default for LimitPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl LimitPolicy {
    /// Shared, no minimum, no maximum.
    pub const fn new() -> Self {
        LimitPolicy {
            minimum: 0,
            maximum: 0,
            shared: true,
        }
    }

    /// Sets [`minimum`](LimitPolicy::minimum).
    #[must_use]
    pub const fn with_minimum(mut self, bytes_per_s: u32) -> Self {
        self.minimum = bytes_per_s;
        self
    }

    /// Sets [`maximum`](LimitPolicy::maximum).
    #[must_use]
    pub const fn with_maximum(mut self, bytes_per_s: u32) -> Self {
        self.maximum = bytes_per_s;
        self
    }

    /// Sets [`shared`](LimitPolicy::shared).
    #[must_use]
    pub const fn with_shared(mut self, shared: bool) -> Self {
        self.shared = shared;
        self
    }

    /// The floor a limit this policy governs may not go below (at least 1: 0 is
    /// unlimited).
    fn floor(&self) -> u64 {
        u64::from(self.minimum.max(1))
    }

    /// The ceiling, [`UNLIMITED`] if none.
    fn ceiling(&self) -> u64 {
        if self.maximum == 0 {
            UNLIMITED
        } else {
            u64::from(self.maximum)
        }
    }

    fn check(&self, argument: &'static str) -> Result<(), UsageError> {
        let inverted = self.maximum != 0 && self.minimum > self.maximum;
        if inverted || self.minimum > MAX_LIMIT || self.maximum > MAX_LIMIT {
            return Err(UsageError::invalid_value(argument));
        }
        Ok(())
    }
}

/// A torrent's policy: both directions and the share-ratio cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct TorrentPolicy {
    /// The download limit's policy.
    pub download: LimitPolicy,
    /// The upload limit's policy.
    pub upload: LimitPolicy,
    /// Upload/download ratio, in percent (150 = 1.5), from which the upload limit is held
    /// to `download_rate × cap / 100` (a seeder's to 1 byte/s or its minimum); 0 = none.
    /// See [`Allocator`], *Per-torrent policy*.
    pub share_ratio_cap: u32,
}

impl TorrentPolicy {
    /// Both directions shared without bounds, no share-ratio cap.
    pub const fn new() -> Self {
        TorrentPolicy {
            download: LimitPolicy::new(),
            upload: LimitPolicy::new(),
            share_ratio_cap: 0,
        }
    }

    /// Sets [`download`](TorrentPolicy::download).
    #[must_use]
    pub const fn with_download(mut self, policy: LimitPolicy) -> Self {
        self.download = policy;
        self
    }

    /// Sets [`upload`](TorrentPolicy::upload).
    #[must_use]
    pub const fn with_upload(mut self, policy: LimitPolicy) -> Self {
        self.upload = policy;
        self
    }

    /// Sets [`share_ratio_cap`](TorrentPolicy::share_ratio_cap), in percent.
    #[must_use]
    pub const fn with_share_ratio_cap(mut self, percent: u32) -> Self {
        self.share_ratio_cap = percent;
        self
    }

    const fn direction(&self, direction: LimitDirection) -> &LimitPolicy {
        match direction {
            LimitDirection::Download => &self.download,
            LimitDirection::Upload => &self.upload,
        }
    }
}

/// Session totals, as in `CTSTATUS` (`DT,UT`), for the share-ratio cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransferTotals {
    /// Bytes downloaded (or the torrent's size, to count a pure seeder's ratio the way the
    /// original did).
    pub downloaded: u64,
    /// Bytes uploaded.
    pub uploaded: u64,
}

/// A client's latest state, as its `CTSTATUS` or `CTBW` says it: rates and limits in
/// bytes/s, exactly the wire's C `int`s. The allocator takes a limit of 0 or below as no
/// limit (dnh3.3.2 accepts and echoes negative limits; 0 is its "unlimited") and a
/// negative rate as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClientReport {
    /// Download rate (`DR`).
    pub download_rate: i32,
    /// Upload rate (`UR`).
    pub upload_rate: i32,
    /// Download limit (`DL`), 0 = none.
    pub download_limit: i32,
    /// Upload limit (`UL`), 0 = none.
    pub upload_limit: i32,
    /// Whether the client has the whole torrent (`CTSTATUS` `H` = `T`; `CTBW` does not
    /// say, so keep the last `CTSTATUS`'s answer).
    pub seeding: bool,
    /// When the download completed, if known (`CTDETAIL`'s seed time); only read while
    /// seeding. If `None` and the client was seen downloading before, the report that
    /// first says `seeding` is taken as the completion time.
    pub completed_at: Option<Instant>,
    /// Session totals; `None` (`CTBW`) keeps the previous ones.
    pub totals: Option<TransferTotals>,
}

impl ClientReport {
    /// A downloading client's rates and limits (what `CTBW` carries).
    pub const fn new(
        download_rate: i32,
        upload_rate: i32,
        download_limit: i32,
        upload_limit: i32,
    ) -> Self {
        ClientReport {
            download_rate,
            upload_rate,
            download_limit,
            upload_limit,
            seeding: false,
            completed_at: None,
            totals: None,
        }
    }

    /// Marks the client as seeding since `completed_at` (`None`: unknown).
    #[must_use]
    pub const fn with_seeding(mut self, completed_at: Option<Instant>) -> Self {
        self.seeding = true;
        self.completed_at = completed_at;
        self
    }

    /// Sets [`totals`](ClientReport::totals).
    #[must_use]
    pub const fn with_totals(mut self, downloaded: u64, uploaded: u64) -> Self {
        self.totals = Some(TransferTotals {
            downloaded,
            uploaded,
        });
        self
    }

    fn rate(&self, direction: LimitDirection) -> u64 {
        let r = match direction {
            LimitDirection::Download => self.download_rate,
            LimitDirection::Upload => self.upload_rate,
        };
        u64::try_from(r).unwrap_or(0)
    }

    fn limit(&self, direction: LimitDirection) -> u64 {
        let l = match direction {
            LimitDirection::Download => self.download_limit,
            LimitDirection::Upload => self.upload_limit,
        };
        match u64::try_from(l) {
            Ok(l) if l > 0 => l,
            _ => UNLIMITED,
        }
    }
}

/// One limit to send: `SETDLIMIT` or `SETULIMIT` to `client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct LimitCommand<K> {
    /// The client, as the caller named it in [`Allocator::report`].
    pub client: K,
    /// Which limit: download (`SETDLIMIT`) or upload (`SETULIMIT`).
    pub direction: LimitDirection,
    /// The new limit in bytes/s, at most [`MAX_LIMIT`]; 0 = unlimited.
    pub limit: u32,
}

impl<K> LimitCommand<K> {
    /// The limit as the wire's C `int`, for `ServerSession::set_download_limit` and
    /// `set_upload_limit`.
    pub fn bytes_per_s(&self) -> i32 {
        i32::try_from(self.limit).unwrap_or(i32::MAX)
    }
}

/// What the allocator did to one limit of one client.
#[derive(Debug, Clone, Copy, Default)]
struct Managed {
    /// The limit last sent ([`UNLIMITED`] for 0), `None` if never, or forgotten.
    assigned: Option<u64>,
    /// When it was last sent.
    changed_at: Option<Instant>,
}

impl Managed {
    fn allowed(&self, now: Instant, interval: Duration) -> bool {
        // At least 1 ms: one limit changes at most once per `now`, so draining
        // `poll_command` ends after at most two commands per client.
        let interval = interval.max(Duration::from_millis(1));
        self.changed_at
            .map_or(true, |t| now >= t.saturating_add(interval))
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot<K> {
    key: K,
    report: ClientReport,
    reported_at: Instant,
    totals: Option<TransferTotals>,
    completed_at: Option<Instant>,
    policy: TorrentPolicy,
    download: Managed,
    upload: Managed,
}

impl<K> Slot<K> {
    const fn managed(&self, direction: LimitDirection) -> &Managed {
        match direction {
            LimitDirection::Download => &self.download,
            LimitDirection::Upload => &self.upload,
        }
    }

    fn managed_mut(&mut self, direction: LimitDirection) -> &mut Managed {
        match direction {
            LimitDirection::Download => &mut self.download,
            LimitDirection::Upload => &mut self.upload,
        }
    }

    /// The limit in force as far as the allocator knows.
    fn current(&self, direction: LimitDirection) -> u64 {
        self.managed(direction)
            .assigned
            .unwrap_or(self.report.limit(direction))
    }

    /// The ceiling after the share-ratio cap.
    fn ceiling(&self, direction: LimitDirection) -> u64 {
        let policy = self.policy.direction(direction);
        let ceiling = policy.ceiling();
        if direction == LimitDirection::Download || self.policy.share_ratio_cap == 0 {
            return ceiling;
        }
        let Some(totals) = self.totals else {
            return ceiling;
        };
        let cap = u128::from(self.policy.share_ratio_cap);
        let reached = totals.downloaded > 0
            && u128::from(totals.uploaded).saturating_mul(100)
                >= cap.saturating_mul(u128::from(totals.downloaded));
        if !reached {
            return ceiling;
        }
        let paced = u128::from(self.report.rate(LimitDirection::Download))
            .saturating_mul(cap)
            .checked_div(100)
            .unwrap_or(0);
        // Clamped like every limit sent, so the client can echo it back unchanged.
        let paced = u64::try_from(paced)
            .unwrap_or(UNLIMITED)
            .min(u64::from(MAX_LIMIT));
        ceiling.min(paced).max(policy.floor())
    }
}

/// How one limit of one client takes part in a round.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// Not the allocator's business.
    Unmanaged,
    /// Held where it is (a completed download in its grace period, or lowered for good),
    /// counted in the pool at `value` if `pooled`.
    Fixed { value: u64, pooled: bool },
    /// A seeder past its grace period: lower it once, to `to`.
    Retire { to: u64, pooled: bool },
    /// Outside the pool: kept within `[floor, ceiling]`, moved to `target`.
    Bounded {
        target: u64,
        floor: u64,
        ceiling: u64,
    },
    /// In the pool; `busy` clients are first in line for the spare.
    Pooled {
        want: u64,
        floor: u64,
        ceiling: u64,
        target: u64,
        busy: bool,
    },
}

/// The smallest change worth sending from `current`.
fn dead_band(current: u64) -> u64 {
    eighth(current).max(u64::from(MIN_STEP))
}

fn eighth(x: u64) -> u64 {
    x.checked_div(8).unwrap_or(0)
}

/// `x` plus a quarter plus [`MIN_STEP`]: the headroom a client is given above its use.
fn with_headroom(x: u64) -> u64 {
    x.saturating_add(x.checked_div(4).unwrap_or(0))
        .saturating_add(u64::from(MIN_STEP))
}

/// `x` pushed into `[floor, ceiling]`; the floor wins if they cross.
fn bound(x: u64, floor: u64, ceiling: u64) -> u64 {
    x.min(ceiling).max(floor)
}

/// The water level: the largest `level ≤ budget` with `Σ bound(level, lo, hi) ≤ budget`
/// over the `Some` entries. Binary search, so no sorting and no allocation.
fn water_level<const N: usize>(budget: u64, bounds: &[Option<(u64, u64)>; N]) -> u64 {
    let total = |level: u64| {
        bounds.iter().flatten().fold(0u64, |sum, &(lo, hi)| {
            sum.saturating_add(bound(level, lo, hi))
        })
    };
    let (mut low, mut high) = (0u64, budget);
    while low < high {
        let mid = low.saturating_add(high.saturating_sub(low).div_ceil(2));
        if total(mid) <= budget {
            low = mid;
        } else {
            high = mid.saturating_sub(1);
        }
    }
    low
}

/// A sans-IO global bandwidth allocator: the CTorrent Control Server's automatic
/// bandwidth management, rebuilt as data in, commands out, for up to `N` clients named by
/// keys of type `K` (a connection id, a peer id: anything `Copy + Eq`).
///
/// The original CTCS (Perl, version 1.4, described at
/// <http://www.rahul.net/dholmes/ctorrent/ctcs.html>) shared one download and one upload
/// limit among all the ctorrent clients connected to it. This type makes the same
/// decisions without sockets or clocks: the caller feeds each client's latest report
/// ([`ClientReport`], from its `CTSTATUS` and `CTBW` lines), the operator's caps
/// ([`AllocatorConfig`]) and per-torrent policy ([`TorrentPolicy`]); [`Allocator::poll_command`]
/// answers with the `SETDLIMIT`/`SETULIMIT` to send ([`LimitCommand`]), one at a time.
///
/// ```
/// use trackwire::ctcs::{Allocator, AllocatorConfig, LimitDirection, ClientReport};
/// use trackwire::Instant;
///
/// // 100 KB/s down for everyone, upload unlimited.
/// let mut alloc = Allocator::new(AllocatorConfig::new(100_000, 0));
/// let now = Instant::from_secs(10);
/// // Two downloaders, both running flat out at their own -D 80 KB/s.
/// alloc.report(now, "a", ClientReport::new(80_000, 0, 80_000, 0)).unwrap();
/// alloc.report(now, "b", ClientReport::new(80_000, 0, 80_000, 0)).unwrap();
/// let mut sent = Vec::new();
/// while let Some(cmd) = alloc.poll_command(now) {
///     sent.push((cmd.client, cmd.direction, cmd.limit));
/// }
/// // Each gets its equal share of the pool.
/// assert!(sent.contains(&("a", LimitDirection::Download, 50_000)));
/// assert!(sent.contains(&("b", LimitDirection::Download, 50_000)));
/// ```
///
/// # The algorithm
///
/// Each direction is allocated on its own, the same way. Only clients whose policy says
/// *shared* take part in the pool, and only while the cap is finite; this is the
/// original's "Shared" column ("CTCS will dynamically manage the client's bandwidth only
/// if the Shared option is checked").
///
/// 1. **Demand.** A client whose rate is within 1/8 of its limit is *busy*: it would use
///    more, so it wants its limit plus a quarter plus [`MIN_STEP`], and never less than its
///    equal share of the pool. Why the jump to the equal share: CTCS 1.3 made "the average
///    bandwidth available per client … an implied minimum" to avoid "a slow and difficult
///    ramp-up period when an idle client suddenly acquires an active peer". A client that
///    is not busy wants its rate plus a quarter plus [`MIN_STEP`]: enough headroom that the
///    same rate does not look busy at the new limit (1.25 × 7/8 > 1), so steady traffic
///    settles instead of oscillating. A client the allocator has never set also wants at
///    least its equal share: a newly started torrent has no history yet.
/// 2. **Lending (max-min fair water-filling).** Every client first gets its minimum, then
///    the pool is filled evenly up to what each wants: a client that wants less than the
///    others keeps only what it wants, and what it leaves is shared equally by the busy
///    ones. So a busy client borrows an idle client's share, two busy clients split it
///    equally, and a busy client is never held below the equal share (or its explicit
///    minimum) — the original's "Minimum: if the torrent wants bandwidth up to this level,
///    it will receive it at the expense of other torrents".
/// 3. **Spare.** What is left after step 2 goes to the busy clients, evenly, up to their
///    maximums: the idle clients' share is lent at once rather than by +25 % steps, and an
///    idle client keeps just its headroom. Only when no busy client can take more is the
///    rest spread evenly over everyone, so the limits add up to the cap. A lender that
///    becomes busy gets its equal share back as soon as the borrowers' and its own change
///    intervals allow (step 1).
/// 4. **Committing without overshoot.** The allocator remembers the limit it last set for
///    each client (its *assigned* limit) and keeps the assigned limits of the pool within
///    the cap at every step: decreases are sent before increases, a raise only takes room
///    that decreases have freed, and a client's first limit waits until its whole target
///    fits. Until then that client runs at the limit it came with.
/// 5. **Pacing and hysteresis.** One client's limit (in one direction) changes at most once
///    per [`AllocatorConfig::change_interval`] (the original's `-i`, default 5 s: "higher
///    values will reduce oscillation … too high will cause very slow reactions"). Changes
///    smaller than 1/8 of the current limit (and at least [`MIN_STEP`]) are not sent,
///    unless they are needed: a limit outside its minimum and maximum, a pool above its
///    cap, or a client waiting for room.
///
/// A pool whose minimums add up to more than the cap gives everyone exactly their minimum:
/// minimums are promises, the cap is exceeded only by what they force.
///
/// # Per-torrent policy
///
/// [`LimitPolicy`] per direction, as on the original's *Advanced limits* page: a
/// **minimum** the client's limit never goes below, a **maximum** it never goes above (0 =
/// none), and **shared**: whether the pool manages it. A client that is not shared is left
/// at its own limit, only moved into its minimum and maximum. A shared client under an
/// unlimited cap is given its maximum (0 = unlimited).
///
/// The **share-ratio cap** ([`TorrentPolicy::share_ratio_cap`], in percent, 0 = none)
/// limits what a client gives away. With `uploaded` and `downloaded` from its last
/// [`TransferTotals`], once `uploaded × 100 ≥ cap × downloaded` (and `downloaded > 0`), its upload
/// maximum becomes `download_rate × cap / 100`, but not less than its upload minimum nor
/// 1 byte/s: while it downloads it uploads at the target ratio of what it receives, and a
/// seeder (download rate 0) is stopped — 1 byte/s is the smallest limit there is, since 0
/// means unlimited. The original's "SR" option tied the same idea to the client's `-E` and
/// did not apply to seeders; here it is the operator's own number and applies to seeders
/// too, so a seeder can be held without quitting it. The original counted the torrent's
/// size as downloaded when nothing was; pass that in [`TransferTotals::downloaded`] to do the same.
///
/// # Completion, silence, leaving, unlimited
///
/// * **A completed download is not throttled down before the grace period**
///   ([`AllocatorConfig::completion_grace`], default 3 minutes) — CTCS 1.3: "wait a few
///   minutes after a client becomes seed to reduce the download limit. This allows duplicate
///   slices still in flight to be received". During the grace period its download limit is
///   left as it is (and still counted in the pool); afterwards it is lowered once, to its
///   download minimum or 1 byte/s, and stays there: a seeding dnh3.3.2 ignores a
///   `SETDLIMIT` that would raise its limit, and has nothing to download. A client that is
///   already seeding when first seen, or whose completion time is unknown, gets no grace.
///   A seeder whose download limit is 0 (unlimited) keeps it: dnh3.3.2 would refuse any
///   other value, and it downloads nothing. A seeder whose limit the allocator never set
///   is lowered only once the pool has room for its new limit, like a newcomer.
/// * **Silence means unchanged.** dnh3.3.2 sends `CTBW` every second whenever a rate or
///   limit changed and nothing at all when none did (an idle seeder is silent for good), so
///   the last report stays valid. [`AllocatorConfig::stale_after`] (default off) treats a
///   client silent for that long as idle: its rates count as 0, so its share is lent out;
///   it keeps its minimum, and gets its equal share back as soon as it reports being busy.
/// * **Leaving.** [`Allocator::remove`] (on disconnect, or when the session says the client
///   is gone): its assigned limits return to the pool at once and are handed out by the
///   following commands.
/// * **Unlimited.** A cap of 0 is unlimited, as is a maximum of 0 and a reported limit of
///   0 or below. Under a finite cap a shared client never gets 0, since it would be
///   unlimited; the smallest limit sent is 1 byte/s.
/// * **Limits changed behind the allocator's back** (the local operator's `d`/`u` keys):
///   a report showing another limit than the one assigned, more than 3 s
///   after it was sent (dnh3.3.2 reports a change within a second), makes the allocator
///   forget its assignment and set the client again, within the same pacing.
///
/// # Driving it
///
/// Call [`Allocator::report`] for every `CTSTATUS`/`CTBW`, then drain
/// [`Allocator::poll_command`] and send each command through the client's session
/// (`ServerSession::set_download_limit(cmd.bytes_per_s())` …), then wait until
/// [`Allocator::poll_timeout`] or the next report. Nothing allocates; the number of clients
/// is the const generic `N`.
#[derive(Debug, Clone)]
pub struct Allocator<K, const N: usize = DEFAULT_ALLOCATOR_CAPACITY> {
    config: AllocatorConfig,
    slots: [Option<Slot<K>>; N],
    now: Instant,
}

impl<K: Copy + Eq> Allocator<K> {
    /// An allocator for [`DEFAULT_ALLOCATOR_CAPACITY`] clients; see
    /// [`new_sized`](Allocator::new_sized) for another capacity.
    pub fn new(config: AllocatorConfig) -> Self {
        Self::new_sized(config)
    }
}

impl<K: Copy + Eq, const N: usize> Allocator<K, N> {
    /// An allocator for `N` clients.
    pub fn new_sized(config: AllocatorConfig) -> Self {
        Allocator {
            config,
            slots: core::array::from_fn(|_| None),
            now: Instant::ZERO,
        }
    }

    /// The configuration in force.
    pub const fn config(&self) -> &AllocatorConfig {
        &self.config
    }

    /// Changes the download cap (bytes/s, 0 = unlimited). A lower cap is reached as fast
    /// as the change interval lets each client be lowered.
    pub fn set_download_cap(&mut self, bytes_per_s: u32) {
        self.config.download_cap = bytes_per_s;
    }

    /// Changes the upload cap (bytes/s, 0 = unlimited).
    pub fn set_upload_cap(&mut self, bytes_per_s: u32) {
        self.config.upload_cap = bytes_per_s;
    }

    /// Changes the change interval (the original's main page had it beside the caps); it
    /// applies to the next change of every client, counted from that client's last one.
    pub fn set_change_interval(&mut self, interval: Duration) {
        self.config.change_interval = interval;
    }

    /// Records `client`'s latest report, received at `now`. A client not seen before is
    /// added with the default [`TorrentPolicy`] (both directions shared, no bounds); set
    /// its own with [`set_policy`](Self::set_policy) before the next
    /// [`poll_command`](Self::poll_command).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) (`"clients"`) if `client` is
    /// new and all `N` slots are in use.
    pub fn report(
        &mut self,
        now: Instant,
        client: K,
        report: ClientReport,
    ) -> Result<(), UsageError> {
        self.now = self.now.max(now);
        let index = match self.find(client) {
            Some(i) => i,
            None => {
                let i = self
                    .slots
                    .iter()
                    .position(Option::is_none)
                    .ok_or(UsageError::full("clients"))?;
                if let Some(slot) = self.slots.get_mut(i) {
                    *slot = Some(Slot {
                        key: client,
                        report,
                        reported_at: now,
                        totals: None,
                        // Seeding when first seen: completed at an unknown time, no grace.
                        completed_at: report.completed_at.filter(|_| report.seeding),
                        policy: TorrentPolicy::new(),
                        download: Managed::default(),
                        upload: Managed::default(),
                    });
                }
                i
            }
        };
        let Some(Some(slot)) = self.slots.get_mut(index) else {
            return Ok(());
        };
        slot.completed_at = match (report.seeding, slot.report.seeding) {
            (false, _) => None,
            // The first report that says "seeding" after downloading.
            (true, false) => report.completed_at.or(Some(now)),
            (true, true) => report.completed_at.or(slot.completed_at),
        };
        if report.totals.is_some() {
            slot.totals = report.totals;
        }
        for direction in LimitDirection::BOTH {
            // A seed refuses raises of its download limit: a mismatch there is expected.
            if direction == LimitDirection::Download && report.seeding {
                continue;
            }
            let reported = report.limit(direction);
            let managed = slot.managed_mut(direction);
            let settled = managed
                .changed_at
                .map_or(true, |t| now >= t.saturating_add(SETTLE));
            if managed.assigned.is_some_and(|a| a != reported) && settled {
                managed.assigned = None;
            }
        }
        slot.report = report;
        slot.reported_at = now;
        Ok(())
    }

    /// Sets `client`'s policy; it applies from the next
    /// [`poll_command`](Self::poll_command).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::UnknownHandle`](crate::UsageErrorKind::UnknownHandle)
    /// (`"client"`) if `client` has not reported;
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue)
    /// (`"policy.download"` or `"policy.upload"`) if a minimum exceeds its maximum or a
    /// value exceeds [`MAX_LIMIT`].
    pub fn set_policy(&mut self, client: K, policy: TorrentPolicy) -> Result<(), UsageError> {
        policy.download.check("policy.download")?;
        policy.upload.check("policy.upload")?;
        let slot = self
            .slots
            .iter_mut()
            .flatten()
            .find(|s| s.key == client)
            .ok_or(UsageError::unknown_handle("client"))?;
        slot.policy = policy;
        Ok(())
    }

    /// `client`'s policy, if it is known.
    pub fn policy(&self, client: K) -> Option<TorrentPolicy> {
        self.slot(client).map(|s| s.policy)
    }

    /// Forgets `client` (it disconnected): its share returns to the pool. Returns whether
    /// it was known.
    pub fn remove(&mut self, client: K) -> bool {
        match self.find(client).and_then(|i| self.slots.get_mut(i)) {
            Some(slot) => {
                *slot = None;
                true
            }
            None => false,
        }
    }

    /// The limit last sent to `client` in `direction` (bytes/s, 0 = unlimited), `None` if
    /// none was (or it was overridden on the client since).
    pub fn assigned(&self, client: K, direction: LimitDirection) -> Option<u32> {
        let assigned = self.slot(client)?.managed(direction).assigned?;
        Some(to_wire(assigned))
    }

    /// How many clients are tracked.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next limit to send at `now`, or `None` when nothing is due. Call it until it
    /// returns `None` (at most two commands per client for one `now`); each command is
    /// recorded as sent (the allocator assumes the caller sends it). `now` earlier than a
    /// time seen before counts as that time.
    #[must_use]
    pub fn poll_command(&mut self, now: Instant) -> Option<LimitCommand<K>> {
        self.now = self.now.max(now);
        let now = self.now;
        for direction in LimitDirection::BOTH {
            if let Some((index, limit)) = self.next_change(direction, now) {
                let slot = self.slots.get_mut(index)?.as_mut()?;
                let managed = slot.managed_mut(direction);
                managed.assigned = Some(limit);
                managed.changed_at = Some(now);
                return Some(LimitCommand {
                    client: slot.key,
                    direction,
                    limit: to_wire(limit),
                });
            }
        }
        None
    }

    /// When [`poll_command`](Self::poll_command) may have something new without a new
    /// report: the end of a change interval that holds back a change, of a grace period,
    /// or of a client's silence. Valid after `poll_command` returned `None`; always later
    /// than the last `now` given.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.now;
        let interval = self.config.change_interval.max(Duration::from_millis(1));
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if t > now {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for direction in LimitDirection::BOTH {
            let plan = self.plan(direction, now);
            for (slot, entry) in self.slots.iter().zip(plan.iter()) {
                let Some(slot) = slot else { continue };
                let managed = slot.managed(direction);
                let current = slot.current(direction);
                let pending = match *entry {
                    Entry::Unmanaged | Entry::Fixed { .. } => false,
                    Entry::Retire { .. } => true,
                    Entry::Bounded { target, .. } | Entry::Pooled { target, .. } => {
                        target != current
                    }
                };
                if pending && !managed.allowed(now, interval) {
                    if let Some(t) = managed.changed_at {
                        consider(t.saturating_add(interval));
                    }
                }
            }
        }
        for slot in self.slots.iter().flatten() {
            if let Some(t) = slot.completed_at {
                consider(t.saturating_add(self.config.completion_grace));
            }
            if let Some(after) = self.config.stale_after {
                consider(slot.reported_at.saturating_add(after));
            }
        }
        next
    }

    fn find(&self, client: K) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.key == client))
    }

    fn slot(&self, client: K) -> Option<&Slot<K>> {
        self.slots.iter().flatten().find(|s| s.key == client)
    }

    fn is_stale(&self, slot: &Slot<K>, now: Instant) -> bool {
        self.config
            .stale_after
            .is_some_and(|after| now >= slot.reported_at.saturating_add(after))
    }

    /// Where every client's limit in `direction` should be.
    fn plan(&self, direction: LimitDirection, now: Instant) -> [Entry; N] {
        let cap = u64::from(self.config.cap(direction));
        let grace = self.config.completion_grace;
        let mut plan = [Entry::Unmanaged; N];
        // Pass 1: everything but the pooled demand.
        for (entry, slot) in plan.iter_mut().zip(self.slots.iter()) {
            let Some(slot) = slot else { continue };
            let policy = slot.policy.direction(direction);
            let managed = slot.managed(direction);
            let current = slot.current(direction);
            let pooled = cap != 0 && policy.shared;
            if direction == LimitDirection::Download && slot.report.seeding {
                if !pooled {
                    continue;
                }
                let in_grace = slot
                    .completed_at
                    .is_some_and(|t| now < t.saturating_add(grace));
                let to = policy.floor();
                *entry = if !in_grace && current != UNLIMITED && current > to {
                    Entry::Retire {
                        to,
                        pooled: managed.assigned.is_some(),
                    }
                } else if let Some(value) = managed.assigned {
                    Entry::Fixed {
                        value,
                        pooled: true,
                    }
                } else {
                    Entry::Unmanaged
                };
                continue;
            }
            let floor = policy.floor();
            let ceiling = slot.ceiling(direction).max(floor);
            // A pooled limit is always a number the client can hold.
            let pooled_ceiling = ceiling.min(u64::from(MAX_LIMIT));
            *entry = if !policy.shared {
                Entry::Bounded {
                    target: if current == UNLIMITED && ceiling == UNLIMITED {
                        UNLIMITED
                    } else {
                        bound(current, floor, ceiling)
                    },
                    floor,
                    ceiling,
                }
            } else if cap == 0 {
                Entry::Bounded {
                    target: ceiling,
                    floor,
                    ceiling,
                }
            } else {
                Entry::Pooled {
                    want: 0,
                    floor,
                    ceiling: pooled_ceiling,
                    target: 0,
                    busy: false,
                }
            };
        }
        if cap == 0 {
            return plan;
        }
        // Pass 2: the pool's budget after what is held fixed, and the equal share.
        let (held, flexible) = plan.iter().fold((0u64, 0u64), |(held, n), e| match *e {
            Entry::Fixed {
                value,
                pooled: true,
            } => (held.saturating_add(value), n),
            Entry::Retire { to, .. } => (held.saturating_add(to), n),
            Entry::Pooled { .. } => (held, n.saturating_add(1)),
            _ => (held, n),
        });
        let budget = cap.saturating_sub(held);
        let fair = budget.checked_div(flexible).unwrap_or(0);
        // Pass 3: demand.
        for (entry, slot) in plan.iter_mut().zip(self.slots.iter()) {
            let (
                Entry::Pooled {
                    want,
                    floor,
                    ceiling,
                    busy,
                    ..
                },
                Some(slot),
            ) = (entry, slot)
            else {
                continue;
            };
            let current = slot.current(direction);
            let rate = if self.is_stale(slot, now) {
                0
            } else {
                slot.report.rate(direction)
            };
            *busy = current != UNLIMITED && rate >= current.saturating_sub(eighth(current));
            let mut demand = if *busy {
                with_headroom(current).max(fair)
            } else {
                with_headroom(rate)
            };
            if slot.managed(direction).assigned.is_none() {
                demand = demand.max(fair);
            }
            *want = bound(demand, *floor, *ceiling);
        }
        // Pass 4: lend (fill up to the wants), then hand out the spare up to the ceilings:
        // to the busy clients first (the idle ones' share is lent to them), then, if even
        // they are full, evenly to everyone.
        let mut bounds = [None; N];
        for (b, e) in bounds.iter_mut().zip(plan.iter()) {
            if let Entry::Pooled { want, floor, .. } = *e {
                *b = Some((floor, want));
            }
        }
        let lend = water_level(budget, &bounds);
        let mut given = 0u64;
        for (b, e) in bounds.iter_mut().zip(plan.iter_mut()) {
            if let Entry::Pooled {
                want,
                floor,
                ceiling,
                target,
                busy,
            } = e
            {
                *target = bound(lend, *floor, *want);
                given = given.saturating_add(*target);
                *b = Some((*target, if *busy { *ceiling } else { *target }));
            }
        }
        for busy_only in [true, false] {
            if given >= budget {
                break;
            }
            let spread = water_level(budget, &bounds);
            given = 0;
            for (b, e) in bounds.iter_mut().zip(plan.iter_mut()) {
                if let Entry::Pooled {
                    ceiling,
                    target,
                    busy,
                    ..
                } = e
                {
                    if *busy || !busy_only {
                        *target = bound(spread, *target, *ceiling);
                    }
                    given = given.saturating_add(*target);
                    *b = Some((*target, *ceiling));
                }
            }
        }
        plan
    }

    /// The one change to make now in `direction`, if any: `(slot index, new limit)`.
    fn next_change(&self, direction: LimitDirection, now: Instant) -> Option<(usize, u64)> {
        let plan = self.plan(direction, now);
        let interval = self.config.change_interval;
        let cap = u64::from(self.config.cap(direction));
        let rows = || {
            self.slots
                .iter()
                .zip(plan.iter())
                .enumerate()
                .filter_map(|(i, (s, e))| s.as_ref().map(|s| (i, s, *e)))
        };
        // Outside the pool nothing competes: fix what is outside its bounds, follow big
        // moves, retire seeders.
        for (i, slot, entry) in rows() {
            let managed = slot.managed(direction);
            if !managed.allowed(now, interval) {
                continue;
            }
            let current = slot.current(direction);
            match entry {
                // Lowering what the pool already counts needs no room.
                Entry::Retire { to, pooled: true } => return Some((i, to)),
                Entry::Bounded {
                    target,
                    floor,
                    ceiling,
                } if target != current => {
                    let outside = current < floor || current > ceiling;
                    let big = current.abs_diff(target) > dead_band(current.min(target));
                    if outside || big || managed.assigned.is_none() {
                        return Some((i, target));
                    }
                }
                _ => {}
            }
        }
        // The pool: what is committed, what is asked for.
        let mut committed = 0u64;
        let mut floors = 0u64;
        let mut reserve = 0u64;
        let mut needed = 0u64;
        for (_, slot, entry) in rows() {
            let assigned = slot.managed(direction).assigned;
            match entry {
                Entry::Fixed {
                    value,
                    pooled: true,
                } => {
                    committed = committed.saturating_add(value);
                    floors = floors.saturating_add(value);
                }
                Entry::Retire { to, pooled } => {
                    if pooled {
                        committed = committed.saturating_add(assigned.unwrap_or(0));
                    } else {
                        // A seeder the pool never counted joins it at `to`.
                        reserve = reserve.saturating_add(to);
                    }
                    floors = floors.saturating_add(to);
                }
                Entry::Pooled { floor, target, .. } => {
                    floors = floors.saturating_add(floor);
                    match assigned {
                        Some(a) => {
                            committed = committed.saturating_add(a);
                            if target > a && (a < floor || target.saturating_sub(a) > dead_band(a))
                            {
                                needed = needed.saturating_add(target.saturating_sub(a));
                            }
                        }
                        None => reserve = reserve.saturating_add(target),
                    }
                }
                _ => {}
            }
        }
        let room = cap.saturating_sub(committed);
        let overbooked = floors > cap;
        let pressure = committed > cap || needed.saturating_add(reserve) > room;
        // 1. Decreases, largest first: they make the room everything else needs.
        let decrease = rows()
            .filter_map(|(i, slot, entry)| {
                let Entry::Pooled {
                    ceiling, target, ..
                } = entry
                else {
                    return None;
                };
                let managed = slot.managed(direction);
                let a = managed.assigned?;
                let worth = a > ceiling || pressure || a.saturating_sub(target) > dead_band(a);
                (a > target && worth && managed.allowed(now, interval)).then_some((
                    a.saturating_sub(target),
                    i,
                    target,
                ))
            })
            .max_by_key(|&(by, ..)| by);
        if let Some((_, i, target)) = decrease {
            return Some((i, target));
        }
        // 2. First limits for new clients (and seeders the pool never counted), whole or
        //    not at all.
        for (i, slot, entry) in rows() {
            let (floor, target) = match entry {
                Entry::Pooled { floor, target, .. } => (floor, target),
                Entry::Retire { to, pooled: false } => (to, to),
                _ => continue,
            };
            {
                let managed = slot.managed(direction);
                if managed.assigned.is_none()
                    && managed.allowed(now, interval)
                    && (target <= room || (overbooked && target == floor))
                {
                    return Some((i, target));
                }
            }
        }
        // 3. Raises, from the room new clients do not need.
        let spare = room.saturating_sub(reserve);
        for (i, slot, entry) in rows() {
            let Entry::Pooled { floor, target, .. } = entry else {
                continue;
            };
            let managed = slot.managed(direction);
            let Some(a) = managed.assigned else { continue };
            if a >= target || !managed.allowed(now, interval) {
                continue;
            }
            if a < floor {
                let to = if overbooked {
                    floor
                } else {
                    target.min(a.saturating_add(spare))
                };
                if to >= floor {
                    return Some((i, to));
                }
                continue;
            }
            let to = target.min(a.saturating_add(spare));
            if to > a
                && (to == target || to.saturating_sub(a) > dead_band(a))
                && target.saturating_sub(a) > dead_band(a)
            {
                return Some((i, to));
            }
        }
        None
    }
}

/// An internal limit as the wire's value: 0 for unlimited, at most [`MAX_LIMIT`].
fn to_wire(limit: u64) -> u32 {
    if limit == UNLIMITED {
        0
    } else {
        u32::try_from(limit).unwrap_or(MAX_LIMIT).min(MAX_LIMIT)
    }
}
