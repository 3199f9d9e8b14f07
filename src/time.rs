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

/// A bridge from `std::time::Instant` to [`Instant`], with a fixed origin.
#[cfg(feature = "std")]
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

    /// `t` as a `std::time::Instant` (saturating at the far future).
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        let d = Duration::from_millis(t.0);
        self.origin.checked_add(d).unwrap_or(self.origin)
    }
}

#[cfg(feature = "std")]
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
}
