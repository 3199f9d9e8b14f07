//! Every datagram captured from libtorrent and opentracker (`tests/vectors/udp`) decodes,
//! or gets the exact error a conforming decoder must give; canonical ones re-encode to
//! the same bytes.

use crate::common;

use trackwire::udp::{
    AddressFamily, AnnounceEvent, AnnounceOption, AnnounceTail, Request, Response, TailGrammar,
};
use trackwire::DecodeErrorKind::{self, *};

/// The datagrams that are malformed on purpose, and what a conforming decoder says.
const EXPECTED_ERRORS: &[(&str, usize, DecodeErrorKind, usize)] = &[
    // A reply of 6 + 6 + 3 bytes of peers: a ragged IPv4 peer list.
    (
        "libtorrent_odd_peers.txt",
        6,
        PartialRecord { stride: 6 },
        32,
    ),
    (
        "libtorrent_odd_peers.txt",
        8,
        PartialRecord { stride: 6 },
        32,
    ),
    // 19-byte announce reply: `seeders` is cut.
    (
        "libtorrent_trunc_announce.txt",
        6,
        Truncated { needed: 1 },
        16,
    ),
    (
        "libtorrent_trunc_announce.txt",
        8,
        Truncated { needed: 1 },
        16,
    ),
    // 15-byte connect reply: the connection id is cut.
    (
        "libtorrent_trunc_connect.txt",
        4,
        Truncated { needed: 1 },
        8,
    ),
    (
        "libtorrent_trunc_connect.txt",
        6,
        Truncated { needed: 1 },
        8,
    ),
    // opentracker's 8-byte reply to a non-whitelisted hash: no interval at all.
    (
        "opentracker_announce_ipv4.txt",
        41,
        Truncated { needed: 4 },
        8,
    ),
    // URLData claiming 255 bytes with 6 present: the length byte at 99 overruns.
    ("opentracker_bep41.txt", 20, OptionOverrun, 99),
    // Connect with a wrong magic, and with an all-zero one.
    ("opentracker_connect.txt", 16, BadProtocolId, 0),
    ("opentracker_connect.txt", 19, BadProtocolId, 0),
    // Connect cut to 15 and 12 bytes: the transaction id is cut.
    ("opentracker_connect.txt", 22, Truncated { needed: 1 }, 12),
    ("opentracker_connect.txt", 25, Truncated { needed: 4 }, 12),
    // The empty datagram.
    ("opentracker_connect.txt", 36, Truncated { needed: 8 }, 0),
    // Scrape with 1 hash + 5 bytes, and one cut inside its first hash.
    (
        "opentracker_scrape_many.txt",
        24,
        PartialRecord { stride: 20 },
        36,
    ),
    (
        "opentracker_scrape_many.txt",
        28,
        PartialRecord { stride: 20 },
        16,
    ),
    // Garbage after the announce read as BEP 41: NOP, URLData "040506", then type 7
    // claims 8 bytes with 2 left; 1000 × 0xff is three 255-byte unknown options and a
    // fourth that overruns. Both decode under `TailGrammar::Raw` (tested below).
    ("opentracker_trailing.txt", 12, OptionOverrun, 105),
    ("opentracker_trailing.txt", 16, OptionOverrun, 870),
    // Announces cut to 97, 96, 80, 36, 20, 16, 15 and 8 bytes.
    ("opentracker_truncated.txt", 8, Truncated { needed: 1 }, 96),
    ("opentracker_truncated.txt", 11, Truncated { needed: 2 }, 96),
    ("opentracker_truncated.txt", 14, Truncated { needed: 4 }, 80),
    (
        "opentracker_truncated.txt",
        17,
        Truncated { needed: 20 },
        36,
    ),
    (
        "opentracker_truncated.txt",
        20,
        Truncated { needed: 16 },
        16,
    ),
    (
        "opentracker_truncated.txt",
        23,
        Truncated { needed: 20 },
        16,
    ),
    ("opentracker_truncated.txt", 26, Truncated { needed: 1 }, 12),
    ("opentracker_truncated.txt", 29, Truncated { needed: 4 }, 8),
    // Requests with actions 3, 4, 5, 256 and 2^32 - 1.
    ("opentracker_wrong_action.txt", 8, UnknownAction(3), 8),
    ("opentracker_wrong_action.txt", 11, UnknownAction(4), 8),
    ("opentracker_wrong_action.txt", 14, UnknownAction(5), 8),
    ("opentracker_wrong_action.txt", 17, UnknownAction(256), 8),
    (
        "opentracker_wrong_action.txt",
        20,
        UnknownAction(u32::MAX),
        8,
    ),
    // A 98-byte announce body sent as a scrape: 82 bytes are not whole hashes.
    (
        "opentracker_wrong_action.txt",
        23,
        PartialRecord { stride: 20 },
        96,
    ),
    // Announce cut to 40 bytes (with a made-up connection id).
    (
        "opentracker_wrong_cid.txt",
        20,
        Truncated { needed: 16 },
        36,
    ),
    // Action 0 without the protocol magic.
    ("opentracker_wrong_cid.txt", 24, BadProtocolId, 0),
];

/// Datagrams that decode but are not in canonical form, so they do not re-encode to the
/// same bytes: connect requests with bytes after the 16 that count.
const NON_CANONICAL: &[(&str, usize)] = &[
    ("opentracker_connect.txt", 28),
    ("opentracker_connect.txt", 32),
    ("opentracker_trailing.txt", 20),
];

fn encode_request(r: &Request<'_>) -> Vec<u8> {
    let mut b = vec![0xa5; r.encoded_len()];
    assert_eq!(r.encode(&mut b).unwrap(), b.len());
    b
}

fn encode_response(r: &Response<'_>) -> Vec<u8> {
    let mut b = vec![0xa5; r.encoded_len()];
    assert_eq!(r.encode(&mut b).unwrap(), b.len());
    b
}

#[test]
fn every_vector_decodes_or_gets_its_error() {
    let all = common::all_datagrams();
    assert!(all.len() > 150, "only {} datagrams found", all.len());
    let mut errors_seen = Vec::new();
    let mut round_tripped = 0;
    for d in &all {
        let here = format!("{}:{}", d.file, d.line);
        let result = if d.from_client {
            Request::decode(&d.bytes).map(|r| encode_request(&r))
        } else {
            Response::decode(&d.bytes, d.family).map(|r| encode_response(&r))
        };
        let expected = EXPECTED_ERRORS
            .iter()
            .find(|(f, l, _, _)| *f == d.file && *l == d.line);
        match (result, expected) {
            (Ok(encoded), None) => {
                if NON_CANONICAL.contains(&(d.file.as_str(), d.line)) {
                    assert_ne!(encoded, d.bytes, "{here} is canonical after all");
                } else {
                    assert_eq!(encoded, d.bytes, "{here} does not re-encode identically");
                    round_tripped += 1;
                }
            }
            (Err(e), Some((_, _, kind, offset))) => {
                assert_eq!((e.kind(), e.offset()), (*kind, *offset), "{here}");
                assert!(e.offset() <= d.bytes.len());
                errors_seen.push((d.file.clone(), d.line));
            }
            (Ok(_), Some(exp)) => panic!("{here} decoded, expected {exp:?}"),
            (Err(e), None) => panic!("{here} failed unexpectedly: {e}"),
        }
    }
    assert_eq!(
        errors_seen.len(),
        EXPECTED_ERRORS.len(),
        "an expected error never came up"
    );
    assert!(round_tripped > 100, "only {round_tripped} round trips");
}

fn find(file: &str, line: usize) -> common::Datagram {
    common::all_datagrams()
        .into_iter()
        .find(|d| d.file == file && d.line == line)
        .unwrap_or_else(|| panic!("no datagram at {file}:{line}"))
}

#[test]
fn libtorrent_announce_fields() {
    let d = find("libtorrent_normal.txt", 11);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(a.connection_id.0, 0x1122_3344_5566_0001);
    assert_eq!(a.transaction_id.0, 0x6807_ceca);
    assert_eq!(&a.peer_id.0[..8], b"-LT2080-");
    assert_eq!((a.downloaded, a.left, a.uploaded), (0, 0x1_0000, 0));
    assert_eq!(a.event, AnnounceEvent::Started);
    assert_eq!((a.ip, a.num_want, a.port), (0, 200, 0xb721));
    let opts = a.options().unwrap();
    let all: Vec<_> = opts.iter().collect();
    assert_eq!(all, [AnnounceOption::UrlData(b"/announce?passkey=abc")]);
    // libtorrent writes no EndOfOptions.
    assert!(opts.after_end().is_empty());
}

#[test]
fn ipv6_announce_reply_has_18_byte_peers() {
    let d = find("libtorrent_normal.txt", 16);
    assert_eq!(d.family, AddressFamily::Ipv6);
    let Response::Announce(a) = Response::decode(&d.bytes, d.family).unwrap() else {
        panic!("not an announce")
    };
    let peers: Vec<String> = a.peers.iter().map(|p| p.to_string()).collect();
    assert_eq!(peers, ["[::1]:61001", "[::1]:61002", "[::1]:61003"]);
    assert_eq!((a.interval, a.leechers, a.seeders), (1800, 3, 7));
    // The same bytes read as IPv4 would be nine garbage peers: the family decides.
    let v4 = Response::decode(&d.bytes, AddressFamily::Ipv4).unwrap();
    let Response::Announce(v4) = v4 else { panic!() };
    assert_eq!(v4.peers.len(), 9);
}

#[test]
fn opentracker_error_keeps_its_nul() {
    let d = find("opentracker_wrong_cid.txt", 9);
    let Response::Error(e) = Response::decode(&d.bytes, d.family).unwrap() else {
        panic!("not an error")
    };
    assert_eq!(e.transaction_id.0, 0x4444_0001);
    assert_eq!(e.message, b"Connection ID missmatch.\0");
    assert_eq!(e.to_str().unwrap(), "Connection ID missmatch.");
}

#[test]
fn scrape_rows_and_hashes() {
    let d = find("opentracker_scrape.txt", 16);
    let Request::Scrape(s) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    let hashes: Vec<_> = s.info_hashes.iter().collect();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0].0, [0xaa; 20]);
    assert_eq!(hashes[1].0, [0xcc; 20]);
    let d = find("opentracker_scrape.txt", 17);
    let Response::Scrape(r) = Response::decode(&d.bytes, d.family).unwrap() else {
        panic!()
    };
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| (r.complete, r.downloaded, r.incomplete))
        .collect();
    assert_eq!(rows, [(1, 1, 4), (0, 0, 0)]);
}

#[test]
fn bep41_split_url_is_concatenated() {
    let d = find("opentracker_bep41.txt", 16);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    let o = a.options().unwrap();
    let kinds: Vec<u8> = o.iter().map(|o| o.kind()).collect();
    assert_eq!(kinds, [1, 1, 2, 2, 0]);
    let mut url = [0u8; 64];
    let n = o.copy_url_data(&mut url).unwrap();
    assert_eq!(&url[..n], b"/abcdefg");
    // The 318-byte URL split 255 + 63.
    let d = find("opentracker_bep41.txt", 28);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    let chunks: Vec<usize> = a.options().unwrap().url_data().map(<[u8]>::len).collect();
    assert_eq!(chunks, [255, 63]);
    // Unknown option type 7 is skipped, not rejected.
    let d = find("opentracker_bep41.txt", 24);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    let all: Vec<_> = a.options().unwrap().iter().collect();
    assert_eq!(
        all,
        [
            AnnounceOption::Unknown {
                kind: 7,
                data: b"xyz"
            },
            AnnounceOption::EndOfOptions
        ]
    );
}

#[test]
fn aria2_tail_decodes_under_both_grammars() {
    let d = find("opentracker_trailing.txt", 8);
    assert_eq!(d.bytes.len(), 100);
    let bep41 = trackwire::udp::AnnounceRequest::decode_with(&d.bytes, TailGrammar::Bep41).unwrap();
    let kinds: Vec<_> = bep41.options().unwrap().iter().collect();
    assert_eq!(kinds, [AnnounceOption::EndOfOptions]);
    let legacy =
        trackwire::udp::AnnounceRequest::decode_with(&d.bytes, TailGrammar::Legacy).unwrap();
    let ext = legacy.extensions().unwrap();
    assert_eq!((ext.bits, ext.auth, ext.request_string), (0, None, None));
    assert!(ext.rest.is_empty());
    // Both re-encode to the same 100 bytes.
    for a in [bep41, legacy] {
        let mut b = [0u8; 100];
        assert_eq!(a.encode(&mut b).unwrap(), 100);
        assert_eq!(&b[..], &d.bytes[..]);
    }
}

#[test]
fn garbage_tails_decode_raw() {
    for line in [12, 16] {
        let d = find("opentracker_trailing.txt", line);
        let a = trackwire::udp::AnnounceRequest::decode_with(&d.bytes, TailGrammar::Raw).unwrap();
        assert_eq!(a.tail, AnnounceTail::Raw(&d.bytes[98..]));
        let mut b = vec![0; a.encoded_len()];
        a.encode(&mut b).unwrap();
        assert_eq!(b, d.bytes);
    }
}

#[test]
fn event_values_are_kept() {
    // opentracker probe: event 7.
    let d = find("opentracker_announce_ipv4.txt", 28);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    assert_eq!(a.event, AnnounceEvent::Other(7));
    // Extreme counters round-trip (i64 on the wire).
    let d = find("opentracker_announce_ipv4.txt", 44);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    assert_eq!((a.downloaded, a.left, a.uploaded), (-1, -1, i64::MIN));
}

#[test]
fn num_want_vectors() {
    let d = find("opentracker_numwant.txt", 9);
    let Request::Announce(a) = Request::decode(&d.bytes).unwrap() else {
        panic!()
    };
    assert_eq!(a.num_want, -1);
    let d = find("opentracker_numwant.txt", 10);
    let Response::Announce(r) = Response::decode(&d.bytes, d.family).unwrap() else {
        panic!()
    };
    assert_eq!(r.peers.len(), 200);
    assert_eq!(r.leechers, 261);
}
