//! One boot: qemu-system-x86_64 with the kernel and the initramfs, the serial console
//! into a file, and the agent's `VT` records read back from it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Accel, VmtestError};

/// What the agent printed in one boot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Console {
    /// `uname -r` in the guest.
    pub uname: String,
    /// Size of the guest's /sys/kernel/btf/vmlinux (0: none).
    pub kernel_btf: u64,
    /// Per program: object index, name, section, relocations patched and failed,
    /// the load's result (0 or -errno) and libbpf's warnings.
    pub programs: Vec<RawProgram>,
    /// Objects that did not open: index, -errno, libbpf's warnings.
    pub open_failures: Vec<(usize, i32, String)>,
    /// Per object bpftool ran on: index, exit status, its output.
    pub bpftool: Vec<(usize, i32, String)>,
    /// The agent's `VT END` was seen.
    pub finished: bool,
}

/// One program's record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RawProgram {
    pub object: usize,
    pub name: String,
    pub section: String,
    pub relo_patched: u32,
    pub relo_failed: u32,
    pub err: i32,
    pub log: String,
}

fn unhex(s: &str) -> String {
    if s == "-" {
        return String::new();
    }
    let bytes: Vec<u8> = (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads the agent's records from the console text (other lines are ignored).
pub(crate) fn parse(text: &str) -> Console {
    let mut c = Console::default();
    // Where VT LOG lines go: the last program, open failure or bpftool run.
    enum Sink {
        None,
        Prog,
        Open,
        Bpftool,
    }
    let mut sink = Sink::None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix("VT ") else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        match f[0] {
            "UNAME" => c.uname = f.get(1).unwrap_or(&"").to_string(),
            "KBTF" => c.kernel_btf = num(1).max(0) as u64,
            "PROG" => {
                c.programs.push(RawProgram {
                    object: num(1) as usize,
                    name: unhex(f.get(2).unwrap_or(&"-")),
                    section: unhex(f.get(3).unwrap_or(&"-")),
                    ..RawProgram::default()
                });
                sink = Sink::Prog;
            }
            "RELO" => {
                if let Some(p) = c.programs.last_mut() {
                    p.relo_patched = num(1) as u32;
                    p.relo_failed = num(2) as u32;
                }
            }
            "LOAD" => {
                if let Some(p) = c.programs.last_mut() {
                    p.err = num(1) as i32;
                }
            }
            "OPEN" => {
                c.open_failures
                    .push((num(1) as usize, num(2) as i32, String::new()));
                sink = Sink::Open;
            }
            "BPFTOOL" => {
                c.bpftool
                    .push((num(1) as usize, num(2) as i32, String::new()));
                sink = Sink::Bpftool;
            }
            "LOG" => {
                let text = unhex(f.get(1).unwrap_or(&"-"));
                let target = match sink {
                    Sink::Prog => c.programs.last_mut().map(|p| &mut p.log),
                    Sink::Open => c.open_failures.last_mut().map(|o| &mut o.2),
                    Sink::Bpftool => c.bpftool.last_mut().map(|b| &mut b.2),
                    Sink::None => None,
                };
                if let Some(t) = target {
                    t.push_str(&text);
                }
            }
            "END" => c.finished = true,
            _ => {}
        }
    }
    c
}

/// Whether KVM can be used: the CPU has hardware virtualization (`vmx` or `svm` in
/// /proc/cpuinfo's flags) and /dev/kvm opens for reading and writing. (A /dev/kvm
/// without them, as some cloud machines offer, can create a VM and then never run
/// this guest.)
pub(crate) fn kvm_usable() -> bool {
    let hw = std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| {
        c.lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"))
    });
    hw && std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

/// Boots `kernel` with `initrd` and returns the console text and the seconds qemu ran.
pub(crate) fn boot(
    kernel: &Path,
    initrd: &Path,
    accel: Accel,
    timeout: Duration,
    serial: &Path,
) -> Result<(String, f64), VmtestError> {
    let (accel_name, cpu) = match accel {
        Accel::Kvm => ("kvm", "host"),
        Accel::Tcg => ("tcg", "max"),
    };
    let t0 = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-accel", accel_name, "-cpu", cpu, "-m", "1024", "-smp", "1"])
        .args([
            "-display",
            "none",
            "-monitor",
            "none",
            "-nic",
            "none",
            "-no-reboot",
        ])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            VmtestError::Qemu(format!(
                "cannot run qemu-system-x86_64 (install the Debian package qemu-system-x86): {e}"
            ))
        })?;
    let status = loop {
        if let Some(s) = child
            .try_wait()
            .map_err(|e| VmtestError::Qemu(e.to_string()))?
        {
            break s;
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(VmtestError::Qemu(format!(
                "{}: the guest did not power off within {} s",
                kernel.display(),
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let secs = t0.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(VmtestError::Qemu(format!(
            "qemu-system-x86_64 -accel {accel_name} failed ({status}): {}",
            btfgen::text::escape(err.lines().next().unwrap_or("").trim())
        )));
    }
    let bytes = std::fs::read(serial).map_err(|e| VmtestError::Io {
        path: serial.to_path_buf(),
        error: e,
    })?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_their_logs() {
        let text = "[ 0.1] noise\r\nVT UNAME 6.1.0-57-cloud-amd64\r\nVT KBTF 4120215\n\
            VT PROG 0 6e6f 7470 \nVT RELO 2 1\nVT LOAD -13\nVT LOG 6162\nVT LOG 63\n\
            VT BPFTOOL 0 255\nVT LOG 78\nVT PROG 1 6d - \nVT RELO 0 0\nVT LOAD 0\nVT END\n";
        let c = parse(text);
        assert_eq!(c.uname, "6.1.0-57-cloud-amd64");
        assert_eq!(c.kernel_btf, 4120215);
        assert_eq!(c.programs.len(), 2);
        let p = &c.programs[0];
        assert_eq!((p.name.as_str(), p.section.as_str()), ("no", "tp"));
        assert_eq!((p.relo_patched, p.relo_failed, p.err), (2, 1, -13));
        assert_eq!(p.log, "abc");
        assert_eq!(c.bpftool, vec![(0, 255, "x".to_string())]);
        assert_eq!(c.programs[1].section, "");
        assert!(c.finished);
    }
}
