// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slow path: guest register accesses that KVM could not handle in the
 * kernel reach the VMM as MMIO exits, and the VMM relays each to the unit
 * with one ioctl.  Also the unit's information.
 */
#include <linux/kvm_host.h>

#include "kvm_viommu.h"

static bool kvm_viommu_is_irq_msg_reg(u32 offset)
{
	return (offset >= VTD_FEDATA_REG && offset < VTD_FEUADDR_REG + 4) ||
	       (offset >= VTD_IEDATA_REG && offset < VTD_IEUADDR_REG + 4);
}

/* KVM_VIOMMU_GET_INFO */
int kvm_viommu_get_info(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_info *cmd = ucmd->cmd;

	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	cmd->cap = vtd_get64(&viommu->vtd, VTD_CAP_REG);
	cmd->ecap = vtd_get64(&viommu->vtd, VTD_ECAP_REG);
	cmd->doorbells = vtd_iq_entries(&viommu->vtd);
	kvm_viommu_unlock(viommu);
	cmd->reg_page_size = KVM_VIOMMU_REG_PAGE_SIZE;
	cmd->iqt_offset = KVM_VIOMMU_IQT_OFFSET;
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}

static int kvm_viommu_reg_check(struct kvm_viommu_reg *cmd)
{
	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	if (cmd->len != 4 && cmd->len != 8)
		return -EINVAL;
	if (cmd->offset % cmd->len ||
	    cmd->offset > KVM_VIOMMU_REG_PAGE_SIZE - cmd->len)
		return -EINVAL;
	return 0;
}

/* KVM_VIOMMU_REG_READ */
int kvm_viommu_reg_read(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_reg *cmd = ucmd->cmd;
	int ret;

	ret = kvm_viommu_reg_check(cmd);
	if (ret)
		return ret;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	viommu->cnt.relay_reads++;
	/* What the guest reads from the page: see regpage.c. */
	cmd->value = kvm_viommu_reg_view(viommu, cmd->offset);
	if (cmd->len == 8)
		cmd->value |= (u64)kvm_viommu_reg_view(viommu,
						       cmd->offset + 4) << 32;
	kvm_viommu_unlock(viommu);
	cmd->events = 0;
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}

/* KVM_VIOMMU_REG_WRITE */
int kvm_viommu_reg_write(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_reg *cmd = ucmd->cmd;
	struct vtd_unit *vtd = &viommu->vtd;
	u32 entries;
	int ret;

	ret = kvm_viommu_reg_check(cmd);
	if (ret)
		return ret;
	cmd->events = 0;

	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	viommu->cnt.relay_writes++;
	/*
	 * The relay runs in the VMM's thread, which a fatal signal stops:
	 * it gets the worker's budget, and what is left over goes to the
	 * worker.
	 */
	entries = vtd_iq_entries(vtd);
	ret = kvm_viommu_reg_write_guest(viommu, cmd->offset, cmd->len,
					 cmd->value);
	if (vtd_iq_entries(vtd) != entries)
		cmd->events |= KVM_VIOMMU_REG_EVENT_DOORBELLS;
	kvm_viommu_unlock(viommu);
	if (ret)
		return ret;

	if (kvm_viommu_is_irq_msg_reg(cmd->offset) ||
	    (cmd->len == 8 && kvm_viommu_is_irq_msg_reg(cmd->offset + 4)))
		cmd->events |= KVM_VIOMMU_REG_EVENT_IRQ_MSG;
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}
