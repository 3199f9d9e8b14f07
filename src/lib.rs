//! # trackwire
//!
//! Sans-IO, `no_std`, allocation-free codecs and state machines for two
//! BitTorrent-adjacent protocols:
//!
//! * the **UDP tracker protocol** ([`udp`]): [BEP 15] connect, announce, scrape and error
//!   messages in both directions, IPv4 and IPv6 peer lists, [BEP 41] announce options and
//!   the older `extensions` bitmask (authentication, request string) described on
//!   [libtorrent's UDP tracker page][libtorrent-udp];
//! * **CTCS** ([`ctcs`]): the line protocol between the Enhanced CTorrent client and the
//!   [CTorrent Control Server][ctcs], protocol versions 1–3, byte-exact with the real
//!   client as measured from dnh3.3.2 (Debian's `ctorrent`).
//!
//! ## What it is and is not
//!
//! trackwire turns bytes into typed messages and back, and runs both roles of each
//! protocol as state machines. It performs **no I/O**, **never reads a clock** (time is
//! passed in as an [`Instant`]) and **never allocates**: decoders borrow the input and
//! validate it once, so iterating a peer list or a scrape list cannot fail; encoders
//! write into a caller buffer and leave it untouched when it is too small
//! ([`EncodeError`] says how many bytes are required). Bad input never panics: it yields
//! a [`DecodeError`] that says what is wrong ([`DecodeErrorKind`]) and at which byte
//! offset. A call the protocol does not allow at that moment is a [`UsageError`] naming
//! the argument at fault.
//!
//! ## The machines
//!
//! | machine | role | fed with |
//! |---|---|---|
//! | [`udp::Client`] | a client's side of one UDP tracker: announce, scrape, retry | datagrams |
//! | [`ctcs::ClientSession`] | the ctorrent side of one CTCS connection | bytes from TCP |
//! | [`ctcs::ServerSession`] | the control server's side of one connection | bytes from TCP |
//! | [`udp::Server`] | a tracker's stateless triage of datagrams (see below) | datagrams |
//!
//! ### One contract for the three stateful machines
//!
//! `udp::Client`, `ctcs::ClientSession` and `ctcs::ServerSession` have the same shape,
//! the one quinn-proto gives its `Connection`:
//!
//! * **Inputs.** `handle_datagram(now, from, bytes)` (UDP) or `handle_input(bytes)`
//!   (CTCS) for what arrived; `handle_timeout(now)` when a deadline passes. Calling
//!   `handle_timeout` early, or twice, does nothing. A CTCS session absorbs every byte it
//!   is given into a bounded buffer it owns, so a driver keeps no second buffer; a full
//!   buffer is a typed error that loses nothing already accepted.
//! * **Commands** (announce, scrape, request a status, set a limit, …) only queue work.
//! * **Outputs.** `poll_transmit(…, buf)` writes exactly **one unit** per call — one
//!   datagram (UDP) or one whole line with its LF (CTCS) — and returns `Ok(None)` when
//!   nothing is queued. Each machine's associated constant `MAX_TRANSMIT_LEN` is a buffer
//!   size that always suffices. `poll_timeout()` gives the next deadline, `poll_event()`
//!   the next event.
//! * **Time** is an argument, and only where it matters: a method takes `now` when the
//!   machine records or compares time with it, and no other method does.
//! * **Configuration and construction.** Each machine has a config type with
//!   `new(required…)`, chainable `with_*` setters and public fields, and `Default` where
//!   every field has one. `Machine::new(config, …)` takes the config first, then what has
//!   no default (the UDP client's random seed, the CTCS server session's `now`); a
//!   configuration it cannot honour is a [`UsageError`]. Capacities are const generics
//!   with defaults, so `Machine::new` needs no type annotation;
//!   `Machine::<A, B>::new_sized(config, …)` builds any other capacity.
//!
//! ### One channel per kind of outcome
//!
//! Every outcome is reported exactly once, on one channel, so a driver needs no
//! deduplication:
//!
//! * **UDP client.** What a datagram causes is the **return value of
//!   `handle_datagram`**: the announce reply it completed, the connect it refused, the
//!   foreign datagram it rejected. What time causes (an exchange that gave up) is a
//!   **`poll_event` event**.
//! * **CTCS sessions.** `handle_input` only absorbs bytes into the session's own buffer
//!   (h11's model); the lines are decoded and acted on as their **`poll_event` events**
//!   are polled, and so are the timers' events. A line's events therefore come out in
//!   stream order with nothing buffered twice.
//!
//! Both channels **borrow instead of copying**: an announce reply's peer list is read
//! lazily from the very datagram the caller passed in, and a CTCS event's file name is
//! read from the session's input buffer, so nothing is copied between the socket buffer
//! and the application. Results that must not be dropped unread are `#[must_use]`.
//!
//! ### A driver's loop
//!
//! A driver — a std thread, a tokio task, an embedded main loop — does this:
//!
//! 1. Build the machine from its config. The UDP client needs a seed from a real entropy
//!    source: transaction ids are BEP 15's only defence against spoofed replies. On std,
//!    read every `now` from one `StdClock` (feature `std`).
//! 2. Issue commands when the application wants something.
//! 3. Drain: `poll_event` until `None` (acting on a CTCS line can queue a reply), then
//!    `poll_transmit` until `Ok(None)`, sending each unit, then `poll_timeout` for the
//!    next deadline.
//! 4. Wait for input or the deadline, whichever comes first.
//! 5. On input, call `handle_datagram` or `handle_input` and act on what it returns; on
//!    the deadline, call `handle_timeout`.
//! 6. Go to 3.
//!
//! Each machine's documentation shows its states, events and a complete loop;
//! `examples/demo.rs` in the repository drives all four machines on loopback.
//!
//! ### `udp::Server` is a triage, not a fourth machine
//!
//! A tracker answers many thousands of clients and must not hold state per client, so
//! [`udp::Server`] has no `poll_*` methods, no timers and no queue. Like quinn-proto's
//! `Endpoint::handle`, its [`handle_datagram`](udp::Server::handle_datagram) takes
//! `&self`, looks at one datagram and returns what to do with it
//! ([`udp::ServerAction`]): a connect reply already written into the caller's buffer, an
//! announce or scrape for the application to answer from its own swarm store, an error
//! reply, or a drop. Connection ids are stateless cookies (SipHash-2-4 over the peer
//! address and a coarse timestamp, keyed by the random secret given to
//! `Server::new(config, secret)`), so one `Server` can be shared by any number of
//! threads. It never answers a datagram with more bytes than it carried.
//!
//! ## The crate root
//!
//! | item | what |
//! |---|---|
//! | [`udp`] | the UDP tracker codec and machines; every item at one flat path, `udp::X` |
//! | [`ctcs`] | the CTCS codec and sessions; every item at one flat path, `ctcs::X` |
//! | [`Instant`] | time as data: milliseconds since an origin the caller chooses |
//! | `StdClock` | (`std`) reads `std::time::Instant` as [`Instant`] and back |
//! | [`DecodeError`], [`DecodeErrorKind`] | bad input: what and at which byte offset |
//! | [`EncodeError`] | a buffer too small, and how many bytes were required |
//! | [`UsageError`], [`UsageErrorKind`] | a call the protocol does not allow, and which argument |
//!
//! ## Crate features
//!
//! | feature | adds |
//! |---|---|
//! | *(none, default)* | everything above; `#![no_std]`, no allocator, no dependency |
//! | `alloc` | encoders that append to a `Vec<u8>` without zero-filling it first |
//! | `std` | `alloc`, plus `StdClock`: `std::time::Instant` to [`Instant`] and back, for drivers |
//! | `heapless` | owned fixed-capacity copies (`heapless::Vec`) of borrowed views |
//!
//! ## MSRV
//!
//! Rust 1.81 (for `core::error::Error`). Raising it is a minor-version change. The
//! optional `heapless` dependency has its own MSRV.
//!
//! [BEP 15]: https://www.bittorrent.org/beps/bep_0015.html
//! [BEP 41]: https://www.bittorrent.org/beps/bep_0041.html
//! [libtorrent-udp]: https://www.libtorrent.org/udp_tracker_protocol.html
//! [ctcs]: http://www.rahul.net/dholmes/ctorrent/ctcs.html
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Input must never be able to panic the decoder: no indexing, no unwrap, no overflow.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

// Explicit, so that std use cannot creep into the library unnoticed.
#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod ctcs;
mod error;
pub(crate) mod hash;
mod time;
pub mod udp;
pub(crate) mod wire;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, UsageError, UsageErrorKind};
pub use time::Instant;
#[cfg(feature = "std")]
pub use time::StdClock;

// The README's examples run as doctests without becoming the crate docs.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
