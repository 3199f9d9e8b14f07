//! JSON renderings of UDP tracker messages shared by `decode udp`, `announce` and `check`:
//! keys in snake_case and named as in BEP 15, hex in lower case.

use serde_json::{json, Map, Value};
use trackwire::udp::{AnnounceRequest, AnnounceTail, PasswdHash, Request, Response};

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn text(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

pub(crate) fn announce_request(a: &AnnounceRequest<'_>) -> Map<String, Value> {
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

pub(crate) fn request_json(r: &Request<'_>) -> Value {
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

pub(crate) fn response_json(r: &Response<'_>) -> Value {
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
            // opentracker ends its messages with a NUL, most trackers do not; `message`
            // is the text without it.
            "trailing_nul": e.message.last() == Some(&0),
        }),
    }
}
