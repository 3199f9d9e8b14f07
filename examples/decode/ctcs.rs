//! The `ctcs` mode: decodes a CTCS transcript (`C> t cN bytes` / `S> t cN bytes`, bytes
//! escaped with `\\ \r \n \t \0 \xNN`, `#` lines skipped) and prints one JSON object per
//! message. Each connection and direction is framed separately; a server `PROTOCOL` line
//! switches the version in force on its connection, as the dnh3.3.2 client does.

use std::collections::HashMap;
use std::io::Read;
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use trackwire::ctcs::{
    ClientMessage, CtConfigValues, Framer, Positional, ServerMessage, Status, Text, Version,
};

/// Runs the `ctcs` mode with the arguments after the mode name.
pub(crate) fn run(args: Vec<String>) -> ExitCode {
    let mut initial = Version::V3;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let value = match a.as_str() {
            "--protocol" => args.next(),
            s => match s.strip_prefix("--protocol=") {
                Some(v) => Some(v.to_owned()),
                None => {
                    eprintln!("decode ctcs: unknown argument {a:?}");
                    return ExitCode::from(2);
                }
            },
        };
        initial = match value.as_deref() {
            Some("1") => Version::V1,
            Some("2") => Version::V2,
            Some("3") => Version::V3,
            _ => {
                eprintln!("decode ctcs: --protocol takes 1, 2 or 3");
                return ExitCode::from(2);
            }
        };
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("decode ctcs: reading stdin: {e}");
        return ExitCode::from(2);
    }
    let text = String::from_utf8_lossy(&input);

    let mut failed = false;
    let mut streams: HashMap<(u32, char), (Framer, Vec<u8>)> = HashMap::new();
    let mut versions: HashMap<u32, Version> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some((dir, conn, bytes)) = parse_entry(line) else {
            if !line.starts_with('#') && !line.trim().is_empty() {
                eprintln!("decode ctcs: line {}: not a transcript line", n + 1);
                failed = true;
            }
            continue;
        };
        let (framer, buf) = streams.entry((conn, dir)).or_default();
        buf.extend_from_slice(&bytes);
        loop {
            let split = framer.split(buf);
            let consumed = split.consumed;
            let out = match split.status {
                Status::Partial => None,
                Status::Complete(Err(e)) => Some(
                    json!({"dir": dir.to_string(), "conn": conn, "error": e.kind().name(), "offset": e.offset()}),
                ),
                Status::Complete(Ok(l)) => {
                    let version = *versions.entry(conn).or_insert(initial);
                    Some(if dir == 'C' {
                        client_json(l, version, conn)
                    } else {
                        if let Some(v) = protocol_switch(l) {
                            versions.insert(conn, v);
                        }
                        server_json(l, version, conn)
                    })
                }
            };
            buf.drain(..consumed);
            match out {
                Some(v) => {
                    failed |= v.get("error").is_some();
                    println!("{v}");
                }
                None => break,
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
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

fn text(t: Text<'_>) -> Value {
    Value::String(t.to_string())
}

fn base(dir: &str, conn: u32, kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("dir".into(), json!(dir));
    m.insert("conn".into(), json!(conn));
    m.insert("type".into(), json!(kind));
    m
}

fn error_json(dir: &str, conn: u32, e: trackwire::DecodeError) -> Value {
    json!({"dir": dir, "conn": conn, "error": e.kind().name(), "offset": e.offset()})
}

fn positional<T: Into<Value>>(p: Positional<T>) -> Value {
    match p {
        Positional::Keep => Value::Null,
        Positional::Set(v) => v.into(),
    }
}

/// The positional CTCONFIG fields the line has under `version` (server lines at
/// version 0 have neither `cache_size` nor `exitzero`).
fn config_values(
    m: &mut Map<String, Value>,
    c: &CtConfigValues<'_>,
    version: Version,
    server: bool,
) {
    m.insert("verbose".into(), positional(c.verbose));
    m.insert("seedtime".into(), positional(c.seedtime));
    m.insert(
        "seed_ratio".into(),
        match c.seed_ratio {
            Positional::Keep => Value::Null,
            Positional::Set(f) => serde_json::Number::from_f64(f.to_f64())
                .map(Value::Number)
                .unwrap_or_else(|| json!(f.as_str())),
        },
    );
    m.insert("maxpeers".into(), positional(c.maxpeers));
    m.insert("minpeers".into(), positional(c.minpeers));
    m.insert("fileno".into(), positional(c.fileno));
    let v1 = version == Version::V1 || (version == Version::V0 && !server);
    if version == Version::V2 || version == Version::V3 {
        m.insert("cache_size".into(), positional(c.cache_size));
    } else if v1 {
        m.insert("exitzero".into(), positional(c.exitzero));
    }
    m.insert("pause".into(), positional(c.pause));
    if v1 {
        m.insert("soft_quit".into(), positional(c.soft_quit));
    }
}

fn client_json(line: &[u8], version: Version, conn: u32) -> Value {
    let msg = match ClientMessage::decode(line, version) {
        Ok(m) => m,
        Err(e) => return error_json("C", conn, e),
    };
    let mut m = base("C", conn, msg.keyword(version));
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match msg {
        ClientMessage::Protocol(p) => put("version", json!(p.version)),
        ClientMessage::Auth(a) => put("password", text(a.password)),
        ClientMessage::CtTorrent(t) => {
            put("peer_id", text(t.peer_id.into()));
            put("start_timestamp", json!(t.start_timestamp));
            put("current_timestamp", json!(t.current_timestamp));
            put("filename", text(t.filename));
        }
        ClientMessage::CtStatus(s) => {
            let v1 = version.has_v1_status();
            put("seeders", json!(s.seeders));
            if !v1 {
                put("total_seeders", json!(s.total_seeders));
            }
            put("leechers", json!(s.leechers));
            if !v1 {
                put("total_leechers", json!(s.total_leechers));
                put("connecting", json!(s.connecting));
            }
            put("n_have", json!(s.n_have));
            put("n_total", json!(s.n_total));
            put("n_avail", json!(s.n_avail));
            put("dl_rate", json!(s.dl_rate));
            put("ul_rate", json!(s.ul_rate));
            put("dl_total", json!(s.dl_total));
            put("ul_total", json!(s.ul_total));
            put("dl_limit", json!(s.dl_limit));
            put("ul_limit", json!(s.ul_limit));
            if !v1 {
                put("cache_used", json!(s.cache_used));
            }
        }
        ClientMessage::CtBw(b) => {
            put("dl_rate", json!(b.dl_rate));
            put("ul_rate", json!(b.ul_rate));
            put("dl_limit", json!(b.dl_limit));
            put("ul_limit", json!(b.ul_limit));
        }
        ClientMessage::CtInfo(i) => {
            put("severity", json!(i.severity));
            put("message", text(i.message));
        }
        ClientMessage::CtDetail(d) => {
            put("torrent_size", json!(d.torrent_size));
            put("piece_size", json!(d.piece_size));
            put("current_timestamp", json!(d.current_timestamp));
            put("seed_timestamp", json!(d.seed_timestamp));
        }
        ClientMessage::CtFile(f) => {
            put("fileno", json!(f.fileno));
            if version.is_v3() {
                put("priority", json!(f.priority));
                put("current_priority", json!(f.current_priority));
            }
            put("n_pieces", json!(f.n_pieces));
            put("n_have", json!(f.n_have));
            if version.get() >= 2 {
                put("n_available", json!(f.n_available));
            }
            put("filesize", json!(f.filesize));
            put("filename", text(f.filename));
        }
        ClientMessage::CtPeer(p) => {
            put("peer_id", text(p.peer_id.into()));
            put("address", json!(p.address.to_string()));
            put(
                "choke_interest",
                json!(String::from_utf8_lossy(&p.choke_interest.to_bytes())),
            );
            put("dl_rate", json!(p.dl_rate));
            put("ul_rate", json!(p.ul_rate));
            put("dl_total", json!(p.dl_total));
            put("ul_total", json!(p.ul_total));
            put("n_pieces", json!(p.n_pieces));
        }
        ClientMessage::CtConfig(c) => {
            put("name", text(c.name.into()));
            put(
                "value_type",
                json!(char::from(c.value_type.letter()).to_string()),
            );
            put("range", text(c.range.into()));
            put("value", text(c.value));
            put("short_desc", text(c.short_desc));
            put("long_desc", text(c.long_desc));
        }
        ClientMessage::CtConfigValues(c) => config_values(&mut m, &c, version, false),
        ClientMessage::Unknown(t) => put("line", text(t)),
        _ => {}
    }
    Value::Object(m)
}

fn server_json(line: &[u8], version: Version, conn: u32) -> Value {
    let msg = match ServerMessage::decode(line, version) {
        Ok(m) => m,
        Err(e) => return error_json("S", conn, e),
    };
    let mut m = base("S", conn, msg.keyword());
    match msg {
        ServerMessage::Protocol(p) => {
            m.insert("version".into(), json!(p.version));
        }
        ServerMessage::Error(e) => {
            m.insert("message".into(), text(e.message));
        }
        ServerMessage::SetDlimit(s) => {
            m.insert("dl_limit".into(), json!(s.applied()));
            m.insert("dl_limit_text".into(), text(s.dl_limit));
        }
        ServerMessage::SetUlimit(s) => {
            m.insert("ul_limit".into(), json!(s.applied()));
            m.insert("ul_limit_text".into(), text(s.ul_limit));
        }
        ServerMessage::CtConfig(c) => {
            m.insert("name".into(), text(c.name.into()));
            m.insert("value".into(), text(c.value));
        }
        ServerMessage::CtConfigValues(c) => config_values(&mut m, &c, version, true),
        ServerMessage::Unknown(t) => {
            m.insert("line".into(), text(t));
        }
        _ => {}
    }
    Value::Object(m)
}
