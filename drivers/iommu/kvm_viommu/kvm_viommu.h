/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvm_viommu internals shared between the files of the module.
 */
#ifndef _KVM_VIOMMU_H_
#define _KVM_VIOMMU_H_

#include <linux/list.h>
#include <linux/types.h>

struct dentry;
struct file;
struct kvm;

/**
 * struct kvm_viommu - one guest VT-d unit, bound to one VM
 * @kvm: the VM.  A reference is taken in kvm_viommu_create() and dropped in
 *	the fd's release, so the VM outlives the unit whatever the VMM closes
 *	first.
 * @node: entry in the global list of units (one unit per VM); protected by
 *	kvm_viommu_list_lock.
 * @id: small unique number, names the debugfs directory.
 * @owner_tgid: the process that created the unit, for operators.
 * @debugfs_dir: this unit's directory under <debugfs>/kvm_viommu.
 *
 * The unit lives exactly as long as its file: it is allocated before the
 * file exists and freed by the file's ->release(), which the VFS calls once
 * every reference to the file (fds, in-flight ioctls) is gone.  Each file
 * also pins the module, so the module cannot go while a unit exists.
 */
struct kvm_viommu {
	struct kvm *kvm;
	struct list_head node;
	u32 id;
	pid_t owner_tgid;
	struct dentry *debugfs_dir;
};

/* An ioctl call in flight: the user's buffer and the kernel's copy of it. */
struct kvm_viommu_ucmd {
	struct file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/*
 * struct kvm_viommu_ioctl_op - one entry of an ioctl table
 * @ioctl_num: the full ioctl number
 * @size: sizeof() the kernel's struct
 * @min_size: offsetofend() of the last field of the struct's first version
 * @execute: handler; ucmd->cmd holds @size bytes copied from the user
 */
struct kvm_viommu_ioctl_op {
	unsigned int ioctl_num;
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct kvm_viommu_ucmd *ucmd);
};

long kvm_viommu_ioctl_dispatch(const struct kvm_viommu_ioctl_op *ops,
			       unsigned int nr_ops, unsigned int cmd_base,
			       struct file *file, unsigned int cmd,
			       unsigned long arg);

int kvm_viommu_create(struct kvm_viommu_ucmd *ucmd);

extern struct dentry *kvm_viommu_debugfs_root;

#endif /* _KVM_VIOMMU_H_ */
