//! What a [`ServerSession`](super::ServerSession) reports: events, and the errors in the
//! client's stream that it reports as events.

use core::fmt;

use crate::ctcs::field::Text;
use crate::ctcs::message::{
    CtBw, CtConfig, CtConfigValues, CtDetail, CtFile, CtInfo, CtPeer, CtStatus, CtTorrent,
};
use crate::ctcs::version::Version;
use crate::error::DecodeError;
use crate::time::Instant;

/// The three kinds of block the client sends.
///
/// | block | v3 markers | v0–v2 markers | item |
/// |---|---|---|---|
/// | [`Files`](BlockKind::Files) (after `CTDETAIL`) | `CTFILESTART` … `CTFILESDONE` | `CTFILES` … `CTFDONE` | `CTFILE` |
/// | [`Peers`](BlockKind::Peers) | `CTPEERSTART` … `CTPEERSDONE` | `CTPEERS` … `CTPDONE` | `CTPEER` |
/// | [`Config`](BlockKind::Config) | `CTCONFIGSTART` … `CTCONFIGDONE` | none: one positional `CTCONFIG` line | `CTCONFIG` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockKind {
    /// The file list, the second half of the answer to `SENDDETAIL`.
    Files,
    /// The peer list, the answer to `SENDPEERS`.
    Peers,
    /// The configuration, the answer to `SENDCONF` or unsolicited.
    Config,
}

impl BlockKind {
    /// A stable lowercase name: `files`, `peers`, `config`.
    pub const fn name(self) -> &'static str {
        match self {
            BlockKind::Files => "files",
            BlockKind::Peers => "peers",
            BlockKind::Config => "config",
        }
    }
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a client failed authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// `AUTH` carried a different password.
    WrongPassword,
    /// A line other than `PROTOCOL` or `AUTH` came first (or `AUTH` without a
    /// password field).
    MissingPassword,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFailure::WrongPassword => "wrong password",
            AuthFailure::MissingPassword => "no password",
        })
    }
}

/// How a block ended without its end marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unterminated {
    /// The start of another block (given) arrived first.
    Interrupted(BlockKind),
    /// No line of the block arrived for [`ServerConfig::block_timeout`](super::ServerConfig::block_timeout).
    TimedOut,
    /// The connection closed.
    Closed,
}

/// Something wrong in what the client sent. The session reports it as
/// [`ServerEvent::Error`] and goes on: nothing here is sticky.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputError {
    /// A line could not be framed (over-long: [`LineTooLong`], or with a NUL byte:
    /// [`NulByte`]) or decoded; it was dropped. Framing goes on at the next line end, so
    /// nothing after it is lost. The offset is relative to the start of the line.
    ///
    /// [`LineTooLong`]: crate::DecodeErrorKind::LineTooLong
    /// [`NulByte`]: crate::DecodeErrorKind::NulByte
    Line(DecodeError),
    /// A status, bandwidth, info, detail or block line (its keyword given) arrived
    /// before `CTORRENT`; it was dropped.
    NotIdentified {
        /// The line's keyword.
        keyword: &'static str,
    },
    /// An item arrived while its block was not open; it is still reported, right
    /// after this error.
    ItemOutsideBlock(BlockKind),
    /// An end marker arrived while its block was not open; it was dropped (an open
    /// block of another kind stays open).
    UnexpectedBlockEnd(BlockKind),
    /// A block ended without its end marker. It replaces the block's
    /// [`ServerEvent::BlockEnd`]: every [`ServerEvent::BlockBegin`] is followed by
    /// exactly one of the two.
    UnterminatedBlock {
        /// The block.
        block: BlockKind,
        /// How many items it had.
        items: u32,
        /// What ended it.
        cause: Unterminated,
    },
}

impl InputError {
    /// A stable snake_case name for the error, without its payload.
    pub const fn name(&self) -> &'static str {
        match self {
            InputError::Line(_) => "line",
            InputError::NotIdentified { .. } => "not_identified",
            InputError::ItemOutsideBlock(_) => "item_outside_block",
            InputError::UnexpectedBlockEnd(_) => "unexpected_block_end",
            InputError::UnterminatedBlock { .. } => "unterminated_block",
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Line(e) => write!(f, "bad line: {e}"),
            InputError::NotIdentified { keyword } => {
                write!(f, "{keyword} before CTORRENT, dropped")
            }
            InputError::ItemOutsideBlock(b) => write!(f, "{b} item outside its block"),
            InputError::UnexpectedBlockEnd(b) => write!(f, "end of {b} block that is not open"),
            InputError::UnterminatedBlock {
                block,
                items,
                cause,
            } => {
                write!(
                    f,
                    "{block} block ended after {items} items without its end marker ("
                )?;
                match cause {
                    Unterminated::Interrupted(b) => write!(f, "a {b} block started)"),
                    Unterminated::TimedOut => f.write_str("timed out)"),
                    Unterminated::Closed => f.write_str("connection closed)"),
                }
            }
        }
    }
}

impl core::error::Error for InputError {}

/// What happened on the connection; from [`ServerSession::poll_event`](super::ServerSession::poll_event).
///
/// Variants with a lifetime borrow the line they came from, which the session keeps
/// until the event has been taken and the next input is handled.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent<'a> {
    /// The client announced its version (`PROTOCOL 0003` from dnh3.3.2, always).
    Protocol {
        /// The number it sent.
        announced: u32,
        /// The version in force from now on: `min(announced, ours)` (an announced 0 counts
        /// as 1). When it is lower than ours the session confirms it with a `PROTOCOL`
        /// line of its own.
        version: Version,
    },
    /// The client's `AUTH` carried the configured password.
    Authenticated,
    /// The client failed authentication. The session queued `ERROR Authentication
    /// failed` and ignores everything else: transmit what is queued, then close the
    /// connection ([`ServerSession::should_close`](super::ServerSession::should_close)).
    AuthFailed(AuthFailure),
    /// `CTORRENT`: the client identified itself; status traffic is accepted from now on.
    Hello(CtTorrent<'a>),
    /// `CTSTATUS`, requested or not (the two cannot be told apart).
    Status {
        /// The values (fields the form lacks are 0).
        status: CtStatus,
        /// The version whose form the line had: `CTSTATUS` is accepted in both forms at
        /// any time (see the module docs), and in the version-1 form the tracker totals,
        /// `connecting` and `cache_used` are absent.
        version: Version,
    },
    /// `CTBW`: rates and limits, sent every second while they change.
    Bandwidth(CtBw),
    /// `CTINFO`: a client warning.
    Info(CtInfo<'a>),
    /// A line without keyword right after a `CTINFO` (or another such line): the rest
    /// of a warning whose text held a newline (measured from dnh3.3.2).
    InfoContinued(Text<'a>),
    /// `CTDETAIL`: torrent totals; the file block follows.
    Detail(CtDetail),
    /// A block started.
    BlockBegin(BlockKind),
    /// `CTFILE`: one file of the file block.
    File(CtFile<'a>),
    /// `CTPEER`: one peer of the peer block.
    Peer(CtPeer<'a>),
    /// The v3 self-describing `CTCONFIG`: one option of the config block.
    Config(CtConfig<'a>),
    /// The positional `CTCONFIG` of versions 0–2, the only item of its config block
    /// (reported between a `BlockBegin` and a `BlockEnd` of its own).
    ConfigValues(CtConfigValues<'a>),
    /// A block ended with its end marker.
    BlockEnd {
        /// The block.
        block: BlockKind,
        /// How many items it had.
        items: u32,
    },
    /// A line with an unknown keyword (kept whole).
    Unknown(Text<'a>),
    /// Nothing was received for [`ServerConfig::idle_timeout`](super::ServerConfig::idle_timeout)
    /// (reported once per silence).
    Idle {
        /// When the last bytes arrived (or the session started).
        last_input: Instant,
    },
    /// Something wrong in the client's stream; the session goes on.
    Error(InputError),
    /// [`ServerSession::handle_closed`](super::ServerSession::handle_closed) was called; the last event.
    Closed,
}

impl ServerEvent<'_> {
    /// A stable snake_case name for the event kind.
    pub const fn name(&self) -> &'static str {
        match self {
            ServerEvent::Protocol { .. } => "protocol",
            ServerEvent::Authenticated => "authenticated",
            ServerEvent::AuthFailed(_) => "auth_failed",
            ServerEvent::Hello(_) => "hello",
            ServerEvent::Status { .. } => "status",
            ServerEvent::Bandwidth(_) => "bandwidth",
            ServerEvent::Info(_) => "info",
            ServerEvent::InfoContinued(_) => "info_continued",
            ServerEvent::Detail(_) => "detail",
            ServerEvent::BlockBegin(_) => "block_begin",
            ServerEvent::File(_) => "file",
            ServerEvent::Peer(_) => "peer",
            ServerEvent::Config(_) => "config",
            ServerEvent::ConfigValues(_) => "config_values",
            ServerEvent::BlockEnd { .. } => "block_end",
            ServerEvent::Unknown(_) => "unknown",
            ServerEvent::Idle { .. } => "idle",
            ServerEvent::Error(_) => "error",
            ServerEvent::Closed => "closed",
        }
    }
}
