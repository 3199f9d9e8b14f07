//! The operator's hooks into the triage. The trait users implement is [`ServerHooks`].

use core::net::{IpAddr, SocketAddr};

use crate::time::Instant;
use crate::udp::request::AnnounceRequest;
use crate::udp::types::InfoHash;

#[cfg(target_has_atomic = "64")]
use crate::udp::server::counters::Counters;

/// What a tracker operator plugs into [`Server`](crate::udp::Server)'s triage: an
/// access list, an authorisation check, a rate limit and counters.
///
/// Every method has a default that changes nothing (serve every hash, authorise every
/// announce, admit every datagram, count nothing), so an implementation overrides only
/// what it uses; [`NoHooks`] overrides nothing. The server is generic over its hooks, so
/// the defaults compile to nothing. The methods take `&self` and are called from every
/// thread that shares the server: state that changes (a reloaded list, buckets,
/// counters) lives behind atomics or locks inside the implementation.
///
/// The order, for each datagram ([`Server::handle_datagram`](crate::udp::Server::handle_datagram)):
///
/// 1. [`admit`](ServerHooks::admit) the source, before anything else is read: a refused
///    datagram is [`Dropped::RateLimited`](crate::udp::Dropped::RateLimited);
/// 2. the connection id is checked; then, for an announce:
/// 3. [`allows`](ServerHooks::allows) its info hash, or the error reply
///    [`MSG_NOT_ALLOWED`](crate::udp::MSG_NOT_ALLOWED);
/// 4. [`authorize`](ServerHooks::authorize) its BEP 41 URLData, or the error reply
///    [`MSG_UNAUTHORIZED`](crate::udp::MSG_UNAUTHORIZED) (and, in
///    [private mode](crate::udp::ServerConfig::private), an announce without URLData gets
///    [`MSG_URL_DATA_REQUIRED`](crate::udp::MSG_URL_DATA_REQUIRED) without a call);
/// 5. every datagram and decision is recorded in [`counters`](ServerHooks::counters).
///
/// A std tracker shares one `Server<SipCookies, MyHooks>` between its workers (in an
/// `Arc`, or by reference from scoped threads):
///
/// ```
/// use core::net::{IpAddr, SocketAddr};
/// use std::collections::HashSet;
/// use std::sync::atomic::AtomicU64;
/// use std::sync::RwLock;
/// use trackwire::udp::{
///     AnnounceRequest, Counters, InfoHash, RateLimitConfig, RateLimiter, Server, ServerConfig,
///     ServerHooks,
/// };
/// use trackwire::Instant;
///
/// struct Tracker {
///     allowed: RwLock<HashSet<InfoHash>>, // replaced on SIGHUP
///     passkeys: RwLock<HashSet<Vec<u8>>>,
///     limiter: RateLimiter<Box<[AtomicU64]>>,
///     counters: Counters,
/// }
///
/// impl ServerHooks for Tracker {
///     fn allows(&self, info_hash: &InfoHash) -> bool {
///         self.allowed.read().is_ok_and(|set| set.contains(info_hash))
///     }
///     fn authorize(&self, _from: SocketAddr, _announce: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
///         // A passkey in the path: "/announce/KEY".
///         let key = url_data.strip_prefix(b"/announce/").unwrap_or(b"");
///         self.passkeys.read().is_ok_and(|keys| keys.contains(key))
///     }
///     fn admit(&self, now: Instant, source: IpAddr) -> bool {
///         self.limiter.admit(now, source)
///     }
///     fn counters(&self) -> Option<&Counters> {
///         Some(&self.counters)
///     }
/// }
///
/// let slots: Box<[AtomicU64]> = (0..4096).map(|_| AtomicU64::new(0)).collect();
/// let hooks = Tracker {
///     allowed: RwLock::new(HashSet::from([InfoHash([1; 20])])),
///     passkeys: RwLock::new(HashSet::from([b"s3cret".to_vec()])),
///     limiter: RateLimiter::new(RateLimitConfig::new(50, 100), [4; 16], slots)?,
///     counters: Counters::new(),
/// };
/// let server = Server::new(ServerConfig::new().with_private(true), [7; 16]).with_hooks(hooks);
/// assert_eq!(server.hooks().counters.snapshot().requests().total(), 0);
/// # Ok::<(), trackwire::UsageError>(())
/// ```
pub trait ServerHooks {
    /// Whether announces for `info_hash` are served (see
    /// [`AccessList`](crate::udp::AccessList) for what a denied hash gets). Called once
    /// per authenticated announce, and once per scraped hash by
    /// [`Server::respond_scrape`](crate::udp::Server::respond_scrape). Default: every hash.
    #[inline]
    fn allows(&self, _info_hash: &InfoHash) -> bool {
        true
    }

    /// Whether an authenticated, allowed announce from `from` is authorised by its
    /// `url_data`: the BEP 41 URLData options joined in order (the path and query of
    /// the tracker URL the client was given, such as `/announce/KEY` or
    /// `/announce?sig=…`), or the legacy request string under
    /// [`TailGrammar::Legacy`](crate::udp::TailGrammar::Legacy).
    ///
    /// Called only for announces that carry URLData (an empty URLData, `02 00`, is
    /// URLData of length 0). Announces without it are authorised in public mode and
    /// refused in [private mode](crate::udp::ServerConfig::private) without a call.
    /// URLData longer than [`MAX_JOINED_URL_DATA`](crate::udp::MAX_JOINED_URL_DATA) is
    /// refused without a call. Default: authorised.
    #[inline]
    fn authorize(
        &self,
        _from: SocketAddr,
        _announce: &AnnounceRequest<'_>,
        _url_data: &[u8],
    ) -> bool {
        true
    }

    /// Whether a datagram from `source` at `now` is admitted; called first, for every
    /// datagram. [`RateLimiter::admit`](crate::udp::RateLimiter::admit) is the built-in
    /// answer. IPv4-mapped sources arrive as IPv4. Default: every datagram.
    #[inline]
    fn admit(&self, _now: Instant, _source: IpAddr) -> bool {
        true
    }

    /// The counters the triage records every datagram in (see
    /// [`Counters`](crate::udp::Counters)). Default: none. Only on targets with 64-bit
    /// atomics.
    #[cfg(target_has_atomic = "64")]
    #[inline]
    fn counters(&self) -> Option<&Counters> {
        None
    }
}

/// No hooks: an open tracker with no limits and no counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoHooks;

impl ServerHooks for NoHooks {}

impl<H: ServerHooks + ?Sized> ServerHooks for &H {
    #[inline]
    fn allows(&self, info_hash: &InfoHash) -> bool {
        (**self).allows(info_hash)
    }
    #[inline]
    fn authorize(&self, from: SocketAddr, announce: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        (**self).authorize(from, announce, url_data)
    }
    #[inline]
    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        (**self).admit(now, source)
    }
    #[cfg(target_has_atomic = "64")]
    #[inline]
    fn counters(&self) -> Option<&Counters> {
        (**self).counters()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<H: ServerHooks + ?Sized> ServerHooks for alloc::sync::Arc<H> {
    #[inline]
    fn allows(&self, info_hash: &InfoHash) -> bool {
        (**self).allows(info_hash)
    }
    #[inline]
    fn authorize(&self, from: SocketAddr, announce: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        (**self).authorize(from, announce, url_data)
    }
    #[inline]
    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        (**self).admit(now, source)
    }
    #[cfg(target_has_atomic = "64")]
    #[inline]
    fn counters(&self) -> Option<&Counters> {
        (**self).counters()
    }
}
