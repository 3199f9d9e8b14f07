//! Property tests: round trips for every message kind and version, total decoders, and
//! framing that does not depend on how the stream is chunked.

use std::net::Ipv4Addr;

use proptest::prelude::*;
use trackwire::ctcs::{
    split_line, Auth, ClientMessage, ConfigType, CtBw, CtConfig, CtConfigSet, CtConfigValues,
    CtDetail, CtFile, CtInfo, CtPeer, CtStatus, CtTorrent, ErrorMessage, Float, Framer,
    KeywordMatch, LineBuffer, Marker, PeerFlags, Positional, Protocol, ServerConfig, ServerMessage,
    ServerSession, SetDlimit, SetUlimit, Spacing, Status, Text, Version, Word,
};
use trackwire::Instant;
use trackwire::{DecodeError, DecodeErrorKind};

fn text_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("line byte", |b| !matches!(b, 0 | b'\r' | b'\n')),
        0..24,
    )
}

fn word_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("word byte", |b| !matches!(b, 0 | b'\r' | b'\n' | b' ')),
        1..16,
    )
}

fn float_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u16>(), 0u32..1_000_000).prop_map(|(a, b)| format!("{a}.{b:06}")),
        any::<i32>().prop_map(|a| a.to_string()),
        Just("inf".to_string()),
        Just("1e3".to_string()),
    ]
}

fn version() -> impl Strategy<Value = Version> {
    (0u8..4).prop_map(|v| Version::new(v).unwrap())
}

fn pos(v: Option<i32>) -> Positional<i32> {
    v.map_or(Positional::Keep, Positional::Set)
}

#[derive(Debug, Clone)]
struct Raw {
    ints: [i32; 16],
    bigs: [u64; 2],
    longs: [i64; 3],
    opts: [Option<i32>; 10],
    flags: [bool; 4],
    addr: [u8; 4],
    words: [Vec<u8>; 3],
    texts: [Vec<u8>; 3],
    float: String,
    float_keep: bool,
    extra: (usize, usize),
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        (
            prop::array::uniform16(any::<i32>()),
            prop::array::uniform2(any::<u64>()),
            prop::array::uniform3(any::<i64>()),
            prop::array::uniform10(prop::option::of(any::<i32>())),
            prop::array::uniform4(any::<bool>()),
            prop::array::uniform4(any::<u8>()),
        ),
        (
            [word_bytes(), word_bytes(), word_bytes()],
            [text_bytes(), text_bytes(), text_bytes()],
            float_text(),
            any::<bool>(),
            (0usize..4, 0usize..4),
        ),
    )
        .prop_map(
            |((ints, bigs, longs, opts, flags, addr), (words, texts, float, float_keep, extra))| {
                Raw {
                    ints,
                    bigs,
                    longs,
                    opts,
                    flags,
                    addr,
                    words,
                    texts,
                    float,
                    float_keep,
                    extra,
                }
            },
        )
}

fn w(b: &[u8]) -> Word<'_> {
    Word::new(b).unwrap()
}

fn t(b: &[u8]) -> Text<'_> {
    Text::new(b).unwrap()
}

/// The client message of `kind` built from `r`, with the fields `version` does not
/// carry left at their decoded defaults; `None` if the kind does not exist in `version`.
fn client_msg(kind: usize, version: Version, r: &Raw) -> Option<ClientMessage<'_>> {
    let i = &r.ints;
    let v3 = version.is_v3();
    let v1status = version.has_v1_status();
    let msg = match kind {
        0 => ClientMessage::Protocol(Protocol {
            version: i[0].unsigned_abs() & 0x7fff_ffff,
        }),
        1 => ClientMessage::Auth(Auth {
            password: t(&r.texts[0]),
        }),
        2 => ClientMessage::CtTorrent(CtTorrent {
            peer_id: w(&r.words[0]),
            start_timestamp: r.longs[0],
            current_timestamp: r.longs[1],
            filename: t(&r.texts[0]),
        }),
        3 => ClientMessage::CtStatus(CtStatus {
            seeders: i[0],
            total_seeders: if v1status { 0 } else { i[1] },
            leechers: i[2],
            total_leechers: if v1status { 0 } else { i[3] },
            connecting: if v1status { 0 } else { i[4] },
            n_have: i[5],
            n_total: i[6],
            n_avail: i[7],
            dl_rate: i[8],
            ul_rate: i[9],
            dl_total: r.bigs[0],
            ul_total: r.bigs[1],
            dl_limit: i[10],
            ul_limit: i[11],
            cache_used: if v1status { 0 } else { i[12] },
        }),
        4 => ClientMessage::CtBw(CtBw {
            dl_rate: i[0],
            ul_rate: i[1],
            dl_limit: i[2],
            ul_limit: i[3],
        }),
        5 => ClientMessage::CtInfo(CtInfo {
            severity: i[0],
            message: t(&r.texts[1]),
        }),
        6 => ClientMessage::CtDetail(CtDetail {
            torrent_size: r.longs[0],
            piece_size: i[1],
            current_timestamp: r.longs[1],
            seed_timestamp: r.longs[2],
        }),
        // Block markers of either spelling, under any version.
        7 => ClientMessage::CtFileStart(marker(r)),
        8 => ClientMessage::CtFile(CtFile {
            fileno: i[0],
            priority: if v3 { i[1] } else { 0 },
            current_priority: if v3 { i[2] } else { 0 },
            n_pieces: i[3],
            n_have: i[4],
            n_available: if version.get() >= 2 { i[5] } else { 0 },
            filesize: r.bigs[0],
            filename: t(&r.texts[2]),
        }),
        9 => ClientMessage::CtFilesDone(marker(r)),
        10 => ClientMessage::CtPeerStart(marker(r)),
        11 => ClientMessage::CtPeer(CtPeer {
            peer_id: w(&r.words[1]),
            address: Ipv4Addr::from(r.addr),
            choke_interest: PeerFlags {
                remote_unchoked: r.flags[0],
                local_interested: r.flags[1],
                local_unchoked: r.flags[2],
                remote_interested: r.flags[3],
            },
            dl_rate: i[0],
            ul_rate: i[1],
            dl_total: r.bigs[0],
            ul_total: r.bigs[1],
            n_pieces: i[2],
        }),
        12 => ClientMessage::CtPeersDone(marker(r)),
        13 => ClientMessage::CtConfigStart,
        14 if v3 => ClientMessage::CtConfig(CtConfig {
            name: w(&r.words[0]),
            value_type: [
                ConfigType::Boolean,
                ConfigType::Integer,
                ConfigType::Float,
                ConfigType::String,
            ][usize::from(r.addr[0] % 4)],
            range: w(&r.words[2]),
            value: t(&r.texts[0]),
            short_desc: t(&r.texts[1]),
            long_desc: t(&r.texts[2]),
        }),
        14 => ClientMessage::CtConfigValues(values(r, if version == Version::V2 { 2 } else { 1 })),
        15 => ClientMessage::CtConfigDone,
        16 => ClientMessage::Unknown(unknown(r)),
        _ => return None,
    };
    Some(msg)
}

fn marker(r: &Raw) -> Marker {
    if r.flags[3] {
        Marker::V3
    } else {
        Marker::Legacy
    }
}

/// Positional values for a layout: 2 (8 fields), 1 (9 fields) or 0 (7 fields).
fn values(r: &Raw, layout: u8) -> CtConfigValues<'_> {
    let o = &r.opts;
    CtConfigValues {
        verbose: pos(o[0]),
        seedtime: pos(o[1]),
        seed_ratio: if r.float_keep {
            Positional::Keep
        } else {
            Positional::Set(Float::new(&r.float).unwrap())
        },
        maxpeers: pos(o[2]),
        minpeers: pos(o[3]),
        fileno: pos(o[4]),
        cache_size: if layout == 2 {
            pos(o[5])
        } else {
            Positional::Keep
        },
        exitzero: if layout == 1 {
            pos(o[6])
        } else {
            Positional::Keep
        },
        pause: pos(o[7]),
        soft_quit: if layout == 1 {
            pos(o[8])
        } else {
            Positional::Keep
        },
    }
}

/// A line no keyword matches (keywords are upper case).
fn unknown(r: &Raw) -> Text<'_> {
    match r.texts[0].first() {
        Some(b'a'..=b'z') => t(&r.texts[0]),
        _ => t(b"x-unknown line"),
    }
}

fn server_msg(kind: usize, version: Version, r: &Raw) -> Option<ServerMessage<'_>> {
    let msg = match kind {
        0 => ServerMessage::Protocol(Protocol {
            version: r.ints[0].unsigned_abs() & 0x7fff_ffff,
        }),
        1 => ServerMessage::Error(ErrorMessage {
            message: t(&r.texts[0]),
        }),
        2 => ServerMessage::CtQuit,
        3 => ServerMessage::CtRestart,
        4 => ServerMessage::CtUpdate,
        5 => ServerMessage::SetDlimit(SetDlimit {
            dl_limit: t(&r.texts[1]),
        }),
        6 => ServerMessage::SetUlimit(SetUlimit {
            ul_limit: t(&r.texts[2]),
        }),
        7 => ServerMessage::SendStatus,
        8 => ServerMessage::SendPeers,
        9 => ServerMessage::SendDetail,
        10 => ServerMessage::SendConf,
        11 if version.is_v3() => {
            // A value cannot start with a blank (the client skips blanks after the name).
            let value = match r.texts[0].first() {
                Some(b' ') => t(b""),
                _ => t(&r.texts[0]),
            };
            ServerMessage::CtConfig(CtConfigSet {
                name: w(&r.words[0]),
                value,
                spacing: Spacing {
                    extra_before_name: r.extra.0,
                    extra_after_name: r.extra.1,
                },
            })
        }
        11 => {
            // dnh3.3.2 reads a server's verbose flag as one byte (decoding refuses others).
            let mut v = values(r, version.get());
            v.verbose = pos(r.opts[0].map(|n| n.rem_euclid(10)));
            ServerMessage::CtConfigValues(v)
        }
        12 => ServerMessage::Unknown(unknown(r)),
        _ => return None,
    };
    Some(msg)
}

fn check_offset(e: &DecodeError, len: usize) -> Result<(), TestCaseError> {
    prop_assert!(e.offset() <= len, "{e} for a {len}-byte line");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn client_round_trip(kind in 0usize..17, version in version(), r in raw()) {
        if let Some(m) = client_msg(kind, version, &r) {
            let mut buf = vec![0u8; m.encoded_len(version)];
            let n = m.encode(version, &mut buf).unwrap();
            prop_assert_eq!(n, buf.len());
            prop_assert_eq!(buf.last(), Some(&b'\n'));
            let back = ClientMessage::decode(&buf, version);
            prop_assert_eq!(back, Ok(m), "{:?}", String::from_utf8_lossy(&buf));
            // Too small a buffer is refused and left alone.
            let mut small = vec![0xAAu8; n - 1];
            prop_assert_eq!(m.encode(version, &mut small).unwrap_err().required(), n);
            prop_assert!(small.iter().all(|&b| b == 0xAA));
        }
    }

    #[test]
    fn server_round_trip(kind in 0usize..13, version in version(), r in raw()) {
        if let Some(m) = server_msg(kind, version, &r) {
            let mut buf = vec![0u8; m.encoded_len(version)];
            let n = m.encode(version, &mut buf).unwrap();
            prop_assert_eq!(n, buf.len());
            let back = ServerMessage::decode(&buf, version);
            prop_assert_eq!(back, Ok(m), "{:?}", String::from_utf8_lossy(&buf));
        }
    }

    /// A server's positional CTCONFIG with a verbose field wider than one byte is refused
    /// where it starts: the client would read every later field shifted.
    #[test]
    fn wide_positional_verbose_is_refused(verbose in prop_oneof![-9i32..0, 10i32..i32::MAX], version in 0u8..3, r in raw()) {
        let version = Version::new(version).unwrap();
        let mut v = values(&r, version.get());
        v.verbose = Positional::Set(verbose);
        let m = ServerMessage::CtConfigValues(v);
        let mut buf = vec![0u8; m.encoded_len(version)];
        m.encode(version, &mut buf).unwrap();
        let e = ServerMessage::decode(&buf, version).unwrap_err();
        prop_assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::InvalidField, 9));
    }

    /// A v3 CTCONFIG read with the client's prefix match gives exactly the name and value
    /// dnh3.3.2's `Set_Config` takes (or an error where it rejects the line), for any
    /// bytes after the keyword.
    #[test]
    fn ctconfig_reads_as_set_config(tail in prop::collection::vec(prop::sample::select(b"  ab\t1.".to_vec()), 0..24)) {
        let mut line = b"CTCONFIG".to_vec();
        line.extend_from_slice(&tail);
        let got = match ServerMessage::decode_with(&line, Version::V3, KeywordMatch::Prefix) {
            Ok(ServerMessage::CtConfig(c)) => Some((c.name.as_bytes().to_vec(), c.value.as_bytes().to_vec())),
            Ok(other) => panic!("{other:?}"),
            Err(_) => None,
        };
        prop_assert_eq!(got, set_config_reads(&line), "{:?}", String::from_utf8_lossy(&line));
        // An exact reader agrees whenever it sees CTCONFIG at all, and re-encodes exactly.
        if let Ok(m) = ServerMessage::decode(&line, Version::V3) {
            if let ServerMessage::CtConfig(c) = m {
                let exact = (c.name.as_bytes().to_vec(), c.value.as_bytes().to_vec());
                prop_assert_eq!(Some(exact), set_config_reads(&line));
                let mut buf = vec![0u8; m.encoded_len(Version::V3)];
                m.encode(Version::V3, &mut buf).unwrap();
                prop_assert_eq!(&buf[..buf.len() - 1], &line[..]);
            }
        }
    }

    /// SETDLIMIT/SETULIMIT read with the client's prefix match keep the bytes from offset
    /// 10 on, the ones dnh3.3.2's `strtod` starts at.
    #[test]
    fn set_limits_read_from_byte_10(
        kw in prop::sample::select(vec!["SETDLIMIT", "SETULIMIT"]),
        tail in prop::collection::vec(prop::sample::select(b" \t0123456789.-+eEx".to_vec()), 1..16),
    ) {
        let mut line = kw.as_bytes().to_vec();
        line.extend_from_slice(&tail);
        let text = match ServerMessage::decode_with(&line, Version::V3, KeywordMatch::Prefix).unwrap() {
            ServerMessage::SetDlimit(s) => s.dl_limit,
            ServerMessage::SetUlimit(s) => s.ul_limit,
            other => panic!("{other:?}"),
        };
        prop_assert_eq!(text.as_bytes(), &line[10..]);
        // An exact reader takes the same text when the separator is a space.
        if line[9] == b' ' {
            let m = ServerMessage::decode(&line, Version::V3).unwrap();
            let exact = match m {
                ServerMessage::SetDlimit(s) => s.dl_limit,
                ServerMessage::SetUlimit(s) => s.ul_limit,
                other => panic!("{other:?}"),
            };
            prop_assert_eq!(exact, text);
            let mut buf = vec![0u8; m.encoded_len(Version::V3)];
            m.encode(Version::V3, &mut buf).unwrap();
            prop_assert_eq!(&buf[..buf.len() - 1], &line[..]);
        }
    }

    /// What a server session sends is read by dnh3.3.2 as the caller gave it: the name
    /// and value of an accepted `set_config`, the number of `set_download_limit` and
    /// `set_upload_limit`.
    #[test]
    fn session_commands_reach_the_client_as_given(
        name in prop::collection::vec(prop::sample::select(b"ab_ \t\x00".to_vec()), 0..6),
        value in prop::collection::vec(prop::sample::select(b"a1  \t:\r".to_vec()), 0..8),
        limit in any::<i32>(),
    ) {
        let mut s = ServerSession::new(ServerConfig::new(), Instant::ZERO).unwrap();
        let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
        // The session's own PROTOCOL line.
        prop_assert!(s.poll_transmit(&mut buf).unwrap().is_some());
        if s.set_config(&name, &value).is_ok() {
            let n = s.poll_transmit(&mut buf).unwrap().unwrap();
            prop_assert_eq!(set_config_reads(&buf[..n - 1]), Some((name.clone(), value.clone())));
        }
        s.set_download_limit(limit).unwrap();
        s.set_upload_limit(limit).unwrap();
        for _ in 0..2 {
            let n = s.poll_transmit(&mut buf).unwrap().unwrap();
            let applied = match ServerMessage::decode_with(&buf[..n], Version::V3, KeywordMatch::Prefix).unwrap() {
                ServerMessage::SetDlimit(d) => d.applied(),
                ServerMessage::SetUlimit(u) => u.applied(),
                other => panic!("{other:?}"),
            };
            prop_assert_eq!(applied, limit);
        }
        prop_assert!(s.poll_transmit(&mut buf).unwrap().is_none());
    }

    #[test]
    fn decoders_are_total(line in prop::collection::vec(any::<u8>(), 0..200), version in version()) {
        let l = &line[..];
        if let Err(e) = ClientMessage::decode(l, version) {
            check_offset(&e, l.len())?;
        }
        if let Err(e) = ServerMessage::decode(l, version) {
            check_offset(&e, l.len())?;
        }
        if let Err(e) = ServerMessage::decode_with(l, version, KeywordMatch::Prefix) {
            check_offset(&e, l.len())?;
        }
    }

    #[test]
    fn decoders_are_total_on_near_miss_lines(
        kw in prop::sample::select(vec![
            "PROTOCOL", "AUTH", "CTORRENT", "CTSTATUS", "CTBW", "CTINFO", "CTDETAIL", "CTFILE",
            "CTPEER", "CTCONFIG", "CTFILESTART", "CTFILES", "SETDLIMIT", "SENDSTATUS", "ERROR",
            "CTQUIT", "CTCONFIGDONE",
        ]),
        tail in prop::collection::vec(prop::sample::select(b" 0123456789:,/.-abcUCin\0\r".to_vec()), 0..60),
        version in version(),
    ) {
        let mut line = kw.as_bytes().to_vec();
        line.extend_from_slice(&tail);
        if let Err(e) = ClientMessage::decode(&line, version) { check_offset(&e, line.len())?; }
        if let Err(e) = ServerMessage::decode(&line, version) { check_offset(&e, line.len())?; }
        if let Err(e) = ServerMessage::decode_with(&line, version, KeywordMatch::Prefix) {
            check_offset(&e, line.len())?;
        }
    }

    #[test]
    fn framing_is_total(buf in prop::collection::vec(any::<u8>(), 0..300), max in 0usize..40) {
        let s = split_line(&buf, max);
        prop_assert!(s.consumed <= buf.len());
        if let Status::Complete(Err(e)) = s.status {
            prop_assert!(e.offset() <= max);
        }
        let mut f = Framer::new(max);
        let mut rest = &buf[..];
        loop {
            let s = f.split(rest);
            prop_assert!(s.consumed <= rest.len());
            rest = &rest[s.consumed..];
            if s.status.is_partial() { break; }
        }
    }

    #[test]
    fn chunking_does_not_change_lines(
        stream in prop::collection::vec(prop::sample::select(b"ABC \r\n\0".to_vec()), 0..200),
        cuts in prop::collection::vec(0usize..200, 0..12),
    ) {
        const MAX: usize = 8;
        let whole = frame_whole(&stream, MAX);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for c in cuts.into_iter().chain([stream.len()]) {
            chunks.push(&stream[start..c]);
            start = c;
        }
        // Reading a stream into a LineBuffer with room for one line (N = MAX + 1) or
        // for many gives the same lines.
        prop_assert_eq!(&feed_line_buffer::<{ MAX + 1 }>(&chunks, MAX), &whole);
        prop_assert_eq!(&feed_line_buffer::<64>(&chunks, MAX), &whole);
        prop_assert_eq!(&frame_incrementally(&chunks, MAX), &whole);
    }

    /// `Framer::lines` and `LineBuffer::lines` give what the step-by-step loop over
    /// `Framer::split` gave before them, for any bytes, chunking and maximum.
    #[test]
    fn lines_iterators_match_the_split_loop(
        stream in prop::collection::vec(prop::sample::select(b"AB \r\n\0".to_vec()), 0..300),
        cuts in prop::collection::vec(0usize..300, 0..12),
        max in 0usize..24,
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for c in cuts.into_iter().chain([stream.len()]) {
            chunks.push(&stream[start..c]);
            start = c;
        }
        let reference = split_loop(&chunks, max);
        prop_assert_eq!(&frame_incrementally(&chunks, max), &reference);
        prop_assert_eq!(&feed_line_buffer::<32>(&chunks, max), &reference);
        // What is left over is the same partial line too.
        let mut f = Framer::new(max);
        let mut lines = f.lines(&stream);
        let n = lines.by_ref().count();
        prop_assert_eq!(n, frame_whole(&stream, max).len());
        prop_assert!(lines.consumed() + lines.rest().len() == stream.len());
    }
}

type Lines = Vec<Result<Vec<u8>, DecodeError>>;

fn frame_whole(stream: &[u8], max: usize) -> Lines {
    frame_incrementally(&[stream], max)
}

/// A caller keeping its own receive buffer and a [`Framer`].
fn frame_incrementally(chunks: &[&[u8]], max: usize) -> Lines {
    let mut f = Framer::new(max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let mut lines = f.lines(&buf);
        out.extend(lines.by_ref().map(|l| l.map(<[u8]>::to_vec)));
        let consumed = lines.consumed();
        buf.drain(..consumed);
    }
    out
}

/// The reference: the step-by-step loop over `Framer::split` that callers wrote before
/// `lines()` existed.
fn split_loop(chunks: &[&[u8]], max: usize) -> Lines {
    let mut f = Framer::new(max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let s = f.split(&buf);
            let consumed = s.consumed;
            let item = match s.status {
                Status::Complete(l) => Some(l.map(<[u8]>::to_vec)),
                Status::Partial => None,
            };
            buf.drain(..consumed);
            match item {
                Some(l) => out.push(l),
                None => break,
            }
        }
    }
    out
}

/// A driver over a session-style buffer: offer what fits, take every line out, repeat.
fn feed_line_buffer<const N: usize>(chunks: &[&[u8]], max: usize) -> Lines {
    let mut lb = LineBuffer::<N>::with_max_len(max);
    assert_eq!(lb.max_len(), max.min(N - 1));
    let mut out = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        while !input.is_empty() {
            let n = lb.spare().min(input.len());
            assert!(n > 0, "no room after taking every line out");
            lb.push(&input[..n]).unwrap();
            input = &input[n..];
            out.extend(lb.lines().map(|l| l.map(<[u8]>::to_vec)));
            assert!(lb.len() <= lb.max_len(), "only a partial line is left");
        }
    }
    out
}

/// dnh3.3.2's `Set_Config` at version 3 on a line that starts with `CTCONFIG`:
/// `name = strtok(strchr(line, ' '), " ")`, rejected when it is missing or runs to the end
/// of the line; the value starts after the spaces that follow the name. `None` where the
/// client rejects the line (or, for a line without any space, crashes).
fn set_config_reads(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let first_space = line.iter().position(|&b| b == b' ')?;
    let from = &line[first_space..];
    let start = from.iter().position(|&b| b != b' ')?;
    let token = &from[start..];
    let end = token.iter().position(|&b| b == b' ')?;
    let mut value = &token[end + 1..];
    while let [b' ', rest @ ..] = value {
        value = rest;
    }
    Some((token[..end].to_vec(), value.to_vec()))
}
