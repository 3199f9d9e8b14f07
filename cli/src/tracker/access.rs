//! The operator's policy as `udp::ServerHooks`: the access list, passkeys, the rate
//! limit and the counters, with the lists reloadable on SIGHUP.
//!
//! The lists live in [`Policy`], shared by every worker, as `Arc`s behind an `RwLock`
//! with a generation number. Each worker's [`WorkerHooks`] keeps its own copy of the
//! `Arc`s and only takes the lock when the generation moved (a reload), so the hot path
//! reads one atomic that nobody writes between reloads: no shared lock word bouncing
//! between cores.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use trackwire::udp::{
    AccessList, AnnounceRequest, Counters, InfoHash, ListMode, Listed, RateLimitConfig,
    RateLimiter, ServerHooks,
};
use trackwire::Instant;

use crate::cli::AccessMode;

/// The lists in force at one time.
#[derive(Debug, Default)]
pub(crate) struct Lists {
    /// `None`: every hash is served.
    pub(crate) access: Option<Listed<HashSet<InfoHash>>>,
    /// `None`: public mode.
    pub(crate) passkeys: Option<HashSet<Vec<u8>>>,
}

/// Where the lists come from, and the current ones.
#[derive(Debug)]
pub(crate) struct Policy {
    access_file: Option<(PathBuf, ListMode)>,
    passkey_file: Option<PathBuf>,
    current: RwLock<Arc<Lists>>,
    generation: AtomicU64,
    limiter: Option<RateLimiter<Box<[AtomicU64]>>>,
    /// Sources the limiter never sees (address, prefix length).
    exempt: Vec<(IpAddr, u8)>,
}

/// The lines of a list file that carry something: `#` starts a comment, blanks are
/// skipped. Yields (line number, text).
fn entries(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("").trim();
        (!l.is_empty()).then_some((i + 1, l))
    })
}

/// Reads an access list: 40 hex digits a line.
pub(crate) fn read_hashes(path: &Path) -> Result<HashSet<InfoHash>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    entries(&text)
        .map(|(n, l)| {
            crate::udp_json::unhex(l)
                .and_then(|v| <[u8; 20]>::try_from(v).ok())
                .map(InfoHash)
                .ok_or_else(|| {
                    format!(
                        "{} line {n}: expected 40 hex digits, got {l:?}",
                        path.display()
                    )
                })
        })
        .collect()
}

/// Reads a passkey file: one passkey a line, any bytes but whitespace, `#`, `/`, `?`
/// and `&` (which would be cut differently in a URL).
pub(crate) fn read_passkeys(path: &Path) -> Result<HashSet<Vec<u8>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    entries(&text)
        .map(|(n, l)| {
            if l.contains(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '&')) {
                Err(format!(
                    "{} line {n}: a passkey cannot hold whitespace, `/`, `?` or `&`",
                    path.display()
                ))
            } else {
                Ok(l.as_bytes().to_vec())
            }
        })
        .collect()
}

/// The passkey a URLData carries: the path `/announce/KEY` (a query may follow), or a
/// `passkey=KEY` query parameter (any path).
pub(crate) fn passkey_of(url_data: &[u8]) -> Option<&[u8]> {
    let (path, query) = match url_data.iter().position(|&b| b == b'?') {
        Some(i) => (url_data.get(..i)?, url_data.get(i + 1..)?),
        None => (url_data, &b""[..]),
    };
    if let Some(key) = path.strip_prefix(b"/announce/") {
        if !key.is_empty() && !key.contains(&b'/') {
            return Some(key);
        }
    }
    query
        .split(|&b| b == b'&')
        .find_map(|kv| kv.strip_prefix(b"passkey="))
}

impl Policy {
    /// Loads the lists named in the settings (an unreadable list is a usage error at
    /// start), and sets up the rate limiter.
    pub(crate) fn new(
        access_file: Option<(PathBuf, AccessMode)>,
        passkey_file: Option<PathBuf>,
        rate: Option<(u32, u32)>,
        exempt: Vec<(IpAddr, u8)>,
    ) -> Result<Policy, String> {
        let access_file = access_file.map(|(p, m)| {
            let mode = match m {
                AccessMode::Allow => ListMode::Allow,
                AccessMode::Deny => ListMode::Deny,
            };
            (p, mode)
        });
        let limiter = match rate {
            Some((per_second, burst)) => {
                // 2^16 slots (512 KiB): enough for the sources active within one burst
                // window of a busy public tracker; collisions only make limits stricter.
                let slots: Box<[AtomicU64]> = (0..1 << 16).map(|_| AtomicU64::new(0)).collect();
                Some(
                    RateLimiter::new(
                        RateLimitConfig::new(per_second, burst),
                        crate::random::bytes(),
                        slots,
                    )
                    .map_err(|e| format!("--rate-limit: {e}"))?,
                )
            }
            None => None,
        };
        let p = Policy {
            access_file,
            passkey_file,
            current: RwLock::default(),
            generation: AtomicU64::new(0),
            limiter,
            exempt,
        };
        let lists = p.load()?;
        *p.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(lists);
        Ok(p)
    }

    fn load(&self) -> Result<Lists, String> {
        Ok(Lists {
            access: match &self.access_file {
                Some((path, mode)) => Some(Listed::new(*mode, read_hashes(path)?)),
                None => None,
            },
            passkeys: match &self.passkey_file {
                Some(path) => Some(read_passkeys(path)?),
                None => None,
            },
        })
    }

    /// Re-reads the files (SIGHUP). On an error the lists in force stay, whole.
    pub(crate) fn reload(&self) -> Result<(usize, usize), String> {
        let lists = self.load()?;
        let sizes = (
            lists.access.as_ref().map_or(0, |l| l.list.len()),
            lists.passkeys.as_ref().map_or(0, HashSet::len),
        );
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(lists);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(sizes)
    }

    /// The lists in force.
    pub(crate) fn lists(&self) -> Arc<Lists> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether announces must carry a passkey.
    pub(crate) fn private(&self) -> bool {
        self.passkey_file.is_some()
    }
}

/// One worker's hooks: the shared policy, a cached copy of its lists, and the worker's
/// own counters (summed over workers by the metrics).
pub(crate) struct WorkerHooks {
    policy: Arc<Policy>,
    lists: RefCell<Arc<Lists>>,
    seen: Cell<u64>,
    pub(crate) counters: Arc<Counters>,
}

impl WorkerHooks {
    pub(crate) fn new(policy: Arc<Policy>, counters: Arc<Counters>) -> WorkerHooks {
        let lists = RefCell::new(policy.lists());
        let seen = Cell::new(policy.generation.load(Ordering::Acquire));
        WorkerHooks {
            policy,
            lists,
            seen,
            counters,
        }
    }

    /// The lists, fetched again if a reload happened since last time.
    fn current(&self) -> Arc<Lists> {
        let g = self.policy.generation.load(Ordering::Acquire);
        if g != self.seen.get() {
            *self.lists.borrow_mut() = self.policy.lists();
            self.seen.set(g);
        }
        Arc::clone(&self.lists.borrow())
    }
}

impl ServerHooks for WorkerHooks {
    fn allows(&self, info_hash: &InfoHash) -> bool {
        match &self.current().access {
            Some(list) => list.allows(info_hash),
            None => true,
        }
    }

    fn authorize(&self, _from: SocketAddr, _a: &AnnounceRequest<'_>, url_data: &[u8]) -> bool {
        match &self.current().passkeys {
            Some(keys) => passkey_of(url_data).is_some_and(|k| keys.contains(k)),
            None => true,
        }
    }

    fn admit(&self, now: Instant, source: IpAddr) -> bool {
        match &self.policy.limiter {
            Some(_)
                if self
                    .policy
                    .exempt
                    .iter()
                    .any(|&(n, len)| in_prefix(source, n, len)) =>
            {
                true
            }
            Some(l) => l.admit(now, source),
            None => true,
        }
    }

    fn counters(&self) -> Option<&Counters> {
        Some(&self.counters)
    }
}

/// Whether `ip` lies in `net/len` (an IPv4-mapped IPv6 source counts as its IPv4 address).
fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
        _ => return false,
    };
    let len = u32::from(len).min(bits);
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (bits - len)
    };
    let width = if bits == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    (a ^ b) & mask & width == 0
}

#[cfg(test)]
mod prefix_tests {
    use super::in_prefix;

    #[test]
    fn prefixes_match_as_written() {
        let ip = |s: &str| s.parse().unwrap();
        assert!(in_prefix(ip("127.0.0.1"), ip("127.0.0.1"), 32));
        assert!(!in_prefix(ip("127.0.0.2"), ip("127.0.0.1"), 32));
        assert!(in_prefix(ip("10.9.8.7"), ip("10.0.0.0"), 8));
        assert!(!in_prefix(ip("11.0.0.1"), ip("10.0.0.0"), 8));
        assert!(in_prefix(ip("1.2.3.4"), ip("0.0.0.0"), 0));
        assert!(in_prefix(ip("::ffff:10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(in_prefix(ip("2001:db8::1"), ip("2001:db8::"), 32));
        assert!(!in_prefix(ip("2001:db9::1"), ip("2001:db8::"), 32));
        assert!(!in_prefix(ip("2001:db8::1"), ip("10.0.0.0"), 8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_in_the_path_or_the_query() {
        assert_eq!(passkey_of(b"/announce/abc"), Some(&b"abc"[..]));
        assert_eq!(passkey_of(b"/announce/abc?x=1"), Some(&b"abc"[..]));
        assert_eq!(passkey_of(b"/announce?passkey=k1"), Some(&b"k1"[..]));
        assert_eq!(passkey_of(b"/x?a=1&passkey=k2&b"), Some(&b"k2"[..]));
        assert_eq!(passkey_of(b"/announce/"), None);
        assert_eq!(passkey_of(b"/announce/a/b"), None);
        assert_eq!(passkey_of(b"/announce"), None);
        assert_eq!(passkey_of(b""), None);
    }

    #[test]
    fn list_lines() {
        let got: Vec<_> = entries("# c\n\n  ab # x\ncd\n").collect();
        assert_eq!(got, vec![(3, "ab"), (4, "cd")]);
    }
}
