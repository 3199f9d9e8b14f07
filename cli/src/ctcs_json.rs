//! JSON renderings of CTCS client messages shared by `decode ctcs` and
//! `ctcs serve`: keys named as the parameters of the CTCS protocol page
//! (`seeders`, `n_have`, `dl_limit`, `value_type`, …), inserted in wire order.

use serde_json::{json, Map, Value};
use trackwire::ctcs::{
    CtBw, CtConfig, CtConfigValues, CtDetail, CtFile, CtInfo, CtPeer, CtStatus, CtTorrent,
    Positional, Text, Version,
};

/// Text as a JSON string (invalid UTF-8 replaced).
pub(crate) fn text(t: Text<'_>) -> Value {
    Value::String(t.to_string())
}

fn positional<T: Into<Value>>(p: Positional<T>) -> Value {
    match p {
        Positional::Keep => Value::Null,
        Positional::Set(v) => v.into(),
    }
}

/// `CTORRENT`: `peer_id`, `start_timestamp`, `current_timestamp`, `filename`.
pub(crate) fn torrent(m: &mut Map<String, Value>, t: &CtTorrent<'_>) {
    m.insert("peer_id".into(), text(t.peer_id.into()));
    m.insert("start_timestamp".into(), json!(t.start_timestamp));
    m.insert("current_timestamp".into(), json!(t.current_timestamp));
    m.insert("filename".into(), text(t.filename));
}

/// `CTSTATUS` in the form of `version` (version 1 has no tracker totals, `connecting`
/// or `cache_used`).
pub(crate) fn status(m: &mut Map<String, Value>, s: &CtStatus, version: Version) {
    let v1 = version.has_v1_status();
    m.insert("seeders".into(), json!(s.seeders));
    if !v1 {
        m.insert("total_seeders".into(), json!(s.total_seeders));
    }
    m.insert("leechers".into(), json!(s.leechers));
    if !v1 {
        m.insert("total_leechers".into(), json!(s.total_leechers));
        m.insert("connecting".into(), json!(s.connecting));
    }
    m.insert("n_have".into(), json!(s.n_have));
    m.insert("n_total".into(), json!(s.n_total));
    m.insert("n_avail".into(), json!(s.n_avail));
    m.insert("dl_rate".into(), json!(s.dl_rate));
    m.insert("ul_rate".into(), json!(s.ul_rate));
    m.insert("dl_total".into(), json!(s.dl_total));
    m.insert("ul_total".into(), json!(s.ul_total));
    m.insert("dl_limit".into(), json!(s.dl_limit));
    m.insert("ul_limit".into(), json!(s.ul_limit));
    if !v1 {
        m.insert("cache_used".into(), json!(s.cache_used));
    }
}

/// `CTBW`: `dl_rate`, `ul_rate`, `dl_limit`, `ul_limit`.
pub(crate) fn bandwidth(m: &mut Map<String, Value>, b: &CtBw) {
    m.insert("dl_rate".into(), json!(b.dl_rate));
    m.insert("ul_rate".into(), json!(b.ul_rate));
    m.insert("dl_limit".into(), json!(b.dl_limit));
    m.insert("ul_limit".into(), json!(b.ul_limit));
}

/// `CTINFO`: `severity`, `message`.
pub(crate) fn info(m: &mut Map<String, Value>, i: &CtInfo<'_>) {
    m.insert("severity".into(), json!(i.severity));
    m.insert("message".into(), text(i.message));
}

/// `CTDETAIL`: `torrent_size`, `piece_size`, `current_timestamp`, `seed_timestamp`.
pub(crate) fn detail(m: &mut Map<String, Value>, d: &CtDetail) {
    m.insert("torrent_size".into(), json!(d.torrent_size));
    m.insert("piece_size".into(), json!(d.piece_size));
    m.insert("current_timestamp".into(), json!(d.current_timestamp));
    m.insert("seed_timestamp".into(), json!(d.seed_timestamp));
}

/// `CTFILE` with the fields of `version` (priorities from 3, `n_available` from 2).
pub(crate) fn file(m: &mut Map<String, Value>, f: &CtFile<'_>, version: Version) {
    m.insert("fileno".into(), json!(f.fileno));
    if version.is_v3() {
        m.insert("priority".into(), json!(f.priority));
        m.insert("current_priority".into(), json!(f.current_priority));
    }
    m.insert("n_pieces".into(), json!(f.n_pieces));
    m.insert("n_have".into(), json!(f.n_have));
    if version.get() >= 2 {
        m.insert("n_available".into(), json!(f.n_available));
    }
    m.insert("filesize".into(), json!(f.filesize));
    m.insert("filename".into(), text(f.filename));
}

/// `CTPEER`: `peer_id`, `address`, `choke_interest`, rates, totals, `n_pieces`.
pub(crate) fn peer(m: &mut Map<String, Value>, p: &CtPeer<'_>) {
    m.insert("peer_id".into(), text(p.peer_id.into()));
    m.insert("address".into(), json!(p.address.to_string()));
    m.insert(
        "choke_interest".into(),
        json!(String::from_utf8_lossy(&p.choke_interest.to_bytes())),
    );
    m.insert("dl_rate".into(), json!(p.dl_rate));
    m.insert("ul_rate".into(), json!(p.ul_rate));
    m.insert("dl_total".into(), json!(p.dl_total));
    m.insert("ul_total".into(), json!(p.ul_total));
    m.insert("n_pieces".into(), json!(p.n_pieces));
}

/// The v3 `CTCONFIG`: `name`, `value_type` (`B`, `I`, `F`, `S`), `range`, `value`,
/// `short_desc`, `long_desc`.
pub(crate) fn config(m: &mut Map<String, Value>, c: &CtConfig<'_>) {
    m.insert("name".into(), text(c.name.into()));
    m.insert(
        "value_type".into(),
        json!(char::from(c.value_type.letter()).to_string()),
    );
    m.insert("range".into(), text(c.range.into()));
    m.insert("value".into(), text(c.value));
    m.insert("short_desc".into(), text(c.short_desc));
    m.insert("long_desc".into(), text(c.long_desc));
}

/// The positional `CTCONFIG` fields the line has under `version` (`null` for `.`;
/// server lines at version 0 have neither `cache_size` nor `exitzero`).
pub(crate) fn config_values(
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
