//! HTML escaping: every string a client sent (torrent and file names, peer ids, CTINFO
//! text, option values) goes through [`escape`] before it reaches a page.

/// `text` with `& < > " '` replaced by character references, safe inside element
/// content and inside quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn script_is_inert() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("a \"b\" 'c' & d"),
            "a &quot;b&quot; &#39;c&#39; &amp; d"
        );
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_markup(s in any::<String>()) {
            let e = escape(&s);
            prop_assert!(!e.contains(['<', '>', '"', '\'']));
            // Every & starts a reference we wrote.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                prop_assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|r| rest.starts_with(r)));
            }
            // Unescaping gives the text back.
            let back = e.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
            prop_assert_eq!(back, s);
        }

    }
}
