//! Round trip of UDP responses: decode (for each address family) → encode → decode.
//!
//! Asserts: the second decode gives the same value; the encoding is canonical (encoding
//! the second value gives the same bytes, which are the input, or its first 16 bytes for
//! a padded connect reply). Also rebuilds announce replies from their iterated peers
//! with `encode_with_peers` and scrape replies from their rows with `encode_with_rows`,
//! which must give the same bytes, and appends each reply to a `Vec` with
//! `encode_to_vec`, which must too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::udp::{AddressFamily, Response, ScrapeResponse};

fuzz_target!(|data: &[u8]| {
    for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
        let Ok(first) = Response::decode(data, family) else {
            continue;
        };
        let mut buf = vec![0u8; first.encoded_len()];
        let n = first.encode(&mut buf).expect("encoded_len suffices");
        let bytes = &buf[..n];
        let second = Response::decode(bytes, family).expect("re-encoded response decodes");
        assert_eq!(first, second, "{family:?}");
        let mut again = vec![0u8; second.encoded_len()];
        let m = second.encode(&mut again).expect("encoded_len suffices");
        assert_eq!(&again[..m], bytes, "re-encoding is not canonical");
        let mut appended = vec![0xa5];
        assert_eq!(first.encode_to_vec(&mut appended), n);
        assert_eq!(&appended[1..], bytes, "encode_to_vec differs from encode");
        match first {
            Response::Connect(_) => assert_eq!(bytes, &data[..16]),
            _ => assert_eq!(bytes, data),
        }
        let mut rebuilt = vec![0u8; n];
        match first {
            Response::Announce(a) => {
                let k = match family {
                    AddressFamily::Ipv4 => {
                        a.encode_with_peers(a.peers.iter_v4().unwrap(), &mut rebuilt)
                    }
                    AddressFamily::Ipv6 => {
                        a.encode_with_peers(a.peers.iter_v6().unwrap(), &mut rebuilt)
                    }
                }
                .expect("same size");
                assert_eq!(&rebuilt[..k], bytes);
            }
            Response::Scrape(s) => {
                let k = ScrapeResponse::encode_with_rows(
                    s.transaction_id,
                    s.rows.iter(),
                    s.rows.len(),
                    &mut rebuilt,
                )
                .expect("same size");
                assert_eq!(&rebuilt[..k], bytes);
            }
            _ => {}
        }
    }
});
