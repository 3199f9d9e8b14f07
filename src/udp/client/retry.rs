//! Retransmission schedules as data.

use core::time::Duration;

/// When an exchange retransmits and when it gives up.
///
/// An exchange sends at most [`max_sends`](RetryPolicy::max_sends) datagrams. After send
/// number `k` (counting from 0) it waits [`timeout(k)`](RetryPolicy::timeout) =
/// `initial_timeout × backoff^k`; if no reply arrived by then it sends again, or, after
/// the last send, times out. Deadlines are anchored to the previous deadline, not to the
/// moment the driver happened to call, so the schedule is exact:
///
/// | policy | sends at (s) | times out at (s) |
/// |---|---|---|
/// | [`RetryPolicy::SEED`] (the default) | 0, 15, 30, 45 | 60 |
/// | [`RetryPolicy::BEP15`] | 0, 15, 45, 105, 225, 465, 945, 1905, 3825 | 7665 |
/// | [`RetryPolicy::single`]`(10 s)` (libtorrent-like) | 0 | 10 |
///
/// A "send" is whatever the exchange needs at that moment: its request when a
/// connection id is cached, otherwise a connect (see the [`Client`](super::Client) docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    /// How long to wait for a reply to the first send.
    pub initial_timeout: Duration,
    /// The factor each wait is multiplied by after a send: 1 keeps it constant, 2 doubles
    /// it (BEP 15). 0 is treated as 1.
    pub backoff: u32,
    /// How many datagrams an exchange sends at most, the first included. 0 is treated
    /// as 1.
    pub max_sends: u32,
}

impl RetryPolicy {
    /// The rule of libtorrent's UDP tracker page
    /// (<https://www.libtorrent.org/udp_tracker_protocol.html>), the protocol's original
    /// description: "If no response to a request is received within 15 seconds, resend
    /// the request. If no reply has been received after 60 seconds, stop retrying."
    /// Sends at 0, 15, 30 and 45 s; times out at 60 s.
    pub const SEED: RetryPolicy = RetryPolicy {
        initial_timeout: Duration::from_secs(15),
        backoff: 1,
        max_sends: 4,
    };

    /// BEP 15: "If a response is not received after 15 * 2 ^ n seconds, the client
    /// should retransmit the request, where n starts at 0 and is increased up to 8 (3840
    /// seconds) after every retransmission." Nine sends, at 0, 15, 45, 105, 225, 465, 945,
    /// 1905 and 3825 s; the wait after the ninth is 15·2⁸ = 3840 s, so the exchange times
    /// out at 7665 s.
    pub const BEP15: RetryPolicy = RetryPolicy {
        initial_timeout: Duration::from_secs(15),
        backoff: 2,
        max_sends: 9,
    };

    /// One send, no retransmission, timing out after `timeout` (what libtorrent,
    /// Transmission and rqbit do, with 10–45 s).
    pub const fn single(timeout: Duration) -> Self {
        RetryPolicy {
            initial_timeout: timeout,
            backoff: 1,
            max_sends: 1,
        }
    }

    /// [`max_sends`](RetryPolicy::max_sends), at least 1.
    pub const fn sends(&self) -> u32 {
        if self.max_sends == 0 {
            1
        } else {
            self.max_sends
        }
    }

    /// The wait after send number `k` (from 0): `initial_timeout × backoff^k`,
    /// saturating.
    pub fn timeout(&self, k: u32) -> Duration {
        let factor = self.backoff.max(1).checked_pow(k).unwrap_or(u32::MAX);
        self.initial_timeout.saturating_mul(factor)
    }

    /// When send number `k` (from 0) happens, relative to the first, if the tracker
    /// never answers; `None` if the policy never makes that send.
    pub fn send_offset(&self, k: u32) -> Option<Duration> {
        if k >= self.sends() {
            return None;
        }
        Some(self.sum_of_timeouts(k))
    }

    /// The sum of the first `k` waits, stopping early once it saturates.
    fn sum_of_timeouts(&self, k: u32) -> Duration {
        let mut total = Duration::ZERO;
        for i in 0..k {
            total = total.saturating_add(self.timeout(i));
            if total == Duration::MAX {
                break;
            }
        }
        total
    }

    /// How long after the first send an unanswered exchange times out.
    pub fn give_up_after(&self) -> Duration {
        self.sum_of_timeouts(self.sends())
    }
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::SEED`].
    fn default() -> Self {
        RetryPolicy::SEED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(p: &RetryPolicy) -> std::vec::Vec<u64> {
        (0..)
            .map_while(|k| p.send_offset(k))
            .map(|d| d.as_secs())
            .collect()
    }

    #[test]
    fn schedules() {
        assert_eq!(secs(&RetryPolicy::SEED), [0, 15, 30, 45]);
        assert_eq!(RetryPolicy::SEED.give_up_after().as_secs(), 60);
        assert_eq!(
            secs(&RetryPolicy::BEP15),
            [0, 15, 45, 105, 225, 465, 945, 1905, 3825]
        );
        assert_eq!(RetryPolicy::BEP15.timeout(8).as_secs(), 3840);
        assert_eq!(RetryPolicy::BEP15.give_up_after().as_secs(), 7665);
        let one = RetryPolicy::single(Duration::from_secs(10));
        assert_eq!(secs(&one), [0]);
        assert_eq!(one.give_up_after().as_secs(), 10);
    }

    #[test]
    fn degenerate_values_saturate() {
        let p = RetryPolicy {
            initial_timeout: Duration::MAX,
            backoff: 0,
            max_sends: 0,
        };
        assert_eq!(p.sends(), 1);
        assert_eq!(p.timeout(40), Duration::MAX);
        assert_eq!(p.give_up_after(), Duration::MAX);
        let q = RetryPolicy {
            backoff: u32::MAX,
            max_sends: u32::MAX,
            ..RetryPolicy::BEP15
        };
        assert_eq!(
            q.timeout(3),
            Duration::from_secs(15).saturating_mul(u32::MAX)
        );
    }
}
