// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unit object: creation from a VM fd, the unit fd, and teardown.
 *
 * References:
 *  - the unit fd's struct file owns the struct kvm_viommu (->private_data);
 *  - the unit holds one reference on the struct kvm (kvm_get_kvm()), so the
 *    VMM may close the VM fd first: the VM is destroyed when the unit fd is
 *    closed too, or when the process exits and the VFS closes both;
 *  - the unit fd holds a reference on this module (fops.owner).
 */
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "kvm_viommu.h"

/*
 * kvm_viommu_list_lock protects kvm_viommu_list, which enforces one unit per
 * VM.  Taken in process context only (create and release); never nested
 * inside another lock of this module.
 */
static LIST_HEAD(kvm_viommu_list);
static DEFINE_MUTEX(kvm_viommu_list_lock);

static DEFINE_IDA(kvm_viommu_ida);

static int kvm_viommu_info_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;

	seq_printf(m, "vm: %s\n", viommu->kvm->stats_id);
	seq_printf(m, "owner_tgid: %d\n", viommu->owner_tgid);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_info);

static void kvm_viommu_debugfs_init(struct kvm_viommu *viommu)
{
	char name[32];

	snprintf(name, sizeof(name), "%d-%u", viommu->owner_tgid, viommu->id);
	viommu->debugfs_dir = debugfs_create_dir(name, kvm_viommu_debugfs_root);
	debugfs_create_file("info", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_info_fops);
}

/* Free a unit that is no longer on the list and has no file. */
static void kvm_viommu_free(struct kvm_viommu *viommu)
{
	/* Waits for debugfs readers of this unit to finish. */
	debugfs_remove_recursive(viommu->debugfs_dir);
	kvm_put_kvm(viommu->kvm);
	ida_free(&kvm_viommu_ida, viommu->id);
	kfree(viommu);
}

static void kvm_viommu_unlist(struct kvm_viommu *viommu)
{
	mutex_lock(&kvm_viommu_list_lock);
	list_del(&viommu->node);
	mutex_unlock(&kvm_viommu_list_lock);
}

static int kvm_viommu_release(struct inode *inode, struct file *file)
{
	struct kvm_viommu *viommu = file->private_data;

	kvm_viommu_unlist(viommu);
	kvm_viommu_free(viommu);
	return 0;
}

static const struct file_operations kvm_viommu_fops = {
	.owner = THIS_MODULE,
	.release = kvm_viommu_release,
	.llseek = noop_llseek,
};

/* Insert @viommu unless its VM has a unit already. */
static int kvm_viommu_list_add(struct kvm_viommu *viommu)
{
	struct kvm_viommu *other;
	int ret = 0;

	mutex_lock(&kvm_viommu_list_lock);
	list_for_each_entry(other, &kvm_viommu_list, node) {
		if (other->kvm == viommu->kvm) {
			ret = -EEXIST;
			goto out;
		}
	}
	list_add_tail(&viommu->node, &kvm_viommu_list);
out:
	mutex_unlock(&kvm_viommu_list_lock);
	return ret;
}

/* KVM_CREATE_VIOMMU on /dev/kvm_viommu. */
int kvm_viommu_create(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu_create *cmd = ucmd->cmd;
	struct kvm_viommu *viommu;
	struct file *vm_file, *file;
	struct kvm *kvm;
	int fd, ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	vm_file = fget(cmd->vm_fd);
	if (!vm_file)
		return -EBADF;
	if (!file_is_kvm(vm_file)) {
		ret = -EINVAL;
		goto err_put_vm_file;
	}
	kvm = vm_file->private_data;
	/*
	 * Guest memory is read, pinned and charged through the VM's mm, so
	 * only the process that owns the VM may give it a unit.
	 */
	if (kvm->mm != current->mm) {
		ret = -EPERM;
		goto err_put_vm_file;
	}

	viommu = kzalloc(sizeof(*viommu), GFP_KERNEL_ACCOUNT);
	if (!viommu) {
		ret = -ENOMEM;
		goto err_put_vm_file;
	}
	ret = ida_alloc(&kvm_viommu_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	viommu->id = ret;
	viommu->owner_tgid = task_tgid_vnr(current);
	/* Our reference on vm_file keeps the VM alive until here. */
	kvm_get_kvm(kvm);
	viommu->kvm = kvm;

	ret = kvm_viommu_list_add(viommu);
	if (ret)
		goto err_put_kvm;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_unlist;
	}
	kvm_viommu_debugfs_init(viommu);
	file = anon_inode_getfile("kvm-viommu", &kvm_viommu_fops, viommu,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_fd;
	}
	/* From here on the file owns the unit: ->release() frees it. */
	fd_install(fd, file);
	fput(vm_file);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_unlist:
	kvm_viommu_unlist(viommu);
	kvm_viommu_free(viommu);
	goto err_put_vm_file;
err_put_kvm:
	kvm_put_kvm(kvm);
	ida_free(&kvm_viommu_ida, viommu->id);
err_free:
	kfree(viommu);
err_put_vm_file:
	fput(vm_file);
	return ret;
}
