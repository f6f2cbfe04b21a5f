//! The event record the BPF program emits (`struct exec_event` in bpf/trace.bpf.c).

use std::fmt;

use btfgen::text::escape;

const COMM_LEN: usize = 16;
const FILENAME_LEN: usize = 256;

/// Size of one record: four u32s, comm and filename.
pub const EVENT_SIZE: usize = 16 + COMM_LEN + FILENAME_LEN;

/// One successful exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecEvent {
    /// Thread group id (the process id) of the process that exec'd.
    pub pid: u32,
    /// Its parent's tgid, read through CO-RE (`task_struct->real_parent->tgid`).
    pub ppid: u32,
    /// Its real uid.
    pub uid: u32,
    /// Its comm after the exec (the new program's name, at most 15 bytes).
    pub comm: String,
    /// The path given to exec.
    pub filename: String,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl ExecEvent {
    /// Decodes one record (native byte order, as the kernel wrote it). `None` if the
    /// sample is shorter than a record.
    pub fn parse(b: &[u8]) -> Option<ExecEvent> {
        if b.len() < EVENT_SIZE {
            return None;
        }
        let filename_len = (u32_at(b, 12) as usize).min(FILENAME_LEN);
        let filename = &b[16 + COMM_LEN..16 + COMM_LEN + FILENAME_LEN];
        Some(ExecEvent {
            pid: u32_at(b, 0),
            ppid: u32_at(b, 4),
            uid: u32_at(b, 8),
            comm: c_string(&b[16..16 + COMM_LEN]),
            filename: c_string(&filename[..filename_len]),
        })
    }

    /// One JSON object: `{"pid":N,"ppid":N,"uid":N,"comm":"...","filename":"..."}`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"pid\":{},\"ppid\":{},\"uid\":{},\"comm\":{},\"filename\":{}}}",
            self.pid,
            self.ppid,
            self.uid,
            btfgen::json::quote(&self.comm),
            btfgen::json::quote(&self.filename)
        )
    }
}

/// The text mode's line: `pid=N ppid=N uid=N comm=C filename=F`, the comm and file
/// name escaped for a terminal (any process can exec a file named with escape
/// sequences).
impl fmt::Display for ExecEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid={} ppid={} uid={} comm={} filename={}",
            self.pid,
            self.ppid,
            self.uid,
            escape(&self.comm),
            escape(&self.filename)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_record() {
        let mut b = vec![0u8; EVENT_SIZE + 4];
        b[0..4].copy_from_slice(&42u32.to_ne_bytes());
        b[4..8].copy_from_slice(&7u32.to_ne_bytes());
        b[8..12].copy_from_slice(&1000u32.to_ne_bytes());
        b[12..16].copy_from_slice(&9u32.to_ne_bytes());
        b[16..20].copy_from_slice(b"true");
        b[32..41].copy_from_slice(b"/bin/true");
        let e = ExecEvent::parse(&b).unwrap();
        assert_eq!(
            e.to_string(),
            "pid=42 ppid=7 uid=1000 comm=true filename=/bin/true"
        );
        assert_eq!(
            e.to_json(),
            r#"{"pid":42,"ppid":7,"uid":1000,"comm":"true","filename":"/bin/true"}"#
        );
        assert!(ExecEvent::parse(&b[..EVENT_SIZE - 1]).is_none());
    }

    #[test]
    fn text_escapes_comm_and_filename() {
        let mut b = vec![0u8; EVENT_SIZE];
        b[0..4].copy_from_slice(&42u32.to_ne_bytes());
        // A file named to clear the screen and retitle the window, run as a comm
        // that recolours the terminal.
        let name = b"/tmp/\x1b[2J\x1b]0;pwned\x07x";
        b[12..16].copy_from_slice(&(name.len() as u32).to_ne_bytes());
        b[16..16 + 8].copy_from_slice(b"\x1b[31mred");
        b[32..32 + name.len()].copy_from_slice(name);
        let e = ExecEvent::parse(&b).unwrap();
        let line = e.to_string();
        assert_eq!(
            line,
            "pid=42 ppid=0 uid=0 comm=\\x1b[31mred filename=/tmp/\\x1b[2J\\x1b]0;pwned\\x07x"
        );
        assert!(!line.bytes().any(|c| c < 0x20 || c == 0x7f));
        // JSON carries the exact characters.
        assert_eq!(
            e.to_json(),
            r#"{"pid":42,"ppid":0,"uid":0,"comm":"\u001b[31mred","filename":"/tmp/\u001b[2J\u001b]0;pwned\u0007x"}"#
        );
    }
}
