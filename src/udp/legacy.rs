//! The older `extensions` field of the announce request (libtorrent / XBT UDP tracker
//! page, `shared/seeds/udp-tracker-protocol.txt`).
//!
//! ```text
//! offset 98  u16 extensions        bitmask; bodies follow in least-significant-bit order
//! bit 1      authentication:       u8 username_length, username, u8[8] passwd_hash
//! bit 2      request string:       u8 length, string (path and query of the tracker URL)
//! ```
//!
//! `passwd_hash` is the first 8 bytes of `sha1(packet ‖ sha1(password))`, where *packet*
//! is the whole datagram before those 8 bytes. This layout conflicts with BEP 41 at byte
//! 98, so the caller chooses the grammar ([`super::TailGrammar`]). A 100-byte announce
//! ending in `00 00` (what aria2 sends) is valid under both: no extensions, or
//! EndOfOptions.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::hash::ct_eq;
use crate::hash::sha1::{sha1, Sha1};
use crate::wire::{Reader, Writer};

/// Extension bit 1: authentication.
pub const EXT_AUTHENTICATION: u16 = 1;
/// Extension bit 2: request string.
pub const EXT_REQUEST_STRING: u16 = 2;
/// The size of the truncated password hash.
pub const PASSWD_HASH_LEN: usize = 8;

/// A byte string of at most 255 bytes: what a one-byte length prefix can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShortBytes<'a>(&'a [u8]);

impl<'a> ShortBytes<'a> {
    /// `bytes`, or `None` if it is longer than 255 bytes.
    pub const fn new(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() <= 255 {
            Some(ShortBytes(bytes))
        } else {
            None
        }
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    fn len_u8(&self) -> u8 {
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }
}

/// Where the 8-byte password hash comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswdHash<'a> {
    /// The hash as received (or precomputed); written unchanged.
    Hash([u8; PASSWD_HASH_LEN]),
    /// The password: the encoder computes the hash over the datagram it writes.
    Password(&'a [u8]),
    /// `sha1(password)`, for callers that store that rather than the password.
    PasswordDigest([u8; 20]),
}

/// The authentication extension body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authentication<'a> {
    /// The user name.
    pub username: ShortBytes<'a>,
    /// The password hash, or what to compute it from.
    pub passwd_hash: PasswdHash<'a>,
}

/// A decoded or to-be-encoded `extensions` tail.
///
/// Bits 1 and 2 of the written field always follow the presence of [`auth`] and
/// [`request_string`]; other bits are kept as received in `bits`, with the bodies this
/// crate cannot parse left in [`rest`].
///
/// [`auth`]: Extensions::auth
/// [`request_string`]: Extensions::request_string
/// [`rest`]: Extensions::rest
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extensions<'a> {
    /// The bitmask as received; bits 1 and 2 are recomputed when encoding.
    pub bits: u16,
    /// Bit 1: authentication.
    pub auth: Option<Authentication<'a>>,
    /// Bit 2: the request string.
    pub request_string: Option<ShortBytes<'a>>,
    /// Bytes after the known bodies: bodies of unknown bits, or trailing bytes.
    pub rest: &'a [u8],
}

impl<'a> Extensions<'a> {
    /// Extensions with the given bodies and no other bits.
    pub fn new(auth: Option<Authentication<'a>>, request_string: Option<ShortBytes<'a>>) -> Self {
        let mut e = Extensions {
            bits: 0,
            auth,
            request_string,
            rest: &[],
        };
        e.bits = e.wire_bits();
        e
    }

    /// The field as it is written: `bits` with bits 1 and 2 set by the bodies present.
    pub fn wire_bits(&self) -> u16 {
        let mut bits = self.bits & !(EXT_AUTHENTICATION | EXT_REQUEST_STRING);
        if self.auth.is_some() {
            bits |= EXT_AUTHENTICATION;
        }
        if self.request_string.is_some() {
            bits |= EXT_REQUEST_STRING;
        }
        bits
    }

    /// Decodes the tail of a datagram that starts at byte `base` (98 for an announce).
    pub(crate) fn decode_at(bytes: &'a [u8], base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::with_base(bytes, base);
        let bits = r.u16()?;
        let body = |r: &mut Reader<'a>| -> Result<ShortBytes<'a>, DecodeError> {
            let overrun = r.error(DecodeErrorKind::OptionOverrun);
            let len = r.u8().map_err(|_| overrun)?;
            let data = r.take(usize::from(len)).map_err(|_| overrun)?;
            Ok(ShortBytes(data))
        };
        let auth = if bits & EXT_AUTHENTICATION != 0 {
            let username = body(&mut r)?;
            let passwd_hash = PasswdHash::Hash(r.array()?);
            Some(Authentication {
                username,
                passwd_hash,
            })
        } else {
            None
        };
        let request_string = if bits & EXT_REQUEST_STRING != 0 {
            Some(body(&mut r)?)
        } else {
            None
        };
        Ok(Extensions {
            bits,
            auth,
            request_string,
            rest: r.take_rest(),
        })
    }

    /// How many bytes the tail takes on the wire, the `extensions` field included.
    pub fn encoded_len(&self) -> usize {
        let auth = self.auth.map_or(0, |a| {
            1usize
                .saturating_add(a.username.0.len())
                .saturating_add(PASSWD_HASH_LEN)
        });
        let rs = self
            .request_string
            .map_or(0, |s| 1usize.saturating_add(s.0.len()));
        2usize
            .saturating_add(auth)
            .saturating_add(rs)
            .saturating_add(self.rest.len())
    }

    /// Appends the tail to a datagram being written from its first byte, so that a
    /// password hash can cover everything before it.
    pub(crate) fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u16(self.wire_bits())?;
        if let Some(a) = &self.auth {
            w.u8(a.username.len_u8())?;
            w.bytes(a.username.0)?;
            let hash = match a.passwd_hash {
                PasswdHash::Hash(h) => h,
                PasswdHash::Password(pw) => passwd_hash(w.written(), &sha1(pw)),
                PasswdHash::PasswordDigest(d) => passwd_hash(w.written(), &d),
            };
            w.bytes(&hash)?;
        }
        if let Some(s) = &self.request_string {
            w.u8(s.len_u8())?;
            w.bytes(s.0)?;
        }
        w.bytes(self.rest)
    }
}

/// `sha1(password)`: what a tracker stores per user to check
/// [`verify_datagram`], and what [`PasswdHash::PasswordDigest`] carries for a client
/// that keeps the digest rather than the password.
pub fn password_digest(password: &[u8]) -> [u8; 20] {
    sha1(password)
}

/// The first 8 bytes of `sha1(packet ‖ password_digest)`.
pub fn passwd_hash(packet: &[u8], password_digest: &[u8; 20]) -> [u8; PASSWD_HASH_LEN] {
    let mut h = Sha1::new();
    h.update(packet);
    h.update(password_digest);
    let full = h.finalize();
    let mut out = [0u8; PASSWD_HASH_LEN];
    out.iter_mut().zip(full).for_each(|(o, b)| *o = b);
    out
}

/// Checks the authentication of a legacy-extension announce in constant time.
///
/// `datagram` is the whole received datagram; `password_digest` is `sha1(password)`.
/// Returns `false` if the datagram has no authentication body or is too short.
pub fn verify_datagram(datagram: &[u8], password_digest: &[u8; 20]) -> bool {
    let mut r = Reader::new(datagram);
    if r.take(super::request::ANNOUNCE_REQUEST_LEN).is_err() {
        return false;
    }
    let Ok(ext) = Extensions::decode_at(r.rest(), super::request::ANNOUNCE_REQUEST_LEN) else {
        return false;
    };
    let Some(Authentication {
        username,
        passwd_hash: PasswdHash::Hash(received),
    }) = ext.auth
    else {
        return false;
    };
    // The hash follows fixed fields, the extensions u16, the length byte and the name.
    let covered = super::request::ANNOUNCE_REQUEST_LEN
        .saturating_add(3)
        .saturating_add(username.0.len());
    match Reader::new(datagram).take(covered) {
        Ok(packet) => ct_eq(&passwd_hash(packet, password_digest), &received),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_bodies() {
        let e = Extensions::new(None, ShortBytes::new(b"/announce"));
        assert_eq!(e.wire_bits(), EXT_REQUEST_STRING);
        let e = Extensions {
            bits: 0x8001,
            ..Extensions::default()
        };
        assert_eq!(e.wire_bits(), 0x8000);
        assert!(ShortBytes::new(&[0; 256]).is_none());
    }

    #[test]
    fn decodes_bodies_in_bit_order() {
        let raw = [
            0, 3, 2, b'm', b'e', 1, 2, 3, 4, 5, 6, 7, 8, 3, b'/', b'a', b'b', 0xee,
        ];
        let e = Extensions::decode_at(&raw, 98).unwrap();
        assert_eq!(e.bits, 3);
        let a = e.auth.unwrap();
        assert_eq!(a.username.as_bytes(), b"me");
        assert_eq!(a.passwd_hash, PasswdHash::Hash([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(e.request_string.unwrap().as_bytes(), b"/ab");
        assert_eq!(e.rest, &[0xee]);
        assert_eq!(e.encoded_len(), raw.len());
    }

    #[test]
    fn truncated_bodies_say_where() {
        // Username length 5 with 2 bytes present: the length byte at 98 + 2 overruns.
        let e = Extensions::decode_at(&[0, 1, 5, b'a', b'b'], 98).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (DecodeErrorKind::OptionOverrun, 100)
        );
        // Hash cut short.
        let e = Extensions::decode_at(&[0, 1, 1, b'a', 1, 2, 3], 98).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (DecodeErrorKind::Truncated { needed: 5 }, 102)
        );
        // Field itself cut short.
        let e = Extensions::decode_at(&[0], 98).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (DecodeErrorKind::Truncated { needed: 1 }, 98)
        );
    }
}
