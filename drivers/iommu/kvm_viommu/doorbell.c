// SPDX-License-Identifier: GPL-2.0-only
/*
 * IQT doorbells and the invalidation queue worker.
 *
 * An ioeventfd carries no data, so the VMM wires one datamatch ioeventfd
 * per IQT value (KVM_VIOMMU_SET_DOORBELL binds each to its value).  KVM
 * signals it from the vCPU's MMIO exit; the eventfd's wake-up then runs
 * kvm_viommu_doorbell_wakeup() with the eventfd's wait-queue spinlock held
 * and interrupts off.  There it only records the tail and arranges for it
 * to be applied as an IQT write, and the queue processed, in process
 * context under the unit's mutex:
 *
 *  - fast path: when the wake-up runs in a thread of the VM's process (a
 *    vCPU thread ringing through KVM's ioeventfd), as task work of that
 *    thread.  KVM handles TIF_NOTIFY_RESUME in its guest-entry loop, so
 *    the queue is processed before this vCPU re-enters the guest, with no
 *    other thread woken: the guest's wait descriptor is usually complete
 *    by its first poll.
 *  - otherwise (the vcpu_fast_path parameter is off, as by default;
 *    another thread signalled the eventfd; the task work is already
 *    claimed), by the unit's worker thread, which adopts the VM's mm.
 *
 * Ordering: a guest serializes its IQT writes, and each write's wake-up
 * completes before the vCPU resumes, so the newest recorded tail is the
 * guest's newest IQT.  Every path that touches registers under the mutex
 * first applies a recorded tail, so a relayed write never overtakes an
 * earlier doorbell.
 */
#include <linux/cgroup.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/memcontrol.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>

#include "kvm_viommu.h"
#include "shadow.h"
#include "trace.h"

/*
 * Descriptors processed per call of vtd_iq_process(); the worker
 * reschedules between calls.
 */
#define KVM_VIOMMU_IQ_BATCH	64

/**
 * struct kvm_viommu_db - one IQT value's eventfd
 * @viommu: the unit; it outlives the doorbell
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

/*
 * Experimental, off by default: in the testbed, a Linux guest timing 3000
 * map+unmap pairs with it on left L1 unresponsive once (the VMM could not
 * be killed), after passing six shorter runs.  Not understood yet; the
 * synthetic bench measures it (a_vcpu) beside the worker (a).
 */
static bool vcpu_fast_path;
module_param(vcpu_fast_path, bool, 0644);
MODULE_PARM_DESC(vcpu_fast_path,
		 "Process the invalidation queue in the ringing vCPU's thread (experimental; default: off)");

static void kvm_viommu_iq_task_work(struct callback_head *head)
{
	struct kvm_viommu *viommu =
		container_of(head, struct kvm_viommu, iq_twork);
	struct file *file = viommu->file;

	/* Wake-ups from now on may claim @iq_twork again. */
	atomic_set(&viommu->iq_twork_busy, 0);
	/*
	 * Pairs with the wake-up's atomic_xchg(): a wake-up that saw us
	 * claimed stored its tail before, and iq_run() reads it after.
	 */
	smp_mb__after_atomic();
	/* At exit, task work runs after the mm is gone. */
	if (current->mm == viommu->kvm->mm) {
		atomic64_inc(&viommu->nr_iq_runs_vcpu);
		mutex_lock(&viommu->lock);
		kvm_viommu_iq_run(viommu);
		mutex_unlock(&viommu->lock);
	} else {
		kvm_viommu_iq_kick(viommu);
	}
	/* The unit may be freed by this. */
	fput(file);
}

/* Atomic context (a doorbell's wake-up): see the top of this file. */
static bool kvm_viommu_iq_in_vcpu(struct kvm_viommu *viommu)
{
	struct file *file = viommu->file;

	if (!READ_ONCE(vcpu_fast_path) || current->mm != viommu->kvm->mm ||
	    current->flags & (PF_KTHREAD | PF_EXITING))
		return false;
	if (atomic_xchg(&viommu->iq_twork_busy, 1))
		return false;
	/* Zero once ->release() has begun: the unit is going away. */
	if (!atomic_long_inc_not_zero(&file->f_count))
		goto unclaim;
	init_task_work(&viommu->iq_twork, kvm_viommu_iq_task_work);
	if (!task_work_add(current, &viommu->iq_twork, TWA_RESUME))
		return true;
	fput(file);
unclaim:
	atomic_set(&viommu->iq_twork_busy, 0);
	return false;
}

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
	if (!kvm_viommu_iq_in_vcpu(viommu))
		kvm_viommu_iq_kick(viommu);
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

	mutex_lock(&viommu->lock);
	old = xa_store(&viommu->doorbells, qt, db, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		mutex_unlock(&viommu->lock);
		ret = xa_err(old);
		eventfd_ctx_put(db->ctx);
		kfree(db);
		goto out_fput;
	}
	/* Signals that came before the binding are not doorbells. */
	vfs_poll(file, &db->pt);
	mutex_unlock(&viommu->lock);

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

	if (cmd->flags || cmd->qt >= KVM_VIOMMU_MAX_DOORBELLS)
		return -EINVAL;
	if (cmd->fd != -1)
		return kvm_viommu_doorbell_bind(viommu, cmd->fd, cmd->qt);

	mutex_lock(&viommu->lock);
	db = xa_erase(&viommu->doorbells, cmd->qt);
	mutex_unlock(&viommu->lock);
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

/*
 * Should the current queue run stop after this descriptor?  Yes once its
 * walks have read their share (kvm_viommu_shadow_run_spent()), and, in
 * the worker, yes once its reference is the last on the VM's mm: the VMM
 * process is gone, nobody waits for the rest, and the unit's release
 * waits for this run.  Called with viommu->lock held.
 */
bool kvm_viommu_iq_should_stop(struct kvm_viommu *viommu)
{
	return kvm_viommu_shadow_run_spent(viommu) ||
	       (current->flags & PF_KTHREAD &&
		atomic_read(&viommu->kvm->mm->mm_users) <= 1);
}

/*
 * Apply the newest doorbell and process the queue, at most one lap of it,
 * and no further than the descriptor whose walks spent the run's share
 * (kvm_viommu_shadow_run_spent()): a guest that rings without end, or
 * whose invalidations walk without end, gets the worker requeued rather
 * than held.  Called with viommu->lock held and the VM's mm in use.
 */
void kvm_viommu_iq_run(struct kvm_viommu *viommu)
{
	struct vtd_unit *vtd = &viommu->vtd;
	u32 budget, n, done;
	int qt;

	lockdep_assert_held(&viommu->lock);
	qt = atomic_xchg(&viommu->pending_qt, -1);
	if (qt >= 0)
		vtd_reg_write(vtd, VTD_IQT_REG, 4, (u64)qt << 4);

	kvm_viommu_shadow_run_begin(viommu);
	budget = vtd_iq_entries(vtd);
	while (budget && vtd_iq_pending(vtd) &&
	       !kvm_viommu_iq_should_stop(viommu)) {
		/* No more than the VMM's event ring can take. */
		n = min3(budget, (u32)KVM_VIOMMU_IQ_BATCH,
			 kvm_viommu_event_space(viommu));
		if (!n)
			return;	/* read() requeues us */
		done = vtd_iq_process(vtd, n);
		trace_kvm_viommu_iq_run(viommu->id, done,
					vtd_get64(vtd, VTD_IQH_REG),
					vtd_get64(vtd, VTD_IQT_REG),
					vtd_get32(vtd, VTD_FSTS_REG) &
					VTD_FSTS_IQE);
		if (!done)
			return;
		budget -= done;
		cond_resched();
	}
	if (vtd_iq_pending(vtd))
		kvm_viommu_iq_kick(viommu);
}

/*
 * The queue worker, on the unit's worker thread.  Guest memory is reached
 * through the VM's mm, which a kernel thread must adopt; if the VMM
 * process is exiting there is no guest left to serve.  What the run
 * allocates (shadow entries, and host IOMMU page tables where the kernel
 * accounts them) is charged to the VM's memory cgroup: a kernel thread's
 * own allocations are charged to none unless told.
 */
static void kvm_viommu_iq_work(struct kthread_work *work)
{
	struct kvm_viommu *viommu =
		container_of(work, struct kvm_viommu, iq_work);
	struct mm_struct *mm = viommu->kvm->mm;
	struct mem_cgroup *memcg, *old_memcg;

	if (!mmget_not_zero(mm))
		return;
	kthread_use_mm(mm);
	memcg = get_mem_cgroup_from_mm(mm);
	old_memcg = set_active_memcg(memcg);
	atomic64_inc(&viommu->nr_iq_runs_worker);
	mutex_lock(&viommu->lock);
	kvm_viommu_iq_run(viommu);
	mutex_unlock(&viommu->lock);
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* Have the worker run the queue.  Any context: doorbell wake-ups too. */
void kvm_viommu_iq_kick(struct kvm_viommu *viommu)
{
	kthread_queue_work(viommu->worker, &viommu->iq_work);
}

/*
 * The unit's worker thread, named after the owner and moved into all of
 * its cgroups, as vhost does: the CPU a guest's invalidations cost is
 * accounted, and limited, with the VM's.  Called by the VMM at creation.
 */
int kvm_viommu_worker_init(struct kvm_viommu *viommu)
{
	struct kthread_worker *worker;
	int ret;

	worker = kthread_create_worker(0, "kvm-viommu-%d", viommu->owner_tgid);
	if (IS_ERR(worker))
		return PTR_ERR(worker);
	ret = cgroup_attach_task_all(current, worker->task);
	if (ret) {
		kthread_destroy_worker(worker);
		return ret;
	}
	kthread_init_work(&viommu->iq_work, kvm_viommu_iq_work);
	viommu->worker = worker;
	return 0;
}

/* On the unit's release, after the doorbells: the last run, then the end. */
void kvm_viommu_worker_release(struct kvm_viommu *viommu)
{
	if (!viommu->worker)
		return;
	kthread_cancel_work_sync(&viommu->iq_work);
	kthread_destroy_worker(viommu->worker);
}
