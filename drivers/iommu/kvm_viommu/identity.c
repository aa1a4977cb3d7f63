// SPDX-License-Identifier: GPL-2.0-only
/*
 * Translation off (GSTS.TES clear): the spec has DMA go untranslated, IOVA
 * = GPA.  Firmware and operating systems that never turn translation on
 * (booting from an assigned disk or NIC, intel_iommu=off, an OS without
 * DMA protection) rely on it.  So while TES is clear each attached device's
 * domain maps all of the VM's RAM at its guest-physical address, pinned and
 * charged as VFIO type1 does for a VM without a vIOMMU, unless the VMM
 * created the unit with KVM_VIOMMU_CREATE_TE_OFF_BLOCKS.
 *
 * RAM is what the VM's user memslots hold that is neither read-only, nor
 * device memory (a BAR mmap()ed into the guest), nor the unit's own
 * register page (read-only, or under the sidecore writable): those are
 * left unmapped, as are the IOVAs the host
 * reserves for the device.  Memory the VMM adds or removes while TES stays
 * clear is seen at the next change of TES; pages of a removed memslot stay
 * pinned, and so unused by anyone else, until then.
 *
 * The map is built in 2 MiB-aligned chunks, each a shadow leaf, by the
 * VMM's own thread (an attach, or a relayed GCMD write): it may take
 * seconds for a large guest, reschedules between chunks and stops at a
 * fatal signal.
 */
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "kvm_viommu.h"
#include "shadow.h"

/* A guest-physical RAM range: a memslot the identity map covers. */
struct kvm_viommu_ram {
	u64 gpa;
	u64 size;
};

/*
 * Is the VMM memory at @hva RAM: not device memory, and not the unit's
 * register page (writable under the sidecore)?
 */
static bool kvm_viommu_is_ram(struct kvm_viommu *viommu, unsigned long hva)
{
	struct mm_struct *mm = viommu->kvm->mm;
	struct vm_area_struct *vma;
	bool ram;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, hva);
	ram = vma && !(vma->vm_flags & (VM_IO | VM_PFNMAP)) &&
	      !(vma->vm_file && kvm_viommu_file_is_unit(vma->vm_file, viommu));
	mmap_read_unlock(mm);
	return ram;
}

/*
 * The VM's RAM memslots, copied out: the memslots may change once KVM's
 * SRCU is left, and pinning takes long.  @nr: entries filled.
 */
static struct kvm_viommu_ram *kvm_viommu_ram_ranges(struct kvm_viommu *viommu,
						    unsigned int *nr)
{
	struct kvm *kvm = viommu->kvm;
	struct kvm_viommu_ram *ram = NULL, *grown;
	struct kvm_memory_slot *slot;
	unsigned int n = 0, cap = 0;
	bool nomem = false;
	struct kvm_memslots *slots;
	int idx, bkt;

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	kvm_for_each_memslot(slot, bkt, slots) {
		if (slot->id >= KVM_USER_MEM_SLOTS ||
		    slot->flags & KVM_MEM_READONLY)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = krealloc_array(ram, cap, sizeof(*ram),
					       GFP_KERNEL_ACCOUNT);
			if (!grown) {
				nomem = true;
				break;
			}
			ram = grown;
		}
		ram[n].gpa = slot->base_gfn << PAGE_SHIFT;
		ram[n].size = slot->npages << PAGE_SHIFT;
		if (kvm_viommu_is_ram(viommu, slot->userspace_addr))
			n++;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	if (nomem) {
		kfree(ram);
		return ERR_PTR(-ENOMEM);
	}
	*nr = n;
	return ram;
}

/* The first reserved range of @vdev overlapping [@start, @end), or NULL. */
static const struct kvm_viommu_resv *
kvm_viommu_first_resv(struct kvm_viommu_dev *vdev, u64 start, u64 end)
{
	const struct kvm_viommu_resv *first = NULL;
	unsigned int i;

	for (i = 0; i < vdev->nr_resv; i++) {
		const struct kvm_viommu_resv *r = &vdev->resv[i];

		if (r->start < end && start <= r->last &&
		    (!first || r->start < first->start))
			first = r;
	}
	return first;
}

/* Map [@start, @end) at IOVA = GPA, around the host's reserved ranges. */
static int kvm_viommu_identity_chunk(struct kvm_viommu *viommu,
				     struct kvm_viommu_dev *vdev, u64 start,
				     u64 end)
{
	const struct kvm_viommu_resv *r;
	struct kvm_viommu_leaf leaf = { .read = true, .write = true };
	int ret = 0, err;

	while (start < end) {
		r = kvm_viommu_first_resv(vdev, start, end);
		leaf.iova = start;
		leaf.gpa = start;
		leaf.size = (r ? max(start, r->start & PAGE_MASK) : end) - start;
		if (leaf.size) {
			err = kvm_viommu_map_leaf(viommu, vdev, &leaf);
			if (err) {
				viommu->cnt.pin_failures +=
					leaf.size >> PAGE_SHIFT;
				ret = ret ?: err;
			}
		}
		/* A region reaching the top of the address space ends it. */
		if (!r || r->last >= end - 1)
			break;
		start = PAGE_ALIGN(r->last + 1);
	}
	return ret;
}

/**
 * kvm_viommu_identity_map() - map all of guest RAM into a device's domain
 * @viommu: the unit, locked
 * @vdev: the device, whose shadow is empty
 *
 * Return: 0, or the first error met (-ENOMEM over RLIMIT_MEMLOCK, -EINTR
 * once nobody waits for it (kvm_viommu_abandoned()), ...).  What could
 * not be mapped stays unmapped and is counted in pin_failures; the rest
 * is mapped.
 */
int kvm_viommu_identity_map(struct kvm_viommu *viommu,
			    struct kvm_viommu_dev *vdev)
{
	struct kvm_viommu_ram *ram;
	unsigned int nr, i;
	u64 pos, end, next;
	int ret = 0, err;

	lockdep_assert_held(&viommu->lock);
	ram = kvm_viommu_ram_ranges(viommu, &nr);
	if (IS_ERR(ram))
		return PTR_ERR(ram);
	for (i = 0; i < nr; i++) {
		end = ram[i].gpa + ram[i].size;
		for (pos = ram[i].gpa; pos < end; pos = next) {
			if (kvm_viommu_abandoned(viommu)) {
				ret = ret ?: -EINTR;
				goto out;
			}
			next = min(end, ALIGN(pos + 1, SZ_2M));
			err = kvm_viommu_identity_chunk(viommu, vdev, pos, next);
			ret = ret ?: err;
			if (viommu->cnt.failed)
				goto out;
			cond_resched();
		}
	}
out:
	kfree(ram);
	return ret;
}
