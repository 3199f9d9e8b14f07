//! Framing a TCP byte stream into CTCS lines; the rules are in the `ctcs` module docs.

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
/// Drive it over your own receive buffer with [`Framer::lines`], then drop
/// [`Lines::consumed`] bytes and read more; or step by step with [`Framer::split`].
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

    /// The complete lines at the front of `buf`, as an iterator (see [`Lines`]): the
    /// chunk loop over [`split`](Self::split), written once.
    ///
    /// ```
    /// use trackwire::ctcs::Framer;
    ///
    /// let mut framer = Framer::default();
    /// let mut received = b"SENDSTATUS\r\nSENDPEERS\nSEND".to_vec();
    /// let mut lines = framer.lines(&received);
    /// assert_eq!(lines.next(), Some(Ok(&b"SENDSTATUS"[..])));
    /// assert_eq!(lines.next(), Some(Ok(&b"SENDPEERS"[..])));
    /// assert_eq!(lines.next(), None);
    /// let used = lines.consumed();
    /// received.drain(..used); // keep "SEND" for when the rest arrives
    /// assert_eq!(received, b"SEND");
    /// ```
    pub fn lines<'b>(&'b mut self, buf: &'b [u8]) -> Lines<'b> {
        Lines {
            framer: self,
            rest: buf,
            consumed: 0,
        }
    }
}

/// An iterator over the complete lines at the front of a caller's buffer, from
/// [`Framer::lines`]: each item is a line (without its terminator) or a line error.
///
/// When it returns `None`, what is left ([`rest`](Lines::rest)) is the start of a line
/// whose end has not arrived: drop [`consumed`](Lines::consumed) bytes from the front of
/// the buffer, keep the rest, and call [`Framer::lines`] again once more bytes arrived.
#[derive(Debug)]
pub struct Lines<'b> {
    framer: &'b mut Framer,
    rest: &'b [u8],
    consumed: usize,
}

impl<'b> Lines<'b> {
    /// Bytes of the buffer dealt with so far: every line handed out, its terminator,
    /// skipped empty lines and discarded bytes of an over-long line.
    pub const fn consumed(&self) -> usize {
        self.consumed
    }

    /// The bytes not consumed yet.
    pub const fn rest(&self) -> &'b [u8] {
        self.rest
    }
}

impl<'b> Iterator for Lines<'b> {
    type Item = Result<&'b [u8], DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        let split = self.framer.split(rest);
        self.consumed = self.consumed.saturating_add(split.consumed);
        self.rest = rest.get(split.consumed..).unwrap_or_default();
        split.status.complete()
    }
}

/// [`LineBuffer::push`] or [`LineBuffer::commit`] was given more bytes than the buffer
/// has room for. Nothing of that call was taken, and nothing taken before was lost:
/// take the lines out (or, in a session, poll its events) and offer the bytes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InputFull {
    offered: usize,
    spare: usize,
}

impl InputFull {
    /// How many bytes were offered.
    pub const fn offered(&self) -> usize {
        self.offered
    }

    /// How many bytes the buffer had room for.
    pub const fn spare(&self) -> usize {
        self.spare
    }
}

impl core::fmt::Display for InputFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "input buffer full: {} bytes offered, room for {}",
            self.offered, self.spare
        )
    }
}

impl core::error::Error for InputFull {}

/// Where a [`LineBuffer`] stands; kept apart from the bytes so that an iterator can lend
/// lines out of the bytes while it moves the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    framer: Framer,
    /// The first byte kept: the held line's start, or `next`.
    start: usize,
    /// The line last handed out, still kept until released.
    held: Option<(usize, usize)>,
    /// The first byte not framed yet.
    next: usize,
    /// The end of the stored bytes.
    end: usize,
    /// Bytes arrived since framing last found no complete line: without them framing
    /// again would find nothing new, so it is skipped (no rescan of a partial line).
    fresh: bool,
}

impl Cursor {
    /// Frees the held line.
    fn release(&mut self) {
        self.held = None;
        self.start = self.next;
    }

    /// Releases the held line and frames the next one in `buf`: its range, or a line
    /// error, or `None` when no complete line is stored.
    fn next_line(&mut self, buf: &[u8]) -> Option<Result<(usize, usize), DecodeError>> {
        self.release();
        if !self.fresh {
            return None;
        }
        let from = self.next;
        let stored = buf.get(from..self.end).unwrap_or_default();
        let split = self.framer.split(stored);
        self.next = from.saturating_add(split.consumed);
        self.start = self.next;
        match split.status {
            Status::Partial => {
                self.fresh = false;
                None
            }
            Status::Complete(Err(e)) => Some(Err(e)),
            Status::Complete(Ok(line)) => {
                // The line ends just before its one-byte terminator.
                let at = self.next.saturating_sub(line.len()).saturating_sub(1);
                let range = (at, at.saturating_add(line.len()));
                self.held = Some(range);
                self.start = at;
                Some(Ok(range))
            }
        }
    }
}

/// A bounded input buffer for a TCP stream that frames what it holds into lines, h11's
/// model: it takes bytes in any chunking (or lets the caller read straight into it),
/// holds at most `N` bytes, and lends out complete lines without copying them again.
///
/// Lines are at most [`max_len`](LineBuffer::max_len) bytes (terminator excluded): `N -
/// 1` by default, so that a partial line never fills the buffer; an over-long or
/// NUL-bearing line is an error for that line only ([`split_line`]). The sessions keep
/// their input in one of these.
///
/// ```
/// use trackwire::ctcs::LineBuffer;
///
/// let mut lb = LineBuffer::<64>::new();
/// let mut lines = Vec::new();
/// for chunk in [&b"SENDST"[..], b"ATUS\r\nSENDPEERS\nSENDC"] {
///     // Read at most `lb.spare()` bytes, or read into `lb.spare_mut()` and `commit`.
///     lb.push(chunk)?;
///     for line in lb.lines() {
///         lines.push(line?.to_vec());
///     }
/// }
/// assert_eq!(lines, [&b"SENDSTATUS"[..], b"SENDPEERS"]);
/// assert_eq!(lb.len(), 5); // "SENDC" waits for its end
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LineBuffer<const N: usize> {
    buf: [u8; N],
    cur: Cursor,
}

impl<const N: usize> Default for LineBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineBuffer<N> {
    /// An empty buffer for lines of up to `N - 1` bytes.
    pub const fn new() -> Self {
        Self::with_max_len(N)
    }

    /// An empty buffer for lines of up to `max_len` bytes, at most `N - 1`: a partial
    /// line must leave room for the byte that ends or overflows it.
    pub const fn with_max_len(max_len: usize) -> Self {
        let cap = N.saturating_sub(1);
        let max_len = if max_len < cap { max_len } else { cap };
        LineBuffer {
            buf: [0; N],
            cur: Cursor {
                framer: Framer::new(max_len),
                start: 0,
                held: None,
                next: 0,
                end: 0,
                fresh: false,
            },
        }
    }

    /// The longest line accepted, terminator excluded.
    pub const fn max_len(&self) -> usize {
        self.cur.framer.max_len()
    }

    /// The capacity, `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Bytes kept: the line last handed out (until released), lines not taken yet and
    /// the start of a line whose end has not arrived.
    pub const fn len(&self) -> usize {
        self.cur.end.saturating_sub(self.cur.start)
    }

    /// Whether no byte is kept.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes [`push`](Self::push) takes now. Once every complete line has been
    /// taken out and released it is at least `N - max_len`.
    pub const fn spare(&self) -> usize {
        N.saturating_sub(self.len())
    }

    /// Moves the kept bytes to the front, so that the spare room is in one piece.
    fn compact(&mut self) {
        let c = &mut self.cur;
        if c.start == 0 || c.start > c.end || c.end > N {
            return;
        }
        self.buf.copy_within(c.start..c.end, 0);
        let shift = c.start;
        c.next = c.next.saturating_sub(shift);
        c.end = c.end.saturating_sub(shift);
        c.held = c
            .held
            .map(|(a, b)| (a.saturating_sub(shift), b.saturating_sub(shift)));
        c.start = 0;
    }

    /// Appends `bytes` whole.
    ///
    /// # Errors
    ///
    /// [`InputFull`] if they do not all fit ([`spare`](Self::spare)); nothing is taken.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), InputFull> {
        let spare = self.spare_mut();
        match spare.get_mut(..bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.mark_written(bytes.len());
                Ok(())
            }
            None => Err(InputFull {
                offered: bytes.len(),
                spare: spare.len(),
            }),
        }
    }

    /// The spare room, in one piece, to read into directly; then call
    /// [`commit`](Self::commit) with the number of bytes read. No second buffer needed.
    pub fn spare_mut(&mut self) -> &mut [u8] {
        self.compact();
        self.buf.get_mut(self.cur.end..).unwrap_or_default()
    }

    /// Keeps `n` bytes written at the start of [`spare_mut`](Self::spare_mut).
    ///
    /// # Errors
    ///
    /// [`InputFull`] if `n` is larger than the spare room; nothing is kept.
    pub fn commit(&mut self, n: usize) -> Result<(), InputFull> {
        let room = N.saturating_sub(self.cur.end);
        if n > room {
            return Err(InputFull {
                offered: n,
                spare: room,
            });
        }
        self.mark_written(n);
        Ok(())
    }

    fn mark_written(&mut self, n: usize) {
        self.cur.end = self.cur.end.saturating_add(n);
        if n > 0 {
            self.cur.fresh = true;
        }
    }

    /// Releases the line last handed out and frames the next complete one: the line
    /// (borrowed from the buffer, kept until the next call or [`release`](Self::release)),
    /// a line error, or `None` when no complete line is stored.
    pub fn next_line(&mut self) -> Option<Result<&[u8], DecodeError>> {
        match self.cur.next_line(&self.buf)? {
            Ok((a, b)) => Some(Ok(self.buf.get(a..b).unwrap_or_default())),
            Err(e) => Some(Err(e)),
        }
    }

    /// The line last handed out by [`next_line`](Self::next_line), until released.
    pub fn line(&self) -> Option<&[u8]> {
        let (a, b) = self.cur.held?;
        self.buf.get(a..b)
    }

    /// Frees the room of the line last handed out.
    pub fn release(&mut self) {
        self.cur.release();
    }

    /// Forgets every byte kept and any over-long line being discarded: for a new
    /// connection.
    pub fn clear(&mut self) {
        *self = Self::with_max_len(self.max_len());
    }

    /// Takes out every complete line stored, in order, as an iterator; a partial line
    /// stays. Each line is released when the next is taken, the last when the iterator
    /// returns `None`.
    pub fn lines(&mut self) -> BufferedLines<'_> {
        BufferedLines {
            buf: &self.buf,
            cur: &mut self.cur,
        }
    }
}

/// The complete lines of a [`LineBuffer`], from [`LineBuffer::lines`].
#[derive(Debug)]
pub struct BufferedLines<'a> {
    buf: &'a [u8],
    cur: &'a mut Cursor,
}

impl<'a> Iterator for BufferedLines<'a> {
    type Item = Result<&'a [u8], DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.cur.next_line(self.buf)? {
            Ok((a, b)) => Some(Ok(self.buf.get(a..b).unwrap_or_default())),
            Err(e) => Some(Err(e)),
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
        let out = f.lines(stream).map(|l| l.map(<[u8]>::to_vec)).collect();
        out
    }

    /// A driver's loop: offer at most what fits, take every line out, repeat.
    fn feed_chunks<const N: usize>(chunks: &[&[u8]]) -> Out {
        let mut lb = LineBuffer::<N>::new();
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while !input.is_empty() {
                let n = lb.spare().min(input.len());
                assert!(n > 0, "no room after taking every line out");
                lb.push(&input[..n]).unwrap();
                input = &input[n..];
                out.extend(lb.lines().map(|l| l.map(<[u8]>::to_vec)));
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
                assert_eq!(feed_chunks::<9>(&[a, b, c]), whole, "cuts {cut} {cut2}");
            }
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(feed_chunks::<9>(&bytes), whole);
        // A larger buffer takes the whole stream at once and frames it the same way.
        let mut big = LineBuffer::<64>::with_max_len(8);
        big.push(stream).unwrap();
        let got: Out = big.lines().map(|l| l.map(<[u8]>::to_vec)).collect();
        assert_eq!(got, whole);
    }

    #[test]
    fn line_buffer_keeps_the_held_line_and_reads_in_place() {
        let mut lb = LineBuffer::<8>::new();
        assert_eq!(lb.max_len(), 7);
        lb.spare_mut()[..5].copy_from_slice(b"AB\nCD");
        lb.commit(5).unwrap();
        assert_eq!(lb.next_line(), Some(Ok(&b"AB"[..])));
        // The held line keeps its room until released.
        assert_eq!(lb.len(), 5);
        assert_eq!(lb.line(), Some(&b"AB"[..]));
        assert_eq!(lb.next_line(), None);
        assert_eq!(lb.line(), None);
        assert_eq!((lb.len(), lb.spare()), (2, 6));
        // Too much is refused whole; nothing kept is lost.
        let e = lb.push(b"EFGHIJK").unwrap_err();
        assert_eq!((e.offered(), e.spare()), (7, 6));
        assert_eq!(lb.commit(9).unwrap_err().offered(), 9);
        lb.push(b"E\n").unwrap();
        assert_eq!(lb.next_line(), Some(Ok(&b"CDE"[..])));
        lb.release();
        assert!(lb.is_empty());
        // An over-long partial line is reported before the buffer fills.
        lb.push(b"12345678").unwrap();
        assert_eq!(
            lb.next_line(),
            Some(Err(DecodeError::new(DecodeErrorKind::LineTooLong, 7)))
        );
        assert_eq!(lb.spare(), 8);
        lb.push(b"9\nok\n").unwrap();
        assert_eq!(lb.next_line(), Some(Ok(&b"ok"[..])));
        lb.clear();
        assert!(lb.is_empty());
    }
}
