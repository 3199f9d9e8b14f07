//! Round trip of CTCS server lines under each `Version`: decode → encode → decode.
//!
//! Asserts: with exact keyword matching the second decode gives the same message and
//! encoding it again gives the same bytes. A message decoded with the client's prefix
//! matching need not re-encode to its line (`CTQUITTER` is `CTQUIT`), but its encoding
//! must decode, with either matching, to the same message, and re-encode canonically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{KeywordMatch, ServerMessage};
use trackwire_fuzz::VERSIONS;

fuzz_target!(|data: &[u8]| {
    for v in VERSIONS {
        for matching in [KeywordMatch::Exact, KeywordMatch::Prefix] {
            let Ok(first) = ServerMessage::decode_with(data, v, matching) else {
                continue;
            };
            let mut buf = vec![0u8; first.encoded_len(v)];
            let n = first.encode(v, &mut buf).expect("encoded_len suffices");
            let bytes = &buf[..n];
            let text = String::from_utf8_lossy(bytes);
            // An exact `Unknown` such as `CTQUITTER` is a prefix match of `CTQUIT`, so
            // exact messages are re-decoded exactly; prefix ones both ways.
            let again_with: &[KeywordMatch] = match matching {
                KeywordMatch::Prefix => &[KeywordMatch::Exact, KeywordMatch::Prefix],
                _ => &[KeywordMatch::Exact],
            };
            for &again_matching in again_with {
                let second = ServerMessage::decode_with(bytes, v, again_matching)
                    .unwrap_or_else(|e| panic!("{v:?}: {text:?} does not decode: {e}"));
                assert_eq!(
                    first, second,
                    "{v:?} {matching:?}→{again_matching:?}: {text:?}"
                );
                let mut again = vec![0u8; second.encoded_len(v)];
                let m = second.encode(v, &mut again).expect("encoded_len suffices");
                assert_eq!(&again[..m], bytes);
            }
        }
    }
});
