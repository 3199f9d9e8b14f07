//! Checked cursors over byte slices: the only code in the crate that handles byte offsets.
//!
//! Every decoder reads through a [`Reader`] and every encoder writes through a
//! [`Writer`], so no codec can index out of bounds and every error carries the offset at
//! which it happened. Integers are big-endian (network byte order), as BEP 15 requires.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// A forward-only reader over a borrowed byte slice.
///
/// Offsets in the errors it produces are `base + position`, so a reader over a part of a
/// larger input reports offsets relative to the whole input. The offset is derived (the
/// end of the input minus what is left) rather than kept up to date at every read: a
/// CTCS line is decoded in a few dozen reads of a byte or two, and updating a counter
/// at each cost more than the reads.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    /// The offset, in the caller's input, of the end of `rest`.
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`, reporting offsets from 0.
    #[inline]
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Reader {
            rest: buf,
            end: buf.len(),
        }
    }

    /// A reader over `buf`, which starts at byte `base` of the caller's input.
    #[inline]
    pub(crate) const fn with_base(buf: &'a [u8], base: usize) -> Self {
        Reader {
            rest: buf,
            end: base.saturating_add(buf.len()),
        }
    }

    /// The offset of the next unread byte.
    #[inline]
    pub(crate) const fn offset(&self) -> usize {
        self.end.saturating_sub(self.rest.len())
    }

    /// How many bytes are left.
    #[inline]
    pub(crate) const fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every byte has been read.
    #[inline]
    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub(crate) const fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// An error of `kind` at the current offset.
    #[inline]
    pub(crate) const fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    #[inline]
    fn truncated(&self, want: usize) -> DecodeError {
        self.error(DecodeErrorKind::Truncated {
            needed: want.saturating_sub(self.rest.len()),
        })
    }

    /// Consumes and returns the next `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(self.truncated(n)),
        }
    }

    /// Consumes and returns every remaining byte.
    #[inline]
    pub(crate) fn take_rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// Consumes the next `N` bytes as an array.
    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.truncated(N)),
        }
    }

    /// Consumes the next `N` bytes as one block of fixed fields whose widths are
    /// `widths` (in order, adding up to `N`): one bounds check for the whole block
    /// instead of one per field. Its fields are then read through a [`Fixed`].
    ///
    /// # Errors
    ///
    /// If fewer than `N` bytes remain, [`DecodeErrorKind::Truncated`] at the start of the
    /// first field that is cut, with the bytes that field lacks: the same error reading
    /// the fields one by one would give.
    #[inline]
    pub(crate) fn block<const N: usize>(
        &mut self,
        widths: &[usize],
    ) -> Result<&'a [u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(cut_field(self.offset(), self.rest.len(), N, widths)),
        }
    }

    /// Consumes one byte.
    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    /// Consumes a big-endian `u16`.
    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    /// Consumes a big-endian `u64`.
    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    /// The next byte, without consuming it.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Consumes every remaining byte as a list of `stride`-byte records.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::PartialRecord`] at the offset of the partial last record.
    #[inline]
    pub(crate) fn records(&mut self, stride: u8) -> Result<&'a [u8], DecodeError> {
        let s = usize::from(stride).max(1);
        let partial = self.rest.len().checked_rem(s).unwrap_or(0);
        let whole = self.rest.len().saturating_sub(partial);
        if whole == self.rest.len() {
            Ok(self.take_rest())
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::PartialRecord { stride },
                self.offset().saturating_add(whole),
            ))
        }
    }

    /// Consumes bytes while `pred` holds and returns them.
    #[inline]
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let n = self.rest.iter().take_while(|&&b| pred(b)).count();
        // `n` never exceeds the length, so this cannot fail.
        self.take(n).unwrap_or_default()
    }

    /// Consumes `byte` if it is next; says whether it was.
    #[inline]
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        match self.rest.split_first() {
            Some((&b, tail)) if b == byte => {
                self.rest = tail;
                true
            }
            _ => false,
        }
    }

    /// The position of the first `byte` in the unread bytes, relative to the cursor.
    #[inline]
    pub(crate) fn find(&self, byte: u8) -> Option<usize> {
        self.rest.iter().position(|&b| b == byte)
    }
}

/// The length of a block of fields of `widths`: for compile-time checks that a layout
/// adds up to its block.
pub(crate) const fn total(mut widths: &[usize]) -> usize {
    let mut sum = 0usize;
    while let [first, rest @ ..] = widths {
        sum = sum.saturating_add(*first);
        widths = rest;
    }
    sum
}

/// A block of fixed fields whose length is known (a block from [`Reader::block`], or a
/// record from [`Records`]): its reads cannot fail, and once inlined the position is a
/// constant and the length part of the type, so they compile to plain loads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed<'a, const N: usize> {
    bytes: &'a [u8; N],
    at: usize,
}

impl<'a, const N: usize> Fixed<'a, N> {
    /// A reader at the start of `bytes`.
    #[inline]
    pub(crate) const fn new(bytes: &'a [u8; N]) -> Self {
        Fixed { bytes, at: 0 }
    }

    /// The next `M` bytes (zeros past the end of the block, which the callers' widths
    /// rule out).
    #[inline]
    pub(crate) fn array<const M: usize>(&mut self) -> [u8; M] {
        let at = self.at;
        self.at = at.saturating_add(M);
        match self.bytes.get(at..).and_then(|b| b.first_chunk::<M>()) {
            Some(head) => *head,
            None => [0; M],
        }
    }

    /// The next big-endian `u16`.
    #[inline]
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    /// The next big-endian `u32`.
    #[inline]
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    /// The next big-endian `i32`.
    #[inline]
    pub(crate) fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.array())
    }

    /// The next big-endian `u64`.
    #[inline]
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }

    /// The next big-endian `i64`.
    #[inline]
    pub(crate) fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.array())
    }
}

/// The error for an `n`-byte block of fields of `widths` at `offset` that only `have`
/// bytes remain for. Out of line and given plain values, not the reader, so that the
/// reader of a hot decoder can stay in registers.
#[cold]
#[inline(never)]
fn cut_field(offset: usize, have: usize, n: usize, widths: &[usize]) -> DecodeError {
    let mut start = 0usize;
    for &w in widths {
        let end = start.saturating_add(w);
        if end > have {
            return DecodeError::new(
                DecodeErrorKind::Truncated {
                    needed: end.saturating_sub(have),
                },
                offset.saturating_add(start),
            );
        }
        start = end;
    }
    // Widths that do not cover the block (ruled out by the callers' `total` checks)
    // make it one field.
    DecodeError::new(
        DecodeErrorKind::Truncated {
            needed: n.saturating_sub(have),
        },
        offset,
    )
}

/// Splits a validated slice into `N`-byte records. The slice's length is a multiple of
/// `N` by construction ([`Reader::records`]); a partial tail, if one were ever passed,
/// is not yielded.
#[derive(Debug, Clone)]
pub(crate) struct Records<'a, const N: usize> {
    rest: &'a [u8],
}

impl<'a, const N: usize> Records<'a, N> {
    #[inline]
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Records { rest: bytes }
    }
}

impl<'a, const N: usize> Iterator for Records<'a, N> {
    type Item = &'a [u8; N];

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(head)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len().checked_div(N).unwrap_or(0);
        (n, Some(n))
    }
}

impl<const N: usize> ExactSizeIterator for Records<'_, N> {}

impl<const N: usize> DoubleEndedIterator for Records<'_, N> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let (head, tail) = self.rest.split_last_chunk::<N>()?;
        self.rest = head;
        Some(tail)
    }
}

/// A writer into a caller buffer whose capacity was checked up front, so a failed encode
/// never leaves partial output behind.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// A writer for a message of exactly `required` bytes.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than `required`; `buf` is not touched.
    #[inline]
    pub(crate) fn new(buf: &'a mut [u8], required: usize) -> Result<Self, EncodeError> {
        match buf.get_mut(..required) {
            Some(window) => Ok(Writer {
                buf: window,
                len: 0,
            }),
            None => Err(EncodeError::new(required)),
        }
    }

    /// The bytes written so far.
    #[inline]
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the bytes do not fit the window given to [`Writer::new`], which
    /// only an encoder that computed its length wrongly can cause.
    #[inline]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.len.saturating_add(bytes.len());
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(EncodeError::new(end))?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends `N`-byte records from `items`, as many as fit the rest of the window
    /// (encoders size the window for exactly their records). One bounds check for the
    /// whole list instead of one per record.
    #[inline]
    pub(crate) fn records<const N: usize>(&mut self, items: impl IntoIterator<Item = [u8; N]>) {
        self.records_with(items, |dst, src| *dst = src);
    }

    /// Appends one `N`-byte record per item of `items`, which `put` writes in place, as
    /// many as fit the rest of the window. The window, not `items`, bounds the count, so
    /// callers need no `take`: over a slice the loop then has one exit and a counter the
    /// compiler can see through, and writing in place avoids assembling each record in a
    /// register first.
    #[inline]
    pub(crate) fn records_with<const N: usize, T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut put: impl FnMut(&mut [u8; N], T),
    ) {
        let rest = self.buf.get_mut(self.len..).unwrap_or_default();
        let mut n = 0usize;
        for (slot, item) in rest.chunks_exact_mut(N).zip(items) {
            if let Ok(rec) = <&mut [u8; N]>::try_from(slot) {
                put(rec, item);
            }
            // At most `rest.len() / N`: cannot wrap. (A saturating add would hide the
            // trip count from the optimiser.)
            n = n.wrapping_add(1);
        }
        self.len = self.len.saturating_add(n.saturating_mul(N));
    }

    /// Like [`Writer::records_with`] for items that may be skipped: `put` either writes a
    /// record and returns `true`, or returns `false` without writing. No item is pulled
    /// once the window is full. Filtering here, instead of through `filter_map`, keeps
    /// one flat loop over the items.
    #[inline]
    pub(crate) fn records_picked<const N: usize, T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut put: impl FnMut(&mut [u8; N], T) -> bool,
    ) {
        let mut free = self.buf.get_mut(self.len..).unwrap_or_default();
        let room = free.len();
        if room >= N {
            for item in items {
                let Some(rec) = free.first_chunk_mut::<N>() else {
                    break;
                };
                if put(rec, item) {
                    free = core::mem::take(&mut free).get_mut(N..).unwrap_or_default();
                    if free.len() < N {
                        break;
                    }
                }
            }
        }
        self.len = self.len.saturating_add(room.saturating_sub(free.len()));
    }

    /// Appends one `N`-byte record per element of `items`, written by `put`, as many as
    /// fit the rest of the window.
    #[inline]
    pub(crate) fn slice_records<const N: usize, T>(
        &mut self,
        items: &[T],
        put: impl Fn(&mut [u8; N], &T),
    ) {
        let rest = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = fill_records(rest, items, put);
        self.len = self.len.saturating_add(n.saturating_mul(N));
    }

    /// Appends one byte.
    #[inline]
    pub(crate) fn u8(&mut self, v: u8) -> Result<(), EncodeError> {
        self.bytes(&[v])
    }

    /// Appends a big-endian `u16`.
    #[inline]
    pub(crate) fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian `u32`.
    #[inline]
    pub(crate) fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian `u64`.
    #[inline]
    pub(crate) fn u64(&mut self, v: u64) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends `v` in decimal ASCII, no padding.
    #[inline]
    pub(crate) fn decimal_u64(&mut self, v: u64) -> Result<(), EncodeError> {
        let mut digits = [0u8; 20];
        let n = format_u64(v, &mut digits);
        self.bytes(
            digits
                .get(digits.len().saturating_sub(n)..)
                .unwrap_or_default(),
        )
    }

    /// Appends `v` in decimal ASCII, with a leading `-` when negative.
    #[inline]
    pub(crate) fn decimal_i64(&mut self, v: i64) -> Result<(), EncodeError> {
        if v < 0 {
            self.u8(b'-')?;
        }
        self.decimal_u64(v.unsigned_abs())
    }

    /// Ends the message and returns its length.
    #[inline]
    pub(crate) const fn finish(self) -> usize {
        self.len
    }
}

/// The loop of [`Writer::slice_records`], kept out of line: as a function of its own, its
/// `&mut` and `&` arguments are known not to overlap, which lets the compiler turn a loop
/// of record copies into one `memcpy`.
#[inline(never)]
fn fill_records<const N: usize, T>(
    dst: &mut [u8],
    items: &[T],
    put: impl Fn(&mut [u8; N], &T),
) -> usize {
    let mut n = 0usize;
    for (dst, src) in dst.chunks_exact_mut(N).zip(items) {
        if let Ok(dst) = <&mut [u8; N]>::try_from(dst) {
            put(dst, src);
        }
        n = n.wrapping_add(1);
    }
    n
}

/// Writes the decimal digits of `v` right-aligned into `out`; returns how many.
#[inline]
fn format_u64(mut v: u64, out: &mut [u8; 20]) -> usize {
    let mut n = 0usize;
    for slot in out.iter_mut().rev() {
        // `v % 10 < 10`, so the cast cannot truncate.
        *slot = b'0'.saturating_add((v % 10) as u8);
        v /= 10;
        n = n.saturating_add(1);
        if v == 0 {
            break;
        }
    }
    n
}

/// How many bytes [`Writer::decimal_u64`] writes for `v`.
#[inline]
pub(crate) const fn decimal_len_u64(mut v: u64) -> usize {
    let mut n: usize = 1;
    while v >= 10 {
        v /= 10;
        n = n.saturating_add(1);
    }
    n
}

/// How many bytes [`Writer::decimal_i64`] writes for `v`.
#[inline]
pub(crate) const fn decimal_len_i64(v: i64) -> usize {
    let digits = decimal_len_u64(v.unsigned_abs());
    if v < 0 {
        digits.saturating_add(1)
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_truncation_where_it_happens() {
        let mut r = Reader::with_base(&[1, 2, 3], 10);
        assert_eq!(r.u16().unwrap(), 0x0102);
        let e = r.array::<4>().unwrap_err();
        assert_eq!(e.offset(), 12);
        assert_eq!(e.kind(), DecodeErrorKind::Truncated { needed: 3 });
        // A failed read consumes nothing.
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.is_empty());
    }

    #[test]
    fn a_cut_block_reports_its_first_cut_field() {
        const W: [usize; 3] = [8, 4, 4];
        let bytes: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut f = Fixed::new(Reader::new(&bytes).block::<16>(&W).unwrap());
        assert_eq!(f.u64(), 0x0102_0304_0506_0708);
        assert_eq!(f.u32(), 0x090a_0b0c);
        assert_eq!(f.u16(), 0x0d0e);
        assert_eq!(f.array::<2>(), [15, 16]);
        // Past the end: zeros, never a panic.
        assert_eq!(f.u32(), 0);
        for len in 0..16 {
            let mut r = Reader::with_base(&bytes[..len], 100);
            let e = r.block::<16>(&W).unwrap_err();
            let (start, end) = match len {
                0..=7 => (0, 8),
                8..=11 => (8, 12),
                _ => (12, 16),
            };
            assert_eq!(e.offset(), 100 + start, "len {len}");
            assert_eq!(e.kind(), DecodeErrorKind::Truncated { needed: end - len });
            assert_eq!(r.remaining(), len, "a failed block consumes nothing");
        }
        assert_eq!(total(&W), 16);
    }

    #[test]
    fn records_reject_partial_tail_at_its_start() {
        let mut r = Reader::new(&[0; 13]);
        let e = r.records(6).unwrap_err();
        assert_eq!(e.offset(), 12);
        assert_eq!(e.kind(), DecodeErrorKind::PartialRecord { stride: 6 });
        let mut r = Reader::new(&[0; 12]);
        let recs = r.records(6).unwrap();
        assert_eq!(Records::<6>::new(recs).len(), 2);
    }

    #[test]
    fn writer_checks_capacity_up_front() {
        let mut buf = [7u8; 3];
        assert_eq!(Writer::new(&mut buf, 4).unwrap_err().required(), 4);
        assert_eq!(buf, [7; 3]);
        let mut w = Writer::new(&mut buf, 2).unwrap();
        w.u16(0xabcd).unwrap();
        assert!(w.u8(1).is_err());
        assert_eq!(w.finish(), 2);
        assert_eq!(buf, [0xab, 0xcd, 7]);
    }

    #[test]
    fn records_fill_the_window_and_no_more() {
        let mut buf = [9u8; 8];
        let mut w = Writer::new(&mut buf, 6).unwrap();
        w.records_with([[1u8, 2], [3, 4], [5, 6], [7, 8]], |d, s| *d = s);
        assert_eq!(w.finish(), 6);
        assert_eq!(buf, [1, 2, 3, 4, 5, 6, 9, 9]);
        // A short iterator gives a short message.
        let mut w = Writer::new(&mut buf, 6).unwrap();
        w.records_with([[0u8, 0]], |d, s| *d = s);
        assert_eq!(w.finish(), 2);
    }

    #[test]
    fn picked_records_skip_without_a_slot_and_stop_pulling_when_full() {
        let mut buf = [9u8; 8];
        let mut w = Writer::new(&mut buf, 4).unwrap();
        let mut pulled = 0;
        let items = (1u8..=9).inspect(|_| pulled += 1);
        w.records_picked(items, |d: &mut [u8; 2], i| {
            let keep = i % 2 == 0;
            if keep {
                *d = [i, i];
            }
            keep
        });
        assert_eq!(w.finish(), 4);
        assert_eq!(buf, [2, 2, 4, 4, 9, 9, 9, 9]);
        assert_eq!(pulled, 4, "the window was full after item 4");
        let mut w = Writer::new(&mut buf, 4).unwrap();
        w.records_picked([1u8, 3], |_: &mut [u8; 2], _| false);
        assert_eq!(w.finish(), 0);
    }

    #[test]
    fn decimal_formatting() {
        for v in [0u64, 7, 10, 99, 100, 12345, u64::MAX] {
            let mut buf = [0u8; 32];
            let mut w = Writer::new(&mut buf, decimal_len_u64(v)).unwrap();
            w.decimal_u64(v).unwrap();
            let n = w.finish();
            assert_eq!(&buf[..n], std::format!("{v}").as_bytes());
        }
        for v in [0i64, -1, -5, 42, i64::MIN, i64::MAX] {
            let mut buf = [0u8; 32];
            let mut w = Writer::new(&mut buf, decimal_len_i64(v)).unwrap();
            w.decimal_i64(v).unwrap();
            let n = w.finish();
            assert_eq!(&buf[..n], std::format!("{v}").as_bytes());
        }
    }
}

// ---- text helpers (CTCS) ----

impl<'a> Reader<'a> {
    /// The position of the first byte of the unread bytes that is one of `set`, relative
    /// to the cursor.
    #[inline]
    pub(crate) fn find_any(&self, set: &[u8]) -> Option<usize> {
        self.rest.iter().position(|&b| in_set(set, b))
    }

    /// Consumes and returns the bytes before the first byte in `set` (which is not
    /// consumed), or every remaining byte when there is none.
    #[inline]
    pub(crate) fn take_until_any(&mut self, set: &[u8]) -> &'a [u8] {
        let n = self.find_any(set).unwrap_or(self.rest.len());
        // `n` never exceeds the length, so this cannot fail.
        self.take(n).unwrap_or_default()
    }

    /// Consumes and returns the bytes before the first `byte` (which is not consumed), or
    /// every remaining byte when there is none.
    #[inline]
    pub(crate) fn take_until(&mut self, byte: u8) -> &'a [u8] {
        let n = self.find(byte).unwrap_or(self.rest.len());
        // `n` never exceeds the length, so this cannot fail.
        self.take(n).unwrap_or_default()
    }

    /// Consumes a run of ASCII digits; returns them and their value modulo 2^64, which
    /// is exact when there are at most 19 of them.
    ///
    /// Scanning and accumulating in one loop reads each digit once; CTCS lines are
    /// mostly numbers, so this is most of the work of decoding them.
    #[inline]
    pub(crate) fn take_decimal(&mut self) -> (&'a [u8], u64) {
        let mut value: u64 = 0;
        let mut n: usize = 0;
        for &b in self.rest {
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
    pub(crate) fn find_line_break_or_nul(&self) -> Option<usize> {
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
            let tail = self.rest.get(from..).unwrap_or_default();
            tail.iter().position(special).map(|i| from.wrapping_add(i))
        };
        // The last word overlaps the one before it rather than leaving a tail to be
        // read byte by byte: most lines are a few words long.
        let Some(last) = self.rest.last_chunk::<8>() else {
            return exact(0);
        };
        let mut rest = self.rest;
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

/// A fixed-capacity byte store filled from the front, for accumulators that keep bytes
/// across calls (partial CTCS lines, formatted peer ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Fill<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Fill<N> {
    /// An empty store.
    pub(crate) const fn new() -> Self {
        Fill {
            buf: [0; N],
            len: 0,
        }
    }

    /// How many bytes are stored.
    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub(crate) const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many more bytes fit.
    pub(crate) const fn spare(&self) -> usize {
        N.saturating_sub(self.len)
    }

    /// Appends `bytes` if they all fit; says whether they did (nothing is stored if not).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len.saturating_add(bytes.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
                true
            }
            None => false,
        }
    }

    /// The stored bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Forgets every stored byte.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

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

    #[test]
    fn fill_is_all_or_nothing() {
        let mut f = Fill::<4>::new();
        assert!(f.is_empty());
        assert!(f.push(b"ab"));
        assert!(!f.push(b"cde"));
        assert_eq!(f.as_slice(), b"ab");
        assert_eq!(f.spare(), 2);
        assert!(f.push(b"cd"));
        assert_eq!(f.len(), 4);
        f.clear();
        assert_eq!(f.as_slice(), b"");
    }
}

// ---- fixed-size field blocks ----

/// The fixed fields of a message, assembled on the stack at offsets the compiler can see,
/// then written with one [`Writer::bytes`]: one bounds check for the block instead of one
/// per field.
#[derive(Debug, Clone)]
pub(crate) struct Fields<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Fields<N> {
    #[inline]
    pub(crate) const fn new() -> Self {
        Fields {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `bytes` (bytes past the end of the block are not written, and
    /// [`Fields::full`] then refuses the block).
    #[inline]
    pub(crate) fn put<const M: usize>(&mut self, bytes: [u8; M]) -> &mut Self {
        let end = self.len.saturating_add(M);
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(&bytes);
        }
        self.len = end;
        self
    }

    /// The assembled block, if exactly `N` bytes were put.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] (with the length that was put) if the fields did not add up to the
    /// block: an encoder bug, reported rather than sent as zeros or cut fields.
    #[inline]
    pub(crate) fn full(&self) -> Result<&[u8; N], EncodeError> {
        if self.len == N {
            Ok(&self.buf)
        } else {
            Err(EncodeError::new(self.len))
        }
    }
}

#[cfg(test)]
mod fields_tests {
    use super::*;

    #[test]
    fn a_block_must_be_filled_exactly() {
        let mut f = Fields::<6>::new();
        f.put([1u8, 2, 3, 4]).put(0x0506u16.to_be_bytes());
        assert_eq!(f.full().unwrap(), &[1, 2, 3, 4, 5, 6]);
        let mut short = Fields::<6>::new();
        short.put([1u8; 4]);
        assert_eq!(short.full().unwrap_err().required(), 4);
        let mut long = Fields::<6>::new();
        long.put([1u8; 4]).put([2u8; 4]);
        assert_eq!(long.full().unwrap_err().required(), 8);
    }
}

// ---- a FIFO of whole lines (the CTCS sessions' output) ----

/// A fixed-capacity FIFO of bytes that only ever holds whole LF-terminated lines: what a
/// CTCS session has encoded and not yet handed to the caller. Invariant:
/// `start <= end <= N`; the queued bytes are `buf[start..end]`.
#[derive(Debug, Clone)]
pub(crate) struct LineFifo<const N: usize> {
    buf: [u8; N],
    start: usize,
    end: usize,
}

impl<const N: usize> LineFifo<N> {
    pub(crate) const fn new() -> Self {
        LineFifo {
            buf: [0; N],
            start: 0,
            end: 0,
        }
    }

    /// Bytes queued.
    pub(crate) const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Drops everything queued.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Moves the queued bytes to the front, so that the free space is in one piece.
    fn compact(&mut self) {
        if self.start > 0 && self.start <= self.end && self.end <= N {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = self.end.saturating_sub(self.start);
            self.start = 0;
        }
    }

    /// Where the queue ends now; [`LineFifo::truncate`] returns to it. Marks stay valid
    /// until the next pop.
    pub(crate) fn mark(&mut self) -> usize {
        self.compact();
        self.end
    }

    /// Drops what was appended since `mark`.
    pub(crate) fn truncate(&mut self, mark: usize) {
        if (self.start..=self.end).contains(&mark) {
            self.end = mark;
        }
        if self.start >= self.end {
            self.clear();
        }
    }

    /// Lets `write` encode into the free space and keeps what it wrote.
    ///
    /// # Errors
    ///
    /// `write`'s error; nothing is kept.
    pub(crate) fn append(
        &mut self,
        write: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<usize, EncodeError> {
        self.compact();
        let spare = self.buf.get_mut(self.end..).unwrap_or_default();
        let room = spare.len();
        let n = write(spare)?;
        if n > room {
            return Err(EncodeError::new(n));
        }
        self.end = self.end.saturating_add(n);
        Ok(n)
    }

    /// Copies the oldest whole lines that fit `dst` (only the first one if `one_line`)
    /// and drops them from the queue; returns their length, or `None` when empty.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] with the length of the first line if it does not fit `dst`; the
    /// queue is unchanged.
    pub(crate) fn pop_lines(
        &mut self,
        dst: &mut [u8],
        one_line: bool,
    ) -> Result<Option<usize>, EncodeError> {
        let queued = self.buf.get(self.start..self.end).unwrap_or_default();
        if queued.is_empty() {
            return Ok(None);
        }
        let first = queued
            .iter()
            .position(|&b| b == b'\n')
            .map_or(queued.len(), |p| p.saturating_add(1));
        let n = if one_line {
            first
        } else {
            let window = queued.get(..dst.len()).unwrap_or(queued);
            window
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(first, |p| p.saturating_add(1))
        };
        match (dst.get_mut(..n), queued.get(..n)) {
            (Some(d), Some(s)) => d.copy_from_slice(s),
            _ => return Err(EncodeError::new(first)),
        }
        self.start = self.start.saturating_add(n);
        if self.start >= self.end {
            self.clear();
        }
        Ok(Some(n))
    }
}

#[cfg(test)]
mod line_fifo_tests {
    use super::*;

    fn push(q: &mut LineFifo<16>, s: &[u8]) -> Result<usize, EncodeError> {
        q.append(|spare| {
            let mut w = Writer::new(spare, s.len())?;
            w.bytes(s)?;
            Ok(w.finish())
        })
    }

    #[test]
    fn whole_lines_in_order_with_rollback() {
        let mut q = LineFifo::<16>::new();
        push(&mut q, b"AB\n").unwrap();
        let m = q.mark();
        push(&mut q, b"CDE\n").unwrap();
        q.truncate(m);
        assert_eq!(q.len(), 3);
        push(&mut q, b"FG\n").unwrap();
        push(&mut q, b"HIJKL\n").unwrap();
        let mut out = [0u8; 7];
        // Two lines fit 7 bytes; the third waits.
        assert_eq!(q.pop_lines(&mut out, false).unwrap(), Some(6));
        assert_eq!(&out[..6], b"AB\nFG\n");
        let mut small = [0u8; 3];
        assert_eq!(q.pop_lines(&mut small, true).unwrap_err().required(), 6);
        let mut out = [0u8; 16];
        assert_eq!(q.pop_lines(&mut out, true).unwrap(), Some(6));
        assert_eq!(q.pop_lines(&mut out, true).unwrap(), None);
        assert_eq!(q.len(), 0);
        // A full queue refuses, keeping what it had; freeing space compacts.
        push(&mut q, b"0123456789abcd\n").unwrap();
        assert!(push(&mut q, b"xy\n").is_err());
        assert_eq!(q.len(), 15);
    }
}
