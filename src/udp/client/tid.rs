//! Transaction ids from a caller-seeded generator.

use crate::udp::types::TransactionId;

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state stepped by a Weyl increment
/// and finalized by a bijective mixer. Every seed gives a full-period sequence of 2⁶⁴
/// outputs.
///
/// It is not a cryptographic generator: the tids it produces are only as unpredictable
/// as the seed, which therefore must come from a real entropy source (the OS: `getrandom`,
/// `/dev/urandom`, a hardware RNG). Transaction ids are BEP 15's only defence against
/// off-path spoofed replies.
#[derive(Debug, Clone)]
pub(crate) struct TidGenerator {
    state: u64,
}

impl TidGenerator {
    pub(crate) const fn new(seed: u64) -> Self {
        TidGenerator { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A fresh transaction id that is neither 0 nor one for which `in_use` is true.
    ///
    /// 0 is never used: torrust answers unparseable requests with tid 0, so a reply with
    /// tid 0 can never match. A collision with an id still awaited is resolved by
    /// stepping to the next value, which ends after at most as many steps as there are
    /// ids in use.
    pub(crate) fn next(&mut self, in_use: impl Fn(TransactionId) -> bool) -> TransactionId {
        let high = u32::try_from(self.next_u64() >> 32);
        debug_assert!(high.is_ok(), "the high half of a u64 fits a u32");
        let mut tid = TransactionId(high.unwrap_or(1));
        while tid.0 == 0 || in_use(tid) {
            tid = TransactionId(tid.0.wrapping_add(1));
        }
        tid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 0 (reference implementation by Vigna).
        let mut g = TidGenerator::new(0);
        assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn skips_zero_and_ids_in_use() {
        let mut a = TidGenerator::new(7);
        let mut b = a.clone();
        let first = a.next(|_| false);
        let second = b.next(|t| t == first);
        assert_ne!(first, second);
        assert_eq!(second.0, first.0.wrapping_add(1));
        assert_ne!(TidGenerator::new(1).next(|t| t.0 != 0 && t.0 < 5).0, 0);
    }
}
