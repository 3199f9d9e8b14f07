//! One ctorrent client: a task that runs a [`ServerSession`] over its TCP connection,
//! keeps [`State`](crate::state::State) up to date from the session's events, and
//! applies the commands the web console sends it.
//!
//! The task sleeps until bytes arrive, a command is queued or a deadline passes (the
//! session's status poll, idle and block timers, and this driver's own handshake and
//! half-line timers): no periodic wake-ups.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant as TokioInstant};
use trackwire::ctcs::{InputError, LimitDirection, ServerConfig, ServerEvent, ServerSession};
use trackwire::{Instant, UsageError};

use crate::state::{lossy, unix_now, DetailView, Terminated, Torrent};
use crate::Shared;

/// How many commands may wait for one connection; more are refused (the web answers
/// 503) rather than queued without bound.
pub(crate) const COMMAND_QUEUE: usize = 32;

/// How long a client that failed authentication stays connected after its `ERROR`
/// line (its input ignored by the session). dnh3.3.2 sometimes aborts (glibc: `bit out
/// of range 0 - FD_SETSIZE on fd_set`) when the server closes within milliseconds of
/// its connect, and then never comes back; with a second it never did in our
/// measurements (`cli/tests/interop.rs`, `ctorrent_wrong_password_is_refused`).
const REJECT_CLOSE_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// What the web console asks of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `SENDDETAIL` and `SENDPEERS`: files and peers.
    Refresh,
    /// `SENDCONF`.
    Config,
    /// `SETDLIMIT`, bytes/s.
    DownloadLimit(i32),
    /// `SETULIMIT`, bytes/s.
    UploadLimit(i32),
    /// A limit the allocator decided: sent without asking for the status (the next
    /// `CTBW` shows it).
    Allocated(LimitDirection, i32),
    /// `CTCONFIG name value`, then `SENDCONF` to show the result.
    Set(String, String),
    /// `CTUPDATE`.
    Update,
    /// `CTRESTART`.
    Restart,
    /// `CTQUIT`.
    Quit,
}

fn apply(session: &mut ServerSession, command: &Command) -> Result<(), UsageError> {
    match command {
        Command::Refresh => session
            .request_detail()
            .and_then(|()| session.request_peers()),
        Command::Config => session.request_config(),
        Command::DownloadLimit(b) => session
            .set_download_limit(*b)
            .and_then(|()| session.request_status()),
        Command::UploadLimit(b) => session
            .set_upload_limit(*b)
            .and_then(|()| session.request_status()),
        Command::Allocated(LimitDirection::Download, b) => session.set_download_limit(*b),
        Command::Allocated(LimitDirection::Upload, b) => session.set_upload_limit(*b),
        Command::Set(name, value) => session
            .set_config(name.as_bytes(), value.as_bytes())
            .and_then(|()| session.request_config()),
        Command::Update => session.update(),
        Command::Restart => session.restart(),
        Command::Quit => session.quit(),
    }
}

/// Why the console closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseReason {
    Eof,
    Handshake,
    HalfLine,
    Idle,
    Rejected,
}

/// The connection's own bookkeeping beside the session.
struct Conn {
    id: u64,
    address: SocketAddr,
    identified: bool,
    commands: mpsc::Sender<Command>,
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Runs one ctorrent connection to its end. `prefix` is what was read to recognise it.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    address: SocketAddr,
    prefix: Vec<u8>,
) {
    let id = shared.next_id();
    let clock = &shared.clock;
    let opts = &shared.options;
    let config = ServerConfig::new()
        .with_password(opts.ctcs_password.as_deref().map(str::as_bytes))
        .with_poll_interval(Some(opts.status_interval))
        .with_idle_timeout(Some(opts.idle_timeout))
        .with_max_version(opts.max_protocol);
    let start = clock.now();
    let Ok(mut session) = ServerSession::new(config, start) else {
        // Options were validated: the password fits.
        return;
    };
    let (tx, mut rx) = mpsc::channel(COMMAND_QUEUE);
    let mut conn = Conn {
        id,
        address,
        identified: false,
        commands: tx,
    };
    let handshake_deadline = start.saturating_add(opts.handshake_timeout);
    let mut partial_since: Option<Instant> = None;
    let mut reject_close_at: Option<Instant> = None;
    if !prefix.is_empty() {
        // The sniffed bytes are at most a few, and the fresh session has room.
        if session.handle_input(start, &prefix).is_ok() && !ends_line(&prefix) {
            partial_since = Some(start);
        }
    }
    let mut out = vec![0u8; ServerSession::MAX_TRANSMIT_LEN];
    let mut reason = None;
    loop {
        // 1. Events, then the commands they call for.
        let mut follow: Vec<Command> = Vec::new();
        loop {
            // An event borrows the session: the version its line was read under is
            // asked first (a file line's fields depend on it).
            let version = session.version();
            let Some(event) = session.poll_event() else {
                break;
            };
            if let Some(hook) = &shared.hook {
                hook(id, version, &event);
            }
            if let Some(r) = on_event(&shared, &mut conn, &event, &mut follow) {
                reason = Some(r);
            }
        }
        for c in &follow {
            let _ = apply(&mut session, c);
        }
        // 2. Lines to write, one write each.
        while let Ok(Some(n)) = session.poll_transmit(&mut out) {
            let Some(line) = out.get(..n) else { break };
            if stream.write_all(line).await.is_err() {
                reason = Some(CloseReason::Eof);
                break;
            }
        }
        // 3. The driver's own deadlines.
        let now = clock.now();
        if session.should_close() {
            let at = *reject_close_at.get_or_insert(now.saturating_add(REJECT_CLOSE_DELAY));
            if now >= at {
                reason = Some(CloseReason::Rejected);
            }
        }
        if !conn.identified && now >= handshake_deadline {
            reason = reason.or(Some(CloseReason::Handshake));
        }
        let half_line_deadline = partial_since.map(|t| t.saturating_add(opts.line_timeout));
        if half_line_deadline.is_some_and(|d| now >= d) {
            reason = reason.or(Some(CloseReason::HalfLine));
        }
        if reason.is_some() {
            break;
        }
        let mut wake = earliest(session.poll_timeout(), half_line_deadline);
        wake = earliest(wake, reject_close_at);
        if !conn.identified {
            wake = earliest(wake, Some(handshake_deadline));
        }
        // With no deadline at all the task sleeps until bytes or a command arrive.
        let wake = wake.map(|d| TokioInstant::from_std(clock.to_std(d)));
        // 4. Wait.
        tokio::select! {
            r = stream.read(session.input_buf()) => match r {
                Ok(0) | Err(_) => reason = Some(CloseReason::Eof),
                Ok(n) => {
                    let now = clock.now();
                    let ended = session
                        .input_buf()
                        .get(..n)
                        .is_some_and(ends_line);
                    if session.commit_input(now, n).is_err() {
                        reason = Some(CloseReason::Eof);
                    } else if ended {
                        partial_since = None;
                    } else if partial_since.is_none() {
                        partial_since = Some(now);
                    }
                }
            },
            () = sleep_maybe(wake) => session.handle_timeout(clock.now()),
            Some(c) = rx.recv() => {
                let _ = apply(&mut session, &c);
            }
        }
        if reason.is_some() {
            break;
        }
    }
    // Flush what is queued (a last command) without waiting on a dead peer.
    let _ = stream.shutdown().await;
    session.handle_closed();
    let mut follow = Vec::new();
    loop {
        let version = session.version();
        let Some(event) = session.poll_event() else {
            break;
        };
        if let Some(hook) = &shared.hook {
            hook(id, version, &event);
        }
        let _ = on_event(&shared, &mut conn, &event, &mut follow);
    }
    terminate(&shared, &conn);
}

/// Sleeps until `at`, or for ever.
async fn sleep_maybe(at: Option<TokioInstant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether a chunk leaves no line unfinished: it ends with a line end.
fn ends_line(chunk: &[u8]) -> bool {
    matches!(chunk.last(), Some(b'\n' | b'\r'))
}

/// The connection is over: a torrent it identified moves to the history.
fn terminate(shared: &Shared, conn: &Conn) {
    if !conn.identified {
        return;
    }
    let gone = {
        let mut state = shared.lock();
        let Some(t) = state.torrents.remove(&conn.id) else {
            return;
        };
        let s = t.summary;
        let entry = Terminated {
            name: s.name,
            peer_id: s.peer_id,
            started: s.start_timestamp,
            ended: unix_now(),
            have: s.have,
            pieces: s.pieces,
            dl_total: s.dl_total,
            ul_total: s.ul_total,
        };
        state.remember(entry.clone());
        entry
    };
    shared.store.record_terminated(gone);
    shared.changed();
}

/// Updates the state from one event; returns a reason to close, if any.
fn on_event(
    shared: &Shared,
    conn: &mut Conn,
    event: &ServerEvent<'_>,
    follow: &mut Vec<Command>,
) -> Option<CloseReason> {
    match event {
        ServerEvent::Hello(hello) => {
            if !conn.identified {
                conn.identified = true;
                let t = Torrent::new(
                    conn.id,
                    lossy(hello.filename.as_bytes()),
                    lossy(hello.peer_id.as_bytes()),
                    conn.address,
                    hello.start_timestamp,
                    conn.commands.clone(),
                );
                shared.lock().torrents.insert(conn.id, t);
                // The details page and the allocator want everything at once.
                follow.extend([Command::Config, Command::Refresh]);
                shared.changed();
            }
            None
        }
        ServerEvent::Idle { .. } => Some(CloseReason::Idle),
        // Closed once the `ERROR` line is out and REJECT_CLOSE_DELAY has passed.
        ServerEvent::AuthFailed(_) => None,
        ServerEvent::Closed => Some(CloseReason::Eof),
        _ if !conn.identified => None,
        ServerEvent::Status { status, .. } => {
            with_torrent(shared, conn.id, |t| t.on_status(status));
            shared.changed();
            None
        }
        ServerEvent::Bandwidth(bw) => {
            with_torrent(shared, conn.id, |t| {
                t.on_bandwidth(bw.dl_rate, bw.ul_rate, bw.dl_limit, bw.ul_limit);
            });
            shared.changed();
            None
        }
        ServerEvent::Info(info) => {
            let text = lossy(info.message.as_bytes());
            with_torrent(shared, conn.id, |t| t.push_message(info.severity, text));
            None
        }
        ServerEvent::InfoContinued(text) => {
            let text = lossy(text.as_bytes());
            with_torrent(shared, conn.id, |t| t.continue_message(&text));
            None
        }
        ServerEvent::Detail(d) => {
            let view = DetailView {
                torrent_size: d.torrent_size,
                piece_size: d.piece_size,
                seed_timestamp: d.seed_timestamp,
            };
            with_torrent(shared, conn.id, |t| t.on_detail(view));
            None
        }
        ServerEvent::BlockBegin(kind) => {
            with_torrent(shared, conn.id, |t| t.begin_block(*kind));
            None
        }
        ServerEvent::File(f) => {
            with_torrent(shared, conn.id, |t| t.push_file(f));
            None
        }
        ServerEvent::Peer(p) => {
            with_torrent(shared, conn.id, |t| t.push_peer(p));
            None
        }
        ServerEvent::Config(c) => {
            with_torrent(shared, conn.id, |t| t.push_config(c));
            None
        }
        ServerEvent::BlockEnd { block, .. }
        | ServerEvent::Error(InputError::UnterminatedBlock { block, .. }) => {
            with_torrent(shared, conn.id, |t| t.end_block(*block));
            None
        }
        ServerEvent::Error(e) => {
            let text = format!("console: {e}");
            with_torrent(shared, conn.id, |t| t.push_message(0, text));
            None
        }
        _ => None,
    }
}

fn with_torrent(shared: &Shared, id: u64, f: impl FnOnce(&mut Torrent)) {
    if let Some(t) = shared.lock().torrents.get_mut(&id) {
        f(t);
    }
}
