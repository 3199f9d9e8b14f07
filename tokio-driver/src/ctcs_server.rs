//! A CTCS server on tokio: one task per TCP connection, each a loop over one
//! [`ServerSession`](trackwire::ctcs::ServerSession).
//!
//! The application sees every event through a handler and answers with [`Command`]s,
//! which the loop applies to that connection's session once the event is released (events
//! borrow the session's storage). The socket is read straight into the session's input
//! buffer: the driver keeps no buffer of its own.

use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep_until, Duration, Instant as TokioInstant};
use trackwire::ctcs::{ServerConfig, ServerEvent, ServerSession};
use trackwire::StdClock;
use trackwire::UsageError;

/// What the application asks of one connected client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// SENDSTATUS.
    Status,
    /// SENDPEERS.
    Peers,
    /// SENDDETAIL.
    Detail,
    /// SENDCONF.
    Config,
    /// SETDLIMIT, bytes/s.
    DownloadLimit(i32),
    /// SETULIMIT, bytes/s.
    UploadLimit(i32),
    /// v3 `CTCONFIG name value`.
    Set(Vec<u8>, Vec<u8>),
    /// CTUPDATE.
    Update,
    /// CTRESTART.
    Restart,
    /// CTQUIT.
    Quit,
}

fn apply(session: &mut ServerSession, command: &Command) -> Result<(), UsageError> {
    match command {
        Command::Status => session.request_status(),
        Command::Peers => session.request_peers(),
        Command::Detail => session.request_detail(),
        Command::Config => session.request_config(),
        Command::DownloadLimit(b) => session.set_download_limit(*b),
        Command::UploadLimit(b) => session.set_upload_limit(*b),
        Command::Set(name, value) => session.set_config(name, value),
        Command::Update => session.update(),
        Command::Restart => session.restart(),
        Command::Quit => session.quit(),
    }
}

/// Called for every event of every connection (numbered from 1); returns the commands
/// to send to that connection.
pub type Handler = Arc<Mutex<dyn FnMut(u64, &ServerEvent<'_>) -> Vec<Command> + Send>>;

/// Accepts clients on `listener` until `shutdown` turns true, running one session per
/// connection with `config` (its password, if any, must be `'static`).
///
/// # Errors
///
/// An I/O error from `accept`.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig<'static>,
    handler: Handler,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut next = 0u64;
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r?,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ok(());
                }
                continue;
            }
        };
        next += 1;
        tokio::spawn(connection(next, stream, config, handler.clone()));
    }
}

/// The run loop of one session: events (and the commands they ask for), lines to write,
/// then bytes or the deadline.
async fn connection(
    conn: u64,
    mut stream: TcpStream,
    config: ServerConfig<'static>,
    handler: Handler,
) {
    let clock = StdClock::new();
    let Ok(mut session) = ServerSession::new(config, clock.now()) else {
        return;
    };
    let mut out = vec![0u8; ServerSession::MAX_TRANSMIT_LEN];
    let mut closed = false;
    loop {
        // 1. The received lines, one event at a time; each event's commands are applied
        //    before the next line is acted on, as the session's order requires.
        while let Some(event) = session.poll_event() {
            let commands = {
                let mut h = handler.lock().unwrap_or_else(|e| e.into_inner());
                h(conn, &event)
            };
            for c in &commands {
                let _ = apply(&mut session, c);
            }
        }
        // 2. Lines to write, each in one write.
        while let Ok(Some(n)) = session.poll_transmit(&mut out) {
            if stream.write_all(&out[..n]).await.is_err() {
                closed = true;
                break;
            }
        }
        if closed || session.should_close() {
            session.handle_closed();
            while let Some(event) = session.poll_event() {
                let mut h = handler.lock().unwrap_or_else(|e| e.into_inner());
                h(conn, &event);
            }
            return;
        }
        // 3. Wait for bytes or the deadline. With every event polled the input buffer
        //    has room (at least its capacity minus the longest line), so a read of 0
        //    bytes means end of file.
        let wake = session
            .poll_timeout()
            .map(|d| TokioInstant::from_std(clock.to_std(d)))
            .unwrap_or_else(|| TokioInstant::now() + Duration::from_secs(3600));
        tokio::select! {
            r = stream.read(session.input_buf()) => match r {
                Ok(0) | Err(_) => closed = true,
                // `read` filled at most the room it was given.
                Ok(n) => closed = session.commit_input(clock.now(), n).is_err(),
            },
            () = sleep_until(wake) => session.handle_timeout(clock.now()),
        }
    }
}
