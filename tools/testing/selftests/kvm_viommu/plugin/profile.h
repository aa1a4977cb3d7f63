/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mark_insns' optional profile: the instructions of one window of the L2
 * guest (marks 1 to 2) by the function of L1 they ran in.
 */
#ifndef MARK_INSNS_PROFILE_H
#define MARK_INSNS_PROFILE_H

#include <stddef.h>
#include <qemu-plugin.h>

/* 0, or -1 with a message on stderr. */
int prof_init(const char *out, const char *kallsyms);
/* Count @tb's instructions against its start address. */
void prof_tb(struct qemu_plugin_tb *tb, size_t n_insns);
/* Mark 1 opens a window, mark 2 writes its profile. */
void prof_mark(long mark);
void prof_exit(void);

#endif
