//! CTCS: the line protocol between Enhanced CTorrent (dnh3.x, "ctorrent") and the
//! CTorrent Control Server, protocol versions 1, 2 and 3 — framing, fields and every
//! message in both directions.
//!
//! Everything here follows what the real client (Debian's dnh3.3.2) does on the wire;
//! where the seed protocol page disagrees, the client wins, and the seed's forms are
//! still accepted (e.g. the positional server `CTCONFIG` with `.`).
//!
//! ```
//! use trackwire::ctcs::{ClientMessage, Framer, ServerMessage, Version};
//!
//! // Framing: the caller keeps the receive buffer and drops what was consumed.
//! let stream = b"PROTOCOL 0003\nCTBW 8190,0 4096,2048\nCTBW";
//! let mut framer = Framer::default();
//! let mut limits = Vec::new();
//! let mut lines = framer.lines(stream);
//! for line in &mut lines {
//!     if let ClientMessage::CtBw(bw) = ClientMessage::decode(line?, Version::V3)? {
//!         limits.push((bw.dl_limit, bw.ul_limit));
//!     }
//! }
//! assert_eq!(limits, [(4096, 2048)]);
//! assert_eq!(lines.rest(), b"CTBW"); // a partial line: keep it, read more
//!
//! // Encoding: into the caller's buffer, LF appended.
//! let mut buf = [0u8; 64];
//! let n = ServerMessage::SendStatus.encode(Version::V3, &mut buf).unwrap();
//! assert_eq!(&buf[..n], b"SENDSTATUS\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
//! # Framing
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
//!   one bit of state ("discarding the rest of an over-long line"), and
//!   [`Framer::lines`] iterates over every complete line of the buffer.
//! * [`LineBuffer`]: a bounded input buffer that takes TCP chunks of any size (or is read
//!   into directly) and lends out its complete lines ([`LineBuffer::lines`]); the
//!   sessions keep their input in one.
//!
//! Error offsets are relative to the start of the line.
//!
//! # Fields
//!
//! A CTCS line is a keyword followed by fields separated by **one** space. The field
//! shapes are:
//!
//! | shape | example | type here |
//! |---|---|---|
//! | word | `verbose`, `-CD0303-0x07E5…` | [`Word`] |
//! | decimal integer | `-5`, `800000` | `i32` (C `int`), `i64` (C `long`), `u64` (`%llu` totals) |
//! | float | `0.000000`, `1.5` | [`Float`] (text, with [`Float::to_f64`]) |
//! | pair / triple | `4095,0`, `13/13/13` | tuples / message fields |
//! | status peers | `1:0/0:1/0` | [`CtStatus`] fields |
//! | `len:value` | `15:Upload:Download`, `0:` | [`Text`] (the length is implied) |
//! | placeholder | `.` | [`Positional::Keep`] |
//! | rest of line | `multi dir.torrent` | [`Text`] |
//!
//! Text is bytes: file names, paths and peer ids are not always UTF-8. [`Text`] and
//! [`Word`] can only hold bytes that fit in a line (no NUL, CR or LF; a word also has no
//! space and is not empty), so every value a caller can build encodes to a line the real
//! client reads back as the same value: the checks happen once, in the constructors.
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
//! * **CR, LF or CRLF end a line; empty lines are skipped** ([`Framer`]): dnh3.3.2 ends a
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

mod buf;
mod client;
mod field;
mod line;
mod message;
#[cfg(feature = "heapless")]
mod owned;
mod peer_id;
mod scan;
mod server;
mod version;

pub use client::{
    ClientEvent, ClientSession, ClientSessionConfig, ClientState, MAX_CTPEER_LINE,
    MAX_TORRENT_PATH_LEN,
};
pub use field::{Float, InvalidText, Positional, Text, Word};
pub use line::{
    split_line, BufferedLines, Framer, InputFull, LineBuffer, Lines, Split, Status,
    DEFAULT_MAX_LINE_LEN,
};
pub use message::{
    Auth, ClientMessage, ConfigType, CtBw, CtConfig, CtConfigSet, CtConfigValues, CtDetail, CtFile,
    CtInfo, CtPeer, CtStatus, CtTorrent, ErrorMessage, KeywordMatch, PeerFlags, Protocol,
    ServerMessage, SetDlimit, SetUlimit, Spacing,
};
#[cfg(feature = "heapless")]
pub use owned::{OwnedText, OwnedWord};
pub use peer_id::PeerIdText;
pub use server::{
    AuthFailure, BlockKind, InputError, ServerConfig, ServerEvent, ServerSession, ServerState,
    Unterminated, DEFAULT_BLOCK_TIMEOUT, MAX_COMMAND_LEN, MAX_QUEUED_LINES,
};
pub use version::Version;

/// The longest password either session handles, in bytes: dnh3.3.2 reads the password
/// with `fgets` into a 21-byte buffer (`CTCS_PASS_SIZE`) and so sends at most 20 bytes
/// (measured from dnh3.3.2, Debian's ctorrent: 25 typed bytes arrive as 20). A
/// [`ClientSession`] cuts a longer password to 20 as the real client does; a
/// [`ServerSession`] refuses a longer one, which no such client could ever send.
pub const MAX_PASSWORD_LEN: usize = 20;

/// The default input capacity of both sessions, in bytes: room for the longest line
/// ([`DEFAULT_MAX_LINE_LEN`] plus its end) and as much again, so that a driver can read
/// a long line's successor while the line's events wait to be polled.
pub const DEFAULT_INPUT_CAPACITY: usize = 8 * 1024;

/// The default output capacity of both sessions, in bytes. The client queues each reply
/// whole, so its queue must hold the longest reply it sends: 16 KiB holds a v3
/// configuration block with long values or a peer list of about 200 peers. A server
/// session queues single commands (at most [`MAX_QUEUED_LINES`]) and can do with less:
/// give it another capacity with [`ServerSession::new_sized`].
pub const DEFAULT_OUTPUT_CAPACITY: usize = 16 * 1024;
