//! Error types shared by every codec.
//!
//! Errors are split by who can act on them:
//!
//! * [`DecodeError`] — the input is malformed. It says *what* ([`DecodeErrorKind`]) and
//!   *where* (a byte offset relative to the slice given to the decoder; it may equal the
//!   slice's length when the input ended too early).
//! * [`EncodeError`] — the caller's output buffer is too small. The buffer was left
//!   untouched; retry with at least [`EncodeError::required`] bytes.
//! * [`UsageError`] — the caller asked for something the API cannot do in its current
//!   state (a full table, a value too long for its field, an unknown handle).
//!
//! All of them are `Copy`, allocation-free, and implement [`core::fmt::Display`] and
//! [`core::error::Error`].

use core::fmt;

/// What is wrong with a malformed input.
///
/// Each kind has a stable snake_case [`name`](DecodeErrorKind::name), for
/// machine-readable output and for conformance tests in other languages (the published
/// test corpus names the kind each malformed input must produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    // ---- shared -------------------------------------------------------------------
    /// The input ended before a field was complete; at least `needed` more bytes were
    /// required at the offset of the error.
    Truncated {
        /// The minimum number of further bytes the field needed.
        needed: usize,
    },
    /// Bytes follow a message that must end where it did.
    TrailingBytes,

    // ---- UDP tracker protocol ------------------------------------------------------
    /// A connect request whose first eight bytes are not the protocol id
    /// `0x41727101980` (BEP 15).
    BadProtocolId,
    /// The `action` field holds a value that this direction does not define.
    UnknownAction(u32),
    /// A list of fixed-size records (peers, info hashes, scrape rows) ends in a partial
    /// record; `stride` is the record size in bytes.
    PartialRecord {
        /// The size of one record of the list.
        stride: u8,
    },
    /// A BEP 41 option, or a legacy extension body, declares a length that runs past
    /// the end of the datagram.
    OptionOverrun,

    // ---- CTCS ------------------------------------------------------------------------
    /// A line is longer than the configured maximum.
    LineTooLong,
    /// A line contains a NUL byte.
    NulByte,
    /// A required field is missing.
    MissingField,
    /// There are more fields than the message has.
    ExtraField,
    /// A field that must be a number is not one, or does not fit its type.
    InvalidNumber,
    /// A field does not have the shape its message requires (separator, flag letter,
    /// address, keyword form).
    InvalidField,
    /// A `len:value` field declares a length that runs past the end of the line.
    LengthOverrun,
    /// A `PROTOCOL` line whose version is not four ASCII digits (or a number).
    InvalidVersion,
}

impl DecodeErrorKind {
    /// A stable snake_case name for the kind, without its payload.
    pub const fn name(&self) -> &'static str {
        match self {
            DecodeErrorKind::Truncated { .. } => "truncated",
            DecodeErrorKind::TrailingBytes => "trailing_bytes",
            DecodeErrorKind::BadProtocolId => "bad_protocol_id",
            DecodeErrorKind::UnknownAction(_) => "unknown_action",
            DecodeErrorKind::PartialRecord { .. } => "partial_record",
            DecodeErrorKind::OptionOverrun => "option_overrun",
            DecodeErrorKind::LineTooLong => "line_too_long",
            DecodeErrorKind::NulByte => "nul_byte",
            DecodeErrorKind::MissingField => "missing_field",
            DecodeErrorKind::ExtraField => "extra_field",
            DecodeErrorKind::InvalidNumber => "invalid_number",
            DecodeErrorKind::InvalidField => "invalid_field",
            DecodeErrorKind::LengthOverrun => "length_overrun",
            DecodeErrorKind::InvalidVersion => "invalid_version",
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Truncated { needed } => {
                write!(f, "input ends early ({needed} more bytes needed)")
            }
            DecodeErrorKind::TrailingBytes => f.write_str("unexpected trailing bytes"),
            DecodeErrorKind::BadProtocolId => f.write_str("bad protocol id"),
            DecodeErrorKind::UnknownAction(a) => write!(f, "unknown action {a}"),
            DecodeErrorKind::PartialRecord { stride } => {
                write!(f, "partial {stride}-byte record")
            }
            DecodeErrorKind::OptionOverrun => f.write_str("option length runs past the end"),
            DecodeErrorKind::LineTooLong => f.write_str("line too long"),
            DecodeErrorKind::NulByte => f.write_str("NUL byte in line"),
            DecodeErrorKind::MissingField => f.write_str("missing field"),
            DecodeErrorKind::ExtraField => f.write_str("extra field"),
            DecodeErrorKind::InvalidNumber => f.write_str("invalid number"),
            DecodeErrorKind::InvalidField => f.write_str("invalid field"),
            DecodeErrorKind::LengthOverrun => {
                f.write_str("len:value length runs past the end of the line")
            }
            DecodeErrorKind::InvalidVersion => f.write_str("invalid protocol version"),
        }
    }
}

/// Malformed input: what is wrong and at which byte offset.
///
/// The offset is relative to the slice given to the decoder, and is at most its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
}

impl DecodeError {
    /// An error of `kind` at byte `offset`.
    pub const fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }

    /// What is wrong.
    pub const fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Where it is wrong: a byte offset into the decoder's input.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The same error with its offset moved by `base` bytes (saturating), for decoders
    /// that work on a part of a larger input.
    pub const fn shifted(self, base: usize) -> Self {
        DecodeError {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl core::error::Error for DecodeError {}

/// The output buffer is too small; it was left unmodified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodeError {
    required: usize,
}

impl EncodeError {
    /// A buffer of at least `required` bytes is needed.
    pub const fn new(required: usize) -> Self {
        EncodeError { required }
    }

    /// How many bytes the output buffer must have.
    pub const fn required(&self) -> usize {
        self.required
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "output buffer too small: {} bytes required",
            self.required
        )
    }
}

impl core::error::Error for EncodeError {}

/// A call the API cannot carry out: the caller's mistake, not the peer's. Like
/// [`DecodeError`] it says what ([`UsageErrorKind`]) and where: the name of the argument
/// at fault (for [`UsageErrorKind::Full`], the table that is full; for
/// [`UsageErrorKind::InvalidState`], the command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UsageError {
    kind: UsageErrorKind,
    argument: &'static str,
}

/// What kind of [`UsageError`] occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageErrorKind {
    /// Every slot of a fixed-capacity table is in use.
    Full,
    /// A value is longer than its field or the storage reserved for it.
    TooLong,
    /// The handle names nothing (finished, cancelled, or never issued).
    UnknownHandle,
    /// The call is not allowed in the current state.
    InvalidState,
    /// A value would produce output the peer cannot handle (for example a NUL or a line
    /// end inside a CTCS value).
    InvalidValue,
    /// The protocol version in force does not have this message or form (for example a
    /// positional CTCS `CTCONFIG` to a version-3 client).
    WrongVersion,
}

impl UsageError {
    /// An error of `kind` about `argument`.
    pub const fn new(kind: UsageErrorKind, argument: &'static str) -> Self {
        UsageError { kind, argument }
    }

    /// [`UsageErrorKind::Full`]: the table `table` has no free slot.
    pub const fn full(table: &'static str) -> Self {
        Self::new(UsageErrorKind::Full, table)
    }

    /// [`UsageErrorKind::TooLong`] about `argument`.
    pub const fn too_long(argument: &'static str) -> Self {
        Self::new(UsageErrorKind::TooLong, argument)
    }

    /// [`UsageErrorKind::UnknownHandle`] about `argument`.
    pub const fn unknown_handle(argument: &'static str) -> Self {
        Self::new(UsageErrorKind::UnknownHandle, argument)
    }

    /// [`UsageErrorKind::InvalidState`]: `command` is not allowed now.
    pub const fn invalid_state(command: &'static str) -> Self {
        Self::new(UsageErrorKind::InvalidState, command)
    }

    /// [`UsageErrorKind::InvalidValue`] about `argument`.
    pub const fn invalid_value(argument: &'static str) -> Self {
        Self::new(UsageErrorKind::InvalidValue, argument)
    }

    /// [`UsageErrorKind::WrongVersion`]: `command` does not exist in the version in force.
    pub const fn wrong_version(command: &'static str) -> Self {
        Self::new(UsageErrorKind::WrongVersion, command)
    }

    /// What went wrong.
    pub const fn kind(&self) -> UsageErrorKind {
        self.kind
    }

    /// The argument (or table, or command) at fault, as named in the API.
    pub const fn argument(&self) -> &'static str {
        self.argument
    }
}

impl UsageErrorKind {
    /// What the kind means, in a few words.
    pub const fn description(self) -> &'static str {
        match self {
            UsageErrorKind::Full => "no free slot",
            UsageErrorKind::TooLong => "value too long",
            UsageErrorKind::UnknownHandle => "unknown handle",
            UsageErrorKind::InvalidState => "not allowed in the current state",
            UsageErrorKind::InvalidValue => "value not allowed on the wire",
            UsageErrorKind::WrongVersion => "not available in the protocol version in force",
        }
    }
}

impl fmt::Display for UsageErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.argument, self.kind)
    }
}

impl core::error::Error for UsageError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_says_what_and_where() {
        let e = DecodeError::new(DecodeErrorKind::Truncated { needed: 4 }, 12);
        assert_eq!(
            e.to_string(),
            "input ends early (4 more bytes needed) at byte 12"
        );
        assert_eq!(e.kind().name(), "truncated");
        assert_eq!(e.shifted(3).offset(), 15);
        assert_eq!(
            EncodeError::new(98).to_string(),
            "output buffer too small: 98 bytes required"
        );
        let u = UsageError::too_long("hashes");
        assert_eq!(u.to_string(), "hashes: value too long");
        assert_eq!(
            (u.kind(), u.argument()),
            (UsageErrorKind::TooLong, "hashes")
        );
    }
}
