//! The swarm store: torrents sharded by info hash, each shard behind its own lock, so
//! that workers announcing different torrents do not wait for each other.
//!
//! Every operation on a swarm costs what it touches, never the swarm's size: peers sit
//! in one `Vec` per address family with an index from address to position (insert,
//! update and remove are O(1), removal by `swap_remove`); a reply takes a contiguous
//! window of the requester's family starting at a random position (O(peers returned));
//! seeder and leecher counts are kept as peers come, change and go.
//!
//! Counting is per *client*, not per address: a client is its (peer id, key) pair, and a
//! client announcing over IPv4 and IPv6 (two addresses, one in each list) is one seeder
//! or leecher. Addresses are what peers are handed, so both stay listed, each to its own
//! family. The key is the client's secret for the session (BEP 15 gives it for exactly
//! this: to recognise a client whose address changed), so another host cannot merge
//! itself into a client it does not know the key of.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use trackwire::udp::{AnnounceEvent, InfoHash, ScrapeRow};

/// One client across its addresses: a keyed 64-bit hash of the peer id and key of its
/// announces ([`Store::client_id`]), 8 bytes a peer instead of 24. Two clients of one
/// swarm share a hash with odds of about n²/2^65 (2^-34 for a million peers), and
/// the hash key is secret, so nobody can make theirs collide on purpose.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct ClientId(u64);

/// One listed address.
#[derive(Clone, Copy, Debug)]
struct Peer {
    addr: SocketAddr,
    /// Milliseconds of the tracker's clock at the last announce.
    seen: u64,
    client: ClientId,
}

/// Lists up to this long are searched by a scan, with no index: most swarms are small,
/// and an index would be most of their memory (a scan of 8 addresses costs less than
/// hashing one).
const SCAN_MAX: usize = 8;

/// The peers of one address family.
#[derive(Default, Debug)]
struct PeerList {
    peers: Vec<Peer>,
    /// Address → position, once the list outgrows [`SCAN_MAX`].
    index: Option<HashMap<SocketAddr, usize>>,
}

impl PeerList {
    /// The position of `addr`.
    fn find(&self, addr: &SocketAddr) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(addr).copied(),
            None => self.peers.iter().position(|p| p.addr == *addr),
        }
    }

    /// Appends a peer whose address is not listed.
    fn push(&mut self, peer: Peer) {
        let at = self.peers.len();
        self.peers.push(peer);
        match &mut self.index {
            Some(index) => {
                index.insert(peer.addr, at);
            }
            None if self.peers.len() > SCAN_MAX => {
                let index = self
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.addr, i))
                    .collect();
                self.index = Some(index);
            }
            None => {}
        }
    }

    /// Removes the peer at `i` (which must exist), keeping the index right.
    fn remove_at(&mut self, i: usize) -> Option<Peer> {
        if i >= self.peers.len() {
            return None;
        }
        let gone = self.peers.swap_remove(i);
        if let Some(index) = &mut self.index {
            index.remove(&gone.addr);
            if let Some(moved) = self.peers.get(i) {
                index.insert(moved.addr, i);
            }
            if self.peers.len() <= SCAN_MAX / 2 {
                // Shrunk well below the threshold: the scan is cheap again (the margin
                // keeps a list at the threshold from building and dropping its index on
                // every announce).
                self.index = None;
            }
        }
        if self.peers.capacity() > 4 * self.peers.len().max(SCAN_MAX) {
            self.peers.shrink_to_fit();
        }
        Some(gone)
    }
}

/// A client's state: whether it seeds, and at how many addresses it is listed.
#[derive(Clone, Copy, Debug)]
struct Client {
    seeder: bool,
    addresses: u32,
}

/// Why an announce was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Full {
    /// `--max-torrents` torrents are held and this one is new.
    Torrents,
    /// The torrent holds `--max-peers-per-torrent` addresses and this one is new.
    Peers,
}

impl Full {
    /// The error reply's message (documented in `trackwire tracker --help`).
    pub(crate) fn message(self) -> &'static [u8] {
        match self {
            Full::Torrents => b"tracker full: too many torrents",
            Full::Peers => b"tracker full: too many peers",
        }
    }
}

/// One torrent's peers and counts.
#[derive(Default, Debug)]
pub(crate) struct Swarm {
    /// IPv4, then IPv6.
    lists: [PeerList; 2],
    clients: HashMap<ClientId, Client>,
    seeders: u32,
    leechers: u32,
    downloaded: u32,
}

/// What a shard adds up, for the metrics: addresses by family, seeders, leechers.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) peers: [u64; 2],
    pub(crate) seeders: u64,
    pub(crate) leechers: u64,
}

impl Totals {
    fn add(&mut self, o: Totals) {
        for (a, b) in self.peers.iter_mut().zip(o.peers) {
            *a = a.wrapping_add(b);
        }
        self.seeders = self.seeders.wrapping_add(o.seeders);
        self.leechers = self.leechers.wrapping_add(o.leechers);
    }

    fn sub(&mut self, o: Totals) {
        for (a, b) in self.peers.iter_mut().zip(o.peers) {
            *a = a.wrapping_sub(b);
        }
        self.seeders = self.seeders.wrapping_sub(o.seeders);
        self.leechers = self.leechers.wrapping_sub(o.leechers);
    }
}

fn family(addr: &SocketAddr) -> usize {
    usize::from(addr.is_ipv6())
}

impl Swarm {
    fn totals(&self) -> Totals {
        Totals {
            peers: [
                self.lists[0].peers.len() as u64,
                self.lists[1].peers.len() as u64,
            ],
            seeders: u64::from(self.seeders),
            leechers: u64::from(self.leechers),
        }
    }

    fn is_empty(&self) -> bool {
        self.lists.iter().all(|l| l.peers.is_empty())
    }

    fn count(&mut self, seeder: bool, up: bool) {
        let c = if seeder {
            &mut self.seeders
        } else {
            &mut self.leechers
        };
        *c = if up {
            c.saturating_add(1)
        } else {
            c.saturating_sub(1)
        };
    }

    /// One more address for `id`, whose latest announce says `seeder`.
    fn attach(&mut self, id: ClientId, seeder: bool) {
        match self.clients.get_mut(&id) {
            Some(c) => {
                c.addresses = c.addresses.saturating_add(1);
                let was = c.seeder;
                c.seeder = seeder;
                if was != seeder {
                    self.count(was, false);
                    self.count(seeder, true);
                }
            }
            None => {
                self.clients.insert(
                    id,
                    Client {
                        seeder,
                        addresses: 1,
                    },
                );
                self.count(seeder, true);
            }
        }
    }

    /// One address fewer for `id`; the client goes with its last address.
    fn detach(&mut self, id: ClientId) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        c.addresses = c.addresses.saturating_sub(1);
        if c.addresses == 0 {
            let seeder = c.seeder;
            self.clients.remove(&id);
            self.count(seeder, false);
        }
    }

    /// Whether `id` is a known seeder.
    fn is_seeder(&self, id: &ClientId) -> bool {
        self.clients.get(id).is_some_and(|c| c.seeder)
    }

    /// Records an announce from `addr` (the source IP and announced port) by client `id`.
    fn announce(
        &mut self,
        addr: SocketAddr,
        id: ClientId,
        seeder: bool,
        event: AnnounceEvent,
        now: u64,
        max_peers: usize,
    ) -> Result<(), Full> {
        let f = family(&addr);
        let at = self.lists[f].find(&addr);
        if event == AnnounceEvent::Stopped {
            if let Some(i) = at {
                if let Some(gone) = self.lists[f].remove_at(i) {
                    self.detach(gone.client);
                }
            }
            return Ok(());
        }
        if event == AnnounceEvent::Completed && !self.is_seeder(&id) {
            self.downloaded = self.downloaded.saturating_add(1);
        }
        if addr.port() == 0 {
            // Nowhere to be reached: answered, not listed.
            return Ok(());
        }
        match at.and_then(|i| self.lists[f].peers.get_mut(i)) {
            Some(p) => {
                p.seen = now;
                let old = p.client;
                p.client = id;
                // Re-attach (the same client: only its state changes).
                self.attach(id, seeder);
                self.detach(old);
            }
            None => {
                let held = self.lists[0].peers.len() + self.lists[1].peers.len();
                if held >= max_peers {
                    return Err(Full::Peers);
                }
                self.lists[f].push(Peer {
                    addr,
                    seen: now,
                    client: id,
                });
                self.attach(id, seeder);
            }
        }
        Ok(())
    }

    /// Up to `n` addresses of `addr`'s family other than `addr`, from a contiguous window
    /// starting at `start` (reduced modulo the list's length).
    fn pick(
        &self,
        addr: SocketAddr,
        n: usize,
        start: usize,
    ) -> impl Iterator<Item = SocketAddr> + '_ {
        let peers = &self.lists[family(&addr)].peers;
        let start = start.checked_rem(peers.len()).unwrap_or(0);
        let (head, tail) = peers.split_at(start);
        tail.iter()
            .chain(head)
            .map(|p| p.addr)
            .filter(move |a| *a != addr)
            .take(n)
    }

    /// Drops addresses last seen before `cutoff`; returns how many.
    fn expire(&mut self, cutoff: u64) -> u64 {
        let mut gone = 0u64;
        for f in 0..2 {
            let mut i = 0;
            while let Some(p) = self.lists[f].peers.get(i) {
                if p.seen < cutoff {
                    if let Some(p) = self.lists[f].remove_at(i) {
                        self.detach(p.client);
                        gone += 1;
                    }
                } else {
                    i += 1;
                }
            }
        }
        gone
    }

    fn row(&self) -> ScrapeRow {
        ScrapeRow {
            complete: self.seeders,
            downloaded: self.downloaded,
            incomplete: self.leechers,
        }
    }
}

/// One shard: its torrents and what they add up to.
#[derive(Default, Debug)]
struct Shard {
    /// Boxed: the table keeps spare slots (up to half of them empty after it grows),
    /// and a slot of 28 bytes wastes far less than a slot holding a whole swarm.
    swarms: HashMap<InfoHash, Box<Swarm>>,
    totals: Totals,
}

/// What one announce is: who, for which torrent, in which state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Announce {
    pub(crate) info_hash: InfoHash,
    pub(crate) addr: SocketAddr,
    pub(crate) client: ClientId,
    pub(crate) seeder: bool,
    pub(crate) event: AnnounceEvent,
    pub(crate) now: u64,
}

/// What the store adds up across shards, for the metrics.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct StoreStats {
    pub(crate) torrents: u64,
    pub(crate) totals: Totals,
    pub(crate) sweeps: u64,
    pub(crate) expired_peers: u64,
    pub(crate) freed_torrents: u64,
}

/// The torrents, in shards.
#[derive(Debug)]
pub(crate) struct Store {
    shards: Box<[Mutex<Shard>]>,
    torrents: AtomicUsize,
    max_torrents: usize,
    max_peers: usize,
    sweeps: AtomicU64,
    expired_peers: AtomicU64,
    freed_torrents: AtomicU64,
    /// The key of client ids: one for every worker, as a dual-stack client's two
    /// addresses may reach different workers.
    ids: std::collections::hash_map::RandomState,
}

impl Store {
    /// The id of the client that announces with `peer_id` and `key`.
    pub(crate) fn client_id(&self, peer_id: &[u8; 20], key: u32) -> ClientId {
        ClientId(self.ids.hash_one((peer_id, key)))
    }

    /// A store for `workers` threads: four shards a worker (at least 16, a power of two),
    /// so two workers rarely want the same shard at once.
    pub(crate) fn new(workers: usize, max_torrents: usize, max_peers: usize) -> Store {
        let n = (workers.saturating_mul(4)).max(16).next_power_of_two();
        Store {
            shards: (0..n).map(|_| Mutex::default()).collect(),
            torrents: AtomicUsize::new(0),
            max_torrents,
            max_peers,
            sweeps: AtomicU64::new(0),
            expired_peers: AtomicU64::new(0),
            freed_torrents: AtomicU64::new(0),
            ids: std::collections::hash_map::RandomState::new(),
        }
    }

    fn shard(&self, h: &InfoHash) -> MutexGuard<'_, Shard> {
        // Info hashes are SHA-1 (or truncated SHA-256) outputs: any bytes are uniform.
        let [a, b, ..] = h.0;
        let i = usize::from(u16::from_le_bytes([a, b])) & (self.shards.len() - 1);
        let m = self.shards.get(i).or(self.shards.first());
        // A worker that panicked mid-update leaves counts at worst slightly off; serving
        // on is better than every worker panicking after it.
        m.map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or_else(|| unreachable!("a store has at least 16 shards"))
    }

    /// Records `a` and calls `reply(leechers, seeders, peers)` with up to `n` peers of the
    /// requester's family (from a window starting at `start`), under the shard's lock.
    pub(crate) fn announce<R>(
        &self,
        a: &Announce,
        n: usize,
        start: usize,
        reply: impl FnOnce(u32, u32, &mut dyn Iterator<Item = SocketAddr>) -> R,
    ) -> Result<R, Full> {
        let mut guard = self.shard(&a.info_hash);
        let shard = &mut *guard;
        let swarm = match shard.swarms.entry(a.info_hash) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                if a.event == AnnounceEvent::Stopped {
                    return Ok(reply(0, 0, &mut std::iter::empty()));
                }
                self.torrents
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                        (t < self.max_torrents).then_some(t + 1)
                    })
                    .map_err(|_| Full::Torrents)?;
                e.insert(Box::default())
            }
        };
        let before = swarm.totals();
        let stored = swarm.announce(a.addr, a.client, a.seeder, a.event, a.now, self.max_peers);
        let after = swarm.totals();
        shard.totals.sub(before);
        shard.totals.add(after);
        stored?;
        let mut peers = swarm.pick(a.addr, n, start);
        let r = reply(swarm.leechers, swarm.seeders, &mut peers);
        Ok(r)
    }

    /// The scrape row of `h` (zeros for an unknown torrent).
    pub(crate) fn row(&self, h: &InfoHash) -> ScrapeRow {
        self.shard(h)
            .swarms
            .get(h)
            .map(|s| s.row())
            .unwrap_or_default()
    }

    /// Drops every address last seen before `cutoff` (milliseconds of the tracker's
    /// clock) and frees the torrents left empty, one shard at a time.
    pub(crate) fn sweep(&self, cutoff: u64) {
        let (mut expired, mut freed) = (0u64, 0u64);
        for m in self.shards.iter() {
            let mut shard = m.lock().unwrap_or_else(PoisonError::into_inner);
            let shard = &mut *shard;
            let totals = &mut shard.totals;
            shard.swarms.retain(|_, s| {
                let before = s.totals();
                expired += s.expire(cutoff);
                totals.sub(before);
                totals.add(s.totals());
                let keep = !s.is_empty();
                freed += u64::from(!keep);
                keep
            });
        }
        self.torrents.fetch_sub(freed as usize, Ordering::Relaxed);
        self.expired_peers.fetch_add(expired, Ordering::Relaxed);
        self.freed_torrents.fetch_add(freed, Ordering::Relaxed);
        self.sweeps.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts across shards.
    pub(crate) fn stats(&self) -> StoreStats {
        let mut totals = Totals::default();
        for m in self.shards.iter() {
            totals.add(m.lock().unwrap_or_else(PoisonError::into_inner).totals);
        }
        StoreStats {
            torrents: self.torrents.load(Ordering::Relaxed) as u64,
            totals,
            sweeps: self.sweeps.load(Ordering::Relaxed),
            expired_peers: self.expired_peers.load(Ordering::Relaxed),
            freed_torrents: self.freed_torrents.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ClientId {
        ClientId(u64::from(n))
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_dual_stack_client_counts_once_and_goes_with_its_last_address() {
        let mut s = Swarm::default();
        let none = AnnounceEvent::None;
        s.announce(a("127.0.0.1:1"), id(1), false, none, 0, 10)
            .unwrap();
        s.announce(a("[::1]:1"), id(1), false, none, 0, 10).unwrap();
        assert_eq!((s.seeders, s.leechers), (0, 1));
        // It completes over IPv6: one seeder, one download.
        s.announce(a("[::1]:1"), id(1), true, AnnounceEvent::Completed, 1, 10)
            .unwrap();
        s.announce(
            a("127.0.0.1:1"),
            id(1),
            true,
            AnnounceEvent::Completed,
            1,
            10,
        )
        .unwrap();
        assert_eq!((s.seeders, s.leechers, s.downloaded), (1, 0, 1));
        s.announce(a("127.0.0.1:1"), id(1), true, AnnounceEvent::Stopped, 2, 10)
            .unwrap();
        assert_eq!((s.seeders, s.leechers), (1, 0));
        assert_eq!(s.expire(1), 0);
        assert_eq!(s.expire(2), 1);
        assert_eq!((s.seeders, s.leechers), (0, 0));
        assert!(s.is_empty() && s.clients.is_empty());
    }

    #[test]
    fn picks_a_window_of_the_family_without_the_requester() {
        let mut s = Swarm::default();
        for p in 1..=10u16 {
            let n = u8::try_from(p).unwrap();
            s.announce(
                SocketAddr::from(([127, 0, 0, 1], p)),
                id(n),
                false,
                AnnounceEvent::None,
                0,
                100,
            )
            .unwrap();
        }
        s.announce(a("[::1]:5"), id(99), false, AnnounceEvent::None, 0, 100)
            .unwrap();
        let me = a("127.0.0.1:3");
        for start in 0..25 {
            let got: Vec<_> = s.pick(me, 4, start).collect();
            assert_eq!(got.len(), 4);
            assert!(got.iter().all(|p| p.is_ipv4() && *p != me), "{got:?}");
        }
        // Asking for more than there are: every other IPv4 peer once.
        let mut all: Vec<_> = s.pick(me, 50, 7).map(|p| p.port()).collect();
        all.sort_unstable();
        assert_eq!(all, vec![1, 2, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(s.pick(a("[::1]:5"), 50, 3).count(), 0);
        // The cap counts addresses of both families.
        assert_eq!(
            s.announce(a("[::1]:6"), id(98), false, AnnounceEvent::None, 0, 11),
            Err(Full::Peers)
        );
    }

    #[test]
    fn removal_keeps_the_index_right() {
        let mut big = Swarm::default();
        for p in 1..=40u16 {
            let n = u8::try_from(p).unwrap();
            let addr = SocketAddr::from(([10, 0, 0, 1], p));
            big.announce(addr, id(n), false, AnnounceEvent::None, u64::from(p), 100)
                .unwrap();
        }
        assert!(big.lists[0].index.is_some());
        // Expire down through the threshold, checking every position on the way.
        for cutoff in [10, 30, 37, 39, 41] {
            big.expire(cutoff);
            for (i, p) in big.lists[0].peers.iter().enumerate() {
                assert_eq!(big.lists[0].find(&p.addr), Some(i), "cutoff {cutoff}");
            }
            assert_eq!(u64::from(big.leechers), big.lists[0].peers.len() as u64);
        }
        assert!(big.lists[0].index.is_none() && big.is_empty());
        let mut s = Swarm::default();
        for p in 1..=5u16 {
            let n = u8::try_from(p).unwrap();
            s.announce(
                SocketAddr::from(([10, 0, 0, 1], p)),
                id(n),
                p % 2 == 0,
                AnnounceEvent::None,
                u64::from(p),
                100,
            )
            .unwrap();
        }
        assert_eq!((s.seeders, s.leechers), (2, 3));
        // Peers seen at 1 and 2 expire; the moved ones must still be found by address.
        assert_eq!(s.expire(3), 2);
        for (i, p) in s.lists[0].peers.iter().enumerate() {
            assert_eq!(s.lists[0].find(&p.addr), Some(i));
        }
        assert_eq!((s.seeders, s.leechers), (1, 2));
    }
}
