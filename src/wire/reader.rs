//! The forward-only reader every decoder uses.

use crate::error::{DecodeError, DecodeErrorKind};

use super::field::Span;
use super::fixed::cut_field;
#[cfg(doc)]
use super::Records;

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

    /// Consumes the next `N` bytes as one block of the fixed `fields` of a layout table
    /// (offsets relative to the block, in order, covering it): one bounds check for the
    /// whole block instead of one per field. Its fields are then read with
    /// [`get`](super::get).
    ///
    /// # Errors
    ///
    /// If fewer than `N` bytes remain, [`DecodeErrorKind::Truncated`] at the start of the
    /// first field that is cut, with the bytes that field lacks: the same error reading
    /// the fields one by one would give.
    #[inline]
    pub(crate) fn block<const N: usize>(
        &mut self,
        fields: &[Span],
    ) -> Result<&'a [u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(cut_field(self.offset(), self.rest.len(), N, fields)),
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

    /// Consumes and returns the bytes before the first `byte` (which is not consumed), or
    /// every remaining byte when there is none.
    #[inline]
    pub(crate) fn take_until(&mut self, byte: u8) -> &'a [u8] {
        let n = self.find(byte).unwrap_or(self.rest.len());
        // `n` never exceeds the length, so this cannot fail.
        self.take(n).unwrap_or_default()
    }
}
