//! Decodes arbitrary bytes as the tail of an announce request, in both grammars: BEP 41
//! options (`Options::decode`) and the legacy extensions field
//! (`AnnounceRequest::decode_with(.., TailGrammar::Legacy)` after 98 fixed bytes).
//!
//! Asserts: no panic; options decoded alone and after the fixed part agree (errors
//! shifted by 98 bytes); option iteration stops at EndOfOptions and what follows is
//! `after_end`; re-serialising the options gives the bytes up to EndOfOptions; URLData
//! copies out exactly `url_data_len` bytes; a legacy tail accounts for every byte and
//! re-encodes to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::udp::{AnnounceOption, AnnounceRequest, AnnounceTail, Options, TailGrammar};
use trackwire_fuzz::{check_offset, encode_checked};

/// A valid 98-byte announce (action 1) for the tail to follow.
const FIXED: [u8; 98] = {
    let mut b = [0u8; 98];
    b[11] = 1;
    b
};

fn push_option(out: &mut Vec<u8>, o: &AnnounceOption<'_>) {
    match o {
        AnnounceOption::EndOfOptions | AnnounceOption::Nop => out.push(o.kind()),
        _ => {
            out.push(o.kind());
            out.push(u8::try_from(o.data().len()).unwrap());
            out.extend_from_slice(o.data());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut whole = FIXED.to_vec();
    whole.extend_from_slice(data);

    // BEP 41.
    let alone = Options::decode(data);
    let inside = AnnounceRequest::decode_with(&whole, TailGrammar::Bep41);
    match (&alone, &inside) {
        (Ok(o), Ok(a)) => {
            assert_eq!(o.as_bytes(), data);
            match a.tail {
                AnnounceTail::None => assert!(data.is_empty()),
                AnnounceTail::Options(t) => assert_eq!(t, *o),
                other => panic!("BEP 41 decode gave {other:?}"),
            }
            let all: Vec<_> = o.iter().collect();
            if let Some(pos) = all.iter().position(|x| *x == AnnounceOption::EndOfOptions) {
                assert_eq!(pos + 1, all.len(), "options after EndOfOptions");
            } else {
                assert!(o.after_end().is_empty());
            }
            let mut re = Vec::new();
            all.iter().for_each(|x| push_option(&mut re, x));
            re.extend_from_slice(o.after_end());
            assert_eq!(&re[..], data);
            let url = encode_checked(o.url_data_len(), |b| o.copy_url_data(b));
            assert_eq!(url, o.url_data().collect::<Vec<_>>().concat());
        }
        (Err(e), Err(f)) => {
            check_offset(e, data.len());
            assert_eq!(e.kind(), f.kind());
            assert_eq!(e.offset() + 98, f.offset());
        }
        _ => panic!("Options::decode and the announce disagree: {alone:?} vs {inside:?}"),
    }

    // Legacy extensions.
    match AnnounceRequest::decode_with(&whole, TailGrammar::Legacy) {
        Ok(a) => {
            match a.tail {
                AnnounceTail::None => assert!(data.is_empty()),
                AnnounceTail::Extensions(e) => {
                    assert_eq!(e.bits, e.wire_bits());
                    assert_eq!(e.encoded_len(), data.len());
                    if let Some(s) = e.request_string {
                        assert!(s.as_bytes().len() <= 255);
                    }
                }
                other => panic!("legacy decode gave {other:?}"),
            }
            let bytes = encode_checked(a.encoded_len(), |b| a.encode(b));
            assert_eq!(bytes, whole);
        }
        Err(e) => {
            check_offset(&e, whole.len());
            assert!(e.offset() >= 98);
        }
    }
});
