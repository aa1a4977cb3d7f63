/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Booting the unmodified Linux guest (Debian's kernel, our edu_dma module)
 * under one VMM and reading what it reported: the shared part of
 * linux_guest_test, viommu_demo and viommu_bench.
 *
 * Inside the testbed's L1, l1_run.sh exports where things are:
 * KVM_VIOMMU_VMM (viommu-vmm), KVM_VIOMMU_QEMU_RUN (guest/run_qemu.sh),
 * KVM_VIOMMU_L2_KERNEL, KVM_VIOMMU_L2_INITRD and KVM_VIOMMU_EDU_BDF, and
 * vmtest.sh KVM_VIOMMU_QEMU72, the root of Debian 12's unpacked QEMU 7.2.
 * The patched QEMU (tools/qemu) runs through guest/run_qemu_kvm.sh, found
 * beside run_qemu.sh.
 */
#ifndef _LINUX_GUEST_H
#define _LINUX_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lg_vmm {
	LG_KVM_VIOMMU,		/* viommu-vmm --vfio --viommu ...,sidecore=off */
	LG_VMM_NO_VIOMMU,	/* viommu-vmm --vfio: RAM mapped, no vIOMMU */
	LG_QEMU_VIOMMU,		/* QEMU's intel-iommu + vfio-pci, in L1 */
	LG_QEMU_NO_VIOMMU,	/* QEMU with vfio-pci only */
	LG_KVM_VIOMMU_TRACK,	/* LG_KVM_VIOMMU, sidecore=track */
	LG_KVM_VIOMMU_SIDECORE,	/* LG_KVM_VIOMMU, sidecore=poll */
	LG_QEMU_KVM_ON,		/* patched QEMU: intel-iommu,kvm-viommu=on */
	LG_QEMU_KVM_OFF,	/* the same QEMU and line without the property */
	LG_QEMU_KVM_SIDECORE,	/* ... kvm-viommu=on,kvm-viommu-sidecore=poll */
	LG_QEMU_KVM_TRACKED,	/* ... kvm-viommu=on,kvm-viommu-sidecore=track */
	LG_QEMU72_VIOMMU,	/* LG_QEMU_VIOMMU under Debian 12's QEMU 7.2 */
	LG_QEMU72_NO_VIOMMU,	/* LG_QEMU_NO_VIOMMU under QEMU 7.2 */
	LG_NR_VMMS,
};

extern const char *const lg_vmm_name[LG_NR_VMMS];

/*
 * The I/O port edu_dma writes its marks to, under every VMM: 1 before the
 * timed loop, 2 after it, 3 and 4 around its idle spell (idle_ms).
 * viommu-vmm counts the loop's exits itself (its mark.c); QEMU takes a
 * byte written there as one to its fw_cfg data port, which it ignores (the
 * selector, also at 0x510, is written 16 bits at a time); and L1's KVM
 * shows each mark in its kvm_pio tracepoint.
 */
#define LG_MARK_PORT	0x510

/* The Linux guest's RAM: LG_MEM_MB of it, LG_MEM_PAGES 4 KiB pages. */
#define LG_MEM_MB	512
#define LG_MEM_PAGES	(LG_MEM_MB * 256ULL)

struct lg_result {
	int exit_status;	/* of the VMM; -1 if killed at the timeout */
	bool done;		/* the guest's init reached its end */
	bool dma_ok;		/* every DMA round trip matched */
	bool pass;		/* edu_dma's own verdict */
	char iommu[16];		/* translated / identity / none */
	int dmar_errors;	/* DMAR fault or error lines in the guest log */
	uint64_t iters;
	uint64_t median_ns;	/* dma_map_single + dma_unmap_single, 4 KiB */
	uint64_t p99_ns;
	uint64_t mean_ns;
	double seconds;		/* boot to power-off, wall clock in L1 */
	/*
	 * kvm_viommu's statistics at the guest's power-off (viommu-vmm, and
	 * the patched QEMU with kvm-viommu=on).
	 */
	bool have_stats;
	uint64_t maps, unmaps, pinned_pages, faults, iq_errors, doorbells;
	uint64_t relayed_iqt, relayed_writes, walk_faults, pin_failures;
	uint64_t unmap_mismatches;
	uint64_t forwarded;	/* descriptors the unit handed to the VMM */
	/* The patched QEMU's VFIO containers of kvm_viommu's own type. */
	uint64_t kvm_viommu_containers;
	/* The VMM's time in the relayed GCMD writes that turned TE on, off. */
	uint64_t te_on_ns, te_off_ns;
	uint64_t tracked_writes, polled_writes, polled_runs;
	/* QEMU: the host refused the default sidecore; doorbells instead */
	uint64_t sidecore_fallbacks;
	/* KVM's exits of the guest's vCPUs in the timed loop (viommu-vmm). */
	bool have_loop_exits;
	uint64_t loop_exits;
	/*
	 * The instructions L0 counted on every L1 vCPU in the timed loop
	 * (insn_marks.h; the bench, when L0 runs the plugin).
	 */
	bool have_insns;
	uint64_t insns;
	char log[256];		/* the guest console, kept for a reader */
};

/* Whether vmm is Debian's QEMU (guest/run_qemu.sh), 10 or 7.2. */
static inline bool lg_is_qemu(enum lg_vmm vmm)
{
	return vmm == LG_QEMU_VIOMMU || vmm == LG_QEMU_NO_VIOMMU ||
	       vmm == LG_QEMU72_VIOMMU || vmm == LG_QEMU72_NO_VIOMMU;
}

/* Whether vmm is the patched QEMU (LG_QEMU_KVM_*). */
static inline bool lg_is_qemu_kvm(enum lg_vmm vmm)
{
	return vmm == LG_QEMU_KVM_ON || vmm == LG_QEMU_KVM_OFF ||
	       vmm == LG_QEMU_KVM_SIDECORE || vmm == LG_QEMU_KVM_TRACKED;
}

/*
 * Boots the guest under vmm with edu_dma timing iters map+unmap pairs.
 * Returns 0 when the run could be made (r says how it went), or -errno
 * with *why set when the environment lacks something (then skip).
 */
int lg_run(enum lg_vmm vmm, unsigned int iters, unsigned int timeout_s,
	   struct lg_result *r, const char **why);

/*
 * The patched QEMU's command line for vmm (LG_QEMU_KVM_*), without
 * the guest's kernel and console options, into buf.  Returns 0 or -errno.
 */
int lg_qemu_cmdline(enum lg_vmm vmm, char *buf, size_t len);

/* The same with the guest on cpus vCPUs (viommu-vmm: 1 or 2). */
int lg_run_cpus(enum lg_vmm vmm, unsigned int iters, unsigned int cpus,
		unsigned int timeout_s, struct lg_result *r, const char **why);

struct lg_opts {
	unsigned int iters;	/* edu_dma.iters */
	unsigned int cpus;	/* viommu-vmm's vCPUs, 1 or 2; QEMU runs 1 */
	unsigned int timeout_s;
	unsigned int idle_ms;	/* edu_dma.idle_ms: 0, or marks 3 and 4 */
	/* viommu-vmm's --viommu in place of the mode's, or NULL */
	const char *viommu_arg;
};

/* The same with every option; lg_run_cpus() is this with idle_ms 0. */
int lg_run_opts(enum lg_vmm vmm, const struct lg_opts *o,
		struct lg_result *r, const char **why);

#endif /* _LINUX_GUEST_H */
