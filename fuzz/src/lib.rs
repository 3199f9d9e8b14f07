//! Helpers shared by the fuzz targets in `fuzz_targets/`: the CTCS versions, the checks
//! every encoder must pass, and the invariants of the state machines.

use trackwire::ctcs::Version;
use trackwire::{DecodeError, EncodeError};

/// Every CTCS protocol version a connection can be in (0 is a real, mixed state).
pub const VERSIONS: [Version; 4] = [Version::V0, Version::V1, Version::V2, Version::V3];

/// A decode error must point inside the input (or just past its end).
pub fn check_offset(e: &DecodeError, len: usize) {
    assert!(e.offset() <= len, "{e} for a {len}-byte input");
}

/// Runs an encoder the way every trackwire encoder promises to behave, and returns the
/// bytes: into a buffer of exactly `len` bytes it writes `len`; into one byte less it
/// fails with `required() == len` and leaves the buffer untouched.
pub fn encode_checked(
    len: usize,
    encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = encode(&mut buf).expect("a buffer of encoded_len bytes suffices");
    assert_eq!(n, len, "encoded length differs from encoded_len");
    if len > 0 {
        let mut small = vec![0xA5u8; len - 1];
        let e = encode(&mut small).expect_err("a buffer one byte short must fail");
        assert_eq!(e.required(), len, "EncodeError::required");
        assert!(
            small.iter().all(|&b| b == 0xA5),
            "a failed encode wrote into the buffer"
        );
    }
    buf
}

/// What every encoded CTCS line must be: one LF at the end, no NUL, CR or other LF.
pub fn check_ctcs_line(bytes: &[u8]) {
    let (last, body) = bytes.split_last().expect("an encoded line is never empty");
    assert_eq!(*last, b'\n', "an encoded line ends with LF");
    assert!(
        !body.iter().any(|b| matches!(b, 0 | b'\r' | b'\n')),
        "NUL, CR or LF inside an encoded line: {:?}",
        String::from_utf8_lossy(bytes)
    );
}
