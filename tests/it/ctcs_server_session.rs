//! `ctcs::ServerSession` in virtual time: the shipped transcripts replayed through it (in
//! several chunkings), authentication, version negotiation, every command in every
//! version, block errors, framing errors, timers, and a property test over arbitrary
//! scripts.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{frame_transcript, parse_transcript, server_protocol, transcripts, Entry};
use proptest::prelude::*;
use trackwire::ctcs::{
    AuthFailure, BlockKind, ClientMessage, CtConfigValues, Float, InputError, Positional,
    ServerConfig, ServerEvent, ServerMessage, ServerSession, ServerState, Unterminated, Version,
    MAX_COMMAND_LEN, MAX_PASSWORD_LEN, MAX_QUEUED_LINES,
};
use trackwire::{DecodeErrorKind, Instant, UsageErrorKind};

// ---- helpers ------------------------------------------------------------------------

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

fn secs(t: u64) -> Instant {
    Instant::from_secs(t)
}

/// A readable, stable rendering of an event.
fn render(e: &ServerEvent<'_>) -> String {
    match e {
        ServerEvent::Protocol { announced, version } => format!("protocol {announced} v{version}"),
        ServerEvent::Authenticated => "authenticated".into(),
        ServerEvent::AuthFailed(f) => format!("auth_failed {f:?}"),
        ServerEvent::Hello(t) => format!(
            "hello {} {} {} {}",
            t.peer_id, t.start_timestamp, t.current_timestamp, t.filename
        ),
        ServerEvent::Status { status: s, version } => format!(
            "status {} {}/{}/{} {},{} {},{} {},{}",
            if version.has_v1_status() { "v1" } else { "v23" },
            s.n_have,
            s.n_total,
            s.n_avail,
            s.dl_rate,
            s.ul_rate,
            s.dl_total,
            s.ul_total,
            s.dl_limit,
            s.ul_limit
        ),
        ServerEvent::Bandwidth(b) => format!(
            "bw {},{} {},{}",
            b.dl_rate, b.ul_rate, b.dl_limit, b.ul_limit
        ),
        ServerEvent::Info(i) => format!("info {} {}", i.severity, i.message),
        ServerEvent::InfoContinued(t) => format!("info+ {t}"),
        ServerEvent::Detail(d) => format!("detail {} {}", d.torrent_size, d.piece_size),
        ServerEvent::BlockBegin(b) => format!("begin {b}"),
        ServerEvent::File(f) => format!("file {} {} {}", f.fileno, f.n_have, f.filename),
        ServerEvent::Peer(p) => format!("peer {} {}", p.peer_id, p.address),
        ServerEvent::Config(c) => format!("config {}={}", c.name, c.value),
        ServerEvent::ConfigValues(c) => format!("config_values {:?}", c.maxpeers),
        ServerEvent::BlockEnd { block, items } => format!("end {block} {items}"),
        ServerEvent::Unknown(t) => format!("unknown {t}"),
        ServerEvent::Idle { last_input } => format!("idle {}", last_input.as_millis()),
        ServerEvent::Error(e) => format!("error {e:?}"),
        ServerEvent::Closed => "closed".into(),
        other => format!("{other:?}"),
    }
}

fn drain_events<const L: usize, const O: usize>(s: &mut ServerSession<L, O>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(e) = s.poll_event() {
        out.push(render(&e));
    }
    out
}

fn drain_transmit<const L: usize, const O: usize>(
    s: &mut ServerSession<L, O>,
    _now: Instant,
) -> Vec<Vec<u8>> {
    let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
    let mut out = Vec::new();
    while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
        out.push(buf[..n].to_vec());
    }
    out
}

/// Feeds `bytes` in chunks of the given sizes (cycled), draining events after every
/// call, as the run loop says.
fn feed_chunked<const L: usize, const O: usize>(
    s: &mut ServerSession<L, O>,
    now: Instant,
    bytes: &[u8],
    sizes: &[usize],
) -> Vec<String> {
    let mut events = drain_events(s);
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        let mut chunk = &rest[..n];
        rest = &rest[n..];
        while !chunk.is_empty() {
            // Offer the whole chunk; when it does not fit, nothing is taken and the
            // driver offers what fits (it would have read only that much).
            let spare = s.input_spare();
            let used = match s.handle_input(now, chunk) {
                Ok(()) => chunk.len(),
                Err(full) => {
                    assert_eq!((full.offered(), full.spare()), (chunk.len(), spare));
                    assert!(spare > 0, "no room after draining every event");
                    s.handle_input(now, &chunk[..spare]).unwrap();
                    spare
                }
            };
            chunk = &chunk[used..];
            events.extend(drain_events(s));
        }
    }
    events
}

fn feed<const L: usize, const O: usize>(
    s: &mut ServerSession<L, O>,
    now: Instant,
    bytes: &[u8],
) -> Vec<String> {
    feed_chunked(s, now, bytes, &[usize::MAX])
}

fn session(config: ServerConfig<'_>) -> ServerSession {
    ServerSession::new(config, Instant::ZERO).unwrap()
}

/// A session that has sent PROTOCOL and seen the client's handshake.
fn ready(config: ServerConfig<'_>) -> ServerSession {
    let mut s = session(config);
    drain_transmit(&mut s, Instant::ZERO);
    let ev = feed(&mut s, Instant::ZERO, HANDSHAKE);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(s.state(), ServerState::Ready);
    s
}

const HANDSHAKE: &[u8] =
    b"PROTOCOL 0003\nCTORRENT -CD0303-0xAB 1795312162 1795312163 single.torrent\n";
const HELLO: &str = "hello -CD0303-0xAB 1795312162 1795312163 single.torrent";

// ---- replay of the shipped transcripts ------------------------------------------------

/// The time stamps of a transcript's `C>`/`S>` lines, in the order `parse_transcript`
/// returns them.
fn times(text: &str) -> Vec<Instant> {
    text.lines()
        .filter(|l| l.starts_with("C>") || l.starts_with("S>"))
        .map(|l| {
            let t: f64 = l[2..].split_whitespace().next().unwrap().parse().unwrap();
            ms((t * 1000.0).round() as u64)
        })
        .collect()
}

/// The events dnh3.3.2's lines mean, computed independently of the session from the
/// transcript framed with the version the client really used for each line.
fn oracle(
    file: &str,
    entries: &[Entry],
    password: &dyn Fn(u32) -> Option<&'static [u8]>,
) -> BTreeMap<u32, Vec<String>> {
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut open: BTreeMap<u32, (BlockKind, u32)> = BTreeMap::new();
    let mut rejected: BTreeMap<u32, bool> = BTreeMap::new();
    let mut after_info: BTreeMap<u32, bool> = BTreeMap::new();
    let mut allowed: BTreeMap<u32, Version> = BTreeMap::new();
    let framed = frame_transcript(entries);
    for f in &framed {
        if let (Ok(line), 'S') = (&f.line, f.dir) {
            if let Some(v) = server_protocol(line) {
                allowed.entry(f.conn).or_insert(v);
            }
        }
    }
    for f in framed {
        let ev = out.entry(f.conn).or_default();
        let line = f
            .line
            .as_ref()
            .unwrap_or_else(|e| panic!("{file}: framing error {e}"));
        if f.dir == 'S' {
            continue;
        }
        if *rejected.get(&f.conn).unwrap_or(&false) {
            continue;
        }
        let msg = ClientMessage::decode(line, f.version)
            .unwrap_or_else(|e| panic!("{file}: {e} in {:?}", String::from_utf8_lossy(line)));
        let was_info = after_info.insert(f.conn, false).unwrap_or(false);
        let mut begin = |ev: &mut Vec<String>, k: BlockKind| {
            assert!(
                open.insert(f.conn, (k, 0)).is_none(),
                "{file}: nested block"
            );
            ev.push(format!("begin {k}"));
        };
        match msg {
            ClientMessage::Protocol(p) => {
                let ours = *allowed.get(&f.conn).unwrap_or(&Version::V3);
                let v = p.negotiated().max(Version::V1).min(ours);
                ev.push(format!("protocol {} v{v}", p.version));
            }
            ClientMessage::Auth(a) => match password(f.conn) {
                Some(pw) if pw == a.password.as_bytes() => ev.push("authenticated".into()),
                Some(_) => {
                    ev.push("auth_failed WrongPassword".into());
                    rejected.insert(f.conn, true);
                }
                None => {}
            },
            ClientMessage::CtTorrent(t) => ev.push(format!(
                "hello {} {} {} {}",
                t.peer_id, t.start_timestamp, t.current_timestamp, t.filename
            )),
            ClientMessage::CtStatus(s) => ev.push(format!(
                "status {} {}/{}/{} {},{} {},{} {},{}",
                if f.version.has_v1_status() {
                    "v1"
                } else {
                    "v23"
                },
                s.n_have,
                s.n_total,
                s.n_avail,
                s.dl_rate,
                s.ul_rate,
                s.dl_total,
                s.ul_total,
                s.dl_limit,
                s.ul_limit
            )),
            ClientMessage::CtBw(b) => ev.push(format!(
                "bw {},{} {},{}",
                b.dl_rate, b.ul_rate, b.dl_limit, b.ul_limit
            )),
            ClientMessage::CtInfo(i) => {
                after_info.insert(f.conn, true);
                ev.push(format!("info {} {}", i.severity, i.message));
            }
            ClientMessage::Unknown(t) if was_info => {
                after_info.insert(f.conn, true);
                ev.push(format!("info+ {t}"));
            }
            ClientMessage::Unknown(t) => ev.push(format!("unknown {t}")),
            ClientMessage::CtDetail(d) => {
                ev.push(format!("detail {} {}", d.torrent_size, d.piece_size))
            }
            ClientMessage::CtFileStart(_) => begin(ev, BlockKind::Files),
            ClientMessage::CtPeerStart(_) => begin(ev, BlockKind::Peers),
            ClientMessage::CtConfigStart => begin(ev, BlockKind::Config),
            ClientMessage::CtFile(x) => {
                open.get_mut(&f.conn).unwrap().1 += 1;
                ev.push(format!("file {} {} {}", x.fileno, x.n_have, x.filename));
            }
            ClientMessage::CtPeer(p) => {
                open.get_mut(&f.conn).unwrap().1 += 1;
                ev.push(format!("peer {} {}", p.peer_id, p.address));
            }
            ClientMessage::CtConfig(c) => {
                open.get_mut(&f.conn).unwrap().1 += 1;
                ev.push(format!("config {}={}", c.name, c.value));
            }
            ClientMessage::CtFilesDone(_)
            | ClientMessage::CtPeersDone(_)
            | ClientMessage::CtConfigDone => {
                let (k, n) = open.remove(&f.conn).unwrap();
                ev.push(format!("end {k} {n}"));
            }
            ClientMessage::CtConfigValues(c) => {
                ev.push("begin config".into());
                ev.push(format!("config_values {:?}", c.maxpeers));
                ev.push("end config 1".into());
            }
            other => panic!("{file}: unexpected {other:?}"),
        }
    }
    for ev in out.values_mut() {
        ev.push("closed".into());
    }
    out
}

/// The command that produces server line `line`, if the API can produce it
/// byte-exactly; issues it on `s`.
fn issue(s: &mut ServerSession, line: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(line).into_owned();
    let msg = ServerMessage::decode(line, s.version()).map_err(|e| format!("{text}: {e}"))?;
    let canonical = |t: &[u8]| -> Option<i32> {
        let s = std::str::from_utf8(t).ok()?;
        let n: i32 = s.parse().ok()?;
        (n.to_string() == s).then_some(n)
    };
    let r = match msg {
        ServerMessage::SendStatus => s.request_status(),
        ServerMessage::SendPeers => s.request_peers(),
        ServerMessage::SendDetail => s.request_detail(),
        ServerMessage::SendConf => s.request_config(),
        ServerMessage::CtQuit => s.quit(),
        ServerMessage::CtUpdate => s.update(),
        ServerMessage::CtRestart => s.restart(),
        ServerMessage::SetDlimit(l) => match canonical(l.dl_limit.as_bytes()) {
            Some(n) => s.set_download_limit(n),
            None => return Err(text),
        },
        ServerMessage::SetUlimit(l) => match canonical(l.ul_limit.as_bytes()) {
            Some(n) => s.set_upload_limit(n),
            None => return Err(text),
        },
        ServerMessage::CtConfig(c) if c.spacing == Default::default() => {
            s.set_config(c.name.as_bytes(), c.value.as_bytes())
        }
        ServerMessage::CtConfigValues(v) => s.set_config_values(&v),
        _ => return Err(text),
    };
    r.map_err(|e| format!("{text}: {e}"))
}

/// What one replay produced: per connection, the events and the server lines.
type Replay = BTreeMap<u32, (Vec<String>, Vec<Vec<u8>>)>;

/// Replays a transcript: `C>` bytes fed in chunks of `sizes` (consecutive `C>` entries
/// joined first), each `S>` line either expected from the session itself (`PROTOCOL`
/// on connect, `ERROR` after a failed AUTH) or issued as the matching command.
/// Returns what happened, and the `S>` lines the API cannot produce (connection, line,
/// why).
fn replay(
    text: &str,
    sizes: &[usize],
    password: &dyn Fn(u32) -> Option<&'static [u8]>,
) -> (Replay, Vec<(u32, Vec<u8>, String)>) {
    let entries = parse_transcript(text);
    let at = times(text);
    assert_eq!(entries.len(), at.len());
    // Our version per connection: the transcript server's first PROTOCOL line.
    let mut first_protocol: BTreeMap<u32, Version> = BTreeMap::new();
    for e in &entries {
        if e.dir == 'S' {
            if let Some(v) = server_protocol(e.bytes.strip_suffix(b"\n").unwrap_or(&e.bytes)) {
                first_protocol.entry(e.conn).or_insert(v);
            }
        }
    }
    let mut sessions: BTreeMap<u32, ServerSession> = BTreeMap::new();
    let mut result: Replay = BTreeMap::new();
    let mut pending: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut seen_protocol: BTreeMap<u32, bool> = BTreeMap::new();
    let mut last = Instant::ZERO;

    fn flush(
        s: &mut ServerSession,
        r: &mut (Vec<String>, Vec<Vec<u8>>),
        now: Instant,
        bytes: &mut Vec<u8>,
        sizes: &[usize],
    ) {
        let ev = feed_chunked(s, now, bytes, sizes);
        r.0.extend(ev);
        r.1.extend(drain_transmit(s, now));
        bytes.clear();
    }

    for (e, &now) in entries.iter().zip(&at) {
        last = now;
        let s = sessions.entry(e.conn).or_insert_with(|| {
            let cfg = ServerConfig::new()
                .with_max_version(*first_protocol.get(&e.conn).unwrap_or(&Version::V3))
                .with_password(password(e.conn));
            ServerSession::new(cfg, now).unwrap()
        });
        let r = result.entry(e.conn).or_default();
        r.1.extend(drain_transmit(s, now));
        match e.dir {
            'C' => pending
                .entry(e.conn)
                .or_default()
                .extend_from_slice(&e.bytes),
            _ => {
                flush(s, r, now, pending.entry(e.conn).or_default(), sizes);
                let line = e.bytes.strip_suffix(b"\n").unwrap_or(&e.bytes);
                let first = !seen_protocol.insert(e.conn, true).unwrap_or(false);
                let spontaneous =
                    (first && line.starts_with(b"PROTOCOL")) || line.starts_with(b"ERROR");
                if !spontaneous {
                    if let Err(why) = issue(s, line) {
                        skipped.push((e.conn, line.to_vec(), why));
                    }
                }
                r.1.extend(drain_transmit(s, now));
            }
        }
    }
    for (conn, s) in sessions.iter_mut() {
        let r = result.get_mut(conn).unwrap();
        flush(s, r, last, pending.entry(*conn).or_default(), sizes);
        s.handle_closed();
        r.0.extend(drain_events(s));
        assert_eq!(s.poll_timeout(), None);
    }
    (result, skipped)
}

/// The `S>` lines of each connection, minus those the API cannot produce.
fn server_lines(text: &str, skipped: &[(u32, Vec<u8>, String)]) -> BTreeMap<u32, Vec<Vec<u8>>> {
    let mut out: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
    for e in parse_transcript(text) {
        let line = e.bytes.strip_suffix(b"\n").unwrap_or(&e.bytes);
        let is_skipped = skipped.iter().any(|(c, l, _)| *c == e.conn && l == line);
        if e.dir == 'S' && !is_skipped {
            out.entry(e.conn).or_default().push(e.bytes.clone());
        }
    }
    out
}

/// auth.txt: the harness refused the first connection and accepted the second, with the
/// same password: configure a wrong password for c1 and the right one for c2.
fn transcript_password(file: &str) -> impl Fn(u32) -> Option<&'static [u8]> + '_ {
    move |conn| match (file, conn) {
        ("auth.txt", 1) => Some(&b"not the password"[..]),
        ("auth.txt", _) => Some(&b"s3cret pw"[..]),
        _ => None,
    }
}

#[test]
fn replay_every_transcript_in_any_chunking() {
    let all = transcripts();
    assert_eq!(all.len(), 7);
    for (file, text) in &all {
        let password = transcript_password(file);
        let entries = parse_transcript(text);
        let want_events = oracle(file, &entries, &password);
        let mut first: Option<Replay> = None;
        for sizes in [&[usize::MAX][..], &[1], &[1, 7, 3, 64, 2, 5000, 13]] {
            let (got, skipped) = replay(text, sizes, &password);
            let want_lines = server_lines(text, &skipped);
            for (conn, (events, lines)) in &got {
                assert_eq!(
                    &want_events[conn], events,
                    "{file} c{conn} events, chunks {sizes:?}"
                );
                let show = |v: &[Vec<u8>]| {
                    v.iter()
                        .map(|l| String::from_utf8_lossy(l).into_owned())
                        .collect::<Vec<_>>()
                };
                assert_eq!(
                    show(&want_lines[conn]),
                    show(lines),
                    "{file} c{conn} server lines, chunks {sizes:?}"
                );
            }
            match &first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, &got, "{file}: chunking changed the outcome"),
            }
        }
    }
}

#[test]
fn replay_skips_only_lines_the_api_refuses_to_produce() {
    let mut skipped = Vec::new();
    for (file, text) in transcripts() {
        let password = transcript_password(&file);
        for (conn, _, why) in replay(&text, &[usize::MAX], &password).1 {
            skipped.push(format!("{file} c{conn}: {why}"));
        }
    }
    assert_eq!(
        skipped,
        [
            // A value-less CTCONFIG (dnh3.3.2 rejects it) and non-canonical blanks.
            "p3_config.txt c1: CTCONFIG max_peers: missing field at byte 18",
            "p3_config.txt c1: CTCONFIG   max_peers    60  ",
            // Raw limit texts: the API takes an i32 (what these mean to the client is
            // `SetUlimit::applied`).
            "p3_limits.txt c1: SETULIMIT 1.5e3",
            "p3_limits.txt c1: SETULIMIT 2048.9",
            "p3_limits.txt c1: SETULIMIT abc",
        ]
    );
}

/// Hand-checked facts per transcript (counted with grep), on top of the oracle.
#[test]
fn replay_facts() {
    let count =
        |events: &[String], prefix: &str| events.iter().filter(|e| e.starts_with(prefix)).count();
    for (file, text) in transcripts() {
        let password = transcript_password(&file);
        let (got, _) = replay(&text, &[3], &password);
        let events = |c: u32| got[&c].0.clone();
        let lines = |c: u32| got[&c].1.clone();
        for (ev, _) in got.values() {
            assert_eq!(count(ev, "error"), 0, "{file}: {ev:?}");
        }
        match file.as_str() {
            "p3_session.txt" => {
                let ev = events(1);
                assert_eq!(ev[0], "protocol 3 v3");
                assert_eq!(
                    ev[1],
                    "hello -CD0303-0x99D5B07A8235753C6FADB642 1795312162 1795312162 single.torrent"
                );
                assert_eq!(count(&ev, "status"), 4);
                assert!(ev.contains(&"end files 1".to_string()));
                assert!(ev.contains(&"end peers 0".to_string()));
                assert!(ev.contains(&"end config 13".to_string()));
                assert!(ev.contains(&"config max_peers=100".to_string()));
                assert_eq!(
                    lines(1),
                    [
                        &b"PROTOCOL 0003\n"[..],
                        b"SENDSTATUS\n",
                        b"SENDDETAIL\n",
                        b"SENDPEERS\n",
                        b"SENDCONF\n",
                        b"CTQUIT\n"
                    ]
                );
            }
            "p3_config.txt" => {
                let ev = events(1);
                assert_eq!(count(&ev, "end config 13"), 3);
                assert_eq!(count(&ev, "info 2"), 4);
                assert!(lines(1).contains(&b"CTCONFIG max_peers 50\n".to_vec()));
                assert!(lines(1).contains(&b"CTCONFIG seed_ratio 4:2.50\n".to_vec()));
            }
            "p3_limits.txt" => {
                let ev = events(1);
                assert_eq!(count(&ev, "bw"), 8);
                assert!(ev.contains(&"bw 0,0 0,-5".to_string()));
                assert!(lines(1).contains(&b"SETDLIMIT 20480\n".to_vec()));
                assert!(lines(1).contains(&b"SETULIMIT -5\n".to_vec()));
            }
            "p2_session.txt" | "p1_session.txt" => {
                let (v, positional) = if file.starts_with("p2") {
                    (2, &b"CTCONFIG . . . 60 . . . .\n"[..])
                } else {
                    (1, &b"CTCONFIG . . . 70 . . . . .\n"[..])
                };
                let ev = events(1);
                assert_eq!(ev[0], format!("protocol 3 v{v}"));
                // The first CTSTATUS is in the v3 form (the client had not read our
                // PROTOCOL yet); the answer to SENDSTATUS is in the negotiated form.
                let statuses: Vec<_> = ev.iter().filter(|e| e.starts_with("status")).collect();
                assert!(statuses[0].starts_with("status v23"));
                let want = if v == 1 { "status v1" } else { "status v23" };
                assert!(statuses[1].starts_with(want));
                assert!(ev.contains(&"end files 2".to_string()));
                assert!(ev.contains(&"file 2 6 a file.txt".to_string()));
                assert!(ev.contains(&"end peers 0".to_string()));
                assert!(ev.contains(&"config_values Set(100)".to_string()));
                assert_eq!(lines(1)[0], format!("PROTOCOL 000{v}\n").into_bytes());
                assert_eq!(lines(1).last().unwrap(), positional);
            }
            "auth.txt" => {
                assert_eq!(
                    events(1),
                    ["protocol 3 v3", "auth_failed WrongPassword", "closed"]
                );
                assert_eq!(
                    lines(1),
                    [&b"PROTOCOL 0003\n"[..], b"ERROR Authentication failed\n"]
                );
                let ev = events(2);
                assert_eq!(ev[1], "authenticated");
                assert!(ev[2]
                    .starts_with("hello -CD0303-0xAB665271DE2B6D69A9FDDAFF 1795312318 1795312324"));
                assert_eq!(lines(2), [&b"PROTOCOL 0003\n"[..], b"CTQUIT\n"]);
            }
            "leech_live.txt" => {
                let ev = events(1);
                assert_eq!(count(&ev, "end files 2"), 4);
                assert_eq!(count(&ev, "end peers 1"), 2);
                assert_eq!(count(&ev, "end config 15"), 2);
                assert_eq!(count(&ev, "end config 13"), 1);
                assert!(ev.contains(&"peer -CD0303-UQT0x83BD63685CB64BB4BF 127.0.0.1".to_string()));
                assert_eq!(count(&ev, "bw"), 30);
                assert!(lines(1).contains(&b"CTCONFIG file_list 2,1\n".to_vec()));
                assert!(lines(1).contains(&b"SETDLIMIT 4096\n".to_vec()));
            }
            other => panic!("new transcript {other}: add its facts"),
        }
    }
}

#[test]
fn replay_rejected_connection_asks_to_close() {
    let mut s = session(ServerConfig::new().with_password(Some(b"right")));
    let ev = feed(
        &mut s,
        ms(17),
        b"PROTOCOL 0003\nAUTH s3cret pw\n\nCTORRENT x 1 2 f\n",
    );
    assert_eq!(ev, ["protocol 3 v3", "auth_failed WrongPassword"]);
    assert!(!s.should_close(), "the ERROR line is not written yet");
    assert_eq!(
        drain_transmit(&mut s, ms(17)),
        [&b"PROTOCOL 0003\n"[..], b"ERROR Authentication failed\n"]
    );
    assert!(s.should_close());
}

// ---- authentication -----------------------------------------------------------------

#[test]
fn auth_right_password_with_the_empty_line_in_any_chunking() {
    let stream: &[u8] = b"PROTOCOL 0003\nAUTH s3cret pw\n\nCTORRENT -CD0303-0xAB 1795312162 1795312163 single.torrent\nCTSTATUS 0:0/0:0/0 2/4/2 0,0 0,0 0,0 0\n";
    for sizes in [&[usize::MAX][..], &[1], &[2, 5]] {
        let mut s = session(ServerConfig::new().with_password(Some(b"s3cret pw")));
        assert_eq!(s.state(), ServerState::AwaitingAuth);
        let ev = feed_chunked(&mut s, ms(1), stream, sizes);
        assert_eq!(
            ev,
            [
                "protocol 3 v3",
                "authenticated",
                HELLO,
                "status v23 2/4/2 0,0 0,0 0,0"
            ]
        );
        assert_eq!(s.state(), ServerState::Ready);
        assert_eq!(drain_transmit(&mut s, ms(1)), [b"PROTOCOL 0003\n"]);
        assert!(!s.should_close());
    }
}

#[test]
fn auth_wrong_password_rejects_and_ignores_the_rest() {
    let mut s = session(ServerConfig::new().with_password(Some(b"s3cret pw")));
    let input =
        b"PROTOCOL 0003\nAUTH s3cret px\n\nCTORRENT x 1 2 f\nCTSTATUS 0/0 1/1/1 0,0 0,0 0,0\n";
    s.handle_input(ms(1), input).unwrap();
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Protocol {
            announced: 3,
            version: Version::V3
        })
    );
    assert_eq!(s.state(), ServerState::AwaitingAuth);
    // Rejection swallows the rest of the input.
    assert_eq!(drain_events(&mut s), ["auth_failed WrongPassword"]);
    assert_eq!(s.input_spare(), s.input_capacity());
    assert_eq!(s.state(), ServerState::Rejected);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(
        s.request_status().map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidState)
    );
    assert_eq!(
        s.set_config(b"a", b"b").map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidState)
    );
    s.handle_input(ms(2), b"CTBW 1,1 1,1\n").unwrap();
    assert!(drain_events(&mut s).is_empty());
    assert_eq!(s.input_spare(), s.input_capacity());
    assert_eq!(
        drain_transmit(&mut s, ms(2)),
        [&b"PROTOCOL 0003\n"[..], b"ERROR Authentication failed\n"]
    );
    assert!(s.should_close());
    // A prefix of the password, or the password with more, is wrong too.
    for pw in [&b"AUTH s3cret\n"[..], b"AUTH s3cret pw2\n", b"AUTH \n"] {
        let mut s = session(ServerConfig::new().with_password(Some(b"s3cret pw")));
        assert_eq!(feed(&mut s, ms(1), pw), ["auth_failed WrongPassword"]);
    }
}

#[test]
fn auth_missing_password() {
    // CTORRENT first.
    let mut s = session(ServerConfig::new().with_password(Some(b"pw")));
    assert_eq!(
        feed(&mut s, ms(1), HANDSHAKE),
        ["protocol 3 v3", "auth_failed MissingPassword"]
    );
    // "AUTH" without a password field is a bad line, then missing.
    let mut s = session(ServerConfig::new().with_password(Some(b"pw")));
    let ev = feed(&mut s, ms(1), b"AUTH\n");
    assert_eq!(ev.len(), 2);
    assert!(ev[0].starts_with("error Line"));
    assert_eq!(ev[1], "auth_failed MissingPassword");
    // A NUL-bearing line before AUTH.
    let mut s = session(ServerConfig::new().with_password(Some(b"pw")));
    let ev = feed(&mut s, ms(1), b"\0AUTH pw\n");
    assert_eq!(ev[1], "auth_failed MissingPassword");
}

#[test]
fn auth_without_a_configured_password_is_ignored() {
    let mut s = session(ServerConfig::new());
    assert_eq!(s.state(), ServerState::AwaitingIdentity);
    let mut input = b"PROTOCOL 0003\nAUTH whatever\n\n".to_vec();
    input.extend_from_slice(&HANDSHAKE[14..]);
    assert_eq!(feed(&mut s, ms(1), &input), ["protocol 3 v3", HELLO]);
    // A second AUTH after a successful one is ignored as well.
    let mut s = session(ServerConfig::new().with_password(Some(b"pw")));
    assert_eq!(
        feed(&mut s, ms(1), b"AUTH pw\nAUTH other\nCTORRENT a 1 2 f\n"),
        ["authenticated", "hello a 1 2 f"]
    );
}

#[test]
fn password_configuration_is_checked() {
    // dnh3.3.2 sends at most 20 bytes: a longer password could never match.
    let long = [b'a'; MAX_PASSWORD_LEN + 1];
    assert_eq!(MAX_PASSWORD_LEN, 20);
    assert_eq!(
        ServerSession::new(
            ServerConfig::new().with_password(Some(&long)),
            Instant::ZERO
        )
        .err()
        .map(|e| e.kind()),
        Some(UsageErrorKind::TooLong)
    );
    assert!(ServerSession::new(
        ServerConfig::new().with_password(Some(&long[..MAX_PASSWORD_LEN])),
        Instant::ZERO
    )
    .is_ok());
    assert_eq!(
        ServerSession::new(
            ServerConfig::new().with_password(Some(b"a\nb")),
            Instant::ZERO
        )
        .err()
        .map(|e| e.kind()),
        Some(UsageErrorKind::InvalidValue)
    );
}

// ---- versions -----------------------------------------------------------------------

#[test]
fn protocol_is_sent_first_for_every_allowed_version() {
    for (v, line) in [
        (Version::V3, &b"PROTOCOL 0003\n"[..]),
        (Version::V2, b"PROTOCOL 0002\n"),
        (Version::V1, b"PROTOCOL 0001\n"),
        (Version::V0, b"PROTOCOL 0000\n"),
    ] {
        let mut s = session(ServerConfig::new().with_max_version(v));
        assert_eq!(s.version(), v);
        assert_eq!(s.max_version(), v);
        assert_eq!(drain_transmit(&mut s, Instant::ZERO), [line]);
    }
}

#[test]
fn negotiation_down_to_1_reads_early_v3_lines_and_later_v1_lines() {
    let mut s = session(ServerConfig::new().with_max_version(Version::V1));
    // Written by the client before it read our PROTOCOL 0001: the v3 forms.
    let ev = feed(
        &mut s,
        ms(1),
        b"PROTOCOL 0003\nCTORRENT a 1 2 f\nCTSTATUS 0:0/0:0/0 13/13/13 0,0 0,0 0,0 0\n",
    );
    assert_eq!(
        ev,
        [
            "protocol 3 v1",
            "hello a 1 2 f",
            "status v23 13/13/13 0,0 0,0 0,0"
        ]
    );
    assert_eq!(s.version(), Version::V1);
    assert_eq!(s.announced_version(), Some(3));
    // After it: v1 forms.
    let ev = feed(
        &mut s,
        ms(2),
        b"CTSTATUS 0/0 13/13/13 0,0 0,0 0,0\nCTDETAIL 800000 65536 1 1\nCTFILES\nCTFILE 1 8 8 500000 b.bin\nCTFILE 2 6 6 300000 a file.txt\nCTFDONE\nCTPEERS\nCTPDONE\nCTCONFIG 1 72 0.000000 100 1 0 0 0 0\n",
    );
    assert_eq!(
        ev,
        [
            "status v1 13/13/13 0,0 0,0 0,0",
            "detail 800000 65536",
            "begin files",
            "file 1 8 b.bin",
            "file 2 6 a file.txt",
            "end files 2",
            "begin peers",
            "end peers 0",
            "begin config",
            "config_values Set(100)",
            "end config 1"
        ]
    );
    // Nothing but our own PROTOCOL was sent: the client announced 3 ≥ 1.
    assert_eq!(drain_transmit(&mut s, ms(2)), [b"PROTOCOL 0001\n"]);
}

#[test]
fn negotiation_down_to_2() {
    let mut s = session(ServerConfig::new().with_max_version(Version::V2));
    let mut ev = feed(&mut s, ms(1), HANDSHAKE);
    ev.extend(feed(
        &mut s,
        ms(2),
        b"CTSTATUS 0:0/0:0/0 13/13/13 0,0 0,0 0,0 0\nCTFILES\nCTFILE 2 6 6 6 300000 a file.txt\nCTFDONE\nCTCONFIG 1 72 0.000000 100 1 0 1 0\n",
    ));
    assert_eq!(
        ev,
        [
            "protocol 3 v2",
            HELLO,
            "status v23 13/13/13 0,0 0,0 0,0",
            "begin files",
            "file 2 6 a file.txt",
            "end files 1",
            "begin config",
            "config_values Set(100)",
            "end config 1"
        ]
    );
}

#[test]
fn a_sticky_client_is_read_in_its_old_version_until_our_protocol_arrives() {
    // dnh3.3.2 negotiated 1 on its previous connection, reconnects, announces 3 and
    // sends a v1 CTSTATUS (measured from dnh3.3.2: tests/vectors/ctcs/protocol_sticky.txt); we allow 3.
    let mut s = session(ServerConfig::new());
    let ev = feed(
        &mut s,
        ms(1),
        b"PROTOCOL 0003\nCTORRENT a 1 2 f\nCTSTATUS 0/0 13/13/13 0,0 0,0 0,0\nCTCONFIG 1 72 0.000000 100 1 0 0 0 0\n",
    );
    assert_eq!(
        ev,
        [
            "protocol 3 v3",
            "hello a 1 2 f",
            "status v1 13/13/13 0,0 0,0 0,0",
            "begin config",
            "config_values Set(100)",
            "end config 1"
        ]
    );
    assert_eq!(s.version(), Version::V3);
}

#[test]
fn legacy_blocks_stream_as_items_whatever_the_version_in_force() {
    // A reconnected dnh3.3.2 that negotiated 2 before keeps writing version-2 blocks
    // until it reads our PROTOCOL (measured from dnh3.3.2), while we hold 3.
    let mut s = ready(ServerConfig::new());
    assert_eq!(s.version(), Version::V3);
    let peer = "CTPEER -CD0303-UQT0x83 127.0.0.1 UiCn 1 2 3 4 5\n";
    // The file's name starts with two numbers: read as version 3 (8 fields) the line
    // would be a valid CTFILE with n_have 65536 and the name "file". The CTFILES marker
    // says its items have the version-2 form.
    let ev = feed(
        &mut s,
        ms(1),
        format!("CTFILES\nCTFILE 1 4 4 4 65536 7 8 file\nCTFDONE\nCTPEERS\n{peer}CTPDONE\n")
            .as_bytes(),
    );
    assert_eq!(
        ev,
        [
            "begin files",
            "file 1 4 7 8 file",
            "end files 1",
            "begin peers",
            "peer -CD0303-UQT0x83 127.0.0.1",
            "end peers 1"
        ]
    );
    // The v3 spelling under a version-2 session streams as well, and its items are
    // read in the version-3 form.
    let mut s = ready(ServerConfig::new().with_max_version(Version::V2));
    assert_eq!(s.version(), Version::V2);
    let ev = feed(
        &mut s,
        ms(1),
        b"CTFILESTART\nCTFILE 1 0 0 4 4 4 1048576 single.bin\nCTFILESDONE\n",
    );
    assert_eq!(ev, ["begin files", "file 1 4 single.bin", "end files 1"]);
    // A legacy block at version 1 reads version-1 items (no n_available field).
    let mut s = ready(ServerConfig::new().with_max_version(Version::V1));
    let ev = feed(
        &mut s,
        ms(1),
        b"CTFILES\nCTFILE 1 8 8 500000 b.bin\nCTFDONE\n",
    );
    assert_eq!(ev, ["begin files", "file 1 8 b.bin", "end files 1"]);
}

#[test]
fn the_clients_announced_version_lowers_ours_and_is_confirmed() {
    let mut s = session(ServerConfig::new());
    drain_transmit(&mut s, Instant::ZERO);
    assert_eq!(feed(&mut s, ms(1), b"PROTOCOL 0002\n"), ["protocol 2 v2"]);
    assert_eq!(s.version(), Version::V2);
    assert_eq!(drain_transmit(&mut s, ms(1)), [b"PROTOCOL 0002\n"]);
    // Announcing more later does not raise it again.
    assert_eq!(feed(&mut s, ms(1), b"PROTOCOL 0004\n"), ["protocol 4 v2"]);
    assert!(drain_transmit(&mut s, ms(1)).is_empty());
    // An announced 0 counts as 1.
    assert_eq!(feed(&mut s, ms(1), b"PROTOCOL 0000\n"), ["protocol 0 v1"]);
    assert_eq!(drain_transmit(&mut s, ms(1)), [b"PROTOCOL 0001\n"]);
    // 4 from the client, 3 allowed: 3, no extra line.
    let mut s = session(ServerConfig::new());
    drain_transmit(&mut s, Instant::ZERO);
    assert_eq!(feed(&mut s, ms(1), b"PROTOCOL 0004\n"), ["protocol 4 v3"]);
    assert!(drain_transmit(&mut s, ms(1)).is_empty());
    // A bad PROTOCOL line is an error event, nothing more.
    let ev = feed(&mut s, ms(1), b"PROTOCOL garbage\n");
    assert!(ev[0].starts_with("error Line"), "{ev:?}");
    assert_eq!(s.version(), Version::V3);
}

// ---- commands -----------------------------------------------------------------------

fn positional(maxpeers: i32) -> CtConfigValues<'static> {
    CtConfigValues {
        maxpeers: Positional::Set(maxpeers),
        ..CtConfigValues::default()
    }
}

#[test]
fn every_command_in_every_version() {
    for v in [Version::V0, Version::V1, Version::V2, Version::V3] {
        let mut s = ready(ServerConfig::new().with_max_version(v));
        s.request_status().unwrap();
        s.request_peers().unwrap();
        s.request_detail().unwrap();
        s.request_config().unwrap();
        s.set_download_limit(20480).unwrap();
        s.set_upload_limit(-5).unwrap();
        s.set_download_limit(i32::MIN).unwrap();
        s.update().unwrap();
        s.restart().unwrap();
        s.quit().unwrap();
        let config = if v.is_v3() {
            assert_eq!(
                s.set_config_values(&positional(60)).map_err(|e| e.kind()),
                Err(UsageErrorKind::WrongVersion)
            );
            s.set_config(b"max_peers", b"50").unwrap();
            &b"CTCONFIG max_peers 50\n"[..]
        } else {
            assert_eq!(
                s.set_config(b"max_peers", b"50").map_err(|e| e.kind()),
                Err(UsageErrorKind::WrongVersion)
            );
            s.set_config_values(&positional(if v == Version::V1 { 70 } else { 60 }))
                .unwrap();
            match v.get() {
                2 => &b"CTCONFIG . . . 60 . . . .\n"[..],
                1 => b"CTCONFIG . . . 70 . . . . .\n",
                _ => b"CTCONFIG . . . 60 . . .\n",
            }
        };
        assert_eq!(
            drain_transmit(&mut s, ms(1)),
            [
                &b"SENDSTATUS\n"[..],
                b"SENDPEERS\n",
                b"SENDDETAIL\n",
                b"SENDCONF\n",
                b"SETDLIMIT 20480\n",
                b"SETULIMIT -5\n",
                b"SETDLIMIT -2147483648\n",
                b"CTUPDATE\n",
                b"CTRESTART\n",
                b"CTQUIT\n",
                config,
            ],
            "version {v}"
        );
    }
}

#[test]
fn positional_config_with_every_field() {
    let mut s = ready(ServerConfig::new().with_max_version(Version::V2));
    let all = CtConfigValues {
        verbose: Positional::Set(1),
        seedtime: Positional::Set(72),
        seed_ratio: Positional::Set(Float::new("1.500000").unwrap()),
        maxpeers: Positional::Set(60),
        minpeers: Positional::Set(2),
        fileno: Positional::Set(0),
        cache_size: Positional::Set(8),
        exitzero: Positional::Keep,
        pause: Positional::Set(0),
        soft_quit: Positional::Keep,
    };
    s.set_config_values(&all).unwrap();
    assert_eq!(
        drain_transmit(&mut s, ms(1)),
        [b"CTCONFIG 1 72 1.500000 60 2 0 8 0\n"]
    );
    // The client reads verbose as one byte at a fixed offset.
    for bad in [10, -1] {
        let v = CtConfigValues {
            verbose: Positional::Set(bad),
            ..all
        };
        assert_eq!(
            s.set_config_values(&v).map_err(|e| e.kind()),
            Err(UsageErrorKind::InvalidValue)
        );
    }
}

#[test]
fn commands_refuse_lines_the_client_chokes_on() {
    let mut s = ready(ServerConfig::new());
    // A bare CTCONFIG, names that are not words, values with line ends or NUL.
    for (name, value) in [
        (&b""[..], &b"1"[..]),
        (b"max peers", b"1"),
        (b"max\0peers", b"1"),
        (b"max_peers\n", b"1"),
        (b"max_peers", b"1\0"),
        (b"max_peers", b"1\n"),
        (b"max_peers", b"1\r"),
        (b"max_peers", b"\nSENDSTATUS"),
        (b"max_peers", b" 1"),
        // Found by fuzzing: a name of blanks makes `CTCONFIG \t \n`, which leaves the
        // client's tokenizer without a name, like a bare CTCONFIG.
        (b"\t", b""),
        (b"max\tpeers", b"1"),
        (b"max_peers", b"\t1"),
        (b"m\xe9x", b"1"),
    ] {
        assert_eq!(
            s.set_config(name, value).map_err(|e| e.kind()),
            Err(UsageErrorKind::InvalidValue),
            "{name:?} {value:?}"
        );
    }
    // Over-long: the longest line is 4294 bytes plus LF.
    let prefix = b"CTCONFIG user_exit ".len();
    let fits = vec![b'x'; MAX_COMMAND_LEN - prefix];
    assert_eq!(
        s.set_config(b"user_exit", &[fits.as_slice(), b"x"].concat())
            .map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
    s.set_config(b"user_exit", &fits).unwrap();
    // An empty value keeps the blank the client needs.
    s.set_config(b"file_list", b"").unwrap();
    // A value may hold spaces, colons and other bytes.
    s.set_config(b"min_peers", b"3 extra words").unwrap();
    let lines = drain_transmit(&mut s, ms(1));
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].len(), MAX_COMMAND_LEN + 1);
    assert_eq!(lines[1], b"CTCONFIG file_list \n");
    assert_eq!(lines[2], b"CTCONFIG min_peers 3 extra words\n");
    // Nothing was queued by the refused calls.
    assert!(drain_transmit(&mut s, ms(1)).is_empty());
}

#[test]
fn the_transmit_queue_is_bounded() {
    let mut s = session(ServerConfig::new());
    // PROTOCOL is queued; MAX_QUEUED_LINES - 1 more fit.
    for _ in 1..MAX_QUEUED_LINES {
        s.request_status().unwrap();
    }
    assert_eq!(s.queued_lines(), MAX_QUEUED_LINES);
    assert_eq!(
        s.request_status().map_err(|e| e.kind()),
        Err(UsageErrorKind::Full)
    );
    assert_eq!(drain_transmit(&mut s, ms(1)).len(), MAX_QUEUED_LINES);
    s.request_status().unwrap();
    drain_transmit(&mut s, ms(1));
    // Bytes: three longest lines (3 × 4295) fit 16 KiB, a fourth does not.
    let long = vec![b'x'; MAX_COMMAND_LEN - b"CTCONFIG user_exit ".len()];
    for _ in 0..3 {
        s.set_config(b"user_exit", &long).unwrap();
    }
    assert_eq!(
        s.set_config(b"user_exit", &long).map_err(|e| e.kind()),
        Err(UsageErrorKind::Full)
    );
    assert_eq!(drain_transmit(&mut s, ms(1)).len(), 3);
    s.set_config(b"user_exit", &long).unwrap();
    // A small queue refuses what can never fit as TooLong.
    let mut small =
        ServerSession::<64, 100>::new_sized(ServerConfig::new(), Instant::ZERO).unwrap();
    assert_eq!(
        small.set_config(b"user_exit", &long).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
    for e in [
        ServerSession::<64, 8>::new_sized(ServerConfig::new(), Instant::ZERO).err(),
        ServerSession::<1, 100>::new_sized(ServerConfig::new(), Instant::ZERO).err(),
    ] {
        assert_eq!(e.map(|e| e.kind()), Some(UsageErrorKind::TooLong));
    }
}

#[test]
fn poll_transmit_keeps_a_line_that_does_not_fit() {
    let mut s = session(ServerConfig::new());
    let mut tiny = [0u8; 4];
    let e = s.poll_transmit(&mut tiny).unwrap_err();
    assert_eq!(e.required(), 14);
    assert_eq!(tiny, [0; 4]);
    assert_eq!(drain_transmit(&mut s, ms(1)), [b"PROTOCOL 0003\n"]);
}

// ---- identification and blocks ------------------------------------------------------

#[test]
fn status_traffic_before_ctorrent_is_an_error_event_not_a_dead_session() {
    let mut s = session(ServerConfig::new());
    let ev = feed(
        &mut s,
        ms(1),
        b"CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\nCTPEERSTART\nhello?\nCTBW 1,2 3,4\n",
    );
    assert_eq!(
        ev,
        [
            "error NotIdentified { keyword: \"CTSTATUS\" }",
            "error NotIdentified { keyword: \"CTPEERSTART\" }",
            "unknown hello?",
            "error NotIdentified { keyword: \"CTBW\" }"
        ]
    );
    assert_eq!(s.state(), ServerState::AwaitingIdentity);
    let ev = feed(&mut s, ms(2), b"CTORRENT a 1 2 f\nCTBW 1,2 3,4\n");
    assert_eq!(ev, ["hello a 1 2 f", "bw 1,2 3,4"]);
}

#[test]
fn block_errors_are_events() {
    let mut s = ready(ServerConfig::new());
    let peer = "CTPEER -CD0303-UQT0x83 127.0.0.1 UiCn 8157 0 16384 0 13\n";
    // An item outside its block is still reported, after the error.
    let ev = feed(&mut s, ms(1), peer.as_bytes());
    assert_eq!(
        ev,
        [
            "error ItemOutsideBlock(Peers)",
            "peer -CD0303-UQT0x83 127.0.0.1"
        ]
    );
    // An end without a start.
    assert_eq!(
        feed(&mut s, ms(1), b"CTPEERSDONE\n"),
        ["error UnexpectedBlockEnd(Peers)"]
    );
    // A new start before the end (and a foreign end inside a block).
    let ev = feed(
        &mut s,
        ms(1),
        format!("CTFILESTART\nCTFILE 1 0 0 4 4 4 1048576 single.bin\nCTPEERSDONE\nCTPEERSTART\n{peer}CTBW 0,0 0,0\nCTFILE 2 0 0 4 4 4 1 x\nCTPEERSDONE\n").as_bytes(),
    );
    assert_eq!(
        ev,
        [
            "begin files",
            "file 1 4 single.bin",
            "error UnexpectedBlockEnd(Peers)",
            "error UnterminatedBlock { block: Files, items: 1, cause: Interrupted(Peers) }",
            "begin peers",
            "peer -CD0303-UQT0x83 127.0.0.1",
            "bw 0,0 0,0",
            "error ItemOutsideBlock(Files)",
            "file 2 4 x",
            "end peers 1"
        ]
    );
    assert_eq!(s.open_block(), None);
}

#[test]
fn an_unterminated_block_times_out_exactly() {
    let mut s = ready(ServerConfig::new().with_block_timeout(Some(Duration::from_secs(30))));
    assert_eq!(s.poll_timeout(), None);
    feed(&mut s, secs(1), b"CTCONFIGSTART\n");
    assert_eq!(s.poll_timeout(), Some(secs(31)));
    feed(
        &mut s,
        secs(2),
        b"CTCONFIG verbose B 0 1:1 19:Verbose output [-v] 7:Enabled\n",
    );
    assert_eq!(s.open_block(), Some(BlockKind::Config));
    assert_eq!(s.poll_timeout(), Some(secs(32)));
    s.handle_timeout(ms(31_999));
    assert!(drain_events(&mut s).is_empty());
    s.handle_timeout(secs(32));
    assert_eq!(
        drain_events(&mut s),
        ["error UnterminatedBlock { block: Config, items: 1, cause: TimedOut }"]
    );
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(secs(33));
    assert!(drain_events(&mut s).is_empty());
    // Its late end is an unexpected end; the session goes on.
    assert_eq!(
        feed(&mut s, secs(40), b"CTCONFIGDONE\n"),
        ["error UnexpectedBlockEnd(Config)"]
    );
    // Closing with a block open.
    feed(&mut s, secs(41), b"CTPEERSTART\n");
    s.handle_closed();
    assert_eq!(
        drain_events(&mut s),
        [
            "error UnterminatedBlock { block: Peers, items: 0, cause: Closed }",
            "closed"
        ]
    );
}

#[test]
fn ctinfo_continuation_lines() {
    let mut s = ready(ServerConfig::new());
    let ev = feed(
        &mut s,
        ms(1),
        b"CTINFO 2 TRACKER WARNING: harness warning\nwith an embedded newline\nand another\nCTINFO 1 TRACKER FAILURE REASON: x\nCTBW 0,0 0,0\nstray line\n",
    );
    assert_eq!(
        ev,
        [
            "info 2 TRACKER WARNING: harness warning",
            "info+ with an embedded newline",
            "info+ and another",
            "info 1 TRACKER FAILURE REASON: x",
            "bw 0,0 0,0",
            "unknown stray line"
        ]
    );
}

// ---- framing ------------------------------------------------------------------------

#[test]
fn framing_errors_mid_stream_lose_no_later_line() {
    let mut stream = b"CTBW 1,2 3,4\n".to_vec();
    stream.extend(std::iter::repeat(b'x').take(5000));
    stream.extend_from_slice(
        b"\nCTBW 5,6 7,8\n\0CTINFO 1 x\nCTINFO 2 ok\nCTBW 9,9 x\nCTBW 1,1 1,1\n",
    );
    // A line of exactly 4294 bytes is fine.
    let long_info = format!("CTINFO 3 {}\n", "y".repeat(4294 - 9));
    stream.extend_from_slice(long_info.as_bytes());
    let mut first = None;
    for sizes in [&[usize::MAX][..], &[1], &[100, 3, 4097]] {
        let mut s = ready(ServerConfig::new());
        let ev = feed_chunked(&mut s, ms(1), &stream, sizes);
        assert_eq!(ev.len(), 8, "{ev:?}");
        assert_eq!(ev[0], "bw 1,2 3,4");
        assert!(ev[1].contains("LineTooLong"), "{}", ev[1]);
        assert_eq!(ev[2], "bw 5,6 7,8");
        assert!(ev[3].contains("NulByte"), "{}", ev[3]);
        assert_eq!(ev[4], "info 2 ok");
        assert!(ev[5].contains("InvalidNumber"), "{}", ev[5]);
        assert_eq!(ev[6], "bw 1,1 1,1");
        assert_eq!(ev[7].len(), "info 3 ".len() + 4294 - 9);
        match &first {
            None => first = Some(ev),
            Some(f) => assert_eq!(f, &ev),
        }
    }
}

#[test]
fn line_errors_say_what_and_where() {
    let mut s = ready(ServerConfig::new());
    feed(&mut s, ms(1), b"CTBW 9,9 x\n");
    let mut s2 = ready(ServerConfig::new());
    s2.handle_input(ms(1), b"AB\0C\n").unwrap();
    match s2.poll_event() {
        Some(ServerEvent::Error(InputError::Line(e))) => {
            assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::NulByte, 2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        InputError::UnterminatedBlock {
            block: BlockKind::Files,
            items: 2,
            cause: Unterminated::TimedOut
        }
        .to_string(),
        "files block ended after 2 items without its end marker (timed out)"
    );
    assert_eq!(AuthFailure::WrongPassword.to_string(), "wrong password");
}

#[test]
fn input_is_taken_whole_and_lines_wait_to_be_polled() {
    let mut s = ready(ServerConfig::new());
    let spare = s.input_spare();
    s.handle_input(ms(1), b"CTBW 1,1 1,1\nCTBW 2,2 2,2\n")
        .unwrap();
    assert_eq!(s.input_spare(), spare - 26);
    assert_eq!(
        s.poll_event().map(|e| render(&e)).as_deref(),
        Some("bw 1,1 1,1")
    );
    // The second line waits in the session while more arrives.
    s.handle_input(ms(1), b"CTBW 3,3").unwrap();
    assert_eq!(drain_events(&mut s), ["bw 2,2 2,2"]);
    // A partial line is kept inside.
    assert!(drain_events(&mut s).is_empty());
    assert_eq!(s.input_spare(), spare - 8);
    s.handle_input(ms(1), b" 3,3\n").unwrap();
    assert_eq!(drain_events(&mut s), ["bw 3,3 3,3"]);
    s.handle_input(ms(1), b"").unwrap();
    assert_eq!(s.input_spare(), spare);
}

#[test]
fn byte_by_byte_and_one_chunk_give_the_same_events() {
    let mut stream = HANDSHAKE.to_vec();
    stream.extend_from_slice(
        b"CTPEERSTART\nCTPEER -CD0303-UQT0x83 127.0.0.1 UiCn 8157 0 16384 0 13\nCTPEERSDONE\n\
          CTBW 1,2 3,4\r\n\0bad\nCTINFO 2 a warning\nwith a newline\nCTBW",
    );
    let mut whole = session(ServerConfig::new());
    whole.handle_input(ms(1), &stream).unwrap();
    let at_once = drain_events(&mut whole);
    assert_eq!(at_once.len(), 9, "{at_once:?}");
    assert_eq!(at_once[3], "peer -CD0303-UQT0x83 127.0.0.1");
    assert!(at_once[6].contains("NulByte"), "{}", at_once[6]);
    assert_eq!(at_once[8], "info+ with a newline");
    // The partial "CTBW" at the end waits for its line end.
    assert_eq!(whole.input_spare(), whole.input_capacity() - 4);
    let mut bytes = session(ServerConfig::new());
    let mut one_by_one = Vec::new();
    for b in &stream {
        bytes.handle_input(ms(1), std::slice::from_ref(b)).unwrap();
        one_by_one.extend(drain_events(&mut bytes));
    }
    assert_eq!(one_by_one, at_once);
    // Read straight into the session: the same again.
    let mut direct = session(ServerConfig::new());
    let room = direct.input_buf();
    room[..stream.len()].copy_from_slice(&stream);
    direct.commit_input(ms(1), stream.len()).unwrap();
    assert_eq!(drain_events(&mut direct), at_once);
}

#[test]
fn a_full_input_buffer_loses_nothing_and_resumes_after_polling() {
    let mut s = ServerSession::<80, 1024>::new_sized(ServerConfig::new(), Instant::ZERO).unwrap();
    feed(&mut s, ms(1), HANDSHAKE);
    assert_eq!(s.state(), ServerState::Ready);
    let six =
        b"CTBW 1,1 1,1\nCTBW 2,2 2,2\nCTBW 3,3 3,3\nCTBW 4,4 4,4\nCTBW 5,5 5,5\nCTBW 6,6 6,6\n";
    s.handle_input(ms(2), six).unwrap();
    assert_eq!(s.input_spare(), 80 - 78);
    // Too much for the room left: refused whole, nothing taken, nothing lost.
    let next = b"CTBW 7,7 7,7\n";
    let full = s.handle_input(ms(2), next).unwrap_err();
    assert_eq!((full.offered(), full.spare()), (13, 2));
    assert_eq!(s.input_spare(), 2);
    assert_eq!(s.commit_input(ms(2), 3).unwrap_err().offered(), 3);
    // Polling frees the room of the lines acted on.
    assert_eq!(
        drain_events(&mut s),
        [
            "bw 1,1 1,1",
            "bw 2,2 2,2",
            "bw 3,3 3,3",
            "bw 4,4 4,4",
            "bw 5,5 5,5",
            "bw 6,6 6,6"
        ]
    );
    assert_eq!(s.input_spare(), 80);
    s.handle_input(ms(3), next).unwrap();
    assert_eq!(drain_events(&mut s), ["bw 7,7 7,7"]);
    // Lines are at most IN - 1 bytes here; a longer one is an error for itself only.
    let mut long = vec![b'x'; 100];
    long.extend_from_slice(b"\nCTBW 8,8 8,8\n");
    let ev = feed_chunked(&mut s, ms(4), &long, &[usize::MAX]);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(
        ev[0].contains("LineTooLong") && ev[0].contains("79"),
        "{}",
        ev[0]
    );
    assert_eq!(ev[1], "bw 8,8 8,8");
}

#[test]
fn one_line_per_poll_transmit() {
    let mut s = ready(ServerConfig::new());
    s.request_status().unwrap();
    s.request_peers().unwrap();
    s.quit().unwrap();
    let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
    let mut lines = Vec::new();
    while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
        lines.push(buf[..n].to_vec());
    }
    assert_eq!(lines, [&b"SENDSTATUS\n"[..], b"SENDPEERS\n", b"CTQUIT\n"]);
}

// ---- timers -------------------------------------------------------------------------

#[test]
fn status_poll_is_exact_in_virtual_time() {
    let cfg = ServerConfig::new().with_poll_interval(Some(Duration::from_secs(10)));
    let mut s = session(cfg);
    drain_transmit(&mut s, Instant::ZERO);
    assert_eq!(s.poll_timeout(), None, "no poll before CTORRENT");
    feed(&mut s, secs(2), HANDSHAKE);
    assert_eq!(s.poll_timeout(), Some(secs(12)));
    s.handle_timeout(ms(11_999));
    assert!(drain_transmit(&mut s, ms(11_999)).is_empty());
    s.handle_timeout(secs(12));
    assert_eq!(drain_transmit(&mut s, secs(12)), [b"SENDSTATUS\n"]);
    assert_eq!(s.poll_timeout(), Some(secs(22)));
    s.handle_timeout(secs(12));
    assert!(
        drain_transmit(&mut s, secs(12)).is_empty(),
        "twice is a no-op"
    );
    // Late by less than a period: the schedule keeps its phase.
    s.handle_timeout(secs(25));
    assert_eq!(drain_transmit(&mut s, secs(25)), [b"SENDSTATUS\n"]);
    assert_eq!(s.poll_timeout(), Some(secs(32)));
    // A jump: one poll, then a period from now.
    s.handle_timeout(secs(100));
    assert_eq!(drain_transmit(&mut s, secs(100)), [b"SENDSTATUS\n"]);
    assert_eq!(s.poll_timeout(), Some(secs(110)));
    // The poll follows the version in force, and events are not produced by it.
    assert!(drain_events(&mut s).is_empty());
}

#[test]
fn idle_timer_is_exact_in_virtual_time() {
    let cfg = ServerConfig::new().with_idle_timeout(Some(Duration::from_secs(60)));
    let mut s = session(cfg);
    assert_eq!(s.poll_timeout(), Some(secs(60)));
    feed(&mut s, secs(10), b"PROTOCOL 0003\n");
    assert_eq!(s.poll_timeout(), Some(secs(70)));
    s.handle_timeout(ms(69_999));
    assert!(drain_events(&mut s).is_empty());
    s.handle_timeout(secs(70));
    assert_eq!(drain_events(&mut s), ["idle 10000"]);
    assert_eq!(s.poll_timeout(), None, "once per silence");
    s.handle_timeout(secs(200));
    assert!(drain_events(&mut s).is_empty());
    // Any bytes re-arm it, even a partial line.
    s.handle_input(secs(300), b"CTORR").unwrap();
    assert_eq!(s.poll_timeout(), Some(secs(360)));
}

#[test]
fn time_going_backwards_never_panics_or_moves_deadlines_back() {
    let cfg = ServerConfig::new()
        .with_idle_timeout(Some(Duration::from_secs(60)))
        .with_poll_interval(Some(Duration::from_secs(5)));
    let mut s = session(cfg);
    feed(&mut s, secs(50), HANDSHAKE);
    assert_eq!(s.poll_timeout(), Some(secs(55)));
    s.handle_timeout(secs(10));
    assert!(drain_events(&mut s).is_empty());
    feed(&mut s, secs(5), b"CTBW 1,1 1,1\n");
    // The input counts as at 50 s, the latest time seen.
    assert_eq!(s.poll_timeout(), Some(secs(55)));
    s.handle_timeout(secs(200));
    s.handle_timeout(Instant::ZERO);
    assert!(s.poll_timeout().unwrap() > secs(200));
    assert_eq!(drain_events(&mut s), ["idle 50000"]);
    // Zero durations count as 1 ms, so a deadline is never `now` for ever.
    let cfg = ServerConfig::new()
        .with_idle_timeout(Some(Duration::ZERO))
        .with_poll_interval(Some(Duration::ZERO));
    let mut s = ready(cfg);
    s.handle_timeout(secs(1));
    assert!(s.poll_timeout().unwrap() > secs(1));
    // The end of time saturates.
    let mut s = ready(ServerConfig::new().with_poll_interval(Some(Duration::MAX)));
    s.handle_timeout(Instant::from_millis(u64::MAX));
    assert!(s.poll_timeout().unwrap() >= Instant::from_millis(u64::MAX));
}

#[test]
fn closing_ends_everything() {
    let mut s = ready(
        ServerConfig::new()
            .with_idle_timeout(Some(Duration::from_secs(1)))
            .with_poll_interval(Some(Duration::from_secs(1))),
    );
    s.request_status().unwrap();
    s.handle_closed();
    assert_eq!(s.state(), ServerState::Closed);
    assert_eq!(drain_events(&mut s), ["closed"]);
    assert!(drain_transmit(&mut s, secs(1)).is_empty());
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(
        s.quit().map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidState)
    );
    s.handle_input(secs(2), b"CTBW 1,1 1,1\n").unwrap();
    assert_eq!(s.input_spare(), s.input_capacity());
    s.handle_closed();
    s.handle_timeout(secs(9));
    assert!(drain_events(&mut s).is_empty());
}

// ---- property test --------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Input(Vec<u8>, Vec<usize>),
    Advance(i64),
    Timeout,
    Command(u8, i32, Vec<u8>, Vec<u8>),
    Close,
}

fn sample_lines() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = transcripts()
        .iter()
        .flat_map(|(_, t)| parse_transcript(t))
        .filter(|e| e.dir == 'C')
        .map(|e| e.bytes)
        .collect();
    v.extend([
        b"PROTOCOL 0001\n".to_vec(),
        b"PROTOCOL 0002\n".to_vec(),
        b"CTFILES\n".to_vec(),
        b"CTFDONE\n".to_vec(),
        b"CTCONFIG 1 72 0.000000 100 1 0 0 0 0\n".to_vec(),
        b"\0CTCONFIG x\n".to_vec(),
        b"AUTH pw\n".to_vec(),
    ]);
    v.sort();
    v.dedup();
    v
}

fn op() -> impl Strategy<Value = Op> {
    let lines = sample_lines();
    let input = prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(lines),
            2 => prop::collection::vec(any::<u8>(), 0..40),
            1 => (1usize..6000).prop_map(|n| vec![b'z'; n]),
        ],
        1..6,
    )
    .prop_map(|parts| parts.concat());
    prop_oneof![
        6 => (input, prop::collection::vec(1usize..300, 1..4)).prop_map(|(b, s)| Op::Input(b, s)),
        2 => (-5_000i64..120_000).prop_map(Op::Advance),
        2 => Just(Op::Timeout),
        3 => (
            0u8..12,
            any::<i32>(),
            prop::collection::vec(prop_oneof![Just(b'a'), Just(b' '), Just(0u8), Just(b'\n'), any::<u8>()], 0..8),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..8),
                (0usize..5000).prop_map(|n| vec![b'v'; n]),
            ],
        )
            .prop_map(|(k, n, a, b)| Op::Command(k, n, a, b)),
        1 => Just(Op::Close),
    ]
}

fn check_line(line: &[u8]) {
    assert_eq!(line.last(), Some(&b'\n'), "{line:?}");
    let body = &line[..line.len() - 1];
    assert!(
        !body.contains(&b'\n') && !body.contains(&b'\r'),
        "one line: {line:?}"
    );
    assert!(!line.contains(&0), "NUL in {line:?}");
    assert!(line.len() <= MAX_COMMAND_LEN + 1);
    if let Some(rest) = body.strip_prefix(b"CTCONFIG") {
        // Never a bare CTCONFIG: a blank and a name (or a positional field) follow.
        assert!(
            rest.len() >= 2 && rest[0] == b' ' && rest[1] != b' ',
            "{line:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_scripts_never_break_the_session(
        version in 0u8..4,
        password in prop::option::of(Just(b"pw".to_vec())),
        poll in prop::option::of(1u64..20_000),
        idle in prop::option::of(1u64..50_000),
        block in prop::option::of(1u64..50_000),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let cfg = ServerConfig::new()
            .with_max_version(Version::new(version).unwrap())
            .with_password(password.as_deref())
            .with_poll_interval(poll.map(Duration::from_millis))
            .with_idle_timeout(idle.map(Duration::from_millis))
            .with_block_timeout(block.map(Duration::from_millis));
        let mut s = ServerSession::new(cfg, Instant::from_millis(1_000)).unwrap();
        let mut now: u64 = 1_000;
        let mut latest: u64 = 1_000;
        let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
        for op in ops {
            match op {
                Op::Input(bytes, sizes) => {
                    let mut rest = &bytes[..];
                    let mut i = 0;
                    while !rest.is_empty() {
                        let n = sizes[i % sizes.len()].min(rest.len());
                        i += 1;
                        let mut chunk = &rest[..n];
                        rest = &rest[n..];
                        while !chunk.is_empty() {
                            let spare = s.input_spare();
                            let used = match s.handle_input(Instant::from_millis(now), chunk) {
                                Ok(()) => chunk.len(),
                                Err(full) => {
                                    prop_assert_eq!(full.spare(), spare);
                                    prop_assert!(spare > 0, "no progress");
                                    s.handle_input(Instant::from_millis(now), &chunk[..spare]).unwrap();
                                    spare
                                }
                            };
                            chunk = &chunk[used..];
                            while s.poll_event().is_some() {}
                            prop_assert!(s.input_spare() >= s.input_capacity() - 4294, "a drained session holds at most a partial line");
                        }
                    }
                }
                Op::Advance(d) => now = now.saturating_add_signed(d),
                Op::Timeout => {
                    s.handle_timeout(Instant::from_millis(now));
                    latest = latest.max(now);
                    if let Some(t) = s.poll_timeout() {
                        prop_assert!(t >= Instant::from_millis(now));
                        prop_assert!(t >= Instant::from_millis(latest));
                    }
                }
                Op::Command(k, n, a, b) => {
                    let _ = match k {
                        0 => s.request_status(),
                        1 => s.request_peers(),
                        2 => s.request_detail(),
                        3 => s.request_config(),
                        4 => s.set_download_limit(n),
                        5 => s.set_upload_limit(n),
                        6 => s.set_config(&a, &b),
                        7 => s.set_config(b"", &b),
                        8 => s.set_config_values(&CtConfigValues {
                            verbose: Positional::Set(n % 12),
                            maxpeers: Positional::Set(n),
                            seed_ratio: std::str::from_utf8(&b).ok().and_then(|t| Float::new(t).ok()).map_or(Positional::Keep, Positional::Set),
                            ..CtConfigValues::default()
                        }),
                        9 => s.update(),
                        10 => s.restart(),
                        _ => s.quit(),
                    };
                }
                Op::Close => s.handle_closed(),
            }
            while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
                check_line(&buf[..n]);
            }
            while s.poll_event().is_some() {}
        }
    }
}

#[test]
fn max_transmit_len_suffices_for_the_longest_command() {
    let mut s = ready(ServerConfig::new());
    let value = vec![b'v'; MAX_COMMAND_LEN - b"CTCONFIG user_exit ".len()];
    s.set_config(b"user_exit", &value).unwrap();
    let mut short = vec![0u8; ServerSession::MAX_TRANSMIT_LEN - 1];
    assert_eq!(
        s.poll_transmit(&mut short).unwrap_err().required(),
        ServerSession::MAX_TRANSMIT_LEN
    );
    let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
    assert_eq!(
        s.poll_transmit(&mut buf).unwrap(),
        Some(ServerSession::MAX_TRANSMIT_LEN)
    );
    let longer = vec![b'v'; value.len() + 1];
    assert_eq!(
        s.set_config(b"user_exit", &longer).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
}
