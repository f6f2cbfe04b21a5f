//! Untrusted text on its way to people: the one place that decides how a string read
//! from an input (a BTF name, an archive member, repository metadata, a bundle's
//! strings, an exec'd file name) is shown on a terminal, and whether it may become a
//! file name.
//!
//! [`escape`] renders control characters (C0, DEL, C1), the bidirectional formatting
//! characters that reorder what a terminal shows, and bytes that are not UTF-8 as
//! `\xNN`/`\u{NN}` escapes (`\t`, `\n`, `\r` for those three), so that no escape
//! sequence from an input reaches a terminal. Everything else, backslashes included,
//! is shown as it is: escaping twice is escaping once, so a line may be escaped as a
//! whole where its parts already were. JSON outputs carry the exact string instead
//! ([`crate::json`] escapes the same characters the JSON way).

use std::fmt::{self, Write};

/// Whether `c` is shown escaped: C0 controls, DEL, C1 controls, and the Unicode
/// bidirectional formatting characters (the "Trojan Source" reorderings).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Text (or bytes) shown with its control characters and invalid UTF-8 escaped; see
/// the module documentation.
#[derive(Clone, Copy)]
pub struct Escaped<'a>(&'a [u8]);

/// `s` for a terminal: its [`Display`](fmt::Display) escapes what [`is_unsafe_char`]
/// says, and each byte that is not UTF-8 as `\xNN`.
pub fn escape<S: AsRef<[u8]> + ?Sized>(s: &S) -> Escaped<'_> {
    Escaped(s.as_ref())
}

/// A path for a terminal ([`escape`] of its bytes).
pub fn escape_path(p: &std::path::Path) -> Escaped<'_> {
    use std::os::unix::ffi::OsStrExt;
    Escaped(p.as_os_str().as_bytes())
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            let valid = chunk.valid();
            let mut start = 0;
            for (i, c) in valid.char_indices() {
                if !is_unsafe_char(c) {
                    continue;
                }
                f.write_str(&valid[start..i])?;
                start = i + c.len_utf8();
                match c {
                    '\t' => f.write_str("\\t")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    c if (c as u32) < 0x80 => write!(f, "\\x{:02x}", c as u32)?,
                    c => write!(f, "\\u{{{:x}}}", c as u32)?,
                }
            }
            f.write_str(&valid[start..])?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Writes one line of a text report: `args` formatted, then escaped as a whole (a
/// newline or tab inside a name cannot start a line or a column), then `\n`.
pub fn write_line(out: &mut impl Write, args: fmt::Arguments<'_>) -> fmt::Result {
    match args.as_str() {
        Some(s) => write!(out, "{}", escape(s))?,
        None => write!(out, "{}", escape(&args.to_string()))?,
    }
    out.write_char('\n')
}

/// `s` with each of its lines escaped ([`escape`]) and the lines kept: for an error
/// whose message is deliberately several lines, one per item.
pub fn escape_lines(s: &str) -> String {
    let lines: Vec<String> = s.split('\n').map(|l| escape(l).to_string()).collect();
    lines.join("\n")
}

/// Longest kernel release accepted: `struct new_utsname`'s release field holds 64
/// characters and a NUL.
pub const MAX_RELEASE_LEN: usize = 64;

/// Whether `s` can be a kernel release (`uname -r`) and so a file name: 1 to
/// [`MAX_RELEASE_LEN`] characters, a digit first, then ASCII letters, digits and
/// `.`, `_`, `-`, `+`, `~` only. No such name is a path separator, `.` or `..`, an
/// option (`-x`), hidden, or shows anything but itself on a terminal.
pub fn is_kernel_release(s: &str) -> bool {
    s.len() <= MAX_RELEASE_LEN
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+~".contains(&b))
}

/// Whether `s` can name a distro, its version or an architecture in a BTF directory
/// (`<ID>/<VERSION_ID>/<arch>/`, os-release's `ID` and `VERSION_ID` and `uname -m`): 1 to
/// [`MAX_RELEASE_LEN`] ASCII letters, digits and `.`, `_`, `-`, `+`, `~`, not starting
/// with `.` or `-`.
pub fn is_name_component(s: &str) -> bool {
    (1..=MAX_RELEASE_LEN).contains(&s.len())
        && !s.starts_with(['.', '-'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+~".contains(&b))
}

/// Whether `s` is a C identifier: an ASCII letter or `_`, then letters, digits and
/// `_` (what the kernel's BTF verifier accepts as a type or member name).
pub fn is_c_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_interpret() {
        let cases: &[(&[u8], &str)] = &[
            (b"task_struct", "task_struct"),
            (b"", ""),
            // ESC [ 2 J: clear the screen.
            (b"\x1b[2Jx", "\\x1b[2Jx"),
            // OSC 0: set the window title, ended by BEL.
            (b"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            (b"a\tb\nc\rd", "a\\tb\\nc\\rd"),
            (b"\x00\x7f", "\\x00\\x7f"),
            // U+009B, the C1 CSI, in UTF-8.
            ("\u{9b}31m".as_bytes(), "\\u{9b}31m"),
            // A lone 0x9b byte (CSI on 8-bit terminals) is not UTF-8.
            (b"\x9b31m", "\\x9b31m"),
            (b"ok\xff\xfe", "ok\\xff\\xfe"),
            // Right-to-left override and isolates.
            ("a\u{202e}b\u{2066}".as_bytes(), "a\\u{202e}b\\u{2066}"),
            // Printable text, backslashes and non-ASCII letters stay.
            ("ü\\x1b é".as_bytes(), "ü\\x1b é"),
        ];
        for (input, want) in cases {
            let got = escape(input).to_string();
            assert_eq!(&got, want, "{:?}", String::from_utf8_lossy(input));
            // Escaping twice is escaping once.
            assert_eq!(escape(&got).to_string(), got);
            assert!(got.bytes().all(|b| (0x20..0x7f).contains(&b) || b >= 0x80));
        }
    }

    #[test]
    fn lines_are_escaped_whole() {
        let mut s = String::new();
        write_line(&mut s, format_args!("kernel {}\tx", "a\nb")).unwrap();
        write_line(&mut s, format_args!("plain")).unwrap();
        assert_eq!(s, "kernel a\\nb\\tx\nplain\n");
        assert_eq!(escape_lines("a\x1b\nb\x07"), "a\\x1b\nb\\x07");
    }

    #[test]
    fn kernel_releases() {
        for ok in [
            "6.1.0-13-amd64",
            "5.4.0-1019-aws",
            "4.18.0-348.el8.x86_64",
            "5.14.0-70.13.1.el9_0.x86_64",
            "5.3.18-150300.59.43-default",
            "6.1.0+",
            "4.9.0~rc1",
            &format!("6{}", "x".repeat(MAX_RELEASE_LEN - 1)),
        ] {
            assert!(is_kernel_release(ok), "{ok}");
        }
        for bad in [
            "",
            "x6.1",
            "-6.1",
            ".6",
            "6.1/../../x",
            "6.1 0",
            "6.1\x1b[2J",
            "6.1\n",
            "6.1\u{202e}",
            "6.1ü",
            &format!("6{}", "x".repeat(MAX_RELEASE_LEN)),
        ] {
            assert!(!is_kernel_release(bad), "{bad:?}");
        }
    }

    #[test]
    fn name_components() {
        // os-release IDs and VERSION_IDs as distros write them, and `uname -m`s.
        for ok in [
            "debian",
            "rhel",
            "opensuse-leap",
            "12",
            "15.4",
            "7",
            "x86_64",
            "arm64",
        ] {
            assert!(is_name_component(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "deb ian",
            "debian\x1b[31m",
            "ü",
        ] {
            assert!(!is_name_component(bad), "{bad:?}");
        }
        assert!(!is_name_component(&"x".repeat(MAX_RELEASE_LEN + 1)));
    }

    #[test]
    fn c_identifiers() {
        for ok in ["a", "_", "task_struct", "__u32", "x9"] {
            assert!(is_c_identifier(ok), "{ok}");
        }
        for bad in [
            "",
            "9x",
            "a b",
            "a.b",
            "a-b",
            "a$",
            "ü",
            "a\x1b",
            "foo.isra.0",
        ] {
            assert!(!is_c_identifier(bad), "{bad:?}");
        }
    }
}
