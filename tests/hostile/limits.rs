//! Resource limits (issue #13, class 3): a crafted input or a careless option cannot
//! make a command take unbounded threads, memory or time. `-j` beyond the CPUs is
//! clamped; all the compressed sections of an ELF file share one decompression budget
//! (64 times the file's size), checked before anything is decompressed; a device or
//! FIFO given as an input is read to a bound (256 MiB for BTF inputs) and refused past
//! it.
//!
//! The zero device is made with mknod (c 1 5: Documentation/admin-guide/devices.txt)
//! in the test's own temporary directory, never the real /dev node.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use btfgen_tests::{btfgen, btfgen_bin, fixtures_dir, Work};
use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness, SectionFlags, SectionKind};

use super::Inputs;

#[test]
fn jobs_beyond_the_cpus_are_clamped() {
    let work = Work::new();
    let demo = fixtures_dir().join("demo.o");
    let (one, many) = (work.path("one.btf"), work.path("many.btf"));
    let o = btfgen([
        demo.as_os_str(),
        "-o".as_ref(),
        one.as_os_str(),
        "-j".as_ref(),
        "1".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Before the clamp this spawned 99999 threads and did not finish in minutes.
    let mut child = Command::new(btfgen_bin())
        .arg(&demo)
        .arg("-o")
        .arg(&many)
        .args(["-j", "100000"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("btfgen -j 100000 on a 4.5 KB object still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "-j 100000: {status}");
    // The output is the same for any number of threads.
    assert_eq!(fs::read(&many).unwrap(), fs::read(&one).unwrap());
}

/// An x86-64 relocatable ELF whose `.debug_info` and `.debug_abbrev` are each
/// `SHF_COMPRESSED` (zlib) sections of `stored` bytes claiming `claim` bytes.
fn compressed_elf(stored: usize, claim: u64) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    for name in [".debug_info", ".debug_abbrev"] {
        let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), SectionKind::Debug);
        // Elf64_Chdr: ch_type ELFCOMPRESS_ZLIB (1), ch_reserved, ch_size, ch_addralign.
        let mut data = Vec::new();
        data.extend_from_slice(&1u32.to_le_bytes());
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&claim.to_le_bytes());
        data.extend_from_slice(&1u64.to_le_bytes());
        data.resize(data.len() + stored, 0);
        obj.set_section_data(id, data, 1);
        obj.section_mut(id).flags = SectionFlags::Elf {
            sh_type: object::elf::SHT_PROGBITS,
            sh_flags: object::elf::SHF_COMPRESSED,
        };
    }
    obj.write().unwrap()
}

#[test]
fn compressed_sections_share_one_budget() {
    let inp = Inputs::new();
    // 64 KiB stored per section, each claiming 100 times that: well within zlib's
    // 1032:1 and, alone, within the 64:1 budget of the whole file, but not together.
    let stored = 64 << 10;
    let claim = 100 * stored as u64;
    let elf = compressed_elf(stored, claim);
    let budget = 64 * elf.len() as u64;
    assert!(
        claim < budget && 2 * claim > budget,
        "the case tests the sum"
    );
    let (p, out) = inp.put("bomb.o", &elf);
    let o = btfgen([p.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "btfgen: error: {}: bad ELF file: section .debug_abbrev: compressed sections claim more than {budget} bytes in all (64 times the file's size, at most 8 GiB); refusing the file\n",
            p.display()
        )
    );
    assert!(!out.exists());
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

#[test]
fn a_zero_device_input_is_read_to_a_bound() {
    let inp = Inputs::new();
    let zero = inp.path("zero");
    // SAFETY: a NUL-terminated path; mknod reads nothing else.
    let r = unsafe {
        libc::mknod(
            cstr(&zero).as_ptr(),
            libc::S_IFCHR | 0o444,
            libc::makedev(1, 5),
        )
    };
    if r != 0 {
        eprintln!(
            "skipping: mknod (needs root or CAP_MKNOD): {}",
            std::io::Error::last_os_error()
        );
        return;
    }
    let out = inp.path("out");
    let refused = |limit: &str| {
        format!(
            "btfgen: error: {}: character device gave more than {limit} without ending; refusing it (copy it to a regular file if it is real)\n",
            zero.display()
        )
    };
    let demo = fixtures_dir().join("demo.bpf.o");
    let (z, o) = (zero.as_os_str(), out.as_os_str());
    let cases: [(&[&OsStr], String); 4] = [
        // dump read the zero device until memory ran out.
        (&["dump".as_ref(), z, "-o".as_ref(), o], refused("256 MiB")),
        // min reads the kernel BTF the same way (its context names the file).
        (
            &[
                "min".as_ref(),
                "--btf".as_ref(),
                z,
                demo.as_os_str(),
                "-o".as_ref(),
                o,
            ],
            refused("256 MiB"),
        ),
        // A catalog is text: its bound is 64 MiB (and nothing is fetched).
        (
            &[
                "fetch".as_ref(),
                "--catalog".as_ref(),
                z,
                "debian-12".as_ref(),
                "--list".as_ref(),
            ],
            refused("64 MiB"),
        ),
        // The encoder tells from the first bytes that zeros are no ELF file nor package.
        (
            &[z, "-o".as_ref(), o],
            format!("btfgen: error: {}: not an ELF file\n", zero.display()),
        ),
    ];
    for (args, want) in cases {
        let r = btfgen(args);
        assert_eq!(r.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&r.stderr), want, "{args:?}");
        assert!(!out.exists(), "{args:?}");
    }
}

#[test]
fn an_endless_fifo_input_is_read_to_a_bound() {
    let inp = Inputs::new();
    let fifo = inp.path("fifo");
    // SAFETY: a NUL-terminated path.
    let r = unsafe { libc::mkfifo(cstr(&fifo).as_ptr(), 0o600) };
    assert_eq!(r, 0, "mkfifo: {}", std::io::Error::last_os_error());
    // The test holds a read end (never read) while the command runs, so that the
    // writer can open the FIFO at once and blocks instead of failing; once the command
    // is done and this end closed, its next write fails (EPIPE) and it stops.
    let keeper = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let mut w = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let writer = std::thread::spawn(move || {
        // A little-endian BTF magic, then zeros forever.
        let mut chunk = vec![0u8; 1 << 16];
        chunk[..4].copy_from_slice(&[0x9f, 0xeb, 1, 0]);
        let mut written = 0u64;
        while w.write_all(&chunk).is_ok() {
            written += chunk.len() as u64;
            chunk[..4].fill(0);
        }
        written
    });
    let out = inp.path("out");
    let o = btfgen([
        OsStr::new("dump"),
        fifo.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    drop(keeper);
    let written = writer.join().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "btfgen: error: {}: FIFO gave more than 256 MiB without ending; refusing it (copy it to a regular file if it is real)\n",
            fifo.display()
        )
    );
    assert!(written > 256 << 20, "the command read {written} bytes only");
    assert!(!out.exists());
}
