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
 * With the sidecore on (sidecore.c) the guest writes the page too.  The
 * unit then keeps what it last published of each 32-bit word (@pub): a
 * word that differs is a guest write not yet applied, which publishing
 * leaves alone (compare-and-exchange against @pub) and kvm_viommu_page_drain()
 * applies.  GCMD, write-only, then reads as the enables in force, so that
 * a polled page shows every GCMD write that does anything.
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

/*
 * The order in which a drain applies the words the guest wrote, when it
 * finds several at once (a polled page says what was written, not in what
 * order): plain registers first, then controls, status clears, commands,
 * and the tail last, as a driver orders them (a root table address before
 * SRTP, a message before unmasking, IQA before QIE, descriptors' effects
 * after the commands that set them up).  Words not listed follow, in
 * offset order.
 */
static const u16 kvm_viommu_drain_order[] = {
	VTD_RTADDR_REG, VTD_RTADDR_REG + 4, VTD_CCMD_REG,
	VTD_FEDATA_REG, VTD_FEADDR_REG, VTD_FEUADDR_REG,
	VTD_IEDATA_REG, VTD_IEADDR_REG, VTD_IEUADDR_REG,
	VTD_IQA_REG, VTD_IQA_REG + 4, VTD_IRTA_REG, VTD_IRTA_REG + 4,
	VTD_IVA_REG, VTD_IVA_REG + 4,
	VTD_FECTL_REG, VTD_IECTL_REG, VTD_PMEN_REG,
	VTD_FSTS_REG, VTD_ICS_REG,
	VTD_GCMD_REG, VTD_CCMD_REG + 4, VTD_IOTLB_REG + 4,
	VTD_IQT_REG,
};

/* The message registers, by KVM_VIOMMU_IRQ_*. */
static bool kvm_viommu_is_msg_reg(u32 off)
{
	return (off >= VTD_FEDATA_REG && off <= VTD_FEUADDR_REG) ||
	       (off >= VTD_IEDATA_REG && off <= VTD_IEUADDR_REG);
}

int kvm_viommu_regs_init(struct kvm_viommu *viommu)
{
	viommu->regs = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	viommu->pub = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (viommu->regs && viommu->pub)
		return 0;
	kvm_viommu_regs_free(viommu);
	return -ENOMEM;
}

void kvm_viommu_regs_free(struct kvm_viommu *viommu)
{
	kfree(viommu->regs);
	kfree(viommu->pub);
	viommu->regs = NULL;
	viommu->pub = NULL;
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
	if (off == VTD_GCMD_REG && viommu->sc_flags) {
		v = kvm_viommu_reg_view(viommu, VTD_GSTS_REG);
		return (v & VTD_GSTS_TES ? VTD_GCMD_TE : 0) |
		       (v & VTD_GSTS_QIES ? VTD_GCMD_QIE : 0) |
		       (v & VTD_GSTS_IRES ? VTD_GCMD_IRE : 0) |
		       (v & VTD_GSTS_CFIS ? VTD_GCMD_CFI : 0);
	}
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

/*
 * Show @v in the page word @p (at @off) unless the guest wrote it since
 * we last did: that write is still to be applied, and a drain will.
 */
static void kvm_viommu_publish_word(struct kvm_viommu *viommu, __le32 *p,
				    u32 off, __le32 v)
{
	__le32 *pub = &viommu->pub[off / 4];
	u32 old;

	if (*pub == v)
		return;
	old = cmpxchg((__force u32 *)p, (__force u32)*pub, (__force u32)v);
	if (old == (__force u32)*pub || old == (__force u32)v)
		*pub = v;
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
	/* Nothing that is not quiet is shown on a page KVM does not track. */
	if (viommu->sc_flags && !viommu->tracked &&
	    !kvm_viommu_regs_quiet(viommu))
		kvm_viommu_sidecore_track(viommu);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++) {
		for (off = kvm_viommu_reg_ranges[i].start;
		     off < kvm_viommu_reg_ranges[i].end; off += 4) {
			v = cpu_to_le32(kvm_viommu_reg_view(viommu, off));
			p = kvm_viommu_page32(viommu, off);
			if (!viommu->sc_flags) {
				if (READ_ONCE(*p) != v)
					WRITE_ONCE(*p, v);
				viommu->pub[off / 4] = v;
				continue;
			}
			kvm_viommu_publish_word(viommu, p, off, v);
		}
	}
	/* The guest's next status word, interrupt or read comes after. */
	smp_wmb();
}

/* Is the guest's page in a state where a poller can see every write? */
bool kvm_viommu_regs_quiet(struct kvm_viommu *viommu)
{
	unsigned int i;

	lockdep_assert_held(&viommu->lock);
	if (viommu->hold || viommu->cnt.failed ||
	    !(kvm_viommu_reg_view(viommu, VTD_GSTS_REG) & VTD_GSTS_QIES) ||
	    kvm_viommu_reg_view(viommu, VTD_FSTS_REG) ||
	    kvm_viommu_reg_view(viommu, VTD_ICS_REG) ||
	    kvm_viommu_reg_view(viommu, VTD_FECTL_REG) & VTD_FECTL_IP ||
	    kvm_viommu_reg_view(viommu, VTD_IECTL_REG) & VTD_IECTL_IP)
		return false;
	for (i = 0; i < VTD_NR_FRCD; i++)
		if (kvm_viommu_reg_view(viommu, VTD_FRCD_REG + 16 * i + 12) &
		    upper_32_bits(VTD_FRCD_HI_F))
			return false;
	return true;
}

/* The sidecore goes on: what the page shows now is what was published. */
void kvm_viommu_regs_sidecore_begin(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	memcpy(viommu->pub, page_address(viommu->reg_page), VTD_REG_PAGE_SIZE);
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
 * kvm_viommu_reg_apply() - apply one guest register write
 * @viommu: the unit, locked, in a queue run or about to start one
 * @off: register offset, aligned to @len
 * @len: 4 or 8
 * @val: the value written
 *
 * The write's effects, and what a command it starts reads meanwhile; a
 * changed interrupt message is announced to the VMM under the sidecore.
 *
 * Return: 0, or -EINVAL for a bad @off or @len.
 */
int kvm_viommu_reg_apply(struct kvm_viommu *viommu, u32 off, u32 len,
			 u64 val)
{
	u32 gsts = kvm_viommu_reg_view(viommu, VTD_GSTS_REG);
	u64 before = 0;
	bool msg;
	int ret;

	lockdep_assert_held(&viommu->lock);
	msg = viommu->sc_flags && off + len <= VTD_REG_PAGE_SIZE &&
	      (kvm_viommu_is_msg_reg(off) ||
	       (len == 8 && kvm_viommu_is_msg_reg(off + 4)));
	if (msg)
		before = len == 8 ? vtd_get64(&viommu->vtd, off) :
				    vtd_get32(&viommu->vtd, off);
	ret = vtd_reg_write(&viommu->vtd, off, len, val);
	if (ret)
		return ret;
	kvm_viommu_hold(viommu, off, len, val, gsts);
	if (msg && before != (len == 8 ? vtd_get64(&viommu->vtd, off) :
				       vtd_get32(&viommu->vtd, off)))
		kvm_viommu_irq_msg_changed(viommu);
	return 0;
}

/*
 * A tracked write of @bytes bytes at @off (any size and alignment the
 * emulator produces): applied as writes of the 32-bit words it touches,
 * each with the bytes the guest did not write as the guest last read them.
 */
void kvm_viommu_reg_apply_bytes(struct kvm_viommu *viommu, u32 off,
				const u8 *val, u32 bytes)
{
	u32 w, start, end;
	__le32 word;

	lockdep_assert_held(&viommu->lock);
	for (w = off & ~3U; w < off + bytes && w < VTD_REG_PAGE_SIZE; w += 4) {
		word = viommu->pub[w / 4];
		start = max(off, w);
		end = min(off + bytes, w + 4);
		memcpy((u8 *)&word + (start - w), val + (start - off),
		       end - start);
		/* Our own bytes, still in the page: taken, not a new write. */
		if (READ_ONCE(*kvm_viommu_page32(viommu, w)) == word)
			viommu->pub[w / 4] = word;
		kvm_viommu_reg_apply(viommu, w, 4, le32_to_cpu(word));
	}
}

/* One word of the page: if the guest wrote it, apply the write. */
static unsigned int kvm_viommu_drain_word(struct kvm_viommu *viommu, u32 off)
{
	__le32 v = READ_ONCE(*kvm_viommu_page32(viommu, off));

	if (v == viommu->pub[off / 4])
		return 0;
	viommu->pub[off / 4] = v;
	kvm_viommu_reg_apply(viommu, off, 4, le32_to_cpu(v));
	return 1;
}

/**
 * kvm_viommu_page_drain() - apply what the guest wrote into the page
 * @viommu: the unit, locked, with the sidecore on, at a queue run's start
 *
 * Every word that differs from what was last published is a guest write
 * (polled, or made before KVM's tracking took hold): applied in
 * kvm_viommu_drain_order, then the rest by offset.  Publishing afterwards
 * shows what they made of the registers.
 *
 * Return: the number of words applied.
 */
unsigned int kvm_viommu_page_drain(struct kvm_viommu *viommu)
{
	unsigned int i, n = 0;
	u32 off;

	lockdep_assert_held(&viommu->lock);
	viommu->drain_pending = false;
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_drain_order); i++)
		n += kvm_viommu_drain_word(viommu, kvm_viommu_drain_order[i]);
	for (i = 0; i < VTD_NR_FRCD; i++)
		n += kvm_viommu_drain_word(viommu, VTD_FRCD_REG + 16 * i + 12);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++)
		for (off = kvm_viommu_reg_ranges[i].start;
		     off < kvm_viommu_reg_ranges[i].end; off += 4)
			n += kvm_viommu_drain_word(viommu, off);
	if (viommu->polled)
		viommu->cnt.polled_writes += n;
	return n;
}

/*
 * Has the guest written the page since the unit last published it?  For
 * the poller, without the lock: a racy look, which the drain under the
 * lock settles.
 */
bool kvm_viommu_page_written(struct kvm_viommu *viommu)
{
	const u8 *page = page_address(viommu->reg_page);
	const u8 *pub = (const u8 *)viommu->pub;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++)
		if (memcmp(page + kvm_viommu_reg_ranges[i].start,
			   pub + kvm_viommu_reg_ranges[i].start,
			   kvm_viommu_reg_ranges[i].end -
			   kvm_viommu_reg_ranges[i].start))
			return true;
	return false;
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
	int ret;

	lockdep_assert_held(&viommu->lock);
	kvm_viommu_iq_run(viommu, true);
	ret = kvm_viommu_reg_apply(viommu, off, len, val);
	if (ret)
		return ret;
	kvm_viommu_iq_run(viommu, true);
	return 0;
}
