//! Shared helpers for the CTCS integration tests: reading transcripts and framing them
//! per connection and direction.

use std::collections::HashMap;
use std::path::PathBuf;

use trackwire::ctcs::{Framer, ServerMessage, Version};
use trackwire::DecodeError;

/// One `C>`/`S>` transcript line: direction, connection number, raw bytes.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) dir: char,
    pub(crate) conn: u32,
    pub(crate) bytes: Vec<u8>,
}

/// Undoes the transcript escapes `\\ \r \n \t \0 \xNN`.
pub(crate) fn unescape(s: &str) -> Vec<u8> {
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

/// Parses a transcript: `C> <t> c<N> <escaped bytes>` / `S> ...`; `#` lines skipped.
pub(crate) fn parse_transcript(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let dir = match line.get(..2) {
            Some("C>") => 'C',
            Some("S>") => 'S',
            _ => continue,
        };
        let rest = line[2..].trim_start();
        let (_time, rest) = rest.split_once(' ').unwrap();
        let (conn, bytes) = rest.split_once(' ').unwrap();
        let conn = conn.strip_prefix('c').unwrap().parse().unwrap();
        out.push(Entry {
            dir,
            conn,
            bytes: unescape(bytes),
        });
    }
    out
}

/// One framed CTCS line with the version in force when it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Framed {
    pub(crate) dir: char,
    pub(crate) conn: u32,
    pub(crate) version: Version,
    pub(crate) line: Result<Vec<u8>, DecodeError>,
}

/// Frames every connection's two directions separately and tracks the version the way
/// dnh3.3.2 does: 3 at first, then whatever each server `PROTOCOL` line says.
pub(crate) fn frame_transcript(entries: &[Entry]) -> Vec<Framed> {
    let mut buffers: HashMap<(u32, char), (Framer, Vec<u8>)> = HashMap::new();
    let mut versions: HashMap<u32, Version> = HashMap::new();
    let mut out = Vec::new();
    for e in entries {
        let (framer, buf) = buffers.entry((e.conn, e.dir)).or_default();
        buf.extend_from_slice(&e.bytes);
        let mut lines = framer.lines(buf);
        for line in lines.by_ref() {
            let version = *versions.entry(e.conn).or_insert(Version::V3);
            if e.dir == 'S' {
                if let Some(v) = line.ok().and_then(server_protocol) {
                    versions.insert(e.conn, v);
                }
            }
            out.push(Framed {
                dir: e.dir,
                conn: e.conn,
                version,
                line: line.map(<[u8]>::to_vec),
            });
        }
        let done = lines.consumed();
        buf.drain(..done);
    }
    out
}

/// The version a server line switches the client to, if it is a `PROTOCOL` line.
pub(crate) fn server_protocol(line: &[u8]) -> Option<Version> {
    match ServerMessage::decode(line, Version::V3) {
        Ok(ServerMessage::Protocol(p)) => Some(p.negotiated()),
        _ if line.starts_with(b"PROTOCOL") => {
            Some(Version::from_atoi(line.get(9..).unwrap_or(b"")))
        }
        _ => None,
    }
}

pub(crate) fn ctcs_vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ctcs")
}

/// Every transcript: (file name, contents).
pub(crate) fn transcripts() -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(ctcs_vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}
