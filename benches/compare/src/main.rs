//! Side-by-side timings on identical bytes, in one run: trackwire, aquatic_udp_protocol
//! 0.9, bip_utracker 0.4 and a hand-written floor (UDP); trackwire and a naive
//! `split_whitespace` + `parse` decoder (CTCS transcripts).
//!
//! ```text
//! cd benches/compare && cargo run --release
//! ```
//!
//! Each measurement is the median of many batches; the implementations of one operation
//! run interleaved, batch by batch, so that a noisy machine affects them alike. Set
//! `COMPARE_QUICK=1` for a short run (fewer, shorter batches).
//!
//! Two things that are not the code under test are held fixed, because each moved rows
//! by up to 2× between builds and machines (README.md): every loop is aligned to 64
//! bytes (`.cargo/config.toml`, read when cargo runs in this directory), and every input
//! datagram starts on a 64-byte boundary ([`aligned`]).

mod floor;
mod naive;
mod transcripts;

use std::hint::black_box;
use std::io::Cursor;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use trackwire::ctcs::{ClientMessage, ServerMessage};
use trackwire::udp::{
    AddressFamily, AnnounceRequest, AnnounceResponse, AnnounceTail, ConnectRequest, ConnectionId,
    InfoHash, InfoHashes, Request, Response, ScrapeRequest, ScrapeResponse, ScrapeRow, ScrapeRows,
    Server, ServerAction, ServerConfig, TransactionId,
};

use aquatic_udp_protocol as aq;
use bip_utracker as bip;

// ---- harness ---------------------------------------------------------------------------

type Runner<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// Wraps `f` in a timed loop of `n` calls (the loop is monomorphised around `f`).
fn runner<'a, F: FnMut() + 'a>(mut f: F) -> Runner<'a> {
    Box::new(move |n| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed()
    })
}

/// As [`runner`], for an encoder: `f` gets a 2 KiB output buffer of its own, starting on
/// a 64-byte boundary (see [`aligned`]).
fn with_buf<'a, F: FnMut(&mut [u8]) + 'a>(mut f: F) -> Runner<'a> {
    let mut store = vec![0u8; 2048 + 63];
    let at = store.as_ptr().align_offset(64);
    runner(move || f(&mut store[at..at + 2048]))
}

struct Settings {
    batch: Duration,
    rounds: usize,
}

/// Median nanoseconds per call of each runner, measured in interleaved batches.
fn measure(s: &Settings, runners: &mut [Runner<'_>]) -> Vec<f64> {
    // Calibrate each runner's batch size to about `s.batch`.
    let mut iters = Vec::new();
    for r in runners.iter_mut() {
        r(1000); // warm up
        let mut n = 1u64;
        loop {
            let t = r(n);
            if t >= s.batch / 4 || n >= 1 << 30 {
                let per = t.as_nanos().max(1) as f64 / n as f64;
                iters.push(((s.batch.as_nanos() as f64 / per) as u64).max(1));
                break;
            }
            n *= 2;
        }
    }
    let mut samples = vec![Vec::with_capacity(s.rounds); runners.len()];
    for _ in 0..s.rounds {
        for (i, r) in runners.iter_mut().enumerate() {
            let t = r(iters[i]);
            samples[i].push(t.as_nanos() as f64 / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Decode,
    Encode,
    Garbage,
}

struct Row {
    op: &'static str,
    kind: Kind,
    trackwire: f64,
    aquatic: f64,
    bip: Option<f64>,
    floor: f64,
}

// ---- inputs ------------------------------------------------------------------------------

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The first datagram of `file` in `tests/vectors/udp` sent in `dir` with `len` bytes.
fn vector(file: &str, dir: &str, len: usize) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/vectors/udp/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("udp vector");
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 5 && f[1] == dir && f[4] == len.to_string())
        .map(|f| hex(f[5]))
        .next()
        .expect("a datagram of that length")
}

fn peers(n: usize) -> Vec<SocketAddrV4> {
    (0..n)
        .map(|i| {
            SocketAddrV4::new(
                Ipv4Addr::new(10, 1, (i >> 8) as u8, i as u8),
                6881 + i as u16,
            )
        })
        .collect()
}

fn hashes(n: usize) -> Vec<InfoHash> {
    (0..n).map(|i| InfoHash([i as u8 ^ 0x5a; 20])).collect()
}

fn rows(n: usize) -> Vec<ScrapeRow> {
    (0..n)
        .map(|i| ScrapeRow {
            complete: i as u32,
            downloaded: 3 * i as u32,
            incomplete: 7,
        })
        .collect()
}

/// A copy of `bytes` that starts on a 64-byte boundary, for the life of the run: where the
/// allocator put an input is then not a variable between machines or builds.
fn aligned(bytes: &[u8]) -> &'static [u8] {
    let store = Vec::leak(vec![0u8; bytes.len() + 63]);
    let at = store.as_ptr().align_offset(64);
    let copy = &mut store[at..at + bytes.len()];
    copy.copy_from_slice(bytes);
    copy
}

fn encoded(f: impl FnOnce(&mut [u8]) -> Result<usize, trackwire::EncodeError>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = f(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn garbage() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v: Vec<u8> = (0..98)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    v[8..12].copy_from_slice(&0x7f3a_91c2u32.to_be_bytes());
    v
}

// ---- per-implementation decoders -----------------------------------------------------------

// Every implementation hands each info hash over by reference, as aquatic's `Vec` and
// the floor's slice do. Each decoded value is handed to `black_box` by reference once
// its entries are visited: by value, a large result would be copied for the call, and
// the copy (a `memcpy` of up to 184 bytes) would be timed instead of the decoder.
fn tw_request(b: &[u8]) {
    let r = Request::decode(b);
    if let Ok(Request::Scrape(s)) = &r {
        s.info_hashes.iter_bytes().for_each(|h| {
            black_box(h);
        });
    }
    black_box(&r);
}

fn aq_request(b: &[u8]) {
    let r = aq::Request::parse_bytes(b, 74);
    if let Ok(aq::Request::Scrape(s)) = &r {
        s.info_hashes.iter().for_each(|h| {
            black_box(h);
        });
    }
    black_box(&r);
}

fn bip_request(b: &[u8]) {
    let r = bip::request::TrackerRequest::from_bytes(b).to_result();
    if let Ok(r) = &r {
        if let bip::request::RequestType::Scrape(s) = r.request_type() {
            s.iter().for_each(|h| {
                black_box(h);
            });
        }
    }
    black_box(&r);
}

fn floor_request(b: &[u8]) {
    black_box(&floor::request(b, |h| {
        black_box(h);
    }));
}

fn tw_response(b: &[u8]) {
    let r = Response::decode(b, AddressFamily::Ipv4);
    match &r {
        Ok(Response::Announce(a)) => a.peers.iter_v4().unwrap().for_each(|p| {
            black_box(p);
        }),
        Ok(Response::Scrape(s)) => s.rows.iter().for_each(|r| {
            black_box(r);
        }),
        _ => {}
    }
    black_box(&r);
}

fn aq_response(b: &[u8]) {
    let r = aq::Response::parse_bytes(b, true);
    match &r {
        Ok(aq::Response::AnnounceIpv4(a)) => a.peers.iter().for_each(|p| {
            black_box(SocketAddrV4::new(p.ip_address.into(), p.port.0.get()));
        }),
        Ok(aq::Response::Scrape(s)) => s.torrent_stats.iter().for_each(|r| {
            black_box((r.seeders.0.get(), r.completed.0.get(), r.leechers.0.get()));
        }),
        _ => {}
    }
    black_box(&r);
}

fn bip_response(b: &[u8]) {
    let r = bip::response::TrackerResponse::from_bytes(b).to_result();
    if let Ok(r) = &r {
        match r.response_type() {
            bip::response::ResponseType::Announce(a) => {
                black_box((a.interval(), a.leechers(), a.seeders()));
                a.peers().iter().for_each(|p: SocketAddr| {
                    black_box(p);
                })
            }
            bip::response::ResponseType::Scrape(s) => s.iter().for_each(|r| {
                black_box((r.num_seeders(), r.num_downloads(), r.num_leechers()));
            }),
            _ => {}
        }
    }
    black_box(&r);
}

fn floor_response(b: &[u8]) {
    match floor::u32_action(b) {
        Some(1) => {
            black_box(&floor::announce_response(b, |p| {
                black_box(p);
            }));
        }
        Some(2) => {
            black_box(&floor::scrape_response(b, |c, d, i| {
                black_box((c, d, i));
            }));
        }
        _ => {}
    }
}

fn main() {
    let flags = env!("COMPARE_RUSTFLAGS");
    if flags.contains("align-loops=64") {
        println!("(loops aligned to 64 bytes: {flags})");
    } else {
        println!(
            "WARNING: built without `-C llvm-args=-align-loops=64` (run from benches/compare, \
             where .cargo/config.toml sets it): rows with a tight per-entry loop can read up to \
             2x off, depending on where each loop landed in this build (README.md)"
        );
    }
    let quick = std::env::var_os("COMPARE_QUICK").is_some();
    let s = if quick {
        Settings {
            batch: Duration::from_micros(200),
            rounds: 11,
        }
    } else {
        Settings {
            batch: Duration::from_millis(2),
            rounds: 51,
        }
    };

    // Identical bytes for everybody: real datagrams where the vectors have them.
    let connect_req = vector("opentracker_connect.txt", "C>T", 16);
    let announce_req = vector("opentracker_announce_ipv4.txt", "C>T", 98);
    let hs = hashes(74);
    let scrape_req = encoded(|b| {
        ScrapeRequest {
            connection_id: ConnectionId(0x36e7_1e1f_d342_7599),
            transaction_id: TransactionId(7),
            info_hashes: InfoHashes::from_slice(&hs),
        }
        .encode(b)
    });
    let p50 = peers(50);
    let p200 = peers(200);
    let header = AnnounceResponse {
        transaction_id: TransactionId(0x1111_0001),
        interval: 1900,
        leechers: 12,
        seeders: 40,
        peers: trackwire::udp::Peers::empty(AddressFamily::Ipv4),
    };
    let resp50 = encoded(|b| header.encode_with_peers(p50.iter().copied(), b));
    let resp200 = encoded(|b| header.encode_with_peers(p200.iter().copied(), b));
    let rs = rows(74);
    let scrape_resp = encoded(|b| {
        ScrapeResponse {
            transaction_id: TransactionId(7),
            rows: ScrapeRows::from_slice(&rs),
        }
        .encode(b)
    });
    let junk = garbage();
    assert!(Request::decode(&junk).is_err());
    assert!(aq::Request::parse_bytes(&junk, 74).is_err());
    assert!(floor::request(&junk, |_| {}).is_none());
    assert_eq!(resp200.len(), 1220);
    assert_eq!(scrape_req.len(), 1496);

    let mut table: Vec<Row> = Vec::new();
    let decode_ops: [(&str, &[u8], bool, Kind); 7] = [
        ("connect request (16 B)", &connect_req, true, Kind::Decode),
        ("announce request (98 B)", &announce_req, true, Kind::Decode),
        (
            "scrape request (74 hashes)",
            &scrape_req,
            true,
            Kind::Decode,
        ),
        ("announce response (50 peers)", &resp50, false, Kind::Decode),
        (
            "announce response (200 peers)",
            &resp200,
            false,
            Kind::Decode,
        ),
        (
            "scrape response (74 rows)",
            &scrape_resp,
            false,
            Kind::Decode,
        ),
        ("garbage request (98 B)", &junk, true, Kind::Garbage),
    ];
    for (op, bytes, is_request, kind) in decode_ops {
        let b = aligned(bytes);
        let m = if is_request {
            measure(
                &s,
                &mut [
                    runner(|| tw_request(black_box(b))),
                    runner(|| aq_request(black_box(b))),
                    runner(|| bip_request(black_box(b))),
                    runner(|| floor_request(black_box(b))),
                ],
            )
        } else {
            measure(
                &s,
                &mut [
                    runner(|| tw_response(black_box(b))),
                    runner(|| aq_response(black_box(b))),
                    runner(|| bip_response(black_box(b))),
                    runner(|| floor_response(black_box(b))),
                ],
            )
        };
        table.push(Row {
            op,
            kind,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
    }

    // ---- encodes -------------------------------------------------------------------------
    let tid = TransactionId(0xc0ff_ee01);

    // connect request
    {
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let r = ConnectRequest {
                        transaction_id: black_box(tid),
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let r = aq::ConnectRequest {
                        transaction_id: aq::TransactionId::new(black_box(tid.0 as i32)),
                    };
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let r = bip::request::TrackerRequest::new(
                        bip::request::CONNECT_ID_PROTOCOL_ID,
                        black_box(tid.0),
                        bip::request::RequestType::Connect,
                    );
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_connect_request(
                        black_box(tid.0),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode connect request",
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
    }

    // announce request
    {
        let Ok(Request::Announce(tw)) = Request::decode(&announce_req) else {
            unreachable!()
        };
        let tw = AnnounceRequest {
            tail: AnnounceTail::None,
            ..tw
        };
        let Ok(aq::Request::Announce(aqr)) = aq::Request::parse_bytes(&announce_req, 74) else {
            unreachable!()
        };
        let bipr = bip::request::TrackerRequest::from_bytes(&announce_req)
            .to_result()
            .ok()
            .unwrap();
        let fl = floor::announce_request(&announce_req).unwrap();
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    black_box(black_box(&tw).encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&aqr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&bipr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_announce_request(
                        black_box(&fl),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode announce request",
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });

        // aquatic keeps a request in wire form (big-endian fields), so its encode above
        // is a copy; a client builds the request from its counters before every
        // announce, and here each library pays for that too. bip and the floor keep
        // native values, so their encode already includes it.
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let f = black_box(&fl);
                    let r = AnnounceRequest {
                        connection_id: ConnectionId(f.connection_id),
                        transaction_id: TransactionId(f.transaction_id),
                        info_hash: InfoHash(f.info_hash),
                        peer_id: trackwire::udp::PeerId(f.peer_id),
                        downloaded: f.downloaded,
                        left: f.left,
                        uploaded: f.uploaded,
                        event: trackwire::udp::AnnounceEvent::from_u32(f.event),
                        ip: f.ip,
                        key: f.key,
                        num_want: f.num_want,
                        port: f.port,
                        tail: AnnounceTail::None,
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let f = black_box(&fl);
                    let event = match f.event {
                        1 => aq::AnnounceEvent::Completed,
                        2 => aq::AnnounceEvent::Started,
                        3 => aq::AnnounceEvent::Stopped,
                        _ => aq::AnnounceEvent::None,
                    };
                    let r = aq::AnnounceRequest {
                        connection_id: aq::ConnectionId::new(f.connection_id as i64),
                        action_placeholder: Default::default(),
                        transaction_id: aq::TransactionId::new(f.transaction_id as i32),
                        info_hash: aq::InfoHash(f.info_hash),
                        peer_id: aq::PeerId(f.peer_id),
                        bytes_downloaded: aq::NumberOfBytes::new(f.downloaded),
                        bytes_left: aq::NumberOfBytes::new(f.left),
                        bytes_uploaded: aq::NumberOfBytes::new(f.uploaded),
                        event: event.into(),
                        ip_address: aq::Ipv4AddrBytes(f.ip.to_be_bytes()),
                        key: aq::PeerKey::new(f.key as i32),
                        peers_wanted: aq::NumberOfPeers::new(f.num_want),
                        port: aq::Port::new(NonZeroU16::new(f.port).unwrap_or(NonZeroU16::MIN)),
                    };
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&bipr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_announce_request(
                        black_box(&fl),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode announce request building it",
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
    }

    // scrape request
    {
        let aq_hashes: Vec<aq::InfoHash> = hs.iter().map(|h| aq::InfoHash(h.0)).collect();
        let aqr = aq::ScrapeRequest {
            connection_id: aq::ConnectionId::new(7),
            transaction_id: aq::TransactionId::new(7),
            info_hashes: aq_hashes,
        };
        let mut bs = bip::scrape::ScrapeRequest::new();
        for h in &hs {
            bs.insert(bip::InfoHash::from(h.0));
        }
        let bipr = bip::request::TrackerRequest::new(7, 7, bip::request::RequestType::Scrape(bs));
        let raw: Vec<[u8; 20]> = hs.iter().map(|h| h.0).collect();
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let r = ScrapeRequest {
                        connection_id: ConnectionId(7),
                        transaction_id: TransactionId(7),
                        info_hashes: InfoHashes::from_slice(black_box(&hs)),
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&aqr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&bipr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_scrape_request(
                        7,
                        7,
                        black_box(&raw),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode scrape request (74 hashes)",
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
    }

    // announce responses: (a) from each library's stored form (aquatic and bip keep peers
    // in wire form, trackwire as compact bytes); (b) from `SocketAddrV4` values, each
    // library building what it needs inside the timed loop.
    for (op, op_native, ps) in [
        (
            "encode announce response (50 peers)",
            "encode announce response from SocketAddrV4 (50)",
            &p50,
        ),
        (
            "encode announce response (200 peers)",
            "encode announce response from SocketAddrV4 (200)",
            &p200,
        ),
    ] {
        let aq_peers = |ps: &[SocketAddrV4]| -> Vec<aq::ResponsePeer<aq::Ipv4AddrBytes>> {
            ps.iter()
                .map(|p| aq::ResponsePeer {
                    ip_address: aq::Ipv4AddrBytes(p.ip().octets()),
                    port: aq::Port(p.port().into()),
                })
                .collect()
        };
        let aq_fixed = aq::AnnounceResponseFixedData {
            transaction_id: aq::TransactionId::new(1),
            announce_interval: aq::AnnounceInterval::new(1900),
            leechers: aq::NumberOfPeers::new(12),
            seeders: aq::NumberOfPeers::new(40),
        };
        let aqr = aq::AnnounceResponse::<aq::Ipv4AddrBytes> {
            fixed: aq_fixed,
            peers: aq_peers(ps),
        };
        let bip_response = |ps: &[SocketAddrV4]| {
            let mut bp = bip::contact::CompactPeersV4::new();
            for p in ps.iter() {
                bp.insert(*p);
            }
            bip::response::TrackerResponse::new(
                1,
                bip::response::ResponseType::Announce(bip::announce::AnnounceResponse::new(
                    1900,
                    12,
                    40,
                    bip::contact::CompactPeers::V4(bp),
                )),
            )
        };
        let bipr = bip_response(ps);
        let compact: Vec<u8> = ps
            .iter()
            .flat_map(|p| {
                let mut e = [0u8; 6];
                e[..4].copy_from_slice(&p.ip().octets());
                e[4..].copy_from_slice(&p.port().to_be_bytes());
                e
            })
            .collect();
        // Copied by every implementation: where it starts decides how fast `memcpy` is.
        let compact = aligned(&compact);
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let r = AnnounceResponse {
                        peers: trackwire::udp::Peers::from_compact(
                            AddressFamily::Ipv4,
                            black_box(compact),
                        )
                        .unwrap(),
                        ..header
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&aqr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&bipr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_announce_response_compact(
                        1,
                        1900,
                        12,
                        40,
                        black_box(compact),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op,
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let n = header
                        .encode_with_peers(
                            black_box(ps.as_slice()).iter().copied(),
                            black_box(&mut *buf),
                        )
                        .unwrap();
                    black_box(n);
                }),
                with_buf(|buf: &mut [u8]| {
                    let r = aq::AnnounceResponse::<aq::Ipv4AddrBytes> {
                        fixed: aq_fixed,
                        peers: aq_peers(black_box(ps.as_slice())),
                    };
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let r = bip_response(black_box(ps.as_slice()));
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_announce_response(
                        1,
                        1900,
                        12,
                        40,
                        black_box(ps.as_slice()),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: op_native,
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
    }

    // scrape response
    {
        let aqr = aq::ScrapeResponse {
            transaction_id: aq::TransactionId::new(7),
            torrent_stats: rs
                .iter()
                .map(|r| aq::TorrentScrapeStatistics {
                    seeders: aq::NumberOfPeers::new(r.complete as i32),
                    completed: aq::NumberOfDownloads::new(r.downloaded as i32),
                    leechers: aq::NumberOfPeers::new(r.incomplete as i32),
                })
                .collect(),
        };
        let mut bs = bip::scrape::ScrapeResponse::new();
        for r in &rs {
            bs.insert(bip::scrape::ScrapeStats::new(
                r.complete as i32,
                r.downloaded as i32,
                r.incomplete as i32,
            ));
        }
        let bipr = bip::response::TrackerResponse::new(7, bip::response::ResponseType::Scrape(bs));
        let raw: Vec<(u32, u32, u32)> = rs
            .iter()
            .map(|r| (r.complete, r.downloaded, r.incomplete))
            .collect();
        let m = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let r = ScrapeResponse {
                        transaction_id: TransactionId(7),
                        rows: ScrapeRows::from_slice(black_box(&rs)),
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&aqr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut c = Cursor::new(black_box(&mut *buf));
                    black_box(&bipr).write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_scrape_response(
                        7,
                        black_box(&raw),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode scrape response (74 rows)",
            kind: Kind::Encode,
            trackwire: m[0],
            aquatic: m[1],
            bip: Some(m[2]),
            floor: m[3],
        });
        // The same, with aquatic and bip building their row structures from the values
        // inside the timed loop, as a tracker does for every reply.
        let m2 = measure(
            &s,
            &mut [
                with_buf(|buf: &mut [u8]| {
                    let r = ScrapeResponse {
                        transaction_id: TransactionId(7),
                        rows: ScrapeRows::from_slice(black_box(&rs)),
                    };
                    black_box(r.encode(black_box(&mut *buf)).unwrap());
                }),
                with_buf(|buf: &mut [u8]| {
                    let r = aq::ScrapeResponse {
                        transaction_id: aq::TransactionId::new(7),
                        torrent_stats: black_box(&rs)
                            .iter()
                            .map(|r| aq::TorrentScrapeStatistics {
                                seeders: aq::NumberOfPeers::new(r.complete as i32),
                                completed: aq::NumberOfDownloads::new(r.downloaded as i32),
                                leechers: aq::NumberOfPeers::new(r.incomplete as i32),
                            })
                            .collect(),
                    };
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    let mut bs = bip::scrape::ScrapeResponse::new();
                    for r in black_box(&rs) {
                        bs.insert(bip::scrape::ScrapeStats::new(
                            r.complete as i32,
                            r.downloaded as i32,
                            r.incomplete as i32,
                        ));
                    }
                    let r = bip::response::TrackerResponse::new(
                        7,
                        bip::response::ResponseType::Scrape(bs),
                    );
                    let mut c = Cursor::new(black_box(&mut *buf));
                    r.write_bytes(&mut c).unwrap();
                    black_box(c.position());
                }),
                with_buf(|buf: &mut [u8]| {
                    black_box(floor::encode_scrape_response(
                        7,
                        black_box(&raw),
                        black_box(&mut *buf),
                    ));
                }),
            ],
        );
        table.push(Row {
            op: "encode scrape response building rows (74)",
            kind: Kind::Encode,
            trackwire: m2[0],
            aquatic: m2[1],
            bip: Some(m2[2]),
            floor: m2[3],
        });
    }

    // ---- CTCS -----------------------------------------------------------------------------
    let lines = transcripts::lines();
    let ctcs = measure(
        &s,
        &mut [
            runner(|| {
                for l in black_box(&lines) {
                    if l.from_client {
                        let _ = black_box(ClientMessage::decode(&l.bytes, l.version));
                    } else {
                        let _ = black_box(ServerMessage::decode(&l.bytes, l.version));
                    }
                }
            }),
            runner(|| {
                for l in black_box(&lines) {
                    let _ = black_box(naive::decode(&l.bytes, l.from_client, l.version.get()));
                }
            }),
        ],
    );

    // ---- server step ------------------------------------------------------------------------
    let server = Server::new(ServerConfig::default(), [7; 16]);
    let from: SocketAddr = "10.0.0.1:6881".parse().unwrap();
    let now = trackwire::Instant::from_secs(1_000);
    let cid = trackwire::udp::ConnectionIdScheme::issue(server.scheme(), now, from);
    let mut step_req = announce_req.clone();
    step_req[..8].copy_from_slice(&cid.0.to_be_bytes());
    let swarm: Vec<SocketAddr> = p50.iter().map(|p| SocketAddr::V4(*p)).collect();
    let step = measure(
        &s,
        &mut [runner(|| {
            let mut reply = [0u8; 1500];
            match server.handle_datagram(now, from, black_box(&step_req), &mut reply) {
                ServerAction::Announce(a) => {
                    let n = a
                        .respond(
                            1800,
                            12,
                            40,
                            black_box(swarm.as_slice()).iter().copied(),
                            &mut reply,
                        )
                        .unwrap();
                    black_box(&reply[..n]);
                }
                other => panic!("{other:?}"),
            }
        })],
    )[0];

    // ---- report -----------------------------------------------------------------------------
    println!(
        "{:<48} {:>11} {:>11} {:>11} {:>9} {:>9} {:>9}  target",
        "operation (median ns)", "trackwire", "aquatic", "bip", "floor", "tw/aq", "tw/floor"
    );
    for r in &table {
        println!(
            "{:<48} {:>11.1} {:>11.1} {:>11} {:>9.1} {:>9.2} {:>9.2}  {}",
            r.op,
            r.trackwire,
            r.aquatic,
            r.bip.map_or("-".into(), |b| format!("{b:.1}")),
            r.floor,
            r.trackwire / r.aquatic,
            r.trackwire / r.floor,
            verdict(r)
        );
    }
    println!(
        "{:<48} {:>11.1} {:>11} {:>11} {:>9.1} {:>9} {:>9.2}  {}",
        format!("CTCS transcripts ({} lines)", lines.len()),
        ctcs[0],
        "-",
        "-",
        ctcs[1],
        "-",
        ctcs[0] / ctcs[1],
        met(ctcs[0] / ctcs[1] <= 0.5, "tw ≤ 0.5 × naive")
    );
    println!(
        "{:<48} {:>11.1} {:>11} {:>11} {:>9} {:>9} {:>9}  {}",
        "server step (cookie, announce, 50 peers)",
        step,
        "-",
        "-",
        "-",
        "-",
        "-",
        met(step <= 150.0, "≤ 150 ns")
    );
    println!("(CTCS: the floor column is the naive split_whitespace + parse decoder)");
    println!();
    for r in &table {
        println!(
            "ratio {} trackwire/aquatic={:.2} trackwire/floor={:.2}",
            slug(r.op),
            r.trackwire / r.aquatic,
            r.trackwire / r.floor
        );
    }
    println!(
        "ratio ctcs-transcripts trackwire/naive={:.2}",
        ctcs[0] / ctcs[1]
    );
    println!("server-step trackwire={step:.1}ns");
}

fn met(ok: bool, what: &str) -> String {
    format!("{} ({what})", if ok { "met" } else { "MISSED" })
}

fn verdict(r: &Row) -> String {
    let (a, f) = (r.trackwire / r.aquatic, r.trackwire / r.floor);
    match r.kind {
        Kind::Decode => met(a <= 0.5 && f <= 1.3, "≤ 0.5 × aquatic, ≤ 1.3 × floor"),
        Kind::Encode => met(a <= 1.2, "≤ 1.2 × aquatic"),
        Kind::Garbage => met(f <= 1.5, "≤ 1.5 × floor"),
    }
}

fn slug(op: &str) -> String {
    op.replace(['(', ')'], "").replace(' ', "-")
}
