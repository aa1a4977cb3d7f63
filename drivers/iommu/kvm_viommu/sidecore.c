// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest writes its register page itself (KVM_VIOMMU_SET_SIDECORE).
 *
 * The VMM maps the unit's register page writable into the guest.  Two
 * ways then bring a guest write to the unit, and the unit switches between
 * them as it goes:
 *
 *  - tracked: KVM write-tracks the page.  Every guest write to it exits to
 *    KVM, which emulates it (the bytes land in the page) and hands the
 *    unit the address and the bytes written (kvm_viommu_track_write()).
 *    The unit applies the write, with the value the guest wrote, before
 *    the vCPU runs on: one exit, in the kernel, and nothing the guest
 *    writes can be mistaken.
 *  - polled: the tracking is lifted and the page is plain memory; the
 *    sidecore poller (poller.c) compares it with what the unit last
 *    published there, and takes any difference as a guest write.  No
 *    exit at all.  But memory only says what a register holds, not that
 *    it was written: a write of the value already there is invisible.
 *
 * So the page is polled only while no write could be invisible and still
 * matter: while the unit is "quiet" (kvm_viommu_regs_quiet()): queued
 * invalidation on, no fault or completion status pending (a write of 1
 * to a set RW1C bit would look like no write), no command reading as in
 * progress.  In that state, every register write that does anything
 * differs from what the page shows: IQT's new tail, a GCMD that changes
 * an enable or sets a one-shot command (the page shows GCMD as the
 * enables in force while the sidecore is on), a command register's
 * ICC/IVT, any change of a plain register; an equal write does nothing
 * in hardware either.  The rst gives the whole argument.  Before the unit
 * makes its state not quiet in the page (publishes a fault, say), it
 * tracks the page again (regpage.c), and then applies what the guest
 * wrote to it before the tracking took hold.
 *
 * The poller polls while the guest is busy and gives the page back to the
 * tracking when it is idle ("parks" it); the next tracked write wakes it.
 *
 * A tracked write's emulation stores the bytes, then calls us, in the vCPU
 * thread inside KVM's emulator; we apply it from a task work of that
 * thread instead, which runs before the vCPU re-enters the guest (so the
 * guest sees its effect as soon as it runs on), outside KVM's SRCU read
 * side.  IQT writes take the doorbells' way instead (iq.c).
 *
 * KVM's tracking goes with the page's memslot when the VMM deletes or
 * moves it.  The unit's count there is added and taken off under KVM's
 * slots_lock, as KVM's memslot callback runs, so the two never cross;
 * the callback takes the count off itself (kvm_viommu_track_slot_gone()),
 * and the unit, told so, looks for the memslot again (re-arms).
 *
 * Locking: the mode fields of struct kvm_viommu are under the unit's lock,
 * taken before KVM's slots_lock.  KVM calls the write notifier with no
 * lock of ours held, and the memslot callback with its slots_lock held:
 * that one takes only @track_lock (and, on 6.1, KVM's mmu_lock inside it).
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "trace.h"

/* The longest a lost memslot is looked for again after, in ms. */
#define KVM_VIOMMU_REARM_MAX_MS	100

static bool allow_sidecore = true;
module_param_named(sidecore, allow_sidecore, bool, 0644);
MODULE_PARM_DESC(sidecore,
		 "Let VMMs turn the sidecore and its poller on (KVM_VIOMMU_SET_SIDECORE); with N a unit gains neither (EOPNOTSUPP, as on a kernel without KVM write tracking for modules) but may keep or drop what it has (default: Y)");

/**
 * struct kvm_viommu_twrite - a tracked guest write, applied in task work
 * @twork: queued on the writing vCPU's thread
 * @viommu: the unit; we hold a reference
 * @off: offset in the register page
 * @bytes: how many bytes, at most 16 (an SSE store)
 * @val: what the guest wrote
 */
struct kvm_viommu_twrite {
	struct callback_head twork;
	struct kvm_viommu *viommu;
	u32 off;
	u32 bytes;
	u8 val[16];
};

/*
 * Is @gfn a writable memslot backed by a writable shared mapping of
 * @viommu's register page, in the VM's process?
 */
static bool kvm_viommu_reg_slot_ok(struct kvm_viommu *viommu, gfn_t gfn)
{
	struct kvm *kvm = viommu->kvm;
	struct kvm_memory_slot *slot;
	struct vm_area_struct *vma;
	unsigned long hva = 0;
	bool ok = false;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	slot = gfn_to_memslot(kvm, gfn);
	if (slot && slot->id < KVM_USER_MEM_SLOTS &&
	    !(slot->flags & KVM_MEM_READONLY))
		hva = gfn_to_hva_memslot(slot, gfn);
	srcu_read_unlock(&kvm->srcu, idx);
	if (!hva || !mmget_not_zero(kvm->mm))
		return false;
	mmap_read_lock(kvm->mm);
	vma = vma_lookup(kvm->mm, hva);
	if (vma && vma->vm_file &&
	    kvm_viommu_file_is_unit(vma->vm_file, viommu) &&
	    vma->vm_pgoff == KVM_VIOMMU_REG_PAGE_OFFSET >> PAGE_SHIFT &&
	    hva - vma->vm_start < KVM_VIOMMU_REG_PAGE_SIZE &&
	    (vma->vm_flags & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED))
		ok = true;
	mmap_read_unlock(kvm->mm);
	mmput(kvm->mm);
	return ok;
}

/*
 * KVM's write tracking of the page for the unit: one count of ours in the
 * page's memslot, held or not (@track_held).  Added and taken off under
 * KVM's slots_lock, which KVM holds across every memslot change and its
 * memslot callback: no memslot changes between the check that the memslot
 * is the unit's page and the add, and kvm_viommu_track_slot_gone() runs
 * before or after, never meanwhile.  A loss that callback reported before
 * (@reg_slot_gone) is taken in here: the memslot is looked at anew.
 *
 * True if KVM tracks the page for the unit now.
 */
static bool kvm_viommu_track_add(struct kvm_viommu *viommu)
{
	struct kvm *kvm = viommu->kvm;
	bool held;

	mutex_lock(&kvm->slots_lock);
	atomic_set(&viommu->reg_slot_gone, 0);
	spin_lock(&viommu->track_lock);
	held = viommu->track_held;
	spin_unlock(&viommu->track_lock);
	if (!held && kvm_viommu_reg_slot_ok(viommu, viommu->reg_gfn) &&
	    !kvm_viommu_track_gfn(kvm, viommu->reg_gfn, true)) {
		spin_lock(&viommu->track_lock);
		viommu->track_held = true;
		spin_unlock(&viommu->track_lock);
		held = true;
	}
	mutex_unlock(&kvm->slots_lock);
	return held;
}

/*
 * Take our count off, if KVM has one of ours (see above).  True if the
 * page's memslot is the unit's page, as the poller needs it.
 */
static bool kvm_viommu_track_remove(struct kvm_viommu *viommu)
{
	struct kvm *kvm = viommu->kvm;
	bool held, ok;

	mutex_lock(&kvm->slots_lock);
	atomic_set(&viommu->reg_slot_gone, 0);
	spin_lock(&viommu->track_lock);
	held = viommu->track_held;
	viommu->track_held = false;
	spin_unlock(&viommu->track_lock);
	/* Under slots_lock, a count we hold is in the memslot there now. */
	if (held)
		kvm_viommu_track_gfn(kvm, viommu->reg_gfn, false);
	ok = kvm_viommu_reg_slot_ok(viommu, viommu->reg_gfn);
	mutex_unlock(&kvm->slots_lock);
	return ok;
}

/* The poller lets go of the page.  Called with the lock. */
static void kvm_viommu_unpoll(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (!viommu->polled)
		return;
	viommu->polled = false;
	viommu->cnt.parks++;
	trace_kvm_viommu_sidecore(viommu->id, false);
}

/*
 * Take in a memslot change KVM reported (kvm_viommu_track_slot_gone()):
 * whatever the unit believed, KVM no longer tracks the page for it, and
 * the poller may be watching a page the guest no longer reaches.  The
 * callback queued the re-arming.  Called with the lock.
 */
static void kvm_viommu_sync_slot(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (!atomic_read(&viommu->reg_slot_gone) ||
	    !atomic_xchg(&viommu->reg_slot_gone, 0))
		return;
	viommu->tracked = false;
	kvm_viommu_unpoll(viommu);
}

/*
 * No memslot at the page's place is the unit's page: guest writes there
 * reach nobody until one is.  Look again, 1 ms later and then less and
 * less often.  Called with the lock.
 */
static void kvm_viommu_lost_slot(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	viommu->tracked = false;
	kvm_viommu_unpoll(viommu);
	if (viommu->dead || !viommu->sc_flags)
		return;
	queue_delayed_work(kvm_viommu_wq, &viommu->rearm_work,
			   msecs_to_jiffies(viommu->rearm_delay_ms));
	viommu->rearm_delay_ms = min(2 * viommu->rearm_delay_ms,
				     KVM_VIOMMU_REARM_MAX_MS);
}

/*
 * Have KVM trap the page's writes again.  Once KVM has write-protected the
 * page for every vCPU, guest writes come through the notifier; what the
 * guest wrote before that waits in the page, and the next queue run (one
 * is queued) applies it.  Called with the lock, with the sidecore on.
 */
static void kvm_viommu_sidecore_track(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_sync_slot(viommu);
	if (viommu->tracked || !viommu->sc_flags)
		return;
	if (!kvm_viommu_track_add(viommu)) {
		kvm_viommu_lost_slot(viommu);
		return;
	}
	viommu->tracked = true;
	viommu->rearm_delay_ms = 1;
	kvm_viommu_unpoll(viommu);
	atomic_set(&viommu->drain_pending, 1);
	kvm_viommu_iq_kick(viommu);
}

/**
 * kvm_viommu_sidecore_publishing() - the unit is about to publish
 * @viommu: the unit, locked, with the sidecore on
 *
 * Nothing that is not quiet is shown on a page KVM does not track: if the
 * unit is not quiet, the tracking takes hold first.
 */
void kvm_viommu_sidecore_publishing(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_sync_slot(viommu);
	if (!viommu->tracked && !kvm_viommu_regs_quiet(viommu))
		kvm_viommu_sidecore_track(viommu);
}

/*
 * The poller goes idle: the page goes back to KVM's tracking, so that the
 * guest's next write reaches the unit (and wakes the poller).  Only with a
 * trylock: the poller serves other VMs, and this unit's lock may be held
 * for long (a pin waiting on a userfaultfd).  Returns false if the lock
 * was busy and the page may still be polled: the poller then leaves the
 * unit to its lock's holder, whose unlock wakes it (poller.c).
 */
bool kvm_viommu_sidecore_park(struct kvm_viommu *viommu)
{
	if (!mutex_trylock(&viommu->lock))
		return !READ_ONCE(viommu->polled);
	/* Under the lock: its next holder's unlock no longer wakes us. */
	WRITE_ONCE(viommu->lock_retry, false);
	if (viommu->polled)
		kvm_viommu_sidecore_track(viommu);
	kvm_viommu_unlock(viommu);
	return true;
}

/*
 * The poller is busy: lift the tracking if the unit is quiet.  Writes
 * that KVM trapped just before still reach the notifier; the poller may
 * find the same bytes in the page and apply them too, which for every
 * VT-d register is the same as applying them once (see the rst).  Only a
 * tracked page goes to the poller: one whose memslot went is re-armed
 * (tracked) first.  Returns false if the unit's lock was busy: the poller
 * tries again on its rounds, and its holder's unlock wakes a poller that
 * sleeps (poller.c).  The lock is busy most often right after the kick, as
 * the vCPU thread whose tracked write kicked applies it.
 */
bool kvm_viommu_sidecore_unpark(struct kvm_viommu *viommu)
{
	if (!mutex_trylock(&viommu->lock))
		return false;
	WRITE_ONCE(viommu->lock_retry, false);
	kvm_viommu_sync_slot(viommu);
	if (!viommu->dead && !viommu->cnt.failed && viommu->tracked &&
	    viommu->sc_flags & KVM_VIOMMU_SIDECORE_POLL &&
	    kvm_viommu_regs_quiet(viommu)) {
		viommu->tracked = false;
		if (kvm_viommu_track_remove(viommu)) {
			viommu->polled = true;
			viommu->cnt.unparks++;
			trace_kvm_viommu_sidecore(viommu->id, true);
		} else {
			kvm_viommu_lost_slot(viommu);
		}
	}
	kvm_viommu_unlock(viommu);
	return true;
}

/*
 * A tracked write, in the vCPU thread that made it, before it runs on.  It
 * waits for the unit's lock (killably): the guest reads the write's effect
 * with its next instruction.  What the page holds that no tracking took
 * (polled writes, or writes made before the tracking took hold) is older
 * than this write, and goes first.
 */
static void kvm_viommu_twrite_fn(struct callback_head *head)
{
	struct kvm_viommu_twrite *tw =
		container_of(head, struct kvm_viommu_twrite, twork);
	struct kvm_viommu *viommu = tw->viommu;

	if (current->mm == viommu->kvm->mm &&
	    !mutex_lock_killable(&viommu->lock)) {
		if (!viommu->dead && !viommu->cnt.failed) {
			kvm_viommu_run_begin(viommu, false);
			if (viommu->sc_flags &&
			    (viommu->polled ||
			     atomic_read(&viommu->drain_pending)))
				kvm_viommu_page_drain(viommu);
			kvm_viommu_reg_apply_bytes(viommu, tw->off, tw->val,
						   tw->bytes);
			/* What the write let go on, as far as a short run goes. */
			kvm_viommu_iq_run(viommu, false);
		}
		kvm_viommu_unlock(viommu);
	}
	kvm_viommu_put(viommu);
	kfree(tw);
	kvm_viommu_twork_done();
}

/*
 * KVM emulated a guest write to a write-tracked page of this VM: ours, or
 * another's (KVM calls every notifier).  The bytes are in the page; the
 * unit applies them from a task work of this vCPU thread (see above).
 */
void kvm_viommu_track_write(struct kvm_page_track_notifier_node *node,
			    gpa_t gpa, const u8 *new, int bytes)
{
	struct kvm_viommu *viommu =
		container_of(node, struct kvm_viommu, track_node);
	u32 off = offset_in_page(gpa);
	struct kvm_viommu_twrite *tw;

	if (gpa_to_gfn(gpa) != READ_ONCE(viommu->reg_gfn) ||
	    !READ_ONCE(viommu->sc_flags))
		return;
	if (bytes <= 0 || bytes > sizeof(tw->val) || off + bytes > PAGE_SIZE)
		return;
	atomic64_inc(&viommu->nr_tracked_writes);
	kvm_viommu_poller_kick(viommu);
	/*
	 * A tail, as a doorbell rings: the newest tail wins, and the queue
	 * is processed in this vCPU's thread if it can (iq.c).
	 */
	if (off == VTD_IQT_REG && bytes == 4) {
		__le32 v;

		memcpy(&v, new, sizeof(v));
		atomic_set(&viommu->pending_qt,
			   vtd_field(le32_to_cpu(v), VTD_IQT_QT));
		kvm_viommu_iq_ring(viommu);
		return;
	}
	tw = kzalloc(sizeof(*tw), GFP_KERNEL_ACCOUNT);
	if (!tw) {
		/*
		 * The bytes are in the page: the worker drains them.  Only a
		 * write that leaves the page as it was (a 1 over a set RW1C
		 * bit) is lost so, with the VM out of memory.
		 */
		atomic_set(&viommu->drain_pending, 1);
		kvm_viommu_iq_kick(viommu);
		return;
	}
	tw->viommu = viommu;
	tw->off = off;
	tw->bytes = bytes;
	memcpy(tw->val, new, bytes);
	init_task_work(&tw->twork, kvm_viommu_twrite_fn);
	kvm_viommu_get(viommu);
	kvm_viommu_twork_start();
	if (task_work_add(current, &tw->twork, TWA_RESUME)) {
		/* This thread is exiting: so is its VM. */
		kvm_viommu_put(viommu);
		kfree(tw);
		kvm_viommu_twork_done();
	}
}

/*
 * KVM is deleting or moving a memslot (6.1: about to, and the change may
 * yet be undone; 6.12: it has deleted it), with its slots_lock held: if it
 * is the register page's, our tracking goes with it.  On 6.1 we take our
 * count off the slot here, so that it is gone whether or not the change
 * completes.  The unit takes the loss in under its lock, and looks for the
 * memslot again.
 */
void kvm_viommu_track_slot_gone(struct kvm_page_track_notifier_node *node,
				struct kvm_memory_slot *slot, gfn_t gfn,
				unsigned long nr_pages)
{
	struct kvm_viommu *viommu =
		container_of(node, struct kvm_viommu, track_node);
	gfn_t reg = READ_ONCE(viommu->reg_gfn);

	if (reg < gfn || reg - gfn >= nr_pages)
		return;
	spin_lock(&viommu->track_lock);
	if (viommu->track_held && slot)
		kvm_viommu_track_slot_remove(viommu->kvm, slot, reg);
	viommu->track_held = false;
	spin_unlock(&viommu->track_lock);
	atomic_set(&viommu->reg_slot_gone, 1);
	mod_delayed_work(kvm_viommu_wq, &viommu->rearm_work, 0);
}

/*
 * The register page's memslot went (the VMM deleted or moved it, as VMMs
 * do when they rebuild their memory map), or was not the unit's page when
 * last looked at: until a memslot at the same place is backed by the page
 * again, guest writes there reach nobody.  Whenever the page is neither
 * tracked nor polled, track it again, or look again later.
 */
static void kvm_viommu_rearm_fn(struct work_struct *work)
{
	struct kvm_viommu *viommu =
		container_of(to_delayed_work(work), struct kvm_viommu,
			     rearm_work);

	mutex_lock(&viommu->lock);
	if (viommu->dead || !viommu->sc_flags)
		goto out;
	kvm_viommu_sync_slot(viommu);
	if (!viommu->tracked && !viommu->polled)
		kvm_viommu_sidecore_track(viommu);
out:
	kvm_viommu_unlock(viommu);
}

/*
 * Turn the sidecore off.  Interrupts held for the VMM's routing go out:
 * from now on the relay tells the VMM of every message change as it
 * happens (KVM_VIOMMU_REG_EVENT_IRQ_MSG), so nothing is left to wait for.
 * Called with the lock.
 */
static void kvm_viommu_sidecore_off(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->sc_flags)
		kvm_viommu_track_remove(viommu);
	viommu->tracked = false;
	viommu->polled = false;
	atomic_set(&viommu->drain_pending, 0);
	WRITE_ONCE(viommu->sc_flags, 0);
	if (viommu->msg_ctx)
		eventfd_ctx_put(viommu->msg_ctx);
	viommu->msg_ctx = NULL;
	kvm_viommu_irqs_unhold(viommu);
}

/* KVM_VIOMMU_SET_SIDECORE */
int kvm_viommu_set_sidecore(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_sidecore *cmd = ucmd->cmd;
	struct eventfd_ctx *msg_ctx = NULL;
	gfn_t gfn = gpa_to_gfn(cmd->reg_gpa);
	int ret;

	if (cmd->__reserved ||
	    (cmd->flags != 0 && cmd->flags != KVM_VIOMMU_SIDECORE_TRACK &&
	     cmd->flags != (KVM_VIOMMU_SIDECORE_TRACK |
			    KVM_VIOMMU_SIDECORE_POLL)))
		return -EINVAL;
	if (cmd->flags) {
		if (offset_in_page(cmd->reg_gpa))
			return -EINVAL;
		msg_ctx = eventfd_ctx_fdget(cmd->msg_fd);
		if (IS_ERR(msg_ctx))
			return PTR_ERR(msg_ctx);
	}

	ret = kvm_viommu_lock(viommu);
	if (ret)
		goto out_put;
	if (!cmd->flags) {
		/* What the guest wrote into the page and nobody applied yet. */
		if (viommu->sc_flags && (viommu->polled ||
					 atomic_read(&viommu->drain_pending))) {
			kvm_viommu_run_begin(viommu, true);
			kvm_viommu_page_drain(viommu);
			kvm_viommu_iq_kick(viommu);
		}
		kvm_viommu_sidecore_off(viommu);
		goto out_unlock;
	}
	/* A memslot change not taken in yet: the state below must know. */
	if (viommu->sc_flags)
		kvm_viommu_sync_slot(viommu);
	ret = -EBUSY;
	if (viommu->sc_flags && gfn != viommu->reg_gfn)
		goto out_unlock;
	ret = -EINVAL;
	if (!kvm_viommu_reg_slot_ok(viommu, gfn))
		goto out_unlock;
	/*
	 * Where a kernel without the tracking would refuse; a unit already
	 * on may keep what it has, or drop the poller, but not add it.
	 */
	ret = -EOPNOTSUPP;
	if (cmd->flags & ~viommu->sc_flags && !READ_ONCE(allow_sidecore))
		goto out_unlock;
	if (!viommu->track_registered) {
		kvm_viommu_track_node_init(&viommu->track_node);
		ret = kvm_viommu_track_register(viommu->kvm,
						&viommu->track_node);
		if (ret)
			goto out_unlock;
		viommu->track_registered = true;
	}
	if (!viommu->sc_flags) {
		kvm_viommu_regs_sidecore_begin(viommu);
		WRITE_ONCE(viommu->reg_gfn, gfn);
		/* A change of an earlier memslot there says nothing now. */
		atomic_set(&viommu->reg_slot_gone, 0);
	}
	swap(viommu->msg_ctx, msg_ctx);
	WRITE_ONCE(viommu->sc_flags, cmd->flags);
	ret = 0;
	/* Tracked, unless the poller has the page and keeps it. */
	if (!viommu->polled || !(cmd->flags & KVM_VIOMMU_SIDECORE_POLL))
		kvm_viommu_sidecore_track(viommu);
out_unlock:
	kvm_viommu_unlock(viommu);
	/* Whatever the flags are now, also after a call racing this one. */
	kvm_viommu_poller_sync(viommu);
out_put:
	if (msg_ctx)
		eventfd_ctx_put(msg_ctx);
	return ret;
}

/*
 * The unit's release, before it is marked dead: no poller, no tracking,
 * no notifier, no re-arming after this.
 */
void kvm_viommu_sidecore_release(struct kvm_viommu *viommu)
{
	mutex_lock(&viommu->lock);
	kvm_viommu_sidecore_off(viommu);
	kvm_viommu_unlock(viommu);
	kvm_viommu_poller_sync(viommu);
	/* Waits for notifier calls in progress; none comes after. */
	if (viommu->track_registered)
		kvm_viommu_track_unregister(viommu->kvm, &viommu->track_node);
	cancel_delayed_work_sync(&viommu->rearm_work);
}

void kvm_viommu_sidecore_init(struct kvm_viommu *viommu)
{
	INIT_DELAYED_WORK(&viommu->rearm_work, kvm_viommu_rearm_fn);
	INIT_LIST_HEAD(&viommu->poll_node);
	spin_lock_init(&viommu->track_lock);
	viommu->rearm_delay_ms = 1;
}

/*
 * An interrupt message register changed under the sidecore: tell the VMM,
 * which routes it anew, and hold that interrupt back until it has.
 * Called with the lock.
 */
void kvm_viommu_irq_msg_changed(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	viommu->irq_msg_gen++;
	if (viommu->msg_ctx)
		kvm_viommu_eventfd_signal(viommu->msg_ctx);
}

/* KVM_VIOMMU_GET_IRQ_MSGS */
int kvm_viommu_get_irq_msgs(struct kvm_viommu_ucmd *ucmd)
{
	static const u32 regs[KVM_VIOMMU_NR_IRQS][3] = {
		[KVM_VIOMMU_IRQ_INV_COMPLETION] = {
			VTD_IEDATA_REG, VTD_IEADDR_REG, VTD_IEUADDR_REG },
		[KVM_VIOMMU_IRQ_FAULT] = {
			VTD_FEDATA_REG, VTD_FEADDR_REG, VTD_FEUADDR_REG },
	};
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_irq_msgs *cmd = ucmd->cmd;
	unsigned int i;
	int ret;

	if (cmd->flags)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	cmd->gen = viommu->irq_msg_gen;
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		cmd->msg[i].data = vtd_get32(&viommu->vtd, regs[i][0]);
		cmd->msg[i].addr_lo = vtd_get32(&viommu->vtd, regs[i][1]);
		cmd->msg[i].addr_hi = vtd_get32(&viommu->vtd, regs[i][2]);
		cmd->msg[i].__reserved = 0;
	}
	viommu->irq_msg_read = viommu->irq_msg_gen;
	kvm_viommu_unlock(viommu);
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}
