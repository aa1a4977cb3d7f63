// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_demo: what kvm_viommu does for an L2 guest, in words.  Run by
 * `make demo` inside the testbed's L1.
 *
 * An L2 guest gets a VT-d unit from kvm_viommu and QEMU's edu DMA engine
 * through VFIO.  Its guest code does what a guest kernel's IOMMU driver
 * does (root and context tables, second-level tables, queued
 * invalidation, translation on), maps two IOVAs and has edu copy a
 * message from one to the other.  The message arrives because kvm_viommu
 * put the guest's mappings into edu's host IOMMU domain, in the kernel,
 * at the guest's invalidations; after the guest unmaps, edu's DMA is
 * blocked by the host IOMMU.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "viommu_vmm.h"
#include "viommu_guest.h"
#include "viommu_vfio.h"

#define EDU_SID		0x18		/* 00:03.0 in the guest */
#define EDU_DID		1
#define IOVA_MSG	0x100000ULL
#define IOVA_INBOX	0x101000ULL

static const char message[] =
	"Hello from L2: edu carried this through my vIOMMU's tables";

static struct demo_args {
	uint64_t msg_gpa, msg_gva;
	uint64_t inbox_gpa, inbox_gva;
	struct guest_iommu_mem mem;
} args;

static struct guest_vtd gv;
static struct guest_iq gq;

/* The driver's invalidation after changing a mapping, then a wait. */
static void guest_flush(uint64_t lo, uint64_t hi)
{
	guest_iq_sync(&gq, lo, hi, (uint32_t *)args.mem.status_gva,
		      args.mem.status_gpa);
}

static void guest_code(void)
{
	uint64_t slpt;

	/* What a guest kernel's intel-iommu driver does at boot. */
	slpt = guest_iommu_enable(&gv, &gq, &args.mem, EDU_SID & 0xff,
				  EDU_DID);
	GUEST_SYNC(1);

	/* dma_map_single() twice: map, invalidate (caching mode). */
	gvtd_map(&gv, slpt, IOVA_MSG, args.msg_gpa, 1, VTD_SLPTE_R);
	gvtd_map(&gv, slpt, IOVA_INBOX, args.inbox_gpa, 1,
		 VTD_SLPTE_R | VTD_SLPTE_W);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), IOVA_MSG);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), IOVA_INBOX);
	edu_dma(IOVA_MSG, EDU_DMA_BUF, false);
	edu_dma(EDU_DMA_BUF, IOVA_INBOX, true);
	GUEST_SYNC(2);

	/* dma_unmap_single() of the inbox, then the same DMA again. */
	memset((void *)args.inbox_gva, 0, 4096);
	gvtd_unmap(&gv, slpt, IOVA_INBOX, 1);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), IOVA_INBOX);
	edu_dma(EDU_DMA_BUF, IOVA_INBOX, true);
	GUEST_SYNC(3);
	GUEST_DONE();
}

static int run_to(struct viommu_vmm *v, struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	switch (viommu_vcpu_run(v, vcpu, &uc)) {
	case UCALL_SYNC:
		if (uc.args[1] == stage)
			return 0;
		break;
	case UCALL_ABORT:
		printf("   the guest failed: %s\n", (const char *)uc.args[0]);
		return -1;
	}
	printf("   unexpected stop of the guest\n");
	return -1;
}

static void show_stats(struct viommu_vmm *v)
{
	struct kvm_viommu_stats st;

	viommu_vmm_stats(v, &st);
	printf("   unit: %llu doorbells, %llu descriptors,",
	       st.doorbells, st.descs);
	printf(" %llu maps, %llu unmaps, %llu pages pinned\n",
	       st.maps, st.unmaps, st.pinned_pages);
	printf("   VMM:  %lu register reads and %lu IQT writes",
	       (unsigned long)v->mmio_reads, (unsigned long)v->iqt_relays);
	printf(" reached userspace\n");
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct viommu_vmm v;
	struct viommu_vfio f;
	struct kvm_vm *vm;
	const char *why;
	vm_vaddr_t gva;
	bool landed, blocked;
	char *inbox;
	int ret;

	viommu_mount_debugfs();
	printf("1. An L2 VM with a kvm_viommu VT-d unit, wired as the rst says\n");
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	if (viommu_vfio_open(&f, vm, &why)) {
		printf("   no device: %s\n", why);
		return 1;
	}
	/* A guest address width the host IOMMU can back (see the rst). */
	ret = viommu_vmm_init(&v, vm, viommu_vfio_cap(&f), 0);
	if (ret) {
		printf("   KVM_CREATE_VIOMMU failed: %s\n", strerror(-ret));
		return 1;
	}
	printf("2. edu through VFIO: BAR0 into L2, attached as 00:03.0\n");
	ret = viommu_vfio_attach(&f, v.unit_fd, EDU_SID);
	if (ret) {
		printf("   KVM_VIOMMU_ATTACH_DEVICE failed: %s\n", strerror(-ret));
		return 1;
	}

	gva = vm_vaddr_alloc_page(vm);
	args.msg_gva = gva;
	args.msg_gpa = addr_gva2gpa(vm, gva);
	strcpy(addr_gva2hva(vm, gva), message);
	gva = vm_vaddr_alloc_page(vm);
	args.inbox_gva = gva;
	args.inbox_gpa = addr_gva2gpa(vm, gva);
	inbox = addr_gva2hva(vm, gva);
	viommu_guest_iommu_mem(vm, &args.mem, 16);
	sync_global_to_guest(vm, args);

	printf("3. L2 sets up its IOMMU: root table, queued invalidation,");
	printf(" translation on\n");
	if (run_to(&v, vcpu, 1))
		return 1;
	show_stats(&v);

	printf("4. L2 maps IOVA 0x%llx -> its message, 0x%llx -> its inbox,",
	       IOVA_MSG, IOVA_INBOX);
	printf(" invalidates,\n   and has edu DMA message -> edu -> inbox\n");
	if (run_to(&v, vcpu, 2))
		return 1;
	printf("   L2's inbox now says: \"%s\"\n", inbox);
	landed = !strcmp(inbox, message);
	show_stats(&v);

	printf("5. L2 unmaps the inbox, invalidates, and asks edu again\n");
	if (run_to(&v, vcpu, 3))
		return 1;
	printf("   L2's inbox now says: \"%s\"", inbox);
	printf(" (blocked by the host IOMMU: see L1's DMAR fault)\n");
	blocked = !inbox[0];
	show_stats(&v);

	printf("6. The VM goes: every pinned page comes back\n");
	viommu_vfio_close(&f);
	viommu_vmm_fini(&v);
	kvm_vm_free(vm);
	printf("   units alive: %d\n", viommu_count_units());
	printf("%s\n", landed && blocked ? "Demo OK." :
	       "Demo FAILED: the DMA did not do what the guest's tables say.");
	return landed && blocked ? 0 : 1;
}
