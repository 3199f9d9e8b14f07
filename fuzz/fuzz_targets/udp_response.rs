//! Decodes arbitrary bytes as a UDP tracker response for each address family.
//!
//! Asserts: no panic; `Response::decode` agrees with the per-action decoders; error
//! offsets lie within the input; peer lists and scrape rows iterate exactly `len()`
//! entries of the right family; encoding a decoded response gives back the input (a
//! prefix of it for a padded connect reply), with exact `encoded_len` and an untouched
//! buffer when it is short.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use trackwire::udp::{
    AddressFamily, AnnounceResponse, ConnectResponse, ErrorResponse, Response, ScrapeResponse,
};
use trackwire_fuzz::{check_offset, encode_checked};

fn exercise(r: &Response<'_>, input: &[u8], family: AddressFamily) {
    match r {
        Response::Connect(_) => {}
        Response::Announce(a) => {
            let p = a.peers;
            assert_eq!(p.family(), family);
            let all: Vec<_> = p.iter().collect();
            assert_eq!(all.len(), p.len());
            assert_eq!(p.is_empty(), all.is_empty());
            assert_eq!(p.as_bytes().len(), p.len() * family.peer_len());
            match family {
                AddressFamily::Ipv4 => {
                    assert!(p.iter_v6().is_none());
                    let v4: Vec<SocketAddr> = p.iter_v4().unwrap().map(SocketAddr::V4).collect();
                    assert_eq!(v4, all);
                }
                AddressFamily::Ipv6 => {
                    assert!(p.iter_v4().is_none());
                    let v6: Vec<SocketAddr> = p.iter_v6().unwrap().map(SocketAddr::V6).collect();
                    assert_eq!(v6, all);
                }
            }
            let n = all.len();
            assert_eq!(p.first(n / 2).len(), n / 2);
            assert_eq!(p.first(usize::MAX).len(), n);
        }
        Response::Scrape(s) => {
            assert_eq!(s.rows.iter().count(), s.rows.len());
            assert_eq!(8 + 12 * s.rows.len(), input.len());
        }
        Response::Error(e) => {
            assert!(e.text().len() + 1 >= e.message.len());
            assert_eq!(e.to_str().ok(), std::str::from_utf8(e.text()).ok());
        }
    }
    let bytes = encode_checked(r.encoded_len(), |b| r.encode(b));
    assert_eq!(&bytes[..], &input[..bytes.len()]);
    if !matches!(r, Response::Connect(_)) {
        assert_eq!(bytes.len(), input.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let action = data
        .get(..4)
        .map(|a| u32::from_be_bytes(a.try_into().unwrap()));
    for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
        let any = Response::decode(data, family);
        let specific = match action {
            Some(0) => Some(ConnectResponse::decode(data).map(Response::Connect)),
            Some(1) => Some(AnnounceResponse::decode(data, family).map(Response::Announce)),
            Some(2) => Some(ScrapeResponse::decode(data).map(Response::Scrape)),
            Some(3) => Some(ErrorResponse::decode(data).map(Response::Error)),
            _ => None,
        };
        match specific {
            Some(s) => assert_eq!(any, s),
            None => assert!(any.is_err()),
        }
        match &any {
            Ok(r) => exercise(r, data, family),
            Err(e) => check_offset(e, data.len()),
        }
    }
});
