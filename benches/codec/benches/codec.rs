//! Criterion benchmarks of every trackwire codec operation on real bytes from
//! `tests/vectors` (UDP: decode and iterate, encode, for connect, announce, scrape and
//! error in both address families; CTCS: framing, `CTSTATUS`, v3 `CTCONFIG` with
//! `len:value`, a whole transcript), one `udp::Server` step and one `udp::Client` step.
//!
//! `cargo bench -p trackwire-bench-codec` (add `-- --quick` for a short run). The
//! benchmarks live in this package of their own so that criterion is never built for the
//! library's tests and examples. The side-by-side comparison with other crates is
//! `benches/compare`.

use std::hint::black_box;
use std::net::{SocketAddr, SocketAddrV4};
use std::path::PathBuf;

use criterion::{criterion_main, BatchSize, Criterion};
use trackwire::ctcs::{ClientMessage, Framer, ServerMessage, Status, Version};
use trackwire::udp::{
    AddressFamily, ConnectionIdScheme, InfoHash, PeerId, Request, Response, Server, ServerAction,
    ServerConfig,
};
use trackwire::udp::{AnnounceParams, Client, ClientConfig};
use trackwire::Instant;

/// The repository's `tests/vectors`, two levels above this package (`benches/codec`).
fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// One datagram of the UDP captures.
struct Datagram {
    from_client: bool,
    family: AddressFamily,
    bytes: Vec<u8>,
}

fn datagrams() -> Vec<Datagram> {
    let mut files: Vec<_> = std::fs::read_dir(vectors().join("udp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 5 || f[0].starts_with('#') {
                continue;
            }
            let hex = f.get(5).copied().unwrap_or("");
            out.push(Datagram {
                from_client: f[1] == "C>T",
                family: if f[2].starts_with('[') {
                    AddressFamily::Ipv6
                } else {
                    AddressFamily::Ipv4
                },
                bytes: (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect(),
            });
        }
    }
    out
}

/// The longest well-formed datagram of a kind: requests by action, responses by action.
fn pick(all: &[Datagram], family: AddressFamily, from_client: bool, action: u32) -> Option<&[u8]> {
    all.iter()
        .filter(|d| d.family == family && d.from_client == from_client)
        .filter(|d| {
            if from_client {
                matches!(Request::decode(&d.bytes), Ok(r) if action_of_request(&r) == action)
            } else {
                matches!(Response::decode(&d.bytes, family), Ok(r) if action_of_response(&r) == action)
            }
        })
        .max_by_key(|d| d.bytes.len())
        .map(|d| &d.bytes[..])
}

fn action_of_request(r: &Request<'_>) -> u32 {
    match r {
        Request::Connect(_) => 0,
        Request::Announce(_) => 1,
        Request::Scrape(_) => 2,
    }
}

fn action_of_response(r: &Response<'_>) -> u32 {
    match r {
        Response::Connect(_) => 0,
        Response::Announce(_) => 1,
        Response::Scrape(_) => 2,
        Response::Error(_) => 3,
    }
}

fn iterate_request(r: &Request<'_>) {
    if let Request::Scrape(s) = r {
        s.info_hashes.iter_bytes().for_each(|h| {
            black_box(h);
        });
    }
    if let Request::Announce(a) = r {
        if let Some(o) = a.options() {
            o.iter().for_each(|x| {
                black_box(x);
            });
        }
    }
}

fn iterate_response(r: &Response<'_>) {
    match r {
        Response::Announce(a) => a.peers.iter().for_each(|p| {
            black_box(p);
        }),
        Response::Scrape(s) => s.rows.iter().for_each(|row| {
            black_box(row);
        }),
        Response::Error(e) => {
            black_box(e.text());
        }
        Response::Connect(_) => {}
    }
}

fn udp(c: &mut Criterion) {
    let all = datagrams();
    let names = ["connect", "announce", "scrape", "error"];
    for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
        let fam = match family {
            AddressFamily::Ipv4 => "v4",
            AddressFamily::Ipv6 => "v6",
        };
        let mut g = c.benchmark_group(format!("udp/{fam}"));
        let mut buf = [0u8; 2048];
        for action in 0..3u32 {
            let Some(bytes) = pick(&all, family, true, action) else {
                continue;
            };
            let name = names[action as usize];
            g.bench_function(format!("decode {name} request ({} B)", bytes.len()), |b| {
                b.iter(|| {
                    let r = Request::decode(black_box(bytes)).unwrap();
                    iterate_request(&r);
                    black_box(r);
                })
            });
            let r = Request::decode(bytes).unwrap();
            g.bench_function(format!("encode {name} request ({} B)", bytes.len()), |b| {
                b.iter(|| black_box(black_box(&r).encode(&mut buf).unwrap()))
            });
        }
        for action in 0..4u32 {
            let Some(bytes) = pick(&all, family, false, action) else {
                continue;
            };
            let name = names[action as usize];
            g.bench_function(format!("decode {name} response ({} B)", bytes.len()), |b| {
                b.iter(|| {
                    let r = Response::decode(black_box(bytes), family).unwrap();
                    iterate_response(&r);
                    black_box(r);
                })
            });
            let r = Response::decode(bytes, family).unwrap();
            g.bench_function(format!("encode {name} response ({} B)", bytes.len()), |b| {
                b.iter(|| black_box(black_box(&r).encode(&mut buf).unwrap()))
            });
        }
        g.finish();
    }
}

/// A CTCS line: sent by the client?, the version in force, the bytes.
type Line = (bool, Version, Vec<u8>);

/// Every transcript's client-to-server stream, and the lines of all transcripts with the
/// version in force (as the tests frame them).
fn transcripts() -> (Vec<u8>, Vec<Line>) {
    let mut files: Vec<_> = std::fs::read_dir(vectors().join("ctcs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut stream = Vec::new();
    let mut lines = Vec::new();
    for f in files {
        let mut version = Version::V3;
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let from_client = match line.get(..2) {
                Some("C>") => true,
                Some("S>") => false,
                _ => continue,
            };
            let rest = line[2..].trim_start();
            let (_t, rest) = rest.split_once(' ').unwrap();
            let (_conn, text) = rest.split_once(' ').unwrap();
            let bytes = unescape(text);
            if from_client {
                stream.extend_from_slice(&bytes);
            }
            let mut framer = Framer::default();
            let mut rest = &bytes[..];
            loop {
                let s = framer.split(rest);
                rest = &rest[s.consumed..];
                let Status::Complete(l) = s.status else { break };
                let Ok(l) = l else { continue };
                if !from_client {
                    if let Ok(ServerMessage::Protocol(p)) = ServerMessage::decode(l, version) {
                        version = p.negotiated();
                    }
                }
                lines.push((from_client, version, l.to_vec()));
            }
        }
    }
    (stream, lines)
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, skip) = match b[i + 1] {
                b'n' => (b'\n', 2),
                b'r' => (b'\r', 2),
                b't' => (b'\t', 2),
                b'0' => (0, 2),
                b'x' => (
                    u8::from_str_radix(std::str::from_utf8(&b[i + 2..i + 4]).unwrap(), 16).unwrap(),
                    4,
                ),
                other => (other, 2),
            };
            out.push(byte);
            i += skip;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn ctcs(c: &mut Criterion) {
    let (stream, lines) = transcripts();
    let mut g = c.benchmark_group("ctcs");
    g.bench_function(format!("frame client streams ({} B)", stream.len()), |b| {
        b.iter(|| {
            let mut f = Framer::default();
            let mut rest = black_box(&stream[..]);
            let mut n = 0usize;
            loop {
                let s = f.split(rest);
                rest = &rest[s.consumed..];
                match s.status {
                    Status::Complete(_) => n += 1,
                    Status::Partial => break,
                }
            }
            n
        })
    });
    let status = b"CTSTATUS 1:2/3:4/0 10/100/100 8190,0 123456,0 0,0 16";
    g.bench_function("decode CTSTATUS v3", |b| {
        b.iter(|| black_box(ClientMessage::decode(black_box(status), Version::V3).unwrap()))
    });
    let config = lines
        .iter()
        .find(|(c, v, l)| *c && *v == Version::V3 && l.starts_with(b"CTCONFIG max_peers"))
        .map(|(_, _, l)| l.clone())
        .unwrap();
    g.bench_function("decode CTCONFIG v3 len:value", |b| {
        b.iter(|| black_box(ClientMessage::decode(black_box(&config), Version::V3).unwrap()))
    });
    let mut buf = [0u8; 4400];
    let m = ClientMessage::decode(status, Version::V3).unwrap();
    g.bench_function("encode CTSTATUS v3", |b| {
        b.iter(|| black_box(black_box(&m).encode(Version::V3, &mut buf).unwrap()))
    });
    let m = ClientMessage::decode(&config, Version::V3).unwrap();
    g.bench_function("encode CTCONFIG v3 len:value", |b| {
        b.iter(|| black_box(black_box(&m).encode(Version::V3, &mut buf).unwrap()))
    });
    g.bench_function(
        format!("decode all transcripts ({} lines)", lines.len()),
        |b| {
            b.iter(|| {
                for (from_client, v, l) in black_box(&lines) {
                    if *from_client {
                        let _ = black_box(ClientMessage::decode(l, *v));
                    } else {
                        let _ = black_box(ServerMessage::decode(l, *v));
                    }
                }
            })
        },
    );
    g.finish();
}

fn machines(c: &mut Criterion) {
    let all = datagrams();
    let mut g = c.benchmark_group("machines");

    // Server: verify the cookie, decode the announce, write a 50-peer reply.
    let server = Server::new(ServerConfig::default(), [7; 16]);
    let from: SocketAddr = "10.0.0.1:6881".parse().unwrap();
    let now = Instant::from_secs(1_000);
    let cid = server.scheme().issue(now, from);
    let mut request = pick(&all, AddressFamily::Ipv4, true, 1).unwrap().to_vec();
    request[..8].copy_from_slice(&cid.0.to_be_bytes());
    let swarm: Vec<SocketAddr> = (0..50u16)
        .map(|i| SocketAddr::V4(SocketAddrV4::new([10, 1, 0, i as u8].into(), 6881 + i)))
        .collect();
    g.bench_function("server step (cookie, announce, 50-peer reply)", |b| {
        let mut reply = [0u8; 1500];
        b.iter(
            || match server.handle_datagram(now, from, black_box(&request), &mut reply) {
                ServerAction::Announce(a) => black_box(
                    a.respond(1800, 12, 40, swarm.iter().copied(), &mut reply)
                        .unwrap(),
                ),
                other => panic!("{other:?}"),
            },
        )
    });

    // Client: an announce reply with 50 peers arrives for an exchange awaiting it.
    let tracker: SocketAddr = "192.0.2.1:6969".parse().unwrap();
    let mut client = Client::<4>::new_sized(ClientConfig::new(tracker), 42).unwrap();
    let mut buf = [0u8; Client::<4>::MAX_TRANSMIT_LEN];
    let params = AnnounceParams::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
    client.announce(now, params).unwrap();
    let t = client.poll_transmit(now, &mut buf).unwrap().unwrap();
    let Ok(Request::Connect(connect)) = Request::decode(&buf[..t.len]) else {
        panic!("no connect")
    };
    let mut reply = [0u8; 16];
    trackwire::udp::ConnectResponse {
        transaction_id: connect.transaction_id,
        connection_id: trackwire::udp::ConnectionId(77),
    }
    .encode(&mut reply)
    .unwrap();
    let _ = client.handle_datagram(now, tracker, &reply).unwrap();
    let t = client.poll_transmit(now, &mut buf).unwrap().unwrap();
    let tid = Request::decode(&buf[..t.len]).unwrap().transaction_id();
    let peers: Vec<SocketAddrV4> = swarm
        .iter()
        .map(|p| match p {
            SocketAddr::V4(v4) => *v4,
            SocketAddr::V6(_) => unreachable!(),
        })
        .collect();
    let mut announce_reply = [0u8; 320];
    let n = trackwire::udp::AnnounceResponse {
        transaction_id: tid,
        interval: 1800,
        leechers: 1,
        seeders: 2,
        peers: trackwire::udp::Peers::empty(AddressFamily::Ipv4),
    }
    .encode_with_peers(peers.iter().copied(), &mut announce_reply)
    .unwrap();
    g.bench_function("client step (50-peer announce reply, iterate)", |b| {
        b.iter_batched_ref(
            || client.clone(),
            |c| match c.handle_datagram(now, tracker, black_box(&announce_reply[..n])) {
                Ok(trackwire::udp::Received::Announced { response, .. }) => {
                    response.peers.iter().for_each(|p| {
                        black_box(p);
                    })
                }
                other => panic!("{other:?}"),
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("client send (announce datagram)", |b| {
        b.iter_batched_ref(
            || {
                let mut c = client.clone();
                c.announce(now, params).unwrap();
                c
            },
            |c| black_box(c.poll_transmit(now, &mut buf).unwrap()),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The groups (criterion's macro makes a `pub fn`, which `missing_docs` would flag).
mod group {
    #![allow(missing_docs)]
    use super::{ctcs, machines, udp};
    criterion::criterion_group!(benches, udp, ctcs, machines);
}
criterion_main!(group::benches);
