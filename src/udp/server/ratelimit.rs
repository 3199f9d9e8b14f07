//! Per-source rate limiting: a fixed table of token buckets shared by all workers. The
//! type users see is [`RateLimiter`].

use core::net::IpAddr;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::error::UsageError;
use crate::hash::siphash::siphash24_words;
use crate::time::Instant;

/// How fast one source may send, and how its address is grouped. Start from
/// [`RateLimitConfig::new`] and chain the `with_*` setters.
///
/// ```
/// use trackwire::udp::RateLimitConfig;
///
/// // 20 datagrams a second on average, bursts of 40, IPv6 sources grouped by /56.
/// let config = RateLimitConfig::new(20, 40).with_ipv6_prefix(56);
/// assert_eq!(config.ipv6_prefix, 56);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// The sustained rate each source may send, in datagrams per second (at least 1).
    pub per_second: u32,
    /// How many datagrams a source that has been quiet may send at once (at least 1).
    pub burst: u32,
    /// How many leading bits of an IPv6 address name one source; 64 by default.
    ///
    /// One IPv6 host usually holds a whole /64 (SLAAC, privacy addresses) and can send
    /// from 2^64 addresses, so limiting per address limits nothing. /64 is the subnet
    /// RFC 4291 gives one link; home users often get a /56 (RFC 6177), which
    /// `with_ipv6_prefix(56)` groups as one source, at the price of limiting neighbours
    /// together. IPv4 sources are always whole addresses.
    pub ipv6_prefix: u8,
}

impl RateLimitConfig {
    /// `per_second` on average with bursts of `burst`, IPv6 grouped by /64.
    pub const fn new(per_second: u32, burst: u32) -> Self {
        RateLimitConfig {
            per_second,
            burst,
            ipv6_prefix: 64,
        }
    }

    /// Sets [`ipv6_prefix`](RateLimitConfig::ipv6_prefix) (values above 128 mean 128).
    #[must_use]
    pub const fn with_ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits;
        self
    }
}

/// How many times an admission retries a bucket that another thread changed meanwhile;
/// after that the datagram is refused, which only makes the limit stricter.
const MAX_RETRIES: usize = 4;

/// Per-source token buckets in a fixed table, usable from many threads at once.
///
/// Each slot of the table is one [`AtomicU64`] holding a bucket in the form of the
/// generic cell rate algorithm (GCRA, ITU-T I.371): the *theoretical arrival time* of
/// the next datagram, in microseconds of the caller's clock. A datagram is admitted when
/// that time, advanced by one emission interval (`1 s / per_second`), is at most `burst`
/// intervals ahead of `now`; the slot is then updated with one compare-and-swap. This is
/// exactly a token bucket of `burst` tokens refilled at `per_second`, in 8 bytes and
/// without a lock.
///
/// A source's slot is chosen by SipHash-2-4 of its address (IPv6 cut to
/// [`ipv6_prefix`](RateLimitConfig::ipv6_prefix) bits) under a caller secret, so a
/// sender cannot pick addresses that land on a victim's slot. Sources that share a slot
/// share its bucket: a collision only ever makes the limit stricter for those sources,
/// never looser. Size the table for the number of sources expected to be active within
/// `burst / per_second` seconds (a slot that has been quiet that long is full again and
/// forgets its source), e.g. 2^16 slots (512 KiB).
///
/// Time is the `now` passed in; a clock that steps back makes every bucket stricter
/// until it catches up, never looser.
///
/// The limiter runs before the connection-id check (it is what stops floods of
/// garbage), so a sender that spoofs a victim's address can spend the victim's budget:
/// choose a `per_second` well above what a real client sends (a few datagrams a
/// minute per torrent).
///
/// The storage `B` is any `AsRef<[AtomicU64]>`: an array in a `static`, a
/// `Box<[AtomicU64]>`, a `Vec`; the limiter never allocates. Only on targets with 64-bit
/// atomics.
///
/// ```
/// use core::sync::atomic::AtomicU64;
/// use trackwire::udp::{RateLimitConfig, RateLimiter};
/// use trackwire::Instant;
///
/// let slots: Vec<AtomicU64> = (0..1024).map(|_| AtomicU64::new(0)).collect();
/// let limiter = RateLimiter::new(RateLimitConfig::new(1, 2), [3; 16], slots)?;
/// let ip = "192.0.2.7".parse().unwrap();
/// let t = Instant::from_secs(100);
/// assert!(limiter.admit(t, ip) && limiter.admit(t, ip)); // the burst of 2
/// assert!(!limiter.admit(t, ip));
/// assert!(limiter.admit(Instant::from_secs(101), ip)); // one more token a second later
/// # Ok::<(), trackwire::UsageError>(())
/// ```
pub struct RateLimiter<B> {
    slots: B,
    key: [u8; 16],
    config: RateLimitConfig,
    /// Microseconds between two datagrams at the sustained rate.
    emission_us: u64,
    /// How far ahead of `now` the theoretical arrival time may run: `burst` intervals.
    tolerance_us: u64,
    ipv6_mask: u128,
}

impl<B> core::fmt::Debug for RateLimiter<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Neither the key nor the whole table.
        f.debug_struct("RateLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B: AsRef<[AtomicU64]>> RateLimiter<B> {
    /// A limiter over the slots in `slots` (all zero: every bucket full), with `key` a
    /// secret from a real entropy source.
    ///
    /// # Errors
    ///
    /// [`UsageError`] `InvalidValue` naming `slots` if it is empty, `per_second` or
    /// `burst` if it is 0.
    pub fn new(config: RateLimitConfig, key: [u8; 16], slots: B) -> Result<Self, UsageError> {
        if slots.as_ref().is_empty() {
            return Err(UsageError::invalid_value("slots"));
        }
        if config.per_second == 0 {
            return Err(UsageError::invalid_value("per_second"));
        }
        if config.burst == 0 {
            return Err(UsageError::invalid_value("burst"));
        }
        let emission_us = 1_000_000u64
            .checked_div(u64::from(config.per_second))
            .unwrap_or(1)
            .max(1);
        let bits = u32::from(config.ipv6_prefix.min(128));
        let ipv6_mask = u128::MAX
            .checked_shl(128u32.saturating_sub(bits))
            .unwrap_or(0);
        Ok(RateLimiter {
            slots,
            key,
            config,
            emission_us,
            tolerance_us: emission_us.saturating_mul(u64::from(config.burst)),
            ipv6_mask,
        })
    }

    /// The settings.
    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// The number of slots.
    pub fn slot_count(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// The slot `ip` is counted in: sources with the same slot share one bucket.
    pub fn slot_of(&self, ip: IpAddr) -> usize {
        let bits: u128 = match ip.to_canonical() {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6) & self.ipv6_mask,
        };
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = bits.to_be_bytes();
        let tag = siphash24_words(
            &self.key,
            [
                u64::from_le_bytes([a, b, c, d, e, f, g, h]),
                u64::from_le_bytes([i, j, k, l, m, n, o, p]),
            ],
            0,
            16,
        );
        let len = u64::try_from(self.slot_count()).unwrap_or(u64::MAX);
        usize::try_from(tag.checked_rem(len).unwrap_or(0)).unwrap_or(0)
    }

    /// Whether a datagram from `ip` at `now` is within its source's rate; if it is, it
    /// takes one token. IPv4-mapped IPv6 is the IPv4 source.
    pub fn admit(&self, now: Instant, ip: IpAddr) -> bool {
        let Some(slot) = self.slots.as_ref().get(self.slot_of(ip)) else {
            return false;
        };
        let now_us = now.as_millis().saturating_mul(1000);
        let mut tat = slot.load(Ordering::Relaxed);
        for _ in 0..MAX_RETRIES {
            let next = tat.max(now_us).saturating_add(self.emission_us);
            if next.saturating_sub(now_us) > self.tolerance_us {
                return false;
            }
            match slot.compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(seen) => tat = seen,
            }
        }
        false
    }
}
