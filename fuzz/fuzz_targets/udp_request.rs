//! Decodes arbitrary bytes as a UDP tracker request under each `TailGrammar`.
//!
//! Asserts: no panic; `Request::decode_with` agrees with the per-action decoders; error
//! offsets lie within the input; a decoded request iterates and encodes as promised
//! (exact `encoded_len`, untouched buffer on a short one) and its bytes are a prefix of
//! the input (all of it except for a padded connect); `Raw` accepts whatever `Bep41` or
//! `Legacy` accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    AnnounceRequest, AnnounceTail, ConnectRequest, PasswdHash, Request, RequestHeader,
    ScrapeRequest, TailGrammar,
};
use trackwire_fuzz::{check_offset, encode_checked};

fn exercise(r: &Request<'_>, input: &[u8]) {
    match r {
        Request::Connect(_) => assert_eq!(r.connection_id(), None),
        Request::Announce(a) => {
            assert_eq!(r.connection_id(), Some(a.connection_id));
            match &a.tail {
                AnnounceTail::None => assert_eq!(input.len(), 98),
                AnnounceTail::Options(o) => {
                    let n = o.iter().count();
                    assert!(n <= o.as_bytes().len());
                    let after = o.after_end();
                    assert!(after.len() <= o.as_bytes().len());
                    let url_len = o.url_data_len();
                    let url = encode_checked(url_len, |b| o.copy_url_data(b));
                    assert_eq!(url.len(), o.url_data().map(<[u8]>::len).sum::<usize>());
                }
                AnnounceTail::Extensions(e) => {
                    assert_eq!(e.bits, e.wire_bits());
                    if let Some(auth) = e.auth {
                        assert!(matches!(auth.passwd_hash, PasswdHash::Hash(_)));
                    }
                    assert_eq!(98 + e.encoded_len(), input.len());
                }
                AnnounceTail::Raw(b) => assert!(!b.is_empty()),
            }
        }
        Request::Scrape(s) => {
            let hashes: Vec<_> = s.info_hashes.iter().collect();
            assert_eq!(hashes.len(), s.info_hashes.len());
            assert_eq!(s.info_hashes.wire_bytes(), input.get(16..));
        }
    }
    let bytes = encode_checked(r.encoded_len(), |b| r.encode(b));
    assert_eq!(&bytes[..], &input[..bytes.len()]);
    if !matches!(r, Request::Connect(_)) {
        assert_eq!(bytes.len(), input.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let header = RequestHeader::decode(data);
    let mut accepted = false;
    for g in [TailGrammar::Bep41, TailGrammar::Legacy, TailGrammar::Raw] {
        let any = Request::decode_with(data, g);
        let specific = match header.map(|h| h.action) {
            Err(_) => None,
            Ok(0) => Some(ConnectRequest::decode(data).map(Request::Connect)),
            Ok(1) => Some(AnnounceRequest::decode_with(data, g).map(Request::Announce)),
            Ok(2) => Some(ScrapeRequest::decode(data).map(Request::Scrape)),
            Ok(_) => None,
        };
        match specific {
            Some(s) => assert_eq!(any, s),
            None => assert!(any.is_err()),
        }
        match &any {
            Ok(r) => {
                assert_eq!(Ok(r.transaction_id()), header.map(|h| h.transaction_id));
                exercise(r, data);
                accepted = true;
            }
            Err(e) => {
                check_offset(e, data.len());
                assert!(
                    !(g == TailGrammar::Raw && accepted),
                    "Raw refused what a grammar took"
                );
            }
        }
    }
});
