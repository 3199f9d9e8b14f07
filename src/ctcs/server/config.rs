//! How a [`ServerSession`](super::ServerSession) behaves.

use core::time::Duration;

use crate::ctcs::version::Version;

/// The default [`ServerConfig::block_timeout`]: 30 s.
///
/// dnh3.3.2 writes a whole block from one function, so its lines arrive within
/// milliseconds of each other (measured from dnh3.3.2); 30 s only fires for a block that really ended
/// without its end marker.
pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How a [`ServerSession`](super::ServerSession) behaves. Build it with
/// [`ServerConfig::new`] and the `with_*` setters, or assign the pub fields.
///
/// Timers that are `None` are off. A zero duration counts as 1 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig<'a> {
    /// The highest protocol version to negotiate; sent as `PROTOCOL 000k` on every
    /// connection. Default [`Version::V3`]. [`Version::V0`] is allowed and puts dnh3.3.2
    /// in its mixed version-0 state.
    pub max_version: Version,
    /// The password the client must send with `AUTH`, compared in constant time; `None`
    /// (the default) accepts every client and ignores `AUTH`. At most
    /// [`MAX_PASSWORD_LEN`](crate::ctcs::MAX_PASSWORD_LEN) bytes, no NUL, CR or LF (they cannot be on a line); dnh3.3.2
    /// sends at most 20 bytes.
    pub password: Option<&'a [u8]>,
    /// Send `SENDSTATUS` this often once the client has identified itself (the first one
    /// one period after `CTORRENT`). Default `None`: dnh3.3.2 sends `CTSTATUS` on its own
    /// only on connect, on completion, on quit and piggy-backed on tracker announces at
    /// least 30 s apart (measured from dnh3.3.2), so a server that wants fresh totals must poll.
    pub poll_interval: Option<Duration>,
    /// Report [`ServerEvent::Idle`](super::ServerEvent::Idle) once when nothing was
    /// received for this long. Default `None`: an idle seeder sends nothing at all and
    /// the client has no keep-alive.
    pub idle_timeout: Option<Duration>,
    /// Report a block still open this long after its last line as unterminated
    /// ([`InputError::UnterminatedBlock`](super::InputError::UnterminatedBlock)) and
    /// close it. Default [`DEFAULT_BLOCK_TIMEOUT`].
    pub block_timeout: Option<Duration>,
}

impl Default for ServerConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> ServerConfig<'a> {
    /// The defaults: version 3, no password, no status poll, no idle timer, a 30 s
    /// block timeout.
    pub const fn new() -> Self {
        ServerConfig {
            max_version: Version::V3,
            password: None,
            poll_interval: None,
            idle_timeout: None,
            block_timeout: Some(DEFAULT_BLOCK_TIMEOUT),
        }
    }

    /// Sets [`max_version`](ServerConfig::max_version).
    #[must_use]
    pub const fn with_max_version(mut self, version: Version) -> Self {
        self.max_version = version;
        self
    }

    /// Sets [`password`](ServerConfig::password).
    #[must_use]
    pub const fn with_password(mut self, password: Option<&'a [u8]>) -> Self {
        self.password = password;
        self
    }

    /// Sets [`poll_interval`](ServerConfig::poll_interval).
    #[must_use]
    pub const fn with_poll_interval(mut self, interval: Option<Duration>) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets [`idle_timeout`](ServerConfig::idle_timeout).
    #[must_use]
    pub const fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`block_timeout`](ServerConfig::block_timeout).
    #[must_use]
    pub const fn with_block_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.block_timeout = timeout;
        self
    }
}
