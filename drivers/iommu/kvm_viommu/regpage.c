// SPDX-License-Identifier: GPL-2.0-only
/*
 * The register page: what the guest reads.
 *
 * The VT-d core keeps the unit's registers in an image of its own
 * (@viommu->regs).  The page the VMM maps into the guest is a copy of it,
 * brought up to date (published) before the unit's lock is let go, and
 * before anything the guest may act on next: an invalidation-wait status
 * write (guest.c), an interrupt.  A guest that sees a wait complete so
 * also sees IQH past it and every fault status the queue run set.
 *
 * Publishing is also where the unit says what a register reads while the
 * host still works on what a command started.  The core completes a
 * register-based command at once: GSTS.TES follows GCMD.TE, CCMD.ICC and
 * IOTLB_REG.IVT read 0 after the write.  But the shadow work behind it (a
 * walk the queue run's budget cut short, old leaves still to unmap after
 * translation went on or off) finishes in later runs, and until then a
 * device may still reach what the guest believes gone.  So while any
 * such work is pending, the guest reads the command as still in progress,
 * as hardware shows a slow one: GSTS as it was before the command (with
 * RTPS/IRTPS clear for SRTP/SIRTP), ICC and IVT set.  The queued path
 * needs no such care: its wait descriptors complete only after the work
 * (kvm_viommu_iq_run()).
 *
 * All under the unit's lock.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "kvm_viommu.h"
#include "shadow.h"

/* What a register reads while the command behind it is in progress. */
#define KVM_VIOMMU_HOLD_GSTS	BIT(0)
#define KVM_VIOMMU_HOLD_CCMD	BIT(1)
#define KVM_VIOMMU_HOLD_IOTLB	BIT(2)

/* The register page's parts that hold registers (vtd.h's placement). */
static const struct {
	u32 start;
	u32 end;
} kvm_viommu_reg_ranges[] = {
	{ 0, VTD_IOTLB_REG + 8 },
	{ VTD_FRCD_REG, VTD_FRCD_REG + 16 * VTD_NR_FRCD },
};

int kvm_viommu_regs_init(struct kvm_viommu *viommu)
{
	viommu->regs = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	return viommu->regs ? 0 : -ENOMEM;
}

void kvm_viommu_regs_free(struct kvm_viommu *viommu)
{
	kfree(viommu->regs);
}

static __le32 *kvm_viommu_page32(struct kvm_viommu *viommu, u32 off)
{
	return page_address(viommu->reg_page) + off;
}

/* The 32-bit register at @off, as the guest is to read it now. */
u32 kvm_viommu_reg_view(struct kvm_viommu *viommu, u32 off)
{
	u32 v = vtd_get32(&viommu->vtd, off);

	lockdep_assert_held(&viommu->lock);
	if (!viommu->hold)
		return v;
	if (off == VTD_GSTS_REG && viommu->hold & KVM_VIOMMU_HOLD_GSTS)
		return viommu->held_gsts;
	if (off == VTD_CCMD_REG + 4 && viommu->hold & KVM_VIOMMU_HOLD_CCMD)
		return v | upper_32_bits(VTD_CCMD_ICC);
	if (off == VTD_IOTLB_REG + 4 && viommu->hold & KVM_VIOMMU_HOLD_IOTLB)
		return v | upper_32_bits(VTD_IOTLB_IVT);
	return v;
}

/**
 * kvm_viommu_publish() - bring the guest's register page up to date
 * @viommu: the unit, locked
 *
 * Ends the holds whose work is done, then copies every register that
 * reads differently now.  Stores only, in offset order; the caller's
 * next guest-visible write is ordered after them.
 */
void kvm_viommu_publish(struct kvm_viommu *viommu)
{
	unsigned int i;
	__le32 v, *p;
	u32 off;

	lockdep_assert_held(&viommu->lock);
	if (viommu->hold && !kvm_viommu_shadow_pending(viommu))
		viommu->hold = 0;
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++) {
		for (off = kvm_viommu_reg_ranges[i].start;
		     off < kvm_viommu_reg_ranges[i].end; off += 4) {
			v = cpu_to_le32(kvm_viommu_reg_view(viommu, off));
			p = kvm_viommu_page32(viommu, off);
			if (READ_ONCE(*p) != v)
				WRITE_ONCE(*p, v);
		}
	}
	/* The guest's next status word, interrupt or read comes after. */
	smp_wmb();
}

/* The unit's lock goes: the guest sees all it did. */
void kvm_viommu_unlock(struct kvm_viommu *viommu)
{
	kvm_viommu_publish(viommu);
	mutex_unlock(&viommu->lock);
}

/* Does the @len-byte write at @off write the 32-bit register at @reg? */
static bool kvm_viommu_writes(u32 off, u32 len, u32 reg, u64 val, u32 *v)
{
	if (reg < off || reg >= off + len)
		return false;
	*v = val >> (8 * (reg - off));
	return true;
}

/*
 * After a guest write of @val to @off (@len bytes) and the queue run that
 * followed it: hold what a command reads if its shadow work is not done.
 * @gsts: GSTS before the write.
 */
static void kvm_viommu_hold(struct kvm_viommu *viommu, u32 off, u32 len,
			    u64 val, u32 gsts)
{
	u32 v;

	if (!kvm_viommu_shadow_pending(viommu))
		return;
	if (kvm_viommu_writes(off, len, VTD_GCMD_REG, val, &v)) {
		if (!(viommu->hold & KVM_VIOMMU_HOLD_GSTS)) {
			viommu->held_gsts = gsts;
			viommu->hold |= KVM_VIOMMU_HOLD_GSTS;
		}
		if (v & VTD_GCMD_SRTP)
			viommu->held_gsts &= ~VTD_GSTS_RTPS;
		if (v & VTD_GCMD_SIRTP)
			viommu->held_gsts &= ~VTD_GSTS_IRTPS;
	}
	if (kvm_viommu_writes(off, len, VTD_CCMD_REG + 4, val, &v) &&
	    v & upper_32_bits(VTD_CCMD_ICC))
		viommu->hold |= KVM_VIOMMU_HOLD_CCMD;
	if (kvm_viommu_writes(off, len, VTD_IOTLB_REG + 4, val, &v) &&
	    v & upper_32_bits(VTD_IOTLB_IVT))
		viommu->hold |= KVM_VIOMMU_HOLD_IOTLB;
}

/**
 * kvm_viommu_reg_write_guest() - a guest register write, with its effects
 * @viommu: the unit, locked, in a context that may run the queue
 * @off: register offset, aligned to @len
 * @len: 4 or 8
 * @val: the value written
 *
 * An earlier doorbell's tail goes first, then the write, then a full
 * queue run for what the write started or let go on; what the run leaves
 * over goes to the worker, and a command it concerns reads as in
 * progress until then.
 *
 * Return: 0, or -EINVAL for a bad @off or @len.
 */
int kvm_viommu_reg_write_guest(struct kvm_viommu *viommu, u32 off, u32 len,
			       u64 val)
{
	struct vtd_unit *vtd = &viommu->vtd;
	u32 gsts;
	int ret;

	lockdep_assert_held(&viommu->lock);
	kvm_viommu_iq_run(viommu, true);
	gsts = kvm_viommu_reg_view(viommu, VTD_GSTS_REG);
	ret = vtd_reg_write(vtd, off, len, val);
	if (ret)
		return ret;
	kvm_viommu_iq_run(viommu, true);
	kvm_viommu_hold(viommu, off, len, val, gsts);
	return 0;
}
