//! Blocks of fixed-width fields: read ([`Fixed`], [`Records`]) and assembled ([`Fields`])
//! with one bounds check per block.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

#[cfg(doc)]
use super::{Reader, Writer};

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
pub(super) fn cut_field(offset: usize, have: usize, n: usize, widths: &[usize]) -> DecodeError {
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
