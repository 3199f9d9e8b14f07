//! The `heapless` feature: owned fixed-capacity copies of every borrowed UDP view a user
//! may keep past the datagram (error text, URLData, peers, info hashes, scrape rows),
//! each checked against what the borrowed view yields and refused, with the count,
//! when it does not fit.
#![cfg(feature = "heapless")]

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};

use trackwire::udp::{
    AddressFamily, AnnounceRequest, AnnounceResponse, AnnounceTail, ConnectionId, ErrorResponse,
    InfoHash, InfoHashes, Options, PeerId, Peers, Response, ScrapeRequest, ScrapeResponse,
    ScrapeRow, ScrapeRows, TransactionId,
};

/// Encodes with `f` into a fresh buffer and returns the datagram.
fn datagram(f: impl FnOnce(&mut [u8]) -> Result<usize, trackwire::EncodeError>) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let n = f(&mut buf).expect("fits 1500 bytes");
    buf.truncate(n);
    buf
}

#[test]
fn error_text_outlives_the_datagram() {
    let bytes = datagram(|b| {
        ErrorResponse {
            transaction_id: TransactionId(9),
            message: b"torrent not registered\0",
        }
        .encode(b)
    });
    let kept = {
        let Ok(Response::Error(e)) = Response::decode(&bytes, AddressFamily::Ipv4) else {
            panic!("not an error response");
        };
        assert!(e.text_heapless::<21>().is_err(), "22 bytes do not fit 21");
        e.text_heapless::<22>().expect("fits exactly")
    };
    drop(bytes);
    assert_eq!(kept.as_slice(), b"torrent not registered");
}

#[test]
fn url_data_outlives_the_datagram() {
    let url = b"/announce?passkey=0123456789abcdef";
    let mut opts = [0u8; 64];
    let n = trackwire::udp::encode_url_data(url, true, &mut opts).expect("fits");
    let bytes = datagram(|b| {
        AnnounceRequest {
            connection_id: ConnectionId(1),
            transaction_id: TransactionId(2),
            info_hash: InfoHash([3; 20]),
            peer_id: PeerId([4; 20]),
            downloaded: 0,
            left: 0,
            uploaded: 0,
            event: Default::default(),
            ip: 0,
            key: 5,
            num_want: -1,
            port: 6881,
            tail: AnnounceTail::Options(Options::decode(&opts[..n]).expect("valid")),
        }
        .encode(b)
    });
    let kept = {
        let a = AnnounceRequest::decode(&bytes).expect("valid");
        let o = a.options().expect("BEP 41 tail");
        assert_eq!(
            o.url_data_heapless::<33>().unwrap_err().required(),
            url.len()
        );
        o.url_data_heapless::<64>().expect("fits")
    };
    drop(bytes);
    assert_eq!(kept.as_slice(), url);
}

#[test]
fn peers_outlive_the_datagram() {
    let v4: Vec<SocketAddrV4> = (0..5u16)
        .map(|i| SocketAddrV4::new([10, 0, 0, i as u8].into(), 6881 + i))
        .collect();
    let v6: Vec<SocketAddrV6> = (0..3u16)
        .map(|i| SocketAddrV6::new([0x2001, 0xdb8, 0, 0, 0, 0, 0, i].into(), 51413 - i, 0, 0))
        .collect();
    let header = AnnounceResponse {
        transaction_id: TransactionId(1),
        interval: 1800,
        leechers: 3,
        seeders: 2,
        peers: Peers::empty(AddressFamily::Ipv4),
    };
    let d4 = datagram(|b| header.encode_with_peers(v4.iter().copied(), b));
    let d6 = datagram(|b| header.encode_with_peers(v6.iter().copied(), b));
    let (kept4, kept6) = {
        let a4 = AnnounceResponse::decode(&d4, AddressFamily::Ipv4).expect("valid");
        let a6 = AnnounceResponse::decode(&d6, AddressFamily::Ipv6).expect("valid");
        assert_eq!(a4.peers.to_heapless::<4>().unwrap_err().required(), 5);
        (
            a4.peers.to_heapless::<5>().expect("fits"),
            a6.peers.to_heapless::<8>().expect("fits"),
        )
    };
    drop((d4, d6));
    let want4: Vec<SocketAddr> = v4.into_iter().map(SocketAddr::V4).collect();
    let want6: Vec<SocketAddr> = v6.into_iter().map(SocketAddr::V6).collect();
    assert_eq!(kept4.as_slice(), want4);
    assert_eq!(kept6.as_slice(), want6);
}

#[test]
fn info_hashes_outlive_the_datagram() {
    let hashes: Vec<InfoHash> = (0..3u8).map(|i| InfoHash([i ^ 0x5a; 20])).collect();
    let bytes = datagram(|b| {
        ScrapeRequest {
            connection_id: ConnectionId(7),
            transaction_id: TransactionId(8),
            info_hashes: InfoHashes::from_slice(&hashes),
        }
        .encode(b)
    });
    let kept = {
        let s = ScrapeRequest::decode(&bytes).expect("valid");
        assert_eq!(s.info_hashes.to_heapless::<2>().unwrap_err().required(), 3);
        s.info_hashes.to_heapless::<3>().expect("fits")
    };
    drop(bytes);
    assert_eq!(kept.as_slice(), hashes);
    // A list given as a slice copies the same way.
    let given = InfoHashes::from_slice(&hashes)
        .to_heapless::<4>()
        .expect("fits");
    assert_eq!(given, kept);
}

#[test]
fn scrape_rows_outlive_the_datagram() {
    let rows: Vec<ScrapeRow> = (0..4u32)
        .map(|i| ScrapeRow {
            complete: i,
            downloaded: 100 + i,
            incomplete: u32::MAX - i,
        })
        .collect();
    let bytes = datagram(|b| {
        ScrapeResponse {
            transaction_id: TransactionId(8),
            rows: ScrapeRows::from_slice(&rows),
        }
        .encode(b)
    });
    let kept = {
        let s = ScrapeResponse::decode(&bytes).expect("valid");
        assert_eq!(s.rows.to_heapless::<3>().unwrap_err().required(), 4);
        s.rows.to_heapless::<4>().expect("fits")
    };
    drop(bytes);
    assert_eq!(kept.as_slice(), rows);
}
