//! The one piece of JSON the machine-readable outputs (`dump`, `diff`, `check`) share:
//! strings, escaped.

use std::fmt::{self, Write};

/// Writes `s` as a JSON string.
pub fn write_string(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            // Controls (C0, DEL, C1) and bidi reorderings: the same characters a
            // terminal gets escaped (crate::text), exact once decoded.
            c if crate::text::is_unsafe_char(c) => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// `s` as a JSON string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_string(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(
            super::quote("\u{1b}[2J\u{7f}\u{9b}\u{202e}é"),
            "\"\\u001b[2J\\u007f\\u009b\\u202eé\""
        );
    }
}
