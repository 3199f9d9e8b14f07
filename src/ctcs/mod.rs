//! CTCS: the line protocol between Enhanced CTorrent (dnh3.x, "ctorrent") and the
//! CTorrent Control Server, protocol versions 1, 2 and 3 — framing, fields and every
//! message in both directions.
//!
//! Everything here follows what the real client (Debian's dnh3.3.2) does on the wire;
//! where the seed protocol page disagrees, the client wins, and the seed's forms are
//! still accepted (e.g. the positional server `CTCONFIG` with `.`).
//!
//! ```
//! use trackwire::ctcs::{ClientMessage, Framer, ServerMessage, Status, Version};
//!
//! // Framing: the caller keeps the receive buffer and drops what was consumed.
//! let stream = b"PROTOCOL 0003\nCTBW 8190,0 4096,2048\n";
//! let mut framer = Framer::default();
//! let mut rest = &stream[..];
//! let mut limits = Vec::new();
//! loop {
//!     let split = framer.split(rest);
//!     rest = &rest[split.consumed..];
//!     let Status::Complete(line) = split.status else { break };
//!     match ClientMessage::decode(line.unwrap(), Version::V3).unwrap() {
//!         ClientMessage::CtBw(bw) => limits.push((bw.dl_limit, bw.ul_limit)),
//!         _ => {}
//!     }
//! }
//! assert_eq!(limits, [(4096, 2048)]);
//!
//! // Encoding: into the caller's buffer, LF appended.
//! let mut buf = [0u8; 64];
//! let n = ServerMessage::SendStatus.encode(Version::V3, &mut buf).unwrap();
//! assert_eq!(&buf[..n], b"SENDSTATUS\n");
//! ```
//!
//! # Grammar
//!
//! ```text
//! stream  = *( line end / end )          ; empty lines are skipped
//! end     = LF / CR / CR LF              ; the client sends LF; servers may send any
//! line    = keyword *( SP field )        ; ≤ 4294 bytes by default, no NUL
//! field   = word                         ; no space: names, peer ids, flags, numbers
//!         / int "," int / int "/" int "/" int
//!         / int ":" int "/" int ":" int "/" int   ; CTSTATUS peers, v2/v3
//!         / len ":" len-bytes            ; v3 client CTCONFIG strings, may hold spaces
//!         / "."                          ; positional CTCONFIG: leave unchanged
//!         / rest-of-line                 ; file names, paths, free text: last field
//! ```
//!
//! # Versions
//!
//! The client starts at 3 and adopts the server's `PROTOCOL` value clamped to 3 from
//! above ([`Version`]); 0 (from `PROTOCOL 0000` or a non-number) is a real, mixed state.
//! The version survives reconnection, so a server should send `PROTOCOL` every time.
//!
//! | message | 3 | 2 | 1 | 0 |
//! |---|---|---|---|---|
//! | `CTSTATUS` | `S:TS/L:TL/C … K` | same | `S/L …` (no TS, TL, C, K) | as 3 |
//! | file block | `CTFILESTART` … `CTFILESDONE` | `CTFILES` … `CTFDONE` | same | same |
//! | `CTFILE` | `n prio cur pieces have avail size name` | `n pieces have avail size name` | `n pieces have size name` | as 1 |
//! | peer block | `CTPEERSTART` … `CTPEERSDONE` | `CTPEERS` … `CTPDONE` | same | same |
//! | client `CTCONFIG` | `CTCONFIGSTART`, `name type range len:value len:short len:long` …, `CTCONFIGDONE` | 8 positional fields | 9 positional fields | as 1 |
//! | server `CTCONFIG` | `name value` (raw rest of line) | 8 positional fields | 9 | 7 |
//!
//! # Leniencies, and the client facts behind them
//!
//! * **CR, LF or CRLF end a line; empty lines are skipped** ([`line`](mod@line)): dnh3.3.2 ends a
//!   server line at the first CR or LF, and itself sends `AUTH pw\n\n` (the password
//!   keeps the newline `fgets` read).
//! * **An over-long or NUL-bearing line is an error for that line only**: dnh3.3.2 sends
//!   a NUL after a truncated 4295-byte line, so the following line starts with `\0`.
//! * **Unknown keywords and continuation lines decode as `Unknown`**, not as errors: the
//!   client ignores unknown server lines, and a tracker message with a newline splits a
//!   client `CTINFO` into two lines.
//! * **`PROTOCOL` takes any run of digits** (`PROTOCOL 2` works: the client uses `atoi`).
//! * **Server `CTCONFIG` blanks**: any number of spaces before and after the name, kept
//!   in [`Spacing`] so the line re-encodes exactly.
//! * **`SETDLIMIT`/`SETULIMIT` arguments are kept as text** (`1.5e3`, `2048.9`, `-5`,
//!   `abc` all occur); [`SetDlimit::applied`] computes the client's `(int)strtod`.
//! * **Prefix keyword matching** ([`KeywordMatch::Prefix`]) mimics the client's
//!   `strncmp` dispatch (`CTQUITTER` quits); exact matching is the default.
//! * **Numbers with leading zeros** are accepted; encoders write canonical decimals.
//!
//! # Encoding
//!
//! Encoders write into the caller's buffer, append LF, and leave the buffer untouched if
//! it is too small (`encoded_len` says how much is needed). Values the real client
//! would choke on cannot be built: [`Text`] refuses NUL, CR and LF, [`Word`] also
//! refuses spaces and emptiness (so a server `CTCONFIG` always has a name), [`Float`]
//! refuses what the client's positional parser would misread.

mod allocator;
mod buf;
pub mod client;
pub mod field;
pub mod line;
pub mod message;
pub mod peer_id;
mod scan;
pub mod server;
pub mod version;

pub use allocator::{
    Allocator, AllocatorConfig, ClientReport, LimitCommand, LimitDirection, LimitPolicy,
    TorrentPolicy, TransferTotals, DEFAULT_ALLOCATOR_CAPACITY, DEFAULT_CHANGE_INTERVAL,
    DEFAULT_COMPLETION_GRACE, MAX_LIMIT, MIN_STEP,
};
pub use client::{ClientEvent, ClientSession, ClientSessionConfig, ClientState};
pub use field::{Float, InvalidText, Positional, Text, Word};
pub use line::{split_line, Feed, Framer, LineBuffer, Split, Status, DEFAULT_MAX_LINE_LEN};
pub use message::{
    strtod_int, Auth, ClientMessage, ConfigType, CtBw, CtConfig, CtConfigSet, CtConfigValues,
    CtDetail, CtFile, CtInfo, CtPeer, CtStatus, CtTorrent, ErrorMessage, KeywordMatch, PeerFlags,
    Protocol, ServerMessage, SetDlimit, SetUlimit, Spacing,
};
pub use peer_id::PeerIdText;
pub use server::{
    AuthFailure, BlockKind, InputError, ServerConfig, ServerEvent, ServerSession, ServerState,
    Unterminated,
};
pub use version::Version;
