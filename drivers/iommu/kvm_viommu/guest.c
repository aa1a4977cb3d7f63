// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d core's callbacks: guest memory through KVM's memslots, and what
 * invalidations, interrupts and forwarded descriptors become in the host.
 *
 * All run with the unit's lock held, in process context, with the VM's mm
 * usable (the VMM's own thread in an ioctl, or the queue worker, which
 * adopts the mm): guest memory is reached through the VM's userspace
 * mappings.
 */
#include <linux/kvm_host.h>
#include <linux/uaccess.h>

#include "kvm_viommu.h"
#include "shadow.h"

/*
 * The unit's cached host address of the guest page @page (aligned), or
 * NULL if KVM cannot cache it (not in a writable memslot).  A walk reads
 * one table per level, entry after entry, and a queue run one queue page:
 * each is looked up in the memslots once, not at every entry.  KVM checks
 * an entry against the memslots' generation at every read and looks the
 * page up again after any memslot change.  Under KVM's SRCU.
 */
static struct gfn_to_hva_cache *kvm_viommu_gpa_cached(struct kvm_viommu *viommu,
						      u64 page)
{
	struct gfn_to_hva_cache *ghc;
	unsigned int i;

	for (i = 0; i < KVM_VIOMMU_GPA_CACHE; i++) {
		ghc = &viommu->gpa_cache[i];
		if (ghc->len && ghc->gpa == page)
			return ghc;
	}
	ghc = &viommu->gpa_cache[viommu->gpa_cache_next];
	viommu->gpa_cache_next = (viommu->gpa_cache_next + 1) %
				 KVM_VIOMMU_GPA_CACHE;
	if (kvm_gfn_to_hva_cache_init(viommu->kvm, ghc, page, PAGE_SIZE)) {
		ghc->len = 0;
		return NULL;
	}
	return ghc;
}

static int kvm_viommu_read_gpa(struct vtd_unit *u, u64 gpa, void *buf,
			       u32 len)
{
	struct kvm_viommu *viommu = vtd_to_viommu(u);
	struct kvm *kvm = viommu->kvm;
	struct gfn_to_hva_cache *ghc = NULL;
	int idx, ret = -EFAULT;

	idx = srcu_read_lock(&kvm->srcu);
	if (offset_in_page(gpa) + len <= PAGE_SIZE)
		ghc = kvm_viommu_gpa_cached(viommu, gpa & PAGE_MASK);
	if (ghc)
		ret = kvm_read_guest_offset_cached(kvm, ghc, buf,
						   offset_in_page(gpa), len);
	/* Across pages, or in memory KVM will not cache (read-only). */
	if (ret)
		ret = kvm_read_guest(kvm, gpa, buf, len);
	srcu_read_unlock(&kvm->srcu, idx);
	/*
	 * Every paging entry a walk reads comes through here, up to a walk
	 * budget's worth per invalidation: the place to let others run.
	 */
	cond_resched();
	return ret ? -EFAULT : 0;
}

/*
 * Not kvm_write_guest(): on 6.1 it WARNs when no vCPU is running on this
 * CPU (the dirty ring needs one), and neither the queue worker nor a
 * relay ioctl is a vCPU.  The price: these writes (invalidation-wait
 * status words) are not in KVM's dirty log; see the rst on migration.
 * gfn_to_hva() refuses read-only and absent memslots.
 */
static int kvm_viommu_write_gpa(struct vtd_unit *u, u64 gpa, const void *buf,
				u32 len)
{
	struct kvm_viommu *viommu = vtd_to_viommu(u);
	struct kvm *kvm = viommu->kvm;
	int idx, ret = 0;
	unsigned long hva;
	u32 seg;

	/* A guest that sees this word sees the registers as they are now. */
	kvm_viommu_publish(viommu);
	idx = srcu_read_lock(&kvm->srcu);
	while (len) {
		seg = min_t(u32, len, PAGE_SIZE - offset_in_page(gpa));
		hva = gfn_to_hva(kvm, gpa >> PAGE_SHIFT);
		if (kvm_is_error_hva(hva) ||
		    copy_to_user((void __user *)(hva + offset_in_page(gpa)),
				 buf, seg)) {
			ret = -EFAULT;
			break;
		}
		gpa += seg;
		buf += seg;
		len -= seg;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}

/*
 * Invalidations and translation changes reach the attached devices, and
 * the VMM if it may hold a translation they cover (coherence.c).
 */
static void kvm_viommu_cc_inval(struct vtd_unit *u,
				const struct vtd_cc_inval *inv)
{
	kvm_viommu_shadow_cc_inval(vtd_to_viommu(u), inv);
	kvm_viommu_coherence_cc(vtd_to_viommu(u), inv);
}

static void kvm_viommu_iotlb_inval(struct vtd_unit *u,
				   const struct vtd_iotlb_inval *inv)
{
	kvm_viommu_shadow_iotlb_inval(vtd_to_viommu(u), inv);
	kvm_viommu_coherence_iotlb(vtd_to_viommu(u), inv);
}

static void kvm_viommu_translation_changed(struct vtd_unit *u)
{
	kvm_viommu_shadow_translation_changed(vtd_to_viommu(u));
	kvm_viommu_coherence_changed(vtd_to_viommu(u));
}

static void kvm_viommu_vtd_send_irq(struct vtd_unit *u, enum vtd_irq irq)
{
	/* Its handler reads the status the interrupt is about. */
	kvm_viommu_publish(vtd_to_viommu(u));
	kvm_viommu_send_irq(vtd_to_viommu(u), irq == VTD_IRQ_FAULT ?
			    KVM_VIOMMU_IRQ_FAULT :
			    KVM_VIOMMU_IRQ_INV_COMPLETION);
}

/*
 * Stop the queue run after this descriptor once it has done its share or
 * serves nobody, and while a walk it started is not finished: no later
 * descriptor may overtake it.
 */
static bool kvm_viommu_yield(struct vtd_unit *u)
{
	struct kvm_viommu *viommu = vtd_to_viommu(u);

	return kvm_viommu_iq_should_stop(viommu) ||
	       kvm_viommu_shadow_pending(viommu);
}

/* Stop a walk at the next table once the run has to end. */
static bool kvm_viommu_walk_yield(struct vtd_unit *u)
{
	return kvm_viommu_iq_should_stop(vtd_to_viommu(u));
}

/* A wait descriptor completes after the VMM acted on forwarded ones. */
static bool kvm_viommu_wait_ready(struct vtd_unit *u)
{
	return kvm_viommu_events_acked(vtd_to_viommu(u));
}

static void kvm_viommu_forward_desc(struct vtd_unit *u,
				    const struct vtd_inv_desc *desc)
{
	kvm_viommu_event_push(vtd_to_viommu(u), desc, 0);
}

const struct vtd_ops kvm_viommu_vtd_ops = {
	.read_gpa = kvm_viommu_read_gpa,
	.write_gpa = kvm_viommu_write_gpa,
	.cc_inval = kvm_viommu_cc_inval,
	.iotlb_inval = kvm_viommu_iotlb_inval,
	.send_irq = kvm_viommu_vtd_send_irq,
	.forward_desc = kvm_viommu_forward_desc,
	.translation_changed = kvm_viommu_translation_changed,
	.yield = kvm_viommu_yield,
	.walk_yield = kvm_viommu_walk_yield,
	.wait_ready = kvm_viommu_wait_ready,
};
