//! A straightforward CTCS decoder, as one would write it by hand: check UTF-8, split the
//! line on white space, `parse` each number. It reads the same fields as trackwire's
//! decoders (numbers split on `:`, `/` and `,`; file names, messages and passwords as
//! the rest of the line; `len:value` strings in v3 `CTCONFIG`), and is what the CTCS
//! target compares against.

use std::net::Ipv4Addr;

#[allow(dead_code)] // read through black_box only
/// What a line decodes to: the keyword, up to 16 numbers, up to 6 text fields.
#[derive(Debug, Default)]
pub struct Decoded<'a> {
    pub keyword: &'a str,
    pub numbers: [i64; 16],
    pub n_numbers: usize,
    pub texts: [&'a str; 6],
    pub n_texts: usize,
    pub address: Option<Ipv4Addr>,
}

impl<'a> Decoded<'a> {
    fn number(&mut self, field: &str) -> Option<()> {
        for part in field.split([':', '/', ',']) {
            *self.numbers.get_mut(self.n_numbers)? = match part.parse::<i64>() {
                Ok(n) => n,
                Err(_) => part.parse::<f64>().ok()? as i64,
            };
            self.n_numbers += 1;
        }
        Some(())
    }

    fn text(&mut self, t: &'a str) -> Option<()> {
        *self.texts.get_mut(self.n_texts)? = t;
        self.n_texts += 1;
        Some(())
    }
}

/// `n` white-space separated fields, then the rest of the line.
fn fields_then_rest(rest: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut v = Vec::with_capacity(n);
    let mut s = rest;
    for _ in 0..n {
        s = s.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        v.push(&s[..end]);
        s = &s[end..];
    }
    Some((v, s.strip_prefix(' ').unwrap_or(s)))
}

fn len_value(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    let colon = s.find(':')?;
    let len: usize = s[..colon].parse().ok()?;
    let value = s.get(colon + 1..colon + 1 + len)?;
    Some((value, &s[colon + 1 + len..]))
}

/// Decodes one line (without its terminator) sent by the client or the server, under
/// protocol version `version`.
pub fn decode(line: &[u8], from_client: bool, version: u8) -> Option<Decoded<'_>> {
    let line = std::str::from_utf8(line).ok()?;
    let (keyword, rest) = line.split_once(' ').unwrap_or((line, ""));
    let mut d = Decoded {
        keyword,
        ..Decoded::default()
    };
    match (from_client, keyword) {
        (_, "PROTOCOL") => d.number(rest.trim())?,
        (true, "AUTH") | (false, "ERROR" | "SETDLIMIT" | "SETULIMIT") => d.text(rest)?,
        (true, "CTORRENT") => {
            let (f, name) = fields_then_rest(rest, 3)?;
            d.text(f[0])?;
            d.number(f[1])?;
            d.number(f[2])?;
            d.text(name)?;
        }
        (true, "CTINFO") => {
            let (f, msg) = fields_then_rest(rest, 1)?;
            d.number(f[0])?;
            d.text(msg)?;
        }
        (true, "CTFILE") => {
            let n = match version {
                3 => 7,
                2 => 5,
                _ => 4,
            };
            let (f, name) = fields_then_rest(rest, n)?;
            for x in f {
                d.number(x)?;
            }
            d.text(name)?;
        }
        (true, "CTPEER") => {
            let mut it = rest.split_whitespace();
            d.text(it.next()?)?;
            d.address = Some(it.next()?.parse().ok()?);
            d.text(it.next()?)?;
            for x in it {
                d.number(x)?;
            }
        }
        (true, "CTCONFIG") if version == 3 => {
            let mut it = rest.splitn(4, ' ');
            d.text(it.next()?)?;
            d.text(it.next()?)?;
            d.text(it.next()?)?;
            let mut s = it.next()?;
            for _ in 0..3 {
                let (v, r) = len_value(s)?;
                d.text(v)?;
                s = r;
            }
        }
        (false, "CTCONFIG") if version == 3 => {
            let rest = rest.trim_start_matches(' ');
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            d.text(name)?;
            d.text(value.trim_start_matches(' '))?;
        }
        (true, "CTSTATUS" | "CTBW" | "CTDETAIL" | "CTCONFIG") | (false, "CTCONFIG") => {
            for x in rest.split_whitespace() {
                if x == "." {
                    continue;
                }
                d.number(x)?;
            }
        }
        _ => {}
    }
    Some(d)
}
