//! What the console knows: the connected torrents as their clients last reported them,
//! the terminated ones, and the operator's limits. One [`State`] behind a mutex, held
//! only for short, non-blocking updates and reads.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use trackwire::ctcs::{CtConfig, CtFile, CtPeer, CtStatus};

use crate::ctcs_conn::Command;

/// The most messages kept per torrent (oldest dropped first).
pub(crate) const MAX_MESSAGES: usize = 200;
/// The most files, peers or options kept per torrent.
pub(crate) const MAX_ITEMS: usize = 10_000;
/// The most bytes of text one block may bring (file names, peer ids, option values):
/// with [`MAX_ITEMS`] and [`MAX_MESSAGE_BYTES`] this bounds what one client can make the
/// console hold to a few MiB, whatever it sends. 1 MiB holds the file list of a torrent
/// with thousands of files.
pub(crate) const MAX_BLOCK_BYTES: usize = 1 << 20;
/// The most bytes of message text kept per torrent (oldest dropped first).
pub(crate) const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most terminated torrents kept in memory (the database keeps all).
pub(crate) const MAX_HISTORY: usize = 200;

/// Now, as Unix seconds.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Client bytes as text: file names and paths need not be UTF-8.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One torrent as the list shows it (`GET /api/torrents`). Rates and limits are
/// bytes/s, as the client last reported them (`CTSTATUS` or `CTBW`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Summary {
    /// The connection's number, unique while the console runs.
    pub id: u64,
    /// The torrent as the client names it: its metainfo path from `CTORRENT`.
    pub name: String,
    /// The client's peer id, in ctorrent's text form.
    pub peer_id: String,
    /// The client's address.
    pub address: String,
    /// When the client process started (Unix seconds, from `CTORRENT`).
    pub start_timestamp: i64,
    /// When this connection identified itself (Unix seconds).
    pub connected_at: i64,
    /// Pieces had / pieces in the torrent, 0 to 1.
    pub progress: f64,
    /// Pieces available from us and the connected peers / pieces in the torrent.
    pub availability: f64,
    /// Pieces had.
    pub have: i32,
    /// Pieces in the torrent.
    pub pieces: i32,
    /// Pieces obtainable.
    pub available: i32,
    /// Whether the client has every piece.
    pub seeding: bool,
    /// Connected seeders.
    pub seeders: i32,
    /// Seeders the tracker knows of (the client itself excluded).
    pub total_seeders: i32,
    /// Connected leechers.
    pub leechers: i32,
    /// Leechers the tracker knows of.
    pub total_leechers: i32,
    /// Peer connections being set up.
    pub connecting: i32,
    /// Download rate, bytes/s.
    pub dl_rate: i32,
    /// Upload rate, bytes/s.
    pub ul_rate: i32,
    /// Bytes downloaded this session.
    pub dl_total: u64,
    /// Bytes uploaded this session.
    pub ul_total: u64,
    /// Download limit, bytes/s, 0 = none.
    pub dl_limit: i32,
    /// Upload limit, bytes/s, 0 = none.
    pub ul_limit: i32,
    /// Cache in use, KiB.
    pub cache_kib: i32,
    /// Uploaded / downloaded (the torrent size for a pure seeder), if computable.
    pub ratio: Option<f64>,
    /// When the last `CTSTATUS` arrived (Unix seconds), if one did.
    pub status_at: Option<i64>,
    /// The latest message, if any.
    pub last_message: Option<Message>,
}

/// A `CTINFO` from the client (with its continuation lines), or a note from the console.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Message {
    /// When it arrived (Unix seconds).
    pub time: i64,
    /// 1 urgent, 2 warning, 3 information (dnh3.3.2's levels); 0 for the console's own.
    pub severity: i32,
    /// The text, as sent.
    pub text: String,
}

/// One file of the torrent (`CTFILE`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct FileView {
    /// 1-based number in metainfo order.
    pub number: i32,
    /// Path inside the torrent.
    pub name: String,
    /// Size, bytes.
    pub size: u64,
    /// Pieces overlapping the file.
    pub pieces: i32,
    /// Of those, pieces had.
    pub have: i32,
    /// Of those, pieces obtainable.
    pub available: i32,
    /// Download priority group (0 = none).
    pub priority: i32,
}

/// One peer of the client (`CTPEER`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct PeerView {
    /// The peer's id, text form.
    pub peer_id: String,
    /// Its client, guessed from the peer id's prefix.
    pub client: String,
    /// Its IPv4 address.
    pub address: String,
    /// The four flags as ctorrent prints them: peer chokes us (`C`/`U`), we are
    /// interested (`i`/`n`), we choke the peer, the peer is interested.
    pub flags: String,
    /// Rate from the peer, bytes/s.
    pub dl_rate: i32,
    /// Rate to the peer, bytes/s.
    pub ul_rate: i32,
    /// Bytes from the peer.
    pub dl_total: u64,
    /// Bytes to the peer.
    pub ul_total: u64,
    /// Pieces the peer has.
    pub pieces: i32,
}

/// One option of the client (protocol 3 `CTCONFIG`), as the client describes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ConfigView {
    /// The option's name (`max_peers`, …).
    pub name: String,
    /// `B`, `I`, `F` or `S`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `min-max`, a string's maximum length, or `0` for none.
    pub range: String,
    /// Current value.
    pub value: String,
    /// Short description.
    pub short: String,
    /// Long description.
    pub long: String,
}

/// `CTDETAIL`'s totals.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub(crate) struct DetailView {
    /// Torrent size, bytes.
    pub torrent_size: i64,
    /// Piece size, bytes.
    pub piece_size: i32,
    /// When the client became a seed (Unix seconds), 0 while downloading.
    pub seed_timestamp: i64,
}

/// The operator's per-torrent limits (the original's *Advanced limits*), kept by
/// torrent name across restarts. Bytes/s; 0 = no minimum / no maximum.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Policy {
    /// Download limit never below this.
    pub dl_min: u32,
    /// Download limit never above this (0 = none).
    pub dl_max: u32,
    /// Whether the download limit takes part in the global pool.
    pub dl_shared: bool,
    /// Upload limit never below this.
    pub ul_min: u32,
    /// Upload limit never above this (0 = none).
    pub ul_max: u32,
    /// Whether the upload limit takes part in the global pool.
    pub ul_shared: bool,
    /// Upload/download ratio cap in percent (150 = 1.5), 0 = none.
    pub ratio_cap: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            dl_min: 0,
            dl_max: 0,
            dl_shared: true,
            ul_min: 0,
            ul_max: 0,
            ul_shared: true,
            ratio_cap: 0,
        }
    }
}

/// The largest limit a client takes: `SETDLIMIT` is read into a C `int`.
pub(crate) const MAX_LIMIT: u32 = 0x7FFF_FFFF;

impl Policy {
    /// Why the policy cannot be applied, if so.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        let fields = [self.dl_min, self.dl_max, self.ul_min, self.ul_max];
        if fields.iter().any(|&v| v > MAX_LIMIT) {
            return Err("limits are 0 to 2147483647 bytes/s");
        }
        if (self.dl_max != 0 && self.dl_min > self.dl_max)
            || (self.ul_max != 0 && self.ul_min > self.ul_max)
        {
            return Err("a minimum is above its maximum");
        }
        if self.ratio_cap > 100_000 {
            return Err("ratio_cap is a percentage from 0 to 100000");
        }
        Ok(())
    }
}

/// The operator's global caps, bytes/s, 0 = none.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Globals {
    /// Total download cap shared by the pooled clients.
    pub dl_cap: u32,
    /// Total upload cap shared by the pooled clients.
    pub ul_cap: u32,
}

/// A torrent whose client went away.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Terminated {
    /// The torrent name.
    pub name: String,
    /// The client's peer id.
    pub peer_id: String,
    /// When the client started (Unix seconds).
    pub started: i64,
    /// When the connection ended (Unix seconds).
    pub ended: i64,
    /// Pieces had at the end.
    pub have: i32,
    /// Pieces in the torrent.
    pub pieces: i32,
    /// Bytes downloaded in that session.
    pub dl_total: u64,
    /// Bytes uploaded in that session.
    pub ul_total: u64,
}

/// A connected, identified client.
#[derive(Debug)]
pub(crate) struct Torrent {
    pub summary: Summary,
    pub detail: DetailView,
    pub files: Vec<FileView>,
    pub peers: Vec<PeerView>,
    pub config: Vec<ConfigView>,
    pub messages: VecDeque<Message>,
    pub pending_files: Vec<FileView>,
    pub pending_peers: Vec<PeerView>,
    pub pending_config: Vec<ConfigView>,
    /// Text bytes in each pending block (files, peers, config).
    pub pending_bytes: [usize; 3],
    /// Text bytes in `messages`.
    pub message_bytes: usize,
    /// When files and peers were last asked for (Unix seconds), to ask at most every
    /// few seconds however many pages are open.
    pub refreshed_at: i64,
    /// Commands for the connection's task.
    pub commands: mpsc::Sender<Command>,
    /// How many `CTSTATUS` and `CTBW` arrived: the allocator feeds only new reports.
    pub reports: u64,
}

impl Torrent {
    pub(crate) fn new(
        id: u64,
        name: String,
        peer_id: String,
        address: SocketAddr,
        start_timestamp: i64,
        commands: mpsc::Sender<Command>,
    ) -> Self {
        Torrent {
            summary: Summary {
                id,
                name,
                peer_id,
                address: address.to_string(),
                start_timestamp,
                connected_at: unix_now(),
                progress: 0.0,
                availability: 0.0,
                have: 0,
                pieces: 0,
                available: 0,
                seeding: false,
                seeders: 0,
                total_seeders: 0,
                leechers: 0,
                total_leechers: 0,
                connecting: 0,
                dl_rate: 0,
                ul_rate: 0,
                dl_total: 0,
                ul_total: 0,
                dl_limit: 0,
                ul_limit: 0,
                cache_kib: 0,
                ratio: None,
                status_at: None,
                last_message: None,
            },
            detail: DetailView::default(),
            files: Vec::new(),
            peers: Vec::new(),
            config: Vec::new(),
            messages: VecDeque::new(),
            pending_files: Vec::new(),
            pending_peers: Vec::new(),
            pending_config: Vec::new(),
            pending_bytes: [0; 3],
            message_bytes: 0,
            refreshed_at: 0,
            commands,
            reports: 0,
        }
    }

    pub(crate) fn on_status(&mut self, st: &CtStatus) {
        let s = &mut self.summary;
        s.seeders = st.seeders;
        s.total_seeders = st.total_seeders;
        s.leechers = st.leechers;
        s.total_leechers = st.total_leechers;
        s.connecting = st.connecting;
        s.have = st.n_have;
        s.pieces = st.n_total;
        s.available = st.n_avail;
        s.dl_rate = st.dl_rate;
        s.ul_rate = st.ul_rate;
        s.dl_total = st.dl_total;
        s.ul_total = st.ul_total;
        s.dl_limit = st.dl_limit;
        s.ul_limit = st.ul_limit;
        s.cache_kib = st.cache_used;
        s.status_at = Some(unix_now());
        self.reports += 1;
        self.recompute();
    }

    pub(crate) fn on_bandwidth(
        &mut self,
        dl_rate: i32,
        ul_rate: i32,
        dl_limit: i32,
        ul_limit: i32,
    ) {
        let s = &mut self.summary;
        s.dl_rate = dl_rate;
        s.ul_rate = ul_rate;
        s.dl_limit = dl_limit;
        s.ul_limit = ul_limit;
        self.reports += 1;
    }

    fn recompute(&mut self) {
        let s = &mut self.summary;
        let frac = |a: i32| {
            if s.pieces > 0 {
                (f64::from(a) / f64::from(s.pieces)).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        s.progress = frac(s.have);
        s.availability = frac(s.available);
        s.seeding = s.pieces > 0 && s.have >= s.pieces;
        let downloaded = if s.dl_total == 0 && s.seeding {
            u64::try_from(self.detail.torrent_size).unwrap_or(0)
        } else {
            s.dl_total
        };
        s.ratio = if downloaded > 0 {
            // Precision loss past 2^53 bytes is irrelevant for a ratio.
            #[allow(clippy::cast_precision_loss)]
            Some(s.ul_total as f64 / downloaded as f64)
        } else {
            None
        };
    }

    pub(crate) fn on_detail(&mut self, detail: DetailView) {
        self.detail = detail;
        self.recompute();
    }

    pub(crate) fn push_message(&mut self, severity: i32, text: String) {
        let m = Message {
            time: unix_now(),
            severity,
            text,
        };
        self.summary.last_message = Some(m.clone());
        self.message_bytes = self.message_bytes.saturating_add(m.text.len());
        self.messages.push_back(m);
        self.trim_messages();
    }

    fn trim_messages(&mut self) {
        while self.messages.len() > MAX_MESSAGES
            || (self.message_bytes > MAX_MESSAGE_BYTES && self.messages.len() > 1)
        {
            if let Some(old) = self.messages.pop_front() {
                self.message_bytes = self.message_bytes.saturating_sub(old.text.len());
            }
        }
    }

    /// Whether block `which` (0 files, 1 peers, 2 config) may take `n` more bytes of
    /// text; counts them if so.
    fn budget(&mut self, which: usize, n: usize, items: usize) -> bool {
        let Some(used) = self.pending_bytes.get_mut(which) else {
            return false;
        };
        if items >= MAX_ITEMS || used.saturating_add(n) > MAX_BLOCK_BYTES {
            return false;
        }
        *used = used.saturating_add(n);
        true
    }

    /// A line continuing the last `CTINFO` (its text held a newline).
    pub(crate) fn continue_message(&mut self, text: &str) {
        if let Some(m) = self.messages.back_mut() {
            if m.text.len() < 16 * 1024 {
                m.text.push('\n');
                m.text.push_str(text);
                self.message_bytes = self.message_bytes.saturating_add(text.len() + 1);
            }
            self.summary.last_message = Some(m.clone());
        }
        self.trim_messages();
    }

    pub(crate) fn push_file(&mut self, f: &CtFile<'_>) {
        if self.budget(0, f.filename.len(), self.pending_files.len()) {
            self.pending_files.push(FileView {
                number: f.fileno,
                name: lossy(f.filename.as_bytes()),
                size: f.filesize,
                pieces: f.n_pieces,
                have: f.n_have,
                available: f.n_available,
                priority: f.priority,
            });
        }
    }

    pub(crate) fn push_peer(&mut self, p: &CtPeer<'_>) {
        if self.budget(1, p.peer_id.as_bytes().len() + 64, self.pending_peers.len()) {
            let f = p.choke_interest;
            let flags: String = [
                if f.remote_unchoked { 'U' } else { 'C' },
                if f.local_interested { 'i' } else { 'n' },
                if f.local_unchoked { 'U' } else { 'C' },
                if f.remote_interested { 'i' } else { 'n' },
            ]
            .iter()
            .collect();
            let peer_id = lossy(p.peer_id.as_bytes());
            self.pending_peers.push(PeerView {
                client: client_name(&peer_id),
                peer_id,
                address: p.address.to_string(),
                flags,
                dl_rate: p.dl_rate,
                ul_rate: p.ul_rate,
                dl_total: p.dl_total,
                ul_total: p.ul_total,
                pieces: p.n_pieces,
            });
        }
    }

    pub(crate) fn push_config(&mut self, c: &CtConfig<'_>) {
        let n = c.value.len() + c.short_desc.len() + c.long_desc.len() + 32;
        if self.budget(2, n, self.pending_config.len()) {
            self.pending_config.push(ConfigView {
                name: lossy(c.name.as_bytes()),
                kind: char::from(c.value_type.letter()).to_string(),
                range: lossy(c.range.as_bytes()),
                value: lossy(c.value.as_bytes()),
                short: lossy(c.short_desc.as_bytes()),
                long: lossy(c.long_desc.as_bytes()),
            });
        }
    }

    /// A block ended (with its marker or not): what it held replaces the last one.
    pub(crate) fn end_block(&mut self, kind: trackwire::ctcs::BlockKind) {
        use trackwire::ctcs::BlockKind;
        match kind {
            BlockKind::Files => self.files = std::mem::take(&mut self.pending_files),
            BlockKind::Peers => self.peers = std::mem::take(&mut self.pending_peers),
            BlockKind::Config => self.config = std::mem::take(&mut self.pending_config),
            _ => {}
        }
        self.pending_bytes = [0; 3];
    }

    /// A block started: forget what an interrupted one of its kind collected.
    pub(crate) fn begin_block(&mut self, kind: trackwire::ctcs::BlockKind) {
        use trackwire::ctcs::BlockKind;
        match kind {
            BlockKind::Files => self.pending_files.clear(),
            BlockKind::Peers => self.pending_peers.clear(),
            BlockKind::Config => self.pending_config.clear(),
            _ => {}
        }
        self.pending_bytes = [0; 3];
    }

    /// What `GET /api/torrents/ID` answers.
    pub(crate) fn details(&self, policy: Policy) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.summary).unwrap_or_default();
        if let serde_json::Value::Object(m) = &mut v {
            let mut put = |k: &str, x: serde_json::Value| {
                m.insert(k.to_owned(), x);
            };
            put(
                "detail",
                serde_json::to_value(self.detail).unwrap_or_default(),
            );
            put(
                "files",
                serde_json::to_value(&self.files).unwrap_or_default(),
            );
            put(
                "peers",
                serde_json::to_value(&self.peers).unwrap_or_default(),
            );
            put(
                "config",
                serde_json::to_value(&self.config).unwrap_or_default(),
            );
            put(
                "messages",
                serde_json::to_value(&self.messages).unwrap_or_default(),
            );
            put("policy", serde_json::to_value(policy).unwrap_or_default());
        }
        v
    }
}

/// The client a peer id names, from the conventional `-XXnnnn-` prefix (Azureus style)
/// or the ctorrent family's; the text form is shown when unknown.
pub(crate) fn client_name(peer_id: &str) -> String {
    let b = peer_id.as_bytes();
    let azureus = b.len() >= 8 && b.first() == Some(&b'-') && b.get(7) == Some(&b'-');
    if let (true, Some(code), Some(version)) = (azureus, peer_id.get(1..3), peer_id.get(3..7)) {
        let name = match code {
            "CD" => "Enhanced CTorrent",
            "CT" => "CTorrent",
            "LT" => "libtorrent (rasterbar)",
            "lt" => "libTorrent (rakshasa)",
            "TR" => "Transmission",
            "qB" => "qBittorrent",
            "DE" => "Deluge",
            "UT" => "µTorrent",
            "AZ" => "Vuze",
            _ => return format!("{code} {version}"),
        };
        return format!("{name} {version}");
    }
    if b.starts_with(b"A2-") {
        return "aria2".to_owned();
    }
    "unknown".to_owned()
}

/// Everything the console knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub torrents: BTreeMap<u64, Torrent>,
    pub history: VecDeque<Terminated>,
    pub globals: Globals,
    pub policies: BTreeMap<String, Policy>,
}

impl State {
    pub(crate) fn policy(&self, name: &str) -> Policy {
        self.policies.get(name).copied().unwrap_or_default()
    }

    pub(crate) fn remember(&mut self, t: Terminated) {
        if self.history.len() >= MAX_HISTORY {
            self.history.pop_back();
        }
        self.history.push_front(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names() {
        assert_eq!(
            client_name("-CD0303-0x07E5815EDD0C"),
            "Enhanced CTorrent 0303"
        );
        assert_eq!(client_name("-ZZ1234-abc"), "ZZ 1234");
        assert_eq!(client_name("A2-1-36-0-xyz"), "aria2");
        assert_eq!(client_name("x"), "unknown");
        // Multi-byte text never panics on slicing.
        assert_eq!(client_name("-aé234-abcdef"), "unknown");
    }

    #[test]
    fn what_one_client_can_make_us_hold_is_bounded() {
        let (tx, _rx) = mpsc::channel(1);
        let mut t = Torrent::new(
            1,
            "t".into(),
            "p".into(),
            "127.0.0.1:1".parse().unwrap(),
            0,
            tx,
        );
        let long = vec![b'x'; 4000];
        let name = trackwire::ctcs::Text::new(&long).unwrap();
        t.begin_block(trackwire::ctcs::BlockKind::Files);
        for i in 0..5000 {
            t.push_file(&CtFile {
                fileno: i,
                priority: 0,
                current_priority: 0,
                n_pieces: 1,
                n_have: 0,
                n_available: 1,
                filesize: 1,
                filename: name,
            });
        }
        t.end_block(trackwire::ctcs::BlockKind::Files);
        let bytes: usize = t.files.iter().map(|f| f.name.len()).sum();
        assert!(bytes <= MAX_BLOCK_BYTES, "{bytes}");
        assert_eq!(t.files.len(), MAX_BLOCK_BYTES / 4000);
        for _ in 0..1000 {
            t.push_message(2, "y".repeat(4000));
            t.continue_message(&"z".repeat(4000));
        }
        let kept: usize = t.messages.iter().map(|m| m.text.len()).sum();
        assert!(kept <= MAX_MESSAGE_BYTES, "{kept}");
        assert_eq!(kept, t.message_bytes);
        assert!(t.messages.len() > 1);
    }

    #[test]
    fn policy_checks() {
        assert!(Policy::default().check().is_ok());
        let inverted = Policy {
            dl_min: 10,
            dl_max: 5,
            ..Policy::default()
        };
        assert!(inverted.check().is_err());
        let huge = Policy {
            ul_max: u32::MAX,
            ..Policy::default()
        };
        assert!(huge.check().is_err());
    }
}
