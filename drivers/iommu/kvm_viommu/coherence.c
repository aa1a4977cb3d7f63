// SPDX-License-Identifier: GPL-2.0-only
/*
 * Telling the VMM what the guest invalidates (KVM_VIOMMU_SET_EVENTS).
 *
 * A VMM that keeps KVM_VIOMMU_TRANSLATE's answers (an IOTLB of its own
 * for its emulated devices, vhost's) must drop them when the guest
 * invalidates them, and the guest's invalidation must not complete before
 * it has: hardware's is complete only once its caches are.  With
 * KVM_VIOMMU_EVENTS_INVALIDATIONS the unit hands each such invalidation to
 * the VMM as an event, in its queued form, and the guest waits for the
 * VMM's acknowledgment: a wait queued after it stalls (event.c), and a
 * command register that made it (CCMD, IOTLB_REG, GCMD) reads as in
 * progress (regpage.c's holds).
 *
 * Only IOTLB invalidations that may cover an answer go.  The unit notes
 * the domains it answered through (a bit per domain-id); an invalidation
 * of a domain the VMM never translated through costs the VMM nothing, so
 * assigned devices in domains of their own keep their invalidations in
 * the kernel.  A domain's bit goes when an invalidation of the whole
 * domain, or of all, went out: the VMM then holds nothing of it until it
 * asks again.  Context-cache invalidations, rare (they follow context
 * changes) and matched by source-id as much as by domain, all go while
 * the VMM may hold anything; so does a change of translation as a whole
 * (TE, SRTP), as a global context-cache invalidation, and anything the
 * ring had no room for.
 *
 * Room: a queue run processes no more descriptors than the ring has room
 * for events (kvm_viommu_iq_run()), one each at most, so a queued
 * invalidation always finds room.  A register write may find the ring
 * full; the unit then owes the VMM a global invalidation, pushed as soon
 * as read() makes room, and the command reads as in progress until the
 * VMM has acknowledged it.
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
 * kvm_viommu_coherence_answered() - KVM_VIOMMU_TRANSLATE answered
 * @viommu: the unit, locked
 * @t: the answer, which the VMM may keep from now on
 */
void kvm_viommu_coherence_answered(struct kvm_viommu *viommu,
				   const struct vtd_translation *t)
{
	lockdep_assert_held(&viommu->lock);
	if (!(viommu->ev_mask & KVM_VIOMMU_EVENTS_INVALIDATIONS) || t->fault)
		return;
	if (t->untranslated) {
		viommu->xl_untranslated = true;
		return;
	}
	/* A context with a domain-id beyond CAP.ND faults (Bh). */
	if (WARN_ON_ONCE(t->did >= vtd_ndoms(&viommu->vtd)))
		return;
	if (!__test_and_set_bit(t->did, viommu->xl_dids))
		viommu->xl_nr_dids++;
}

/* Does the VMM want invalidations, and may it hold anything? */
static bool kvm_viommu_coherence_on(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return (viommu->ev_mask & KVM_VIOMMU_EVENTS_INVALIDATIONS) &&
	       (viommu->xl_nr_dids || viommu->xl_untranslated);
}

/*
 * Hand @d to the VMM, or, if the ring is full, owe it a global context-
 * cache invalidation (which covers everything: the unit forgets it all).
 * A register write waits for the acknowledgment (@reg_ev_seq).
 */
static void kvm_viommu_inval_event(struct kvm_viommu *viommu,
				   const struct vtd_inv_desc *d)
{
	if (viommu->ev_owed || !kvm_viommu_event_space(viommu)) {
		viommu->ev_owed = true;
		kvm_viommu_xl_forget(viommu);
		return;
	}
	kvm_viommu_event_push(viommu, d, KVM_VIOMMU_EVENT_INVALIDATION);
	viommu->cnt.inval_events++;
	if (viommu->reg_applying)
		viommu->reg_ev_seq = viommu->ev_seq;
}

/* A global context-cache invalidation: drop everything. */
static void kvm_viommu_global_event(struct kvm_viommu *viommu)
{
	static const struct vtd_cc_inval global = {
		.granularity = VTD_CC_GLOBAL,
	};
	struct vtd_inv_desc d;

	vtd_cc_inval_desc(&global, &d);
	kvm_viommu_inval_event(viommu, &d);
	kvm_viommu_xl_forget(viommu);
}

/**
 * kvm_viommu_coherence_cc() - a context-cache invalidation was carried out
 * @viommu: the unit, locked
 * @inv: what it covered
 */
void kvm_viommu_coherence_cc(struct kvm_viommu *viommu,
			     const struct vtd_cc_inval *inv)
{
	struct vtd_inv_desc d;

	if (!kvm_viommu_coherence_on(viommu))
		return;
	if (inv->granularity == VTD_CC_GLOBAL) {
		kvm_viommu_global_event(viommu);
		return;
	}
	vtd_cc_inval_desc(inv, &d);
	kvm_viommu_inval_event(viommu, &d);
	if (inv->granularity == VTD_CC_DOMAIN)
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
	if (kvm_viommu_coherence_on(viommu))
		kvm_viommu_global_event(viommu);
}

/*
 * Is a register command's invalidation not yet acknowledged (or not even
 * pushed)?  Its command then reads as in progress (regpage.c).
 */
bool kvm_viommu_coherence_pending(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return viommu->ev_owed || viommu->ev_acked_seq < viommu->reg_ev_seq;
}

/* read() made room: the owed invalidation goes first.  Locked. */
void kvm_viommu_coherence_read(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (!viommu->ev_owed || !kvm_viommu_event_space(viommu))
		return;
	viommu->ev_owed = false;
	kvm_viommu_global_event(viommu);
	/* Pushed outside any register write: its command waits for it. */
	viommu->reg_ev_seq = viommu->ev_seq;
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
	int ret;

	if (cmd->flags || cmd->__reserved ||
	    (cmd->mask & ~KVM_VIOMMU_EVENTS_ALL))
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	/* CAP.ND is fixed at creation: at most 2^16 bits, once. */
	if ((cmd->mask & KVM_VIOMMU_EVENTS_INVALIDATIONS) && !viommu->xl_dids) {
		viommu->xl_dids = bitmap_zalloc(vtd_ndoms(&viommu->vtd),
						GFP_KERNEL_ACCOUNT);
		if (!viommu->xl_dids) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (!(cmd->mask & KVM_VIOMMU_EVENTS_INVALIDATIONS)) {
		/*
		 * Nothing to drop any more: what is owed is moot, and a
		 * command that waited only for it completes (the unlock's
		 * publish).  Events already pushed still want their
		 * acknowledgment, and so do the commands that pushed them.
		 */
		kvm_viommu_xl_forget(viommu);
		viommu->ev_owed = false;
	}
	viommu->ev_mask = cmd->mask;
out:
	kvm_viommu_unlock(viommu);
	return ret;
}
