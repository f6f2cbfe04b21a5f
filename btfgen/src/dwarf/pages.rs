//! Giving back the pages of a mapped input that the encoder has finished with.
//!
//! A vmlinux's `.debug_info` (200 MiB of Debian 13's 346 MiB 6.12 kernel) is read once,
//! unit after unit. Left mapped, every page read stays in the process's resident set
//! until the end: two thirds of the encoder's peak RSS. Once the units before an offset
//! are deduplicated nothing reads those bytes again, so their pages are dropped from
//! the mapping (`MADV_DONTNEED`); they stay in the page cache, and a later read would
//! fault them in again from the file, with the same contents.

use memmap2::{Mmap, UncheckedAdvice};

/// Pages are dropped in aligned runs of this many bytes: a multiple of every page
/// size Linux uses (4 KiB to 64 KiB), so that any run is page-aligned.
const GRANULE: usize = 64 << 10;

/// Pages are dropped once at least this many bytes are done: each drop interrupts the
/// other CPUs to flush their TLBs, which per granule cost some 3% of a vmlinux's time.
const BATCH: usize = 4 << 20;

/// Drops a mapped section's pages from the front, as its readers finish with them.
pub(super) struct Pages<'m> {
    map: Option<&'m Mmap>,
    /// Map offset up to which pages have been dropped (or were never ours to drop).
    dropped: usize,
}

impl<'m> Pages<'m> {
    /// Drops nothing: the input is not a file map (a stream read into memory, or a
    /// caller that keeps its bytes).
    pub(super) fn keep() -> Pages<'static> {
        Pages {
            map: None,
            dropped: 0,
        }
    }

    /// Drops pages of `map`, which must hold the bytes being encoded.
    pub(super) fn drop_from(map: &'m Mmap) -> Pages<'m> {
        Pages {
            map: Some(map),
            dropped: 0,
        }
    }

    /// Nothing reads `section[..end]` again: drop the whole granules it covers, once
    /// they add up to [`BATCH`] bytes (or reach the section's end). A section that is
    /// not inside the map (decompressed into memory) is left alone.
    pub(super) fn done_until(&mut self, section: &[u8], end: usize) {
        let Some(map) = self.map else { return };
        let base = map.as_ptr() as usize;
        let start = section.as_ptr() as usize;
        if start < base || start + section.len() > base + map.len() {
            return;
        }
        let first = (start - base).next_multiple_of(GRANULE).max(self.dropped);
        let stop = (start - base + end.min(section.len())) / GRANULE * GRANULE;
        if first >= stop || stop - first < BATCH && end < section.len() {
            return;
        }
        // SAFETY: `Mmap` is a read-only shared map of a file, never written through.
        // MADV_DONTNEED only removes its pages from this process: a later read faults
        // them in again from the page cache or the file, with the same bytes (unless the
        // file changes underneath, which reading a changing mapped file risks anyway).
        // The range lies inside the map. It is advice: a failure leaves the pages.
        let _ =
            unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, first, stop - first) };
        self.dropped = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The bytes stay readable and unchanged after their pages are dropped.
    #[test]
    fn dropped_pages_read_back_the_same() {
        let bytes: Vec<u8> = (0..5 * GRANULE + 123)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        // SAFETY: a private temporary file nothing else writes.
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let mut pages = Pages::drop_from(&map);
        let section = &map[100..];
        for end in [0, 10, GRANULE, 3 * GRANULE + 5] {
            pages.done_until(section, end);
            assert_eq!(&map[..], &bytes[..], "after done_until({end})");
        }
        // Less than a batch: nothing dropped until the section's end.
        assert_eq!(pages.dropped, 0);
        for end in [section.len(), usize::MAX] {
            pages.done_until(section, end);
            assert_eq!(&map[..], &bytes[..], "after done_until({end})");
        }
        assert_eq!(pages.dropped, 5 * GRANULE);
        // Memory that is not the map is never touched.
        let other = bytes.clone();
        pages.done_until(&other, other.len());
        assert_eq!(other, bytes);
        Pages::keep().done_until(&map, map.len());
    }
}
