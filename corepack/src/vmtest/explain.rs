//! A rejection in C terms: the verifier's message and failing instruction from the
//! log libbpf printed, and the C source line of that instruction from the object's
//! `.BTF.ext` line info.

use btfgen::bpf::BpfObject;

/// Why a program did not load, as far as the log tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Whether the kernel's verifier ran and rejected the program; `false`: libbpf
    /// (or the kernel, creating a map) refused it before.
    pub by_verifier: bool,
    /// The verifier's message (its lines after the failing instruction, joined with
    /// "; "), or libbpf's first complaint when the verifier never ran.
    pub message: String,
    /// The failing instruction's index and text as the verifier printed it.
    pub insn: Option<(u32, String)>,
    /// The C source of that instruction.
    pub source: Option<SourceLine>,
}

/// A line of C source from line info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// The file name as the compiler recorded it (empty when only the kernel's log
    /// comment gave the text).
    pub file: String,
    /// The line number (0 when unknown).
    pub line: u32,
    /// The line's text, trimmed.
    pub text: String,
}

/// The verifier's log inside libbpf's `-- BEGIN PROG LOAD LOG --` markers, if any.
fn verifier_log(log: &str) -> Option<&str> {
    let start = log.find("-- BEGIN PROG LOAD LOG --")?;
    let body = &log[start..];
    let body = &body[body.find('\n').map_or(body.len(), |i| i + 1)..];
    Some(
        body.find("-- END PROG LOAD LOG --")
            .map_or(body, |e| &body[..e]),
    )
}

/// `N: (op) text` or `N: <libbpf's note>`: an instruction line of the log.
fn insn_line(line: &str) -> Option<(u32, &str)> {
    let (n, rest) = line.split_once(": ")?;
    let n = n.parse().ok()?;
    let is_insn = (rest.len() > 4 && rest.starts_with('(') && rest.as_bytes()[3] == b')')
        || rest.starts_with('<');
    if !is_insn {
        return None;
    }
    // 6.x appends the registers' state after "; ".
    let text = rest.split("  ;").next().unwrap_or(rest).trim_end();
    Some((n, text))
}

/// A register state dump (`R0_w=inv(...) R6=...`, 5.10 prints one after the failing
/// instruction), not part of the message.
fn is_state(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('R') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(['=', '_'])
}

/// The verifier's summary lines after the message.
fn is_summary(line: &str) -> bool {
    [
        "processed ",
        "verification time",
        "stack depth",
        "Error: ",
        "libbpf: ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Explains a failed load of program `prog` of `obj` from libbpf's warnings `log`.
pub fn explain(log: &str, obj: Option<&BpfObject>, prog: &str) -> Rejection {
    let Some(vlog) = verifier_log(log).filter(|v| v.lines().any(|l| insn_line(l).is_some())) else {
        let message = log
            .lines()
            .map(|l| l.strip_prefix("libbpf: ").unwrap_or(l).trim())
            .find(|l| {
                !l.is_empty()
                    && !l.starts_with("failed to load object")
                    && !l.contains("failed to load: ")
                    // libbpf's notice before it tries again; the failure follows
                    && !l.contains("Retrying without BTF")
            })
            .unwrap_or("no message")
            .to_string();
        return Rejection {
            by_verifier: false,
            message,
            insn: None,
            source: None,
        };
    };
    let lines: Vec<&str> = vlog.lines().collect();
    let last = lines.iter().rposition(|l| insn_line(l).is_some());
    let (insn, message) = match last {
        Some(i) => {
            let (n, text) = insn_line(lines[i]).expect("an instruction line");
            let message: Vec<&str> = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .take_while(|l| !is_summary(l))
                .filter(|l| !l.is_empty() && !is_state(l))
                .collect();
            (Some((n, text.to_string())), message.join("; "))
        }
        None => (None, String::new()),
    };
    let source = insn.as_ref().and_then(|(n, _)| {
        // (A record without a line or text, as clang writes for some macro
        // expansions, says nothing: the log's comment may.)
        obj.and_then(|o| line_of(o, prog, *n))
            .filter(|s| s.line > 0 || !s.text.is_empty())
            .or_else(|| {
                // The kernel's comment before the instruction: the text only.
                let i = last?;
                lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| !l.starts_with("from "))
                    .find_map(|l| l.strip_prefix("; ").filter(|t| !t.trim().is_empty()))
                    .map(log_comment)
            })
    });
    Rejection {
        by_verifier: true,
        message: if message.is_empty() {
            "no message after the last instruction".into()
        } else {
            message
        },
        insn,
        source,
    }
}

/// The kernel's comment line: `text`, or `text @ file:line` (kernels since 5.17).
fn log_comment(comment: &str) -> SourceLine {
    let at = comment.rsplit_once(" @ ").and_then(|(text, place)| {
        let (file, line) = place.rsplit_once(':')?;
        Some((text, file, line.trim().parse().ok()?))
    });
    match at {
        Some((text, file, line)) => SourceLine {
            file: file.to_string(),
            line,
            text: text.trim().to_string(),
        },
        None => SourceLine {
            file: String::new(),
            line: 0,
            text: comment.trim().to_string(),
        },
    }
}

/// The line info of instruction `insn` of program `prog` (the main program: libbpf
/// appends subprograms after it, which this does not follow).
pub fn line_of(obj: &BpfObject, prog: &str, insn: u32) -> Option<SourceLine> {
    let p = obj.programs.iter().find(|p| p.name == prog)?;
    let off = p.offset.checked_add(u64::from(insn) * 8)?;
    if off >= p.offset + p.size {
        return None;
    }
    let sec = obj.ext.line_info.iter().find(|s| s.name == p.section)?;
    let li = sec
        .records
        .iter()
        .filter(|r| u64::from(r.insn_off) >= p.offset && u64::from(r.insn_off) <= off)
        .max_by_key(|r| r.insn_off)?;
    let text = obj.btf.name(li.line_off).trim().to_string();
    Some(SourceLine {
        file: obj.btf.name(li.file_name_off).into_owned(),
        line: li.line_col >> 10,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHER_REG: &str = "libbpf: prog 'other_reg': BPF program load failed: Permission denied
libbpf: prog 'other_reg': -- BEGIN PROG LOAD LOG --
reg type unsupported for arg#0 function other_reg#17
0: R1=ctx(off=0,imm=0) R10=fp0
; if (next < MAX)
14: (25) if r1 > 0xf goto pc+5        ; R1_w=scalar(umin=1,umax=15,var_off=(0x0; 0xf))
; s->v[pos + 1] += 1;
17: (61) r1 = *(u32 *)(r0 +4)
R0 unbounded memory access, make sure to bounds check any such access
processed 17 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1
-- END PROG LOAD LOG --
libbpf: prog 'other_reg': failed to load: -13
libbpf: failed to load object '/vt/obj/2.o'
";

    #[test]
    fn message_instruction_and_the_logs_comment_without_an_object() {
        let r = explain(OTHER_REG, None, "other_reg");
        assert!(r.by_verifier);
        assert_eq!(
            r.message,
            "R0 unbounded memory access, make sure to bounds check any such access"
        );
        assert_eq!(r.insn, Some((17, "(61) r1 = *(u32 *)(r0 +4)".into())));
        let s = r.source.unwrap();
        assert_eq!((s.file.as_str(), s.line), ("", 0));
        assert_eq!(s.text, "s->v[pos + 1] += 1;");
    }

    #[test]
    fn the_kernels_comment_with_its_file_and_line() {
        let s = log_comment("return bpf_get_socket_cookie(sk); @ core_fixes.bpf.h:247");
        assert_eq!(
            (s.file.as_str(), s.line, s.text.as_str()),
            ("core_fixes.bpf.h", 247, "return bpf_get_socket_cookie(sk);")
        );
        let s = log_comment("a @ b");
        assert_eq!((s.file.as_str(), s.line, s.text.as_str()), ("", 0, "a @ b"));
    }

    #[test]
    fn register_states_are_not_the_message() {
        let log = "-- BEGIN PROG LOAD LOG --
14: (61) r1 = *(u32 *)(r6 +0)
R0_w=inv(id=0,umax_value=17179869180) R6_w=map_value(id=0,off=0,ks=4,vs=64) R10=fp0
R6 unbounded memory access, make sure to bounds check any such access
processed 15 insns
-- END PROG LOAD LOG --
";
        let r = explain(log, None, "x");
        assert_eq!(
            r.message,
            "R6 unbounded memory access, make sure to bounds check any such access"
        );
    }

    #[test]
    fn libbpfs_note_for_a_failed_relocation() {
        let log = "libbpf: prog 'x': -- BEGIN PROG LOAD LOG --
10: (15) if r7 == 0x0 goto pc+9       ; R7_w=map_value(off=0,ks=4,vs=64,imm=0)
11: <invalid CO-RE relocation>
failed to resolve CO-RE relocation <byte_off> [18] struct task_struct.no_such_field (0:0 @ offset 0)
processed 11 insns (limit 1000000)
-- END PROG LOAD LOG --
";
        let r = explain(log, None, "x");
        assert_eq!(r.insn, Some((11, "<invalid CO-RE relocation>".into())));
        assert!(r
            .message
            .starts_with("failed to resolve CO-RE relocation <byte_off>"));
    }

    #[test]
    fn without_a_verifier_log_libbpfs_first_complaint() {
        let log = "libbpf: Error in bpf_create_map_xattr(m):Invalid argument(-22). Retrying without BTF.\n\
                   libbpf: prog 'x': failed to find kernel BTF type ID of 'nope': -3\n\
                   libbpf: prog 'x': failed to load: -3\nlibbpf: failed to load object 'o'\n";
        let r = explain(log, None, "x");
        assert_eq!(
            r.message,
            "prog 'x': failed to find kernel BTF type ID of 'nope': -3"
        );
        assert_eq!((r.insn, r.source), (None, None));
        assert!(!r.by_verifier);
    }
}
