//! BPF_BTF_LOAD: let the running kernel's BTF verifier judge a blob.

/// Outcome of offering a BTF blob to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// The kernel accepted the BTF (the fd was closed again).
    Loaded,
    /// bpf() itself is unavailable here (EPERM/EACCES/ENOSYS...): the check
    /// cannot run.  The string says why.
    Skip(String),
    /// The kernel rejected the BTF; the string holds errno and verifier log.
    Rejected(String),
}

const BPF_BTF_LOAD: libc::c_long = 18;

/// The BPF_BTF_LOAD part of `union bpf_attr` (fields up to btf_log_level).
/// Trailing fields the kernel knows about are taken as zero.
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

fn bpf_btf_load(bytes: &[u8], log: Option<&mut Vec<u8>>) -> Result<(), i32> {
    let mut attr = BtfLoadAttr {
        btf: bytes.as_ptr() as u64,
        btf_size: bytes.len() as u32,
        ..Default::default()
    };
    if let Some(buf) = log {
        attr.btf_log_buf = buf.as_mut_ptr() as u64;
        attr.btf_log_size = buf.len() as u32;
        attr.btf_log_level = 1;
    }
    // SAFETY: attr points to a properly initialised prefix of bpf_attr and the
    // pointers inside it stay valid for the duration of the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_BTF_LOAD,
            &attr as *const BtfLoadAttr,
            std::mem::size_of::<BtfLoadAttr>() as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // SAFETY: fd was just returned by the kernel and is owned by us.
    unsafe { libc::close(fd as libc::c_int) };
    Ok(())
}

/// Offer `bytes` to the kernel.  The first attempt runs without a log (a
/// verbose log of a large BTF can overflow any buffer and turn success into
/// ENOSPC); on rejection it is retried with log_level 1 to capture the
/// verifier's explanation.
pub fn try_load_btf(bytes: &[u8]) -> Load {
    match bpf_btf_load(bytes, None) {
        Ok(()) => Load::Loaded,
        Err(e)
            if e == libc::EPERM
                || e == libc::EACCES
                || e == libc::ENOSYS
                || e == libc::EOPNOTSUPP =>
        {
            Load::Skip(format!(
                "bpf(BPF_BTF_LOAD) refused: {} (needs root/CAP_BPF and a kernel with BPF syscall)",
                std::io::Error::from_raw_os_error(e)
            ))
        }
        Err(e) => {
            let mut log = vec![0u8; 16 << 20];
            let second = bpf_btf_load(bytes, Some(&mut log));
            let end = log.iter().position(|c| *c == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            // The verdict is at the end; the full log lists every type.
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            Load::Rejected(format!(
                "BPF_BTF_LOAD failed: {} (retry with log: {})\n--- verifier log (last {} of {} lines) ---\n{}",
                std::io::Error::from_raw_os_error(e),
                match second {
                    Ok(()) => "loaded?!".to_string(),
                    Err(e2) => std::io::Error::from_raw_os_error(e2).to_string(),
                },
                lines.len().min(40),
                lines.len(),
                tail
            ))
        }
    }
}

/// `Ok(())` if the kernel accepted the BTF, `Err(log)` if it rejected it.
/// When bpf() is refused outright this prints "skipping: bpf() refused: ..."
/// and returns `Ok(())`, so the caller's test passes but says so.
pub fn load_btf_into_kernel(bytes: &[u8]) -> Result<(), String> {
    match try_load_btf(bytes) {
        Load::Loaded => Ok(()),
        Load::Skip(why) => {
            eprintln!("skipping: bpf() refused: {why}");
            Ok(())
        }
        Load::Rejected(log) => Err(log),
    }
}

/// Why a tracer (corepack's, or the C example loader) cannot run here, if it cannot:
/// no kernel BTF to build a bundle from, or bpf() refused. Mounts tracefs when it is
/// missing.
pub fn tracer_unavailable() -> Option<String> {
    const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";
    let Ok(btf) = std::fs::read(KERNEL_BTF) else {
        return Some(format!("{KERNEL_BTF} is absent"));
    };
    if let Load::Skip(why) = try_load_btf(&btf) {
        return Some(why);
    }
    use std::path::Path;
    use std::process::Command;
    let events = Path::new("/sys/kernel/tracing/events");
    if !events.is_dir() && !Path::new("/sys/kernel/debug/tracing/events").is_dir() {
        let st = Command::new("mount")
            .args(["-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
            .status();
        if !matches!(st, Ok(s) if s.success()) || !events.is_dir() {
            return Some("tracefs is not mounted and mounting it failed".into());
        }
    }
    None
}
