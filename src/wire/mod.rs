//! Checked cursors over byte slices and layout tables: the only code in the crate that
//! handles byte offsets.
//!
//! Every decoder reads through a [`Reader`] and every encoder writes through a [`Sink`]
//! (a [`Writer`] window of a caller's slice, or with `alloc` a `VecSink`), so no codec
//! can index out of bounds and every error carries the offset at which it happened. A
//! binary message's fixed fields are stated once, as a table of [`Field`]s, and read
//! ([`get`]) and written ([`set`]) through it, with one bounds check per block.
//! Integers are big-endian (network byte order), as BEP 15 requires. Nothing here knows
//! either protocol: the UDP tables live in `udp`, the CTCS text scanners and line stores
//! in `ctcs`.

mod field;
mod fixed;
mod reader;
mod sink;
mod writer;

pub(crate) use field::{get, set, tiles, Field, Span};
pub(crate) use fixed::Records;
pub(crate) use reader::Reader;
#[cfg(feature = "alloc")]
pub(crate) use sink::append_to_vec;
pub(crate) use sink::{encode_into, Sink};
pub(crate) use writer::{decimal_len_i64, decimal_len_u64, Writer};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    #[test]
    fn reader_reports_truncation_where_it_happens() {
        let mut r = Reader::with_base(&[1, 2, 3], 10);
        assert_eq!(r.u16().unwrap(), 0x0102);
        let e = r.array::<4>().unwrap_err();
        assert_eq!(e.offset(), 12);
        assert_eq!(e.kind(), DecodeErrorKind::Truncated { needed: 3 });
        // A failed read consumes nothing.
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.is_empty());
    }

    #[test]
    fn a_cut_block_reports_its_first_cut_field() {
        const A: Field<8> = Field::at(0);
        const B: Field<4> = Field::at(8);
        const C: Field<4> = Field::at(12);
        const FIELDS: [Span; 3] = [A.span(), B.span(), C.span()];
        const _: () = assert!(tiles(&FIELDS, 16));
        let bytes: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let block = Reader::new(&bytes).block::<16>(&FIELDS).unwrap();
        assert_eq!(u64::from_be_bytes(get(block, A)), 0x0102_0304_0506_0708);
        assert_eq!(u32::from_be_bytes(get(block, B)), 0x090a_0b0c);
        assert_eq!(get(block, C), [13, 14, 15, 16]);
        for len in 0..16 {
            let mut r = Reader::with_base(&bytes[..len], 100);
            let e = r.block::<16>(&FIELDS).unwrap_err();
            let (start, end) = match len {
                0..=7 => (0, 8),
                8..=11 => (8, 12),
                _ => (12, 16),
            };
            assert_eq!(e.offset(), 100 + start, "len {len}");
            assert_eq!(e.kind(), DecodeErrorKind::Truncated { needed: end - len });
            assert_eq!(r.remaining(), len, "a failed block consumes nothing");
        }
    }

    #[test]
    fn records_reject_partial_tail_at_its_start() {
        let mut r = Reader::new(&[0; 13]);
        let e = r.records(6).unwrap_err();
        assert_eq!(e.offset(), 12);
        assert_eq!(e.kind(), DecodeErrorKind::PartialRecord { stride: 6 });
        let mut r = Reader::new(&[0; 12]);
        let recs = r.records(6).unwrap();
        assert_eq!(Records::<6>::new(recs).len(), 2);
    }

    #[test]
    fn writer_checks_capacity_up_front() {
        let mut buf = [7u8; 3];
        assert_eq!(Writer::new(&mut buf, 4).unwrap_err().required(), 4);
        assert_eq!(buf, [7; 3]);
        let mut w = Writer::new(&mut buf, 2).unwrap();
        w.bytes(&[0xab, 0xcd]).unwrap();
        assert!(w.u8(1).is_err());
        assert_eq!(w.finish(), 2);
        assert_eq!(buf, [0xab, 0xcd, 7]);
    }

    #[test]
    fn records_fill_the_window_and_no_more() {
        let mut buf = [9u8; 8];
        let mut w = Writer::new(&mut buf, 6).unwrap();
        w.records_with([[1u8, 2], [3, 4], [5, 6], [7, 8]], |d, s| *d = s);
        assert_eq!(w.finish(), 6);
        assert_eq!(buf, [1, 2, 3, 4, 5, 6, 9, 9]);
        // A short iterator gives a short message.
        let mut w = Writer::new(&mut buf, 6).unwrap();
        w.records_with([[0u8, 0]], |d, s| *d = s);
        assert_eq!(w.finish(), 2);
    }

    #[test]
    fn picked_records_skip_without_a_slot_and_stop_pulling_when_full() {
        let mut buf = [9u8; 8];
        let mut w = Writer::new(&mut buf, 4).unwrap();
        let mut pulled = 0;
        let items = (1u8..=9).inspect(|_| pulled += 1);
        w.records_picked(items, |d: &mut [u8; 2], i| {
            let keep = i % 2 == 0;
            if keep {
                *d = [i, i];
            }
            keep
        });
        assert_eq!(w.finish(), 4);
        assert_eq!(buf, [2, 2, 4, 4, 9, 9, 9, 9]);
        assert_eq!(pulled, 4, "the window was full after item 4");
        let mut w = Writer::new(&mut buf, 4).unwrap();
        w.records_picked([1u8, 3], |_: &mut [u8; 2], _| false);
        assert_eq!(w.finish(), 0);
    }

    #[test]
    fn decimal_formatting() {
        for v in [0u64, 7, 10, 99, 100, 12345, u64::MAX] {
            let mut buf = [0u8; 32];
            let mut w = Writer::new(&mut buf, decimal_len_u64(v)).unwrap();
            w.decimal_u64(v).unwrap();
            let n = w.finish();
            assert_eq!(&buf[..n], std::format!("{v}").as_bytes());
        }
        for v in [0i64, -1, -5, 42, i64::MIN, i64::MAX] {
            let mut buf = [0u8; 32];
            let mut w = Writer::new(&mut buf, decimal_len_i64(v)).unwrap();
            w.decimal_i64(v).unwrap();
            let n = w.finish();
            assert_eq!(&buf[..n], std::format!("{v}").as_bytes());
        }
    }
}
