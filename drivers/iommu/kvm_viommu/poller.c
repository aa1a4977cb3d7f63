// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sidecore pollers: kernel threads that watch the register pages of
 * units with KVM_VIOMMU_SIDECORE_POLL (sidecore.c) and process their
 * queues, so that a busy guest's invalidations cost it no exit.
 *
 * A poller serves several units.  It spins while any of them is busy,
 * rescheduling at every round (it never holds a CPU a vCPU wants longer
 * than the scheduler lets it), and once none has been for sidecore_spin_us
 * it parks them (KVM tracks their pages again: a write now exits, and is
 * handled in the writing vCPU's thread as before) and sleeps until a
 * tracked write wakes it, or the release of a unit's lock that it found
 * busy (kvm_viommu_poller_try()).  Idle, it costs nothing.
 *
 * Module parameters: sidecore_pollers, the most pollers (threads) there
 * are, and sidecore_cpus, the CPUs they may run on (a CPU list; all if
 * empty).  An operator gives pollers CPUs of their own with both.
 *
 * Lifetime: pollers are created on demand, the first time a unit needs
 * one while there are fewer than sidecore_pollers, and stopped at the
 * module's exit; a unit joins the poller with the fewest units, holding a
 * unit reference from join to leave.  kvm_viommu_pollers_lock protects
 * the list of pollers and each unit's @poller (taken in process context,
 * never under a unit's lock); a poller's @lock protects its units, and is
 * held by the poller while it goes round them (so a unit that leaves is
 * not in use by its poller once it has left).  Lock order: the pollers'
 * lock, a poller's lock, a unit's lock.
 */
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "kvm_viommu.h"

static unsigned int sidecore_pollers = 1;
module_param(sidecore_pollers, uint, 0644);
MODULE_PARM_DESC(sidecore_pollers,
		 "Most sidecore poller threads, each serving any number of units (default: 1)");

static char *sidecore_cpus;
module_param(sidecore_cpus, charp, 0444);
MODULE_PARM_DESC(sidecore_cpus,
		 "CPUs the sidecore pollers may run on, a CPU list (default: any)");

static unsigned int sidecore_spin_us = 200;
module_param(sidecore_spin_us, uint, 0644);
MODULE_PARM_DESC(sidecore_spin_us,
		 "How long a poller polls with nothing to do before it parks its units and sleeps; 0: it never takes a page (default: 200)");

/**
 * struct kvm_viommu_poller - one sidecore thread
 * @node: in kvm_viommu_pollers
 * @task: the thread
 * @lock: protects @units and @nr_units; see above
 * @units: the units it serves, by their poll_node
 * @nr_units: how many
 * @wq: where it sleeps when idle
 * @kicked: a tracked write came since the poller last looked
 * @released: a unit's lock that the poller found busy (and marked) was
 *	released since it last looked
 */
struct kvm_viommu_poller {
	struct list_head node;
	struct task_struct *task;
	struct mutex lock;	/* see above */
	struct list_head units;
	unsigned int nr_units;
	wait_queue_head_t wq;
	atomic_t kicked;
	atomic_t released;
};

static LIST_HEAD(kvm_viommu_pollers);
static DEFINE_MUTEX(kvm_viommu_pollers_lock);
static unsigned int kvm_viommu_nr_pollers;

/*
 * Poll one unit: if its guest wrote the page, apply the writes and run
 * the queue (a short run; the unit's worker takes what is left).  True if
 * there was something to do.  False too when the unit's lock is busy:
 * its holder (the worker, a vCPU, the VMM) drains the page in its own
 * run, and a poller that counted that as work would spin on a unit it
 * cannot serve for as long as a long run holds it, and never park.
 */
static bool kvm_viommu_poll_unit(struct kvm_viommu *viommu)
{
	struct mm_struct *mm = viommu->kvm->mm;
	struct mem_cgroup *memcg, *old_memcg;

	if (!READ_ONCE(viommu->polled))
		return false;
	if (!kvm_viommu_page_written(viommu))
		return false;
	if (!mutex_trylock(&viommu->lock))
		return false;
	if (!viommu->polled || !mmget_not_zero(mm)) {
		kvm_viommu_unlock(viommu);
		return false;
	}
	kthread_use_mm(mm);
	memcg = get_mem_cgroup_from_mm(mm);
	old_memcg = set_active_memcg(memcg);
	viommu->cnt.polled_runs++;
	kvm_viommu_iq_run(viommu, false);
	kvm_viommu_unlock(viommu);
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	kthread_unuse_mm(mm);
	mmput(mm);
	return true;
}

/* @fn on each unit. */
static void kvm_viommu_poller_each(struct kvm_viommu_poller *p,
				   bool (*fn)(struct kvm_viommu *viommu))
{
	struct kvm_viommu *viommu;

	mutex_lock(&p->lock);
	list_for_each_entry(viommu, &p->units, poll_node)
		fn(viommu);
	mutex_unlock(&p->lock);
}

/*
 * @fn (unpark or park, which only trylock the unit's lock, and clear its
 * mark under it) on one unit, or leave the unit marked for its lock's
 * holder.  The mark goes up before the second try, and
 * kvm_viommu_unlock() reads it after its mutex_unlock(), each behind a
 * full barrier: either the second trylock finds the lock free, or the
 * holder finds the mark and wakes the poller (@released).  So the poller
 * need not spin while a lock is busy, however long it is held (a pin
 * waiting on a userfaultfd, an attach pinning all of guest RAM), and a
 * busy lock does not leave a kicked unit tracked until its next tracked
 * write.  Under the poller's lock.
 */
static bool kvm_viommu_poller_try(struct kvm_viommu *viommu,
				  bool (*fn)(struct kvm_viommu *viommu))
{
	if (fn(viommu))
		return true;
	/* Release: the unlocker that reads the mark sees our @poller too. */
	smp_store_release(&viommu->lock_retry, true);
	/* The mark before the second trylock: kvm_viommu_unlock()'s pair. */
	smp_mb();
	return fn(viommu);
}

/*
 * Park one unit.  A tracked unit has nothing to park (only the poller
 * makes a unit polled), and its lock is not touched; if it is still
 * marked, it is owed an unpark: the mark stays for its holder's unlock,
 * or that unlock has set @released already.  A park that took its lock
 * would clear the mark.  With no spin, no unpark is owed: such a mark
 * is cleared.
 */
static bool kvm_viommu_poller_park_one(struct kvm_viommu *viommu)
{
	if (!READ_ONCE(viommu->polled) &&
	    (!READ_ONCE(viommu->lock_retry) || READ_ONCE(sidecore_spin_us)))
		return true;
	return kvm_viommu_poller_try(viommu, kvm_viommu_sidecore_park);
}

/*
 * Lift the tracking of the units that are quiet: of every tracked unit
 * if @all (a tracked write kicked), else of the tracked units whose lock
 * was busy last time.  A polled unit has nothing to unpark, and is not
 * tried (a busy lock would only mark it).  Returns whether any unit is
 * left to try again; *@took says whether a page was taken.
 */
static bool kvm_viommu_poller_unpark(struct kvm_viommu_poller *p, bool all,
				     bool *took)
{
	struct kvm_viommu *viommu;
	bool left = false;

	*took = false;
	mutex_lock(&p->lock);
	list_for_each_entry(viommu, &p->units, poll_node) {
		if (READ_ONCE(viommu->polled) ||
		    !(all || READ_ONCE(viommu->lock_retry)))
			continue;
		left |= !kvm_viommu_poller_try(viommu,
					       kvm_viommu_sidecore_unpark);
		*took |= READ_ONCE(viommu->polled);
	}
	mutex_unlock(&p->lock);
	return left;
}

/*
 * Has the poller spun @spin ns since @last_busy?  Timed on this CPU's
 * scheduler clock (local_clock(): a TSC read, and a per-CPU update where
 * the TSC is unstable), where ktime_get() may read a clocksource as slow
 * as an emulated HPET (a VM whose TSC is unstable: L1 in the testbed) at
 * every turn of the spin.  After a move to a CPU whose clock is behind
 * (the CPUs' clocks drift apart only boundedly), the spin starts again
 * from now: it lasts at most @spin longer, never without end.
 */
static bool kvm_viommu_spin_over(u64 *last_busy, u64 spin)
{
	u64 now = local_clock();

	if (!spin)
		return true;
	if ((s64)(now - *last_busy) < 0) {
		*last_busy = now;
		return false;
	}
	return now - *last_busy >= spin;
}

static int kvm_viommu_poller_fn(void *data)
{
	struct kvm_viommu_poller *p = data;
	struct kvm_viommu *viommu;
	u64 spin, last_busy = local_clock();
	bool busy, took, released, all = true, retry = false;

	while (!kthread_should_stop()) {
		busy = false;
		mutex_lock(&p->lock);
		list_for_each_entry(viommu, &p->units, poll_node)
			busy |= kvm_viommu_poll_unit(viommu);
		mutex_unlock(&p->lock);
		if (atomic_xchg(&p->kicked, 0)) {
			/* A tracked write: a unit may be quiet again. */
			all = true;
			busy = true;
		}
		released = atomic_xchg(&p->released, 0);
		if (busy)
			last_busy = local_clock();
		spin = (u64)READ_ONCE(sidecore_spin_us) * NSEC_PER_USEC;
		/*
		 * A unit whose lock was busy is tried again every round while
		 * we spin (the holder is most often the vCPU thread applying
		 * the write that kicked us), and once when its holder's
		 * unlock wakes us (kvm_viommu_poller_try()): that wake spins
		 * only if a page was taken, so a holder that keeps retaking
		 * its lock costs us a trylock per unlock, not a spin.  With
		 * no spin at all, no page is ever taken.
		 */
		if (spin && (all || retry || released)) {
			retry = kvm_viommu_poller_unpark(p, all, &took);
			if (took)
				last_busy = local_clock();
		}
		all = false;
		if (!kvm_viommu_spin_over(&last_busy, spin)) {
			cond_resched();
			cpu_relax();
			continue;
		}
		/*
		 * Idle: the pages go back to KVM's tracking, and we sleep.  A
		 * unit whose lock is busy stays polled until its holder's
		 * unlock kicks us: nothing is lost meanwhile, since its
		 * queue runs need that lock too.
		 */
		kvm_viommu_poller_each(p, kvm_viommu_poller_park_one);
		retry = false;
		/* Released wake-ups may come back to back: no sleep then. */
		cond_resched();
		wait_event_interruptible(p->wq, atomic_read(&p->kicked) ||
					 atomic_read(&p->released) ||
					 kthread_should_stop());
	}
	return 0;
}

/* A new poller thread, on the CPUs sidecore_cpus allows. */
static struct kvm_viommu_poller *kvm_viommu_poller_create(void)
{
	struct kvm_viommu_poller *p;
	cpumask_var_t mask;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	mutex_init(&p->lock);
	INIT_LIST_HEAD(&p->units);
	init_waitqueue_head(&p->wq);
	p->task = kthread_create(kvm_viommu_poller_fn, p, "kvm-viommu-sc/%u",
				 kvm_viommu_nr_pollers);
	if (IS_ERR(p->task)) {
		ret = PTR_ERR(p->task);
		kfree(p);
		return ERR_PTR(ret);
	}
	if (sidecore_cpus && *sidecore_cpus &&
	    zalloc_cpumask_var(&mask, GFP_KERNEL)) {
		if (!cpulist_parse(sidecore_cpus, mask) &&
		    cpumask_intersects(mask, cpu_online_mask))
			set_cpus_allowed_ptr(p->task, mask);
		else
			pr_warn_once("kvm_viommu: sidecore_cpus \"%s\" names no online CPU: ignored\n",
				     sidecore_cpus);
		free_cpumask_var(mask);
	}
	list_add_tail(&p->node, &kvm_viommu_pollers);
	kvm_viommu_nr_pollers++;
	wake_up_process(p->task);
	return p;
}

/* The poller with the fewest units, or a new one while there may be. */
static struct kvm_viommu_poller *kvm_viommu_poller_pick(void)
{
	struct kvm_viommu_poller *p, *best = NULL;

	lockdep_assert_held(&kvm_viommu_pollers_lock);
	list_for_each_entry(p, &kvm_viommu_pollers, node)
		if (!best || p->nr_units < best->nr_units)
			best = p;
	if (best && (!best->nr_units ||
		     kvm_viommu_nr_pollers >= max(READ_ONCE(sidecore_pollers),
						  1U)))
		return best;
	p = kvm_viommu_poller_create();
	return IS_ERR(p) ? best ?: p : p;
}

/**
 * kvm_viommu_poller_sync() - have a poller serve the unit if it polls
 * @viommu: the unit; not locked
 *
 * A poller serves the unit while its flags in force have
 * KVM_VIOMMU_SIDECORE_POLL.  Whoever changes them (under the unit's lock)
 * calls this after: the flags are read under kvm_viommu_pollers_lock, so
 * of two changes racing, the later call sees the later flags, and a unit
 * turned off never stays on a poller's list.  Process context.  Leaving
 * waits for the poller's round in progress.
 */
void kvm_viommu_poller_sync(struct kvm_viommu *viommu)
{
	struct kvm_viommu_poller *p;
	bool on;

	mutex_lock(&kvm_viommu_pollers_lock);
	on = READ_ONCE(viommu->sc_flags) & KVM_VIOMMU_SIDECORE_POLL;
	p = viommu->poller;
	if (on && !p) {
		p = kvm_viommu_poller_pick();
		if (!IS_ERR(p)) {
			kvm_viommu_get(viommu);
			mutex_lock(&p->lock);
			/* Before the poller can mark it: see poller_try(). */
			WRITE_ONCE(viommu->poller, p);
			list_add_tail(&viommu->poll_node, &p->units);
			p->nr_units++;
			mutex_unlock(&p->lock);
			atomic_set(&p->kicked, 1);
			wake_up(&p->wq);
		} else {
			pr_warn_ratelimited("kvm_viommu: no sidecore poller (%ld): unit %u stays write-tracked\n",
					    PTR_ERR(p), viommu->id);
		}
	} else if (!on && p) {
		mutex_lock(&p->lock);
		list_del_init(&viommu->poll_node);
		p->nr_units--;
		WRITE_ONCE(viommu->lock_retry, false);
		mutex_unlock(&p->lock);
		WRITE_ONCE(viommu->poller, NULL);
		/* The unit's file holds another: never the last. */
		kvm_viommu_put(viommu);
	}
	mutex_unlock(&kvm_viommu_pollers_lock);
}

/*
 * A tracked write came (any context the page-track notifier runs in):
 * wake the unit's poller.  Pollers live until the module's exit, so a
 * stale @poller is still a poller.
 */
void kvm_viommu_poller_kick(struct kvm_viommu *viommu)
{
	struct kvm_viommu_poller *p = READ_ONCE(viommu->poller);

	if (!p || atomic_read(&p->kicked))
		return;
	atomic_set(&p->kicked, 1);
	wake_up(&p->wq);
}

/*
 * The unit's lock, which its poller found busy and marked, was released
 * (kvm_viommu_unlock(), process context).  Not from the poller itself: the
 * mark may still be up while its own park or unpark unlocks, and it is
 * awake anyway.
 */
void kvm_viommu_poller_released(struct kvm_viommu *viommu)
{
	struct kvm_viommu_poller *p = READ_ONCE(viommu->poller);

	if (!p || current == p->task || atomic_read(&p->released))
		return;
	atomic_set(&p->released, 1);
	wake_up(&p->wq);
}

/* The module's exit: no unit is left, so no poller serves any. */
void kvm_viommu_pollers_exit(void)
{
	struct kvm_viommu_poller *p, *tmp;

	list_for_each_entry_safe(p, tmp, &kvm_viommu_pollers, node) {
		WARN_ON_ONCE(p->nr_units);
		kthread_stop(p->task);
		list_del(&p->node);
		kfree(p);
	}
}

/* For debugfs: the poller thread serving @viommu, or 0. */
pid_t kvm_viommu_poller_pid(struct kvm_viommu *viommu)
{
	struct kvm_viommu_poller *p = READ_ONCE(viommu->poller);

	return p ? task_pid_nr(p->task) : 0;
}
