//! How an [`Announcer`](super::Announcer) walks its tiers and paces its rounds.

use core::time::Duration;

use crate::udp::client::RetryPolicy;

/// Which trackers a round announces to: the two ways torrent clients offer BEP 12
/// (<https://www.bittorrent.org/beps/bep_0012.html>) tiers.
///
/// In every mode a *walk* tries trackers one after another until one answers; the modes
/// differ in how many walks run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AnnounceMode {
    /// BEP 12 as written: one walk over every tracker, tier by tier. Each tier is
    /// shuffled once (with the announcer's seed) when announcing starts; trackers are
    /// tried in order, the first that answers moves to the front of its tier, and the
    /// next tier is tried only when every tracker of a tier failed. Each round starts
    /// again from the first tier.
    #[default]
    Tiers,
    /// One walk per tier, all tiers at once (libtorrent's `announce_to_all_tiers`,
    /// qBittorrent's "Always announce to all tiers"): one working tracker per tier.
    AllTiers,
    /// Every tracker on its own (libtorrent's `announce_to_all_trackers`, qBittorrent's
    /// "Always announce to all trackers in a tier", with all tiers).
    AllTrackers,
}

impl AnnounceMode {
    /// A stable snake_case name (`tiers`, `all_tiers`, `all`), for command lines and
    /// JSON.
    pub const fn name(self) -> &'static str {
        match self {
            AnnounceMode::Tiers => "tiers",
            AnnounceMode::AllTiers => "all_tiers",
            AnnounceMode::AllTrackers => "all",
        }
    }
}

/// How an [`Announcer`](super::Announcer) behaves. [`AnnouncerConfig::new`] gives the
/// defaults; the chainable `with_*` setters change one field each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnnouncerConfig {
    /// Which trackers a round announces to. Default [`AnnounceMode::Tiers`].
    pub mode: AnnounceMode,
    /// When each address's client retransmits and gives up; an address that gives up
    /// makes its family move to the tracker's next address. Default
    /// [`RetryPolicy::SEED`] (sends at 0, 15, 30, 45 s; gives up at 60 s).
    pub retry: RetryPolicy,
    /// The shortest wait between two rounds of a walk, whatever interval the tracker
    /// gave; also the wait after a round in which no tracker answered. Default 5 min
    /// (libtorrent's `min_announce_interval`).
    pub min_interval: Duration,
    /// The longest wait between two rounds, whatever interval the tracker gave. Default
    /// 1 hour.
    pub max_interval: Duration,
    /// How long [`Announcer::stop`](super::Announcer::stop) waits for the `stopped`
    /// announces to be answered before shutdown is declared done. Default 5 s
    /// (libtorrent's `stop_tracker_timeout`).
    pub stop_timeout: Duration,
    /// Whether a reply counts when it comes from another address of the same tracker
    /// (any address its name resolved to), not only from the address the request went
    /// to: for multi-homed trackers whose replies leave by another interface
    /// (libtorrent issue #7679). Transaction ids remain the check. Default `false`.
    pub accept_any_tracker_address: bool,
}

impl AnnouncerConfig {
    /// The defaults.
    pub const fn new() -> Self {
        AnnouncerConfig {
            mode: AnnounceMode::Tiers,
            retry: RetryPolicy::SEED,
            min_interval: Duration::from_secs(300),
            max_interval: Duration::from_secs(3600),
            stop_timeout: Duration::from_secs(5),
            accept_any_tracker_address: false,
        }
    }

    /// Sets [`mode`](AnnouncerConfig::mode).
    #[must_use]
    pub const fn with_mode(mut self, mode: AnnounceMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`retry`](AnnouncerConfig::retry).
    #[must_use]
    pub const fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets [`min_interval`](AnnouncerConfig::min_interval) and
    /// [`max_interval`](AnnouncerConfig::max_interval).
    #[must_use]
    pub const fn with_interval_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_interval = min;
        self.max_interval = max;
        self
    }

    /// Sets [`stop_timeout`](AnnouncerConfig::stop_timeout).
    #[must_use]
    pub const fn with_stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Sets [`accept_any_tracker_address`](AnnouncerConfig::accept_any_tracker_address).
    #[must_use]
    pub const fn with_accept_any_tracker_address(mut self, accept: bool) -> Self {
        self.accept_any_tracker_address = accept;
        self
    }
}

impl Default for AnnouncerConfig {
    /// [`AnnouncerConfig::new`].
    fn default() -> Self {
        AnnouncerConfig::new()
    }
}
