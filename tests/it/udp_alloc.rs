//! The UDP codec never allocates: every decode and encode path, run on the real datagrams
//! of `tests/vectors/udp` under a counting global allocator, performs zero allocations.
//!
//! The test harness allocates on its own, so only a region is measured: the vectors are
//! parsed and every buffer is made first, then the counter is read before and after the
//! codec calls. This file holds a single `#[test]` so no other test thread allocates
//! while the region runs.
//!
//! The counting allocator is `trackwire_alloc_count` (its own tiny crate, because a
//! `GlobalAlloc` needs unsafe code, which this package forbids).

use std::fmt::{self, Write as _};
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use trackwire_alloc_count::count;

use trackwire::udp;
use trackwire::udp::password_digest as sha1;
use trackwire::udp::{
    announce_ip, canonical_addr, effective_num_want, Action, AddressFamily, AnnounceEvent,
    AnnounceOption, AnnounceRequest, AnnounceResponse, AnnounceTail, Authentication,
    ConnectRequest, ConnectResponse, ConnectionId, ErrorResponse, Extensions, InfoHash, InfoHashes,
    Options, PasswdHash, PeerId, Peers, Request, Response, ScrapeRequest, ScrapeResponse,
    ScrapeRow, ScrapeRows, ShortBytes, TailGrammar, TransactionId,
};
use trackwire::udp::{encode_url_data, url_data_encoded_len, verify_datagram};
use trackwire::{DecodeError, EncodeError};

// ---- the vectors --------------------------------------------------------------------------

/// One datagram of a vector file.
struct Datagram {
    /// `file:line`, for failure messages.
    origin: String,
    /// `C>T`: a request; `T>C`: a response.
    request: bool,
    /// From the addresses: `[::1]` is IPv6, `127.0.0.1` IPv4.
    family: AddressFamily,
    bytes: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Every datagram of `tests/vectors/udp/*.txt` (lines `t dir src dst len hex`; `#` starts a
/// comment line).
fn load_vectors() -> Vec<Datagram> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/udp");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("vector directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("vector file");
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            // An empty datagram has no hex field.
            assert!(matches!(f.len(), 5 | 6), "{name}:{}: {line}", i + 1);
            let (dir, src, dst) = (f[1], f[2], f[3]);
            let request = match dir {
                "C>T" => true,
                "T>C" => false,
                other => panic!("{name}:{}: direction {other}", i + 1),
            };
            assert_eq!(src.starts_with('['), dst.starts_with('['), "mixed families");
            let family = if src.starts_with('[') {
                AddressFamily::Ipv6
            } else {
                AddressFamily::Ipv4
            };
            let bytes = hex(f.get(5).copied().unwrap_or_default());
            assert_eq!(bytes.len(), f[4].parse::<usize>().expect("length"));
            out.push(Datagram {
                origin: format!("{name}:{}", i + 1),
                request,
                family,
                bytes,
            });
        }
    }
    out
}

// ---- the measured work --------------------------------------------------------------------

/// A `fmt::Write` into a fixed array, so that `Display` impls run without allocating.
struct Sink {
    buf: [u8; 512],
    len: usize,
}

impl Sink {
    const fn new() -> Self {
        Sink {
            buf: [0; 512],
            len: 0,
        }
    }
}

impl fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.buf[self.len % 512] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// What the measured region saw; checked afterwards so the region itself stays
/// allocation-free even when the check would fail.
#[derive(Debug, Default)]
struct Seen {
    ok: usize,
    errors: usize,
    golden: usize,
    connect_requests: usize,
    announces_with_options: usize,
    announces_with_extensions: usize,
    announces_raw: usize,
    scrape_hashes: usize,
    peers_v4: usize,
    peers_v6: usize,
    scrape_rows: usize,
    error_messages: usize,
    url_bytes: usize,
    options: usize,
    encodes: usize,
    short_buffer_errors: usize,
    text: usize,
}

const GRAMMARS: [TailGrammar; 3] = [TailGrammar::Bep41, TailGrammar::Legacy, TailGrammar::Raw];
const FAMILIES: [AddressFamily; 2] = [AddressFamily::Ipv4, AddressFamily::Ipv6];

/// Buffers and inputs for the encoders, all made before the region.
struct Work<'a> {
    vectors: &'a [Datagram],
    out: &'a mut [u8],
    scratch: &'a mut [u8],
    sink: Sink,
    seen: Seen,
}

impl Work<'_> {
    fn error(&mut self, e: DecodeError, len: usize) {
        assert!(e.offset() <= len);
        self.seen.errors += 1;
        let _ = write!(self.sink, "{e} {} {}", e.kind(), e.kind().name());
        black_box(e.shifted(1));
    }

    /// Encodes with `f` into a buffer one byte short (must fail, untouched) and into
    /// `out`; returns the length.
    fn encode(&mut self, len: usize, f: impl Fn(&mut [u8]) -> Result<usize, EncodeError>) -> usize {
        if let Some(short) = len.checked_sub(1) {
            let e = f(&mut self.scratch[..short]).expect_err("short buffer");
            assert_eq!(e.required(), len);
            let _ = write!(self.sink, "{e}");
            self.seen.short_buffer_errors += 1;
        }
        let n = f(self.out).expect("encode");
        assert_eq!(n, len);
        self.seen.encodes += 1;
        n
    }

    /// Re-encodes a decoded message and checks it reproduces `input` (its first `n`
    /// bytes for connect messages, which may be padded).
    fn golden(
        &mut self,
        input: &[u8],
        len: usize,
        f: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
    ) {
        let n = self.encode(len, f);
        assert!(self.out[..n] == input[..n]);
        self.seen.golden += 1;
    }

    fn options(&mut self, o: &Options<'_>) {
        for opt in o.iter() {
            self.seen.options += 1;
            black_box((opt.kind(), opt.data()));
            if let AnnounceOption::Unknown { kind, data } = opt {
                black_box((kind, data));
            }
        }
        for opt in *o {
            black_box(opt);
        }
        black_box((o.as_bytes(), o.after_end(), o.is_empty()));
        let len = o.url_data_len();
        self.seen.url_bytes += o.url_data().map(<[u8]>::len).sum::<usize>();
        self.encode(len, |buf| o.copy_url_data(buf));
        #[cfg(feature = "heapless")]
        black_box(o.url_data_heapless::<2048>().expect("fits"));
    }

    fn request(&mut self, r: &Request<'_>, input: &[u8]) {
        self.seen.ok += 1;
        let _ = write!(self.sink, "{}", r.transaction_id());
        if let Some(cid) = r.connection_id() {
            let _ = write!(self.sink, "{cid}");
        }
        match r {
            Request::Connect(c) => {
                self.seen.connect_requests += 1;
                self.golden(input, ConnectRequest::LEN, |b| c.encode(b));
            }
            Request::Announce(a) => {
                let _ = write!(
                    self.sink,
                    "{} {} {} {:?} {:?}",
                    a.info_hash,
                    a.peer_id,
                    a.event,
                    announce_ip(a.ip),
                    a.tail.encoded_len(),
                );
                black_box(effective_num_want(a.num_want, 50, 200));
                black_box((a.options(), a.extensions()));
                match &a.tail {
                    AnnounceTail::None => {}
                    AnnounceTail::Options(o) => {
                        self.seen.announces_with_options += 1;
                        self.options(o);
                    }
                    AnnounceTail::Extensions(e) => {
                        self.seen.announces_with_extensions += 1;
                        black_box((e.bits, e.wire_bits(), e.rest, e.encoded_len()));
                        if let Some(auth) = e.auth {
                            black_box((auth.username.as_bytes(), auth.passwd_hash));
                        }
                        black_box(e.request_string.map(|s| s.as_bytes()));
                    }
                    AnnounceTail::Raw(b) => {
                        self.seen.announces_raw += 1;
                        black_box(b);
                    }
                }
                self.golden(input, a.encoded_len(), |b| a.encode(b));
            }
            Request::Scrape(s) => {
                for h in s.info_hashes.iter() {
                    let _ = write!(self.sink, "{h}");
                    self.seen.scrape_hashes += 1;
                }
                black_box((s.info_hashes.len(), s.info_hashes.is_empty()));
                black_box(s.info_hashes.wire_bytes());
                black_box(s.info_hashes.into_iter().count());
                black_box(s.info_hashes.iter_bytes().fold(0u8, |x, h| x ^ h[0]));
                self.golden(input, s.encoded_len(), |b| s.encode(b));
            }
        }
        self.golden(input, r.encoded_len(), |b| r.encode(b));
    }

    fn peer(&mut self, p: SocketAddr) {
        let _ = write!(self.sink, "{p}");
        black_box((canonical_addr(p), AddressFamily::of(p)));
    }

    fn response(&mut self, r: &Response<'_>, input: &[u8]) {
        self.seen.ok += 1;
        let _ = write!(self.sink, "{}", r.transaction_id());
        match r {
            Response::Connect(c) => {
                let _ = write!(self.sink, "{}", c.connection_id);
                self.golden(input, ConnectResponse::LEN, |b| c.encode(b));
            }
            Response::Announce(a) => {
                let p = a.peers;
                black_box((p.family(), p.len(), p.is_empty(), p.as_bytes()));
                for peer in p.iter() {
                    self.peer(peer);
                }
                for peer in p {
                    black_box(peer);
                }
                if let Some(v4) = p.iter_v4() {
                    for peer in v4 {
                        self.seen.peers_v4 += 1;
                        self.peer(SocketAddr::V4(peer));
                    }
                }
                if let Some(v6) = p.iter_v6() {
                    for peer in v6 {
                        self.seen.peers_v6 += 1;
                        self.peer(SocketAddr::V6(peer));
                    }
                }
                self.golden(input, a.encoded_len(), |b| a.encode(b));
            }
            Response::Scrape(s) => {
                for row in s.rows.iter() {
                    self.seen.scrape_rows += 1;
                    black_box(row);
                }
                black_box((s.rows.len(), s.rows.is_empty(), s.rows.into_iter().count()));
                self.golden(input, s.encoded_len(), |b| s.encode(b));
            }
            Response::Error(e) => {
                self.seen.error_messages += 1;
                black_box((e.message, e.text()));
                if let Ok(s) = e.to_str() {
                    self.seen.text += 1;
                    let _ = write!(self.sink, "{s}");
                }
                #[cfg(feature = "heapless")]
                black_box(e.text_heapless::<2048>().expect("fits"));
                self.golden(input, e.encoded_len(), |b| e.encode(b));
            }
        }
        self.golden(input, r.encoded_len(), |b| r.encode(b));
    }

    /// Every decoder, on every vector.
    fn decode_all(&mut self) {
        let digest = sha1(b"password");
        let vectors = self.vectors;
        for d in vectors {
            let b = &d.bytes[..];
            // Both directions through both kinds of decoder: a datagram in the wrong
            // direction is mostly an error, which must not allocate either.
            for g in GRAMMARS {
                match Request::decode_with(b, g) {
                    Ok(r) => self.request(&r, b),
                    Err(e) => self.error(e, b.len()),
                }
                match AnnounceRequest::decode_with(b, g) {
                    Ok(a) => self.request(&Request::Announce(a), b),
                    Err(e) => self.error(e, b.len()),
                }
            }
            match Request::decode(b) {
                Ok(r) => self.request(&r, b),
                Err(e) => self.error(e, b.len()),
            }
            match AnnounceRequest::decode(b) {
                Ok(a) => self.request(&Request::Announce(a), b),
                Err(e) => self.error(e, b.len()),
            }
            match ConnectRequest::decode(b) {
                Ok(c) => self.request(&Request::Connect(c), b),
                Err(e) => self.error(e, b.len()),
            }
            match ScrapeRequest::decode(b) {
                Ok(s) => self.request(&Request::Scrape(s), b),
                Err(e) => self.error(e, b.len()),
            }
            black_box(verify_datagram(b, &digest));
            match Options::decode(b.get(98..).unwrap_or_default()) {
                Ok(o) => self.options(&o),
                Err(e) => self.error(e, b.len()),
            }
            for family in FAMILIES {
                match Response::decode(b, family) {
                    Ok(r) => self.response(&r, b),
                    Err(e) => self.error(e, b.len()),
                }
                match AnnounceResponse::decode(b, family) {
                    Ok(a) => self.response(&Response::Announce(a), b),
                    Err(e) => self.error(e, b.len()),
                }
            }
            match ConnectResponse::decode(b) {
                Ok(c) => self.response(&Response::Connect(c), b),
                Err(e) => self.error(e, b.len()),
            }
            match ScrapeResponse::decode(b) {
                Ok(s) => self.response(&Response::Scrape(s), b),
                Err(e) => self.error(e, b.len()),
            }
            match ErrorResponse::decode(b) {
                Ok(e) => self.response(&Response::Error(e), b),
                Err(e) => self.error(e, b.len()),
            }
            // The datagram in its own direction and family must decode.
            let own = if d.request {
                Request::decode(b).is_ok()
            } else {
                Response::decode(b, d.family).is_ok()
            };
            black_box(own);
        }
    }

    /// Every encoder, from typed values.
    fn encode_all(&mut self) {
        let tid = TransactionId(0x1122_3344);
        let cid = ConnectionId(0x36e7_1e1f_d342_7599);
        let connect = ConnectRequest {
            transaction_id: tid,
        };
        self.encode(ConnectRequest::LEN, |b| connect.encode(b));
        self.encode(ConnectRequest::LEN, |b| Request::Connect(connect).encode(b));

        // Announce tails: none, BEP 41 options, legacy extensions (three hash sources), raw.
        let url = [b'/'; 600];
        let mut opts = [0u8; 700];
        let n = encode_url_data(&url, true, &mut opts).expect("fits");
        assert_eq!(n, url_data_encoded_len(url.len(), true));
        let mut short = [0u8; 8];
        assert!(encode_url_data(&url, false, &mut short).is_err());
        let options = Options::decode(&opts[..n]).expect("valid");
        self.options(&options);
        let username = ShortBytes::new(b"alice").expect("short");
        let request_string = ShortBytes::new(b"/announce?passkey=abc");
        let ext = |passwd_hash| {
            Extensions::new(
                Some(Authentication {
                    username,
                    passwd_hash,
                }),
                request_string,
            )
        };
        let tails = [
            AnnounceTail::None,
            AnnounceTail::Options(options),
            AnnounceTail::Options(Options::EMPTY),
            AnnounceTail::Extensions(ext(PasswdHash::Hash([7; 8]))),
            AnnounceTail::Extensions(ext(PasswdHash::Password(b"hunter2"))),
            AnnounceTail::Extensions(ext(PasswdHash::PasswordDigest(sha1(b"hunter2")))),
            AnnounceTail::Extensions(Extensions {
                bits: 0x8000,
                rest: b"opaque",
                ..Extensions::new(None, None)
            }),
            AnnounceTail::Raw(b"\x00\x00raw"),
        ];
        for tail in tails {
            let a = AnnounceRequest {
                connection_id: cid,
                transaction_id: tid,
                info_hash: InfoHash([0xaa; 20]),
                peer_id: PeerId(*b"-LT2080-abcdefghijkl"),
                downloaded: 1,
                left: 2,
                uploaded: 3,
                event: AnnounceEvent::Started,
                ip: 0,
                key: 0x1234_5678,
                num_want: -1,
                port: 6881,
                tail,
            };
            let n = self.encode(a.encoded_len(), |b| a.encode(b));
            self.encode(a.encoded_len(), |b| Request::Announce(a).encode(b));
            // The authenticated ones verify.
            if let AnnounceTail::Extensions(Extensions { auth: Some(_), .. }) = a.tail {
                black_box(verify_datagram(&self.out[..n], &sha1(b"hunter2")));
            }
        }

        let hashes = [InfoHash([1; 20]), InfoHash([2; 20]), InfoHash([3; 20])];
        let s = ScrapeRequest {
            connection_id: cid,
            transaction_id: tid,
            info_hashes: InfoHashes::from_slice(&hashes),
        };
        self.encode(s.encoded_len(), |b| s.encode(b));
        self.encode(s.encoded_len(), |b| Request::Scrape(s).encode(b));
        black_box(s.info_hashes.iter().count());

        let c = ConnectResponse {
            transaction_id: tid,
            connection_id: cid,
        };
        self.encode(ConnectResponse::LEN, |b| c.encode(b));
        self.encode(ConnectResponse::LEN, |b| Response::Connect(c).encode(b));

        let compact = [127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2];
        let a = AnnounceResponse {
            transaction_id: tid,
            interval: 1800,
            leechers: 1,
            seeders: 2,
            peers: Peers::from_compact(AddressFamily::Ipv4, &compact).expect("whole"),
        };
        self.encode(a.encoded_len(), |b| a.encode(b));
        self.encode(a.encoded_len(), |b| Response::Announce(a).encode(b));
        let empty = AnnounceResponse {
            peers: Peers::empty(AddressFamily::Ipv6),
            ..a
        };
        self.encode(empty.encoded_len(), |b| empty.encode(b));
        let v4 = [
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, 6881),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 6882),
        ];
        let v6 = [
            SocketAddrV6::new(Ipv6Addr::LOCALHOST, 6881, 0, 0),
            SocketAddrV6::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 6882, 0, 0),
        ];
        self.encode(20 + 6 * v4.len(), |b| a.encode_with_peers(v4, b));
        self.encode(20 + 18 * v6.len(), |b| {
            a.encode_with_peers(v6.iter().copied(), b)
        });

        let rows = [
            ScrapeRow {
                complete: 1,
                downloaded: 2,
                incomplete: 3,
            },
            ScrapeRow::default(),
        ];
        let s = ScrapeResponse {
            transaction_id: tid,
            rows: ScrapeRows::from_slice(&rows),
        };
        self.encode(s.encoded_len(), |b| s.encode(b));
        self.encode(s.encoded_len(), |b| Response::Scrape(s).encode(b));
        black_box(s.rows.iter().count());

        let e = ErrorResponse {
            transaction_id: tid,
            message: b"Connection ID missmatch.\0",
        };
        black_box(e.text());
        assert_eq!(e.to_str(), Ok("Connection ID missmatch."));
        self.encode(e.encoded_len(), |b| e.encode(b));
        self.encode(e.encoded_len(), |b| Response::Error(e).encode(b));

        // The password digest behind legacy authentication.
        black_box(sha1(b"pw"));
    }

    /// The helpers of `limits` and `types`.
    fn helpers(&mut self) {
        for family in FAMILIES {
            for mtu in [0, udp::MTU_IPV6_MIN, udp::MTU_ETHERNET, 9000] {
                let p = udp::payload_budget(mtu, family);
                black_box((
                    udp::max_scrape_hashes(p),
                    udp::max_scrape_rows(p),
                    udp::max_peers(p, family),
                    family.peer_len(),
                ));
            }
        }
        black_box((
            udp::BEP15_MAX_SCRAPE_HASHES,
            udp::OPENTRACKER_REPLY_BUDGET,
            udp::MAX_UDP_PAYLOAD,
            udp::IPV4_HEADER_LEN + udp::IPV6_HEADER_LEN + udp::UDP_HEADER_LEN,
        ));
        for v in [0, 1, 2, 3, 4, 5, u32::MAX] {
            let a = Action::from_u32(v);
            black_box(a.map(Action::to_u32));
            let e = AnnounceEvent::from_u32(v);
            assert_eq!(e.to_u32(), v);
            let _ = write!(self.sink, "{e}");
        }
        for w in [i32::MIN, -1, 0, 10, i32::MAX] {
            black_box(effective_num_want(w, 50, 200));
        }
        black_box((announce_ip(0), announce_ip(0x7f00_0001)));
        let mapped = SocketAddr::V6(SocketAddrV6::new(
            Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped(),
            6881,
            0,
            0,
        ));
        black_box((canonical_addr(mapped), AddressFamily::of(mapped)));
        let _ = write!(
            self.sink,
            "{} {} {} {}",
            ConnectionId(1),
            TransactionId(2),
            InfoHash([3; 20]),
            PeerId([4; 20])
        );
        let bad_utf8 = ErrorResponse::decode(&[0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0]).expect("error");
        assert!(bad_utf8.to_str().is_err());
    }
}

#[test]
fn udp_codec_never_allocates() {
    // Everything that allocates happens here, before the region.
    let vectors = load_vectors();
    let mut out = vec![0u8; 65_536];
    let mut scratch = vec![0u8; 65_536];
    let mut work = Work {
        vectors: &vectors,
        out: &mut out,
        scratch: &mut scratch,
        sink: Sink::new(),
        seen: Seen::default(),
    };

    let ((), allocations) = count(|| {
        work.decode_all();
        work.encode_all();
        work.helpers();
    });

    let seen = work.seen;
    let printed = work.sink.len;
    assert_eq!(allocations, 0, "the codec allocated; saw {seen:#?}");

    // The region did what it claims: every path ran, over real datagrams.
    assert!(vectors.len() >= 150, "{} vectors", vectors.len());
    assert!(vectors.iter().any(|d| d.request) && vectors.iter().any(|d| !d.request));
    assert!(vectors.iter().any(|d| d.family == AddressFamily::Ipv6));
    for (name, n) in [
        ("ok", seen.ok),
        ("errors", seen.errors),
        ("golden", seen.golden),
        ("connect_requests", seen.connect_requests),
        ("announces_with_options", seen.announces_with_options),
        ("announces_with_extensions", seen.announces_with_extensions),
        ("announces_raw", seen.announces_raw),
        ("scrape_hashes", seen.scrape_hashes),
        ("peers_v4", seen.peers_v4),
        ("peers_v6", seen.peers_v6),
        ("scrape_rows", seen.scrape_rows),
        ("error_messages", seen.error_messages),
        ("url_bytes", seen.url_bytes),
        ("options", seen.options),
        ("encodes", seen.encodes),
        ("short_buffer_errors", seen.short_buffer_errors),
        ("text", seen.text),
        ("printed", printed),
    ] {
        assert!(n > 0, "nothing counted for {name}: {seen:#?}");
    }
    // Every datagram decodes in its own direction and family, unless it is one of the
    // deliberately malformed ones, which are errors.
    let own_ok = vectors
        .iter()
        .filter(|d| {
            if d.request {
                Request::decode(&d.bytes).is_ok()
            } else {
                Response::decode(&d.bytes, d.family).is_ok()
            }
        })
        .count();
    assert!(
        own_ok * 10 >= vectors.len() * 8,
        "{own_ok} of {} decode",
        vectors.len()
    );
    let origins: Vec<&str> = vectors.iter().map(|d| d.origin.as_str()).collect();
    assert!(origins.iter().any(|o| o.starts_with("opentracker_bep41")));

    // And the counter does count.
    let ((), n) = count(|| {
        black_box(vec![0u8; 64]);
    });
    assert!(n > 0, "the counting allocator is not in use");
}
