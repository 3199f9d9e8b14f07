//! The BitTorrent UDP tracker protocol: BEP 15
//! (<https://www.bittorrent.org/beps/bep_0015.html>), BEP 41
//! (<https://www.bittorrent.org/beps/bep_0041.html>) and the legacy `extensions` field of
//! libtorrent's UDP tracker page (<https://www.libtorrent.org/udp_tracker_protocol.html>).
//!
//! Every item lives directly in this module, one path each.
//!
//! | role | items |
//! |---|---|
//! | client → tracker messages | [`ConnectRequest`], [`AnnounceRequest`], [`ScrapeRequest`]; [`Request`] dispatches |
//! | tracker → client messages | [`ConnectResponse`], [`AnnounceResponse`], [`ScrapeResponse`], [`ErrorResponse`]; [`Response`] dispatches |
//! | announce tail | BEP 41 [`Options`] or legacy [`Extensions`], chosen by [`TailGrammar`] |
//! | client state machine | [`Client`]: one tracker endpoint, N exchanges sharing a connection id, retries; configured by [`ClientConfig`] |
//! | tracker triage | [`Server`]: a stateless `&self` triage of datagrams with connection-id cookies ([`SipCookies`]); configured by [`ServerConfig`] |
//! | sizes | [`payload_budget`], [`max_scrape_hashes`], [`max_peers`], the `*_LEN` constants |
//!
//! Decoding is O(1) validation plus lazy iteration: peer lists, info-hash lists and
//! scrape rows stay in the datagram and are read as they are iterated. Responses need the
//! address family of the socket ([`AddressFamily`]) to know the peer format.
//!
//! ```
//! use trackwire::udp::{AddressFamily, Response};
//!
//! // An announce reply from opentracker with one IPv4 peer.
//! let datagram = [
//!     0, 0, 0, 1, 0x11, 0x11, 0, 1, // action 1, transaction id
//!     0, 0, 7, 0x6c, 0, 0, 0, 1, 0, 0, 0, 0, // interval 1900, leechers 1, seeders 0
//!     127, 0, 0, 1, 0x1a, 0xe1, // 127.0.0.1:6881
//! ];
//! let Response::Announce(a) = Response::decode(&datagram, AddressFamily::Ipv4)? else {
//!     panic!("not an announce");
//! };
//! assert_eq!(a.interval, 1900);
//! let peer = a.peers.iter().next().unwrap();
//! assert_eq!(peer.to_string(), "127.0.0.1:6881");
//! # Ok::<(), trackwire::DecodeError>(())
//! ```

// The implementation modules are private: everything a user names is re-exported below,
// so each public item has exactly one path (`trackwire::udp::Item`).
mod client;
mod cookie;
mod legacy;
mod limits;
mod options;
mod request;
mod response;
mod server;
mod types;
mod url;

pub use client::{
    AnnounceParams, Client, ClientConfig, ClientEvent, ConnectionState, ExchangeId, ExchangeIds,
    ExchangeKind, ExchangePhase, ExchangeStatus, Received, Rejected, RetryPolicy, ScrapeReply,
    TailConfig, Transmit, MAX_SCRAPE_HASHES, MAX_URL_DATA_LEN,
};
pub use cookie::{ConnectionIdScheme, SipCookies, MAX_CONNECTION_AGE, MIN_CONNECTION_AGE};
pub use legacy::{
    passwd_hash, password_digest, verify_datagram, Authentication, Extensions, PasswdHash,
    ShortBytes, EXT_AUTHENTICATION, EXT_REQUEST_STRING, PASSWD_HASH_LEN,
};
pub use limits::{
    max_peers, max_scrape_hashes, max_scrape_rows, payload_budget, BEP15_MAX_SCRAPE_HASHES,
    IPV4_HEADER_LEN, IPV6_HEADER_LEN, MAX_UDP_PAYLOAD, MTU_ETHERNET, MTU_IPV6_MIN,
    OPENTRACKER_REPLY_BUDGET, UDP_HEADER_LEN,
};
pub use options::{
    encode_url_data, url_data_encoded_len, AnnounceOption, Options, OptionsIter, END_OF_OPTIONS,
    MAX_OPTION_DATA, NOP, URL_DATA,
};
pub use request::{
    AnnounceRequest, AnnounceTail, ConnectRequest, InfoHashBytes, InfoHashIter, InfoHashes,
    Request, RequestHeader, ScrapeRequest, TailGrammar, ANNOUNCE_REQUEST_LEN, CONNECT_REQUEST_LEN,
    INFO_HASH_LEN, PROTOCOL_ID, SCRAPE_REQUEST_HEADER_LEN,
};
pub use response::{
    AnnounceResponse, CompactPeer, ConnectResponse, ErrorResponse, PeerIter, Peers, Response,
    ScrapeResponse, ScrapeRow, ScrapeRowIter, ScrapeRows, ANNOUNCE_RESPONSE_HEADER_LEN,
    CONNECT_RESPONSE_LEN, ERROR_RESPONSE_HEADER_LEN, PEER_V4_LEN, PEER_V6_LEN,
    SCRAPE_RESPONSE_HEADER_LEN, SCRAPE_ROW_LEN,
};
pub use server::{
    Dropped, IncomingAnnounce, IncomingScrape, Rejection, Server, ServerAction, ServerConfig,
    MSG_BAD_CONNECTION_ID, MSG_MALFORMED, MSG_UNKNOWN_ACTION,
};
pub use types::{
    announce_ip, canonical_addr, effective_num_want, Action, AddressFamily, AnnounceEvent,
    ConnectionId, InfoHash, PeerId, TransactionId,
};
pub use url::{TrackerHost, TrackerUrl, TrackerUrlError, TrackerUrlErrorKind};
