//! Fixed-capacity FIFOs: whole encoded lines waiting for `poll_transmit`, and events
//! waiting for `poll_event`.

use crate::ctcs::buf::LineFifo;
use crate::ctcs::message::ServerMessage;
use crate::ctcs::version::Version;
use crate::error::{EncodeError, UsageError};

/// The most lines a session queues for transmission at once.
pub const MAX_QUEUED_LINES: usize = 32;

/// Encoded lines, oldest first, handed out one per call, at most [`MAX_QUEUED_LINES`].
#[derive(Debug, Clone)]
pub(crate) struct LineQueue<const N: usize> {
    bytes: LineFifo<N>,
    count: usize,
}

impl<const N: usize> LineQueue<N> {
    pub(crate) const fn new() -> Self {
        LineQueue {
            bytes: LineFifo::new(),
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
        self.bytes.clear();
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
            return Err(UsageError::too_long("message"));
        }
        if self.count >= MAX_QUEUED_LINES {
            return Err(UsageError::full("output"));
        }
        self.bytes
            .append(|spare| msg.encode(version, spare))
            .map_err(|_| UsageError::full("output"))?;
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// Copies the front line into `out` and drops it; returns its length.
    ///
    /// `EncodeError` (the line stays queued) if `out` is too short.
    pub(crate) fn pop_into(&mut self, out: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        let popped = self.bytes.pop_line(out)?;
        if popped.is_some() {
            self.count = self.count.saturating_sub(1);
        }
        Ok(popped)
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
            Err(UsageError::full("output"))
        );
        let mut out = [0u8; 16];
        assert_eq!(q.pop_into(&mut out[..3]), Err(EncodeError::new(11)));
        assert_eq!(q.pop_into(&mut out), Ok(Some(11)));
        assert_eq!(&out[..11], b"SENDSTATUS\n");
        q.push(&ServerMessage::SendPeers, Version::V3).unwrap();
        let mut all = std::vec::Vec::new();
        while let Ok(Some(n)) = q.pop_into(&mut out) {
            all.extend_from_slice(&out[..n]);
        }
        assert_eq!(all, b"CTQUIT\nSENDDETAIL\nSENDPEERS\n");
        assert!(q.is_empty());
        assert_eq!(
            LineQueue::<4>::new().push(&ServerMessage::CtQuit, Version::V3),
            Err(UsageError::too_long("message"))
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
            Err(UsageError::full("output"))
        );
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.pop_into(&mut [0u8; 8]), Ok(None));
    }

    #[test]
    fn fifo() {
        let mut f = Fifo::<u8, 2>::new();
        assert!(f.push(1) && f.push(2) && !f.push(3));
        assert_eq!(f.pop(), Some(1));
        assert!(f.push(4));
        assert_eq!((f.pop(), f.pop(), f.pop()), (Some(2), Some(4), None));
    }
}
