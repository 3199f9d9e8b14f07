//! The control server's side of one connection:
//! [`ServerSession`](super::ServerSession) and what it reports.

mod config;
mod event;
mod queue;

use core::fmt::Write as _;
use core::time::Duration;

pub use config::{ServerConfig, DEFAULT_BLOCK_TIMEOUT};
pub use event::{AuthFailure, BlockKind, InputError, ServerEvent, Unterminated};
pub use queue::MAX_QUEUED_LINES;

use crate::ctcs::buf::Fill;
use crate::ctcs::field::{Positional, Text, Word};
use crate::ctcs::line::{InputFull, LineBuffer, DEFAULT_MAX_LINE_LEN};
use crate::ctcs::message::{
    ClientMessage, CtConfigSet, CtConfigValues, ErrorMessage, Protocol, ServerMessage, SetDlimit,
    SetUlimit, Spacing,
};
use crate::ctcs::version::Version;
use crate::ctcs::{DEFAULT_INPUT_CAPACITY, DEFAULT_OUTPUT_CAPACITY, MAX_PASSWORD_LEN};
use crate::error::{DecodeError, EncodeError, UsageError};
use crate::hash::ct_eq;
use crate::time::Instant;

use queue::{Fifo, LineQueue};

/// The longest command line a session queues, LF excluded: dnh3.3.2's own longest line
/// ([`DEFAULT_MAX_LINE_LEN`], 4294 bytes).
pub const MAX_COMMAND_LEN: usize = DEFAULT_MAX_LINE_LEN;

/// What the session sends to a client that failed authentication.
const AUTH_FAILED: Text<'static> = match Text::new(b"Authentication failed") {
    Ok(t) => t,
    Err(_) => Text::EMPTY,
};

/// The most events one session holds: one line gives at most 4 (a positional
/// `CTCONFIG` interrupting a block: error, begin, item, end), the timers 2 more, and
/// closing 2 more. The next line is not acted on while any event waits.
const EVENT_CAPACITY: usize = 8;

/// Where a session is in the connection's life ([`ServerSession::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerState {
    /// A password is configured and `AUTH` has not arrived yet.
    AwaitingAuth,
    /// Waiting for `CTORRENT`; status traffic is not accepted yet.
    AwaitingIdentity,
    /// The client identified itself: everything is accepted.
    Ready,
    /// The client failed authentication: input is ignored, commands are refused; close
    /// the connection once the queued lines are written.
    Rejected,
    /// [`ServerSession::handle_closed`] was called.
    Closed,
}

/// An event waiting for `poll_event`: ready-made, or to be decoded from the stored line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Ready(ServerEvent<'static>),
    Line(LineKind, Version),
}

/// Which borrowed event the stored line gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Hello,
    Info,
    InfoContinued,
    File,
    Peer,
    Config,
    ConfigValues,
    Unknown,
}

/// What a decoded line is, without borrowing it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seen {
    Protocol(u32),
    Auth { matches: bool },
    Hello,
    Status(crate::ctcs::message::CtStatus),
    Bandwidth(crate::ctcs::message::CtBw),
    Info,
    Detail(crate::ctcs::message::CtDetail),
    Start(BlockKind),
    Item(BlockKind, LineKind),
    End(BlockKind),
    Positional,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenBlock {
    kind: BlockKind,
    items: u32,
    deadline: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timers {
    poll: Option<Duration>,
    idle: Option<Duration>,
    block: Option<Duration>,
}

/// A zero duration would re-arm a timer at `now` for ever.
fn at_least_1ms(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// The CTCS side of one TCP connection with a ctorrent client: a sans-IO state machine
/// that a control server runs for each ctorrent client that connects.
///
/// A [`ServerSession`] never touches a socket or a clock. The caller passes the bytes it
/// read and the time in, and takes lines to write, a deadline and events out. All
/// storage is inside the value (a line buffer, a queue of encoded lines, a few events);
/// nothing is allocated.
///
/// # The run loop
///
/// 1. On accepting a connection, build a session: [`ServerSession::new`]`(config, now)`.
///    It queues `PROTOCOL 000k` at once (k = [`ServerConfig::max_version`]).
/// 2. Issue commands whenever needed ([`request_status`](ServerSession::request_status),
///    [`set_download_limit`](ServerSession::set_download_limit),
///    [`quit`](ServerSession::quit), …). Each only queues a line.
/// 3. After every input or command, drain the outputs in this order:
///    1. [`poll_event`](ServerSession::poll_event) until `None`: received lines are
///       acted on here, and some queue a line (a `PROTOCOL` confirmation, the `ERROR`
///       of a failed authentication), as may the commands you issue in answer;
///    2. [`poll_transmit`](ServerSession::poll_transmit) until `Ok(None)`: each call
///       hands out **one whole line**; write it to the socket in one write;
///    3. [`poll_timeout`](ServerSession::poll_timeout): the next deadline, if any.
/// 4. Wait for bytes or the deadline, whichever comes first.
/// 5. Read at most [`input_spare`](ServerSession::input_spare) bytes and give them all to
///    [`handle_input`](ServerSession::handle_input)`(now, bytes)`, or read straight into
///    [`input_buf`](ServerSession::input_buf) and call
///    [`commit_input`](ServerSession::commit_input)`(now, n)`. The session keeps the
///    bytes; their lines are acted on as [`poll_event`](ServerSession::poll_event)
///    reaches them (events borrow the line they came from), so go to 3. Once the events
///    are drained there is always room again: no second buffer is needed.
/// 6. On the deadline, call [`handle_timeout`](ServerSession::handle_timeout)`(now)`.
///    Calling it early, or twice, does nothing.
/// 7. On end of file or a socket error, call
///    [`handle_closed`](ServerSession::handle_closed), drain the events (the last
///    is [`ServerEvent::Closed`]) and drop the session. When
///    [`should_close`](ServerSession::should_close) says so (a client that failed
///    authentication, once its `ERROR` line is written), close the socket yourself.
/// 8. Go to 3.
///
/// Time should not go backwards; if it does, nothing panics: the session keeps the
/// latest time it was given and treats an earlier `now` as that time.
///
/// ```
/// use trackwire::ctcs::{ServerConfig, ServerEvent, ServerSession};
/// use trackwire::Instant;
///
/// let mut s = ServerSession::new(ServerConfig::new(), Instant::ZERO)?;
/// let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
/// let n = s.poll_transmit(&mut buf)?.unwrap();
/// assert_eq!(&buf[..n], b"PROTOCOL 0003\n");
///
/// let input = b"PROTOCOL 0003\nCTORRENT -CD0303-0xAB 1795312162 1795312162 a.torrent\n";
/// s.handle_input(Instant::from_millis(5), input)?;
/// let mut ids = Vec::new();
/// while let Some(event) = s.poll_event() {
///     if let ServerEvent::Hello(hello) = event {
///         ids.push(hello.peer_id.to_string());
///     }
/// }
/// assert_eq!(ids, ["-CD0303-0xAB"]);
///
/// s.request_status()?;
/// let n = s.poll_transmit(&mut buf)?.unwrap();
/// assert_eq!(&buf[..n], b"SENDSTATUS\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # States
///
/// Every transition on input is in one `match` on the session's state and the decoded
/// line (in this file, behind [`ServerSession::poll_event`]); the others are
/// [`handle_closed`](ServerSession::handle_closed) and the timers.
///
/// ```text
///   new(config, now): queue PROTOCOL 000k
///        │ password configured              │ no password
///        ▼                                  ▼
///  ┌──────────────┐   AUTH, right    ┌──────────────────┐  CTORRENT  ┌─────────┐
///  │ AwaitingAuth │─────────────────▶│ AwaitingIdentity │───────────▶│  Ready  │◀─┐ status, blocks,
///  └──────────────┘ (Authenticated)  └──────────────────┘  (Hello)   └─────────┘──┘ CTINFO, CTORRENT…
///        │ AUTH wrong, or any                │ status or block line:
///        │ other line but PROTOCOL           └─▶ Error(NotIdentified), line dropped
///        ▼
///  ┌──────────────┐ queue "ERROR Authentication failed"; ignore all input;
///  │   Rejected   │ should_close() once the queue is written
///  └──────────────┘
///
///  PROTOCOL n (any state but Rejected/Closed): version = min(version, n)
///  handle_closed (any state) ──▶ Closed
/// ```
///
/// Blocks, while `Ready`: a start marker opens a block (reporting an open one as
/// unterminated); an item is counted when its block is open and reported with an
/// [`InputError::ItemOutsideBlock`] first when not; the end marker closes the block
/// ([`ServerEvent::BlockEnd`] with the item count). Every [`ServerEvent::BlockBegin`]
/// is followed by exactly one `BlockEnd` or one [`InputError::UnterminatedBlock`] (a new
/// block started, the block timer fired, or the connection closed). Other lines inside a
/// block are reported as usual and do not affect it.
///
/// # Timers
///
/// | timer | armed | on expiry |
/// |---|---|---|
/// | status poll ([`ServerConfig::poll_interval`]) | at `CTORRENT`: `now` + interval | `SENDSTATUS` queued (skipped if the queue is full); re-armed one interval later |
/// | idle ([`ServerConfig::idle_timeout`]) | at creation and whenever bytes arrive: `now` + timeout | [`ServerEvent::Idle`], once per silence |
/// | block ([`ServerConfig::block_timeout`]) | at each line of an open block: `now` + timeout | [`InputError::UnterminatedBlock`], the block is closed |
///
/// [`poll_timeout`](ServerSession::poll_timeout) is the earliest of them (none once
/// rejected or closed).
///
/// # Versions
///
/// dnh3.3.2 always opens with `PROTOCOL 0003`, never answers a server's `PROTOCOL`, and
/// follows it silently (values above 3 become 3). It **keeps** the negotiated version
/// across reconnects while still announcing 3 (measured from dnh3.3.2), so
/// nothing but a `PROTOCOL` line from the server tells it which version to use: a session
/// therefore sends `PROTOCOL 000k` on every connection, first thing.
///
/// The version in force ([`ServerSession::version`]) starts at k: commands are formatted
/// for it and lines are decoded under it. When the client announces a lower version n
/// (dnh3.3.2 never does; an announced 0 counts as 1), the version in force becomes n and
/// the session confirms it with `PROTOCOL 000n` ("negotiation down", server doc).
///
/// The client writes `PROTOCOL 0003`, `AUTH`, `CTORRENT` and its first `CTSTATUS` at
/// once, before it reads our `PROTOCOL`: those lines are in the version it
/// held before — 3 on a fresh start, the old one after a reconnect. A session cannot
/// know when its `PROTOCOL` took effect, so a line that does not decode under the
/// version in force (an error, or an unknown keyword) is tried under 3, 2 and 1, and the
/// first version under which it is a known message wins. This is exact for every line
/// the client can send before our `PROTOCOL` arrives: `CTSTATUS` (the version-1 form
/// `S/L …` and the others `S:TS/L:TL/C …` cannot be confused), `CTBW`, `CTINFO` and
/// `CTORRENT` (the same in every version) and an unsolicited config block (v3 block
/// markers and items versus one positional line of 9 (v1) or 8 (v2) fields).
/// [`ServerEvent::Status`] says which form a `CTSTATUS` had.
///
/// # Authentication
///
/// With [`ServerConfig::password`] set, the first line after `PROTOCOL` must be `AUTH`
/// with that password (compared in constant time). The empty line
/// dnh3.3.2 sends after `AUTH pw` (its `fgets` kept the newline) is skipped by
/// the framing. A wrong password, or any other line first, gives
/// [`ServerEvent::AuthFailed`]; the session queues `ERROR Authentication failed` (what
/// the CTCS readme lists) and from then on ignores all input and refuses all commands.
/// The caller should write the queued lines and close: dnh3.3.2 ignores `ERROR` like
/// any unknown line and just reconnects 5 s after the close, with the same password,
/// forever (measured from dnh3.3.2). Without a password, `AUTH` lines are ignored.
///
/// # Commands
///
/// Each command queues one line, formatted for the version in force when it is issued.
/// The queue holds up to [`MAX_QUEUED_LINES`] lines and `OUT` bytes (default
/// [`DEFAULT_OUTPUT_CAPACITY`]); beyond that a command fails with [`UsageErrorKind::Full`](crate::UsageErrorKind::Full).
/// A command never queues a line the real client chokes on (measured from dnh3.3.2):
///
/// * no NUL, CR or LF inside a value ([`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue)): a NUL wedges
///   dnh3.3.2's command reader for good, a line end would split the command;
/// * no bare `CTCONFIG` (an empty name, [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue)): it crashes
///   dnh3.3.2 with SIGSEGV;
/// * no line longer than [`MAX_COMMAND_LEN`] bytes plus LF ([`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong));
/// * no v3 `CTCONFIG name value` to a client at version 0–2, and no positional
///   `CTCONFIG` to a version-3 client ([`UsageErrorKind::WrongVersion`](crate::UsageErrorKind::WrongVersion)): each is read as the
///   other form.
///
/// # Leniencies, and the client facts behind them
///
/// * **Any chunking** of the byte stream gives the same lines, events and errors; LF,
///   CR and CRLF end a line and empty lines are skipped ([`Framer`](crate::ctcs::Framer)).
/// * **Over-long and NUL-bearing lines** are reported ([`InputError::Line`]) and
///   dropped; framing goes on at the next line end. dnh3.3.2 sends a NUL after a
///   message that filled its 4296-byte buffer, so the next line starts with `\0`
///   (measured from dnh3.3.2). Lines of up to [`DEFAULT_MAX_LINE_LEN`] bytes (the
///   client's longest, 4294; `IN - 1` if the input capacity is smaller) are accepted.
/// * **Malformed lines** are reported and dropped; nothing is sticky: the session goes
///   on with the next line.
/// * **Continuation lines**: a tracker message with a newline splits a `CTINFO` in two
///   (measured from dnh3.3.2). A line with an unknown keyword that directly
///   follows a `CTINFO` (or another continuation) is reported as
///   [`ServerEvent::InfoContinued`]. A continuation that happens to start like a known
///   message is taken for that message; an empty one is skipped by the framing.
/// * **Status traffic before `CTORRENT`** is reported as
///   [`InputError::NotIdentified`] and dropped, not fatal: dnh3.3.2 always sends
///   `CTORRENT` first, so only other clients can get there.
/// * **Unsolicited traffic**: `CTSTATUS`, `CTBW`, `CTINFO` and whole config blocks are
///   accepted at any time once identified: a `SENDSTATUS` answer and an unsolicited
///   `CTSTATUS` look the same.
///
/// # Capacities
///
/// `IN` is the capacity of the input buffer in bytes (default
/// [`DEFAULT_INPUT_CAPACITY`]): received bytes wait there until their events are polled.
/// Lines of up to [`DEFAULT_MAX_LINE_LEN`] bytes (4294, the longest dnh3.3.2 sends) are
/// accepted, or `IN - 1` if that is smaller. `OUT` is the capacity of the transmit
/// queue in bytes (default [`DEFAULT_OUTPUT_CAPACITY`]). The value holds about `IN +
/// OUT` bytes.
#[derive(Debug, Clone)]
pub struct ServerSession<
    const IN: usize = DEFAULT_INPUT_CAPACITY,
    const OUT: usize = DEFAULT_OUTPUT_CAPACITY,
> {
    timers: Timers,
    allowed: Version,
    version: Version,
    announced: Option<u32>,
    password: Option<Fill<MAX_PASSWORD_LEN>>,
    state: ServerState,
    /// The latest time given.
    now: Instant,
    last_input: Instant,
    idle_at: Option<Instant>,
    poll_at: Option<Instant>,
    block: Option<OpenBlock>,
    /// The previous line was a `CTINFO` or its continuation.
    after_info: bool,
    /// Received bytes; its held line is the one the waiting events were decoded from.
    input: LineBuffer<IN>,
    out: LineQueue<OUT>,
    events: Fifo<Slot, EVENT_CAPACITY>,
}

impl ServerSession {
    /// A buffer of this size always takes one [`poll_transmit`](Self::poll_transmit):
    /// the longest command ([`MAX_COMMAND_LEN`]) plus its LF.
    /// It is the same for every capacity; it is defined for the default ones so
    /// that `ServerSession::MAX_TRANSMIT_LEN` needs no type annotation.
    pub const MAX_TRANSMIT_LEN: usize = MAX_COMMAND_LEN + 1;

    /// A session with the default capacities ([`DEFAULT_INPUT_CAPACITY`],
    /// [`DEFAULT_OUTPUT_CAPACITY`]) for a connection accepted at `now`; see
    /// [`new_sized`](Self::new_sized).
    ///
    /// # Errors
    ///
    /// As [`new_sized`](Self::new_sized).
    pub fn new(config: ServerConfig<'_>, now: Instant) -> Result<Self, UsageError> {
        Self::new_sized(config, now)
    }
}

impl<const IN: usize, const OUT: usize> ServerSession<IN, OUT> {
    /// A session with `IN` bytes of input and `OUT` bytes of output storage for a
    /// connection accepted at `now`, with `PROTOCOL 000k` (k =
    /// [`ServerConfig::max_version`]) already queued and the idle timer armed.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the password is
    /// longer than [`MAX_PASSWORD_LEN`] (dnh3.3.2 could never send it), `OUT` cannot hold
    /// the `PROTOCOL` line, or `IN` is smaller than 2 (no line would fit);
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if the
    /// password contains NUL, CR or LF (no `AUTH` line can carry it).
    pub fn new_sized(config: ServerConfig<'_>, now: Instant) -> Result<Self, UsageError> {
        if IN < 2 {
            return Err(UsageError::too_long("IN"));
        }
        let password = match config.password {
            None => None,
            Some(pw) => {
                Text::new(pw).map_err(|_| UsageError::invalid_value("password"))?;
                let mut stored = Fill::new();
                if !stored.push(pw) {
                    return Err(UsageError::too_long("password"));
                }
                Some(stored)
            }
        };
        let timers = Timers {
            poll: config.poll_interval.map(at_least_1ms),
            idle: config.idle_timeout.map(at_least_1ms),
            block: config.block_timeout.map(at_least_1ms),
        };
        let allowed = config.max_version;
        let mut s = ServerSession {
            timers,
            allowed,
            version: allowed,
            announced: None,
            state: if password.is_some() {
                ServerState::AwaitingAuth
            } else {
                ServerState::AwaitingIdentity
            },
            password,
            now,
            last_input: now,
            idle_at: timers.idle.map(|d| now.saturating_add(d)),
            poll_at: None,
            block: None,
            after_info: false,
            input: LineBuffer::with_max_len(DEFAULT_MAX_LINE_LEN),
            out: LineQueue::new(),
            events: Fifo::new(),
        };
        let protocol = ServerMessage::Protocol(Protocol {
            version: u32::from(allowed.get()),
        });
        s.out
            .push(&protocol, allowed)
            .map_err(|_| UsageError::too_long("OUT"))?;
        Ok(s)
    }

    // ---- getters ----------------------------------------------------------------------

    /// Where the session is.
    pub const fn state(&self) -> ServerState {
        self.state
    }

    /// The version in force: commands are formatted for it, lines decoded under it.
    pub const fn version(&self) -> Version {
        self.version
    }

    /// The highest version this session negotiates ([`ServerConfig::max_version`]).
    pub const fn max_version(&self) -> Version {
        self.allowed
    }

    /// The version the client announced last, if it did (dnh3.3.2: always 3).
    pub const fn announced_version(&self) -> Option<u32> {
        self.announced
    }

    /// The block being received, if any.
    pub fn open_block(&self) -> Option<BlockKind> {
        self.block.map(|b| b.kind)
    }

    /// The input capacity, `IN`.
    pub const fn input_capacity(&self) -> usize {
        IN
    }

    /// How many bytes [`handle_input`](Self::handle_input) takes now: read at most this
    /// much. Once every event is polled it is at least `IN` minus the longest line.
    pub const fn input_spare(&self) -> usize {
        self.input.spare()
    }

    /// How many lines wait for [`poll_transmit`](Self::poll_transmit).
    pub const fn queued_lines(&self) -> usize {
        self.out.len()
    }

    /// Whether the caller should close the connection now: the client failed
    /// authentication and every queued line (the `ERROR`) has been handed out.
    pub const fn should_close(&self) -> bool {
        matches!(self.state, ServerState::Rejected) && self.out.is_empty()
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, ServerState::Rejected | ServerState::Closed)
    }

    /// Takes `now` into account and returns the time to use: never earlier than any
    /// time given before.
    fn advance(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    // ---- commands ---------------------------------------------------------------------

    fn command(&mut self, msg: &ServerMessage<'_>) -> Result<(), UsageError> {
        if self.is_finished() {
            return Err(UsageError::invalid_state("command"));
        }
        if msg.encoded_len(self.version) > MAX_COMMAND_LEN.saturating_add(1) {
            return Err(UsageError::too_long("message"));
        }
        self.out.push(msg, self.version)
    }

    /// Queues `SENDSTATUS`; the client answers `CTSTATUS`.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::InvalidState`](crate::UsageErrorKind::InvalidState) once rejected or closed; [`UsageErrorKind::Full`](crate::UsageErrorKind::Full) when
    /// the transmit queue is full.
    pub fn request_status(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::SendStatus)
    }

    /// Queues `SENDPEERS`; the client answers with the peer block.
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn request_peers(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::SendPeers)
    }

    /// Queues `SENDDETAIL`; the client answers `CTDETAIL` and the file block.
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn request_detail(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::SendDetail)
    }

    /// Queues `SENDCONF`; the client answers with its configuration (a v3 block, or one
    /// positional line below 3).
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn request_config(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::SendConf)
    }

    /// Queues `SETDLIMIT bytes_per_s`: the download limit in **bytes/s** (0 = none;
    /// negative values are accepted by dnh3.3.2 and echoed). A seeding dnh3.3.2 ignores
    /// it unless it is lower than the current limit (measured from dnh3.3.2). The change shows in the
    /// next `CTBW`.
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn set_download_limit(&mut self, bytes_per_s: i32) -> Result<(), UsageError> {
        let digits = Decimal::of(bytes_per_s);
        let dl_limit =
            Text::new(digits.as_bytes()).map_err(|_| UsageError::invalid_value("bytes_per_s"))?;
        self.command(&ServerMessage::SetDlimit(SetDlimit { dl_limit }))
    }

    /// Queues `SETULIMIT bytes_per_s`: the upload limit in bytes/s (0 = none).
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn set_upload_limit(&mut self, bytes_per_s: i32) -> Result<(), UsageError> {
        let digits = Decimal::of(bytes_per_s);
        let ul_limit =
            Text::new(digits.as_bytes()).map_err(|_| UsageError::invalid_value("bytes_per_s"))?;
        self.command(&ServerMessage::SetUlimit(SetUlimit { ul_limit }))
    }

    /// Queues the version-3 `CTCONFIG name value`: set one option (names as the client
    /// lists them in its config block). The value is sent raw, not as
    /// `len:value`; an empty value is sent as `CTCONFIG name ` (with the blank dnh3.3.2
    /// needs, e.g. to clear `file_list`). dnh3.3.2 acknowledges nothing; it reports a bad
    /// value or an unknown name with a `CTINFO 2`.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::WrongVersion`](crate::UsageErrorKind::WrongVersion) unless the version in force is 3;
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if `name` is empty (a bare `CTCONFIG` crashes
    /// dnh3.3.2) or has a byte that is not graphic ASCII (a name of blanks — say a tab —
    /// would leave the client's tokenizer with no name, as a bare `CTCONFIG` does; option
    /// names are lower-case words), or if `value` contains NUL, CR or LF or starts with a
    /// blank (the client skips blanks after the name, so the value would not arrive as
    /// given); [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the line would exceed
    /// [`MAX_COMMAND_LEN`]; otherwise as [`request_status`](Self::request_status).
    pub fn set_config(&mut self, name: &[u8], value: &[u8]) -> Result<(), UsageError> {
        if self.is_finished() {
            return Err(UsageError::invalid_state("set_config"));
        }
        if !self.version.is_v3() {
            return Err(UsageError::wrong_version("set_config"));
        }
        if !name.iter().all(u8::is_ascii_graphic) {
            return Err(UsageError::invalid_value("name"));
        }
        let name = Word::new(name).map_err(|_| UsageError::invalid_value("name"))?;
        let value = Text::new(value).map_err(|_| UsageError::invalid_value("value"))?;
        if matches!(value.as_bytes().first(), Some(b' ' | b'\t')) {
            return Err(UsageError::invalid_value("value"));
        }
        self.command(&ServerMessage::CtConfig(CtConfigSet {
            name,
            value,
            spacing: Spacing::default(),
        }))
    }

    /// Queues the positional `CTCONFIG` of versions 0–2, with `.` for every field left
    /// [`Positional::Keep`] (fields the version's form lacks are not written; see
    /// [`CtConfigValues`]).
    ///
    /// **Warning:** the dnh3.3.2 client that Debian ships aborts (`free(): invalid
    /// pointer`, SIGABRT) after applying **every** well-formed positional `CTCONFIG`
    /// (measured from dnh3.3.2 at versions 1 and 2): a version 0–2 server cannot change
    /// options on that client. The later dTorrent code reads it correctly.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::WrongVersion`](crate::UsageErrorKind::WrongVersion) if the version in force is 3;
    /// [`UsageErrorKind::InvalidValue`](crate::UsageErrorKind::InvalidValue) if `verbose` is set to anything but a single digit
    /// (the client reads it as one byte at a fixed offset); otherwise as
    /// [`request_status`](Self::request_status).
    pub fn set_config_values(&mut self, values: &CtConfigValues<'_>) -> Result<(), UsageError> {
        if self.is_finished() {
            return Err(UsageError::invalid_state("set_config_values"));
        }
        if self.version.is_v3() {
            return Err(UsageError::wrong_version("set_config_values"));
        }
        if let Positional::Set(v) = values.verbose {
            if !(0..=9).contains(&v) {
                return Err(UsageError::invalid_value("verbose"));
            }
        }
        self.command(&ServerMessage::CtConfigValues(*values))
    }

    /// Queues `CTUPDATE`: the client announces to its tracker soon (15 s after its
    /// previous announce, measured from dnh3.3.2).
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn update(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::CtUpdate)
    }

    /// Queues `CTRESTART`: the client stops and restarts its tracker session.
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn restart(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::CtRestart)
    }

    /// Queues `CTQUIT`: the client quits as if stopped locally; it sends a final
    /// `CTSTATUS` (unless its tracker session never started) and closes the connection
    /// when it exits, up to ~15 s later (measured from dnh3.3.2).
    ///
    /// # Errors
    ///
    /// As [`request_status`](Self::request_status).
    pub fn quit(&mut self) -> Result<(), UsageError> {
        self.command(&ServerMessage::CtQuit)
    }

    // ---- outputs ----------------------------------------------------------------------

    /// Writes the next queued line, LF included, into `buf` and returns its length, or
    /// `None` when nothing is queued. One call, one whole line: dnh3.3.2 must get each
    /// command in one write (measured from dnh3.3.2, which acts on what one `recv`
    /// returned).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than the line (it stays queued); a buffer of
    /// [`MAX_TRANSMIT_LEN`](ServerSession::MAX_TRANSMIT_LEN) bytes always suffices.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        if self.state == ServerState::Closed {
            return Ok(None);
        }
        self.out.pop_into(buf)
    }

    /// The next deadline, if a timer is armed: call
    /// [`handle_timeout`](Self::handle_timeout) then. Never earlier than the `now` of the
    /// last `handle_timeout`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        let block = self.block.and_then(|b| b.deadline);
        [self.idle_at, self.poll_at, block]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next event, if any. When none waits, the next received line is acted on
    /// (state, version, blocks, timers, at the latest time given) and gives the next
    /// events. Events that borrow a
    /// line ([`ServerEvent::Hello`], [`ServerEvent::File`], …) borrow it from the
    /// session's input buffer until dropped.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent<'_>> {
        loop {
            if let Some(slot) = self.events.pop() {
                return Some(match slot {
                    Slot::Ready(event) => event,
                    Slot::Line(kind, version) => self.line_event(kind, version),
                });
            }
            if self.is_finished() {
                self.input.clear();
                return None;
            }
            let now = self.now;
            match self.input.next_line() {
                None => return None,
                Some(Err(e)) => self.on_bad_line(e),
                Some(Ok(_)) => self.on_line(now),
            }
        }
    }

    /// Decodes the held line again, as it was when it was acted on.
    fn line_event(&self, kind: LineKind, version: Version) -> ServerEvent<'_> {
        debug_assert!(self.input.line().is_some(), "a line event without its line");
        let line = self.input.line().unwrap_or_default();
        match (kind, ClientMessage::decode(line, version)) {
            (LineKind::Hello, Ok(ClientMessage::CtTorrent(t))) => ServerEvent::Hello(t),
            (LineKind::Info, Ok(ClientMessage::CtInfo(i))) => ServerEvent::Info(i),
            (LineKind::File, Ok(ClientMessage::CtFile(f))) => ServerEvent::File(f),
            (LineKind::Peer, Ok(ClientMessage::CtPeer(p))) => ServerEvent::Peer(p),
            (LineKind::Config, Ok(ClientMessage::CtConfig(c))) => ServerEvent::Config(c),
            (LineKind::ConfigValues, Ok(ClientMessage::CtConfigValues(c))) => {
                ServerEvent::ConfigValues(c)
            }
            (LineKind::InfoContinued, Ok(ClientMessage::Unknown(t))) => {
                ServerEvent::InfoContinued(t)
            }
            (LineKind::Unknown, _) => ServerEvent::Unknown(Text::from_line(line)),
            // The line decoded as `kind` when it was acted on, with the same version.
            _ => {
                debug_assert!(false, "the held line no longer decodes as {kind:?}");
                ServerEvent::Unknown(Text::from_line(line))
            }
        }
    }

    fn emit(&mut self, event: ServerEvent<'static>) {
        let pushed = self.events.push(Slot::Ready(event));
        debug_assert!(pushed, "EVENT_CAPACITY covers the worst case; see its docs");
    }

    fn emit_line(&mut self, kind: LineKind, version: Version) {
        let pushed = self.events.push(Slot::Line(kind, version));
        debug_assert!(pushed, "EVENT_CAPACITY covers the worst case; see its docs");
    }

    // ---- inputs -----------------------------------------------------------------------

    /// Bytes read from the connection at `now`, in any chunking: all are kept, or none.
    /// They re-arm the idle timer; their lines are acted on as
    /// [`poll_event`](Self::poll_event) reaches them. Once the session is rejected or
    /// closed, bytes are dropped.
    ///
    /// # Errors
    ///
    /// [`InputFull`] if `input` is longer than [`input_spare`](Self::input_spare): none of
    /// it was taken and nothing received before is lost; poll events, then offer it
    /// again.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<(), InputFull> {
        if self.is_finished() {
            self.advance(now);
            return Ok(());
        }
        self.input.push(input)?;
        self.arrived(now, input.len());
        Ok(())
    }

    /// The spare input room, to read into directly; then call
    /// [`commit_input`](Self::commit_input) with the number of bytes read.
    pub fn input_buf(&mut self) -> &mut [u8] {
        self.input.spare_mut()
    }

    /// Keeps `n` bytes read at `now` into [`input_buf`](Self::input_buf), as
    /// [`handle_input`](Self::handle_input) would.
    ///
    /// # Errors
    ///
    /// [`InputFull`] if `n` is larger than the room [`input_buf`](Self::input_buf) gave.
    pub fn commit_input(&mut self, now: Instant, n: usize) -> Result<(), InputFull> {
        self.input.commit(n)?;
        if self.is_finished() {
            self.advance(now);
            self.input.clear();
            return Ok(());
        }
        self.arrived(now, n);
        Ok(())
    }

    /// `n` bytes arrived at `now`.
    fn arrived(&mut self, now: Instant, n: usize) {
        let now = self.advance(now);
        if n == 0 {
            return;
        }
        self.last_input = now;
        self.idle_at = self.timers.idle.map(|d| now.saturating_add(d));
    }

    /// A line that could not be framed or decoded.
    fn on_bad_line(&mut self, e: DecodeError) {
        self.after_info = false;
        self.emit(ServerEvent::Error(InputError::Line(e)));
        if self.state == ServerState::AwaitingAuth {
            self.reject(AuthFailure::MissingPassword);
        }
    }

    /// Decodes the stored line and acts on it.
    fn on_line(&mut self, now: Instant) {
        let (seen, keyword, version) = {
            let line = self.input.line().unwrap_or_default();
            let (msg, version) = decode_lenient(line, self.version);
            let msg = match msg {
                Ok(m) => m,
                Err(e) => return self.on_bad_line(e),
            };
            let password = self.password.as_ref().map(Fill::as_slice);
            (classify(&msg, password), msg.keyword(version), version)
        };
        let continues_info = self.after_info;
        self.after_info = false;
        match (self.state, seen) {
            (ServerState::Rejected | ServerState::Closed, _) => {}
            (_, Seen::Protocol(n)) => self.on_protocol(n),
            (ServerState::AwaitingAuth, Seen::Auth { matches: true }) => {
                self.state = ServerState::AwaitingIdentity;
                self.emit(ServerEvent::Authenticated);
            }
            (ServerState::AwaitingAuth, Seen::Auth { matches: false }) => {
                self.reject(AuthFailure::WrongPassword);
            }
            (ServerState::AwaitingAuth, _) => self.reject(AuthFailure::MissingPassword),
            // No password configured, or already authenticated.
            (_, Seen::Auth { .. }) => {}
            (_, Seen::Hello) => {
                if self.state == ServerState::AwaitingIdentity {
                    self.state = ServerState::Ready;
                    self.poll_at = self.timers.poll.map(|d| now.saturating_add(d));
                }
                self.emit_line(LineKind::Hello, version);
            }
            (ServerState::AwaitingIdentity, Seen::Unknown) => {
                self.emit_line(LineKind::Unknown, version);
            }
            (ServerState::AwaitingIdentity, _) => {
                self.emit(ServerEvent::Error(InputError::NotIdentified { keyword }));
            }
            (ServerState::Ready, seen) => self.on_traffic(now, seen, version, continues_info),
        }
    }

    /// A line from an identified client.
    fn on_traffic(&mut self, now: Instant, seen: Seen, version: Version, continues_info: bool) {
        match seen {
            Seen::Status(status) => self.emit(ServerEvent::Status { status, version }),
            Seen::Bandwidth(bw) => self.emit(ServerEvent::Bandwidth(bw)),
            Seen::Detail(d) => self.emit(ServerEvent::Detail(d)),
            Seen::Info => {
                self.after_info = true;
                self.emit_line(LineKind::Info, version);
            }
            Seen::Unknown if continues_info => {
                self.after_info = true;
                self.emit_line(LineKind::InfoContinued, version);
            }
            Seen::Unknown => self.emit_line(LineKind::Unknown, version),
            Seen::Start(kind) => self.start_block(now, kind),
            Seen::Item(kind, line_kind) => self.block_item(now, kind, line_kind, version),
            Seen::End(kind) => self.end_block(kind),
            Seen::Positional => {
                self.start_block(now, BlockKind::Config);
                self.block_item(now, BlockKind::Config, LineKind::ConfigValues, version);
                self.end_block(BlockKind::Config);
            }
            // Handled for every state in `on_line`.
            Seen::Protocol(_) | Seen::Auth { .. } | Seen::Hello => {}
        }
    }

    fn on_protocol(&mut self, announced: u32) {
        self.announced = Some(announced);
        let theirs = Version::from_announced(announced).max(Version::V1);
        let v = theirs.min(self.allowed);
        if v < self.version {
            self.version = v;
            let confirm = ServerMessage::Protocol(Protocol {
                version: u32::from(v.get()),
            });
            // Only a full queue can refuse it; the client then keeps formatting for the
            // higher version, and lenient decoding still reads its lines.
            let _ = self.out.push(&confirm, v);
        }
        self.emit(ServerEvent::Protocol {
            announced,
            version: self.version,
        });
    }

    fn reject(&mut self, why: AuthFailure) {
        self.state = ServerState::Rejected;
        self.block = None;
        self.idle_at = None;
        self.poll_at = None;
        let error = ServerMessage::Error(ErrorMessage {
            message: AUTH_FAILED,
        });
        // dnh3.3.2 ignores ERROR; if the queue is full, closing says the same.
        let _ = self.out.push(&error, self.version);
        self.emit(ServerEvent::AuthFailed(why));
    }

    fn block_deadline(&self, now: Instant) -> Option<Instant> {
        self.timers.block.map(|d| now.saturating_add(d))
    }

    fn start_block(&mut self, now: Instant, kind: BlockKind) {
        if let Some(open) = self.block.take() {
            self.emit(ServerEvent::Error(InputError::UnterminatedBlock {
                block: open.kind,
                items: open.items,
                cause: Unterminated::Interrupted(kind),
            }));
        }
        self.block = Some(OpenBlock {
            kind,
            items: 0,
            deadline: self.block_deadline(now),
        });
        self.emit(ServerEvent::BlockBegin(kind));
    }

    fn block_item(&mut self, now: Instant, kind: BlockKind, line_kind: LineKind, v: Version) {
        let deadline = self.block_deadline(now);
        match &mut self.block {
            Some(open) if open.kind == kind => {
                open.items = open.items.saturating_add(1);
                open.deadline = deadline;
            }
            _ => self.emit(ServerEvent::Error(InputError::ItemOutsideBlock(kind))),
        }
        self.emit_line(line_kind, v);
    }

    fn end_block(&mut self, kind: BlockKind) {
        match self.block {
            Some(open) if open.kind == kind => {
                self.block = None;
                self.emit(ServerEvent::BlockEnd {
                    block: kind,
                    items: open.items,
                });
            }
            _ => self.emit(ServerEvent::Error(InputError::UnexpectedBlockEnd(kind))),
        }
    }

    /// Fires the timers whose deadline is `now` or earlier; does nothing before the
    /// earliest deadline, or when called twice. Poll the events first: a line still
    /// waiting in the input buffer has not been acted on, so it does not count as the
    /// next line of an open block.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance(now);
        if self.is_finished() {
            return;
        }
        if self.idle_at.is_some_and(|at| at <= now) {
            self.idle_at = None;
            self.emit(ServerEvent::Idle {
                last_input: self.last_input,
            });
        }
        if let Some(open) = self.block {
            if open.deadline.is_some_and(|at| at <= now) {
                self.block = None;
                self.emit(ServerEvent::Error(InputError::UnterminatedBlock {
                    block: open.kind,
                    items: open.items,
                    cause: Unterminated::TimedOut,
                }));
            }
        }
        if let (Some(at), Some(period)) = (self.poll_at, self.timers.poll) {
            if at <= now {
                // A full queue skips this poll; the next comes one period later.
                let _ = self.out.push(&ServerMessage::SendStatus, self.version);
                let next = at.saturating_add(period);
                self.poll_at = Some(if next > now {
                    next
                } else {
                    now.saturating_add(period)
                });
            }
        }
    }

    /// The connection ended (end of file, a failed read or write, or the caller closed
    /// it). An open block is reported as unterminated, then [`ServerEvent::Closed`]; the
    /// queued lines are dropped, timers stop, commands are refused, input is ignored.
    pub fn handle_closed(&mut self) {
        if self.state == ServerState::Closed {
            return;
        }
        if let Some(open) = self.block.take() {
            self.emit(ServerEvent::Error(InputError::UnterminatedBlock {
                block: open.kind,
                items: open.items,
                cause: Unterminated::Closed,
            }));
        }
        self.state = ServerState::Closed;
        self.out.clear();
        self.idle_at = None;
        self.poll_at = None;
        self.emit(ServerEvent::Closed);
    }
}

/// Decodes `line` under `primary`, or, if that gives an error or an unknown keyword,
/// under the first of 3, 2, 1 that gives a known message (see "Versions" in the module
/// docs). Returns the result and the version used.
fn decode_lenient(
    line: &[u8],
    primary: Version,
) -> (Result<ClientMessage<'_>, DecodeError>, Version) {
    let first = ClientMessage::decode(line, primary);
    if matches!(first, Ok(ref m) if !matches!(m, ClientMessage::Unknown(_))) {
        return (first, primary);
    }
    for alt in [Version::V3, Version::V2, Version::V1] {
        if alt == primary {
            continue;
        }
        if let Ok(m) = ClientMessage::decode(line, alt) {
            if !matches!(m, ClientMessage::Unknown(_)) {
                return (Ok(m), alt);
            }
        }
    }
    (first, primary)
}

/// What `msg` is, without borrowing it; `password` is the configured one, if any.
fn classify(msg: &ClientMessage<'_>, password: Option<&[u8]>) -> Seen {
    match msg {
        ClientMessage::Protocol(p) => Seen::Protocol(p.version),
        ClientMessage::Auth(a) => Seen::Auth {
            matches: password.is_some_and(|pw| ct_eq(a.password.as_bytes(), pw)),
        },
        ClientMessage::CtTorrent(_) => Seen::Hello,
        ClientMessage::CtStatus(s) => Seen::Status(*s),
        ClientMessage::CtBw(b) => Seen::Bandwidth(*b),
        ClientMessage::CtInfo(_) => Seen::Info,
        ClientMessage::CtDetail(d) => Seen::Detail(*d),
        ClientMessage::CtFileStart => Seen::Start(BlockKind::Files),
        ClientMessage::CtFile(_) => Seen::Item(BlockKind::Files, LineKind::File),
        ClientMessage::CtFilesDone => Seen::End(BlockKind::Files),
        ClientMessage::CtPeerStart => Seen::Start(BlockKind::Peers),
        ClientMessage::CtPeer(_) => Seen::Item(BlockKind::Peers, LineKind::Peer),
        ClientMessage::CtPeersDone => Seen::End(BlockKind::Peers),
        ClientMessage::CtConfigStart => Seen::Start(BlockKind::Config),
        ClientMessage::CtConfig(_) => Seen::Item(BlockKind::Config, LineKind::Config),
        ClientMessage::CtConfigDone => Seen::End(BlockKind::Config),
        ClientMessage::CtConfigValues(_) => Seen::Positional,
        ClientMessage::Unknown(_) => Seen::Unknown,
    }
}

/// The decimal text of an `i32`, on the stack.
struct Decimal(Fill<12>);

impl Decimal {
    fn of(v: i32) -> Self {
        let mut d = Decimal(Fill::new());
        let written = write!(d, "{v}");
        debug_assert!(
            written.is_ok(),
            "\"-2147483648\" is 11 bytes: it always fits"
        );
        d
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl core::fmt::Write for Decimal {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if self.0.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(core::fmt::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(line: &[u8], primary: Version) -> Option<Version> {
        match decode_lenient(line, primary) {
            (Ok(ClientMessage::Unknown(_)) | Err(_), _) => None,
            (Ok(_), v) => Some(v),
        }
    }

    #[test]
    fn lenient_decoding_prefers_the_version_in_force() {
        let v3_status = b"CTSTATUS 0:0/0:0/0 13/13/13 0,0 0,0 0,0 0";
        let v1_status = b"CTSTATUS 0/0 13/13/13 0,0 0,0 0,0";
        assert_eq!(used(v3_status, Version::V1), Some(Version::V3));
        assert_eq!(used(v3_status, Version::V2), Some(Version::V2));
        assert_eq!(used(v1_status, Version::V3), Some(Version::V1));
        assert_eq!(used(v1_status, Version::V0), Some(Version::V1));
        assert_eq!(used(b"CTFILES", Version::V3), Some(Version::V2));
        assert_eq!(used(b"CTFILESTART", Version::V1), Some(Version::V3));
        assert_eq!(
            used(b"CTCONFIG 1 72 0.000000 100 1 0 1 0", Version::V3),
            Some(Version::V2)
        );
        assert_eq!(
            used(b"CTCONFIG 1 72 0.000000 100 1 0 0 0 0", Version::V3),
            Some(Version::V1)
        );
        // Unknown and malformed lines stay what they are under the version in force.
        assert_eq!(used(b"with an embedded newline", Version::V3), None);
        let (r, v) = decode_lenient(b"CTBW 1", Version::V2);
        assert!(r.is_err());
        assert_eq!(v, Version::V2);
    }

    #[test]
    fn decimal_text() {
        assert_eq!(Decimal::of(0).as_bytes(), b"0");
        assert_eq!(Decimal::of(-5).as_bytes(), b"-5");
        assert_eq!(Decimal::of(i32::MIN).as_bytes(), b"-2147483648");
        assert_eq!(Decimal::of(i32::MAX).as_bytes(), b"2147483647");
    }
}
