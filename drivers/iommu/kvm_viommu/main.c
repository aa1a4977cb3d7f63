// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_viommu: in-kernel emulation of a guest Intel VT-d unit for KVM guests
 * with assigned devices.
 *
 * Module entry: the /dev/kvm_viommu misc device, whose only job is to turn a
 * KVM VM fd into a unit fd (KVM_CREATE_VIOMMU).  Everything else happens on
 * the unit fd.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kvm_viommu.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/workqueue.h>

#include "kvm_viommu.h"
#include "shadow.h"

/* The one place the tracepoints are defined. */
#define CREATE_TRACE_POINTS
#include "trace.h"

struct dentry *kvm_viommu_debugfs_root;

/*
 * Frees units whose last reference went (viommu.c).  The module's exit
 * destroys it, which waits for every free: no unit outlives the module.
 */
struct workqueue_struct *kvm_viommu_wq;

static const struct kvm_viommu_ioctl_op kvm_viommu_dev_ops[] = {
	[KVM_VIOMMU_CMD_CREATE] = {
		.ioctl_num = KVM_CREATE_VIOMMU,
		.size = sizeof(struct kvm_viommu_create),
		.min_size = offsetofend(struct kvm_viommu_create, __reserved),
		.execute = kvm_viommu_create,
	},
};

static long kvm_viommu_dev_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return kvm_viommu_ioctl_dispatch(kvm_viommu_dev_ops,
					 ARRAY_SIZE(kvm_viommu_dev_ops),
					 KVM_VIOMMU_CMD_CREATE, file, cmd, arg);
}

static const struct file_operations kvm_viommu_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = kvm_viommu_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kvm_viommu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KVM_VIOMMU_DEVICE_NAME,
	.fops = &kvm_viommu_dev_fops,
};

static int __init kvm_viommu_init(void)
{
	int ret;

	ret = kvm_viommu_regpage_init();
	if (ret)
		return ret;
	kvm_viommu_wq = alloc_workqueue("kvm-viommu-free", 0, 0);
	if (!kvm_viommu_wq)
		return -ENOMEM;
	kvm_viommu_debugfs_root = debugfs_create_dir("kvm_viommu", NULL);
	ret = kvm_viommu_container_init();
	if (ret)
		goto err_debugfs;
	ret = kvm_viommu_attach_init();
	if (ret)
		goto err_container;
	ret = misc_register(&kvm_viommu_misc);
	if (ret)
		goto err_attach;
	return 0;

err_attach:
	kvm_viommu_attach_exit();
err_container:
	kvm_viommu_container_exit();
err_debugfs:
	debugfs_remove_recursive(kvm_viommu_debugfs_root);
	destroy_workqueue(kvm_viommu_wq);
	return ret;
}

/*
 * Every unit holds a reference on this module until its free, which its
 * last step drops, so by the time this runs no unit exists but possibly
 * the tail of that free, which destroy_workqueue() waits for.
 */
static void __exit kvm_viommu_exit(void)
{
	misc_deregister(&kvm_viommu_misc);
	kvm_viommu_attach_exit();
	/* Each container of the backend holds the module: none is left. */
	kvm_viommu_container_exit();
	debugfs_remove_recursive(kvm_viommu_debugfs_root);
	destroy_workqueue(kvm_viommu_wq);
	kvm_viommu_pollers_exit();
	kvm_viommu_iq_exit();
}

module_init(kvm_viommu_init);
module_exit(kvm_viommu_exit);

MODULE_DESCRIPTION("In-kernel guest VT-d (vIOMMU) emulation for KVM");
MODULE_LICENSE("GPL");
#ifdef KVM_VIOMMU_VERSION
MODULE_VERSION(KVM_VIOMMU_VERSION);
#endif
