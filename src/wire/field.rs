//! Layout tables: a binary message's fixed fields stated once, as byte offsets with the
//! width in the type (smoltcp's `mod field`, `src/wire/udp.rs`, with `Field = Range`).
//!
//! A codec names a field from its table and never writes an offset itself: decode reads
//! with [`get`], encode writes with [`set`], and both follow the table. The width is part
//! of the type, so reading a 4-byte field as a `u64` does not compile; [`tiles`] lets a
//! table assert, at compile time, that its fields follow each other without gap or
//! overlap in the order listed.

/// A field of `W` bytes at a fixed offset of a fixed-size block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<const W: usize> {
    start: usize,
}

impl<const W: usize> Field<W> {
    /// The field of `W` bytes starting at byte `start`.
    pub(crate) const fn at(start: usize) -> Self {
        Field { start }
    }

    /// The offset of the field's first byte.
    pub(crate) const fn start(self) -> usize {
        self.start
    }

    /// The offset just past the field.
    pub(crate) const fn end(self) -> usize {
        self.start.saturating_add(W)
    }

    /// The field's byte range without its width type, for tables of mixed widths.
    pub(crate) const fn span(self) -> Span {
        Span {
            start: self.start,
            end: self.end(),
        }
    }
}

/// A field's byte range, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Whether `fields`, in the order listed, cover `0..len` exactly: each starts where the
/// one before it ends. For `const _: () = assert!(tiles(..))` next to each table.
pub(crate) const fn tiles(mut fields: &[Span], len: usize) -> bool {
    let mut at = 0usize;
    while let [first, rest @ ..] = fields {
        if first.start != at || first.end < first.start {
            return false;
        }
        at = first.end;
        fields = rest;
    }
    at == len
}

/// The bytes of field `f` of `block`.
///
/// Once inlined, `f` is a constant and the block's length part of the type, so this is a
/// plain load; the zeros for a field outside the block are unreachable for tables that
/// pass their [`tiles`] assertion.
#[inline(always)]
pub(crate) fn get<const W: usize, const N: usize>(block: &[u8; N], f: Field<W>) -> [u8; W] {
    match block.get(f.start..).and_then(|b| b.first_chunk::<W>()) {
        Some(bytes) => *bytes,
        None => [0; W],
    }
}

/// Writes `bytes` into field `f` of `block`: a plain store once inlined (see [`get`]).
#[inline(always)]
pub(crate) fn set<const W: usize, const N: usize>(
    block: &mut [u8; N],
    f: Field<W>,
    bytes: [u8; W],
) {
    if let Some(dst) = block
        .get_mut(f.start..)
        .and_then(|b| b.first_chunk_mut::<W>())
    {
        *dst = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Field<2> = Field::at(0);
    const B: Field<4> = Field::at(2);

    #[test]
    fn fields_read_and_write_their_bytes() {
        let mut block = [0u8; 6];
        set(&mut block, B, [1, 2, 3, 4]);
        set(&mut block, A, [9, 8]);
        assert_eq!(block, [9, 8, 1, 2, 3, 4]);
        assert_eq!(u32::from_be_bytes(get(&block, B)), 0x0102_0304);
        assert_eq!(get(&block, A), [9, 8]);
        // Outside the block: zeros, and nothing written.
        assert_eq!(get(&block, Field::<4>::at(4)), [0; 4]);
        set(&mut block, Field::<4>::at(4), [7; 4]);
        assert_eq!(block, [9, 8, 1, 2, 3, 4]);
    }

    #[test]
    fn tiling_catches_gaps_overlaps_and_order() {
        assert!(tiles(&[A.span(), B.span()], 6));
        assert!(!tiles(&[B.span(), A.span()], 6), "listed out of order");
        assert!(!tiles(&[A.span(), B.span()], 7), "short of the block");
        assert!(!tiles(&[A.span(), Field::<4>::at(3).span()], 7), "a gap");
        assert!(
            !tiles(&[A.span(), Field::<4>::at(1).span()], 5),
            "an overlap"
        );
        assert!(tiles(&[], 0));
    }
}
