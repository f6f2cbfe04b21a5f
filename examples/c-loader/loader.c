// SPDX-License-Identifier: MIT OR Apache-2.0
//
// An example C loader: libcorepack chooses the BTF (this machine's, or an injected
// environment's) from a .corepack bundle, and libbpf relocates and loads a CO-RE BPF
// object with it (corepack's exec tracer, corepack/bpf/trace.bpf.c). It prints what it
// chose as key=value lines; with --exec it also runs a program and prints the exec event
// the tracer reported for it (pid, ppid through CO-RE, uid, comm, filename).
//
/*
 * Build (see corepack-c/README.md):
 *   cargo build --release -p corepack-c
 *   clang -target bpf -O2 -g -c corepack/bpf/trace.bpf.c -o trace.bpf.o
 *   gcc -Icorepack-c/include examples/c-loader/loader.c target/release/libcorepack.a \
 *       -lbpf -lelf -lz -lpthread -ldl -lm -o loader
 *   sudo ./loader --bundle tool.corepack --object trace.bpf.o --exec /bin/true
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "corepack.h"

static const char usage[] =
	"usage: loader [--bundle FILE] [--object BPF.o] [--policy auto|kernel|bundle]\n"
	"              [--empty-env] [--arch A] [--uname R] [--os-release FILE]\n"
	"              [--os-id ID] [--version-id V] [--kernel-btf PATH|--no-kernel-btf]\n"
	"              [--explicit PATH] [--build-id HEX] [--btf-out FILE] [--no-load]\n"
	"              [--exec PROGRAM]\n";

// What the tracer sends (corepack/bpf/trace.bpf.c's struct exec_event).
struct exec_event {
	unsigned int pid;
	unsigned int ppid;
	unsigned int uid;
	unsigned int filename_len;
	char comm[16];
	char filename[256];
};

// Prints "key=value\n", the value's control characters and non-ASCII bytes escaped
// (bundle strings are exact and may hold anything).
static void print_field(const char *key, const char *value, size_t max)
{
	printf("%s=", key);
	for (size_t i = 0; i < max && value[i]; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\n');
}

static int fail(const char *what, int status)
{
	fprintf(stderr, "loader: %s: %s: %s\n", what, corepack_status_name(status),
		corepack_last_error());
	return 1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *grown = cap < (1 << 20) ? realloc(buf, 2 * cap + 1) : NULL;
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[len] = 0;
	return buf;
}

// Writes the chosen BTF to a new file; its path goes to libbpf's btf_custom_path.
static int write_btf(const char *path, const uint8_t *btf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, btf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			close(fd);
			return err;
		}
		off += (size_t)n;
	}
	return close(fd) ? -errno : 0;
}

struct watch {
	pid_t child;
	bool seen;
};

static void on_event(void *ctx, int cpu, void *data, __u32 size)
{
	struct watch *w = ctx;
	const struct exec_event *e = data;
	(void)cpu;
	if (size < sizeof(*e) || (pid_t)e->pid != w->child || w->seen)
		return;
	w->seen = true;
	printf("event_pid=%u\nevent_ppid=%u\nevent_uid=%u\n", e->pid, e->ppid, e->uid);
	print_field("event_comm", e->comm, sizeof(e->comm));
	print_field("event_filename", e->filename, sizeof(e->filename));
}

// Runs program and waits up to 5 s for the tracer's event of its exec.
static int trace_exec(struct bpf_object *obj, const char *program)
{
	struct bpf_map *events = bpf_object__find_map_by_name(obj, "EVENTS");
	if (!events) {
		fprintf(stderr, "loader: the object has no EVENTS map\n");
		return 1;
	}
	struct watch w = { 0 };
	struct perf_buffer *pb =
		perf_buffer__new(bpf_map__fd(events), 8, on_event, NULL, &w, NULL);
	if (!pb) {
		fprintf(stderr, "loader: perf_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	w.child = fork();
	if (w.child < 0) {
		perror("loader: fork");
		perf_buffer__free(pb);
		return 1;
	}
	if (w.child == 0) {
		execl(program, program, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 50 && !w.seen; i++)
		perf_buffer__poll(pb, 100);
	waitpid(w.child, NULL, 0);
	perf_buffer__free(pb);
	if (!w.seen) {
		fprintf(stderr, "loader: no exec event for pid %d within 5 s\n", (int)w.child);
		return 1;
	}
	return 0;
}

static bool tracefs_mounted(void)
{
	return access("/sys/kernel/tracing/events/sched", F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/events/sched", F_OK) == 0;
}

// Opens the object with btf_path as its target BTF, loads it, attaches the tracepoint
// when tracefs is mounted, and with exec_program traces one exec.
static int load(const char *object, const char *btf_path, const char *exec_program)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	struct bpf_object *obj = bpf_object__open_file(object, &opts);
	if (!obj) {
		fprintf(stderr, "loader: opening %s: %s\n", object, strerror(errno));
		return 1;
	}
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "loader: loading %s: %s\n", object, strerror(-err));
		bpf_object__close(obj);
		return 1;
	}
	struct bpf_program *prog;
	int rc = 0;
	bpf_object__for_each_program(prog, obj) {
		printf("loaded=%s\n", bpf_program__name(prog));
		if (!tracefs_mounted()) {
			printf("attached=no (tracefs is not mounted)\n");
			continue;
		}
		struct bpf_link *link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "loader: attaching %s: %s\n", bpf_program__name(prog),
				strerror(errno));
			rc = 1;
			break;
		}
		printf("attached=%s\n", bpf_program__section_name(prog));
		if (exec_program)
			rc = trace_exec(obj, exec_program);
		bpf_link__destroy(link);
		if (rc)
			break;
	}
	bpf_object__close(obj);
	return rc;
}

int main(int argc, char **argv)
{
	const char *bundle_path = NULL, *object = NULL, *btf_out = NULL, *exec_program = NULL;
	int policy = COREPACK_POLICY_AUTO;
	bool empty_env = false, no_load = false;
	// Environment fields set on the command line, applied in order.
	struct {
		int key;
		const char *value;
		bool from_file;
	} sets[16];
	int nsets = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int key = 0;
		bool takes = true, from_file = false;
		if (!strcmp(a, "--empty-env")) {
			empty_env = true;
			takes = false;
		} else if (!strcmp(a, "--no-load")) {
			no_load = true;
			takes = false;
		} else if (!strcmp(a, "--no-kernel-btf")) {
			key = COREPACK_ENV_KERNEL_BTF;
			takes = false;
		} else if (!v) {
			fprintf(stderr, "loader: %s needs a value\n%s", a, usage);
			return 2;
		} else if (!strcmp(a, "--bundle"))
			bundle_path = v;
		else if (!strcmp(a, "--object"))
			object = v;
		else if (!strcmp(a, "--btf-out"))
			btf_out = v;
		else if (!strcmp(a, "--exec"))
			exec_program = v;
		else if (!strcmp(a, "--policy")) {
			if (!strcmp(v, "auto"))
				policy = COREPACK_POLICY_AUTO;
			else if (!strcmp(v, "kernel"))
				policy = COREPACK_POLICY_KERNEL;
			else if (!strcmp(v, "bundle"))
				policy = COREPACK_POLICY_BUNDLE;
			else {
				fprintf(stderr, "loader: unknown policy\n%s", usage);
				return 2;
			}
		} else if (!strcmp(a, "--arch"))
			key = COREPACK_ENV_ARCH;
		else if (!strcmp(a, "--uname"))
			key = COREPACK_ENV_UNAME;
		else if (!strcmp(a, "--os-release")) {
			key = COREPACK_ENV_OS_RELEASE;
			from_file = true;
		} else if (!strcmp(a, "--os-id"))
			key = COREPACK_ENV_OS_ID;
		else if (!strcmp(a, "--version-id"))
			key = COREPACK_ENV_VERSION_ID;
		else if (!strcmp(a, "--kernel-btf"))
			key = COREPACK_ENV_KERNEL_BTF;
		else if (!strcmp(a, "--explicit"))
			key = COREPACK_ENV_EXPLICIT_BTF;
		else if (!strcmp(a, "--build-id"))
			key = COREPACK_ENV_BUILD_ID;
		else {
			fprintf(stderr, "loader: unknown argument\n%s", usage);
			return 2;
		}
		if (key) {
			if (nsets == (int)(sizeof(sets) / sizeof(sets[0]))) {
				fprintf(stderr, "loader: too many environment settings\n");
				return 2;
			}
			sets[nsets].key = key;
			sets[nsets].value = takes ? v : NULL;
			sets[nsets].from_file = from_file;
			nsets++;
		}
		if (takes)
			i++;
	}
	if (!object && !no_load) {
		fprintf(stderr, "loader: --object or --no-load is required\n%s", usage);
		return 2;
	}
	if ((corepack_version() >> 16) != COREPACK_VERSION_MAJOR ||
	    corepack_version() < COREPACK_VERSION) {
		fprintf(stderr, "loader: libcorepack %s is older than this program's header\n",
			corepack_version_string());
		return 1;
	}
	printf("library=%s\n", corepack_version_string());

	corepack_bundle *bundle = NULL;
	corepack_env *env = NULL;
	corepack_selection *sel = NULL;
	int st, rc = 1;
	if (bundle_path) {
		st = corepack_bundle_open_file(bundle_path, &bundle);
		if (st)
			return fail("opening the bundle", st);
		print_field("program", corepack_bundle_program(bundle), (size_t)-1);
	}
	st = empty_env ? corepack_env_new(&env) : corepack_env_detect(&env);
	if (st) {
		rc = fail("the environment", st);
		goto out;
	}
	for (int i = 0; i < nsets; i++) {
		char *text = NULL;
		const char *value = sets[i].value;
		if (sets[i].from_file) {
			text = read_file(value);
			if (!text) {
				fprintf(stderr, "loader: cannot read %s\n", value);
				goto out;
			}
			value = text;
		}
		st = corepack_env_set(env, sets[i].key, value);
		free(text);
		if (st == COREPACK_ERR_UNSUPPORTED && sets[i].key == COREPACK_ENV_BUILD_ID) {
			// Older libraries cannot select by build-id: go on without it.
			printf("build_id=unsupported\n");
			continue;
		}
		if (st) {
			rc = fail("setting the environment", st);
			goto out;
		}
	}

	st = corepack_select(bundle, env, policy, &sel);
	if (st) {
		rc = fail("selecting BTF", st);
		goto out;
	}
	const char *btf_path = NULL;
	char tmp[] = "/tmp/corepack-btf-XXXXXX";
	bool tmp_made = false;
	switch (corepack_selection_source(sel)) {
	case COREPACK_SOURCE_BUNDLE: {
		corepack_kernel k;
		size_t len = 0;
		const uint8_t *btf = corepack_selection_btf(sel, &len);
		if (corepack_selection_kernel(sel, &k)) {
			rc = fail("the chosen kernel", COREPACK_ERR_ARGUMENT);
			goto out;
		}
		printf("source=bundle\nentry=%ld\n", corepack_selection_entry(sel));
		print_field("arch", k.arch, (size_t)-1);
		print_field("uname", k.uname, (size_t)-1);
		print_field("os_id", k.os_id, (size_t)-1);
		print_field("version_id", k.version_id, (size_t)-1);
		printf("btf_bytes=%zu\n", len);
		if (btf_out) {
			btf_path = btf_out;
		} else if (!no_load) {
			int fd = mkstemp(tmp);
			if (fd < 0) {
				perror("loader: mkstemp");
				goto out;
			}
			close(fd);
			tmp_made = true;
			btf_path = tmp;
		}
		if (btf_path) {
			int err = write_btf(btf_path, btf, len);
			if (err) {
				fprintf(stderr, "loader: writing %s: %s\n", btf_path, strerror(-err));
				goto cleanup;
			}
		}
		break;
	}
	case COREPACK_SOURCE_KERNEL:
	case COREPACK_SOURCE_EXPLICIT:
		printf("source=%s\n", corepack_selection_source(sel) == COREPACK_SOURCE_KERNEL
					      ? "kernel"
					      : "explicit");
		btf_path = corepack_selection_path(sel);
		print_field("path", btf_path, (size_t)-1);
		break;
	default:
		rc = fail("the selection's source", COREPACK_ERR_INTERNAL);
		goto out;
	}
	printf("reason=%s\n", corepack_selection_reason(sel));
	rc = no_load ? 0 : load(object, btf_path, exec_program);
cleanup:
	if (tmp_made)
		unlink(tmp);
out:
	corepack_selection_free(sel);
	corepack_env_free(env);
	corepack_bundle_free(bundle);
	return rc;
}
