//! Owned, fixed-capacity copies of the borrowed text fields ([`Text`], [`Word`]) that
//! messages and events lend out, for a caller who keeps a value past the buffer it came
//! from (the session's input buffer is reused at the next `poll_event`).

use core::fmt;

use crate::ctcs::field::{Text, Word};
use crate::ctcs::line::DEFAULT_MAX_LINE_LEN;
use crate::error::UsageError;

/// An owned copy of a [`Text`] in up to `N` bytes (default: a whole line,
/// [`DEFAULT_MAX_LINE_LEN`]); it still holds no NUL, CR or LF, so
/// [`as_text`](OwnedText::as_text) lends it back as a [`Text`] to put in a message.
///
/// ```
/// use trackwire::ctcs::{OwnedText, ServerMessage, Version};
///
/// let kept: OwnedText<64> = {
///     let line = b"SETDLIMIT 2048.9".to_vec();
///     let ServerMessage::SetDlimit(s) = ServerMessage::decode(&line, Version::V3)? else {
///         unreachable!()
///     };
///     s.dl_limit.to_heapless()?
/// }; // the line is gone, the copy stays
/// assert_eq!(kept.as_text(), "2048.9");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct OwnedText<const N: usize = DEFAULT_MAX_LINE_LEN>(heapless::Vec<u8, N>);

impl<const N: usize> OwnedText<N> {
    /// The copy, lent as a [`Text`].
    pub fn as_text(&self) -> Text<'_> {
        // Copied from a `Text`, so it holds no NUL, CR or LF.
        Text::from_line(self.0.as_slice())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The bytes, as the `heapless::Vec` that holds them.
    pub fn into_inner(self) -> heapless::Vec<u8, N> {
        self.0
    }
}

impl<const N: usize> TryFrom<Text<'_>> for OwnedText<N> {
    type Error = UsageError;

    /// See [`Text::to_heapless`].
    fn try_from(text: Text<'_>) -> Result<Self, UsageError> {
        heapless::Vec::from_slice(text.as_bytes())
            .map(OwnedText)
            .map_err(|()| UsageError::too_long("text"))
    }
}

impl<const N: usize> fmt::Display for OwnedText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_text(), f)
    }
}

impl<const N: usize> fmt::Debug for OwnedText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_text(), f)
    }
}

impl<const N: usize> PartialEq<str> for OwnedText<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for OwnedText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// An owned copy of a [`Word`] in up to `N` bytes (default 64: peer id texts are at most
/// 42 bytes, option names are short words); it is still non-empty with no space, NUL,
/// CR or LF, so [`as_word`](OwnedWord::as_word) lends it back as a [`Word`].
#[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OwnedWord<const N: usize = 64>(heapless::Vec<u8, N>);

impl<const N: usize> OwnedWord<N> {
    /// The copy, lent as a [`Word`].
    pub fn as_word(&self) -> Word<'_> {
        // Copied from a `Word`, so it is a valid word.
        Word::from_line(self.0.as_slice())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The bytes, as the `heapless::Vec` that holds them.
    pub fn into_inner(self) -> heapless::Vec<u8, N> {
        self.0
    }
}

impl<const N: usize> TryFrom<Word<'_>> for OwnedWord<N> {
    type Error = UsageError;

    /// See [`Word::to_heapless`].
    fn try_from(word: Word<'_>) -> Result<Self, UsageError> {
        heapless::Vec::from_slice(word.as_bytes())
            .map(OwnedWord)
            .map_err(|()| UsageError::too_long("word"))
    }
}

impl<const N: usize> fmt::Display for OwnedWord<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_word(), f)
    }
}

impl<const N: usize> fmt::Debug for OwnedWord<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_word(), f)
    }
}

impl<const N: usize> PartialEq<str> for OwnedWord<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for OwnedWord<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Text<'_> {
    /// An owned copy in up to `N` bytes, to keep past the buffer this text borrows.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the text is longer
    /// than `N` bytes.
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn to_heapless<const N: usize>(&self) -> Result<OwnedText<N>, UsageError> {
        OwnedText::try_from(*self)
    }
}

impl Word<'_> {
    /// An owned copy in up to `N` bytes, to keep past the buffer this word borrows.
    ///
    /// # Errors
    ///
    /// [`UsageErrorKind::TooLong`](crate::UsageErrorKind::TooLong) if the word is longer
    /// than `N` bytes.
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn to_heapless<const N: usize>(&self) -> Result<OwnedWord<N>, UsageError> {
        OwnedWord::try_from(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UsageErrorKind;

    #[test]
    fn copies_lend_back_what_they_copied() {
        let line = std::vec::Vec::from(&b"CTCONFIG max_peers 60"[..]);
        let name = Word::new(&line[9..18]).unwrap();
        let value = Text::new(&line[19..]).unwrap();
        let (name, value): (OwnedWord<16>, OwnedText<4>) =
            (name.to_heapless().unwrap(), value.to_heapless().unwrap());
        drop(line);
        assert_eq!(name, "max_peers");
        assert_eq!(name.as_word(), Word::new(b"max_peers").unwrap());
        assert_eq!(value.as_text(), "60");
        assert_eq!(std::format!("{name} {value:?}"), "max_peers \"60\"");
        assert_eq!(
            Text::new(b"12345")
                .unwrap()
                .to_heapless::<4>()
                .map_err(|e| e.kind()),
            Err(UsageErrorKind::TooLong)
        );
        assert_eq!(
            Word::new(b"abc")
                .unwrap()
                .to_heapless::<2>()
                .map_err(|e| e.kind()),
            Err(UsageErrorKind::TooLong)
        );
        assert_eq!(OwnedText::<8>::default().as_text(), Text::EMPTY);
    }
}
