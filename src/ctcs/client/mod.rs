//! The ctorrent role: [`ClientSession`](super::ClientSession) and what it is built from.

mod config;
mod event;
mod output;

use crate::ctcs::field::{Positional, Text};
use crate::ctcs::line::{InputFull, LineBuffer, DEFAULT_MAX_LINE_LEN};
use crate::ctcs::message::{
    ClientMessage, CtBw, CtConfig, CtConfigValues, CtDetail, CtFile, CtPeer, CtStatus,
    KeywordMatch, Protocol, ServerMessage,
};
use crate::ctcs::version::Version;
use crate::ctcs::{DEFAULT_INPUT_CAPACITY, DEFAULT_OUTPUT_CAPACITY};
use crate::error::{EncodeError, UsageError};
use crate::time::Instant;

pub use config::{ClientSessionConfig, MAX_TORRENT_PATH_LEN};
pub use event::{ClientEvent, ClientState};

use config::Identity;
use output::{OutQueue, MAX_LINE_WITH_LF};

/// The longest `CTPEER` line, LF included: a 42-byte peer id text, a 15-byte address
/// and the widest numbers.
pub const MAX_CTPEER_LINE: usize = 149;

/// The connection phase, with the back-off deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    BackOff(Instant),
    Connecting,
    Ready,
}

/// A CTCS client session (the ctorrent role) with `IN` bytes of input and `OUT` bytes of
/// output storage: a sans-IO state machine that talks to a CTorrent Control Server
/// exactly as Enhanced CTorrent dnh3.3.2 does, without its crashes.
///
/// A [`ClientSession`] owns no socket and reads no clock. The caller (the *driver*)
/// opens TCP connections, passes received bytes and time in, and takes lines to send,
/// one deadline and events out. Storage is fixed: received bytes wait in an input
/// buffer of `IN` bytes (default [`DEFAULT_INPUT_CAPACITY`]) until their events are
/// polled, the output queue is `OUT` bytes (default [`DEFAULT_OUTPUT_CAPACITY`]); server
/// lines are at most [`DEFAULT_MAX_LINE_LEN`] bytes; nothing is allocated.
///
/// # The run loop
///
/// 1. Build the session: [`ClientSession::new`] with a [`ClientSessionConfig`] (peer id,
///    start time, torrent path; optionally a password and the Unix time of your clock's
///    zero).
///    It starts in [`ClientState::Connecting`]: open the TCP connection to the server.
/// 2. When the connect succeeds call [`handle_connected`](ClientSession::handle_connected)`(now)`
///    (it queues `PROTOCOL 0003`, `AUTH` when configured, `CTORRENT`, and raises
///    [`ClientEvent::Connected`]); when it fails call
///    [`handle_connect_failed`](ClientSession::handle_connect_failed)`(now)`.
/// 3. After every input or command, drain the outputs in this order:
///    1. [`poll_event`](ClientSession::poll_event) until `None`, answering requests with
///       the `send_*` methods (which queue output); received lines are acted on here;
///    2. [`poll_transmit`](ClientSession::poll_transmit) until `Ok(None)`: each call
///       hands out **one whole line** (LF included); write it to the socket;
///    3. [`poll_timeout`](ClientSession::poll_timeout): the reconnect deadline, if any.
/// 4. Wait for bytes, the deadline, or something of your own to report.
/// 5. Read at most [`input_spare`](ClientSession::input_spare) bytes and give them all
///    to [`handle_input`](ClientSession::handle_input)`(bytes)`, or read straight into
///    [`input_buf`](ClientSession::input_buf) and call
///    [`commit_input`](ClientSession::commit_input)`(n)`: the session keeps them, and
///    each server line becomes an event when it is polled (step 3). Once the events are
///    drained there is always room again; no second buffer is needed.
/// 6. On EOF or a write error, call [`handle_closed`](ClientSession::handle_closed)`(now)`;
///    the deadline is then 5 s away. At the deadline call
///    [`handle_timeout`](ClientSession::handle_timeout)`(now)`, which raises
///    [`ClientEvent::Reconnect`]: go to 2. Calling `handle_timeout` early does nothing.
/// 7. Unsolicited traffic is yours to time: [`send_bw`](ClientSession::send_bw) once a
///    second when rates or limits changed (dnh3.3.2's `Report_Status`),
///    [`send_status`](ClientSession::send_status) at completion and when quitting,
///    [`send_info`](ClientSession::send_info) for warnings,
///    [`send_config`](ClientSession::send_config) when the local operator changed an
///    option. The session keeps no timer for them.
///
/// Time should not go backwards; if it does nothing panics and a deadline is simply not
/// reached yet.
///
/// ```
/// use trackwire::ctcs::{ClientEvent, ClientSession, ClientSessionConfig, CtStatus};
/// use trackwire::Instant;
///
/// // The caller's clock counts milliseconds from the Unix epoch here (the default).
/// let config = ClientSessionConfig::new(*b"-CD0303-abcdefghijkl", 1795312162, b"single.torrent");
/// let mut session = ClientSession::new(config)?;
/// let now = Instant::from_secs(1795312162);
/// session.handle_connected(now);
/// session.handle_input(b"PROTOCOL 0003\nSENDSTATUS\n")?;
/// let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
/// let mut wire = Vec::new();
/// let status = CtStatus { n_have: 4, n_total: 4, n_avail: 4, ..CtStatus::default() };
/// while let Some(event) = session.poll_event() {
///     if let ClientEvent::Connected | ClientEvent::StatusRequested = event {
///         session.send_status(&status)?;
///     }
/// }
/// while let Some(n) = session.poll_transmit(&mut buf)? {
///     wire.extend_from_slice(&buf[..n]);
/// }
/// assert_eq!(
///     wire,
///     b"PROTOCOL 0003\n\
///       CTORRENT -CD0303-abcdefghijkl 1795312162 1795312162 single.torrent\n\
///       CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\n\
///       CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # States
///
/// dnh3.3.2's client machine (FREE, CONNECTING, READY), measured from dnh3.3.2
/// (Debian's ctorrent); every transition is in this file.
///
/// ```text
///              new()
///                │
///                ▼        handle_connect_failed: deadline = now + 15 s
///   ┌──▶ ┌────────────┐ ─────────────────────────────────────────────┐
///   │    │ Connecting │                                              │
///   │    └────────────┘                                              ▼
///   │          │ handle_connected: queue PROTOCOL 0003,       ┌─────────────┐
///   │          │ [AUTH pw, empty line], CTORRENT;             │   BackOff   │
///   │          │ event Connected (answer: a first CTSTATUS)   │   (FREE)    │
///   │          ▼                                              └─────────────┘
///   │    ┌────────────┐  handle_closed: drop unsent output,     ▲     │
///   │    │   Ready    │  deadline = now + 5 s                   │     │ handle_timeout
///   │    │            │─────────────────────────────────────────┘     │ at the deadline:
///   │    └────────────┘                                               │ event Reconnect
///   │      ▲       │ poll_event: one server line → one event          │
///   │      └───────┘ send_*: queue a whole reply / unsolicited line   │
///   └─────────────────────────────────────────────────────────────────┘
///
///   any state ── stop() ──▶ Idle (no reconnect)   any state ── reconnect_after(d) ──▶ BackOff
/// ```
///
/// # Versions
///
/// The session formats for the version in force ([`ClientSession::version`]): 3 until a
/// server `PROTOCOL` line arrives, then what dnh3.3.2 makes of it
/// (`atoi` of the text after the keyword and one byte: `PROTOCOL 0004`
/// → 3, `PROTOCOL 2` → 2, `PROTOCOL 0000` or `PROTOCOL garbage` → 0, whose `CTSTATUS`
/// is the v3 form but whose file list, peer list and `CTCONFIG` are the v1 forms). The
/// version is **kept across reconnections** while `PROTOCOL 0003` is still announced on
/// each, as the real client does; a server must send `PROTOCOL` every time.
///
/// | reply | 3 | 2 | 1 | 0 |
/// |---|---|---|---|---|
/// | status | `CTSTATUS S:TS/L:TL/C … K` | same | `CTSTATUS S/L …` | as 3 |
/// | detail | `CTDETAIL`, `CTFILESTART`, `CTFILE n prio cur pieces have avail size name`…, `CTFILESDONE` | `CTDETAIL`, `CTFILES`, `CTFILE n pieces have avail size name`…, `CTFDONE` | as 2, `CTFILE n pieces have size name` | as 1 |
/// | peers | `CTPEERSTART`, `CTPEER`…, `CTPEERSDONE` | `CTPEERS`, `CTPEER`…, `CTPDONE` | same | same |
/// | config | `CTCONFIGSTART`, `CTCONFIG name type range len:value …`…, `CTCONFIGDONE` | one 8-field positional `CTCONFIG` | one 9-field positional `CTCONFIG` | as 1 |
///
/// # Behaviour of the real client reproduced
///
/// * `PROTOCOL 0003`, `AUTH`, `CTORRENT` written together on every connect, without
///   waiting for the server; `CTORRENT` with the same start timestamp every time and the
///   current Unix time.
/// * `AUTH pw` followed by an empty line when the password is shorter than 20 bytes
///   (dnh3.3.2 keeps the newline `fgets` read), passwords cut to 20 bytes, the same
///   password on every reconnection ([`ClientSessionConfig::auth_empty_line`] turns the
///   empty line off).
/// * Server lines end at CR, LF or CRLF; empty lines are skipped.
/// * The version rules above, including the odd version 0 and the sticky version.
/// * Unknown lines, `ERROR` included, are reported and otherwise ignored; nothing is
///   ever sent in answer to `PROTOCOL` or `ERROR`.
/// * `SETDLIMIT`/`SETULIMIT` values as `(int)strtod` computes them.
/// * Prefix keyword matching on request ([`KeywordMatch::Prefix`]: `CTQUITTER` quits,
///   `SENDSTATUSXYZ` asks for the status).
/// * Reconnection 5 s after a close and 15 s after a failed connect, forever.
/// * Each reply is queued whole, so replies and unsolicited lines never interleave.
/// * Output while disconnected is refused, not queued (dnh3.3.2 drops warnings raised
///   while not connected).
///
/// # Behaviour deliberately not reproduced
///
/// * **A bare `CTCONFIG` crashes dnh3.3.2** (SIGSEGV) and **every well-formed positional
///   v1/v2 `CTCONFIG` aborts it** (SIGABRT): here the first is
///   [`ClientEvent::Malformed`], the second [`ClientEvent::ConfigValues`].
/// * **A NUL byte wedges dnh3.3.2's reader for good**; here only the line holding it is
///   lost ([`ClientEvent::Malformed`]), and so is an over-long line (more than
///   [`DEFAULT_MAX_LINE_LEN`] bytes), which overflows dnh3.3.2's heap at 128 KiB.
/// * **Over-long output lines**: dnh3.3.2 cuts a 4295-byte message and sends its NUL
///   too; here a line longer than 4294 bytes is refused with [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong).
/// * **Line breaks inside values**: dnh3.3.2 sends a tracker message with a newline as a
///   `CTINFO` line plus a keyword-less continuation line; [`ClientSession::send_info`]
///   refuses NUL, CR and LF with [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) (split the text into
///   several `CTINFO`s if needed).
/// * **Exact keyword matching is the default**; the prefix match is an option.
///
/// # Size
///
/// Its size is about `IN` + `OUT` + 4.2 KiB (the torrent path and the peer id text). `IN` must exceed the longest
/// server line accepted ([`DEFAULT_MAX_LINE_LEN`], or `IN - 1` if smaller). The output
/// queue must hold the longest reply the caller sends whole: every line of it plus its
/// LF (see [`ClientSession::send_peers`]).
#[derive(Debug, Clone)]
pub struct ClientSession<
    const IN: usize = DEFAULT_INPUT_CAPACITY,
    const OUT: usize = DEFAULT_OUTPUT_CAPACITY,
> {
    identity: Identity,
    keyword_match: KeywordMatch,
    close_delay: core::time::Duration,
    refused_delay: core::time::Duration,
    unix_time_at_zero_ms: u64,
    version: Version,
    phase: Phase,
    rx: LineBuffer<IN>,
    connected_event: bool,
    reconnect_event: bool,
    out: OutQueue<OUT>,
}

impl ClientSession {
    /// A buffer of this size always takes one [`poll_transmit`](Self::poll_transmit):
    /// the real client's longest line, 4294 bytes, plus its LF.
    /// It is the same for every capacity; it is defined for the default ones so
    /// that `ClientSession::MAX_TRANSMIT_LEN` needs no type annotation.
    pub const MAX_TRANSMIT_LEN: usize = MAX_LINE_WITH_LF;

    /// A session with the default capacities ([`DEFAULT_INPUT_CAPACITY`],
    /// [`DEFAULT_OUTPUT_CAPACITY`]); see [`new_sized`](Self::new_sized).
    ///
    /// # Errors
    ///
    /// As [`new_sized`](Self::new_sized).
    pub fn new(config: ClientSessionConfig<'_>) -> Result<Self, UsageError> {
        Self::new_sized(config)
    }
}

impl<const IN: usize, const OUT: usize> ClientSession<IN, OUT> {
    /// A session for `config` with `IN` bytes of input and `OUT` bytes of output storage,
    /// in [`ClientState::Connecting`]: open the first connection (dnh3.3.2 connects at
    /// once). The version in force is 3.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if the torrent path is empty or holds NUL, CR or LF,
    /// or the password (cut to [`MAX_PASSWORD_LEN`](crate::ctcs::MAX_PASSWORD_LEN) bytes) holds one of them;
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the path is longer than [`MAX_TORRENT_PATH_LEN`], or
    /// the opening lines (`PROTOCOL`, `AUTH`, `CTORRENT`) do not fit `OUT`, or `IN` is
    /// smaller than 2 (no line would fit).
    pub fn new_sized(config: ClientSessionConfig<'_>) -> Result<Self, UsageError> {
        if IN < 2 {
            return Err(UsageError::too_long("IN"));
        }
        let identity = Identity::new(&config)?;
        let session = ClientSession {
            identity,
            keyword_match: config.keyword_match,
            close_delay: config.close_delay,
            refused_delay: config.refused_delay,
            unix_time_at_zero_ms: config.unix_time_at_zero_ms,
            version: Version::V3,
            phase: Phase::Connecting,
            rx: LineBuffer::with_max_len(DEFAULT_MAX_LINE_LEN),
            connected_event: false,
            reconnect_event: false,
            out: OutQueue::new(),
        };
        if session.opening_len(i64::MIN) > OUT {
            return Err(UsageError::too_long("OUT"));
        }
        Ok(session)
    }

    // ---- getters ---------------------------------------------------------------------

    /// Where the session stands.
    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::Idle => ClientState::Idle,
            Phase::BackOff(_) => ClientState::BackOff,
            Phase::Connecting => ClientState::Connecting,
            Phase::Ready => ClientState::Ready,
        }
    }

    /// The protocol version replies are formatted for: 3 until the server's first
    /// `PROTOCOL`, then the last one negotiated, kept across reconnections.
    pub const fn version(&self) -> Version {
        self.version
    }

    /// How server keywords are matched.
    pub const fn keyword_match(&self) -> KeywordMatch {
        self.keyword_match
    }

    /// Our peer id's text form, as `CTORRENT` carries it.
    pub fn peer_id_text(&self) -> &[u8] {
        self.identity.peer_id().as_bytes()
    }

    /// Unix time in whole seconds at `now` on the caller's clock (from
    /// [`ClientSessionConfig::unix_time_at_zero_ms`]): what `CTORRENT` carries, and what
    /// a caller puts in [`CtDetail::current_timestamp`].
    pub fn unix_time(&self, now: Instant) -> i64 {
        let ms = self.unix_time_at_zero_ms.saturating_add(now.as_millis());
        i64::try_from(ms / 1000).unwrap_or(i64::MAX)
    }

    /// Bytes queued for [`poll_transmit`](Self::poll_transmit).
    pub const fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// The input capacity, `IN`.
    pub const fn input_capacity(&self) -> usize {
        IN
    }

    /// How many bytes [`handle_input`](Self::handle_input) takes now: read at most this
    /// much. Once every event is polled it is at least `IN` minus the longest line.
    pub const fn input_spare(&self) -> usize {
        self.rx.spare()
    }

    /// The output capacity, `OUT`.
    pub const fn output_capacity(&self) -> usize {
        OUT
    }

    // ---- connection inputs -------------------------------------------------------------

    /// A TCP connection to the server is open (a new one: in any state, even
    /// [`ClientState::Ready`], everything about the previous connection is dropped —
    /// unsent output, received bytes, unpolled events).
    ///
    /// Queues `PROTOCOL 0003`, then `AUTH` (and the empty line, see
    /// [`ClientSessionConfig::auth_empty_line`]) when a password is configured, then
    /// `CTORRENT` with the current Unix time, and raises [`ClientEvent::Connected`]:
    /// answer it with [`send_status`](Self::send_status). The version in force is kept.
    pub fn handle_connected(&mut self, now: Instant) {
        self.drop_connection();
        self.rx.clear();
        self.reconnect_event = false;
        self.phase = Phase::Ready;
        let unix_now = self.unix_time(now);
        let version = self.version;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::Protocol(Protocol { version: 3 }), version);
        if let Some(auth) = self.identity.auth() {
            batch.line(&auth, version);
            if self.identity.auth_empty_line() {
                batch.line(&ClientMessage::Unknown(Text::EMPTY), version);
            }
        }
        batch.line(&self.identity.ctorrent(unix_now), version);
        let queued = batch.finish();
        debug_assert!(
            queued.is_ok(),
            "`new_sized` checked that the longest opening fits an empty queue"
        );
        self.connected_event = true;
    }

    /// The connection was closed (EOF from the server, or a failed write): unsent output
    /// is dropped and a reconnect is due [`close_delay`](ClientSessionConfig::close_delay)
    /// (5 s) from `now`. The events of whole lines already received stay pollable.
    /// Does nothing in [`ClientState::Idle`].
    pub fn handle_closed(&mut self, now: Instant) {
        self.back_off(now, self.close_delay);
    }

    /// A connect attempt failed (refused, unreachable): a reconnect is due
    /// [`refused_delay`](ClientSessionConfig::refused_delay) (15 s) from `now`.
    /// Does nothing in [`ClientState::Idle`].
    pub fn handle_connect_failed(&mut self, now: Instant) {
        self.back_off(now, self.refused_delay);
    }

    /// Handles the passing of time: at the reconnect deadline the session moves to
    /// [`ClientState::Connecting`] and raises [`ClientEvent::Reconnect`]. Before it, or
    /// without one, it does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::BackOff(due) = self.phase {
            if due <= now {
                self.phase = Phase::Connecting;
                self.reconnect_event = true;
            }
        }
    }

    /// Bytes received from the server, in any chunking: all are kept, or none. Each
    /// server line becomes an event when [`poll_event`](Self::poll_event) reaches it;
    /// until then it waits in the session (events borrow it from there). Outside
    /// [`ClientState::Ready`] the bytes are dropped.
    ///
    /// A server `PROTOCOL` line takes effect when its event is polled, before the next
    /// line is decoded, as dnh3.3.2 acts on each line before it reads the next.
    ///
    /// # Errors
    ///
    /// [`InputFull`] if `input` is longer than [`input_spare`](Self::input_spare): none of
    /// it was taken and nothing received before is lost; poll events, then offer it
    /// again.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<(), InputFull> {
        if self.phase != Phase::Ready {
            return Ok(());
        }
        self.rx.push(input)
    }

    /// The spare input room, to read into directly; then call
    /// [`commit_input`](Self::commit_input) with the number of bytes read. Outside
    /// [`ClientState::Ready`] committed bytes are dropped.
    pub fn input_buf(&mut self) -> &mut [u8] {
        self.rx.spare_mut()
    }

    /// Keeps `n` bytes read into [`input_buf`](Self::input_buf), as
    /// [`handle_input`](Self::handle_input) would.
    ///
    /// # Errors
    ///
    /// [`InputFull`] if `n` is larger than the room [`input_buf`](Self::input_buf) gave.
    pub fn commit_input(&mut self, n: usize) -> Result<(), InputFull> {
        self.rx.commit(n)?;
        if self.phase != Phase::Ready {
            self.rx.clear();
        }
        Ok(())
    }

    // ---- commands ----------------------------------------------------------------------

    /// Ends the session's interest in the server: drops the connection state and any
    /// reconnect; [`ClientState::Idle`] until [`handle_connected`](Self::handle_connected)
    /// or [`reconnect_after`](Self::reconnect_after). For a client that quits.
    pub fn stop(&mut self) {
        self.drop_connection();
        self.reconnect_event = false;
        self.phase = Phase::Idle;
    }

    /// Drops the connection (the caller closes the socket) and plans a reconnect `delay`
    /// from `now`, in any state. dnh3.3.2 does this with about 1 s when the server sets
    /// its `ctcs_server` option to a new address.
    pub fn reconnect_after(&mut self, now: Instant, delay: core::time::Duration) {
        self.drop_connection();
        self.phase = Phase::BackOff(now.saturating_add(delay));
    }

    /// Queues `CTSTATUS` in the form of the version in force: the answer to
    /// [`ClientEvent::Connected`] and [`ClientEvent::StatusRequested`], and the
    /// unsolicited report (download complete, quitting; dnh3.3.2 also sends one with a
    /// tracker announce at least 30 s after the previous one). In version 1 the tracker
    /// totals, `connecting` and `cache_used` are not written.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState) if not [`ClientState::Ready`];
    /// [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) if the output queue lacks room (drain
    /// [`poll_transmit`](Self::poll_transmit) and retry).
    pub fn send_status(&mut self, status: &CtStatus) -> Result<(), UsageError> {
        self.ready()?;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::CtStatus(*status), self.version);
        batch.finish().map(drop)
    }

    /// Queues `CTBW` (the same in every version). dnh3.3.2 sends it at most once a
    /// second, when a rate or a limit changed since the previous sample; that cadence is
    /// the caller's.
    ///
    /// # Errors
    ///
    /// As [`send_status`](Self::send_status).
    pub fn send_bw(&mut self, bw: &CtBw) -> Result<(), UsageError> {
        self.ready()?;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::CtBw(*bw), self.version);
        batch.finish().map(drop)
    }

    /// Queues `CTINFO severity text`: a warning (1 urgent, 2 warning, 3 information; the
    /// real client sends no other severity).
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if `severity` is not 1, 2 or 3, or `text` holds NUL,
    /// CR or LF (dnh3.3.2 would send a raw newline, making the rest a keyword-less line);
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the line would be longer than 4294 bytes; otherwise as
    /// [`send_status`](Self::send_status).
    pub fn send_info(&mut self, severity: i32, text: &[u8]) -> Result<(), UsageError> {
        self.ready()?;
        if !(1..=3).contains(&severity) {
            return Err(UsageError::invalid_value("severity"));
        }
        let message = Text::new(text).map_err(|_| UsageError::invalid_value("text"))?;
        let mut batch = self.out.batch();
        batch.line(
            &ClientMessage::CtInfo(crate::ctcs::message::CtInfo { severity, message }),
            self.version,
        );
        batch.finish().map(drop)
    }

    /// Queues the answer to [`ClientEvent::DetailRequested`]: `CTDETAIL`, then the file
    /// block of the version in force (v3 `CTFILESTART`, `CTFILE`…, `CTFILESDONE`; below 3
    /// `CTFILES`, `CTFILE`…, `CTFDONE`, with fewer `CTFILE` fields: see the module docs).
    /// Put the Unix time ([`unix_time`](Self::unix_time)) in `detail.current_timestamp`.
    ///
    /// All lines are queued or none: they need `OUT` to hold every line plus its LF.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState) if not [`ClientState::Ready`];
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if a line would be longer than 4294 bytes or the whole
    /// sequence is larger than `OUT`; [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) if it would fit once the queue
    /// is drained (drain [`poll_transmit`](Self::poll_transmit) and retry). The iterator
    /// is used up either way.
    pub fn send_detail<'f>(
        &mut self,
        detail: &CtDetail,
        files: impl IntoIterator<Item = CtFile<'f>>,
    ) -> Result<(), UsageError> {
        self.ready()?;
        let v = self.version;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::CtDetail(*detail), v);
        batch.line(&ClientMessage::CtFileStart, v);
        for file in files {
            batch.line(&ClientMessage::CtFile(file), v);
        }
        batch.line(&ClientMessage::CtFilesDone, v);
        batch.finish().map(drop)
    }

    /// Queues the answer to [`ClientEvent::PeersRequested`]: v3 `CTPEERSTART`,
    /// `CTPEER`…, `CTPEERSDONE`; below 3 `CTPEERS`, `CTPEER`…, `CTPDONE`. An empty list
    /// is just the two markers.
    ///
    /// A `CTPEER` line is at most [`MAX_CTPEER_LINE`] (149) bytes with its LF (a 42-byte
    /// peer id text and the widest numbers), about 80 with typical values; the markers
    /// take 24 bytes in v3, 16 below.
    ///
    /// # Errors
    ///
    /// As [`send_detail`](Self::send_detail).
    pub fn send_peers<'p>(
        &mut self,
        peers: impl IntoIterator<Item = CtPeer<'p>>,
    ) -> Result<(), UsageError> {
        self.ready()?;
        let v = self.version;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::CtPeerStart, v);
        for peer in peers {
            batch.line(&ClientMessage::CtPeer(peer), v);
        }
        batch.line(&ClientMessage::CtPeersDone, v);
        batch.finish().map(drop)
    }

    /// Queues the configuration: the answer to [`ClientEvent::ConfigRequested`], or an
    /// unsolicited report after a local change. Give both forms; the version in force
    /// picks one:
    ///
    /// * version 3: `CTCONFIGSTART`, one self-describing `CTCONFIG` per item of
    ///   `options` (in dnh3.3.2's list and order), `CTCONFIGDONE`;
    ///   `values` is not used;
    /// * versions 0–2: one positional line from `values` (version 2: `verbose seedtime
    ///   seed_ratio maxpeers minpeers fileno cache_size pause`; versions 0 and 1:
    ///   `… fileno exitzero pause soft_quit`); `options` is not used. dnh3.3.2 prints
    ///   the ratio with six decimals (`0.000000`) and always sends 0 for `exitzero` and
    ///   `soft_quit`: fields left at [`Positional::Keep`] there become 0.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) in versions 0–2 if a field the line has (other than
    /// `exitzero` and `soft_quit`) is [`Positional::Keep`]: the client never sends `.`;
    /// otherwise as [`send_detail`](Self::send_detail).
    pub fn send_config<'c>(
        &mut self,
        values: &CtConfigValues<'_>,
        options: impl IntoIterator<Item = CtConfig<'c>>,
    ) -> Result<(), UsageError> {
        self.ready()?;
        let v = self.version;
        if v.is_v3() {
            let mut batch = self.out.batch();
            batch.line(&ClientMessage::CtConfigStart, v);
            for option in options {
                batch.line(&ClientMessage::CtConfig(option), v);
            }
            batch.line(&ClientMessage::CtConfigDone, v);
            return batch.finish().map(drop);
        }
        let values = client_positional(values, v)?;
        let mut batch = self.out.batch();
        batch.line(&ClientMessage::CtConfigValues(values), v);
        batch.finish().map(drop)
    }

    // ---- outputs -----------------------------------------------------------------------

    /// Writes the next queued line, LF included, into `buf` and returns its length, or
    /// `None` when nothing is queued: one call, one whole line, as on every machine of
    /// this crate. A buffer of [`MAX_TRANSMIT_LEN`](ClientSession::MAX_TRANSMIT_LEN) bytes always
    /// suffices.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` cannot hold the next line; it stays queued.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        self.out.pop_line(buf)
    }

    /// The reconnect deadline, in [`ClientState::BackOff`]; call
    /// [`handle_timeout`](Self::handle_timeout) then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::BackOff(due) => Some(due),
            _ => None,
        }
    }

    /// The next event: [`ClientEvent::Connected`], then one event per server line
    /// received, in order (a `PROTOCOL` line takes effect here), then
    /// [`ClientEvent::Reconnect`]. An event made from a line borrows it from the
    /// session's input buffer; the line's room is freed at the next call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent<'_>> {
        if self.connected_event {
            self.connected_event = false;
            return Some(ClientEvent::Connected);
        }
        match self.rx.next_line() {
            Some(Ok(line)) => {
                if let Some(version) = protocol_line(line, self.keyword_match) {
                    let previous = self.version;
                    self.version = version;
                    return Some(ClientEvent::Protocol { version, previous });
                }
                return Some(line_event(line, self.version, self.keyword_match));
            }
            Some(Err(error)) => return Some(ClientEvent::Malformed { error, line: None }),
            None => {}
        }
        if self.reconnect_event {
            self.reconnect_event = false;
            return Some(ClientEvent::Reconnect);
        }
        None
    }

    // ---- transitions -------------------------------------------------------------------

    fn ready(&self) -> Result<(), UsageError> {
        if self.phase == Phase::Ready {
            Ok(())
        } else {
            Err(UsageError::invalid_state("command"))
        }
    }

    /// Forgets the connection: unsent output, an unanswered `Connected`. Whole lines
    /// received stay pollable; the input buffer is cleared at the next connection.
    fn drop_connection(&mut self) {
        self.out.clear();
        self.connected_event = false;
    }

    fn back_off(&mut self, now: Instant, delay: core::time::Duration) {
        if self.phase == Phase::Idle {
            return;
        }
        self.drop_connection();
        self.phase = Phase::BackOff(now.saturating_add(delay));
    }

    /// The length of the opening lines with `unix_now` in `CTORRENT`.
    fn opening_len(&self, unix_now: i64) -> usize {
        let v = self.version;
        let mut n = ClientMessage::Protocol(Protocol { version: 3 }).encoded_len(v);
        if let Some(auth) = self.identity.auth() {
            n = n.saturating_add(auth.encoded_len(v));
            if self.identity.auth_empty_line() {
                n = n.saturating_add(1);
            }
        }
        n.saturating_add(self.identity.ctorrent(unix_now).encoded_len(v))
    }
}

/// The event for a server line that is not `PROTOCOL`, decoded under `version`.
fn line_event(line: &[u8], version: Version, keyword_match: KeywordMatch) -> ClientEvent<'_> {
    let text = Text::from_line(line);
    match ServerMessage::decode_with(line, version, keyword_match) {
        Err(error) => ClientEvent::Malformed {
            error,
            line: Some(text),
        },
        Ok(msg) => match msg {
            ServerMessage::SendStatus => ClientEvent::StatusRequested,
            ServerMessage::SendDetail => ClientEvent::DetailRequested,
            ServerMessage::SendPeers => ClientEvent::PeersRequested,
            ServerMessage::SendConf => ClientEvent::ConfigRequested,
            ServerMessage::SetDlimit(s) => ClientEvent::DownloadLimit {
                limit: s.applied(),
                text: s.dl_limit,
            },
            ServerMessage::SetUlimit(s) => ClientEvent::UploadLimit {
                limit: s.applied(),
                text: s.ul_limit,
            },
            ServerMessage::CtConfig(c) => ClientEvent::ConfigSet(c),
            ServerMessage::CtConfigValues(c) => ClientEvent::ConfigValues(c),
            ServerMessage::CtQuit => ClientEvent::Quit,
            ServerMessage::CtRestart => ClientEvent::Restart,
            ServerMessage::CtUpdate => ClientEvent::Update,
            ServerMessage::Protocol(p) => {
                // `poll_event` takes every PROTOCOL line before decoding; both read
                // the keyword the same way, so this cannot be reached.
                debug_assert!(false, "PROTOCOL line decoded as a plain line");
                ClientEvent::Protocol {
                    version: p.negotiated(),
                    previous: version,
                }
            }
            _ => ClientEvent::Unknown(text),
        },
    }
}

/// The version a server line sets, if it is a `PROTOCOL` line: dnh3.3.2 reads the text
/// from byte 9 (after the keyword and one separator byte) with `atoi`. With exact
/// matching the keyword must be the whole first word.
fn protocol_line(line: &[u8], matching: KeywordMatch) -> Option<Version> {
    let after = line.strip_prefix(b"PROTOCOL")?;
    let arg: &[u8] = match after.split_first() {
        None => &[],
        Some((b' ', rest)) => rest,
        Some((_, rest)) if matching == KeywordMatch::Prefix => rest,
        Some(_) => return None,
    };
    Some(Version::from_atoi(arg))
}

/// The positional line dnh3.3.2 would send from `values` in `version` (0–2).
fn client_positional<'a>(
    values: &CtConfigValues<'a>,
    version: Version,
) -> Result<CtConfigValues<'a>, UsageError> {
    let mut v = *values;
    let required_set = v.verbose != Positional::Keep
        && v.seedtime != Positional::Keep
        && v.seed_ratio != Positional::Keep
        && v.maxpeers != Positional::Keep
        && v.minpeers != Positional::Keep
        && v.fileno != Positional::Keep
        && v.pause != Positional::Keep
        && (version != Version::V2 || v.cache_size != Positional::Keep);
    if !required_set {
        return Err(UsageError::invalid_value("values"));
    }
    if v.exitzero == Positional::Keep {
        v.exitzero = Positional::Set(0);
    }
    if v.soft_quit == Positional::Keep {
        v.soft_quit = Positional::Set(0);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctcs::field::Float;

    #[test]
    fn protocol_lines_as_dnh332_reads_them() {
        let exact = KeywordMatch::Exact;
        let prefix = KeywordMatch::Prefix;
        assert_eq!(protocol_line(b"PROTOCOL 0004", exact), Some(Version::V3));
        assert_eq!(protocol_line(b"PROTOCOL 2", exact), Some(Version::V2));
        assert_eq!(protocol_line(b"PROTOCOL 0000", exact), Some(Version::V0));
        assert_eq!(protocol_line(b"PROTOCOL garbage", exact), Some(Version::V0));
        assert_eq!(protocol_line(b"PROTOCOL", exact), Some(Version::V0));
        assert_eq!(protocol_line(b"PROTOCOL  1", exact), Some(Version::V1));
        assert_eq!(protocol_line(b"PROTOCOLX1", exact), None);
        assert_eq!(protocol_line(b"PROTOCOLX1", prefix), Some(Version::V1));
        assert_eq!(protocol_line(b"SENDSTATUS", prefix), None);
        assert_eq!(protocol_line(b" PROTOCOL 1", prefix), None);
    }

    #[test]
    fn positional_reply_fields() {
        let full = CtConfigValues {
            verbose: Positional::Set(1),
            seedtime: Positional::Set(72),
            seed_ratio: Positional::Set(Float::new("0.000000").unwrap()),
            maxpeers: Positional::Set(100),
            minpeers: Positional::Set(1),
            fileno: Positional::Set(0),
            pause: Positional::Set(0),
            ..CtConfigValues::default()
        };
        // Version 1 needs no cache size; exit-zero and soft-quit become 0.
        let v1 = client_positional(&full, Version::V1).unwrap();
        assert_eq!(v1.exitzero, Positional::Set(0));
        assert_eq!(v1.soft_quit, Positional::Set(0));
        assert_eq!(
            client_positional(&full, Version::V2),
            Err(UsageError::invalid_value("values"))
        );
        let with_cache = CtConfigValues {
            cache_size: Positional::Set(1),
            ..full
        };
        assert!(client_positional(&with_cache, Version::V2).is_ok());
    }

    #[test]
    fn widest_peer_line() {
        use crate::ctcs::field::Word;
        use crate::ctcs::message::PeerFlags;
        let id = [b'x'; 42];
        let peer = CtPeer {
            peer_id: Word::new(&id).unwrap(),
            address: core::net::Ipv4Addr::new(255, 255, 255, 255),
            choke_interest: PeerFlags::default(),
            dl_rate: i32::MIN,
            ul_rate: i32::MIN,
            dl_total: u64::MAX,
            ul_total: u64::MAX,
            n_pieces: i32::MIN,
        };
        let len = ClientMessage::CtPeer(peer).encoded_len(Version::V3);
        assert_eq!(len, MAX_CTPEER_LINE);
        let markers = ClientMessage::CtPeerStart.encoded_len(Version::V3)
            + ClientMessage::CtPeersDone.encoded_len(Version::V3);
        assert_eq!(markers, 24);
    }

    #[test]
    fn size_is_input_plus_output_plus_about_4_kib() {
        let base = size_of::<ClientSession<0, 0>>();
        assert!(base < 5 * 1024, "{base}");
        assert_eq!(
            size_of::<ClientSession<1000, 0>>(),
            base.saturating_add(1000)
        );
        assert_eq!(
            size_of::<ClientSession<0, 1000>>(),
            base.saturating_add(1000)
        );
    }
}
