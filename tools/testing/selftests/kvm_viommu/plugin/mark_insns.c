// SPDX-License-Identifier: GPL-2.0-only
/*
 * mark_insns: a TCG plugin for the testbed's L0 QEMU that counts the
 * instructions every vCPU of L1 executes (L1's kernel, its VMMs and the
 * L2 guests they run, all alike to L0) and writes the running total at
 * each mark of the L2 Linux guest: edu_dma's "outb(N, mark_port)" around
 * its timed loop.  The difference between two marks is what one window of
 * the guest cost the whole machine in instructions, the figure that does
 * not drift with this machine's load and that no emulated world switch
 * inflates.
 *
 *   -plugin mark_insns.so,port=0x510,out=FILE[,profile=P,kallsyms=K]
 *
 * FILE gets one line per mark, "mark VALUE vcpu N insns TOTAL", appended
 * and flushed at once, so that L1 can read it while it runs (the bench
 * reads it over the testbed's 9p share).  A mark is a one-byte OUT to the
 * port (opcodes 0xE6 and 0xEE) with a value from 1 to 15; L1's own
 * accesses to that port (fw_cfg's selector, written 16 bits wide) are
 * not marks.
 *
 * The counts are per translation block, added when a block starts: a
 * block left early by an exception is counted whole, and the other vCPUs'
 * counters are read without stopping them.  Both are small beside the
 * millions of instructions a window holds.
 *
 * With profile= and kallsyms=, each window from mark 1 to mark 2 is also
 * broken down by L1's functions (profile.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include <qemu-plugin.h>

#include "profile.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define OUT_DX		0xee	/* out %al, (%dx) */
#define OUT_IMM8	0xe6	/* out %al, $imm8 */
#define MARK_MAX	15

static struct qemu_plugin_scoreboard *counts;
static qemu_plugin_u64 insns;
static struct qemu_plugin_register *reg_rax, *reg_rdx;
static unsigned int mark_port = 0x510;
static int out_fd = -1;

/* The low bytes of a register of the current vCPU, or -1. */
static long read_reg(struct qemu_plugin_register *reg, unsigned int bytes)
{
	GByteArray *buf = g_byte_array_new();
	long v = -1;
	unsigned int i;

	if (reg && qemu_plugin_read_register(reg, buf) >= (int)bytes) {
		v = 0;
		for (i = 0; i < bytes; i++)	/* x86 is little-endian */
			v |= (long)buf->data[i] << (8 * i);
	}
	g_byte_array_free(buf, TRUE);
	return v;
}

static void on_mark(unsigned int vcpu, unsigned int port)
{
	long al = read_reg(reg_rax, 1);
	char line[96];
	int n;

	if (port != mark_port || al < 1 || al > MARK_MAX)
		return;
	n = snprintf(line, sizeof(line), "mark %ld vcpu %u insns %llu\n", al,
		     vcpu, (unsigned long long)qemu_plugin_u64_sum(insns));
	if (write(out_fd, line, n) != n)
		qemu_plugin_outs("mark_insns: short write\n");
	prof_mark(al);
}

static void out_dx(unsigned int vcpu, void *udata)
{
	long dx = read_reg(reg_rdx, 2);

	if (dx >= 0)
		on_mark(vcpu, dx);
}

static void out_imm8(unsigned int vcpu, void *udata)
{
	on_mark(vcpu, (unsigned int)(uintptr_t)udata);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	unsigned char op[2];

	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							  insns, n);
	prof_tb(tb, n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		size_t len = qemu_plugin_insn_data(insn, op, sizeof(op));

		if (len == 1 && op[0] == OUT_DX)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, out_dx,
							       QEMU_PLUGIN_CB_R_REGS,
							       NULL);
		else if (len == 2 && op[0] == OUT_IMM8 && op[1] == mark_port)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, out_imm8,
							       QEMU_PLUGIN_CB_R_REGS,
							       (void *)(uintptr_t)op[1]);
	}
}

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
	GArray *regs;
	guint i;

	if (reg_rax && reg_rdx)
		return;
	regs = qemu_plugin_get_registers();
	for (i = 0; i < regs->len; i++) {
		qemu_plugin_reg_descriptor *d =
			&g_array_index(regs, qemu_plugin_reg_descriptor, i);

		if (!strcmp(d->name, "rax"))
			reg_rax = d->handle;
		else if (!strcmp(d->name, "rdx"))
			reg_rdx = d->handle;
	}
	g_array_free(regs, TRUE);
	if (!reg_rax || !reg_rdx)
		qemu_plugin_outs("mark_insns: no rax/rdx: marks are not seen\n");
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	char line[64];
	int n;

	n = snprintf(line, sizeof(line), "exit insns %llu\n",
		     (unsigned long long)qemu_plugin_u64_sum(insns));
	if (write(out_fd, line, n) != n)
		qemu_plugin_outs("mark_insns: short write\n");
	close(out_fd);
	qemu_plugin_scoreboard_free(counts);
	prof_exit();
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *out = NULL, *profile = NULL, *kallsyms = NULL;
	char *end;
	int i;

	if (strcmp(info->target_name, "x86_64")) {
		fprintf(stderr, "mark_insns: x86_64 only, not %s\n",
			info->target_name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "port=", 5)) {
			mark_port = strtoul(argv[i] + 5, &end, 0);
			if (*end || mark_port > 0xffff) {
				fprintf(stderr, "mark_insns: bad %s\n", argv[i]);
				return -1;
			}
		} else if (!strncmp(argv[i], "out=", 4)) {
			out = argv[i] + 4;
		} else if (!strncmp(argv[i], "profile=", 8)) {
			profile = argv[i] + 8;
		} else if (!strncmp(argv[i], "kallsyms=", 9)) {
			kallsyms = argv[i] + 9;
		} else {
			fprintf(stderr, "mark_insns: unknown argument %s\n",
				argv[i]);
			return -1;
		}
	}
	if (!out) {
		fprintf(stderr, "mark_insns: out=FILE is required\n");
		return -1;
	}
	out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		      0644);
	if (out_fd < 0) {
		fprintf(stderr, "mark_insns: %s: %s\n", out, strerror(errno));
		return -1;
	}
	if (profile && prof_init(profile, kallsyms))
		return -1;
	counts = qemu_plugin_scoreboard_new(sizeof(uint64_t));
	insns = qemu_plugin_scoreboard_u64(counts);
	qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
