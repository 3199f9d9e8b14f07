//! Shared helpers for the UDP integration tests: reading the capture files in
//! `tests/vectors/udp` (`t dir src dst len hex`; `#` lines are comments).

use std::path::{Path, PathBuf};

use trackwire::udp::AddressFamily;

/// One datagram of a capture file.
#[derive(Debug, Clone)]
pub(crate) struct Datagram {
    /// The file name, e.g. `libtorrent_normal.txt`.
    pub(crate) file: String,
    /// The 1-based line number in the file.
    pub(crate) line: usize,
    /// `true` for `C>T` (a request), `false` for `T>C` (a response).
    pub(crate) from_client: bool,
    /// The family of the addresses.
    pub(crate) family: AddressFamily,
    /// The bytes.
    pub(crate) bytes: Vec<u8>,
}

/// The UDP vectors, found from the library's tests (`CARGO_MANIFEST_DIR` is the repository
/// root) and from the tool's (`cli/`, which includes this file by path).
pub(crate) fn udp_vectors_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let here = manifest.join("tests/vectors/udp");
    if here.is_dir() {
        here
    } else {
        manifest.join("../tests/vectors/udp")
    }
}

pub(crate) fn decode_hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Parses one capture line; `None` for comments and blank lines.
pub(crate) fn parse_line(file: &str, line_no: usize, line: &str) -> Option<Datagram> {
    let line = line.trim_end();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = line.split_whitespace().collect();
    assert!(f.len() >= 5, "{file}:{line_no}: malformed capture line");
    let from_client = match f[1] {
        "C>T" => true,
        "T>C" => false,
        other => panic!("{file}:{line_no}: bad direction {other}"),
    };
    let family = if f[2].starts_with('[') {
        AddressFamily::Ipv6
    } else {
        AddressFamily::Ipv4
    };
    let len: usize = f[4].parse().expect("length");
    let bytes = decode_hex(f.get(5).copied().unwrap_or(""));
    assert_eq!(
        bytes.len(),
        len,
        "{file}:{line_no}: length field disagrees with hex"
    );
    Some(Datagram {
        file: file.to_string(),
        line: line_no,
        from_client,
        family,
        bytes,
    })
}

/// Every datagram of every capture file, in file-name order.
pub(crate) fn all_datagrams() -> Vec<Datagram> {
    let mut files: Vec<_> = std::fs::read_dir(udp_vectors_dir())
        .expect("tests/vectors/udp")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no capture files found");
    let mut out = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some(d) = parse_line(&name, i + 1, line) {
                out.push(d);
            }
        }
    }
    out
}
