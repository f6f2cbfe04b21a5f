/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * corepack.h: libcorepack, corepack's bundle reader and BTF selection for C loaders.
 *
 * A loader opens a .corepack bundle (built by `corepack build`), asks which BTF this
 * machine (or an injected environment) should use, and hands it to libbpf:
 *
 *     corepack_bundle *b;
 *     corepack_selection *sel;
 *     if (corepack_bundle_open_file("tool.corepack", &b) != COREPACK_OK ||
 *         corepack_select(b, NULL, COREPACK_POLICY_AUTO, &sel) != COREPACK_OK)
 *             fprintf(stderr, "%s\n", corepack_last_error());
 *     size_t len;
 *     const uint8_t *btf = corepack_selection_btf(sel, &len);
 *     // btf != NULL: write it to a file for bpf_object_open_opts.btf_custom_path
 *     // btf == NULL: corepack_selection_path(sel) names the file (the kernel's own BTF
 *     //              or an explicit one)
 *     corepack_selection_free(sel);
 *     corepack_bundle_free(b);
 *
 * Selection order (as corepack's Rust library): an explicit path (COREPACK_BTF or
 * COREPACK_ENV_EXPLICIT_BTF), the kernel's own /sys/kernel/btf/vmlinux, then the bundle
 * entry for (arch, uname -r), refined by os-release ID and VERSION_ID where several
 * entries share a kernel name. No match is an error naming the nearest kernels.
 *
 * Errors: every function that can fail returns a corepack_status (COREPACK_OK is 0);
 * functions returning a pointer return NULL on failure. corepack_last_error() then
 * holds a one-line message for people, with control characters escaped.
 *
 * Memory: handles are freed with their own _free function (NULL is ignored). Strings
 * and bytes a handle returns live as long as that handle. Every function may be called
 * from any thread; one handle must not be used by two threads at once while one of them
 * changes it (corepack_env_set).
 *
 * Strings the bundle holds (kernel names, program) are exact, as written by `corepack
 * build`: escape control characters before showing them on a terminal.
 *
 * Link: -lcorepack (libcorepack.so), or libcorepack.a plus -lpthread -ldl -lm.
 */
#ifndef COREPACK_H
#define COREPACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes. A program built with it runs with any library of
 * the same major version whose minor version is at least this one's. */
#define COREPACK_VERSION_MAJOR 0
#define COREPACK_VERSION_MINOR 1
#define COREPACK_VERSION_PATCH 0
#define COREPACK_VERSION \
	((COREPACK_VERSION_MAJOR << 16) | (COREPACK_VERSION_MINOR << 8) | COREPACK_VERSION_PATCH)

/* The version of the library loaded at run time, encoded as COREPACK_VERSION. */
uint32_t corepack_version(void);
/* The same, as text ("0.1.0"); a static string. */
const char *corepack_version_string(void);

/* What a call returns. The values are fixed; later versions only add new ones. */
typedef enum corepack_status {
	COREPACK_OK = 0,
	/* A NULL pointer, a string that is not UTF-8 where text is needed, an unknown key
	 * or policy, a question the handle cannot answer (a kernel of a non-bundle source). */
	COREPACK_ERR_ARGUMENT = 1,
	/* A file could not be read. */
	COREPACK_ERR_IO = 2,
	/* The bytes are not a corepack bundle (bad magic). */
	COREPACK_ERR_NOT_A_BUNDLE = 3,
	/* A bundle of a format version this library does not read. */
	COREPACK_ERR_FORMAT_VERSION = 4,
	/* A damaged bundle: truncated, a checksum mismatch, a malformed manifest, a blob
	 * that does not decode (format versions 5 and 6: open checks every byte; versions 3 and
	 * 4: blobs are checked when selection decodes one). */
	COREPACK_ERR_CORRUPT = 5,
	/* No BTF for this kernel: the bundle has no entry for its arch and uname -r, and
	 * no other source may be used. */
	COREPACK_ERR_NO_MATCH = 6,
	/* Several entries share this arch and uname -r with different BTF, and os-release
	 * does not decide between them. */
	COREPACK_ERR_AMBIGUOUS = 7,
	/* COREPACK_POLICY_KERNEL and the kernel has no /sys/kernel/btf/vmlinux. */
	COREPACK_ERR_NO_KERNEL_BTF = 8,
	/* Something this version cannot do. */
	COREPACK_ERR_UNSUPPORTED = 9,
	/* A bug in the library (caught; nothing crossed into C). */
	COREPACK_ERR_INTERNAL = 10,
} corepack_status;

/* The message of this thread's last failed call, one line (empty before any failure).
 * Valid until the next failing call on this thread; never NULL. */
const char *corepack_last_error(void);
/* The name of a status ("COREPACK_ERR_NO_MATCH"); "COREPACK_ERR_UNKNOWN" for other
 * values. A static string. */
const char *corepack_status_name(int status);

/* ---- bundles ---- */

typedef struct corepack_bundle corepack_bundle;

/* Checks len bytes at data as a bundle (header, manifest and its checksum, every blob's
 * bounds; format versions 5 and 6: one checksum over the manifest and every blob) and copies
 * them: data may be freed afterwards. *out is written only on
 * success. Errors: COREPACK_ERR_ARGUMENT, _NOT_A_BUNDLE, _FORMAT_VERSION, _CORRUPT. */
int corepack_bundle_open_memory(const void *data, size_t len, corepack_bundle **out);
/* The same for the file at path (a pipe is read to at most 256 MiB); COREPACK_ERR_IO
 * when it cannot be read. */
int corepack_bundle_open_file(const char *path, corepack_bundle **out);
/* The program the bundle was built for, and its version (NULL if bundle is NULL). */
const char *corepack_bundle_program(const corepack_bundle *bundle);
const char *corepack_bundle_program_version(const corepack_bundle *bundle);
void corepack_bundle_free(corepack_bundle *bundle);

/* ---- the environment selection looks at ---- */

typedef struct corepack_env corepack_env;

/* An empty environment: no explicit path, no kernel BTF, no arch, uname -r or
 * os-release. For tests and for selecting on behalf of another machine. */
int corepack_env_new(corepack_env **out);
/* This machine: COREPACK_BTF, whether /sys/kernel/btf/vmlinux exists,
 * /proc/sys/kernel/osrelease, the library's arch, /etc/os-release (or
 * /usr/lib/os-release). Fields may then be changed with corepack_env_set. */
int corepack_env_detect(corepack_env **out);

typedef enum corepack_env_key {
	/* uname -m (arm64 and aarch64, amd64 and x86_64 compare equal). */
	COREPACK_ENV_ARCH = 1,
	/* uname -r. */
	COREPACK_ENV_UNAME = 2,
	/* The whole os-release text (NULL: none). */
	COREPACK_ENV_OS_RELEASE = 3,
	/* os-release ID and VERSION_ID on their own: they replace those lines of the text.
	 * No line break, quote or backslash. */
	COREPACK_ENV_OS_ID = 4,
	COREPACK_ENV_VERSION_ID = 5,
	/* The kernel's own BTF (NULL: the kernel has none). Any bytes: a path. */
	COREPACK_ENV_KERNEL_BTF = 6,
	/* An explicit BTF file, chosen over everything (NULL: none). */
	COREPACK_ENV_EXPLICIT_BTF = 7,
	/* The running kernel's GNU build-id, in hex (as `readelf -n` prints it): the
	 * bundle entry with the same build-id is chosen before any match by name. */
	COREPACK_ENV_BUILD_ID = 8,
} corepack_env_key;

/* Sets one field to value (a NUL-terminated string; NULL clears it). Text fields need
 * UTF-8. Errors: COREPACK_ERR_ARGUMENT, COREPACK_ERR_UNSUPPORTED. */
int corepack_env_set(corepack_env *env, int key, const char *value);
void corepack_env_free(corepack_env *env);

/* ---- selection ---- */

typedef enum corepack_policy {
	/* Explicit path, then the kernel's own BTF, then the bundle. */
	COREPACK_POLICY_AUTO = 0,
	/* Only the kernel's own BTF (COREPACK_ERR_NO_KERNEL_BTF without it). */
	COREPACK_POLICY_KERNEL = 1,
	/* Only the bundle, even where the kernel has its own BTF. */
	COREPACK_POLICY_BUNDLE = 2,
} corepack_policy;

typedef enum corepack_source {
	COREPACK_SOURCE_EXPLICIT = 1,
	COREPACK_SOURCE_KERNEL = 2,
	COREPACK_SOURCE_BUNDLE = 3,
} corepack_source;

typedef struct corepack_selection corepack_selection;

/* Chooses the BTF for env (NULL: this machine, as corepack_env_detect) from bundle
 * (NULL: no bundle) under policy; *out is written only on success. A bundle entry's
 * blob is decoded here (and, in format versions 3 and 4, checked). Errors:
 * COREPACK_ERR_ARGUMENT, _NO_MATCH, _AMBIGUOUS, _NO_KERNEL_BTF, _CORRUPT. */
int corepack_select(const corepack_bundle *bundle, const corepack_env *env, int policy,
		    corepack_selection **out);
/* A corepack_source (0 if sel is NULL). */
int corepack_selection_source(const corepack_selection *sel);
/* COREPACK_SOURCE_EXPLICIT or _KERNEL: the BTF file to use. NULL for a bundle entry. */
const char *corepack_selection_path(const corepack_selection *sel);
/* COREPACK_SOURCE_BUNDLE: the entry's raw BTF (as `btfgen min` writes it, what libbpf's
 * btf_custom_path and btf__new take), its length in *len (len may be NULL). NULL and 0
 * for other sources. */
const uint8_t *corepack_selection_btf(const corepack_selection *sel, size_t *len);
/* The bundle entry's index (as `corepack inspect` lists entries), or -1. */
long corepack_selection_entry(const corepack_selection *sel);

/* A bundle entry's kernel; the strings live as long as the selection. */
typedef struct corepack_kernel {
	const char *arch;	/* uname -m spelling: x86_64, aarch64 */
	const char *uname;	/* uname -r */
	const char *os_id;	/* os-release ID */
	const char *version_id; /* os-release VERSION_ID */
} corepack_kernel;

/* Fills *out for a bundle entry; COREPACK_ERR_ARGUMENT for other sources. */
int corepack_selection_kernel(const corepack_selection *sel, corepack_kernel *out);
/* Why this BTF was chosen, one line for people (escaped). */
const char *corepack_selection_reason(const corepack_selection *sel);
void corepack_selection_free(corepack_selection *sel);

#ifdef __cplusplus
}
#endif

#endif /* COREPACK_H */
