// SPDX-License-Identifier: MIT OR Apache-2.0
//
// C-level checks of libcorepack's error codes and messages (run by tests/capi.rs):
//
//   errors BUNDLE UNAME OS_ID VERSION_ID
//
// BUNDLE is a valid bundle with one entry (UNAME, OS_ID, VERSION_ID) on x86_64. Every
// broken input must give its own status and a one-line message (no control character),
// never a crash; handles are written only on success. Prints one `ok NAME` line per
// check and exits 0, or `FAIL NAME: ...` and exits 1.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack.h"

static int failures;

// The thread's message must be one printable line holding `needle`.
static void expect(const char *name, int got, int want, const char *needle)
{
	const char *msg = corepack_last_error();
	int ok = got == want;
	if (ok && want != COREPACK_OK) {
		ok = msg && *msg && strstr(msg, needle) != NULL;
		for (const char *p = msg; ok && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				ok = 0;
	}
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	printf("FAIL %s: got %s (%d), want %s; message: %s\n", name, corepack_status_name(got), got,
	       corepack_status_name(want), msg ? msg : "(null)");
	failures++;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

// An environment with no kernel BTF for the bundle's kernel.
static corepack_env *env_for(const char *uname, const char *os_id, const char *version_id)
{
	corepack_env *env = NULL;
	if (corepack_env_new(&env) || corepack_env_set(env, COREPACK_ENV_ARCH, "x86_64") ||
	    corepack_env_set(env, COREPACK_ENV_UNAME, uname) ||
	    corepack_env_set(env, COREPACK_ENV_OS_ID, os_id) ||
	    corepack_env_set(env, COREPACK_ENV_VERSION_ID, version_id)) {
		printf("FAIL env: %s\n", corepack_last_error());
		exit(1);
	}
	return env;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: errors BUNDLE UNAME OS_ID VERSION_ID\n");
		return 2;
	}
	size_t len;
	unsigned char *good = slurp(argv[1], &len);
	if (!good || len < 40) {
		fprintf(stderr, "errors: cannot read %s\n", argv[1]);
		return 2;
	}
	unsigned char *bad = malloc(len);
	corepack_env *env = env_for(argv[2], argv[3], argv[4]);
	corepack_bundle *b = (corepack_bundle *)0x1; // must stay untouched on failure
	corepack_selection *sel = (corepack_selection *)0x1;

	expect("version", corepack_version() == COREPACK_VERSION ? 0 : 1, 0, "");
	// The header's values and the library's names agree.
	static const struct {
		int status;
		const char *name;
	} names[] = {
#define NAME(s) { s, #s }
		NAME(COREPACK_OK),
		NAME(COREPACK_ERR_ARGUMENT),
		NAME(COREPACK_ERR_IO),
		NAME(COREPACK_ERR_NOT_A_BUNDLE),
		NAME(COREPACK_ERR_FORMAT_VERSION),
		NAME(COREPACK_ERR_CORRUPT),
		NAME(COREPACK_ERR_NO_MATCH),
		NAME(COREPACK_ERR_AMBIGUOUS),
		NAME(COREPACK_ERR_NO_KERNEL_BTF),
		NAME(COREPACK_ERR_UNSUPPORTED),
		NAME(COREPACK_ERR_INTERNAL),
		{ 77, "COREPACK_ERR_UNKNOWN" },
		{ -1, "COREPACK_ERR_UNKNOWN" },
#undef NAME
	};
	int bad_names = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(corepack_status_name(names[i].status), names[i].name)) {
			printf("status %d is named %s, the header says %s\n", names[i].status,
			       corepack_status_name(names[i].status), names[i].name);
			bad_names++;
		}
	expect("status names", bad_names, 0, "");

	// NULL pointers.
	size_t dummy = 1;
	expect("open NULL data", corepack_bundle_open_memory(NULL, 4, &b), COREPACK_ERR_ARGUMENT,
	       "data is NULL");
	expect("open NULL out", corepack_bundle_open_memory(good, len, NULL),
	       COREPACK_ERR_ARGUMENT, "out is NULL");
	expect("open NULL path", corepack_bundle_open_file(NULL, &b), COREPACK_ERR_ARGUMENT,
	       "path is NULL");
	expect("env_set NULL env", corepack_env_set(NULL, COREPACK_ENV_ARCH, "x86_64"),
	       COREPACK_ERR_ARGUMENT, "env is NULL");
	expect("select NULL out", corepack_select(NULL, env, COREPACK_POLICY_AUTO, NULL),
	       COREPACK_ERR_ARGUMENT, "out is NULL");
	expect("accessors on NULL",
	       corepack_selection_source(NULL) == 0 && corepack_selection_path(NULL) == NULL &&
			       corepack_selection_btf(NULL, &dummy) == NULL && dummy == 0 &&
			       corepack_selection_entry(NULL) == -1 &&
			       corepack_selection_reason(NULL) == NULL &&
			       corepack_bundle_program(NULL) == NULL
		       ? COREPACK_ERR_ARGUMENT
		       : COREPACK_OK,
	       COREPACK_ERR_ARGUMENT, "is NULL");
	corepack_selection_free(NULL);
	corepack_bundle_free(NULL);
	corepack_env_free(NULL);

	// Bad bundle bytes.
	memcpy(bad, good, len);
	memcpy(bad, "XOREPACK", 8);
	expect("bad magic", corepack_bundle_open_memory(bad, len, &b), COREPACK_ERR_NOT_A_BUNDLE,
	       "not a corepack bundle: bad magic");
	expect("short input", corepack_bundle_open_memory(good, 3, &b), COREPACK_ERR_CORRUPT,
	       "truncated bundle");
	memcpy(bad, good, len);
	bad[8] = 99;
	expect("format version", corepack_bundle_open_memory(bad, len, &b),
	       COREPACK_ERR_FORMAT_VERSION, "unsupported corepack format version 99");
	expect("truncated", corepack_bundle_open_memory(good, len - 1, &b), COREPACK_ERR_CORRUPT,
	       "truncated bundle");
	memcpy(bad, good, len);
	bad[30] ^= 0x01;
	expect("manifest checksum", corepack_bundle_open_memory(bad, len, &b),
	       COREPACK_ERR_CORRUPT, "manifest checksum mismatch");
	expect("missing file", corepack_bundle_open_file("/nonexistent/x.corepack", &b),
	       COREPACK_ERR_IO, "/nonexistent/x.corepack");
	expect("handle untouched", b == (corepack_bundle *)0x1 ? 1 : 0, 1, "");

	// A tampered blob: format version 5 has one check over the manifest and every blob,
	// so the bundle does not open.
	memcpy(bad, good, len);
	bad[len - 1] ^= 0x40;
	expect("tampered blob", corepack_bundle_open_memory(bad, len, &b), COREPACK_ERR_CORRUPT,
	       "manifest checksum mismatch");
	expect("handle untouched by a tampered blob", b == (corepack_bundle *)0x1 ? 1 : 0, 1, "");

	// Selection errors on the good bundle.
	corepack_bundle *ok = NULL;
	expect("good bundle opens", corepack_bundle_open_memory(good, len, &ok), COREPACK_OK, "");
	corepack_env *other = env_for("0.0.1-nothing", argv[3], argv[4]);
	expect("no match", corepack_select(ok, other, COREPACK_POLICY_AUTO, &sel),
	       COREPACK_ERR_NO_MATCH, "no BTF for kernel 0.0.1-nothing");
	expect("no bundle", corepack_select(NULL, env, COREPACK_POLICY_AUTO, &sel),
	       COREPACK_ERR_NO_MATCH, "no bundle was given");
	expect("no kernel BTF", corepack_select(ok, env, COREPACK_POLICY_KERNEL, &sel),
	       COREPACK_ERR_NO_KERNEL_BTF, "has no /sys/kernel/btf/vmlinux");
	expect("unknown policy", corepack_select(ok, env, 7, &sel), COREPACK_ERR_ARGUMENT,
	       "unknown policy 7");
	expect("selection untouched", sel == (corepack_selection *)0x1 ? 1 : 0, 1, "");
	expect("unknown key", corepack_env_set(other, 99, "x"), COREPACK_ERR_ARGUMENT,
	       "unknown environment key 99");
	expect("build-id", corepack_env_set(other, COREPACK_ENV_BUILD_ID, "0123abcd"),
	       COREPACK_OK, "");
	expect("odd build-id", corepack_env_set(other, COREPACK_ENV_BUILD_ID, "0123abc"),
	       COREPACK_ERR_ARGUMENT, "build-id");
	expect("not UTF-8", corepack_env_set(other, COREPACK_ENV_UNAME, "\xff"),
	       COREPACK_ERR_ARGUMENT, "not UTF-8");
	expect("line break in ID", corepack_env_set(other, COREPACK_ENV_OS_ID, "a\nVERSION_ID=1"),
	       COREPACK_ERR_ARGUMENT, "a\\nVERSION_ID=1");

	// A kernel-source selection has a path and no kernel or bytes.
	corepack_env_set(other, COREPACK_ENV_KERNEL_BTF, "/k/vmlinux");
	corepack_selection *k = NULL;
	expect("kernel source", corepack_select(ok, other, COREPACK_POLICY_AUTO, &k), COREPACK_OK,
	       "");
	corepack_kernel kernel;
	size_t n = 1;
	expect("kernel source fields",
	       k && corepack_selection_source(k) == COREPACK_SOURCE_KERNEL &&
			       strcmp(corepack_selection_path(k), "/k/vmlinux") == 0 &&
			       corepack_selection_btf(k, &n) == NULL && n == 0 &&
			       corepack_selection_entry(k) == -1
		       ? 0
		       : 1,
	       0, "");
	expect("kernel of a non-bundle source", corepack_selection_kernel(k, &kernel),
	       COREPACK_ERR_ARGUMENT, "not a bundle entry");
	corepack_selection_free(k);

	corepack_env_free(other);
	corepack_env_free(env);
	corepack_bundle_free(ok);
	free(bad);
	free(good);
	if (failures) {
		printf("%d checks failed\n", failures);
		return 1;
	}
	printf("all checks passed\n");
	return 0;
}
