//! Lists of fixed-size entries: the info hashes of a scrape request, the rows of a scrape
//! response and the compact peers of an announce response.
//!
//! One list type for all three, [`RecordList`]: borrowed from a datagram (validated once,
//! then iterated without failure) or from the caller's slice when encoding.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use crate::error::DecodeError;
#[cfg(feature = "heapless")]
use crate::error::EncodeError;
use crate::udp::layout::{peer_v4, peer_v6, scrape_request, scrape_row};
use crate::udp::types::{InfoHash, ScrapeRow};
use crate::wire::{get, set, Reader, Writer};

/// An entry of fixed size in a UDP tracker list: [`InfoHash`] (scrape requests),
/// [`ScrapeRow`] (scrape responses), [`SocketAddrV4`] and [`SocketAddrV6`] (compact
/// peers).
///
/// Sealed: the wire forms are BEP 15's, and the lists rely on every entry being exactly
/// [`Record::LEN`] bytes.
pub trait Record: Copy + core::fmt::Debug + PartialEq + sealed::Sealed {
    /// The entry's size on the wire.
    const LEN: usize;
}

pub(crate) mod sealed {
    /// Keeps [`Record`](super::Record) to the forms this crate implements, and holds what
    /// only the codecs call.
    pub trait Sealed: Sized {
        /// The entry read from its wire bytes (exactly `LEN` of them).
        fn read(wire: &[u8]) -> Self;
        /// Writes the entry's wire form into `wire` (exactly `LEN` bytes).
        fn write(&self, wire: &mut [u8]);
    }
}

/// Appends the wire forms of `items` to `w`, as many as fit the room the encoder checked
/// up front (it sizes the window for exactly its entries, which bounds the count).
#[inline]
pub(crate) fn write_all<T: Record>(items: impl IntoIterator<Item = T>, w: &mut Writer<'_>) {
    w.records_with_stride(T::LEN, items, |wire, item: T| item.write(wire));
}

/// A list of [`Record`]s: borrowed from a datagram (the wire bytes, validated to be whole
/// entries) or from the caller's slice when encoding. Iterating yields copies.
///
/// The public names are [`InfoHashes`](crate::udp::InfoHashes) and
/// [`ScrapeRows`](crate::udp::ScrapeRows); [`Peers`](crate::udp::Peers) iterates its
/// entries as `RecordList`s of either address family.
#[derive(Debug, Clone, Copy)]
pub struct RecordList<'a, T: Record>(Repr<'a, T>);

/// Where a [`RecordList`]'s entries are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Repr<'a, T> {
    /// Wire bytes, a whole number of entries.
    Wire(&'a [u8]),
    /// Values to encode.
    Slice(&'a [T]),
}

impl<'a, T: Record> RecordList<'a, T> {
    /// Entries to encode.
    pub const fn from_slice(items: &'a [T]) -> Self {
        RecordList(Repr::Slice(items))
    }

    /// Wire bytes whose length the caller has checked to be a whole number of entries.
    #[inline]
    pub(crate) const fn from_wire(bytes: &'a [u8]) -> Self {
        RecordList(Repr::Wire(bytes))
    }

    /// Validates `bytes`, which start at byte `base` of a datagram, as whole entries.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::PartialRecord`](crate::DecodeErrorKind::PartialRecord) at the
    /// offset of a partial last entry.
    #[inline]
    pub(crate) fn decode_at(bytes: &'a [u8], base: usize) -> Result<Self, DecodeError> {
        Reader::with_base(bytes, base)
            .records(stride::<T>())
            .map(Self::from_wire)
    }

    /// Where the entries are, for the encoders.
    #[inline]
    pub(crate) const fn repr(&self) -> Repr<'a, T> {
        self.0
    }

    /// How many entries there are.
    #[inline]
    pub const fn len(&self) -> usize {
        match self.0 {
            Repr::Wire(b) => match b.len().checked_div(T::LEN) {
                Some(n) => n,
                None => 0,
            },
            Repr::Slice(s) => s.len(),
        }
    }

    /// Whether there are none.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries in order.
    #[inline]
    pub fn iter(&self) -> RecordIter<'a, T> {
        RecordIter(self.0)
    }

    /// The entries as contiguous wire bytes, when they were decoded from a datagram.
    #[inline]
    pub const fn wire_bytes(&self) -> Option<&'a [u8]> {
        match self.0 {
            Repr::Wire(b) => Some(b),
            Repr::Slice(_) => None,
        }
    }

    /// The entries as an owned fixed-capacity vector, to keep past the datagram.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if there are more than `N` entries; its
    /// [`required`](EncodeError::required) is the number of entries.
    #[cfg(feature = "heapless")]
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn to_heapless<const N: usize>(&self) -> Result<heapless::Vec<T, N>, EncodeError> {
        if self.len() > N {
            return Err(EncodeError::new(self.len()));
        }
        Ok(self.iter().collect())
    }
}

/// The stride [`Reader::records`] checks: every `Record::LEN` is far below 256.
#[inline(always)]
fn stride<T: Record>() -> u8 {
    u8::try_from(T::LEN).unwrap_or(u8::MAX)
}

impl<T: Record> PartialEq for RecordList<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Record> Eq for RecordList<'_, T> {}

impl<'a, T: Record> IntoIterator for RecordList<'a, T> {
    type Item = T;
    type IntoIter = RecordIter<'a, T>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T: Record> IntoIterator for &RecordList<'a, T> {
    type Item = T;
    type IntoIter = RecordIter<'a, T>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`RecordList`], yielding copies; see [`RecordList::iter`].
#[derive(Debug, Clone)]
pub struct RecordIter<'a, T: Record>(Repr<'a, T>);

impl<T: Record> Iterator for RecordIter<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match &mut self.0 {
            // `T::LEN` is a constant here, so this is a fixed-size split, as a
            // const-generic chunk iterator would do.
            Repr::Wire(rest) => {
                let (head, tail) = rest.split_at_checked(T::LEN)?;
                *rest = tail;
                Some(T::read(head))
            }
            Repr::Slice(s) => {
                let (head, tail) = s.split_first()?;
                *s = tail;
                Some(*head)
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = RecordList(self.0).len();
        (n, Some(n))
    }

    // Internal iteration (`for_each`, `fold`, `sum`, …) tests the representation once,
    // not once per entry.
    #[inline]
    fn fold<B, F: FnMut(B, T) -> B>(self, init: B, f: F) -> B {
        match self.0 {
            Repr::Wire(rest) => rest.chunks_exact(T::LEN.max(1)).map(T::read).fold(init, f),
            Repr::Slice(s) => s.iter().copied().fold(init, f),
        }
    }
}

impl<T: Record> ExactSizeIterator for RecordIter<'_, T> {}

impl<T: Record> DoubleEndedIterator for RecordIter<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        match &mut self.0 {
            Repr::Wire(rest) => {
                let at = rest.len().checked_sub(T::LEN)?;
                let (head, tail) = rest.split_at_checked(at)?;
                *rest = head;
                Some(T::read(tail))
            }
            Repr::Slice(s) => {
                let (last, head) = s.split_last()?;
                *s = head;
                Some(*last)
            }
        }
    }
}

impl<T: Record> core::iter::FusedIterator for RecordIter<'_, T> {}

// ---- the four entries -----------------------------------------------------------------

/// Reads a fixed-size entry from a slice that is exactly `N` bytes (the lists split them
/// so); zeros otherwise, which the lists rule out.
#[inline(always)]
fn block<const N: usize>(wire: &[u8]) -> [u8; N] {
    match wire.first_chunk::<N>() {
        Some(b) => *b,
        None => [0; N],
    }
}

/// The `N`-byte block of an entry being written (see [`block`]); `None` is ruled out.
#[inline(always)]
fn block_mut<const N: usize>(wire: &mut [u8]) -> Option<&mut [u8; N]> {
    wire.first_chunk_mut::<N>()
}

impl Record for InfoHash {
    const LEN: usize = scrape_request::INFO_HASH_LEN;
}

impl sealed::Sealed for InfoHash {
    #[inline(always)]
    fn read(wire: &[u8]) -> Self {
        InfoHash(block(wire))
    }

    #[inline(always)]
    fn write(&self, wire: &mut [u8]) {
        if let Some(d) = block_mut::<{ scrape_request::INFO_HASH_LEN }>(wire) {
            *d = self.0;
        }
    }
}

impl ScrapeRow {
    /// The row's wire form.
    #[inline(always)]
    pub(crate) fn put(&self, b: &mut [u8; scrape_row::LEN]) {
        set(b, scrape_row::COMPLETE, self.complete.to_be_bytes());
        set(b, scrape_row::DOWNLOADED, self.downloaded.to_be_bytes());
        set(b, scrape_row::INCOMPLETE, self.incomplete.to_be_bytes());
    }
}

impl Record for ScrapeRow {
    const LEN: usize = scrape_row::LEN;
}

impl sealed::Sealed for ScrapeRow {
    #[inline(always)]
    fn read(wire: &[u8]) -> Self {
        let b: [u8; scrape_row::LEN] = block(wire);
        ScrapeRow {
            complete: u32::from_be_bytes(get(&b, scrape_row::COMPLETE)),
            downloaded: u32::from_be_bytes(get(&b, scrape_row::DOWNLOADED)),
            incomplete: u32::from_be_bytes(get(&b, scrape_row::INCOMPLETE)),
        }
    }

    #[inline(always)]
    fn write(&self, wire: &mut [u8]) {
        if let Some(d) = block_mut(wire) {
            self.put(d);
        }
    }
}

impl Record for SocketAddrV4 {
    const LEN: usize = peer_v4::LEN;
}

impl sealed::Sealed for SocketAddrV4 {
    #[inline(always)]
    fn read(wire: &[u8]) -> Self {
        let b: [u8; peer_v4::LEN] = block(wire);
        SocketAddrV4::new(
            Ipv4Addr::from(get(&b, peer_v4::IP)),
            u16::from_be_bytes(get(&b, peer_v4::PORT)),
        )
    }

    #[inline(always)]
    fn write(&self, wire: &mut [u8]) {
        if let Some(d) = block_mut(wire) {
            put_v4(d, *self);
        }
    }
}

impl Record for SocketAddrV6 {
    const LEN: usize = peer_v6::LEN;
}

impl sealed::Sealed for SocketAddrV6 {
    #[inline(always)]
    fn read(wire: &[u8]) -> Self {
        let b: [u8; peer_v6::LEN] = block(wire);
        SocketAddrV6::new(
            Ipv6Addr::from(get(&b, peer_v6::IP)),
            u16::from_be_bytes(get(&b, peer_v6::PORT)),
            0,
            0,
        )
    }

    #[inline(always)]
    fn write(&self, wire: &mut [u8]) {
        if let Some(d) = block_mut(wire) {
            put_v6(d, *self);
        }
    }
}

/// Writes the compact form of an IPv4 peer.
#[inline]
pub(crate) fn put_v4(rec: &mut [u8; peer_v4::LEN], p: SocketAddrV4) {
    set(rec, peer_v4::IP, p.ip().octets());
    set(rec, peer_v4::PORT, p.port().to_be_bytes());
}

/// Writes the compact form of an IPv6 peer.
#[inline]
pub(crate) fn put_v6(rec: &mut [u8; peer_v6::LEN], p: SocketAddrV6) {
    set(rec, peer_v6::IP, p.ip().octets());
    set(rec, peer_v6::PORT, p.port().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use std::vec::Vec;

    #[test]
    fn wire_and_slice_lists_agree() {
        let rows = [
            ScrapeRow {
                complete: 1,
                downloaded: 2,
                incomplete: 3,
            },
            ScrapeRow {
                complete: 0x0a0b_0c0d,
                downloaded: 0,
                incomplete: u32::MAX,
            },
        ];
        let mut wire = [0u8; 24];
        for (d, r) in wire.chunks_exact_mut(12).zip(&rows) {
            r.put(d.try_into().unwrap());
        }
        let decoded = RecordList::<ScrapeRow>::decode_at(&wire, 8).unwrap();
        let given = RecordList::from_slice(&rows);
        assert_eq!(decoded, given);
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded.wire_bytes(), Some(&wire[..]));
        assert_eq!(given.wire_bytes(), None);
        assert_eq!(decoded.iter().rev().collect::<Vec<_>>(), [rows[1], rows[0]]);
        assert_eq!(given.iter().rev().collect::<Vec<_>>(), [rows[1], rows[0]]);
        let mut it = decoded.iter();
        assert_eq!(it.len(), 2);
        it.next();
        assert_eq!(it.len(), 1);
    }

    #[test]
    fn a_partial_entry_is_reported_where_it_starts() {
        let e = RecordList::<SocketAddrV6>::decode_at(&[0; 40], 20).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::PartialRecord { stride: 18 });
        assert_eq!(e.offset(), 20 + 36);
        assert!(RecordList::<InfoHash>::decode_at(&[], 16)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn peers_read_what_they_write() {
        let p: SocketAddrV4 = "10.1.2.3:6881".parse().unwrap();
        let mut b = [0u8; 6];
        put_v4(&mut b, p);
        assert_eq!(b, [10, 1, 2, 3, 0x1a, 0xe1]);
        assert_eq!(<SocketAddrV4 as sealed::Sealed>::read(&b), p);
        let q: SocketAddrV6 = "[2001:db8::1]:443".parse().unwrap();
        let mut b = [0u8; 18];
        put_v6(&mut b, q);
        assert_eq!(&b[16..], &[1, 0xbb]);
        assert_eq!(<SocketAddrV6 as sealed::Sealed>::read(&b), q);
    }
}
