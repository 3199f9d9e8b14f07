//! `ctcs::ClientSession` in virtual time: replayed against every shipped transcript
//! (byte-exact client lines, the events of every server line, the reconnect of
//! `auth.txt`), unit-style scenarios for each rule, and a property test.

use crate::common;

use std::time::Duration;

use common::{transcripts, unescape};
use proptest::prelude::*;
use trackwire::ctcs::{
    ClientEvent, ClientMessage, ClientSession, ClientSessionConfig, ClientState, CtBw, CtConfig,
    CtConfigValues, CtDetail, CtFile, CtPeer, CtStatus, Float, Framer, KeywordMatch, Marker,
    PeerFlags, PeerIdText, Positional, Text, Version, Word,
};
use trackwire::{Instant, UsageErrorKind};

// ---- transcript replay ------------------------------------------------------------------

/// A transcript line with its time.
#[derive(Debug, Clone)]
enum Item {
    /// `C>`/`S>`: time (ms), direction, connection, bytes.
    Data(u64, char, u32, Vec<u8>),
    /// `# … cN server closes the connection`.
    ServerClosed(u64, u32),
}

fn millis(t: &str) -> u64 {
    let (s, frac) = t.split_once('.').unwrap_or((t, "0"));
    let frac = format!("{frac:0<3}");
    s.parse::<u64>().unwrap() * 1000 + frac[..3].parse::<u64>().unwrap()
}

/// Items in order, and the Unix time (ms) at t = 0.
fn parse_timed(text: &str) -> (Vec<Item>, u64) {
    let mut items = Vec::new();
    let mut wall = None;
    for line in text.lines() {
        let (head, rest) = line.split_at(2.min(line.len()));
        let rest = rest.trim_start();
        let Some((t, rest)) = rest.split_once(' ') else {
            continue;
        };
        match head {
            "C>" | "S>" => {
                let (conn, bytes) = rest.split_once(' ').unwrap();
                let conn = conn.strip_prefix('c').unwrap().parse().unwrap();
                let dir = head.chars().next().unwrap();
                items.push(Item::Data(millis(t), dir, conn, unescape(bytes)));
            }
            _ if line.starts_with('#') => {
                if let Some(w) = rest.strip_prefix("wall clock at t=0: ") {
                    wall = Some(millis(w.split_whitespace().next().unwrap()));
                } else if let Some(c) = rest.strip_suffix(" server closes the connection") {
                    let conn = c.strip_prefix('c').unwrap().parse().unwrap();
                    items.push(Item::ServerClosed(millis(t), conn));
                }
            }
            _ => {}
        }
    }
    (items, wall.expect("wall clock line"))
}

fn frame_all(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut framer = Framer::default();
    let out = framer.lines(bytes).map(|l| l.unwrap().to_vec()).collect();
    out
}

/// The session configuration the transcript's client had: its first `CTORRENT` and
/// `AUTH` lines, and the wall clock.
fn config_from(items: &[Item], wall_ms: u64) -> (ClientSessionConfig<'static>, Option<Vec<u8>>) {
    let client: Vec<u8> = items
        .iter()
        .filter_map(|i| match i {
            Item::Data(_, 'C', 1, b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let lines = frame_all(&client);
    let mut password = None;
    let mut torrent = None;
    for line in &lines {
        match ClientMessage::decode(line, Version::V3).unwrap() {
            ClientMessage::Auth(a) => password = Some(a.password.as_bytes().to_vec()),
            ClientMessage::CtTorrent(t) => {
                torrent = Some((
                    PeerIdText::parse(t.peer_id.as_bytes()).expect("a peer id text"),
                    t.start_timestamp,
                    t.filename.as_bytes().to_vec(),
                ));
                break;
            }
            _ => {}
        }
    }
    let (id, start, path) = torrent.expect("a CTORRENT line");
    let path: &'static [u8] = Box::leak(path.into_boxed_slice());
    (
        ClientSessionConfig::new(id, start, path).with_unix_time_at_zero_ms(wall_ms),
        password,
    )
}

/// What an event asks the replay to do, owned.
#[derive(Debug)]
enum Todo {
    Status,
    Detail,
    Peers,
    Config,
    Note(String),
}

fn positional<T: std::fmt::Display>(p: Positional<T>) -> String {
    match p {
        Positional::Keep => ".".into(),
        Positional::Set(v) => v.to_string(),
    }
}

fn summarize(ev: ClientEvent<'_>) -> Todo {
    match ev {
        ClientEvent::Connected | ClientEvent::StatusRequested => Todo::Status,
        ClientEvent::DetailRequested => Todo::Detail,
        ClientEvent::PeersRequested => Todo::Peers,
        ClientEvent::ConfigRequested => Todo::Config,
        other => Todo::Note(note(other)),
    }
}

fn note(ev: ClientEvent<'_>) -> String {
    match ev {
        ClientEvent::Reconnect => "reconnect".into(),
        ClientEvent::DownloadLimit { limit, text } => format!("dlimit {limit} ({text})"),
        ClientEvent::UploadLimit { limit, text } => format!("ulimit {limit} ({text})"),
        ClientEvent::ConfigSet(c) => format!("set {}={:?}", c.name, c.value.to_string()),
        ClientEvent::ConfigValues(c) => format!(
            "values {} {} {} {} {} {} {} {} {} {}",
            positional(c.verbose),
            positional(c.seedtime),
            positional(c.seed_ratio),
            positional(c.maxpeers),
            positional(c.minpeers),
            positional(c.fileno),
            positional(c.cache_size),
            positional(c.exitzero),
            positional(c.pause),
            positional(c.soft_quit),
        ),
        ClientEvent::Quit => "quit".into(),
        ClientEvent::Restart => "restart".into(),
        ClientEvent::Update => "update".into(),
        ClientEvent::Protocol { version, previous } => format!("protocol {previous}->{version}"),
        ClientEvent::Unknown(t) => format!("unknown {t}"),
        ClientEvent::Malformed { error, line } => format!(
            "malformed {} at {} ({})",
            error.kind().name(),
            error.offset(),
            line.map(|l| l.to_string()).unwrap_or_default()
        ),
        other => format!("{other:?}"),
    }
}

/// One connection's expected client bytes and how far the session has produced them.
struct Conn {
    expected: Vec<u8>,
    lines: Vec<Vec<u8>>,
    next: usize,
    produced: Vec<u8>,
    seen_framer: Framer,
    seen_buf: Vec<u8>,
    seen: usize,
}

impl Conn {
    fn new(items: &[Item], conn: u32) -> Conn {
        let expected: Vec<u8> = items
            .iter()
            .filter_map(|i| match i {
                Item::Data(_, 'C', c, b) if *c == conn => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        Conn {
            lines: frame_all(&expected),
            expected,
            next: 0,
            produced: Vec::new(),
            seen_framer: Framer::default(),
            seen_buf: Vec::new(),
            seen: 0,
        }
    }

    fn take(&mut self) -> &[u8] {
        let i = self.next;
        self.next += 1;
        &self.lines[i]
    }
}

struct Replay {
    session: ClientSession,
    conn: Conn,
    notes: Vec<String>,
}

impl Replay {
    fn drain_output(&mut self) {
        let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
        while let Some(n) = self.session.poll_transmit(&mut buf).unwrap() {
            self.conn.produced.extend_from_slice(&buf[..n]);
        }
        assert!(
            self.conn.expected.starts_with(&self.conn.produced),
            "diverged:\n  produced {:?}\n  expected {:?}",
            String::from_utf8_lossy(&self.conn.produced),
            String::from_utf8_lossy(&self.conn.expected)
        );
    }

    /// Polls every event, answering requests from the transcript's next client lines.
    fn drain_events(&mut self) {
        loop {
            self.drain_output();
            let Some(ev) = self.session.poll_event() else {
                return;
            };
            let todo = summarize(ev);
            let v = self.session.version();
            match todo {
                Todo::Note(n) => self.notes.push(n),
                Todo::Status => {
                    let line = self.conn.take().to_vec();
                    let ClientMessage::CtStatus(s) = ClientMessage::decode(&line, v).unwrap()
                    else {
                        panic!(
                            "expected CTSTATUS, got {:?}",
                            String::from_utf8_lossy(&line)
                        )
                    };
                    self.session.send_status(&s).unwrap();
                    self.notes.push("status".into());
                }
                Todo::Detail => self.answer_detail(v),
                Todo::Peers => self.answer_peers(v),
                Todo::Config => self.answer_config(v),
            }
        }
    }

    /// The reply lines from `next` up to and including the line `end` matches.
    fn block(&mut self, v: Version, end: fn(&ClientMessage<'_>) -> bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let line = self.conn.take().to_vec();
            let done = end(&ClientMessage::decode(&line, v).unwrap());
            out.push(line);
            if done {
                return out;
            }
        }
    }

    fn answer_detail(&mut self, v: Version) {
        let lines = self.block(v, |m| matches!(m, ClientMessage::CtFilesDone(_)));
        let msgs: Vec<_> = lines
            .iter()
            .map(|l| ClientMessage::decode(l, v).unwrap())
            .collect();
        let ClientMessage::CtDetail(d) = msgs[0] else {
            panic!("expected CTDETAIL")
        };
        assert_eq!(msgs[1], ClientMessage::CtFileStart(Marker::for_version(v)));
        let files = msgs.iter().filter_map(|m| match m {
            ClientMessage::CtFile(f) => Some(*f),
            _ => None,
        });
        self.session.send_detail(&d, files).unwrap();
        self.notes.push(format!("detail {} files", msgs.len() - 3));
    }

    fn answer_peers(&mut self, v: Version) {
        let lines = self.block(v, |m| matches!(m, ClientMessage::CtPeersDone(_)));
        let msgs: Vec<_> = lines
            .iter()
            .map(|l| ClientMessage::decode(l, v).unwrap())
            .collect();
        assert_eq!(msgs[0], ClientMessage::CtPeerStart(Marker::for_version(v)));
        let peers = msgs.iter().filter_map(|m| match m {
            ClientMessage::CtPeer(p) => Some(*p),
            _ => None,
        });
        self.session.send_peers(peers).unwrap();
        self.notes.push(format!("peers {}", msgs.len() - 2));
    }

    fn answer_config(&mut self, v: Version) {
        if !v.is_v3() {
            let line = self.conn.take().to_vec();
            let ClientMessage::CtConfigValues(values) = ClientMessage::decode(&line, v).unwrap()
            else {
                panic!("expected a positional CTCONFIG")
            };
            self.session
                .send_config(&values, std::iter::empty())
                .unwrap();
            self.notes.push("config positional".into());
            return;
        }
        let lines = self.block(v, |m| matches!(m, ClientMessage::CtConfigDone));
        let msgs: Vec<_> = lines
            .iter()
            .map(|l| ClientMessage::decode(l, v).unwrap())
            .collect();
        assert!(matches!(msgs[0], ClientMessage::CtConfigStart));
        let options = msgs.iter().filter_map(|m| match m {
            ClientMessage::CtConfig(c) => Some(*c),
            _ => None,
        });
        self.session
            .send_config(&CtConfigValues::default(), options)
            .unwrap();
        self.notes
            .push(format!("config {} options", msgs.len() - 2));
    }

    /// Client bytes that appeared in the transcript: lines not produced yet are
    /// unsolicited, and the replay issues the matching command.
    fn client_bytes(&mut self, bytes: &[u8]) {
        self.conn.seen_buf.extend_from_slice(bytes);
        let appeared = {
            let mut lines = self.conn.seen_framer.lines(&self.conn.seen_buf);
            let n = lines.by_ref().count();
            let consumed = lines.consumed();
            self.conn.seen_buf.drain(..consumed);
            n
        };
        for _ in 0..appeared {
            let index = self.conn.seen;
            self.conn.seen += 1;
            if index < self.conn.next {
                continue;
            }
            let v = self.session.version();
            let line = self.conn.take().to_vec();
            match ClientMessage::decode(&line, v).unwrap() {
                ClientMessage::CtStatus(s) => {
                    self.session.send_status(&s).unwrap();
                    self.notes.push("unsolicited status".into());
                }
                ClientMessage::CtBw(b) => {
                    self.session.send_bw(&b).unwrap();
                }
                ClientMessage::CtInfo(i) => {
                    self.session
                        .send_info(i.severity, i.message.as_bytes())
                        .unwrap();
                    self.notes
                        .push(format!("info {} {}", i.severity, i.message));
                }
                other => panic!("unexpected unsolicited client line {other:?}"),
            }
            self.drain_output();
        }
    }

    fn server_bytes(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(self.session.input_capacity() / 2) {
            self.session.handle_input(chunk).unwrap();
            self.drain_events();
        }
    }
}

/// Replays one transcript; returns the notes (events and replies) per connection.
fn replay(name: &str, text: &str) -> Vec<String> {
    let (items, wall) = parse_timed(text);
    let (mut config, password) = config_from(&items, wall);
    let password: Option<&'static [u8]> = password.map(|p| &*Box::leak(p.into_boxed_slice()));
    config.password = password;
    let session = ClientSession::new(config).unwrap();
    assert_eq!(session.state(), ClientState::Connecting);
    let mut r = Replay {
        session,
        conn: Conn::new(&items, 1),
        notes: Vec::new(),
    };
    let mut current = 0u32;
    let mut closed_at = None;
    for item in &items {
        match item {
            Item::ServerClosed(t, conn) => {
                assert_eq!(*conn, current);
                let now = Instant::from_millis(*t);
                r.session.handle_closed(now);
                assert_eq!(r.session.state(), ClientState::BackOff);
                assert_eq!(
                    r.session.poll_timeout(),
                    Some(now.saturating_add(Duration::from_secs(5)))
                );
                closed_at = Some(now);
                r.notes.push(format!("c{conn} closed"));
            }
            Item::Data(t, dir, conn, bytes) => {
                let now = Instant::from_millis(*t);
                if *conn != current {
                    assert_eq!(*dir, 'C', "{name}: a connection starts with the client");
                    if current != 0 {
                        assert_eq!(r.conn.produced, r.conn.expected, "{name} c{current}");
                        // The reconnect timer: nothing early, Reconnect at the deadline.
                        let due = r.session.poll_timeout().expect("a reconnect deadline");
                        assert_eq!(
                            Some(due),
                            closed_at.map(|c| c.saturating_add(Duration::from_secs(5)))
                        );
                        r.session
                            .handle_timeout(Instant::from_millis(due.as_millis() - 1));
                        assert!(r.session.poll_event().is_none());
                        r.session.handle_timeout(due);
                        assert_eq!(r.session.poll_event(), Some(ClientEvent::Reconnect));
                        assert_eq!(r.session.state(), ClientState::Connecting);
                        assert!(due <= now);
                        r.conn = Conn::new(&items, *conn);
                    }
                    current = *conn;
                    r.session.handle_connected(now);
                    r.notes.push(format!("c{conn} connected"));
                    // PROTOCOL, [AUTH], CTORRENT are the session's own.
                    let opening = if config.password.is_some() { 3 } else { 2 };
                    r.conn.next = opening;
                    r.drain_events();
                }
                match dir {
                    'C' => r.client_bytes(bytes),
                    _ => r.server_bytes(bytes),
                }
            }
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&r.conn.produced),
        String::from_utf8_lossy(&r.conn.expected),
        "{name} c{current}"
    );
    assert_eq!(
        r.conn.next,
        r.conn.lines.len(),
        "{name}: every client line produced"
    );
    r.notes
}

/// What each transcript's server lines mean to the session, and how it answered.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "auth.txt",
        &[
            "c1 connected",
            "status",
            "unsolicited status",
            "protocol 3->3",
            "unknown ERROR Authentication failed",
            "c1 closed",
            "c2 connected",
            "status",
            "protocol 3->3",
            "quit",
        ],
    ),
    (
        "leech_live.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->3",
            "config 15 options",
            "peers 1",
            "status",
            "detail 2 files",
            "set file_list=\"2\"",
            "detail 2 files",
            "config 15 options",
            "set file_list=\"2,1\"",
            "detail 2 files",
            "dlimit 4096 (4096)",
            "ulimit 2048 (2048)",
            "peers 1",
            "dlimit 0 (0)",
            "unsolicited status",
            "detail 2 files",
            "config 13 options",
            "quit",
            "unsolicited status",
        ],
    ),
    (
        "p1_session.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->1",
            "status",
            "detail 2 files",
            "peers 0",
            "config positional",
            "values . . . 70 . . . . . .",
        ],
    ),
    (
        "p2_session.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->2",
            "status",
            "detail 2 files",
            "peers 0",
            "config positional",
            "values . . . 60 . . . . . .",
        ],
    ),
    (
        "p3_config.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->3",
            "config 13 options",
            "set max_peers=\"50\"",
            "set min_peers=\"2\"",
            "set seed_ratio=\"1.5\"",
            "set seed_time=\"10.5\"",
            "set cache=\"8\"",
            "set pause=\"1\"",
            "set verbose=\"0\"",
            "config 13 options",
            "set pause=\"0\"",
            "set verbose=\"1\"",
            "set max_peers=\"5\"",
            "info 2 Malformed or invalid input from CTCS: CTCONFIG max_peers 5",
            "malformed missing_field at 18 (CTCONFIG max_peers)",
            "info 2 Malformed or invalid input from CTCS: CTCONFIG max_peers",
            "set nosuch_option=\"1\"",
            "info 2 Unknown config option nosuch_option from CTCS",
            "set max_peers=\"60  \"",
            "set seed_ratio=\"4:2.50\"",
            "set min_peers=\"3 extra words\"",
            "set verbose=\"-1\"",
            "info 2 Malformed or invalid input from CTCS: CTCONFIG verbose -1",
            "config 13 options",
            "quit",
            "unsolicited status",
        ],
    ),
    (
        "p3_limits.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->3",
            "ulimit 10240 (10240)",
            "dlimit 20480 (20480)",
            "dlimit 51200 (51200)",
            "ulimit 1500 (1.5e3)",
            "ulimit 2048 (2048.9)",
            "dlimit 0 (0)",
            "ulimit -5 (-5)",
            "ulimit 0 (abc)",
            "ulimit 4096 (4096)",
            "status",
            "quit",
            "unsolicited status",
        ],
    ),
    (
        "p3_session.txt",
        &[
            "c1 connected",
            "status",
            "protocol 3->3",
            "unsolicited status",
            "status",
            "detail 1 files",
            "peers 0",
            "config 13 options",
            "quit",
            "unsolicited status",
        ],
    ),
];

#[test]
fn replays_every_transcript_byte_exactly() {
    let all = transcripts();
    assert_eq!(
        all.len(),
        EXPECTED.len(),
        "a transcript without expectations"
    );
    for (name, text) in &all {
        let notes = replay(name, text);
        let want = EXPECTED
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no expectation for {name}"))
            .1;
        assert_eq!(notes, want, "{name}");
    }
}

#[test]
fn replay_survives_one_byte_chunks() {
    // The same transcripts with every server entry fed one byte at a time.
    for (name, text) in transcripts() {
        let chunked: String = text
            .lines()
            .flat_map(|line| {
                let Some(rest) = line.strip_prefix("S>") else {
                    return vec![line.to_string()];
                };
                let rest = rest.trim_start();
                let (t, rest) = rest.split_once(' ').unwrap();
                let (conn, bytes) = rest.split_once(' ').unwrap();
                unescape(bytes)
                    .iter()
                    .map(|b| {
                        let esc: String = std::ascii::escape_default(*b)
                            .map(char::from)
                            .collect::<String>()
                            .replace("\\'", "'")
                            .replace("\\\"", "\"");
                        format!("S> {t} {conn} {esc}")
                    })
                    .collect()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let whole = replay(&name, &text);
        assert_eq!(replay(&name, &chunked), whole, "{name}");
    }
}

// ---- scenarios --------------------------------------------------------------------------

const ID: [u8; 20] = *b"-CD0303-abcdefghijkl";
const ID_TEXT: &str = "-CD0303-abcdefghijkl";

fn config() -> ClientSessionConfig<'static> {
    // Unix time 1000 s at the clock's zero.
    ClientSessionConfig::new(ID, 999, b"my file.torrent").with_unix_time_at_zero_ms(1_000_000)
}

fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn output(s: &mut ClientSession) -> String {
    let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
    let mut out = Vec::new();
    while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

fn notes<const IN: usize, const OUT: usize>(s: &mut ClientSession<IN, OUT>) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(ev) = s.poll_event() {
        v.push(note(ev));
    }
    v
}

/// Feeds `bytes` whole, collecting the notes of every event.
fn feed(s: &mut ClientSession, bytes: &[u8]) -> Vec<String> {
    s.handle_input(bytes).unwrap();
    notes(s)
}

fn connected(cfg: &ClientSessionConfig<'_>) -> ClientSession {
    let mut s = ClientSession::new(*cfg).unwrap();
    s.handle_connected(at(0));
    assert_eq!(s.poll_event(), Some(ClientEvent::Connected));
    output(&mut s);
    s
}

fn status() -> CtStatus {
    CtStatus {
        seeders: 1,
        total_seeders: 2,
        leechers: 3,
        total_leechers: 4,
        connecting: 5,
        n_have: 6,
        n_total: 13,
        n_avail: 13,
        dl_rate: 7,
        ul_rate: 8,
        dl_total: 9,
        ul_total: 10,
        dl_limit: 11,
        ul_limit: 12,
        cache_used: 14,
    }
}

fn file(name: &'static str) -> CtFile<'static> {
    CtFile {
        fileno: 1,
        priority: 2,
        current_priority: 3,
        n_pieces: 4,
        n_have: 5,
        n_available: 6,
        filesize: 7,
        filename: Text::new(name.as_bytes()).unwrap(),
    }
}

fn peer() -> CtPeer<'static> {
    CtPeer {
        peer_id: Word::new(b"-XY0001-0x00").unwrap(),
        address: "10.0.0.1".parse().unwrap(),
        choke_interest: PeerFlags {
            remote_unchoked: true,
            local_interested: false,
            local_unchoked: false,
            remote_interested: true,
        },
        dl_rate: 1,
        ul_rate: 2,
        dl_total: 3,
        ul_total: 4,
        n_pieces: 5,
    }
}

fn values() -> CtConfigValues<'static> {
    CtConfigValues {
        verbose: Positional::Set(1),
        seedtime: Positional::Set(72),
        seed_ratio: Positional::Set(Float::new("0.000000").unwrap()),
        maxpeers: Positional::Set(100),
        minpeers: Positional::Set(1),
        fileno: Positional::Set(0),
        cache_size: Positional::Set(16),
        pause: Positional::Set(0),
        ..CtConfigValues::default()
    }
}

fn option() -> CtConfig<'static> {
    let ClientMessage::CtConfig(c) = ClientMessage::decode(
        b"CTCONFIG max_peers I 20-1000 3:100 14:Max peers [-M] 16:Current peers: 0",
        Version::V3,
    )
    .unwrap() else {
        unreachable!()
    };
    c
}

/// Every reply in the version in force.
fn all_replies(s: &mut ClientSession, now: Instant) -> String {
    s.send_status(&status()).unwrap();
    let detail = CtDetail {
        torrent_size: 100,
        piece_size: 10,
        current_timestamp: s.unix_time(now),
        seed_timestamp: 0,
    };
    s.send_detail(&detail, [file("a b"), file("c")]).unwrap();
    s.send_peers([peer()]).unwrap();
    s.send_config(&values(), [option()]).unwrap();
    output(s)
}

#[test]
fn opening_lines_with_and_without_password() {
    let mut s = ClientSession::new(config()).unwrap();
    assert_eq!(s.state(), ClientState::Connecting);
    assert_eq!(s.poll_timeout(), None);
    s.handle_connected(at(5));
    assert_eq!(s.state(), ClientState::Ready);
    assert_eq!(
        output(&mut s),
        format!("PROTOCOL 0003\nCTORRENT {ID_TEXT} 999 1005 my file.torrent\n")
    );
    assert_eq!(s.poll_event(), Some(ClientEvent::Connected));
    assert_eq!(s.poll_event(), None);

    // A short password: AUTH, then the empty line dnh3.3.2 sends.
    let mut cfg = config();
    cfg.password = Some(b"s3cret pw");
    let mut s = ClientSession::new(cfg).unwrap();
    s.handle_connected(at(0));
    assert_eq!(
        output(&mut s),
        format!("PROTOCOL 0003\nAUTH s3cret pw\n\nCTORRENT {ID_TEXT} 999 1000 my file.torrent\n")
    );
    // The option turns the empty line off.
    cfg.auth_empty_line = false;
    let mut s = ClientSession::new(cfg).unwrap();
    s.handle_connected(at(0));
    assert!(output(&mut s).contains("AUTH s3cret pw\nCTORRENT"));
    // 25 bytes are cut to 20, and a 20-byte password has no empty line after it.
    cfg.auth_empty_line = true;
    cfg.password = Some(b"ABCDEFGHIJKLMNOPQRSTUVWXY");
    let mut s = ClientSession::new(cfg).unwrap();
    s.handle_connected(at(0));
    assert!(output(&mut s).contains("\nAUTH ABCDEFGHIJKLMNOPQRST\nCTORRENT "));
    // 19 bytes: fgets keeps the newline.
    cfg.password = Some(b"ABCDEFGHIJKLMNOPQRS");
    let mut s = ClientSession::new(cfg).unwrap();
    s.handle_connected(at(0));
    assert!(output(&mut s).contains("\nAUTH ABCDEFGHIJKLMNOPQRS\n\nCTORRENT "));
}

#[test]
fn configuration_refusals() {
    let mut cfg = config();
    cfg.torrent = b"";
    assert_eq!(
        ClientSession::<8192, 16384>::new_sized(cfg)
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::InvalidValue)
    );
    cfg.torrent = b"a\nb";
    assert_eq!(
        ClientSession::<8192, 16384>::new_sized(cfg)
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::InvalidValue)
    );
    let long = vec![b'x'; 4097];
    let long: &'static [u8] = Box::leak(long.into_boxed_slice());
    cfg.torrent = long;
    assert_eq!(
        ClientSession::<8192, 16384>::new_sized(cfg)
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::TooLong)
    );
    cfg.torrent = &long[..4096];
    assert!(ClientSession::<8192, 16384>::new_sized(cfg).is_ok());
    // The opening must fit the output queue.
    assert_eq!(
        ClientSession::<8192, 1024>::new_sized(cfg)
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::TooLong)
    );
    cfg = config();
    cfg.password = Some(b"pw\0");
    assert_eq!(
        ClientSession::<8192, 16384>::new_sized(cfg)
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::InvalidValue)
    );
    // A NUL beyond the 20 bytes kept is never sent.
    cfg.password = Some(b"ABCDEFGHIJKLMNOPQRST\0");
    assert!(ClientSession::<8192, 16384>::new_sized(cfg).is_ok());
}

#[test]
fn every_request_in_every_version() {
    let cases: [(&[u8], Version, &str); 4] = [
        (
            b"PROTOCOL 0003\n",
            Version::V3,
            "CTSTATUS 1:2/3:4/5 6/13/13 7,8 9,10 11,12 14\n\
             CTDETAIL 100 10 1000 0\nCTFILESTART\n\
             CTFILE 1 2 3 4 5 6 7 a b\nCTFILE 1 2 3 4 5 6 7 c\nCTFILESDONE\n\
             CTPEERSTART\nCTPEER -XY0001-0x00 10.0.0.1 UnCi 1 2 3 4 5\nCTPEERSDONE\n\
             CTCONFIGSTART\n\
             CTCONFIG max_peers I 20-1000 3:100 14:Max peers [-M] 16:Current peers: 0\n\
             CTCONFIGDONE\n",
        ),
        (
            b"PROTOCOL 0002\n",
            Version::V2,
            "CTSTATUS 1:2/3:4/5 6/13/13 7,8 9,10 11,12 14\n\
             CTDETAIL 100 10 1000 0\nCTFILES\n\
             CTFILE 1 4 5 6 7 a b\nCTFILE 1 4 5 6 7 c\nCTFDONE\n\
             CTPEERS\nCTPEER -XY0001-0x00 10.0.0.1 UnCi 1 2 3 4 5\nCTPDONE\n\
             CTCONFIG 1 72 0.000000 100 1 0 16 0\n",
        ),
        (
            b"PROTOCOL 0001\n",
            Version::V1,
            "CTSTATUS 1/3 6/13/13 7,8 9,10 11,12\n\
             CTDETAIL 100 10 1000 0\nCTFILES\n\
             CTFILE 1 4 5 7 a b\nCTFILE 1 4 5 7 c\nCTFDONE\n\
             CTPEERS\nCTPEER -XY0001-0x00 10.0.0.1 UnCi 1 2 3 4 5\nCTPDONE\n\
             CTCONFIG 1 72 0.000000 100 1 0 0 0 0\n",
        ),
        (
            // Version 0: v3 status, v1 everything else.
            b"PROTOCOL 0000\n",
            Version::V0,
            "CTSTATUS 1:2/3:4/5 6/13/13 7,8 9,10 11,12 14\n\
             CTDETAIL 100 10 1000 0\nCTFILES\n\
             CTFILE 1 4 5 7 a b\nCTFILE 1 4 5 7 c\nCTFDONE\n\
             CTPEERS\nCTPEER -XY0001-0x00 10.0.0.1 UnCi 1 2 3 4 5\nCTPDONE\n\
             CTCONFIG 1 72 0.000000 100 1 0 0 0 0\n",
        ),
    ];
    for (protocol, version, want) in cases {
        let mut s = connected(&config());
        let n = feed(&mut s, protocol);
        assert_eq!(n, [format!("protocol 3->{version}")]);
        assert_eq!(s.version(), version);
        assert_eq!(
            feed(&mut s, b"SENDSTATUS\nSENDDETAIL\r\nSENDPEERS\rSENDCONF\n"),
            [
                "StatusRequested",
                "DetailRequested",
                "PeersRequested",
                "ConfigRequested"
            ]
        );
        assert_eq!(all_replies(&mut s, at(0)), want, "version {version}");
    }
}

#[test]
fn version_follows_the_server_like_dnh332() {
    let mut s = connected(&config());
    assert_eq!(s.version(), Version::V3);
    assert_eq!(feed(&mut s, b"PROTOCOL 0004\n"), ["protocol 3->3"]);
    assert_eq!(feed(&mut s, b"PROTOCOL 2\n"), ["protocol 3->2"]);
    assert_eq!(feed(&mut s, b"PROTOCOL garbage\n"), ["protocol 2->0"]);
    assert_eq!(feed(&mut s, b"PROTOCOL 0001 trailing\n"), ["protocol 0->1"]);
    assert_eq!(feed(&mut s, b"PROTOCOL 0000\n"), ["protocol 1->0"]);
    // Exact matching: PROTOCOLX is some other word.
    assert_eq!(feed(&mut s, b"PROTOCOLX 2\n"), ["unknown PROTOCOLX 2"]);
    assert_eq!(s.version(), Version::V0);
    // Version 0 mixes forms.
    s.send_status(&status()).unwrap();
    s.send_peers([]).unwrap();
    assert_eq!(
        output(&mut s),
        "CTSTATUS 1:2/3:4/5 6/13/13 7,8 9,10 11,12 14\nCTPEERS\nCTPDONE\n"
    );

    // Sticky across a reconnect, while still announcing 0003.
    assert_eq!(feed(&mut s, b"PROTOCOL 0002\n"), ["protocol 0->2"]);
    s.handle_closed(at(1));
    s.handle_timeout(at(6));
    assert_eq!(notes(&mut s), ["reconnect"]);
    s.handle_connected(at(7));
    assert_eq!(s.version(), Version::V2);
    assert!(output(&mut s).starts_with("PROTOCOL 0003\n"));
    assert_eq!(s.poll_event(), Some(ClientEvent::Connected));
    s.send_peers([]).unwrap();
    assert_eq!(output(&mut s), "CTPEERS\nCTPDONE\n");
    assert_eq!(feed(&mut s, b"PROTOCOL 0003\n"), ["protocol 2->3"]);
    s.send_peers([]).unwrap();
    assert_eq!(output(&mut s), "CTPEERSTART\nCTPEERSDONE\n");

    // Prefix matching reads from byte 9 whatever byte 8 is.
    let mut cfg = config();
    cfg.keyword_match = KeywordMatch::Prefix;
    let mut s = connected(&cfg);
    assert_eq!(feed(&mut s, b"PROTOCOLX2\n"), ["protocol 3->2"]);
}

#[test]
fn server_lines_become_events() {
    let mut s = connected(&config());
    let lines: &[u8] = b"SETDLIMIT 2048.9\nSETULIMIT abc\nCTQUIT\nCTRESTART\nCTUPDATE\n\
        ERROR Authentication failed\nCTCONFIG max_peers 60\nCTCONFIG\nCTCONFIG max_peers\n\
        sendstatus\n SENDSTATUS\nSENDSTATUS please\nCTQUITTER\nAB\0C\n";
    assert_eq!(
        feed(&mut s, lines),
        [
            "dlimit 2048 (2048.9)",
            "ulimit 0 (abc)",
            "quit",
            "restart",
            "update",
            "unknown ERROR Authentication failed",
            "set max_peers=\"60\"",
            // A bare CTCONFIG crashes dnh3.3.2; here it is one malformed line.
            "malformed missing_field at 8 (CTCONFIG)",
            "malformed missing_field at 18 (CTCONFIG max_peers)",
            "unknown sendstatus",
            "unknown  SENDSTATUS",
            "malformed extra_field at 10 (SENDSTATUS please)",
            "unknown CTQUITTER",
            // A NUL wedges dnh3.3.2 for good; here only its line is lost.
            "malformed nul_byte at 2 ()",
        ]
    );
    // Still alive after the NUL.
    assert_eq!(feed(&mut s, b"SENDSTATUS\n"), ["StatusRequested"]);

    // Positional CTCONFIG below version 3 (dnh3.3.2 aborts on it).
    assert_eq!(feed(&mut s, b"PROTOCOL 0002\n"), ["protocol 3->2"]);
    assert_eq!(
        feed(&mut s, b"CTCONFIG . . 1.5 60 . . . 1\n"),
        ["values . . 1.5 60 . . . . 1 ."]
    );
}

#[test]
fn prefix_matching_is_an_option() {
    let mut cfg = config();
    cfg.keyword_match = KeywordMatch::Prefix;
    let mut s = connected(&cfg);
    assert_eq!(s.keyword_match(), KeywordMatch::Prefix);
    assert_eq!(
        feed(
            &mut s,
            b"CTQUITTER\nSENDSTATUSXYZ\nSENDDETAIL please\nSETDLIMIT1000\nsendstatus\n"
        ),
        [
            "quit",
            "StatusRequested",
            "DetailRequested",
            "dlimit 0 (000)",
            "unknown sendstatus"
        ]
    );
}

#[test]
fn one_event_per_line_and_any_chunking() {
    let mut s = connected(&config());
    let stream = b"SENDPEERS\nSENDSTATUS\nSENDCONF\n";
    // All bytes are taken; each line becomes an event when polled, in order.
    let spare = s.input_spare();
    s.handle_input(stream).unwrap();
    assert_eq!(s.input_spare(), spare - stream.len());
    assert_eq!(s.poll_event(), Some(ClientEvent::PeersRequested));
    assert_eq!(s.poll_event(), Some(ClientEvent::StatusRequested));
    // Split over calls, CR-only ends, empty lines.
    s.handle_input(b"SENDST").unwrap();
    assert_eq!(s.poll_event(), Some(ClientEvent::ConfigRequested));
    assert_eq!(s.poll_event(), None);
    s.handle_input(b"ATUS\r").unwrap();
    assert_eq!(s.poll_event(), Some(ClientEvent::StatusRequested));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.input_spare(), spare);
    assert_eq!(feed(&mut s, b"\n\r\n\nSENDCONF\r\n"), ["ConfigRequested"]);
    // An over-long line is one malformed event, and the stream resynchronizes.
    let mut long = vec![b'A'; 5000];
    long.extend_from_slice(b"\nCTQUIT\n");
    assert_eq!(
        feed(&mut s, &long),
        ["malformed line_too_long at 4294 ()", "quit"]
    );
}

#[test]
fn unsolicited_messages_and_refusals() {
    let mut s = connected(&config());
    s.send_bw(&CtBw {
        dl_rate: 8190,
        ul_rate: 0,
        dl_limit: 4096,
        ul_limit: 2048,
    })
    .unwrap();
    s.send_info(2, b"TRACKER WARNING: x").unwrap();
    s.send_status(&status()).unwrap();
    s.send_config(&values(), [option()]).unwrap();
    assert_eq!(
        output(&mut s),
        "CTBW 8190,0 4096,2048\nCTINFO 2 TRACKER WARNING: x\n\
         CTSTATUS 1:2/3:4/5 6/13/13 7,8 9,10 11,12 14\nCTCONFIGSTART\n\
         CTCONFIG max_peers I 20-1000 3:100 14:Max peers [-M] 16:Current peers: 0\n\
         CTCONFIGDONE\n"
    );
    // CTINFO text with a line break or NUL, or a severity the client never sends.
    for bad in [&b"a\nb"[..], b"a\rb", b"a\0b"] {
        assert_eq!(
            s.send_info(1, bad).map_err(|e| e.kind()),
            Err(UsageErrorKind::InvalidValue)
        );
    }
    assert_eq!(
        s.send_info(0, b"x").map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidValue)
    );
    assert_eq!(
        s.send_info(4, b"x").map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidValue)
    );
    // Over-long lines are refused, not cut.
    let long = vec![b'x'; 4294 - 9 + 1];
    assert_eq!(
        s.send_info(1, &long).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
    s.send_info(1, &long[1..]).unwrap();
    let out = output(&mut s);
    assert_eq!(out.len(), 4295);
    // A "." in a positional reply is refused; exitzero and soft_quit default to 0.
    feed(&mut s, b"PROTOCOL 0002\n");
    let mut v = values();
    v.maxpeers = Positional::Keep;
    assert_eq!(
        s.send_config(&v, []).map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidValue)
    );
    v = values();
    v.cache_size = Positional::Keep;
    assert_eq!(
        s.send_config(&v, []).map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidValue)
    );
    feed(&mut s, b"PROTOCOL 0001\n");
    s.send_config(&v, []).unwrap();
    assert_eq!(output(&mut s), "CTCONFIG 1 72 0.000000 100 1 0 0 0 0\n");
    // Nothing is sent while disconnected.
    s.handle_closed(at(2));
    assert_eq!(
        s.send_status(&status()).map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidState)
    );
    assert_eq!(
        s.send_peers([]).map_err(|e| e.kind()),
        Err(UsageErrorKind::InvalidState)
    );
    s.handle_input(b"SENDSTATUS\n").unwrap();
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.input_spare(), s.input_capacity());
}

#[test]
fn replies_are_all_or_nothing_in_fixed_storage() {
    let mut s = ClientSession::<8192, 256>::new_sized(config()).unwrap();
    s.handle_connected(at(0));
    assert_eq!(s.output_capacity(), 256);
    let queued = s.pending_output();
    assert!(queued > 0);
    // Too big for the whole queue: TooLong; nothing queued.
    let many = std::iter::repeat(peer()).take(10);
    assert_eq!(
        s.send_peers(many).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
    assert_eq!(s.pending_output(), queued);
    // Fits only after draining: Full, then fine.
    let three = || std::iter::repeat(peer()).take(3);
    let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
    s.send_peers(three()).unwrap();
    assert_eq!(
        s.send_peers(three()).map_err(|e| e.kind()),
        Err(UsageErrorKind::Full)
    );
    while s.poll_transmit(&mut buf).unwrap().is_some() {}
    s.send_peers(three()).unwrap();
    assert_eq!(
        s.send_peers(three()).map_err(|e| e.kind()),
        Err(UsageErrorKind::Full)
    );
    // One line per call: the first reply's five lines free its room.
    let mut first = Vec::new();
    for _ in 0..5 {
        let n = s.poll_transmit(&mut buf).unwrap().unwrap();
        first.push(buf[..n].to_vec());
    }
    assert_eq!(first[0], b"CTPEERSTART\n");
    assert_eq!(first[4], b"CTPEERSDONE\n");
    s.send_peers(three()).unwrap();
    // A small buffer gets whole lines only, or says how much the next line needs.
    let mut small = [0u8; 12];
    assert_eq!(s.poll_transmit(&mut small).unwrap(), Some(12));
    assert_eq!(&small, b"CTPEERSTART\n");
    let err = s.poll_transmit(&mut small).unwrap_err();
    assert!(err.required() > 12);
}

#[test]
fn reconnect_timers_are_exact() {
    let mut s = ClientSession::new(config()).unwrap();
    // A refused connect: 15 s.
    s.handle_connect_failed(at(10));
    assert_eq!(s.state(), ClientState::BackOff);
    assert_eq!(s.poll_timeout(), Some(at(25)));
    s.handle_timeout(Instant::from_millis(24_999));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.state(), ClientState::BackOff);
    s.handle_timeout(at(25));
    assert_eq!(notes(&mut s), ["reconnect"]);
    assert_eq!(s.state(), ClientState::Connecting);
    assert_eq!(s.poll_timeout(), None);
    // Again, twice: no second event.
    s.handle_timeout(at(26));
    assert_eq!(s.poll_event(), None);
    // Connected, then the server closes: 5 s, unsent output dropped.
    s.handle_connected(at(30));
    assert!(s.pending_output() > 0);
    s.handle_closed(at(31));
    assert_eq!(s.pending_output(), 0);
    assert_eq!(
        s.poll_event(),
        None,
        "Connected is dropped with the connection"
    );
    assert_eq!(s.poll_timeout(), Some(at(36)));
    s.handle_timeout(at(40));
    assert_eq!(notes(&mut s), ["reconnect"]);
    // A new connection resends the same identity with the new time.
    s.handle_connected(at(41));
    assert_eq!(
        output(&mut s),
        format!("PROTOCOL 0003\nCTORRENT {ID_TEXT} 999 1041 my file.torrent\n")
    );
    // Configurable delays; the ctcs_server switch; stop.
    let mut cfg = config();
    cfg.close_delay = Duration::from_millis(1500);
    cfg.refused_delay = Duration::ZERO;
    let mut s = ClientSession::new(cfg).unwrap();
    s.handle_connect_failed(at(1));
    assert_eq!(s.poll_timeout(), Some(at(1)));
    s.handle_timeout(at(1));
    assert_eq!(notes(&mut s), ["reconnect"]);
    s.handle_connected(at(2));
    s.handle_closed(at(3));
    assert_eq!(s.poll_timeout(), Some(Instant::from_millis(4500)));
    s.handle_connected(at(4));
    s.reconnect_after(at(5), Duration::from_secs(1));
    assert_eq!(s.poll_timeout(), Some(at(6)));
    s.stop();
    assert_eq!(s.state(), ClientState::Idle);
    assert_eq!(s.poll_timeout(), None);
    s.handle_closed(at(7));
    s.handle_connect_failed(at(7));
    assert_eq!(s.state(), ClientState::Idle);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn time_going_backwards_is_harmless() {
    let mut s = ClientSession::new(config()).unwrap();
    s.handle_connect_failed(at(100));
    s.handle_timeout(at(50));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.poll_timeout(), Some(at(115)));
    s.handle_timeout(at(115));
    assert_eq!(notes(&mut s), ["reconnect"]);
    // Connected "before" the last close: the clock origin makes Unix time saturate
    // sensibly, nothing panics.
    s.handle_connected(Instant::ZERO);
    assert!(output(&mut s).contains(" 999 1000 "));
    s.handle_closed(Instant::from_millis(u64::MAX));
    assert_eq!(s.poll_timeout(), Some(Instant::from_millis(u64::MAX)));
    s.handle_timeout(Instant::from_millis(u64::MAX));
    assert_eq!(notes(&mut s), ["reconnect"]);
}

#[test]
fn stale_events_do_not_cross_connections() {
    let mut s = connected(&config());
    s.handle_input(b"CTQUIT\nSENDSTATUS\n").unwrap();
    // The server closes before the events were polled: they stay readable.
    s.handle_closed(at(1));
    assert_eq!(s.poll_event(), Some(ClientEvent::Quit));
    s.handle_timeout(at(6));
    assert_eq!(s.poll_event(), Some(ClientEvent::StatusRequested));
    assert_eq!(s.poll_event(), Some(ClientEvent::Reconnect));
    // Pending lines are dropped by a new connection, and so is a partial one.
    s.handle_connected(at(7));
    s.handle_input(b"SENDSTATUS\nSENDP").unwrap();
    s.handle_connected(at(8));
    assert_eq!(s.poll_event(), Some(ClientEvent::Connected));
    assert_eq!(s.poll_event(), None);
    assert_eq!(
        feed(&mut s, b"EERS\nSENDPEERS\n"),
        ["unknown EERS", "PeersRequested"]
    );
}

// ---- property test ----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Input(Vec<u8>),
    Advance(u64),
    Back(u64),
    Connected,
    Closed,
    ConnectFailed,
    Timeout,
    Event,
    Transmit(usize),
    Status,
    Bw(i32),
    Info(i32, Vec<u8>),
    Peers(usize, Vec<u8>),
    Detail(Vec<u8>),
    Config(u8),
    Stop,
    ReconnectAfter(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let keyword = prop::sample::select(vec![
        &b"SENDSTATUS\n"[..],
        b"SENDPEERS\r\n",
        b"SENDDETAIL\n",
        b"SENDCONF\n",
        b"PROTOCOL 0001\n",
        b"PROTOCOL 2\n",
        b"PROTOCOL x\n",
        b"PROTOCOL 0003\n",
        b"CTCONFIG . . . 60 . . . .\n",
        b"CTCONFIG\n",
        b"CTCONFIG a b\n",
        b"SETDLIMIT 1e9\n",
        b"CTQUITTER\n",
        b"\0\n",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Op::Input),
        keyword.prop_map(|k| Op::Input(k.to_vec())),
        (0usize..6000).prop_map(|n| Op::Input(vec![b'A'; n])),
        (0u64..20_000).prop_map(Op::Advance),
        (0u64..20_000).prop_map(Op::Back),
        Just(Op::Connected),
        Just(Op::Closed),
        Just(Op::ConnectFailed),
        Just(Op::Timeout),
        Just(Op::Event),
        (0usize..5000).prop_map(Op::Transmit),
        Just(Op::Status),
        any::<i32>().prop_map(Op::Bw),
        (-1i32..5, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(s, t)| Op::Info(s, t)),
        (0usize..300, prop::collection::vec(any::<u8>(), 0..30)).prop_map(|(n, t)| Op::Peers(n, t)),
        prop::collection::vec(any::<u8>(), 0..5000).prop_map(Op::Detail),
        any::<u8>().prop_map(Op::Config),
        Just(Op::Stop),
        (0u64..10_000).prop_map(Op::ReconnectAfter),
    ]
}

fn check_chunk(chunk: &[u8]) {
    assert!(chunk.ends_with(b"\n"), "a whole line");
    assert!(!chunk.contains(&0), "no NUL");
    let line = &chunk[..chunk.len() - 1];
    assert!(!line.contains(&b'\n'), "one line per poll_transmit");
    assert!(line.len() <= 4294, "line of {} bytes", line.len());
    assert!(!line.contains(&b'\r'));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_scripts_keep_the_invariants(ops in prop::collection::vec(op(), 0..80)) {
        let mut s = ClientSession::<8192, 8192>::new_sized(config()).unwrap();
        let mut now = 0u64;
        let mut buf = vec![0u8; ClientSession::MAX_TRANSMIT_LEN];
        for op in ops {
            let t = Instant::from_millis(now);
            match op {
                Op::Input(bytes) => {
                    let spare = s.input_spare();
                    match s.handle_input(&bytes) {
                        Ok(()) => prop_assert!(
                            s.state() != ClientState::Ready
                                || s.input_spare() == spare - bytes.len()
                        ),
                        Err(full) => {
                            prop_assert_eq!((full.offered(), full.spare()), (bytes.len(), spare));
                            prop_assert_eq!(s.input_spare(), spare, "nothing taken");
                        }
                    }
                }
                Op::Advance(ms) => now = now.saturating_add(ms),
                Op::Back(ms) => now = now.saturating_sub(ms),
                Op::Connected => s.handle_connected(t),
                Op::Closed => s.handle_closed(t),
                Op::ConnectFailed => s.handle_connect_failed(t),
                Op::Timeout => {
                    s.handle_timeout(t);
                    if let Some(due) = s.poll_timeout() {
                        prop_assert!(due > t, "deadline {due:?} not after {t:?}");
                    }
                }
                Op::Event => {
                    if let Some(ev) = s.poll_event() {
                        let _ = note(ev);
                    }
                }
                Op::Transmit(len) => {
                    let len = len.min(buf.len());
                    match s.poll_transmit(&mut buf[..len]) {
                        Ok(Some(n)) => {
                            prop_assert!(n <= len);
                            check_chunk(&buf[..n]);
                        }
                        Ok(None) => prop_assert_eq!(s.pending_output(), 0),
                        Err(e) => prop_assert!(e.required() > len && e.required() <= 4295),
                    }
                }
                Op::Status => { let _ = s.send_status(&status()); }
                Op::Bw(x) => {
                    let _ = s.send_bw(&CtBw { dl_rate: x, ul_rate: x, dl_limit: x, ul_limit: x });
                }
                Op::Info(sev, text) => { let _ = s.send_info(sev, &text); }
                Op::Peers(n, id) => {
                    let word = Word::new(&id).unwrap_or(Word::new(b"x").unwrap());
                    let p = CtPeer { peer_id: word, ..peer() };
                    let _ = s.send_peers(std::iter::repeat(p).take(n));
                }
                Op::Detail(name) => {
                    let name = Text::new(&name).unwrap_or(Text::EMPTY);
                    let f = CtFile { filename: name, ..file("f") };
                    let _ = s.send_detail(&CtDetail::default(), [f, f]);
                }
                Op::Config(k) => {
                    let mut v = values();
                    if k % 3 == 0 { v.pause = Positional::Keep; }
                    let _ = s.send_config(&v, std::iter::repeat(option()).take(usize::from(k)));
                }
                Op::Stop => s.stop(),
                Op::ReconnectAfter(ms) => s.reconnect_after(t, Duration::from_millis(ms)),
            }
            prop_assert!(s.pending_output() <= 8192);
        }
        // Whatever is left drains as whole lines.
        while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
            check_chunk(&buf[..n]);
        }
    }
}

// ---- input buffer and transmit contract -------------------------------------------------

#[test]
fn byte_by_byte_and_one_chunk_give_the_same_events() {
    let stream: &[u8] =
        b"PROTOCOL 0002\nSENDSTATUS\r\nSETDLIMIT 2048.9\n\0x\nCTCONFIG . . 1.5 60 . . . 1\n\
        SENDPEERS\rERROR nope\nSENDCONF\nSENDST";
    let mut whole = connected(&config());
    let at_once = feed(&mut whole, stream);
    assert_eq!(at_once.len(), 8, "{at_once:?}");
    assert_eq!(whole.version(), Version::V2);
    let mut bytes = connected(&config());
    let mut one_by_one = Vec::new();
    for b in stream {
        one_by_one.extend(feed(&mut bytes, std::slice::from_ref(b)));
    }
    assert_eq!(one_by_one, at_once);
    // Read straight into the session: the same again.
    let mut direct = connected(&config());
    direct.input_buf()[..stream.len()].copy_from_slice(stream);
    direct.commit_input(stream.len()).unwrap();
    assert_eq!(notes(&mut direct), at_once);
    // "SENDST" waits for its end in all three.
    for s in [&whole, &bytes, &direct] {
        assert_eq!(s.input_spare(), s.input_capacity() - 6);
    }
}

#[test]
fn a_full_input_buffer_loses_nothing_and_resumes_after_polling() {
    let mut s = ClientSession::<24, 4096>::new_sized(config()).unwrap();
    s.handle_connected(at(0));
    assert_eq!(s.poll_event(), Some(ClientEvent::Connected));
    s.handle_input(b"SENDSTATUS\nSENDPEERS\n").unwrap();
    assert_eq!(s.input_spare(), 24 - 21);
    let full = s.handle_input(b"CTQUIT\n").unwrap_err();
    assert_eq!((full.offered(), full.spare()), (7, 3));
    assert_eq!(s.commit_input(4).unwrap_err().spare(), 3);
    assert_eq!(s.input_spare(), 3);
    assert_eq!(notes(&mut s), ["StatusRequested", "PeersRequested"]);
    assert_eq!(s.input_spare(), 24);
    s.handle_input(b"CTQUIT\n").unwrap();
    assert_eq!(notes(&mut s), ["quit"]);
    // Lines are at most IN - 1 bytes here; a longer one is an error for itself only.
    s.handle_input(&[b'A'; 24]).unwrap();
    assert_eq!(notes(&mut s), ["malformed line_too_long at 23 ()"]);
    s.handle_input(b"AAA\nSENDCONF\n").unwrap();
    assert_eq!(notes(&mut s), ["ConfigRequested"]);
    // Outside Ready every byte is dropped, however many.
    s.handle_closed(at(1));
    s.handle_input(&[b'x'; 100]).unwrap();
    assert_eq!(s.input_spare(), 24);
    assert_eq!(
        ClientSession::<1, 4096>::new_sized(config())
            .err()
            .map(|e| e.kind()),
        Some(UsageErrorKind::TooLong)
    );
}

#[test]
fn one_line_per_poll_transmit_and_max_transmit_len_suffices() {
    let mut s = connected(&config());
    s.send_status(&status()).unwrap();
    s.send_peers([peer(), peer()]).unwrap();
    let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
    let mut lines = Vec::new();
    while let Some(n) = s.poll_transmit(&mut buf).unwrap() {
        check_chunk(&buf[..n]);
        lines.push(buf[..n].to_vec());
    }
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with(b"CTSTATUS "));
    assert_eq!(lines[1], b"CTPEERSTART\n");
    // The longest line the session writes: 4294 bytes and its LF.
    let text = vec![b'w'; 4294 - b"CTINFO 3 ".len()];
    s.send_info(3, &text).unwrap();
    let mut short = vec![0u8; ClientSession::MAX_TRANSMIT_LEN - 1];
    assert_eq!(
        s.poll_transmit(&mut short).unwrap_err().required(),
        ClientSession::MAX_TRANSMIT_LEN
    );
    assert_eq!(
        s.poll_transmit(&mut buf).unwrap(),
        Some(ClientSession::MAX_TRANSMIT_LEN)
    );
    let longer = vec![b'w'; text.len() + 1];
    assert_eq!(
        s.send_info(3, &longer).map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
}

/// With `heapless`, text an event lends from the session's input buffer can be kept past
/// the next `poll_event`, which reuses that buffer.
#[cfg(feature = "heapless")]
#[test]
fn event_text_outlives_the_input_buffer_as_an_owned_copy() {
    use trackwire::ctcs::{OwnedText, OwnedWord};
    let mut s = connected(&config());
    s.handle_input(b"ERROR Authentication failed\nCTCONFIG max_peers 60\nSENDSTATUS\n")
        .unwrap();
    let kept: OwnedText<64> = match s.poll_event() {
        Some(ClientEvent::Unknown(text)) => text.to_heapless().unwrap(),
        other => panic!("{other:?}"),
    };
    let (name, value): (OwnedWord, OwnedText) = match s.poll_event() {
        Some(ClientEvent::ConfigSet(c)) => (
            c.name.to_heapless().unwrap(),
            c.value.to_heapless().unwrap(),
        ),
        other => panic!("{other:?}"),
    };
    assert_eq!(s.poll_event(), Some(ClientEvent::StatusRequested));
    // The buffer has been reused; the copies are intact and lend back as fields.
    s.handle_input(b"CTQUIT\n").unwrap();
    assert_eq!(s.poll_event(), Some(ClientEvent::Quit));
    assert_eq!(kept, "ERROR Authentication failed");
    assert_eq!(
        (name.as_word(), value.as_text()),
        (Word::new(b"max_peers").unwrap(), Text::new(b"60").unwrap())
    );
    let too_small: Result<OwnedText<4>, _> = kept.as_text().to_heapless();
    assert_eq!(
        too_small.map_err(|e| e.kind()),
        Err(UsageErrorKind::TooLong)
    );
}
