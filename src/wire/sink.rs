//! Where a binary encoder writes: a capacity-checked window of a caller's `&mut [u8]`
//! ([`Writer`]), or, with `alloc`, the end of a caller's `Vec<u8>` ([`VecSink`]).
//!
//! Each binary message is written once, generic over [`Sink`], and both entry points
//! (`encode` into a slice, `encode_to_vec` appending to a vector) call that one body. The
//! vector sink appends what is written without zero-filling the vector first: a caller
//! holding a `Vec<u8>` would otherwise have to `resize` it before `encode(&mut [u8])`.

use crate::error::EncodeError;

use super::Writer;

/// The output of a binary encoder.
pub(crate) trait Sink {
    /// Why a write can fail: the slice window was sized wrong ([`EncodeError`]); a vector
    /// cannot fail (`Infallible`).
    type Error;

    /// Appends `bytes`.
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// Appends an `N`-byte block of fixed fields that `fill` writes in place: one bounds
    /// check (slice) or one append (vector) for the block, not one per field.
    fn block<const N: usize>(&mut self, fill: impl FnOnce(&mut [u8; N]))
        -> Result<(), Self::Error>;

    /// Appends one `N`-byte record per element of `items`, each written by `put`.
    fn slice_records<const N: usize, T>(
        &mut self,
        items: &[T],
        put: impl Fn(&mut [u8; N], &T),
    ) -> Result<(), Self::Error>;

    /// Appends one `N`-byte record per item of `items`, each written by `put`; a slice
    /// window stops where it is full (encoders size it for exactly their records).
    fn iter_records<const N: usize, T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        put: impl FnMut(&mut [u8; N], T),
    ) -> Result<(), Self::Error>;

    /// The bytes of this message written so far (for a hash over them).
    fn written(&self) -> &[u8];
}

/// Encodes a message of `len` bytes into `buf` with `write`, and returns `len`.
///
/// # Errors
///
/// [`EncodeError`] if `buf` is shorter than `len`; `buf` is untouched.
#[inline(always)]
pub(crate) fn encode_into(
    buf: &mut [u8],
    len: usize,
    write: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let mut w = Writer::new(buf, len)?;
    write(&mut w)?;
    Ok(w.finish())
}

/// Appends a message of about `len` bytes to `out` with `write`, and returns how many
/// bytes were appended.
#[cfg(feature = "alloc")]
#[inline(always)]
pub(crate) fn append_to_vec(
    out: &mut alloc::vec::Vec<u8>,
    len: usize,
    write: impl FnOnce(&mut VecSink<'_>) -> Result<(), core::convert::Infallible>,
) -> usize {
    let mut s = VecSink::new(out, len);
    match write(&mut s) {
        Ok(()) => {}
        Err(never) => match never {},
    }
    s.finish()
}

impl Sink for Writer<'_> {
    type Error = EncodeError;

    #[inline(always)]
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        Writer::bytes(self, bytes)
    }

    #[inline(always)]
    fn block<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]),
    ) -> Result<(), EncodeError> {
        Writer::block(self, fill)
    }

    #[inline(always)]
    fn slice_records<const N: usize, T>(
        &mut self,
        items: &[T],
        put: impl Fn(&mut [u8; N], &T),
    ) -> Result<(), EncodeError> {
        Writer::slice_records(self, items, put);
        Ok(())
    }

    #[inline(always)]
    fn iter_records<const N: usize, T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        put: impl FnMut(&mut [u8; N], T),
    ) -> Result<(), EncodeError> {
        Writer::records_with(self, items, put);
        Ok(())
    }

    #[inline(always)]
    fn written(&self) -> &[u8] {
        Writer::written(self)
    }
}

/// Appends to the end of a caller's vector; what was in it stays.
#[cfg(feature = "alloc")]
#[derive(Debug)]
pub(crate) struct VecSink<'v> {
    vec: &'v mut alloc::vec::Vec<u8>,
    /// The vector's length before this message: where the message starts.
    start: usize,
}

#[cfg(feature = "alloc")]
impl<'v> VecSink<'v> {
    /// A sink at the end of `vec`, with room reserved for a message of `len` bytes (one
    /// reservation, so the appends that follow do not reallocate).
    #[inline]
    pub(crate) fn new(vec: &'v mut alloc::vec::Vec<u8>, len: usize) -> Self {
        vec.reserve(len);
        let start = vec.len();
        VecSink { vec, start }
    }

    /// Ends the message and returns how many bytes were appended.
    #[inline]
    pub(crate) fn finish(self) -> usize {
        self.vec.len().saturating_sub(self.start)
    }
}

#[cfg(feature = "alloc")]
impl Sink for VecSink<'_> {
    type Error = core::convert::Infallible;

    #[inline(always)]
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.vec.extend_from_slice(bytes);
        Ok(())
    }

    #[inline(always)]
    fn block<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]),
    ) -> Result<(), Self::Error> {
        // Assembled on the stack, where every byte is overwritten by `fill` (so the
        // compiler drops the zeroing), then appended in one copy.
        let mut block = [0u8; N];
        fill(&mut block);
        self.vec.extend_from_slice(&block);
        Ok(())
    }

    #[inline(always)]
    fn slice_records<const N: usize, T>(
        &mut self,
        items: &[T],
        put: impl Fn(&mut [u8; N], &T),
    ) -> Result<(), Self::Error> {
        for item in items {
            let mut rec = [0u8; N];
            put(&mut rec, item);
            self.vec.extend_from_slice(&rec);
        }
        Ok(())
    }

    #[inline(always)]
    fn iter_records<const N: usize, T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut put: impl FnMut(&mut [u8; N], T),
    ) -> Result<(), Self::Error> {
        for item in items {
            let mut rec = [0u8; N];
            put(&mut rec, item);
            self.vec.extend_from_slice(&rec);
        }
        Ok(())
    }

    #[inline(always)]
    fn written(&self) -> &[u8] {
        self.vec.get(self.start..).unwrap_or_default()
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// What every encoder does: a block, a list and some bytes, through either sink.
    fn message<S: Sink>(s: &mut S) -> Result<(), S::Error> {
        s.block(|b: &mut [u8; 3]| *b = [1, 2, 3])?;
        s.slice_records(&[7u8, 8], |d: &mut [u8; 2], &v| *d = [v, v])?;
        s.bytes(&[9])
    }

    #[test]
    fn both_sinks_write_the_same_bytes() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf, 8).unwrap();
        message(&mut w).unwrap();
        assert_eq!(w.written(), &[1, 2, 3, 7, 7, 8, 8, 9]);
        assert_eq!(w.finish(), 8);

        let mut v: Vec<u8> = Vec::from([0xaa]);
        let mut s = VecSink::new(&mut v, 8);
        let Ok(()) = message(&mut s);
        assert_eq!(s.written(), &[1, 2, 3, 7, 7, 8, 8, 9]);
        assert_eq!(s.finish(), 8);
        assert_eq!(
            v,
            [0xaa, 1, 2, 3, 7, 7, 8, 8, 9],
            "appended, not overwritten"
        );
    }

    #[test]
    fn a_short_window_refuses_the_block() {
        let mut buf = [0u8; 2];
        let mut w = Writer::new(&mut buf, 2).unwrap();
        assert_eq!(
            w.block(|b: &mut [u8; 3]| *b = [1, 2, 3])
                .unwrap_err()
                .required(),
            3
        );
        assert_eq!(buf, [0, 0]);
    }
}
