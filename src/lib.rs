//! # trackwire
//!
//! Sans-IO, `no_std`, allocation-free codecs for two BitTorrent-adjacent protocols:
//!
//! * the **UDP tracker protocol** ([`udp`]): BEP 15 connect, announce, scrape and error
//!   messages in both directions, IPv4 and IPv6 peer lists, BEP 41 announce options and the
//!   older `extensions` bitmask (authentication, request string);
//! * **CTCS** ([`ctcs`]): the line protocol between the Enhanced CTorrent client and the
//!   CTorrent Control Server, protocol versions 1–3.
//!
//! ## What it is and is not
//!
//! trackwire turns bytes into typed messages and back. It performs **no I/O**, **never
//! reads a clock** (time is passed in as [`time::Instant`]) and **never allocates**:
//! decoders borrow the input and validate it once, so iterating a peer list or a scrape
//! list cannot fail; encoders write into a caller buffer and leave it untouched when it is
//! too small ([`EncodeError`] says how many bytes are required). Bad input never panics:
//! it yields a [`DecodeError`] that says what is wrong and at which byte offset.
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`udp`] | the UDP tracker codec, [`udp::Client`] and [`udp::Server`] |
//! | [`ctcs`] | the CTCS codec, [`ctcs::ClientSession`] (the ctorrent role) and [`ctcs::ServerSession`] (the CTCS role) |
//! | [`hash`] | SHA-1 and SipHash-2-4, built in |
//! | [`time`] | [`Instant`], time as data |
//! | [`error`] | [`DecodeError`], [`EncodeError`], [`UsageError`] |
//!
//! ## The run loop
//!
//! All four state machines have the same shape (quinn-proto's): inputs `handle_*`,
//! commands, outputs `poll_*`, getters. A driver — a std thread, a tokio task, an
//! embedded main loop — does this:
//!
//! 1. Build the machine with its configuration and, for the UDP client, a random seed
//!    from a real entropy source (for the UDP server, a random secret).
//! 2. Issue commands when the application wants something (announce, scrape, request
//!    status, set a limit, …). They only queue work.
//! 3. Drain the outputs, in this order: `poll_transmit` until it returns nothing, sending
//!    each datagram or line; `poll_timeout` for the next deadline; `poll_event` until it
//!    returns nothing.
//! 4. Wait for input or the deadline, whichever comes first.
//! 5. On input call `handle_datagram` (UDP) or `handle_input` (CTCS); on the deadline
//!    call `handle_timeout` (early or repeated calls do nothing).
//! 6. Go to 3.
//!
//! Each machine's module documents its states and events; `examples/demo.rs` drives all
//! four.
//!
//! ## Crate features
//!
//! | feature | adds |
//! |---|---|
//! | *(none, default)* | everything in the protocol modules; `#![no_std]`, no allocator needed |
//! | `alloc` | conveniences that return owned copies |
//! | `std` | `alloc`, plus [`time::StdClock`], a bridge from `std::time::Instant` |
//! | `heapless` | owned fixed-capacity copies of borrowed views (`heapless::Vec`) |
//!
//! ## MSRV
//!
//! Rust 1.81 (for `core::error::Error`). Raising it is a minor-version change. The
//! optional `heapless` dependency has its own MSRV.
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
pub mod error;
pub mod hash;
pub mod time;
pub mod udp;
pub(crate) mod wire;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, UsageError, UsageErrorKind};

// The README's examples run as doctests without becoming the crate docs.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use time::Instant;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use time::StdClock;
