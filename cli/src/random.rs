//! Randomness from the OS, for peer ids, keys, seeds and cookie secrets.

use std::io::Read;

/// `N` random bytes from `/dev/urandom`, or, where there is none, from std's per-process
/// random hash keys (the next best thing without a dependency).
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        use std::hash::{BuildHasher, Hasher};
        for (i, x) in b.iter_mut().enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            *x = h.finish().to_le_bytes()[0];
        }
    }
    b
}
