//! `trackwire ctcs simulate`: a simulated ctorrent for testing CTCS servers: a std loop over
//! [`trackwire::ctcs::ClientSession`] that seeds an imaginary torrent and answers every
//! request with synthetic, self-consistent data.
//!
//! It behaves as Enhanced CTorrent dnh3.3.2 does when it seeds with `-S HOST:PORT`:
//!
//! * on every connection it sends `PROTOCOL 0003`, `AUTH PW` and an empty line (with
//!   `--password`), `CTORRENT` (the same start time each time) and a first `CTSTATUS`,
//!   then follows the server's `PROTOCOL` (the version is kept across reconnections);
//! * it reconnects 5 s after the server closed the connection and 15 s after a refused
//!   connect, forever (the session's reconnect timer);
//! * `SENDSTATUS`, `SENDDETAIL`, `SENDPEERS`, `SENDCONF` are answered in the forms of the
//!   version in force: `--files` files (default 2) whose sizes add up to the torrent size,
//!   with piece counts that match a 256 KiB piece size; `--peers` peers (default 3) with
//!   IPv4 addresses in 10.0.0.0/8 and dnh3.3.2 text peer ids (`-CD0303-0x…`); the v3
//!   option list of dnh3.3.2 for a seeder (`verbose` … `ctcs_server`) with current values;
//! * `SETULIMIT` sets the upload limit; `SETDLIMIT` is applied only if it is lower than
//!   the current download limit, as a seeding dnh3.3.2 does (start with `--dlimit` to
//!   have one); the upload rate follows the upload limit;
//! * the v3 `CTCONFIG name value` is applied with dnh3.3.2's checks (`max_peers` in
//!   20..1000, …); a bad value or an unknown name is answered with `CTINFO 2`, as the
//!   real client does; `ctcs_server HOST:PORT` moves to that server after 1 s. A v1/v2
//!   positional `CTCONFIG` (which crashes dnh3.3.2) is applied;
//! * once a second, `CTBW` if a rate or a limit changed since the previous second;
//! * `CTQUIT`: a final `CTSTATUS`, then it closes the connection and exits 0.
//!
//!   `CTUPDATE` and `CTRESTART` are logged.
//!
//! A short log of what it does goes to stderr. Exit status: 0 after `CTQUIT`, 64 on a
//! usage error.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use trackwire::ctcs::{
    ClientEvent, ClientSession, ClientSessionConfig, ClientState, ConfigType, CtBw, CtConfig,
    CtConfigValues, CtDetail, CtFile, CtPeer, CtStatus, Float, PeerFlags, PeerIdText, Positional,
    Text, Version, Word, DEFAULT_INPUT_CAPACITY, MAX_PASSWORD_LEN, MAX_TORRENT_PATH_LEN,
};
use trackwire::{Instant, StdClock, UsageError, UsageErrorKind};

use crate::cli::CtcsSimulateArgs;
use crate::failure::Failure;

/// Output queue: room for a peer list of about 800 peers.
const OUT: usize = 64 * 1024;

/// The session: the default input buffer, a larger output queue.
type Session = ClientSession<DEFAULT_INPUT_CAPACITY, OUT>;
const PIECE_SIZE: u64 = 256 * 1024;

/// The simulation's settings.
struct Options {
    server: String,
    password: Option<String>,
    peers: usize,
    files: usize,
    torrent: String,
    dlimit: i32,
    ulimit: i32,
}

/// One stderr line (a closed stderr is not worth stopping for).
fn log(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs `ctcs simulate` until the server sends `CTQUIT`.
pub(crate) fn run(a: &CtcsSimulateArgs) -> Result<ExitCode, Failure> {
    let o = Options {
        server: a.server.clone(),
        password: a.password.clone(),
        peers: usize::from(a.peers),
        files: usize::from(a.files),
        torrent: a.torrent.clone(),
        dlimit: a.dlimit,
        ulimit: a.ulimit,
    };
    let clock = StdClock::new();
    let unix_ms = unix_now_ms();
    let start = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
    let mut peer_id = [0u8; 20];
    peer_id[..8].copy_from_slice(b"-CD0303-");
    peer_id[8..].copy_from_slice(&crate::random::bytes::<12>());
    let config = ClientSessionConfig::new(peer_id, start, o.torrent.as_bytes())
        .with_unix_time_at_zero_ms(unix_ms)
        .with_password(o.password.as_deref().map(str::as_bytes));
    let session = Session::new_sized(config)
        .map(Box::new)
        .map_err(|e| Failure::Usage(session_error(e)))?;
    let sim = Sim::new(&o, start);
    log(&format!(
        "simulate: {} seeding {} ({} bytes, {} files, {} pieces), {} peers",
        String::from_utf8_lossy(session.peer_id_text()),
        o.torrent,
        sim.torrent_size,
        sim.files.len(),
        sim.n_total,
        sim.peers.len()
    ));
    let last_bw = sim.bw();
    let mut c = Client {
        session,
        stream: None,
        sim,
        clock,
        last_bw,
        quit: false,
    };
    c.run();
    Ok(ExitCode::SUCCESS)
}

/// What is wrong with the options the session refused, named by the option.
fn session_error(e: UsageError) -> String {
    match (e.argument(), e.kind()) {
        ("torrent", UsageErrorKind::InvalidValue) => {
            "--torrent: empty, or contains a NUL, CR or LF byte".into()
        }
        ("torrent", UsageErrorKind::TooLong) => format!(
            "--torrent: longer than {MAX_TORRENT_PATH_LEN} bytes, or too long for a CTORRENT line"
        ),
        ("password", UsageErrorKind::InvalidValue) => format!(
            "--password: contains a NUL, CR or LF byte in its first {MAX_PASSWORD_LEN} bytes (the part ctorrent sends)"
        ),
        _ => format!("cannot start the session: {e}"),
    }
}

/// C's `atoi`: leading blanks, a sign, digits; anything else stops it (0 if none).
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// C's `atof`, near enough: the longest prefix that parses (0 if none).
fn atof(s: &str) -> f64 {
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .filter(|&i| s.is_char_boundary(i))
        .find_map(|i| s[..i].parse::<f64>().ok())
        .unwrap_or(0.0)
}

struct SimFile {
    name: String,
    size: u64,
    n_pieces: i32,
}

struct SimPeer {
    id: PeerIdText,
    address: Ipv4Addr,
    seed: bool,
    n_pieces: i32,
    dl_total: u64,
    ul_total: u64,
}

/// The options dnh3.3.2 lists in its v3 config block, with current values.
struct Settings {
    verbose: i64,
    /// `-e`: the configured seed time, hours; `seed_time` reports what remains.
    seed_hours: f64,
    seed_ratio: f64,
    max_peers: i64,
    min_peers: i64,
    cache_mb: i64,
    pause: bool,
    out_normal: String,
    out_interact: String,
    out_error: String,
    out_debug: String,
    input: String,
    ctcs_server: String,
}

/// The imaginary torrent being seeded, its peers, limits and options.
struct Sim {
    files: Vec<SimFile>,
    torrent_size: u64,
    n_total: i32,
    peers: Vec<SimPeer>,
    dl_limit: i32,
    ul_limit: i32,
    settings: Settings,
    seed_since: i64,
}

impl Sim {
    fn new(o: &Options, now_unix: i64) -> Sim {
        let mut files = Vec::new();
        let mut offset = 0u64;
        for i in 1..=o.files as u64 {
            let size = 600_000 * i + 12_345 * (i % 3) + 1;
            let first = offset / PIECE_SIZE;
            let last = (offset + size - 1) / PIECE_SIZE;
            let name = if o.files == 1 {
                "simulated.bin".to_string()
            } else if i % 2 == 0 {
                format!("data/file {i}.bin")
            } else {
                format!("file{i}.bin")
            };
            files.push(SimFile {
                name,
                size,
                n_pieces: (last - first + 1) as i32,
            });
            offset += size;
        }
        let torrent_size = offset;
        let n_total = torrent_size.div_ceil(PIECE_SIZE) as i32;
        let peers = (0..o.peers)
            .map(|i| {
                let mut id = [0u8; 20];
                id[..8].copy_from_slice(b"-CD0303-");
                // A deterministic scramble: non-printable bytes, so `0x…` as dnh3.3.2 writes.
                let mut x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(0x9e37);
                for b in &mut id[8..] {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    *b = (x as u8) | 0x80;
                }
                let seed = i % 3 == 2;
                SimPeer {
                    id: PeerIdText::encode(&id),
                    address: Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8),
                    seed,
                    n_pieces: if seed {
                        n_total
                    } else {
                        (n_total * (i as i32 % 3 + 1)) / 4
                    },
                    dl_total: 0,
                    ul_total: if seed { 0 } else { PIECE_SIZE * (i as u64 + 1) },
                }
            })
            .collect();
        Sim {
            files,
            torrent_size,
            n_total,
            peers,
            dl_limit: o.dlimit,
            ul_limit: o.ulimit,
            settings: Settings {
                verbose: 0,
                seed_hours: 72.0,
                seed_ratio: 0.0,
                max_peers: 100,
                min_peers: 1,
                cache_mb: 1,
                pause: false,
                out_normal: "stdout".into(),
                out_interact: "stdout".into(),
                out_error: "stderr".into(),
                out_debug: "stderr".into(),
                input: "stdin".into(),
                ctcs_server: o.server.clone(),
            },
            seed_since: now_unix,
        }
    }

    fn leechers(&self) -> usize {
        self.peers.iter().filter(|p| !p.seed).count()
    }

    /// The upload rate: 4 KiB/s per leeching peer, within the upload limit, 0 if paused.
    fn ul_rate(&self) -> i32 {
        if self.settings.pause {
            return 0;
        }
        let base = 4096 * self.leechers() as i32;
        if self.ul_limit > 0 {
            base.min(self.ul_limit)
        } else {
            base
        }
    }

    /// Each leeching peer's share of the upload rate.
    fn peer_ul_rate(&self, index: usize) -> i32 {
        let leechers = self.leechers() as i32;
        if leechers == 0 || self.peers[index].seed {
            return 0;
        }
        let rank = self.peers[..index].iter().filter(|p| !p.seed).count() as i32;
        let share = self.ul_rate() / leechers;
        if rank == 0 {
            share + self.ul_rate() % leechers
        } else {
            share
        }
    }

    fn bw(&self) -> CtBw {
        CtBw {
            dl_rate: 0,
            ul_rate: self.ul_rate(),
            dl_limit: self.dl_limit,
            ul_limit: self.ul_limit,
        }
    }

    fn status(&self) -> CtStatus {
        let seeders = self.peers.iter().filter(|p| p.seed).count() as i32;
        let leechers = self.leechers() as i32;
        CtStatus {
            seeders,
            total_seeders: seeders + 2,
            leechers,
            total_leechers: leechers + 1,
            connecting: 0,
            n_have: self.n_total,
            n_total: self.n_total,
            n_avail: self.n_total,
            dl_rate: 0,
            ul_rate: self.ul_rate(),
            dl_total: 0,
            ul_total: self.peers.iter().map(|p| p.ul_total).sum(),
            dl_limit: self.dl_limit,
            ul_limit: self.ul_limit,
            cache_used: 64.min(self.settings.cache_mb as i32 * 1024),
        }
    }

    fn seed_time_text(&self) -> String {
        if self.settings.seed_hours.fract() == 0.0 {
            format!("{:.0}", self.settings.seed_hours)
        } else {
            format!("{:.2}", self.settings.seed_hours)
        }
    }

    /// (name, type, range, value, short_desc, long_desc), in dnh3.3.2's order (measured from dnh3.3.2).
    fn options(
        &self,
    ) -> Vec<(
        &'static str,
        ConfigType,
        &'static str,
        String,
        &'static str,
        String,
    )> {
        let s = &self.settings;
        let peers = self.peers.len();
        let mut v = vec![
            (
                "verbose",
                ConfigType::Boolean,
                "0",
                s.verbose.to_string(),
                "Verbose output [-v]",
                if s.verbose != 0 {
                    "Enabled"
                } else {
                    "Disabled"
                }
                .to_string(),
            ),
            (
                "seed_time",
                ConfigType::Float,
                "0",
                self.seed_time_text(),
                "Seed time [-e]",
                format!("~hours remaining (-e {})", self.seed_time_text()),
            ),
            (
                "seed_ratio",
                ConfigType::Float,
                "0",
                format!("{:.2}", s.seed_ratio),
                "Seed ratio [-E]",
                "Upload:Download".to_string(),
            ),
            (
                "max_peers",
                ConfigType::Integer,
                "20-1000",
                s.max_peers.to_string(),
                "Max peers [-M]",
                format!("Current peers: {peers}"),
            ),
            (
                "min_peers",
                ConfigType::Integer,
                "1-1000",
                s.min_peers.to_string(),
                "Min peers [-m]",
                format!("Current peers: {peers}"),
            ),
            (
                "cache",
                ConfigType::Integer,
                "0",
                s.cache_mb.to_string(),
                "Cache size [-C]",
                "MB; 64KB now in use".to_string(),
            ),
            (
                "pause",
                ConfigType::Boolean,
                "0",
                u8::from(s.pause).to_string(),
                "Pause torrent",
                "Stop upload/download".to_string(),
            ),
        ];
        for (name, value, desc) in [
            ("out_normal", &s.out_normal, "Normal/status output"),
            ("out_interact", &s.out_interact, "Interactive output"),
            ("out_error", &s.out_error, "Error/warning output"),
            ("out_debug", &s.out_debug, "Debug/verbose output"),
            ("input", &s.input, "Console input"),
            ("ctcs_server", &s.ctcs_server, "CTCS server"),
        ] {
            v.push((
                name,
                ConfigType::String,
                "4096",
                value.clone(),
                desc,
                String::new(),
            ));
        }
        v
    }

    /// Applies a v3 `CTCONFIG name value` with dnh3.3.2's checks. `Err(None)`: bad value;
    /// `Err(Some(()))`: unknown option. `Ok(true)`: the CTCS server moved.
    fn set(&mut self, name: &str, value: &str) -> Result<bool, Option<()>> {
        let s = &mut self.settings;
        match name {
            "verbose" => s.verbose = non_negative(atoi(value))?,
            "seed_time" => {
                let v = atof(value);
                if v.is_nan() || v < 0.0 {
                    return Err(None);
                }
                s.seed_hours = v.ceil();
            }
            "seed_ratio" => {
                let v = atof(value);
                if v.is_nan() || v < 0.0 {
                    return Err(None);
                }
                s.seed_ratio = v;
            }
            "max_peers" => s.max_peers = within(atoi(value), 20, 1000)?,
            "min_peers" => s.min_peers = within(atoi(value), 1, 1000)?,
            "cache" => s.cache_mb = non_negative(atoi(value))?,
            "pause" => s.pause = non_negative(atoi(value))? != 0,
            "out_normal" => s.out_normal = value.to_string(),
            "out_interact" => s.out_interact = value.to_string(),
            "out_error" => s.out_error = value.to_string(),
            "out_debug" => s.out_debug = value.to_string(),
            "input" => s.input = value.to_string(),
            "ctcs_server" => {
                let ok = value
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
                if !ok {
                    return Err(None);
                }
                s.ctcs_server = value.to_string();
                return Ok(true);
            }
            _ => return Err(Some(())),
        }
        Ok(false)
    }
}

fn non_negative(v: i64) -> Result<i64, Option<()>> {
    if v >= 0 {
        Ok(v)
    } else {
        Err(None)
    }
}

fn within(v: i64, lo: i64, hi: i64) -> Result<i64, Option<()>> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(None)
    }
}

/// A positional (v1/v2) `CTCONFIG`, copied out of the session.
#[derive(Default)]
struct Values {
    verbose: Option<i32>,
    seedtime: Option<i32>,
    seed_ratio: Option<f64>,
    maxpeers: Option<i32>,
    minpeers: Option<i32>,
    cache_size: Option<i32>,
    pause: Option<i32>,
}

/// An event copied out of the session, so that the session can be used to answer it.
enum Act {
    Connected,
    Reconnect,
    Status,
    Detail,
    Peers,
    Config,
    Dlimit(i32),
    Ulimit(i32),
    Set(String, String),
    Values(Values),
    Quit,
    Restart,
    Update,
    Protocol(Version, Version),
    Ignored(String),
}

impl Act {
    fn of(ev: &ClientEvent<'_>) -> Act {
        match ev {
            ClientEvent::Connected => Act::Connected,
            ClientEvent::Reconnect => Act::Reconnect,
            ClientEvent::StatusRequested => Act::Status,
            ClientEvent::DetailRequested => Act::Detail,
            ClientEvent::PeersRequested => Act::Peers,
            ClientEvent::ConfigRequested => Act::Config,
            ClientEvent::DownloadLimit { limit, .. } => Act::Dlimit(*limit),
            ClientEvent::UploadLimit { limit, .. } => Act::Ulimit(*limit),
            ClientEvent::ConfigSet(c) => Act::Set(c.name.to_string(), c.value.to_string()),
            ClientEvent::ConfigValues(c) => Act::Values(Values {
                verbose: c.verbose.set(),
                seedtime: c.seedtime.set(),
                seed_ratio: c.seed_ratio.set().map(|f| f.to_f64()),
                maxpeers: c.maxpeers.set(),
                minpeers: c.minpeers.set(),
                cache_size: c.cache_size.set(),
                pause: c.pause.set(),
            }),
            ClientEvent::Quit => Act::Quit,
            ClientEvent::Restart => Act::Restart,
            ClientEvent::Update => Act::Update,
            ClientEvent::Protocol { version, previous } => Act::Protocol(*version, *previous),
            ClientEvent::Unknown(t) => Act::Ignored(format!("unknown line `{t}`")),
            ClientEvent::Malformed {
                error,
                line: Some(line),
            } => Act::Ignored(format!("malformed line `{line}`: {error}")),
            ClientEvent::Malformed { error, line: None } => {
                Act::Ignored(format!("a line that could not be framed: {error}"))
            }
            _ => Act::Ignored("an event this version of the tool does not know".into()),
        }
    }
}

/// The driver: the session, the socket and the simulation.
struct Client {
    session: Box<Session>,
    stream: Option<TcpStream>,
    sim: Sim,
    clock: StdClock,
    last_bw: CtBw,
    quit: bool,
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Client {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn run(&mut self) {
        let mut next_tick = self.now().as_millis() + 1000;
        loop {
            if self.quit {
                return;
            }
            match self.session.state() {
                ClientState::Idle => return,
                ClientState::Connecting => self.connect(),
                ClientState::BackOff => {
                    let now = self.now();
                    let due = self.session.poll_timeout().unwrap_or(now);
                    let wait = due.as_millis().saturating_sub(now.as_millis());
                    std::thread::sleep(Duration::from_millis(wait.clamp(1, 1000)));
                    self.session.handle_timeout(self.now());
                    self.pump();
                }
                ClientState::Ready => {
                    let now = self.now().as_millis();
                    if now >= next_tick {
                        next_tick = now + 1000;
                        self.report_bw();
                        continue;
                    }
                    self.read(Duration::from_millis((next_tick - now).max(1)));
                }
                _ => return,
            }
        }
    }

    fn connect(&mut self) {
        let target = self.sim.settings.ctcs_server.clone();
        let addr: Option<SocketAddr> = target.to_socket_addrs().ok().and_then(|mut a| a.next());
        let stream = addr
            .ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, "cannot resolve"))
            .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)));
        match stream {
            Ok(s) => {
                log(&format!("simulate: connected to {target}"));
                let _ = s.set_nodelay(true);
                self.stream = Some(s);
                self.session.handle_connected(self.now());
            }
            Err(e) => {
                log(&format!(
                    "simulate: cannot connect to {target}: {e}; retrying in 15 s"
                ));
                self.session.handle_connect_failed(self.now());
            }
        }
        self.pump();
    }

    /// Waits up to `wait` for bytes from the server, reads them straight into the
    /// session's input buffer and handles them.
    fn read(&mut self, wait: Duration) {
        let Some(stream) = self.stream.as_mut() else {
            self.closed("no socket");
            return;
        };
        let _ = stream.set_read_timeout(Some(wait));
        let room = self.session.input_buf();
        if room.is_empty() {
            // Cannot happen: every event was polled, which leaves room for a whole line.
            // A read into no room would return 0 and look like end of file.
            self.closed("the session's input buffer is full after its events were polled");
            return;
        }
        match stream.read(room) {
            Ok(0) => self.closed("the server closed the connection"),
            Ok(n) => {
                if let Err(e) = self.session.commit_input(n) {
                    // Cannot happen: `n` is at most the room `input_buf` gave.
                    self.closed(&format!("input: {e}"));
                    return;
                }
                self.pump();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => self.closed(&format!("read: {e}")),
        }
    }

    fn closed(&mut self, why: &str) {
        log(&format!("simulate: {why}; reconnecting in 5 s"));
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.session.handle_closed(self.now());
    }

    /// Writes what is queued, one line per write; returns false (and closes) on a
    /// write error.
    fn flush(&mut self) -> bool {
        let mut buf = [0u8; ClientSession::MAX_TRANSMIT_LEN];
        loop {
            let n = match self.session.poll_transmit(&mut buf) {
                Ok(Some(n)) => n,
                Ok(None) => return true,
                Err(e) => {
                    // Cannot happen: MAX_TRANSMIT_LEN always suffices.
                    log(&format!("simulate: transmit: {e}"));
                    return true;
                }
            };
            let Some(stream) = self.stream.as_mut() else {
                return true;
            };
            if let Err(e) = stream.write_all(buf.get(..n).unwrap_or_default()) {
                self.closed(&format!("write: {e}"));
                return false;
            }
        }
    }

    /// The session's drain: acts on every event (received lines are decoded as they
    /// are polled, and the answers are queued), then writes what is queued. Returns
    /// whether any event was handled.
    fn pump(&mut self) -> bool {
        let mut any = false;
        while let Some(act) = self.session.poll_event().map(|ev| Act::of(&ev)) {
            any = true;
            self.act(act);
            if self.quit {
                break;
            }
        }
        self.flush();
        any
    }

    fn report_bw(&mut self) {
        let bw = self.sim.bw();
        if bw != self.last_bw {
            self.last_bw = bw;
            match self.session.send_bw(&bw) {
                Ok(()) => log(&format!(
                    "simulate: CTBW {},{} {},{}",
                    bw.dl_rate, bw.ul_rate, bw.dl_limit, bw.ul_limit
                )),
                Err(e) => log(&format!("simulate: CTBW not sent: {e}")),
            }
            self.pump();
        }
    }

    fn act(&mut self, act: Act) {
        let now = self.now();
        let r = match act {
            Act::Connected => self.session.send_status(&self.sim.status()),
            Act::Reconnect => {
                log("simulate: reconnecting");
                Ok(())
            }
            Act::Status => {
                log("simulate: SENDSTATUS");
                self.session.send_status(&self.sim.status())
            }
            Act::Detail => {
                log(&format!(
                    "simulate: SENDDETAIL: {} files",
                    self.sim.files.len()
                ));
                self.send_detail(now)
            }
            Act::Peers => {
                log(&format!(
                    "simulate: SENDPEERS: {} peers",
                    self.sim.peers.len()
                ));
                self.send_peers()
            }
            Act::Config => {
                log(&format!(
                    "simulate: SENDCONF (version {})",
                    self.session.version().get()
                ));
                self.send_config()
            }
            Act::Dlimit(limit) => {
                // A seeding dnh3.3.2 only lowers its download limit (measured from dnh3.3.2).
                if limit < self.sim.dl_limit {
                    log(&format!("simulate: SETDLIMIT {limit}: applied"));
                    self.sim.dl_limit = limit;
                } else {
                    log(&format!(
                        "simulate: SETDLIMIT {limit}: ignored (seeding, not below {})",
                        self.sim.dl_limit
                    ));
                }
                Ok(())
            }
            Act::Ulimit(limit) => {
                log(&format!("simulate: SETULIMIT {limit}: applied"));
                self.sim.ul_limit = limit;
                Ok(())
            }
            Act::Set(name, value) => match self.sim.set(&name, &value) {
                Ok(moved) => {
                    log(&format!("simulate: CTCONFIG {name} {value}: applied"));
                    if moved {
                        log(&format!(
                            "simulate: moving to CTCS server {}",
                            self.sim.settings.ctcs_server
                        ));
                        if let Some(s) = self.stream.take() {
                            let _ = s.shutdown(Shutdown::Both);
                        }
                        self.session.reconnect_after(now, Duration::from_secs(1));
                    }
                    Ok(())
                }
                Err(None) => {
                    let text =
                        format!("Malformed or invalid input from CTCS: CTCONFIG {name} {value}");
                    log(&format!("simulate: {text}"));
                    self.session.send_info(2, text.as_bytes())
                }
                Err(Some(())) => {
                    let text = format!("Unknown config option {name} from CTCS");
                    log(&format!("simulate: {text}"));
                    self.session.send_info(2, text.as_bytes())
                }
            },
            Act::Values(v) => {
                log("positional CTCONFIG: applied");
                let s = &mut self.sim.settings;
                if let Some(x) = v.verbose {
                    s.verbose = i64::from(x.max(0));
                }
                if let Some(x) = v.seedtime {
                    s.seed_hours = f64::from(x.max(0));
                }
                if let Some(x) = v.seed_ratio {
                    s.seed_ratio = x.max(0.0);
                }
                if let Some(x) = v.maxpeers {
                    s.max_peers = i64::from(x.clamp(20, 1000));
                }
                if let Some(x) = v.minpeers {
                    s.min_peers = i64::from(x.clamp(1, 1000));
                }
                if let Some(x) = v.cache_size {
                    s.cache_mb = i64::from(x.max(0));
                }
                if let Some(x) = v.pause {
                    s.pause = x != 0;
                }
                Ok(())
            }
            Act::Quit => {
                log("simulate: CTQUIT: sending the final CTSTATUS and exiting");
                let r = self.session.send_status(&self.sim.status());
                let _ = self.flush();
                if let Some(s) = self.stream.take() {
                    let _ = s.shutdown(Shutdown::Both);
                }
                self.session.stop();
                self.quit = true;
                r
            }
            Act::Restart => {
                log("simulate: CTRESTART (tracker session restarted)");
                Ok(())
            }
            Act::Update => {
                log("simulate: CTUPDATE (tracker update requested)");
                Ok(())
            }
            Act::Protocol(v, previous) => {
                log(&format!(
                    "simulate: server PROTOCOL: version {} (was {})",
                    v.get(),
                    previous.get()
                ));
                Ok(())
            }
            Act::Ignored(what) => {
                log(&format!("simulate: ignored {what}"));
                Ok(())
            }
        };
        if let Err(e) = r {
            log(&format!("simulate: reply not queued: {e}"));
        }
    }

    fn send_detail(&mut self, now: Instant) -> Result<(), UsageError> {
        let detail = CtDetail {
            torrent_size: self.sim.torrent_size as i64,
            piece_size: PIECE_SIZE as i32,
            current_timestamp: self.session.unix_time(now),
            seed_timestamp: self.sim.seed_since,
        };
        let files: Vec<CtFile<'_>> = self
            .sim
            .files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                Some(CtFile {
                    fileno: i as i32 + 1,
                    priority: 0,
                    current_priority: 0,
                    n_pieces: f.n_pieces,
                    n_have: f.n_pieces,
                    n_available: f.n_pieces,
                    filesize: f.size,
                    filename: Text::new(f.name.as_bytes()).ok()?,
                })
            })
            .collect();
        self.session.send_detail(&detail, files)
    }

    fn send_peers(&mut self) -> Result<(), UsageError> {
        let sim = &self.sim;
        let peers: Vec<CtPeer<'_>> = sim
            .peers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                Some(CtPeer {
                    peer_id: Word::new(p.id.as_bytes()).ok()?,
                    address: p.address,
                    choke_interest: PeerFlags {
                        remote_unchoked: false,
                        local_interested: false,
                        local_unchoked: !p.seed,
                        remote_interested: !p.seed,
                    },
                    dl_rate: 0,
                    ul_rate: sim.peer_ul_rate(i),
                    dl_total: p.dl_total,
                    ul_total: p.ul_total,
                    n_pieces: p.n_pieces,
                })
            })
            .collect();
        self.session.send_peers(peers)
    }

    fn send_config(&mut self) -> Result<(), UsageError> {
        let options = self.sim.options();
        let items: Vec<CtConfig<'_>> = options
            .iter()
            .filter_map(|(name, ty, range, value, short, long)| {
                Some(CtConfig {
                    name: Word::new(name.as_bytes()).ok()?,
                    value_type: *ty,
                    range: Word::new(range.as_bytes()).ok()?,
                    value: Text::new(value.as_bytes()).ok()?,
                    short_desc: Text::new(short.as_bytes()).ok()?,
                    long_desc: Text::new(long.as_bytes()).ok()?,
                })
            })
            .collect();
        let s = &self.sim.settings;
        let ratio = format!("{:.6}", s.seed_ratio);
        let values = CtConfigValues {
            verbose: Positional::Set(s.verbose as i32),
            seedtime: Positional::Set(s.seed_hours as i32),
            seed_ratio: Float::new(&ratio).map_or(Positional::Keep, Positional::Set),
            maxpeers: Positional::Set(s.max_peers as i32),
            minpeers: Positional::Set(s.min_peers as i32),
            fileno: Positional::Set(0),
            cache_size: Positional::Set(s.cache_mb as i32),
            pause: Positional::Set(i32::from(s.pause)),
            ..CtConfigValues::default()
        };
        self.session.send_config(&values, items)
    }
}
