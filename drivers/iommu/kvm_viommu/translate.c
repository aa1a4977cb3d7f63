// SPDX-License-Identifier: GPL-2.0-only
/*
 * Translation for the VMM's own devices (KVM_VIOMMU_TRANSLATE).
 *
 * With the unit in the kernel, the guest's tables are no longer the VMM's
 * to walk: a device the VMM emulates (a NIC, a virtio device, vhost's
 * IOTLB misses) asks the unit what its DMA reaches.  The unit answers
 * from the guest's tables as they are in guest memory now, as hardware
 * with nothing cached would (vtd_translate()), and keeps nothing of the
 * answer.
 *
 * Under the unit's lock, like every call of the VMM's: a call waits for a
 * queue run in progress (at most a run's budget of work).
 */
#include <linux/string.h>

#include "kvm_viommu.h"
#include "vtd_walk.h"

#define KVM_VIOMMU_TRANSLATE_ACCESS \
	(KVM_VIOMMU_TRANSLATE_READ | KVM_VIOMMU_TRANSLATE_WRITE)
#define KVM_VIOMMU_TRANSLATE_FLAGS \
	(KVM_VIOMMU_TRANSLATE_ACCESS | KVM_VIOMMU_TRANSLATE_RECORD_FAULT)

/* Is @iova in the interrupt address range, which is never remapped? */
static bool kvm_viommu_is_interrupt_addr(u64 iova)
{
	return iova >= VTD_INTR_RANGE_START && iova <= VTD_INTR_RANGE_END;
}

/*
 * The answer, under the lock: a fault recorded if the VMM asks and FPD
 * lets it (KVM_VIOMMU_TRANSLATE_RECORDED if a record was written, not
 * lost to an overflow).
 */
static void kvm_viommu_translate_locked(struct kvm_viommu *viommu,
					struct kvm_viommu_translate *cmd)
{
	struct vtd_translation t;
	u32 access = 0;
	u64 faults;

	if (cmd->flags & KVM_VIOMMU_TRANSLATE_READ)
		access |= VTD_ACCESS_READ;
	if (cmd->flags & KVM_VIOMMU_TRANSLATE_WRITE)
		access |= VTD_ACCESS_WRITE;
	viommu->cnt.translations++;
	/* Not remapped: a write there is an interrupt, the VMM's to send. */
	if (kvm_viommu_is_interrupt_addr(cmd->iova)) {
		cmd->result = KVM_VIOMMU_TRANSLATE_INTERRUPT;
		return;
	}
	/* A few entries at most: no budget, no yield (vtd_translate()). */
	vtd_translate(&viommu->vtd, cmd->sid, cmd->iova, access, &t);
	if (t.untranslated && !(vtd_get32(&viommu->vtd, VTD_GSTS_REG) &
				VTD_GSTS_TES) &&
	    viommu->flags & KVM_VIOMMU_CREATE_TE_OFF_BLOCKS) {
		cmd->result = KVM_VIOMMU_TRANSLATE_BLOCKED;
		return;
	}
	if (t.fault) {
		viommu->cnt.translate_faults++;
		cmd->fault = t.fault;
		if (!(cmd->flags & KVM_VIOMMU_TRANSLATE_RECORD_FAULT) || t.fpd)
			return;
		faults = viommu->vtd.stats.faults;
		/* Published before its event goes (guest.c's send_irq). */
		vtd_record_fault(&viommu->vtd, cmd->sid, cmd->iova, t.fault,
				 access & VTD_ACCESS_WRITE);
		if (viommu->vtd.stats.faults != faults)
			cmd->result = KVM_VIOMMU_TRANSLATE_RECORDED;
		return;
	}
	kvm_viommu_coherence_answered(viommu, &t);
	cmd->perm = (t.read ? KVM_VIOMMU_TRANSLATE_PERM_READ : 0) |
		    (t.write ? KVM_VIOMMU_TRANSLATE_PERM_WRITE : 0);
	cmd->result = t.untranslated ? KVM_VIOMMU_TRANSLATE_UNTRANSLATED : 0;
	/* A pass-through context's too: its invalidations name it. */
	cmd->did = t.did;
	cmd->gpa = t.gpa;
	cmd->page_size = t.size;
}

/* KVM_VIOMMU_TRANSLATE */
int kvm_viommu_translate(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_translate *cmd = ucmd->cmd;
	int ret;

	if ((cmd->flags & ~KVM_VIOMMU_TRANSLATE_FLAGS) ||
	    ((cmd->flags & KVM_VIOMMU_TRANSLATE_RECORD_FAULT) &&
	     !(cmd->flags & KVM_VIOMMU_TRANSLATE_ACCESS)) ||
	    memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EINVAL;
	cmd->fault = 0;
	cmd->perm = 0;
	cmd->result = 0;
	cmd->gpa = 0;
	cmd->page_size = 0;
	cmd->did = 0;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	kvm_viommu_translate_locked(viommu, cmd);
	kvm_viommu_unlock(viommu);
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}
