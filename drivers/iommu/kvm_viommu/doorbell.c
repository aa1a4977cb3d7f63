// SPDX-License-Identifier: GPL-2.0-only
/*
 * IQT doorbells.
 *
 * An ioeventfd carries no data, so the VMM wires one datamatch ioeventfd
 * per IQT value (KVM_VIOMMU_SET_DOORBELL binds each to its value).  KVM
 * signals it from the vCPU's MMIO exit; the eventfd's wake-up then runs
 * kvm_viommu_doorbell_wakeup() with the eventfd's wait-queue spinlock held
 * and interrupts off.  There it only records the tail and rings the queue
 * (iq.c), which applies it as an IQT write and processes the queue in
 * process context under the unit's mutex.
 *
 * Ordering: a guest serializes its IQT writes, and each write's wake-up
 * completes before the vCPU resumes, so the newest recorded tail is the
 * guest's newest IQT.  Every path that touches registers under the mutex
 * first applies a recorded tail, so a relayed write never overtakes an
 * earlier doorbell.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "kvm_viommu.h"
#include "trace.h"

/**
 * struct kvm_viommu_db - one IQT value's eventfd
 * @viommu: the unit; it outlives the doorbell (the unit's file holds a
 *	unit reference until after its doorbells are freed)
 * @ctx: the eventfd; we hold a reference, so the VMM may close its fd
 *	(KVM's ioeventfd keeps signalling the same context)
 * @wait: our entry in the eventfd's wait queue
 * @pt: used once, to find that wait queue through vfs_poll()
 * @qt: the IQT.QT value this doorbell stands for
 *
 * Lifetime: created and bound by KVM_VIOMMU_SET_DOORBELL, unbound (removed
 * from the wait queue under the eventfd's lock, so no wake-up runs after)
 * and freed by rebinding, unbinding or the unit's release.
 */
struct kvm_viommu_db {
	struct kvm_viommu *viommu;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	u32 qt;
};

/* Atomic context: the eventfd's wait-queue lock is held, IRQs off. */
static int kvm_viommu_doorbell_wakeup(wait_queue_entry_t *wait,
				      unsigned int mode, int sync, void *key)
{
	struct kvm_viommu_db *db =
		container_of(wait, struct kvm_viommu_db, wait);
	struct kvm_viommu *viommu = db->viommu;
	u64 cnt;

	if (!(key_to_poll(key) & EPOLLIN))
		return 0;
	eventfd_ctx_do_read(db->ctx, &cnt);
	trace_kvm_viommu_doorbell(viommu->id, db->qt);
	atomic_set(&viommu->pending_qt, db->qt);
	atomic64_inc(&viommu->nr_doorbells);
	kvm_viommu_iq_ring(viommu);
	return 0;
}

static void kvm_viommu_doorbell_queue(struct file *file,
				      wait_queue_head_t *wqh, poll_table *pt)
{
	struct kvm_viommu_db *db =
		container_of(pt, struct kvm_viommu_db, pt);

	add_wait_queue(wqh, &db->wait);
}

static void kvm_viommu_doorbell_free(struct kvm_viommu_db *db)
{
	u64 cnt;

	if (!db)
		return;
	/* Takes the eventfd's lock: no wake-up of ours runs after this. */
	eventfd_ctx_remove_wait_queue(db->ctx, &db->wait, &cnt);
	eventfd_ctx_put(db->ctx);
	kfree(db);
}

static int kvm_viommu_doorbell_bind(struct kvm_viommu *viommu, int fd, u32 qt)
{
	struct kvm_viommu_db *db, *old;
	struct file *file;
	int ret;

	file = fget(fd);
	if (!file)
		return -EBADF;
	db = kzalloc(sizeof(*db), GFP_KERNEL_ACCOUNT);
	if (!db) {
		ret = -ENOMEM;
		goto out_fput;
	}
	db->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(db->ctx)) {
		ret = PTR_ERR(db->ctx);
		kfree(db);
		goto out_fput;
	}
	db->viommu = viommu;
	db->qt = qt;
	init_waitqueue_func_entry(&db->wait, kvm_viommu_doorbell_wakeup);
	init_poll_funcptr(&db->pt, kvm_viommu_doorbell_queue);

	ret = kvm_viommu_lock(viommu);
	if (ret) {
		eventfd_ctx_put(db->ctx);
		kfree(db);
		goto out_fput;
	}
	old = xa_store(&viommu->doorbells, qt, db, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		kvm_viommu_unlock(viommu);
		ret = xa_err(old);
		eventfd_ctx_put(db->ctx);
		kfree(db);
		goto out_fput;
	}
	/* Signals that came before the binding are not doorbells. */
	vfs_poll(file, &db->pt);
	kvm_viommu_unlock(viommu);

	kvm_viommu_doorbell_free(old);
	ret = 0;
out_fput:
	fput(file);
	return ret;
}

/* KVM_VIOMMU_SET_DOORBELL */
int kvm_viommu_set_doorbell(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_doorbell *cmd = ucmd->cmd;
	struct kvm_viommu_db *db;
	int ret;

	if (cmd->flags || cmd->qt >= KVM_VIOMMU_MAX_DOORBELLS)
		return -EINVAL;
	if (cmd->fd != -1)
		return kvm_viommu_doorbell_bind(viommu, cmd->fd, cmd->qt);

	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	db = xa_erase(&viommu->doorbells, cmd->qt);
	kvm_viommu_unlock(viommu);
	if (!db)
		return -ENOENT;
	kvm_viommu_doorbell_free(db);
	return 0;
}

/* On the unit's release, before the worker is flushed. */
void kvm_viommu_doorbells_release(struct kvm_viommu *viommu)
{
	struct kvm_viommu_db *db;
	unsigned long qt;

	xa_for_each(&viommu->doorbells, qt, db) {
		xa_erase(&viommu->doorbells, qt);
		kvm_viommu_doorbell_free(db);
	}
	xa_destroy(&viommu->doorbells);
}
