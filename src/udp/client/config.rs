//! Client configuration, and the announce tail the client keeps in a fixed buffer.

use core::net::SocketAddr;
use core::time::Duration;

use crate::error::UsageError;
use crate::hash::sha1::sha1;
use crate::udp::legacy::{Authentication, Extensions, PasswdHash, ShortBytes};
use crate::udp::limits::{payload_budget, MTU_ETHERNET};
use crate::udp::options::{encode_url_data, url_data_encoded_len};
use crate::udp::request::AnnounceTail;
use crate::udp::types::AddressFamily;
use crate::wire::{Reader, Writer};

use super::retry::RetryPolicy;

/// The longest tracker-URL path and query [`TailConfig::UrlData`] accepts, in bytes.
///
/// Its URLData encoding (1034 bytes in five chunks) plus the 98-byte announce is 1132
/// bytes, so even the longest announce fits IPv6's minimum MTU.
pub const MAX_URL_DATA_LEN: usize = 1024;

/// The size of the buffer a client keeps for its announce tail.
pub(crate) const TAIL_CAPACITY: usize = url_data_encoded_len(MAX_URL_DATA_LEN, false);

/// What a client appends to each announce after the 98 fixed bytes.
///
/// The two grammars conflict at byte 98 (see [`crate::udp::TailGrammar`]), so a client
/// uses at most one. The bytes are copied into the client when it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TailConfig<'a> {
    /// Nothing: 98-byte announces (what Transmission sends).
    #[default]
    None,
    /// BEP 41 URLData: the tracker URL's path and query (`/announce?passkey=…`), split
    /// into options of at most 255 bytes, without EndOfOptions. libtorrent instead
    /// truncates at 255 bytes. At most [`MAX_URL_DATA_LEN`] bytes.
    UrlData(&'a [u8]),
    /// The legacy `extensions` field of libtorrent's UDP tracker page
    /// (<https://www.libtorrent.org/udp_tracker_protocol.html>): authentication with `username` and the first 8 bytes of
    /// `sha1(packet ‖ sha1(password))`, and optionally the request string (the URL's
    /// path and query). The client stores `sha1(password)`, not the password.
    /// `username` and `request_string` are at most 255 bytes each.
    LegacyAuth {
        /// The user name.
        username: &'a [u8],
        /// The password.
        password: &'a [u8],
        /// The request string, if any.
        request_string: Option<&'a [u8]>,
    },
}

/// How a [`Client`](super::Client) behaves. Build it with [`ClientConfig::new`] (the
/// tracker is the one setting without a default) and the chainable `with_*` setters;
/// the fields are public, so a configuration can also be read or adjusted in place
/// (`#[non_exhaustive]` keeps new settings from being a breaking change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig<'a> {
    /// The tracker's address: where datagrams go and, with
    /// [`check_source`](ClientConfig::check_source), where replies must come from.
    pub tracker: SocketAddr,
    /// When to retransmit and when to give up. Default [`RetryPolicy::SEED`].
    pub retry: RetryPolicy,
    /// How long a connection id is used after the connect reply arrived. Default 60 s
    /// (BEP 15: "A client can use a connection ID until one minute after it has received
    /// it"). Zero disables the cache: every send first connects.
    pub connection_id_lifetime: Duration,
    /// Whether replies must come from [`tracker`](ClientConfig::tracker) (IPv4-mapped
    /// addresses are canonicalized; only address and port are compared). Default `true`.
    /// Turn it off behind a NAT or "Fake-IP" proxy, or for an IPv6 tracker that answers
    /// from another of its addresses (libtorrent PR #7913); transaction ids then remain
    /// the only check.
    pub check_source: bool,
    /// The largest UDP payload the client sends. Default
    /// [`payload_budget`]`(1500, family of the tracker)`: 1472 bytes over IPv4, 1452 over
    /// IPv6. Capped at [`Client::MAX_TRANSMIT_LEN`](super::Client::MAX_TRANSMIT_LEN). It bounds how many
    /// info hashes one scrape carries, and the announce with its tail must fit it.
    pub payload_budget: usize,
    /// What follows the fixed announce fields. Default [`TailConfig::None`].
    pub tail: TailConfig<'a>,
}

impl<'a> ClientConfig<'a> {
    /// The defaults for a tracker at `tracker`.
    pub fn new(tracker: SocketAddr) -> Self {
        ClientConfig {
            tracker,
            retry: RetryPolicy::SEED,
            connection_id_lifetime: Duration::from_secs(60),
            check_source: true,
            payload_budget: payload_budget(MTU_ETHERNET, AddressFamily::of(tracker)),
            tail: TailConfig::None,
        }
    }

    /// Sets [`retry`](ClientConfig::retry).
    #[must_use]
    pub const fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets [`connection_id_lifetime`](ClientConfig::connection_id_lifetime).
    #[must_use]
    pub const fn with_connection_id_lifetime(mut self, lifetime: Duration) -> Self {
        self.connection_id_lifetime = lifetime;
        self
    }

    /// Sets [`check_source`](ClientConfig::check_source).
    #[must_use]
    pub const fn with_check_source(mut self, check: bool) -> Self {
        self.check_source = check;
        self
    }

    /// Sets [`payload_budget`](ClientConfig::payload_budget).
    #[must_use]
    pub const fn with_payload_budget(mut self, bytes: usize) -> Self {
        self.payload_budget = bytes;
        self
    }

    /// Sets [`tail`](ClientConfig::tail).
    #[must_use]
    pub const fn with_tail(mut self, tail: TailConfig<'a>) -> Self {
        self.tail = tail;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TailKind {
    None,
    /// `buf[..len]` holds the encoded URLData options.
    UrlData {
        len: usize,
    },
    /// `buf[..user]` is the user name, `buf[user..user + rs]` the request string.
    Legacy {
        user: usize,
        request_string: Option<usize>,
        digest: [u8; 20],
    },
}

/// The announce tail, copied into the client.
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    kind: TailKind,
    buf: [u8; TAIL_CAPACITY],
}

impl Tail {
    pub(crate) fn new(config: &TailConfig<'_>) -> Result<Self, UsageError> {
        let mut buf = [0u8; TAIL_CAPACITY];
        let kind = match *config {
            TailConfig::None => TailKind::None,
            TailConfig::UrlData(url) => {
                if url.len() > MAX_URL_DATA_LEN {
                    return Err(UsageError::too_long("config.tail.url"));
                }
                let len = encode_url_data(url, false, &mut buf)
                    .map_err(|_| UsageError::too_long("config.tail.url"))?;
                TailKind::UrlData { len }
            }
            TailConfig::LegacyAuth {
                username,
                password,
                request_string,
            } => {
                ShortBytes::new(username).ok_or(UsageError::too_long("config.tail.username"))?;
                let rs = request_string.unwrap_or_default();
                ShortBytes::new(rs).ok_or(UsageError::too_long("config.tail.request_string"))?;
                // The user name, then the request string, back to back.
                let total = username.len().saturating_add(rs.len());
                let mut w = Writer::new(&mut buf, total)
                    .map_err(|_| UsageError::too_long("config.tail.request_string"))?;
                w.bytes(username)
                    .map_err(|_| UsageError::too_long("config.tail.username"))?;
                w.bytes(rs)
                    .map_err(|_| UsageError::too_long("config.tail.request_string"))?;
                TailKind::Legacy {
                    user: username.len(),
                    request_string: request_string.map(<[u8]>::len),
                    digest: sha1(password),
                }
            }
        };
        Ok(Tail { kind, buf })
    }

    /// The tail to put into an [`AnnounceRequest`](crate::udp::AnnounceRequest).
    pub(crate) fn announce_tail(&self) -> AnnounceTail<'_> {
        match self.kind {
            TailKind::None => AnnounceTail::None,
            TailKind::UrlData { len } => {
                let options = Reader::new(&self.buf).take(len);
                debug_assert!(options.is_ok(), "URLData of {len} bytes in the tail buffer");
                AnnounceTail::Raw(options.unwrap_or_default())
            }
            TailKind::Legacy {
                user,
                request_string,
                digest,
            } => {
                let mut r = Reader::new(&self.buf);
                let mut short = |len: usize| {
                    let field = r.take(len).ok().and_then(ShortBytes::new);
                    // `Tail::new` checked both lengths (≤ 255) and that they fit the buffer.
                    debug_assert!(field.is_some(), "legacy field of {len} bytes");
                    field.unwrap_or_default()
                };
                let username = short(user);
                let request_string = request_string.map(short);
                AnnounceTail::Extensions(Extensions::new(
                    Some(Authentication {
                        username,
                        passwd_hash: PasswdHash::PasswordDigest(digest),
                    }),
                    request_string,
                ))
            }
        }
    }
}
