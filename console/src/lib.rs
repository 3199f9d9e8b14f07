//! `trackwire ctcs serve`: a CTorrent Control Server with a web console, built on
//! trackwire's sans-IO [`ServerSession`](trackwire::ctcs::ServerSession).
//!
//! One listener takes ctorrent clients and browsers alike (told apart by their first
//! bytes, as the original Perl CTCS did on port 2780), or the console gets an address
//! of its own. Three pages — *All torrents*, *Torrent details*, *Advanced limits* —
//! update themselves from a JSON API (documented in this crate's README). The operator's
//! limits and the terminated torrents are kept in SQLite.
//!
//! ```no_run
//! # async fn run() -> Result<(), trackwire_console::ServeError> {
//! let options = trackwire_console::ServeOptions::default(); // 127.0.0.1:2780
//! trackwire_console::serve(options).await
//! # }
//! ```
//!
//! Resources are bounded: at most
//! [`max_connections`](ServeOptions::max_connections) connections; a connection that
//! does not say what it is, does not identify itself, leaves a line unfinished or goes
//! silent is closed after its timeout; each ctorrent client is one task that sleeps
//! until bytes, a command or a deadline arrive.

mod allocate;
mod ctcs_conn;
mod html;
mod options;
mod pages;
mod sniff;
mod state;
mod store;
mod web;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use trackwire::ctcs::{ServerEvent, Version};
use trackwire::StdClock;

pub use options::{
    default_database_path, parse_seconds, OptionsError, OptionsErrorKind, ServeOptions,
    DEFAULT_LISTEN,
};
pub use store::StoreError;

use sniff::{classify, Protocol, MAX_SNIFF};
use state::State;
use store::Store;

/// Why the console could not start or stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// The options were refused.
    Options(OptionsError),
    /// An address could not be bound.
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    Store(StoreError),
    /// Accepting connections failed for good.
    Accept(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Options(e) => write!(f, "invalid option: {e}"),
            ServeError::Bind { address, source } => {
                write!(f, "cannot listen on {address}: {source}")
            }
            ServeError::Store(e) => e.fmt(f),
            ServeError::Accept(e) => write!(f, "accepting connections failed: {e}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Options(e) => Some(e),
            ServeError::Bind { source, .. } | ServeError::Accept(source) => Some(source),
            ServeError::Store(e) => Some(e),
        }
    }
}

impl From<OptionsError> for ServeError {
    fn from(e: OptionsError) -> Self {
        ServeError::Options(e)
    }
}

/// Watches the ctorrent sessions: called, on the connection's task, with every event
/// of every [`ServerSession`](trackwire::ctcs::ServerSession) as it is polled, before
/// the console acts on it. Its arguments are the connection's number (the torrent's
/// `id` in the JSON API, from 1), the protocol version the event's line was read
/// under, and the event. `trackwire ctcs serve --json-events` prints them; it must
/// return quickly, since the connection waits for it.
pub type EventHook = Arc<dyn Fn(u64, Version, &ServerEvent<'_>) + Send + Sync>;

/// What every task shares.
pub(crate) struct Shared {
    pub(crate) options: ServeOptions,
    pub(crate) clock: StdClock,
    state: Mutex<State>,
    pub(crate) store: Store,
    next_id: AtomicU64,
    /// Woken when reports or limits change: the allocator's task waits on it.
    changed: Notify,
    /// [`Console::with_event_hook`].
    pub(crate) hook: Option<EventHook>,
}

impl Shared {
    /// The state; a panic while it was held cannot leave it half-updated in a way that
    /// matters more than stopping the console would, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn changed(&self) {
        self.changed.notify_one();
    }
}

/// A console whose listeners are bound: see its addresses, then [`run`](Console::run)
/// it.
pub struct Console {
    shared: Arc<Shared>,
    listener: TcpListener,
    web: Option<TcpListener>,
}

/// Checks the options, opens the database and binds the listeners.
///
/// # Errors
///
/// [`ServeError::Options`] for refused options (checked first, before anything is
/// bound or created), [`ServeError::Store`] if the database cannot be opened,
/// [`ServeError::Bind`] if an address is taken or not ours.
pub async fn bind(options: ServeOptions) -> Result<Console, ServeError> {
    options.validate()?;
    let path = options.database_path();
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || Store::open(&path)).await
    };
    let (store, loaded) = opened
        .map_err(|e| {
            ServeError::Store(StoreError {
                path,
                source: Box::new(e),
            })
        })?
        .map_err(ServeError::Store)?;
    let bind_one = |address: SocketAddr| async move {
        TcpListener::bind(address)
            .await
            .map_err(|source| ServeError::Bind { address, source })
    };
    let listener = bind_one(options.listen).await?;
    let web = match options.web {
        Some(a) => Some(bind_one(a).await?),
        None => None,
    };
    let mut state = State {
        globals: loaded.globals,
        ..State::default()
    };
    state.policies.extend(loaded.policies);
    state.history.extend(loaded.history);
    let shared = Arc::new(Shared {
        options,
        clock: StdClock::new(),
        state: Mutex::new(state),
        store,
        next_id: AtomicU64::new(1),
        changed: Notify::new(),
        hook: None,
    });
    Ok(Console {
        shared,
        listener,
        web,
    })
}

/// Runs the console on `options` until an accept fails for good (it does not return
/// otherwise; the caller stops it by dropping the future, e.g. on Ctrl-C).
///
/// # Errors
///
/// As [`bind`], then [`ServeError::Accept`].
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    bind(options).await?.run().await
}

impl Console {
    /// Where ctorrent clients connect (the bound address: a port 0 in the options is
    /// the real port here).
    pub fn listen_address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.options.listen)
    }

    /// Where the web console is served.
    pub fn web_address(&self) -> SocketAddr {
        match &self.web {
            Some(l) => l
                .local_addr()
                .unwrap_or_else(|_| self.shared.options.web_address()),
            None => self.listen_address(),
        }
    }

    /// Calls `hook` with every ctorrent session event from now on (see [`EventHook`]).
    #[must_use]
    pub fn with_event_hook(mut self, hook: EventHook) -> Self {
        // Before `run` nothing else holds the shared state, so it can still change.
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.hook = Some(hook);
        }
        self
    }

    /// Accepts connections until accepting fails for good.
    ///
    /// # Errors
    ///
    /// [`ServeError::Accept`].
    pub async fn run(self) -> Result<(), ServeError> {
        let permits = Arc::new(Semaphore::new(self.shared.options.max_connections));
        let allocator = tokio::spawn(allocate::run(Arc::clone(&self.shared)));
        // The allocator lives as long as the listeners.
        let _stop_allocator = AbortOnDrop(allocator);
        let router = web::router(Arc::clone(&self.shared));
        let web_address = self.web.is_some().then(|| self.web_address());
        let main = accept_loop(
            Arc::clone(&self.shared),
            self.listener,
            Arc::clone(&permits),
            router.clone(),
            Role::Sniff {
                web_elsewhere: web_address,
            },
        );
        match self.web {
            Some(web) => {
                let second = accept_loop(self.shared, web, permits, router, Role::Web);
                tokio::select! {
                    r = main => r,
                    r = second => r,
                }
            }
            None => main.await,
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Which listener a connection came from.
#[derive(Clone, Copy)]
enum Role {
    /// The clients' listener; the console is at `web_elsewhere` if set, else here too.
    Sniff { web_elsewhere: Option<SocketAddr> },
    /// The console's own listener.
    Web,
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    permits: Arc<Semaphore>,
    router: axum::Router,
    role: Role,
) -> Result<(), ServeError> {
    let mut failures = 0u32;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => {
                failures = 0;
                x
            }
            Err(e) => {
                // Out of file descriptors and the like pass; back off instead of
                // spinning, and give up only if it lasts.
                failures += 1;
                if failures > 100 {
                    return Err(ServeError::Accept(e));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Over the cap the connection is closed at once: the client sees it end instead
        // of waiting in the backlog (ctorrent retries 5 s later).
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let router = router.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match role {
                Role::Web => sniffed(shared, router, stream, peer, Route::WebOnly).await,
                Role::Sniff { web_elsewhere } => {
                    let route = match web_elsewhere {
                        Some(web) => Route::CtcsOnly { web },
                        None => Route::Both,
                    };
                    sniffed(shared, router, stream, peer, route).await;
                }
            }
        });
    }
}

/// What a listener serves.
#[derive(Clone, Copy)]
enum Route {
    /// ctorrent clients and browsers.
    Both,
    /// ctorrent clients; browsers are pointed to `web`.
    CtcsOnly { web: SocketAddr },
    /// Browsers; anything else is closed unanswered.
    WebOnly,
}

/// Reads until the first bytes say what the connection is, then hands it on: a browser
/// request never reaches a CTCS session and a ctorrent line never reaches HTTP.
async fn sniffed(
    shared: Arc<Shared>,
    router: axum::Router,
    mut stream: TcpStream,
    peer: SocketAddr,
    route: Route,
) {
    let mut prefix = [0u8; MAX_SNIFF];
    let mut have = 0usize;
    let deadline = tokio::time::Instant::now() + shared.options.sniff_timeout;
    let kind = loop {
        let so_far = prefix.get(..have).unwrap_or_default();
        if let Some(kind) = classify(so_far) {
            break kind;
        }
        let Some(room) = prefix.get_mut(have..) else {
            break Protocol::Ctcs;
        };
        match tokio::time::timeout_at(deadline, stream.read(room)).await {
            // Silence until the deadline: a CTCS client that waits for the server to
            // speak first.
            Err(_) if have == 0 => break Protocol::Ctcs,
            // The start of an HTTP method, then nothing: neither side gets it.
            Err(_) => return,
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => have += n,
        }
    };
    let prefix = prefix.get(..have).unwrap_or_default().to_vec();
    match (kind, route) {
        (Protocol::Http, Route::Both | Route::WebOnly) => {
            web::serve_http(shared, router, web::Rewind::new(prefix, stream)).await;
        }
        (Protocol::Http, Route::CtcsOnly { web }) => web::misdirected(stream, web).await,
        (Protocol::Ctcs, Route::Both | Route::CtcsOnly { .. }) => {
            ctcs_conn::run(shared, stream, peer, prefix).await;
        }
        // A ctorrent client (or anything else) on the console's own address.
        (Protocol::Ctcs, Route::WebOnly) => drop(stream),
    }
}
