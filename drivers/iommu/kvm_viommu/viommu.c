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
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

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
	seq_printf(m, "worker_pid: %d\n", task_pid_vnr(viommu->worker->task));
	seq_printf(m, "pending_qt: %d\n", atomic_read(&viommu->pending_qt));
	seq_printf(m, "iq_twork_busy: %d\n",
		   atomic_read(&viommu->iq_twork_busy));
	seq_printf(m, "iq_runs_vcpu: %lld\n",
		   atomic64_read(&viommu->nr_iq_runs_vcpu));
	seq_printf(m, "iq_runs_worker: %lld\n",
		   atomic64_read(&viommu->nr_iq_runs_worker));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_info);

/* The registers an operator looks at first, as the guest reads them. */
static const struct {
	const char *name;
	u32 offset;
	u32 len;
} kvm_viommu_debugfs_regs[] = {
	{ "VER", VTD_VER_REG, 4 },	{ "CAP", VTD_CAP_REG, 8 },
	{ "ECAP", VTD_ECAP_REG, 8 },	{ "GSTS", VTD_GSTS_REG, 4 },
	{ "RTADDR", VTD_RTADDR_REG, 8 }, { "FSTS", VTD_FSTS_REG, 4 },
	{ "FECTL", VTD_FECTL_REG, 4 },	{ "IQH", VTD_IQH_REG, 8 },
	{ "IQT", VTD_IQT_REG, 8 },	{ "IQA", VTD_IQA_REG, 8 },
	{ "ICS", VTD_ICS_REG, 4 },	{ "IECTL", VTD_IECTL_REG, 4 },
	{ "IRTA", VTD_IRTA_REG, 8 },
};

static int kvm_viommu_regs_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;
	unsigned int i;
	u64 val;

	mutex_lock(&viommu->lock);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_debugfs_regs); i++) {
		if (vtd_reg_read(&viommu->vtd, kvm_viommu_debugfs_regs[i].offset,
				 kvm_viommu_debugfs_regs[i].len, &val))
			continue;
		seq_printf(m, "%-7s 0x%016llx\n",
			   kvm_viommu_debugfs_regs[i].name, val);
	}
	mutex_unlock(&viommu->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_regs);

static int kvm_viommu_stats_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;
	const struct vtd_stats *st = &viommu->vtd.stats;

	mutex_lock(&viommu->lock);
	seq_printf(m, "doorbells: %lld\n",
		   (long long)atomic64_read(&viommu->nr_doorbells));
	seq_printf(m, "relay_reads: %llu\nrelay_writes: %llu\n",
		   viommu->relay_reads, viommu->relay_writes);
	seq_printf(m, "descs: %llu\ncc_invals: %llu\niotlb_invals: %llu\n",
		   st->descs, st->cc_invals, st->iotlb_invals);
	seq_printf(m, "waits: %llu\nforwarded: %llu\niq_errors: %llu\n",
		   st->waits, st->forwarded, st->iq_errors);
	seq_printf(m, "faults: %llu\nfaults_lost: %llu\nirqs: %llu\n",
		   st->faults, st->faults_lost, st->irqs);
	seq_printf(m, "devices: %llu\nmaps: %llu\nunmaps: %llu\n",
		   viommu->shadow_stats.devices, viommu->shadow_stats.maps,
		   viommu->shadow_stats.unmaps);
	seq_printf(m, "pinned_pages: %llu\nwalks: %llu\nwalk_faults: %llu\n",
		   viommu->shadow_stats.pinned_pages, viommu->shadow_stats.walks,
		   viommu->shadow_stats.walk_faults);
	seq_printf(m, "pin_failures: %llu\nleaves: %llu\n",
		   viommu->shadow_stats.pin_failures,
		   viommu->shadow_stats.leaves);
	mutex_unlock(&viommu->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_stats);

static void kvm_viommu_debugfs_init(struct kvm_viommu *viommu)
{
	char name[32];

	snprintf(name, sizeof(name), "%d-%u", viommu->owner_tgid, viommu->id);
	viommu->debugfs_dir = debugfs_create_dir(name, kvm_viommu_debugfs_root);
	debugfs_create_file("info", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_info_fops);
	debugfs_create_file("regs", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_regs_fops);
	debugfs_create_file("stats", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_stats_fops);
}

/*
 * Free a unit that is no longer on the list and has no file, or never had
 * one.  Order: stop the sources of work (doorbells), wait for the work,
 * then drop what the work used.
 */
static void kvm_viommu_free(struct kvm_viommu *viommu)
{
	/* Waits for debugfs readers of this unit to finish. */
	debugfs_remove_recursive(viommu->debugfs_dir);
	kvm_viommu_doorbells_release(viommu);
	kvm_viommu_worker_release(viommu);
	/* Unmaps and unpins; needs no mm (the process may be gone). */
	kvm_viommu_devices_release(viommu);
	kvm_viommu_irqfds_release(viommu);
	put_task_struct(viommu->owner);
	if (viommu->reg_page)
		__free_page(viommu->reg_page);
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

/* Unit fd commands; min_size is the end of each struct's first version. */
static const struct kvm_viommu_ioctl_op kvm_viommu_unit_ops[] = {
	[KVM_VIOMMU_CMD_GET_INFO - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_GET_INFO,
		.size = sizeof(struct kvm_viommu_info),
		.min_size = offsetofend(struct kvm_viommu_info, __reserved),
		.execute = kvm_viommu_get_info,
	},
	[KVM_VIOMMU_CMD_REG_READ - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_REG_READ,
		.size = sizeof(struct kvm_viommu_reg),
		.min_size = offsetofend(struct kvm_viommu_reg, __reserved),
		.execute = kvm_viommu_reg_read,
	},
	[KVM_VIOMMU_CMD_REG_WRITE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_REG_WRITE,
		.size = sizeof(struct kvm_viommu_reg),
		.min_size = offsetofend(struct kvm_viommu_reg, __reserved),
		.execute = kvm_viommu_reg_write,
	},
	[KVM_VIOMMU_CMD_SET_DOORBELL - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_SET_DOORBELL,
		.size = sizeof(struct kvm_viommu_doorbell),
		.min_size = offsetofend(struct kvm_viommu_doorbell, qt),
		.execute = kvm_viommu_set_doorbell,
	},
	[KVM_VIOMMU_CMD_SET_IRQFD - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_SET_IRQFD,
		.size = sizeof(struct kvm_viommu_irqfd),
		.min_size = offsetofend(struct kvm_viommu_irqfd, fd),
		.execute = kvm_viommu_set_irqfd,
	},
	[KVM_VIOMMU_CMD_GET_STATS - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_GET_STATS,
		.size = sizeof(struct kvm_viommu_stats),
		.min_size = offsetofend(struct kvm_viommu_stats, irqs),
		.execute = kvm_viommu_get_stats,
	},
	[KVM_VIOMMU_CMD_ATTACH_DEVICE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_ATTACH_DEVICE,
		.size = sizeof(struct kvm_viommu_attach),
		.min_size = offsetofend(struct kvm_viommu_attach, device_fd),
		.execute = kvm_viommu_attach_device,
	},
	[KVM_VIOMMU_CMD_DETACH_DEVICE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_DETACH_DEVICE,
		.size = sizeof(struct kvm_viommu_attach),
		.min_size = offsetofend(struct kvm_viommu_attach, device_fd),
		.execute = kvm_viommu_detach_device,
	},
};

static long kvm_viommu_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct kvm_viommu *viommu = file->private_data;

	/* As KVM's own ioctls: guest memory is the owner's mm. */
	if (viommu->kvm->mm != current->mm)
		return -EPERM;
	return kvm_viommu_ioctl_dispatch(kvm_viommu_unit_ops,
					 ARRAY_SIZE(kvm_viommu_unit_ops),
					 KVM_VIOMMU_CMD_GET_INFO, file, cmd,
					 arg);
}

/*
 * The register page, read-only: the VMM maps it into the guest as a
 * KVM_MEM_READONLY memslot, so guest reads cost no exit and guest writes
 * exit (to an ioeventfd or to the VMM).
 */
static int kvm_viommu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kvm_viommu *viommu = file->private_data;

	if (vma->vm_pgoff != KVM_VIOMMU_REG_PAGE_OFFSET >> PAGE_SHIFT ||
	    vma->vm_end - vma->vm_start != KVM_VIOMMU_REG_PAGE_SIZE)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	kvm_viommu_vma_deny_write(vma);
	return vm_insert_page(vma, vma->vm_start, viommu->reg_page);
}

static const struct file_operations kvm_viommu_fops = {
	.owner = THIS_MODULE,
	.release = kvm_viommu_release,
	.unlocked_ioctl = kvm_viommu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = kvm_viommu_mmap,
	.read = kvm_viommu_event_read,
	.poll = kvm_viommu_event_poll,
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
	mutex_init(&viommu->lock);
	INIT_LIST_HEAD(&viommu->devices);
	xa_init(&viommu->doorbells);
	atomic_set(&viommu->pending_qt, -1);
	init_waitqueue_head(&viommu->event_wq);
	viommu->reg_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!viommu->reg_page) {
		ret = -ENOMEM;
		goto err_free;
	}
	/*
	 * Pass-through contexts are not shadowed yet: a guest that used
	 * them would lose its device's DMA, so ECAP.PT is not offered.
	 */
	ret = -EINVAL;
	if (cmd->ecap & VTD_ECAP_PT)
		goto err_free_page;
	ret = vtd_unit_init(&viommu->vtd, &kvm_viommu_vtd_ops,
			    page_address(viommu->reg_page), cmd->cap,
			    cmd->ecap ?: vtd_ecap_default() & ~VTD_ECAP_PT);
	if (ret)
		goto err_free_page;
	ret = ida_alloc(&kvm_viommu_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free_page;
	viommu->id = ret;
	viommu->owner_tgid = task_tgid_vnr(current);
	viommu->owner = get_task_struct(current->group_leader);
	/* Our reference on vm_file keeps the VM alive until here. */
	kvm_get_kvm(kvm);
	viommu->kvm = kvm;

	ret = kvm_viommu_worker_init(viommu);
	if (ret)
		goto err_put_kvm;
	ret = kvm_viommu_list_add(viommu);
	if (ret)
		goto err_worker;

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
	viommu->file = file;
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
err_worker:
	kvm_viommu_worker_release(viommu);
err_put_kvm:
	kvm_put_kvm(kvm);
	put_task_struct(viommu->owner);
	ida_free(&kvm_viommu_ida, viommu->id);
err_free_page:
	__free_page(viommu->reg_page);
err_free:
	kfree(viommu);
err_put_vm_file:
	fput(vm_file);
	return ret;
}
