//! Thin tokio drivers over trackwire's sans-IO state machines — one engine per role, these
//! are only loops: sockets and timers here, every protocol decision in `trackwire`.
//!
//! * [`announce::announce_tiers`]: one torrent announced to many UDP trackers in BEP 12
//!   tiers, over IPv4 and IPv6, each result reported as it arrives.
//! * [`tracker::serve`]: a UDP tracker over [`trackwire::udp::Server`].
//! * [`ctcs_server::serve`]: a CTCS server, one [`trackwire::ctcs::ServerSession`] per
//!   connection.

pub mod announce;
pub mod ctcs_server;
pub mod tracker;
