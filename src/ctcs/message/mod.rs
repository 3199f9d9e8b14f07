//! Typed CTCS messages, both directions, every protocol version.
//!
//! [`ClientMessage`] is what ctorrent sends, [`ServerMessage`] what a CTCS sends. Both
//! decode one line (as [`line`](super::line) frames it, terminator optional) under the
//! [`Version`] in force on the connection, and encode under a version, appending LF.
//!
//! Parts shared by both directions live here: line checks, [`Protocol`], the
//! positional `CTCONFIG` ([`CtConfigValues`]) and [`KeywordMatch`].

mod client;
mod server;

pub use client::{
    Auth, ClientMessage, ConfigType, CtBw, CtConfig, CtDetail, CtFile, CtInfo, CtPeer, CtStatus,
    CtTorrent, PeerFlags,
};
pub use server::{CtConfigSet, ErrorMessage, ServerMessage, SetDlimit, SetUlimit, Spacing};

use super::field::{Fields, Float, Out, Positional};
use super::version::Version;
use crate::ctcs::scan::TextScan;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::Reader;

/// How a server line's keyword is recognised.
///
/// dnh3.3.2 compares only the keyword's length of bytes (`strncmp`), case-sensitively, in
/// a fixed order (`SETDLIMIT`, `SETULIMIT`, `SENDPEERS`, `SENDSTATUS`, `SENDCONF`,
/// `CTCONFIG`, `SENDDETAIL`, `CTQUIT`, `CTRESTART`, `CTUPDATE`, `PROTOCOL`), so
/// `CTQUITTER` quits and `SENDSTATUSXYZ` asks for the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeywordMatch {
    /// The first space-delimited word must be the keyword (the default): `CTQUITTER` is
    /// [`ServerMessage::Unknown`]. Decoded messages re-encode to the same bytes.
    #[default]
    Exact,
    /// The client's prefix match, for tools that must predict what dnh3.3.2 does with a
    /// line. Bytes after a keyword without arguments are ignored, as the client ignores
    /// them; `SETDLIMIT`/`SETULIMIT` take their argument from byte 10 and `PROTOCOL`
    /// from byte 9 whatever precedes it, and `PROTOCOL` is read with `atoi` (a
    /// non-number is version 0, a value above 3 is recorded as 3). Such messages do not
    /// necessarily re-encode to the line they came from.
    Prefix,
}

/// Checks a line handed to a decoder: an optional terminator (LF, CR or CRLF) is
/// dropped; NUL anywhere, or CR/LF inside, is an error.
pub(crate) fn prepare(line: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::new(line);
    let Some(at) = r.find_line_break_or_nul() else {
        return Ok(line);
    };
    // `at` is within the line.
    let body = r.take(at).unwrap_or_default();
    if matches!(r.rest(), b"\n" | b"\r" | b"\r\n") {
        return Ok(body);
    }
    // A NUL, or a line break with more after it: rare, and the slow path says which
    // error comes first.
    prepare_slow(line)
}

#[cold]
fn prepare_slow(line: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::new(line);
    let body = r.take_until_any(b"\r\n");
    let end = r.offset();
    let rest = r.rest();
    if !matches!(rest, b"" | b"\n" | b"\r" | b"\r\n") {
        return Err(DecodeError::new(DecodeErrorKind::InvalidField, end));
    }
    match Reader::new(body).find(0) {
        Some(at) => Err(DecodeError::new(DecodeErrorKind::NulByte, at)),
        None => Ok(body),
    }
}

/// Splits a checked line into its keyword (up to the first space) and a tokenizer over
/// the rest.
pub(crate) fn keyword(line: &[u8]) -> (&[u8], Fields<'_>) {
    Fields::after_keyword(line)
}

/// `PROTOCOL version`, in both directions.
///
/// The version is four zero-padded digits on the wire (`PROTOCOL 0003`); decoding takes
/// any run of digits (the client reads it with `atoi`, so `PROTOCOL 2` works), encoding
/// always writes at least four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Protocol {
    /// The announced version number, as sent (not clamped): `PROTOCOL 0004` is 4.
    pub version: u32,
}

impl Protocol {
    /// What the client ends up using when a server announces this: values above 3
    /// become 3.
    pub const fn negotiated(&self) -> Version {
        Version::from_announced(self.version)
    }

    pub(crate) fn parse(f: &mut Fields<'_>) -> Result<Self, DecodeError> {
        let (digits, at) = f.raw()?;
        let bad = DecodeError::new(DecodeErrorKind::InvalidVersion, at);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad);
        }
        let mut v: u32 = 0;
        for &d in digits {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(d.wrapping_sub(b'0'))))
                .ok_or(bad)?;
        }
        // Beyond a C int, the client's atoi would not see this number.
        if i32::try_from(v).is_err() {
            return Err(bad);
        }
        f.finish()?;
        Ok(Protocol { version: v })
    }

    pub(crate) fn emit(&self, o: &mut dyn Out) -> Result<(), EncodeError> {
        o.bytes(b"PROTOCOL ")?;
        let digits = crate::wire::decimal_len_u64(u64::from(self.version));
        for _ in digits..4 {
            o.bytes(b"0")?;
        }
        o.u64(u64::from(self.version))
    }
}

/// The positional `CTCONFIG` of protocols 1 and 2 (and the odd version 0), in both
/// directions; field names are the seed protocol page's.
///
/// Which fields a line has depends on the version and the direction:
///
/// | version | client → server | server → client |
/// |---|---|---|
/// | 2 | `verbose seedtime seed_ratio maxpeers minpeers fileno cache_size pause` | same |
/// | 1 | `verbose seedtime seed_ratio maxpeers minpeers fileno exitzero pause soft_quit` | same |
/// | 0 | as version 1 | `verbose seedtime seed_ratio maxpeers minpeers fileno pause` (dnh3.3.2 reads neither v2's cache nor v1's exit-zero field) |
///
/// Fields a form does not have are not written and decode as [`Positional::Keep`].
/// A server may send `.` for any field ("leave unchanged"); the client never does, but
/// decoding accepts it in both directions.
///
/// dnh3.3.2 reads a server's line at fixed offsets (the verbose flag must be one
/// character) and **aborts** (`free(): invalid pointer`) after applying any well-formed
/// positional `CTCONFIG`; a v1/v2 server cannot change options on that client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CtConfigValues<'a> {
    /// Verbose output (`-v`).
    pub verbose: Positional<i32>,
    /// Seed time (`-e`), the configured total in hours.
    pub seedtime: Positional<i32>,
    /// Seed ratio (`-E`); the client prints it with six decimals.
    pub seed_ratio: Positional<Float<'a>>,
    /// Maximum peers (`-M`).
    pub maxpeers: Positional<i32>,
    /// Minimum peers (`-m`).
    pub minpeers: Positional<i32>,
    /// File to download (`-n`), 0 for all.
    pub fileno: Positional<i32>,
    /// Cache size in MB (version 2 only).
    pub cache_size: Positional<i32>,
    /// The old exit-on-zero-peers flag (version 1 only; the client sends 0, ignores it).
    pub exitzero: Positional<i32>,
    /// Paused (non-zero) or running.
    pub pause: Positional<i32>,
    /// The old soft-quit flag (version 1 only; the client sends 0, never reads it).
    pub soft_quit: Positional<i32>,
}

/// Which fields a positional `CTCONFIG` line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// 8 fields, with `cache_size`.
    V2,
    /// 9 fields, with `exitzero` and `soft_quit`.
    V1,
    /// 7 fields: what dnh3.3.2 reads from a server at version 0.
    Short,
}

impl<'a> CtConfigValues<'a> {
    pub(crate) fn parse(f: &mut Fields<'a>, layout: Layout) -> Result<Self, DecodeError> {
        let mut v = CtConfigValues {
            verbose: f.positional_i32()?,
            seedtime: f.positional_i32()?,
            seed_ratio: f.positional_float()?,
            maxpeers: f.positional_i32()?,
            minpeers: f.positional_i32()?,
            fileno: f.positional_i32()?,
            ..CtConfigValues::default()
        };
        match layout {
            Layout::V2 => v.cache_size = f.positional_i32()?,
            Layout::V1 => v.exitzero = f.positional_i32()?,
            Layout::Short => {}
        }
        v.pause = f.positional_i32()?;
        if layout == Layout::V1 {
            v.soft_quit = f.positional_i32()?;
        }
        f.finish()?;
        Ok(v)
    }

    pub(crate) fn emit(&self, o: &mut dyn Out, layout: Layout) -> Result<(), EncodeError> {
        o.bytes(b"CTCONFIG")?;
        o.sp_positional_i32(self.verbose)?;
        o.sp_positional_i32(self.seedtime)?;
        o.sp_positional_float(self.seed_ratio)?;
        o.sp_positional_i32(self.maxpeers)?;
        o.sp_positional_i32(self.minpeers)?;
        o.sp_positional_i32(self.fileno)?;
        match layout {
            Layout::V2 => o.sp_positional_i32(self.cache_size)?,
            Layout::V1 => o.sp_positional_i32(self.exitzero)?,
            Layout::Short => {}
        }
        o.sp_positional_i32(self.pause)?;
        if layout == Layout::V1 {
            o.sp_positional_i32(self.soft_quit)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_strips_one_terminator_only() {
        assert_eq!(prepare(b"A B\n"), Ok(&b"A B"[..]));
        assert_eq!(prepare(b"A B\r\n"), Ok(&b"A B"[..]));
        assert_eq!(prepare(b"A B\r"), Ok(&b"A B"[..]));
        assert_eq!(prepare(b"A B"), Ok(&b"A B"[..]));
        let e = prepare(b"A\nB").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidField, 1));
        let e = prepare(b"A\0B\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::NulByte, 1));
    }
}
