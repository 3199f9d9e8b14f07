//! Framing a TCP byte stream into CTCS lines.
//!
//! * A line ends at LF, CR or CRLF. dnh3.3.2 ends a line at the first CR *or* LF, so
//!   CRLF is a line followed by an empty line; empty lines are skipped (the client itself
//!   sends `AUTH pw\n\n`), which makes CRLF work without remembering a trailing CR.
//! * A line longer than the maximum, or one containing a NUL byte, is an error **for that
//!   line only**: the bytes up to its end are dropped and framing goes on with the next
//!   line. The dnh3.3.2 client, given a 4295-byte message, sends 4294 bytes + LF and then
//!   the C string's NUL, so the *next* line starts with `\0`; that line is reported as
//!   [`NulByte`](crate::DecodeErrorKind::NulByte) at offset 0 and nothing else is lost.
//! * An over-long line is reported as soon as more than the maximum has arrived without
//!   a line end, so no caller ever buffers more than `max_len` bytes of one line; the
//!   rest of that line is then discarded as it arrives.
//!
//! The same rules give the same lines and errors whatever way the stream is cut into
//! chunks. Two forms share one implementation:
//!
//! * [`split_line`] / [`Framer::split`]: httparse-style, over the caller's buffer
//!   (zero-copy); the caller drops `consumed` bytes after each call. [`Framer`] holds the
//!   one bit of state ("discarding the rest of an over-long line").
//! * [`LineBuffer`]: a fixed-capacity accumulator that takes TCP chunks of any size and
//!   hands out at most one line per call.
//!
//! Error offsets are relative to the start of the line.

use crate::ctcs::buf::Fill;
use crate::ctcs::scan::TextScan;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::wire::Reader;

/// The default maximum line length in bytes, terminator excluded.
///
/// dnh3.3.2 formats each message into `CTCS_BUFSIZE` = 200 + `MAXPATHLEN` = 4296 bytes
/// including the terminating NUL; with the LF that leaves at most **4294** bytes of
/// message, which is what it sends for its longest lines (CTCONFIG/CTINFO/CTFILE/CTORRENT
/// carrying ~4 KiB strings).
pub const DEFAULT_MAX_LINE_LEN: usize = 4294;

const LINE_ENDS: &[u8] = b"\r\n";

/// The outcome of a framing step, in the style of httparse: `Partial` is not an error,
/// just "more bytes needed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// A complete item.
    Complete(T),
    /// More input is needed.
    Partial,
}

impl<T> Status<T> {
    /// The complete item, or `None` if partial.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(t) => Some(t),
            Status::Partial => None,
        }
    }

    /// Whether more input is needed.
    pub const fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}

/// What one framing step found: how many input bytes to drop, and a line, a line error
/// or `Partial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// Bytes of the input that were dealt with; the caller drops them before the next
    /// call. With `Partial` these are only skipped line ends (and discarded bytes), and
    /// the caller must keep the rest and call again when more has arrived.
    pub consumed: usize,
    /// A line without its terminator, a line error, or `Partial`.
    pub status: Status<Result<&'a [u8], DecodeError>>,
    /// `true` when an over-long line was reported before its end arrived: the bytes up
    /// to the next line end still belong to it and must be dropped. [`Framer`] does this
    /// for you.
    pub discard_rest_of_line: bool,
}

/// Checks a complete line: the length first (so that an over-long line is reported the
/// same way whether or not its end had arrived), then NUL.
fn check_line(line: &[u8], max_len: usize) -> Result<&[u8], DecodeError> {
    if line.len() > max_len {
        return Err(DecodeError::new(DecodeErrorKind::LineTooLong, max_len));
    }
    match Reader::new(line).find(0) {
        Some(at) => Err(DecodeError::new(DecodeErrorKind::NulByte, at)),
        None => Ok(line),
    }
}

/// Finds the first line in `buf`, skipping empty lines; stateless.
///
/// A line longer than `max_len` bytes is reported as [`LineTooLong`] (offset `max_len`)
/// once more than `max_len` bytes of it are in `buf`, with or without its end; if its end
/// has not arrived, `consumed` covers all of `buf` and `discard_rest_of_line` is set: the
/// caller must drop what arrives up to the next line end (use [`Framer`], which does).
///
/// [`LineTooLong`]: crate::DecodeErrorKind::LineTooLong
pub fn split_line(buf: &[u8], max_len: usize) -> Split<'_> {
    let mut r = Reader::new(buf);
    r.take_while(|b| LINE_ENDS.contains(&b));
    let skipped = r.offset();
    match r.find_any(LINE_ENDS) {
        Some(_) => {
            let line = r.take_until_any(LINE_ENDS);
            // The terminator belongs to this line.
            r.take(1).unwrap_or_default();
            Split {
                consumed: r.offset(),
                status: Status::Complete(check_line(line, max_len)),
                discard_rest_of_line: false,
            }
        }
        None if r.remaining() > max_len => Split {
            consumed: buf.len(),
            status: Status::Complete(Err(DecodeError::new(DecodeErrorKind::LineTooLong, max_len))),
            discard_rest_of_line: true,
        },
        None => Split {
            consumed: skipped,
            status: Status::Partial,
            discard_rest_of_line: false,
        },
    }
}

/// [`split_line`] plus the state it needs across calls: whether the rest of an over-long
/// line is being discarded.
///
/// Drive it over your own receive buffer: call [`Framer::split`] on the unconsumed bytes,
/// drop `consumed` bytes, repeat while a line or error came out; on `Partial`, read more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Framer {
    max_len: usize,
    discarding: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_MAX_LINE_LEN)
    }
}

impl Framer {
    /// A framer for lines of at most `max_len` bytes (terminator excluded).
    pub const fn new(max_len: usize) -> Self {
        Framer {
            max_len,
            discarding: false,
        }
    }

    /// The maximum line length.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whether the rest of an over-long line is being dropped.
    pub const fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Finds the next line in `buf` (see [`split_line`]), first dropping the rest of an
    /// over-long line if one is pending. `discard_rest_of_line` in the result is always
    /// `false`: the framer remembers it.
    pub fn split<'a>(&mut self, buf: &'a [u8]) -> Split<'a> {
        let mut dropped = 0;
        let mut rest = buf;
        if self.discarding {
            let mut r = Reader::new(buf);
            r.take_until_any(LINE_ENDS);
            if r.is_empty() {
                return Split {
                    consumed: buf.len(),
                    status: Status::Partial,
                    discard_rest_of_line: false,
                };
            }
            self.discarding = false;
            dropped = r.offset();
            rest = r.rest();
        }
        let mut s = split_line(rest, self.max_len);
        self.discarding = s.discard_rest_of_line;
        s.discard_rest_of_line = false;
        s.consumed = s.consumed.saturating_add(dropped);
        s
    }

    /// Enters the "drop until the next line end" state.
    fn start_discarding(&mut self) {
        self.discarding = true;
    }
}

/// What [`LineBuffer::feed`] did with one call's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feed<'a> {
    /// How many input bytes were taken; pass the rest in the next call.
    pub consumed: usize,
    /// A complete line (borrowed from the input or from the buffer), a line error, or
    /// `None` when the input was used up without completing a line.
    pub line: Option<Result<&'a [u8], DecodeError>>,
}

/// A fixed-capacity line accumulator for a TCP stream: lines of up to `N` bytes
/// (terminator excluded), no allocation.
///
/// Feed it what the socket gave; it returns at most one line per call and how much
/// input it took; call again with the rest until the input is used up (postcard's
/// `CobsAccumulator` pattern). A line that lies entirely within one input chunk is
/// returned without copying.
///
/// ```
/// use trackwire::ctcs::LineBuffer;
///
/// let mut lb = LineBuffer::<64>::new();
/// let mut lines = 0;
/// for chunk in [&b"SENDST"[..], b"ATUS\r\nSENDPEERS\n"] {
///     let mut input = chunk;
///     while !input.is_empty() {
///         let feed = lb.feed(input);
///         if let Some(line) = feed.line {
///             assert!(line.is_ok());
///             lines += 1;
///         }
///         input = input.get(feed.consumed..).unwrap_or_default();
///     }
/// }
/// assert_eq!(lines, 2);
/// ```
#[derive(Debug, Clone)]
pub struct LineBuffer<const N: usize> {
    partial: Fill<N>,
    framer: Framer,
    /// The stored line was handed out; forget it at the next call.
    handed_out: bool,
}

impl<const N: usize> Default for LineBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuffer<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        LineBuffer {
            partial: Fill::new(),
            framer: Framer::new(N),
            handed_out: false,
        }
    }

    /// How many bytes of an incomplete line are held.
    pub const fn pending(&self) -> usize {
        if self.handed_out {
            0
        } else {
            self.partial.len()
        }
    }

    /// Takes bytes from `input` until one line (or line error) is complete or the input
    /// is used up.
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Feed<'a> {
        if self.handed_out {
            self.partial.clear();
            self.handed_out = false;
        }
        if self.partial.is_empty() {
            let s = self.framer.split(input);
            return match s.status {
                Status::Complete(line) => Feed {
                    consumed: s.consumed,
                    line: Some(line),
                },
                Status::Partial => {
                    // What is left has no line end and fits (else it would be an error).
                    let mut r = Reader::new(input);
                    r.take(s.consumed).unwrap_or_default();
                    self.partial.push(r.rest());
                    Feed {
                        consumed: input.len(),
                        line: None,
                    }
                }
            };
        }
        // A line is under way: the new bytes continue it.
        let mut r = Reader::new(input);
        let head = r.take_until_any(LINE_ENDS);
        let ended = r.eat(b'\r') || r.eat(b'\n');
        let too_long = head.len() > self.partial.spare();
        if too_long {
            self.partial.clear();
            if !ended {
                self.framer.start_discarding();
            }
            return Feed {
                consumed: r.offset(),
                line: Some(Err(DecodeError::new(DecodeErrorKind::LineTooLong, N))),
            };
        }
        self.partial.push(head);
        if !ended {
            return Feed {
                consumed: r.offset(),
                line: None,
            };
        }
        self.handed_out = true;
        Feed {
            consumed: r.offset(),
            line: Some(check_line(self.partial.as_slice(), N)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    type Out = Vec<Result<Vec<u8>, DecodeError>>;

    fn frame_all(stream: &[u8], max: usize) -> Out {
        let mut f = Framer::new(max);
        let mut out = Vec::new();
        let mut rest = stream;
        loop {
            let s = f.split(rest);
            rest = &rest[s.consumed..];
            match s.status {
                Status::Complete(l) => out.push(l.map(<[u8]>::to_vec)),
                Status::Partial => break,
            }
        }
        out
    }

    fn feed_chunks<const N: usize>(chunks: &[&[u8]]) -> Out {
        let mut lb = LineBuffer::<N>::new();
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while !input.is_empty() {
                let f = lb.feed(input);
                if let Some(l) = f.line {
                    out.push(l.map(<[u8]>::to_vec));
                }
                input = &input[f.consumed..];
            }
        }
        out
    }

    fn err(kind: DecodeErrorKind, at: usize) -> Result<Vec<u8>, DecodeError> {
        Err(DecodeError::new(kind, at))
    }

    #[test]
    fn line_ends_and_empty_lines() {
        let out = frame_all(b"A\nB\r\nC\rD\n\n\nE", 10);
        let lines: Vec<_> = out.into_iter().map(Result::unwrap).collect();
        assert_eq!(lines, [&b"A"[..], b"B", b"C", b"D"]);
    }

    #[test]
    fn partial_keeps_the_line_and_skips_leading_ends() {
        let s = split_line(b"\r\n\nSENDST", 100);
        assert_eq!(s.consumed, 3);
        assert!(s.status.is_partial());
    }

    #[test]
    fn nul_line_is_an_error_for_that_line_only() {
        let out = frame_all(b"ok\n\0CTCONFIG out_normal\nAB\0C\nnext\n", 100);
        assert_eq!(
            out,
            [
                Ok(b"ok".to_vec()),
                err(DecodeErrorKind::NulByte, 0),
                err(DecodeErrorKind::NulByte, 2),
                Ok(b"next".to_vec())
            ]
        );
    }

    #[test]
    fn over_long_line_resyncs_at_its_end() {
        // Terminated in the buffer.
        let out = frame_all(b"123456\nok\n", 5);
        assert_eq!(
            out,
            [err(DecodeErrorKind::LineTooLong, 5), Ok(b"ok".to_vec())]
        );
        // Not yet terminated: reported early, the rest dropped as it arrives.
        let mut f = Framer::new(5);
        let s = f.split(b"123456");
        assert_eq!(s.consumed, 6);
        assert_eq!(
            s.status,
            Status::Complete(Err(DecodeError::new(DecodeErrorKind::LineTooLong, 5)))
        );
        assert!(f.is_discarding());
        let s = f.split(b"789");
        assert_eq!((s.consumed, s.status), (3, Status::Partial));
        let s = f.split(b"0\rok\n");
        assert_eq!(s.consumed, 5);
        assert_eq!(s.status, Status::Complete(Ok(&b"ok"[..])));
        assert!(!f.is_discarding());
        // Exactly max_len is fine.
        assert_eq!(frame_all(b"12345\n", 5), [Ok(b"12345".to_vec())]);
        // The stateless form says what to do.
        let s = split_line(b"123456", 5);
        assert!(s.discard_rest_of_line);
    }

    #[test]
    fn line_buffer_matches_framer_on_odd_chunks() {
        let stream: &[u8] = b"PROTOCOL 0003\nAUTH pw\n\nlong-line-here\r\nX\0Y\nSENDSTATUS\rtail";
        let whole = frame_all(stream, 8);
        for cut in 0..stream.len() {
            for cut2 in cut..stream.len() {
                let (a, b) = stream.split_at(cut);
                let (b, c) = b.split_at(cut2 - cut);
                assert_eq!(feed_chunks::<8>(&[a, b, c]), whole, "cuts {cut} {cut2}");
            }
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(feed_chunks::<8>(&bytes), whole);
    }

    #[test]
    fn line_buffer_lines_borrow_input_when_whole() {
        let mut lb = LineBuffer::<16>::new();
        let input = b"AB\nCD";
        let f = lb.feed(input);
        assert_eq!(f.consumed, 3);
        assert_eq!(f.line, Some(Ok(&b"AB"[..])));
        let f = lb.feed(&input[3..]);
        assert_eq!((f.consumed, f.line), (2, None));
        assert_eq!(lb.pending(), 2);
        let f = lb.feed(b"E\n");
        assert_eq!(f.line, Some(Ok(&b"CDE"[..])));
        assert_eq!(lb.pending(), 0);
    }
}
