//! Round trip of CTCS client lines under each `Version`: decode → encode → decode.
//!
//! Asserts: the second decode gives the same message, and encoding it again gives the
//! same bytes (encoders are canonical: numbers lose leading zeros, the line gets one LF).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::ClientMessage;
use trackwire_fuzz::VERSIONS;

fuzz_target!(|data: &[u8]| {
    for v in VERSIONS {
        let Ok(first) = ClientMessage::decode(data, v) else {
            continue;
        };
        let mut buf = vec![0u8; first.encoded_len(v)];
        let n = first.encode(v, &mut buf).expect("encoded_len suffices");
        let bytes = &buf[..n];
        let second = ClientMessage::decode(bytes, v).unwrap_or_else(|e| {
            panic!(
                "{v:?}: {:?} does not decode: {e}",
                String::from_utf8_lossy(bytes)
            )
        });
        assert_eq!(first, second, "{v:?}: {:?}", String::from_utf8_lossy(bytes));
        let mut again = vec![0u8; second.encoded_len(v)];
        let m = second.encode(v, &mut again).expect("encoded_len suffices");
        assert_eq!(&again[..m], bytes);
    }
});
