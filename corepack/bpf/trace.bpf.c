// SPDX-License-Identifier: GPL-2.0
//
// corepack's exec tracer: one event per successful execve, from the sched_process_exec
// tracepoint. pid, uid and comm come from helpers. Two fields are read through CO-RE,
// so the loader must relocate them against the running kernel's BTF: ppid, from
// task_struct->real_parent->tgid (offsets differ between versions and flavors), and the
// filename's location in the tracepoint record (the record's header is 12 bytes on
// PREEMPT_RT 6.1 and 8 elsewhere). The record type is named trace_event_raw_* since
// Linux 4.2 (ftrace_raw_* before).
//
// Self-contained on purpose: no vmlinux.h and no libbpf headers, only clang. Helpers are
// the ones every kernel since 4.11 has (bpf_probe_read, not bpf_probe_read_kernel), and
// events leave through a perf event array (4.3+), not a ring buffer (5.8+), so the same
// object loads on the old kernels corepack bundles exist for.

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int(*name)[val]
#define __type(name, val) typeof(val) *name

// Only the fields the program reads; clang records a CO-RE relocation for each access.
struct task_struct {
	struct task_struct *real_parent;
	__s32 tgid;
} __attribute__((preserve_access_index));

// The sched_process_exec record, through CO-RE: its header (struct trace_entry) is
// 8 bytes on most kernels but 12 on PREEMPT_RT 6.1 (common_preempt_lazy_count), which
// moves __data_loc_filename from offset 8 to 12.
struct trace_event_raw_sched_process_exec {
	__u32 __data_loc_filename; // __data_loc char[]: offset in the low 16 bits, length above
} __attribute__((preserve_access_index));

#define COMM_LEN 16
#define FILENAME_LEN 256

/// What user space reads (corepack/src/trace/event.rs mirrors it).
struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 filename_len;
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, 4); // BPF_MAP_TYPE_PERF_EVENT_ARRAY
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} EVENTS SEC(".maps");

struct {
	__uint(type, 6); // BPF_MAP_TYPE_PERCPU_ARRAY: the event is too big for the stack
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} SCRATCH SEC(".maps");

static long (*bpf_probe_read)(void *dst, __u32 size, const void *src) = (void *)4;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)15;
static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data,
				     __u64 size) = (void *)25;
static __u64 (*bpf_get_current_task)(void) = (void *)35;
static long (*bpf_probe_read_str)(void *dst, __u32 size, const void *src) = (void *)45;

#define BPF_F_CURRENT_CPU 0xffffffffULL

SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 zero = 0;
	struct exec_event *e = bpf_map_lookup_elem(&SCRATCH, &zero);
	if (!e)
		return 0;

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = 0;
	e->ppid = 0;
	bpf_probe_read(&parent, sizeof(parent), __builtin_preserve_access_index(&task->real_parent));
	if (parent)
		bpf_probe_read(&e->ppid, sizeof(e->ppid), __builtin_preserve_access_index(&parent->tgid));

	__u32 off = ctx->__data_loc_filename & 0xffff;
	long n = bpf_probe_read_str(e->filename, sizeof(e->filename), (char *)ctx + off);
	e->filename_len = n > 0 ? n - 1 : 0;

	bpf_perf_event_output(ctx, &EVENTS, BPF_F_CURRENT_CPU, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
