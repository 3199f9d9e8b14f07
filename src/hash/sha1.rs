//! SHA-1 (FIPS 180-4).
//!
//! SHA-1 is broken for collision resistance and must not be chosen for anything new. It is
//! here only because the legacy UDP tracker authentication extension specifies it, and
//! interoperating with existing trackers leaves no choice.
//!
//! [`Sha1`] streams (the authentication hash covers a packet and then a stored digest);
//! [`sha1`] hashes one slice.

/// Length of a SHA-1 digest in bytes.
pub(crate) const DIGEST_LEN: usize = 20;

/// Size of the blocks the compression function consumes.
const BLOCK_LEN: usize = 64;

/// Offset in the final block where the 8-byte message length goes: `BLOCK_LEN - 8`.
const LENGTH_OFFSET: usize = 56;

/// Initial hash value H(0), FIPS 180-4 §5.3.1.
const INITIAL_STATE: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// Streaming SHA-1, for when the message arrives in pieces.
///
/// Feeding the same bytes in any split gives the same digest as [`sha1`] over all of them.
/// The state is under a hundred bytes, so cloning a hasher that has absorbed a common
/// prefix is a cheap way to hash several messages that share it.
#[derive(Clone, Debug)]
pub(crate) struct Sha1 {
    /// Intermediate hash value H(i).
    state: [u32; 5],
    /// Bytes of an incomplete block, waiting for the rest of it.
    buffer: [u8; BLOCK_LEN],
    /// How many bytes of `buffer` are filled; always below [`BLOCK_LEN`] between calls.
    buffered: usize,
    /// Message length in bits. FIPS 180-4 caps messages below 2^64 bits; longer ones wrap,
    /// which keeps `update` infallible rather than making it report an unreachable error.
    bit_len: u64,
}

impl Sha1 {
    /// A hasher that has absorbed nothing yet.
    pub(crate) const fn new() -> Self {
        Self {
            state: INITIAL_STATE,
            buffer: [0; BLOCK_LEN],
            buffered: 0,
            bit_len: 0,
        }
    }

    /// Appends `data` to the message.
    pub(crate) fn update(&mut self, data: &[u8]) {
        // Converting the length cannot fail on any platform Rust supports; if it ever did,
        // saturating is as good as wrapping for a length FIPS 180-4 does not allow anyway.
        let byte_len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.bit_len = self.bit_len.wrapping_add(byte_len.wrapping_mul(8));
        self.absorb(data);
    }

    /// Pads the message and returns its digest.
    ///
    /// Takes `self` so that a finished hasher cannot be fed more data by mistake; clone it
    /// first to keep going.
    pub(crate) fn finalize(mut self) -> [u8; DIGEST_LEN] {
        let bit_len = self.bit_len;
        // A single 1 bit, then zeros until exactly the length fits at the end of a block.
        // Byte-at-a-time costs at most 63 trivial calls, once per message, and leaves no
        // padding-length arithmetic to get wrong.
        self.absorb(&[0x80]);
        while self.buffered != LENGTH_OFFSET {
            self.absorb(&[0]);
        }
        self.absorb(&bit_len.to_be_bytes());

        let mut digest = [0; DIGEST_LEN];
        let words = self.state.iter().flat_map(|word| word.to_be_bytes());
        for (out, byte) in digest.iter_mut().zip(words) {
            *out = byte;
        }
        digest
    }

    /// Runs `data` through the compression function, buffering any incomplete block.
    ///
    /// Separate from `update` because padding goes through here too and must not count
    /// towards the message length.
    fn absorb(&mut self, mut data: &[u8]) {
        if self.buffered > 0 {
            let free = self.buffer.get_mut(self.buffered..).unwrap_or_default();
            let taken = free.len().min(data.len());
            for (slot, byte) in free.iter_mut().zip(data) {
                *slot = *byte;
            }
            self.buffered = self.buffered.wrapping_add(taken);
            data = data.get(taken..).unwrap_or_default();
            if self.buffered < BLOCK_LEN {
                return;
            }
            compress(&mut self.state, &self.buffer);
            self.buffered = 0;
        }

        // Whole blocks are compressed straight from the input, without copying.
        while let Some((block, rest)) = data.split_first_chunk::<BLOCK_LEN>() {
            compress(&mut self.state, block);
            data = rest;
        }

        for (slot, byte) in self.buffer.iter_mut().zip(data) {
            *slot = *byte;
        }
        self.buffered = data.len();
    }
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

/// The SHA-1 digest of `data`, for when the whole message is at hand.
pub(crate) fn sha1(data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut hasher = Sha1::new();
    hasher.update(data);
    hasher.finalize()
}

/// The SHA-1 compression function, FIPS 180-4 §6.1.2 step 2–4.
fn compress(state: &mut [u32; 5], block: &[u8; BLOCK_LEN]) {
    // A sliding window over the message schedule: `schedule[0]` is W(t). Sixteen words are
    // all the recurrence needs, and destructuring the fixed-size array reaches them without
    // indexing.
    let mut schedule = [0u32; 16];
    for (word, bytes) in schedule.iter_mut().zip(block.chunks_exact(4)) {
        *word = bytes
            .iter()
            .fold(0, |acc: u32, &byte| acc.wrapping_shl(8) | u32::from(byte));
    }

    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for t in 0..80u8 {
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };

        // W(t + 16) = ROTL1(W(t + 13) ^ W(t + 8) ^ W(t + 2) ^ W(t)). The last sixteen
        // rounds compute words nobody reads; skipping them is not worth a branch.
        let [w0, _, w2, _, _, _, _, _, w8, _, _, _, _, w13, _, _] = schedule;
        schedule.rotate_left(1);
        let [.., next] = &mut schedule;
        *next = (w13 ^ w8 ^ w2 ^ w0).rotate_left(1);

        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(w0);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }

    for (word, add) in state.iter_mut().zip([a, b, c, d, e]) {
        *word = word.wrapping_add(add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn hex(digest: &[u8]) -> std::string::String {
        use std::fmt::Write;
        digest.iter().fold(std::string::String::new(), |mut s, b| {
            write!(s, "{b:02x}").unwrap();
            s
        })
    }

    const ABC: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const EMPTY: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const MILLION_A: &str = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";

    #[test]
    fn abc() {
        assert_eq!(hex(&sha1(b"abc")), ABC);
    }

    #[test]
    fn empty() {
        assert_eq!(hex(&sha1(b"")), EMPTY);
        assert_eq!(hex(&Sha1::new().finalize()), EMPTY);
        assert_eq!(hex(&Sha1::default().finalize()), EMPTY);
    }

    #[test]
    fn two_block_vector_448_bits() {
        // 56 bytes: the length no longer fits after the 0x80, forcing a second padding block.
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn two_block_vector_896_bits() {
        // 112 bytes: fourteen 8-byte groups, the last one "nopqrstu".
        let message = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn\
                        hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
        assert_eq!(message.len(), 112);
        assert_eq!(
            hex(&sha1(message)),
            "a49b2446a02c645bf419f995b67091253a04a259"
        );
    }

    #[test]
    fn million_a_one_shot() {
        let data = std::vec![b'a'; 1_000_000];
        assert_eq!(hex(&sha1(&data)), MILLION_A);
    }

    #[test]
    fn million_a_in_thousand_byte_chunks() {
        let chunk = [b'a'; 1000];
        let mut hasher = Sha1::new();
        for _ in 0..1000 {
            hasher.update(&chunk);
        }
        assert_eq!(hex(&hasher.finalize()), MILLION_A);
    }

    #[test]
    fn million_a_in_odd_chunk_sizes() {
        let data = std::vec![b'a'; 1_000_000];
        for size in [1, 7, 55, 56, 57, 63, 64, 65, 127, 129, 4096] {
            let mut hasher = Sha1::new();
            for chunk in data.chunks(size) {
                hasher.update(chunk);
            }
            assert_eq!(hex(&hasher.finalize()), MILLION_A, "chunk size {size}");
        }
    }

    #[test]
    fn million_a_in_mixed_chunk_sizes() {
        let data = std::vec![b'a'; 1_000_000];
        let mut hasher = Sha1::new();
        let mut rest = &data[..];
        for size in [7, 63, 64, 65, 0, 1].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            hasher.update(chunk);
            rest = tail;
        }
        assert_eq!(hex(&hasher.finalize()), MILLION_A);
    }

    #[test]
    fn any_split_matches_one_shot() {
        let message: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let expected = sha1(&message);
        for split in 0..=message.len() {
            let (head, tail) = message.split_at(split);
            let mut hasher = Sha1::new();
            hasher.update(head);
            hasher.update(tail);
            assert_eq!(hasher.finalize(), expected, "split at {split}");
        }
        for first in (0..=message.len()).step_by(13) {
            for second in (first..=message.len()).step_by(11) {
                let mut hasher = Sha1::new();
                hasher.update(&message[..first]);
                hasher.update(&message[first..second]);
                hasher.update(&message[second..]);
                assert_eq!(hasher.finalize(), expected, "splits at {first}, {second}");
            }
        }
    }

    #[test]
    fn every_length_around_block_boundaries() {
        // Each prefix length exercises a different padding case; a byte-at-a-time hasher
        // must agree with one-shot for all of them.
        let message: Vec<u8> = (0..=255u8).collect();
        for len in 0..=message.len() {
            let mut hasher = Sha1::new();
            for byte in &message[..len] {
                hasher.update(core::slice::from_ref(byte));
            }
            assert_eq!(hasher.finalize(), sha1(&message[..len]), "length {len}");
        }
    }

    #[test]
    fn clone_forks_the_stream() {
        let mut prefix = Sha1::new();
        prefix.update(b"ab");
        let mut fork = prefix.clone();
        fork.update(b"c");
        prefix.update(b"d");
        assert_eq!(hex(&fork.finalize()), ABC);
        assert_eq!(prefix.finalize(), sha1(b"abd"));
    }

    #[test]
    fn digest_len_matches_output() {
        assert_eq!(sha1(b"").len(), DIGEST_LEN);
    }
}
