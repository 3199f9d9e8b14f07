//! The shipped CTCS transcripts (`tests/vectors/ctcs`), framed per connection and
//! direction, each line with the protocol version in force when it arrived — the way
//! the trackwire tests read them.

use std::collections::HashMap;
use std::path::PathBuf;

use trackwire::ctcs::{Framer, ServerMessage, Status, Version};

/// One framed line.
pub struct Line {
    /// Sent by the client (`C>`), else by the server (`S>`).
    pub from_client: bool,
    pub version: Version,
    pub bytes: Vec<u8>,
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'\\' => out.push(b'\\'),
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'x' => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 4;
                    continue;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn server_protocol(line: &[u8]) -> Option<Version> {
    match ServerMessage::decode(line, Version::V3) {
        Ok(ServerMessage::Protocol(p)) => Some(p.negotiated()),
        _ if line.starts_with(b"PROTOCOL") => {
            Some(Version::from_atoi(line.get(9..).unwrap_or(b"")))
        }
        _ => None,
    }
}

/// Every well-framed line of every transcript, in file order.
pub fn lines() -> Vec<Line> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ctcs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors/ctcs")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut buffers: HashMap<(u32, bool), (Framer, Vec<u8>)> = HashMap::new();
        let mut versions: HashMap<u32, Version> = HashMap::new();
        for line in text.lines() {
            let from_client = match line.get(..2) {
                Some("C>") => true,
                Some("S>") => false,
                _ => continue,
            };
            let rest = line[2..].trim_start();
            let (_time, rest) = rest.split_once(' ').unwrap();
            let (conn, bytes) = rest.split_once(' ').unwrap();
            let conn: u32 = conn.strip_prefix('c').unwrap().parse().unwrap();
            let (framer, buf) = buffers.entry((conn, from_client)).or_default();
            buf.extend_from_slice(&unescape(bytes));
            loop {
                let s = framer.split(buf);
                let consumed = s.consumed;
                let line = match s.status {
                    Status::Complete(Ok(l)) => Some(Some(l.to_vec())),
                    Status::Complete(Err(_)) => Some(None),
                    Status::Partial => None,
                };
                buf.drain(..consumed);
                let Some(line) = line else { break };
                let Some(line) = line else { continue };
                let version = *versions.entry(conn).or_insert(Version::V3);
                if !from_client {
                    if let Some(v) = server_protocol(&line) {
                        versions.insert(conn, v);
                    }
                }
                out.push(Line {
                    from_client,
                    version,
                    bytes: line,
                });
            }
        }
    }
    out
}
