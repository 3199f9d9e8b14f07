//! Fixed-capacity byte stores of the CTCS sessions: [`Fill`] for bytes kept across calls
//! and [`LineFifo`] for encoded lines not yet handed to the caller.

use crate::error::EncodeError;
#[cfg(test)]
use crate::wire::Writer;

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
}

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

    /// Copies the oldest line into `dst` and drops it from the queue; returns its
    /// length, or `None` when empty.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] with the line's length if it does not fit `dst`; the queue is
    /// unchanged.
    pub(crate) fn pop_line(&mut self, dst: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        let queued = self.buf.get(self.start..self.end).unwrap_or_default();
        if queued.is_empty() {
            return Ok(None);
        }
        let n = match queued.iter().position(|&b| b == b'\n') {
            Some(p) => p.saturating_add(1),
            None => {
                // Only whole lines are ever appended.
                debug_assert!(false, "a queued line without its LF");
                queued.len()
            }
        };
        match (dst.get_mut(..n), queued.get(..n)) {
            (Some(d), Some(s)) => d.copy_from_slice(s),
            _ => return Err(EncodeError::new(n)),
        }
        self.start = self.start.saturating_add(n);
        if self.start >= self.end {
            self.clear();
        }
        Ok(Some(n))
    }
}

#[cfg(test)]
mod tests {
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
        // One line per call, even when two would fit.
        assert_eq!(q.pop_line(&mut out).unwrap(), Some(3));
        assert_eq!(&out[..3], b"AB\n");
        assert_eq!(q.pop_line(&mut out).unwrap(), Some(3));
        assert_eq!(&out[..3], b"FG\n");
        let mut small = [0u8; 3];
        assert_eq!(q.pop_line(&mut small).unwrap_err().required(), 6);
        let mut out = [0u8; 16];
        assert_eq!(q.pop_line(&mut out).unwrap(), Some(6));
        assert_eq!(q.pop_line(&mut out).unwrap(), None);
        assert_eq!(q.len(), 0);
        // A full queue refuses, keeping what it had; freeing space compacts.
        push(&mut q, b"0123456789abcd\n").unwrap();
        assert!(push(&mut q, b"xy\n").is_err());
        assert_eq!(q.len(), 15);
    }

    #[test]
    fn fill_is_all_or_nothing() {
        let mut f = Fill::<4>::new();
        assert_eq!(f.len(), 0);
        assert!(f.push(b"ab"));
        assert!(!f.push(b"cde"));
        assert_eq!(f.as_slice(), b"ab");
        assert!(f.push(b"cd"));
        assert_eq!(f.len(), 4);
        assert!(!f.push(b"e"));
        assert_eq!(f.as_slice(), b"abcd");
    }
}
