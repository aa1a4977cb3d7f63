// SPDX-License-Identifier: GPL-2.0-only
/*
 * The register page: what the guest reads.
 *
 * The VT-d core keeps the unit's registers in an image of its own
 * (@viommu->regs).  The page the VMM maps into the guest is a copy of it,
 * brought up to date (published) before the unit's lock is let go, and
 * before anything the guest may act on next: an invalidation-wait status
 * write (guest.c), an interrupt.  A guest that sees a wait complete so
 * also sees IQH past it and every fault status the queue run set.  The
 * shadow's unmaps gathered so far are synced out of the host IOTLBs first
 * (kvm_viommu_shadow_flush()): no invalidation reads as done before.
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
 * The words of the page depend on each other in one direction: a driver
 * writes a command's operands before the command, and the command before
 * the tail that starts the queue; the unit shows a command's results
 * before the status that says it is done.  So publishing stores the data
 * words first and the status words after them, and a drain reads the
 * words the other way round, the tail first (see kvm_viommu_word_class()).
 *
 * All under the unit's lock.
 */
#include <linux/bitmap.h>
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
 * What a word of the page is to the words around it, in the order a
 * driver writes them (a root table address before SRTP, a message before
 * unmasking, IQA before QIE, descriptors' effects after the commands that
 * set them up), and the order in which the unit shows them: data first,
 * then the status and control words, GCMD, the command words (CCMD's and
 * IOTLB_REG's high halves, which hold ICC and IVT), and the tail last.
 */
enum kvm_viommu_word_class {
	KVM_VIOMMU_WORD_PLAIN,
	KVM_VIOMMU_WORD_STATUS,
	KVM_VIOMMU_WORD_GCMD,
	KVM_VIOMMU_WORD_COMMAND,
	KVM_VIOMMU_WORD_TAIL,
	KVM_VIOMMU_NR_WORD_CLASSES
};

/*
 * Within a class, the order in which a drain applies the words it lists;
 * the class's other words follow, by offset.
 */
static const u16 kvm_viommu_drain_order[] __initconst = {
	VTD_RTADDR_REG, VTD_RTADDR_REG + 4, VTD_CCMD_REG,
	VTD_FEDATA_REG, VTD_FEADDR_REG, VTD_FEUADDR_REG,
	VTD_IEDATA_REG, VTD_IEADDR_REG, VTD_IEUADDR_REG,
	VTD_IQA_REG, VTD_IQA_REG + 4, VTD_IRTA_REG, VTD_IRTA_REG + 4,
	VTD_IVA_REG, VTD_IVA_REG + 4,
	VTD_FECTL_REG, VTD_IECTL_REG, VTD_PMEN_REG,
	VTD_FSTS_REG, VTD_ICS_REG,
};

/* The high word of a fault recording register, which holds its F bit. */
static bool kvm_viommu_is_frcd_f(u32 off)
{
	return off >= VTD_FRCD_REG && off < VTD_FRCD_REG + 16 * VTD_NR_FRCD &&
	       (off & 15) == 12;
}

static enum kvm_viommu_word_class kvm_viommu_word_class(u32 off)
{
	switch (off) {
	case VTD_IQT_REG:
		return KVM_VIOMMU_WORD_TAIL;
	case VTD_CCMD_REG + 4:
	case VTD_IOTLB_REG + 4:
		return KVM_VIOMMU_WORD_COMMAND;
	case VTD_GCMD_REG:
		return KVM_VIOMMU_WORD_GCMD;
	case VTD_GSTS_REG:
	case VTD_FSTS_REG:
	case VTD_FECTL_REG:
	case VTD_PMEN_REG:
	case VTD_ICS_REG:
	case VTD_IECTL_REG:
		return KVM_VIOMMU_WORD_STATUS;
	}
	return kvm_viommu_is_frcd_f(off) ? KVM_VIOMMU_WORD_STATUS :
					   KVM_VIOMMU_WORD_PLAIN;
}

/* The words whose bits a write of 1 clears (RW1C): FSTS, ICS, FRCD.F. */
static bool kvm_viommu_is_rw1c(u32 off)
{
	return off == VTD_FSTS_REG || off == VTD_ICS_REG ||
	       kvm_viommu_is_frcd_f(off);
}

/* The message registers, by KVM_VIOMMU_IRQ_*. */
static bool kvm_viommu_is_msg_reg(u32 off)
{
	return (off >= VTD_FEDATA_REG && off <= VTD_FEUADDR_REG) ||
	       (off >= VTD_IEDATA_REG && off <= VTD_IEUADDR_REG);
}

/* The words kvm_viommu_reg_ranges[] covers. */
#define KVM_VIOMMU_REG_WORDS	((VTD_IOTLB_REG + 8 + 16 * VTD_NR_FRCD) / 4)

/*
 * The page's register words in the order a drain applies them: class by
 * class, kvm_viommu_drain_order first within each, then the class's other
 * words by offset; and where each class begins.  Worked out once: a drain
 * runs at every polled write, and classifying each word there again cost
 * the poller more than all else it did.
 */
static u16 kvm_viommu_drain_seq[KVM_VIOMMU_REG_WORDS] __ro_after_init;
static u8 kvm_viommu_class_start[KVM_VIOMMU_NR_WORD_CLASSES + 1]
	__ro_after_init;

/* Add @off to the drain's order, if it is a register word not yet there. */
static int __init kvm_viommu_drain_seq_add(unsigned long *done, u32 off,
					   unsigned int *n)
{
	if (__test_and_set_bit(off / 4, done))
		return 0;
	if (*n == ARRAY_SIZE(kvm_viommu_drain_seq))
		return -EINVAL;
	kvm_viommu_drain_seq[(*n)++] = off;
	return 0;
}

/* The words of class @c, in the order a drain applies them. */
static int __init kvm_viommu_drain_seq_class(unsigned long *done,
					     enum kvm_viommu_word_class c,
					     unsigned int *n)
{
	unsigned int i;
	int ret = 0;
	u32 off;

	for (i = 0; i < ARRAY_SIZE(kvm_viommu_drain_order); i++) {
		off = kvm_viommu_drain_order[i];
		if (kvm_viommu_word_class(off) == c)
			ret |= kvm_viommu_drain_seq_add(done, off, n);
	}
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++)
		for (off = kvm_viommu_reg_ranges[i].start;
		     off < kvm_viommu_reg_ranges[i].end; off += 4)
			if (kvm_viommu_word_class(off) == c)
				ret |= kvm_viommu_drain_seq_add(done, off, n);
	return ret;
}

/*
 * At module load.  -EINVAL if kvm_viommu_drain_order names a word outside
 * the ranges, or the ranges outgrow KVM_VIOMMU_REG_WORDS: a drain would
 * then apply a word it never read.
 */
int __init kvm_viommu_regpage_init(void)
{
	DECLARE_BITMAP(done, VTD_REG_PAGE_SIZE / 4);
	unsigned int n = 0;
	int c, ret = 0;

	BUILD_BUG_ON(KVM_VIOMMU_REG_WORDS > U8_MAX);
	bitmap_zero(done, VTD_REG_PAGE_SIZE / 4);
	for (c = 0; c < KVM_VIOMMU_NR_WORD_CLASSES; c++) {
		kvm_viommu_class_start[c] = n;
		ret |= kvm_viommu_drain_seq_class(done, c, &n);
	}
	kvm_viommu_class_start[c] = n;
	if (ret || WARN_ON(n != KVM_VIOMMU_REG_WORDS))
		return -EINVAL;
	return 0;
}

int kvm_viommu_regs_init(struct kvm_viommu *viommu)
{
	viommu->regs = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	viommu->pub = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	viommu->snap = kzalloc(VTD_REG_PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (viommu->regs && viommu->pub && viommu->snap)
		return 0;
	kvm_viommu_regs_free(viommu);
	return -ENOMEM;
}

void kvm_viommu_regs_free(struct kvm_viommu *viommu)
{
	kfree(viommu->regs);
	kfree(viommu->pub);
	kfree(viommu->snap);
	viommu->regs = NULL;
	viommu->pub = NULL;
	viommu->snap = NULL;
}

static __le32 *kvm_viommu_page32(struct kvm_viommu *viommu, u32 off)
{
	return page_address(viommu->reg_page) + off;
}

/*
 * The 32-bit register at @off, as the guest is to read it now.  A word
 * this shows other than the core's image holds it must be one of
 * kvm_viommu_find_stale()'s view words, or publishing misses its changes.
 */
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
 *
 * Return: false if a guest write was left in the word for the drain.
 */
static bool kvm_viommu_publish_word(struct kvm_viommu *viommu, __le32 *p,
				    u32 off, __le32 v)
{
	__le32 *pub = &viommu->pub[off / 4];
	u32 old;

	if (*pub == v)
		return true;
	old = cmpxchg((__force u32 *)p, (__force u32)*pub, (__force u32)v);
	if (old != (__force u32)*pub && old != (__force u32)v)
		return false;
	*pub = v;
	return true;
}

/*
 * The words publishing looks at: kvm_viommu_reg_ranges[] ends with the
 * fault records, and the bitmap of stale words covers up to their end.
 */
#define KVM_VIOMMU_PUB_WORDS	((VTD_FRCD_REG + 16 * VTD_NR_FRCD) / 4)

/*
 * Mark in @stale the words publishing may have to store: those whose view
 * or page differs from what was published.  Publishing would skip the
 * others word by word anyway, at several times the cost (the view, the
 * class), and it runs at every unlock and every wait status.  A word's
 * view is the core's image except for the view words; the rest compare
 * eight bytes at a time (the ranges are 8-byte aligned).
 */
static bool kvm_viommu_find_stale(struct kvm_viommu *viommu,
				  unsigned long *stale)
{
	/* What kvm_viommu_reg_view() may show other than the image. */
	static const u16 view_words[] = {
		VTD_GCMD_REG, VTD_GSTS_REG, VTD_CCMD_REG + 4, VTD_IOTLB_REG + 4,
	};
	const u64 *image = (const u64 *)viommu->regs;
	const u64 *pub = (const u64 *)viommu->pub;
	const u64 *page = page_address(viommu->reg_page);
	bool any = false;
	unsigned int i;
	__le32 v;
	u32 q, w;

	/* The ranges, 8-byte aligned, end where the bitmap does. */
	BUILD_BUG_ON((VTD_IOTLB_REG + 8) % 8 || VTD_FRCD_REG % 8);
	BUILD_BUG_ON(VTD_IOTLB_REG + 8 > VTD_FRCD_REG);
	/* GCMD and GSTS share a quadword, and both are view words. */
	BUILD_BUG_ON(VTD_GCMD_REG % 8 || VTD_GSTS_REG != VTD_GCMD_REG + 4);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++) {
		for (q = kvm_viommu_reg_ranges[i].start / 8;
		     q < kvm_viommu_reg_ranges[i].end / 8; q++) {
			if (q == VTD_GCMD_REG / 8)
				continue;
			if (!((image[q] ^ pub[q]) | (READ_ONCE(page[q]) ^ pub[q])))
				continue;
			__set_bit(2 * q, stale);
			__set_bit(2 * q + 1, stale);
			any = true;
		}
	}
	for (i = 0; i < ARRAY_SIZE(view_words); i++) {
		w = view_words[i] / 4;
		v = cpu_to_le32(kvm_viommu_reg_view(viommu, 4 * w));
		if (v == viommu->pub[w] &&
		    READ_ONCE(((const __le32 *)page)[w]) == viommu->pub[w])
			continue;
		__set_bit(w, stale);
		any = true;
	}
	return any;
}

/*
 * After a publish: remember whether it showed every register (@shown),
 * and what the view depended on.  Only with the sidecore, the one mode
 * whose publish is skipped: without it a page word that differs from its
 * view is rewritten, so the page itself would have to be looked at.
 */
static void kvm_viommu_pub_remember(struct kvm_viommu *viommu, bool shown)
{
	viommu->pub_clean = shown && viommu->sc_flags;
	viommu->pub_gen = viommu->vtd.gen;
	viommu->pub_hold = viommu->hold;
	viommu->pub_held_gsts = viommu->held_gsts;
	viommu->pub_sc_flags = viommu->sc_flags;
}

/*
 * The skip's premise, checked where lockdep is (the debug kernel): every
 * word's view is what was published.  A store to the image that bypassed
 * vtd_set32()/vtd_set64() would break it.
 */
static void kvm_viommu_pub_check(struct kvm_viommu *viommu)
{
	unsigned int i;
	__le32 v;
	u32 off;

	if (!IS_ENABLED(CONFIG_PROVE_LOCKING))
		return;
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++) {
		for (off = kvm_viommu_reg_ranges[i].start;
		     off < kvm_viommu_reg_ranges[i].end; off += 4) {
			v = cpu_to_le32(kvm_viommu_reg_view(viommu, off));
			WARN_ON_ONCE(v != viommu->pub[off / 4]);
		}
	}
}

/*
 * Would a publish store nothing: has nothing changed since the last?
 * (@gen is 32 bits: a false match would take exactly 2^32 stores to the
 * image between two publishes, where a queue run's budget bounds what one
 * run stores, and every unlock publishes.)
 */
static bool kvm_viommu_pub_current(struct kvm_viommu *viommu)
{
	if (!viommu->pub_clean || viommu->pub_gen != viommu->vtd.gen ||
	    viommu->pub_hold != viommu->hold ||
	    viommu->pub_held_gsts != viommu->held_gsts ||
	    viommu->pub_sc_flags != viommu->sc_flags)
		return false;
	kvm_viommu_pub_check(viommu);
	return true;
}

/* A status word: one whose value says that the data words are ready. */
static bool kvm_viommu_is_status_word(u32 off)
{
	enum kvm_viommu_word_class c = kvm_viommu_word_class(off);

	return c == KVM_VIOMMU_WORD_STATUS || c == KVM_VIOMMU_WORD_GCMD ||
	       c == KVM_VIOMMU_WORD_COMMAND;
}

/*
 * Is a command's work still going on: shadow work, or an invalidation the
 * VMM has not acknowledged yet (coherence.c)?
 */
static bool kvm_viommu_cmd_pending(struct kvm_viommu *viommu)
{
	return kvm_viommu_shadow_pending(viommu) ||
	       kvm_viommu_coherence_pending(viommu);
}

/**
 * kvm_viommu_publish() - bring the guest's register page up to date
 * @viommu: the unit, locked
 *
 * Ends the holds whose work is done, then copies every register that
 * reads differently now: the data words first, then, after a write
 * barrier, the status words (GSTS, FSTS, ICS, FECTL, IECTL, PMEN, the
 * fault records' F bits, GCMD as the sidecore shows it, CCMD.ICC,
 * IOTLB_REG.IVT).  A guest that reads a status saying a command is done,
 * or a fault recorded, and then reads the data (a fault record, IQH),
 * sees the data published with it.  Stores only; the caller's next
 * guest-visible write is ordered after them.  When nothing differs from
 * what was published, nothing is stored and no barrier is issued: the
 * last publish's barrier ordered its stores, and a caller that needs its
 * own stores ordered before what follows fences them itself.
 *
 * With the sidecore, a publish that showed everything (no word left for
 * a drain) is remembered with what the view then depended on: the core's
 * image (its store count), the holds and the sidecore's flags.  Until one
 * of them or @pub changes, the next publish has nothing to store, and
 * returns before looking (it runs at every unlock and every wait status,
 * most often right after another).  A word the guest wrote meanwhile is
 * no reason to look either: a word whose view equals @pub is left alone
 * whatever the page holds (kvm_viommu_publish_word()), for the drain.
 */
void kvm_viommu_publish(struct kvm_viommu *viommu)
{
	DECLARE_BITMAP(stale, KVM_VIOMMU_PUB_WORDS) = { 0 };
	unsigned int pass, w;
	bool shown = true;
	__le32 v, *p;
	u32 off;

	lockdep_assert_held(&viommu->lock);
	kvm_viommu_shadow_flush(viommu, true);
	if (viommu->hold && !kvm_viommu_cmd_pending(viommu))
		viommu->hold = 0;
	/* Nothing that is not quiet is shown on a page KVM does not track. */
	if (viommu->sc_flags)
		kvm_viommu_sidecore_publishing(viommu);
	if (kvm_viommu_pub_current(viommu))
		return;
	if (!kvm_viommu_find_stale(viommu, stale)) {
		kvm_viommu_pub_remember(viommu, true);
		return;
	}
	for (pass = 0; pass < 2; pass++) {
		for_each_set_bit(w, stale, KVM_VIOMMU_PUB_WORDS) {
			off = 4 * w;
			if (kvm_viommu_is_status_word(off) != pass)
				continue;
			v = cpu_to_le32(kvm_viommu_reg_view(viommu, off));
			p = kvm_viommu_page32(viommu, off);
			if (!viommu->sc_flags) {
				if (READ_ONCE(*p) != v)
					WRITE_ONCE(*p, v);
				viommu->pub[w] = v;
				continue;
			}
			shown &= kvm_viommu_publish_word(viommu, p, off, v);
		}
		/*
		 * The data before the status; and the guest's next status
		 * word, interrupt or read after both.
		 */
		smp_wmb();
	}
	kvm_viommu_pub_remember(viommu, shown);
}

/* Is the guest's page in a state where a poller can see every write? */
bool kvm_viommu_regs_quiet(struct kvm_viommu *viommu)
{
	const struct vtd_unit *u = &viommu->vtd;
	unsigned int i;

	lockdep_assert_held(&viommu->lock);
	/*
	 * Past the hold check, the image is what the guest sees of these
	 * words (kvm_viommu_reg_view() differs from it only in GCMD and in
	 * what a hold shows): read directly, as this runs at every publish of
	 * a polled unit.
	 */
	/*
	 * FSTS's status bits only: FRI, the index of the first pending fault
	 * record, keeps its value when the faults are cleared.
	 */
	if (viommu->hold || viommu->cnt.failed ||
	    !(vtd_get32(u, VTD_GSTS_REG) & VTD_GSTS_QIES) ||
	    vtd_get32(u, VTD_FSTS_REG) &
	    (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | VTD_FSTS_ICE |
	     VTD_FSTS_ITE) ||
	    vtd_get32(u, VTD_ICS_REG) ||
	    vtd_get32(u, VTD_FECTL_REG) & VTD_FECTL_IP ||
	    vtd_get32(u, VTD_IECTL_REG) & VTD_IECTL_IP)
		return false;
	for (i = 0; i < VTD_NR_FRCD; i++)
		if (vtd_get32(u, VTD_FRCD_REG + 16 * i + 12) &
		    upper_32_bits(VTD_FRCD_HI_F))
			return false;
	return true;
}

/* The sidecore goes on: what the page shows now is what was published. */
void kvm_viommu_regs_sidecore_begin(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	memcpy(viommu->pub, page_address(viommu->reg_page), VTD_REG_PAGE_SIZE);
	viommu->pub_clean = false;
}

/*
 * The unit's lock goes: the guest sees all it did.  A poller that found
 * the lock busy when it came to unpark or park the unit is woken to try
 * again (the barrier pairs with kvm_viommu_poller_try()'s).  The caller
 * holds a reference on @viommu across the call: it is used after the
 * unlock.
 */
void kvm_viommu_unlock(struct kvm_viommu *viommu)
{
	/* Only a unit with KVM_VIOMMU_SIDECORE_POLL can have been marked. */
	bool poll = viommu->sc_flags & KVM_VIOMMU_SIDECORE_POLL;

	kvm_viommu_publish(viommu);
	mutex_unlock(&viommu->lock);
	if (!poll)
		return;
	/* The unlock before reading the mark: kvm_viommu_poller_try()'s. */
	smp_mb();
	/* Acquire: the poller's @poller, stored before its mark. */
	if (smp_load_acquire(&viommu->lock_retry))
		kvm_viommu_poller_released(viommu);
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
 * Right after a guest write of @val to @off (@len bytes) took effect in the
 * VT-d core, which did as much of its shadow work as the current run's
 * budget allowed (vtd_reg_write() calls the shadow): if shadow work is
 * still pending, this command's or an earlier one's that it now waits
 * behind, or the VMM has still to acknowledge the invalidation it was
 * told of, the command the write started reads as in progress until all
 * is done (kvm_viommu_publish() ends the hold).  @gsts: GSTS as the guest
 * read it before the write.
 */
static void kvm_viommu_hold(struct kvm_viommu *viommu, u32 off, u32 len,
			    u64 val, u32 gsts)
{
	u32 v;

	if (!kvm_viommu_cmd_pending(viommu))
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
	/* Invalidation events it pushes hold it (coherence.c). */
	WARN_ON_ONCE(viommu->reg_applying);
	viommu->reg_applying = true;
	ret = vtd_reg_write(&viommu->vtd, off, len, val);
	viommu->reg_applying = false;
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
 * each with the bytes the guest did not write as the guest last read them,
 * but for the RW1C words, where those bytes are 0: a 1-byte write to FSTS
 * clears only what that byte's ones say, whatever the others show.
 */
void kvm_viommu_reg_apply_bytes(struct kvm_viommu *viommu, u32 off,
				const u8 *val, u32 bytes)
{
	__le32 word, page;
	u32 w, start, end;

	lockdep_assert_held(&viommu->lock);
	for (w = off & ~3U; w < off + bytes && w < VTD_REG_PAGE_SIZE; w += 4) {
		/* What the page holds now, if nothing else wrote the word. */
		page = viommu->pub[w / 4];
		start = max(off, w);
		end = min(off + bytes, w + 4);
		memcpy((u8 *)&page + (start - w), val + (start - off),
		       end - start);
		/* Our own bytes, still in the page: taken, not a new write. */
		if (READ_ONCE(*kvm_viommu_page32(viommu, w)) == page) {
			viommu->pub[w / 4] = page;
			viommu->pub_clean = false;
		}
		word = page;
		if (kvm_viommu_is_rw1c(w)) {
			word = 0;
			memcpy((u8 *)&word + (start - w), val + (start - off),
			       end - start);
		}
		kvm_viommu_reg_apply(viommu, w, 4, le32_to_cpu(word));
	}
}

/*
 * One word of the snapshot: if the guest wrote it, apply the write.  Of
 * an RW1C word only the bytes that differ from what was published are
 * taken as written (the others as 0): the page cannot tell a 1 the guest
 * wrote to clear a set bit from the 1 published there.  The guest's clear
 * of a set status comes through KVM's tracking anyway (the page is never
 * polled while a status is set); what a drain finds is an older write, or
 * one of the tracked writes again.
 */
static unsigned int kvm_viommu_drain_word(struct kvm_viommu *viommu, u32 off)
{
	__le32 v = viommu->snap[off / 4], pub = viommu->pub[off / 4];
	u8 *b = (u8 *)&v;
	unsigned int i;

	if (v == pub)
		return 0;
	viommu->pub[off / 4] = v;
	viommu->pub_clean = false;
	if (kvm_viommu_is_rw1c(off))
		for (i = 0; i < sizeof(v); i++)
			if (b[i] == ((u8 *)&pub)[i])
				b[i] = 0;
	kvm_viommu_reg_apply(viommu, off, 4, le32_to_cpu(v));
	return 1;
}

/**
 * kvm_viommu_page_drain() - apply what the guest wrote into the page
 * @viommu: the unit, locked, with the sidecore on, at a queue run's start
 *
 * Every word that differs from what was last published is a guest write
 * (polled, or made where no tracking saw it).  The guest may be writing
 * while the drain reads, so the page is read class by class in reverse
 * order of dependence, the tail first and the plain registers last, each
 * class after a read barrier: a drain that sees a write sees every write
 * the guest made before it.  The snapshot is then applied in forward
 * order: class by class, kvm_viommu_drain_order first in each, then the
 * class's other words by offset.  Publishing afterwards shows what they
 * made of the registers.
 *
 * Return: the number of words applied.
 */
unsigned int kvm_viommu_page_drain(struct kvm_viommu *viommu)
{
	const __le32 *page = page_address(viommu->reg_page);
	const __le32 *pub = viommu->pub;
	DECLARE_BITMAP(written, KVM_VIOMMU_REG_WORDS) = { 0 };
	__le32 *snap = viommu->snap;
	unsigned int i, n = 0;
	__le32 v;
	u32 w;
	int c;

	lockdep_assert_held(&viommu->lock);
	/*
	 * A tail KVM's tracking took and nobody applied yet is in the page
	 * too, and no newer than what the page holds now: applied after the
	 * page's tail, it would take the queue back.  It goes first.
	 */
	kvm_viommu_take_tail(viommu);
	/* A request made from now on asks for a later drain. */
	atomic_xchg(&viommu->drain_pending, 0);
	/*
	 * The snapshot notes which words differ from what was published
	 * (@written, by place in the order): a write is most often the tail
	 * alone, and the apply then visits that word only.  Applying a word
	 * may publish (an interrupt it lets go: kvm_viommu_vtd_send_irq()),
	 * and that may move a later word's @pub; kvm_viommu_drain_word()
	 * compares with @pub again, so a word whose snapshot that publish
	 * made current is not taken for a guest write.  A word that did not
	 * differ when read is not applied, even if a publish moved its @pub
	 * meanwhile: what the page held then was ours, not the guest's.
	 */
	for (c = KVM_VIOMMU_NR_WORD_CLASSES - 1; c >= 0; c--) {
		for (i = kvm_viommu_class_start[c];
		     i < kvm_viommu_class_start[c + 1]; i++) {
			w = kvm_viommu_drain_seq[i] / 4;
			v = READ_ONCE(page[w]);
			snap[w] = v;
			if (v != pub[w])
				__set_bit(i, written);
		}
		/* Pairs with the guest's store order: see above. */
		smp_rmb();
	}
	for_each_set_bit(i, written, KVM_VIOMMU_REG_WORDS)
		n += kvm_viommu_drain_word(viommu, kvm_viommu_drain_seq[i]);
	if (viommu->polled)
		viommu->cnt.polled_writes += n;
	return n;
}

/*
 * Has the guest written the page since the unit last published it?  For
 * the poller, without the lock: a racy look, which the drain under the
 * lock settles.  Eight bytes at a time (the ranges are 8-byte aligned:
 * see kvm_viommu_find_stale()): the poller asks at every turn of its spin.
 */
bool kvm_viommu_page_written(struct kvm_viommu *viommu)
{
	const u64 *page = page_address(viommu->reg_page);
	const u64 *pub = (const u64 *)viommu->pub;
	unsigned int i;
	u32 q;

	for (i = 0; i < ARRAY_SIZE(kvm_viommu_reg_ranges); i++)
		for (q = kvm_viommu_reg_ranges[i].start / 8;
		     q < kvm_viommu_reg_ranges[i].end / 8; q++)
			if (READ_ONCE(page[q]) != READ_ONCE(pub[q]))
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
