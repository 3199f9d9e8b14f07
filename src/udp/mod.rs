//! The BitTorrent UDP tracker protocol: BEP 15, BEP 41 and the legacy `extensions` field.
//!
//! Every message has a typed form with `decode` and `encode`:
//!
//! | direction | message | module |
//! |---|---|---|
//! | client → tracker | [`ConnectRequest`], [`AnnounceRequest`], [`ScrapeRequest`]; [`Request`] dispatches | [`request`] |
//! | tracker → client | [`ConnectResponse`], [`AnnounceResponse`], [`ScrapeResponse`], [`ErrorResponse`]; [`Response`] dispatches | [`response`] |
//! | announce tail | BEP 41 [`Options`] or legacy [`Extensions`], chosen by [`TailGrammar`] | [`options`], [`legacy`] |
//! | state machine | [`Client`]: one tracker endpoint, N exchanges sharing a connection id, retries | [`client`] |
//!
//! The tracker side is [`Server`], a stateless triage of datagrams with connection-id
//! cookies ([`cookie`]).
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

pub mod client;
pub mod cookie;
mod layout;
pub mod legacy;
pub mod limits;
pub mod options;
mod records;
pub mod request;
pub mod response;
pub mod server;
pub mod types;

pub use client::{
    AnnounceParams, Client, ClientConfig, ClientEvent, ExchangeId, Received, Rejected, RetryPolicy,
    Transmit,
};
pub use cookie::{ConnectionIdScheme, SipCookies};
pub use legacy::{password_digest, Authentication, Extensions, PasswdHash, ShortBytes};
pub use options::{AnnounceOption, Options};
pub use records::{Record, RecordIter, RecordList};
pub use request::{
    AnnounceRequest, AnnounceTail, ConnectRequest, InfoHashes, Request, RequestHeader,
    ScrapeRequest, TailGrammar, PROTOCOL_ID,
};
pub use response::{
    AnnounceResponse, CompactPeer, ConnectResponse, ErrorResponse, Peers, Response, ScrapeResponse,
    ScrapeRow, ScrapeRows,
};
pub use server::{
    Dropped, IncomingAnnounce, IncomingScrape, Rejection, Server, ServerAction, ServerConfig,
};
pub use types::{
    announce_ip, canonical_addr, effective_num_want, Action, AddressFamily, AnnounceEvent,
    ConnectionId, InfoHash, PeerId, TransactionId,
};
