/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What L1's kernel, the L2 Linux guest's host, spends on the guest's timed
 * loop under any VMM: viommu_bench's traced pass over the (f) rows.
 *
 * The window is the guest's own: edu_dma writes 1 to LG_MARK_PORT before
 * its loop, 2 after it, and 3 and 4 around an idle spell (idle_ms); L1's
 * KVM shows each write in its kvm_pio tracepoint.  A tracefs instance in
 * L1 records those marks, kvm_exit and kvm_entry from mark 1 on (an event
 * trigger on kvm_pio switches them on in the kernel, at the mark itself),
 * and every context switch of kvm_viommu's threads (sched_switch filtered
 * on their names) from before the VMM starts; another trigger stops the
 * recording at mark 4.
 *
 * One guest at a time: ht_start() before its VMM starts, ht_stop() once
 * the VMM has exited.  ht_parse() is the reading of a trace alone, for
 * host_trace_test.
 */
#ifndef _HOST_TRACE_H
#define _HOST_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HT_REASONS	8
/*
 * The guest-physical address of the unit's IQT under every VMM of the
 * bench (QEMU's intel-iommu and viommu-vmm both put the registers at
 * 0xfed90000): an exit for a write there is an invalidation's doorbell.
 */
#define HT_IQT_GPA	(0xfed90000ULL + 0x88)
/* The idle window starts this long after mark 3: the poller backs off. */
#define HT_IDLE_SETTLE_S	0.5
/* A reason needs this many paired exits to be the exit floor. */
#define HT_FLOOR_PAIRED		10

struct ht_result {
	bool marked;		/* mark 1, then mark 2 from the same thread */
	/* events were dropped, or times not kept: figures unreliable */
	bool lost;
	uint64_t events;	/* trace lines read */
	int vcpu_tid;		/* the thread that wrote the marks */
	double loop_s;		/* mark 1 to mark 2, trace clock */
	/*
	 * kvm_exit of the guest's vCPU threads between the marks (less mark
	 * 2's own exit), and of those, the ones whose thread's next
	 * kvm_entry came before mark 2: exit_s is the sum of (entry - exit)
	 * over them, everything L1 did for the guest in the loop while the
	 * vCPU was out (KVM, the VMM, the unit's work in the vCPU thread).
	 */
	uint64_t exits;
	uint64_t paired;
	double exit_s;
	/*
	 * Of those, the paired exits for the guest's IQT writes (reason
	 * npf at HT_IQT_GPA): what L1 spent on the invalidations themselves
	 * in the vCPU's thread, the other exits (timer, interrupts) left out.
	 */
	uint64_t inval_exits;
	double inval_s;
	double inval_median_s;	/* the median of their (entry - exit) */
	/* On-CPU time of kvm_viommu's threads in the loop, all CPUs. */
	double worker_s;	/* kvm-viommu-<tgid>: units' workers */
	double poller_s;	/* kvm-viommu-sc/<n>: sidecore pollers */
	/* The idle spell: HT_IDLE_SETTLE_S after mark 3 until mark 4. */
	bool have_idle;
	double idle_s;
	double idle_worker_s;
	double idle_poller_s;
	/*
	 * The exit floor: the lowest median (entry - exit) of a reason with
	 * at least HT_FLOOR_PAIRED paired exits other than the IQT writes,
	 * over every reason seen, and that reason; -1 and "" if none has
	 * them.  A reason whose exits L1 handles in the kernel and at once
	 * (vintr; a TSC-deadline msr write, traced by 6.12 only) shows what
	 * any exit costs L1 before work of its own: its exit and entry code.
	 */
	double exit_floor_s;
	char exit_floor_reason[24];
	/*
	 * The loop's exits by reason, most frequent first: how many (the
	 * IQT writes' included), and of the others how many were paired and
	 * the median of their (entry - exit).
	 */
	struct ht_reason {
		char name[24];
		uint64_t n;
		uint64_t paired;
		double median_s;
	} reasons[HT_REASONS];
};

/*
 * Sets up the instance and starts recording.  Returns 0, or -errno with
 * *why set (then there is nothing to stop).
 */
int ht_start(const char **why);

/* Stops recording, reads the trace into r and removes the instance. */
void ht_stop(struct ht_result *r);

/* Reads a trace (tracefs's "trace" format) into r. */
void ht_parse(FILE *f, struct ht_result *r);

#endif /* _HOST_TRACE_H */
