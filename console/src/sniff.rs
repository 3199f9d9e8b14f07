//! Telling a browser from a ctorrent client by the first bytes of a connection, as the
//! original CTorrent Control Server did on its single port.
//!
//! Both speak first: a browser sends its request line, dnh3.3.2 writes `PROTOCOL 0003`
//! (and `AUTH`, `CTORRENT`) in one write as soon as its connect succeeds, without
//! waiting for the server. So the listener reads until the bytes decide, and never
//! writes before: no deadlock, and no `PROTOCOL` line ever reaches a browser. A
//! connection that stays silent is given to a CTCS session after
//! [`sniff_timeout`](crate::ServeOptions::sniff_timeout), which then speaks first as a
//! CTCS server does; that is the only case where waiting costs a ctorrent-like client
//! anything, and dnh3.3.2 never hits it. One that sent the start of an HTTP method
//! (`GE`) and then stalled is closed: it goes to neither side.

/// The request methods taken as HTTP, with the space that ends them. No CTCS keyword
/// starts with one of these (they are all upper-case words followed by a space, and
/// none is a CTCS keyword), so the first bytes decide.
pub(crate) const HTTP_METHODS: [&[u8]; 7] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
];

/// The longest prefix that can still be undecided: the longest method token.
pub(crate) const MAX_SNIFF: usize = 8;

/// What a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// An HTTP request: a browser or an API client.
    Http,
    /// Anything else: a ctorrent client.
    Ctcs,
}

/// What the first bytes say: `Some` once they decide, `None` while they are a proper
/// prefix of an HTTP method token (read more, or give up at the sniff timeout).
pub(crate) fn classify(prefix: &[u8]) -> Option<Protocol> {
    let mut undecided = false;
    for method in HTTP_METHODS {
        if prefix.starts_with(method) {
            return Some(Protocol::Http);
        }
        if method.starts_with(prefix) {
            undecided = true;
        }
    }
    if undecided {
        None
    } else {
        Some(Protocol::Ctcs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_first_bytes() {
        assert_eq!(
            classify(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(
            classify(b"POST /api/torrents/1/limits HTTP/1.1\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(classify(b"HEAD / HTTP/1.0\r\n"), Some(Protocol::Http));
        // dnh3.3.2's first write.
        assert_eq!(
            classify(b"PROTOCOL 0003\nCTORRENT -CD0303-x 1 1 a.torrent\n"),
            Some(Protocol::Ctcs)
        );
        assert_eq!(classify(b"AUTH pw\n\n"), Some(Protocol::Ctcs));
        // Ambiguous prefixes wait for more.
        assert_eq!(classify(b""), None);
        assert_eq!(classify(b"P"), None);
        assert_eq!(classify(b"GET"), None);
        assert_eq!(classify(b"PR"), Some(Protocol::Ctcs));
        // Lower case and a missing space are not HTTP.
        assert_eq!(classify(b"get /"), Some(Protocol::Ctcs));
        assert_eq!(classify(b"GETX"), Some(Protocol::Ctcs));
    }

    proptest! {
        #[test]
        fn decided_prefixes_stay_decided(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            // Once some prefix decides, every longer one decides the same way.
            let mut first = None;
            for n in 0..=bytes.len() {
                let c = classify(&bytes[..n]);
                if let Some(f) = first {
                    prop_assert_eq!(c, Some(f));
                } else {
                    first = c;
                }
            }
            // A prefix of MAX_SNIFF bytes always decides.
            if bytes.len() >= MAX_SNIFF {
                prop_assert!(classify(&bytes[..MAX_SNIFF]).is_some());
            }
        }

        #[test]
        fn ctcs_lines_are_never_http(keyword in "(PROTOCOL|AUTH|CTORRENT|CTSTATUS|CTBW|CTINFO|CTDETAIL|CTFILE|CTPEER|CTCONFIG)[ -~]{0,20}") {
            prop_assert_eq!(classify(keyword.as_bytes()), Some(Protocol::Ctcs));
        }
    }
}
