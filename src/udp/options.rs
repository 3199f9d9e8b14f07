//! BEP 41 announce options: the bytes after the 98-byte announce request.
//!
//! ```text
//! option := 0x00                      EndOfOptions: stop parsing; later bytes are ignored
//!         | 0x01                      NOP: one byte, no length
//!         | type:u8 len:u8 data[len]  every other type; 0x02 is URLData
//! ```
//!
//! URLData carries the PATH and QUERY of the tracker URL. A long URL is split over several
//! URLData options, which the tracker concatenates; the encoder here writes chunks of at
//! most 255 bytes. Unknown types are skipped by their length, as BEP 41 requires (chihaya
//! rejects them; torrust-actix reads only the first option). A length that runs past the
//! end of the datagram is an error, with the offset of that length byte.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::{Reader, Writer};

/// Option type 0: EndOfOptions.
pub const END_OF_OPTIONS: u8 = 0x00;
/// Option type 1: NOP.
pub const NOP: u8 = 0x01;
/// Option type 2: URLData.
pub const URL_DATA: u8 = 0x02;
/// The largest payload one option can carry (its length is one byte).
pub const MAX_OPTION_DATA: usize = 255;

/// One BEP 41 option, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnounceOption<'a> {
    /// 0x00: the end of the option list.
    EndOfOptions,
    /// 0x01: padding.
    Nop,
    /// 0x02: a chunk of the tracker URL's path and query.
    UrlData(&'a [u8]),
    /// Any other type, with its data (skipped by trackers that do not know it).
    Unknown {
        /// The option type.
        kind: u8,
        /// The option's data.
        data: &'a [u8],
    },
}

impl<'a> AnnounceOption<'a> {
    /// The option's type byte.
    pub const fn kind(&self) -> u8 {
        match self {
            AnnounceOption::EndOfOptions => END_OF_OPTIONS,
            AnnounceOption::Nop => NOP,
            AnnounceOption::UrlData(_) => URL_DATA,
            AnnounceOption::Unknown { kind, .. } => *kind,
        }
    }

    /// The option's data (empty for EndOfOptions and NOP).
    pub const fn data(&self) -> &'a [u8] {
        match self {
            AnnounceOption::EndOfOptions | AnnounceOption::Nop => &[],
            AnnounceOption::UrlData(d) => d,
            AnnounceOption::Unknown { data, .. } => data,
        }
    }
}

/// Reads one option; `Ok(None)` at the end of the input.
fn read_option<'a>(r: &mut Reader<'a>) -> Result<Option<AnnounceOption<'a>>, DecodeError> {
    let Ok(kind) = r.u8() else {
        return Ok(None);
    };
    Ok(Some(match kind {
        END_OF_OPTIONS => AnnounceOption::EndOfOptions,
        NOP => AnnounceOption::Nop,
        _ => {
            let overrun = r.error(DecodeErrorKind::OptionOverrun);
            let len = r.u8().map_err(|_| overrun)?;
            let data = r.take(usize::from(len)).map_err(|_| overrun)?;
            if kind == URL_DATA {
                AnnounceOption::UrlData(data)
            } else {
                AnnounceOption::Unknown { kind, data }
            }
        }
    }))
}

/// A validated BEP 41 option list, borrowed from the datagram.
///
/// It holds every byte after the fixed announce fields: the options up to and including
/// EndOfOptions, and whatever follows it (which BEP 41 says to ignore, and which
/// [`Options::after_end`] exposes). Iteration cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options<'a> {
    raw: &'a [u8],
}

impl<'a> Options<'a> {
    /// An empty option list.
    pub const EMPTY: Options<'static> = Options { raw: &[] };

    /// Validates `bytes` as an option list. Offsets in errors are relative to `bytes`.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::OptionOverrun`] at the offset of a length byte whose option runs
    /// past the end (or at the end, where a length byte is missing).
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_at(bytes, 0)
    }

    /// Like [`Options::decode`], for a list that starts at byte `base` of a datagram.
    pub(crate) fn decode_at(bytes: &'a [u8], base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::with_base(bytes, base);
        while let Some(opt) = read_option(&mut r)? {
            if opt == AnnounceOption::EndOfOptions {
                break;
            }
        }
        Ok(Options { raw: bytes })
    }

    /// The raw bytes, exactly as received.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether there are no bytes at all.
    pub const fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The options in order, up to and including EndOfOptions.
    pub fn iter(&self) -> OptionsIter<'a> {
        OptionsIter {
            r: Reader::new(self.raw),
            done: false,
        }
    }

    /// The bytes after EndOfOptions, which trackers ignore (empty without EndOfOptions).
    pub fn after_end(&self) -> &'a [u8] {
        let mut it = self.iter();
        while it.next().is_some() {}
        it.r.rest()
    }

    /// The URLData chunks, in order; concatenated they are the URL's path and query.
    pub fn url_data(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter().filter_map(|o| match o {
            AnnounceOption::UrlData(d) => Some(d),
            _ => None,
        })
    }

    /// The length of the concatenated URLData.
    pub fn url_data_len(&self) -> usize {
        self.url_data()
            .fold(0usize, |n, c| n.saturating_add(c.len()))
    }

    /// Copies the concatenated URLData into `out` and returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `out` is shorter than [`Options::url_data_len`]; `out` is left
    /// untouched.
    pub fn copy_url_data(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, self.url_data_len())?;
        self.url_data().try_for_each(|c| w.bytes(c))?;
        Ok(w.finish())
    }

    /// The concatenated URLData as an owned vector.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn url_data_to_vec(&self) -> alloc::vec::Vec<u8> {
        self.url_data().flatten().copied().collect()
    }

    /// The concatenated URLData as an owned fixed-capacity vector.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if it is longer than `N`.
    #[cfg(feature = "heapless")]
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn url_data_heapless<const N: usize>(&self) -> Result<heapless::Vec<u8, N>, EncodeError> {
        let mut v = heapless::Vec::new();
        for chunk in self.url_data() {
            v.extend_from_slice(chunk)
                .map_err(|_| EncodeError::new(self.url_data_len()))?;
        }
        Ok(v)
    }
}

impl<'a> IntoIterator for Options<'a> {
    type Item = AnnounceOption<'a>;
    type IntoIter = OptionsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a validated option list; see [`Options::iter`].
#[derive(Debug, Clone)]
pub struct OptionsIter<'a> {
    r: Reader<'a>,
    done: bool,
}

impl<'a> Iterator for OptionsIter<'a> {
    type Item = AnnounceOption<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The list was validated when it was built, so a read error cannot happen here.
        let opt = read_option(&mut self.r).ok().flatten();
        if matches!(opt, None | Some(AnnounceOption::EndOfOptions)) {
            self.done = true;
        }
        opt
    }
}

/// How many bytes [`encode_url_data`] writes for a URL of `url_len` bytes.
pub const fn url_data_encoded_len(url_len: usize, end_of_options: bool) -> usize {
    // Each chunk of up to 255 bytes costs two header bytes. An empty URL is still sent
    // as one empty URLData: BEP 41 reads `02 00` as "supported, no path".
    let chunks = if url_len == 0 {
        1
    } else {
        url_len.div_ceil(MAX_OPTION_DATA)
    };
    let eoo = if end_of_options { 1 } else { 0 };
    url_len
        .saturating_add(chunks.saturating_mul(2))
        .saturating_add(eoo)
}

/// Writes `url` (the tracker URL's path and query) as URLData options of at most 255
/// bytes each, followed by EndOfOptions if asked, and returns the length written.
///
/// libtorrent writes one URLData and truncates at 255 bytes; splitting keeps the whole URL.
///
/// # Errors
///
/// [`EncodeError`] if `buf` is shorter than [`url_data_encoded_len`]; `buf` is untouched.
pub fn encode_url_data(
    url: &[u8],
    end_of_options: bool,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let mut w = Writer::new(buf, url_data_encoded_len(url.len(), end_of_options))?;
    let mut chunks = url.chunks(MAX_OPTION_DATA).peekable();
    if chunks.peek().is_none() {
        w.bytes(&[URL_DATA, 0])?;
    }
    for chunk in chunks {
        w.u8(URL_DATA)?;
        // `chunks` yields at most 255 bytes, so the length fits a byte.
        w.u8(u8::try_from(chunk.len()).unwrap_or(u8::MAX))?;
        w.bytes(chunk)?;
    }
    if end_of_options {
        w.u8(END_OF_OPTIONS)?;
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn parses_every_kind_and_stops_at_end() {
        let raw = [
            1, 1, 2, 5, b'/', b'a', b'b', b'c', b'd', 2, 3, b'e', b'f', b'g', 7, 1, 9, 0, 0xff,
        ];
        let o = Options::decode(&raw).unwrap();
        let all: Vec<_> = o.iter().collect();
        assert_eq!(
            all,
            [
                AnnounceOption::Nop,
                AnnounceOption::Nop,
                AnnounceOption::UrlData(b"/abcd"),
                AnnounceOption::UrlData(b"efg"),
                AnnounceOption::Unknown {
                    kind: 7,
                    data: &[9]
                },
                AnnounceOption::EndOfOptions,
            ]
        );
        assert_eq!(o.after_end(), &[0xff]);
        let mut url = [0u8; 16];
        let n = o.copy_url_data(&mut url).unwrap();
        assert_eq!(&url[..n], b"/abcdefg");
        let mut small = [9u8; 7];
        assert_eq!(o.copy_url_data(&mut small).unwrap_err().required(), 8);
        assert_eq!(small, [9; 7]);
    }

    #[test]
    fn overrun_reports_the_length_byte() {
        let e = Options::decode_at(&[2, 0xff, b'/', b's'], 98).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::OptionOverrun);
        assert_eq!(e.offset(), 99);
        // A missing length byte is reported where it should have been.
        let e = Options::decode(&[1, 7]).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::OptionOverrun, 2));
        // Nothing after EndOfOptions is parsed.
        assert!(Options::decode(&[0, 2, 0xff]).is_ok());
    }

    #[cfg(all(feature = "alloc", feature = "heapless"))]
    #[test]
    fn owned_copies() {
        let raw = [2, 3, b'/', b'a', b'b', 2, 1, b'c'];
        let o = Options::decode(&raw).unwrap();
        assert_eq!(o.url_data_to_vec(), b"/abc");
        assert_eq!(o.url_data_heapless::<4>().unwrap().as_slice(), b"/abc");
        assert_eq!(o.url_data_heapless::<3>().unwrap_err().required(), 4);
        let e = crate::udp::ErrorResponse {
            transaction_id: crate::udp::TransactionId(1),
            message: b"bad \xff id\0",
        };
        assert_eq!(e.to_string_lossy(), "bad \u{fffd} id");
        assert_eq!(e.text_heapless::<8>().unwrap().as_slice(), b"bad \xff id");
    }

    #[test]
    fn url_data_is_chunked_at_255() {
        let url: Vec<u8> = (0..318u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut buf = [0u8; 400];
        let n = encode_url_data(&url, true, &mut buf).unwrap();
        assert_eq!(n, url_data_encoded_len(318, true));
        assert_eq!(n, 318 + 4 + 1);
        assert_eq!(&buf[..2], &[2, 255]);
        assert_eq!(&buf[257..259], &[2, 63]);
        assert_eq!(buf[n - 1], 0);
        let o = Options::decode(&buf[..n]).unwrap();
        let mut back = [0u8; 318];
        o.copy_url_data(&mut back).unwrap();
        assert_eq!(&back[..], &url[..]);
        // An empty URL is one empty URLData.
        assert_eq!(encode_url_data(b"", false, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], &[2, 0]);
        // Exactly 255 bytes is one chunk.
        assert_eq!(url_data_encoded_len(255, false), 257);
        assert_eq!(url_data_encoded_len(256, false), 260);
    }
}
