//! Tracker URLs: any text is parsed or refused with an offset inside it, never a panic,
//! and what parses prints back as a URL that parses to the same parts.

use proptest::prelude::*;
use trackwire::udp::TrackerUrl;

proptest! {
    #[test]
    fn any_text_parses_or_fails_inside_it(s in "(udp://|UDP://|http://)?[\\[\\]a-z0-9.:/?#@_é-]{0,40}") {
        match TrackerUrl::parse(&s) {
            Ok(url) => {
                let printed = url.to_string();
                let again = TrackerUrl::parse(&printed).unwrap();
                prop_assert_eq!(again.host(), url.host());
                prop_assert_eq!(again.port(), url.port());
                prop_assert_eq!(again.url_data(), url.url_data());
                prop_assert!(url.port() != 0);
            }
            Err(e) => prop_assert!(e.offset() <= s.len(), "{} for {:?}", e, s),
        }
    }

    #[test]
    fn every_valid_port_round_trips(port in 1u16.., path in "(/[a-z]{0,8})?(\\?[a-z=]{0,8})?") {
        let s = format!("udp://[::1]:{port}{path}");
        let url = TrackerUrl::parse(&s).unwrap();
        prop_assert_eq!(url.port(), port);
        prop_assert_eq!(url.url_data(), path.as_str());
        prop_assert_eq!(url.to_string(), s);
    }
}
