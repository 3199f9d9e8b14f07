//! What [`serve`](crate::serve) is told: [`ServeOptions`], and why it may refuse them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use trackwire::ctcs::{Version, MAX_PASSWORD_LEN};

/// The default [`ServeOptions::listen`] address: the port the original CTorrent Control
/// Server used, on loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:2780";

/// Everything [`serve`](crate::serve) needs. Every field has a default
/// ([`ServeOptions::default`]); build one with struct update syntax:
///
/// ```
/// let options = trackwire_console::ServeOptions {
///     web_password: Some("s3cret".into()),
///     ..Default::default()
/// };
/// assert!(options.validate().is_ok());
/// ```
///
/// [`validate`](ServeOptions::validate) (called by [`bind`](crate::bind)) refuses
/// out-of-range values with an [`OptionsError`] naming the field.
#[derive(Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Where ctorrent clients connect (`ctorrent -S HOST:PORT`). Browsers are served
    /// here too unless [`web`](Self::web) is set: each connection is told apart by its
    /// first bytes. Default [`DEFAULT_LISTEN`], `127.0.0.1:2780`.
    pub listen: SocketAddr,
    /// A separate address for the web console; `None` (the default) serves it on
    /// [`listen`](Self::listen). Browsers that reach `listen` anyway get a short
    /// page pointing here, never a CTCS session.
    pub web: Option<SocketAddr>,
    /// The web console's password (HTTP basic auth; any user name). Required when the
    /// web console is reachable beyond loopback. Default `None`.
    pub web_password: Option<String>,
    /// The password ctorrent clients must send (`ctorrent -S HOST:PORT:` prompts for
    /// it): at most 20 bytes, no NUL, CR or LF. Separate from the web password.
    /// Default `None`: every client is accepted.
    pub ctcs_password: Option<String>,
    /// The SQLite file keeping the operator's limits and the terminated torrents across
    /// restarts; its directory is created. Default `None`: [`default_database_path`].
    pub database: Option<PathBuf>,
    /// The most connections (ctorrent clients and browsers together) open at once; one
    /// more is closed as soon as it is accepted. Default 256, range 1..=65536.
    pub max_connections: usize,
    /// How long a connection may stay silent before the first bytes that tell what it
    /// is; silence past this is taken as a CTCS client waiting for the server, which
    /// then sends `PROTOCOL 0003` first. ctorrent itself writes `PROTOCOL 0003` as soon
    /// as it connects. Default 2 s, range 10 ms..=60 s.
    pub sniff_timeout: Duration,
    /// How long a connection may take to identify itself: a ctorrent client to send
    /// `CTORRENT` (after `PROTOCOL` and `AUTH`), a browser to send a whole request
    /// head. Default 30 s, range 100 ms..=1 h.
    pub handshake_timeout: Duration,
    /// How long a ctorrent client may leave a line unfinished (bytes without a line
    /// end) before the connection is closed. Default 60 s, range 100 ms..=1 h.
    pub line_timeout: Duration,
    /// How long a ctorrent client may send nothing at all before it is closed. An idle
    /// seeder sends nothing on its own, but it answers the status poll, so this only
    /// catches clients that stopped answering. Default 300 s, range 1 s..=1 day; it
    /// must exceed [`status_interval`](Self::status_interval).
    pub idle_timeout: Duration,
    /// How often each client is asked for its status (`SENDSTATUS`): dnh3.3.2 sends
    /// `CTSTATUS` on its own only on connect, completion, quit and some tracker
    /// announces. Default 10 s, range 1 s..=1 h.
    pub status_interval: Duration,
    /// The highest CTCS protocol version offered (`PROTOCOL 000k`, the first line the
    /// console sends); a client announcing a lower one gets its own. dnh3.3.2 speaks
    /// 1, 2 and 3; a lower cap serves the old forms, e.g. to test them. Default
    /// [`Version::V3`].
    pub max_protocol: Version,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 2780)),
            web: None,
            web_password: None,
            ctcs_password: None,
            database: None,
            max_connections: 256,
            sniff_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(30),
            line_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            status_interval: Duration::from_secs(10),
            max_protocol: Version::V3,
        }
    }
}

// Passwords stay out of logs and panics.
impl fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |p: &Option<String>| p.as_ref().map(|_| "<hidden>");
        f.debug_struct("ServeOptions")
            .field("listen", &self.listen)
            .field("web", &self.web)
            .field("web_password", &hidden(&self.web_password))
            .field("ctcs_password", &hidden(&self.ctcs_password))
            .field("database", &self.database)
            .field("max_connections", &self.max_connections)
            .field("sniff_timeout", &self.sniff_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("line_timeout", &self.line_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("status_interval", &self.status_interval)
            .field("max_protocol", &self.max_protocol)
            .finish()
    }
}

/// Why [`ServeOptions`] were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsErrorKind {
    /// A number or duration outside its range (both ends inclusive, as text in the
    /// field's unit).
    OutOfRange {
        /// The value given.
        value: String,
        /// The smallest accepted.
        min: String,
        /// The largest accepted.
        max: String,
    },
    /// The web console would be reachable beyond loopback (at the address given)
    /// without a web password.
    PasswordRequired {
        /// The address the web console would listen on.
        address: SocketAddr,
    },
    /// The CTCS password is longer than 20 bytes (dnh3.3.2 sends at most 20) or holds
    /// NUL, CR or LF (no `AUTH` line can carry them); or the web password is empty.
    InvalidPassword,
    /// [`idle_timeout`](ServeOptions::idle_timeout) is not longer than
    /// [`status_interval`](ServeOptions::status_interval): every idle client would be
    /// closed before it was asked for its status.
    IdleBeforePoll,
    /// [`listen`](ServeOptions::listen) and [`web`](ServeOptions::web) are the same
    /// address.
    SameAddress,
}

/// [`ServeOptions`] that [`validate`](ServeOptions::validate) refused: which field, and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError {
    /// The field of [`ServeOptions`] at fault (`max_connections`, `web_password`, …).
    pub option: &'static str,
    /// What is wrong with it.
    pub kind: OptionsErrorKind,
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            OptionsErrorKind::OutOfRange { value, min, max } => write!(
                f,
                "{}: {value} is out of range ({min} to {max})",
                self.option
            ),
            OptionsErrorKind::PasswordRequired { address } => write!(
                f,
                "{}: the web console on {address} is reachable beyond loopback; \
                 set a web password, or bind it to 127.0.0.1 or ::1",
                self.option
            ),
            OptionsErrorKind::InvalidPassword => write!(
                f,
                "{}: a CTCS password is 1 to {MAX_PASSWORD_LEN} bytes without NUL, CR or LF; \
                 a web password is not empty",
                self.option
            ),
            OptionsErrorKind::IdleBeforePoll => write!(
                f,
                "{}: the idle timeout must be longer than the status interval",
                self.option
            ),
            OptionsErrorKind::SameAddress => {
                write!(f, "{}: the web address is the listen address", self.option)
            }
        }
    }
}

impl std::error::Error for OptionsError {}

fn duration_in(
    option: &'static str,
    d: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), OptionsError> {
    if d < min || d > max {
        return Err(OptionsError {
            option,
            kind: OptionsErrorKind::OutOfRange {
                value: format!("{d:?}"),
                min: format!("{min:?}"),
                max: format!("{max:?}"),
            },
        });
    }
    Ok(())
}

impl ServeOptions {
    /// The address the web console is served on.
    pub fn web_address(&self) -> SocketAddr {
        self.web.unwrap_or(self.listen)
    }

    /// Checks every field; see each field for its range.
    ///
    /// # Errors
    ///
    /// The first field at fault, as an [`OptionsError`].
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(1..=65536).contains(&self.max_connections) {
            return Err(OptionsError {
                option: "max_connections",
                kind: OptionsErrorKind::OutOfRange {
                    value: self.max_connections.to_string(),
                    min: "1".into(),
                    max: "65536".into(),
                },
            });
        }
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        duration_in("sniff_timeout", self.sniff_timeout, ms(10), s(60))?;
        duration_in(
            "handshake_timeout",
            self.handshake_timeout,
            ms(100),
            s(3600),
        )?;
        duration_in("line_timeout", self.line_timeout, ms(100), s(3600))?;
        duration_in("idle_timeout", self.idle_timeout, s(1), s(86_400))?;
        duration_in("status_interval", self.status_interval, s(1), s(3600))?;
        if self.idle_timeout <= self.status_interval {
            return Err(OptionsError {
                option: "idle_timeout",
                kind: OptionsErrorKind::IdleBeforePoll,
            });
        }
        if let Some(pw) = &self.ctcs_password {
            let b = pw.as_bytes();
            if b.is_empty()
                || b.len() > MAX_PASSWORD_LEN
                || b.iter().any(|c| matches!(c, 0 | b'\r' | b'\n'))
            {
                return Err(OptionsError {
                    option: "ctcs_password",
                    kind: OptionsErrorKind::InvalidPassword,
                });
            }
        }
        if self.web_password.as_deref() == Some("") {
            return Err(OptionsError {
                option: "web_password",
                kind: OptionsErrorKind::InvalidPassword,
            });
        }
        // Port 0 asks the system for a free port: two of them never clash.
        if self.web == Some(self.listen) && self.listen.port() != 0 {
            return Err(OptionsError {
                option: "web",
                kind: OptionsErrorKind::SameAddress,
            });
        }
        let web = self.web_address();
        if !web.ip().is_loopback() && self.web_password.is_none() {
            return Err(OptionsError {
                option: "web_password",
                kind: OptionsErrorKind::PasswordRequired { address: web },
            });
        }
        Ok(())
    }

    /// The database file to open: [`database`](Self::database), or
    /// [`default_database_path`].
    pub fn database_path(&self) -> PathBuf {
        self.database.clone().unwrap_or_else(default_database_path)
    }
}

/// Where the database lives when [`ServeOptions::database`] is not set, following the
/// XDG base directory rules for state that should survive restarts:
/// `$XDG_STATE_HOME/trackwire/ctcs.sqlite3`, else
/// `$HOME/.local/state/trackwire/ctcs.sqlite3`, else `./trackwire-ctcs.sqlite3`.
pub fn default_database_path() -> PathBuf {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(state) = non_empty("XDG_STATE_HOME") {
        return PathBuf::from(state).join("trackwire").join("ctcs.sqlite3");
    }
    if let Some(home) = non_empty("HOME") {
        return PathBuf::from(home)
            .join(".local")
            .join("state")
            .join("trackwire")
            .join("ctcs.sqlite3");
    }
    PathBuf::from("trackwire-ctcs.sqlite3")
}

/// A duration given as decimal seconds (`10`, `0.5`, `1e3`) for the field `option`,
/// for command-line flags: `NaN`, negatives, infinities and values too large for a
/// [`Duration`] (`1e20`: more than 2^64 s) are an [`OptionsError`], never a panic.
/// The field's own range is checked later by [`ServeOptions::validate`].
///
/// # Errors
///
/// [`OptionsErrorKind::OutOfRange`] naming `option`.
pub fn parse_seconds(option: &'static str, text: &str) -> Result<Duration, OptionsError> {
    let bad = || OptionsError {
        option,
        kind: OptionsErrorKind::OutOfRange {
            value: text.to_owned(),
            min: "0".into(),
            max: format!("{} s", Duration::MAX.as_secs()),
        },
    };
    let secs: f64 = text.trim().parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback() {
        let o = ServeOptions::default();
        assert_eq!(o.listen, DEFAULT_LISTEN.parse().unwrap());
        assert!(o.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let bad = [
            (
                ServeOptions {
                    max_connections: 0,
                    ..Default::default()
                },
                "max_connections",
            ),
            (
                ServeOptions {
                    max_connections: 1 << 20,
                    ..Default::default()
                },
                "max_connections",
            ),
            (
                ServeOptions {
                    status_interval: Duration::from_secs_f64(1e9),
                    ..Default::default()
                },
                "status_interval",
            ),
            (
                ServeOptions {
                    idle_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "idle_timeout",
            ),
            (
                ServeOptions {
                    idle_timeout: Duration::from_secs(5),
                    ..Default::default()
                },
                "idle_timeout",
            ),
            (
                ServeOptions {
                    sniff_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "sniff_timeout",
            ),
            (
                ServeOptions {
                    ctcs_password: Some("x".repeat(21)),
                    ..Default::default()
                },
                "ctcs_password",
            ),
            (
                ServeOptions {
                    ctcs_password: Some("a\nb".into()),
                    ..Default::default()
                },
                "ctcs_password",
            ),
        ];
        for (o, field) in bad {
            let e = o.validate().unwrap_err();
            assert_eq!(e.option, field, "{e}");
            assert!(e.to_string().starts_with(field));
        }
    }

    #[test]
    fn beyond_loopback_needs_a_web_password() {
        let open = ServeOptions {
            listen: "0.0.0.0:2780".parse().unwrap(),
            ..Default::default()
        };
        let e = open.validate().unwrap_err();
        assert_eq!(e.option, "web_password");
        assert!(matches!(e.kind, OptionsErrorKind::PasswordRequired { .. }));
        // The clients' port may be public while the console stays on loopback.
        let split = ServeOptions {
            web: Some("127.0.0.1:2781".parse().unwrap()),
            ..open.clone()
        };
        assert!(split.validate().is_ok());
        let with_pw = ServeOptions {
            web_password: Some("pw".into()),
            ..open
        };
        assert!(with_pw.validate().is_ok());
    }

    #[test]
    fn seconds_from_text() {
        assert_eq!(parse_seconds("x", "10").unwrap(), Duration::from_secs(10));
        assert_eq!(
            parse_seconds("x", "0.25").unwrap(),
            Duration::from_millis(250)
        );
        for bad in ["-1", "NaN", "inf", "1e20", "", "ten"] {
            let e = parse_seconds("status_interval", bad).unwrap_err();
            assert_eq!(e.option, "status_interval", "{bad}");
        }
        // In Duration's range but out of the field's: validate says so.
        let o = ServeOptions {
            status_interval: parse_seconds("status_interval", "1e15").unwrap(),
            ..Default::default()
        };
        assert_eq!(o.validate().unwrap_err().option, "status_interval");
    }

    #[test]
    fn passwords_are_hidden_from_debug() {
        let o = ServeOptions {
            web_password: Some("topsecret".into()),
            ctcs_password: Some("alsosecret".into()),
            ..Default::default()
        };
        let text = format!("{o:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
