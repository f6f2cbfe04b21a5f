//! The initramfs: a cpio archive in the kernel's "newc" format, uncompressed (the
//! kernel unpacks it as is), built in memory. Device nodes are entries only; nothing
//! is created on the host.

/// An uncompressed newc cpio archive under construction.
#[derive(Default)]
pub(crate) struct Cpio {
    bytes: Vec<u8>,
    ino: u32,
}

/// `S_IFDIR`, `S_IFREG`, `S_IFCHR`.
const DIR: u32 = 0o040000;
const FILE: u32 = 0o100000;
const CHAR: u32 = 0o020000;

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            if mode & DIR == DIR { 2 } else { 1 },
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
    }

    /// A directory (its parents must have been added before).
    pub(crate) fn dir(&mut self, name: &str) {
        self.entry(name, DIR | 0o755, (0, 0), &[]);
    }

    /// A regular file, executable when `exec`.
    pub(crate) fn file(&mut self, name: &str, data: &[u8], exec: bool) {
        let perm = if exec { 0o755 } else { 0o644 };
        self.entry(name, FILE | perm, (0, 0), data);
    }

    /// A character device node.
    pub(crate) fn char_dev(&mut self, name: &str, major: u32, minor: u32) {
        self.entry(name, CHAR | 0o600, (major, minor), &[]);
    }

    /// The archive with its trailer.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_headers_names_and_padding() {
        let mut c = Cpio::default();
        c.dir("dev");
        c.char_dev("dev/console", 5, 1);
        c.file("init", b"abcde", true);
        let b = c.finish();
        assert_eq!(b.len() % 4, 0);
        // The first header: magic, ino 1, mode 040755, namesize 4 ("dev\0").
        assert_eq!(&b[..6], b"070701");
        assert_eq!(&b[6..14], b"00000001");
        assert_eq!(&b[14..22], b"000041ed");
        assert_eq!(&b[94..102], b"00000004");
        assert_eq!(&b[110..114], b"dev\0");
        // The console's rdev 5:1 and the file's data, padded.
        let console = b.windows(11).position(|w| w == b"dev/console").unwrap();
        let h = console - 110;
        assert_eq!(&b[h + 78..h + 86], b"00000005");
        assert_eq!(&b[h + 86..h + 94], b"00000001");
        assert!(b.windows(8).any(|w| w == b"abcde\0\0\0"));
        assert!(b.windows(10).any(|w| w == b"TRAILER!!!"));
    }
}
