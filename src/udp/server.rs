//! The tracker side: a stateless triage of incoming datagrams. Its documentation is on
//! [`Server`], the type users see.

use core::net::{SocketAddr, SocketAddrV4};
use core::time::Duration;

use crate::error::{DecodeError, EncodeError};
use crate::time::Instant;
use crate::udp::cookie::{ConnectionIdScheme, SipCookies, MIN_CONNECTION_AGE};
use crate::udp::limits::{max_peers, max_scrape_rows, payload_budget, MTU_ETHERNET};
use crate::udp::request::{
    AnnounceRequest, ConnectRequest, RequestHeader, ScrapeRequest, TailGrammar,
    ANNOUNCE_REQUEST_LEN,
};
use crate::udp::response::{
    put_v4, put_v6, AnnounceResponse, ConnectResponse, ErrorResponse, Peers, ScrapeResponse,
    ScrapeRow,
};
use crate::udp::types::{
    canonical_addr, effective_num_want, AddressFamily, ConnectionId, InfoHash, TransactionId,
};

/// The error message for a connection id that fails the check.
pub const MSG_BAD_CONNECTION_ID: &[u8] = b"bad connection id";
/// The error message for an authenticated request that does not decode.
pub const MSG_MALFORMED: &[u8] = b"malformed request";
/// The error message for an authenticated request with an unknown action.
pub const MSG_UNKNOWN_ACTION: &[u8] = b"unknown action";

/// Settings of a [`Server`]. Every setting has a default: start from
/// [`ServerConfig::new`] (or `Default`) and chain the `with_*` setters; the fields are
/// public, so a configuration can also be read or adjusted in place
/// (`#[non_exhaustive]` keeps new settings from being a breaking change).
///
/// ```
/// use core::time::Duration;
/// use trackwire::udp::ServerConfig;
///
/// let config = ServerConfig::new()
///     .with_max_connection_age(Duration::from_secs(300))
///     .with_max_num_want(100);
/// assert_eq!(config.default_num_want, 50);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How long a connection id stays valid; at least 2 minutes (BEP 15), which is the
    /// default. Some clients reuse ids for about 5 minutes (uTorrent 3.5).
    pub max_connection_age: Duration,
    /// Whether a connection id is bound to the client's port as well as its address.
    pub include_port: bool,
    /// How announce tails are read.
    pub tail_grammar: TailGrammar,
    /// Whether an announce whose tail does not parse under
    /// [`tail_grammar`](Self::tail_grammar) is rejected. Off by default: such an announce
    /// is accepted with its tail kept as [`AnnounceTail::Raw`](crate::udp::AnnounceTail::Raw),
    /// because BEP 15 asks trackers not to expect packets of an exact size and real
    /// trackers (opentracker, aquatic) ignore what follows the 98 bytes.
    pub strict_tails: bool,
    /// The link MTU replies must fit in (1500 by default).
    pub mtu: usize,
    /// Peers returned when `num_want` is negative (BEP 15's −1, "default").
    pub default_num_want: u32,
    /// The most peers returned for any `num_want` (the MTU caps it too).
    pub max_num_want: u32,
    /// The most scrape rows returned (the MTU caps it too).
    pub max_scrape_hashes: usize,
}

impl ServerConfig {
    /// The defaults: ids valid for 2 minutes and bound to the address only, BEP 41
    /// tails read leniently, 1500-byte MTU, 50 peers by default and at most 200, at
    /// most 74 scrape rows.
    pub const fn new() -> Self {
        ServerConfig {
            max_connection_age: MIN_CONNECTION_AGE,
            include_port: false,
            tail_grammar: TailGrammar::Bep41,
            strict_tails: false,
            mtu: MTU_ETHERNET,
            default_num_want: 50,
            max_num_want: 200,
            max_scrape_hashes: 74,
        }
    }

    /// Sets [`max_connection_age`](ServerConfig::max_connection_age).
    #[must_use]
    pub const fn with_max_connection_age(mut self, age: Duration) -> Self {
        self.max_connection_age = age;
        self
    }

    /// Sets [`include_port`](ServerConfig::include_port).
    #[must_use]
    pub const fn with_include_port(mut self, include: bool) -> Self {
        self.include_port = include;
        self
    }

    /// Sets [`tail_grammar`](ServerConfig::tail_grammar).
    #[must_use]
    pub const fn with_tail_grammar(mut self, grammar: TailGrammar) -> Self {
        self.tail_grammar = grammar;
        self
    }

    /// Sets [`strict_tails`](ServerConfig::strict_tails).
    #[must_use]
    pub const fn with_strict_tails(mut self, strict: bool) -> Self {
        self.strict_tails = strict;
        self
    }

    /// Sets [`mtu`](ServerConfig::mtu).
    #[must_use]
    pub const fn with_mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }

    /// Sets [`default_num_want`](ServerConfig::default_num_want).
    #[must_use]
    pub const fn with_default_num_want(mut self, peers: u32) -> Self {
        self.default_num_want = peers;
        self
    }

    /// Sets [`max_num_want`](ServerConfig::max_num_want).
    #[must_use]
    pub const fn with_max_num_want(mut self, peers: u32) -> Self {
        self.max_num_want = peers;
        self
    }

    /// Sets [`max_scrape_hashes`](ServerConfig::max_scrape_hashes).
    #[must_use]
    pub const fn with_max_scrape_hashes(mut self, rows: usize) -> Self {
        self.max_scrape_hashes = rows;
        self
    }
}

impl Default for ServerConfig {
    /// [`ServerConfig::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// Why a datagram got an error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The connection id failed the check.
    BadConnectionId,
    /// An authenticated request that does not decode.
    Malformed(DecodeError),
    /// An authenticated request with an action other than connect, announce or scrape.
    UnknownAction(u32),
}

/// Why a datagram got no reply at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// Unauthenticated and malformed: too short for a header, or a connect with the
    /// wrong magic.
    Malformed(DecodeError),
    /// An error packet (action 3): answering it could start a loop between two trackers.
    ErrorPacket,
    /// An error reply was due but would have been larger than the datagram.
    Oversized(Rejection),
    /// The reply buffer is too small for the reply.
    ReplyBuffer(EncodeError),
}

/// What to do with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a reply may be waiting in the buffer, or a request for the application"]
pub enum ServerAction<'a> {
    /// A connect reply of `len` bytes is in the reply buffer: send it back.
    Connected {
        /// The reply length.
        len: usize,
    },
    /// An error reply of `len` bytes is in the reply buffer: send it back.
    Rejected {
        /// The reply length.
        len: usize,
        /// Why.
        reason: Rejection,
    },
    /// An authenticated announce for the application to answer.
    Announce(IncomingAnnounce<'a>),
    /// An authenticated scrape for the application to answer.
    Scrape(IncomingScrape<'a>),
    /// Nothing to send.
    Dropped(Dropped),
}

/// The tracker side: a stateless triage of incoming datagrams.
///
/// A `Server` is not a poll-driven state machine like [`Client`](crate::udp::Client): it
/// has no timers, queues or events, and [`Server::handle_datagram`] takes `&self`. It
/// plays the role of quinn-proto's `Endpoint::handle`: each datagram goes in, and a
/// decision comes out at once ([`ServerAction`]) — a reply already written into the
/// caller's buffer, a request for the application to answer, or nothing. One `Server`
/// can be shared by any number of threads or tasks without a lock.
///
/// [`Server::handle_datagram`] decides, for each datagram, one of:
///
/// ```text
///                     ┌─ action 0, magic ok ──────────────► Connected   (16-byte reply written)
///                     ├─ action 3 (an error packet) ──────► Dropped     (never answered: no reply loops)
/// datagram ── header ─┼─ connection id fails ───────────► Rejected    (error reply, request's tid)
///      │              └─ connection id ok ─┬─ announce ──► Announce    (the application answers)
///      │                                   ├─ scrape ────► Scrape      (the application answers)
///      │                                   └─ malformed ─► Rejected    (error reply, request's tid)
///      │     (an error reply longer than the datagram ──► Dropped instead)
///      └─ shorter than 16 bytes, or a bad connect ───────► Dropped
/// ```
///
/// The server keeps no state: connection ids are cookies ([`SipCookies`]) and the
/// swarms belong to the application, which answers an [`IncomingAnnounce`] or
/// [`IncomingScrape`] with its peers or counts. Two rules hold for every reply:
///
/// * no datagram is answered with more bytes than it carried (a connect reply is exactly
///   as long as the connect; an error reply that would be longer is not sent), so the
///   tracker cannot amplify spoofed traffic — torrust answers even 1-byte garbage with
///   ~130 bytes, opentracker a 16-byte request with a bad connection id with 33;
/// * an error reply carries the transaction id of the request it answers, so the client
///   can match it — torrust sends transaction id 0.
///
/// Replies are capped to the payload that fits one datagram of the configured MTU in the
/// requester's address family, and announce replies honour `num_want`.
///
/// ```
/// use trackwire::udp::{ConnectRequest, Server, ServerAction, ServerConfig, TransactionId};
/// use trackwire::Instant;
///
/// let server = Server::new(ServerConfig::new(), [7; 16]); // a random secret in real use
/// let mut request = [0u8; 16];
/// ConnectRequest { transaction_id: TransactionId(1) }.encode(&mut request)?;
/// let mut reply = [0u8; 1500];
/// let from = "192.0.2.2:6881".parse().unwrap();
/// match server.handle_datagram(Instant::ZERO, from, &request, &mut reply) {
///     ServerAction::Connected { len } => assert_eq!(len, 16), // send reply[..len] to `from`
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), trackwire::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Server<S = SipCookies> {
    config: ServerConfig,
    ids: S,
}

impl Server<SipCookies> {
    /// A server issuing [`SipCookies`] under `secret`, which must come from a real
    /// entropy source and stay private (rotate it by making a new server; ids issued
    /// under the old secret then fail).
    pub fn new(config: ServerConfig, secret: [u8; 16]) -> Self {
        let ids = SipCookies::new(secret, config.max_connection_age, config.include_port);
        Server { config, ids }
    }
}

impl<S: ConnectionIdScheme> Server<S> {
    /// A server with another connection-id scheme.
    pub fn with_scheme(config: ServerConfig, ids: S) -> Self {
        Server { config, ids }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The connection-id scheme.
    pub fn scheme(&self) -> &S {
        &self.ids
    }

    /// Triages one datagram from `from`, writing any immediate reply into `reply`, and
    /// says what to do next. It takes `&self` and changes nothing: the same datagram
    /// always gets the same answer at the same `now`, and calls from several threads
    /// need no lock.
    ///
    /// `reply` should hold a datagram of the configured MTU; a smaller one can make the
    /// answer [`Dropped::ReplyBuffer`].
    pub fn handle_datagram<'a>(
        &self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a [u8],
        reply: &mut [u8],
    ) -> ServerAction<'a> {
        let from = canonical_addr(from);
        let header = match RequestHeader::decode(bytes) {
            Ok(h) => h,
            Err(e) => return ServerAction::Dropped(Dropped::Malformed(e)),
        };
        match header.action {
            0 => return self.connect(now, from, bytes, reply),
            3 => return ServerAction::Dropped(Dropped::ErrorPacket),
            _ => {}
        }
        let tid = header.transaction_id;
        if !self
            .ids
            .validate(now, from, ConnectionId(header.connection_id))
        {
            return reject(
                tid,
                MSG_BAD_CONNECTION_ID,
                Rejection::BadConnectionId,
                bytes.len(),
                reply,
            );
        }
        let family = AddressFamily::of(from);
        let budget = payload_budget(self.config.mtu, family);
        // Each action is built where it is returned: an announce is 224 bytes, and a
        // `Result` of it mapped into a `ServerAction` was copied three more times.
        match header.action {
            1 => match self.decode_announce(bytes) {
                Ok(request) => {
                    let wanted = effective_num_want(
                        request.num_want,
                        self.config.default_num_want,
                        self.config.max_num_want,
                    );
                    let peer_limit = usize::try_from(wanted)
                        .unwrap_or(usize::MAX)
                        .min(max_peers(budget, family));
                    ServerAction::Announce(IncomingAnnounce {
                        from,
                        request,
                        peer_limit,
                    })
                }
                Err(e) => malformed(tid, e, bytes.len(), reply),
            },
            2 => match ScrapeRequest::decode(bytes) {
                Ok(request) => ServerAction::Scrape(IncomingScrape {
                    from,
                    request,
                    row_limit: max_scrape_rows(budget).min(self.config.max_scrape_hashes),
                }),
                Err(e) => malformed(tid, e, bytes.len(), reply),
            },
            other => reject(
                tid,
                MSG_UNKNOWN_ACTION,
                Rejection::UnknownAction(other),
                bytes.len(),
                reply,
            ),
        }
    }

    fn decode_announce<'a>(&self, bytes: &'a [u8]) -> Result<AnnounceRequest<'a>, DecodeError> {
        match AnnounceRequest::decode_with(bytes, self.config.tail_grammar) {
            // The fixed 98 bytes are fine; only the tail is not in the expected grammar.
            Err(e) if !self.config.strict_tails && e.offset() >= ANNOUNCE_REQUEST_LEN => {
                AnnounceRequest::decode_with(bytes, TailGrammar::Raw)
            }
            other => other,
        }
    }

    fn connect<'a>(
        &self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
        reply: &mut [u8],
    ) -> ServerAction<'a> {
        let request = match ConnectRequest::decode(bytes) {
            Ok(r) => r,
            Err(e) => return ServerAction::Dropped(Dropped::Malformed(e)),
        };
        let response = ConnectResponse {
            transaction_id: request.transaction_id,
            connection_id: self.ids.issue(now, from),
        };
        match response.encode(reply) {
            Ok(len) => ServerAction::Connected { len },
            Err(e) => ServerAction::Dropped(Dropped::ReplyBuffer(e)),
        }
    }
}

/// The error reply to an authenticated request that does not decode.
fn malformed<'a>(
    transaction_id: TransactionId,
    e: DecodeError,
    request_len: usize,
    reply: &mut [u8],
) -> ServerAction<'a> {
    reject(
        transaction_id,
        MSG_MALFORMED,
        Rejection::Malformed(e),
        request_len,
        reply,
    )
}

/// Writes an error reply, unless it would be longer than the datagram it answers.
fn reject<'a>(
    transaction_id: TransactionId,
    message: &[u8],
    reason: Rejection,
    request_len: usize,
    reply: &mut [u8],
) -> ServerAction<'a> {
    let response = ErrorResponse {
        transaction_id,
        message,
    };
    if response.encoded_len() > request_len {
        return ServerAction::Dropped(Dropped::Oversized(reason));
    }
    match response.encode(reply) {
        Ok(len) => ServerAction::Rejected { len, reason },
        Err(e) => ServerAction::Dropped(Dropped::ReplyBuffer(e)),
    }
}

/// An authenticated announce, for the application to answer from its swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingAnnounce<'a> {
    /// Who sent it (IPv4-mapped addresses already turned into IPv4).
    pub from: SocketAddr,
    /// The request.
    pub request: AnnounceRequest<'a>,
    peer_limit: usize,
}

impl IncomingAnnounce<'_> {
    /// The requester's address family: the only family of peers it can be sent.
    #[inline]
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(self.from)
    }

    /// How many peers the reply may carry: `num_want` (or the default for a negative
    /// one), capped by the configured maximum and by what fits one datagram.
    pub fn peer_limit(&self) -> usize {
        self.peer_limit
    }

    /// Writes the announce reply with up to [`peer_limit`](Self::peer_limit) of `peers`
    /// and returns its length. Peers of the other address family are skipped (IPv4 and
    /// IPv6 swarms never mix in one reply), so a swarm can be passed as it is; leave the
    /// requester itself out.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `reply` cannot hold the header and `peer_limit` peers; `reply`
    /// is untouched.
    pub fn respond<I>(
        &self,
        interval: u32,
        leechers: u32,
        seeders: u32,
        peers: I,
        reply: &mut [u8],
    ) -> Result<usize, EncodeError>
    where
        I: IntoIterator<Item = SocketAddr>,
    {
        let response = self.header(interval, leechers, seeders);
        // The family filter runs inside the writer's loop (a `filter_map` would nest a
        // search loop in it), and matches the address in place rather than through an
        // `Option` the optimiser packs into a register.
        match self.family() {
            AddressFamily::Ipv4 => response.encode_picked(
                peers,
                |rec, p| match p {
                    SocketAddr::V4(v4) => {
                        put_v4(rec, v4);
                        true
                    }
                    SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
                        Some(ip) => {
                            put_v4(rec, SocketAddrV4::new(ip, v6.port()));
                            true
                        }
                        None => false,
                    },
                },
                self.peer_limit,
                reply,
            ),
            AddressFamily::Ipv6 => response.encode_picked(
                peers,
                |rec, p| match p {
                    SocketAddr::V6(v6) if v6.ip().to_ipv4_mapped().is_none() => {
                        put_v6(rec, v6);
                        true
                    }
                    _ => false,
                },
                self.peer_limit,
                reply,
            ),
        }
    }

    /// Writes the announce reply from peers already in compact form for the requester's
    /// family (a tracker that stores them that way), keeping the first
    /// [`peer_limit`](Self::peer_limit), and returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `reply` is too small for the reply; `reply` is untouched.
    pub fn respond_compact(
        &self,
        interval: u32,
        leechers: u32,
        seeders: u32,
        peers: Peers<'_>,
        reply: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let header = self.header(interval, leechers, seeders);
        // A list of the other family is sent as an empty list rather than misread.
        let peers = if peers.family() == self.family() {
            peers.first(self.peer_limit)
        } else {
            header.peers
        };
        AnnounceResponse { peers, ..header }.encode(reply)
    }

    #[inline]
    fn header(&self, interval: u32, leechers: u32, seeders: u32) -> AnnounceResponse<'static> {
        AnnounceResponse {
            transaction_id: self.request.transaction_id,
            interval,
            leechers,
            seeders,
            peers: Peers::empty(self.family()),
        }
    }

    /// Writes an error reply with `message` and the request's transaction id.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `reply` is too small; `reply` is untouched.
    pub fn reject(&self, message: &[u8], reply: &mut [u8]) -> Result<usize, EncodeError> {
        error_reply(self.request.transaction_id, message, reply)
    }
}

fn error_reply(tid: TransactionId, message: &[u8], reply: &mut [u8]) -> Result<usize, EncodeError> {
    ErrorResponse {
        transaction_id: tid,
        message,
    }
    .encode(reply)
}

/// An authenticated scrape, for the application to answer from its swarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingScrape<'a> {
    /// Who sent it (IPv4-mapped addresses already turned into IPv4).
    pub from: SocketAddr,
    /// The request.
    pub request: ScrapeRequest<'a>,
    row_limit: usize,
}

impl IncomingScrape<'_> {
    /// How many rows the reply may carry: the configured maximum, capped by what fits
    /// one datagram. Hashes past it get no row (clients map rows by position).
    pub fn row_limit(&self) -> usize {
        self.row_limit
    }

    /// Writes the scrape reply, asking `lookup` for the row of each requested hash in
    /// order (unknown torrents are all zeros), and returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `reply` cannot hold the rows; `reply` is untouched.
    pub fn respond<F>(&self, lookup: F, reply: &mut [u8]) -> Result<usize, EncodeError>
    where
        F: FnMut(InfoHash) -> ScrapeRow,
    {
        let n = self.request.info_hashes.len().min(self.row_limit);
        ScrapeResponse::encode_with_rows(
            self.request.transaction_id,
            self.request.info_hashes.iter().map(lookup),
            n,
            reply,
        )
    }

    /// Writes an error reply with `message` and the request's transaction id.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `reply` is too small; `reply` is untouched.
    pub fn reject(&self, message: &[u8], reply: &mut [u8]) -> Result<usize, EncodeError> {
        error_reply(self.request.transaction_id, message, reply)
    }
}
