// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unit's interrupts (invalidation completion, fault event) leave
 * through eventfds that the VMM wires to KVM_IRQFD, on a GSI it routes to
 * the message the guest programmed (IEDATA/IEADDR, FEDATA/FEADDR).
 */
#include <linux/eventfd.h>
#include <linux/kvm_host.h>

#include "compat.h"
#include "kvm_viommu.h"

/* KVM_VIOMMU_SET_IRQFD */
int kvm_viommu_set_irqfd(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_irqfd *cmd = ucmd->cmd;
	struct eventfd_ctx *ctx = NULL, *old;
	int ret;

	if (cmd->flags || cmd->irq >= KVM_VIOMMU_NR_IRQS)
		return -EINVAL;
	if (cmd->fd != -1) {
		ctx = eventfd_ctx_fdget(cmd->fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}

	ret = kvm_viommu_lock(viommu);
	if (ret) {
		if (ctx)
			eventfd_ctx_put(ctx);
		return ret;
	}
	old = viommu->irqfd[cmd->irq];
	viommu->irqfd[cmd->irq] = ctx;
	kvm_viommu_unlock(viommu);

	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/*
 * Called with viommu->lock held.  No eventfd: the interrupt is lost.  With
 * the sidecore on, a message the VMM has not routed yet holds it back
 * (kvm_viommu_irqs_routed() sends it).
 */
void kvm_viommu_send_irq(struct kvm_viommu *viommu, unsigned int irq)
{
	lockdep_assert_held(&viommu->lock);
	if (viommu->sc_flags && viommu->irq_msg_acked != viommu->irq_msg_gen) {
		viommu->irq_held |= BIT(irq);
		return;
	}
	if (viommu->irqfd[irq])
		kvm_viommu_eventfd_signal(viommu->irqfd[irq]);
}

/*
 * The VMM routed the messages of @gen (KVM_VIOMMU_ACK_EVENTS with
 * KVM_VIOMMU_ACK_IRQ_MSGS): if none changed since, send what was held.
 * Called with viommu->lock held.
 */
int kvm_viommu_irqs_routed(struct kvm_viommu *viommu, u64 gen)
{
	unsigned int irq;

	lockdep_assert_held(&viommu->lock);
	if (gen > viommu->irq_msg_read)
		return -EINVAL;
	if (gen > viommu->irq_msg_acked)
		viommu->irq_msg_acked = gen;
	if (viommu->irq_msg_acked != viommu->irq_msg_gen)
		return 0;
	for (irq = 0; irq < KVM_VIOMMU_NR_IRQS; irq++)
		if (viommu->irq_held & BIT(irq) && viommu->irqfd[irq])
			kvm_viommu_eventfd_signal(viommu->irqfd[irq]);
	viommu->irq_held = 0;
	return 0;
}

void kvm_viommu_irqfds_release(struct kvm_viommu *viommu)
{
	unsigned int i;

	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		if (viommu->irqfd[i])
			eventfd_ctx_put(viommu->irqfd[i]);
		viommu->irqfd[i] = NULL;
	}
}
