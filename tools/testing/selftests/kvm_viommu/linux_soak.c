// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Linux guest again and again: KVM_VIOMMU_SOAK_RUNS boots (default 30)
 * of Debian's kernel under viommu-vmm with kvm_viommu, each timing
 * KVM_VIOMMU_SOAK_ITERS (default 3000) dma_map_single + dma_unmap_single
 * pairs, alternately on one and two vCPUs, with the queue processed as the
 * module's parameters say (vcpu_fast_path: in the ringing vCPU's thread).
 * A run that does not finish in time gets every task's stack dumped to
 * L1's log (sysrq-t) before its VMM is killed; run it on an L1 booted with
 * hung_task_panic and softlockup_panic (make soak) so that a stuck kernel
 * says where.  One TAP line per boot, and the unit's statistics.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kselftest.h"
#include "linux_guest.h"

#define SOAK_TIMEOUT	600

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

int main(void)
{
	unsigned int runs = env_uint("KVM_VIOMMU_SOAK_RUNS", 30);
	unsigned int iters = env_uint("KVM_VIOMMU_SOAK_ITERS", 3000);
	unsigned int i, cpus;
	struct lg_result r;
	const char *why;
	bool ok;

	ksft_print_header();
	ksft_set_plan(runs);
	for (i = 0; i < runs; i++) {
		cpus = 1 + i % 2;
		if (lg_run_cpus(LG_KVM_VIOMMU, iters, cpus, SOAK_TIMEOUT, &r,
				&why)) {
			ksft_test_result_skip("boot %u: %s\n", i + 1, why);
			continue;
		}
		ok = !r.exit_status && r.done && r.pass && r.dma_ok &&
		     r.iters == iters && !r.dmar_errors && !r.faults &&
		     !r.iq_errors && !r.relayed_iqt;
		ksft_print_msg("boot %u: exit %d, %.1f s, median %llu ns, p99 %llu ns, %s\n",
			       i + 1, r.exit_status, r.seconds,
			       (unsigned long long)r.median_ns,
			       (unsigned long long)r.p99_ns, r.log);
		ksft_test_result(ok, "boot %u of %u, %u vCPU(s), %u pairs\n",
				 i + 1, runs, cpus, iters);
	}
	ksft_finished();
}
