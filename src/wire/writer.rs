//! The capacity-checked writer every encoder uses.

use crate::error::EncodeError;

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

    /// Appends an `N`-byte block of fixed fields that `fill` writes in place, at offsets
    /// the compiler can see: one bounds check for the block instead of one per field.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the block does not fit the window given to [`Writer::new`]
    /// (only an encoder that computed its length wrongly can cause it); nothing is
    /// written then.
    #[inline]
    pub(crate) fn block<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]),
    ) -> Result<(), EncodeError> {
        let end = self.len.saturating_add(N);
        match self
            .buf
            .get_mut(self.len..)
            .and_then(|b| b.first_chunk_mut::<N>())
        {
            Some(dst) => {
                fill(dst);
                self.len = end;
                Ok(())
            }
            None => Err(EncodeError::new(end)),
        }
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

    /// Like [`Writer::records_with`] for records whose size is a constant the type
    /// system cannot carry (an associated const): `put` gets each record's `stride`
    /// bytes as a slice. Once inlined the stride is a constant, and this compiles to the
    /// same loop.
    #[inline]
    pub(crate) fn records_with_stride<T>(
        &mut self,
        stride: usize,
        items: impl IntoIterator<Item = T>,
        mut put: impl FnMut(&mut [u8], T),
    ) {
        let stride = stride.max(1);
        let rest = self.buf.get_mut(self.len..).unwrap_or_default();
        let mut n = 0usize;
        for (slot, item) in rest.chunks_exact_mut(stride).zip(items) {
            put(slot, item);
            // At most `rest.len() / stride`: cannot wrap (see `records_with`).
            n = n.wrapping_add(1);
        }
        self.len = self.len.saturating_add(n.saturating_mul(stride));
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
