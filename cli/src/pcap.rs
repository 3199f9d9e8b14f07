//! `decode udp --pcap FILE`: the UDP datagrams of a pcap or pcapng capture, read with
//! `pcap-file` and sliced with `etherparse`; each is decoded by the library.

use std::io::{BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use serde_json::{json, Map, Value};
use trackwire::udp::{AddressFamily, TailGrammar};

use crate::decode_udp::{decode, Sender};
use crate::failure::Failure;
use crate::out::Buffered;

/// What a capture held besides the datagrams printed.
#[derive(Default)]
pub(crate) struct Summary {
    /// Datagrams that did not decode (their JSON carries the error).
    pub(crate) undecoded: usize,
    /// Frames skipped: not UDP over IP, or not to or from `--port`.
    pub(crate) skipped: usize,
    /// Of those, frames that are not UDP over IPv4/IPv6 or whose link type is unknown.
    pub(crate) not_udp: usize,
    /// Frames cut short or malformed below UDP (too short for their headers).
    pub(crate) malformed: usize,
    /// The file ended inside a record or is corrupt: what went wrong, and where.
    pub(crate) truncated: Option<String>,
}

/// Says on stderr how many frames were skipped and why.
pub(crate) fn say_skipped(s: &Summary) {
    let other_port = s.skipped - s.not_udp - s.malformed;
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!(
            "trackwire: skipped {} frame(s): {} not UDP over IPv4/IPv6, {} malformed, {} on other ports\n",
            s.skipped, s.not_udp, s.malformed, other_port
        ),
    );
}

/// The magic number that opens a pcapng file (a section header block).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Decodes every UDP datagram of the capture at `path` (pcap or pcapng, told apart by
/// the first four bytes), printing one JSON object each.
pub(crate) fn decode_file(
    path: &Path,
    port: Option<u16>,
    sender: Sender,
    grammar: TailGrammar,
    out: &mut Buffered,
) -> Result<Summary, Failure> {
    let shown = path.display();
    let mut file = std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| Failure::Failed(format!("cannot read {shown}: {e}")))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|e| Failure::Failed(format!("{shown}: not a pcap or pcapng file: {e}")))?;
    let reader = std::io::Cursor::new(magic).chain(file);
    let mut d = Decoder {
        port,
        sender,
        grammar,
        summary: Summary::default(),
    };
    let mut frames = 0usize;
    if magic == PCAPNG_MAGIC {
        let mut r = PcapNgReader::new(reader)
            .map_err(|e| Failure::Failed(format!("{shown}: not a pcapng file: {e}")))?;
        // Interfaces as the file describes them, for the link type of each packet (a new
        // section starts a new list).
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = r.next_block() {
            let block = match block {
                Ok(b) => b,
                Err(e) => {
                    d.summary.truncated = Some(format!(
                        "{shown}: corrupt or truncated after {frames} frame(s): {e}"
                    ));
                    break;
                }
            };
            let (link, ts, data) = match &block {
                Block::SectionHeader(_) => {
                    links.clear();
                    continue;
                }
                Block::InterfaceDescription(i) => {
                    links.push(i.linktype);
                    continue;
                }
                Block::EnhancedPacket(p) => (
                    usize::try_from(p.interface_id)
                        .ok()
                        .and_then(|i| links.get(i).copied()),
                    Some(p.timestamp),
                    p.data.as_ref(),
                ),
                Block::SimplePacket(p) => (links.first().copied(), None, p.data.as_ref()),
                _ => continue,
            };
            frames += 1;
            match link {
                Some(link) => d.frame(link, ts, data, out),
                None => {
                    // A packet for an interface never described: the file is corrupt.
                    d.summary.truncated = Some(format!(
                        "{shown}: frame {frames} names an interface the file does not describe"
                    ));
                    break;
                }
            }
        }
    } else {
        let mut r = PcapReader::new(reader)
            .map_err(|e| Failure::Failed(format!("{shown}: not a pcap or pcapng file: {e}")))?;
        let link = r.header().datalink;
        while let Some(packet) = r.next_packet() {
            match packet {
                Ok(p) => {
                    frames += 1;
                    d.frame(link, Some(p.timestamp), &p.data, out);
                }
                Err(e) => {
                    d.summary.truncated = Some(format!(
                        "{shown}: corrupt or truncated after {frames} frame(s): {e}"
                    ));
                    break;
                }
            }
        }
    }
    Ok(d.summary)
}

/// The decoding state across frames.
struct Decoder {
    port: Option<u16>,
    sender: Sender,
    grammar: TailGrammar,
    summary: Summary,
}

/// The UDP datagram a frame carries.
struct Datagram<'a> {
    src: SocketAddr,
    dst: SocketAddr,
    payload: &'a [u8],
}

/// Linux cooked capture v2 (`tcpdump -i any` on recent libpcap): a 20-byte header whose
/// first two bytes are the EtherType.
const SLL2_HEADER_LEN: usize = 20;
/// BSD loopback (`NULL`, `LOOP`): a 4-byte address family, then the IP packet.
const LOOPBACK_HEADER_LEN: usize = 4;

/// Slices one frame down to its UDP datagram. `Err(true)`: malformed; `Err(false)`: not
/// UDP over IP.
fn udp_of(link: DataLink, data: &[u8]) -> Result<Datagram<'_>, bool> {
    let sliced = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
        DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        DataLink::LINUX_SLL2 => {
            let (Some(proto), Some(rest)) = (data.get(..2), data.get(SLL2_HEADER_LEN..)) else {
                return Err(true);
            };
            SlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([proto[0], proto[1]])), rest)
        }
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data),
        DataLink::NULL | DataLink::LOOP => match data.get(LOOPBACK_HEADER_LEN..) {
            Some(rest) => SlicedPacket::from_ip(rest),
            None => return Err(true),
        },
        _ => return Err(false),
    };
    let sliced = sliced.map_err(|_| true)?;
    let (src_ip, dst_ip, fragmented) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
            ip.is_payload_fragmented(),
        ),
        Some(NetSlice::Ipv6(ip)) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
            ip.is_payload_fragmented(),
        ),
        _ => return Err(false),
    };
    match &sliced.transport {
        // A fragment holds only part of a datagram: nothing to decode.
        Some(TransportSlice::Udp(_)) if fragmented => Err(false),
        Some(TransportSlice::Udp(u)) => Ok(Datagram {
            src: SocketAddr::new(src_ip, u.source_port()),
            dst: SocketAddr::new(dst_ip, u.destination_port()),
            payload: u.payload(),
        }),
        _ => Err(false),
    }
}

impl Decoder {
    fn frame(&mut self, link: DataLink, ts: Option<Duration>, data: &[u8], out: &mut Buffered) {
        let d = match udp_of(link, data) {
            Ok(d) => d,
            Err(malformed) => {
                self.summary.skipped += 1;
                if malformed {
                    self.summary.malformed += 1;
                } else {
                    self.summary.not_udp += 1;
                }
                return;
            }
        };
        let sender = match self.port {
            Some(p) if d.dst.port() == p => Sender::Client,
            Some(p) if d.src.port() == p => Sender::Tracker,
            Some(_) => {
                self.summary.skipped += 1;
                return;
            }
            None => self.sender,
        };
        let family = AddressFamily::of(d.src);
        let (decoded, ok) = decode(d.payload, sender, family, self.grammar);
        self.summary.undecoded += usize::from(!ok);
        let mut m = Map::new();
        if let Some(ts) = ts {
            m.insert("ts".into(), json!(ts.as_secs_f64()));
        }
        m.insert("src".into(), json!(d.src.to_string()));
        m.insert("dst".into(), json!(d.dst.to_string()));
        m.insert(
            "from".into(),
            json!(match sender {
                Sender::Client => "client",
                Sender::Tracker => "tracker",
            }),
        );
        if let Value::Object(fields) = decoded {
            m.extend(fields);
        }
        out.json(&Value::Object(m));
    }
}
