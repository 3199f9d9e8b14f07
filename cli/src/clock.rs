//! The one place where wall time becomes the library's [`Instant`]: every driver in the
//! tool asks here, so a change in the library's clock API touches only this file.

use trackwire::time::{Instant, StdClock};

/// A monotonic clock starting when it is made.
#[derive(Clone, Copy)]
pub(crate) struct Clock(StdClock);

impl Clock {
    /// A clock whose origin is now.
    pub(crate) fn start() -> Self {
        Clock(StdClock::new())
    }

    /// The current time on the library's timeline.
    pub(crate) fn now(&self) -> Instant {
        self.0.now()
    }

    /// How long from now until `at` (zero if it has passed).
    pub(crate) fn until(&self, at: Instant) -> std::time::Duration {
        at.saturating_duration_since(self.now())
    }
}
