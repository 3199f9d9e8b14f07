//! `trackwire ctcs serve`: a CTCS (CTorrent Control Server) that real ctorrent clients
//! connect to: one thread per TCP connection running a `ctcs::ServerSession`, commands
//! from stdin, events as JSON lines on stdout.
//!
//! * `--protocol`: the highest protocol version to negotiate (default 3); the session
//!   sends `PROTOCOL 000k` first thing on every connection.
//! * `--password`: clients must send `AUTH` with it (ctorrent: `-S host:port:` and the
//!   password typed at its prompt); a wrong one gets `ERROR Authentication failed` and
//!   the connection is closed one second later (dnh3.3.2 may abort when the server
//!   closes within milliseconds of its connect).
//! * `--poll SECS`: send `SENDSTATUS` to every identified client every SECS seconds.
//!
//! Connections are numbered from 1. `listening on ADDR` goes to stderr once the socket is
//! bound, a short log of each connection too. Each event is one JSON line on stdout,
//! flushed at once: `{"conn": N, "event": E, …}` with E one of
//!
//! | E | fields |
//! |---|---|
//! | `hello` | `peer_id`, `start_timestamp`, `current_timestamp`, `filename` |
//! | `status` | `seeders`, `total_seeders`, `leechers`, `total_leechers`, `connecting`, `n_have`, `n_total`, `n_avail`, `dl_rate`, `ul_rate`, `dl_total`, `ul_total`, `dl_limit`, `ul_limit`, `cache_used` (version 1: no tracker totals, `connecting`, `cache_used`), `protocol` (the form's version) |
//! | `bandwidth` | `dl_rate`, `ul_rate`, `dl_limit`, `ul_limit` |
//! | `info` | `severity`, `message` (a continuation line: `continued: true` and `message`) |
//! | `detail` | `torrent_size`, `piece_size`, `current_timestamp`, `seed_timestamp` |
//! | `file` | `fileno`, `priority`, `current_priority` (v3), `n_pieces`, `n_have`, `n_available` (v2, v3), `filesize`, `filename` |
//! | `files_done`, `peers_done`, `config_done` | `items` |
//! | `peer` | `peer_id`, `address`, `choke_interest`, `dl_rate`, `ul_rate`, `dl_total`, `ul_total`, `n_pieces` |
//! | `config` | v3: `name`, `value_type`, `range`, `value`, `short_desc`, `long_desc`; v1/v2: the positional fields |
//! | `auth_failed` | `reason` |
//! | `closed` | |
//! | `error` | `error` (`line`, `not_identified`, `item_outside_block`, `unexpected_block_end`, `unterminated_block`, or `command` for a refused stdin command), `message` |
//! | `client` | the answer to `list`: `address`, `state`, `protocol`, `announced`, `peer_id`, `start_timestamp`, `filename` |
//!
//! All protocol logic is in `ServerSession`; this file only moves bytes, time and
//! commands.

use std::collections::BTreeMap;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use trackwire::ctcs::{
    BlockKind, ServerConfig, ServerEvent, ServerSession, ServerState, Version, MAX_PASSWORD_LEN,
};
use trackwire::{Instant, StdClock, UsageErrorKind};

use crate::cli::CtcsServeArgs;
use crate::ctcs_json;
use crate::failure::Failure;

/// The longest a connection thread waits before looking at its command queue.
const COMMAND_LATENCY: Duration = Duration::from_millis(20);

/// How long a connection that failed authentication stays open after the `ERROR` line
/// (input ignored). dnh3.3.2 sometimes aborts (glibc: `bit out of range 0 - FD_SETSIZE
/// on fd_set`) when the server closes within milliseconds of its connect; with a second
/// it never did in our measurements.
const REJECT_CLOSE_DELAY: Duration = Duration::from_secs(1);

/// The server's settings.
struct Options {
    password: Option<String>,
    protocol: Version,
    poll: Option<Duration>,
}

/// Runs `ctcs serve` until killed.
pub(crate) fn run(a: &CtcsServeArgs) -> Result<ExitCode, Failure> {
    let o = Options {
        password: a.password.clone(),
        protocol: match a.protocol {
            1 => Version::V1,
            2 => Version::V2,
            _ => Version::V3,
        },
        poll: a.poll,
    };
    // Checked once here so that every connection's session can be built.
    let probe = ServerConfig::new()
        .with_max_version(o.protocol)
        .with_password(o.password.as_deref().map(str::as_bytes));
    ServerSession::new(probe, Instant::ZERO).map_err(|e| {
        Failure::Usage(match e.kind() {
            UsageErrorKind::TooLong => format!(
                "--password: longer than {MAX_PASSWORD_LEN} bytes, which no ctorrent client can send"
            ),
            UsageErrorKind::InvalidValue => {
                "--password: contains a NUL, CR or LF byte, which no AUTH line can carry".into()
            }
            _ => format!("--password: {e}"),
        })
    })?;
    let listen: SocketAddr = a
        .listen
        .to_socket_addrs()
        .map_err(|e| Failure::Usage(format!("--listen {}: {e}", a.listen)))?
        .next()
        .ok_or_else(|| Failure::Usage(format!("--listen {}: names no address", a.listen)))?;
    let listener = TcpListener::bind(listen)
        .map_err(|e| Failure::Failed(format!("cannot listen on {listen}: {e}")))?;
    let local = listener.local_addr().unwrap_or(listen);
    log(&format!("listening on {local}"));

    let registry: Registry = Arc::new(Mutex::new(BTreeMap::new()));
    {
        let registry = Arc::clone(&registry);
        std::thread::spawn(move || read_commands(&registry));
    }
    let options = Arc::new(o);
    let clock = StdClock::new();
    let next = AtomicU32::new(1);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log(&format!("trackwire: accept: {e}"));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let conn = next.fetch_add(1, Ordering::Relaxed);
        let remote = stream
            .peer_addr()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        log(&format!("conn {conn}: accepted from {remote}"));
        let (tx, rx) = channel();
        let handle = Handle {
            remote,
            commands: tx,
            identity: Identity::default(),
            state: if options.password.is_some() {
                ServerState::AwaitingAuth
            } else {
                ServerState::AwaitingIdentity
            },
            version: options.protocol,
        };
        registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(conn, handle);
        let registry = Arc::clone(&registry);
        let options = Arc::clone(&options);
        std::thread::spawn(move || {
            Connection {
                conn,
                stream,
                clock,
                registry: Arc::clone(&registry),
                commands: rx,
                close_at: None,
            }
            .run(&options);
            registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&conn);
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// One stdin command for a connection.
#[derive(Debug)]
enum Command {
    Status,
    Peers,
    Detail,
    Config,
    Update,
    Restart,
    Quit,
    Dlimit(i32),
    Ulimit(i32),
    Set(String, String),
}

/// A stdin line: `list`, or a command for connection N.
fn parse_command(line: &str) -> Result<Option<(u32, Command)>, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed == "list" {
        return Ok(None);
    }
    let (conn, rest) = trimmed
        .split_once(' ')
        .ok_or("expected `N COMMAND` or `list`")?;
    let conn: u32 = conn
        .parse()
        .map_err(|_| format!("`{conn}` is not a connection number"))?;
    let rest = rest.trim_start();
    let (verb, arg) = rest.split_once(' ').unwrap_or((rest, ""));
    let number = |arg: &str| -> Result<i32, String> {
        arg.trim()
            .parse()
            .map_err(|_| format!("{verb} takes a number of bytes per second, not `{arg}`"))
    };
    let cmd = match verb {
        "status" => Command::Status,
        "peers" => Command::Peers,
        "detail" => Command::Detail,
        "config" => Command::Config,
        "update" => Command::Update,
        "restart" => Command::Restart,
        "quit" => Command::Quit,
        "dlimit" => Command::Dlimit(number(arg)?),
        "ulimit" => Command::Ulimit(number(arg)?),
        "set" => {
            let arg = arg.trim_start();
            let (name, value) = arg.split_once(' ').unwrap_or((arg, ""));
            if name.is_empty() {
                return Err("set takes NAME VALUE".into());
            }
            Command::Set(name.to_string(), value.to_string())
        }
        other => return Err(format!("unknown command `{other}`")),
    };
    Ok(Some((conn, cmd)))
}

/// What `list` shows about a connection.
#[derive(Debug, Clone, Default)]
struct Identity {
    peer_id: Option<String>,
    start_timestamp: Option<i64>,
    filename: Option<String>,
    announced: Option<u32>,
}

/// A connection as the stdin thread sees it.
struct Handle {
    remote: SocketAddr,
    commands: Sender<Command>,
    identity: Identity,
    state: ServerState,
    version: Version,
}

type Registry = Arc<Mutex<BTreeMap<u32, Handle>>>;

/// Prints one JSON line on stdout and flushes it (a closed stdout ends the server
/// quietly: nobody reads the events any more).
fn emit(value: &Value) {
    crate::out::json(value);
}

/// One stderr line (a closed stderr is not worth stopping the server for).
fn log(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn event(conn: u32, name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("conn".into(), json!(conn));
    m.insert("event".into(), json!(name));
    m
}

fn state_name(s: ServerState) -> &'static str {
    match s {
        ServerState::AwaitingAuth => "awaiting_auth",
        ServerState::AwaitingIdentity => "awaiting_identity",
        ServerState::Ready => "ready",
        ServerState::Rejected => "rejected",
        ServerState::Closed => "closed",
        _ => "other",
    }
}

/// The stdin thread: parses commands and hands them to the connection threads.
fn read_commands(registry: &Registry) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match parse_command(&line) {
            Ok(None) if line.trim() == "list" => {
                let reg = registry.lock().unwrap_or_else(|e| e.into_inner());
                for (conn, h) in reg.iter() {
                    let mut m = event(*conn, "client");
                    m.insert("address".into(), json!(h.remote.to_string()));
                    m.insert("state".into(), json!(state_name(h.state)));
                    m.insert("protocol".into(), json!(h.version.get()));
                    if let Some(a) = h.identity.announced {
                        m.insert("announced".into(), json!(a));
                    }
                    if let Some(p) = &h.identity.peer_id {
                        m.insert("peer_id".into(), json!(p));
                    }
                    if let Some(t) = h.identity.start_timestamp {
                        m.insert("start_timestamp".into(), json!(t));
                    }
                    if let Some(f) = &h.identity.filename {
                        m.insert("filename".into(), json!(f));
                    }
                    emit(&Value::Object(m));
                }
            }
            Ok(None) => {}
            Ok(Some((conn, cmd))) => {
                let reg = registry.lock().unwrap_or_else(|e| e.into_inner());
                match reg.get(&conn) {
                    Some(h) if h.commands.send(cmd).is_ok() => {}
                    _ => command_error(conn, &format!("no open connection {conn}")),
                }
            }
            Err(e) => {
                log(&format!("trackwire: stdin command `{line}`: {e}"));
                command_error(0, &e);
            }
        }
    }
}

fn command_error(conn: u32, message: &str) {
    let mut m = event(conn, "error");
    m.insert("error".into(), json!("command"));
    m.insert("message".into(), json!(message));
    emit(&Value::Object(m));
}

/// One accepted connection and its session, run on its own thread.
struct Connection {
    conn: u32,
    stream: TcpStream,
    clock: StdClock,
    registry: Registry,
    commands: Receiver<Command>,
    /// When to close a connection that failed authentication.
    close_at: Option<std::time::Instant>,
}

impl Connection {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The session's run loop: drain events, then lines to send, then look at the
    /// deadline; wait for bytes, a deadline or a command; repeat. Bytes are read straight
    /// into the session's own input buffer, so this loop keeps no buffer of its own.
    fn run(mut self, o: &Options) {
        let config = ServerConfig::new()
            .with_max_version(o.protocol)
            .with_password(o.password.as_deref().map(str::as_bytes))
            .with_poll_interval(o.poll);
        let mut s = match ServerSession::new(config, self.now()) {
            Ok(s) => s,
            Err(e) => {
                log(&format!("conn {}: cannot start a session: {e}", self.conn));
                return;
            }
        };
        let _ = self.stream.set_nodelay(true);
        loop {
            if self.drain(&mut s) {
                break;
            }
            // Commands queued by the stdin thread; each queues a line to send at once.
            let mut commanded = false;
            while let Ok(cmd) = self.commands.try_recv() {
                self.command(&mut s, cmd);
                commanded = true;
            }
            if commanded && self.drain(&mut s) {
                break;
            }
            // Wait for bytes, the session's deadline or the next look at the commands.
            let now = self.now();
            let wait = s
                .poll_timeout()
                .map_or(COMMAND_LATENCY, |at| {
                    at.saturating_duration_since(now).min(COMMAND_LATENCY)
                })
                .max(Duration::from_millis(1));
            let _ = self.stream.set_read_timeout(Some(wait));
            let room = s.input_buf();
            if room.is_empty() {
                // Cannot happen: every event was polled, which leaves room for a whole
                // line. A read into no room would return 0 and look like end of file.
                log(&format!(
                    "conn {}: the session's input buffer is full after its events were polled; closing",
                    self.conn
                ));
                s.handle_closed();
                continue;
            }
            match self.stream.read(room) {
                Ok(0) => {
                    log(&format!("conn {}: closed by the client", self.conn));
                    s.handle_closed();
                }
                Ok(n) => {
                    if let Err(e) = s.commit_input(self.now(), n) {
                        // Cannot happen: `n` is at most the room `input_buf` gave.
                        log(&format!("conn {}: {e}; closing", self.conn));
                        s.handle_closed();
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    log(&format!("conn {}: read: {e}", self.conn));
                    s.handle_closed();
                }
            }
            // Lines just read are acted on by the next drain, before the timers look at
            // the time: a block's next line must count before its timer fires.
            if self.drain(&mut s) {
                break;
            }
            let now = self.now();
            if s.poll_timeout().is_some_and(|at| at <= now) {
                s.handle_timeout(now);
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// The run loop's drain, in the session's order: events (acting on received lines,
    /// which may queue a reply), then the queued lines, one write each; then closes a
    /// rejected client once its `ERROR` line is out and the delay has passed. Returns
    /// true once the session is closed and its last event printed.
    fn drain(&mut self, s: &mut ServerSession) -> bool {
        if self.events(s) {
            return true;
        }
        let closing = self.transmit(s) || self.close_if_rejected(s);
        // `handle_closed` was called: print what it reported (the last is `closed`).
        closing && self.events(s)
    }

    /// Prints every waiting event and updates the registry; true if the last was
    /// `closed`.
    fn events(&mut self, s: &mut ServerSession) -> bool {
        let mut closed = false;
        let mut identity = None;
        let mut announced = None;
        loop {
            // The version the next event's line is read under (a file line's fields
            // depend on it); an event borrows the session, so ask before polling.
            let version = s.version();
            let Some(ev) = s.poll_event() else { break };
            if let ServerEvent::Hello(t) = &ev {
                identity = Some((
                    t.peer_id.to_string(),
                    t.start_timestamp,
                    t.filename.to_string(),
                ));
            }
            if let ServerEvent::Protocol { announced: a, .. } = &ev {
                announced = Some(*a);
            }
            closed |= matches!(ev, ServerEvent::Closed);
            if let Some(v) = self.event_json(&ev, version) {
                emit(&v);
            }
        }
        let mut reg = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = reg.get_mut(&self.conn) {
            h.state = s.state();
            h.version = s.version();
            if let Some((peer_id, start, filename)) = identity {
                h.identity.peer_id = Some(peer_id);
                h.identity.start_timestamp = Some(start);
                h.identity.filename = Some(filename);
            }
            if announced.is_some() {
                h.identity.announced = announced;
            }
        }
        closed
    }

    /// Writes every queued line, each in one write (dnh3.3.2 acts on what one `recv`
    /// returns). True if a write failed and the session was closed.
    fn transmit(&mut self, s: &mut ServerSession) -> bool {
        let mut line = [0u8; ServerSession::MAX_TRANSMIT_LEN];
        loop {
            match s.poll_transmit(&mut line) {
                Ok(Some(n)) => {
                    if let Err(e) = self.stream.write_all(line.get(..n).unwrap_or_default()) {
                        log(&format!("conn {}: write: {e}", self.conn));
                        s.handle_closed();
                        return true;
                    }
                }
                Ok(None) => return false,
                Err(e) => {
                    // Cannot happen: MAX_TRANSMIT_LEN always suffices; the line stays queued.
                    log(&format!("conn {}: transmit: {e}", self.conn));
                    return false;
                }
            }
        }
    }

    /// Once a client that failed authentication has its `ERROR` line, closes the
    /// connection [`REJECT_CLOSE_DELAY`] later. True if it closed the session now.
    fn close_if_rejected(&mut self, s: &mut ServerSession) -> bool {
        if !s.should_close() {
            return false;
        }
        let now = std::time::Instant::now();
        match self.close_at {
            None => {
                log(&format!(
                    "conn {}: authentication failed; closing in {} s",
                    self.conn,
                    REJECT_CLOSE_DELAY.as_secs()
                ));
                self.close_at = Some(now + REJECT_CLOSE_DELAY);
                false
            }
            Some(at) if now >= at => {
                log(&format!(
                    "conn {}: closing after failed authentication",
                    self.conn
                ));
                let _ = self.stream.shutdown(Shutdown::Both);
                s.handle_closed();
                true
            }
            Some(_) => false,
        }
    }

    /// The JSON line for an event, or `None` for those only logged on stderr.
    fn event_json(&self, ev: &ServerEvent<'_>, version: Version) -> Option<Value> {
        let conn = self.conn;
        let mut m;
        match ev {
            ServerEvent::Hello(t) => {
                m = event(conn, "hello");
                ctcs_json::torrent(&mut m, t);
            }
            ServerEvent::Status { status, version } => {
                m = event(conn, "status");
                ctcs_json::status(&mut m, status, *version);
                m.insert("protocol".into(), json!(version.get()));
            }
            ServerEvent::Bandwidth(b) => {
                m = event(conn, "bandwidth");
                ctcs_json::bandwidth(&mut m, b);
            }
            ServerEvent::Info(i) => {
                m = event(conn, "info");
                ctcs_json::info(&mut m, i);
            }
            ServerEvent::InfoContinued(t) => {
                m = event(conn, "info");
                m.insert("continued".into(), json!(true));
                m.insert("message".into(), ctcs_json::text(*t));
            }
            ServerEvent::Detail(d) => {
                m = event(conn, "detail");
                ctcs_json::detail(&mut m, d);
            }
            ServerEvent::File(f) => {
                m = event(conn, "file");
                ctcs_json::file(&mut m, f, version);
            }
            ServerEvent::Peer(p) => {
                m = event(conn, "peer");
                ctcs_json::peer(&mut m, p);
            }
            ServerEvent::Config(c) => {
                m = event(conn, "config");
                ctcs_json::config(&mut m, c);
            }
            ServerEvent::ConfigValues(c) => {
                m = event(conn, "config");
                ctcs_json::config_values(&mut m, c, version, false);
            }
            ServerEvent::BlockEnd { block, items } => {
                let name = match block {
                    BlockKind::Files => "files_done",
                    BlockKind::Peers => "peers_done",
                    _ => "config_done",
                };
                m = event(conn, name);
                m.insert("items".into(), json!(items));
            }
            ServerEvent::AuthFailed(why) => {
                m = event(conn, "auth_failed");
                m.insert("reason".into(), json!(why.to_string()));
            }
            ServerEvent::Closed => m = event(conn, "closed"),
            ServerEvent::Error(e) => {
                m = event(conn, "error");
                m.insert("error".into(), json!(e.name()));
                m.insert("message".into(), json!(e.to_string()));
            }
            ServerEvent::Protocol { announced, version } => {
                log(&format!(
                    "conn {conn}: client announced PROTOCOL {announced}; version {} in force",
                    version.get()
                ));
                return None;
            }
            ServerEvent::Authenticated => {
                log(&format!("conn {conn}: authenticated"));
                return None;
            }
            ServerEvent::Unknown(t) => {
                log(&format!("conn {conn}: unknown line `{t}`"));
                return None;
            }
            ServerEvent::BlockBegin(block) => {
                log(&format!("conn {conn}: {block} block begins"));
                return None;
            }
            other => {
                log(&format!("conn {conn}: {}", other.name()));
                return None;
            }
        }
        Some(Value::Object(m))
    }

    fn command(&mut self, s: &mut ServerSession, cmd: Command) {
        let r = match &cmd {
            Command::Status => s.request_status(),
            Command::Peers => s.request_peers(),
            Command::Detail => s.request_detail(),
            Command::Config => s.request_config(),
            Command::Update => s.update(),
            Command::Restart => s.restart(),
            Command::Quit => s.quit(),
            Command::Dlimit(b) => s.set_download_limit(*b),
            Command::Ulimit(b) => s.set_upload_limit(*b),
            Command::Set(name, value) => s.set_config(name.as_bytes(), value.as_bytes()),
        };
        match r {
            Ok(()) => log(&format!("conn {}: sent {cmd}", self.conn)),
            Err(e) => command_error(self.conn, &format!("{cmd}: {e}")),
        }
    }
}

impl std::fmt::Display for Command {
    /// The command as typed on stdin.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Status => f.write_str("status"),
            Command::Peers => f.write_str("peers"),
            Command::Detail => f.write_str("detail"),
            Command::Config => f.write_str("config"),
            Command::Update => f.write_str("update"),
            Command::Restart => f.write_str("restart"),
            Command::Quit => f.write_str("quit"),
            Command::Dlimit(b) => write!(f, "dlimit {b}"),
            Command::Ulimit(b) => write!(f, "ulimit {b}"),
            Command::Set(name, value) => write!(f, "set {name} {value}"),
        }
    }
}
