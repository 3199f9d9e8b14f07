//! Every message in every version: canonical lines decode and re-encode byte for byte,
//! and malformed lines give the expected typed error at the expected offset.

use trackwire::ctcs::{
    ClientMessage, CtConfigSet, KeywordMatch, Marker, Positional, ServerMessage, SetDlimit,
    SetUlimit, Spacing, Text, Version, Word,
};
use trackwire::DecodeErrorKind::{self, *};

const V0: Version = Version::V0;
const V1: Version = Version::V1;
const V2: Version = Version::V2;
const V3: Version = Version::V3;
const ALL: [Version; 4] = [V0, V1, V2, V3];

fn client_rt(line: &str, versions: &[Version]) {
    for &v in versions {
        let m = ClientMessage::decode(line.as_bytes(), v)
            .unwrap_or_else(|e| panic!("{line:?} under v{v}: {e}"));
        assert!(
            !matches!(m, ClientMessage::Unknown(_)),
            "{line:?} under v{v}"
        );
        let mut buf = [0u8; 256];
        let n = m.encode(v, &mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            format!("{line}\n"),
            "v{v}"
        );
    }
}

fn server_rt(line: &str, versions: &[Version]) {
    for &v in versions {
        let m = ServerMessage::decode(line.as_bytes(), v)
            .unwrap_or_else(|e| panic!("{line:?} under v{v}: {e}"));
        assert!(
            !matches!(m, ServerMessage::Unknown(_)),
            "{line:?} under v{v}"
        );
        let mut buf = [0u8; 256];
        let n = m.encode(v, &mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            format!("{line}\n"),
            "v{v}"
        );
    }
}

fn client_err(line: &[u8], v: Version, kind: DecodeErrorKind, offset: usize) {
    let e = ClientMessage::decode(line, v).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (kind, offset),
        "{:?}",
        String::from_utf8_lossy(line)
    );
}

fn server_err(line: &[u8], v: Version, kind: DecodeErrorKind, offset: usize) {
    let e = ServerMessage::decode(line, v).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (kind, offset),
        "{:?}",
        String::from_utf8_lossy(line)
    );
}

#[test]
fn client_messages_every_version() {
    client_rt("PROTOCOL 0003", &ALL);
    client_rt("AUTH s3cret pw", &ALL);
    client_rt("AUTH ", &ALL);
    client_rt(
        "CTORRENT -CD0303-qD0x8CA11D17DD63466A759F 1795312213 1795312213 multi dir.torrent",
        &ALL,
    );
    client_rt(
        "CTSTATUS 1:0/0:1/0 13/13/13 4095,0 800000,0 0,2048 112",
        &[V0, V2, V3],
    );
    client_rt("CTSTATUS 0/0 13/13/13 0,0 0,0 0,0", &[V1]);
    client_rt("CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,-5 0", &[V3]);
    client_rt("CTBW 8190,0 4096,2048", &ALL);
    client_rt("CTINFO 2 TRACKER WARNING: harness warning", &ALL);
    client_rt("CTINFO 1 ", &ALL);
    client_rt("CTDETAIL 1048576 262144 1795312162 0", &ALL);
    client_rt("CTFILESTART", &[V3]);
    client_rt("CTFILES", &[V0, V1, V2]);
    client_rt("CTFILE 1 2 1 8 0 8 500000 b.bin", &[V3]);
    client_rt("CTFILE 2 6 6 6 300000 a file.txt", &[V2]);
    client_rt("CTFILE 2 6 6 300000 a file.txt", &[V0, V1]);
    client_rt("CTFILESDONE", &[V3]);
    client_rt("CTFDONE", &[V0, V1, V2]);
    client_rt("CTPEERSTART", &[V3]);
    client_rt("CTPEERS", &[V0, V1, V2]);
    client_rt(
        "CTPEER -CD0303-UQT0x83BD63685CB64BB4BF 127.0.0.1 UiCn 8157 0 16384 0 13",
        &ALL,
    );
    client_rt(
        "CTPEER -CD0303-x;C\\;0x91B87B592FCC05 10.0.0.255 CnUi 0 0 0 18446744073709551615 0",
        &ALL,
    );
    client_rt("CTPEERSDONE", &[V3]);
    client_rt("CTPDONE", &[V0, V1, V2]);
    client_rt("CTCONFIGSTART", &[V3]);
    client_rt(
        "CTCONFIG seed_ratio F 0 4:0.00 15:Seed ratio [-E] 15:Upload:Download",
        &[V3],
    );
    client_rt(
        "CTCONFIG user_exit S 4096 0: 23:Completion command [-X] 0:",
        &[V3],
    );
    client_rt("CTCONFIG 1 72 0.000000 100 1 0 1 0", &[V2]);
    // The client writes its verbose level with %d; only a server's line is read at fixed
    // offsets, so a wider field is fine in this direction.
    client_rt("CTCONFIG 10 72 0.000000 100 1 0 1 0", &[V2]);
    client_rt("CTCONFIG 1 72 0.000000 100 1 0 0 0 0", &[V0, V1]);
    client_rt("CTCONFIGDONE", &[V3]);
}

#[test]
fn block_keywords_of_every_version_are_recognised_under_any_version() {
    // A reconnected dnh3.3.2 keeps the version negotiated before while it announces
    // PROTOCOL 0003 again, so a server may get either spelling whatever it negotiated.
    let cases: [(&str, ClientMessage<'static>); 10] = [
        ("CTFILESTART", ClientMessage::CtFileStart(Marker::V3)),
        ("CTFILES", ClientMessage::CtFileStart(Marker::Legacy)),
        ("CTFILESDONE", ClientMessage::CtFilesDone(Marker::V3)),
        ("CTFDONE", ClientMessage::CtFilesDone(Marker::Legacy)),
        ("CTPEERSTART", ClientMessage::CtPeerStart(Marker::V3)),
        ("CTPEERS", ClientMessage::CtPeerStart(Marker::Legacy)),
        ("CTPEERSDONE", ClientMessage::CtPeersDone(Marker::V3)),
        ("CTPDONE", ClientMessage::CtPeersDone(Marker::Legacy)),
        ("CTCONFIGSTART", ClientMessage::CtConfigStart),
        ("CTCONFIGDONE", ClientMessage::CtConfigDone),
    ];
    for (line, want) in cases {
        for v in ALL {
            assert_eq!(
                ClientMessage::decode(line.as_bytes(), v),
                Ok(want),
                "{line} v{v}"
            );
        }
        assert_eq!(want.keyword(), line);
        // The recorded spelling is written back under every version.
        client_rt(line, &ALL);
    }
    // Sessions spell markers for the version they hold.
    assert_eq!(Marker::for_version(V3), Marker::V3);
    for v in [V0, V1, V2] {
        assert_eq!(Marker::for_version(v), Marker::Legacy);
    }
    // A legacy block seen while version 3 is believed holds version-2 items.
    assert_eq!(
        (Marker::Legacy.version(V3), Marker::Legacy.version(V1)),
        (V2, V1)
    );
    assert_eq!(Marker::V3.version(V0), V3);
    client_err(b"CTFDONE now", V3, ExtraField, 7);
    client_err(b"CTPEERS 1", V1, ExtraField, 7);
    for (line, v) in [
        ("CTFILESX", V3),
        ("CTPEERSTARTED", V2),
        ("with an embedded newline", V3),
        ("ctstatus 0/0", V3),
        ("ctfiles", V1),
    ] {
        assert!(
            matches!(ClientMessage::decode(line.as_bytes(), v), Ok(ClientMessage::Unknown(t)) if t == line),
            "{line} v{v}"
        );
    }
}

#[test]
fn client_malformed() {
    // Missing fields: the offset is the end of the line.
    client_err(
        b"CTSTATUS 1:0/0:1/0 13/13/13 4095,0 800000,0 0,2048",
        V3,
        MissingField,
        50,
    );
    client_err(b"CTBW 1,2", V3, MissingField, 8);
    client_err(b"CTORRENT id 1 2", V3, MissingField, 15);
    client_err(b"AUTH", V3, MissingField, 4);
    client_err(b"CTFILE 1 2 3 4", V1, MissingField, 14);
    client_err(b"PROTOCOL", V3, MissingField, 8);
    // Extra fields: the offset is the separator before them.
    client_err(b"CTSTATUS 0/0 13/13/13 0,0 0,0 0,0 7", V1, ExtraField, 33);
    client_err(b"CTBW 1,2 3,4 5", V3, ExtraField, 12);
    client_err(b"CTFILESTART now", V3, ExtraField, 11);
    client_err(b"CTPEER id 1.2.3.4 UiCn 1 2 3 4 5 6", V3, ExtraField, 32);
    client_err(b"CTCONFIG a B 0 1:1 0: 0: x", V3, ExtraField, 24);
    // Non-numbers and overflow: the offset is the number's start.
    client_err(b"CTBW 1,x 3,4", V3, InvalidNumber, 7);
    client_err(b"CTDETAIL 1 2147483648 0 0", V3, InvalidNumber, 11);
    client_err(b"CTFILE 1 8 8 -1 b.bin", V1, InvalidNumber, 13);
    client_err(b"CTINFO two words", V3, InvalidNumber, 7);
    client_err(
        b"CTSTATUS 1:0/0:1/0 13/13/13 4095,0 800000,0 0,2048 1k",
        V3,
        InvalidNumber,
        51,
    );
    client_err(b"CTBW  1,2 3,4", V3, InvalidNumber, 5);
    client_err(b"CTCONFIG 1 72 0.000000 100 1 0 1 x", V2, InvalidNumber, 33);
    client_err(b"CTCONFIG 1 72 .5 100 1 0 1 0", V2, InvalidNumber, 14);
    // Wrong shapes.
    client_err(b"CTSTATUS 1/0 13/13/13 0,0 0,0 0,0 0", V3, InvalidField, 10);
    client_err(b"CTBW 1,2,3 4,5", V3, InvalidField, 8);
    client_err(b"CTPEER id 1.2.3 UiCn 1 2 3 4 5", V3, InvalidField, 10);
    client_err(b"CTPEER id 1.2.3.4 UiXn 1 2 3 4 5", V3, InvalidField, 18);
    client_err(b"CTPEER id 1.2.3.4 UiC 1 2 3 4 5", V3, InvalidField, 18);
    client_err(b"CTCONFIG a X 0 1:1 0: 0:", V3, InvalidField, 11);
    client_err(b"CTCONFIG a B 0 1 0: 0:", V3, InvalidNumber, 15);
    client_err(b"PROTOCOL 00x3", V3, InvalidVersion, 9);
    client_err(b"PROTOCOL 99999999999", V3, InvalidVersion, 9);
    // `len` past the end (the dnh3.3.2 4295-byte truncation).
    client_err(
        b"CTCONFIG user_exit S 4096 4250:echo 23:Completio",
        V3,
        LengthOverrun,
        26,
    );
    client_err(b"CTCONFIG a B 0 1:1 0: 5:abc", V3, LengthOverrun, 22);
    // NUL and line breaks inside a line.
    client_err(
        b"\0CTCONFIG out_normal S 4096 6:stdout 20:Normal/status output 0:",
        V3,
        NulByte,
        0,
    );
    client_err(b"CTINFO 2 a\0b", V3, NulByte, 10);
    client_err(b"CTINFO 2 a\nb", V3, InvalidField, 10);
}

#[test]
fn over_long_lines_are_framing_errors() {
    use trackwire::ctcs::{split_line, Status, DEFAULT_MAX_LINE_LEN};
    let mut long = vec![b'A'; DEFAULT_MAX_LINE_LEN];
    long.push(b'\n');
    assert!(matches!(
        split_line(&long, DEFAULT_MAX_LINE_LEN).status,
        Status::Complete(Ok(_))
    ));
    long.insert(0, b'B');
    let s = split_line(&long, DEFAULT_MAX_LINE_LEN);
    let Status::Complete(Err(e)) = s.status else {
        panic!()
    };
    assert_eq!(
        (e.kind(), e.offset(), s.consumed),
        (LineTooLong, DEFAULT_MAX_LINE_LEN, long.len())
    );
}

#[test]
fn server_messages_every_version() {
    server_rt("PROTOCOL 0001", &ALL);
    server_rt("ERROR Authentication failed", &ALL);
    for cmd in [
        "CTQUIT",
        "CTRESTART",
        "CTUPDATE",
        "SENDSTATUS",
        "SENDPEERS",
        "SENDDETAIL",
        "SENDCONF",
    ] {
        server_rt(cmd, &ALL);
    }
    server_rt("SETDLIMIT 20480", &ALL);
    server_rt("SETULIMIT 1.5e3", &ALL);
    server_rt("SETULIMIT ", &ALL);
    server_rt("CTCONFIG max_peers 50", &[V3]);
    server_rt("CTCONFIG file_list ", &[V3]);
    server_rt("CTCONFIG   max_peers    60  ", &[V3]);
    server_rt("CTCONFIG seed_ratio 4:2.50", &[V3]);
    server_rt("CTCONFIG . . . 60 . . . .", &[V2]);
    server_rt("CTCONFIG 1 72 0.000000 100 1 0 1 0", &[V2]);
    server_rt("CTCONFIG . . . 70 . . . . .", &[V1]);
    server_rt("CTCONFIG . . . 70 . . .", &[V0]);

    let ServerMessage::CtConfigValues(v) =
        ServerMessage::decode(b"CTCONFIG 0 . 1.5 . . 2 . 1", V2).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (v.verbose, v.fileno, v.pause),
        (Positional::Set(0), Positional::Set(2), Positional::Set(1))
    );
    assert_eq!(v.seed_ratio.set().unwrap().to_f64(), 1.5);
    // The protocol line as the client reads it.
    let ServerMessage::Protocol(p) = ServerMessage::decode(b"PROTOCOL 0004\r\n", V3).unwrap()
    else {
        panic!()
    };
    assert_eq!((p.version, p.negotiated()), (4, V3));
    let ServerMessage::Protocol(p) = ServerMessage::decode(b"PROTOCOL 2", V3).unwrap() else {
        panic!()
    };
    assert_eq!(p.negotiated(), V2);
    let mut buf = [0u8; 32];
    let n = ServerMessage::Protocol(p).encode(V3, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"PROTOCOL 0002\n");
}

#[test]
fn server_malformed() {
    server_err(b"CTCONFIG max_peers", V3, MissingField, 18);
    server_err(b"CTCONFIG", V3, MissingField, 8);
    server_err(b"CTCONFIG   ", V3, MissingField, 11);
    server_err(b"CTCONFIG . . . 60 . . .", V2, MissingField, 23);
    server_err(b"CTCONFIG . . . 60 . . . . .", V2, ExtraField, 25);
    server_err(b"CTCONFIG . . . 70 . . . .", V1, MissingField, 25);
    server_err(b"CTCONFIG . . . 70 . . . .", V0, ExtraField, 23);
    server_err(b"CTCONFIG . . x 60 . . . .", V2, InvalidNumber, 13);
    server_err(b"CTCONFIG . . . 6o . . . .", V2, InvalidNumber, 15);
    // dnh3.3.2 reads the seed time at offset 11: a wider verbose field shifts the rest.
    server_err(b"CTCONFIG 10 72 1.5 100 1 0 1 0", V2, InvalidField, 9);
    server_err(b"CTCONFIG -1 . . . . . . . .", V1, InvalidField, 9);
    server_err(b"CTCONFIG 12 . . . . . .", V0, InvalidField, 9);
    server_err(b"SENDSTATUS now", V3, ExtraField, 10);
    server_err(b"CTQUIT ", V3, ExtraField, 6);
    server_err(b"SETDLIMIT", V3, MissingField, 9);
    server_err(b"ERROR", V3, MissingField, 5);
    server_err(b"PROTOCOL garbage", V3, InvalidVersion, 9);
    server_err(b"PROTOCOL 0003 extra", V3, ExtraField, 13);
    server_err(b"SEND\0STATUS", V3, NulByte, 4);
    server_err(b"SENDSTATUS\rSENDPEERS", V3, InvalidField, 10);
    for unknown in [
        "CTQUITTER",
        "sendstatus",
        " SENDSTATUS",
        "SENDSTATUSXYZ",
        "HELLO",
    ] {
        assert!(
            matches!(ServerMessage::decode(unknown.as_bytes(), V3), Ok(ServerMessage::Unknown(t)) if t == unknown),
            "{unknown}"
        );
    }
}

#[test]
fn prefix_matching_mimics_the_client() {
    fn p(line: &str, v: Version) -> ServerMessage<'_> {
        ServerMessage::decode_with(line.as_bytes(), v, KeywordMatch::Prefix).unwrap()
    }
    assert_eq!(p("CTQUITTER", V3), ServerMessage::CtQuit);
    assert_eq!(p("SENDSTATUSXYZ", V3), ServerMessage::SendStatus);
    assert_eq!(p("SENDDETAIL please", V3), ServerMessage::SendDetail);
    assert!(matches!(p("sendstatus", V3), ServerMessage::Unknown(_)));
    assert!(matches!(p(" SENDSTATUS", V3), ServerMessage::Unknown(_)));
    assert!(matches!(p("ERROR x", V3), ServerMessage::Error(_)));
    let ServerMessage::SetDlimit(s) = p("SETDLIMIT1000", V3) else {
        panic!()
    };
    assert_eq!((s.dl_limit.as_bytes(), s.applied()), (&b"000"[..], 0));
    // The client would read the argument past the end of the line.
    let e = ServerMessage::decode_with(b"SETULIMIT", V3, KeywordMatch::Prefix).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (MissingField, 9));
    let ServerMessage::Protocol(pr) = p("PROTOCOL garbage", V3) else {
        panic!()
    };
    assert_eq!(pr.negotiated(), V0);
    let ServerMessage::Protocol(pr) = p("PROTOCOL 0004", V3) else {
        panic!()
    };
    assert_eq!(pr.negotiated(), V3);
    let ServerMessage::CtConfig(c) = p("CTCONFIGX max_peers 60", V3) else {
        panic!()
    };
    assert_eq!(
        (c.name.as_bytes(), c.value.as_bytes()),
        (&b"max_peers"[..], &b"60"[..])
    );
    let e = ServerMessage::decode_with(b"CTCONFIG", V3, KeywordMatch::Prefix).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (MissingField, 8));
}

#[test]
fn constructed_values_encode_canonically() {
    let m = ServerMessage::CtConfig(CtConfigSet {
        name: Word::new(b"max_peers").unwrap(),
        value: Text::new(b"60").unwrap(),
        spacing: Spacing::default(),
    });
    let mut buf = [0u8; 64];
    let n = m.encode(V3, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"CTCONFIG max_peers 60\n");
    assert_eq!(m.encoded_len(V3), n);
    // Values the client would choke on cannot be built.
    assert!(Word::new(b"").is_err());
    assert!(Text::new(b"a\0b").is_err());
    assert!(Text::new(b"a\rb").is_err());
    assert!(Word::new(b"two words").is_err());
    // Too small a buffer is refused and untouched.
    let mut small = [7u8; 10];
    assert_eq!(m.encode(V3, &mut small).unwrap_err().required(), 22);
    assert_eq!(small, [7; 10]);
}

/// The exact CTCONFIG lines of the p3_config transcript, as dnh3.3.2 acted on them (the
/// next SENDCONF showed the option changed, or the client answered with a CTINFO 2).
#[test]
fn server_ctconfig_name_and_value_are_what_the_client_reads() {
    fn set(line: &str) -> CtConfigSet<'_> {
        match ServerMessage::decode(line.as_bytes(), V3) {
            Ok(ServerMessage::CtConfig(c)) => c,
            other => panic!("{line:?}: {other:?}"),
        }
    }
    for (line, name, value, spacing) in [
        ("CTCONFIG max_peers 50", "max_peers", "50", (0, 0)),
        // Applied as max_peers 60: strtok skips every blank before the name, and the
        // client skips every blank after it; trailing blanks stay in the value.
        ("CTCONFIG   max_peers    60  ", "max_peers", "60  ", (2, 3)),
        // Two blanks after the keyword do not give an empty name (measured from
        // dnh3.3.2: `CTCONFIG  max_peers 70` set max_peers to 70).
        ("CTCONFIG  max_peers 70", "max_peers", "70", (1, 0)),
        // Raw value, not len:value: the client set the ratio to 4.
        ("CTCONFIG seed_ratio 4:2.50", "seed_ratio", "4:2.50", (0, 0)),
        (
            "CTCONFIG min_peers 3 extra words",
            "min_peers",
            "3 extra words",
            (0, 0),
        ),
        ("CTCONFIG verbose -1", "verbose", "-1", (0, 0)),
        ("CTCONFIG nosuch_option 1", "nosuch_option", "1", (0, 0)),
        // Clears the file list: an empty value after the one blank.
        ("CTCONFIG file_list ", "file_list", "", (0, 0)),
        ("CTCONFIG file_list    ", "file_list", "", (0, 3)),
        // Only the space byte separates (strtok(..., " ")): a tab is part of a field.
        // Measured from dnh3.3.2: "Unknown config option min_peers\t3 from CTCS".
        ("CTCONFIG min_peers\t3 4", "min_peers\t3", "4", (0, 0)),
        ("CTCONFIG max_peers\t60 x", "max_peers\t60", "x", (0, 0)),
        ("CTCONFIG user_exit \tcmd", "user_exit", "\tcmd", (0, 0)),
    ] {
        let c = set(line);
        assert_eq!(
            (c.name.as_bytes(), c.value.as_bytes()),
            (name.as_bytes(), value.as_bytes()),
            "{line:?}"
        );
        assert_eq!(
            (c.spacing.extra_before_name, c.spacing.extra_after_name),
            spacing,
            "{line:?}"
        );
        server_rt(line, &[V3]);
    }
    // A tab after the keyword: not CTCONFIG to an exact reader; the client's prefix
    // match takes the name after the first space, which is then the last word and has
    // no blank after it ("Malformed or invalid input").
    assert!(matches!(
        ServerMessage::decode(b"CTCONFIG\tmax_peers 60", V3),
        Ok(ServerMessage::Unknown(_))
    ));
    let e = ServerMessage::decode_with(b"CTCONFIG\tmax_peers 60", V3, KeywordMatch::Prefix)
        .unwrap_err();
    assert_eq!((e.kind(), e.offset()), (MissingField, 21));
}

/// SETDLIMIT/SETULIMIT: the number as written, from byte 10, and the limit applied.
#[test]
fn set_limits_report_the_text_and_the_applied_limit() {
    fn dl(line: &[u8], matching: KeywordMatch) -> SetDlimit<'_> {
        match ServerMessage::decode_with(line, V3, matching) {
            Ok(ServerMessage::SetDlimit(s)) => s,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
        }
    }
    fn ul(line: &[u8], matching: KeywordMatch) -> SetUlimit<'_> {
        match ServerMessage::decode_with(line, V3, matching) {
            Ok(ServerMessage::SetUlimit(s)) => s,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
        }
    }
    use KeywordMatch::{Exact, Prefix};
    // The p3_limits transcript's lines, with the limit the client's next CTBW showed.
    for (line, text, applied) in [
        (&b"SETULIMIT 10240"[..], &b"10240"[..], 10240),
        (b"SETULIMIT 1.5e3", b"1.5e3", 1500),
        (b"SETULIMIT 2048.9", b"2048.9", 2048),
        (b"SETULIMIT -5", b"-5", -5),
        (b"SETULIMIT abc", b"abc", 0),
        (b"SETULIMIT 4096", b"4096", 4096),
    ] {
        for matching in [Exact, Prefix] {
            let s = ul(line, matching);
            assert_eq!((s.ul_limit.as_bytes(), s.applied()), (text, applied));
            // The text is the line from byte 10 on, where the client's strtod starts.
            assert_eq!(Some(s.ul_limit.as_bytes()), line.get(10..));
        }
    }
    for (line, text, applied) in [
        (&b"SETDLIMIT 20480"[..], &b"20480"[..], 20480),
        (b"SETDLIMIT 0", b"0", 0),
        // strtod skips leading white space: two blanks still set 5 (measured from
        // dnh3.3.2: the next CTBW showed 5).
        (b"SETDLIMIT  5", b" 5", 5),
        (b"SETDLIMIT 2048.9", b"2048.9", 2048),
    ] {
        for matching in [Exact, Prefix] {
            let s = dl(line, matching);
            assert_eq!((s.dl_limit.as_bytes(), s.applied()), (text, applied));
            assert_eq!(Some(s.dl_limit.as_bytes()), line.get(10..));
        }
        server_rt(std::str::from_utf8(line).unwrap(), &ALL);
    }
    // The byte after the keyword is skipped whatever it is: a tab separates as well
    // (measured from dnh3.3.2: `SETULIMIT\t7` made the next CTBW show 7), and with no
    // separator the first digit is lost.
    for (line, text, applied) in [
        (&b"SETDLIMIT\t7"[..], &b"7"[..], 7),
        (b"SETDLIMIT1000", b"000", 0),
        (b"SETDLIMIT\t 8", b" 8", 8),
        (b"SETDLIMITX", b"", 0),
    ] {
        let s = dl(line, Prefix);
        assert_eq!((s.dl_limit.as_bytes(), s.applied()), (text, applied));
        assert_eq!(Some(s.dl_limit.as_bytes()), line.get(10..));
        // An exact reader does not see SETDLIMIT there at all.
        assert!(matches!(
            ServerMessage::decode(line, V3),
            Ok(ServerMessage::Unknown(_))
        ));
    }
    let s = ul(b"SETULIMIT\t7", Prefix);
    assert_eq!((s.ul_limit.as_bytes(), s.applied()), (&b"7"[..], 7));
    let s = ul(b"SETULIMIT\t-3.9", Prefix);
    assert_eq!((s.ul_limit.as_bytes(), s.applied()), (&b"-3.9"[..], -3));
    // With nothing after the keyword the client would read past the end of the line.
    for line in [&b"SETDLIMIT"[..], b"SETULIMIT"] {
        let e = ServerMessage::decode_with(line, V3, Prefix).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (MissingField, 9));
    }
}

#[test]
fn protocol_is_read_from_byte_9() {
    fn p(line: &[u8], matching: KeywordMatch) -> Result<u32, DecodeErrorKind> {
        match ServerMessage::decode_with(line, V3, matching) {
            Ok(ServerMessage::Protocol(p)) => Ok(u32::from(p.negotiated().get())),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.kind()),
        }
    }
    use KeywordMatch::{Exact, Prefix};
    for matching in [Exact, Prefix] {
        assert_eq!(p(b"PROTOCOL 0002", matching), Ok(2));
        assert_eq!(p(b"PROTOCOL 0004", matching), Ok(3));
        assert_eq!(p(b"PROTOCOL 2", matching), Ok(2));
    }
    // atoi at byte 9 whatever byte 8 is, leading blanks skipped.
    assert_eq!(p(b"PROTOCOLX1", Prefix), Ok(1));
    assert_eq!(p(b"PROTOCOL  2", Prefix), Ok(2));
    assert_eq!(p(b"PROTOCOL 0000", Prefix), Ok(0));
    assert_eq!(p(b"PROTOCOL garbage", Prefix), Ok(0));
    // An exact reader refuses what is not four digits' worth of number.
    assert_eq!(p(b"PROTOCOL  2", Exact), Err(InvalidVersion));
    assert_eq!(p(b"PROTOCOL", Prefix), Err(MissingField));
    // The positional CTCONFIG is read at fixed offsets from byte 9 too.
    let e = ServerMessage::decode_with(b"CTCONFIGX1 72 1.5 100 1 0 1 0", V2, Prefix).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (InvalidField, 8));
    assert!(matches!(
        ServerMessage::decode_with(b"CTCONFIG 1 72 1.5 100 1 0 1 0", V2, Prefix),
        Ok(ServerMessage::CtConfigValues(_))
    ));
}
