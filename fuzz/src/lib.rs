//! Helpers shared by the fuzz targets in `fuzz_targets/`: the CTCS versions, the checks
//! every encoder must pass, and the invariants of the state machines, with the part of
//! the two CTCS session interpreters that is the same for both.

use std::time::Duration;

use arbitrary::Arbitrary;
use trackwire::ctcs::{ClientSession, InputFull, ServerSession, Version};
use trackwire::{DecodeError, EncodeError, Instant};

/// Every CTCS protocol version a connection can be in (0 is a real, mixed state).
pub const VERSIONS: [Version; 4] = [Version::V0, Version::V1, Version::V2, Version::V3];

/// A decode error must point inside the input (or just past its end).
pub fn check_offset(e: &DecodeError, len: usize) {
    assert!(e.offset() <= len, "{e} for a {len}-byte input");
}

/// Runs an encoder the way every trackwire encoder promises to behave, and returns the
/// bytes: into a buffer of exactly `len` bytes it writes `len`; into one byte less it
/// fails with `required() == len` and leaves the buffer untouched.
pub fn encode_checked(
    len: usize,
    encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = encode(&mut buf).expect("a buffer of encoded_len bytes suffices");
    assert_eq!(n, len, "encoded length differs from encoded_len");
    if len > 0 {
        let mut small = vec![0xA5u8; len - 1];
        let e = encode(&mut small).expect_err("a buffer one byte short must fail");
        assert_eq!(e.required(), len, "EncodeError::required");
        assert!(
            small.iter().all(|&b| b == 0xA5),
            "a failed encode wrote into the buffer"
        );
    }
    buf
}

/// What every encoded CTCS line must be: one LF at the end, no NUL, CR or other LF.
pub fn check_ctcs_line(bytes: &[u8]) {
    let (last, body) = bytes.split_last().expect("an encoded line is never empty");
    assert_eq!(*last, b'\n', "an encoded line ends with LF");
    assert!(
        !body.iter().any(|b| matches!(b, 0 | b'\r' | b'\n')),
        "NUL, CR or LF inside an encoded line: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

// ---- the CTCS session interpreters' shared part ----------------------------------------

/// What the two CTCS session fuzz targets drive in the same way: input, events,
/// transmission and time.
pub trait CtcsSession {
    /// A buffer of this size always takes one `poll_transmit`.
    const MAX_TRANSMIT_LEN: usize;
    /// How many bytes `handle_input` takes now.
    fn input_spare(&self) -> usize;
    /// Gives the session received bytes.
    fn input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), InputFull>;
    /// Polls every event; returns how many there were.
    fn drain_events(&mut self) -> usize;
    /// One line to send, if any.
    fn transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EncodeError>;
    /// Handles the passing of time.
    fn timeout(&mut self, now: Instant);
    /// The next deadline.
    fn deadline(&self) -> Option<Instant>;
}

impl CtcsSession for ClientSession {
    const MAX_TRANSMIT_LEN: usize = ClientSession::MAX_TRANSMIT_LEN;
    fn input_spare(&self) -> usize {
        ClientSession::input_spare(self)
    }
    fn input(&mut self, _now: Instant, bytes: &[u8]) -> Result<(), InputFull> {
        self.handle_input(bytes)
    }
    fn drain_events(&mut self) -> usize {
        let mut n = 0;
        while self.poll_event().is_some() {
            n += 1;
        }
        n
    }
    fn transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        self.poll_transmit(buf)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now);
    }
    fn deadline(&self) -> Option<Instant> {
        self.poll_timeout()
    }
}

impl CtcsSession for ServerSession {
    const MAX_TRANSMIT_LEN: usize = ServerSession::MAX_TRANSMIT_LEN;
    fn input_spare(&self) -> usize {
        ServerSession::input_spare(self)
    }
    fn input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), InputFull> {
        self.handle_input(now, bytes)
    }
    fn drain_events(&mut self) -> usize {
        let mut n = 0;
        while self.poll_event().is_some() {
            n += 1;
        }
        n
    }
    fn transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        self.poll_transmit(buf)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now);
    }
    fn deadline(&self) -> Option<Instant> {
        self.poll_timeout()
    }
}

/// Hands out every queued line into `out` (at least `S::MAX_TRANSMIT_LEN` bytes) and
/// checks each: exactly one line per call, LF-terminated, no NUL or CR, at most
/// `MAX_TRANSMIT_LEN` bytes; `each` sees every line.
pub fn drain_transmit<S: CtcsSession>(s: &mut S, out: &mut [u8], mut each: impl FnMut(&[u8])) {
    assert!(out.len() >= S::MAX_TRANSMIT_LEN);
    loop {
        match s.transmit(out) {
            Ok(Some(n)) => {
                let line = &out[..n];
                check_ctcs_line(line);
                assert!(n <= S::MAX_TRANSMIT_LEN, "a {n}-byte line");
                each(line);
            }
            Ok(None) => return,
            Err(e) => panic!("MAX_TRANSMIT_LEN did not suffice: {e}"),
        }
    }
}

/// Feeds `bytes` the way a driver does: offer them whole; when they do not fit, nothing
/// may have been taken, and the driver offers what fits; events are drained after each
/// call, after which there must be room again.
pub fn feed<S: CtcsSession>(s: &mut S, now: Instant, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let spare = s.input_spare();
        let used = match s.input(now, bytes) {
            Ok(()) => bytes.len(),
            Err(full) => {
                assert_eq!((full.offered(), full.spare()), (bytes.len(), spare));
                assert_eq!(s.input_spare(), spare, "a refused input took bytes");
                assert!(spare > 0, "no room after every event was polled");
                s.input(now, &bytes[..spare]).expect("what fits is taken");
                spare
            }
        };
        bytes = &bytes[used..];
        s.drain_events();
    }
}

/// How a script moves the clock.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum TimeOp {
    /// Forward, in milliseconds.
    Advance(u32),
    /// Backward, in milliseconds: the sessions must not panic.
    Back(u16),
    /// `handle_timeout(now)`: afterwards no deadline is at or before `now`.
    Timeout,
}

/// Applies `op` to the clock `now` and the session.
pub fn time_step<S: CtcsSession>(s: &mut S, now: &mut Instant, op: TimeOp) {
    match op {
        TimeOp::Advance(ms) => *now = now.saturating_add(Duration::from_millis(u64::from(ms))),
        TimeOp::Back(ms) => *now = now.saturating_sub(Duration::from_millis(u64::from(ms))),
        TimeOp::Timeout => {
            s.timeout(*now);
            if let Some(t) = s.deadline() {
                assert!(t > *now, "a deadline at or before now after handle_timeout");
            }
        }
    }
}
