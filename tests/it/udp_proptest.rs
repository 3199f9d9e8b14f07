//! Property tests for the UDP tracker codec (BEP 15, BEP 41, legacy extensions).
//!
//! * round trips: `decode(encode(x)) == x` and `encode(decode(b)) == b` for every
//!   message, tail kind and address family, through the specific decoders and the
//!   dispatchers;
//! * totality: arbitrary bytes (and bytes behind a valid header) give `Ok` or an error
//!   whose offset is within the input, and every `Ok` value iterates and re-encodes to
//!   the input; every prefix of a valid message does too, and a `Truncated` error asks
//!   only for bytes the whole message has;
//! * encoders leave a too-small buffer untouched and report the exact size needed;
//! * legacy authentication: the password hash covers exactly the bytes before it.
//!
//! Messages borrow, so the strategies generate owned parts and each test builds the
//! borrowed message from them.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use trackwire::udp::password_digest as sha1;
use trackwire::udp::{encode_url_data, url_data_encoded_len, verify_datagram, PASSWD_HASH_LEN};
use trackwire::udp::{
    AddressFamily, AnnounceEvent, AnnounceOption, AnnounceRequest, AnnounceResponse, AnnounceTail,
    Authentication, ConnectRequest, ConnectResponse, ConnectionId, ErrorResponse, Extensions,
    InfoHash, InfoHashes, Options, PasswdHash, PeerId, Peers, Request, Response, ScrapeRequest,
    ScrapeResponse, ScrapeRow, ScrapeRows, ShortBytes, TailGrammar, TransactionId, PROTOCOL_ID,
};
use trackwire::{DecodeError, DecodeErrorKind, EncodeError};

const GRAMMARS: [TailGrammar; 3] = [TailGrammar::Bep41, TailGrammar::Legacy, TailGrammar::Raw];
const FAMILIES: [AddressFamily; 2] = [AddressFamily::Ipv4, AddressFamily::Ipv6];
/// Fill bytes for the output buffers; two values, so that an encoder that happens to
/// write the fill byte still shows up with the other one.
const SENTINELS: [u8; 2] = [0x5a, 0xa5];
/// Where the legacy password hash's covered prefix ends, before the user name:
/// 98 fixed bytes, the `extensions` u16 and the user name's length byte.
const AUTH_PREFIX_LEN: usize = 101;

// ---- helpers ----------------------------------------------------------------------------

/// Runs `encode` on a buffer one byte too short and on a larger one, for each sentinel.
///
/// Checks that the short buffer gives `Err(e)` with `e.required() == len` and is left
/// untouched, that the larger one gives exactly `len` bytes and is untouched past them,
/// and returns the encoded bytes.
fn encode_checked(
    len: usize,
    encode: impl Fn(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<Vec<u8>, TestCaseError> {
    let mut out: Option<Vec<u8>> = None;
    for sentinel in SENTINELS {
        if let Some(short) = len.checked_sub(1) {
            let mut buf = vec![sentinel; short];
            match encode(&mut buf) {
                Ok(n) => {
                    return Err(TestCaseError::fail(format!(
                        "encoded {n} bytes into a {short}-byte buffer (needs {len})"
                    )))
                }
                Err(e) => prop_assert_eq!(e.required(), len),
            }
            prop_assert!(
                buf.iter().all(|&b| b == sentinel),
                "a failed encode wrote into the buffer"
            );
        }
        let mut buf = vec![sentinel; len + 9];
        prop_assert_eq!(encode(&mut buf), Ok(len));
        prop_assert!(
            buf[len..].iter().all(|&b| b == sentinel),
            "encode wrote past its length"
        );
        buf.truncate(len);
        if let Some(prev) = &out {
            prop_assert_eq!(prev, &buf);
        }
        out = Some(buf);
    }
    Ok(out.unwrap_or_default())
}

/// The error offset of `r`, if any, is within an input of `len` bytes.
fn offset_within<T>(r: &Result<T, DecodeError>, len: usize) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(
            e.offset() <= len,
            "error offset {} past the end of a {len}-byte input ({e})",
            e.offset()
        );
    }
    Ok(())
}

/// Every prefix of a message `full` that `decode` accepts decodes to `Ok` or to an error
/// within the prefix; a `Truncated { needed }` error asks for bytes that `full` has.
fn check_prefixes(
    full: &[u8],
    decode: impl Fn(&[u8]) -> Result<(), DecodeError>,
) -> Result<(), TestCaseError> {
    // A message read under the wrong decoder may ask for bytes that are not there.
    let whole = decode(full).is_ok();
    // Every cut in the headers, then every 7th.
    let cuts = (0..full.len().min(120)).chain((120..full.len()).step_by(7));
    for k in cuts {
        let r = decode(&full[..k]);
        offset_within(&r, k)?;
        if let (true, Err(e)) = (whole, r) {
            if let DecodeErrorKind::Truncated { needed } = e.kind() {
                prop_assert!(needed >= 1, "{}", e);
                prop_assert!(k + needed <= full.len(), "cut at {}: {}", k, e);
            }
        }
    }
    Ok(())
}

/// [`check_prefixes`] for a request, under every grammar and through every decoder.
fn request_prefixes(full: &[u8]) -> Result<(), TestCaseError> {
    for g in GRAMMARS {
        check_prefixes(full, |b| Request::decode_with(b, g).map(drop))?;
        check_prefixes(full, |b| AnnounceRequest::decode_with(b, g).map(drop))?;
    }
    check_prefixes(full, |b| ConnectRequest::decode(b).map(drop))?;
    check_prefixes(full, |b| ScrapeRequest::decode(b).map(drop))
}

/// [`check_prefixes`] for a response, through every decoder.
fn response_prefixes(full: &[u8], family: AddressFamily) -> Result<(), TestCaseError> {
    check_prefixes(full, |b| Response::decode(b, family).map(drop))?;
    check_prefixes(full, |b| AnnounceResponse::decode(b, family).map(drop))?;
    check_prefixes(full, |b| ConnectResponse::decode(b).map(drop))?;
    check_prefixes(full, |b| ScrapeResponse::decode(b).map(drop))?;
    check_prefixes(full, |b| ErrorResponse::decode(b).map(drop))
}

/// Appends the wire form of one option.
fn push_option(out: &mut Vec<u8>, o: &AnnounceOption<'_>) {
    out.push(o.kind());
    if !matches!(o, AnnounceOption::EndOfOptions | AnnounceOption::Nop) {
        out.push(u8::try_from(o.data().len()).expect("option data <= 255"));
        out.extend_from_slice(o.data());
    }
}

/// Iterates everything a decoded option list offers and checks it adds up to its bytes.
fn exercise_options(o: &Options<'_>) -> Result<(), TestCaseError> {
    let all: Vec<AnnounceOption<'_>> = o.iter().collect();
    prop_assert_eq!(o.into_iter().count(), all.len());
    if let Some(pos) = all.iter().position(|x| *x == AnnounceOption::EndOfOptions) {
        prop_assert_eq!(pos + 1, all.len(), "options after EndOfOptions");
    } else {
        prop_assert!(o.after_end().is_empty());
    }
    // The options and the bytes after EndOfOptions are exactly the raw bytes.
    let mut re = Vec::new();
    all.iter().for_each(|x| push_option(&mut re, x));
    re.extend_from_slice(o.after_end());
    prop_assert_eq!(&re[..], o.as_bytes());
    // URL data: the chunks, their length and the copy agree.
    let chunks: Vec<u8> = o.url_data().flatten().copied().collect();
    prop_assert_eq!(o.url_data_len(), chunks.len());
    let url = encode_checked(chunks.len(), |buf| o.copy_url_data(buf))?;
    prop_assert_eq!(url, chunks);
    prop_assert_eq!(o.is_empty(), o.as_bytes().is_empty());
    Ok(())
}

/// Encodes a decoded request (through its own encoder and the dispatcher) and checks it
/// reproduces the input: exactly, or its first 16 bytes for a connect request.
fn exercise_request(r: &Request<'_>, input: &[u8]) -> Result<(), TestCaseError> {
    let len = r.encoded_len();
    let bytes = match r {
        Request::Connect(c) => {
            prop_assert_eq!(r.connection_id(), None);
            prop_assert_eq!(r.transaction_id(), c.transaction_id);
            encode_checked(ConnectRequest::LEN, |buf| c.encode(buf))?
        }
        Request::Announce(a) => {
            prop_assert_eq!(r.connection_id(), Some(a.connection_id));
            prop_assert_eq!(r.transaction_id(), a.transaction_id);
            prop_assert_eq!(
                a.options().is_some(),
                matches!(a.tail, AnnounceTail::Options(_))
            );
            prop_assert_eq!(
                a.extensions().is_some(),
                matches!(a.tail, AnnounceTail::Extensions(_))
            );
            match &a.tail {
                AnnounceTail::None => prop_assert_eq!(input.len(), 98),
                AnnounceTail::Options(o) => {
                    prop_assert!(!o.is_empty());
                    exercise_options(o)?;
                }
                AnnounceTail::Extensions(e) => {
                    prop_assert_eq!(e.bits, e.wire_bits());
                    if let Some(auth) = &e.auth {
                        prop_assert!(auth.username.as_bytes().len() <= 255);
                        prop_assert!(matches!(auth.passwd_hash, PasswdHash::Hash(_)));
                    }
                    if let Some(s) = &e.request_string {
                        prop_assert!(s.as_bytes().len() <= 255);
                    }
                    prop_assert_eq!(98 + e.encoded_len(), input.len());
                }
                AnnounceTail::Raw(b) => prop_assert!(!b.is_empty()),
            }
            encode_checked(a.encoded_len(), |buf| a.encode(buf))?
        }
        Request::Scrape(s) => {
            prop_assert_eq!(r.connection_id(), Some(s.connection_id));
            let hashes: Vec<InfoHash> = s.info_hashes.iter().collect();
            prop_assert_eq!(hashes.len(), s.info_hashes.len());
            prop_assert_eq!(s.info_hashes.is_empty(), hashes.is_empty());
            prop_assert_eq!(s.info_hashes.iter().len(), hashes.len());
            prop_assert_eq!(s.info_hashes.wire_bytes(), input.get(16..));
            encode_checked(s.encoded_len(), |buf| s.encode(buf))?
        }
    };
    prop_assert_eq!(encode_checked(len, |buf| r.encode(buf))?, bytes.clone());
    prop_assert_eq!(&bytes[..], &input[..bytes.len()]);
    if !matches!(r, Request::Connect(_)) {
        prop_assert_eq!(bytes.len(), input.len());
    }
    Ok(())
}

/// Like [`exercise_request`], for responses (connect responses may also be padded).
fn exercise_response(
    r: &Response<'_>,
    family: AddressFamily,
    input: &[u8],
) -> Result<(), TestCaseError> {
    let len = r.encoded_len();
    let bytes = match r {
        Response::Connect(c) => encode_checked(ConnectResponse::LEN, |buf| c.encode(buf))?,
        Response::Announce(a) => {
            let p = &a.peers;
            prop_assert_eq!(p.family(), family);
            let all: Vec<SocketAddr> = p.iter().collect();
            prop_assert_eq!(all.len(), p.len());
            prop_assert_eq!(p.is_empty(), all.is_empty());
            prop_assert_eq!(p.into_iter().len(), all.len());
            prop_assert_eq!(p.as_bytes().len(), p.len() * family.peer_len());
            match family {
                AddressFamily::Ipv4 => {
                    prop_assert!(p.iter_v6().is_none());
                    let v4: Vec<SocketAddr> =
                        p.iter_v4().expect("v4").map(SocketAddr::V4).collect();
                    prop_assert_eq!(&v4, &all);
                }
                AddressFamily::Ipv6 => {
                    prop_assert!(p.iter_v4().is_none());
                    let v6: Vec<SocketAddr> =
                        p.iter_v6().expect("v6").map(SocketAddr::V6).collect();
                    prop_assert_eq!(&v6, &all);
                }
            }
            encode_checked(a.encoded_len(), |buf| a.encode(buf))?
        }
        Response::Scrape(s) => {
            let rows: Vec<ScrapeRow> = s.rows.iter().collect();
            prop_assert_eq!(rows.len(), s.rows.len());
            prop_assert_eq!(s.rows.is_empty(), rows.is_empty());
            prop_assert_eq!(s.rows.into_iter().len(), rows.len());
            encode_checked(s.encoded_len(), |buf| s.encode(buf))?
        }
        Response::Error(e) => {
            let text = e.text();
            prop_assert!(
                text == e.message
                    || (e.message.last() == Some(&0) && text.len() + 1 == e.message.len())
            );
            prop_assert_eq!(e.to_str().ok(), std::str::from_utf8(text).ok());
            encode_checked(e.encoded_len(), |buf| e.encode(buf))?
        }
    };
    prop_assert_eq!(encode_checked(len, |buf| r.encode(buf))?, bytes.clone());
    prop_assert_eq!(&bytes[..], &input[..bytes.len()]);
    if !matches!(r, Response::Connect(_)) {
        prop_assert_eq!(bytes.len(), input.len());
    }
    Ok(())
}

/// Every decoder on `b`: total, consistent with the dispatchers, and every `Ok`
/// iterates and re-encodes.
fn check_total(b: &[u8]) -> Result<(), TestCaseError> {
    let n = b.len();
    let action = |at: usize| {
        b.get(at..at + 4)
            .map(|a| u32::from_be_bytes(a.try_into().unwrap()))
    };

    // Requests.
    let connect = ConnectRequest::decode(b);
    let scrape = ScrapeRequest::decode(b);
    offset_within(&connect, n)?;
    offset_within(&scrape, n)?;
    prop_assert_eq!(
        AnnounceRequest::decode(b),
        AnnounceRequest::decode_with(b, TailGrammar::Bep41)
    );
    prop_assert_eq!(
        Request::decode(b),
        Request::decode_with(b, TailGrammar::Bep41)
    );
    for g in GRAMMARS {
        let announce = AnnounceRequest::decode_with(b, g);
        let any = Request::decode_with(b, g);
        offset_within(&announce, n)?;
        offset_within(&any, n)?;
        match action(8) {
            Some(0) => prop_assert_eq!(&any, &connect.map(Request::Connect)),
            Some(1) => prop_assert_eq!(&any, &announce.map(Request::Announce)),
            Some(2) => prop_assert_eq!(&any, &scrape.map(Request::Scrape)),
            _ => prop_assert!(any.is_err()),
        }
        if let Ok(r) = &any {
            exercise_request(r, b)?;
        }
        // The specific decoders on their own, whatever the action.
        if let Ok(a) = &announce {
            exercise_request(&Request::Announce(*a), b)?;
        }
    }
    if let Ok(c) = &connect {
        exercise_request(&Request::Connect(*c), b)?;
    }
    if let Ok(s) = &scrape {
        exercise_request(&Request::Scrape(*s), b)?;
    }

    // Responses.
    let connect = ConnectResponse::decode(b);
    let scrape = ScrapeResponse::decode(b);
    let error = ErrorResponse::decode(b);
    offset_within(&connect, n)?;
    offset_within(&scrape, n)?;
    offset_within(&error, n)?;
    for family in FAMILIES {
        let announce = AnnounceResponse::decode(b, family);
        let any = Response::decode(b, family);
        offset_within(&announce, n)?;
        offset_within(&any, n)?;
        match action(0) {
            Some(0) => prop_assert_eq!(&any, &connect.map(Response::Connect)),
            Some(1) => prop_assert_eq!(&any, &announce.map(Response::Announce)),
            Some(2) => prop_assert_eq!(&any, &scrape.map(Response::Scrape)),
            Some(3) => prop_assert_eq!(&any, &error.map(Response::Error)),
            _ => prop_assert!(any.is_err()),
        }
        if let Ok(r) = &any {
            exercise_response(r, family, b)?;
        }
    }

    // A bare option list.
    let options = Options::decode(b);
    offset_within(&options, n)?;
    if let Ok(o) = &options {
        exercise_options(o)?;
    }
    Ok(())
}

// ---- strategies -------------------------------------------------------------------------

/// The fixed fields of an announce request, owned.
#[derive(Debug, Clone)]
struct Fixed {
    connection_id: u64,
    transaction_id: u32,
    info_hash: [u8; 20],
    peer_id: [u8; 20],
    downloaded: i64,
    left: i64,
    uploaded: i64,
    event: u32,
    ip: u32,
    key: u32,
    num_want: i32,
    port: u16,
}

impl Fixed {
    fn request<'a>(&self, tail: AnnounceTail<'a>) -> AnnounceRequest<'a> {
        AnnounceRequest {
            connection_id: ConnectionId(self.connection_id),
            transaction_id: TransactionId(self.transaction_id),
            info_hash: InfoHash(self.info_hash),
            peer_id: PeerId(self.peer_id),
            downloaded: self.downloaded,
            left: self.left,
            uploaded: self.uploaded,
            event: AnnounceEvent::from_u32(self.event),
            ip: self.ip,
            key: self.key,
            num_want: self.num_want,
            port: self.port,
            tail,
        }
    }
}

prop_compose! {
    fn fixed()(
        connection_id in any::<u64>(),
        transaction_id in any::<u32>(),
        info_hash in any::<[u8; 20]>(),
        peer_id in any::<[u8; 20]>(),
        (downloaded, left, uploaded) in any::<(i64, i64, i64)>(),
        event in prop_oneof![0u32..=5, any::<u32>()],
        (ip, key, num_want, port) in any::<(u32, u32, i32, u16)>(),
    ) -> Fixed {
        Fixed {
            connection_id, transaction_id, info_hash, peer_id, downloaded, left, uploaded,
            event, ip, key, num_want, port,
        }
    }
}

fn short_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=255)
}

/// One BEP 41 option, owned: NOP, URLData or an unknown type.
#[derive(Debug, Clone)]
enum GenOption {
    Nop,
    Url(Vec<u8>),
    Unknown(u8, Vec<u8>),
}

fn gen_option() -> impl Strategy<Value = GenOption> {
    prop_oneof![
        Just(GenOption::Nop),
        vec(any::<u8>(), 0..=255).prop_map(GenOption::Url),
        (3u8..=255, short_bytes()).prop_map(|(k, d)| GenOption::Unknown(k, d)),
    ]
}

/// A valid option list: options, then optionally EndOfOptions and arbitrary bytes.
#[derive(Debug, Clone)]
struct GenOptions {
    options: Vec<GenOption>,
    end: Option<Vec<u8>>,
}

impl GenOptions {
    fn expected(&self) -> Vec<AnnounceOption<'_>> {
        let mut v: Vec<AnnounceOption<'_>> = self
            .options
            .iter()
            .map(|o| match o {
                GenOption::Nop => AnnounceOption::Nop,
                GenOption::Url(d) => AnnounceOption::UrlData(d),
                GenOption::Unknown(kind, data) => AnnounceOption::Unknown { kind: *kind, data },
            })
            .collect();
        if self.end.is_some() {
            v.push(AnnounceOption::EndOfOptions);
        }
        v
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.expected()
            .iter()
            .for_each(|o| push_option(&mut out, o));
        if let Some(after) = &self.end {
            out.extend_from_slice(after);
        }
        out
    }

    fn url(&self) -> Vec<u8> {
        self.options
            .iter()
            .filter_map(|o| match o {
                GenOption::Url(d) => Some(&d[..]),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }
}

prop_compose! {
    fn gen_options()(
        options in vec(gen_option(), 0..6),
        end in proptest::option::of(vec(any::<u8>(), 0..40)),
    ) -> GenOptions {
        GenOptions { options, end }
    }
}

/// Legacy extension parts, owned.
#[derive(Debug, Clone)]
struct GenExtensions {
    auth: Option<(Vec<u8>, [u8; PASSWD_HASH_LEN])>,
    request_string: Option<Vec<u8>>,
    /// Bits other than 1 and 2 (0 in half the cases).
    extra_bits: u16,
    rest: Vec<u8>,
}

impl GenExtensions {
    fn build(&self) -> Extensions<'_> {
        let auth = self.auth.as_ref().map(|(name, hash)| Authentication {
            username: ShortBytes::new(name).expect("<= 255"),
            passwd_hash: PasswdHash::Hash(*hash),
        });
        let rs = self
            .request_string
            .as_deref()
            .map(|s| ShortBytes::new(s).expect("<= 255"));
        let mut e = Extensions::new(auth, rs);
        e.bits |= self.extra_bits & !3;
        e.rest = &self.rest;
        e
    }
}

prop_compose! {
    fn gen_extensions()(
        auth in proptest::option::of((short_bytes(), any::<[u8; PASSWD_HASH_LEN]>())),
        request_string in proptest::option::of(short_bytes()),
        extra_bits in prop_oneof![Just(0u16), any::<u16>()],
        rest in prop_oneof![Just(Vec::new()), vec(any::<u8>(), 0..40)],
    ) -> GenExtensions {
        GenExtensions { auth, request_string, extra_bits, rest }
    }
}

fn v4_addr() -> impl Strategy<Value = SocketAddrV4> {
    any::<([u8; 4], u16)>().prop_map(|(ip, port)| SocketAddrV4::new(Ipv4Addr::from(ip), port))
}

fn v6_addr() -> impl Strategy<Value = SocketAddrV6> {
    any::<([u8; 16], u16)>()
        .prop_map(|(ip, port)| SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, 0))
}

/// Bytes that lean toward 0–3 (option kinds, EndOfOptions, extension bits, short lengths)
/// so that option lists and extension bodies parse more often than uniform bytes would.
fn fuzz_byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), 0u8..4]
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A valid 16-byte request header of action 0–3 (3 is invalid for requests).
fn request_header() -> impl Strategy<Value = Vec<u8>> {
    (0u32..=3, any::<u64>(), any::<u32>(), any::<bool>()).prop_map(|(action, cid, tid, magic)| {
        let cid = if action == 0 || magic {
            PROTOCOL_ID
        } else {
            cid
        };
        cat(&[
            &cid.to_be_bytes(),
            &action.to_be_bytes(),
            &tid.to_be_bytes(),
        ])
    })
}

/// A valid 8-byte response header of action 0–4 (4 is invalid).
fn response_header() -> impl Strategy<Value = Vec<u8>> {
    (0u32..=4, any::<u32>())
        .prop_map(|(action, tid)| cat(&[&action.to_be_bytes(), &tid.to_be_bytes()]))
}

/// Inputs for the totality tests.
fn fuzz_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..=2000),
        vec(fuzz_byte(), 0..=40),
        (request_header(), vec(fuzz_byte(), 0..=2000)).prop_map(|(h, b)| cat(&[&h, &b])),
        // An announce with a short tail: the tail grammars' deep paths.
        (
            request_header(),
            vec(any::<u8>(), 82),
            vec(fuzz_byte(), 0..=64)
        )
            .prop_map(|(h, f, t)| cat(&[&h, &f, &t])),
        (response_header(), vec(fuzz_byte(), 0..=2000)).prop_map(|(h, b)| cat(&[&h, &b])),
        // Whole peers and rows more often than uniform lengths would give.
        (response_header(), 0usize..=40, any::<u8>())
            .prop_map(|(h, n, fill)| cat(&[&h, &vec![fill; n * 36]])),
    ]
}

// ---- properties -------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/udp_proptest.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn event_keeps_every_value(v in any::<u32>()) {
        prop_assert_eq!(AnnounceEvent::from_u32(v).to_u32(), v);
    }

    #[test]
    fn connect_request_round_trips(tid in any::<u32>()) {
        let x = ConnectRequest { transaction_id: TransactionId(tid) };
        let bytes = encode_checked(ConnectRequest::LEN, |b| x.encode(b))?;
        prop_assert_eq!(ConnectRequest::decode(&bytes), Ok(x));
        for g in GRAMMARS {
            prop_assert_eq!(Request::decode_with(&bytes, g), Ok(Request::Connect(x)));
        }
        let back = encode_checked(16, |b| ConnectRequest::decode(&bytes).unwrap().encode(b))?;
        prop_assert_eq!(back, bytes);
    }

    #[test]
    fn announce_without_tail_round_trips(f in fixed()) {
        let x = f.request(AnnounceTail::None);
        let bytes = encode_checked(98, |b| x.encode(b))?;
        for g in GRAMMARS {
            prop_assert_eq!(AnnounceRequest::decode_with(&bytes, g), Ok(x));
            prop_assert_eq!(Request::decode_with(&bytes, g), Ok(Request::Announce(x)));
        }
        prop_assert_eq!(Request::decode(&bytes), Ok(Request::Announce(x)));
        exercise_request(&Request::Announce(x), &bytes)?;
        request_prefixes(&bytes)?;
    }

    #[test]
    fn announce_with_options_round_trips(f in fixed(), g in gen_options()) {
        let raw = g.bytes();
        let o = Options::decode(&raw).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(o.as_bytes(), &raw[..]);
        prop_assert_eq!(o.iter().collect::<Vec<_>>(), g.expected());
        prop_assert_eq!(o.after_end(), g.end.as_deref().unwrap_or_default());
        let url = g.url();
        prop_assert_eq!(o.url_data_len(), url.len());
        prop_assert_eq!(encode_checked(url.len(), |b| o.copy_url_data(b))?, url);
        exercise_options(&o)?;

        let x = f.request(AnnounceTail::Options(o));
        let bytes = encode_checked(98 + raw.len(), |b| x.encode(b))?;
        // An empty tail decodes as no tail.
        let want = if raw.is_empty() { f.request(AnnounceTail::None) } else { x };
        prop_assert_eq!(AnnounceRequest::decode(&bytes), Ok(want));
        prop_assert_eq!(AnnounceRequest::decode_with(&bytes, TailGrammar::Bep41), Ok(want));
        prop_assert_eq!(Request::decode(&bytes), Ok(Request::Announce(want)));
        prop_assert_eq!(
            Request::decode_with(&bytes, TailGrammar::Bep41),
            Ok(Request::Announce(want))
        );
        exercise_request(&Request::Announce(want), &bytes)?;
        request_prefixes(&bytes)?;
    }

    #[test]
    fn url_data_round_trips(
        f in fixed(),
        url in vec(any::<u8>(), 0..=700),
        end in proptest::option::of(vec(any::<u8>(), 0..20)),
    ) {
        let len = url_data_encoded_len(url.len(), end.is_some());
        let mut raw = encode_checked(len, |b| encode_url_data(&url, end.is_some(), b))?;
        raw.extend_from_slice(end.as_deref().unwrap_or_default());
        let o = Options::decode(&raw).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        // Chunks of 255 bytes, the last one shorter; an empty URL is one empty chunk.
        let chunks: Vec<&[u8]> = o.url_data().collect();
        prop_assert_eq!(chunks.len(), url.len().div_ceil(255).max(1));
        prop_assert!(chunks.iter().rev().skip(1).all(|c| c.len() == 255));
        prop_assert_eq!(o.iter().count(), chunks.len() + usize::from(end.is_some()));
        prop_assert_eq!(o.after_end(), end.as_deref().unwrap_or_default());
        prop_assert_eq!(encode_checked(url.len(), |b| o.copy_url_data(b))?, url);
        exercise_options(&o)?;

        let x = f.request(AnnounceTail::Options(o));
        let bytes = encode_checked(98 + raw.len(), |b| x.encode(b))?;
        prop_assert_eq!(AnnounceRequest::decode(&bytes), Ok(x));
        prop_assert_eq!(Request::decode(&bytes), Ok(Request::Announce(x)));
        request_prefixes(&bytes)?;
    }

    #[test]
    fn announce_with_extensions_round_trips(f in fixed(), g in gen_extensions()) {
        let e = g.build();
        prop_assert_eq!(e.bits, e.wire_bits());
        let x = f.request(AnnounceTail::Extensions(e));
        let bytes = encode_checked(x.encoded_len(), |b| x.encode(b))?;
        prop_assert_eq!(bytes.len(), 98 + e.encoded_len());
        prop_assert_eq!(&bytes[98..100], &e.wire_bits().to_be_bytes());
        prop_assert_eq!(AnnounceRequest::decode_with(&bytes, TailGrammar::Legacy), Ok(x));
        prop_assert_eq!(
            Request::decode_with(&bytes, TailGrammar::Legacy),
            Ok(Request::Announce(x))
        );
        exercise_request(&Request::Announce(x), &bytes)?;
        request_prefixes(&bytes)?;
        // The same bytes, read raw, are the tail unchanged.
        let raw = f.request(AnnounceTail::Raw(&bytes[98..]));
        prop_assert_eq!(AnnounceRequest::decode_with(&bytes, TailGrammar::Raw), Ok(raw));
    }

    #[test]
    fn announce_with_raw_tail_round_trips(f in fixed(), tail in vec(any::<u8>(), 1..300)) {
        let x = f.request(AnnounceTail::Raw(&tail));
        let bytes = encode_checked(98 + tail.len(), |b| x.encode(b))?;
        prop_assert_eq!(AnnounceRequest::decode_with(&bytes, TailGrammar::Raw), Ok(x));
        prop_assert_eq!(
            Request::decode_with(&bytes, TailGrammar::Raw),
            Ok(Request::Announce(x))
        );
        exercise_request(&Request::Announce(x), &bytes)?;
        request_prefixes(&bytes)?;
    }

    #[test]
    fn scrape_request_round_trips(
        cid in any::<u64>(),
        tid in any::<u32>(),
        raw in vec(any::<[u8; 20]>(), 0..=80),
    ) {
        let hashes: Vec<InfoHash> = raw.into_iter().map(InfoHash).collect();
        let x = ScrapeRequest {
            connection_id: ConnectionId(cid),
            transaction_id: TransactionId(tid),
            info_hashes: InfoHashes::from_slice(&hashes),
        };
        prop_assert_eq!(x.encoded_len(), 16 + 20 * hashes.len());
        let bytes = encode_checked(x.encoded_len(), |b| x.encode(b))?;
        let back = ScrapeRequest::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back, x);
        prop_assert!(back.info_hashes.iter().eq(hashes.iter().copied()));
        for g in GRAMMARS {
            prop_assert_eq!(Request::decode_with(&bytes, g), Ok(Request::Scrape(x)));
        }
        exercise_request(&Request::Scrape(back), &bytes)?;
        request_prefixes(&bytes)?;
    }

    #[test]
    fn connect_response_round_trips(tid in any::<u32>(), cid in any::<u64>()) {
        let x = ConnectResponse { transaction_id: TransactionId(tid), connection_id: ConnectionId(cid) };
        let bytes = encode_checked(ConnectResponse::LEN, |b| x.encode(b))?;
        prop_assert_eq!(ConnectResponse::decode(&bytes), Ok(x));
        for family in FAMILIES {
            prop_assert_eq!(Response::decode(&bytes, family), Ok(Response::Connect(x)));
            exercise_response(&Response::Connect(x), family, &bytes)?;
            response_prefixes(&bytes, family)?;
        }
    }

    #[test]
    fn announce_response_round_trips(
        header in any::<(u32, u32, u32, u32)>(),
        v4 in vec(any::<[u8; 6]>(), 0..100),
        v6 in vec(any::<[u8; 18]>(), 0..100),
    ) {
        let (tid, interval, leechers, seeders) = header;
        let v4 = v4.concat();
        let v6 = v6.concat();
        for (family, raw) in [(AddressFamily::Ipv4, &v4), (AddressFamily::Ipv6, &v6)] {
            let peers = Peers::from_compact(family, raw).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let x = AnnounceResponse {
                transaction_id: TransactionId(tid), interval, leechers, seeders, peers,
            };
            let bytes = encode_checked(20 + raw.len(), |b| x.encode(b))?;
            prop_assert_eq!(AnnounceResponse::decode(&bytes, family), Ok(x));
            prop_assert_eq!(Response::decode(&bytes, family), Ok(Response::Announce(x)));
            exercise_response(&Response::Announce(x), family, &bytes)?;
            response_prefixes(&bytes, family)?;
        }
    }

    #[test]
    fn announce_response_with_peers_round_trips(
        header in any::<(u32, u32, u32, u32)>(),
        v4 in vec(v4_addr(), 0..100),
        v6 in vec(v6_addr(), 0..100),
        // `peers` is ignored by `encode_with_peers`; fill it with something else.
        junk in vec(any::<u8>(), 0..5).prop_map(|v| v.repeat(18)),
    ) {
        let (tid, interval, leechers, seeders) = header;
        let x = AnnounceResponse {
            transaction_id: TransactionId(tid), interval, leechers, seeders,
            peers: Peers::from_compact(AddressFamily::Ipv6, &junk).expect("whole entries"),
        };
        let bytes = encode_checked(20 + 6 * v4.len(), |b| x.encode_with_peers(v4.iter().copied(), b))?;
        let back = AnnounceResponse::decode(&bytes, AddressFamily::Ipv4)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!((back.transaction_id, back.interval, back.leechers, back.seeders), (x.transaction_id, interval, leechers, seeders));
        prop_assert_eq!(back.peers.iter_v4().expect("v4").collect::<Vec<_>>(), v4.clone());
        prop_assert!(back.peers.iter().eq(v4.iter().copied().map(SocketAddr::V4)));
        prop_assert_eq!(Response::decode(&bytes, AddressFamily::Ipv4), Ok(Response::Announce(back)));
        exercise_response(&Response::Announce(back), AddressFamily::Ipv4, &bytes)?;
        response_prefixes(&bytes, AddressFamily::Ipv4)?;

        let bytes = encode_checked(20 + 18 * v6.len(), |b| x.encode_with_peers(v6.iter().copied(), b))?;
        let back = AnnounceResponse::decode(&bytes, AddressFamily::Ipv6)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back.peers.iter_v6().expect("v6").collect::<Vec<_>>(), v6.clone());
        prop_assert!(back.peers.iter().eq(v6.iter().copied().map(SocketAddr::V6)));
        prop_assert_eq!(Response::decode(&bytes, AddressFamily::Ipv6), Ok(Response::Announce(back)));
        exercise_response(&Response::Announce(back), AddressFamily::Ipv6, &bytes)?;
        response_prefixes(&bytes, AddressFamily::Ipv6)?;
    }

    #[test]
    fn scrape_response_round_trips(tid in any::<u32>(), rows in vec(any::<(u32, u32, u32)>(), 0..=120)) {
        let rows: Vec<ScrapeRow> = rows
            .into_iter()
            .map(|(complete, downloaded, incomplete)| ScrapeRow { complete, downloaded, incomplete })
            .collect();
        let x = ScrapeResponse { transaction_id: TransactionId(tid), rows: ScrapeRows::from_slice(&rows) };
        let bytes = encode_checked(8 + 12 * rows.len(), |b| x.encode(b))?;
        let back = ScrapeResponse::decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back, x);
        prop_assert!(back.rows.iter().eq(rows.iter().copied()));
        for family in FAMILIES {
            prop_assert_eq!(Response::decode(&bytes, family), Ok(Response::Scrape(x)));
            exercise_response(&Response::Scrape(back), family, &bytes)?;
            response_prefixes(&bytes, family)?;
        }
    }

    #[test]
    fn error_response_round_trips(tid in any::<u32>(), message in vec(any::<u8>(), 0..300)) {
        let x = ErrorResponse { transaction_id: TransactionId(tid), message: &message };
        let bytes = encode_checked(8 + message.len(), |b| x.encode(b))?;
        prop_assert_eq!(ErrorResponse::decode(&bytes), Ok(x));
        for family in FAMILIES {
            prop_assert_eq!(Response::decode(&bytes, family), Ok(Response::Error(x)));
            exercise_response(&Response::Error(x), family, &bytes)?;
            response_prefixes(&bytes, family)?;
        }
    }

    #[test]
    fn decoders_are_total(b in fuzz_input()) {
        check_total(&b)?;
    }

    #[test]
    fn legacy_authentication_verifies(
        f in fixed(),
        username in short_bytes(),
        password in vec(any::<u8>(), 0..64),
        other in vec(any::<u8>(), 0..64),
        request_string in proptest::option::of(short_bytes()),
        extra_bits in prop_oneof![Just(0u16), any::<u16>()],
        rest in vec(any::<u8>(), 0..16),
        mask in 1u8..=255,
    ) {
        let with = |passwd_hash| {
            let mut e = Extensions::new(
                Some(Authentication { username: ShortBytes::new(&username).expect("<= 255"), passwd_hash }),
                request_string.as_deref().map(|s| ShortBytes::new(s).expect("<= 255")),
            );
            e.bits |= extra_bits & !3;
            e.rest = &rest;
            f.request(AnnounceTail::Extensions(e))
        };
        let x = with(PasswdHash::Password(&password));
        let len = x.encoded_len();
        let bytes = encode_checked(len, |b| x.encode(b))?;
        let digest = sha1(&password);
        let by_digest = with(PasswdHash::PasswordDigest(digest));
        prop_assert_eq!(encode_checked(len, |b| by_digest.encode(b))?, bytes.clone());

        // The hash, computed independently.
        let covered = AUTH_PREFIX_LEN + username.len();
        let mut msg = bytes[..covered].to_vec();
        msg.extend_from_slice(&digest);
        let want: [u8; 8] = sha1(&msg)[..8].try_into().unwrap();
        prop_assert_eq!(&bytes[covered..covered + 8], &want);

        // Decoding gives the hash, and re-encoding it gives the same bytes.
        let back = AnnounceRequest::decode_with(&bytes, TailGrammar::Legacy)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back, with(PasswdHash::Hash(want)));
        prop_assert_eq!(encode_checked(len, |b| back.encode(b))?, bytes.clone());

        prop_assert!(verify_datagram(&bytes, &digest));
        let other = if other == password { [&other[..], b"x"].concat() } else { other };
        prop_assert!(!verify_datagram(&bytes, &sha1(&other)));
        // Any change to the covered prefix, or to the hash itself, fails.
        for i in 0..covered + 8 {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            prop_assert!(!verify_datagram(&bad, &digest), "byte {} flipped still verifies", i);
        }
        // Bytes after the hash are not covered.
        if let Some(last) = bytes.len().checked_sub(1).filter(|&l| l >= covered + 8 && request_string.is_none()) {
            let mut tail = bytes.clone();
            tail[last] ^= 0xff;
            prop_assert!(verify_datagram(&tail, &digest));
        }
    }
}
