// SPDX-License-Identifier: GPL-2.0-only
/*
 * Translation for the VMM's own devices (KVM_VIOMMU_TRANSLATE).
 *
 * With the unit in the kernel, the guest's tables are no longer the VMM's
 * to walk: a device the VMM emulates (a NIC, a virtio device, vhost's
 * IOTLB misses) asks the unit what its DMA reaches.  The unit answers
 * from the guest's tables as they are in guest memory now, as hardware
 * with nothing cached would (vtd_translate()), and caches nothing of it:
 * a VMM that keeps answers keeps them only until the guest invalidates.
 */
#include "kvm_viommu.h"
#include "vtd_walk.h"

#define KVM_VIOMMU_TRANSLATE_FLAGS \
	(KVM_VIOMMU_TRANSLATE_WRITE | KVM_VIOMMU_TRANSLATE_RECORD_FAULT)

/* KVM_VIOMMU_TRANSLATE */
int kvm_viommu_translate(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_translate *cmd = ucmd->cmd;
	bool write = cmd->flags & KVM_VIOMMU_TRANSLATE_WRITE;
	struct vtd_translation t;
	int ret;

	if (cmd->flags & ~KVM_VIOMMU_TRANSLATE_FLAGS || cmd->__reserved)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	/* A few entries at most: no budget, no yield (vtd_translate()). */
	vtd_translate(&viommu->vtd, cmd->sid, cmd->iova, write, &t);
	viommu->cnt.translations++;
	if (t.fault) {
		viommu->cnt.translate_faults++;
		/* Published before its event goes (see guest.c's send_irq). */
		if (cmd->flags & KVM_VIOMMU_TRANSLATE_RECORD_FAULT && !t.fpd)
			vtd_record_fault(&viommu->vtd, cmd->sid, cmd->iova,
					 t.fault, write);
	}
	kvm_viommu_unlock(viommu);
	cmd->fault = t.fault;
	cmd->perm = (t.read ? KVM_VIOMMU_PERM_READ : 0) |
		    (t.write ? KVM_VIOMMU_PERM_WRITE : 0);
	cmd->gpa = t.gpa;
	cmd->page_size = t.size;
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}
