//! What the announcer shows about each tracker: the data of a client's tracker list.

use core::fmt;
use core::net::SocketAddr;

use crate::error::DecodeError;
use crate::time::Instant;

/// A tracker of an [`Announcer`](super::Announcer): its index in the order trackers
/// were added (0, 1, …). Ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackerId(pub(crate) usize);

impl TrackerId {
    /// The index: the number of trackers added before this one.
    pub const fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for TrackerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tracker {}", self.0)
    }
}

/// Where a tracker stands, as qBittorrent's tracker list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackerState {
    /// Never announced to: not reached in the tier walk yet (or announcing has not
    /// started).
    NotContacted,
    /// Its turn is under way (names being resolved, announces in flight) and no family
    /// has answered yet.
    Updating,
    /// It answered an announce in its latest turn, over IPv4 or IPv6.
    Working,
    /// Its latest turn ended without an answer: every address timed out, it sent an
    /// error or an undecodable reply, or its name did not resolve.
    NotWorking,
}

impl TrackerState {
    /// A stable snake_case name: `not_contacted`, `updating`, `working`, `not_working`.
    pub const fn name(self) -> &'static str {
        match self {
            TrackerState::NotContacted => "not_contacted",
            TrackerState::Updating => "updating",
            TrackerState::Working => "working",
            TrackerState::NotWorking => "not_working",
        }
    }
}

/// The longest error text a [`TrackerStatus`] keeps; longer texts are cut, with
/// [`ErrorText::is_truncated`] set.
pub const ERROR_TEXT_CAPACITY: usize = 256;

/// An error reply's message, copied byte for byte (NUL terminators and invalid UTF-8
/// included) into a fixed buffer of [`ERROR_TEXT_CAPACITY`] bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorText {
    bytes: [u8; ERROR_TEXT_CAPACITY],
    len: usize,
    truncated: bool,
}

impl ErrorText {
    pub(crate) fn new(text: &[u8]) -> Self {
        let mut bytes = [0u8; ERROR_TEXT_CAPACITY];
        let mut len = 0usize;
        for (dst, src) in bytes.iter_mut().zip(text) {
            *dst = *src;
            len = len.saturating_add(1);
        }
        ErrorText {
            bytes,
            len,
            truncated: text.len() > ERROR_TEXT_CAPACITY,
        }
    }

    /// The bytes kept: the whole message, or its first [`ERROR_TEXT_CAPACITY`] bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Whether the message was longer than [`ERROR_TEXT_CAPACITY`] bytes.
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Debug for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Display for ErrorText {
    /// The text as UTF-8, with U+FFFD for invalid bytes, trailing NULs dropped (C
    /// trackers such as opentracker send them) and `…` if it was truncated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.as_bytes();
        while let Some((0, rest)) = text.split_last() {
            text = rest;
        }
        for chunk in text.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// Why a tracker's latest announce failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
// The text is inline (no allocator); each tracker holds one, in place.
#[allow(clippy::large_enum_variant)]
pub enum TrackerError {
    /// The tracker answered with an error reply (to the announce or to its connect);
    /// the message exactly as sent.
    Tracker(ErrorText),
    /// The tracker answered with a datagram that does not decode (Debian's opentracker
    /// sends 8 bytes for an info hash outside its whitelist).
    Malformed(DecodeError),
    /// Every address tried stayed silent for the whole retry policy; the last one is
    /// named.
    TimedOut(SocketAddr),
    /// The caller reported that the name did not resolve, or did not answer the
    /// [`AnnouncerEvent::Resolve`](super::AnnouncerEvent::Resolve) within the retry
    /// policy's give-up time.
    Resolve,
    /// The name resolved to no address.
    NoAddress,
}

impl fmt::Display for TrackerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackerError::Tracker(text) => write!(f, "{text}"),
            TrackerError::Malformed(e) => write!(f, "malformed reply: {e}"),
            TrackerError::TimedOut(a) => write!(f, "timed out ({a})"),
            TrackerError::Resolve => f.write_str("name not resolved"),
            TrackerError::NoAddress => f.write_str("name has no address"),
        }
    }
}

/// One tracker's line in a client's tracker list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerStatus {
    /// Its tier (0 first).
    pub tier: usize,
    /// Where it stands.
    pub state: TrackerState,
    /// Whether a resolution or an announce of it is still under way (a family may still
    /// be announcing after the other made it [`TrackerState::Working`]).
    pub announcing: bool,
    /// Why its latest turn failed, for either family; cleared when a turn starts.
    pub last_error: Option<TrackerError>,
    /// The interval of its latest answer, in seconds, as sent (before the bounds).
    pub interval: Option<u32>,
    /// Seeders in its latest answer (announce or scrape of this torrent).
    pub seeders: Option<u32>,
    /// Leechers in its latest answer (announce or scrape of this torrent).
    pub leechers: Option<u32>,
    /// Completed downloads, from its latest scrape of this torrent (announce replies do
    /// not carry it).
    pub downloaded: Option<u32>,
    /// Peers it handed out in its latest turn, both families together, duplicates
    /// included.
    pub peers_received: usize,
    /// When its walk's next round starts (set for every tracker of the walk when a
    /// round ends); `None` while its own turn is under way, before announcing starts
    /// and after `stop`.
    pub next_announce: Option<Instant>,
    /// The address announced to over IPv4, then over IPv6, if any.
    pub addresses: [Option<SocketAddr>; 2],
}

impl TrackerStatus {
    pub(crate) const fn new(tier: usize) -> Self {
        TrackerStatus {
            tier,
            state: TrackerState::NotContacted,
            announcing: false,
            last_error: None,
            interval: None,
            seeders: None,
            leechers: None,
            downloaded: None,
            peers_received: 0,
            next_announce: None,
            addresses: [None, None],
        }
    }
}

/// The longest host name a tracker may have (a DNS name is at most 253 characters).
pub const MAX_HOST_LEN: usize = 253;

/// A tracker's host name, copied from its URL, for the caller to resolve.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostName {
    bytes: [u8; MAX_HOST_LEN],
    len: usize,
}

impl HostName {
    /// `None` if `name` is longer than [`MAX_HOST_LEN`].
    pub(crate) fn new(name: &str) -> Option<Self> {
        let mut bytes = [0u8; MAX_HOST_LEN];
        bytes
            .get_mut(..name.len())?
            .copy_from_slice(name.as_bytes());
        Some(HostName {
            bytes,
            len: name.len(),
        })
    }

    /// The name, as written in the URL.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or(&[]);
        // Copied from a `&str` at a character boundary (the whole string).
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
