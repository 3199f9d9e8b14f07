//! The session's fixed-capacity output queue: whole LF-terminated lines, written in
//! all-or-nothing batches and handed out as whole lines.

use crate::ctcs::buf::LineFifo;
use crate::ctcs::line::DEFAULT_MAX_LINE_LEN;
use crate::ctcs::message::ClientMessage;
use crate::ctcs::version::Version;
use crate::error::{EncodeError, UsageError};

/// The longest line a session writes, LF included: the real client's 4294 bytes + LF.
pub(crate) const MAX_LINE_WITH_LF: usize = DEFAULT_MAX_LINE_LEN.saturating_add(1);

/// The queued lines: a byte FIFO of `N` bytes holding only whole lines.
#[derive(Debug, Clone)]
pub(crate) struct OutQueue<const N: usize> {
    bytes: LineFifo<N>,
}

impl<const N: usize> OutQueue<N> {
    pub(crate) const fn new() -> Self {
        OutQueue {
            bytes: LineFifo::new(),
        }
    }

    /// Bytes queued.
    pub(crate) const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Drops everything queued.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Starts a batch of lines that is queued whole or not at all.
    pub(crate) fn batch(&mut self) -> Batch<'_, N> {
        let mark = self.bytes.mark();
        Batch {
            queue: self,
            mark,
            total: 0,
            overflow: false,
            too_long: false,
        }
    }

    /// Copies the oldest line into `dst` and drops it.
    pub(crate) fn pop_line(&mut self, dst: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        self.bytes.pop_line(dst)
    }
}

/// Lines being queued together; [`Batch::finish`] commits them or rolls all back.
#[derive(Debug)]
pub(crate) struct Batch<'q, const N: usize> {
    queue: &'q mut OutQueue<N>,
    mark: usize,
    total: usize,
    overflow: bool,
    too_long: bool,
}

impl<const N: usize> Batch<'_, N> {
    /// Appends `msg` formatted for `version`. Failures are remembered for `finish`; the
    /// lengths of later lines are still counted.
    pub(crate) fn line(&mut self, msg: &ClientMessage<'_>, version: Version) {
        let len = msg.encoded_len(version);
        self.total = self.total.saturating_add(len);
        if len > MAX_LINE_WITH_LF {
            self.too_long = true;
        }
        if self.overflow || self.too_long {
            return;
        }
        if self
            .queue
            .bytes
            .append(|spare| msg.encode(version, spare))
            .is_err()
        {
            self.overflow = true;
        }
    }

    /// Keeps the lines, or drops them all: [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if a line is longer
    /// than [`MAX_LINE_WITH_LF`] or the batch is larger than the whole queue,
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) if it would fit once the queue is drained.
    pub(crate) fn finish(self) -> Result<usize, UsageError> {
        if self.too_long || self.overflow {
            self.queue.bytes.truncate(self.mark);
            return Err(if self.too_long || self.total > N {
                UsageError::too_long("message")
            } else {
                UsageError::full("output")
            });
        }
        Ok(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctcs::field::Text;
    use crate::ctcs::message::CtBw;

    fn bw(n: i32) -> ClientMessage<'static> {
        ClientMessage::CtBw(CtBw {
            dl_rate: n,
            ..CtBw::default()
        })
    }

    #[test]
    fn whole_lines_in_and_out() {
        let mut q = OutQueue::<32>::new();
        let mut b = q.batch();
        b.line(&bw(1), Version::V3); // "CTBW 1,0 0,0\n" = 13 bytes
        b.line(&bw(22), Version::V3); // 14 bytes
        assert_eq!(b.finish(), Ok(27));
        let mut dst = [0u8; 20];
        assert_eq!(q.pop_line(&mut dst), Ok(Some(13)));
        assert_eq!(&dst[..13], b"CTBW 1,0 0,0\n");
        let mut small = [0u8; 5];
        assert_eq!(q.pop_line(&mut small), Err(EncodeError::new(14)));
        assert_eq!(q.pop_line(&mut dst), Ok(Some(14)));
        assert_eq!(q.pop_line(&mut dst), Ok(None));
    }

    #[test]
    fn batches_are_all_or_nothing() {
        let mut q = OutQueue::<30>::new();
        let mut b = q.batch();
        b.line(&bw(1), Version::V3);
        assert_eq!(b.finish(), Ok(13));
        let mut b = q.batch();
        b.line(&bw(1), Version::V3);
        b.line(&bw(1), Version::V3);
        assert_eq!(b.finish(), Err(UsageError::full("output")));
        assert_eq!(q.len(), 13);
        let mut b = q.batch();
        for _ in 0..3 {
            b.line(&bw(1), Version::V3);
        }
        assert_eq!(b.finish(), Err(UsageError::too_long("message")));
        assert_eq!(q.len(), 13);
        let long = [b'x'; MAX_LINE_WITH_LF];
        let mut big = OutQueue::<10_000>::new();
        let mut b = big.batch();
        b.line(
            &ClientMessage::Unknown(Text::new(&long).unwrap()),
            Version::V3,
        );
        assert_eq!(b.finish(), Err(UsageError::too_long("message")));
        assert_eq!(big.len(), 0);
    }

    #[test]
    fn compaction_reuses_the_front() {
        let mut q = OutQueue::<28>::new();
        let mut dst = [0u8; 64];
        for _ in 0..10 {
            let mut b = q.batch();
            b.line(&bw(1), Version::V3);
            b.line(&bw(2), Version::V3);
            assert_eq!(b.finish(), Ok(26));
            assert_eq!(q.pop_line(&mut dst[..13]), Ok(Some(13)));
            let mut b = q.batch();
            b.line(&bw(3), Version::V3);
            assert_eq!(b.finish(), Ok(13));
            assert_eq!(q.pop_line(&mut dst), Ok(Some(13)));
            assert_eq!(q.pop_line(&mut dst), Ok(Some(13)));
        }
    }
}
