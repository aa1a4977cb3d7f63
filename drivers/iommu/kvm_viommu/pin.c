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
 *
 * A unit pins each host page once, however many leaves (IOVAs, devices)
 * map it: the pin table (@viommu->pins, pfn -> how many of the unit's
 * leaves hold the page) keeps the count.  A guest aliasing one page from
 * many IOVAs so adds nothing to the page's reference count after the
 * first (each long-term pin of a small page adds 1024 to it, and 2^21 of
 * them would overflow it), and the page is charged to locked_vm once.
 */
#include <linux/capability.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/xarray.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

/* Pages unpinned between reschedules: a 1 GiB leaf has 2^18. */
#define KVM_VIOMMU_UNPIN_BATCH	512

/*
 * A pin table entry: the leaves holding the page, and whether any of them
 * let the device write it (the page is marked dirty when let go of).
 */
#define KVM_VIOMMU_PIN_WRITE	1UL
#define KVM_VIOMMU_PIN_ONE	2UL

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

	if (!n)
		return 0;
	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, n, inc, viommu->owner,
				  inc && has_capability(viommu->owner,
							CAP_IPC_LOCK));
	mmap_write_unlock(mm);
	return ret;
}

/*
 * Pin the host pages behind [@gfn, @gfn + @n): guest RAM in memslots the
 * VMM made, not KVM's private ones (the APIC access page), and never the
 * unit's own register page.  Returns how many were pinned, or -errno
 * with none pinned.
 */
static long kvm_viommu_gup(struct kvm_viommu *viommu, gfn_t gfn,
			   unsigned long n, struct page **pages)
{
	unsigned int gup_flags = FOLL_LONGTERM | FOLL_WRITE;
	struct kvm_memory_slot *slot;
	struct kvm *kvm = viommu->kvm;
	unsigned long done = 0, run, max, hva, i;
	long got, ret = 0;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	while (done < n) {
		slot = gfn_to_memslot(kvm, gfn + done);
		if (!slot || slot->id >= KVM_USER_MEM_SLOTS) {
			ret = -EFAULT;
			break;
		}
		hva = gfn_to_hva_memslot(slot, gfn + done);
		/* Within this memslot, as far as the VMM's mapping is too. */
		max = min(n - done, slot->base_gfn + slot->npages - gfn - done);
		for (run = 1; run < max; run++)
			if (gfn_to_hva_memslot(slot, gfn + done + run) !=
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
	for (i = 0; !ret && i < done; i++)
		if (pages[i] == viommu->reg_page)
			ret = -EFAULT;
	if (ret) {
		unpin_user_pages(pages, done);
		return ret;
	}
	return done;
}

/*
 * Take one count off each of @pages[0, @n) in the pin table, and unpin
 * (dirty if any leaf let the device write it) each page left with none.
 * Returns how many were unpinned.
 */
static unsigned long kvm_viommu_put_pins(struct kvm_viommu *viommu,
					 struct page **pages, unsigned long n)
{
	unsigned long i, pfn, v, released = 0;

	for (i = 0; i < n; i++) {
		pfn = page_to_pfn(pages[i]);
		v = xa_to_value(xa_load(&viommu->pins, pfn));
		if (WARN_ON_ONCE(v < KVM_VIOMMU_PIN_ONE))
			continue;
		if (v >= 2 * KVM_VIOMMU_PIN_ONE) {
			/* Fits in place: a smaller value, no allocation. */
			xa_store(&viommu->pins, pfn,
				 xa_mk_value(v - KVM_VIOMMU_PIN_ONE), GFP_NOWAIT);
			continue;
		}
		xa_erase(&viommu->pins, pfn);
		unpin_user_pages_dirty_lock(&pages[i], 1,
					    v & KVM_VIOMMU_PIN_WRITE);
		released++;
		if (!(released % KVM_VIOMMU_UNPIN_BATCH))
			cond_resched();
	}
	return released;
}

/**
 * kvm_viommu_pin() - pin and charge the host pages behind guest memory
 * @viommu: the unit, locked
 * @gpa: first guest-physical address, page aligned
 * @n: pages
 * @write: the device may write them
 * @pages: out: the pages, in GPA order
 *
 * Pages the unit holds already are counted again, not pinned again; the
 * others are pinned and charged to the VM's locked_vm against
 * RLIMIT_MEMLOCK.  Runs in process context with the VM's mm usable.
 *
 * Return: 0, or -ENOMEM over the limit (or for the table), -EFAULT for
 * what is not guest RAM in a memslot, or GUP's error; nothing stays
 * pinned, counted or charged then.
 */
int kvm_viommu_pin(struct kvm_viommu *viommu, u64 gpa, unsigned long n,
		   bool write, struct page **pages)
{
	unsigned long i, pfn, v, fresh = 0;
	long got;
	int ret;

	lockdep_assert_held(&viommu->lock);
	got = kvm_viommu_gup(viommu, gpa >> PAGE_SHIFT, n, pages);
	if (got < 0)
		return got;
	for (i = 0; i < n; i++) {
		pfn = page_to_pfn(pages[i]);
		v = xa_to_value(xa_load(&viommu->pins, pfn));
		v += KVM_VIOMMU_PIN_ONE | (write ? KVM_VIOMMU_PIN_WRITE : 0);
		ret = xa_err(xa_store(&viommu->pins, pfn, xa_mk_value(v),
				      GFP_KERNEL_ACCOUNT));
		if (ret) {
			kvm_viommu_put_pins(viommu, pages, i);
			unpin_user_pages(pages + i, n - i);
			return ret;
		}
		/* Held already: the table's pin is enough. */
		if (v >= 2 * KVM_VIOMMU_PIN_ONE)
			unpin_user_page(pages[i]);
		else
			fresh++;
	}
	ret = kvm_viommu_account(viommu, fresh, true);
	if (ret) {
		kvm_viommu_put_pins(viommu, pages, n);
		return ret;
	}
	viommu->cnt.pinned_pages += fresh;
	return 0;
}

/*
 * Let go of @n pages taken by kvm_viommu_pin(): the last leaf holding a
 * page unpins and uncharges it.  Only once no host IOMMU can reach them
 * through the leaf: callers unmap and check first.
 */
void kvm_viommu_unpin(struct kvm_viommu *viommu, struct page **pages,
		      unsigned long n)
{
	unsigned long released;

	if (!n)
		return;
	released = kvm_viommu_put_pins(viommu, pages, n);
	kvm_viommu_account(viommu, released, false);
	viommu->cnt.pinned_pages -= released;
}
