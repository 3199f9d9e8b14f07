//! Messages from the client (ctorrent) to the server.

use core::net::Ipv4Addr;

use super::{keyword, prepare, CtConfigValues, Layout, Protocol};
use crate::ctcs::field::{encode_line, line_len, Fields, Out, Text, Word};
use crate::ctcs::scan::TextScan;
use crate::ctcs::version::Version;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::wire::Reader;

/// `AUTH password`: sent after `PROTOCOL` when the client was started with
/// `-S host:port:` and the operator typed a password.
///
/// The password is everything after `AUTH ` (spaces kept). dnh3.3.2 reads it with
/// `fgets` into 21 bytes, so a short password keeps its newline and the line is followed
/// by an empty line on the wire (`AUTH pw\n\n`), which framing skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Auth<'a> {
    /// The password, raw.
    pub password: Text<'a>,
}

/// `CTORRENT peer_id start_timestamp current_timestamp filename`: identifies the client
/// on every (re)connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtTorrent<'a> {
    /// Our peer id in text form (see [`PeerIdText`](crate::ctcs::PeerIdText)).
    pub peer_id: Word<'a>,
    /// Process start, Unix seconds; the same on every reconnection.
    pub start_timestamp: i64,
    /// Now, Unix seconds.
    pub current_timestamp: i64,
    /// The metainfo file name as given on the command line (rest of the line).
    pub filename: Text<'a>,
}

/// `CTSTATUS`: the status report. v2/v3 (and version 0):
/// `seeders:total_seeders/leechers:total_leechers/connecting n_have/n_total/n_avail
/// dl_rate,ul_rate dl_total,ul_total dl_limit,ul_limit cache_used`; v1:
/// `seeders/leechers n_have/n_total/n_avail dl_rate,ul_rate dl_total,ul_total
/// dl_limit,ul_limit` — in v1 `total_seeders`, `total_leechers`, `connecting` and
/// `cache_used` are not written and decode as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CtStatus {
    /// Connected peers that are seeds.
    pub seeders: i32,
    /// The tracker's seed count, without ourselves.
    pub total_seeders: i32,
    /// Connected peers that are not seeds (nor still connecting).
    pub leechers: i32,
    /// The tracker's leecher count, without ourselves.
    pub total_leechers: i32,
    /// Peer connections being set up.
    pub connecting: i32,
    /// Pieces we have.
    pub n_have: i32,
    /// Pieces in the torrent.
    pub n_total: i32,
    /// Pieces available from us and connected peers.
    pub n_avail: i32,
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
    pub cache_used: i32,
}

/// `CTBW dl_rate,ul_rate dl_limit,ul_limit`: rates and limits in bytes/s (all versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CtBw {
    /// Download rate.
    pub dl_rate: i32,
    /// Upload rate.
    pub ul_rate: i32,
    /// Download limit, 0 = none.
    pub dl_limit: i32,
    /// Upload limit, 0 = none.
    pub ul_limit: i32,
}

/// `CTINFO severity message`: a client warning (1 urgent, 2 warning, 3 information).
///
/// The text is raw; a newline inside it (from a tracker's message) makes the rest arrive
/// as a separate line without keyword, which decodes as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtInfo<'a> {
    /// Severity.
    pub severity: i32,
    /// The text (rest of the line).
    pub message: Text<'a>,
}

/// `CTDETAIL torrent_size piece_size current_timestamp seed_timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CtDetail {
    /// Total bytes of the torrent.
    pub torrent_size: i64,
    /// Piece length.
    pub piece_size: i32,
    /// Now, Unix seconds.
    pub current_timestamp: i64,
    /// When we became a seed, Unix seconds; 0 while downloading.
    pub seed_timestamp: i64,
}

/// `CTFILE`: one file of the torrent. v3:
/// `fileno priority current_priority n_pieces n_have n_available filesize filename`;
/// v2: `fileno n_pieces n_have n_available filesize filename`; v1 and version 0:
/// `fileno n_pieces n_have filesize filename`. Fields a form lacks are not written and
/// decode as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtFile<'a> {
    /// 1-based file number in metainfo order.
    pub fileno: i32,
    /// Index of the first `-n` group covering the whole file, 0 if none (v3).
    pub priority: i32,
    /// Index of the group being downloaded, 0 without a filter (v3).
    pub current_priority: i32,
    /// Pieces overlapping the file.
    pub n_pieces: i32,
    /// Of those, pieces we have.
    pub n_have: i32,
    /// Of those, pieces obtainable (v2, v3).
    pub n_available: i32,
    /// Bytes.
    pub filesize: u64,
    /// Path inside the torrent (rest of the line, unquoted).
    pub filename: Text<'a>,
}

/// The 4-letter choke/interest field of `CTPEER`, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PeerFlags {
    /// `U`: the peer has unchoked us; `C`: it chokes us.
    pub remote_unchoked: bool,
    /// `i`: we are interested in the peer; `n`: not.
    pub local_interested: bool,
    /// `U`: we have unchoked the peer; `C`: we choke it.
    pub local_unchoked: bool,
    /// `i`: the peer is interested in us; `n`: not.
    pub remote_interested: bool,
}

impl PeerFlags {
    fn parse(w: &[u8]) -> Option<Self> {
        let [a, b, c, d] = Reader::new(w).array::<4>().ok().filter(|_| w.len() == 4)?;
        let uc = |x: u8| match x {
            b'U' => Some(true),
            b'C' => Some(false),
            _ => None,
        };
        let inn = |x: u8| match x {
            b'i' => Some(true),
            b'n' => Some(false),
            _ => None,
        };
        Some(PeerFlags {
            remote_unchoked: uc(a)?,
            local_interested: inn(b)?,
            local_unchoked: uc(c)?,
            remote_interested: inn(d)?,
        })
    }

    /// The four letters, e.g. `UiCn`.
    pub fn to_bytes(self) -> [u8; 4] {
        let uc = |x: bool| if x { b'U' } else { b'C' };
        let inn = |x: bool| if x { b'i' } else { b'n' };
        [
            uc(self.remote_unchoked),
            inn(self.local_interested),
            uc(self.local_unchoked),
            inn(self.remote_interested),
        ]
    }
}

/// `CTPEER peer_id address choke_interest dl_rate ul_rate dl_total ul_total n_pieces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtPeer<'a> {
    /// The peer's id in text form, opaque (see [`PeerIdText`](crate::ctcs::PeerIdText)).
    pub peer_id: Word<'a>,
    /// The peer's IPv4 address (no port on the wire).
    pub address: Ipv4Addr,
    /// Choke and interest flags.
    pub choke_interest: PeerFlags,
    /// Download rate from the peer, bytes/s.
    pub dl_rate: i32,
    /// Upload rate to the peer, bytes/s.
    pub ul_rate: i32,
    /// Bytes downloaded from the peer.
    pub dl_total: u64,
    /// Bytes uploaded to the peer.
    pub ul_total: u64,
    /// Pieces the peer has.
    pub n_pieces: i32,
}

/// The value type letter of a v3 `CTCONFIG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigType {
    /// `B`: 0 or 1.
    Boolean,
    /// `I`: an integer.
    Integer,
    /// `F`: a floating-point number.
    Float,
    /// `S`: a string.
    String,
}

impl ConfigType {
    /// The letter on the wire.
    pub const fn letter(self) -> u8 {
        match self {
            ConfigType::Boolean => b'B',
            ConfigType::Integer => b'I',
            ConfigType::Float => b'F',
            ConfigType::String => b'S',
        }
    }

    fn parse(w: &[u8]) -> Option<Self> {
        match w {
            b"B" => Some(ConfigType::Boolean),
            b"I" => Some(ConfigType::Integer),
            b"F" => Some(ConfigType::Float),
            b"S" => Some(ConfigType::String),
            _ => None,
        }
    }
}

/// The v3 self-describing `CTCONFIG name type range len:value len:short_desc
/// len:long_desc`, one per option between `CTCONFIGSTART` and `CTCONFIGDONE`.
///
/// The three strings are `len:value` fields (`len` = byte count), so they may hold
/// spaces and colons; the lengths are implied by the texts when encoding. A line the
/// client truncated at its 4296-byte buffer has a declared length that runs past the end
/// ([`LengthOverrun`](crate::DecodeErrorKind::LengthOverrun)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CtConfig<'a> {
    /// Option name (`max_peers`, …; treat as data).
    pub name: Word<'a>,
    /// Value type.
    pub value_type: ConfigType,
    /// `min-max` or `0` for numbers, the maximum length for strings.
    pub range: Word<'a>,
    /// Current value as the client formats it.
    pub value: Text<'a>,
    /// Short description.
    pub short_desc: Text<'a>,
    /// Long description (often empty).
    pub long_desc: Text<'a>,
}

impl CtConfig<'_> {
    /// The bounds of a numeric `range` (`20-1000` → `(20, 1000)`), if it has that form.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        let mut r = Reader::new(self.range.as_bytes());
        let lo = r.take_until_any(b"-");
        if !r.eat(b'-') {
            return None;
        }
        let num = |b: &[u8]| core::str::from_utf8(b).ok()?.parse::<i64>().ok();
        Some((num(lo)?, num(r.rest())?))
    }
}

/// A line from the client.
///
/// Block markers have one variant each whatever the version; the version picks the
/// keyword: v3 `CTFILESTART`/`CTFILESDONE`, `CTPEERSTART`/`CTPEERSDONE`; below 3
/// (version 0 included) `CTFILES`/`CTFDONE`, `CTPEERS`/`CTPDONE`. Decoding accepts only
/// the keyword of the version given; the other one is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientMessage<'a> {
    /// `PROTOCOL 0003` (dnh3.3.2 always sends 3).
    Protocol(Protocol),
    /// `AUTH password`.
    Auth(Auth<'a>),
    /// `CTORRENT …`.
    CtTorrent(CtTorrent<'a>),
    /// `CTSTATUS …`.
    CtStatus(CtStatus),
    /// `CTBW …`.
    CtBw(CtBw),
    /// `CTINFO …`.
    CtInfo(CtInfo<'a>),
    /// `CTDETAIL …`.
    CtDetail(CtDetail),
    /// `CTFILESTART` (v3) / `CTFILES`.
    CtFileStart,
    /// `CTFILE …`.
    CtFile(CtFile<'a>),
    /// `CTFILESDONE` (v3) / `CTFDONE`.
    CtFilesDone,
    /// `CTPEERSTART` (v3) / `CTPEERS`.
    CtPeerStart,
    /// `CTPEER …`.
    CtPeer(CtPeer<'a>),
    /// `CTPEERSDONE` (v3) / `CTPDONE`.
    CtPeersDone,
    /// `CTCONFIGSTART` (v3 only).
    CtConfigStart,
    /// The v3 self-describing `CTCONFIG` (written in this form whatever the version).
    CtConfig(CtConfig<'a>),
    /// The positional `CTCONFIG` of versions 0–2: 8 fields in version 2, 9 otherwise
    /// (encoding under version 3 writes the 9-field form too).
    CtConfigValues(CtConfigValues<'a>),
    /// `CTCONFIGDONE` (v3 only).
    CtConfigDone,
    /// A line with an unknown keyword, or a continuation line (a CTINFO text with a
    /// newline), kept whole. Encoding writes it back as is.
    Unknown(Text<'a>),
}

fn v3_or<'k>(v: Version, v3: &'k [u8], old: &'k [u8]) -> &'k [u8] {
    if v.is_v3() {
        v3
    } else {
        old
    }
}

impl<'a> ClientMessage<'a> {
    /// Decodes one line (with or without its LF/CR/CRLF) under `version`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] with the offset in `line` of the offending field or byte:
    /// [`NulByte`](DecodeErrorKind::NulByte), [`MissingField`](DecodeErrorKind::MissingField),
    /// [`ExtraField`](DecodeErrorKind::ExtraField), [`InvalidNumber`](DecodeErrorKind::InvalidNumber),
    /// [`InvalidField`](DecodeErrorKind::InvalidField) (also for a CR or LF inside the
    /// line), [`LengthOverrun`](DecodeErrorKind::LengthOverrun),
    /// [`InvalidVersion`](DecodeErrorKind::InvalidVersion). Unknown keywords are not
    /// errors.
    pub fn decode(line: &'a [u8], version: Version) -> Result<Self, DecodeError> {
        let line = prepare(line)?;
        let (kw, mut f) = keyword(line);
        let no_args = |f: &Fields<'_>, m: ClientMessage<'a>| f.finish().map(|()| m);
        let msg = match kw {
            b"PROTOCOL" => ClientMessage::Protocol(Protocol::parse(&mut f)?),
            b"AUTH" => ClientMessage::Auth(Auth {
                password: f.rest()?,
            }),
            b"CTORRENT" => ClientMessage::CtTorrent(CtTorrent {
                peer_id: f.word()?,
                start_timestamp: f.i64()?,
                current_timestamp: f.i64()?,
                filename: f.rest()?,
            }),
            b"CTSTATUS" => ClientMessage::CtStatus(parse_status(&mut f, version)?),
            b"CTBW" => {
                let [dl_rate, ul_rate] = f.ints::<2>(b",")?;
                let [dl_limit, ul_limit] = f.ints::<2>(b",")?;
                f.finish()?;
                ClientMessage::CtBw(CtBw {
                    dl_rate,
                    ul_rate,
                    dl_limit,
                    ul_limit,
                })
            }
            b"CTINFO" => ClientMessage::CtInfo(CtInfo {
                severity: f.i32()?,
                message: f.rest()?,
            }),
            b"CTDETAIL" => {
                let d = CtDetail {
                    torrent_size: f.i64()?,
                    piece_size: f.i32()?,
                    current_timestamp: f.i64()?,
                    seed_timestamp: f.i64()?,
                };
                f.finish()?;
                ClientMessage::CtDetail(d)
            }
            b"CTFILE" => ClientMessage::CtFile(parse_file(&mut f, version)?),
            b"CTPEER" => ClientMessage::CtPeer(parse_peer(&mut f)?),
            b"CTCONFIG" if version.is_v3() => ClientMessage::CtConfig(parse_config(&mut f)?),
            b"CTCONFIG" => {
                let layout = if version == Version::V2 {
                    Layout::V2
                } else {
                    Layout::V1
                };
                ClientMessage::CtConfigValues(CtConfigValues::parse(&mut f, layout)?)
            }
            b"CTCONFIGSTART" if version.is_v3() => no_args(&f, ClientMessage::CtConfigStart)?,
            b"CTCONFIGDONE" if version.is_v3() => no_args(&f, ClientMessage::CtConfigDone)?,
            k if k == v3_or(version, b"CTFILESTART", b"CTFILES") => {
                no_args(&f, ClientMessage::CtFileStart)?
            }
            k if k == v3_or(version, b"CTFILESDONE", b"CTFDONE") => {
                no_args(&f, ClientMessage::CtFilesDone)?
            }
            k if k == v3_or(version, b"CTPEERSTART", b"CTPEERS") => {
                no_args(&f, ClientMessage::CtPeerStart)?
            }
            k if k == v3_or(version, b"CTPEERSDONE", b"CTPDONE") => {
                no_args(&f, ClientMessage::CtPeersDone)?
            }
            _ => ClientMessage::Unknown(Text::from_line(line)),
        };
        Ok(msg)
    }

    /// The keyword this message has under `version` (`UNKNOWN` for [`Self::Unknown`]).
    pub fn keyword(&self, version: Version) -> &'static str {
        let v3 = version.is_v3();
        match self {
            ClientMessage::Protocol(_) => "PROTOCOL",
            ClientMessage::Auth(_) => "AUTH",
            ClientMessage::CtTorrent(_) => "CTORRENT",
            ClientMessage::CtStatus(_) => "CTSTATUS",
            ClientMessage::CtBw(_) => "CTBW",
            ClientMessage::CtInfo(_) => "CTINFO",
            ClientMessage::CtDetail(_) => "CTDETAIL",
            ClientMessage::CtFileStart if v3 => "CTFILESTART",
            ClientMessage::CtFileStart => "CTFILES",
            ClientMessage::CtFile(_) => "CTFILE",
            ClientMessage::CtFilesDone if v3 => "CTFILESDONE",
            ClientMessage::CtFilesDone => "CTFDONE",
            ClientMessage::CtPeerStart if v3 => "CTPEERSTART",
            ClientMessage::CtPeerStart => "CTPEERS",
            ClientMessage::CtPeer(_) => "CTPEER",
            ClientMessage::CtPeersDone if v3 => "CTPEERSDONE",
            ClientMessage::CtPeersDone => "CTPDONE",
            ClientMessage::CtConfigStart => "CTCONFIGSTART",
            ClientMessage::CtConfig(_) | ClientMessage::CtConfigValues(_) => "CTCONFIG",
            ClientMessage::CtConfigDone => "CTCONFIGDONE",
            ClientMessage::Unknown(_) => "UNKNOWN",
        }
    }

    fn emit(&self, version: Version, o: &mut dyn Out) -> Result<(), EncodeError> {
        match self {
            ClientMessage::Protocol(p) => p.emit(o),
            ClientMessage::Auth(a) => {
                o.bytes(b"AUTH")?;
                o.sp_bytes(a.password.as_bytes())
            }
            ClientMessage::CtTorrent(t) => {
                o.bytes(b"CTORRENT")?;
                o.sp_bytes(t.peer_id.as_bytes())?;
                o.sp_i64(t.start_timestamp)?;
                o.sp_i64(t.current_timestamp)?;
                o.sp_bytes(t.filename.as_bytes())
            }
            ClientMessage::CtStatus(s) => emit_status(s, version, o),
            ClientMessage::CtBw(b) => {
                o.bytes(b"CTBW")?;
                o.sp_ints(&[b.dl_rate, b.ul_rate], b",")?;
                o.sp_ints(&[b.dl_limit, b.ul_limit], b",")
            }
            ClientMessage::CtInfo(i) => {
                o.bytes(b"CTINFO")?;
                o.sp_i32(i.severity)?;
                o.sp_bytes(i.message.as_bytes())
            }
            ClientMessage::CtDetail(d) => {
                o.bytes(b"CTDETAIL")?;
                o.sp_i64(d.torrent_size)?;
                o.sp_i32(d.piece_size)?;
                o.sp_i64(d.current_timestamp)?;
                o.sp_i64(d.seed_timestamp)
            }
            ClientMessage::CtFile(file) => emit_file(file, version, o),
            ClientMessage::CtPeer(p) => {
                o.bytes(b"CTPEER")?;
                o.sp_bytes(p.peer_id.as_bytes())?;
                o.bytes(b" ")?;
                let mut first = true;
                for octet in p.address.octets() {
                    if !first {
                        o.bytes(b".")?;
                    }
                    first = false;
                    o.u64(u64::from(octet))?;
                }
                o.sp_bytes(&p.choke_interest.to_bytes())?;
                o.sp_i32(p.dl_rate)?;
                o.sp_i32(p.ul_rate)?;
                o.sp_u64(p.dl_total)?;
                o.sp_u64(p.ul_total)?;
                o.sp_i32(p.n_pieces)
            }
            ClientMessage::CtConfig(c) => {
                o.bytes(b"CTCONFIG")?;
                o.sp_bytes(c.name.as_bytes())?;
                o.sp_bytes(&[c.value_type.letter()])?;
                o.sp_bytes(c.range.as_bytes())?;
                o.sp_len_value(c.value)?;
                o.sp_len_value(c.short_desc)?;
                o.sp_len_value(c.long_desc)
            }
            ClientMessage::CtConfigValues(c) => {
                let layout = if version == Version::V2 {
                    Layout::V2
                } else {
                    Layout::V1
                };
                c.emit(o, layout)
            }
            ClientMessage::Unknown(t) => o.bytes(t.as_bytes()),
            other => o.bytes(other.keyword(version).as_bytes()),
        }
    }

    /// The number of bytes [`encode`](Self::encode) writes, LF included.
    pub fn encoded_len(&self, version: Version) -> usize {
        line_len(&|o: &mut dyn Out| self.emit(version, o))
    }

    /// Writes the line for `version`, LF-terminated, into `buf`; returns its length.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if `buf` is shorter than [`encoded_len`](Self::encoded_len);
    /// `buf` is then untouched.
    pub fn encode(&self, version: Version, buf: &mut [u8]) -> Result<usize, EncodeError> {
        encode_line(buf, |o| self.emit(version, o))
    }
}

fn parse_status(f: &mut Fields<'_>, version: Version) -> Result<CtStatus, DecodeError> {
    let mut s = CtStatus::default();
    if version.has_v1_status() {
        [s.seeders, s.leechers] = f.ints::<2>(b"/")?;
    } else {
        [
            s.seeders,
            s.total_seeders,
            s.leechers,
            s.total_leechers,
            s.connecting,
        ] = f.ints::<5>(b":/:/")?;
    }
    [s.n_have, s.n_total, s.n_avail] = f.ints::<3>(b"//")?;
    [s.dl_rate, s.ul_rate] = f.ints::<2>(b",")?;
    [s.dl_total, s.ul_total] = f.u64_pair()?;
    [s.dl_limit, s.ul_limit] = f.ints::<2>(b",")?;
    if !version.has_v1_status() {
        s.cache_used = f.i32()?;
    }
    f.finish()?;
    Ok(s)
}

fn emit_status(s: &CtStatus, version: Version, o: &mut dyn Out) -> Result<(), EncodeError> {
    o.bytes(b"CTSTATUS")?;
    if version.has_v1_status() {
        o.sp_ints(&[s.seeders, s.leechers], b"/")?;
    } else {
        o.sp_ints(
            &[
                s.seeders,
                s.total_seeders,
                s.leechers,
                s.total_leechers,
                s.connecting,
            ],
            b":/:/",
        )?;
    }
    o.sp_ints(&[s.n_have, s.n_total, s.n_avail], b"//")?;
    o.sp_ints(&[s.dl_rate, s.ul_rate], b",")?;
    o.sp_u64_pair([s.dl_total, s.ul_total])?;
    o.sp_ints(&[s.dl_limit, s.ul_limit], b",")?;
    if !version.has_v1_status() {
        o.sp_i32(s.cache_used)?;
    }
    Ok(())
}

fn parse_file<'a>(f: &mut Fields<'a>, version: Version) -> Result<CtFile<'a>, DecodeError> {
    let fileno = f.i32()?;
    let (priority, current_priority) = if version.is_v3() {
        (f.i32()?, f.i32()?)
    } else {
        (0, 0)
    };
    let n_pieces = f.i32()?;
    let n_have = f.i32()?;
    let n_available = if version.is_v3() || version == Version::V2 {
        f.i32()?
    } else {
        0
    };
    Ok(CtFile {
        fileno,
        priority,
        current_priority,
        n_pieces,
        n_have,
        n_available,
        filesize: f.u64()?,
        filename: f.rest()?,
    })
}

fn emit_file(file: &CtFile<'_>, version: Version, o: &mut dyn Out) -> Result<(), EncodeError> {
    o.bytes(b"CTFILE")?;
    o.sp_i32(file.fileno)?;
    if version.is_v3() {
        o.sp_i32(file.priority)?;
        o.sp_i32(file.current_priority)?;
    }
    o.sp_i32(file.n_pieces)?;
    o.sp_i32(file.n_have)?;
    if version.is_v3() || version == Version::V2 {
        o.sp_i32(file.n_available)?;
    }
    o.sp_u64(file.filesize)?;
    o.sp_bytes(file.filename.as_bytes())
}

fn parse_peer<'a>(f: &mut Fields<'a>) -> Result<CtPeer<'a>, DecodeError> {
    let peer_id = f.word()?;
    let (addr, at) = f.raw()?;
    let address = core::str::from_utf8(addr)
        .ok()
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
        .ok_or(DecodeError::new(DecodeErrorKind::InvalidField, at))?;
    let (flags, at) = f.raw()?;
    let choke_interest =
        PeerFlags::parse(flags).ok_or(DecodeError::new(DecodeErrorKind::InvalidField, at))?;
    let p = CtPeer {
        peer_id,
        address,
        choke_interest,
        dl_rate: f.i32()?,
        ul_rate: f.i32()?,
        dl_total: f.u64()?,
        ul_total: f.u64()?,
        n_pieces: f.i32()?,
    };
    f.finish()?;
    Ok(p)
}

fn parse_config<'a>(f: &mut Fields<'a>) -> Result<CtConfig<'a>, DecodeError> {
    let name = f.word()?;
    let (t, at) = f.raw()?;
    let value_type =
        ConfigType::parse(t).ok_or(DecodeError::new(DecodeErrorKind::InvalidField, at))?;
    let c = CtConfig {
        name,
        value_type,
        range: f.word()?,
        value: f.len_value()?,
        short_desc: f.len_value()?,
        long_desc: f.len_value()?,
    };
    f.finish()?;
    Ok(c)
}
