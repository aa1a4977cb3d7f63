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

/*
 * With L0's profile on (vmtest.sh, KVM_VIOMMU_PROFILE=1), write L1's
 * kallsyms where the plugin reads it (KVM_VIOMMU_KALLSYMS), headed by
 * @label: the next window's profile is named after it and resolved
 * against the modules loaded now.  0, or -errno; 0 if the profile is off.
 */
int insn_profile_label(const char *label);

#endif /* _INSN_MARKS_H */
