//! Reading a `.torrent` (BEP 3 metainfo) for `trackwire announce FILE.torrent`: its
//! trackers (`announce`, and BEP 12's `announce-list` tiers) and its info hash.
//!
//! The info hash is the SHA-1 of the `info` value exactly as its bytes appear in the
//! file. Re-encoding a decoded dictionary would give another hash for any torrent whose
//! maker did not write canonical bencode (unsorted keys, for instance), so the value's
//! byte range is found by walking the top-level dictionary with the bencode crate's
//! byte offsets, and those bytes are hashed as they are.

use std::path::Path;

use bt_bencode::{Deserializer, Value};
use serde::de::IgnoredAny;
use serde::Deserialize;
use sha1::{Digest, Sha1};

use crate::failure::Failure;

/// What `announce` needs from a torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Torrent {
    /// SHA-1 of the raw `info` value.
    pub(crate) info_hash: [u8; 20],
    /// The tracker URLs, tier by tier: `announce-list` when it lists any tracker (BEP 12
    /// says clients then ignore `announce`), else `announce` as the only tier. Strings
    /// that are not UTF-8 are kept lossily: they then show as that tracker's bad URL.
    pub(crate) tiers: Vec<Vec<String>>,
}

/// Reads and parses `path`; a [`Failure::Failed`] naming the file and what is wrong
/// otherwise.
pub(crate) fn read(path: &Path) -> Result<Torrent, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Failed(format!("cannot read {}: {e}", path.display())))?;
    parse(&bytes).map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
}

/// Parses a torrent's bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<Torrent, String> {
    // The whole file must be one valid bencoded value (no trailing bytes).
    let mut de = Deserializer::from_slice(bytes);
    let value = Value::deserialize(&mut de).map_err(|e| format!("not bencode: {e}"))?;
    de.end().map_err(|e| format!("not bencode: {e}"))?;
    if !value.is_dict() {
        return Err("not a torrent: the file is not a bencoded dictionary".into());
    }
    if !value.get("info").is_some_and(Value::is_dict) {
        return Err("not a torrent: no `info` dictionary".into());
    }
    let info = raw_value(bytes, b"info")?.ok_or("not a torrent: no `info` dictionary")?;
    let info_hash: [u8; 20] = Sha1::digest(info).into();
    let text = |v: &Value| {
        v.as_byte_str()
            .map(|s| String::from_utf8_lossy(s.as_slice()).into_owned())
    };
    let mut tiers: Vec<Vec<String>> = value
        .get("announce-list")
        .and_then(Value::as_list)
        .map(|tiers| {
            tiers
                .iter()
                .filter_map(Value::as_list)
                .map(|tier| tier.iter().filter_map(text).collect::<Vec<_>>())
                .filter(|tier| !tier.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if tiers.is_empty() {
        if let Some(url) = value.get("announce").and_then(text) {
            tiers.push(vec![url]);
        }
    }
    if tiers.is_empty() {
        return Err("lists no trackers (no `announce` or `announce-list`)".into());
    }
    Ok(Torrent { info_hash, tiers })
}

/// The raw bytes of the value of `key` in the top-level dictionary of `bytes` (already
/// validated as one bencoded dictionary), or `None` if the key is absent. The bencode
/// crate reads each key and value; only the dictionary's own `d` and `e` are looked at
/// here.
fn raw_value<'a>(bytes: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, String> {
    let bad = |e: bt_bencode::Error| format!("not bencode: {e}");
    let mut pos = 1; // past the `d`
    loop {
        match bytes.get(pos) {
            Some(b'e') | None => return Ok(None),
            Some(_) => {}
        }
        let rest = bytes.get(pos..).unwrap_or_default();
        let mut de = Deserializer::from_slice(rest);
        let k = bt_bencode::ByteString::deserialize(&mut de).map_err(bad)?;
        let start = de.byte_offset();
        IgnoredAny::deserialize(&mut de).map_err(bad)?;
        let end = de.byte_offset();
        if k.as_slice() == key {
            return Ok(rest.get(start..end));
        }
        pos += end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_hash_is_of_the_bytes_as_written() {
        // Keys of `info` out of order: a re-encoder would sort them and hash other bytes.
        let info = b"d6:pieces0:4:name1:x6:lengthi1ee";
        let mut file = b"d8:announce14:udp://a.test:14:info".to_vec();
        file.extend_from_slice(info);
        file.push(b'e');
        let t = parse(&file).unwrap();
        assert_eq!(t.info_hash, <[u8; 20]>::from(Sha1::digest(info)));
        assert_eq!(t.tiers, [["udp://a.test:1"]]);
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"d",
            b"de",
            b"i1e",
            b"d4:infoi1ee",
            b"d4:infod4:name1:xee",
            b"d4:infodee trailing",
            b"d4:infod4:name5:xe",
        ] {
            assert!(parse(bad).is_err(), "{:?}", bad.escape_ascii().to_string());
        }
    }
}
