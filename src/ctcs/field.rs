//! Field types, the tokenizer that reads them out of a line, and the writers that put
//! them back; the shapes are in the `ctcs` module docs.

use core::fmt;

use crate::ctcs::scan::TextScan;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::{decimal_len_i64, decimal_len_u64, Reader, Writer};

/// Why a value was refused by a validating constructor ([`Text::new`], [`Word::new`],
/// [`Float::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidText {
    /// The value contains a NUL, CR or LF byte at this index.
    LineBreakOrNul(usize),
    /// A word contains a space at this index.
    Space(usize),
    /// A word is empty.
    Empty,
    /// The value is not a decimal floating-point number the client prints or reads back.
    NotAFloat,
}

impl fmt::Display for InvalidText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidText::LineBreakOrNul(i) => write!(f, "NUL, CR or LF at index {i}"),
            InvalidText::Space(i) => write!(f, "space inside a word at index {i}"),
            InvalidText::Empty => f.write_str("empty word"),
            InvalidText::NotAFloat => f.write_str("not a decimal floating-point number"),
        }
    }
}

impl core::error::Error for InvalidText {}

const fn check_text(bytes: &[u8]) -> Result<(), InvalidText> {
    let mut rest = bytes;
    let mut i: usize = 0;
    while let [b, tail @ ..] = rest {
        if *b == 0 || *b == b'\r' || *b == b'\n' {
            return Err(InvalidText::LineBreakOrNul(i));
        }
        i = i.saturating_add(1);
        rest = tail;
    }
    Ok(())
}

const fn check_word(bytes: &[u8]) -> Result<(), InvalidText> {
    if bytes.is_empty() {
        return Err(InvalidText::Empty);
    }
    if let Err(e) = check_text(bytes) {
        return Err(e);
    }
    let mut rest = bytes;
    let mut i: usize = 0;
    while let [b, tail @ ..] = rest {
        if *b == b' ' {
            return Err(InvalidText::Space(i));
        }
        i = i.saturating_add(1);
        rest = tail;
    }
    Ok(())
}

/// Raw bytes of a CTCS string: any byte except NUL, CR and LF (spaces allowed).
///
/// Decoders borrow it from the input line; it is never copied. [`Display`](fmt::Display)
/// is lossy UTF-8 (invalid sequences become U+FFFD); [`Text::to_str`] is the strict form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// The empty string.
    pub const EMPTY: Text<'static> = Text(b"");

    /// Wraps `bytes`.
    ///
    /// # Errors
    ///
    /// [`InvalidText::LineBreakOrNul`] if `bytes` contains NUL, CR or LF: such a value
    /// would end the line early or wedge the dnh3.3.2 command reader.
    pub const fn new(bytes: &'a [u8]) -> Result<Self, InvalidText> {
        match check_text(bytes) {
            Ok(()) => Ok(Text(bytes)),
            Err(e) => Err(e),
        }
    }

    /// For decoders, whose lines were already checked for NUL, CR and LF.
    pub(crate) const fn from_line(bytes: &'a [u8]) -> Self {
        Text(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The bytes as UTF-8.
    ///
    /// # Errors
    ///
    /// [`core::str::Utf8Error`] if they are not valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.0)
    }

    /// The length in bytes.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> TryFrom<&'a [u8]> for Text<'a> {
    type Error = InvalidText;
    fn try_from(bytes: &'a [u8]) -> Result<Self, InvalidText> {
        Text::new(bytes)
    }
}

impl<'a> TryFrom<&'a str> for Text<'a> {
    type Error = InvalidText;
    fn try_from(s: &'a str) -> Result<Self, InvalidText> {
        Text::new(s.as_bytes())
    }
}

impl<'a> From<Word<'a>> for Text<'a> {
    fn from(w: Word<'a>) -> Self {
        Text(w.0)
    }
}

fn display_lossy(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_str("\u{FFFD}")?;
        }
    }
    Ok(())
}

fn debug_bytes(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("\"")?;
    for &b in bytes {
        for c in core::ascii::escape_default(b) {
            fmt::Write::write_char(f, char::from(c))?;
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_lossy(self.0, f)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(self.0, f)
    }
}

impl PartialEq<[u8]> for Text<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<&[u8]> for Text<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A non-empty [`Text`] without spaces: option names, ranges, peer-id text.
///
/// Positional fields are split at single spaces, so a word with a space in it would be
/// read back as two fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Word<'a>(&'a [u8]);

impl<'a> Word<'a> {
    /// Wraps `bytes`.
    ///
    /// # Errors
    ///
    /// [`InvalidText::Empty`] if `bytes` is empty, [`InvalidText::Space`] if it contains a
    /// space, [`InvalidText::LineBreakOrNul`] if it contains NUL, CR or LF.
    pub const fn new(bytes: &'a [u8]) -> Result<Self, InvalidText> {
        match check_word(bytes) {
            Ok(()) => Ok(Word(bytes)),
            Err(e) => Err(e),
        }
    }

    /// For decoders, which split words at spaces out of checked lines.
    pub(crate) const fn from_line(bytes: &'a [u8]) -> Self {
        Word(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The bytes as UTF-8.
    ///
    /// # Errors
    ///
    /// [`core::str::Utf8Error`] if they are not valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.0)
    }

    /// The same bytes as a [`Text`].
    pub const fn as_text(&self) -> Text<'a> {
        Text(self.0)
    }
}

impl<'a> TryFrom<&'a [u8]> for Word<'a> {
    type Error = InvalidText;
    fn try_from(bytes: &'a [u8]) -> Result<Self, InvalidText> {
        Word::new(bytes)
    }
}

impl<'a> TryFrom<&'a str> for Word<'a> {
    type Error = InvalidText;
    fn try_from(s: &'a str) -> Result<Self, InvalidText> {
        Word::new(s.as_bytes())
    }
}

impl fmt::Display for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_lossy(self.0, f)
    }
}

impl fmt::Debug for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_bytes(self.0, f)
    }
}

impl PartialEq<str> for Word<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Word<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A floating-point field kept as the text it was sent as (`0.000000`, `1.5`, `inf`), so
/// that it re-encodes byte for byte; [`Float::to_f64`] gives the number.
///
/// Accepted: what `core`'s `f64` parser accepts (`1`, `-2.5`, `1e3`, `inf`, `nan`, …),
/// except a leading `.`, which the client's positional parser would take for the
/// "leave unchanged" placeholder.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Float<'a>(&'a str);

impl<'a> Float<'a> {
    /// Wraps a number's text.
    ///
    /// # Errors
    ///
    /// [`InvalidText::NotAFloat`] if `text` is not accepted (see the type's docs).
    pub fn new(text: &'a str) -> Result<Self, InvalidText> {
        if text.starts_with('.') || text.parse::<f64>().is_err() {
            Err(InvalidText::NotAFloat)
        } else {
            Ok(Float(text))
        }
    }

    /// The text.
    pub const fn as_str(&self) -> &'a str {
        self.0
    }

    /// The value (never fails: the text was checked by the constructor).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Float<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Float<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Float({})", self.0)
    }
}

/// A field of a positional `CTCONFIG` (protocols 1 and 2), which a server may send as
/// `.` to leave that setting unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Positional<T> {
    /// `.`: leave the setting as it is.
    #[default]
    Keep,
    /// Set the setting to this value.
    Set(T),
}

impl<T> Positional<T> {
    /// The value, or `None` for [`Positional::Keep`].
    pub fn set(self) -> Option<T> {
        match self {
            Positional::Keep => None,
            Positional::Set(v) => Some(v),
        }
    }
}

// ---- reading -------------------------------------------------------------------------

fn invalid_number(at: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidNumber, at)
}

/// Parses `digits` (ASCII, at least one) as an unsigned decimal number.
fn parse_u64(digits: &[u8], at: usize) -> Result<u64, DecodeError> {
    if digits.is_empty() {
        return Err(invalid_number(at));
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(invalid_number(at));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b.wrapping_sub(b'0'))))
            .ok_or(invalid_number(at))?;
    }
    Ok(v)
}

/// Parses an optionally `-`-signed decimal number into an `i64`.
fn parse_i64(field: &[u8], at: usize) -> Result<i64, DecodeError> {
    let (neg, digits) = match field.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, field),
    };
    let magnitude = parse_u64(digits, at)?;
    if neg {
        0i64.checked_sub_unsigned(magnitude)
            .ok_or(invalid_number(at))
    } else {
        i64::try_from(magnitude).map_err(|_| invalid_number(at))
    }
}

fn parse_i32(field: &[u8], at: usize) -> Result<i32, DecodeError> {
    i32::try_from(parse_i64(field, at)?).map_err(|_| invalid_number(at))
}

/// The value of `digits` as [`Reader::take_decimal`] read them (`fast` is their value
/// modulo 2^64), or `None` if there are none or the number does not fit.
#[inline]
fn decimal_value(digits: &[u8], fast: u64) -> Option<u64> {
    match digits.len() {
        0 => None,
        // 19 digits are below 10^19 < 2^64: the fast value is exact.
        1..=19 => Some(fast),
        // Leading zeros can make a long run fit; rare enough to read twice.
        _ => parse_u64(digits, 0).ok(),
    }
}

/// A sign and a magnitude as an `i64`, if it fits.
#[inline]
fn signed(neg: bool, magnitude: u64) -> Option<i64> {
    if neg {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A sign and a magnitude as an `i32`, if it fits.
#[inline]
fn signed_i32(number: Option<(bool, u64)>) -> Option<i32> {
    number
        .and_then(|(neg, m)| signed(neg, m))
        .and_then(|v| i32::try_from(v).ok())
}

/// Ends a number inside a field of `N` numbers (`1:2/3:4/5`, `3,4`) or the field itself.
#[inline]
const fn ends_inner_number(b: u8) -> bool {
    matches!(b, b' ' | b',' | b'/' | b':')
}

/// Ends a number that is a whole field.
#[inline]
const fn ends_field(b: u8) -> bool {
    b == b' '
}

/// Reads the fields that follow a keyword. Every field is preceded by exactly one space;
/// offsets in errors are relative to the whole line.
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    r: Reader<'a>,
}

impl<'a> Fields<'a> {
    /// A tokenizer over `rest`, which starts at byte `base` of the line (right after the
    /// keyword).
    pub(crate) const fn new(rest: &'a [u8], base: usize) -> Self {
        Fields {
            r: Reader::with_base(rest, base),
        }
    }

    /// Splits `line` at its first space: the keyword, and a tokenizer over the rest.
    #[inline]
    pub(crate) fn after_keyword(line: &'a [u8]) -> (&'a [u8], Self) {
        let mut r = Reader::with_base(line, 0);
        let kw = r.take_until(b' ');
        (kw, Fields { r })
    }

    /// Whether every byte was read.
    pub(crate) const fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    #[inline]
    fn separator(&mut self) -> Result<(), DecodeError> {
        if self.r.eat(b' ') {
            Ok(())
        } else if self.r.is_empty() {
            Err(self.r.error(DecodeErrorKind::MissingField))
        } else {
            Err(self.r.error(DecodeErrorKind::InvalidField))
        }
    }

    /// The next space-delimited field (possibly empty, when two spaces follow each other)
    /// and its offset.
    #[inline]
    pub(crate) fn raw(&mut self) -> Result<(&'a [u8], usize), DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        Ok((self.r.take_until(b' '), at))
    }

    /// A non-empty word.
    #[inline]
    pub(crate) fn word(&mut self) -> Result<Word<'a>, DecodeError> {
        let (w, at) = self.raw()?;
        if w.is_empty() {
            Err(DecodeError::new(DecodeErrorKind::InvalidField, at))
        } else {
            Ok(Word::from_line(w))
        }
    }

    /// Reads a number where the cursor is: a `-` if `allow_sign`, then digits, up to a
    /// byte for which `end` holds or the end of the line; returns the sign and the
    /// magnitude, or `None` if that is not a well-formed number (the caller reports
    /// [`DecodeErrorKind::InvalidNumber`] at the number's start and stops reading).
    ///
    /// One pass over the bytes: the same numbers and errors as cutting the field out
    /// and parsing it (as [`parse_i64`] does), since a byte that neither is a digit nor
    /// ends the number makes the whole number invalid either way.
    #[inline(always)]
    fn number(&mut self, allow_sign: bool, end: impl Fn(u8) -> bool) -> Option<(bool, u64)> {
        let neg = allow_sign && self.r.eat(b'-');
        let (digits, fast) = self.r.take_decimal();
        if self.r.peek().is_some_and(|b| !end(b)) {
            return None;
        }
        decimal_value(digits, fast).map(|m| (neg, m))
    }

    /// A C `int`.
    #[inline]
    pub(crate) fn i32(&mut self) -> Result<i32, DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        signed_i32(self.number(true, ends_field)).ok_or(invalid_number(at))
    }

    /// A C `long`.
    #[inline]
    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        self.number(true, ends_field)
            .and_then(|(neg, m)| signed(neg, m))
            .ok_or(invalid_number(at))
    }

    /// An unsigned 64-bit total (`%llu`).
    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        self.number(false, ends_field)
            .map(|(_, m)| m)
            .ok_or(invalid_number(at))
    }

    /// A field made of `N` C `int`s joined by the separators `seps` (`,` for a pair,
    /// `/` for a triple, `:/:/` for the status peer field).
    #[inline]
    pub(crate) fn ints<const N: usize>(&mut self, seps: &[u8]) -> Result<[i32; N], DecodeError> {
        self.separator()?;
        let mut out = [0i32; N];
        let mut seps = seps.iter();
        let mut first = true;
        for slot in out.iter_mut() {
            if !first {
                match seps.next() {
                    Some(&sep) if self.r.eat(sep) => {}
                    _ => return Err(self.r.error(DecodeErrorKind::InvalidField)),
                }
            }
            first = false;
            let start = self.r.offset();
            // Any separator ends a number; one in the wrong place is then caught as a
            // missing separator, or as a separator after the last number.
            *slot =
                signed_i32(self.number(true, ends_inner_number)).ok_or(invalid_number(start))?;
        }
        match self.r.peek() {
            Some(b) if ends_inner_number(b) && !ends_field(b) => {
                Err(self.r.error(DecodeErrorKind::InvalidField))
            }
            _ => Ok(out),
        }
    }

    /// A pair of unsigned totals, `a,b`.
    #[inline]
    pub(crate) fn u64_pair(&mut self) -> Result<[u64; 2], DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        let (_, a) = self
            .number(false, |b| b == b',' || ends_field(b))
            .ok_or(invalid_number(at))?;
        if !self.r.eat(b',') {
            return Err(self.r.error(DecodeErrorKind::InvalidField));
        }
        let at_b = self.r.offset();
        // Everything up to the end of the field, further commas included, is `b`.
        let (_, b) = self.number(false, ends_field).ok_or(invalid_number(at_b))?;
        Ok([a, b])
    }

    /// A `len:value` field: `len` decimal bytes of value, which may hold spaces and colons.
    #[inline]
    pub(crate) fn len_value(&mut self) -> Result<Text<'a>, DecodeError> {
        self.separator()?;
        let at = self.r.offset();
        let (digits, fast) = self.r.take_decimal();
        if !self.r.eat(b':') {
            // Without a colon anywhere there is no length; with one further on, what
            // precedes it is not a number.
            return Err(match self.r.find(b':') {
                Some(_) => invalid_number(at),
                None => DecodeError::new(DecodeErrorKind::InvalidField, at),
            });
        }
        let len = decimal_value(digits, fast).ok_or(invalid_number(at))?;
        let len = usize::try_from(len).map_err(|_| invalid_number(at))?;
        self.r
            .take(len)
            .map(Text::from_line)
            .map_err(|_| DecodeError::new(DecodeErrorKind::LengthOverrun, at))
    }

    /// The rest of the line after one space (possibly empty): file names, paths, text.
    #[inline]
    pub(crate) fn rest(&mut self) -> Result<Text<'a>, DecodeError> {
        self.separator()?;
        Ok(Text::from_line(self.r.take_rest()))
    }

    /// A positional `CTCONFIG` integer or `.`.
    pub(crate) fn positional_i32(&mut self) -> Result<Positional<i32>, DecodeError> {
        let (w, at) = self.raw()?;
        if w == b"." {
            Ok(Positional::Keep)
        } else {
            parse_i32(w, at).map(Positional::Set)
        }
    }

    /// A positional `CTCONFIG` float or `.`.
    pub(crate) fn positional_float(&mut self) -> Result<Positional<Float<'a>>, DecodeError> {
        let (w, at) = self.raw()?;
        if w == b"." {
            return Ok(Positional::Keep);
        }
        core::str::from_utf8(w)
            .ok()
            .and_then(|s| Float::new(s).ok())
            .map(Positional::Set)
            .ok_or(invalid_number(at))
    }

    /// Fails with [`DecodeErrorKind::ExtraField`] unless every byte was read.
    #[inline]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.r.is_empty() {
            Ok(())
        } else {
            Err(self.r.error(DecodeErrorKind::ExtraField))
        }
    }

    /// Consumes and returns the rest, for callers that treat it specially.
    pub(crate) fn take_rest(&mut self) -> &'a [u8] {
        self.r.take_rest()
    }

    /// Consumes spaces; returns how many.
    pub(crate) fn spaces(&mut self) -> usize {
        self.r.take_while(|b| b == b' ').len()
    }

    /// Consumes bytes up to the next space (or the end).
    pub(crate) fn until_space(&mut self) -> (&'a [u8], usize) {
        let at = self.r.offset();
        (self.r.take_until(b' '), at)
    }

    /// An error of `kind` at the current offset.
    pub(crate) const fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        self.r.error(kind)
    }
}

// ---- writing -------------------------------------------------------------------------

/// Where encoders write: a [`Counter`] first (to size the output, so a failed encode
/// leaves the buffer untouched), then a [`Writer`].
pub(crate) trait Out {
    /// Appends bytes.
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError>;
    /// Appends an unsigned decimal number.
    fn u64(&mut self, v: u64) -> Result<(), EncodeError>;
    /// Appends a signed decimal number.
    fn i64(&mut self, v: i64) -> Result<(), EncodeError>;

    /// Appends a space and a C `int`.
    fn sp_i32(&mut self, v: i32) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        self.i64(i64::from(v))
    }

    /// Appends a space and a C `long`.
    fn sp_i64(&mut self, v: i64) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        self.i64(v)
    }

    /// Appends a space and an unsigned total.
    fn sp_u64(&mut self, v: u64) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        self.u64(v)
    }

    /// Appends a space and raw bytes (a word or the rest of the line).
    fn sp_bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        self.bytes(b)
    }

    /// Appends a space and C `int`s joined by `seps`.
    fn sp_ints(&mut self, values: &[i32], seps: &[u8]) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        let mut seps = seps.iter();
        let mut first = true;
        for &v in values {
            if !first {
                self.bytes(&[seps.next().copied().unwrap_or(b' ')])?;
            }
            first = false;
            self.i64(i64::from(v))?;
        }
        Ok(())
    }

    /// Appends a space and a pair of unsigned totals, `a,b`.
    fn sp_u64_pair(&mut self, [a, b]: [u64; 2]) -> Result<(), EncodeError> {
        self.sp_u64(a)?;
        self.bytes(b",")?;
        self.u64(b)
    }

    /// Appends a space and a `len:value` field.
    fn sp_len_value(&mut self, t: Text<'_>) -> Result<(), EncodeError> {
        self.bytes(b" ")?;
        self.u64(u64::try_from(t.len()).unwrap_or(u64::MAX))?;
        self.bytes(b":")?;
        self.bytes(t.as_bytes())
    }

    /// Appends a space and a positional integer or `.`.
    fn sp_positional_i32(&mut self, v: Positional<i32>) -> Result<(), EncodeError> {
        match v {
            Positional::Keep => self.bytes(b" ."),
            Positional::Set(v) => self.sp_i32(v),
        }
    }

    /// Appends a space and a positional float or `.`.
    fn sp_positional_float(&mut self, v: Positional<Float<'_>>) -> Result<(), EncodeError> {
        match v {
            Positional::Keep => self.bytes(b" ."),
            Positional::Set(v) => self.sp_bytes(v.as_str().as_bytes()),
        }
    }

    /// Appends `n` spaces.
    fn spaces(&mut self, n: usize) -> Result<(), EncodeError> {
        for _ in 0..n {
            self.bytes(b" ")?;
        }
        Ok(())
    }
}

/// Counts the bytes an encoder would write.
#[derive(Debug, Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Out for Counter {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.0 = self.0.saturating_add(b.len());
        Ok(())
    }
    fn u64(&mut self, v: u64) -> Result<(), EncodeError> {
        self.0 = self.0.saturating_add(decimal_len_u64(v));
        Ok(())
    }
    fn i64(&mut self, v: i64) -> Result<(), EncodeError> {
        self.0 = self.0.saturating_add(decimal_len_i64(v));
        Ok(())
    }
    fn spaces(&mut self, n: usize) -> Result<(), EncodeError> {
        self.0 = self.0.saturating_add(n);
        Ok(())
    }
}

impl Out for Writer<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        Writer::bytes(self, b)
    }
    fn u64(&mut self, v: u64) -> Result<(), EncodeError> {
        self.decimal_u64(v)
    }
    fn i64(&mut self, v: i64) -> Result<(), EncodeError> {
        self.decimal_i64(v)
    }
}

/// Encodes one line: sizes it with `emit` on a [`Counter`], then writes it and its LF.
pub(crate) fn encode_line(
    buf: &mut [u8],
    emit: impl Fn(&mut dyn Out) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let n = line_len(&emit);
    let mut w = Writer::new(buf, n)?;
    emit(&mut w)?;
    w.bytes(b"\n")?;
    Ok(w.finish())
}

/// The length of the line `emit` writes, LF included.
pub(crate) fn line_len(emit: &impl Fn(&mut dyn Out) -> Result<(), EncodeError>) -> usize {
    let mut c = Counter::default();
    // A counter never fails.
    let _ = emit(&mut c);
    c.0.saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_word_constructors_check_bytes() {
        assert_eq!(Text::new(b"a b"), Ok(Text(b"a b")));
        assert_eq!(Text::new(b"a\nb"), Err(InvalidText::LineBreakOrNul(1)));
        assert_eq!(Text::new(b"\0"), Err(InvalidText::LineBreakOrNul(0)));
        assert_eq!(Text::new(b"ab\r"), Err(InvalidText::LineBreakOrNul(2)));
        assert_eq!(Word::new(b""), Err(InvalidText::Empty));
        assert_eq!(Word::new(b"a b"), Err(InvalidText::Space(1)));
        assert_eq!(Word::new(b"a\n"), Err(InvalidText::LineBreakOrNul(1)));
        assert!(Word::new(b"max_peers").is_ok());
    }

    #[test]
    fn text_display_is_lossy_and_debug_escapes() {
        let t = Text::new(b"a\xffb").unwrap();
        assert_eq!(std::format!("{t}"), "a\u{FFFD}b");
        assert_eq!(std::format!("{t:?}"), "\"a\\xffb\"");
        assert!(t.to_str().is_err());
        assert_eq!(Text::new(b"ok").unwrap().to_str(), Ok("ok"));
        assert_eq!(Text::new(b"ok").unwrap(), "ok");
    }

    #[test]
    fn float_keeps_text_and_refuses_placeholder_lookalikes() {
        let f = Float::new("0.000000").unwrap();
        assert_eq!(f.as_str(), "0.000000");
        assert_eq!(f.to_f64(), 0.0);
        assert_eq!(Float::new("1e3").unwrap().to_f64(), 1000.0);
        assert!(Float::new("inf").is_ok());
        assert_eq!(Float::new(".5"), Err(InvalidText::NotAFloat));
        assert_eq!(Float::new("x"), Err(InvalidText::NotAFloat));
        assert_eq!(Float::new(""), Err(InvalidText::NotAFloat));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_i32(b"-5", 3), Ok(-5));
        assert_eq!(parse_i32(b"2147483647", 0), Ok(i32::MAX));
        assert_eq!(parse_i32(b"-2147483648", 0), Ok(i32::MIN));
        assert_eq!(parse_i32(b"2147483648", 4).unwrap_err().offset(), 4);
        assert_eq!(
            parse_i32(b"", 4).unwrap_err().kind(),
            DecodeErrorKind::InvalidNumber
        );
        assert!(parse_i32(b"-", 0).is_err());
        assert!(parse_i32(b"+1", 0).is_err());
        assert!(parse_i32(b"1a", 0).is_err());
        assert_eq!(parse_u64(b"18446744073709551615", 0), Ok(u64::MAX));
        assert!(parse_u64(b"18446744073709551616", 0).is_err());
        assert_eq!(parse_i64(b"-9223372036854775808", 0), Ok(i64::MIN));
    }

    #[test]
    fn tokenizer_reports_offsets() {
        // "CTX 12 ab 3,4 1:2/3:4/5 5:a b:c 0: tail end"
        let line = b"CTX 12 ab 3,4 1:2/3:4/5 5:a b:c 0: tail end";
        let mut f = Fields::new(line.get(3..).unwrap(), 3);
        assert_eq!(f.i32(), Ok(12));
        assert_eq!(f.word().unwrap(), "ab");
        assert_eq!(f.ints::<2>(b","), Ok([3, 4]));
        assert_eq!(f.ints::<5>(b":/:/"), Ok([1, 2, 3, 4, 5]));
        assert_eq!(f.len_value().unwrap(), "a b:c");
        assert_eq!(f.len_value().unwrap(), "");
        assert_eq!(f.rest().unwrap(), "tail end");
        assert!(f.finish().is_ok());

        let mut f = Fields::new(b" 1,x", 5);
        let e = f.ints::<2>(b",").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidNumber, 8));
        let mut f = Fields::new(b" 1/2", 5);
        let e = f.ints::<2>(b",").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidField, 7));
        let mut f = Fields::new(b" 1,2,3", 0);
        let e = f.ints::<2>(b",").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidField, 4));
        let mut f = Fields::new(b" 9:abc", 10);
        let e = f.len_value().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::LengthOverrun, 11));
        let mut f = Fields::new(b" 3abc", 10);
        let e = f.len_value().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidField, 11));
        let mut f = Fields::new(b"", 10);
        let e = f.i32().unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::MissingField, 10));
        let mut f = Fields::new(b" 1 2", 0);
        f.i32().unwrap();
        assert_eq!(f.finish().unwrap_err().kind(), DecodeErrorKind::ExtraField);
        let mut f = Fields::new(b" . 5 . 1.5", 0);
        assert_eq!(f.positional_i32(), Ok(Positional::Keep));
        assert_eq!(f.positional_i32(), Ok(Positional::Set(5)));
        assert_eq!(f.positional_float(), Ok(Positional::Keep));
        assert_eq!(f.positional_float().unwrap().set().unwrap().as_str(), "1.5");
    }

    #[test]
    fn writers_match_counters() {
        let emit = |o: &mut dyn Out| {
            o.bytes(b"CTX")?;
            o.sp_i32(-5)?;
            o.sp_ints(&[1, 2, 3, 4, 5], b":/:/")?;
            o.sp_len_value(Text::new(b"a b").unwrap())?;
            o.sp_positional_i32(Positional::Keep)?;
            o.sp_u64(u64::MAX)
        };
        let mut buf = [0u8; 64];
        let n = encode_line(&mut buf, emit).unwrap();
        assert_eq!(n, line_len(&emit));
        assert_eq!(
            &buf[..n],
            b"CTX -5 1:2/3:4/5 3:a b . 18446744073709551615\n"
        );
        let mut small = [9u8; 10];
        assert_eq!(encode_line(&mut small, emit).unwrap_err().required(), n);
        assert_eq!(small, [9; 10]);
    }
}
