// SPDX-License-Identifier: GPL-2.0-only
/*
 * Size-checked ioctl dispatch, shared by /dev/kvm_viommu and the unit fds.
 *
 * Every command's argument starts with a __u32 size.  The dispatcher reads
 * that first, rejects sizes below the command's first version and above a
 * page (so a VMM cannot make the kernel scan megabytes for nonzero bytes),
 * and copies with copy_struct_from_user(), which zero-fills what an older
 * VMM did not send and refuses (E2BIG) nonzero bytes that a newer VMM sent
 * and this kernel does not know.
 */
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kvm_viommu.h>
#include <linux/uaccess.h>

#include "kvm_viommu.h"

/* Large enough for the argument of every command. */
union kvm_viommu_ioctl_buffer {
	struct kvm_viommu_create create;
	struct kvm_viommu_info info;
	struct kvm_viommu_reg reg;
	struct kvm_viommu_doorbell doorbell;
	struct kvm_viommu_irqfd irqfd;
	struct kvm_viommu_stats stats;
	struct kvm_viommu_attach attach;
	struct kvm_viommu_ack_events ack;
	struct kvm_viommu_sidecore sidecore;
	struct kvm_viommu_irq_msgs irq_msgs;
	struct kvm_viommu_translate translate;
	struct kvm_viommu_events events;
};

/*
 * Copy a command's output fields back: as much of the kernel's struct as
 * the user's buffer holds.  An older VMM's shorter struct gets what it
 * knows; a newer VMM's tail stays as it sent it (zero).
 */
int kvm_viommu_ucmd_respond(struct kvm_viommu_ucmd *ucmd, size_t size)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, size)))
		return -EFAULT;
	return 0;
}

long kvm_viommu_ioctl_dispatch(const struct kvm_viommu_ioctl_op *ops,
			       unsigned int nr_ops, unsigned int cmd_base,
			       struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	const struct kvm_viommu_ioctl_op *op;
	union kvm_viommu_ioctl_buffer buf;
	struct kvm_viommu_ucmd ucmd = {
		.file = file,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != KVM_VIOMMU_TYPE || nr < cmd_base ||
	    nr - cmd_base >= nr_ops)
		return -ENOTTY;
	op = &ops[nr - cmd_base];
	if (op->ioctl_num != cmd)
		return -ENOTTY;
	if (WARN_ON_ONCE(op->size > sizeof(buf)))
		return -EINVAL;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	if (ucmd.user_size > KVM_VIOMMU_MAX_ARG_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}
