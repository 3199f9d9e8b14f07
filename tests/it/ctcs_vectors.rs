//! Every line of every shipped CTCS transcript decodes under the version in force on its
//! connection (or gets the typed error listed below) and re-encodes byte for byte.

use crate::common;

use std::net::Ipv4Addr;

use common::{frame_transcript, parse_transcript, transcripts, Framed};
use trackwire::ctcs::{
    ClientMessage, ConfigType, CtConfigSet, Marker, PeerIdText, Positional, ServerMessage, Spacing,
    Version,
};
use trackwire::DecodeErrorKind;

/// The deliberately malformed lines in the transcripts: (file, direction, line) →
/// (kind, offset).
const EXPECTED_ERRORS: &[(&str, char, &[u8], DecodeErrorKind, usize)] = &[
    // dnh3.3.2 answers "Malformed or invalid input": a value needs a blank after the name.
    (
        "p3_config.txt",
        'S',
        b"CTCONFIG max_peers",
        DecodeErrorKind::MissingField,
        18,
    ),
];

fn framed(file: &str) -> Vec<Framed> {
    let text = transcripts()
        .into_iter()
        .find(|(name, _)| name == file)
        .unwrap()
        .1;
    frame_transcript(&parse_transcript(&text))
}

fn line_of(f: &Framed) -> &[u8] {
    f.line.as_deref().expect("framing error")
}

#[test]
fn every_transcript_line_decodes_and_round_trips() {
    let mut checked = 0;
    let mut errors_seen = 0;
    for (file, text) in transcripts() {
        for f in frame_transcript(&parse_transcript(&text)) {
            let line = f
                .line
                .as_deref()
                .unwrap_or_else(|e| panic!("{file}: framing error {e}"));
            let expected = EXPECTED_ERRORS
                .iter()
                .find(|(n, d, l, _, _)| *n == file && *d == f.dir && *l == line);
            let mut buf = vec![0u8; line.len() + 64];
            let (result, encoded) = if f.dir == 'C' {
                match ClientMessage::decode(line, f.version) {
                    Ok(m) => {
                        assert!(
                            !matches!(m, ClientMessage::Unknown(_)),
                            "{file}: unknown client line {:?}",
                            String::from_utf8_lossy(line)
                        );
                        let n = m.encode(f.version, &mut buf).unwrap();
                        assert_eq!(n, m.encoded_len(f.version));
                        (Ok(()), buf[..n].to_vec())
                    }
                    Err(e) => (Err(e), vec![]),
                }
            } else {
                match ServerMessage::decode(line, f.version) {
                    Ok(m) => {
                        assert!(
                            !matches!(m, ServerMessage::Unknown(_)),
                            "{file}: unknown server line {:?}",
                            String::from_utf8_lossy(line)
                        );
                        let n = m.encode(f.version, &mut buf).unwrap();
                        assert_eq!(n, m.encoded_len(f.version));
                        (Ok(()), buf[..n].to_vec())
                    }
                    Err(e) => (Err(e), vec![]),
                }
            };
            match (result, expected) {
                (Ok(()), None) => {
                    let mut want = line.to_vec();
                    want.push(b'\n');
                    assert_eq!(
                        String::from_utf8_lossy(&encoded),
                        String::from_utf8_lossy(&want),
                        "{file}: round trip under v{}",
                        f.version
                    );
                    checked += 1;
                }
                (Err(e), Some((_, _, _, kind, offset))) => {
                    assert_eq!((e.kind(), e.offset()), (*kind, *offset), "{file}");
                    errors_seen += 1;
                }
                (Ok(()), Some(_)) => panic!("{file}: expected an error for {line:?}"),
                (Err(e), None) => panic!(
                    "{file}: {:?} under v{}: {e}",
                    String::from_utf8_lossy(line),
                    f.version
                ),
            }
        }
    }
    assert_eq!(errors_seen, EXPECTED_ERRORS.len());
    // 311 transcript lines, of which two are the empty lines after AUTH (skipped by
    // framing) and one is in EXPECTED_ERRORS.
    assert_eq!(checked, 308);
}

#[test]
fn versions_follow_server_protocol_lines() {
    let p2 = framed("p2_session.txt");
    // Client lines before the server's PROTOCOL 0002 are v3, later ones v2.
    let status: Vec<_> = p2
        .iter()
        .filter(|f| line_of(f).starts_with(b"CTSTATUS"))
        .map(|f| f.version)
        .collect();
    assert_eq!(status, [Version::V3, Version::V2]);
    let p1 = framed("p1_session.txt");
    let last = p1.last().unwrap();
    assert_eq!((last.dir, last.version), ('S', Version::V1));
}

#[test]
fn auth_and_torrent_fields() {
    let auth = framed("auth.txt");
    // The empty line after AUTH is skipped by framing: two connections, 5 client lines each minus one status.
    let lines: Vec<_> = auth.iter().filter(|f| f.dir == 'C').map(line_of).collect();
    assert_eq!(lines[1], b"AUTH s3cret pw");
    let Ok(ClientMessage::Auth(a)) = ClientMessage::decode(lines[1], Version::V3) else {
        panic!()
    };
    assert_eq!(a.password, "s3cret pw");
    let Ok(ClientMessage::CtTorrent(t)) = ClientMessage::decode(lines[2], Version::V3) else {
        panic!()
    };
    assert_eq!(t.peer_id, "-CD0303-0xAB665271DE2B6D69A9FDDAFF");
    assert_eq!(t.start_timestamp, 1795312318);
    assert_eq!(t.current_timestamp, 1795312318);
    assert_eq!(t.filename, "single.torrent");
    let id = PeerIdText::parse(t.peer_id.as_bytes()).unwrap();
    assert_eq!(&id[..8], b"-CD0303-");
    assert_eq!(&id[8..], b"\xabfRq\xde+mi\xa9\xfd\xda\xff");

    let err = auth
        .iter()
        .find(|f| f.dir == 'S' && line_of(f).starts_with(b"ERROR"))
        .unwrap();
    let Ok(ServerMessage::Error(e)) = ServerMessage::decode(line_of(err), err.version) else {
        panic!()
    };
    assert_eq!(e.message, "Authentication failed");

    let leech = framed("leech_live.txt");
    let Ok(ClientMessage::CtTorrent(t)) = ClientMessage::decode(line_of(&leech[1]), Version::V3)
    else {
        panic!()
    };
    assert_eq!(t.filename, "multi dir.torrent");
    assert_eq!(
        &PeerIdText::parse(t.peer_id.as_bytes()).unwrap()[..6],
        b"-XY 1-"
    );
}

#[test]
fn status_bw_detail_file_peer_fields() {
    let leech = framed("leech_live.txt");
    let decode = |prefix: &[u8], nth: usize| {
        let f = leech
            .iter()
            .filter(|f| f.dir == 'C' && line_of(f).starts_with(prefix))
            .nth(nth)
            .unwrap();
        ClientMessage::decode(line_of(f), f.version).unwrap()
    };
    let ClientMessage::CtStatus(s) = decode(b"CTSTATUS ", 2) else {
        panic!()
    };
    // CTSTATUS 1:0/0:1/0 13/13/13 4095,0 800000,0 0,2048 112
    assert_eq!(
        (
            s.seeders,
            s.total_seeders,
            s.leechers,
            s.total_leechers,
            s.connecting
        ),
        (1, 0, 0, 1, 0)
    );
    assert_eq!((s.n_have, s.n_total, s.n_avail), (13, 13, 13));
    assert_eq!(
        (s.dl_rate, s.ul_rate, s.dl_total, s.ul_total),
        (4095, 0, 800000, 0)
    );
    assert_eq!((s.dl_limit, s.ul_limit, s.cache_used), (0, 2048, 112));
    let ClientMessage::CtBw(b) = decode(b"CTBW ", 0) else {
        panic!()
    };
    assert_eq!(
        (b.dl_rate, b.ul_rate, b.dl_limit, b.ul_limit),
        (243, 0, 8192, 0)
    );
    let ClientMessage::CtDetail(d) = decode(b"CTDETAIL ", 3) else {
        panic!()
    };
    assert_eq!(
        (
            d.torrent_size,
            d.piece_size,
            d.current_timestamp,
            d.seed_timestamp
        ),
        (800000, 65536, 1795312573, 1795312570)
    );
    let ClientMessage::CtFile(f) = decode(b"CTFILE ", 5) else {
        panic!()
    };
    // CTFILE 2 1 1 6 0 6 300000 a file.txt
    assert_eq!(
        (
            f.fileno,
            f.priority,
            f.current_priority,
            f.n_pieces,
            f.n_have,
            f.n_available
        ),
        (2, 1, 1, 6, 0, 6)
    );
    assert_eq!(
        (f.filesize, f.filename.as_bytes()),
        (300000, &b"a file.txt"[..])
    );
    let ClientMessage::CtPeer(p) = decode(b"CTPEER ", 0) else {
        panic!()
    };
    assert_eq!(p.peer_id, "-CD0303-UQT0x83BD63685CB64BB4BF");
    assert_eq!(p.address, Ipv4Addr::new(127, 0, 0, 1));
    assert!(p.choke_interest.remote_unchoked && p.choke_interest.local_interested);
    assert!(!p.choke_interest.local_unchoked && !p.choke_interest.remote_interested);
    assert_eq!(
        (p.dl_rate, p.ul_rate, p.dl_total, p.ul_total, p.n_pieces),
        (8157, 0, 16384, 0, 13)
    );
    assert_eq!(
        decode(b"CTFILESTART", 0),
        ClientMessage::CtFileStart(Marker::V3)
    );
    assert_eq!(
        decode(b"CTPEERSDONE", 0),
        ClientMessage::CtPeersDone(Marker::V3)
    );

    let p1 = framed("p1_session.txt");
    let old: Vec<_> = p1
        .iter()
        .filter(|f| f.dir == 'C' && f.version == Version::V1)
        .map(|f| ClientMessage::decode(line_of(f), f.version).unwrap())
        .collect();
    let ClientMessage::CtStatus(s) = old[0] else {
        panic!()
    };
    assert_eq!(
        (s.seeders, s.leechers, s.n_have, s.cache_used),
        (0, 0, 13, 0)
    );
    assert_eq!(old[2], ClientMessage::CtFileStart(Marker::Legacy));
    let ClientMessage::CtFile(f) = old[3] else {
        panic!()
    };
    assert_eq!(
        (f.fileno, f.n_pieces, f.n_have, f.n_available, f.filesize),
        (1, 8, 8, 0, 500000)
    );
    assert_eq!(f.filename, "b.bin");
    assert_eq!(old[3].keyword(), "CTFILE");
    assert_eq!(old[2].keyword(), "CTFILES");
    let ClientMessage::CtConfigValues(c) = old[8] else {
        panic!("{:?}", old[8])
    };
    assert_eq!(c.verbose, Positional::Set(1));
    assert_eq!(c.seed_ratio.set().unwrap().as_str(), "0.000000");
    assert_eq!(
        (c.exitzero, c.soft_quit, c.cache_size),
        (Positional::Set(0), Positional::Set(0), Positional::Keep)
    );

    let p2 = framed("p2_session.txt");
    let f = p2
        .iter()
        .find(|f| line_of(f) == b"CTFILE 2 6 6 6 300000 a file.txt")
        .unwrap();
    assert_eq!(f.version, Version::V2);
    let ClientMessage::CtFile(file) = ClientMessage::decode(line_of(f), f.version).unwrap() else {
        panic!()
    };
    assert_eq!(
        (file.n_available, file.filename.as_bytes()),
        (6, &b"a file.txt"[..])
    );
    let f = p2
        .iter()
        .find(|f| f.dir == 'C' && line_of(f).starts_with(b"CTCONFIG"))
        .unwrap();
    let ClientMessage::CtConfigValues(c) = ClientMessage::decode(line_of(f), f.version).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (c.maxpeers, c.cache_size, c.exitzero),
        (Positional::Set(100), Positional::Set(1), Positional::Keep)
    );
}

#[test]
fn config_fields_both_directions() {
    let cfg = framed("p3_config.txt");
    let client: Vec<_> = cfg
        .iter()
        .filter(|f| f.dir == 'C' && line_of(f).starts_with(b"CTCONFIG "))
        .map(|f| ClientMessage::decode(line_of(f), f.version).unwrap())
        .collect();
    let ClientMessage::CtConfig(c) = client[2] else {
        panic!()
    };
    assert_eq!(c.name, "seed_ratio");
    assert_eq!(c.value_type, ConfigType::Float);
    assert_eq!(c.range, "0");
    assert_eq!(c.value, "0.00");
    assert_eq!(c.short_desc, "Seed ratio [-E]");
    assert_eq!(c.long_desc, "Upload:Download");
    let ClientMessage::CtConfig(c) = client[3] else {
        panic!()
    };
    assert_eq!(c.bounds(), Some((20, 1000)));
    assert_eq!(c.long_desc, "Current peers: 0");
    let ClientMessage::CtConfig(c) = client[7] else {
        panic!()
    };
    assert_eq!(
        (c.value_type, c.long_desc.is_empty()),
        (ConfigType::String, true)
    );

    let server: Vec<_> = cfg
        .iter()
        .filter(|f| f.dir == 'S' && line_of(f).starts_with(b"CTCONFIG"))
        .filter_map(|f| ServerMessage::decode(line_of(f), f.version).ok())
        .collect();
    let ServerMessage::CtConfig(first) = server[0] else {
        panic!()
    };
    assert_eq!(
        (first.name.as_bytes(), first.value.as_bytes(), first.spacing),
        (&b"max_peers"[..], &b"50"[..], Spacing::default())
    );
    let odd = server
        .iter()
        .find_map(|m| match m {
            ServerMessage::CtConfig(c) if c.spacing != Spacing::default() => Some(*c),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        odd,
        CtConfigSet {
            name: "max_peers".try_into().unwrap(),
            value: "60  ".try_into().unwrap(),
            spacing: Spacing {
                extra_before_name: 2,
                extra_after_name: 3
            },
        }
    );
    let lv = server
        .iter()
        .find_map(|m| match m {
            ServerMessage::CtConfig(c) if c.value.as_bytes().contains(&b':') => Some(*c),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (lv.name.as_bytes(), lv.value.as_bytes()),
        (&b"seed_ratio"[..], &b"4:2.50"[..])
    );
    assert!(server
        .iter()
        .any(|m| matches!(m, ServerMessage::CtConfig(c) if c.value == "3 extra words")));

    let leech = framed("leech_live.txt");
    let fl = leech
        .iter()
        .find(|f| line_of(f) == b"CTCONFIG file_list 2,1")
        .unwrap();
    let ServerMessage::CtConfig(c) = ServerMessage::decode(line_of(fl), fl.version).unwrap() else {
        panic!()
    };
    assert_eq!(c.value, "2,1");

    let p2 = framed("p2_session.txt");
    let last = p2.last().unwrap();
    let ServerMessage::CtConfigValues(v) =
        ServerMessage::decode(line_of(last), last.version).unwrap()
    else {
        panic!()
    };
    assert_eq!(v.maxpeers, Positional::Set(60));
    assert_eq!(
        (v.verbose, v.seed_ratio, v.cache_size, v.pause),
        (
            Positional::Keep,
            Positional::Keep,
            Positional::Keep,
            Positional::Keep
        )
    );
    let p1 = framed("p1_session.txt");
    let last = p1.last().unwrap();
    let ServerMessage::CtConfigValues(v) =
        ServerMessage::decode(line_of(last), last.version).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (v.maxpeers, v.soft_quit),
        (Positional::Set(70), Positional::Keep)
    );
}

/// The server's CTCONFIG lines of p3_config, applied with dnh3.3.2's rules to the name and
/// value as decoded, predict the max_peers and min_peers of every config block the
/// client sent afterwards: the decoded fields are what the client acted on (the line
/// with blanks around the name, the value with extra words).
#[test]
fn decoded_server_ctconfig_predicts_the_clients_next_config_block() {
    /// C's `atoi`: leading white space, a sign, digits.
    fn atoi(b: &[u8]) -> i64 {
        let s = std::str::from_utf8(b).unwrap().trim_start();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let n: i64 = digits
            .bytes()
            .take_while(u8::is_ascii_digit)
            .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
        if neg {
            -n
        } else {
            n
        }
    }
    let mut max_peers = None;
    let mut min_peers = None;
    let mut blocks_checked = 0;
    let mut rejected = 0;
    for f in framed("p3_config.txt") {
        let line = line_of(&f);
        if f.dir == 'S' {
            let Ok(ServerMessage::CtConfig(c)) = ServerMessage::decode(line, f.version) else {
                continue;
            };
            let v = atoi(c.value.as_bytes());
            // Set_Config's range checks; out of range is "Malformed or invalid input".
            match c.name.as_bytes() {
                b"max_peers" if (20..=1000).contains(&v) => max_peers = Some(v),
                b"min_peers" if (1..=1000).contains(&v) => min_peers = Some(v),
                b"max_peers" | b"min_peers" => rejected += 1,
                _ => {}
            }
            continue;
        }
        let Ok(ClientMessage::CtConfig(c)) = ClientMessage::decode(line, f.version) else {
            continue;
        };
        let want = match c.name.as_bytes() {
            b"max_peers" => max_peers,
            b"min_peers" => min_peers,
            _ => continue,
        };
        if let Some(want) = want {
            assert_eq!(atoi(c.value.as_bytes()), want, "{}", c.name);
            blocks_checked += 1;
        }
    }
    // Two config blocks follow server sets (the first one precedes them), two options
    // checked in each; `max_peers 5` was refused.
    assert_eq!((blocks_checked, rejected), (4, 1));
    assert_eq!((max_peers, min_peers), (Some(60), Some(3)));
}

#[test]
fn limits_and_commands() {
    let lim = framed("p3_limits.txt");
    let applied: Vec<(String, i32)> = lim
        .iter()
        .filter(|f| f.dir == 'S')
        .filter_map(
            |f| match ServerMessage::decode(line_of(f), f.version).unwrap() {
                ServerMessage::SetDlimit(s) => Some((format!("D {}", s.dl_limit), s.applied())),
                ServerMessage::SetUlimit(s) => Some((format!("U {}", s.ul_limit), s.applied())),
                _ => None,
            },
        )
        .collect();
    let want: Vec<(String, i32)> = [
        ("U 10240", 10240),
        ("D 20480", 20480),
        ("D 51200", 51200),
        ("U 1.5e3", 1500),
        ("U 2048.9", 2048),
        ("D 0", 0),
        ("U -5", -5),
        ("U abc", 0),
        ("U 4096", 4096),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b))
    .collect();
    assert_eq!(applied, want);
    // What the client echoed in CTBW matches the applied upload limits.
    let ul: Vec<i32> = lim
        .iter()
        .filter(|f| f.dir == 'C')
        .filter_map(
            |f| match ClientMessage::decode(line_of(f), f.version).unwrap() {
                ClientMessage::CtBw(b) => Some(b.ul_limit),
                _ => None,
            },
        )
        .collect();
    assert_eq!(ul, [10240, 10240, 1500, 2048, 2048, -5, 0, 4096]);

    let p3 = framed("p3_session.txt");
    let kinds: Vec<&str> = p3
        .iter()
        .filter(|f| f.dir == 'S')
        .map(|f| {
            ServerMessage::decode(line_of(f), f.version)
                .unwrap()
                .keyword()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "PROTOCOL",
            "SENDSTATUS",
            "SENDDETAIL",
            "SENDPEERS",
            "SENDCONF",
            "CTQUIT"
        ]
    );
    let ServerMessage::Protocol(p) = ServerMessage::decode(line_of(&p3[2]), Version::V3).unwrap()
    else {
        panic!()
    };
    assert_eq!((p.version, p.negotiated()), (3, Version::V3));
}
