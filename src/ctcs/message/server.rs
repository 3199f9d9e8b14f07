//! Messages from the server (CTCS) to the client.

use super::{keyword, prepare, CtConfigValues, KeywordMatch, Layout, Protocol};
use crate::ctcs::field::{encode_line, line_len, Fields, Out, Text, Word};
use crate::ctcs::scan::TextScan;
use crate::ctcs::version::Version;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::Reader;

/// `ERROR message`. dnh3.3.2 ignores it like any unknown line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorMessage<'a> {
    /// The text (rest of the line).
    pub message: Text<'a>,
}

/// `SETDLIMIT dl_limit`: set the download limit, **bytes/s** (0 = none).
///
/// The argument is kept as sent: dnh3.3.2 reads it with `strtod` and casts it to `int`,
/// so `1.5e3`, `2048.9`, `-5` and `abc` are all meaningful; [`SetDlimit::applied`] says
/// what it becomes. The client ignores a new download limit while it is a seed unless it
/// is lower than the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetDlimit<'a> {
    /// The argument text (everything after the separator that follows the keyword).
    pub dl_limit: Text<'a>,
}

/// `SETULIMIT ul_limit`: set the upload limit, bytes/s; see [`SetDlimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetUlimit<'a> {
    /// The argument text.
    pub ul_limit: Text<'a>,
}

impl SetDlimit<'_> {
    /// The limit dnh3.3.2 sets from this argument: `(int)strtod(arg, NULL)` on the x86-64
    /// glibc client, computed exactly from the decimal text: leading white space
    /// skipped, an optional sign, digits with an optional `.` and fraction, an optional
    /// exponent (`1.5e3` → 1500); the fraction is truncated toward zero (`2048.9` →
    /// 2048, `-0.5` → 0); no number (`abc`, empty) is 0. Hexadecimal (`0x10` → 16) is
    /// read without its binary exponent. A value outside `int`, infinity and NaN give
    /// `i32::MIN`, as the x86-64 conversion instruction does. Decimal texts whose
    /// nearest `double` rounds across an integer (more than ~16 significant digits) may
    /// differ by one from the client.
    pub fn applied(&self) -> i32 {
        strtod_int(self.dl_limit.as_bytes())
    }
}

impl SetUlimit<'_> {
    /// The limit dnh3.3.2 sets from this argument, as [`SetDlimit::applied`] computes it.
    pub fn applied(&self) -> i32 {
        strtod_int(self.ul_limit.as_bytes())
    }
}

/// What `(int)strtod(text, NULL)` gives on the x86-64 glibc client, computed exactly from
/// the decimal text: leading white space skipped, an optional sign, digits with an
/// optional `.` and fraction, an optional exponent (`1.5e3` → 1500); the fraction is
/// truncated toward zero (`2048.9` → 2048, `-0.5` → 0); no number (`abc`, empty) is 0.
/// Hexadecimal (`0x10` → 16) is read without its binary exponent. A value outside `int`,
/// infinity and NaN give `i32::MIN`, as the x86-64 conversion instruction does.
///
/// Decimal texts whose nearest `double` rounds across an integer (more than ~16
/// significant digits) may differ by one from the client.
pub(crate) fn strtod_int(text: &[u8]) -> i32 {
    const OVERFLOW: i32 = i32::MIN;
    let mut r = Reader::new(text);
    r.take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'));
    let neg = r.eat(b'-') || {
        r.eat(b'+');
        false
    };
    let word = r.clone().take(3).unwrap_or_default();
    if word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan") {
        return OVERFLOW;
    }
    let mut hex = r.clone();
    if (hex.eat(b'0') && (hex.eat(b'x') || hex.eat(b'X')))
        && hex.peek().is_some_and(|b| b.is_ascii_hexdigit())
    {
        let mut v: i64 = 0;
        for b in hex.take_while(|b| b.is_ascii_hexdigit()) {
            let d = char::from(*b).to_digit(16).map_or(0, i64::from);
            v = v.saturating_mul(16).saturating_add(d);
        }
        return to_int(neg, v);
    }
    let int_digits = r.take_while(|b| b.is_ascii_digit());
    let frac_digits = if r.eat(b'.') {
        r.take_while(|b| b.is_ascii_digit())
    } else {
        &[]
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return 0;
    }
    let mut exp: i64 = 0;
    let mut e = r.clone();
    if e.eat(b'e') || e.eat(b'E') {
        let eneg = e.eat(b'-') || {
            e.eat(b'+');
            false
        };
        for &d in e.take_while(|b| b.is_ascii_digit()) {
            exp = exp
                .saturating_mul(10)
                .saturating_add(i64::from(d.wrapping_sub(b'0')));
        }
        if eneg {
            exp = exp.saturating_neg();
        }
    }
    // The integer part is the first `point` digits of int_digits ++ frac_digits.
    let mut digits = int_digits.iter().chain(frac_digits).copied().peekable();
    let mut point = i64::try_from(int_digits.len())
        .unwrap_or(i64::MAX)
        .saturating_add(exp);
    while digits.next_if_eq(&b'0').is_some() {
        point = point.saturating_sub(1);
    }
    if digits.peek().is_none() || point <= 0 {
        return 0;
    }
    if point > 10 {
        return OVERFLOW;
    }
    let mut v: i64 = 0;
    for _ in 0..point {
        let d = digits.next().map_or(0, |d| i64::from(d.wrapping_sub(b'0')));
        v = v.saturating_mul(10).saturating_add(d);
    }
    to_int(neg, v)
}

fn to_int(neg: bool, magnitude: i64) -> i32 {
    let v = if neg {
        magnitude.saturating_neg()
    } else {
        magnitude
    };
    i32::try_from(v).unwrap_or(i32::MIN)
}

/// Extra blanks around the name of a v3 server `CTCONFIG`, beyond the one the canonical
/// form has on each side.
///
/// dnh3.3.2 skips any number of blanks before the name and after it
/// (`CTCONFIG   max_peers    60  ` sets `max_peers` to 60), so such lines occur; the
/// decoder records the blanks here so that the line re-encodes byte for byte. Zero (the
/// default) is the canonical single space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Spacing {
    /// Blanks before the name, minus one.
    pub extra_before_name: usize,
    /// Blanks between the name and the value, minus one.
    pub extra_after_name: usize,
}

/// The v3 server `CTCONFIG name value`: set one option.
///
/// The value is the **raw rest of the line** after the blanks that follow the name
/// (trailing blanks included) — not `len:value`: `CTCONFIG seed_ratio 4:2.50` sets the
/// ratio to 4. A blank must follow the name even for an empty value
/// (`CTCONFIG file_list ` clears the file list; `CTCONFIG max_peers` is rejected by the
/// client and is a [`MissingField`](DecodeErrorKind::MissingField) here). A bare
/// `CTCONFIG` crashes dnh3.3.2; the non-empty [`Word`] name makes it unrepresentable.
///
/// A value that starts with a blank cannot be delivered: the client skips blanks after
/// the name, and so does the decoder (they are counted in [`Spacing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtConfigSet<'a> {
    /// Option name.
    pub name: Word<'a>,
    /// The value the client applies.
    pub value: Text<'a>,
    /// Non-canonical blanks, to re-encode decoded lines exactly.
    pub spacing: Spacing,
}

/// A line from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerMessage<'a> {
    /// `PROTOCOL version`; see [`Protocol::negotiated`].
    Protocol(Protocol),
    /// `ERROR message`.
    Error(ErrorMessage<'a>),
    /// `CTQUIT`: quit gracefully.
    CtQuit,
    /// `CTRESTART`: restart the tracker session.
    CtRestart,
    /// `CTUPDATE`: announce to the tracker soon.
    CtUpdate,
    /// `SETDLIMIT dl_limit`.
    SetDlimit(SetDlimit<'a>),
    /// `SETULIMIT ul_limit`.
    SetUlimit(SetUlimit<'a>),
    /// `SENDSTATUS`: the client answers `CTSTATUS`.
    SendStatus,
    /// `SENDPEERS`: the client answers with the peer block.
    SendPeers,
    /// `SENDDETAIL`: the client answers `CTDETAIL` and the file block.
    SendDetail,
    /// `SENDCONF`: the client answers with its configuration.
    SendConf,
    /// The v3 `CTCONFIG name value` (written in this form whatever the version).
    CtConfig(CtConfigSet<'a>),
    /// The positional `CTCONFIG` of versions 0–2 (see [`CtConfigValues`] for the
    /// fields per version; encoding under version 3 writes the version-2 form).
    CtConfigValues(CtConfigValues<'a>),
    /// Any other line, kept whole (the client ignores it). Encoding writes it back as is.
    Unknown(Text<'a>),
}

/// The client's keywords, in the order it tries them.
const PREFIX_ORDER: [&[u8]; 11] = [
    b"SETDLIMIT",
    b"SETULIMIT",
    b"SENDPEERS",
    b"SENDSTATUS",
    b"SENDCONF",
    b"CTCONFIG",
    b"SENDDETAIL",
    b"CTQUIT",
    b"CTRESTART",
    b"CTUPDATE",
    b"PROTOCOL",
];

fn positional_layout(version: Version) -> Layout {
    match version.get() {
        1 => Layout::V1,
        0 => Layout::Short,
        _ => Layout::V2,
    }
}

impl<'a> ServerMessage<'a> {
    /// Decodes one line (with or without its LF/CR/CRLF) under `version`, with exact
    /// keyword matching.
    ///
    /// # Errors
    ///
    /// As [`decode_with`](Self::decode_with).
    pub fn decode(line: &'a [u8], version: Version) -> Result<Self, DecodeError> {
        Self::decode_with(line, version, KeywordMatch::Exact)
    }

    /// Decodes one line under `version`, recognising keywords as `matching` says.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] with the offset in `line` of the offending field or byte:
    /// [`NulByte`](DecodeErrorKind::NulByte), [`MissingField`](DecodeErrorKind::MissingField)
    /// (e.g. `CTCONFIG max_peers`), [`ExtraField`](DecodeErrorKind::ExtraField),
    /// [`InvalidNumber`](DecodeErrorKind::InvalidNumber),
    /// [`InvalidField`](DecodeErrorKind::InvalidField) (also a CR or LF inside the line),
    /// [`InvalidVersion`](DecodeErrorKind::InvalidVersion). Unknown keywords are not
    /// errors.
    pub fn decode_with(
        line: &'a [u8],
        version: Version,
        matching: KeywordMatch,
    ) -> Result<Self, DecodeError> {
        let line = prepare(line)?;
        if matching == KeywordMatch::Prefix {
            if let Some(kw) = PREFIX_ORDER.iter().find(|kw| line.starts_with(kw)) {
                return Self::decode_prefixed(line, kw, version);
            }
        }
        let (kw, mut f) = keyword(line);
        let no_args = |f: &Fields<'_>, m: ServerMessage<'a>| f.finish().map(|()| m);
        let msg = match kw {
            b"PROTOCOL" => ServerMessage::Protocol(Protocol::parse(&mut f)?),
            b"ERROR" => ServerMessage::Error(ErrorMessage { message: f.rest()? }),
            b"CTQUIT" => no_args(&f, ServerMessage::CtQuit)?,
            b"CTRESTART" => no_args(&f, ServerMessage::CtRestart)?,
            b"CTUPDATE" => no_args(&f, ServerMessage::CtUpdate)?,
            b"SENDSTATUS" => no_args(&f, ServerMessage::SendStatus)?,
            b"SENDPEERS" => no_args(&f, ServerMessage::SendPeers)?,
            b"SENDDETAIL" => no_args(&f, ServerMessage::SendDetail)?,
            b"SENDCONF" => no_args(&f, ServerMessage::SendConf)?,
            b"SETDLIMIT" => ServerMessage::SetDlimit(SetDlimit {
                dl_limit: f.rest()?,
            }),
            b"SETULIMIT" => ServerMessage::SetUlimit(SetUlimit {
                ul_limit: f.rest()?,
            }),
            b"CTCONFIG" => Self::config(&mut f, version)?,
            _ => ServerMessage::Unknown(Text::from_line(line)),
        };
        Ok(msg)
    }

    fn config(f: &mut Fields<'a>, version: Version) -> Result<Self, DecodeError> {
        if !version.is_v3() {
            let layout = positional_layout(version);
            return CtConfigValues::parse(f, layout).map(ServerMessage::CtConfigValues);
        }
        let before = f.spaces();
        let (name, _) = f.until_space();
        if before == 0 || name.is_empty() {
            return Err(f.error(DecodeErrorKind::MissingField));
        }
        let after = f.spaces();
        if after == 0 {
            // The client needs a byte after the name, even for an empty value.
            return Err(f.error(DecodeErrorKind::MissingField));
        }
        Ok(ServerMessage::CtConfig(CtConfigSet {
            name: Word::from_line(name),
            value: Text::from_line(f.take_rest()),
            spacing: Spacing {
                extra_before_name: before.saturating_sub(1),
                extra_after_name: after.saturating_sub(1),
            },
        }))
    }

    /// The client's reading of a line that starts with `kw`.
    fn decode_prefixed(line: &'a [u8], kw: &[u8], version: Version) -> Result<Self, DecodeError> {
        let mut r = Reader::new(line);
        // `kw` is a prefix of `line`.
        r.take(kw.len()).unwrap_or_default();
        let msg = match kw {
            b"SETDLIMIT" | b"SETULIMIT" => {
                // The client reads from byte 10 whatever byte 9 is.
                r.take(1).unwrap_or_default();
                let arg = Text::from_line(r.rest());
                if kw == b"SETDLIMIT" {
                    ServerMessage::SetDlimit(SetDlimit { dl_limit: arg })
                } else {
                    ServerMessage::SetUlimit(SetUlimit { ul_limit: arg })
                }
            }
            b"PROTOCOL" => {
                r.take(1).unwrap_or_default();
                ServerMessage::Protocol(Protocol {
                    version: u32::from(Version::from_atoi(r.rest()).get()),
                })
            }
            b"CTCONFIG" => {
                // The client looks for the first space anywhere after the keyword.
                r.take_until_any(b" ");
                let mut f = Fields::new(r.rest(), r.offset());
                if f.is_empty() {
                    return Err(f.error(DecodeErrorKind::MissingField));
                }
                Self::config(&mut f, version)?
            }
            b"SENDPEERS" => ServerMessage::SendPeers,
            b"SENDSTATUS" => ServerMessage::SendStatus,
            b"SENDCONF" => ServerMessage::SendConf,
            b"SENDDETAIL" => ServerMessage::SendDetail,
            b"CTQUIT" => ServerMessage::CtQuit,
            b"CTRESTART" => ServerMessage::CtRestart,
            _ => ServerMessage::CtUpdate,
        };
        Ok(msg)
    }

    /// The keyword of this message (`UNKNOWN` for [`Self::Unknown`]).
    pub fn keyword(&self) -> &'static str {
        match self {
            ServerMessage::Protocol(_) => "PROTOCOL",
            ServerMessage::Error(_) => "ERROR",
            ServerMessage::CtQuit => "CTQUIT",
            ServerMessage::CtRestart => "CTRESTART",
            ServerMessage::CtUpdate => "CTUPDATE",
            ServerMessage::SetDlimit(_) => "SETDLIMIT",
            ServerMessage::SetUlimit(_) => "SETULIMIT",
            ServerMessage::SendStatus => "SENDSTATUS",
            ServerMessage::SendPeers => "SENDPEERS",
            ServerMessage::SendDetail => "SENDDETAIL",
            ServerMessage::SendConf => "SENDCONF",
            ServerMessage::CtConfig(_) | ServerMessage::CtConfigValues(_) => "CTCONFIG",
            ServerMessage::Unknown(_) => "UNKNOWN",
        }
    }

    fn emit(&self, version: Version, o: &mut dyn Out) -> Result<(), EncodeError> {
        match self {
            ServerMessage::Protocol(p) => p.emit(o),
            ServerMessage::Error(e) => {
                o.bytes(b"ERROR")?;
                o.sp_bytes(e.message.as_bytes())
            }
            ServerMessage::SetDlimit(s) => {
                o.bytes(b"SETDLIMIT")?;
                o.sp_bytes(s.dl_limit.as_bytes())
            }
            ServerMessage::SetUlimit(s) => {
                o.bytes(b"SETULIMIT")?;
                o.sp_bytes(s.ul_limit.as_bytes())
            }
            ServerMessage::CtConfig(c) => {
                o.bytes(b"CTCONFIG ")?;
                o.spaces(c.spacing.extra_before_name)?;
                o.bytes(c.name.as_bytes())?;
                o.bytes(b" ")?;
                o.spaces(c.spacing.extra_after_name)?;
                o.bytes(c.value.as_bytes())
            }
            ServerMessage::CtConfigValues(c) => c.emit(o, positional_layout(version)),
            ServerMessage::Unknown(t) => o.bytes(t.as_bytes()),
            other => o.bytes(other.keyword().as_bytes()),
        }
    }

    /// The number of bytes [`encode`](Self::encode) writes, LF included.
    pub fn encoded_len(&self, version: Version) -> usize {
        line_len(&|o: &mut dyn Out| self.emit(version, o))
    }

    /// Writes the line for `version`, LF-terminated, into `buf`; returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`encoded_len`](Self::encoded_len);
    /// `buf` is then untouched.
    pub fn encode(&self, version: Version, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_line(buf, |o| self.emit(version, o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_the_client() {
        for (text, want) in [
            (&b"10240"[..], 10240),
            (b"1.5e3", 1500),
            (b"2048.9", 2048),
            (b"-5", -5),
            (b"abc", 0),
            (b"", 0),
            (b"  42xyz", 42),
            (b"-0.5", 0),
            (b".5e1", 5),
            (b"5.", 5),
            (b"1e", 1),
            (b"1e+2", 100),
            (b"12e-1", 1),
            (b"0x10", 16),
            (b"0x", 0),
            (b"inf", i32::MIN),
            (b"-Infinity", i32::MIN),
            (b"NaN", i32::MIN),
            (b"2147483647", i32::MAX),
            (b"-2147483648", i32::MIN),
            (b"2147483648", i32::MIN),
            (b"1e400", i32::MIN),
            (b"0e400", 0),
            (b"000000000000001", 1),
            (b"1e-400", 0),
            (b"+7", 7),
        ] {
            assert_eq!(strtod_int(text), want, "{}", String::from_utf8_lossy(text));
        }
    }

    use std::string::String;
}
