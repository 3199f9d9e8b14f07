//! The swarm store: torrents sharded by info hash, each shard behind its own lock, so
//! that workers announcing different torrents do not wait for each other.
//!
//! Every operation on a swarm costs what it touches, never the swarm's size: peers sit
//! in one list per address family, and once a swarm outgrows [`SCAN_MAX`] addresses it
//! gets an index from address to position and from client to state (insert, update and
//! remove are O(1), removal by `swap_remove`); a reply takes a contiguous window of the
//! requester's family starting at a random position (O(peers returned)); seeder and
//! leecher counts are kept as peers come, change and go.
//!
//! Memory is what limits a tracker holding a million torrents, most of them with one or
//! two peers, so the layout is compact: a torrent is stored inline in its shard's table
//! (no box), its first IPv4 peer inline in the torrent (no allocation for a one-peer
//! swarm), a peer is its compact address (6 or 18 bytes, as BEP 15 sends it), the last
//! announce in seconds (u32), the client hash and a seeder bit: 20 bytes for IPv4 and
//! 32 for IPv6. Small swarms have no index at all; a scan of 8 entries costs less than
//! hashing one address.
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
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use smallvec::SmallVec;
use trackwire::udp::{AnnounceEvent, InfoHash, ScrapeRow};

/// The tables' hasher: fast, and seeded at random per table, so that nobody can choose
/// info hashes or addresses that collide in it.
type Hasher = foldhash::fast::RandomState;

/// One client across its addresses: a keyed 64-bit hash of the peer id and key of its
/// announces ([`Store::client_id`]), 8 bytes a peer instead of 24. Two clients of one
/// swarm share a hash with odds of about n²/2^65 (2^-34 for a million peers), and
/// the hash key is secret, so nobody can make theirs collide on purpose.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct ClientId(u64);

/// One listed address, `N` bytes of it in BEP 15's compact form (IP, then port, big
/// endian). Fields of 4-byte alignment keep an IPv4 peer at 20 bytes.
#[derive(Clone, Copy, Debug)]
struct Peer<const N: usize> {
    addr: [u8; N],
    /// The client's state at its latest announce (kept right in every entry of the
    /// client while the swarm has no index; with one, the index holds it).
    seeder: bool,
    /// Seconds of the tracker's clock at the last announce.
    seen: u32,
    /// The [`ClientId`], split so that it does not force 8-byte alignment.
    client: [u32; 2],
}

impl<const N: usize> Peer<N> {
    fn client(&self) -> ClientId {
        let [hi, lo] = self.client;
        ClientId(u64::from(hi) << 32 | u64::from(lo))
    }

    fn set_client(&mut self, id: ClientId) {
        self.client = [(id.0 >> 32) as u32, id.0 as u32];
    }
}

type Peer4 = Peer<6>;
type Peer6 = Peer<18>;

/// An address in compact form, by family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    V4([u8; 6]),
    V6([u8; 18]),
}

fn key(addr: &SocketAddr) -> Key {
    let port = addr.port().to_be_bytes();
    match addr {
        SocketAddr::V4(a) => {
            let [a, b, c, d] = a.ip().octets();
            Key::V4([a, b, c, d, port[0], port[1]])
        }
        SocketAddr::V6(a) => {
            let mut k = [0u8; 18];
            let (ip, p) = k.split_at_mut(16);
            ip.copy_from_slice(&a.ip().octets());
            p.copy_from_slice(&port);
            Key::V6(k)
        }
    }
}

fn addr4(k: &[u8; 6]) -> SocketAddr {
    let [a, b, c, d, p0, p1] = *k;
    SocketAddr::from((Ipv4Addr::new(a, b, c, d), u16::from_be_bytes([p0, p1])))
}

fn addr6(k: &[u8; 18]) -> SocketAddr {
    let mut ip = [0u8; 16];
    let (i, p) = k.split_at(16);
    ip.copy_from_slice(i);
    let port = u16::from_be_bytes([
        p.first().copied().unwrap_or(0),
        p.get(1).copied().unwrap_or(0),
    ]);
    SocketAddr::from((Ipv6Addr::from(ip), port))
}

/// Swarms up to this many addresses (both families) are searched by a scan, with no
/// index: most swarms are small, and an index would be most of their memory.
const SCAN_MAX: usize = 8;

/// A client's state in an indexed swarm: whether it seeds, and at how many addresses
/// it is listed.
#[derive(Clone, Copy, Debug)]
struct Client {
    seeder: bool,
    addresses: u32,
}

/// The index of a swarm larger than [`SCAN_MAX`]: positions by address, clients by id.
#[derive(Default, Debug)]
struct Index {
    v4: HashMap<[u8; 6], usize, Hasher>,
    v6: HashMap<[u8; 18], usize, Hasher>,
    clients: HashMap<ClientId, Client, Hasher>,
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
    /// The first IPv4 peer needs no allocation.
    v4: SmallVec<[Peer4; 1]>,
    v6: Vec<Peer6>,
    index: Option<Box<Index>>,
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

/// Where an address is listed: its family's list and position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    V4(usize),
    V6(usize),
}

/// One seeder or leecher more (`up`) or fewer.
fn count(seeders: &mut u32, leechers: &mut u32, seeder: bool, up: bool) {
    let c = if seeder { seeders } else { leechers };
    *c = if up {
        c.saturating_add(1)
    } else {
        c.saturating_sub(1)
    };
}

/// One more address for `id` in an indexed swarm, whose latest announce says `seeder`.
fn attach(ix: &mut Index, seeders: &mut u32, leechers: &mut u32, id: ClientId, seeder: bool) {
    match ix.clients.get_mut(&id) {
        Some(c) => {
            c.addresses = c.addresses.saturating_add(1);
            let was = c.seeder;
            c.seeder = seeder;
            if was != seeder {
                count(seeders, leechers, was, false);
                count(seeders, leechers, seeder, true);
            }
        }
        None => {
            ix.clients.insert(
                id,
                Client {
                    seeder,
                    addresses: 1,
                },
            );
            count(seeders, leechers, seeder, true);
        }
    }
}

/// One address fewer for `id` in an indexed swarm; the client goes with its last one.
fn detach(ix: &mut Index, seeders: &mut u32, leechers: &mut u32, id: ClientId) {
    let Some(c) = ix.clients.get_mut(&id) else {
        return;
    };
    c.addresses = c.addresses.saturating_sub(1);
    if c.addresses == 0 {
        let seeder = c.seeder;
        ix.clients.remove(&id);
        count(seeders, leechers, seeder, false);
    }
}

/// `peers` as a contiguous window starting at `start` (reduced modulo the length).
fn window<T>(peers: &[T], start: usize) -> impl Iterator<Item = &T> {
    let start = start.checked_rem(peers.len()).unwrap_or(0);
    let (head, tail) = peers.split_at(start);
    tail.iter().chain(head)
}

impl Swarm {
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn totals(&self) -> Totals {
        Totals {
            peers: [self.v4.len() as u64, self.v6.len() as u64],
            seeders: u64::from(self.seeders),
            leechers: u64::from(self.leechers),
        }
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Every entry's client and seeder bit.
    fn entries(&self) -> impl Iterator<Item = (ClientId, bool)> + Clone + '_ {
        let v4 = self.v4.iter().map(|p| (p.client(), p.seeder));
        v4.chain(self.v6.iter().map(|p| (p.client(), p.seeder)))
    }

    /// Counts the distinct clients of a swarm without an index (at most [`SCAN_MAX`]
    /// entries: the quadratic scan is a few dozen comparisons).
    fn recount(&mut self) {
        let (mut seeders, mut leechers) = (0u32, 0u32);
        let all = self.entries();
        for (i, (id, seeder)) in all.clone().enumerate() {
            if all.clone().take(i).any(|(o, _)| o == id) {
                continue;
            }
            count(&mut seeders, &mut leechers, seeder, true);
        }
        drop(all);
        (self.seeders, self.leechers) = (seeders, leechers);
    }

    /// Gives every entry of `id` the state of its latest announce (no index).
    fn set_state(&mut self, id: ClientId, seeder: bool) {
        for p in self.v4.iter_mut().filter(|p| p.client() == id) {
            p.seeder = seeder;
        }
        for p in self.v6.iter_mut().filter(|p| p.client() == id) {
            p.seeder = seeder;
        }
    }

    /// Whether `id` is a known seeder.
    fn is_seeder(&self, id: &ClientId) -> bool {
        match &self.index {
            Some(ix) => ix.clients.get(id).is_some_and(|c| c.seeder),
            None => self.entries().any(|(o, s)| o == *id && s),
        }
    }

    /// Where `k` is listed.
    fn find(&self, k: &Key) -> Option<At> {
        match (k, &self.index) {
            (Key::V4(a), Some(ix)) => ix.v4.get(a).copied().map(At::V4),
            (Key::V6(a), Some(ix)) => ix.v6.get(a).copied().map(At::V6),
            (Key::V4(a), None) => self.v4.iter().position(|p| p.addr == *a).map(At::V4),
            (Key::V6(a), None) => self.v6.iter().position(|p| p.addr == *a).map(At::V6),
        }
    }

    /// Indexes a swarm that outgrew [`SCAN_MAX`] (its seeder bits agree per client).
    fn build_index(&mut self) {
        let mut ix = Index::default();
        let add = |clients: &mut HashMap<ClientId, Client, Hasher>, id, seeder| {
            let c = clients.entry(id).or_insert(Client {
                seeder,
                addresses: 0,
            });
            c.addresses = c.addresses.saturating_add(1);
        };
        for (i, p) in self.v4.iter().enumerate() {
            ix.v4.insert(p.addr, i);
            add(&mut ix.clients, p.client(), p.seeder);
        }
        for (i, p) in self.v6.iter().enumerate() {
            ix.v6.insert(p.addr, i);
            add(&mut ix.clients, p.client(), p.seeder);
        }
        self.index = Some(Box::new(ix));
    }

    /// Drops the index of a swarm shrunk well below [`SCAN_MAX`] (the margin keeps a
    /// swarm at the threshold from building and dropping it on every announce), copying
    /// each client's state into its entries.
    fn drop_index(&mut self) {
        let Some(ix) = self.index.take() else {
            return;
        };
        let seeds = |id: ClientId| ix.clients.get(&id).is_some_and(|c| c.seeder);
        for p in self.v4.iter_mut() {
            p.seeder = seeds(p.client());
        }
        for p in self.v6.iter_mut() {
            p.seeder = seeds(p.client());
        }
    }

    /// Removes the entry at `at`, keeping the index and the counts right.
    fn remove(&mut self, at: At) {
        let gone = match at {
            At::V4(i) if i < self.v4.len() => {
                let gone = self.v4.swap_remove(i);
                if let Some(ix) = &mut self.index {
                    ix.v4.remove(&gone.addr);
                    if let Some(moved) = self.v4.get(i) {
                        ix.v4.insert(moved.addr, i);
                    }
                }
                gone.client()
            }
            At::V6(i) if i < self.v6.len() => {
                let gone = self.v6.swap_remove(i);
                if let Some(ix) = &mut self.index {
                    ix.v6.remove(&gone.addr);
                    if let Some(moved) = self.v6.get(i) {
                        ix.v6.insert(moved.addr, i);
                    }
                }
                gone.client()
            }
            _ => return,
        };
        match self.index.as_deref_mut() {
            Some(ix) => {
                detach(ix, &mut self.seeders, &mut self.leechers, gone);
                if self.len() <= SCAN_MAX / 2 {
                    self.drop_index();
                }
            }
            None => self.recount(),
        }
        if self.v4.capacity() > 4 * self.v4.len().max(SCAN_MAX) {
            self.v4.shrink_to_fit();
        }
        if self.v6.capacity() > 4 * self.v6.len().max(SCAN_MAX) {
            self.v6.shrink_to_fit();
        }
    }

    /// Records an announce from `addr` (the source IP and announced port) by client `id`
    /// at `now` (seconds).
    fn announce(
        &mut self,
        addr: SocketAddr,
        id: ClientId,
        seeder: bool,
        event: AnnounceEvent,
        now: u32,
        max_peers: usize,
    ) -> Result<(), Full> {
        let k = key(&addr);
        let at = self.find(&k);
        if event == AnnounceEvent::Stopped {
            if let Some(at) = at {
                self.remove(at);
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
        let old = match (at, k) {
            (Some(At::V4(i)), _) => self.v4.get_mut(i).map(|p| {
                let old = (p.client(), p.seeder);
                (p.seen, p.seeder) = (now, seeder);
                p.set_client(id);
                old
            }),
            (Some(At::V6(i)), _) => self.v6.get_mut(i).map(|p| {
                let old = (p.client(), p.seeder);
                (p.seen, p.seeder) = (now, seeder);
                p.set_client(id);
                old
            }),
            (None, k) => {
                if self.len() >= max_peers {
                    return Err(Full::Peers);
                }
                match k {
                    Key::V4(a) => {
                        let mut p = Peer {
                            addr: a,
                            seeder,
                            seen: now,
                            client: [0; 2],
                        };
                        p.set_client(id);
                        if let Some(ix) = &mut self.index {
                            ix.v4.insert(a, self.v4.len());
                        }
                        self.v4.push(p);
                    }
                    Key::V6(a) => {
                        let mut p = Peer {
                            addr: a,
                            seeder,
                            seen: now,
                            client: [0; 2],
                        };
                        p.set_client(id);
                        if let Some(ix) = &mut self.index {
                            ix.v6.insert(a, self.v6.len());
                        }
                        self.v6.push(p);
                    }
                }
                None
            }
        };
        match self.index.as_deref_mut() {
            // The common case, a client re-announcing from its address: one lookup.
            Some(ix) if old.is_some_and(|(o, _)| o == id) => {
                if let Some(c) = ix.clients.get_mut(&id) {
                    if c.seeder != seeder {
                        count(&mut self.seeders, &mut self.leechers, c.seeder, false);
                        count(&mut self.seeders, &mut self.leechers, seeder, true);
                        c.seeder = seeder;
                    }
                }
            }
            Some(ix) => {
                // A listed address re-attaches (the same client: only its state
                // changes) before its old client lets go of it.
                attach(ix, &mut self.seeders, &mut self.leechers, id, seeder);
                if let Some((old, _)) = old {
                    detach(ix, &mut self.seeders, &mut self.leechers, old);
                }
            }
            // Without an index every entry of a client carries its state: nothing
            // changed when the same client re-announces in the same state.
            None if old == Some((id, seeder)) => {}
            None => {
                self.set_state(id, seeder);
                self.recount();
                if self.len() > SCAN_MAX {
                    self.build_index();
                }
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
        let (v4, v6): (&[Peer4], &[Peer6]) = if addr.is_ipv6() {
            (&[], &self.v6)
        } else {
            (&self.v4, &[])
        };
        let v4 = window(v4, start).map(|p| addr4(&p.addr));
        v4.chain(window(v6, start).map(|p| addr6(&p.addr)))
            .filter(move |a| *a != addr)
            .take(n)
    }

    /// Drops addresses last seen before `cutoff` (seconds); returns how many.
    fn expire(&mut self, cutoff: u32) -> u64 {
        let mut gone = 0u64;
        let mut i = 0;
        while let Some(p) = self.v4.get(i) {
            if p.seen < cutoff {
                self.remove(At::V4(i));
                gone += 1;
            } else {
                i += 1;
            }
        }
        i = 0;
        while let Some(p) = self.v6.get(i) {
            if p.seen < cutoff {
                self.remove(At::V6(i));
                gone += 1;
            } else {
                i += 1;
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

/// Seconds of the tracker's clock from its milliseconds (u32 seconds last 136 years).
fn secs(ms: u64) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

/// One shard: its torrents and what they add up to.
#[derive(Default, Debug)]
struct Shard {
    /// Inline, not boxed: a slot is 104 bytes and a one-peer IPv4 swarm needs nothing more.
    swarms: HashMap<InfoHash, Swarm, Hasher>,
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
                e.insert(Swarm::default())
            }
        };
        let before = swarm.totals();
        let stored = swarm.announce(
            a.addr,
            a.client,
            a.seeder,
            a.event,
            secs(a.now),
            self.max_peers,
        );
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
        // Rounded down: a peer is never dropped before its time, at most a second late.
        let cutoff = secs(cutoff);
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
        assert!(s.is_empty() && s.index.is_none());
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
            big.announce(addr, id(n), false, AnnounceEvent::None, u32::from(p), 100)
                .unwrap();
        }
        assert!(big.index.is_some());
        // Expire down through the threshold, checking every position on the way.
        for cutoff in [10, 30, 37, 39, 41] {
            big.expire(cutoff);
            for (i, p) in big.v4.iter().enumerate() {
                assert_eq!(
                    big.find(&Key::V4(p.addr)),
                    Some(At::V4(i)),
                    "cutoff {cutoff}"
                );
            }
            assert_eq!(u64::from(big.leechers), big.v4.len() as u64);
        }
        assert!(big.index.is_none() && big.is_empty());
        let mut s = Swarm::default();
        for p in 1..=5u16 {
            let n = u8::try_from(p).unwrap();
            s.announce(
                SocketAddr::from(([10, 0, 0, 1], p)),
                id(n),
                p % 2 == 0,
                AnnounceEvent::None,
                u32::from(p),
                100,
            )
            .unwrap();
        }
        assert_eq!((s.seeders, s.leechers), (2, 3));
        // Peers seen at 1 and 2 expire; the moved ones must still be found by address.
        assert_eq!(s.expire(3), 2);
        for (i, p) in s.v4.iter().enumerate() {
            assert_eq!(s.find(&Key::V4(p.addr)), Some(At::V4(i)));
        }
        assert_eq!((s.seeders, s.leechers), (1, 2));
    }

    #[test]
    fn counts_agree_across_the_index_threshold_and_back() {
        // Six dual-stack clients (12 addresses: indexed), two of them seeders; then
        // the IPv6 addresses go (4 left, below SCAN_MAX / 2: the index is dropped) and a
        // leecher becomes a seeder through its remaining address.
        let mut s = Swarm::default();
        for c in 1..=6u8 {
            let seeder = c <= 2;
            let v4 = SocketAddr::from(([10, 0, 0, c], 6881));
            let v6 = SocketAddr::new(
                Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(c)).into(),
                6881,
            );
            s.announce(v4, id(c), seeder, AnnounceEvent::None, 1, 100)
                .unwrap();
            s.announce(v6, id(c), seeder, AnnounceEvent::None, 2, 100)
                .unwrap();
        }
        assert!(s.index.is_some());
        assert_eq!((s.seeders, s.leechers), (2, 4));
        assert_eq!(s.expire(3), 12);
        assert_eq!((s.seeders, s.leechers), (0, 0));
        for c in 1..=6u8 {
            let v4 = SocketAddr::from(([10, 0, 0, c], 6881));
            let v6 = SocketAddr::new(
                Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(c)).into(),
                6881,
            );
            s.announce(v4, id(c), c <= 2, AnnounceEvent::None, 5, 100)
                .unwrap();
            s.announce(v6, id(c), c <= 2, AnnounceEvent::None, 4, 100)
                .unwrap();
        }
        assert_eq!(s.expire(5), 6);
        assert!(
            s.index.is_some(),
            "6 addresses: above SCAN_MAX / 2, still indexed"
        );
        s.announce(
            a("10.0.0.6:6881"),
            id(6),
            false,
            AnnounceEvent::Stopped,
            6,
            100,
        )
        .unwrap();
        s.announce(
            a("10.0.0.5:6881"),
            id(5),
            false,
            AnnounceEvent::Stopped,
            6,
            100,
        )
        .unwrap();
        assert!(s.index.is_none());
        assert_eq!((s.seeders, s.leechers), (2, 2));
        s.announce(
            a("10.0.0.3:6881"),
            id(3),
            true,
            AnnounceEvent::Completed,
            7,
            100,
        )
        .unwrap();
        assert_eq!((s.seeders, s.leechers, s.downloaded), (3, 1, 1));
        // Client 1 moves to another address with the same id: still one seeder.
        s.announce(a("10.0.0.9:6881"), id(1), true, AnnounceEvent::None, 7, 100)
            .unwrap();
        assert_eq!((s.seeders, s.leechers), (3, 1));
        let got: Vec<_> = s.pick(a("10.0.0.9:6881"), 10, 1).collect();
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn peers_are_compact() {
        // The memory budget of a million torrents rests on these sizes.
        assert_eq!(size_of::<Peer4>(), 20);
        assert_eq!(size_of::<Peer6>(), 32);
        assert!(size_of::<(InfoHash, Swarm)>() <= 104);
        assert_eq!(addr4(&[10, 0, 0, 1, 0x1a, 0xe1]), a("10.0.0.1:6881"));
        let Key::V6(k) = key(&a("[fd00::7]:6881")) else {
            panic!("an IPv6 key")
        };
        assert_eq!(addr6(&k), a("[fd00::7]:6881"));
    }
}
