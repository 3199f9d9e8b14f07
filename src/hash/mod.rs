//! The two hashes the protocols need, built in so the crate stays dependency-free.
//!
//! * [`sha1`] — SHA-1 (FIPS 180-4), for the legacy UDP tracker authentication extension.
//! * [`siphash`] — SipHash-2-4, a keyed PRF for stateless connection-id cookies.
//!
//! [`ct_eq`] compares secrets in constant time.
//!
//! Private to the crate: no public signature takes or returns a hasher, and a home-made
//! SHA-1 or SipHash is not something this crate should offer as a general-purpose API.
//! Each is checked here against its published test vectors.

pub(crate) mod sha1;
pub(crate) mod siphash;

/// Whether `a == b`, in time that depends only on the lengths, not on the contents.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimizer from short-circuiting the fold.
    core::hint::black_box(diff) == 0
}
