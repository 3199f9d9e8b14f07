//! Stateless connection ids: a tracker can check an id without remembering it. The
//! scheme is documented on [`SipCookies`].

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use crate::hash::ct_eq;
use crate::hash::siphash::siphash24_words;
use crate::time::Instant;
use crate::udp::types::{canonical_addr, ConnectionId};

/// A way to issue and check connection ids; implement it to plug in another scheme.
pub trait ConnectionIdScheme {
    /// The id to hand to `peer` at `now`.
    fn issue(&self, now: Instant, peer: SocketAddr) -> ConnectionId;
    /// Whether `id`, presented by `peer` at `now`, is one this scheme issued to it
    /// recently enough.
    fn validate(&self, now: Instant, peer: SocketAddr, id: ConnectionId) -> bool;
}

/// BEP 15's minimum: "a connection ID can be used for multiple requests … for up to two
/// minutes".
pub const MIN_CONNECTION_AGE: Duration = Duration::from_secs(120);
/// The longest age [`SipCookies`] can check: the 16-bit tick wraps after 18 hours.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(65_000);

const MAC_MASK: u64 = 0x0000_ffff_ffff_ffff;

/// The built-in cookie scheme: SipHash-2-4 under a caller secret over the peer's address
/// and a one-second tick.
///
/// BEP 15 uses the connection id to stop address spoofing: only a client that received the
/// connect reply at its address knows the id. This scheme makes
/// the id a keyed MAC of the client's address and the time it was issued:
///
/// ```text
/// id = tick:u16 ‖ mac:u48
/// tick = seconds since the origin, mod 2^16
/// mac  = first 48 bits of SipHash-2-4(secret, full tick:u64 ‖ address:16 bytes ‖ [port:u16])
/// ```
///
/// Checking an id costs one SipHash: the 16-bit tick gives the age (wrapping), the full
/// tick is rebuilt from it, and the MAC must match in constant time. An id is accepted for
/// at least the configured age (never less than BEP 15's 2 minutes) and at most one second
/// more; ids from the future, older ids whose tick wrapped around, and ids for another
/// address fail the MAC or the age check. Compare opentracker, whose ids never expire,
/// and torrust's earlier cookies, which took a hash with fixed keys.
#[derive(Clone)]
pub struct SipCookies {
    secret: [u8; 16],
    max_age_secs: u64,
    include_port: bool,
}

impl core::fmt::Debug for SipCookies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print the secret.
        f.debug_struct("SipCookies")
            .field("max_age_secs", &self.max_age_secs)
            .field("include_port", &self.include_port)
            .finish_non_exhaustive()
    }
}

impl SipCookies {
    /// Cookies under `secret`, which must come from a real entropy source and stay
    /// private. `max_age` is clamped to [2 minutes, 18 hours]. With `include_port` the
    /// id is bound to the source port as well as the address; leave it off for clients
    /// that announce from another port than they connected from.
    pub fn new(secret: [u8; 16], max_age: Duration, include_port: bool) -> Self {
        let max_age = max_age.clamp(MIN_CONNECTION_AGE, MAX_CONNECTION_AGE);
        SipCookies {
            secret,
            max_age_secs: max_age.as_secs(),
            include_port,
        }
    }

    /// The accepted age.
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age_secs)
    }

    #[inline]
    fn mac(&self, tick: u64, peer: SocketAddr) -> u64 {
        let peer = canonical_addr(peer);
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = match peer.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        // The message of the type docs, handed to SipHash as its little-endian words
        // (tick, then the address in two halves, then the port or nothing): no bytes to
        // lay out or buffer, and both lengths share one code path.
        let words = [
            u64::from_le_bytes(tick.to_be_bytes()),
            u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            u64::from_le_bytes([i, j, k, l, m, n, o, p]),
        ];
        let tag = if self.include_port {
            let [hi, lo] = peer.port().to_be_bytes();
            siphash24_words(
                &self.secret,
                words,
                u64::from_le_bytes([hi, lo, 0, 0, 0, 0, 0, 0]),
                26,
            )
        } else {
            siphash24_words(&self.secret, words, 0, 24)
        };
        tag & MAC_MASK
    }
}

fn tick_of(now: Instant) -> u64 {
    now.as_millis() / 1000
}

impl ConnectionIdScheme for SipCookies {
    fn issue(&self, now: Instant, peer: SocketAddr) -> ConnectionId {
        let tick = tick_of(now);
        let low16 = tick & 0xffff;
        ConnectionId((low16 << 48) | self.mac(tick, peer))
    }

    fn validate(&self, now: Instant, peer: SocketAddr, id: ConnectionId) -> bool {
        let now_tick = tick_of(now);
        let id_tick16 = id.0 >> 48;
        // Age in ticks, modulo 2^16: ids from the future look very old and fail here.
        let age = (now_tick & 0xffff).wrapping_sub(id_tick16) & 0xffff;
        // An id issued t whole seconds ago has an age of at most t ticks, so it passes for
        // the whole configured age, and fails less than a second after it.
        if age > self.max_age_secs {
            return false;
        }
        let Some(tick) = now_tick.checked_sub(age) else {
            return false;
        };
        let want = self.mac(tick, peer).to_be_bytes();
        let got = (id.0 & MAC_MASK).to_be_bytes();
        ct_eq(&want, &got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn accepted_for_the_configured_age_and_no_longer() {
        let c = SipCookies::new([7; 16], Duration::from_secs(120), false);
        let p = peer("10.0.0.1:6881");
        let t0 = Instant::from_millis(1_000_999);
        let id = c.issue(t0, p);
        for dt in [0u64, 1, 60_000, 119_999, 120_000] {
            assert!(
                c.validate(t0.saturating_add(Duration::from_millis(dt)), p, id),
                "{dt}"
            );
        }
        // Issued at 1000.999 s: the tick turns at 1121 s, 120.001 s later.
        assert!(!c.validate(t0.saturating_add(Duration::from_millis(120_001)), p, id));
        // Issued at the start of a tick, it lasts until just before the next whole second.
        let t1 = Instant::from_secs(2000);
        let id1 = c.issue(t1, p);
        assert!(c.validate(Instant::from_millis(2_120_999), p, id1));
        assert!(!c.validate(Instant::from_millis(2_121_000), p, id1));
        assert!(!c.validate(t0.saturating_add(Duration::from_secs(3600)), p, id));
    }

    #[test]
    fn bound_to_address_secret_and_time() {
        let c = SipCookies::new([7; 16], Duration::from_secs(1), false);
        assert_eq!(c.max_age(), MIN_CONNECTION_AGE);
        let p = peer("10.0.0.1:6881");
        let t0 = Instant::from_secs(5000);
        let id = c.issue(t0, p);
        // Another port is fine unless the port is included.
        assert!(c.validate(t0, peer("10.0.0.1:1"), id));
        assert!(
            !SipCookies::new([7; 16], MIN_CONNECTION_AGE, true).validate(
                t0,
                peer("10.0.0.1:1"),
                id
            )
        );
        assert!(!c.validate(t0, peer("10.0.0.2:6881"), id));
        assert!(!SipCookies::new([8; 16], MIN_CONNECTION_AGE, false).validate(t0, p, id));
        // From the future.
        assert!(!c.validate(Instant::from_secs(4990), p, id));
        // A wrapped tick: 2^16 seconds later the 16 bits match again, the MAC does not.
        assert!(!c.validate(Instant::from_secs(5000 + 65_536), p, id));
        // Flipping any bit breaks it.
        for bit in 0..64 {
            assert!(
                !c.validate(t0, p, ConnectionId(id.0 ^ (1 << bit))),
                "bit {bit}"
            );
        }
    }

    #[test]
    fn the_id_is_the_documented_layout() {
        use crate::hash::siphash::SipHasher24;
        let secret = [5; 16];
        let t = Instant::from_millis(77_777_777);
        let tick = 77_777u64;
        for (p, ip) in [
            (
                peer("192.0.2.7:6881"),
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7],
            ),
            (
                peer("[2001:db8::9]:6881"),
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
            ),
        ] {
            for include_port in [false, true] {
                let mut h = SipHasher24::new(&secret);
                h.write(&tick.to_be_bytes());
                h.write(&ip);
                if include_port {
                    h.write(&6881u16.to_be_bytes());
                }
                let want = ((tick & 0xffff) << 48) | (h.finish() & MAC_MASK);
                let c = SipCookies::new(secret, MIN_CONNECTION_AGE, include_port);
                assert_eq!(c.issue(t, p).0, want, "{p} port {include_port}");
            }
        }
    }

    #[test]
    fn mapped_ipv4_is_the_same_peer() {
        let c = SipCookies::new([1; 16], MIN_CONNECTION_AGE, true);
        let t = Instant::from_secs(10);
        let id = c.issue(t, peer("127.0.0.1:80"));
        assert!(c.validate(t, peer("[::ffff:127.0.0.1]:80"), id));
    }

    #[test]
    fn time_before_the_first_tick_does_not_panic() {
        let c = SipCookies::new([1; 16], MIN_CONNECTION_AGE, false);
        let p = peer("[::1]:1");
        let id = c.issue(Instant::from_secs(200), p);
        assert!(!c.validate(Instant::ZERO, p, id));
    }
}
