// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unit object: creation from a VM fd, the unit fd, and teardown.
 *
 * References:
 *  - the unit's struct kref: one held by its file (from creation to
 *    ->release()), one by each vCPU task work queued on it (and one,
 *    briefly, by the PCI bus notifier).  ->release() frees the unit inline
 *    when it drops the last reference, and so does a failed creation (the
 *    only one then); any other last put frees it from kvm_viommu_wq,
 *    never inline: it may come from a vCPU thread inside KVM_RUN with the
 *    vCPU's mutex held;
 *  - the unit holds one reference on the struct kvm (kvm_get_kvm()) until
 *    it is freed, so the VMM may close the VM fd first;
 *  - the unit holds a reference on this module until it is freed, and the
 *    module's exit drains kvm_viommu_wq: no unit outlives the module's text;
 *  - the unit fd also holds a reference on this module (fops.owner).
 *
 * The unit fd's ->release() (last fd closed, or the process gone) stops
 * every source of work and lets go of every other subsystem's object:
 * doorbells first (no wake-up after), then the unit is marked dead under
 * its lock (task works and worker runs that start later find nothing to
 * do), the worker's queued run is waited for, then devices, interrupts and
 * debugfs go.  What is left for the free is memory and references.
 */
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
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

/*
 * Take the unit's lock for a call of the VMM's (an ioctl, read(), a
 * debugfs read): a fatal signal interrupts the wait, so a VMM killed while
 * its unit works through a long queue run dies at once.  -EINTR then.
 * The pin cache is then held to the VM's memslots as they are now, so
 * that a VMM that changed them finds the cache emptied by its next call.
 */
int kvm_viommu_lock(struct kvm_viommu *viommu)
{
	int ret = mutex_lock_killable(&viommu->lock);

	if (!ret)
		kvm_viommu_pin_cache_check(viommu);
	return ret;
}

void kvm_viommu_get(struct kvm_viommu *viommu)
{
	kref_get(&viommu->ref);
}

/* The last reference went: what is left is memory and references. */
static void kvm_viommu_destroy(struct kvm_viommu *viommu)
{
	kvm_viommu_worker_destroy(viommu);
	put_task_struct(viommu->owner);
	put_page(viommu->reg_page);
	kvm_viommu_regs_free(viommu);
	kvm_viommu_coherence_free(viommu);
	/* Left only by leaves a host IOMMU may still reach: pinned for good. */
	xa_destroy(&viommu->pins);
	/* Emptied by the last detach. */
	WARN_ON_ONCE(!xa_empty(&viommu->pin_cache));
	xa_destroy(&viommu->pin_cache);
	kvm_put_kvm(viommu->kvm);
	ida_free(&kvm_viommu_ida, viommu->id);
	kfree(viommu);
	/*
	 * Inline, a file still pins the module (the unit's in ->release(),
	 * /dev/kvm_viommu's in a failed create); from kvm_viommu_wq, the
	 * module's exit waits for this work.
	 */
	module_put(THIS_MODULE);
}

static void kvm_viommu_free_work(struct work_struct *work)
{
	kvm_viommu_destroy(container_of(work, struct kvm_viommu, free_work));
}

static void kvm_viommu_release_ref(struct kref *ref)
{
	struct kvm_viommu *viommu = container_of(ref, struct kvm_viommu, ref);

	queue_work(kvm_viommu_wq, &viommu->free_work);
}

/*
 * A put in a context that may free the unit inline (the unit's own
 * ->release(), a failed creation): then the unit, and its reference on
 * the VM, are gone when the syscall returns.  The caller pins the module
 * (its file's fops.owner).
 */
static void kvm_viommu_put_inline(struct kvm_viommu *viommu)
{
	if (refcount_dec_and_test(&viommu->ref.refcount))
		kvm_viommu_destroy(viommu);
}

/*
 * Any context but hard interrupts; never frees inline (the putter may be a
 * vCPU thread in KVM_RUN, or the PCI bus notifier).
 */
void kvm_viommu_put(struct kvm_viommu *viommu)
{
	kref_put(&viommu->ref, kvm_viommu_release_ref);
}

/*
 * The host IOMMU domain changed under the unit (kvm_viommu_fail() callers
 * say how): from now on the unit touches no domain, keeps whatever pages
 * a device may still reach pinned, and fails the VMM's calls with EIO.
 * Called with the unit's lock held.
 */
void kvm_viommu_fail(struct kvm_viommu *viommu, const char *why)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->cnt.failed)
		return;
	viommu->cnt.failed = 1;
	pr_err("kvm_viommu: unit %u of process %d failed: %s; its pages stay pinned until the unit is closed\n",
	       viommu->id, viommu->owner_tgid, why);
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
	/* Waits for debugfs readers of this unit to finish. */
	debugfs_remove_recursive(viommu->debugfs_dir);
	kvm_viommu_doorbells_release(viommu);
	kvm_viommu_sidecore_release(viommu);
	mutex_lock(&viommu->lock);
	viommu->dead = true;
	kvm_viommu_unlock(viommu);
	kvm_viommu_worker_stop(viommu);
	/* Unmaps and unpins; needs no mm (the process may be gone). */
	kvm_viommu_devices_release(viommu);
	kvm_viommu_irqfds_release(viommu);
	/*
	 * The file's reference.  Usually the last: then the unit is gone,
	 * and its VM with it if the VM fd is closed too, when close()
	 * returns, as a VMM expects; otherwise the last task work's put
	 * frees it from kvm_viommu_wq.
	 */
	kvm_viommu_put_inline(viommu);
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
		.min_size = offsetofend(struct kvm_viommu_attach, __reserved),
		.execute = kvm_viommu_attach_device,
	},
	[KVM_VIOMMU_CMD_DETACH_DEVICE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_DETACH_DEVICE,
		.size = sizeof(struct kvm_viommu_attach),
		.min_size = offsetofend(struct kvm_viommu_attach, __reserved),
		.execute = kvm_viommu_detach_device,
	},
	[KVM_VIOMMU_CMD_ACK_EVENTS - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_ACK_EVENTS,
		.size = sizeof(struct kvm_viommu_ack_events),
		.min_size = offsetofend(struct kvm_viommu_ack_events, seq),
		.execute = kvm_viommu_ack_events,
	},
	[KVM_VIOMMU_CMD_SET_SIDECORE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_SET_SIDECORE,
		.size = sizeof(struct kvm_viommu_sidecore),
		.min_size = offsetofend(struct kvm_viommu_sidecore, __reserved),
		.execute = kvm_viommu_set_sidecore,
	},
	[KVM_VIOMMU_CMD_GET_IRQ_MSGS - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_GET_IRQ_MSGS,
		.size = sizeof(struct kvm_viommu_irq_msgs),
		.min_size = sizeof(struct kvm_viommu_irq_msgs),
		.execute = kvm_viommu_get_irq_msgs,
	},
	[KVM_VIOMMU_CMD_TRANSLATE - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_TRANSLATE,
		.size = sizeof(struct kvm_viommu_translate),
		.min_size = sizeof(struct kvm_viommu_translate),
		.execute = kvm_viommu_translate,
	},
	[KVM_VIOMMU_CMD_SET_EVENTS - KVM_VIOMMU_CMD_GET_INFO] = {
		.ioctl_num = KVM_VIOMMU_SET_EVENTS,
		.size = sizeof(struct kvm_viommu_events),
		.min_size = sizeof(struct kvm_viommu_events),
		.execute = kvm_viommu_set_events,
	},
};

/*
 * As KVM's own calls: guest memory is the owner's mm, so only the process
 * that owns the VM may use its unit, whatever fd it inherited or received.
 */
static bool kvm_viommu_is_owner(struct kvm_viommu *viommu)
{
	return viommu->kvm->mm == current->mm;
}

static long kvm_viommu_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct kvm_viommu *viommu = file->private_data;

	if (!kvm_viommu_is_owner(viommu))
		return -EPERM;
	/* A failed unit still reports why: its statistics say so. */
	if (READ_ONCE(viommu->cnt.failed) && cmd != KVM_VIOMMU_GET_STATS)
		return -EIO;
	return kvm_viommu_ioctl_dispatch(kvm_viommu_unit_ops,
					 ARRAY_SIZE(kvm_viommu_unit_ops),
					 KVM_VIOMMU_CMD_GET_INFO, file, cmd,
					 arg);
}

static ssize_t kvm_viommu_read(struct file *file, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct kvm_viommu *viommu = file->private_data;

	if (!kvm_viommu_is_owner(viommu))
		return -EPERM;
	if (READ_ONCE(viommu->cnt.failed))
		return -EIO;
	return kvm_viommu_event_read(file, buf, count, ppos);
}

static __poll_t kvm_viommu_poll(struct file *file, poll_table *wait)
{
	struct kvm_viommu *viommu = file->private_data;

	if (!kvm_viommu_is_owner(viommu) || READ_ONCE(viommu->cnt.failed))
		return EPOLLERR;
	return kvm_viommu_event_poll(file, wait);
}

/*
 * The register page.  Usually read-only: the VMM maps it into the guest
 * as a KVM_MEM_READONLY memslot, so guest reads cost no exit and guest
 * writes exit (to an ioeventfd or to the VMM).  With the sidecore the
 * guest writes it too: a shared mapping may be writable (a private one
 * never: its writes would go to a copy).  Not inherited by a child (the
 * child cannot use the unit) and never grown by mremap().
 */
static int kvm_viommu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kvm_viommu *viommu = file->private_data;

	if (!kvm_viommu_is_owner(viommu))
		return -EPERM;
	if (READ_ONCE(viommu->cnt.failed))
		return -EIO;
	if (vma->vm_pgoff != KVM_VIOMMU_REG_PAGE_OFFSET >> PAGE_SHIFT ||
	    vma->vm_end - vma->vm_start != KVM_VIOMMU_REG_PAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED)) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		kvm_viommu_vma_set_flags(vma, 0, VM_MAYWRITE);
	}
	kvm_viommu_vma_set_flags(vma, VM_DONTCOPY | VM_DONTEXPAND, 0);
	return vm_insert_page(vma, vma->vm_start, viommu->reg_page);
}

static const struct file_operations kvm_viommu_fops = {
	.owner = THIS_MODULE,
	.release = kvm_viommu_release,
	.unlocked_ioctl = kvm_viommu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = kvm_viommu_mmap,
	.read = kvm_viommu_read,
	.poll = kvm_viommu_poll,
	.llseek = noop_llseek,
};

/* Is @file @viommu's unit fd? */
bool kvm_viommu_file_is_unit(struct file *file, struct kvm_viommu *viommu)
{
	return file->f_op == &kvm_viommu_fops && file->private_data == viommu;
}

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

static struct kvm_viommu *kvm_viommu_alloc(struct kvm *kvm,
					   const struct kvm_viommu_create *cmd)
{
	struct kvm_viommu *viommu;
	int ret;

	viommu = kzalloc(sizeof(*viommu), GFP_KERNEL_ACCOUNT);
	if (!viommu)
		return ERR_PTR(-ENOMEM);
	kref_init(&viommu->ref);
	INIT_WORK(&viommu->free_work, kvm_viommu_free_work);
	mutex_init(&viommu->lock);
	mutex_init(&viommu->read_lock);
	INIT_LIST_HEAD(&viommu->devices);
	xa_init(&viommu->pins);
	xa_init(&viommu->pin_cache);
	INIT_LIST_HEAD(&viommu->pin_lru);
	kvm_viommu_sidecore_init(viommu);
	xa_init(&viommu->doorbells);
	atomic_set(&viommu->pending_qt, -1);
	init_waitqueue_head(&viommu->event_wq);
	viommu->flags = cmd->flags;
	viommu->reg_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!viommu->reg_page) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = kvm_viommu_regs_init(viommu);
	if (ret)
		goto err_free_page;
	/*
	 * Pass-through contexts are not shadowed yet: a guest that used
	 * them would lose its device's DMA, so ECAP.PT is not offered.
	 */
	ret = -EINVAL;
	if (cmd->ecap & VTD_ECAP_PT)
		goto err_free_page;
	ret = vtd_unit_init(&viommu->vtd, &kvm_viommu_vtd_ops, viommu->regs,
			    cmd->cap,
			    cmd->ecap ?: vtd_ecap_default() & ~VTD_ECAP_PT);
	if (ret)
		goto err_free_page;
	/* Nobody else knows the unit yet; the lock is for the record. */
	mutex_lock(&viommu->lock);
	kvm_viommu_unlock(viommu);
	ret = ida_alloc(&kvm_viommu_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_free_page;
	viommu->id = ret;
	viommu->owner_tgid = task_tgid_nr(current);
	viommu->owner = get_task_struct(current->group_leader);
	/* The caller's reference on the VM file keeps the VM alive here. */
	kvm_get_kvm(kvm);
	viommu->kvm = kvm;
	ret = kvm_viommu_worker_init(viommu);
	if (ret)
		goto err_put_kvm;
	/* Dropped by kvm_viommu_destroy(). */
	__module_get(THIS_MODULE);
	return viommu;

err_put_kvm:
	kvm_put_kvm(kvm);
	put_task_struct(viommu->owner);
	ida_free(&kvm_viommu_ida, viommu->id);
err_free_page:
	kvm_viommu_regs_free(viommu);
	__free_page(viommu->reg_page);
err_free:
	kfree(viommu);
	return ERR_PTR(ret);
}

/* KVM_CREATE_VIOMMU on /dev/kvm_viommu. */
int kvm_viommu_create(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu_create *cmd = ucmd->cmd;
	struct kvm_viommu *viommu;
	struct file *vm_file, *file;
	struct kvm *kvm;
	int fd, ret;

	if (cmd->flags & ~KVM_VIOMMU_CREATE_TE_OFF_BLOCKS || cmd->__reserved)
		return -EINVAL;

	vm_file = fget(cmd->vm_fd);
	if (!vm_file)
		return -EBADF;
	if (!file_is_kvm(vm_file)) {
		ret = -EINVAL;
		goto out_put_vm_file;
	}
	kvm = vm_file->private_data;
	/*
	 * Guest memory is read, pinned and charged through the VM's mm, so
	 * only the process that owns the VM may give it a unit.
	 */
	if (kvm->mm != current->mm) {
		ret = -EPERM;
		goto out_put_vm_file;
	}

	viommu = kvm_viommu_alloc(kvm, cmd);
	if (IS_ERR(viommu)) {
		ret = PTR_ERR(viommu);
		goto out_put_vm_file;
	}
	ret = kvm_viommu_list_add(viommu);
	if (ret)
		goto err_put;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_unlist;
	}
	file = anon_inode_getfile("kvm-viommu", &kvm_viommu_fops, viommu,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_fd;
	}
	/* From here on the file owns the first reference. */
	kvm_viommu_debugfs_init(viommu);
	fd_install(fd, file);
	ret = fd;
	goto out_put_vm_file;

err_put_fd:
	put_unused_fd(fd);
err_unlist:
	kvm_viommu_unlist(viommu);
err_put:
	/*
	 * Inline: a VMM whose create failed and that closes its VM fd next
	 * finds the VM gone, as it would with no unit ever made.
	 */
	kvm_viommu_put_inline(viommu);
out_put_vm_file:
	fput(vm_file);
	return ret;
}
