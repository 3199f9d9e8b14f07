//! Text scanning for CTCS lines, on top of the generic [`Reader`]: sets of delimiters,
//! decimal runs and the line-break check every line goes through.

use crate::wire::Reader;

/// The CTCS scanners, as methods of [`Reader`].
pub(crate) trait TextScan<'a> {
    /// The position of the first byte of the unread bytes that is one of `set`, relative
    /// to the cursor.
    fn find_any(&self, set: &[u8]) -> Option<usize>;
    /// Consumes and returns the bytes before the first byte in `set` (which is not
    /// consumed), or every remaining byte when there is none.
    fn take_until_any(&mut self, set: &[u8]) -> &'a [u8];
    /// Consumes a run of ASCII digits; returns them and their value modulo 2^64.
    fn take_decimal(&mut self) -> (&'a [u8], u64);
    /// The position of the first NUL, CR or LF in the unread bytes, relative to the
    /// cursor.
    fn find_line_break_or_nul(&self) -> Option<usize>;
}

impl<'a> TextScan<'a> for Reader<'a> {
    /// The position of the first byte of the unread bytes that is one of `set`, relative
    /// to the cursor.
    #[inline]
    fn find_any(&self, set: &[u8]) -> Option<usize> {
        self.rest().iter().position(|&b| in_set(set, b))
    }

    /// Consumes and returns the bytes before the first byte in `set` (which is not
    /// consumed), or every remaining byte when there is none.
    #[inline]
    fn take_until_any(&mut self, set: &[u8]) -> &'a [u8] {
        let n = self.find_any(set).unwrap_or(self.rest().len());
        // `n` never exceeds the length, so this cannot fail.
        self.take(n).unwrap_or_default()
    }

    /// Consumes a run of ASCII digits; returns them and their value modulo 2^64, which
    /// is exact when there are at most 19 of them.
    ///
    /// Scanning and accumulating in one loop reads each digit once; CTCS lines are
    /// mostly numbers, so this is most of the work of decoding them.
    #[inline]
    fn take_decimal(&mut self) -> (&'a [u8], u64) {
        let mut value: u64 = 0;
        let mut n: usize = 0;
        for &b in self.rest() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            value = value.wrapping_mul(10).wrapping_add(u64::from(d));
            n = n.wrapping_add(1);
        }
        // `n` never exceeds the length, so this cannot fail.
        (self.take(n).unwrap_or_default(), value)
    }

    /// The position of the first NUL, CR or LF in the unread bytes, relative to the
    /// cursor.
    ///
    /// Eight bytes at a time: every CTCS line is checked for these before it is
    /// decoded, and they almost never occur, so the common case is a test per word.
    #[inline]
    fn find_line_break_or_nul(&self) -> Option<usize> {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
        // Non-zero exactly when some byte is below 14 (the classic "has less"): a cheap
        // filter, confirmed byte by byte (TAB, for one, passes it).
        let maybe = |chunk: &[u8; 8]| {
            let word = u64::from_le_bytes(*chunk);
            word.wrapping_sub(ONES.wrapping_mul(14)) & !word & HIGHS != 0
        };
        let special = |b: &u8| matches!(*b, 0 | b'\r' | b'\n');
        let exact = |from: usize| {
            let tail = self.rest().get(from..).unwrap_or_default();
            tail.iter().position(special).map(|i| from.wrapping_add(i))
        };
        // The last word overlaps the one before it rather than leaving a tail to be
        // read byte by byte: most lines are a few words long.
        let Some(last) = self.rest().last_chunk::<8>() else {
            return exact(0);
        };
        let mut rest = self.rest();
        let mut at: usize = 0;
        while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
            if maybe(chunk) {
                return exact(at);
            }
            at = at.wrapping_add(8);
            rest = tail;
        }
        if rest.is_empty() || !maybe(last) {
            None
        } else {
            exact(at)
        }
    }
}

/// Whether `b` is one of the few bytes of `set`.
#[inline]
// `contains` runs `memchr`'s set-up for every byte tested, which profiling showed was
// most of the cost of the scans above.
#[allow(clippy::manual_contains)]
fn in_set(set: &[u8], b: u8) -> bool {
    set.iter().any(|&s| s == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    #[test]
    fn find_any_and_take_until_any() {
        let mut r = Reader::with_base(b"ab\rc\nd", 5);
        assert_eq!(r.find_any(b"\r\n"), Some(2));
        assert_eq!(r.take_until_any(b"\r\n"), b"ab");
        assert_eq!(r.offset(), 7);
        assert!(r.eat(b'\r'));
        assert_eq!(r.take_until_any(b"\r\n"), b"c");
        assert_eq!(r.find_any(b"xyz"), None);
        let mut r = Reader::new(b"tail");
        assert_eq!(r.take_until_any(b" "), b"tail");
        assert!(r.is_empty());
    }

    #[test]
    fn take_until_and_take_decimal() {
        let mut r = Reader::with_base(b"ab cd", 2);
        assert_eq!(r.take_until(b' '), b"ab");
        assert_eq!(r.offset(), 4);
        assert_eq!(r.take_until(b'x'), b" cd");
        let mut r = Reader::with_base(b"0123,x", 1);
        assert_eq!(r.take_decimal(), (&b"0123"[..], 123));
        assert_eq!(r.offset(), 5);
        assert_eq!(r.take_decimal(), (&b""[..], 0));
        let mut r = Reader::with_base(b"18446744073709551615", 0);
        assert_eq!(r.take_decimal().1, u64::MAX);
        assert!(r.is_empty());
        assert_eq!(r.error(DecodeErrorKind::ExtraField).offset(), 20);
    }

    #[test]
    fn line_breaks_and_nul_are_found_in_any_position() {
        assert_eq!(Reader::new(b"").find_line_break_or_nul(), None);
        assert_eq!(
            Reader::new(b"\t\x0b\x0c plain").find_line_break_or_nul(),
            None
        );
        let mut line = *b"0123456789abcdefghij";
        for at in 0..line.len() {
            for b in [0, b'\r', b'\n'] {
                let saved = line[at];
                line[at] = b;
                assert_eq!(Reader::new(&line).find_line_break_or_nul(), Some(at));
                line[at] = saved;
            }
        }
        assert_eq!(Reader::new(&line).find_line_break_or_nul(), None);
    }
}
