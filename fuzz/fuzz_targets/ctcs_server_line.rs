//! Decodes arbitrary bytes as a CTCS server line under each `Version`, with both
//! keyword matches (`Exact`, the client's `Prefix`).
//!
//! Asserts: no panic; `decode` is `decode_with(.., Exact)`; error offsets lie within the
//! line; a terminator does not change the result; a decoded message encodes as promised
//! into one LF-terminated line without NUL or CR; `PROTOCOL` negotiates a version ≤ 3.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{KeywordMatch, ServerMessage, Version};
use trackwire_fuzz::{check_ctcs_line, check_offset, encode_checked, VERSIONS};

fn exercise(m: &ServerMessage<'_>, v: Version) {
    assert!(!m.keyword().is_empty());
    match m {
        ServerMessage::SetDlimit(s) => {
            let _ = s.applied();
        }
        ServerMessage::SetUlimit(s) => {
            let _ = s.applied();
        }
        ServerMessage::Protocol(p) => assert!(p.negotiated().get() <= 3),
        ServerMessage::CtConfigValues(c) => {
            if let Some(r) = c.seed_ratio.set() {
                let _ = r.to_f64();
            }
        }
        _ => {}
    }
    let bytes = encode_checked(m.encoded_len(v), |b| m.encode(v, b));
    check_ctcs_line(&bytes);
}

fuzz_target!(|data: &[u8]| {
    let bare = !data.iter().any(|b| matches!(b, b'\r' | b'\n'));
    for v in VERSIONS {
        assert_eq!(
            ServerMessage::decode(data, v),
            ServerMessage::decode_with(data, v, KeywordMatch::Exact)
        );
        for matching in [KeywordMatch::Exact, KeywordMatch::Prefix] {
            let r = ServerMessage::decode_with(data, v, matching);
            match &r {
                Ok(m) => exercise(m, v),
                Err(e) => check_offset(e, data.len()),
            }
            if bare {
                for end in [&b"\n"[..], b"\r", b"\r\n"] {
                    let line = [data, end].concat();
                    let again = ServerMessage::decode_with(&line, v, matching);
                    assert_eq!(again, r, "terminator {end:?}");
                }
            }
        }
    }
});
