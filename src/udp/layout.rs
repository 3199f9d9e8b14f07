//! Every UDP tracker message's layout, stated once (BEP 15,
//! <https://www.bittorrent.org/beps/bep_0015.html>; the legacy `extensions` field from
//! libtorrent's page, <https://www.libtorrent.org/udp_tracker_protocol.html>).
//!
//! Decoders read these fields, encoders write them, and `limits` and `legacy` take their
//! sizes from here; no other UDP code spells a byte offset. Each table lists its fields
//! in wire order and asserts at compile time that they cover the block exactly, so a
//! table whose fields overlap, leave a gap or are listed out of order does not compile,
//! and a field read or written as an integer of another width does not compile either
//! (the width is in the field's type).

use crate::wire::{tiles, Field, Span};

/// The first 16 bytes of every request.
pub(crate) mod request_header {
    use super::*;

    /// `u64` connection id (the protocol id, in a connect request).
    pub(crate) const CONNECTION_ID: Field<8> = Field::at(0);
    /// `u32` action: 0 connect, 1 announce, 2 scrape.
    pub(crate) const ACTION: Field<4> = Field::at(8);
    /// `u32` transaction id.
    pub(crate) const TRANSACTION_ID: Field<4> = Field::at(12);
    /// The header's length.
    pub(crate) const LEN: usize = 16;

    pub(crate) const FIELDS: [Span; 3] =
        [CONNECTION_ID.span(), ACTION.span(), TRANSACTION_ID.span()];
    const _: () = assert!(tiles(&FIELDS, LEN));
}

/// A connect request: the header alone, with the protocol id as its connection id.
pub(crate) mod connect_request {
    /// The request's length.
    pub(crate) const LEN: usize = super::request_header::LEN;
    /// The magic constant in place of a connection id.
    pub(crate) const PROTOCOL_ID: u64 = 0x0417_2710_1980;
}

/// An announce request's 98 fixed bytes; the tail (BEP 41 options or the legacy
/// `extensions` field) follows at [`LEN`](announce_request::LEN).
pub(crate) mod announce_request {
    use super::*;

    pub(crate) use super::request_header::{ACTION, CONNECTION_ID, TRANSACTION_ID};
    /// `[20]` info hash.
    pub(crate) const INFO_HASH: Field<20> = Field::at(16);
    /// `[20]` peer id.
    pub(crate) const PEER_ID: Field<20> = Field::at(36);
    /// `i64` bytes downloaded.
    pub(crate) const DOWNLOADED: Field<8> = Field::at(56);
    /// `i64` bytes left.
    pub(crate) const LEFT: Field<8> = Field::at(64);
    /// `i64` bytes uploaded.
    pub(crate) const UPLOADED: Field<8> = Field::at(72);
    /// `u32` event: 0 none, 1 completed, 2 started, 3 stopped.
    pub(crate) const EVENT: Field<4> = Field::at(80);
    /// `u32` IPv4 address, 0 for the sender's.
    pub(crate) const IP: Field<4> = Field::at(84);
    /// `u32` key.
    pub(crate) const KEY: Field<4> = Field::at(88);
    /// `i32` peers wanted, −1 for the tracker's default.
    pub(crate) const NUM_WANT: Field<4> = Field::at(92);
    /// `u16` port.
    pub(crate) const PORT: Field<2> = Field::at(96);
    /// The fixed part's length; the tail starts here.
    pub(crate) const LEN: usize = 98;

    pub(crate) const FIELDS: [Span; 13] = [
        CONNECTION_ID.span(),
        ACTION.span(),
        TRANSACTION_ID.span(),
        INFO_HASH.span(),
        PEER_ID.span(),
        DOWNLOADED.span(),
        LEFT.span(),
        UPLOADED.span(),
        EVENT.span(),
        IP.span(),
        KEY.span(),
        NUM_WANT.span(),
        PORT.span(),
    ];
    const _: () = assert!(tiles(&FIELDS, LEN));
}

/// A scrape request: the header, then 20-byte info hashes to the end of the datagram.
pub(crate) mod scrape_request {
    /// The fixed part's length.
    pub(crate) const HEADER_LEN: usize = super::request_header::LEN;
    /// One info hash.
    pub(crate) const INFO_HASH_LEN: usize = 20;
}

/// The first 8 bytes of every response.
pub(crate) mod response_header {
    use super::*;

    /// `u32` action: 0 connect, 1 announce, 2 scrape, 3 error.
    pub(crate) const ACTION: Field<4> = Field::at(0);
    /// `u32` transaction id of the request answered.
    pub(crate) const TRANSACTION_ID: Field<4> = Field::at(4);
    /// The header's length.
    pub(crate) const LEN: usize = 8;

    pub(crate) const FIELDS: [Span; 2] = [ACTION.span(), TRANSACTION_ID.span()];
    const _: () = assert!(tiles(&FIELDS, LEN));
}

/// A connect response.
pub(crate) mod connect_response {
    use super::*;

    pub(crate) use super::response_header::{ACTION, TRANSACTION_ID};
    /// `u64` connection id for later requests.
    pub(crate) const CONNECTION_ID: Field<8> = Field::at(8);
    /// The response's length.
    pub(crate) const LEN: usize = 16;

    pub(crate) const FIELDS: [Span; 3] =
        [ACTION.span(), TRANSACTION_ID.span(), CONNECTION_ID.span()];
    const _: () = assert!(tiles(&FIELDS, LEN));
}

/// An announce response's fixed part; compact peers follow to the end of the datagram.
pub(crate) mod announce_response {
    use super::*;

    pub(crate) use super::response_header::{ACTION, TRANSACTION_ID};
    /// `u32` seconds until the next announce.
    pub(crate) const INTERVAL: Field<4> = Field::at(8);
    /// `u32` leechers.
    pub(crate) const LEECHERS: Field<4> = Field::at(12);
    /// `u32` seeders.
    pub(crate) const SEEDERS: Field<4> = Field::at(16);
    /// The fixed part's length.
    pub(crate) const LEN: usize = 20;

    pub(crate) const FIELDS: [Span; 5] = [
        ACTION.span(),
        TRANSACTION_ID.span(),
        INTERVAL.span(),
        LEECHERS.span(),
        SEEDERS.span(),
    ];
    const _: () = assert!(tiles(&FIELDS, LEN));
}

/// One compact IPv4 peer of an announce response.
pub(crate) mod peer_v4 {
    use super::*;

    /// The address.
    pub(crate) const IP: Field<4> = Field::at(0);
    /// `u16` port.
    pub(crate) const PORT: Field<2> = Field::at(4);
    /// The entry's length.
    pub(crate) const LEN: usize = 6;

    const _: () = assert!(tiles(&[IP.span(), PORT.span()], LEN));
}

/// One compact IPv6 peer of an announce response (BEP 15's IPv6 form).
pub(crate) mod peer_v6 {
    use super::*;

    /// The address.
    pub(crate) const IP: Field<16> = Field::at(0);
    /// `u16` port.
    pub(crate) const PORT: Field<2> = Field::at(16);
    /// The entry's length.
    pub(crate) const LEN: usize = 18;

    const _: () = assert!(tiles(&[IP.span(), PORT.span()], LEN));
}

/// A scrape response's fixed part (the header alone); rows follow.
pub(crate) mod scrape_response {
    /// The fixed part's length.
    pub(crate) const HEADER_LEN: usize = super::response_header::LEN;
}

/// One row of a scrape response, in the order of the requested hashes.
pub(crate) mod scrape_row {
    use super::*;

    /// `u32` seeders.
    pub(crate) const COMPLETE: Field<4> = Field::at(0);
    /// `u32` completed downloads.
    pub(crate) const DOWNLOADED: Field<4> = Field::at(4);
    /// `u32` leechers.
    pub(crate) const INCOMPLETE: Field<4> = Field::at(8);
    /// The row's length.
    pub(crate) const LEN: usize = 12;

    const _: () = assert!(tiles(
        &[COMPLETE.span(), DOWNLOADED.span(), INCOMPLETE.span()],
        LEN
    ));
}

/// An error response's fixed part (the header alone); the message follows.
pub(crate) mod error_response {
    /// The fixed part's length.
    pub(crate) const HEADER_LEN: usize = super::response_header::LEN;
}

/// The legacy `extensions` tail of an announce request: a `u16` bitmask right after the
/// fixed fields, then the bodies of the bits set, in least-significant-bit order.
pub(crate) mod legacy {
    use super::*;

    /// `u16` extension bits.
    pub(crate) const EXTENSIONS: Field<2> = Field::at(announce_request::LEN);
    /// A body's length prefix (username, request string).
    pub(crate) const BODY_LEN_PREFIX: usize = 1;
    /// The truncated password hash after the username.
    pub(crate) const PASSWD_HASH_LEN: usize = 8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::get;

    /// The announce table against the offsets BEP 15 lists, checked on a block whose
    /// every byte is its own offset: a table edited consistently in both directions
    /// (which the round-trip tests would not notice) still cannot drift from the wire.
    #[test]
    fn announce_table_reads_a_real_announce() {
        use announce_request::*;
        let mut d = [0u8; LEN];
        for (i, b) in (0u8..).zip(d.iter_mut()) {
            *b = i;
        }
        assert_eq!(get(&d, CONNECTION_ID), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(get(&d, ACTION), [8, 9, 10, 11]);
        assert_eq!(get(&d, TRANSACTION_ID)[0], 12);
        assert_eq!(get(&d, INFO_HASH)[0], 16);
        assert_eq!(get(&d, PEER_ID)[0], 36);
        assert_eq!(get(&d, DOWNLOADED)[0], 56);
        assert_eq!(get(&d, LEFT)[0], 64);
        assert_eq!(get(&d, UPLOADED)[0], 72);
        assert_eq!(get(&d, EVENT)[0], 80);
        assert_eq!(get(&d, IP)[0], 84);
        assert_eq!(get(&d, KEY)[0], 88);
        assert_eq!(get(&d, NUM_WANT)[0], 92);
        assert_eq!(get(&d, PORT), [96, 97]);
        assert_eq!(legacy::EXTENSIONS.start(), 98);
    }
}
