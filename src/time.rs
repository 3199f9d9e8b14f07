//! Time as data: the crate never reads a clock.
//!
//! [`Instant`] counts milliseconds since an origin the caller chooses (process start, boot,
//! the Unix epoch — anything monotonic). Intervals are [`core::time::Duration`]. Every
//! operation saturates, so time that goes backwards is treated as no time elapsed and
//! never panics.

use core::time::Duration;

/// A point in time: milliseconds since a caller-chosen origin on a monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin itself.
    pub const ZERO: Instant = Instant(0);

    /// The instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// The instant `s` seconds after the origin (saturating).
    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1000))
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time; sub-millisecond parts are dropped.
    pub fn saturating_add(self, d: Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }

    /// `self + d`, or `None` past the end of time.
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let ms = u64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).map(Instant)
    }

    /// `self - d`, saturating at the origin.
    pub fn saturating_sub(self, d: Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_sub(ms))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A bridge between `std::time::Instant` and [`Instant`], with a fixed origin.
///
/// A std or tokio driver makes one at start-up and reads every `now` from it, then turns
/// the machine's deadline back into a `std::time::Instant` to sleep until:
///
/// ```
/// use std::time::Duration;
/// use trackwire::{Instant, StdClock};
///
/// let clock = StdClock::new();
/// let now: Instant = clock.now(); // pass to handle_timeout, handle_datagram, …
/// let deadline = now.saturating_add(Duration::from_secs(15)); // as from poll_timeout()
/// let wake = clock.to_std(deadline); // for thread::sleep, tokio::time::sleep_until, …
/// assert!(wake > std::time::Instant::now());
/// assert_eq!(clock.at(wake), deadline);
/// ```
///
/// Milliseconds are the machines' resolution: [`at`](StdClock::at) and
/// [`now`](StdClock::now) round down, so a driver that sleeps until
/// [`to_std`](StdClock::to_std) of a deadline wakes at or after it, never before.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    origin: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        StdClock {
            origin: std::time::Instant::now(),
        }
    }

    /// A clock whose origin is `origin`.
    pub const fn with_origin(origin: std::time::Instant) -> Self {
        StdClock { origin }
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        self.at(std::time::Instant::now())
    }

    /// `t` on this clock (the origin if `t` is earlier).
    pub fn at(&self, t: std::time::Instant) -> Instant {
        let ms = t.saturating_duration_since(self.origin).as_millis();
        Instant(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The origin: the `std::time::Instant` that is [`Instant::ZERO`] on this clock.
    pub const fn origin(&self) -> std::time::Instant {
        self.origin
    }

    /// `t` as a `std::time::Instant`, for sleeping until a deadline.
    ///
    /// An instant the platform cannot represent becomes the latest one it can, not an
    /// earlier one: a deadline that came back in the past would make a driver spin.
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        let want = Duration::from_millis(t.0);
        if let Some(exact) = self.origin.checked_add(want) {
            return exact;
        }
        // Out of range (far beyond any real deadline): add what fits, halving the step
        // on each refusal. Every pass either halves `step` or shrinks `rest`, so this
        // ends within a few hundred passes.
        let (mut at, mut rest, mut step) = (self.origin, want, want);
        while !rest.is_zero() && !step.is_zero() {
            let s = step.min(rest);
            match at.checked_add(s) {
                Some(later) => {
                    at = later;
                    rest = rest.saturating_sub(s);
                }
                None => step = step.checked_div(2).unwrap_or(Duration::ZERO),
            }
        }
        at
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_both_ways() {
        let t = Instant::from_secs(15);
        assert_eq!(t.as_millis(), 15_000);
        assert_eq!(
            t.saturating_add(Duration::from_millis(1500)).as_millis(),
            16_500
        );
        assert_eq!(
            Instant::from_millis(u64::MAX - 1)
                .saturating_add(Duration::MAX)
                .as_millis(),
            u64::MAX
        );
        assert_eq!(
            Instant::from_millis(u64::MAX).checked_add(Duration::from_millis(1)),
            None
        );
        assert_eq!(
            Instant::ZERO.saturating_sub(Duration::from_secs(1)),
            Instant::ZERO
        );
        assert_eq!(Instant::ZERO.saturating_duration_since(t), Duration::ZERO);
        assert_eq!(
            t.saturating_duration_since(Instant::ZERO),
            Duration::from_secs(15)
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_bridge_round_trips() {
        let clock = StdClock::new();
        let later = std::time::Instant::now() + Duration::from_millis(2500);
        let t = clock.at(later);
        assert!(t.as_millis() >= 2500);
        assert_eq!(clock.at(clock.to_std(t)), t);
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_bridge_counts_from_its_origin() {
        let origin = std::time::Instant::now();
        let clock = StdClock::with_origin(origin);
        assert_eq!(clock.origin(), origin);
        assert_eq!(clock.at(origin), Instant::ZERO);
        // Before the origin reads as the origin: time never runs backwards into a panic.
        if let Some(before) = origin.checked_sub(Duration::from_secs(1)) {
            assert_eq!(clock.at(before), Instant::ZERO);
        }
        // Sub-millisecond parts round down, so sleeping until to_std(deadline) is never early.
        let t = origin + Duration::from_micros(2_999);
        assert_eq!(clock.at(t), Instant::from_millis(2));
        assert_eq!(
            clock.to_std(Instant::from_millis(1500)),
            origin + Duration::from_millis(1500)
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_clock_now_follows_the_std_clock() {
        let clock = StdClock::new();
        let first = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        let second = clock.now();
        assert!(second.saturating_duration_since(first) >= Duration::from_millis(20));
        // A deadline read back is where the std clock will reach it, not before now.
        let deadline = second.saturating_add(Duration::from_secs(15));
        let wake = clock.to_std(deadline);
        assert_eq!(
            wake,
            clock.origin() + Duration::from_millis(deadline.as_millis())
        );
        assert!(wake > std::time::Instant::now());
    }

    #[cfg(feature = "std")]
    #[test]
    fn unrepresentable_deadline_saturates_late_not_early() {
        let clock = StdClock::new();
        let end = clock.to_std(Instant::from_millis(u64::MAX));
        // Whatever the platform's range, the far future never comes back as the past.
        assert!(end >= clock.to_std(Instant::from_secs(3600)));
        assert!(end > clock.origin());
    }
}
