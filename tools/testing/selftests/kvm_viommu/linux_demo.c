// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux_demo: what `make demo` shows first.  An unmodified Linux guest
 * (Debian's kernel) with QEMU's edu DMA device assigned boots under
 * viommu-vmm with kvm_viommu as its VT-d unit; the guest's own intel-iommu
 * driver sets the unit up, and our edu_dma module does DMA through
 * dma_map_single() and times map+unmap.  Then the same guest under QEMU's
 * intel-iommu (today's architecture) and with no vIOMMU, side by side.
 */
#include <stdio.h>
#include <string.h>

#include "linux_guest.h"

#define DEMO_ITERS	3000
#define DEMO_TIMEOUT	600

/* The guest's own words: its DMAR setup and edu_dma's report. */
static void excerpt(const struct lg_result *r)
{
	char line[512];
	FILE *f = fopen(r->log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "guest: iommu:") ||
		    strstr(line, "guest: edu_dma:") ||
		    strstr(line, "guest: dmar_errors="))
			printf("    | %s", line);
	fclose(f);
}

static const char *vmm_label[LG_NR_VMMS] = {
	[LG_KVM_VIOMMU] = "viommu-vmm + kvm_viommu",
	[LG_VMM_NO_VIOMMU] = "viommu-vmm, no vIOMMU",
	[LG_QEMU_VIOMMU] = "QEMU intel-iommu (userspace)",
	[LG_QEMU_NO_VIOMMU] = "QEMU, no vIOMMU",
};

static const enum lg_vmm order[] = {
	LG_KVM_VIOMMU, LG_QEMU_VIOMMU, LG_VMM_NO_VIOMMU, LG_QEMU_NO_VIOMMU,
};

#define NR_ORDER	(sizeof(order) / sizeof(order[0]))

int main(void)
{
	struct lg_result res[LG_NR_VMMS];
	const struct lg_result *k = &res[LG_KVM_VIOMMU];
	const char *why;
	bool ran[LG_NR_VMMS] = { false };
	size_t i;
	int rc;

	printf("kvm_viommu demo: Debian's kernel as an L2 guest, QEMU's edu DMA device\n");
	printf("assigned through vfio-pci, the guest's own intel-iommu driver in charge.\n");
	for (i = 0; i < NR_ORDER; i++) {
		enum lg_vmm m = order[i];
		struct lg_result *r = &res[m];

		printf("\n%zu. %s\n", i + 1, vmm_label[m]);
		fflush(stdout);
		if (lg_run(m, DEMO_ITERS, DEMO_TIMEOUT, r, &why)) {
			printf("   not run: %s\n", why);
			continue;
		}
		ran[m] = true;
		excerpt(r);
		printf("   boot to power-off %.1f s, VMM exit status %d\n",
		       r->seconds, r->exit_status);
		if (!r->have_stats)
			continue;
		printf("   kvm_viommu at power-off: %llu maps, %llu unmaps,\n",
		       (unsigned long long)r->maps,
		       (unsigned long long)r->unmaps);
		printf("   %llu doorbells, %llu IQT writes relayed to the VMM,\n",
		       (unsigned long long)r->doorbells,
		       (unsigned long long)r->relayed_iqt);
		printf("   %llu faults, %llu pages still pinned\n",
		       (unsigned long long)r->faults,
		       (unsigned long long)r->pinned_pages);
	}

	printf("\n%-30s %-10s %-9s %14s %12s\n", "VMM", "iommu", "DMA check",
	       "map+unmap ns", "p99 ns");
	for (i = 0; i < NR_ORDER; i++) {
		const struct lg_result *r = &res[order[i]];

		if (!ran[order[i]])
			continue;
		printf("%-30s %-10s %-9s %14llu %12llu\n",
		       vmm_label[order[i]], r->iommu[0] ? r->iommu : "?",
		       r->pass && r->dma_ok ? "pass" : "FAIL",
		       (unsigned long long)r->median_ns,
		       (unsigned long long)r->p99_ns);
	}
	if (ran[LG_QEMU_VIOMMU] && ran[LG_KVM_VIOMMU] && k->median_ns &&
	    res[LG_QEMU_VIOMMU].median_ns)
		printf("\nPer map+unmap, kvm_viommu is %.1fx faster than QEMU's vIOMMU.\n",
		       (double)res[LG_QEMU_VIOMMU].median_ns / k->median_ns);

	rc = ran[LG_KVM_VIOMMU] && k->exit_status == 0 && k->pass &&
	     k->dma_ok && !k->dmar_errors && !k->pinned_pages &&
	     !strcmp(k->iommu, "translated") ? 0 : 1;
	printf("demo: %s\n", rc ? "FAILED" : "ok");
	return rc;
}
