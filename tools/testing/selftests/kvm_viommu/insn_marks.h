/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The L0 plugin's counts of instructions (plugin/mark_insns.c), read in
 * L1 while it runs: what a window of the L2 guest, between two of its
 * marks, cost the whole machine.
 */
#ifndef _INSN_MARKS_H
#define _INSN_MARKS_H

#include <stdint.h>

/*
 * Where the plugin's log ends now, to pass to insn_window() once the
 * guest has run; -1 if L0 runs no plugin (KVM_VIOMMU_INSN_LOG unset).
 */
long insn_log_end(void);

/*
 * The instructions from the first mark @start logged after @pos to the
 * next mark @end: 0 and *@insns, -ENOENT without a log, -ENODATA if the
 * log holds no such pair after @pos.
 */
int insn_window(long pos, unsigned int start, unsigned int end,
		uint64_t *insns);

#endif /* _INSN_MARKS_H */
