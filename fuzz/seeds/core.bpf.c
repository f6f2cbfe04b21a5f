// Seed for the bpf_core fuzz target: one CO-RE relocation of every kind clang 14
// emits, on types that need no vmlinux.h.
#define SEC(name) __attribute__((section(name), used))

enum color { RED = 1, GREEN = 2 };

struct inner {
	unsigned int lo : 3, hi : 5;
	short s;
} __attribute__((preserve_access_index));

struct outer {
#ifdef SEED_KERNEL_PAD
	/* Another "kernel" for the corepack seed: every later offset moves. */
	long pad;
#endif
	long x;
	struct inner in[2];
	union {
		int a;
		char b;
	};
	struct outer *next;
} __attribute__((preserve_access_index));

struct outer___v2 {
#ifdef SEED_KERNEL_PAD
	long pad;
#endif
	int x;
} __attribute__((preserve_access_index));

typedef struct outer outer_t;

char LICENSE[] SEC("license") = "GPL";
long out[16];

SEC("socket")
int core(void *ctx)
{
	struct outer *o = ctx;
	struct outer___v2 *o2 = ctx;

	out[0] = __builtin_preserve_field_info(o->in[1].s, 0 /* BYTE_OFFSET */);
	out[1] = __builtin_preserve_field_info(o->in[0].hi, 1 /* BYTE_SIZE */);
	out[2] = __builtin_preserve_field_info(o->b, 2 /* EXISTS */);
	out[3] = __builtin_preserve_field_info(o->in[0].lo, 3 /* SIGNED */);
	out[4] = __builtin_preserve_field_info(o->in[0].hi, 4 /* LSHIFT_U64 */);
	out[5] = __builtin_preserve_field_info(o->in[0].hi, 5 /* RSHIFT_U64 */);
	out[6] = __builtin_preserve_field_info(o2->x, 0 /* BYTE_OFFSET */);
	out[7] = __builtin_btf_type_id(*o, 0 /* LOCAL */);
	out[8] = __builtin_btf_type_id(*o, 1 /* TARGET */);
	out[9] = __builtin_preserve_type_info(*o, 0 /* EXISTS */);
	out[10] = __builtin_preserve_type_info(*(outer_t *)0, 1 /* SIZE */);
	out[11] = __builtin_preserve_enum_value(*(enum color *)GREEN, 0 /* EXISTS */);
	out[12] = __builtin_preserve_enum_value(*(enum color *)RED, 1 /* VALUE */);
	out[13] = __builtin_preserve_field_info(o->next->x, 0 /* BYTE_OFFSET */);
	return 0;
}
