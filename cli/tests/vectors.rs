//! The conformance vectors as a runnable suite: every vector file in
//! `tests/vectors/{udp,ctcs}/` has beside it `NAME.expected.jsonl`, one JSON object per
//! datagram or per CTCS line in `trackwire decode`'s schema; decoding the vector file
//! again must give the same objects, field by field.
//!
//! The vector files whose name starts with `generated_` are written by
//! [`generated_files`] below with the library's encoders (real programs do not produce
//! them on demand); `generated_vector_files_are_current` keeps the checked-in files equal
//! to what it writes. To change them, edit the generator and run
//! `TRACKWIRE_BLESS=1 cargo test -p trackwire-cli --test vectors`, then
//! `tests/vectors/regenerate.sh` for their expected results.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::procs::tool;
use common::vectors_dir;
use serde_json::Value;
use trackwire::udp::{
    encode_url_data, max_scrape_hashes, payload_budget, AddressFamily, AnnounceEvent,
    AnnounceRequest, AnnounceResponse, AnnounceTail, Authentication, ConnectRequest,
    ConnectResponse, ConnectionId, ErrorResponse, Extensions, InfoHash, InfoHashes, PasswdHash,
    PeerId, Peers, ScrapeRequest, ScrapeResponse, ScrapeRow, ShortBytes, TransactionId,
    MTU_ETHERNET, MTU_IPV6_MIN, NOP, URL_DATA,
};

// ---- the suite ----------------------------------------------------------------------

/// A vector file and how it is decoded.
struct Vector {
    /// `udp/NAME.txt` or `ctcs/NAME.txt`.
    name: String,
    path: PathBuf,
    ctcs: bool,
    /// Announce tails are read with the legacy `extensions` grammar (the file says
    /// `# tail-grammar: legacy`).
    legacy: bool,
}

fn vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    for dir in ["udp", "ctcs"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Vector {
                name: format!("{dir}/{}", path.file_name().unwrap().to_string_lossy()),
                legacy: text.lines().any(|l| l.trim() == "# tail-grammar: legacy"),
                ctcs: dir == "ctcs",
                path,
            });
        }
    }
    assert!(out.len() >= 26, "only {} vector files", out.len());
    out
}

fn expected_path(v: &Vector) -> PathBuf {
    v.path.with_extension("expected.jsonl")
}

/// What `trackwire decode` prints for the vector file.
fn decode(v: &Vector) -> Vec<Value> {
    let mut args = vec!["decode", if v.ctcs { "ctcs" } else { "udp" }];
    if v.legacy {
        args.push("--legacy-extensions");
    }
    let mut child = tool(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let input = std::fs::read(&v.path).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    // 0: everything decoded; 1: some messages did not (their objects say why).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: {:?}",
        v.name,
        out.status
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The line numbers of a UDP vector file's datagrams (lines not starting with `#`).
fn datagram_lines(path: &Path) -> Vec<usize> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Compares `got` with `want` field by field; each difference names the field's path
/// (`peers[2]`, `client_reads.type`).
fn compare(want: &Value, got: &Value, at: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match g.get(k) {
                    Some(gv) => compare(wv, gv, &here, out),
                    None => out.push(format!("field `{here}`: missing, expected {wv}")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                out.push(format!("field `{here}`: not expected, got {}", g[k]));
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!(
                    "field `{at}`: {} elements expected, got {}",
                    w.len(),
                    g.len()
                ));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                compare(wv, gv, &format!("{at}[{i}]"), out);
            }
        }
        _ if want != got => out.push(format!("field `{at}`: expected {want}, got {got}")),
        _ => {}
    }
}

/// Every difference between a vector file's decoding and its expected results, each
/// naming the file, the line and the field.
fn differences(v: &Vector, got: &[Value], expected_text: &str) -> Vec<String> {
    let expected_file = format!(
        "{}",
        Path::new(&v.name)
            .with_extension("expected.jsonl")
            .display()
    );
    let want: Vec<Value> = expected_text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{expected_file}:{}: not JSON: {e}", i + 1))
        })
        .collect();
    let lines = if v.ctcs {
        Vec::new()
    } else {
        datagram_lines(&v.path)
    };
    let mut diffs = Vec::new();
    if want.len() != got.len() {
        diffs.push(format!(
            "{}: {} objects expected ({expected_file}), {} decoded",
            v.name,
            want.len(),
            got.len()
        ));
    }
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let mut fields = Vec::new();
        compare(w, g, "", &mut fields);
        let vector_line = lines
            .get(i)
            .map(|l| format!("{}:{l}, ", v.name))
            .unwrap_or_default();
        for f in fields {
            diffs.push(format!("{vector_line}{expected_file}:{}: {f}", i + 1));
        }
    }
    diffs
}

#[test]
fn every_vector_file_decodes_to_its_expected_results() {
    let mut diffs = Vec::new();
    let mut objects = 0;
    let mut errors = 0;
    for v in vectors() {
        let expected = std::fs::read_to_string(expected_path(&v)).unwrap_or_else(|e| {
            panic!(
                "{}: no expected results beside it ({e}); run tests/vectors/regenerate.sh",
                v.name
            )
        });
        let got = decode(&v);
        objects += got.len();
        errors += got.iter().filter(|o| o.get("error").is_some()).count();
        diffs.extend(differences(&v, &got, &expected));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(objects > 500, "only {objects} objects");
    // Every malformed line of the README's tables, and the new ones, is in there.
    assert!(errors >= 34, "only {errors} errors");
}

#[test]
fn every_expected_file_has_its_vector_file() {
    for dir in ["udp", "ctcs"] {
        for e in std::fs::read_dir(vectors_dir().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".expected.jsonl") {
                assert!(
                    p.with_file_name(format!("{stem}.txt")).is_file(),
                    "{dir}/{name} has no vector file"
                );
            } else {
                assert!(name.ends_with(".txt"), "{dir}/{name}: not a vector file");
            }
        }
    }
}

#[test]
fn a_difference_names_file_line_and_field() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "udp/opentracker_bep41.txt")
        .unwrap();
    let expected = std::fs::read_to_string(expected_path(&v)).unwrap();
    let mut got = decode(&v);
    assert!(differences(&v, &got, &expected).is_empty());
    // The 3rd datagram (line 8 of the file) is the first announce; the 9th (line 20)
    // the overrunning URLData.
    got[2]["peer_id"] = Value::from("00");
    got[2].as_object_mut().unwrap().remove("port");
    got[8]["offset"] = Value::from(98);
    let d = differences(&v, &got, &expected);
    assert_eq!(
        d,
        [
            "udp/opentracker_bep41.txt:8, udp/opentracker_bep41.expected.jsonl:3: field `peer_id`: expected \"2d4c42303030312d7564706c6162706565723031\", got \"00\"",
            "udp/opentracker_bep41.txt:8, udp/opentracker_bep41.expected.jsonl:3: field `port`: missing, expected 7301",
            "udp/opentracker_bep41.txt:20, udp/opentracker_bep41.expected.jsonl:9: field `offset`: expected 99, got 98",
        ]
    );
}

#[test]
fn malformed_lines_carry_kind_and_offset() {
    // Rows of the README's table, checked against the expected files.
    let find = |file: &str, line: usize| -> Value {
        let v = vectors().into_iter().find(|v| v.name == file).unwrap();
        let i = datagram_lines(&v.path)
            .iter()
            .position(|l| *l == line)
            .unwrap();
        let text = std::fs::read_to_string(expected_path(&v)).unwrap();
        serde_json::from_str(text.lines().nth(i).unwrap()).unwrap()
    };
    let cases = [
        (
            "udp/libtorrent_odd_peers.txt",
            6,
            "partial_record",
            32,
            "stride",
            6,
        ),
        (
            "udp/opentracker_connect.txt",
            22,
            "truncated",
            12,
            "needed",
            1,
        ),
        (
            "udp/opentracker_truncated.txt",
            17,
            "truncated",
            36,
            "needed",
            20,
        ),
        (
            "udp/opentracker_wrong_action.txt",
            17,
            "unknown_action",
            8,
            "action",
            256,
        ),
        (
            "udp/opentracker_scrape_many.txt",
            28,
            "partial_record",
            16,
            "stride",
            20,
        ),
    ];
    for (file, line, kind, offset, key, detail) in cases {
        let o = find(file, line);
        assert_eq!(o["error"], kind, "{file}:{line} {o}");
        assert_eq!(o["offset"], offset, "{file}:{line} {o}");
        assert_eq!(o[key], detail, "{file}:{line} {o}");
    }
    let o = find("udp/opentracker_bep41.txt", 20);
    assert_eq!(
        (&o["error"], &o["offset"]),
        (&"option_overrun".into(), &99.into())
    );
}

// ---- the generated vectors -------------------------------------------------------------

/// Where the generated files say they come from.
const GENERATED_BY: &str = "# generated by cli/tests/vectors.rs (generated_files) with the trackwire library's encoders;\n\
# regenerate: TRACKWIRE_BLESS=1 cargo test -p trackwire-cli --test vectors, then tests/vectors/regenerate.sh\n\
# format: t_rel_s dir src dst len hex\n";

/// Writes capture lines with a clock that advances a millisecond a line.
struct Capture {
    text: String,
    ms: u32,
}

impl Capture {
    fn new(what: &str) -> Capture {
        Capture {
            text: format!("{GENERATED_BY}# {what}\n"),
            ms: 0,
        }
    }

    fn note(&mut self, s: &str) {
        let _ = writeln!(self.text, "# {s}");
    }

    fn datagram(&mut self, dir: &str, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        self.ms += 1;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            self.text,
            "{}.{:06} {dir} {src} {dst} {} {hex}",
            self.ms / 1000,
            (self.ms % 1000) * 1000,
            bytes.len()
        );
    }

    /// A request from `client` and the tracker's reply.
    fn exchange(&mut self, client: SocketAddr, tracker: SocketAddr, req: &[u8], reply: &[u8]) {
        self.datagram("C>T", client, tracker, req);
        self.datagram("T>C", tracker, client, reply);
    }
}

const CID: ConnectionId = ConnectionId(0x0123_4567_89ab_cdef);

fn connect(tid: u32) -> (Vec<u8>, Vec<u8>) {
    let mut req = vec![0; 16];
    ConnectRequest {
        transaction_id: TransactionId(tid),
    }
    .encode(&mut req)
    .unwrap();
    let mut reply = vec![0; 16];
    ConnectResponse {
        transaction_id: TransactionId(tid),
        connection_id: CID,
    }
    .encode(&mut reply)
    .unwrap();
    (req, reply)
}

fn announce_request(tid: u32, event: AnnounceEvent, tail: AnnounceTail<'_>) -> Vec<u8> {
    let a = AnnounceRequest {
        connection_id: CID,
        transaction_id: TransactionId(tid),
        info_hash: InfoHash(*b"trackwire-vectors-01"),
        peer_id: PeerId(*b"-TW0001-generated001"),
        downloaded: 1_048_576,
        left: 3_145_728,
        uploaded: 524_288,
        event,
        ip: 0,
        key: 0x5eed_0001,
        num_want: 50,
        port: 51_413,
        tail,
    };
    let mut b = vec![0; a.encoded_len()];
    a.encode(&mut b).unwrap();
    b
}

fn announce_reply<P: trackwire::udp::CompactPeer + Copy>(
    tid: u32,
    family: AddressFamily,
    peers: &[P],
) -> Vec<u8> {
    let r = AnnounceResponse {
        transaction_id: TransactionId(tid),
        interval: 1800,
        leechers: peers.len() as u32,
        seeders: 1,
        peers: Peers::empty(family),
    };
    let mut b = vec![0; 20 + peers.len() * P::LEN];
    let n = r.encode_with_peers(peers.iter().copied(), &mut b).unwrap();
    b.truncate(n);
    b
}

fn error_reply(tid: u32, message: &[u8]) -> Vec<u8> {
    let e = ErrorResponse {
        transaction_id: TransactionId(tid),
        message,
    };
    let mut b = vec![0; e.encoded_len()];
    e.encode(&mut b).unwrap();
    b
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Every generated vector file: (file name in `udp/`, contents).
fn generated_files() -> Vec<(&'static str, String)> {
    let mut files = Vec::new();

    // IPv6 announce replies: 18-byte peers.
    let mut c =
        Capture::new("IPv6 announce replies: 18-byte peers (address and port), over IPv6 sockets");
    let (me, tr) = (addr("[2001:db8::2]:51413"), addr("[2001:db8::1]:6969"));
    let (req, reply) = connect(0x6000_0001);
    c.exchange(me, tr, &req, &reply);
    let peers: [SocketAddrV6; 3] = [
        "[2001:db8::10]:6881".parse().unwrap(),
        "[fe80::1]:51413".parse().unwrap(),
        "[::ffff:192.0.2.7]:6889".parse().unwrap(),
    ];
    c.note("announce; the reply lists 3 peers, the last an IPv4-mapped address");
    c.exchange(
        me,
        tr,
        &announce_request(0x6000_0002, AnnounceEvent::Started, AnnounceTail::None),
        &announce_reply(0x6000_0002, AddressFamily::Ipv6, &peers),
    );
    c.note("announce; the reply lists no peers (20 bytes, the same in both families)");
    c.exchange(
        me,
        tr,
        &announce_request(0x6000_0003, AnnounceEvent::None, AnnounceTail::None),
        &announce_reply::<SocketAddrV6>(0x6000_0003, AddressFamily::Ipv6, &[]),
    );
    let (me, tr) = (addr("[::1]:51413"), addr("[::1]:6969"));
    c.note("over loopback: one peer, [::1]:6881");
    c.exchange(
        me,
        tr,
        &announce_request(0x6000_0004, AnnounceEvent::Stopped, AnnounceTail::None),
        &announce_reply(
            0x6000_0004,
            AddressFamily::Ipv6,
            &["[::1]:6881".parse::<SocketAddrV6>().unwrap()],
        ),
    );
    files.push(("generated_ipv6_announce.txt", c.text));

    // URLData split over several BEP 41 options.
    let mut c =
        Capture::new("BEP 41 URLData split over several options; a tracker joins them in order");
    let (me, tr) = (addr("192.0.2.2:51413"), addr("192.0.2.1:6969"));
    let none = |tid| announce_reply::<SocketAddrV4>(tid, AddressFamily::Ipv4, &[]);
    let url: Vec<u8> = b"/announce?passkey="
        .iter()
        .copied()
        .chain((0..582).map(|i| b"0123456789abcdef"[i % 16]))
        .collect();
    let mut tail = vec![0; 700];
    let n = encode_url_data(&url, true, &mut tail).unwrap();
    c.note("a 600-byte URL as URLData 255 + 255 + 90, then EndOfOptions");
    c.exchange(
        me,
        tr,
        &announce_request(
            0x4100_0001,
            AnnounceEvent::Started,
            AnnounceTail::Raw(&tail[..n]),
        ),
        &none(0x4100_0001),
    );
    let mut t = vec![NOP, URL_DATA, 4];
    t.extend(b"/ann");
    t.extend([NOP, URL_DATA, 6]);
    t.extend(b"ounce?");
    t.extend([URL_DATA, 3]);
    t.extend(b"k=v");
    c.note("'/announce?k=v' as URLData '/ann', 'ounce?', 'k=v' with NOPs between, no EndOfOptions");
    c.exchange(
        me,
        tr,
        &announce_request(0x4100_0002, AnnounceEvent::None, AnnounceTail::Raw(&t)),
        &none(0x4100_0002),
    );
    let mut t = vec![URL_DATA, 0, URL_DATA, 1, b'/', URL_DATA, 0];
    t.extend([0x77, 2, 0xab, 0xcd, URL_DATA, 1, b'x', 0]);
    c.note("empty URLData options, an unknown option (type 0x77) between the parts, EndOfOptions");
    c.exchange(
        me,
        tr,
        &announce_request(0x4100_0003, AnnounceEvent::None, AnnounceTail::Raw(&t)),
        &none(0x4100_0003),
    );
    files.push(("generated_bep41_split.txt", c.text));

    // Legacy authentication (libtorrent/xbt `extensions`).
    let mut c = Capture::new(
        "legacy extensions (libtorrent/xbt): authentication and request string; decode with the legacy grammar",
    );
    c.text.push_str("# tail-grammar: legacy\n");
    let (me, tr) = (addr("192.0.2.2:51413"), addr("192.0.2.1:6969"));
    let alice = Authentication {
        username: ShortBytes::new(b"alice").unwrap(),
        passwd_hash: PasswdHash::Password(b"correct horse"),
    };
    let request_string = ShortBytes::new(b"/announce?passkey=abc").unwrap();
    c.note("authentication: user 'alice', the 8-byte hash computed over the datagram with password 'correct horse'");
    c.exchange(
        me,
        tr,
        &announce_request(
            0x1e9a_0001,
            AnnounceEvent::Started,
            AnnounceTail::Extensions(Extensions::new(Some(alice), None)),
        ),
        &none(0x1e9a_0001),
    );
    c.note("authentication and a request string");
    c.exchange(
        me,
        tr,
        &announce_request(
            0x1e9a_0002,
            AnnounceEvent::None,
            AnnounceTail::Extensions(Extensions::new(Some(alice), Some(request_string))),
        ),
        &none(0x1e9a_0002),
    );
    c.note("a request string alone; the tracker refuses the unauthenticated announce");
    c.exchange(
        me,
        tr,
        &announce_request(
            0x1e9a_0003,
            AnnounceEvent::None,
            AnnounceTail::Extensions(Extensions::new(None, Some(request_string))),
        ),
        &error_reply(0x1e9a_0003, b"authentication required"),
    );
    files.push(("generated_legacy_auth.txt", c.text));

    // Error replies with and without a trailing NUL.
    let mut c = Capture::new(
        "error replies (action 3): the message with and without a trailing NUL, and empty",
    );
    let (me, tr) = (addr("192.0.2.2:51413"), addr("192.0.2.1:6969"));
    let (req, _) = connect(0xe000_0001);
    c.note("a connect refused, without NUL");
    c.exchange(
        me,
        tr,
        &req,
        &error_reply(0xe000_0001, b"tracker is shutting down"),
    );
    let (req, _) = connect(0xe000_0002);
    c.note("a connect refused, with NUL");
    c.exchange(
        me,
        tr,
        &req,
        &error_reply(0xe000_0002, b"tracker is shutting down\0"),
    );
    c.note("an announce refused as opentracker does (with NUL)");
    c.exchange(
        me,
        tr,
        &announce_request(0xe000_0003, AnnounceEvent::None, AnnounceTail::None),
        &error_reply(0xe000_0003, b"Connection ID missmatch.\0"),
    );
    c.note("an announce refused without NUL");
    c.exchange(
        me,
        tr,
        &announce_request(0xe000_0004, AnnounceEvent::None, AnnounceTail::None),
        &error_reply(0xe000_0004, b"unregistered torrent"),
    );
    c.note("an empty message (8 bytes)");
    c.exchange(
        me,
        tr,
        &announce_request(0xe000_0005, AnnounceEvent::None, AnnounceTail::None),
        &error_reply(0xe000_0005, b""),
    );
    files.push(("generated_error_replies.txt", c.text));

    // Scrapes at the MTU limits.
    let mut c = Capture::new(
        "scrapes at the MTU limits: the most hashes whose request and reply fit one datagram",
    );
    let limits = [
        (
            "72 hashes: IPv4 at MTU 1500 (1472-byte payload)",
            addr("192.0.2.2:51413"),
            addr("192.0.2.1:6969"),
            max_scrape_hashes(payload_budget(MTU_ETHERNET, AddressFamily::Ipv4)),
            72,
        ),
        (
            "71 hashes: IPv6 at MTU 1500 (1452-byte payload)",
            addr("[2001:db8::2]:51413"),
            addr("[2001:db8::1]:6969"),
            max_scrape_hashes(payload_budget(MTU_ETHERNET, AddressFamily::Ipv6)),
            71,
        ),
        (
            "60 hashes: IPv6 at its minimum MTU 1280 (1232-byte payload)",
            addr("[2001:db8::2]:51413"),
            addr("[2001:db8::1]:6969"),
            max_scrape_hashes(payload_budget(MTU_IPV6_MIN, AddressFamily::Ipv6)),
            60,
        ),
    ];
    for (i, (what, me, tr, n, want)) in limits.into_iter().enumerate() {
        assert_eq!(n, want, "{what}");
        let hashes: Vec<InfoHash> = (0..n)
            .map(|k| {
                let mut h = [0u8; 20];
                h[0] = i as u8;
                h[19] = k as u8;
                h[1..19].copy_from_slice(b"scrape-mtu-vectors");
                InfoHash(h)
            })
            .collect();
        let tid = TransactionId(0x5c00_0001 + i as u32);
        let s = ScrapeRequest {
            connection_id: CID,
            transaction_id: tid,
            info_hashes: InfoHashes::from_slice(&hashes),
        };
        let mut req = vec![0; s.encoded_len()];
        s.encode(&mut req).unwrap();
        let rows = (0..n as u32).map(|k| ScrapeRow {
            complete: k,
            downloaded: k * 3,
            incomplete: 1000 - k,
        });
        let mut reply = vec![0; 8 + 12 * n];
        let len = ScrapeResponse::encode_with_rows(tid, rows, n, &mut reply).unwrap();
        reply.truncate(len);
        c.note(what);
        c.exchange(me, tr, &req, &reply);
    }
    files.push(("generated_scrape_mtu.txt", c.text));
    files
}

#[test]
fn generated_vector_files_are_current() {
    let bless = std::env::var_os("TRACKWIRE_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, text) in generated_files() {
        let path = vectors_dir().join("udp").join(name);
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from what cli/tests/vectors.rs generates: \
         TRACKWIRE_BLESS=1 cargo test -p trackwire-cli --test vectors, then tests/vectors/regenerate.sh"
    );
}
