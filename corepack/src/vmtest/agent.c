// The guest agent of `corepack test`: /init of the initramfs the command boots each
// kernel with. Statically linked against libbpf (libbpf-dev), libelf and zlib; built by
// corepack at run time (vmtest/agent.rs).
//
// It mounts what loading needs, loads every program of every object /vt/obj/N.o on
// its own (a fresh bpf_object per program, the other programs' autoload off) with the
// BTF /vt/btf when the host put one there (the bundle's pick for this kernel), else
// the kernel's own, and prints per program what libbpf said: its CO-RE relocations
// (from libbpf's debug lines), the load's result and, for a failure, the tail of
// libbpf's warnings, which hold the verifier's log. With /vt/bpftool/bpftool present
// it also runs `bpftool prog loadall` on each object and prints its exit status and
// output. Then it powers the machine off.
//
// Output lines (console, one record a line; text fields hex-encoded):
//   VT UNAME <release>           VT KBTF <bytes of /sys/kernel/btf/vmlinux, or 0>
//   VT OPEN <obj> <err>          the object did not open; VT LOG lines follow
//   VT PROG <obj> <name> <sec>   VT RELO <patched> <failed>   VT LOAD <err>
//   VT LOG <hex>                 VT BPFTOOL <obj> <status>    VT END
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_TAIL 6144

static char *warn_buf;
static size_t warn_len, warn_cap;
static int relo_patched, relo_failed;

static void append(const char *s, size_t n)
{
	if (warn_len + n + 1 > warn_cap) {
		size_t cap = (warn_len + n + 1) * 2;
		char *b = realloc(warn_buf, cap);

		if (!b)
			return;
		warn_buf = b;
		warn_cap = cap;
	}
	memcpy(warn_buf + warn_len, s, n);
	warn_len += n;
	warn_buf[warn_len] = 0;
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);

	if (n < 0)
		return 0;
	if (level == LIBBPF_DEBUG) {
		if (strstr(s, "relo #")) {
			if (strstr(s, "patched insn"))
				relo_patched++;
			else if (strstr(s, "substituting insn") || strstr(s, "poison"))
				relo_failed++;
		}
	} else {
		if (strstr(s, "relo #") && strstr(s, "failed"))
			relo_failed++;
		append(s, n);
	}
	free(s);
	return n;
}

static void hex_lines(const char *tag, const char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char line[2 * 256 + 1];

	for (size_t off = 0; off < n; off += 256) {
		size_t k = n - off < 256 ? n - off : 256;

		for (size_t i = 0; i < k; i++) {
			line[2 * i] = digits[(unsigned char)s[off + i] >> 4];
			line[2 * i + 1] = digits[(unsigned char)s[off + i] & 15];
		}
		line[2 * k] = 0;
		printf("VT %s %s\n", tag, line);
	}
}

static void hex_word(const char *s)
{
	if (!*s)
		printf(" -");
	else
		putchar(' ');
	for (; *s; s++)
		printf("%02x", (unsigned char)*s);
}

// The tail of the collected warnings (the verifier's message is at the end).
static void print_log(void)
{
	size_t from = warn_len > LOG_TAIL ? warn_len - LOG_TAIL : 0;

	hex_lines("LOG", warn_buf ? warn_buf + from : "", warn_len - from);
}

static void reset_log(void)
{
	warn_len = 0;
	relo_patched = relo_failed = 0;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static struct bpf_object *open_obj(const char *path, const char *btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);

	return libbpf_get_error(obj) ? NULL : obj;
}

/* Opens the object with a fresh log; on failure reports it (VT OPEN and libbpf's log). */
static struct bpf_object *open_reported(int idx, const char *path, const char *btf)
{
	struct bpf_object *obj;

	reset_log();
	obj = open_obj(path, btf);
	if (!obj) {
		printf("VT OPEN %d %d\n", idx, -errno);
		print_log();
	}
	return obj;
}

static void load_object(int idx, const char *path, const char *btf)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int count = 0;

	obj = open_reported(idx, path, btf);
	if (!obj)
		return;
	bpf_object__for_each_program(p, obj)
		count++;
	bpf_object__close(obj);
	for (int k = 0; k < count; k++) {
		int i = 0, err;
		struct bpf_program *mine = NULL;

		obj = open_reported(idx, path, btf);
		if (!obj)
			return;
		bpf_object__for_each_program(p, obj) {
			bpf_program__set_autoload(p, i == k);
			if (i++ == k)
				mine = p;
		}
		err = bpf_object__load(obj);
		printf("VT PROG %d", idx);
		hex_word(bpf_program__name(mine));
		hex_word(bpf_program__section_name(mine));
		printf("\nVT RELO %d %d\nVT LOAD %d\n", relo_patched, relo_failed, err);
		if (err)
			print_log();
		fflush(stdout);
		bpf_object__close(obj);
	}
}

static void run_bpftool(int idx, const char *path)
{
	char pin[64], out[] = "/tmp/bpftool.out";
	int status = -1, fd;
	pid_t pid;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/o%d", idx);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/vt/bpftool/ld.so", "ld.so", "--library-path", "/vt/bpftool/lib",
		      "/vt/bpftool/bpftool", "prog", "loadall", path, pin, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	printf("VT BPFTOOL %d %d\n", idx, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	reset_log();
	fd = open(out, O_RDONLY);
	if (fd >= 0) {
		char buf[4096];
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			append(buf, n);
		close(fd);
	}
	print_log();
}

int main(void)
{
	struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
	const char *btf = exists("/vt/btf") ? "/vt/btf" : NULL;
	struct utsname u;
	struct stat st;
	char path[64];

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	mount("bpffs", "/sys/fs/bpf", "bpf", 0, NULL);
	klogctl(8, NULL, 1); // console loglevel 1: kernel messages off our lines
	setrlimit(RLIMIT_MEMLOCK, &inf);
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(print_fn);

	uname(&u);
	printf("VT UNAME %s\n", u.release);
	printf("VT KBTF %lld\n", stat("/sys/kernel/btf/vmlinux", &st) == 0 ? (long long)st.st_size : 0LL);
	for (int i = 0;; i++) {
		snprintf(path, sizeof(path), "/vt/obj/%d.o", i);
		if (!exists(path))
			break;
		load_object(i, path, btf);
		if (exists("/vt/bpftool/bpftool"))
			run_bpftool(i, path);
	}
	printf("VT END\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
