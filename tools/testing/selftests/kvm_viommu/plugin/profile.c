// SPDX-License-Identifier: GPL-2.0-only
/*
 * mark_insns' profile: where one window of the L2 guest's loop spends
 * L1's instructions, by function.
 *
 *   -plugin mark_insns.so,...,profile=FILE,kallsyms=KSYMS
 *
 * Every translation block's instructions are added, as it starts, to a
 * counter of its start address (one scoreboard, one u64 per address, per
 * vCPU).  Mark 1 takes a snapshot of them all; mark 2 subtracts it,
 * names each address after the text symbol of KSYMS at or below it (a
 * copy of L1's /proc/kallsyms that L1 writes before each guest, its
 * first line "# LABEL" naming the run), and appends the window's top
 * functions to FILE.
 *
 * Addresses are virtual and L0 cannot tell L1's from its L2 guest's, so
 * L1 should run without KASLR (its symbols then sit where its kallsyms
 * say and the guest's kernel, randomised, almost never on them); an
 * address more than PROF_MAX_DIST past its symbol, or below every
 * symbol, is counted as "[other kernel]" or "[user]" (L1's processes and
 * the guest's).  A block is counted whole at its start, as in
 * mark_insns.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "profile.h"

#define PROF_MAX_BLOCKS	1048576u	/* start addresses; then index 0 */
#define PROF_MAX_DIST	0x10000		/* no function is longer here */
#define PROF_TOP	60
#define USER_TOP	0x800000000000ULL	/* canonical lower half's end */

struct ksym {
	uint64_t addr;
	char *name;		/* "func" or "func [module]" */
	uint64_t insns;		/* this window's */
};

static GMutex lock;		/* blocks, pcs, n_blocks, base, window_open */
static GHashTable *blocks;	/* start address -> index + 1 */
static uint64_t *pcs;		/* index -> start address */
static uint64_t *base;		/* index -> count at mark 1 */
static uint32_t n_blocks = 1;	/* index 0 counts what did not fit */
static bool window_open;
static unsigned int windows;
static struct qemu_plugin_scoreboard *counts;
static FILE *out;
static char *ksyms_path;

static uint64_t block_count(uint32_t idx)
{
	qemu_plugin_u64 e = { counts, idx * sizeof(uint64_t) };

	return qemu_plugin_u64_sum(e);
}

int prof_init(const char *path, const char *kallsyms)
{
	if (!kallsyms) {
		fprintf(stderr, "mark_insns: profile= needs kallsyms=\n");
		return -1;
	}
	out = fopen(path, "we");
	if (!out) {
		fprintf(stderr, "mark_insns: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ksyms_path = g_strdup(kallsyms);
	blocks = g_hash_table_new(g_direct_hash, g_direct_equal);
	pcs = g_new0(uint64_t, PROF_MAX_BLOCKS);
	base = g_new0(uint64_t, PROF_MAX_BLOCKS);
	counts = qemu_plugin_scoreboard_new(PROF_MAX_BLOCKS * sizeof(uint64_t));
	return 0;
}

void prof_tb(struct qemu_plugin_tb *tb, size_t n_insns)
{
	uint64_t pc = qemu_plugin_tb_vaddr(tb);
	gpointer key = (gpointer)(uintptr_t)pc, v;
	qemu_plugin_u64 entry;
	uint32_t idx = 0;

	if (!counts)
		return;
	g_mutex_lock(&lock);
	v = g_hash_table_lookup(blocks, key);
	if (v) {
		idx = GPOINTER_TO_UINT(v) - 1;
	} else if (n_blocks < PROF_MAX_BLOCKS) {
		idx = n_blocks++;
		pcs[idx] = pc;
		g_hash_table_insert(blocks, key, GUINT_TO_POINTER(idx + 1));
	}
	g_mutex_unlock(&lock);
	entry.score = counts;
	entry.offset = idx * sizeof(uint64_t);
	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb,
							  QEMU_PLUGIN_INLINE_ADD_U64,
							  entry, n_insns);
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int ksym_by_insns(const void *a, const void *b)
{
	const struct ksym *x = *(const struct ksym * const *)a;
	const struct ksym *y = *(const struct ksym * const *)b;

	return x->insns < y->insns ? 1 : x->insns > y->insns ? -1 : 0;
}

/* L1's text symbols from KSYMS, sorted; the label from its first line. */
static struct ksym *ksyms_load(size_t *n, char **label)
{
	FILE *f = fopen(ksyms_path, "re");
	char line[1024], name[256], mod[128], type;
	struct ksym *syms = NULL;
	size_t cap = 0;
	uint64_t addr;
	int k;

	*n = 0;
	*label = NULL;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		/* A line longer than the buffer is no symbol we name. */
		if (!strchr(line, '\n')) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (line[0] == '#') {
			if (!*label)
				*label = g_strstrip(g_strdup(line + 1));
			continue;
		}
		mod[0] = '\0';
		k = sscanf(line, "%" SCNx64 " %c %255s %127s", &addr, &type,
			   name, mod);
		if (k < 3 || (type != 't' && type != 'T') || !addr)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 65536;
			syms = g_renew(struct ksym, syms, cap);
		}
		syms[*n].addr = addr;
		syms[*n].name = k == 4 ? g_strdup_printf("%s %s", name, mod) :
					 g_strdup(name);
		syms[*n].insns = 0;
		(*n)++;
	}
	fclose(f);
	qsort(syms, *n, sizeof(*syms), ksym_cmp);
	return syms;
}

/* The symbol @pc is in, or NULL. */
static struct ksym *ksym_find(struct ksym *syms, size_t n, uint64_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {	/* first symbol above pc */
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc - syms[lo - 1].addr >= PROF_MAX_DIST)
		return NULL;
	return &syms[lo - 1];
}

static void pct_line(const char *what, uint64_t insns, uint64_t total)
{
	fprintf(out, "%14" PRIu64 " %6.2f%%  %s\n", insns,
		total ? 100.0 * insns / total : 0.0, what);
}

/* Called with lock held. */
static void prof_dump(void)
{
	uint64_t total = 0, user = 0, other = 0, shown = 0, d;
	struct ksym *syms, *s, **top;
	size_t n, i, n_top = 0;
	char *label;

	syms = ksyms_load(&n, &label);
	top = g_new0(struct ksym *, n ? n : 1);
	d = block_count(0) - base[0];
	total = d;
	other = d;	/* blocks past PROF_MAX_BLOCKS: unnamed */
	for (i = 1; i < n_blocks; i++) {
		d = block_count(i) - base[i];
		if (!d)
			continue;
		total += d;
		s = ksym_find(syms, n, pcs[i]);
		if (s) {
			if (!s->insns)
				top[n_top++] = s;
			s->insns += d;
		} else if (pcs[i] < USER_TOP) {
			user += d;
		} else {
			other += d;
		}
	}
	qsort(top, n_top, sizeof(*top), ksym_by_insns);
	fprintf(out, "window %u %s\ntotal %" PRIu64 "\n", ++windows,
		label ? label : "(no label)", total);
	if (!syms)
		fprintf(out, "(no symbols in %s)\n", ksyms_path);
	for (i = 0; i < n_top && i < PROF_TOP; i++) {
		pct_line(top[i]->name, top[i]->insns, total);
		shown += top[i]->insns;
	}
	pct_line("[the other L1 functions]", total - shown - user - other,
		 total);
	pct_line("[user]", user, total);
	pct_line("[other kernel]", other, total);
	fprintf(out, "end\n");
	fflush(out);
	for (i = 0; i < n; i++)
		g_free(syms[i].name);
	g_free(syms);
	g_free(top);
	g_free(label);
}

void prof_mark(long mark)
{
	uint32_t i;

	if (!counts || (mark != 1 && mark != 2))
		return;
	g_mutex_lock(&lock);
	if (mark == 1) {
		for (i = 0; i < n_blocks; i++)
			base[i] = block_count(i);
		window_open = true;
	} else if (window_open) {
		prof_dump();
		window_open = false;
	}
	g_mutex_unlock(&lock);
}

void prof_exit(void)
{
	if (!counts)
		return;
	fclose(out);
	qemu_plugin_scoreboard_free(counts);
	counts = NULL;
	g_hash_table_destroy(blocks);
	g_free(pcs);
	g_free(base);
	g_free(ksyms_path);
}
