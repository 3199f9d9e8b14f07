//! Round trip of UDP requests: decode (under each `TailGrammar`) → encode → decode.
//!
//! Asserts: the second decode gives the same value; the encoding is canonical (encoding
//! the second value gives the same bytes, which are the input, or its first 16 bytes for
//! a padded connect); appending to a `Vec` gives the same bytes as encoding into a slice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::udp::{Request, TailGrammar};

fuzz_target!(|data: &[u8]| {
    for g in [TailGrammar::Bep41, TailGrammar::Legacy, TailGrammar::Raw] {
        let Ok(first) = Request::decode_with(data, g) else {
            continue;
        };
        let mut buf = vec![0u8; first.encoded_len()];
        let n = first.encode(&mut buf).expect("encoded_len suffices");
        let bytes = &buf[..n];
        let second = Request::decode_with(bytes, g).expect("re-encoded request decodes");
        assert_eq!(first, second, "{g:?}");
        let mut again = vec![0u8; second.encoded_len()];
        let m = second.encode(&mut again).expect("encoded_len suffices");
        assert_eq!(&again[..m], bytes, "re-encoding is not canonical");
        let mut appended = vec![0xa5];
        assert_eq!(first.encode_to_vec(&mut appended), n);
        assert_eq!(&appended[1..], bytes, "encode_to_vec differs from encode");
        match first {
            Request::Connect(_) => assert_eq!(bytes, &data[..16]),
            _ => assert_eq!(bytes, data),
        }
    }
});
