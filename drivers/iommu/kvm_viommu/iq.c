// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where, and how much of, the guest's invalidation queue is processed.
 *
 * A doorbell's wake-up (doorbell.c) runs in atomic context, so it only
 * records the tail and rings here.  The queue is then processed in process
 * context under the unit's mutex, by one of:
 *
 *  - the ringing vCPU's own thread (vcpu_fast_path, the default), as task
 *    work that KVM runs in its guest-entry loop (TIF_NOTIFY_RESUME) before
 *    this vCPU re-enters the guest: no other thread is woken, and the
 *    guest's wait descriptor is usually complete by its first poll.  Only
 *    when the ring comes from a vCPU of this unit's VM, running on this
 *    CPU, in task context; the task work only tries the unit's lock, does
 *    at most vcpu_run_budget of work, and hands anything else to
 *    the worker;
 *  - the unit's worker thread otherwise, and for whatever a short run left.
 *
 * Every run is bounded (a budget of entries read and pages handled, one
 * lap of the queue at most) and stops as soon as the VMM is gone or the
 * running thread has a fatal signal; an unfinished shadow walk resumes at
 * its cursor in the next run, before any later descriptor.
 */
#include <linux/cgroup.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>

#include "kvm_viommu.h"
#include "shadow.h"
#include "trace.h"

/*
 * Descriptors processed per call of vtd_iq_process(); the run reschedules
 * between calls.
 */
#define KVM_VIOMMU_IQ_BATCH	64

static unsigned int run_budget = KVM_VIOMMU_RUN_BUDGET;
module_param(run_budget, uint, 0644);
MODULE_PARM_DESC(run_budget,
		 "Guest paging entries read plus pages mapped or unmapped per full queue run (default: 2^20, at least 64)");

static unsigned int vcpu_run_budget = KVM_VIOMMU_VCPU_RUN_BUDGET;
module_param(vcpu_run_budget, uint, 0644);
MODULE_PARM_DESC(vcpu_run_budget,
		 "The same, per queue run in the ringing vCPU's thread (default: 4096, at least 64)");

static bool vcpu_fast_path = true;

/*
 * Task works queued and not yet returned.  The last put of a unit may be
 * a task work's, whose thread then still runs this module's text for a
 * few instructions after the unit, and with it the module's reference,
 * is gone: the module's exit waits for this to reach 0, then for every
 * task to leave this text (kvm_viommu_iq_exit()).
 */
static atomic_t kvm_viommu_tworks = ATOMIC_INIT(0);

/* Any task work of this module is queued: count it (see above). */
void kvm_viommu_twork_start(void)
{
	atomic_inc(&kvm_viommu_tworks);
}

/* The last thing a task work of this module does. */
void kvm_viommu_twork_done(void)
{
	atomic_dec(&kvm_viommu_tworks);
}

void kvm_viommu_iq_exit(void)
{
	while (atomic_read(&kvm_viommu_tworks))
		msleep(20);
	synchronize_rcu_tasks();
}
module_param(vcpu_fast_path, bool, 0644);
MODULE_PARM_DESC(vcpu_fast_path,
		 "Process the invalidation queue in the ringing vCPU's thread (default: on)");

/*
 * Should the current queue run stop after this descriptor, or this walk
 * before the next table?  Yes once the run's budget is spent, or nobody
 * waits for the rest (kvm_viommu_abandoned()).  Called with viommu->lock
 * held.
 */
bool kvm_viommu_iq_should_stop(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return !viommu->run_budget || kvm_viommu_abandoned(viommu);
}

/*
 * Is the work at hand for nobody?  Yes once the unit is dead; in a kernel
 * thread, once its reference is the last on the VM's mm (the VMM process
 * is gone); in a user thread, once it has a fatal signal.  Called with
 * viommu->lock held.
 */
bool kvm_viommu_abandoned(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->dead)
		return true;
	if (current->flags & PF_KTHREAD)
		return atomic_read(&viommu->kvm->mm->mm_users) <= 1;
	return fatal_signal_pending(current);
}

/*
 * A run of work on the shadow begins: a full one (the worker, a call of
 * the VMM's) or a short one (a vCPU thread).  Called with viommu->lock
 * held.
 */
void kvm_viommu_run_begin(struct kvm_viommu *viommu, bool full)
{
	u32 budget = full ? READ_ONCE(run_budget) : READ_ONCE(vcpu_run_budget);

	lockdep_assert_held(&viommu->lock);
	viommu->run_budget = max(budget, 64U);
	viommu->run_overdraw = full;
}

/*
 * Apply the newest doorbell and process the queue, in a full or a short
 * run (see kvm_viommu_run_begin()): first what an earlier run left of its
 * shadow walks, then at most one lap of descriptors.  A guest that rings
 * without end, or whose invalidations walk without end, gets the worker
 * requeued rather than held.  Called with viommu->lock held and the VM's
 * mm usable.
 */
void kvm_viommu_iq_run(struct kvm_viommu *viommu, bool full)
{
	struct vtd_unit *vtd = &viommu->vtd;
	u32 laps, n, done;
	int qt;

	lockdep_assert_held(&viommu->lock);
	if (viommu->dead || viommu->cnt.failed)
		return;
	kvm_viommu_run_begin(viommu, full);
	/* What the guest wrote into its page first (sidecore.c). */
	if (viommu->sc_flags && (viommu->polled || viommu->drain_pending))
		kvm_viommu_page_drain(viommu);
	qt = atomic_xchg(&viommu->pending_qt, -1);
	if (qt >= 0)
		vtd_reg_write(vtd, VTD_IQT_REG, 4, (u64)qt << 4);

	viommu->run_stalled = false;
	if (!kvm_viommu_shadow_resume(viommu))
		goto requeue;
	laps = vtd_iq_entries(vtd);
	/* No descriptor overtakes a walk an earlier one left unfinished. */
	while (laps && vtd_iq_pending(vtd) &&
	       !kvm_viommu_iq_should_stop(viommu) &&
	       !kvm_viommu_shadow_pending(viommu)) {
		/* No more than the VMM's event ring can take. */
		n = min3(laps, (u32)KVM_VIOMMU_IQ_BATCH,
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
			break;
		laps -= done;
		cond_resched();
	}
	/* Stalled for the VMM's acknowledgment: its ioctl requeues us. */
	if (viommu->run_stalled)
		return;
requeue:
	if ((kvm_viommu_shadow_pending(viommu) || vtd_iq_pending(vtd)) &&
	    !viommu->dead && !viommu->cnt.failed)
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
	kvm_viommu_iq_run(viommu, true);
	kvm_viommu_unlock(viommu);
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* Have the worker run the queue.  Any context; needs a unit reference. */
void kvm_viommu_iq_kick(struct kvm_viommu *viommu)
{
	kthread_queue_work(viommu->worker, &viommu->iq_work);
}

/*
 * The task work of a ringing vCPU thread, before KVM re-enters the guest
 * (or at the thread's exit, when its mm is already gone).  It holds a unit
 * reference, dropped last; the free that may follow runs elsewhere.
 */
static void kvm_viommu_iq_task_work(struct callback_head *head)
{
	struct kvm_viommu *viommu =
		container_of(head, struct kvm_viommu, iq_twork);

	/* Wake-ups from now on may claim @iq_twork again. */
	atomic_set(&viommu->iq_twork_busy, 0);
	/*
	 * Pairs with the wake-up's atomic_xchg(): a wake-up that saw us
	 * claimed stored its tail before, and iq_run() reads it after.
	 */
	smp_mb();
	if (current->mm == viommu->kvm->mm && !fatal_signal_pending(current) &&
	    mutex_trylock(&viommu->lock)) {
		atomic64_inc(&viommu->nr_iq_runs_vcpu);
		kvm_viommu_iq_run(viommu, false);
		kvm_viommu_unlock(viommu);
	} else {
		/* Busy, or no guest to enter: the worker takes it. */
		kvm_viommu_iq_kick(viommu);
	}
	kvm_viommu_put(viommu);
	/* The last thing this module's text does here: see the exit. */
	atomic_dec(&kvm_viommu_tworks);
}

/*
 * May this ring be processed in the ringing thread?  Only in task context
 * (never in an interrupt that happens to find a vCPU loaded on this CPU),
 * only from a vCPU of this unit's VM that is running on this CPU (not an
 * io_uring worker or any other thread of the VMM that shares its mm), and
 * one task work per unit at a time.
 */
static bool kvm_viommu_iq_claim_vcpu(struct kvm_viommu *viommu)
{
	struct kvm_vcpu *vcpu;

	if (!READ_ONCE(vcpu_fast_path) || !in_task() ||
	    current->flags & (PF_KTHREAD | PF_EXITING))
		return false;
	vcpu = kvm_get_running_vcpu();
	if (!vcpu || vcpu->kvm != viommu->kvm)
		return false;
	if (atomic_xchg(&viommu->iq_twork_busy, 1))
		return false;
	/* Doorbells are bound only while the file holds its reference. */
	kvm_viommu_get(viommu);
	atomic_inc(&kvm_viommu_tworks);
	init_task_work(&viommu->iq_twork, kvm_viommu_iq_task_work);
	if (!task_work_add(current, &viommu->iq_twork, TWA_RESUME))
		return true;
	atomic_set(&viommu->iq_twork_busy, 0);
	atomic_dec(&kvm_viommu_tworks);
	kvm_viommu_put(viommu);
	return false;
}

/*
 * A doorbell rang (atomic context: the eventfd's wait-queue lock is held,
 * interrupts are off): process the queue in the ringing vCPU's thread if
 * it can, else in the worker.
 */
void kvm_viommu_iq_ring(struct kvm_viommu *viommu)
{
	if (!kvm_viommu_iq_claim_vcpu(viommu))
		kvm_viommu_iq_kick(viommu);
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

/*
 * On the unit's release, once it is dead: wait for a run in progress.
 * Later kicks (from a vCPU task work still queued) run to nothing.
 */
void kvm_viommu_worker_stop(struct kvm_viommu *viommu)
{
	kthread_cancel_work_sync(&viommu->iq_work);
}

/* On the unit's free: no reference is left to kick it. */
void kvm_viommu_worker_destroy(struct kvm_viommu *viommu)
{
	kthread_destroy_worker(viommu->worker);
}
