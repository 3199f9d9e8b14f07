//! Responses, sent by trackers to clients: connect, announce, scrape and error (BEP 15).
//!
//! ```text
//! connect   0 u32 action = 0   4 u32 transaction_id   8 u64 connection_id
//! announce  0 u32 action = 1   4 u32 transaction_id   8 u32 interval   12 u32 leechers
//!           16 u32 seeders   20 peer × N   (IPv4: [4] ip u16 port; IPv6: [16] ip u16 port)
//! scrape    0 u32 action = 2   4 u32 transaction_id
//!           8 (u32 complete, u32 downloaded, u32 incomplete) × N
//! error     0 u32 action = 3   4 u32 transaction_id   8 message (rest of the datagram)
//! ```
//!
//! The peer format follows the address family of the socket, which the caller passes in:
//! it is never guessed from the length (every 18-byte list is also a multiple of 6).
//! Peer lists and scrape rows are validated once (a partial last entry is an error at its
//! offset) and then iterated lazily from the datagram.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::udp::types::{AddressFamily, ConnectionId, TransactionId};
use crate::wire::{Fields, Fixed, Reader, Records, Writer};

/// The length of a connect response.
pub const CONNECT_RESPONSE_LEN: usize = 16;
/// The length of an announce response's fixed part.
pub const ANNOUNCE_RESPONSE_HEADER_LEN: usize = 20;
/// The length of one IPv4 peer entry.
pub const PEER_V4_LEN: usize = 6;
/// The length of one IPv6 peer entry.
pub const PEER_V6_LEN: usize = 18;
/// The length of a scrape response's fixed part.
pub const SCRAPE_RESPONSE_HEADER_LEN: usize = 8;
/// The length of one scrape row.
pub const SCRAPE_ROW_LEN: usize = 12;
/// The length of an error response's fixed part.
pub const ERROR_RESPONSE_HEADER_LEN: usize = 8;

/// Reads the action and transaction id every response starts with, with one bounds check.
#[inline]
fn read_header(r: &mut Reader<'_>) -> Result<(u32, TransactionId), DecodeError> {
    let mut f = Fixed::new(r.block::<8>(&[4, 4])?);
    Ok((f.u32(), TransactionId(f.u32())))
}

#[inline]
fn expect_action(action: u32, want: u32) -> Result<(), DecodeError> {
    if action == want {
        Ok(())
    } else {
        Err(DecodeError::new(DecodeErrorKind::UnknownAction(action), 0))
    }
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
        let mut r = Reader::new(bytes);
        let (action, transaction_id) = read_header(&mut r)?;
        expect_action(action, 0)?;
        Self::body(transaction_id, &mut r)
    }

    #[inline]
    fn body(transaction_id: TransactionId, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            transaction_id,
            connection_id: ConnectionId(r.u64()?),
        })
    }

    /// Encodes the response into `buf` and returns its length (16).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than 16 bytes; `buf` is untouched.
    #[inline]
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(buf, Self::LEN)?;
        w.u32(0)?;
        w.u32(self.transaction_id.0)?;
        w.u64(self.connection_id.0)?;
        Ok(w.finish())
    }
}

/// A peer address that has a compact wire form: [`SocketAddrV4`] (6 bytes) or
/// [`SocketAddrV6`] (18 bytes).
///
/// Sealed: these two are the only forms BEP 15 and BEP 41 define, and the encoders
/// rely on [`CompactPeer::write_all`] filling the room they reserved.
pub trait CompactPeer: Copy + sealed::Sealed {
    /// The family whose responses carry this form.
    const FAMILY: AddressFamily;
    /// The size of the compact form.
    const LEN: usize;
    /// Appends the compact forms of `peers`, as many as fit the room checked up front.
    #[doc(hidden)]
    fn write_all(peers: impl Iterator<Item = Self>, out: &mut CompactWriter<'_, '_>);
}

mod sealed {
    /// Keeps [`CompactPeer`](super::CompactPeer) to the forms this crate implements.
    pub trait Sealed {}
    impl Sealed for core::net::SocketAddrV4 {}
    impl Sealed for core::net::SocketAddrV6 {}
}

/// Where [`CompactPeer::write_all`] writes; only this crate can create one.
#[derive(Debug)]
pub struct CompactWriter<'w, 'b>(&'w mut Writer<'b>);

impl CompactPeer for SocketAddrV4 {
    const FAMILY: AddressFamily = AddressFamily::Ipv4;
    const LEN: usize = PEER_V4_LEN;
    #[inline]
    fn write_all(peers: impl Iterator<Item = Self>, out: &mut CompactWriter<'_, '_>) {
        // One bounds check for the whole list, not one per field.
        out.0.records_with(peers, put_v4);
    }
}

impl CompactPeer for SocketAddrV6 {
    const FAMILY: AddressFamily = AddressFamily::Ipv6;
    const LEN: usize = PEER_V6_LEN;
    #[inline]
    fn write_all(peers: impl Iterator<Item = Self>, out: &mut CompactWriter<'_, '_>) {
        out.0.records_with(peers, put_v6);
    }
}

/// Writes the compact form of an IPv4 peer.
#[inline]
pub(crate) fn put_v4(rec: &mut [u8; PEER_V4_LEN], p: SocketAddrV4) {
    let (ip, port) = rec.split_at_mut(4);
    ip.copy_from_slice(&p.ip().octets());
    port.copy_from_slice(&p.port().to_be_bytes());
}

/// Writes the compact form of an IPv6 peer.
#[inline]
pub(crate) fn put_v6(rec: &mut [u8; PEER_V6_LEN], p: SocketAddrV6) {
    let (ip, port) = rec.split_at_mut(16);
    ip.copy_from_slice(&p.ip().octets());
    port.copy_from_slice(&p.port().to_be_bytes());
}

/// A compact peer list of one address family, borrowed from a datagram or from the
/// caller's buffer of compact entries (trackers often store peers that way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peers<'a> {
    family: AddressFamily,
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
        let stride = match family {
            AddressFamily::Ipv4 => 6,
            AddressFamily::Ipv6 => 18,
        };
        let raw = Reader::with_base(raw, base).records(stride)?;
        Ok(Peers { family, raw })
    }

    /// The address family of the entries.
    pub const fn family(&self) -> AddressFamily {
        self.family
    }

    /// The compact entries, as on the wire.
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
    pub const fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The first `n` peers (all of them if there are fewer).
    pub fn first(&self, n: usize) -> Self {
        let stride = match self.family {
            AddressFamily::Ipv4 => PEER_V4_LEN,
            AddressFamily::Ipv6 => PEER_V6_LEN,
        };
        let keep = n.saturating_mul(stride).min(self.raw.len());
        let raw = Reader::new(self.raw).take(keep).unwrap_or_default();
        Peers {
            family: self.family,
            raw,
        }
    }

    /// The peers in order.
    #[inline]
    pub fn iter(&self) -> PeerIter<'a> {
        PeerIter(match self.family {
            AddressFamily::Ipv4 => PeerIterRepr::V4(Records::new(self.raw)),
            AddressFamily::Ipv6 => PeerIterRepr::V6(Records::new(self.raw)),
        })
    }

    /// The peers as IPv4 addresses, if this is an IPv4 list.
    #[inline]
    pub fn iter_v4(&self) -> Option<impl ExactSizeIterator<Item = SocketAddrV4> + 'a> {
        match self.family {
            AddressFamily::Ipv4 => Some(Records::<'a, PEER_V4_LEN>::new(self.raw).map(peer_v4)),
            AddressFamily::Ipv6 => None,
        }
    }

    /// The peers as IPv6 addresses, if this is an IPv6 list.
    #[inline]
    pub fn iter_v6(&self) -> Option<impl ExactSizeIterator<Item = SocketAddrV6> + 'a> {
        match self.family {
            AddressFamily::Ipv6 => Some(Records::<'a, PEER_V6_LEN>::new(self.raw).map(peer_v6)),
            AddressFamily::Ipv4 => None,
        }
    }
}

#[inline]
fn peer_v4(rec: &[u8; PEER_V4_LEN]) -> SocketAddrV4 {
    let mut f = Fixed::new(rec);
    SocketAddrV4::new(Ipv4Addr::from(f.array::<4>()), f.u16())
}

#[inline]
fn peer_v6(rec: &[u8; PEER_V6_LEN]) -> SocketAddrV6 {
    let mut f = Fixed::new(rec);
    SocketAddrV6::new(Ipv6Addr::from(f.array::<16>()), f.u16(), 0, 0)
}

impl<'a> IntoIterator for Peers<'a> {
    type Item = SocketAddr;
    type IntoIter = PeerIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Debug, Clone)]
enum PeerIterRepr<'a> {
    V4(Records<'a, PEER_V4_LEN>),
    V6(Records<'a, PEER_V6_LEN>),
}

/// Iterator over [`Peers`], yielding socket addresses.
#[derive(Debug, Clone)]
pub struct PeerIter<'a>(PeerIterRepr<'a>);

impl Iterator for PeerIter<'_> {
    type Item = SocketAddr;

    #[inline]
    fn next(&mut self) -> Option<SocketAddr> {
        match &mut self.0 {
            PeerIterRepr::V4(r) => r.next().map(|p| SocketAddr::V4(peer_v4(p))),
            PeerIterRepr::V6(r) => r.next().map(|p| SocketAddr::V6(peer_v6(p))),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            PeerIterRepr::V4(r) => r.size_hint(),
            PeerIterRepr::V6(r) => r.size_hint(),
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
        let mut r = Reader::new(bytes);
        let (action, transaction_id) = read_header(&mut r)?;
        expect_action(action, 1)?;
        Self::body(transaction_id, &mut r, family)
    }

    #[inline]
    fn body(
        transaction_id: TransactionId,
        r: &mut Reader<'a>,
        family: AddressFamily,
    ) -> Result<Self, DecodeError> {
        let mut f = Fixed::new(r.block::<12>(&[4, 4, 4])?);
        let (interval, leechers, seeders) = (f.u32(), f.u32(), f.u32());
        let base = r.offset();
        Ok(AnnounceResponse {
            transaction_id,
            interval,
            leechers,
            seeders,
            peers: Peers::decode_at(family, r.take_rest(), base)?,
        })
    }

    /// The encoded length: 20 plus the peers.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        ANNOUNCE_RESPONSE_HEADER_LEN.saturating_add(self.peers.raw.len())
    }

    #[inline]
    fn write_header(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let mut f = Fields::<ANNOUNCE_RESPONSE_HEADER_LEN>::new();
        f.put(1u32.to_be_bytes())
            .put(self.transaction_id.0.to_be_bytes())
            .put(self.interval.to_be_bytes())
            .put(self.leechers.to_be_bytes())
            .put(self.seeders.to_be_bytes());
        w.bytes(f.full()?)
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
        let mut w = Writer::new(buf, self.encoded_len())?;
        self.write_header(&mut w)?;
        w.bytes(self.peers.raw)?;
        Ok(w.finish())
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
        let mut w = Writer::new(buf, required)?;
        self.write_header(&mut w)?;
        // The window holds exactly `max` peers, which bounds the count.
        P::write_all(peers.into_iter(), &mut CompactWriter(&mut w));
        Ok(w.finish())
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

/// One row of a scrape response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScrapeRow {
    /// Seeders: peers with the whole torrent.
    pub complete: u32,
    /// How many times the torrent was downloaded completely.
    pub downloaded: u32,
    /// Leechers: peers still downloading.
    pub incomplete: u32,
}

#[derive(Debug, Clone, Copy)]
enum RowsRepr<'a> {
    Wire(&'a [u8]),
    Slice(&'a [ScrapeRow]),
}

/// The rows of a scrape response, one per requested info hash in request order:
/// borrowed from the datagram, or from the caller's slice when encoding.
#[derive(Debug, Clone, Copy)]
pub struct ScrapeRows<'a>(RowsRepr<'a>);

impl<'a> ScrapeRows<'a> {
    /// Rows to encode.
    pub const fn from_slice(rows: &'a [ScrapeRow]) -> Self {
        ScrapeRows(RowsRepr::Slice(rows))
    }

    /// How many rows there are.
    #[inline]
    pub const fn len(&self) -> usize {
        match self.0 {
            RowsRepr::Wire(b) => b.len() / SCRAPE_ROW_LEN,
            RowsRepr::Slice(s) => s.len(),
        }
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows in order.
    #[inline]
    pub fn iter(&self) -> ScrapeRowIter<'a> {
        ScrapeRowIter(match self.0 {
            RowsRepr::Wire(b) => RowIterRepr::Wire(Records::new(b)),
            RowsRepr::Slice(s) => RowIterRepr::Slice(s.iter()),
        })
    }
}

impl PartialEq for ScrapeRows<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ScrapeRows<'_> {}

impl<'a> IntoIterator for ScrapeRows<'a> {
    type Item = ScrapeRow;
    type IntoIter = ScrapeRowIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Debug, Clone)]
enum RowIterRepr<'a> {
    Wire(Records<'a, SCRAPE_ROW_LEN>),
    Slice(core::slice::Iter<'a, ScrapeRow>),
}

/// Iterator over [`ScrapeRows`].
#[derive(Debug, Clone)]
pub struct ScrapeRowIter<'a>(RowIterRepr<'a>);

impl Iterator for ScrapeRowIter<'_> {
    type Item = ScrapeRow;

    #[inline]
    fn next(&mut self) -> Option<ScrapeRow> {
        match &mut self.0 {
            RowIterRepr::Wire(r) => r.next().map(|row| {
                let mut f = Fixed::new(row);
                ScrapeRow {
                    complete: f.u32(),
                    downloaded: f.u32(),
                    incomplete: f.u32(),
                }
            }),
            RowIterRepr::Slice(s) => s.next().copied(),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            RowIterRepr::Wire(r) => r.size_hint(),
            RowIterRepr::Slice(s) => s.size_hint(),
        }
    }
}

impl ExactSizeIterator for ScrapeRowIter<'_> {}

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
        let mut r = Reader::new(bytes);
        let (action, transaction_id) = read_header(&mut r)?;
        expect_action(action, 2)?;
        Self::body(transaction_id, &mut r)
    }

    #[inline]
    fn body(transaction_id: TransactionId, r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(ScrapeResponse {
            transaction_id,
            rows: ScrapeRows(RowsRepr::Wire(r.records(12)?)),
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
        let mut w = Writer::new(buf, self.encoded_len())?;
        w.u32(2)?;
        w.u32(self.transaction_id.0)?;
        match self.rows.0 {
            RowsRepr::Wire(b) => w.bytes(b)?,
            RowsRepr::Slice(s) => w.records(s.iter().map(row_bytes)),
        }
        Ok(w.finish())
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
        let mut w = Writer::new(buf, required)?;
        w.u32(2)?;
        w.u32(transaction_id.0)?;
        w.records(rows.into_iter().take(max).map(|row| row_bytes(&row)));
        Ok(w.finish())
    }
}

#[inline]
fn row_bytes(row: &ScrapeRow) -> [u8; SCRAPE_ROW_LEN] {
    let mut b = [0u8; SCRAPE_ROW_LEN];
    let (complete, rest) = b.split_at_mut(4);
    let (downloaded, incomplete) = rest.split_at_mut(4);
    complete.copy_from_slice(&row.complete.to_be_bytes());
    downloaded.copy_from_slice(&row.downloaded.to_be_bytes());
    incomplete.copy_from_slice(&row.incomplete.to_be_bytes());
    b
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
        let mut r = Reader::new(bytes);
        let (action, transaction_id) = read_header(&mut r)?;
        expect_action(action, 3)?;
        Ok(Self::body(transaction_id, &mut r))
    }

    #[inline]
    fn body(transaction_id: TransactionId, r: &mut Reader<'a>) -> Self {
        ErrorResponse {
            transaction_id,
            message: r.take_rest(),
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
        let mut w = Writer::new(buf, self.encoded_len())?;
        w.u32(3)?;
        w.u32(self.transaction_id.0)?;
        w.bytes(self.message)?;
        Ok(w.finish())
    }

    /// The message text as an owned string, with invalid UTF-8 replaced (U+FFFD).
    #[cfg(feature = "alloc")]
    pub fn to_string_lossy(&self) -> alloc::string::String {
        alloc::string::String::from_utf8_lossy(self.text()).into_owned()
    }

    /// The message text as an owned fixed-capacity vector.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the text is longer than `N`.
    #[cfg(feature = "heapless")]
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
    #[inline]
    pub fn decode(bytes: &'a [u8], family: AddressFamily) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let (action, tid) = read_header(&mut r)?;
        match action {
            0 => ConnectResponse::body(tid, &mut r).map(Response::Connect),
            1 => AnnounceResponse::body(tid, &mut r, family).map(Response::Announce),
            2 => ScrapeResponse::body(tid, &mut r).map(Response::Scrape),
            3 => Ok(Response::Error(ErrorResponse::body(tid, &mut r))),
            other => Err(DecodeError::new(DecodeErrorKind::UnknownAction(other), 0)),
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
}
