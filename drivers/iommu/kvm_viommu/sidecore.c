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
 * Locking: the mode fields of struct kvm_viommu are under the unit's lock.
 * KVM calls the notifier with no lock of ours held; the memslot-gone
 * callback may come with KVM's slots_lock held, and only sets a flag and
 * queues a work.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "trace.h"

/* The longest a lost memslot is looked for again after, in ms. */
#define KVM_VIOMMU_REARM_MAX_MS	100

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

/* KVM dropped the page's tracking with its memslot: look for it again. */
static void kvm_viommu_lost_slot(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	viommu->tracked = false;
	if (viommu->polled) {
		viommu->polled = false;
		viommu->cnt.parks++;
	}
	if (!viommu->dead)
		queue_delayed_work(kvm_viommu_wq, &viommu->rearm_work,
				   msecs_to_jiffies(viommu->rearm_delay_ms));
}

/**
 * kvm_viommu_sidecore_track() - have KVM trap the page's writes again
 * @viommu: the unit, locked, with the sidecore on
 *
 * Once KVM has write-protected the page for every vCPU, guest writes come
 * through the notifier; what the guest wrote before that waits in the
 * page, and the next queue run (one is queued) applies it.
 */
void kvm_viommu_sidecore_track(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->tracked || !viommu->sc_flags)
		return;
	if (atomic_read(&viommu->reg_slot_gone) ||
	    kvm_viommu_track_gfn(viommu->kvm, viommu->reg_gfn, true)) {
		kvm_viommu_lost_slot(viommu);
		return;
	}
	viommu->tracked = true;
	viommu->rearm_delay_ms = 1;
	if (viommu->polled) {
		viommu->polled = false;
		viommu->cnt.parks++;
		trace_kvm_viommu_sidecore(viommu->id, false);
	}
	viommu->drain_pending = true;
	kvm_viommu_iq_kick(viommu);
}

/* Lift the tracking: the page is the poller's.  Called with the lock. */
static void kvm_viommu_sidecore_untrack(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (!viommu->tracked)
		return;
	if (!atomic_read(&viommu->reg_slot_gone))
		kvm_viommu_track_gfn(viommu->kvm, viommu->reg_gfn, false);
	viommu->tracked = false;
}

/*
 * The poller goes idle: the page goes back to KVM's tracking, so that the
 * guest's next write reaches the unit (and wakes the poller).
 */
void kvm_viommu_sidecore_park(struct kvm_viommu *viommu)
{
	mutex_lock(&viommu->lock);
	if (viommu->polled)
		kvm_viommu_sidecore_track(viommu);
	kvm_viommu_unlock(viommu);
}

/*
 * The poller is busy: lift the tracking if the unit is quiet.  Writes
 * that KVM trapped just before still reach the notifier; the poller may
 * find the same bytes in the page and apply them too, which for every
 * VT-d register is the same as applying them once (see the rst).
 */
void kvm_viommu_sidecore_unpark(struct kvm_viommu *viommu)
{
	mutex_lock(&viommu->lock);
	if (!viommu->dead && !viommu->cnt.failed && !viommu->polled &&
	    viommu->sc_flags & KVM_VIOMMU_SIDECORE_POLL &&
	    !atomic_read(&viommu->reg_slot_gone) &&
	    kvm_viommu_regs_quiet(viommu)) {
		kvm_viommu_sidecore_untrack(viommu);
		viommu->polled = true;
		viommu->cnt.unparks++;
		trace_kvm_viommu_sidecore(viommu->id, true);
	}
	kvm_viommu_unlock(viommu);
}

/* A tracked write, in the vCPU thread that made it, before it runs on. */
static void kvm_viommu_twrite_fn(struct callback_head *head)
{
	struct kvm_viommu_twrite *tw =
		container_of(head, struct kvm_viommu_twrite, twork);
	struct kvm_viommu *viommu = tw->viommu;

	if (current->mm == viommu->kvm->mm &&
	    !mutex_lock_killable(&viommu->lock)) {
		if (!viommu->dead && !viommu->cnt.failed) {
			kvm_viommu_run_begin(viommu, false);
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
	if (!tw)
		return;	/* the bytes stay in the page: a drain finds them */
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
 * KVM is deleting or moving a memslot (KVM's slots_lock held): if it is
 * the register page's, its tracking goes with it.
 */
void kvm_viommu_track_slot_gone(struct kvm_page_track_notifier_node *node,
				gfn_t gfn, unsigned long nr_pages)
{
	struct kvm_viommu *viommu =
		container_of(node, struct kvm_viommu, track_node);
	gfn_t reg = READ_ONCE(viommu->reg_gfn);

	if (reg < gfn || reg - gfn >= nr_pages)
		return;
	atomic_set(&viommu->reg_slot_gone, 1);
	queue_delayed_work(kvm_viommu_wq, &viommu->rearm_work, 0);
}

/*
 * The register page's memslot went (the VMM deleted or moved it, as VMMs
 * do when they rebuild their memory map): until a memslot at the same
 * place is backed by the page again, guest writes there reach nobody.
 * Look again, 1 ms after and then less and less often.
 */
static void kvm_viommu_rearm_fn(struct work_struct *work)
{
	struct kvm_viommu *viommu =
		container_of(to_delayed_work(work), struct kvm_viommu,
			     rearm_work);

	mutex_lock(&viommu->lock);
	if (viommu->dead || !viommu->sc_flags ||
	    !atomic_read(&viommu->reg_slot_gone))
		goto out;
	viommu->tracked = false;
	viommu->polled = false;
	if (!kvm_viommu_reg_slot_ok(viommu, viommu->reg_gfn)) {
		viommu->rearm_delay_ms = min(2 * viommu->rearm_delay_ms,
					     KVM_VIOMMU_REARM_MAX_MS);
		queue_delayed_work(kvm_viommu_wq, &viommu->rearm_work,
				   msecs_to_jiffies(viommu->rearm_delay_ms));
		goto out;
	}
	atomic_set(&viommu->reg_slot_gone, 0);
	kvm_viommu_sidecore_track(viommu);
out:
	kvm_viommu_unlock(viommu);
}

/* Turn the sidecore off.  Called with the lock. */
static void kvm_viommu_sidecore_off(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_sidecore_untrack(viommu);
	viommu->polled = false;
	viommu->drain_pending = false;
	viommu->sc_flags = 0;
	if (viommu->msg_ctx)
		eventfd_ctx_put(viommu->msg_ctx);
	viommu->msg_ctx = NULL;
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
		kvm_viommu_sidecore_off(viommu);
		goto out_unlock;
	}
	ret = -EBUSY;
	if (viommu->sc_flags && gfn != viommu->reg_gfn)
		goto out_unlock;
	ret = -EINVAL;
	if (!kvm_viommu_reg_slot_ok(viommu, gfn))
		goto out_unlock;
	if (!viommu->track_registered) {
		kvm_viommu_track_node_init(&viommu->track_node);
		ret = kvm_viommu_track_register(viommu->kvm,
						&viommu->track_node);
		if (ret)
			goto out_unlock;
		viommu->track_registered = true;
	}
	if (!viommu->sc_flags)
		kvm_viommu_regs_sidecore_begin(viommu);
	WRITE_ONCE(viommu->reg_gfn, gfn);
	atomic_set(&viommu->reg_slot_gone, 0);
	swap(viommu->msg_ctx, msg_ctx);
	WRITE_ONCE(viommu->sc_flags, cmd->flags);
	if (!(cmd->flags & KVM_VIOMMU_SIDECORE_POLL) && viommu->polled) {
		viommu->polled = false;
		viommu->cnt.parks++;
	}
	ret = 0;
	if (!viommu->tracked)
		kvm_viommu_sidecore_track(viommu);
out_unlock:
	kvm_viommu_unlock(viommu);
	if (!ret)
		kvm_viommu_poller_update(viommu, cmd->flags &
					 KVM_VIOMMU_SIDECORE_POLL);
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
	kvm_viommu_poller_update(viommu, false);
	mutex_lock(&viommu->lock);
	kvm_viommu_sidecore_off(viommu);
	kvm_viommu_unlock(viommu);
	/* Waits for notifier calls in progress; none comes after. */
	if (viommu->track_registered)
		kvm_viommu_track_unregister(viommu->kvm, &viommu->track_node);
	cancel_delayed_work_sync(&viommu->rearm_work);
}

void kvm_viommu_sidecore_init(struct kvm_viommu *viommu)
{
	INIT_DELAYED_WORK(&viommu->rearm_work, kvm_viommu_rearm_fn);
	INIT_LIST_HEAD(&viommu->poll_node);
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
