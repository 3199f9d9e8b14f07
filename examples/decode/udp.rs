//! The `udp` mode: decodes UDP tracker datagrams given as hex arguments, or capture lines
//! (`t dir src dst len hex`, as in `tests/vectors/udp`) read from standard input.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use trackwire::udp::{
    AddressFamily, AnnounceRequest, AnnounceTail, PasswdHash, Request, Response, TailGrammar,
};

struct Flags {
    family: AddressFamily,
    from_client: bool,
    grammar: TailGrammar,
    hex: Vec<String>,
}

fn parse_flags(args: Vec<String>) -> Result<Flags, String> {
    let mut flags = Flags {
        family: AddressFamily::Ipv4,
        from_client: true,
        grammar: TailGrammar::Bep41,
        hex: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ipv6" => flags.family = AddressFamily::Ipv6,
            "--legacy-extensions" => flags.grammar = TailGrammar::Legacy,
            "--from" => match args.next().as_deref() {
                Some("client") => flags.from_client = true,
                Some("tracker") => flags.from_client = false,
                other => return Err(format!("--from takes client or tracker, not {other:?}")),
            },
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => flags.hex.push(a),
        }
    }
    Ok(flags)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn text(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn announce_request(a: &AnnounceRequest<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("announce_request"));
    m.insert("connection_id".into(), json!(a.connection_id.to_string()));
    m.insert("action".into(), json!(1));
    m.insert("transaction_id".into(), json!(a.transaction_id.0));
    m.insert("info_hash".into(), json!(a.info_hash.to_string()));
    m.insert("peer_id".into(), json!(a.peer_id.to_string()));
    m.insert("downloaded".into(), json!(a.downloaded));
    m.insert("left".into(), json!(a.left));
    m.insert("uploaded".into(), json!(a.uploaded));
    m.insert("event".into(), json!(a.event.to_string()));
    m.insert(
        "ip".into(),
        json!(std::net::Ipv4Addr::from(a.ip).to_string()),
    );
    m.insert("key".into(), json!(a.key));
    m.insert("num_want".into(), json!(a.num_want));
    m.insert("port".into(), json!(a.port));
    match &a.tail {
        AnnounceTail::None => {}
        AnnounceTail::Options(o) => {
            let opts: Vec<Value> = o
                .iter()
                .map(|o| json!({"type": o.kind(), "data": hex(o.data())}))
                .collect();
            m.insert("options".into(), Value::Array(opts));
            let url: Vec<u8> = o.url_data().flatten().copied().collect();
            m.insert("url_data".into(), text(&url));
        }
        AnnounceTail::Extensions(e) => {
            let mut x = Map::new();
            if let Some(auth) = &e.auth {
                x.insert("username".into(), text(auth.username.as_bytes()));
                if let PasswdHash::Hash(h) = auth.passwd_hash {
                    x.insert("passwd_hash".into(), json!(hex(&h)));
                }
            }
            if let Some(rs) = &e.request_string {
                x.insert("request_string".into(), text(rs.as_bytes()));
            }
            m.insert("extensions".into(), Value::Object(x));
        }
        AnnounceTail::Raw(b) => {
            m.insert("tail".into(), json!(hex(b)));
        }
    }
    m
}

fn request_json(r: &Request<'_>) -> Value {
    match r {
        Request::Connect(c) => json!({
            "type": "connect_request",
            "protocol_id": trackwire::udp::PROTOCOL_ID,
            "action": 0,
            "transaction_id": c.transaction_id.0,
        }),
        Request::Announce(a) => Value::Object(announce_request(a)),
        Request::Scrape(s) => json!({
            "type": "scrape_request",
            "connection_id": s.connection_id.to_string(),
            "action": 2,
            "transaction_id": s.transaction_id.0,
            "info_hashes": s.info_hashes.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        }),
    }
}

fn response_json(r: &Response<'_>) -> Value {
    match r {
        Response::Connect(c) => json!({
            "type": "connect_response",
            "action": 0,
            "transaction_id": c.transaction_id.0,
            "connection_id": c.connection_id.to_string(),
        }),
        Response::Announce(a) => json!({
            "type": "announce_response",
            "action": 1,
            "transaction_id": a.transaction_id.0,
            "interval": a.interval,
            "leechers": a.leechers,
            "seeders": a.seeders,
            "peers": a.peers.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        }),
        Response::Scrape(s) => json!({
            "type": "scrape_response",
            "action": 2,
            "transaction_id": s.transaction_id.0,
            "files": s.rows.iter().map(|r| json!({
                "complete": r.complete,
                "downloaded": r.downloaded,
                "incomplete": r.incomplete,
            })).collect::<Vec<_>>(),
        }),
        Response::Error(e) => json!({
            "type": "error",
            "action": 3,
            "transaction_id": e.transaction_id.0,
            "message": text(e.text()),
        }),
    }
}

/// Decodes one datagram and prints its JSON; returns whether it decoded.
fn show(bytes: &[u8], from_client: bool, family: AddressFamily, grammar: TailGrammar) -> bool {
    let print = |v: Value| {
        // A closed pipe (`| head`) ends the program quietly instead of panicking.
        if writeln!(std::io::stdout().lock(), "{v}").is_err() {
            std::process::exit(0);
        }
    };
    let decoded = if from_client {
        Request::decode_with(bytes, grammar).map(|r| request_json(&r))
    } else {
        Response::decode(bytes, family).map(|r| response_json(&r))
    };
    match decoded {
        Ok(v) => {
            print(v);
            true
        }
        Err(e) => {
            print(json!({"error": e.kind().name(), "offset": e.offset(), "len": bytes.len()}));
            false
        }
    }
}

/// Runs the `udp` mode with the arguments after the mode name.
pub(crate) fn run(args: Vec<String>) -> ExitCode {
    let flags = match parse_flags(args) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("decode udp: {msg}");
            return ExitCode::from(2);
        }
    };
    let mut all_ok = true;
    if !flags.hex.is_empty() {
        for h in &flags.hex {
            let Some(bytes) = unhex(h) else {
                eprintln!("decode udp: not hex: {h}");
                return ExitCode::from(2);
            };
            all_ok &= show(&bytes, flags.from_client, flags.family, flags.grammar);
        }
    } else {
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let Ok(line) = line else {
                eprintln!("decode udp: cannot read standard input");
                return ExitCode::from(2);
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // t dir src dst len hex — the hex is absent for an empty datagram.
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(dir), Some(src), Some(_len)) = (f.get(1), f.get(2), f.get(4)) else {
                eprintln!("decode udp: line {}: not a capture line", n + 1);
                return ExitCode::from(2);
            };
            let from_client = match *dir {
                "C>T" => true,
                "T>C" => false,
                other => {
                    eprintln!("decode udp: line {}: unknown direction {other}", n + 1);
                    return ExitCode::from(2);
                }
            };
            let family = if src.starts_with('[') {
                AddressFamily::Ipv6
            } else {
                AddressFamily::Ipv4
            };
            let Some(bytes) = unhex(f.get(5).copied().unwrap_or("")) else {
                eprintln!("decode udp: line {}: bad hex", n + 1);
                return ExitCode::from(2);
            };
            all_ok &= show(&bytes, from_client, family, flags.grammar);
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
