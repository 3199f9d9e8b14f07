//! `trackwire decode`, `completions`, `--help` and every usage error: everything the tool
//! does without a network.

mod common;

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::procs::tool;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use serde_json::{json, Value};

/// What a run of the tool left: exit code, stdout as JSON lines, stderr.
struct Run {
    code: Option<i32>,
    values: Vec<Value>,
    stderr: String,
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = tool(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // Written from a thread: a tool that exits early must not block the test.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let values = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    Run {
        code: out.status.code(),
        values,
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs the tool, expecting the exit `code` and exactly one stderr line that starts with
/// `trackwire: ` and contains `needle`.
fn fails(args: &[&str], stdin: &[u8], code: i32, needle: &str) -> Run {
    let r = run(args, stdin);
    assert_eq!(r.code, Some(code), "{args:?}: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one stderr line, not {lines:?}");
    assert!(lines[0].starts_with("trackwire: "), "{args:?}: {lines:?}");
    assert!(
        lines[0].contains(needle),
        "{args:?}: `{needle}` not in {lines:?}"
    );
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "{args:?}: {}",
        r.stderr
    );
    r
}

// ---- decode udp: hex and capture lines -----------------------------------------------

#[test]
fn udp_prints_every_datagram_of_every_vector_file() {
    let all = common::all_datagrams();
    let mut files: Vec<&str> = all.iter().map(|d| d.file.as_str()).collect();
    files.dedup();
    assert!(files.len() > 5, "the vectors are there: {files:?}");
    for file in files {
        let text = std::fs::read(common::udp_vectors_dir().join(file)).unwrap();
        let r = run(&["decode", "udp"], &text);
        let datagrams: Vec<_> = all.iter().filter(|d| d.file == file).collect();
        assert_eq!(
            r.values.len(),
            datagrams.len(),
            "{file}: one object per datagram"
        );
        let mut failed = false;
        for (v, d) in r.values.iter().zip(&datagrams) {
            if let Some(kind) = v.get("error") {
                failed = true;
                assert!(kind.is_string(), "{file}:{}", d.line);
                assert_eq!(v["len"], d.bytes.len(), "{file}:{}", d.line);
                assert!(v["offset"].as_u64().unwrap() as usize <= d.bytes.len());
            } else {
                let t = v["type"].as_str().unwrap();
                assert_eq!(
                    t.ends_with("_request"),
                    d.from_client,
                    "{file}:{}: {t}",
                    d.line
                );
                assert!(v["transaction_id"].is_u64(), "{file}:{}", d.line);
            }
        }
        assert_eq!(
            r.code,
            Some(if failed { 1 } else { 0 }),
            "{file}: exit status"
        );
    }
}

#[test]
fn udp_announce_json_fields() {
    let hex = "36e71e1fd34275990000000188880003aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2d4c42303030312d7564706c6162706565723031000000000000000000000000000003e8000000000000000000000002000000004c414221000000321c87010102052f61626364020365666700";
    let r = run(&["decode", "udp", "--from", "client", hex], b"");
    assert_eq!(r.code, Some(0));
    let v = &r.values[0];
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "type",
            "connection_id",
            "action",
            "transaction_id",
            "info_hash",
            "peer_id",
            "downloaded",
            "left",
            "uploaded",
            "event",
            "ip",
            "key",
            "num_want",
            "port",
            "options",
            "url_data"
        ]
    );
    assert_eq!(v["connection_id"], "36e71e1fd3427599");
    assert_eq!(v["event"], "started");
    assert_eq!(v["ip"], "0.0.0.0");
    assert_eq!(v["url_data"], "/abcdefg");
    assert_eq!(v["options"][0], json!({"type": 1, "data": ""}));
    assert_eq!(v["options"][2], json!({"type": 2, "data": "2f61626364"}));
}

#[test]
fn udp_legacy_extensions_and_ipv6_flags() {
    // The 100-byte aria2-style announce under the legacy grammar: no extensions.
    let hex = "36e71e1fd34275990000000177770001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2d4c42303030312d7564706c6162706565723031000000000000000000000000000003e8000000000000000000000004000000004c414221000000321c210000";
    let r = run(&["decode", "udp", "--legacy-extensions", hex], b"");
    assert_eq!(r.code, Some(0));
    assert_eq!(r.values[0]["extensions"], json!({}));
    assert_eq!(r.values[0]["event"], "paused");
    // One 18-byte peer as IPv6, and the same bytes as IPv4.
    let reply = "0000000100000001000007080000000300000007000000000000000000000000000000011ae1";
    let v6 = run(
        &["decode", "udp", "--ipv6", "--from", "tracker", reply],
        b"",
    );
    assert_eq!(v6.values[0]["peers"], json!(["[::1]:6881"]));
    let v4 = run(&["decode", "udp", "--from", "tracker", reply], b"");
    assert_eq!(v4.values[0]["peers"].as_array().unwrap().len(), 3);
    // A bad datagram gives the error object, exit status 1 and one stderr line.
    let r = fails(
        &["decode", "udp", "--from", "tracker", "00000001000000"],
        b"",
        1,
        "1 datagram(s) did not decode",
    );
    assert_eq!(
        r.values[0],
        json!({"error": "truncated", "offset": 4, "len": 7, "needed": 1})
    );
}

#[test]
fn udp_bad_input() {
    // Bad hex in an argument: a usage error, and nothing decoded before it is printed.
    let r = fails(
        &["decode", "udp", "0000041727101980", "0g"],
        b"",
        64,
        "argument 2: not hex",
    );
    assert!(r.values.is_empty());
    fails(&["decode", "udp", "abc"], b"", 64, "not hex");
    // Bad capture lines on stdin: where, and why.
    fails(
        &["decode", "udp"],
        b"1 C>T 1.2.3.4:5\n",
        1,
        "line 1: not a capture line",
    );
    fails(
        &["decode", "udp"],
        b"# c\n1 X>Y 1.2.3.4:5 6.7.8.9:10 2 abcd\n",
        1,
        "line 2: unknown direction X>Y",
    );
    fails(
        &["decode", "udp"],
        b"1 C>T 1.2.3.4:5 6.7.8.9:10 2 zz\n",
        1,
        "line 1: not hex",
    );
    // Bad flags and values.
    fails(&["decode", "udp", "--bogus"], b"", 64, "--bogus");
    fails(
        &["decode", "udp", "--from", "server", "00"],
        b"",
        64,
        "server",
    );
    fails(
        &["decode", "udp", "--port", "6969", "00"],
        b"",
        64,
        "--port",
    );
    fails(
        &["decode", "udp", "--pcap", "x", "--port", "0"],
        b"",
        64,
        "--port",
    );
}

// ---- decode ctcs ------------------------------------------------------------------------

#[test]
fn ctcs_every_transcript() {
    let dir = common::vectors_dir().join("ctcs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // Beside each transcript lies its expected results (`NAME.expected.jsonl`).
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    assert!(names.len() > 3, "the transcripts are there: {names:?}");
    // Connection numbers restart in every file, so each runs in its own process.
    for name in names {
        let input = std::fs::read(dir.join(&name)).unwrap();
        let r = run(&["decode", "ctcs"], &input);
        let (code, values) = (r.code, &r.values);
        let errors: Vec<_> = values.iter().filter(|v| v.get("error").is_some()).collect();
        if name == "p3_config.txt" {
            // The deliberately malformed `CTCONFIG max_peers` (see tests/it/ctcs_vectors.rs).
            assert_eq!(code, Some(1), "{name}");
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0]["error"], "missing_field");
            assert_eq!(errors[0]["offset"], 18);
        } else {
            assert_eq!(code, Some(0), "{name}: {errors:?}");
        }
        for v in values {
            assert!(v["dir"] == "C" || v["dir"] == "S", "{v}");
            assert!(v["conn"].is_u64(), "{v}");
            assert!(v.get("type").is_some() || v.get("error").is_some(), "{v}");
        }
        if name == "p3_session.txt" {
            let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
            assert_eq!(
                &types[..4],
                ["PROTOCOL", "CTORRENT", "PROTOCOL", "CTSTATUS"]
            );
            assert!(types.contains(&"CTFILESTART") && types.contains(&"CTPEERSDONE"));
            let start = values.iter().find(|v| v["type"] == "CTFILESTART").unwrap();
            assert_eq!(start["marker"], "v3");
            let status = &values[3];
            for k in [
                "seeders",
                "total_seeders",
                "leechers",
                "total_leechers",
                "connecting",
                "n_have",
                "n_total",
                "n_avail",
                "dl_rate",
                "ul_rate",
                "dl_total",
                "ul_total",
                "dl_limit",
                "ul_limit",
                "cache_used",
            ] {
                assert!(status[k].is_number(), "{k} in {status}");
            }
            assert_eq!(status["n_have"], 2);
            let cfg = values.iter().find(|v| v["type"] == "CTCONFIG").unwrap();
            assert_eq!(cfg["name"], "verbose");
            assert_eq!(cfg["value_type"], "B");
            assert_eq!(cfg["short_desc"], "Verbose output [-v]");
        }
        if name == "p2_session.txt" {
            let last = values.last().unwrap();
            assert_eq!(last["type"], "CTCONFIG");
            assert_eq!(last["maxpeers"], 60);
            assert!(last["verbose"].is_null() && last["cache_size"].is_null());
            let files = values.iter().find(|v| v["type"] == "CTFILES").unwrap();
            assert_eq!(files["marker"], "legacy");
            let p = values
                .iter()
                .find(|v| v["type"] == "PROTOCOL" && v["dir"] == "S")
                .unwrap();
            assert_eq!((&p["version"], &p["negotiated"]), (&json!(2), &json!(2)));
            let client_cfg = values
                .iter()
                .find(|v| v["type"] == "CTCONFIG" && v["dir"] == "C")
                .unwrap();
            assert_eq!(client_cfg["cache_size"], 1);
        }
        if name == "p1_session.txt" {
            let last = values.last().unwrap();
            assert_eq!(last["maxpeers"], 70);
            assert!(last["exitzero"].is_null() && last["soft_quit"].is_null());
            let st = values
                .iter()
                .rev()
                .find(|v| v["type"] == "CTSTATUS")
                .unwrap();
            assert!(st.get("total_seeders").is_none() && st.get("cache_used").is_none());
        }
        if name == "p3_limits.txt" {
            let u: Vec<_> = values.iter().filter(|v| v["type"] == "SETULIMIT").collect();
            // The number as written, and the one dnh3.3.2 applies ((int)strtod).
            assert_eq!(u[1]["ul_limit"], "1.5e3");
            assert_eq!(u[1]["ul_limit_applied"], 1500);
            assert_eq!(u[2]["ul_limit"], "2048.9");
            assert_eq!(u[2]["ul_limit_applied"], 2048);
            // The CTBW that follows shows what the client really applied.
            let bw: Vec<_> = values.iter().filter(|v| v["type"] == "CTBW").collect();
            assert!(bw.iter().any(|b| b["ul_limit"] == 2048), "{bw:?}");
            let d: Vec<_> = values.iter().filter(|v| v["type"] == "SETDLIMIT").collect();
            assert_eq!(d[0]["dl_limit"], "20480");
            assert_eq!(d[0]["dl_limit_applied"], 20480);
            let p = values
                .iter()
                .find(|v| v["type"] == "PROTOCOL" && v["dir"] == "S")
                .unwrap();
            assert_eq!(p["negotiated"], 3);
        }
        if name == "auth.txt" {
            let a = values.iter().find(|v| v["type"] == "AUTH").unwrap();
            assert_eq!(a["password"], "s3cret pw");
            let e = values.iter().find(|v| v["type"] == "ERROR").unwrap();
            assert_eq!(e["message"], "Authentication failed");
        }
    }
}

#[test]
fn ctcs_unknown_lines_errors_and_flags() {
    let input = b"# comment\n\
S> 0.1 c1 CTQUITTER\\n\n\
S> 0.2 c1 SENDST\n\
S> 0.3 c1 ATUS\\r\\n\n\
S> 0.4 c1 BAD\\0LINE\\n\n\
C> 0.5 c1 CTSTATUS 0/0 13/13/13 0,0 0,0 0,0\\n\n";
    let r = run(&["decode", "ctcs", "--protocol", "1"], input);
    assert_eq!(r.code, Some(1));
    let values = &r.values;
    assert_eq!(values[0]["type"], "UNKNOWN");
    assert_eq!(values[0]["line"], "CTQUITTER");
    // dnh3.3.2 matches keywords by prefix: it quits.
    assert_eq!(values[0]["client_reads"], json!({"type": "CTQUIT"}));
    // Read exactly, the line is what the client reads: no second reading.
    assert!(values[1].get("client_reads").is_none(), "{}", values[1]);
    assert_eq!(values[1]["type"], "SENDSTATUS");
    assert_eq!(values[2]["error"], "nul_byte");
    assert_eq!(values[2]["offset"], 3);
    assert_eq!(values[3]["type"], "CTSTATUS");
    assert_eq!(values[3]["n_total"], 13);
    // A version outside 1..=3 is a usage error now (it was exit 2).
    fails(&["decode", "ctcs", "--protocol", "7"], b"", 64, "1..=3");
    fails(
        &["decode", "ctcs"],
        b"C> 0.1 c1 CTBW 1,2 3,4\\n\nnot a transcript line\n",
        1,
        "line 2: not a transcript line",
    );
}

#[test]
fn ctcs_both_readings_of_limits_protocol_and_markers() {
    let input = b"S> 0.1 c1 PROTOCOL 0004\\n\n\
C> 0.2 c1 CTFILES\\n\n\
C> 0.3 c1 CTPDONE\\n\n\
C> 0.4 c1 CTPEERSTART\\n\n\
S> 0.5 c1 SETDLIMIT 1.5e3\\n\n\
S> 0.6 c1 SETULIMIT abc\\n\n\
S> 0.7 c1 SETDLIMIT1000\\n\n";
    let r = run(&["decode", "ctcs"], input);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v = &r.values;
    assert_eq!(v[0]["version"], 4);
    assert_eq!(v[0]["negotiated"], 3);
    // Under 3 (what the server announced), the legacy spelling is still a marker.
    assert_eq!(
        v[1],
        json!({"dir": "C", "conn": 1, "type": "CTFILES", "marker": "legacy"})
    );
    assert_eq!(v[2]["type"], "CTPDONE");
    assert_eq!(v[2]["marker"], "legacy");
    assert_eq!(v[3]["marker"], "v3");
    assert_eq!(v[4]["dl_limit"], "1.5e3");
    assert_eq!(v[4]["dl_limit_applied"], 1500);
    assert_eq!(v[5]["ul_limit"], "abc");
    assert_eq!(v[5]["ul_limit_applied"], 0);
    // Exactly read, an unknown keyword; the client reads its argument from byte 10.
    assert_eq!(v[6]["type"], "UNKNOWN");
    assert_eq!(
        v[6]["client_reads"],
        json!({"type": "SETDLIMIT", "dl_limit": "000", "dl_limit_applied": 0})
    );
}

#[test]
fn ctcs_final_message_without_line_end_is_reported() {
    let r = fails(
        &["decode", "ctcs"],
        b"C> 0.1 c1 CTBW 1,2 3,4\\n\nS> 0.2 c1 SENDSTATUS\\n\nC> 0.3 c1 CTBW 5,6 7,8",
        1,
        "1 line(s) did not decode",
    );
    assert_eq!(r.values.len(), 3, "{:?}", r.values);
    assert_eq!(r.values[1]["type"], "SENDSTATUS");
    assert_eq!(
        r.values[2],
        json!({"dir": "C", "conn": 1, "error": "unterminated_line", "offset": 12, "line": "CTBW 5,6 7,8"})
    );
}

#[test]
fn ctcs_decoding_is_linear_in_one_long_transcript_line() {
    // 200 000 messages on one transcript line: quadratic compaction moved about 360 GB
    // here and never finished; linear decoding takes seconds even unoptimised.
    let n = 200_000;
    let mut input = b"C> 0.1 c1 ".to_vec();
    for _ in 0..n {
        input.extend_from_slice(b"CTBW 10,20 30,40\\n");
    }
    input.push(b'\n');
    let start = Instant::now();
    let r = run(&["decode", "ctcs"], &input);
    let took = start.elapsed();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.values.len(), n);
    assert_eq!(r.values[n - 1]["ul_limit"], 40);
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

// ---- decode udp --pcap ------------------------------------------------------------------

/// A connect request (transaction id 7) and its reply.
const CONNECT_REQUEST: &str = "000004172710198000000000";
fn connect_request() -> Vec<u8> {
    let mut b = hex(CONNECT_REQUEST);
    b.extend_from_slice(&7u32.to_be_bytes());
    b
}
fn connect_response() -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0];
    b.extend_from_slice(&7u32.to_be_bytes());
    b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    b
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A scratch file path under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Ethernet frames: IPv4 client → tracker, tracker → client, IPv6 both ways, a TCP
/// segment and a datagram on another port (both skipped with --port), and an ARP frame.
fn ethernet_frames() -> Vec<Vec<u8>> {
    let mac = [0u8; 6];
    let mut frames = Vec::new();
    let udp4 = |from: u16, to: u16, payload: &[u8], swap: bool| {
        let (a, b) = if swap {
            ([10, 0, 0, 2], [10, 0, 0, 1])
        } else {
            ([10, 0, 0, 1], [10, 0, 0, 2])
        };
        let builder = PacketBuilder::ethernet2(mac, mac)
            .ipv4(a, b, 64)
            .udp(from, to);
        let mut f = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut f, payload).unwrap();
        f
    };
    frames.push(udp4(40000, 6969, &connect_request(), false));
    frames.push(udp4(6969, 40000, &connect_response(), true));
    let v6a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let v6b = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    for (from, to, a, b, payload) in [
        (40001, 6969, v6a, v6b, connect_request()),
        (6969, 40001, v6b, v6a, connect_response()),
    ] {
        let builder = PacketBuilder::ethernet2(mac, mac)
            .ipv6(a, b, 64)
            .udp(from, to);
        let mut f = Vec::new();
        builder.write(&mut f, &payload).unwrap();
        frames.push(f);
    }
    let tcp = PacketBuilder::ethernet2(mac, mac)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40002, 6969, 1, 1000);
    let mut f = Vec::new();
    tcp.write(&mut f, b"GET /announce").unwrap();
    frames.push(f);
    frames.push(udp4(53, 40003, b"a DNS reply", true));
    // ARP: EtherType 0x0806 and a 28-byte body.
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0u8; 20]);
    frames.push(arp);
    frames
}

fn write_pcap(path: &Path, link: DataLink, frames: &[Vec<u8>]) {
    let file = std::fs::File::create(path).unwrap();
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = Duration::new(1_700_000_000 + i as u64, 250_000_000);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
}

/// Checks the four datagrams of [`ethernet_frames`] as decoded with `--port 6969`.
fn check_four(values: &[Value], with_ts: bool) {
    assert_eq!(values.len(), 4, "{values:?}");
    assert_eq!(values[0]["from"], "client");
    assert_eq!(values[0]["type"], "connect_request");
    assert_eq!(values[0]["transaction_id"], 7);
    assert_eq!(values[0]["src"], "10.0.0.1:40000");
    assert_eq!(values[0]["dst"], "10.0.0.2:6969");
    assert_eq!(values[1]["from"], "tracker");
    assert_eq!(values[1]["type"], "connect_response");
    assert_eq!(values[1]["connection_id"], "0102030405060708");
    assert_eq!(values[2]["src"], "[2001:db8::1]:40001");
    assert_eq!(values[2]["type"], "connect_request");
    assert_eq!(values[3]["src"], "[2001:db8::2]:6969");
    assert_eq!(values[3]["type"], "connect_response");
    if with_ts {
        assert_eq!(values[0]["ts"], 1_700_000_000.25);
        assert_eq!(values[3]["ts"], 1_700_000_003.25);
    }
}

#[test]
fn pcap_ethernet_with_port_decodes_both_directions_and_skips_the_rest() {
    let path = scratch("eth.pcap");
    write_pcap(&path, DataLink::ETHERNET, &ethernet_frames());
    let p = path.to_str().unwrap();
    let r = run(&["decode", "udp", "--pcap", p, "--port", "6969"], b"");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    check_four(&r.values, true);
    assert_eq!(
        r.stderr.trim(),
        "trackwire: skipped 3 frame(s): 2 not UDP over IPv4/IPv6, 0 malformed, 1 on other ports"
    );
    // Without --port, every UDP datagram is read as --from says; the reply does not
    // decode as a request, and says so.
    let r = run(&["decode", "udp", "--pcap", p, "--from", "tracker"], b"");
    assert_eq!(r.values.len(), 5);
    assert_eq!(r.values[1]["type"], "connect_response");
    assert!(r.values[0].get("error").is_some());
    assert_eq!(r.code, Some(1));
}

#[test]
fn pcapng_with_cooked_and_raw_interfaces() {
    let path = scratch("mixed.pcapng");
    let frames = ethernet_frames();
    let mut w = PcapNgWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for link in [DataLink::ETHERNET, DataLink::LINUX_SLL2, DataLink::RAW] {
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: link,
            snaplen: 0,
            options: vec![],
        })
        .unwrap();
    }
    // The same four datagrams: two over Ethernet, the IPv6 pair as Linux cooked capture
    // v2 and raw IP (the Ethernet header of 14 bytes dropped).
    let sll2 = |ip: &[u8], proto: [u8; 2]| {
        let mut f = proto.to_vec();
        f.extend_from_slice(&[0u8; 18]);
        f.extend_from_slice(ip);
        f
    };
    let packets: Vec<(u32, Vec<u8>)> = vec![
        (0, frames[0].clone()),
        (0, frames[1].clone()),
        (1, sll2(&frames[2][14..], [0x86, 0xdd])),
        (2, frames[3][14..].to_vec()),
        (1, vec![0x86, 0xdd, 0, 0]),
    ];
    for (i, (iface, data)) in packets.iter().enumerate() {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: *iface,
            timestamp: Duration::new(1_700_000_000 + i as u64, 250_000_000),
            original_len: data.len() as u32,
            data: Cow::Borrowed(data),
            options: vec![],
        })
        .unwrap();
    }
    drop(w);
    let r = run(
        &[
            "decode",
            "udp",
            "--pcap",
            path.to_str().unwrap(),
            "--port",
            "6969",
        ],
        b"",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    check_four(&r.values, true);
    assert!(
        r.stderr
            .contains("skipped 1 frame(s): 0 not UDP over IPv4/IPv6, 1 malformed"),
        "{}",
        r.stderr
    );
}

#[test]
fn pcap_bad_files() {
    let path = scratch("whole.pcap");
    write_pcap(&path, DataLink::ETHERNET, &ethernet_frames()[..2]);
    let whole = std::fs::read(&path).unwrap();
    // Cut inside the second record: the first datagram is printed, then the error.
    let cut = scratch("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let r = fails(
        &[
            "decode",
            "udp",
            "--pcap",
            cut.to_str().unwrap(),
            "--port",
            "6969",
        ],
        b"",
        1,
        "corrupt or truncated after 1 frame(s)",
    );
    assert_eq!(r.values.len(), 1);
    assert_eq!(r.values[0]["type"], "connect_request");
    // Not a capture at all, an empty file, a missing file, a directory.
    let junk = scratch("junk.pcap");
    std::fs::write(&junk, b"this is not a capture file at all").unwrap();
    fails(
        &["decode", "udp", "--pcap", junk.to_str().unwrap()],
        b"",
        1,
        "not a pcap or pcapng file",
    );
    let empty = scratch("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    fails(
        &["decode", "udp", "--pcap", empty.to_str().unwrap()],
        b"",
        1,
        "not a pcap or pcapng file",
    );
    let missing = scratch("missing.pcap");
    fails(
        &["decode", "udp", "--pcap", missing.to_str().unwrap()],
        b"",
        1,
        "cannot read",
    );
    let dir = scratch("");
    fails(
        &["decode", "udp", "--pcap", dir.to_str().unwrap()],
        b"",
        1,
        "",
    );
    // A link type the tool does not read: every frame skipped, none decoded.
    let odd = scratch("odd.pcap");
    write_pcap(&odd, DataLink::IEEE802_11, &ethernet_frames());
    let r = run(&["decode", "udp", "--pcap", odd.to_str().unwrap()], b"");
    assert_eq!(r.code, Some(0));
    assert!(r.values.is_empty());
    assert!(
        r.stderr.contains("skipped 7 frame(s): 7 not UDP"),
        "{}",
        r.stderr
    );
}

// ---- closed pipes -----------------------------------------------------------------------

/// `trackwire … | head -1`: the tool ends quietly (exit 0, nothing on stderr) when its
/// reader goes away.
fn quiet_when_the_pipe_closes(args: &[&str], input: Vec<u8>) {
    let mut child = tool(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is gone now: the tool's next writes fail with EPIPE.
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
}

#[test]
fn closed_stdout_ends_quietly() {
    let mut udp = Vec::new();
    for _ in 0..100_000 {
        udp.extend_from_slice(b"1 C>T 1.2.3.4:5 6.7.8.9:10 16 00000417271019800000000000000007\n");
    }
    quiet_when_the_pipe_closes(&["decode", "udp"], udp);
    let mut ctcs = Vec::new();
    for _ in 0..100_000 {
        ctcs.extend_from_slice(b"C> 0.1 c1 CTBW 10,20 30,40\\n\n");
    }
    quiet_when_the_pipe_closes(&["decode", "ctcs"], ctcs);
}

// ---- help, completions, usage errors -------------------------------------------------------

#[test]
fn every_subcommand_answers_help() {
    for args in [
        &[][..],
        &["decode"],
        &["decode", "udp"],
        &["decode", "ctcs"],
        &["announce"],
        &["check"],
        &["tracker"],
        &["ctcs"],
        &["ctcs", "serve"],
        &["ctcs", "simulate"],
        &["ctcs", "check"],
        &["completions"],
    ] {
        let out = tool(args).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text.contains("Usage: trackwire"), "{args:?}: {text}");
    }
    // Exit codes are documented where they apply.
    for args in [
        &[][..],
        &["decode", "udp"],
        &["announce"],
        &["check"],
        &["tracker"],
        &["ctcs", "serve"],
    ] {
        let out = tool(args).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Exit status:") && text.contains("64"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = tool(&["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("trackwire") && text.contains("simulate"),
            "{shell}"
        );
    }
    fails(&["completions", "tcsh"], b"", 64, "tcsh");
}

#[test]
fn usage_errors_exit_64_with_one_line() {
    let hash = "ab".repeat(20);
    for (args, needle) in [
        (vec!["bogus"], "bogus"),
        (vec!["tracker"], "--bind"),
        (
            vec!["tracker", "--bind", "127.0.0.1:0", "--interval", "0"],
            "1..=86400",
        ),
        (
            vec!["tracker", "--bind", "127.0.0.1:0", "--max-age", "1"],
            "120..=65000",
        ),
        (
            vec![
                "tracker",
                "--bind",
                "127.0.0.1:0",
                "--max-age",
                "18446744073709551615",
            ],
            "120..=65000",
        ),
        (
            vec!["tracker", "--bind", "127.0.0.1:0", "--peer-timeout", "0"],
            "1..=1000000",
        ),
        (
            vec!["tracker", "--bind", "no-such-host.invalid:6969"],
            "--bind no-such-host.invalid:6969",
        ),
        (vec!["tracker", "--bind", "127.0.0.1"], "--bind 127.0.0.1"),
        (
            vec![
                "announce",
                "udp://127.0.0.1:1",
                "--info-hash",
                &hash,
                "--timeout",
                "0",
            ],
            "1..=86400",
        ),
        (
            vec!["announce", "udp://127.0.0.1:1", "--info-hash", "abc"],
            "40 hex digits",
        ),
        (vec!["announce", "udp://127.0.0.1:1"], "--info-hash"),
        // A URL that does not parse is that tracker's `not_working` status, not a usage
        // error (cli/tests/announce.rs checks it).
        (
            vec![
                "announce",
                "udp://127.0.0.1:1",
                "--info-hash",
                &hash,
                "--num-want",
                "-2",
            ],
            "--num-want",
        ),
        (vec!["check", "127.0.0.1:1"], "udp://"),
        (
            vec!["check", "udp://127.0.0.1:1", "--wait-ms", "0"],
            "1..=60000",
        ),
        // Refused before anything is bound or created (no --db needed).
        (
            vec![
                "ctcs",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--status-interval",
                "1e20",
            ],
            "from 1s to 3600s",
        ),
        (
            vec![
                "ctcs",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--status-interval",
                "0",
            ],
            "out of range (1s to 3600s)",
        ),
        (
            vec![
                "ctcs",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--status-interval",
                "NaN",
            ],
            "from 1s to 3600s",
        ),
        (
            vec![
                "ctcs",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--protocol",
                "4",
            ],
            "1..=3",
        ),
        (vec!["ctcs", "serve", "--poll", "1"], "--poll"),
        (
            vec![
                "ctcs",
                "simulate",
                "--server",
                "127.0.0.1:1",
                "--peers",
                "501",
            ],
            "0..=500",
        ),
        (
            vec![
                "ctcs",
                "simulate",
                "--server",
                "127.0.0.1:1",
                "--files",
                "0",
            ],
            "1..=200",
        ),
        (vec!["ctcs", "check"], "--server"),
    ] {
        fails(&args, b"", 64, needle);
    }
    // `trackwire decode` alone lists what can follow, on stderr, and is a usage error.
    let out = tool(&["decode"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("udp"));
}
