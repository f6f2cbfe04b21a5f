//! The manifest's encoding: unsigned LEB128 integers, strings as a LEB128 length and
//! UTF-8 bytes (or, in version 6, UTF-8 bytes ended by a NUL), and fixed-size byte
//! arrays.

use super::BundleError;

/// A signed 32-bit value as an unsigned one, small magnitudes small (0, -1, 1, -2 → 0, 1,
/// 2, 3).
pub(crate) fn zigzag(d: i32) -> u64 {
    ((d << 1) ^ (d >> 31)) as u32 as u64
}

/// The inverse of [`zigzag`]; `None` past 32 bits.
pub(crate) fn unzigzag(z: u64) -> Option<i32> {
    let z = u32::try_from(z).ok()?;
    Some((z >> 1) as i32 ^ -((z & 1) as i32))
}

/// Appends manifest fields.
#[derive(Default)]
pub(crate) struct Writer(pub Vec<u8>);

impl Writer {
    pub(crate) fn uint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A string ended by a NUL byte (the caller makes sure it has none).
    pub(crate) fn cstr(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

/// Reads manifest fields; every error names the field and its offset.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn bad(what: &str, pos: usize, why: &str) -> BundleError {
    BundleError::Manifest(format!("{what} at manifest offset {pos}: {why}"))
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BundleError> {
        if self.remaining() < n {
            return Err(bad(what, self.pos, "runs past the end"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], BundleError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, BundleError> {
        Ok(self.take(1, what)?[0])
    }

    /// An unsigned LEB128 integer of at most 64 bits, in its shortest form.
    pub(crate) fn uint(&mut self, what: &str) -> Result<u64, BundleError> {
        let start = self.pos;
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8(what)?;
            let bits = (b & 0x7f) as u64;
            if i == 9 && bits > 1 {
                return Err(bad(what, start, "overflows 64 bits"));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(bad(what, start, "not in its shortest form"));
                }
                return Ok(v);
            }
        }
        Err(bad(what, start, "overflows 64 bits"))
    }

    pub(crate) fn str(&mut self, what: &str) -> Result<String, BundleError> {
        let at = self.pos;
        let n = self.uint(what)?;
        let n = usize::try_from(n).map_err(|_| bad(what, at, "too long"))?;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad(what, at, "not UTF-8"))
    }

    /// A string ended by a NUL byte.
    pub(crate) fn cstr(&mut self, what: &str) -> Result<String, BundleError> {
        let at = self.pos;
        let n = self.buf[at..]
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| bad(what, at, "runs past the end"))?;
        let b = self.take(n + 1, what)?;
        String::from_utf8(b[..n].to_vec()).map_err(|_| bad(what, at, "not UTF-8"))
    }

    /// A count of records at least `min_size` bytes each, checked against what remains,
    /// so that a corrupt count cannot make the reader allocate.
    pub(crate) fn count(&mut self, what: &str, min_size: usize) -> Result<usize, BundleError> {
        let at = self.pos;
        let n = self.uint(what)?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_size) <= self.remaining() => Ok(n),
            _ => Err(bad(what, at, &format!("{n} exceeds the manifest"))),
        }
    }

    /// An index below `limit`.
    pub(crate) fn index(&mut self, what: &str, limit: usize) -> Result<usize, BundleError> {
        let at = self.pos;
        let v = self.uint(what)?;
        match usize::try_from(v) {
            Ok(i) if i < limit => Ok(i),
            _ => Err(bad(what, at, &format!("{v} is not below {limit}"))),
        }
    }

    /// How many bytes are not read yet.
    pub(crate) fn rest_len(&self) -> usize {
        self.remaining()
    }

    /// The bytes not read yet, consuming the reader.
    pub(crate) fn rest(self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Errors unless every byte was read.
    pub(crate) fn finish(self) -> Result<(), BundleError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(BundleError::Manifest(format!(
                "{n} unparsed bytes at the end of the manifest"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_and_bad_ones_are_refused() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut w = Writer::default();
            w.uint(v);
            let mut r = Reader::new(&w.0);
            assert_eq!(r.uint("v").unwrap(), v);
            r.finish().unwrap();
        }
        // Overlong (0x80 0x00 is 0 in two bytes), overflowing, and cut integers.
        for bad in [&[0x80, 0x00][..], &[0xff; 10], &[0x80]] {
            assert!(Reader::new(bad).uint("v").is_err(), "{bad:x?}");
        }
    }
}
