//! The protocol version in force on a connection, and how dnh3.3.2 derives it.

use core::fmt;

/// A CTCS protocol version as the dnh3.3.2 client holds it: 0, 1, 2 or 3.
///
/// The client starts at 3 and takes the server's `PROTOCOL` value with `atoi`, keeping it
/// if it is at most 3 and using 3 otherwise ([`Version::from_announced`],
/// [`Version::from_atoi`]). So 0 (from `PROTOCOL 0000` or `PROTOCOL garbage`) is a real
/// state, and an odd one: it formats `CTSTATUS` in the v2/v3 form (only version 1 selects
/// the old form) but the file list, the peer list and `CTCONFIG` in the v1 form, and it
/// reads a server's positional `CTCONFIG` with 7 fields (neither v2's cache field nor
/// v1's exit-zero field). Negative values behave exactly like 0 and are mapped to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(u8);

impl Version {
    /// Version 0: what `PROTOCOL 0000` or a non-number leaves the client with.
    pub const V0: Version = Version(0);
    /// Version 1 (CTCS ≤ 1.2).
    pub const V1: Version = Version(1);
    /// Version 2 (CTCS 1.3).
    pub const V2: Version = Version(2);
    /// Version 3 (CTCS 1.4), the newest, and the client's state before the server's
    /// `PROTOCOL` arrives.
    pub const V3: Version = Version(3);
    /// The newest version, [`Version::V3`].
    pub const CURRENT: Version = Version::V3;

    /// Version `n`, if it is 0 to 3.
    pub const fn new(n: u8) -> Option<Version> {
        if n <= 3 {
            Some(Version(n))
        } else {
            None
        }
    }

    /// What the client makes of a server announcing `n`: values above 3 become 3.
    pub const fn from_announced(n: u32) -> Version {
        if n > 3 {
            Version::V3
        } else {
            // `n <= 3`, so it fits.
            Version(n.to_le_bytes()[0])
        }
    }

    /// What dnh3.3.2 makes of the bytes after `PROTOCOL ` (it reads from byte 9 of the
    /// line with `atoi`): leading white space skipped, an optional sign, digits; anything
    /// else (or nothing) is 0. The value is truncated to a C `int` as glibc does
    /// (`strtol` saturates, the cast keeps the low 32 bits), then clamped as in
    /// [`Version::from_announced`].
    pub fn from_atoi(text: &[u8]) -> Version {
        let mut it = text
            .iter()
            .copied()
            .skip_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
            .peekable();
        let neg = match it.peek() {
            Some(b'-') => {
                it.next();
                true
            }
            Some(b'+') => {
                it.next();
                false
            }
            _ => false,
        };
        let mut v: i64 = 0;
        for b in it.take_while(u8::is_ascii_digit) {
            let d = i64::from(b.wrapping_sub(b'0'));
            v = if neg {
                v.saturating_mul(10).saturating_sub(d)
            } else {
                v.saturating_mul(10).saturating_add(d)
            };
        }
        let [a, b, c, d, ..] = v.to_le_bytes();
        let as_int = i32::from_le_bytes([a, b, c, d]);
        match u32::try_from(as_int) {
            Ok(n) => Version::from_announced(n),
            Err(_) => Version::V0,
        }
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether `CTSTATUS` has the old form (`S/L`, no tracker totals, no cache): only in
    /// version 1.
    pub const fn has_v1_status(self) -> bool {
        self.0 == 1
    }

    /// Whether block markers are the v3 ones (`CTFILESTART`, `CTPEERSTART`, …) and
    /// `CTCONFIG` is self-describing; otherwise `CTFILES`, `CTPEERS`, … and positional.
    pub const fn is_v3(self) -> bool {
        self.0 >= 3
    }
}

impl Default for Version {
    fn default() -> Self {
        Version::CURRENT
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_the_client() {
        assert_eq!(Version::from_atoi(b"0003"), Version::V3);
        assert_eq!(Version::from_atoi(b"0004"), Version::V3);
        assert_eq!(Version::from_atoi(b"2"), Version::V2);
        assert_eq!(Version::from_atoi(b"0000"), Version::V0);
        assert_eq!(Version::from_atoi(b"garbage"), Version::V0);
        assert_eq!(Version::from_atoi(b""), Version::V0);
        assert_eq!(Version::from_atoi(b"  1xyz"), Version::V1);
        assert_eq!(Version::from_atoi(b"-2"), Version::V0);
        assert_eq!(Version::from_atoi(b"+2"), Version::V2);
        // strtol saturates to LONG_MAX; its low 32 bits are -1 as an int.
        assert_eq!(Version::from_atoi(b"99999999999999999999"), Version::V0);
        // 2^32 + 2: the low 32 bits are 2.
        assert_eq!(Version::from_atoi(b"4294967298"), Version::V2);
    }

    #[test]
    fn forms() {
        assert!(Version::V1.has_v1_status());
        assert!(!Version::V0.has_v1_status());
        assert!(Version::V3.is_v3() && !Version::V2.is_v3());
        assert_eq!(Version::new(4), None);
        assert_eq!(Version::from_announced(9), Version::V3);
        assert_eq!(Version::default(), Version::V3);
    }
}
