//! The floor: what a decoder cannot avoid doing. Only length checks, `from_be_bytes`
//! field reads and, for lists, one pass over the entries; no error reporting beyond
//! `None`, no types, no validation of anything else. Encoders write the fields with
//! `to_be_bytes` into a caller buffer.

use std::net::{Ipv4Addr, SocketAddrV4};

#[inline(always)]
fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline(always)]
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

#[inline(always)]
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;

#[derive(Debug, Clone, Copy)]
pub struct Announce {
    pub connection_id: u64,
    pub transaction_id: u32,
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
    pub downloaded: i64,
    pub left: i64,
    pub uploaded: i64,
    pub event: u32,
    pub ip: u32,
    pub key: u32,
    pub num_want: i32,
    pub port: u16,
}

/// A connect request: its transaction id.
pub fn connect_request(b: &[u8]) -> Option<u32> {
    if b.len() < 16 || u32_at(b, 8) != 0 || u64_at(b, 0) != PROTOCOL_ID {
        return None;
    }
    Some(u32_at(b, 12))
}

pub fn announce_request(b: &[u8]) -> Option<Announce> {
    if b.len() < 98 || u32_at(b, 8) != 1 {
        return None;
    }
    Some(Announce {
        connection_id: u64_at(b, 0),
        transaction_id: u32_at(b, 12),
        info_hash: b[16..36].try_into().unwrap(),
        peer_id: b[36..56].try_into().unwrap(),
        downloaded: u64_at(b, 56) as i64,
        left: u64_at(b, 64) as i64,
        uploaded: u64_at(b, 72) as i64,
        event: u32_at(b, 80),
        ip: u32_at(b, 84),
        key: u32_at(b, 88),
        num_want: u32_at(b, 92) as i32,
        port: u16_at(b, 96),
    })
}

/// A decoded request, as big as the typed results of the libraries (which also carry
/// the whole announce).
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // read through black_box only
pub enum Decoded {
    Connect(u32),
    Announce(Announce),
    Scrape(u32),
}

/// Any request: dispatch on the action (what rejects garbage).
pub fn request(b: &[u8], mut visit_hash: impl FnMut(&[u8; 20])) -> Option<Decoded> {
    if b.len() < 16 {
        return None;
    }
    match u32_at(b, 8) {
        0 => connect_request(b).map(Decoded::Connect),
        1 => announce_request(b).map(Decoded::Announce),
        2 => scrape_request(b, &mut visit_hash).map(Decoded::Scrape),
        _ => None,
    }
}

/// A scrape request: visits every info hash, returns the transaction id.
pub fn scrape_request(b: &[u8], mut visit: impl FnMut(&[u8; 20])) -> Option<u32> {
    if b.len() < 16 || u32_at(b, 8) != 2 || (b.len() - 16) % 20 != 0 {
        return None;
    }
    for h in b[16..].chunks_exact(20) {
        visit(h.try_into().unwrap());
    }
    Some(u32_at(b, 12))
}

/// An IPv4 announce response: visits every peer, returns (tid, interval, leechers, seeders).
pub fn announce_response(
    b: &[u8],
    mut visit: impl FnMut(SocketAddrV4),
) -> Option<(u32, u32, u32, u32)> {
    if b.len() < 20 || u32_at(b, 0) != 1 || (b.len() - 20) % 6 != 0 {
        return None;
    }
    for p in b[20..].chunks_exact(6) {
        visit(SocketAddrV4::new(
            Ipv4Addr::new(p[0], p[1], p[2], p[3]),
            u16_at(p, 4),
        ));
    }
    Some((u32_at(b, 4), u32_at(b, 8), u32_at(b, 12), u32_at(b, 16)))
}

/// A scrape response: visits every row, returns the transaction id.
pub fn scrape_response(b: &[u8], mut visit: impl FnMut(u32, u32, u32)) -> Option<u32> {
    if b.len() < 8 || u32_at(b, 0) != 2 || (b.len() - 8) % 12 != 0 {
        return None;
    }
    for r in b[8..].chunks_exact(12) {
        visit(u32_at(r, 0), u32_at(r, 4), u32_at(r, 8));
    }
    Some(u32_at(b, 4))
}

// ---- encoders -------------------------------------------------------------------------

#[inline(always)]
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

pub fn encode_connect_request(tid: u32, buf: &mut [u8]) -> Option<usize> {
    let buf = buf.get_mut(..16)?;
    put(buf, 0, &PROTOCOL_ID.to_be_bytes());
    put(buf, 8, &0u32.to_be_bytes());
    put(buf, 12, &tid.to_be_bytes());
    Some(16)
}

pub fn encode_announce_request(a: &Announce, buf: &mut [u8]) -> Option<usize> {
    let buf = buf.get_mut(..98)?;
    put(buf, 0, &a.connection_id.to_be_bytes());
    put(buf, 8, &1u32.to_be_bytes());
    put(buf, 12, &a.transaction_id.to_be_bytes());
    put(buf, 16, &a.info_hash);
    put(buf, 36, &a.peer_id);
    put(buf, 56, &a.downloaded.to_be_bytes());
    put(buf, 64, &a.left.to_be_bytes());
    put(buf, 72, &a.uploaded.to_be_bytes());
    put(buf, 80, &a.event.to_be_bytes());
    put(buf, 84, &a.ip.to_be_bytes());
    put(buf, 88, &a.key.to_be_bytes());
    put(buf, 92, &a.num_want.to_be_bytes());
    put(buf, 96, &a.port.to_be_bytes());
    Some(98)
}

pub fn encode_scrape_request(
    cid: u64,
    tid: u32,
    hashes: &[[u8; 20]],
    buf: &mut [u8],
) -> Option<usize> {
    let len = 16 + 20 * hashes.len();
    let buf = buf.get_mut(..len)?;
    put(buf, 0, &cid.to_be_bytes());
    put(buf, 8, &2u32.to_be_bytes());
    put(buf, 12, &tid.to_be_bytes());
    for (h, out) in hashes.iter().zip(buf[16..].chunks_exact_mut(20)) {
        out.copy_from_slice(h);
    }
    Some(len)
}

pub fn encode_announce_response(
    tid: u32,
    interval: u32,
    leechers: u32,
    seeders: u32,
    peers: &[SocketAddrV4],
    buf: &mut [u8],
) -> Option<usize> {
    let len = 20 + 6 * peers.len();
    let buf = buf.get_mut(..len)?;
    put(buf, 0, &1u32.to_be_bytes());
    put(buf, 4, &tid.to_be_bytes());
    put(buf, 8, &interval.to_be_bytes());
    put(buf, 12, &leechers.to_be_bytes());
    put(buf, 16, &seeders.to_be_bytes());
    for (p, out) in peers.iter().zip(buf[20..].chunks_exact_mut(6)) {
        out[..4].copy_from_slice(&p.ip().octets());
        out[4..].copy_from_slice(&p.port().to_be_bytes());
    }
    Some(len)
}

pub fn encode_scrape_response(tid: u32, rows: &[(u32, u32, u32)], buf: &mut [u8]) -> Option<usize> {
    let len = 8 + 12 * rows.len();
    let buf = buf.get_mut(..len)?;
    put(buf, 0, &2u32.to_be_bytes());
    put(buf, 4, &tid.to_be_bytes());
    for (r, out) in rows.iter().zip(buf[8..].chunks_exact_mut(12)) {
        out[..4].copy_from_slice(&r.0.to_be_bytes());
        out[4..8].copy_from_slice(&r.1.to_be_bytes());
        out[8..].copy_from_slice(&r.2.to_be_bytes());
    }
    Some(len)
}

/// The action of a response, if it has one.
pub fn u32_action(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// An IPv4 announce response from peers already in compact form.
pub fn encode_announce_response_compact(
    tid: u32,
    interval: u32,
    leechers: u32,
    seeders: u32,
    compact: &[u8],
    buf: &mut [u8],
) -> Option<usize> {
    let len = 20 + compact.len();
    let buf = buf.get_mut(..len)?;
    put(buf, 0, &1u32.to_be_bytes());
    put(buf, 4, &tid.to_be_bytes());
    put(buf, 8, &interval.to_be_bytes());
    put(buf, 12, &leechers.to_be_bytes());
    put(buf, 16, &seeders.to_be_bytes());
    buf[20..].copy_from_slice(compact);
    Some(len)
}
