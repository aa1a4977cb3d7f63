// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux_demo: what `make demo` shows first.  An unmodified Linux guest
 * (Debian's kernel) with QEMU's edu DMA device assigned boots under QEMU on
 * the seed's command line, twice, side by side: QEMU's own intel-iommu, then
 * the same line with kvm-viommu=on, where the VT-d unit is kvm_viommu's (the
 * patched QEMU of tools/qemu, the same binary both times).  The guest's own
 * intel-iommu driver sets the unit up, and our edu_dma module does DMA
 * through dma_map_single() and times map+unmap.  Then the same guest under
 * viommu-vmm with kvm_viommu, under Debian's QEMU, and with no vIOMMU.
 */
#include <stdio.h>
#include <string.h>
#include <linux/kernel.h>

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
	[LG_KVM_VIOMMU_TRACK] = "viommu-vmm + kvm_viommu, sidecore tracked",
	[LG_KVM_VIOMMU_SIDECORE] = "viommu-vmm + kvm_viommu, sidecore polling",
	[LG_QEMU_KVM_OFF] = "patched QEMU, kvm-viommu=off",
	[LG_QEMU_KVM_ON] = "patched QEMU, kvm-viommu=on",
};

static const enum lg_vmm order[] = {
	LG_QEMU_KVM_OFF, LG_QEMU_KVM_ON, LG_KVM_VIOMMU, LG_QEMU_VIOMMU,
	LG_VMM_NO_VIOMMU, LG_QEMU_NO_VIOMMU,
};

#define NR_ORDER	ARRAY_SIZE(order)

/* The seed's command line, with and without the property, side by side. */
static void qemu_pair(const struct lg_result *res, const bool *ran)
{
	const struct lg_result *off = &res[LG_QEMU_KVM_OFF];
	const struct lg_result *on = &res[LG_QEMU_KVM_ON];
	char line[512];

	if (!ran[LG_QEMU_KVM_OFF] || !ran[LG_QEMU_KVM_ON])
		return;
	printf("\nThe seed's command line, with and without the property:\n");
	if (!lg_qemu_cmdline(LG_QEMU_KVM_OFF, line, sizeof(line)))
		printf("  off: %s\n", line);
	if (!lg_qemu_cmdline(LG_QEMU_KVM_ON, line, sizeof(line)))
		printf("  on:  %s\n", line);
	printf("\n%-34s %16s %16s\n", "", "kvm-viommu=off", "kvm-viommu=on");
	printf("%-34s %16s %16s\n", "guest DMA check",
	       off->pass && off->dma_ok ? "pass" : "FAIL",
	       on->pass && on->dma_ok ? "pass" : "FAIL");
	printf("%-34s %16d %16d\n", "DMAR errors in the guest log",
	       off->dmar_errors, on->dmar_errors);
	printf("%-34s %16llu %16llu\n", "map+unmap median ns",
	       (unsigned long long)off->median_ns,
	       (unsigned long long)on->median_ns);
	printf("%-34s %16llu %16llu\n", "map+unmap p99 ns",
	       (unsigned long long)off->p99_ns,
	       (unsigned long long)on->p99_ns);
	printf("%-34s %16s %16llu\n", "IQT writes that reached QEMU",
	       "every one", (unsigned long long)on->relayed_iqt);
	printf("%-34s %16s %16llu\n", "doorbells handled in L1's kernel",
	       "-", (unsigned long long)on->doorbells);
	if (off->median_ns && on->median_ns)
		printf("\nPer map+unmap, kvm-viommu=on is %.2fx QEMU's own emulation.\n",
		       (double)off->median_ns / on->median_ns);
}

int main(void)
{
	struct lg_result res[LG_NR_VMMS];
	const struct lg_result *k = &res[LG_KVM_VIOMMU];
	const struct lg_result *q = &res[LG_QEMU_KVM_ON];
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
		printf("   %llu faults, %llu pages pinned (translation off: all RAM)\n",
		       (unsigned long long)r->faults,
		       (unsigned long long)r->pinned_pages);
	}

	qemu_pair(res, ran);

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
		printf("\nPer map+unmap, viommu-vmm is %.1fx faster than Debian's QEMU.\n",
		       (double)res[LG_QEMU_VIOMMU].median_ns / k->median_ns);

	rc = ran[LG_KVM_VIOMMU] && k->exit_status == 0 && k->pass &&
	     k->dma_ok && !k->dmar_errors && k->pinned_pages == LG_MEM_PAGES &&
	     !strcmp(k->iommu, "translated") ? 0 : 1;
	/* The QEMU run must have worked too, with no IQT write relayed. */
	if (!ran[LG_QEMU_KVM_ON] || q->exit_status || !q->pass || !q->dma_ok ||
	    q->dmar_errors || !q->have_stats || q->relayed_iqt ||
	    strcmp(q->iommu, "translated"))
		rc = 1;
	printf("demo: %s\n", rc ? "FAILED" : "ok");
	return rc;
}
