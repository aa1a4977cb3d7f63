// SPDX-License-Identifier: GPL-2.0-only
/*
 * Telling the VMM what the guest invalidates (KVM_VIOMMU_SET_EVENTS).
 *
 * A VMM that keeps KVM_VIOMMU_TRANSLATE's answers (an IOTLB of its own
 * for its emulated devices, vhost's) must drop them when the guest
 * invalidates them, and the guest's invalidation must not complete before
 * it has: hardware flushes its IOTLB before the wait descriptor that
 * follows completes.  With KVM_VIOMMU_EVENTS_INVALIDATIONS the unit hands
 * each such invalidation to the VMM as an event, in its queued form, and
 * a wait queued after it stalls until the VMM acknowledges (event.c).
 *
 * Only invalidations that may cover an answer go.  The unit notes the
 * domains it answered through (a bit per domain-id), and whether it
 * answered untranslated (translation off, pass-through); an invalidation
 * of a domain the VMM never translated through costs the VMM nothing, so
 * assigned devices in domains of their own keep their invalidations in
 * the kernel.  A domain's bit goes when an invalidation of the whole
 * domain, or of all, went out: the VMM then holds nothing of it until it
 * asks again.  A change of translation as a whole (TE, SRTP) goes as a
 * global context-cache invalidation, and so does anything the ring had
 * no room for.
 *
 * Room: a queue run processes no more descriptors than the ring has room
 * for events (kvm_viommu_iq_run()), one each at most.  A register-based
 * invalidation or a translation change may find it full; the unit then
 * owes the VMM a global invalidation, pushed as soon as read() makes
 * room, and until the VMM has acknowledged it no wait completes.
 *
 * All under the unit's lock.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "kvm_viommu.h"
#include "vtd_walk.h"

#define KVM_VIOMMU_EVENTS_ALL	KVM_VIOMMU_EVENTS_INVALIDATIONS

/* The VMM holds nothing the unit knows of. */
static void kvm_viommu_xl_forget(struct kvm_viommu *viommu)
{
	if (viommu->xl_nr_dids)
		bitmap_zero(viommu->xl_dids, vtd_ndoms(&viommu->vtd));
	viommu->xl_nr_dids = 0;
	viommu->xl_untranslated = false;
}

/* May the VMM hold an answer through domain @did? */
static bool kvm_viommu_xl_holds(struct kvm_viommu *viommu, u16 did)
{
	return viommu->xl_nr_dids && did < vtd_ndoms(&viommu->vtd) &&
	       test_bit(did, viommu->xl_dids);
}

static void kvm_viommu_xl_drop(struct kvm_viommu *viommu, u16 did)
{
	if (kvm_viommu_xl_holds(viommu, did)) {
		__clear_bit(did, viommu->xl_dids);
		viommu->xl_nr_dids--;
	}
}

/**
 * kvm_viommu_xl_answered() - KVM_VIOMMU_TRANSLATE answered
 * @viommu: the unit, locked
 * @t: the answer, which the VMM may keep from now on
 */
void kvm_viommu_xl_answered(struct kvm_viommu *viommu,
			    const struct vtd_translation *t)
{
	lockdep_assert_held(&viommu->lock);
	if (!(viommu->ev_mask & KVM_VIOMMU_EVENTS_INVALIDATIONS) || t->fault)
		return;
	if (t->untranslated)
		viommu->xl_untranslated = true;
	else if (t->did < vtd_ndoms(&viommu->vtd) &&
		 !__test_and_set_bit(t->did, viommu->xl_dids))
		viommu->xl_nr_dids++;
}

/* The global invalidation owed, or a translation change's. */
static void kvm_viommu_push_global(struct kvm_viommu *viommu)
{
	static const struct vtd_cc_inval global = {
		.granularity = VTD_CC_GLOBAL,
	};
	struct vtd_inv_desc d;

	vtd_cc_inval_desc(&global, &d);
	kvm_viommu_event_push(viommu, &d);
	viommu->cnt.inval_events++;
	viommu->ev_owed = false;
}

/* Hand @d to the VMM; if the ring is full, owe it a global one. */
static void kvm_viommu_inval_event(struct kvm_viommu *viommu,
				   const struct vtd_inv_desc *d)
{
	if (viommu->ev_owed && kvm_viommu_event_space(viommu))
		kvm_viommu_push_global(viommu);
	if (viommu->ev_owed || !kvm_viommu_event_space(viommu)) {
		/* What the owed one covers, the VMM drops anyway. */
		viommu->ev_owed = true;
		kvm_viommu_xl_forget(viommu);
		return;
	}
	kvm_viommu_event_push(viommu, d);
	viommu->cnt.inval_events++;
}

/* Does the VMM want invalidations, and may it hold anything? */
static bool kvm_viommu_coherence_on(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return viommu->ev_mask & KVM_VIOMMU_EVENTS_INVALIDATIONS &&
	       (viommu->xl_nr_dids || viommu->xl_untranslated);
}

/**
 * kvm_viommu_coherence_cc() - a context-cache invalidation was carried out
 * @viommu: the unit, locked
 * @inv: what it covered
 *
 * A context that changed may take a device out of its domain, or out of
 * pass-through: an invalidation of a domain the VMM answered through, or
 * of any device while it holds untranslated answers, goes to it.
 */
void kvm_viommu_coherence_cc(struct kvm_viommu *viommu,
			     const struct vtd_cc_inval *inv)
{
	struct vtd_inv_desc d;

	if (!kvm_viommu_coherence_on(viommu))
		return;
	if (inv->granularity != VTD_CC_GLOBAL && !viommu->xl_untranslated &&
	    !kvm_viommu_xl_holds(viommu, inv->did))
		return;
	vtd_cc_inval_desc(inv, &d);
	kvm_viommu_inval_event(viommu, &d);
	if (inv->granularity == VTD_CC_GLOBAL)
		kvm_viommu_xl_forget(viommu);
	else if (inv->granularity == VTD_CC_DOMAIN)
		kvm_viommu_xl_drop(viommu, inv->did);
}

/**
 * kvm_viommu_coherence_iotlb() - an IOTLB invalidation was carried out
 * @viommu: the unit, locked
 * @inv: what it covered
 *
 * Untranslated answers hold no IOTLB entry: only domains count here.
 */
void kvm_viommu_coherence_iotlb(struct kvm_viommu *viommu,
				const struct vtd_iotlb_inval *inv)
{
	struct vtd_inv_desc d;

	if (!kvm_viommu_coherence_on(viommu) || !viommu->xl_nr_dids)
		return;
	if (inv->granularity != VTD_IOTLB_GLOBAL &&
	    !kvm_viommu_xl_holds(viommu, inv->did))
		return;
	vtd_iotlb_inval_desc(inv, &d);
	kvm_viommu_inval_event(viommu, &d);
	if (inv->granularity == VTD_IOTLB_GLOBAL) {
		bitmap_zero(viommu->xl_dids, vtd_ndoms(&viommu->vtd));
		viommu->xl_nr_dids = 0;
	} else if (inv->granularity == VTD_IOTLB_DOMAIN) {
		kvm_viommu_xl_drop(viommu, inv->did);
	}
}

/**
 * kvm_viommu_coherence_changed() - translation changed as a whole
 * @viommu: the unit, locked
 *
 * GSTS.TES went on or off, or a root table was latched: every answer may
 * be stale, and no invalidation need follow (none does as TE goes off).
 */
void kvm_viommu_coherence_changed(struct kvm_viommu *viommu)
{
	static const struct vtd_cc_inval global = {
		.granularity = VTD_CC_GLOBAL,
	};
	struct vtd_inv_desc d;

	if (!kvm_viommu_coherence_on(viommu))
		return;
	vtd_cc_inval_desc(&global, &d);
	kvm_viommu_inval_event(viommu, &d);
	kvm_viommu_xl_forget(viommu);
}

/* read() made room: the owed invalidation goes first.  Locked. */
void kvm_viommu_coherence_read(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->ev_owed && kvm_viommu_event_space(viommu))
		kvm_viommu_push_global(viommu);
}

void kvm_viommu_coherence_free(struct kvm_viommu *viommu)
{
	bitmap_free(viommu->xl_dids);
}

/* KVM_VIOMMU_SET_EVENTS */
int kvm_viommu_set_events(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_events *cmd = ucmd->cmd;
	unsigned long *dids = NULL;
	int ret;

	if (cmd->flags || cmd->__reserved ||
	    cmd->mask & ~KVM_VIOMMU_EVENTS_ALL)
		return -EINVAL;
	/* CAP.ND is fixed at creation: at most 2^16 bits. */
	if (cmd->mask & KVM_VIOMMU_EVENTS_INVALIDATIONS &&
	    !READ_ONCE(viommu->xl_dids)) {
		dids = bitmap_zalloc(vtd_ndoms(&viommu->vtd),
				     GFP_KERNEL_ACCOUNT);
		if (!dids)
			return -ENOMEM;
	}
	ret = kvm_viommu_lock(viommu);
	if (ret)
		goto out;
	if (dids && !viommu->xl_dids)
		swap(viommu->xl_dids, dids);
	if (!(cmd->mask & KVM_VIOMMU_EVENTS_INVALIDATIONS)) {
		/* Nothing to drop any more: what was owed is moot. */
		kvm_viommu_xl_forget(viommu);
		if (viommu->ev_owed) {
			viommu->ev_owed = false;
			if (viommu->ack_stalled)
				kvm_viommu_iq_run(viommu, true);
		}
	}
	viommu->ev_mask = cmd->mask;
	kvm_viommu_unlock(viommu);
out:
	bitmap_free(dids);
	return ret;
}
