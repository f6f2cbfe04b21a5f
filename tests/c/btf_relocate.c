/* The libbpf oracle of tests/distill.rs: reads a module's BTF as libbpf does when it
 * is given a base (btf__parse_split: a module whose ELF has .BTF.base is relocated
 * from that distilled base onto BASE by btf__relocate) and writes the resulting split
 * BTF raw. Usage: btf_relocate BASE MODULE OUT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>

int main(int argc, char **argv)
{
	struct btf *base, *split;
	const void *data;
	__u32 size;
	FILE *out;

	if (argc != 4) {
		fprintf(stderr, "usage: btf_relocate BASE MODULE OUT\n");
		return 2;
	}
	base = btf__parse(argv[1], NULL);
	if (!base) {
		fprintf(stderr, "btf_relocate: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	split = btf__parse_split(argv[2], base);
	if (!split) {
		fprintf(stderr, "btf_relocate: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	data = btf__raw_data(split, &size);
	out = fopen(argv[3], "wb");
	if (!data || !out || fwrite(data, 1, size, out) != size || fclose(out)) {
		fprintf(stderr, "btf_relocate: %s: cannot write\n", argv[3]);
		return 1;
	}
	return 0;
}
