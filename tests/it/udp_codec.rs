//! Per-message tests: decode field by field, encode byte-exact, and the error at every
//! truncation point (the field that is cut, and how many bytes it still needed).

use core::net::{SocketAddrV4, SocketAddrV6};
use core::ops::Range;

use trackwire::udp::{verify_datagram, EXT_AUTHENTICATION, EXT_REQUEST_STRING};
use trackwire::udp::{
    AddressFamily, AnnounceEvent, AnnounceRequest, AnnounceResponse, AnnounceTail, Authentication,
    ConnectRequest, ConnectResponse, ConnectionId, ErrorResponse, Extensions, InfoHash, InfoHashes,
    PasswdHash, PeerId, Peers, Request, Response, ScrapeRequest, ScrapeResponse, ScrapeRow,
    ScrapeRows, ShortBytes, TailGrammar, TransactionId,
};
use trackwire::{DecodeError, DecodeErrorKind};

/// Every prefix shorter than the fixed part fails at the field it cuts into.
fn check_truncations(
    full: &[u8],
    fields: &[Range<usize>],
    decode: impl Fn(&[u8]) -> Result<(), DecodeError>,
) {
    let end = fields.last().unwrap().end;
    for cut in 0..end {
        let field = fields.iter().find(|f| f.contains(&cut)).unwrap();
        let e = decode(&full[..cut]).expect_err("a truncated message decoded");
        assert_eq!(
            (e.kind(), e.offset()),
            (
                DecodeErrorKind::Truncated {
                    needed: field.end - cut
                },
                field.start
            ),
            "cut at {cut}"
        );
    }
    decode(&full[..end]).expect("the full fixed part decodes");
}

const CONNECT_REQUEST: [u8; 16] = [
    0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, // protocol id
    0x00, 0x00, 0x00, 0x00, // action 0
    0xc0, 0xff, 0xee, 0x01, // transaction id
];
const HEADER_FIELDS: [Range<usize>; 3] = [0..8, 8..12, 12..16];

#[test]
fn connect_request() {
    let c = ConnectRequest::decode(&CONNECT_REQUEST).unwrap();
    assert_eq!(c.transaction_id, TransactionId(0xc0ff_ee01));
    let mut buf = [0u8; 16];
    assert_eq!(c.encode(&mut buf).unwrap(), 16);
    assert_eq!(buf, CONNECT_REQUEST);
    check_truncations(&CONNECT_REQUEST, &HEADER_FIELDS, |b| {
        ConnectRequest::decode(b).map(drop)
    });
    let mut bad = CONNECT_REQUEST;
    bad[7] = 0x81;
    let e = ConnectRequest::decode(&bad).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::BadProtocolId, 0));
    bad = CONNECT_REQUEST;
    bad[11] = 1;
    let e = ConnectRequest::decode(&bad).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (DecodeErrorKind::UnknownAction(1), 8)
    );
}

fn announce_bytes() -> Vec<u8> {
    let mut v = vec![
        0x36, 0xe7, 0x1e, 0x1f, 0xd3, 0x42, 0x75, 0x99, // connection id
        0x00, 0x00, 0x00, 0x01, // action 1
        0x11, 0x11, 0x00, 0x01, // transaction id
    ];
    v.extend([0xaa; 20]); // info hash
    v.extend(b"-LB0001-udplabpeer01"); // peer id
    v.extend(7i64.to_be_bytes()); // downloaded
    v.extend(1000i64.to_be_bytes()); // left
    v.extend(3i64.to_be_bytes()); // uploaded
    v.extend(4u32.to_be_bytes()); // event: paused
    v.extend([1, 2, 3, 4]); // ip
    v.extend(0x4c41_4221u32.to_be_bytes()); // key
    v.extend((-1i32).to_be_bytes()); // num_want
    v.extend(6881u16.to_be_bytes()); // port
    assert_eq!(v.len(), 98);
    v
}

const ANNOUNCE_FIELDS: [Range<usize>; 14] = [
    0..8,
    8..12,
    12..16,
    16..36,
    36..56,
    56..64,
    64..72,
    72..80,
    80..84,
    84..88,
    88..92,
    92..96,
    96..98,
    98..98,
];

#[test]
fn announce_request_fixed_fields() {
    let bytes = announce_bytes();
    let a = AnnounceRequest::decode(&bytes).unwrap();
    assert_eq!(a.connection_id, ConnectionId(0x36e7_1e1f_d342_7599));
    assert_eq!(a.transaction_id, TransactionId(0x1111_0001));
    assert_eq!(a.info_hash, InfoHash([0xaa; 20]));
    assert_eq!(&a.peer_id.0, b"-LB0001-udplabpeer01");
    assert_eq!((a.downloaded, a.left, a.uploaded), (7, 1000, 3));
    assert_eq!(a.event, AnnounceEvent::Paused);
    assert_eq!(
        trackwire::udp::announce_ip(a.ip).unwrap().to_string(),
        "1.2.3.4"
    );
    assert_eq!((a.key, a.num_want, a.port), (0x4c41_4221, -1, 6881));
    assert_eq!(a.tail, AnnounceTail::None);
    let mut buf = [0u8; 98];
    assert_eq!(a.encode(&mut buf).unwrap(), 98);
    assert_eq!(&buf[..], &bytes[..]);
    check_truncations(&bytes, &ANNOUNCE_FIELDS[..13], |b| {
        AnnounceRequest::decode(b).map(drop)
    });
}

#[test]
fn announce_request_with_bep41_options() {
    let mut bytes = announce_bytes();
    let mut opts = [0u8; 300];
    let url = b"/announce?passkey=0123456789";
    let n = trackwire::udp::encode_url_data(url, true, &mut opts).unwrap();
    bytes.extend(&opts[..n]);
    let a = AnnounceRequest::decode(&bytes).unwrap();
    let o = a.options().unwrap();
    assert_eq!(o.url_data_len(), url.len());
    let mut back = [0u8; 64];
    let n = o.copy_url_data(&mut back).unwrap();
    assert_eq!(&back[..n], url);
    let mut enc = vec![0; a.encoded_len()];
    a.encode(&mut enc).unwrap();
    assert_eq!(enc, bytes);
    // Every cut inside the options is an overrun at the length byte, or (cutting right
    // after a complete option) a shorter valid list.
    for cut in 98..bytes.len() {
        match AnnounceRequest::decode(&bytes[..cut]) {
            Ok(a) => assert!(a.options().is_some() || cut == 98),
            Err(e) => {
                assert_eq!(e.kind(), DecodeErrorKind::OptionOverrun);
                assert!(e.offset() == 99 || e.offset() == cut, "cut {cut}: {e}");
            }
        }
    }
}

#[test]
fn announce_request_with_legacy_auth_and_request_string() {
    let base_bytes = announce_bytes();
    let base = AnnounceRequest::decode(&base_bytes).unwrap();
    let ext = Extensions::new(
        Some(Authentication {
            username: ShortBytes::new(b"alice").unwrap(),
            passwd_hash: PasswdHash::Password(b"s3cret"),
        }),
        ShortBytes::new(b"/announce?token=xyz"),
    );
    let a = AnnounceRequest {
        tail: AnnounceTail::Extensions(ext),
        ..base
    };
    let mut buf = [0u8; 200];
    let n = a.encode(&mut buf).unwrap();
    let wire = &buf[..n];
    // Layout: extensions u16, then bit 1's body, then bit 2's (least significant first).
    assert_eq!(
        &wire[98..100],
        &(EXT_AUTHENTICATION | EXT_REQUEST_STRING).to_be_bytes()
    );
    assert_eq!(wire[100], 5);
    assert_eq!(&wire[101..106], b"alice");
    // The hash: first 8 bytes of sha1(packet-before-hash ‖ sha1(password)).
    let sha1 = trackwire::udp::password_digest; // SHA-1 of any bytes
    let mut covered = wire[..106].to_vec();
    covered.extend(sha1(b"s3cret"));
    assert_eq!(&wire[106..114], &sha1(&covered)[..8]);
    assert_eq!(wire[114], 19);
    assert_eq!(&wire[115..], b"/announce?token=xyz");
    assert!(verify_datagram(wire, &sha1(b"s3cret")));
    assert!(!verify_datagram(wire, &sha1(b"s3cret!")));
    // Decoded, it re-encodes byte-exactly with the received hash.
    let d = AnnounceRequest::decode_with(wire, TailGrammar::Legacy).unwrap();
    let e = d.extensions().unwrap();
    assert_eq!(e.auth.unwrap().username.as_bytes(), b"alice");
    assert_eq!(e.request_string.unwrap().as_bytes(), b"/announce?token=xyz");
    let mut again = [0u8; 200];
    let n = d.encode(&mut again).unwrap();
    assert_eq!(&again[..n], wire);
}

#[test]
fn scrape_request() {
    let mut bytes = vec![
        0x36, 0xe7, 0x1e, 0x1f, 0xd3, 0x42, 0x75, 0x99, 0, 0, 0, 2, 0x22, 0x22, 0, 2,
    ];
    bytes.extend([0xaa; 20]);
    bytes.extend([0xcc; 20]);
    let s = ScrapeRequest::decode(&bytes).unwrap();
    assert_eq!(s.connection_id, ConnectionId(0x36e7_1e1f_d342_7599));
    assert_eq!(s.transaction_id, TransactionId(0x2222_0002));
    let hashes = [InfoHash([0xaa; 20]), InfoHash([0xcc; 20])];
    assert_eq!(s.info_hashes, InfoHashes::from_slice(&hashes));
    assert_eq!(s.info_hashes.wire_bytes().unwrap(), &bytes[16..]);
    // Borrowed and copied iteration agree, over wire bytes and over a slice.
    for hs in [s.info_hashes, InfoHashes::from_slice(&hashes)] {
        assert_eq!(hs.iter_bytes().len(), 2);
        let borrowed: Vec<[u8; 20]> = hs.iter_bytes().copied().collect();
        let copied: Vec<[u8; 20]> = hs.iter().map(|h| h.0).collect();
        assert_eq!(borrowed, [[0xaa; 20], [0xcc; 20]]);
        assert_eq!(borrowed, copied);
    }
    let built = ScrapeRequest {
        info_hashes: InfoHashes::from_slice(&hashes),
        ..s
    };
    let mut buf = [0u8; 56];
    assert_eq!(built.encode(&mut buf).unwrap(), 56);
    assert_eq!(&buf[..], &bytes[..]);
    check_truncations(&bytes, &HEADER_FIELDS, |b| {
        ScrapeRequest::decode(b).map(drop)
    });
    for cut in 17..56 {
        let e = ScrapeRequest::decode(&bytes[..cut]);
        if (cut - 16) % 20 == 0 {
            assert_eq!(e.unwrap().info_hashes.len(), (cut - 16) / 20);
        } else {
            let e = e.unwrap_err();
            assert_eq!(e.kind(), DecodeErrorKind::PartialRecord { stride: 20 });
            assert_eq!(e.offset(), 16 + (cut - 16) / 20 * 20);
        }
    }
}

#[test]
fn connect_response() {
    let bytes = [
        0, 0, 0, 0, 0xc0, 0xff, 0xee, 0x01, 0x36, 0xe7, 0x1e, 0x1f, 0xd3, 0x42, 0x75, 0x99,
    ];
    let c = ConnectResponse::decode(&bytes).unwrap();
    assert_eq!(c.connection_id, ConnectionId(0x36e7_1e1f_d342_7599));
    assert_eq!(c.transaction_id, TransactionId(0xc0ff_ee01));
    let mut buf = [0u8; 16];
    c.encode(&mut buf).unwrap();
    assert_eq!(buf, bytes);
    check_truncations(&bytes, &[0..4, 4..8, 8..16], |b| {
        ConnectResponse::decode(b).map(drop)
    });
}

#[test]
fn announce_response_both_families() {
    let mut v4 = vec![
        0, 0, 0, 1, 0x11, 0x11, 0, 2, 0, 0, 6, 0xa7, 0, 0, 0, 1, 0, 0, 0, 1,
    ];
    v4.extend([127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 1, 0x1a, 0xe2]);
    let a = AnnounceResponse::decode(&v4, AddressFamily::Ipv4).unwrap();
    assert_eq!((a.interval, a.leechers, a.seeders), (1703, 1, 1));
    let peers: Vec<SocketAddrV4> = a.peers.iter_v4().unwrap().collect();
    assert_eq!(
        peers,
        [
            "127.0.0.1:6881".parse().unwrap(),
            "127.0.0.1:6882".parse().unwrap()
        ]
    );
    assert!(a.peers.iter_v6().is_none());
    let mut buf = [0u8; 64];
    let n = a.encode(&mut buf).unwrap();
    assert_eq!(&buf[..n], &v4[..]);
    // The same response from an iterator of addresses.
    let n = a
        .encode_with_peers(peers.iter().copied(), &mut buf)
        .unwrap();
    assert_eq!(&buf[..n], &v4[..]);
    check_truncations(&v4, &[0..4, 4..8, 8..12, 12..16, 16..20], |b| {
        AnnounceResponse::decode(b, AddressFamily::Ipv4).map(drop)
    });
    for cut in 21..v4.len() {
        if (cut - 20) % 6 != 0 {
            let e = AnnounceResponse::decode(&v4[..cut], AddressFamily::Ipv4).unwrap_err();
            assert_eq!(
                (e.kind(), e.offset()),
                (
                    DecodeErrorKind::PartialRecord { stride: 6 },
                    20 + (cut - 20) / 6 * 6
                )
            );
        }
    }

    let v6peers: Vec<SocketAddrV6> = vec![
        "[::1]:61001".parse().unwrap(),
        "[2001:db8::7]:1".parse().unwrap(),
    ];
    let header = AnnounceResponse {
        peers: Peers::empty(AddressFamily::Ipv6),
        ..a
    };
    let n = header
        .encode_with_peers(v6peers.iter().copied(), &mut buf)
        .unwrap();
    assert_eq!(n, 20 + 36);
    let d = AnnounceResponse::decode(&buf[..n], AddressFamily::Ipv6).unwrap();
    assert_eq!(d.peers.iter_v6().unwrap().collect::<Vec<_>>(), v6peers);
    assert_eq!(d.peers.as_bytes(), &buf[20..n]);
    // Too small a buffer: untouched, and it says how much is needed.
    let mut small = [0x55u8; 55];
    let e = header
        .encode_with_peers(v6peers.iter().copied(), &mut small)
        .unwrap_err();
    assert_eq!(e.required(), 56);
    assert_eq!(small, [0x55; 55]);
    // An IPv6 list of one peer is three "IPv4 peers": never guess from the length.
    let one = &buf[..20 + 18];
    assert_eq!(
        AnnounceResponse::decode(one, AddressFamily::Ipv4)
            .unwrap()
            .peers
            .len(),
        3
    );
    assert_eq!(
        AnnounceResponse::decode(one, AddressFamily::Ipv6)
            .unwrap()
            .peers
            .len(),
        1
    );
}

#[test]
fn scrape_response() {
    let bytes = [
        0, 0, 0, 2, 0x22, 0x22, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0,
    ];
    let s = ScrapeResponse::decode(&bytes).unwrap();
    let rows = [
        ScrapeRow {
            complete: 1,
            downloaded: 1,
            incomplete: 4,
        },
        ScrapeRow::default(),
    ];
    assert_eq!(s.rows, ScrapeRows::from_slice(&rows));
    let built = ScrapeResponse {
        rows: ScrapeRows::from_slice(&rows),
        ..s
    };
    let mut buf = [0u8; 32];
    assert_eq!(built.encode(&mut buf).unwrap(), 32);
    assert_eq!(buf, bytes);
    check_truncations(&bytes, &[0..4, 4..8], |b| {
        ScrapeResponse::decode(b).map(drop)
    });
    let e = ScrapeResponse::decode(&bytes[..31]).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (DecodeErrorKind::PartialRecord { stride: 12 }, 20)
    );
}

#[test]
fn error_response() {
    let bytes = b"\x00\x00\x00\x03\x44\x44\x00\x01Connection ID missmatch.\x00";
    let e = ErrorResponse::decode(bytes).unwrap();
    assert_eq!(e.transaction_id, TransactionId(0x4444_0001));
    assert_eq!(e.message.len(), 25);
    assert_eq!(e.text(), b"Connection ID missmatch.");
    assert_eq!(e.to_str().unwrap(), "Connection ID missmatch.");
    let mut buf = [0u8; 64];
    let n = e.encode(&mut buf).unwrap();
    assert_eq!(&buf[..n], &bytes[..]);
    check_truncations(bytes, &[0..4, 4..8], |b| ErrorResponse::decode(b).map(drop));
    // Only one NUL is trimmed; invalid UTF-8 stays available as bytes.
    let odd = ErrorResponse {
        transaction_id: TransactionId(1),
        message: b"\xff\0\0",
    };
    assert_eq!(odd.text(), b"\xff\0");
    assert!(odd.to_str().is_err());
    let empty = ErrorResponse::decode(&bytes[..8]).unwrap();
    assert_eq!(empty.text(), b"");
}

#[test]
fn dispatchers_reject_unknown_actions() {
    let mut r = CONNECT_REQUEST;
    r[11] = 9;
    let e = Request::decode(&r).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (DecodeErrorKind::UnknownAction(9), 8)
    );
    let e = Response::decode(&[0, 0, 0, 4, 0, 0, 0, 1], AddressFamily::Ipv4).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (DecodeErrorKind::UnknownAction(4), 0)
    );
    let e = Response::decode(&[0, 0, 0], AddressFamily::Ipv6).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (DecodeErrorKind::Truncated { needed: 1 }, 0)
    );
}

#[test]
fn encoders_leave_short_buffers_untouched() {
    let bytes = announce_bytes();
    let a = AnnounceRequest::decode(&bytes).unwrap();
    let p = PeerId([1; 20]);
    let a = AnnounceRequest { peer_id: p, ..a };
    let mut small = [0xeeu8; 97];
    assert_eq!(a.encode(&mut small).unwrap_err().required(), 98);
    assert_eq!(small, [0xee; 97]);
    let mut small = [0xeeu8; 15];
    let c = ConnectRequest {
        transaction_id: TransactionId(5),
    };
    assert_eq!(c.encode(&mut small).unwrap_err().required(), 16);
    assert_eq!(small, [0xee; 15]);
}

/// `encode_to_vec` appends exactly what `encode` writes, after whatever the vector held,
/// and returns that length; the legacy password hash covers the message alone, not the
/// bytes already in the vector.
#[cfg(feature = "alloc")]
#[test]
fn vec_encoders_append_what_slice_encoders_write() {
    fn same(
        encode: impl Fn(&mut [u8]) -> Result<usize, trackwire::EncodeError>,
        to_vec: impl Fn(&mut Vec<u8>) -> usize,
    ) {
        let mut buf = [0u8; 1500];
        let n = encode(&mut buf).unwrap();
        let mut v = vec![0xab; 3];
        assert_eq!(to_vec(&mut v), n);
        assert_eq!(&v[..3], &[0xab; 3], "what was there stays");
        assert_eq!(&v[3..], &buf[..n]);
    }
    let bytes = announce_bytes();
    let base = AnnounceRequest::decode(&bytes).unwrap();
    let legacy = AnnounceRequest {
        tail: AnnounceTail::Extensions(Extensions::new(
            Some(Authentication {
                username: ShortBytes::new(b"alice").unwrap(),
                passwd_hash: PasswdHash::Password(b"s3cret"),
            }),
            ShortBytes::new(b"/a"),
        )),
        ..base
    };
    let hashes = [InfoHash([7; 20]), InfoHash([8; 20])];
    let rows = [ScrapeRow {
        complete: 1,
        downloaded: 2,
        incomplete: 3,
    }];
    let compact = [10, 0, 0, 1, 0x1a, 0xe1];
    let requests = [
        Request::Connect(ConnectRequest {
            transaction_id: TransactionId(5),
        }),
        Request::Announce(base),
        Request::Announce(legacy),
        Request::Scrape(ScrapeRequest {
            connection_id: ConnectionId(1),
            transaction_id: TransactionId(2),
            info_hashes: InfoHashes::from_slice(&hashes),
        }),
    ];
    for r in &requests {
        same(|b| r.encode(b), |v| r.encode_to_vec(v));
    }
    let mut v = vec![0xab; 3];
    let n = legacy.encode_to_vec(&mut v);
    assert!(verify_datagram(
        &v[3..3 + n],
        &trackwire::udp::password_digest(b"s3cret")
    ));
    let responses = [
        Response::Connect(ConnectResponse {
            transaction_id: TransactionId(5),
            connection_id: ConnectionId(6),
        }),
        Response::Announce(AnnounceResponse {
            transaction_id: TransactionId(1),
            interval: 1800,
            leechers: 2,
            seeders: 3,
            peers: Peers::from_compact(AddressFamily::Ipv4, &compact).unwrap(),
        }),
        Response::Scrape(ScrapeResponse {
            transaction_id: TransactionId(7),
            rows: ScrapeRows::from_slice(&rows),
        }),
        Response::Error(ErrorResponse {
            transaction_id: TransactionId(8),
            message: b"nope\0",
        }),
    ];
    for r in &responses {
        same(|b| r.encode(b), |v| r.encode_to_vec(v));
    }
    // Decoded lists (wire form) append the same way as given ones.
    let mut buf = [0u8; 100];
    let n = requests[3].encode(&mut buf).unwrap();
    let decoded = Request::decode(&buf[..n]).unwrap();
    same(|b| decoded.encode(b), |v| decoded.encode_to_vec(v));
}
