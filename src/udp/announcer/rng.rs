//! The announcer's own randomness: tier shuffles and the seeds of its clients.

/// SplitMix64, seeded by the caller (the same generator as the client's transaction ids).
/// Each client the announcer builds gets a fresh 64-bit seed from it, so clients for
/// different addresses never share a transaction-id sequence; the seeds are only as
/// unpredictable as the announcer's own seed.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) const fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is below 2⁻⁵⁰ for the
    /// tier sizes an announcer holds, which is irrelevant for a shuffle.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).unwrap_or(u64::MAX);
        let r = self.next_u64().checked_rem(n64).unwrap_or(0);
        usize::try_from(r).unwrap_or(0)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        let mut i = items.len();
        while i > 1 {
            let j = self.below(i);
            i = i.saturating_sub(1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_permutation_and_depends_on_the_seed() {
        let mut a = [0usize, 1, 2, 3, 4, 5, 6, 7];
        let mut b = a;
        SplitMix::new(1).shuffle(&mut a);
        SplitMix::new(2).shuffle(&mut b);
        assert_ne!(a, b);
        let mut sorted = a;
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(SplitMix::new(3).below(0), 0);
    }
}
