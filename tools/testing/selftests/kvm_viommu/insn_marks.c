// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reads the log of the L0 plugin that counts instructions between the L2
 * guest's marks; see insn_marks.h and plugin/mark_insns.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "insn_marks.h"

static FILE *insn_log_open(void)
{
	const char *path = getenv("KVM_VIOMMU_INSN_LOG");

	return path && *path ? fopen(path, "r") : NULL;
}

long insn_log_end(void)
{
	FILE *f = insn_log_open();
	long end;

	if (!f)
		return -1;
	end = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
	fclose(f);
	return end;
}

int insn_window(long pos, unsigned int start, unsigned int end,
		uint64_t *insns)
{
	unsigned long long total, first = 0;
	unsigned int mark, vcpu;
	bool started = false;
	char line[128];
	int ret = -ENODATA;
	FILE *f;

	if (pos < 0)
		return -ENOENT;
	f = insn_log_open();
	if (!f)
		return -ENOENT;
	if (fseek(f, pos, SEEK_SET)) {
		fclose(f);
		return -ENODATA;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mark %u vcpu %u insns %llu", &mark, &vcpu,
			   &total) != 3)
			continue;
		if (!started && mark == start) {
			started = true;
			first = total;
		} else if (started && mark == end && total >= first) {
			*insns = total - first;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int insn_profile_label(const char *label)
{
	const char *path = getenv("KVM_VIOMMU_KALLSYMS");
	FILE *in, *out;
	char buf[65536];
	size_t n;
	int ret = 0;

	if (!path || !*path)
		return 0;
	in = fopen("/proc/kallsyms", "r");
	if (!in)
		return -errno;
	out = fopen(path, "w");
	if (!out) {
		ret = -errno;
		fclose(in);
		return ret;
	}
	fprintf(out, "# %s\n", label);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			ret = -EIO;
			break;
		}
	if (fclose(out) && !ret)
		ret = -EIO;
	fclose(in);
	return ret;
}
