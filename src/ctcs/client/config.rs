//! What a [`ClientSession`](super::ClientSession) is built from, and the copies of it
//! the session keeps.

use core::time::Duration;

use crate::ctcs::buf::Fill;
use crate::ctcs::field::{Text, Word};
use crate::ctcs::line::DEFAULT_MAX_LINE_LEN;
use crate::ctcs::message::{Auth, ClientMessage, CtTorrent, KeywordMatch};
use crate::ctcs::peer_id::PeerIdText;
use crate::ctcs::version::Version;
use crate::ctcs::MAX_PASSWORD_LEN;
use crate::error::UsageError;

/// The longest torrent path a session accepts: `MAXPATHLEN` (4096) on Linux, which keeps
/// every `CTORRENT` line within [`DEFAULT_MAX_LINE_LEN`].
pub const MAX_TORRENT_PATH_LEN: usize = 4096;

/// How a [`ClientSession`](super::ClientSession) identifies itself and behaves.
///
/// Build it with [`ClientSessionConfig::new`] and the `with_*` setters (or assign the
/// public fields); the defaults are dnh3.3.2's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientSessionConfig<'a> {
    /// Our own 20-byte peer id; `CTORRENT` carries its text form
    /// ([`PeerIdText`]).
    pub peer_id: [u8; 20],
    /// When the client started, Unix seconds: the `start_timestamp` of `CTORRENT`, the
    /// same on every reconnection.
    pub start_timestamp: i64,
    /// The metainfo file name exactly as the user gave it (`CTORRENT`'s last field):
    /// 1 to [`MAX_TORRENT_PATH_LEN`] bytes, no NUL, CR or LF.
    pub torrent: &'a [u8],
    /// The CTCS password (`-S host:port:` and a typed password), or `None` for no `AUTH`.
    /// Only the first [`MAX_PASSWORD_LEN`] bytes are used, as dnh3.3.2 does; they must
    /// not contain NUL, CR or LF.
    pub password: Option<&'a [u8]>,
    /// Whether `AUTH` is followed by an empty line when the (cut) password is shorter
    /// than [`MAX_PASSWORD_LEN`] bytes. dnh3.3.2 keeps the newline `fgets` read and then
    /// appends its own, so the wire shows `AUTH pw\n\n`; a 20-byte password leaves no
    /// room for the newline and is sent as `AUTH <20 bytes>\n`. Default `true` (the real
    /// client's behaviour); `false` never sends the empty line.
    pub auth_empty_line: bool,
    /// Unix time, in milliseconds, at [`Instant::ZERO`](crate::Instant::ZERO) of the
    /// caller's clock: the session computes `CTORRENT`'s `current_timestamp` (whole Unix
    /// seconds) from it and `now`. See [`ClientSession::unix_time`](super::ClientSession::unix_time).
    /// Default 0: the caller's `Instant` counts from the Unix epoch. With a
    /// `StdClock` (feature `std`), give the Unix time at its creation.
    pub unix_time_at_zero_ms: u64,
    /// How server keywords are recognised: exactly (the default) or by the real
    /// client's prefix match ([`KeywordMatch::Prefix`]: `CTQUITTER` quits).
    pub keyword_match: KeywordMatch,
    /// The wait before reconnecting after the connection was closed: 5 s in dnh3.3.2.
    pub close_delay: Duration,
    /// The wait before reconnecting after a connect attempt failed: 15 s in dnh3.3.2.
    pub refused_delay: Duration,
}

impl<'a> ClientSessionConfig<'a> {
    /// dnh3.3.2's settings for a client with this peer id, start time and torrent path:
    /// no password, exact keyword matching, reconnect delays of 5 s and 15 s, and a
    /// caller's clock that counts from the Unix epoch
    /// ([`with_unix_time_at_zero_ms`](Self::with_unix_time_at_zero_ms) says otherwise).
    pub const fn new(peer_id: [u8; 20], start_timestamp: i64, torrent: &'a [u8]) -> Self {
        ClientSessionConfig {
            peer_id,
            start_timestamp,
            torrent,
            password: None,
            auth_empty_line: true,
            unix_time_at_zero_ms: 0,
            keyword_match: KeywordMatch::Exact,
            close_delay: Duration::from_secs(5),
            refused_delay: Duration::from_secs(15),
        }
    }

    /// Sets [`password`](ClientSessionConfig::password).
    #[must_use]
    pub const fn with_password(mut self, password: Option<&'a [u8]>) -> Self {
        self.password = password;
        self
    }

    /// Sets [`auth_empty_line`](ClientSessionConfig::auth_empty_line).
    #[must_use]
    pub const fn with_auth_empty_line(mut self, empty_line: bool) -> Self {
        self.auth_empty_line = empty_line;
        self
    }

    /// Sets [`unix_time_at_zero_ms`](ClientSessionConfig::unix_time_at_zero_ms).
    #[must_use]
    pub const fn with_unix_time_at_zero_ms(mut self, ms: u64) -> Self {
        self.unix_time_at_zero_ms = ms;
        self
    }

    /// Sets [`keyword_match`](ClientSessionConfig::keyword_match).
    #[must_use]
    pub const fn with_keyword_match(mut self, matching: KeywordMatch) -> Self {
        self.keyword_match = matching;
        self
    }

    /// Sets [`close_delay`](ClientSessionConfig::close_delay).
    #[must_use]
    pub const fn with_close_delay(mut self, delay: Duration) -> Self {
        self.close_delay = delay;
        self
    }

    /// Sets [`refused_delay`](ClientSessionConfig::refused_delay).
    #[must_use]
    pub const fn with_refused_delay(mut self, delay: Duration) -> Self {
        self.refused_delay = delay;
        self
    }
}

/// The identity lines, kept for every (re)connection.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    peer_id: PeerIdText,
    start_timestamp: i64,
    torrent: Fill<MAX_TORRENT_PATH_LEN>,
    password: Option<Fill<MAX_PASSWORD_LEN>>,
    auth_empty_line: bool,
}

impl Identity {
    /// Checks and copies the identity part of `config`.
    pub(crate) fn new(config: &ClientSessionConfig<'_>) -> Result<Self, UsageError> {
        if config.torrent.is_empty() || Text::new(config.torrent).is_err() {
            return Err(UsageError::invalid_value("torrent"));
        }
        let mut torrent = Fill::new();
        if !torrent.push(config.torrent) {
            return Err(UsageError::too_long("torrent"));
        }
        let password = match config.password {
            None => None,
            Some(pw) => {
                // dnh3.3.2 keeps the first 20 bytes and leaves the rest unread.
                let mut fill = Fill::new();
                let kept = pw.get(..MAX_PASSWORD_LEN).unwrap_or(pw);
                let fits = fill.push(kept);
                debug_assert!(fits, "at most MAX_PASSWORD_LEN bytes are kept");
                if Text::new(fill.as_slice()).is_err() {
                    return Err(UsageError::invalid_value("password"));
                }
                Some(fill)
            }
        };
        let id = Identity {
            peer_id: PeerIdText::encode(&config.peer_id),
            start_timestamp: config.start_timestamp,
            torrent,
            password,
            auth_empty_line: config.auth_empty_line,
        };
        // The longest CTORRENT (a 20-character timestamp) must be a line the real
        // client could have sent.
        if id.ctorrent(i64::MIN).encoded_len(Version::V3) > DEFAULT_MAX_LINE_LEN.saturating_add(1) {
            return Err(UsageError::too_long("torrent"));
        }
        Ok(id)
    }

    /// `AUTH`, if a password is configured.
    pub(crate) fn auth(&self) -> Option<ClientMessage<'_>> {
        self.password.as_ref().map(|pw| {
            ClientMessage::Auth(Auth {
                password: Text::from_line(pw.as_slice()),
            })
        })
    }

    /// Whether an empty line follows `AUTH`.
    pub(crate) fn auth_empty_line(&self) -> bool {
        self.auth_empty_line
            && self
                .password
                .as_ref()
                .is_some_and(|pw| pw.len() < MAX_PASSWORD_LEN)
    }

    /// `CTORRENT` with `now` (Unix seconds) as the current timestamp.
    pub(crate) fn ctorrent(&self, now: i64) -> ClientMessage<'_> {
        ClientMessage::CtTorrent(CtTorrent {
            peer_id: self.peer_id.as_word(),
            start_timestamp: self.start_timestamp,
            current_timestamp: now,
            filename: Text::from_line(self.torrent.as_slice()),
        })
    }

    /// Our peer id's text form.
    pub(crate) fn peer_id(&self) -> Word<'_> {
        self.peer_id.as_word()
    }
}
