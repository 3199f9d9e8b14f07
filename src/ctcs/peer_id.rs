//! The text form of a peer id: [`PeerIdText`](super::PeerIdText).

use super::field::Word;
use crate::ctcs::buf::Fill;
use crate::wire::Reader;

/// The longest text form: `0x` and 40 hex digits.
const MAX_LEN: usize = 42;

const fn copied(b: u8) -> bool {
    matches!(b, 0x21..=0x7e)
}

/// The text form of a 20-byte peer id in `CTORRENT` and `CTPEER` (dnh3.3.2
/// `TextPeerID`), in a fixed-size buffer.
///
/// Bytes are copied while they are printable and not white space (C locale
/// `isprint && !isspace`, i.e. `0x21..=0x7e`); at the first other byte the client writes
/// `0x` and then **every remaining byte** as two upper-case hex digits, printable or not.
/// The result is 20 to 42 bytes and never contains a space.
///
/// Reading it back is possible because the length fixes where the hex part starts: a
/// text of `L` bytes with a hex part has a printable prefix of `42 - L` bytes. [`PeerIdText::parse`]
/// accepts exactly the texts that [`PeerIdText::encode`] produces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerIdText {
    text: Fill<MAX_LEN>,
}

impl PeerIdText {
    /// The longest text form: `0x` and 40 hex digits.
    pub const MAX_LEN: usize = MAX_LEN;

    /// The 20-byte peer id whose text form is `text`, or `None` if no peer id formats
    /// to exactly these bytes (wrong length, lower-case or odd hex, a printable first
    /// hex byte that the client would have copied, …).
    pub fn parse(text: &[u8]) -> Option<[u8; 20]> {
        parse(text)
    }

    /// Formats `id` as dnh3.3.2 does.
    pub fn encode(id: &[u8; 20]) -> Self {
        let mut text = Fill::new();
        let printable = id.iter().take_while(|&&b| copied(b)).count();
        let mut r = Reader::new(id);
        let mut fits = text.push(r.take(printable).unwrap_or_default());
        if !r.is_empty() {
            fits &= text.push(b"0x");
            for &b in r.rest() {
                fits &= text.push(&[hex_digit(b >> 4), hex_digit(b & 0x0f)]);
            }
        }
        debug_assert!(fits, "the id has 20 bytes: 2 × 20 + 2 fit the buffer");
        PeerIdText { text }
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_slice()
    }

    /// The text as a [`Word`] (it is never empty and has no space), ready to put in a
    /// `CTORRENT` or `CTPEER` message.
    pub fn as_word(&self) -> Word<'_> {
        Word::from_line(self.text.as_slice())
    }
}

/// The upper-case hex digit for a nibble (`n < 16`).
const fn hex_digit(n: u8) -> u8 {
    if n < 10 {
        b'0'.wrapping_add(n)
    } else {
        b'A'.wrapping_add(n.wrapping_sub(10))
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// See [`PeerIdText::parse`].
fn parse(text: &[u8]) -> Option<[u8; 20]> {
    let prefix_len = MAX_LEN.checked_sub(text.len())?;
    let mut r = Reader::new(text);
    let id = if text.len() == 20 {
        // All 20 bytes were printable (a hex part would need a 22-byte prefix).
        r.array::<20>().ok()?
    } else {
        let prefix = r.take(prefix_len).ok()?;
        if r.take(2).ok()? != b"0x" {
            return None;
        }
        let mut out = Fill::<20>::new();
        out.push(prefix);
        while !r.is_empty() {
            let [hi, lo] = r.array::<2>().ok()?;
            let byte = hex_value(hi)?
                .checked_mul(16)?
                .checked_add(hex_value(lo)?)?;
            if !out.push(&[byte]) {
                return None;
            }
        }
        Reader::new(out.as_slice()).array::<20>().ok()?
    };
    // Only the client's own output is accepted, so that the mapping is one-to-one.
    (PeerIdText::encode(&id).as_bytes() == text).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &[u8]) -> [u8; 20] {
        let id = parse(text).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(text)));
        assert_eq!(PeerIdText::encode(&id).as_bytes(), text);
        id
    }

    use std::string::String;

    #[test]
    fn spec_examples() {
        let id = roundtrip(b"-CD0303-0x07E5815EDD0C5EADD49E7F94");
        assert_eq!(&id[..8], b"-CD0303-");
        assert_eq!(id[8], 0x07);
        let id = roundtrip(b"-CD0303-90x907C61BD9327D51C91A71D");
        assert_eq!(&id[..9], b"-CD0303-9");
        assert_eq!(id[9], 0x90);
        roundtrip(b"-CD0303-UQT0x83BD63685CB64BB4BF");
        roundtrip(b"-CD0303-x;C\\;0x91B87B592FCC05");
        let id = roundtrip(b"-XY0x20312D762F8CC59F09ED4DAD5C4C4B80FB");
        assert_eq!(&id[..6], b"-XY 1-");
    }

    #[test]
    fn encode_examples() {
        // From the p3_session tracker log: b'-CD0303-\x99\xd5\xb0z\x825u<o\xad\xb6B'.
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(b"-CD0303-");
        id[8..].copy_from_slice(b"\x99\xd5\xb0z\x825u<o\xad\xb6B");
        assert_eq!(
            PeerIdText::encode(&id).as_bytes(),
            b"-CD0303-0x99D5B07A8235753C6FADB642"
        );
        let printable = *b"-CD0303-abcdefghijkl";
        assert_eq!(PeerIdText::encode(&printable).as_bytes(), &printable);
        assert_eq!(parse(&printable), Some(printable));
        let zeros = [0u8; 20];
        let t = PeerIdText::encode(&zeros);
        assert_eq!(t.as_bytes().len(), 42);
        assert_eq!(parse(t.as_bytes()), Some(zeros));
    }

    #[test]
    fn rejects_ambiguous_or_foreign_text() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"short"), None);
        // Lower-case hex is not what the client writes.
        assert_eq!(parse(b"-CD0303-0x07e5815edd0c5eadd49e7f94"), None);
        // A printable first hex byte would have been copied.
        assert_eq!(parse(b"-CD0303-0x41E5815EDD0C5EADD49E7F94"), None);
        // "0x" with nothing after it.
        assert_eq!(parse(b"-CD0303-abcdefghijkl0x"), None);
        // Too long.
        assert_eq!(parse(&[b'A'; 43]), None);
        assert_eq!(parse(b"-CD0303-0x07E5815EDD0C5EADD49E7F9G"), None);
    }
}
