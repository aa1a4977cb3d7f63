/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared pieces of the VT-d core fuzz targets: a unit with a small fake
 * guest memory at GPA 0, callbacks that check what the core hands them,
 * an input cursor, and the invariants every target asserts.
 *
 * A violated invariant is reported with FZ_CHECK(), which calls
 * __builtin_trap(): libFuzzer and the sanitizers then keep the input and
 * print the stack.  Each target includes this header exactly once.
 */
#ifndef _KVM_VIOMMU_FUZZ_COMMON_H_
#define _KVM_VIOMMU_FUZZ_COMMON_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_entry.h"
#include "vtd_walk.h"

#define FZ_MEM_SIZE	(64U << 10)	/* fake guest RAM, GPA 0 up */
#define FZ_PAGE		4096ULL

#define FZ_CHECK(cond)				\
	do {					\
		if (!(cond))			\
			__builtin_trap();	\
	} while (0)

/* FSTS bits that make a fault condition pending (vtd_regs.c). */
#define FZ_FSTS_PENDING	(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | \
			 VTD_FSTS_ICE | VTD_FSTS_ITE)

/* A unit, its register page and guest memory, and what callbacks saw. */
struct fz {
	struct vtd_unit unit;
	u8 regs[VTD_REG_PAGE_SIZE];
	u8 mem[FZ_MEM_SIZE];
	u64 cap;		/* CAP/ECAP as initialised, read-only after */
	u64 ecap;
	u64 irqs;		/* send_irq calls */
	u64 cc_invals;
	u64 iotlb_invals;
	u64 forwarded;
	u64 writes;		/* successful write_gpa calls */
	struct vtd_stats last;	/* stats at the previous check */
};

static struct fz *fz_of(struct vtd_unit *u)
{
	return (struct fz *)((char *)u - offsetof(struct fz, unit));
}

static bool fz_range_ok(u64 gpa, u32 len)
{
	return gpa < FZ_MEM_SIZE && len <= FZ_MEM_SIZE - gpa;
}

static int fz_read_gpa(struct vtd_unit *u, u64 gpa, void *buf, u32 len)
{
	if (!fz_range_ok(gpa, len))
		return -EFAULT;
	memcpy(buf, fz_of(u)->mem + gpa, len);
	return 0;
}

static int fz_write_gpa(struct vtd_unit *u, u64 gpa, const void *buf,
			u32 len)
{
	if (!fz_range_ok(gpa, len))
		return -EFAULT;
	memcpy(fz_of(u)->mem + gpa, buf, len);
	fz_of(u)->writes++;
	return 0;
}

/* What the core asks to invalidate must be decoded and in range. */
static void fz_cc_inval(struct vtd_unit *u, const struct vtd_cc_inval *inv)
{
	FZ_CHECK(inv->granularity >= VTD_CC_GLOBAL &&
		 inv->granularity <= VTD_CC_DEVICE);
	FZ_CHECK(inv->did < vtd_ndoms(u));
	FZ_CHECK(inv->fm <= 3);
	fz_of(u)->cc_invals++;
}

static void fz_iotlb_inval(struct vtd_unit *u,
			   const struct vtd_iotlb_inval *inv)
{
	u64 cap = vtd_get64(u, VTD_CAP_REG);

	FZ_CHECK(inv->granularity >= VTD_IOTLB_GLOBAL &&
		 inv->granularity <= VTD_IOTLB_PAGE);
	FZ_CHECK(inv->did < vtd_ndoms(u));
	if (inv->granularity == VTD_IOTLB_PAGE) {
		FZ_CHECK(cap & VTD_CAP_PSI);
		FZ_CHECK(inv->am <= vtd_field(cap, VTD_CAP_MAMV));
		FZ_CHECK(!(inv->addr & ~vtd_am_addr_mask(inv->am)));
	}
	fz_of(u)->iotlb_invals++;
}

static void fz_send_irq(struct vtd_unit *u, enum vtd_irq irq)
{
	FZ_CHECK(irq == VTD_IRQ_INV_COMPLETION || irq == VTD_IRQ_FAULT);
	fz_of(u)->irqs++;
}

/* Only device-TLB (3) and interrupt entry cache (4) are forwarded. */
static void fz_forward_desc(struct vtd_unit *u,
			    const struct vtd_inv_desc *desc)
{
	u32 type = desc->lo & VTD_INV_DESC_TYPE_LO;

	FZ_CHECK(type == VTD_INV_DESC_DEVTLB || type == VTD_INV_DESC_IEC);
	FZ_CHECK(!(desc->lo & VTD_INV_DESC_TYPE_HI));
	fz_of(u)->forwarded++;
}

static void fz_translation_changed(struct vtd_unit *u)
{
	(void)u;
}

static const struct vtd_ops fz_ops = {
	.read_gpa = fz_read_gpa,
	.write_gpa = fz_write_gpa,
	.cc_inval = fz_cc_inval,
	.iotlb_inval = fz_iotlb_inval,
	.send_irq = fz_send_irq,
	.forward_desc = fz_forward_desc,
	.translation_changed = fz_translation_changed,
};

/* Input cursor: reads past the end give zeroes. */
struct fz_in {
	const u8 *p;
	size_t n;
};

static u64 fz_get(struct fz_in *in, u32 bytes)
{
	u64 v = 0;
	u32 i;

	for (i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (u64)*in->p << (8 * i);
	return v;
}

#define fz_u8(in)	((u8)fz_get(in, 1))
#define fz_u16(in)	((u16)fz_get(in, 2))
#define fz_u32(in)	((u32)fz_get(in, 4))
#define fz_u64(in)	fz_get(in, 8)

/*
 * Capabilities from two selector bytes; always a combination that
 * vtd_unit_init() accepts (checked).  @s0: 0 the defaults, else bits
 * 2:0 ND, 3 PSI, 4 SLLPS 2M, 5 SLLPS 1G, 6 no 3-level tables, 7 no
 * 4-level tables (both: 4-level only, MGAW 48).  @s1: 0 MGAW 48 (39 if no
 * 4-level tables), 1 MGAW 39, bits 1-5 of it MAMV; its top two bits pick
 * ECAP: DT, IR (with EIM).  Pass-through is always offered.
 */
static void fz_caps(u8 s0, u8 s1, u64 *cap, u64 *ecap)
{
	bool sagaw39 = !(s0 & 0x40) || (s0 & 0x80);
	bool sagaw48 = !(s0 & 0x80);
	u32 mgaw = sagaw48 && !(s1 & 1) ? 48 : 39;
	u32 nd = s0 & 7;

	*cap = 0;
	*ecap = 0;
	if (!s0)
		return;
	if (nd > 6)
		nd = 6;
	*cap = vtd_field_prep(VTD_CAP_ND, nd) |
	       vtd_field_prep(VTD_CAP_MGAW, mgaw - 1) |
	       vtd_field_prep(VTD_CAP_MAMV, (s1 >> 1) & 0x1f);
	if (sagaw39)
		*cap |= VTD_CAP_SAGAW_39;
	if (sagaw48)
		*cap |= VTD_CAP_SAGAW_48;
	if (s0 & 0x08)
		*cap |= VTD_CAP_PSI;
	if (s0 & 0x10)
		*cap |= VTD_CAP_SLLPS_2M;
	if (s0 & 0x20)
		*cap |= VTD_CAP_SLLPS_1G;
	*ecap = VTD_ECAP_PT;
	if (s1 & 0x40)
		*ecap |= VTD_ECAP_DT;
	if (s1 & 0x80)
		*ecap |= VTD_ECAP_IR | VTD_ECAP_EIM;
}

/* A fresh unit with capabilities from the next two input bytes. */
static void fz_init(struct fz *f, struct fz_in *in)
{
	u8 s0 = fz_u8(in);
	u8 s1 = fz_u8(in);
	u64 cap, ecap;

	memset(f, 0, sizeof(*f));
	fz_caps(s0, s1, &cap, &ecap);
	FZ_CHECK(!vtd_unit_init(&f->unit, &fz_ops, f->regs, cap, ecap));
	f->cap = vtd_get64(&f->unit, VTD_CAP_REG);
	f->ecap = vtd_get64(&f->unit, VTD_ECAP_REG);
}

/* Every counter in struct vtd_stats only grows. */
static void fz_check_stats(struct fz *f)
{
	const u64 *now = (const u64 *)&f->unit.stats;
	const u64 *then = (const u64 *)&f->last;
	size_t i;

	for (i = 0; i < sizeof(f->last) / sizeof(u64); i++)
		FZ_CHECK(now[i] >= then[i]);
	f->last = f->unit.stats;
}

/*
 * Invariants of the register page that hold after any operation: the
 * read-only identification registers, index and head fields in range,
 * the fault-pending bookkeeping, and the interrupt control registers.
 */
static void fz_check_unit(struct fz *f)
{
	struct vtd_unit *u = &f->unit;
	u32 fsts = vtd_get32(u, VTD_FSTS_REG);
	u32 fectl = vtd_get32(u, VTD_FECTL_REG);
	u32 iectl = vtd_get32(u, VTD_IECTL_REG);
	u64 iqh = vtd_get64(u, VTD_IQH_REG);
	bool any_f = false;
	u32 i;

	FZ_CHECK(vtd_get32(u, VTD_VER_REG) == VTD_VER_1_0);
	FZ_CHECK(vtd_get64(u, VTD_CAP_REG) == f->cap);
	FZ_CHECK(vtd_get64(u, VTD_ECAP_REG) == f->ecap);

	/* IQH: 16-byte aligned, within the QH field; IQT likewise. */
	FZ_CHECK(!(iqh & ~VTD_IQH_QH));
	FZ_CHECK(!(vtd_get64(u, VTD_IQT_REG) & ~VTD_IQT_QT));
	/* IQH is reset and stays 0 while queued invalidation is off. */
	if (!(vtd_get32(u, VTD_GSTS_REG) & VTD_GSTS_QIES))
		FZ_CHECK(!iqh);

	FZ_CHECK(vtd_field(fsts, VTD_FSTS_FRI) < VTD_NR_FRCD);
	FZ_CHECK(u->frcd_next < VTD_NR_FRCD);
	FZ_CHECK(!(fsts & ~(FZ_FSTS_PENDING | VTD_FSTS_FRI)));
	FZ_CHECK(!(vtd_get32(u, VTD_ICS_REG) & ~VTD_ICS_IWC));

	/* PPF is set exactly while some fault record has F set. */
	for (i = 0; i < VTD_NR_FRCD; i++)
		if (vtd_get64(u, VTD_FRCD_REG + 16 * i + 8) & VTD_FRCD_HI_F)
			any_f = true;
	FZ_CHECK(!!(fsts & VTD_FSTS_PPF) == any_f);

	/* IP only while masked, and only with a condition outstanding. */
	FZ_CHECK(!(fectl & ~(VTD_FECTL_IM | VTD_FECTL_IP)));
	FZ_CHECK(!(iectl & ~(VTD_IECTL_IM | VTD_IECTL_IP)));
	if (fectl & VTD_FECTL_IP)
		FZ_CHECK((fectl & VTD_FECTL_IM) && (fsts & FZ_FSTS_PENDING));
	if (iectl & VTD_IECTL_IP)
		FZ_CHECK((iectl & VTD_IECTL_IM) &&
			 (vtd_get32(u, VTD_ICS_REG) & VTD_ICS_IWC));

	/* Callbacks and counters agree. */
	FZ_CHECK(u->stats.irqs == f->irqs);
	FZ_CHECK(u->stats.cc_invals == f->cc_invals);
	FZ_CHECK(u->stats.iotlb_invals == f->iotlb_invals);
	FZ_CHECK(u->stats.forwarded == f->forwarded);
	fz_check_stats(f);
}

/*
 * Process the queue with @budget and check what vtd_iq_process()
 * promises: never more than the budget, one descriptor counted per one
 * processed, and it stops early only when the queue is drained or in
 * error.  Returns the number processed.
 */
static inline u32 fz_iq_run(struct fz *f, u32 budget)
{
	struct vtd_unit *u = &f->unit;
	u64 descs = u->stats.descs;
	u64 errors = u->stats.iq_errors;
	u32 done;

	done = vtd_iq_process(u, budget);
	FZ_CHECK(done <= budget);
	FZ_CHECK(u->stats.descs - descs == done);
	FZ_CHECK(u->stats.iq_errors - errors <= 1);
	if (done < budget)
		FZ_CHECK(!vtd_iq_pending(u));
	/* A head the queue moved is within the queue it moved in. */
	if (done)
		FZ_CHECK(vtd_field(vtd_get64(u, VTD_IQH_REG), VTD_IQH_QH) <
			 vtd_iq_entries(u));
	fz_check_unit(f);
	return done;
}

#endif /* _KVM_VIOMMU_FUZZ_COMMON_H_ */
