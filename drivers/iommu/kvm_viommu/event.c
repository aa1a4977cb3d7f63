// SPDX-License-Identifier: GPL-2.0-only
/*
 * Descriptors the unit accepts but leaves to the VMM (interrupt-entry cache
 * and device-TLB invalidations) wait in a small ring until the VMM read()s
 * them, numbered in queue order.  The queue run never lets the ring
 * overflow: it processes no more descriptors than the ring has room for,
 * so a VMM that does not read stalls the guest's queue, as a slow IOMMU
 * would, and loses nothing.
 *
 * Hardware completes an invalidation wait only after every descriptor
 * before it.  For a forwarded one that means after the VMM has acted on
 * it, which it says with KVM_VIOMMU_ACK_EVENTS: until every event pushed
 * is acknowledged, the queue stops at the next wait descriptor (the VT-d
 * core's ->wait_ready()), and the acknowledgment runs it on.
 */
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "kvm_viommu.h"

/* Called with viommu->lock held. */
unsigned int kvm_viommu_event_space(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return KVM_VIOMMU_EVENT_RING - viommu->ev_count;
}

/*
 * Called with viommu->lock held, with room (see kvm_viommu_iq_run()).
 * @flags: KVM_VIOMMU_EVENT_* flags of the event.
 */
void kvm_viommu_event_push(struct kvm_viommu *viommu,
			   const struct vtd_inv_desc *desc, u32 flags)
{
	struct kvm_viommu_event *ev;

	lockdep_assert_held(&viommu->lock);
	if (WARN_ON_ONCE(!kvm_viommu_event_space(viommu)))
		return;
	ev = &viommu->events[(viommu->ev_head + viommu->ev_count) %
			     KVM_VIOMMU_EVENT_RING];
	ev->type = KVM_VIOMMU_EVENT_DESC;
	ev->flags = flags;
	ev->seq = ++viommu->ev_seq;
	ev->desc[0] = desc->lo;
	ev->desc[1] = desc->hi;
	WRITE_ONCE(viommu->ev_count, viommu->ev_count + 1);
	wake_up_interruptible_poll(&viommu->event_wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * The VT-d core asks before completing a wait descriptor: has the VMM
 * acknowledged every event pushed so far?  Called with viommu->lock held.
 */
bool kvm_viommu_events_acked(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->ev_acked_seq == viommu->ev_seq) {
		viommu->ack_stalled = false;
		return true;
	}
	if (!viommu->ack_stalled) {
		viommu->ack_stalled = true;
		viommu->cnt.ack_stalls++;
	}
	viommu->run_stalled = true;
	return false;
}

/*
 * read() on the unit fd: whole events only, oldest first.  The events are
 * copied out without the unit's lock (a VMM's faulting buffer must not
 * hold the unit up), and taken off the ring once copied; @read_lock keeps
 * readers from taking the same ones twice.
 */
ssize_t kvm_viommu_event_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct kvm_viommu *viommu = file->private_data;
	struct kvm_viommu_event evs[8];
	unsigned int n, i;
	ssize_t ret;

	if (count < sizeof(struct kvm_viommu_event))
		return -EINVAL;
	ret = mutex_lock_killable(&viommu->read_lock);
	if (ret)
		return ret;
	for (;;) {
		ret = kvm_viommu_lock(viommu);
		if (ret)
			goto out;
		if (viommu->ev_count)
			break;
		kvm_viommu_unlock(viommu);
		ret = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			goto out;
		ret = wait_event_interruptible(viommu->event_wq,
					       READ_ONCE(viommu->ev_count));
		if (ret)
			goto out;
	}
	n = min3(viommu->ev_count, (unsigned int)ARRAY_SIZE(evs),
		 (unsigned int)(count / sizeof(evs[0])));
	for (i = 0; i < n; i++)
		evs[i] = viommu->events[(viommu->ev_head + i) %
					KVM_VIOMMU_EVENT_RING];
	kvm_viommu_unlock(viommu);

	ret = -EFAULT;
	if (copy_to_user(buf, evs, n * sizeof(evs[0])))
		goto out;

	/* Only readers take events off, and we are the one reader. */
	mutex_lock(&viommu->lock);
	viommu->ev_head = (viommu->ev_head + n) % KVM_VIOMMU_EVENT_RING;
	WRITE_ONCE(viommu->ev_count, viommu->ev_count - n);
	viommu->ev_read_seq = evs[n - 1].seq;
	kvm_viommu_coherence_read(viommu);
	kvm_viommu_unlock(viommu);
	ret = n * sizeof(evs[0]);
	/* Room again: let a queue stalled on a full ring go on. */
	kvm_viommu_iq_kick(viommu);
out:
	mutex_unlock(&viommu->read_lock);
	return ret;
}

__poll_t kvm_viommu_event_poll(struct file *file, poll_table *wait)
{
	struct kvm_viommu *viommu = file->private_data;

	poll_wait(file, &viommu->event_wq, wait);
	return READ_ONCE(viommu->ev_count) ? EPOLLIN | EPOLLRDNORM : 0;
}

/*
 * KVM_VIOMMU_ACK_EVENTS.  A queue stalled for it runs on at once, in the
 * VMM's thread, as a relayed register write would.
 */
int kvm_viommu_ack_events(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_ack_events *cmd = ucmd->cmd;
	int ret;

	if (cmd->flags & ~KVM_VIOMMU_ACK_IRQ_MSGS)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	if (cmd->flags) {
		ret = kvm_viommu_irqs_routed(viommu, cmd->seq);
	} else if (cmd->seq > viommu->ev_read_seq) {
		ret = -EINVAL;
	} else if (cmd->seq > viommu->ev_acked_seq) {
		viommu->ev_acked_seq = cmd->seq;
		if (viommu->ack_stalled)
			kvm_viommu_iq_run(viommu, true);
	}
	kvm_viommu_unlock(viommu);
	return ret;
}
