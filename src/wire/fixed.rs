//! Fixed-size blocks and records: the error for a cut block, and the iterator over a
//! validated list of fixed-size records.

use crate::error::{DecodeError, DecodeErrorKind};

use super::field::Span;
#[cfg(doc)]
use super::Reader;

/// The error for an `n`-byte block of `fields` (offsets relative to the block) at
/// `offset` that only `have` bytes remain for: [`DecodeErrorKind::Truncated`] at the
/// first field that is cut. Out of line and given plain values, not the reader, so that
/// the reader of a hot decoder can stay in registers.
#[cold]
#[inline(never)]
pub(super) fn cut_field(offset: usize, have: usize, n: usize, fields: &[Span]) -> DecodeError {
    for f in fields {
        if f.end > have {
            return DecodeError::new(
                DecodeErrorKind::Truncated {
                    needed: f.end.saturating_sub(have),
                },
                offset.saturating_add(f.start),
            );
        }
    }
    // Fields that do not cover the block (ruled out by the tables' `tiles` checks)
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
