//! Decodes arbitrary bytes as a CTCS client line under each `Version`.
//!
//! Asserts: no panic; error offsets lie within the line; a terminator (LF, CR, CRLF)
//! does not change the result; a decoded message has a keyword, and encodes as promised
//! (exact `encoded_len`, untouched short buffer) into one LF-terminated line without
//! NUL or CR.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{ClientMessage, Version};
use trackwire_fuzz::{check_ctcs_line, check_offset, encode_checked, VERSIONS};

fn exercise(m: &ClientMessage<'_>, v: Version) {
    assert!(!m.keyword().is_empty());
    match m {
        ClientMessage::CtConfig(c) => {
            let _ = c.bounds();
            let _ = c.value_type.letter();
        }
        ClientMessage::CtPeer(p) => {
            let _ = p.choke_interest.to_bytes();
        }
        ClientMessage::Protocol(p) => {
            assert!(p.negotiated().get() <= 3);
        }
        _ => {}
    }
    let bytes = encode_checked(m.encoded_len(v), |b| m.encode(v, b));
    check_ctcs_line(&bytes);
}

fuzz_target!(|data: &[u8]| {
    let bare = !data.iter().any(|b| matches!(b, b'\r' | b'\n'));
    for v in VERSIONS {
        let r = ClientMessage::decode(data, v);
        match &r {
            Ok(m) => exercise(m, v),
            Err(e) => check_offset(e, data.len()),
        }
        if bare {
            for end in [&b"\n"[..], b"\r", b"\r\n"] {
                let line = [data, end].concat();
                assert_eq!(ClientMessage::decode(&line, v), r, "terminator {end:?}");
            }
        }
    }
});
