//! Fixed-capacity FIFOs: whole encoded lines waiting for `poll_transmit`, and events
//! waiting for `poll_event`.

use crate::ctcs::message::ServerMessage;
use crate::ctcs::version::Version;
use crate::error::{EncodeError, UsageError};

/// The most lines a session queues for transmission at once.
pub const MAX_QUEUED_LINES: usize = 32;

/// Encoded lines, oldest first, packed at the front of `buf`; `lens` holds their lengths.
#[derive(Debug, Clone)]
pub(crate) struct LineQueue<const N: usize> {
    buf: [u8; N],
    used: usize,
    lens: [usize; MAX_QUEUED_LINES],
    count: usize,
}

impl<const N: usize> LineQueue<N> {
    pub(crate) const fn new() -> Self {
        LineQueue {
            buf: [0; N],
            used: 0,
            lens: [0; MAX_QUEUED_LINES],
            count: 0,
        }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) const fn len(&self) -> usize {
        self.count
    }

    pub(crate) fn clear(&mut self) {
        self.used = 0;
        self.count = 0;
    }

    /// Encodes `msg` for `version` at the back.
    ///
    /// `TooLong` if the line could never fit the buffer, `Full` if it does not fit now.
    pub(crate) fn push(
        &mut self,
        msg: &ServerMessage<'_>,
        version: Version,
    ) -> Result<(), UsageError> {
        if msg.encoded_len(version) > N {
            return Err(UsageError::TooLong);
        }
        let slot = self.lens.get_mut(self.count).ok_or(UsageError::Full)?;
        let spare = self.buf.get_mut(self.used..).ok_or(UsageError::Full)?;
        let n = msg.encode(version, spare).map_err(|_| UsageError::Full)?;
        *slot = n;
        self.used = self.used.saturating_add(n);
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// The front line, if any.
    pub(crate) fn front(&self) -> Option<&[u8]> {
        if self.count == 0 {
            return None;
        }
        let n = *self.lens.first()?;
        self.buf.get(..n)
    }

    /// Copies the front line into `out` and drops it; returns its length.
    ///
    /// `EncodeError` (the line stays queued) if `out` is too short.
    pub(crate) fn pop_into(&mut self, out: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        let Some(line) = self.front() else {
            return Ok(None);
        };
        let n = line.len();
        out.get_mut(..n)
            .ok_or(EncodeError::new(n))?
            .copy_from_slice(line);
        if let Some(queued) = self.buf.get_mut(..self.used) {
            // `n <= used`: the front line is part of what is queued.
            queued.rotate_left(n);
        }
        self.used = self.used.saturating_sub(n);
        self.lens.rotate_left(1);
        self.count = self.count.saturating_sub(1);
        Ok(Some(n))
    }
}

/// A small FIFO of `Copy` items.
#[derive(Debug, Clone)]
pub(crate) struct Fifo<T: Copy, const N: usize> {
    items: [Option<T>; N],
    count: usize,
}

impl<T: Copy, const N: usize> Fifo<T, N> {
    pub(crate) const fn new() -> Self {
        Fifo {
            items: [None; N],
            count: 0,
        }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends `item`; returns `false` (and drops it) when full.
    pub(crate) fn push(&mut self, item: T) -> bool {
        match self.items.get_mut(self.count) {
            Some(slot) => {
                *slot = Some(item);
                self.count = self.count.saturating_add(1);
                true
            }
            None => false,
        }
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.count == 0 {
            return None;
        }
        let item = self.items.first_mut()?.take();
        self.items.rotate_left(1);
        self.count = self.count.saturating_sub(1);
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_whole_and_in_order() {
        let mut q = LineQueue::<32>::new();
        q.push(&ServerMessage::SendStatus, Version::V3).unwrap();
        q.push(&ServerMessage::CtQuit, Version::V3).unwrap();
        // 11 + 7 bytes used; "SENDDETAIL\n" (11) still fits, "SENDPEERS\n" then not.
        q.push(&ServerMessage::SendDetail, Version::V3).unwrap();
        assert_eq!(
            q.push(&ServerMessage::SendPeers, Version::V3),
            Err(UsageError::Full)
        );
        let mut out = [0u8; 16];
        assert_eq!(q.pop_into(&mut out[..3]), Err(EncodeError::new(11)));
        assert_eq!(q.pop_into(&mut out), Ok(Some(11)));
        assert_eq!(&out[..11], b"SENDSTATUS\n");
        assert_eq!(q.front(), Some(&b"CTQUIT\n"[..]));
        q.push(&ServerMessage::SendPeers, Version::V3).unwrap();
        let mut all = std::vec::Vec::new();
        while let Ok(Some(n)) = q.pop_into(&mut out) {
            all.extend_from_slice(&out[..n]);
        }
        assert_eq!(all, b"CTQUIT\nSENDDETAIL\nSENDPEERS\n");
        assert!(q.is_empty());
        assert_eq!(
            LineQueue::<4>::new().push(&ServerMessage::CtQuit, Version::V3),
            Err(UsageError::TooLong)
        );
    }

    #[test]
    fn line_count_is_bounded() {
        let mut q = LineQueue::<1024>::new();
        for _ in 0..MAX_QUEUED_LINES {
            q.push(&ServerMessage::CtQuit, Version::V3).unwrap();
        }
        assert_eq!(q.len(), MAX_QUEUED_LINES);
        assert_eq!(
            q.push(&ServerMessage::CtQuit, Version::V3),
            Err(UsageError::Full)
        );
        q.clear();
        assert!(q.is_empty() && q.front().is_none());
    }

    #[test]
    fn fifo() {
        let mut f = Fifo::<u8, 2>::new();
        assert!(f.push(1) && f.push(2) && !f.push(3));
        assert_eq!(f.pop(), Some(1));
        assert!(f.push(4));
        assert_eq!((f.pop(), f.pop(), f.pop()), (Some(2), Some(4), None));
        assert!(f.is_empty());
    }
}
