//! Responses, sent by trackers to clients: connect, announce, scrape and error (BEP 15,
//! <https://www.bittorrent.org/beps/bep_0015.html>). The fields of each are listed,
//! with their offsets, once: in the crate's layout table, which decode and encode share.
//!
//! The peer format follows the address family of the socket, which the caller passes in:
//! it is never guessed from the length (every 18-byte list is also a multiple of 6).
//! Peer lists and scrape rows are validated once (a partial last entry is an error at its
//! offset) and then iterated lazily from the datagram.

use core::net::{SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::udp::layout::{
    announce_response as ann, connect_response, error_response, peer_v4, peer_v6,
    response_header as hdr, scrape_response, scrape_row,
};
pub(crate) use crate::udp::records::{put_v4, put_v6};
use crate::udp::records::{write_all, Record, RecordIter, RecordList, Repr};
pub use crate::udp::types::ScrapeRow;
use crate::udp::types::{Action, AddressFamily, ConnectionId, TransactionId};
#[cfg(feature = "alloc")]
use crate::wire::append_to_vec;
use crate::wire::{encode_into, get, set, Reader, Sink, Writer};

/// The length of a connect response.
pub const CONNECT_RESPONSE_LEN: usize = connect_response::LEN;
/// The length of an announce response's fixed part.
pub const ANNOUNCE_RESPONSE_HEADER_LEN: usize = ann::LEN;
/// The length of one IPv4 peer entry.
pub const PEER_V4_LEN: usize = peer_v4::LEN;
/// The length of one IPv6 peer entry.
pub const PEER_V6_LEN: usize = peer_v6::LEN;
/// The length of a scrape response's fixed part.
pub const SCRAPE_RESPONSE_HEADER_LEN: usize = scrape_response::HEADER_LEN;
/// The length of one scrape row.
pub const SCRAPE_ROW_LEN: usize = scrape_row::LEN;
/// The length of an error response's fixed part.
pub const ERROR_RESPONSE_HEADER_LEN: usize = error_response::HEADER_LEN;

/// Reads the action and transaction id every response starts with, with one bounds check.
#[inline]
fn read_header(bytes: &[u8]) -> Result<(u32, TransactionId), DecodeError> {
    let b = Reader::new(bytes).block::<{ hdr::LEN }>(&hdr::FIELDS)?;
    Ok((
        u32::from_be_bytes(get(b, hdr::ACTION)),
        TransactionId(u32::from_be_bytes(get(b, hdr::TRANSACTION_ID))),
    ))
}

/// Writes the header fields into the first bytes of a response's fixed block.
#[inline(always)]
fn put_header<const N: usize>(b: &mut [u8; N], action: Action, tid: TransactionId) {
    set(b, hdr::ACTION, action.to_u32().to_be_bytes());
    set(b, hdr::TRANSACTION_ID, tid.0.to_be_bytes());
}

#[inline]
fn expect_action(action: u32, want: Action) -> Result<(), DecodeError> {
    if action == want.to_u32() {
        Ok(())
    } else {
        Err(DecodeError::new(
            DecodeErrorKind::UnknownAction(action),
            hdr::ACTION.start(),
        ))
    }
}

/// The bytes after a response's fixed part of `len` bytes.
#[inline(always)]
fn after(bytes: &[u8], len: usize) -> &[u8] {
    bytes.get(len..).unwrap_or_default()
}

/// A connect response, carrying the connection id for later requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectResponse {
    /// The transaction id of the connect request.
    pub transaction_id: TransactionId,
    /// The id to use in announce and scrape requests.
    pub connection_id: ConnectionId,
}

impl ConnectResponse {
    /// The encoded length.
    pub const LEN: usize = CONNECT_RESPONSE_LEN;

    /// Decodes a connect response; bytes after the first 16 are ignored (BEP 15: "do not
    /// expect packets to be exactly of a certain size").
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Truncated`] if shorter than 16 bytes;
    /// [`DecodeErrorKind::UnknownAction`] (offset 0) if the action is not 0.
    #[inline]
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (action, _) = read_header(bytes)?;
        expect_action(action, Action::Connect)?;
        Self::body(bytes)
    }

    /// Decodes a datagram whose header says it is a connect response.
    #[inline]
    fn body(bytes: &[u8]) -> Result<Self, DecodeError> {
        let b = Reader::new(bytes).block::<{ connect_response::LEN }>(&connect_response::FIELDS)?;
        Ok(ConnectResponse {
            transaction_id: TransactionId(u32::from_be_bytes(get(
                b,
                connect_response::TRANSACTION_ID,
            ))),
            connection_id: ConnectionId(u64::from_be_bytes(get(
                b,
                connect_response::CONNECTION_ID,
            ))),
        })
    }

    /// Encodes the response into `buf` and returns its length (16).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than 16 bytes; `buf` is untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_into(buf, Self::LEN, |w| self.write(w))
    }

    /// Appends the response to `out` (nothing is zero-filled first) and returns its
    /// length (16).
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn encode_to_vec(&self, out: &mut alloc::vec::Vec<u8>) -> usize {
        append_to_vec(out, Self::LEN, |s| self.write(s))
    }

    #[inline]
    fn write<S: Sink>(&self, s: &mut S) -> Result<(), S::Error> {
        s.block(|b: &mut [u8; connect_response::LEN]| {
            put_header(b, Action::Connect, self.transaction_id);
            set(
                b,
                connect_response::CONNECTION_ID,
                self.connection_id.0.to_be_bytes(),
            );
        })
    }
}

/// A peer address that has a compact wire form: [`SocketAddrV4`] (6 bytes) or
/// [`SocketAddrV6`] (18 bytes), for [`AnnounceResponse::encode_with_peers`].
///
/// Sealed (through [`Record`]): these two are the only forms BEP 15 defines, and the
/// encoders rely on each filling the room they reserved.
pub trait CompactPeer: Record {
    /// The family whose responses carry this form.
    const FAMILY: AddressFamily;
}

impl CompactPeer for SocketAddrV4 {
    const FAMILY: AddressFamily = AddressFamily::Ipv4;
}

impl CompactPeer for SocketAddrV6 {
    const FAMILY: AddressFamily = AddressFamily::Ipv6;
}

/// A compact peer list of one address family, borrowed from a datagram or from the
/// caller's buffer of compact entries (trackers often store peers that way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peers<'a> {
    family: AddressFamily,
    /// Whole entries of `family`, checked when the list was made.
    raw: &'a [u8],
}

impl<'a> Peers<'a> {
    /// An empty list.
    pub const fn empty(family: AddressFamily) -> Peers<'static> {
        Peers { family, raw: &[] }
    }

    /// Compact entries of `family`, validated.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::PartialRecord`] (offset relative to `raw`) if `raw` is not a
    /// whole number of entries.
    pub fn from_compact(family: AddressFamily, raw: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_at(family, raw, 0)
    }

    #[inline]
    fn decode_at(family: AddressFamily, raw: &'a [u8], base: usize) -> Result<Self, DecodeError> {
        let raw = match family {
            AddressFamily::Ipv4 => RecordList::<SocketAddrV4>::decode_at(raw, base)?.wire_bytes(),
            AddressFamily::Ipv6 => RecordList::<SocketAddrV6>::decode_at(raw, base)?.wire_bytes(),
        };
        Ok(Peers {
            family,
            raw: raw.unwrap_or_default(),
        })
    }

    /// The address family of the entries.
    #[inline]
    pub const fn family(&self) -> AddressFamily {
        self.family
    }

    /// The compact entries, as on the wire.
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// How many peers there are.
    #[inline]
    pub const fn len(&self) -> usize {
        match self.family {
            AddressFamily::Ipv4 => self.raw.len() / PEER_V4_LEN,
            AddressFamily::Ipv6 => self.raw.len() / PEER_V6_LEN,
        }
    }

    /// Whether there are none.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The first `n` peers (all of them if there are fewer).
    pub fn first(&self, n: usize) -> Self {
        let keep = n.saturating_mul(self.family.peer_len()).min(self.raw.len());
        Peers {
            family: self.family,
            raw: self.raw.get(..keep).unwrap_or_default(),
        }
    }

    /// The peers in order.
    #[inline]
    pub fn iter(&self) -> PeerIter<'a> {
        PeerIter(match self.family {
            AddressFamily::Ipv4 => PeerIterRepr::V4(RecordList::from_wire(self.raw).iter()),
            AddressFamily::Ipv6 => PeerIterRepr::V6(RecordList::from_wire(self.raw).iter()),
        })
    }

    /// The peers as IPv4 addresses, if this is an IPv4 list.
    #[inline]
    pub fn iter_v4(&self) -> Option<RecordIter<'a, SocketAddrV4>> {
        match self.family {
            AddressFamily::Ipv4 => Some(RecordList::from_wire(self.raw).iter()),
            AddressFamily::Ipv6 => None,
        }
    }

    /// The peers as IPv6 addresses, if this is an IPv6 list.
    #[inline]
    pub fn iter_v6(&self) -> Option<RecordIter<'a, SocketAddrV6>> {
        match self.family {
            AddressFamily::Ipv6 => Some(RecordList::from_wire(self.raw).iter()),
            AddressFamily::Ipv4 => None,
        }
    }

    /// The peers as an owned fixed-capacity vector, to keep past the datagram.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if there are more than `N` peers; its
    /// [`required`](EncodeError::required) is the number of peers.
    #[cfg(feature = "heapless")]
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn to_heapless<const N: usize>(&self) -> Result<heapless::Vec<SocketAddr, N>, EncodeError> {
        if self.len() > N {
            return Err(EncodeError::new(self.len()));
        }
        Ok(self.iter().collect())
    }
}

impl<'a> IntoIterator for Peers<'a> {
    type Item = SocketAddr;
    type IntoIter = PeerIter<'a>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Debug, Clone)]
enum PeerIterRepr<'a> {
    V4(RecordIter<'a, SocketAddrV4>),
    V6(RecordIter<'a, SocketAddrV6>),
}

/// Iterator over [`Peers`], yielding socket addresses.
#[derive(Debug, Clone)]
pub struct PeerIter<'a>(PeerIterRepr<'a>);

impl Iterator for PeerIter<'_> {
    type Item = SocketAddr;

    #[inline]
    fn next(&mut self) -> Option<SocketAddr> {
        match &mut self.0 {
            PeerIterRepr::V4(r) => r.next().map(SocketAddr::V4),
            PeerIterRepr::V6(r) => r.next().map(SocketAddr::V6),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            PeerIterRepr::V4(r) => r.size_hint(),
            PeerIterRepr::V6(r) => r.size_hint(),
        }
    }
    // One test of the family for the whole list (see `RecordIter::fold`).
    #[inline]
    fn fold<B, F: FnMut(B, SocketAddr) -> B>(self, init: B, mut f: F) -> B {
        match self.0 {
            PeerIterRepr::V4(r) => r.fold(init, |acc, p| f(acc, SocketAddr::V4(p))),
            PeerIterRepr::V6(r) => r.fold(init, |acc, p| f(acc, SocketAddr::V6(p))),
        }
    }
}

impl ExactSizeIterator for PeerIter<'_> {}

/// An announce response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceResponse<'a> {
    /// The transaction id of the announce request.
    pub transaction_id: TransactionId,
    /// Seconds the client should wait before announcing again.
    pub interval: u32,
    /// Peers in the swarm that are still downloading.
    pub leechers: u32,
    /// Peers in the swarm that have the whole torrent.
    pub seeders: u32,
    /// The peers handed out.
    pub peers: Peers<'a>,
}

impl<'a> AnnounceResponse<'a> {
    /// Decodes an announce response received on a socket of `family`.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Truncated`] if shorter than 20 bytes;
    /// [`DecodeErrorKind::UnknownAction`] (offset 0) if the action is not 1;
    /// [`DecodeErrorKind::PartialRecord`] at the start of a partial last peer.
    #[inline]
    pub fn decode(bytes: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        let (action, _) = read_header(bytes)?;
        expect_action(action, Action::Announce)?;
        Self::body(bytes, family)
    }

    /// Decodes a datagram whose header says it is an announce response.
    #[inline]
    fn body(bytes: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        let b = Reader::new(bytes).block::<{ ann::LEN }>(&ann::FIELDS)?;
        Ok(AnnounceResponse {
            transaction_id: TransactionId(u32::from_be_bytes(get(b, ann::TRANSACTION_ID))),
            interval: u32::from_be_bytes(get(b, ann::INTERVAL)),
            leechers: u32::from_be_bytes(get(b, ann::LEECHERS)),
            seeders: u32::from_be_bytes(get(b, ann::SEEDERS)),
            peers: Peers::decode_at(family, after(bytes, ann::LEN), ann::LEN)?,
        })
    }

    /// The encoded length: 20 plus the peers.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        ANNOUNCE_RESPONSE_HEADER_LEN.saturating_add(self.peers.raw.len())
    }

    #[inline]
    fn write_header<S: Sink>(&self, s: &mut S) -> Result<(), S::Error> {
        s.block(|b: &mut [u8; ann::LEN]| {
            put_header(b, Action::Announce, self.transaction_id);
            set(b, ann::INTERVAL, self.interval.to_be_bytes());
            set(b, ann::LEECHERS, self.leechers.to_be_bytes());
            set(b, ann::SEEDERS, self.seeders.to_be_bytes());
        })
    }

    #[inline]
    fn write<S: Sink>(&self, s: &mut S) -> Result<(), S::Error> {
        self.write_header(s)?;
        s.bytes(self.peers.raw)
    }

    /// Encodes the response with its compact [`peers`](AnnounceResponse::peers) and
    /// returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`AnnounceResponse::encoded_len`]; `buf`
    /// is untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_into(buf, self.encoded_len(), |w| self.write(w))
    }

    /// Appends the response with its compact [`peers`](AnnounceResponse::peers) to `out`
    /// (nothing is zero-filled first) and returns its length.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn encode_to_vec(&self, out: &mut alloc::vec::Vec<u8>) -> usize {
        append_to_vec(out, self.encoded_len(), |s| self.write(s))
    }

    /// Encodes the response's header fields followed by `peers` (in place of
    /// [`peers`](AnnounceResponse::peers), whose contents are ignored), and returns the
    /// length written.
    ///
    /// The size is fixed from the iterator's reported length before anything is written;
    /// an iterator that yields more stops there, one that yields fewer gives a shorter
    /// datagram. Cap the count with [`crate::udp::max_peers`] to stay within the MTU.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` cannot hold 20 bytes plus the reported number of peers;
    /// `buf` is untouched.
    #[inline]
    pub fn encode_with_peers<P, I>(&self, peers: I, buf: &mut [u8]) -> Result<usize, EncodeError>
    where
        P: CompactPeer,
        I: IntoIterator<Item = P>,
        I::IntoIter: ExactSizeIterator,
    {
        let peers = peers.into_iter();
        let n = peers.len();
        self.encode_with_at_most(peers, n, buf)
    }

    /// Encodes the response's header fields followed by at most `max` of `peers` (in
    /// place of [`peers`](AnnounceResponse::peers)), and returns the length written.
    ///
    /// Room for `max` peers is checked before anything is written, so any iterator works,
    /// including one that filters a swarm as it goes.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` cannot hold 20 bytes plus `max` peers; `buf` is untouched.
    #[inline]
    pub fn encode_with_at_most<P, I>(
        &self,
        peers: I,
        max: usize,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError>
    where
        P: CompactPeer,
        I: IntoIterator<Item = P>,
    {
        let required = P::LEN
            .saturating_mul(max)
            .saturating_add(ANNOUNCE_RESPONSE_HEADER_LEN);
        encode_into(buf, required, |w| {
            self.write_header(w)?;
            // The window holds exactly `max` peers, which bounds the count.
            write_all(peers, w);
            Ok(())
        })
    }
}

impl AnnounceResponse<'_> {
    /// Encodes the header fields followed by the `N`-byte peers that `put` writes for
    /// `items` (it returns `false`, writing nothing, for an item it skips), at most `max`
    /// of them; returns the length written. For the tracker, which filters a swarm by
    /// family as it writes.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` cannot hold 20 bytes plus `max` peers; `buf` is untouched.
    #[inline]
    pub(crate) fn encode_picked<const N: usize, T>(
        &self,
        items: impl IntoIterator<Item = T>,
        put: impl FnMut(&mut [u8; N], T) -> bool,
        max: usize,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let required = N
            .saturating_mul(max)
            .saturating_add(ANNOUNCE_RESPONSE_HEADER_LEN);
        let mut w = Writer::new(buf, required)?;
        self.write_header(&mut w)?;
        w.records_picked(items, put);
        Ok(w.finish())
    }
}

/// The rows of a scrape response, one per requested info hash in request order:
/// borrowed from the datagram, or from the caller's slice when encoding.
pub type ScrapeRows<'a> = RecordList<'a, ScrapeRow>;

/// Iterator over [`ScrapeRows`].
pub type ScrapeRowIter<'a> = RecordIter<'a, ScrapeRow>;

/// A scrape response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeResponse<'a> {
    /// The transaction id of the scrape request.
    pub transaction_id: TransactionId,
    /// One row per requested info hash, in request order.
    pub rows: ScrapeRows<'a>,
}

impl<'a> ScrapeResponse<'a> {
    /// Decodes a scrape response.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Truncated`] if shorter than 8 bytes;
    /// [`DecodeErrorKind::UnknownAction`] (offset 0) if the action is not 2;
    /// [`DecodeErrorKind::PartialRecord`] at the start of a partial last row.
    #[inline]
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (action, transaction_id) = read_header(bytes)?;
        expect_action(action, Action::Scrape)?;
        Self::body(transaction_id, bytes)
    }

    /// Decodes a datagram whose header, with `transaction_id`, says it is a scrape
    /// response.
    #[inline]
    fn body(transaction_id: TransactionId, bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(ScrapeResponse {
            transaction_id,
            rows: RecordList::decode_at(
                after(bytes, scrape_response::HEADER_LEN),
                scrape_response::HEADER_LEN,
            )?,
        })
    }

    /// The encoded length: 8 + 12 per row.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        SCRAPE_ROW_LEN
            .saturating_mul(self.rows.len())
            .saturating_add(SCRAPE_RESPONSE_HEADER_LEN)
    }

    /// Encodes the response into `buf` and returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`ScrapeResponse::encoded_len`]; `buf` is
    /// untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_into(buf, self.encoded_len(), |w| self.write(w))
    }

    /// Appends the response to `out` (nothing is zero-filled first) and returns its
    /// length.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn encode_to_vec(&self, out: &mut alloc::vec::Vec<u8>) -> usize {
        append_to_vec(out, self.encoded_len(), |s| self.write(s))
    }

    #[inline]
    fn write<S: Sink>(&self, s: &mut S) -> Result<(), S::Error> {
        write_scrape_header(s, self.transaction_id)?;
        match self.rows.repr() {
            Repr::Wire(b) => s.bytes(b),
            Repr::Slice(rows) => s.iter_records(rows, |d, row: &ScrapeRow| row.put(d)),
        }
    }

    /// Encodes a scrape response for `transaction_id` with at most `max` of `rows`, and
    /// returns the length written. Room for `max` rows is checked before anything is
    /// written.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` cannot hold 8 bytes plus `max` rows; `buf` is untouched.
    pub fn encode_with_rows<I>(
        transaction_id: TransactionId,
        rows: I,
        max: usize,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError>
    where
        I: IntoIterator<Item = ScrapeRow>,
    {
        let required = SCRAPE_ROW_LEN
            .saturating_mul(max)
            .saturating_add(SCRAPE_RESPONSE_HEADER_LEN);
        encode_into(buf, required, |w| {
            write_scrape_header(w, transaction_id)?;
            write_all(rows.into_iter().take(max), w);
            Ok(())
        })
    }
}

#[inline]
fn write_scrape_header<S: Sink>(s: &mut S, tid: TransactionId) -> Result<(), S::Error> {
    s.block(|b: &mut [u8; scrape_response::HEADER_LEN]| put_header(b, Action::Scrape, tid))
}

/// An error response. The message is kept as raw bytes: trackers send it with and
/// without a trailing NUL (opentracker and chihaya include one), in no set encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse<'a> {
    /// The transaction id of the request that failed.
    pub transaction_id: TransactionId,
    /// The message bytes exactly as received.
    pub message: &'a [u8],
}

impl<'a> ErrorResponse<'a> {
    /// Decodes an error response.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Truncated`] if shorter than 8 bytes;
    /// [`DecodeErrorKind::UnknownAction`] (offset 0) if the action is not 3.
    #[inline]
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (action, transaction_id) = read_header(bytes)?;
        expect_action(action, Action::Error)?;
        Ok(Self::body(transaction_id, bytes))
    }

    /// Decodes a datagram whose header, with `transaction_id`, says it is an error.
    #[inline]
    fn body(transaction_id: TransactionId, bytes: &'a [u8]) -> Self {
        ErrorResponse {
            transaction_id,
            message: after(bytes, error_response::HEADER_LEN),
        }
    }

    /// The message without one trailing NUL, if it has one.
    pub fn text(&self) -> &'a [u8] {
        match self.message.split_last() {
            Some((0, head)) => head,
            _ => self.message,
        }
    }

    /// [`ErrorResponse::text`] as a string, when it is valid UTF-8.
    ///
    /// # Errors
    ///
    /// The [`core::str::Utf8Error`] of the text; the raw bytes stay available in
    /// [`ErrorResponse::message`].
    pub fn to_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.text())
    }

    /// The encoded length: 8 plus the message.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        ERROR_RESPONSE_HEADER_LEN.saturating_add(self.message.len())
    }

    /// Encodes the response into `buf` and returns its length. The message is written
    /// as it is; add a NUL to it for clients that expect C strings.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`ErrorResponse::encoded_len`]; `buf` is
    /// untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_into(buf, self.encoded_len(), |w| self.write(w))
    }

    /// Appends the response to `out` (nothing is zero-filled first) and returns its
    /// length.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn encode_to_vec(&self, out: &mut alloc::vec::Vec<u8>) -> usize {
        append_to_vec(out, self.encoded_len(), |s| self.write(s))
    }

    #[inline]
    fn write<S: Sink>(&self, s: &mut S) -> Result<(), S::Error> {
        s.block(|b: &mut [u8; error_response::HEADER_LEN]| {
            put_header(b, Action::Error, self.transaction_id)
        })?;
        s.bytes(self.message)
    }

    /// The message text as an owned string, with invalid UTF-8 replaced (U+FFFD).
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn to_string_lossy(&self) -> alloc::string::String {
        alloc::string::String::from_utf8_lossy(self.text()).into_owned()
    }

    /// The message text as an owned fixed-capacity vector.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the text is longer than `N`.
    #[cfg(feature = "heapless")]
    #[cfg_attr(docsrs, doc(cfg(feature = "heapless")))]
    pub fn text_heapless<const N: usize>(&self) -> Result<heapless::Vec<u8, N>, EncodeError> {
        heapless::Vec::from_slice(self.text()).map_err(|_| EncodeError::new(self.text().len()))
    }
}

/// Any response, as a client receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response<'a> {
    /// Action 0.
    Connect(ConnectResponse),
    /// Action 1.
    Announce(AnnounceResponse<'a>),
    /// Action 2.
    Scrape(ScrapeResponse<'a>),
    /// Action 3.
    Error(ErrorResponse<'a>),
}

impl<'a> Response<'a> {
    /// Decodes a response received on a socket of `family`, dispatching on its action.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Truncated`] where a field is cut;
    /// [`DecodeErrorKind::UnknownAction`] (offset 0) for an action other than 0–3;
    /// [`DecodeErrorKind::PartialRecord`] at a partial last peer or scrape row.
    // Always inlined, like `Request::decode`: `#[inline]` alone leaves the choice to the
    // caller's crate, and a caller that decodes in two places got an out-of-line copy
    // that returns the whole `Response` through memory and matches on it twice (the
    // callgrind harness: 539 -> 520 instructions for a 50-peer reply; an independent
    // harness measured 1.56 × the hand-written floor).
    #[inline(always)]
    pub fn decode(bytes: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        let (action, tid) = read_header(bytes)?;
        match action {
            0 => ConnectResponse::body(bytes).map(Response::Connect),
            1 => AnnounceResponse::body(bytes, family).map(Response::Announce),
            2 => ScrapeResponse::body(tid, bytes).map(Response::Scrape),
            3 => Ok(Response::Error(ErrorResponse::body(tid, bytes))),
            other => Err(DecodeError::new(
                DecodeErrorKind::UnknownAction(other),
                hdr::ACTION.start(),
            )),
        }
    }

    /// The transaction id the response answers.
    pub const fn transaction_id(&self) -> TransactionId {
        match self {
            Response::Connect(c) => c.transaction_id,
            Response::Announce(a) => a.transaction_id,
            Response::Scrape(s) => s.transaction_id,
            Response::Error(e) => e.transaction_id,
        }
    }

    /// The encoded length.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        match self {
            Response::Connect(_) => ConnectResponse::LEN,
            Response::Announce(a) => a.encoded_len(),
            Response::Scrape(s) => s.encoded_len(),
            Response::Error(e) => e.encoded_len(),
        }
    }

    /// Encodes the response into `buf` and returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`Response::encoded_len`]; `buf` is
    /// untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            Response::Connect(c) => c.encode(buf),
            Response::Announce(a) => a.encode(buf),
            Response::Scrape(s) => s.encode(buf),
            Response::Error(e) => e.encode(buf),
        }
    }

    /// Appends the response to `out` (nothing is zero-filled first) and returns its
    /// length.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[inline]
    pub fn encode_to_vec(&self, out: &mut alloc::vec::Vec<u8>) -> usize {
        match self {
            Response::Connect(c) => c.encode_to_vec(out),
            Response::Announce(a) => a.encode_to_vec(out),
            Response::Scrape(s) => s.encode_to_vec(out),
            Response::Error(e) => e.encode_to_vec(out),
        }
    }
}
