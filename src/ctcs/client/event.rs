//! What a [`ClientSession`](super::ClientSession) asks of its caller, and the state it
//! shows.

use crate::ctcs::field::Text;
use crate::ctcs::message::{CtConfigSet, CtConfigValues};
use crate::ctcs::version::Version;
use crate::error::DecodeError;

/// Something the caller must know or do, from
/// [`ClientSession::poll_event`](super::ClientSession::poll_event).
///
/// Events made from a server line borrow it from the session (`'a`); copy what you need
/// before calling the next `&mut` method.
///
/// Requests (`*Requested`) are answered with the matching `send_*` method; nothing
/// forces an answer (the server cannot tell a missing one from a slow one), but the real
/// client always answers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent<'a> {
    /// A connection was opened ([`handle_connected`](super::ClientSession::handle_connected))
    /// and `PROTOCOL 0003`, `AUTH` and `CTORRENT` are queued. Answer with
    /// [`send_status`](super::ClientSession::send_status): dnh3.3.2 sends a first
    /// `CTSTATUS` right after them.
    Connected,
    /// The back-off after a close or a failed connect is over: open a new TCP connection,
    /// then call [`handle_connected`](super::ClientSession::handle_connected) or
    /// [`handle_connect_failed`](super::ClientSession::handle_connect_failed).
    Reconnect,
    /// `SENDSTATUS`: answer with [`send_status`](super::ClientSession::send_status).
    StatusRequested,
    /// `SENDDETAIL`: answer with [`send_detail`](super::ClientSession::send_detail).
    DetailRequested,
    /// `SENDPEERS`: answer with [`send_peers`](super::ClientSession::send_peers).
    PeersRequested,
    /// `SENDCONF`: answer with [`send_config`](super::ClientSession::send_config).
    ConfigRequested,
    /// `SETDLIMIT`: the server sets the download limit.
    DownloadLimit {
        /// The limit in bytes/s as dnh3.3.2 computes it, `(int)strtod(arg)`
        /// ([`SetDlimit::applied`](crate::ctcs::SetDlimit::applied)): `2048.9` is 2048,
        /// `1.5e3` is 1500, `abc` is 0 (unlimited), negatives stay negative. dnh3.3.2
        /// ignores a new download limit while it is a seed unless it is lower than the
        /// current one; that policy is the caller's. No reply: the next `CTBW` shows it.
        limit: i32,
        /// The argument as sent.
        text: Text<'a>,
    },
    /// `SETULIMIT`: the server sets the upload limit; see [`ClientEvent::DownloadLimit`]
    /// (without the seed rule).
    UploadLimit {
        /// The limit in bytes/s as dnh3.3.2 computes it.
        limit: i32,
        /// The argument as sent.
        text: Text<'a>,
    },
    /// The v3 `CTCONFIG name value`: set one option. The value is the raw rest of the
    /// line. dnh3.3.2 answers a bad value with `CTINFO 2 Malformed or invalid input from
    /// CTCS: <line>` and an unknown name with `CTINFO 2 Unknown config option <name> from
    /// CTCS` ([`send_info`](super::ClientSession::send_info)); a good one is not
    /// acknowledged.
    ConfigSet(CtConfigSet<'a>),
    /// The positional `CTCONFIG` of versions 0–2 (`.` = leave unchanged). dnh3.3.2
    /// aborts on every well-formed one (`free(): invalid pointer`); this session reports
    /// it instead, and applying it is the caller's choice.
    ConfigValues(CtConfigValues<'a>),
    /// `CTQUIT`: quit as if stopped locally. dnh3.3.2 sends a final `CTSTATUS`, tells
    /// its tracker it stops, exits and so closes the connection; with
    /// [`stop`](super::ClientSession::stop) the session does not reconnect.
    Quit,
    /// `CTRESTART`: restart the tracker session (no reply).
    Restart,
    /// `CTUPDATE`: announce to the tracker soon (no reply).
    Update,
    /// A server `PROTOCOL` line: the session now formats for `version` (already in
    /// force). It is not answered (the real client never answers it).
    Protocol {
        /// The version in force from now on.
        version: Version,
        /// The version before this line.
        previous: Version,
    },
    /// A line with an unknown keyword, `ERROR …` included: the real client ignores it.
    Unknown(Text<'a>),
    /// A line the session could not read: longer than
    /// [`DEFAULT_MAX_LINE_LEN`](crate::ctcs::DEFAULT_MAX_LINE_LEN), holding a NUL (which
    /// wedges dnh3.3.2's reader for good; here only that line is lost), or with a known
    /// keyword and bad arguments (a bare `CTCONFIG`, which crashes dnh3.3.2; `CTCONFIG
    /// name` without a value; extra words after `SENDSTATUS` with exact matching).
    Malformed {
        /// What is wrong, with its offset in the line.
        error: DecodeError,
        /// The line, when it could be kept (not for over-long or NUL-bearing lines).
        line: Option<Text<'a>>,
    },
}

/// Where a session stands (dnh3.3.2's FREE → CONNECTING → READY → FREE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientState {
    /// No connection and no reconnect planned: after [`stop`](super::ClientSession::stop).
    Idle,
    /// No connection; a reconnect is due at [`poll_timeout`](super::ClientSession::poll_timeout)
    /// (FREE with back-off).
    BackOff,
    /// The caller is opening a connection: at start, and after [`ClientEvent::Reconnect`].
    Connecting,
    /// Connected: lines flow both ways.
    Ready,
}
