// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning the host pages behind guest-physical ranges, and charging them to
 * the VM's locked_vm, for the shadow to map into a host IOMMU domain.
 *
 * Pages are pinned long-term and writable, whatever the guest's mapping
 * allows, as VFIO type1 pins guest RAM: a read-only pin of memory the
 * guest never touched would pin the shared zero page, and the guest's
 * first write would then copy away from the page the device reads.  The
 * device's access is restricted in the IOMMU mapping instead.
 */
#include <linux/capability.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

/* Pages unpinned between reschedules: a 1 GiB leaf has 2^18. */
#define KVM_VIOMMU_UNPIN_BATCH	512

/*
 * Charge (or uncharge) @n pages to the VM's locked_vm.  As VFIO type1
 * does, the limit and the CAP_IPC_LOCK exemption are the VMM's (the unit's
 * owner), not those of whoever runs this: usually the queue worker.
 */
static int kvm_viommu_account(struct kvm_viommu *viommu, unsigned long n,
			      bool inc)
{
	struct mm_struct *mm = viommu->kvm->mm;
	int ret;

	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, n, inc, viommu->owner,
				  inc && has_capability(viommu->owner,
							CAP_IPC_LOCK));
	mmap_write_unlock(mm);
	return ret;
}

/**
 * kvm_viommu_pin() - pin and charge the host pages behind guest memory
 * @viommu: the unit
 * @gpa: first guest-physical address, page aligned
 * @n: pages
 * @pages: out: the pinned pages, in GPA order
 *
 * Charges the VM's locked_vm against RLIMIT_MEMLOCK first.  Runs in
 * process context with the VM's mm usable.
 *
 * Return: 0, or -ENOMEM over the limit, -EFAULT for what is not guest RAM
 * in a memslot, or GUP's error; nothing stays pinned or charged then.
 */
int kvm_viommu_pin(struct kvm_viommu *viommu, u64 gpa, unsigned long n,
		   struct page **pages)
{
	unsigned int gup_flags = FOLL_LONGTERM | FOLL_WRITE;
	struct kvm_memory_slot *slot;
	struct kvm *kvm = viommu->kvm;
	gfn_t gfn = gpa >> PAGE_SHIFT;
	unsigned long done = 0, run, hva;
	int idx, ret;
	long got;

	ret = kvm_viommu_account(viommu, n, true);
	if (ret)
		return ret;
	idx = srcu_read_lock(&kvm->srcu);
	while (done < n) {
		slot = gfn_to_memslot(kvm, gfn + done);
		/* KVM's own memslots (the APIC access page) are not guest RAM. */
		if (!slot || slot->id >= KVM_USER_MEM_SLOTS) {
			ret = -EFAULT;
			break;
		}
		hva = gfn_to_hva(kvm, gfn + done);
		if (kvm_is_error_hva(hva)) {
			ret = -EFAULT;
			break;
		}
		/* As many pages as are contiguous in the VMM's mapping. */
		for (run = 1; done + run < n; run++)
			if (gfn_to_hva(kvm, gfn + done + run) !=
			    hva + run * PAGE_SIZE)
				break;
		got = kvm_viommu_pin_user_pages(hva, run, gup_flags,
						pages + done);
		if (got > 0)
			done += got;
		if (got != run) {
			ret = got < 0 ? got : -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	srcu_read_unlock(&kvm->srcu, idx);
	if (ret) {
		kvm_viommu_unpin(viommu, pages, done, false);
		kvm_viommu_account(viommu, n - done, false);
	}
	return ret;
}

/*
 * Unpin @n pages pinned by kvm_viommu_pin() (marking them dirty if the
 * device could write them) and uncharge them.  Only once no host IOMMU
 * can reach them: callers unmap and check first.
 */
void kvm_viommu_unpin(struct kvm_viommu *viommu, struct page **pages,
		      unsigned long n, bool dirty)
{
	unsigned long i, batch;

	if (!n)
		return;
	for (i = 0; i < n; i += batch) {
		batch = min_t(unsigned long, n - i, KVM_VIOMMU_UNPIN_BATCH);
		unpin_user_pages_dirty_lock(pages + i, batch, dirty);
		cond_resched();
	}
	kvm_viommu_account(viommu, n, false);
}
