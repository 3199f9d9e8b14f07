//! UDP tracker URLs: `udp://host:port[/path][?query]`, as torrents list them.
//!
//! The host is a DNS name, an IPv4 literal or a bracketed IPv6 literal; the port is
//! mandatory (there is no default UDP tracker port); the path and query are what BEP 41
//! sends to the tracker as URLData (<https://www.bittorrent.org/beps/bep_0041.html>), so
//! that a passkey in `/announce/PASSKEY` or `?passkey=…` reaches a private tracker over
//! UDP. A fragment (`#…`) is never sent. Name resolution stays with the caller: a
//! [`TrackerHost::Name`] is handed back as written.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use crate::udp::client::MAX_URL_DATA_LEN;

/// A parsed `udp://` tracker URL, borrowing the text it was parsed from.
///
/// ```
/// use trackwire::udp::{TrackerHost, TrackerUrl};
///
/// let url = TrackerUrl::parse("udp://tracker.example:6969/announce?passkey=abc")?;
/// assert_eq!(url.host(), TrackerHost::Name("tracker.example"));
/// assert_eq!(url.port(), 6969);
/// assert_eq!(url.url_data(), "/announce?passkey=abc");
///
/// let v6 = TrackerUrl::parse("udp://[::1]:6969")?;
/// assert_eq!(v6.to_string(), "udp://[::1]:6969");
/// assert_eq!(v6.url_data(), "");
///
/// let err = TrackerUrl::parse("udp://tracker.example/announce").unwrap_err();
/// assert_eq!(err.to_string(), "no port at byte 21");
/// # Ok::<(), trackwire::udp::TrackerUrlError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackerUrl<'a> {
    host: TrackerHost<'a>,
    /// The host as written (brackets excluded), for [`fmt::Display`].
    host_text: &'a str,
    port: u16,
    url_data: &'a str,
}

/// The host part of a [`TrackerUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerHost<'a> {
    /// A name to resolve (A and AAAA records), exactly as written.
    Name(&'a str),
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// A bracketed IPv6 literal.
    Ipv6(Ipv6Addr),
}

impl TrackerHost<'_> {
    /// The address, for a literal; `None` for a name.
    pub const fn ip(&self) -> Option<IpAddr> {
        match *self {
            TrackerHost::Name(_) => None,
            TrackerHost::Ipv4(a) => Some(IpAddr::V4(a)),
            TrackerHost::Ipv6(a) => Some(IpAddr::V6(a)),
        }
    }
}

/// Why a tracker URL was refused, and at which byte of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackerUrlError {
    kind: TrackerUrlErrorKind,
    offset: usize,
}

/// What is wrong with a tracker URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackerUrlErrorKind {
    /// The URL does not start with `udp://` (any case): `http://`, `https://` and
    /// `wss://` trackers are not spoken here.
    UnsupportedScheme,
    /// The host is empty, or holds a character no host name has (`@`, a blank, …).
    InvalidHost,
    /// An IPv6 literal lacks its closing `]`, or what the brackets hold is not an IPv6
    /// address.
    InvalidBrackets,
    /// There is no `:port` after the host.
    MissingPort,
    /// The port is not a decimal number from 1 to 65535.
    InvalidPort,
    /// The path and query are longer than the URLData options an announce can carry
    /// ([`MAX_URL_DATA_LEN`] bytes).
    UrlDataTooLong,
}

impl TrackerUrlError {
    const fn new(kind: TrackerUrlErrorKind, offset: usize) -> Self {
        TrackerUrlError { kind, offset }
    }

    /// What is wrong.
    pub const fn kind(&self) -> TrackerUrlErrorKind {
        self.kind
    }

    /// The byte offset, in the URL, where it goes wrong.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl TrackerUrlErrorKind {
    /// A stable snake_case name, for JSON output and conformance tests.
    pub const fn name(&self) -> &'static str {
        match self {
            TrackerUrlErrorKind::UnsupportedScheme => "unsupported_scheme",
            TrackerUrlErrorKind::InvalidHost => "invalid_host",
            TrackerUrlErrorKind::InvalidBrackets => "invalid_brackets",
            TrackerUrlErrorKind::MissingPort => "missing_port",
            TrackerUrlErrorKind::InvalidPort => "invalid_port",
            TrackerUrlErrorKind::UrlDataTooLong => "url_data_too_long",
        }
    }
}

impl fmt::Display for TrackerUrlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrackerUrlErrorKind::UnsupportedScheme => "not a udp:// URL",
            TrackerUrlErrorKind::InvalidHost => "invalid host",
            TrackerUrlErrorKind::InvalidBrackets => "invalid bracketed IPv6 address",
            TrackerUrlErrorKind::MissingPort => "no port",
            TrackerUrlErrorKind::InvalidPort => "port not in 1..=65535",
            TrackerUrlErrorKind::UrlDataTooLong => "path and query longer than 1024 bytes",
        })
    }
}

impl fmt::Display for TrackerUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl core::error::Error for TrackerUrlError {}

const SCHEME: &str = "udp://";

impl<'a> TrackerUrl<'a> {
    /// Parses `url`.
    ///
    /// # Errors
    ///
    /// [`TrackerUrlError`] with the kind and the byte offset of the first problem.
    pub fn parse(url: &'a str) -> Result<Self, TrackerUrlError> {
        use TrackerUrlErrorKind as K;
        let err = |kind, at| Err(TrackerUrlError::new(kind, at));
        let Some((scheme, rest)) = url.split_at_checked(SCHEME.len()) else {
            return err(K::UnsupportedScheme, 0);
        };
        if !scheme.eq_ignore_ascii_case(SCHEME) {
            return err(K::UnsupportedScheme, 0);
        }
        let at = |part: &str| offset_in(url, part);

        // The authority ends at the path, the query or the fragment.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
        let (host, host_text, port_text) = if let Some(inner) = authority.strip_prefix('[') {
            let Some(close) = inner.find(']') else {
                return err(K::InvalidBrackets, at(authority));
            };
            let (literal, after) = inner.split_at_checked(close).unwrap_or((inner, ""));
            let after = after.strip_prefix(']').unwrap_or(after);
            let Ok(ip) = Ipv6Addr::from_str(literal) else {
                return err(K::InvalidBrackets, at(literal));
            };
            (TrackerHost::Ipv6(ip), literal, after)
        } else {
            let colon = authority.rfind(':').unwrap_or(authority.len());
            let (name, after) = authority.split_at_checked(colon).unwrap_or((authority, ""));
            if name.is_empty() || !name.bytes().all(is_host_byte) {
                let bad = name
                    .bytes()
                    .position(|b| !is_host_byte(b))
                    .map_or(at(name), |i| at(name).saturating_add(i));
                return err(K::InvalidHost, bad);
            }
            let host = match Ipv4Addr::from_str(name) {
                Ok(ip) => TrackerHost::Ipv4(ip),
                Err(_) => TrackerHost::Name(name),
            };
            (host, name, after)
        };
        let Some(digits) = port_text.strip_prefix(':') else {
            return err(K::MissingPort, at(port_text));
        };
        let port = match parse_port(digits) {
            Some(p) => p,
            None => return err(K::InvalidPort, at(digits)),
        };
        let url_data = tail.split('#').next().unwrap_or_default();
        if url_data.len() > MAX_URL_DATA_LEN {
            return err(
                K::UrlDataTooLong,
                at(url_data).saturating_add(MAX_URL_DATA_LEN),
            );
        }
        Ok(TrackerUrl {
            host,
            host_text,
            port,
            url_data,
        })
    }

    /// The host: a name to resolve, or an address literal.
    pub const fn host(&self) -> TrackerHost<'a> {
        self.host
    }

    /// The port.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The path and query, to send as BEP 41 URLData (empty when the URL has neither).
    pub const fn url_data(&self) -> &'a str {
        self.url_data
    }
}

impl fmt::Display for TrackerUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host {
            TrackerHost::Ipv6(_) => write!(f, "udp://[{}]", self.host_text)?,
            _ => write!(f, "udp://{}", self.host_text)?,
        }
        write!(f, ":{}{}", self.port, self.url_data)
    }
}

/// Bytes a host name or IPv4 literal may hold: letters, digits, `-`, `.` and `_` (seen
/// in real tracker names, though DNS host names should not have it).
const fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// A port: 1 to 5 decimal digits, 1..=65535 (leading zeros allowed, as browsers do).
fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 5 {
        return None;
    }
    match u16::from_str(trimmed) {
        Ok(0) | Err(_) => None,
        Ok(p) => Some(p),
    }
}

/// Where `part`, a sub-slice of `whole`, starts in it.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use TrackerUrlErrorKind as K;

    fn fails(url: &str) -> (TrackerUrlErrorKind, usize) {
        let e = TrackerUrl::parse(url).unwrap_err();
        (e.kind(), e.offset())
    }

    #[test]
    fn hosts_of_every_kind() {
        let u = TrackerUrl::parse("udp://127.0.0.1:6969").unwrap();
        assert_eq!(u.host(), TrackerHost::Ipv4(Ipv4Addr::LOCALHOST));
        assert_eq!(u.host().ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let u = TrackerUrl::parse("UDP://[2001:db8::1]:80/a").unwrap();
        assert_eq!(u.host(), TrackerHost::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(u.to_string(), "udp://[2001:db8::1]:80/a");
        let u = TrackerUrl::parse("udp://open.tracker_x.example:1337/announce").unwrap();
        assert_eq!(u.host(), TrackerHost::Name("open.tracker_x.example"));
        assert_eq!(u.host().ip(), None);
    }

    #[test]
    fn url_data_is_path_and_query_without_fragment() {
        let u = TrackerUrl::parse("udp://t.example:1/announce/KEY?x=1#frag").unwrap();
        assert_eq!(u.url_data(), "/announce/KEY?x=1");
        assert_eq!(u.to_string(), "udp://t.example:1/announce/KEY?x=1");
        let u = TrackerUrl::parse("udp://t.example:1?passkey=abc").unwrap();
        assert_eq!(u.url_data(), "?passkey=abc");
        let u = TrackerUrl::parse("udp://t.example:01#x").unwrap();
        assert_eq!((u.port(), u.url_data()), (1, ""));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(fails("http://t.example:1/"), (K::UnsupportedScheme, 0));
        assert_eq!(fails("udp:/"), (K::UnsupportedScheme, 0));
        assert_eq!(fails("udp://t.example/announce"), (K::MissingPort, 15));
        assert_eq!(fails("udp://t.example"), (K::MissingPort, 15));
        assert_eq!(fails("udp://t.example:0"), (K::InvalidPort, 16));
        assert_eq!(fails("udp://t.example:65536"), (K::InvalidPort, 16));
        assert_eq!(fails("udp://t.example:"), (K::InvalidPort, 16));
        assert_eq!(fails("udp://t.example:6a"), (K::InvalidPort, 16));
        assert_eq!(fails("udp://:6969"), (K::InvalidHost, 6));
        assert_eq!(fails("udp://us@t.example:1"), (K::InvalidHost, 8));
        assert_eq!(fails("udp://[::1:6969"), (K::InvalidBrackets, 6));
        assert_eq!(fails("udp://[zz::1]:6969"), (K::InvalidBrackets, 7));
        assert_eq!(fails("udp://[::1]6969"), (K::MissingPort, 11));
        assert_eq!(fails("udp://[::1]"), (K::MissingPort, 11));
        assert_eq!(fails("udp://t.éxample:1"), (K::InvalidHost, 8));
        assert_eq!(
            TrackerUrl::parse("udp://[::1]:0").unwrap_err().to_string(),
            "port not in 1..=65535 at byte 12"
        );
    }

    #[test]
    fn url_data_longer_than_an_announce_carries_is_refused() {
        let mut long = std::string::String::from("udp://t.example:1/");
        long.extend(core::iter::repeat_n('a', MAX_URL_DATA_LEN - 1));
        assert!(TrackerUrl::parse(&long).is_ok());
        long.push('a');
        assert_eq!(fails(&long), (K::UrlDataTooLong, 17 + MAX_URL_DATA_LEN));
        assert_eq!(K::UrlDataTooLong.name(), "url_data_too_long");
    }

    #[test]
    fn display_gives_the_url_back() {
        for url in [
            "udp://tracker.opentrackr.org:1337/announce",
            "udp://[::1]:6969",
            "udp://10.0.0.1:80?k=v",
        ] {
            assert_eq!(TrackerUrl::parse(url).unwrap().to_string(), url);
        }
    }
}
