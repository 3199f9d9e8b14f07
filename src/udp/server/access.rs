//! Which torrents a tracker serves: allow-lists and deny-lists of info hashes behind a
//! caller's lookup. The trait users implement is [`AccessList`].

use crate::udp::types::InfoHash;

/// Which info hashes a tracker serves.
///
/// [`Server`](crate::udp::Server) asks it about the info hash of every authenticated
/// announce (through [`ServerHooks::allows`](crate::udp::ServerHooks::allows)): a denied
/// announce gets the error reply [`MSG_NOT_ALLOWED`](crate::udp::MSG_NOT_ALLOWED),
/// aquatic's "Info hash not allowed". A scrape is never refused for its hashes; a denied
/// hash gets an all-zero row in its place (rows are matched to hashes by position), as
/// opentracker and aquatic answer, whose swarm stores never hold a denied torrent —
/// [`Server::respond_scrape`](crate::udp::Server::respond_scrape) does this without
/// asking the swarm store.
///
/// Implemented for closures `Fn(&InfoHash) -> bool`, for [`AllowAll`], and for
/// [`Listed`] (an allow-list or a deny-list over any [`InfoHashSet`]). A tracker that
/// reloads its list (SIGHUP) implements it on its own type, reading the current list
/// behind an `RwLock` or an atomically swapped `Arc`.
pub trait AccessList {
    /// Whether announces for `info_hash` are served.
    fn allows(&self, info_hash: &InfoHash) -> bool;
}

impl<F: Fn(&InfoHash) -> bool> AccessList for F {
    #[inline]
    fn allows(&self, info_hash: &InfoHash) -> bool {
        self(info_hash)
    }
}

/// Serves every torrent: an open tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllowAll;

impl AccessList for AllowAll {
    #[inline]
    fn allows(&self, _info_hash: &InfoHash) -> bool {
        true
    }
}

/// A set of info hashes an access list looks hashes up in.
///
/// Implemented for closures `Fn(&InfoHash) -> bool`, for sorted slices through
/// [`SortedHashes`], and (feature `std`) for `HashSet<InfoHash>` and (feature `alloc`)
/// `BTreeSet<InfoHash>`.
pub trait InfoHashSet {
    /// Whether `info_hash` is in the set.
    fn contains(&self, info_hash: &InfoHash) -> bool;
}

impl<F: Fn(&InfoHash) -> bool> InfoHashSet for F {
    #[inline]
    fn contains(&self, info_hash: &InfoHash) -> bool {
        self(info_hash)
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<S: core::hash::BuildHasher> InfoHashSet for std::collections::HashSet<InfoHash, S> {
    #[inline]
    fn contains(&self, info_hash: &InfoHash) -> bool {
        std::collections::HashSet::contains(self, info_hash)
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl InfoHashSet for alloc::collections::BTreeSet<InfoHash> {
    #[inline]
    fn contains(&self, info_hash: &InfoHash) -> bool {
        alloc::collections::BTreeSet::contains(self, info_hash)
    }
}

/// A sorted slice of info hashes, searched by bisection: a set with no allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortedHashes<'a>(&'a [InfoHash]);

impl<'a> SortedHashes<'a> {
    /// The set of `hashes`, which must be sorted ascending (duplicates are fine); `None`
    /// if they are not, since bisection would then miss hashes that are there.
    pub fn new(hashes: &'a [InfoHash]) -> Option<Self> {
        hashes
            .windows(2)
            .all(|w| matches!(w, [a, b] if a <= b))
            .then_some(SortedHashes(hashes))
    }

    /// The hashes.
    pub fn as_slice(&self) -> &'a [InfoHash] {
        self.0
    }
}

impl InfoHashSet for SortedHashes<'_> {
    #[inline]
    fn contains(&self, info_hash: &InfoHash) -> bool {
        self.0.binary_search(info_hash).is_ok()
    }
}

/// Whether a [`Listed`] access list names the torrents served or the torrents refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListMode {
    /// Serve only the listed hashes (opentracker's whitelist, aquatic's `allow` mode).
    Allow,
    /// Serve every hash but the listed ones (a blacklist, aquatic's `deny` mode).
    Deny,
}

/// An allow-list or a deny-list over a set of hashes, with the mode chosen at run time.
///
/// ```
/// use trackwire::udp::{AccessList, InfoHash, ListMode, Listed, SortedHashes};
///
/// let hashes = [InfoHash([1; 20]), InfoHash([2; 20])];
/// let set = SortedHashes::new(&hashes).unwrap();
/// let allow = Listed::new(ListMode::Allow, set);
/// assert!(allow.allows(&InfoHash([1; 20])) && !allow.allows(&InfoHash([3; 20])));
/// let deny = Listed::new(ListMode::Deny, set);
/// assert!(!deny.allows(&InfoHash([1; 20])) && deny.allows(&InfoHash([3; 20])));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed<L> {
    /// Allow-list or deny-list.
    pub mode: ListMode,
    /// The hashes listed.
    pub list: L,
}

impl<L: InfoHashSet> Listed<L> {
    /// `list` read in `mode`.
    pub const fn new(mode: ListMode, list: L) -> Self {
        Listed { mode, list }
    }
}

impl<L: InfoHashSet> AccessList for Listed<L> {
    #[inline]
    fn allows(&self, info_hash: &InfoHash) -> bool {
        self.list.contains(info_hash) == (self.mode == ListMode::Allow)
    }
}
