//! `trackwire decode ctcs`: decodes a CTCS transcript (`C> t cN bytes` / `S> t cN bytes`,
//! bytes escaped with `\\ \r \n \t \0 \xNN`, `#` lines skipped) and prints one JSON
//! object per message. Each connection and direction is framed separately; a server
//! `PROTOCOL` line switches the version in force on its connection, as the dnh3.3.2
//! client does. Decoding is linear in the input: a stream's buffer is compacted once per
//! transcript line, not once per message. A message still without its line end when the
//! input ends is reported (`"error": "unterminated_line"`), never dropped.
//!
//! Where dnh3.3.2 reads a line differently from the exact grammar, both readings are
//! shown, both from the library: `SETDLIMIT`/`SETULIMIT` give the number as written
//! (`dl_limit`, a string) and the limit the client applies (`dl_limit_applied`); a
//! server `PROTOCOL` gives the version the client ends up with (`negotiated`); block
//! markers say which spelling arrived (`marker`); and a server line the client's prefix
//! matching reads as something else carries that reading as `client_reads`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use trackwire::ctcs::{ClientMessage, Framer, KeywordMatch, Marker, ServerMessage, Version};

use crate::cli::DecodeCtcsArgs;
use crate::ctcs_json::{self, text};
use crate::failure::{Failure, FAILED};
use crate::out::Buffered;

/// One connection and direction: its framer and the bytes not yet framed.
#[derive(Default)]
struct Stream {
    framer: Framer,
    buf: Vec<u8>,
}

/// Runs `decode ctcs`.
pub(crate) fn run(a: &DecodeCtcsArgs) -> Result<ExitCode, Failure> {
    let initial = match a.protocol {
        1 => Version::V1,
        2 => Version::V2,
        _ => Version::V3,
    };
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| Failure::Failed(format!("reading stdin: {e}")))?;
    let text = String::from_utf8_lossy(&input);

    let mut out = Buffered::new();
    // Messages that did not decode (their JSON says why), and transcript lines that are
    // not transcript lines (stderr said so, one line each).
    let mut failed = 0usize;
    let mut bad_lines = 0usize;
    let mut streams: HashMap<(u32, char), Stream> = HashMap::new();
    let mut versions: HashMap<u32, Version> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some((dir, conn, bytes)) = parse_entry(line) else {
            if !line.starts_with('#') && !line.trim().is_empty() {
                out.flush();
                let _ = writeln!(
                    std::io::stderr(),
                    "trackwire: stdin line {}: not a transcript line (`C> t cN bytes` or `S> t cN bytes`)",
                    n + 1
                );
                bad_lines += 1;
            }
            continue;
        };
        let stream = streams.entry((conn, dir)).or_default();
        stream.buf.extend_from_slice(&bytes);
        let mut lines = stream.framer.lines(&stream.buf);
        for line in &mut lines {
            let v = match line {
                Err(e) => error_json(dir, conn, e),
                Ok(l) => message_json(l, dir, conn, initial, &mut versions),
            };
            failed += usize::from(v.get("error").is_some());
            out.json(&v);
        }
        let consumed = lines.consumed();
        // Once per transcript line: many messages on one line cost one move, not one each.
        stream.buf.drain(..consumed);
    }
    let mut left: Vec<_> = streams
        .into_iter()
        .filter(|(_, s)| !s.buf.is_empty())
        .collect();
    left.sort_by_key(|((conn, dir), _)| (*conn, *dir));
    for ((conn, dir), s) in left {
        out.json(&json!({
            "dir": dir.to_string(),
            "conn": conn,
            "error": "unterminated_line",
            "offset": s.buf.len(),
            "line": String::from_utf8_lossy(&s.buf),
        }));
        failed += 1;
    }
    out.flush();
    if failed > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "trackwire: {failed} line(s) did not decode"
        );
    }
    if failed > 0 || bad_lines > 0 {
        return Ok(ExitCode::from(FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The library call: one framed line to its JSON, following `PROTOCOL` switches.
fn message_json(
    line: &[u8],
    dir: char,
    conn: u32,
    initial: Version,
    versions: &mut HashMap<u32, Version>,
) -> Value {
    let version = *versions.entry(conn).or_insert(initial);
    if dir == 'C' {
        client_json(line, version, conn)
    } else {
        if let Some(v) = protocol_switch(line) {
            versions.insert(conn, v);
        }
        server_json(line, version, conn)
    }
}

/// `C>   0.007425 c1 PROTOCOL 0003\n` → ('C', 1, b"PROTOCOL 0003\n").
fn parse_entry(line: &str) -> Option<(char, u32, Vec<u8>)> {
    let dir = match line.get(..2)? {
        "C>" => 'C',
        "S>" => 'S',
        _ => return None,
    };
    let rest = line.get(2..)?.trim_start();
    let (_time, rest) = rest.split_once(' ')?;
    let (conn, bytes) = rest.split_once(' ')?;
    let conn = conn.strip_prefix('c')?.parse().ok()?;
    Some((dir, conn, unescape(bytes)?))
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match it.next()? {
            b'\\' => b'\\',
            b'r' => b'\r',
            b'n' => b'\n',
            b't' => b'\t',
            b'0' => 0,
            b'x' => {
                let hex = [it.next()?, it.next()?];
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            _ => return None,
        });
    }
    Some(out)
}

/// The version a server line makes the client switch to, if it is a `PROTOCOL` line
/// (dnh3.3.2 reads `atoi` at byte 9 and clamps to 3).
fn protocol_switch(line: &[u8]) -> Option<Version> {
    line.starts_with(b"PROTOCOL")
        .then(|| Version::from_atoi(line.get(9..).unwrap_or_default()))
}

fn base(dir: &str, conn: u32, kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("dir".into(), json!(dir));
    m.insert("conn".into(), json!(conn));
    m.insert("type".into(), json!(kind));
    m
}

fn error_json(dir: impl ToString, conn: u32, e: trackwire::DecodeError) -> Value {
    json!({"dir": dir.to_string(), "conn": conn, "error": e.kind().name(), "offset": e.offset()})
}

fn client_json(line: &[u8], version: Version, conn: u32) -> Value {
    let msg = match ClientMessage::decode(line, version) {
        Ok(m) => m,
        Err(e) => return error_json("C", conn, e),
    };
    let mut m = base("C", conn, msg.keyword());
    match msg {
        ClientMessage::Protocol(p) => {
            m.insert("version".into(), json!(p.version));
        }
        ClientMessage::Auth(a) => {
            m.insert("password".into(), text(a.password));
        }
        ClientMessage::CtTorrent(t) => ctcs_json::torrent(&mut m, &t),
        ClientMessage::CtStatus(s) => ctcs_json::status(&mut m, &s, version),
        ClientMessage::CtBw(b) => ctcs_json::bandwidth(&mut m, &b),
        ClientMessage::CtInfo(i) => ctcs_json::info(&mut m, &i),
        ClientMessage::CtDetail(d) => ctcs_json::detail(&mut m, &d),
        ClientMessage::CtFile(f) => ctcs_json::file(&mut m, &f, version),
        ClientMessage::CtPeer(p) => ctcs_json::peer(&mut m, &p),
        ClientMessage::CtConfig(c) => ctcs_json::config(&mut m, &c),
        ClientMessage::CtConfigValues(c) => ctcs_json::config_values(&mut m, &c, version, false),
        ClientMessage::CtFileStart(k)
        | ClientMessage::CtFilesDone(k)
        | ClientMessage::CtPeerStart(k)
        | ClientMessage::CtPeersDone(k) => {
            m.insert("marker".into(), json!(marker_name(k)));
        }
        ClientMessage::Unknown(t) => {
            m.insert("line".into(), text(t));
        }
        _ => {}
    }
    Value::Object(m)
}

/// A block marker's spelling as the JSON names it.
fn marker_name(k: Marker) -> &'static str {
    match k {
        Marker::V3 => "v3",
        Marker::Legacy => "legacy",
    }
}

fn server_json(line: &[u8], version: Version, conn: u32) -> Value {
    let msg = match ServerMessage::decode(line, version) {
        Ok(m) => m,
        Err(e) => return error_json("S", conn, e),
    };
    let mut m = base("S", conn, msg.keyword());
    server_fields(&mut m, &msg, version);
    // What dnh3.3.2's prefix dispatch makes of the line, when that is not what the exact
    // grammar read (`CTQUITTER` quits the client).
    match ServerMessage::decode_with(line, version, KeywordMatch::Prefix) {
        Ok(p) if p != msg => {
            let mut r = Map::new();
            r.insert("type".into(), json!(p.keyword()));
            server_fields(&mut r, &p, version);
            m.insert("client_reads".into(), Value::Object(r));
        }
        Ok(_) => {}
        Err(e) => {
            m.insert(
                "client_reads".into(),
                json!({"error": e.kind().name(), "offset": e.offset()}),
            );
        }
    }
    Value::Object(m)
}

/// The fields of a server message, after its `type`.
fn server_fields(m: &mut Map<String, Value>, msg: &ServerMessage<'_>, version: Version) {
    match *msg {
        ServerMessage::Protocol(p) => {
            m.insert("version".into(), json!(p.version));
            m.insert("negotiated".into(), json!(p.negotiated().get()));
        }
        ServerMessage::Error(e) => {
            m.insert("message".into(), text(e.message));
        }
        ServerMessage::SetDlimit(s) => {
            m.insert("dl_limit".into(), text(s.dl_limit));
            m.insert("dl_limit_applied".into(), json!(s.applied()));
        }
        ServerMessage::SetUlimit(s) => {
            m.insert("ul_limit".into(), text(s.ul_limit));
            m.insert("ul_limit_applied".into(), json!(s.applied()));
        }
        ServerMessage::CtConfig(c) => {
            m.insert("name".into(), text(c.name.into()));
            m.insert("value".into(), text(c.value));
        }
        ServerMessage::CtConfigValues(c) => ctcs_json::config_values(m, &c, version, true),
        ServerMessage::Unknown(t) => {
            m.insert("line".into(), text(t));
        }
        _ => {}
    }
}
