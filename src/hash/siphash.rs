//! SipHash-2-4 (Aumasson & Bernstein, 2012), a keyed pseudorandom function.
//!
//! It turns a secret 128-bit key and a short message into a 64-bit tag that cannot be
//! predicted or forged without the key. That is what stateless connection-id cookies need:
//! the server derives the id from the client address and a time bucket instead of storing
//! it. SipHash is not a general-purpose MAC with a long tag; 64 bits suffice here because a
//! forged id only buys a single announce before it expires.
//!
//! The cookie calls [`siphash24_words`], which takes its fixed-layout message as words.
//! `siphash24` (whole byte slices) and `SipHasher24` (streaming) are the
//! straightforward forms of the same function; they exist for the tests, which check
//! all three against the reference vectors and against each other.

/// Size of the message words SipHash compresses.
const WORD_LEN: usize = 8;

/// Streaming SipHash-2-4, for when the message arrives in pieces.
///
/// Feeding the same bytes in any split gives the same value as [`siphash24`] over all of
/// them. Unlike `core::hash::Hasher` implementations, nothing is added between `write`
/// calls: only the concatenated bytes matter.
#[cfg(test)]
#[derive(Clone, Debug)]
pub(crate) struct SipHasher24 {
    /// The internal state v0..v3.
    v: [u64; 4],
    /// Bytes of an incomplete word, waiting for the rest of it.
    buffer: [u8; WORD_LEN],
    /// How many bytes of `buffer` are filled; always below [`WORD_LEN`] between calls.
    buffered: usize,
    /// Total message length. Only its low byte enters the hash, so wrapping is harmless.
    len: u64,
}

#[cfg(test)]
impl SipHasher24 {
    /// A hasher keyed with `key`, read as two little-endian halves k0 and k1 exactly as the
    /// reference implementation does, so its test vectors apply unchanged.
    pub(crate) const fn new(key: &[u8; 16]) -> Self {
        Self {
            v: initial_state(key),
            buffer: [0; WORD_LEN],
            buffered: 0,
            len: 0,
        }
    }

    /// Appends `data` to the message.
    pub(crate) fn write(&mut self, mut data: &[u8]) {
        // The conversion cannot fail on any platform Rust supports, and only the low byte of
        // the total is ever used, so the fallback value does not matter.
        let byte_len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.len = self.len.wrapping_add(byte_len);

        if self.buffered > 0 {
            let free = self.buffer.get_mut(self.buffered..).unwrap_or_default();
            let taken = free.len().min(data.len());
            for (slot, byte) in free.iter_mut().zip(data) {
                *slot = *byte;
            }
            self.buffered = self.buffered.wrapping_add(taken);
            data = data.get(taken..).unwrap_or_default();
            if self.buffered < WORD_LEN {
                return;
            }
            compress(&mut self.v, u64::from_le_bytes(self.buffer));
            self.buffered = 0;
        }

        // Whole words are compressed straight from the input, without copying.
        while let Some((word, rest)) = data.split_first_chunk::<WORD_LEN>() {
            compress(&mut self.v, u64::from_le_bytes(*word));
            data = rest;
        }

        for (slot, byte) in self.buffer.iter_mut().zip(data) {
            *slot = *byte;
        }
        self.buffered = data.len();
    }

    /// The tag for everything written so far.
    ///
    /// Works on a copy of the state, so the hasher stays usable: writing more afterwards
    /// continues the same message, which lets a common prefix be hashed once.
    pub(crate) fn finish(&self) -> u64 {
        let mut last = [0; WORD_LEN];
        for (slot, byte) in last.iter_mut().zip(self.buffer.iter().take(self.buffered)) {
            *slot = *byte;
        }
        finalize(self.v, last, self.len)
    }
}

/// The SipHash-2-4 tag of `data` under `key`, for when the whole message is at hand.
///
/// Written out rather than through [`SipHasher24`], so that the tests compare two
/// independent codings of the message schedule (one buffering, one not) with the
/// reference vectors and with each other.
#[cfg(test)]
#[inline]
pub(crate) fn siphash24(key: &[u8; 16], data: &[u8]) -> u64 {
    let mut v = initial_state(key);
    let mut words = data.chunks_exact(WORD_LEN);
    for word in &mut words {
        let mut w = [0; WORD_LEN];
        w.copy_from_slice(word);
        compress(&mut v, u64::from_le_bytes(w));
    }
    // Shifted in rather than copied: a copy of a length unknown here becomes a call to
    // `memcpy` for at most 7 bytes.
    let tail = words
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    // Only the low byte of the length enters the hash, so truncation is harmless.
    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
    finalize(v, tail.to_le_bytes(), len)
}

/// The SipHash-2-4 tag of a message handed over as little-endian words: `words` whole,
/// then `tail`, the last `len % 8` bytes packed little-endian (zero above them), where
/// `len` is the message length in bytes. The same tag as [`siphash24`] over the bytes,
/// for a caller (the connection-id cookie) whose short message has a fixed layout: no
/// byte is copied or buffered.
#[inline]
pub(crate) fn siphash24_words<const W: usize>(
    key: &[u8; 16],
    words: [u64; W],
    tail: u64,
    len: u64,
) -> u64 {
    let mut v = initial_state(key);
    for w in words {
        compress(&mut v, w);
    }
    finalize(v, tail.to_le_bytes(), len)
}

/// The state v0..v3 for `key`, read as two little-endian halves k0 and k1 exactly as the
/// reference implementation does, so its test vectors apply unchanged.
#[inline]
const fn initial_state(key: &[u8; 16]) -> [u64; 4] {
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = *key;
    let k0 = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
    let k1 = u64::from_le_bytes([i, j, k, l, m, n, o, p]);
    // "somepseudorandomlygeneratedbytes", the initialisation constants of the paper.
    [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ]
}

/// Absorbs the last word (`tail`, the leftover bytes zero-padded, with the message length
/// modulo 256 in its top byte) and runs the four finalization rounds.
#[inline]
fn finalize(mut v: [u64; 4], mut tail: [u8; WORD_LEN], len: u64) -> u64 {
    let [len_low, ..] = len.to_le_bytes();
    let [.., top] = &mut tail;
    *top = len_low;
    compress(&mut v, u64::from_le_bytes(tail));

    let [v0, v1, v2, v3] = &mut v;
    *v2 ^= 0xff;
    for _ in 0..4 {
        sip_round(v0, v1, v2, v3);
    }
    *v0 ^ *v1 ^ *v2 ^ *v3
}

/// Absorbs one message word with the two compression rounds that give SipHash-2-4 its "2".
#[inline]
fn compress(v: &mut [u64; 4], m: u64) {
    let [v0, v1, v2, v3] = v;
    *v3 ^= m;
    sip_round(v0, v1, v2, v3);
    sip_round(v0, v1, v2, v3);
    *v0 ^= m;
}

/// One SipRound: the add-rotate-xor network from the paper, §2.
#[inline]
fn sip_round(v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64) {
    *v0 = v0.wrapping_add(*v1);
    *v1 = v1.rotate_left(13);
    *v1 ^= *v0;
    *v0 = v0.rotate_left(32);
    *v2 = v2.wrapping_add(*v3);
    *v3 = v3.rotate_left(16);
    *v3 ^= *v2;
    *v0 = v0.wrapping_add(*v3);
    *v3 = v3.rotate_left(21);
    *v3 ^= *v0;
    *v2 = v2.wrapping_add(*v1);
    *v1 = v1.rotate_left(17);
    *v1 ^= *v2;
    *v2 = v2.rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Key 00 01 .. 0f, as in the paper and the reference implementation.
    const KEY: [u8; 16] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
        0x0f,
    ];

    /// `vectors_sip64` from the reference implementation's `vectors.h`
    /// (github.com/veorq/SipHash): entry `i` is the tag of the message 00 01 .. (i-1) under
    /// [`KEY`], as little-endian bytes.
    #[rustfmt::skip]
    const VECTORS_SIP64: [[u8; 8]; 64] = [
        [0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72],
        [0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74],
        [0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d],
        [0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85],
        [0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf],
        [0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18],
        [0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb],
        [0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab],
        [0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93],
        [0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e],
        [0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a],
        [0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4],
        [0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75],
        [0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14],
        [0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7],
        [0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1],
        [0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f],
        [0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69],
        [0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b],
        [0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb],
        [0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe],
        [0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0],
        [0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93],
        [0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8],
        [0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8],
        [0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc],
        [0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17],
        [0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f],
        [0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde],
        [0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6],
        [0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad],
        [0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32],
        [0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71],
        [0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7],
        [0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12],
        [0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15],
        [0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31],
        [0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02],
        [0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca],
        [0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a],
        [0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e],
        [0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad],
        [0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18],
        [0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4],
        [0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9],
        [0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9],
        [0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb],
        [0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0],
        [0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6],
        [0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7],
        [0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee],
        [0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1],
        [0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a],
        [0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81],
        [0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f],
        [0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24],
        [0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7],
        [0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea],
        [0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60],
        [0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66],
        [0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c],
        [0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f],
        [0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5],
        [0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95],
    ];

    /// The message 00 01 .. (len-1).
    fn counting(len: usize) -> Vec<u8> {
        (0..len).map(|i| u8::try_from(i).unwrap()).collect()
    }

    #[test]
    fn reference_vectors_one_shot() {
        for (len, expected) in VECTORS_SIP64.iter().enumerate() {
            let got = siphash24(&KEY, &counting(len)).to_le_bytes();
            assert_eq!(&got, expected, "message length {len}");
        }
    }

    #[test]
    fn reference_vectors_byte_at_a_time() {
        for (len, expected) in VECTORS_SIP64.iter().enumerate() {
            let mut hasher = SipHasher24::new(&KEY);
            for byte in counting(len) {
                hasher.write(&[byte]);
            }
            assert_eq!(
                &hasher.finish().to_le_bytes(),
                expected,
                "message length {len}"
            );
        }
    }

    #[test]
    fn words_match_bytes() {
        for (len, expected) in VECTORS_SIP64.iter().enumerate() {
            let message = counting(len);
            let mut chunks = message.chunks_exact(8);
            let words: Vec<u64> = chunks
                .by_ref()
                .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
                .collect();
            let mut tail = [0; 8];
            tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
            let tail = u64::from_le_bytes(tail);
            let len = u64::try_from(len).unwrap();
            let got = match words.as_slice() {
                [] => siphash24_words(&KEY, [], tail, len),
                [a] => siphash24_words(&KEY, [*a], tail, len),
                [a, b] => siphash24_words(&KEY, [*a, *b], tail, len),
                [a, b, c] => siphash24_words(&KEY, [*a, *b, *c], tail, len),
                _ => continue,
            };
            assert_eq!(&got.to_le_bytes(), expected, "message length {len}");
        }
    }

    #[test]
    fn paper_appendix_a_example() {
        // Key 00..0f, 15-byte message 00..0e.
        assert_eq!(siphash24(&KEY, &counting(15)), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn any_split_matches_one_shot() {
        let message: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(151) ^ 0xc3).collect();
        for len in 0..=message.len() {
            let message = &message[..len];
            let expected = siphash24(&KEY, message);
            for first in 0..=len {
                for second in first..=len {
                    let mut hasher = SipHasher24::new(&KEY);
                    hasher.write(&message[..first]);
                    hasher.write(&message[first..second]);
                    hasher.write(&message[second..]);
                    assert_eq!(
                        hasher.finish(),
                        expected,
                        "length {len}, splits at {first} and {second}"
                    );
                }
            }
        }
    }

    #[test]
    fn finish_does_not_consume() {
        let mut hasher = SipHasher24::new(&KEY);
        hasher.write(&counting(5));
        assert_eq!(hasher.finish(), hasher.finish());
        let prefix = hasher.clone();
        hasher.write(&counting(15)[5..]);
        assert_eq!(hasher.finish(), 0xa129_ca61_49be_45e5);
        assert_eq!(prefix.finish(), siphash24(&KEY, &counting(5)));
    }

    #[test]
    fn key_halves_are_little_endian() {
        // Swapping the halves must change the tag, or k0 and k1 were read symmetrically.
        let mut swapped = [0; 16];
        swapped[..8].copy_from_slice(&KEY[8..]);
        swapped[8..].copy_from_slice(&KEY[..8]);
        assert_ne!(siphash24(&KEY, b""), siphash24(&swapped, b""));
    }

    #[test]
    #[allow(deprecated)]
    fn matches_std_siphasher_for_long_messages() {
        // std's deprecated `SipHasher` is SipHash-2-4; `Hasher::write` feeds raw bytes, so it
        // is an independent implementation to compare against beyond the 64 vectors.
        use std::hash::Hasher;
        let key: [u8; 16] = core::array::from_fn(|i| u8::try_from(i).unwrap().wrapping_mul(17) ^ 3);
        let k0 = u64::from_le_bytes(key[..8].try_into().unwrap());
        let k1 = u64::from_le_bytes(key[8..].try_into().unwrap());
        for len in [0, 1, 7, 8, 9, 255, 256, 257, 1000, 4099] {
            let message = counting(len.min(256));
            let message: Vec<u8> = message.iter().copied().cycle().take(len).collect();
            let mut reference = std::hash::SipHasher::new_with_keys(k0, k1);
            reference.write(&message);
            assert_eq!(
                siphash24(&key, &message),
                reference.finish(),
                "length {len}"
            );
        }
    }
}
