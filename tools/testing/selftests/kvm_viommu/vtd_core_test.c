// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the kernel-independent VT-d core (vtd_regs.c, vtd_iq.c),
 * built for userspace: no KVM, no module.
 *
 * Each test gets a fresh unit with its own register page, a fake guest
 * memory of MEM_SIZE bytes at GPA 0 (accesses outside it fail with
 * -EFAULT), and callbacks that log what they are called with.  Expected
 * values are written from the VT-d specification, not from the core.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The harness has an unused handler parameter; VTD_CFLAGS has -Wextra. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "vtd.h"

#define MEM_SIZE	(4ULL << 20)
#define IQ_BASE		0x100000ULL	/* queue, up to 512 KiB (QS 7) */
#define STATUS_GPA	0x10000ULL	/* wait descriptor status */
#define MAX_LOG		64

/* Reference values, from the spec's field layout. */
#define CAP_DEFAULT	0x00d2078c202f0682ULL
#define CAP_SUPPORTED	0x00ffff8fff3f0687ULL
#define ECAP_DEFAULT	0x0000000000001042ULL
#define ECAP_SUPPORTED	0x0000000000f3ff5fULL
#define F32		0x80000000U	/* FRCD F, in the record's last dword */

/* A unit, its register page, guest memory, and what the callbacks saw. */
struct tctx {
	struct vtd_unit unit;
	u8 regs[VTD_REG_PAGE_SIZE];
	u8 *mem;
	u32 tail;			/* next queue slot the test fills */
	struct vtd_cc_inval cc[MAX_LOG];
	u32 n_cc;
	struct vtd_iotlb_inval iotlb[MAX_LOG];
	u32 n_iotlb;
	int irq[MAX_LOG];
	u32 n_irq;
	struct vtd_inv_desc fwd[MAX_LOG];
	u32 n_fwd;
	u32 n_tc;			/* translation_changed calls */
	/* State the guest could see when the last status write landed. */
	u64 iqh_at_write;
	u32 ics_at_write;
	u32 irqs_at_write;
};

static struct tctx *to_ctx(struct vtd_unit *u)
{
	return (struct tctx *)((char *)u - offsetof(struct tctx, unit));
}

static bool mem_range_ok(u64 gpa, u32 len)
{
	return gpa < MEM_SIZE && len <= MEM_SIZE - gpa;
}

static int mem_read(struct vtd_unit *u, u64 gpa, void *buf, u32 len)
{
	if (!mem_range_ok(gpa, len))
		return -EFAULT;
	memcpy(buf, to_ctx(u)->mem + gpa, len);
	return 0;
}

static int mem_write(struct vtd_unit *u, u64 gpa, const void *buf, u32 len)
{
	struct tctx *t = to_ctx(u);

	if (!mem_range_ok(gpa, len))
		return -EFAULT;
	memcpy(t->mem + gpa, buf, len);
	t->iqh_at_write = vtd_get64(u, VTD_IQH_REG);
	t->ics_at_write = vtd_get32(u, VTD_ICS_REG);
	t->irqs_at_write = t->n_irq;
	return 0;
}

static void log_cc(struct vtd_unit *u, const struct vtd_cc_inval *inv)
{
	struct tctx *t = to_ctx(u);

	if (t->n_cc < MAX_LOG)
		t->cc[t->n_cc] = *inv;
	t->n_cc++;
}

static void log_iotlb(struct vtd_unit *u, const struct vtd_iotlb_inval *inv)
{
	struct tctx *t = to_ctx(u);

	if (t->n_iotlb < MAX_LOG)
		t->iotlb[t->n_iotlb] = *inv;
	t->n_iotlb++;
}

static void log_irq(struct vtd_unit *u, enum vtd_irq irq)
{
	struct tctx *t = to_ctx(u);

	if (t->n_irq < MAX_LOG)
		t->irq[t->n_irq] = irq;
	t->n_irq++;
}

static void log_fwd(struct vtd_unit *u, const struct vtd_inv_desc *desc)
{
	struct tctx *t = to_ctx(u);

	if (t->n_fwd < MAX_LOG)
		t->fwd[t->n_fwd] = *desc;
	t->n_fwd++;
}

static void log_tc(struct vtd_unit *u)
{
	to_ctx(u)->n_tc++;
}

static const struct vtd_ops test_ops = {
	.read_gpa = mem_read,
	.write_gpa = mem_write,
	.cc_inval = log_cc,
	.iotlb_inval = log_iotlb,
	.send_irq = log_irq,
	.forward_desc = log_fwd,
	.translation_changed = log_tc,
};

FIXTURE(vtd) {
	struct tctx *t;
};

FIXTURE_SETUP(vtd)
{
	self->t = calloc(1, sizeof(*self->t));
	ASSERT_NE(NULL, self->t);
	self->t->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->t->mem);
	ASSERT_EQ(0, vtd_unit_init(&self->t->unit, &test_ops, self->t->regs,
				   0, 0));
}

FIXTURE_TEARDOWN(vtd)
{
	free(self->t->mem);
	free(self->t);
}

/* Register access as the guest does it; reads of a bad access give ~0. */
static u32 rd32(struct tctx *t, u32 off)
{
	u64 v;

	return vtd_reg_read(&t->unit, off, 4, &v) ? ~0U : (u32)v;
}

static u64 rd64(struct tctx *t, u32 off)
{
	u64 v;

	return vtd_reg_read(&t->unit, off, 8, &v) ? ~0ULL : v;
}

static void wr32(struct tctx *t, u32 off, u32 val)
{
	vtd_reg_write(&t->unit, off, 4, val);
}

static void wr64(struct tctx *t, u32 off, u64 val)
{
	vtd_reg_write(&t->unit, off, 8, val);
}

static int reinit(struct tctx *t, u64 cap, u64 ecap)
{
	return vtd_unit_init(&t->unit, &test_ops, t->regs, cap, ecap);
}

static u32 mem_get32(struct tctx *t, u64 gpa)
{
	u32 v;

	memcpy(&v, t->mem + gpa, sizeof(v));
	return le32toh(v);
}

/* Descriptors, as the spec lays them out. */
static u64 cc_lo(u64 g, u64 did, u64 sid, u64 fm)
{
	return VTD_INV_DESC_CC | g << 4 | did << 16 | sid << 32 | fm << 48;
}

static u64 iotlb_lo(u64 g, u64 did)
{
	return VTD_INV_DESC_IOTLB | g << 4 | did << 16;
}

static u64 iotlb_hi(u64 addr, bool ih, u64 am)
{
	return addr | (u64)ih << 6 | am;
}

static u64 wait_lo(u64 flags, u64 data)
{
	return VTD_INV_DESC_WAIT | flags | data << 32;
}

/* The invalidation queue, seen from the guest driver. */
static void put_desc(struct tctx *t, u32 idx, u64 lo, u64 hi)
{
	u64 d[2] = { htole64(lo), htole64(hi) };

	memcpy(t->mem + IQ_BASE + 16ULL * idx, d, sizeof(d));
}

static void q_put(struct tctx *t, u64 lo, u64 hi)
{
	put_desc(t, t->tail, lo, hi);
	t->tail = (t->tail + 1) % (256U << (rd32(t, VTD_IQA_REG) & 7));
}

static void q_kick(struct tctx *t)
{
	wr32(t, VTD_IQT_REG, t->tail << 4);
}

static void qi_enable(struct tctx *t, u32 qs)
{
	wr64(t, VTD_IQA_REG, IQ_BASE | qs);
	wr32(t, VTD_IQT_REG, 0);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_QIE);
	t->tail = 0;
}

/* Clear IQE and restart the queue empty, IQH back at 0. */
static void qi_restart(struct tctx *t)
{
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	wr32(t, VTD_GCMD_REG, 0);
	wr32(t, VTD_IQT_REG, 0);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_QIE);
	t->tail = 0;
}

static u32 iqh(struct tctx *t)
{
	return rd64(t, VTD_IQH_REG) >> 4;
}

static bool iqe(struct tctx *t)
{
	return rd32(t, VTD_FSTS_REG) & VTD_FSTS_IQE;
}

static u32 frcd(u32 i)
{
	return VTD_FRCD_REG + 16 * i;
}

static void record(struct tctx *t, u16 sid)
{
	vtd_record_fault(&t->unit, sid, 0x1000ULL * sid, VTD_FR_READ,
			 false);
}

static void clear_f(struct tctx *t, u32 i)
{
	wr32(t, frcd(i) + 12, F32);
}

/* Reset state and capabilities. */

TEST_F(vtd, reset_value_of_every_register)
{
	struct tctx *t = self->t;
	u32 off;

	EXPECT_EQ(0x10U, rd32(t, VTD_VER_REG));
	EXPECT_EQ(CAP_DEFAULT, rd64(t, VTD_CAP_REG));
	EXPECT_EQ(ECAP_DEFAULT, rd64(t, VTD_ECAP_REG));
	EXPECT_EQ(0x80000000U, rd32(t, VTD_FECTL_REG));
	EXPECT_EQ(0x80000000U, rd32(t, VTD_IECTL_REG));
	for (off = 0; off < VTD_REG_PAGE_SIZE; off += 4) {
		if (off == VTD_VER_REG || off == VTD_FECTL_REG ||
		    off == VTD_IECTL_REG ||
		    (off >= VTD_CAP_REG && off < VTD_ECAP_REG + 8))
			continue;
		EXPECT_EQ(0U, rd32(t, off))
			TH_LOG("offset %#x", off);
	}
	EXPECT_EQ(0ULL, t->unit.rta);
	EXPECT_EQ(0ULL, t->unit.irta);
	EXPECT_EQ(0U, t->n_tc + t->n_irq + t->n_cc + t->n_iotlb);
}

TEST_F(vtd, cap_ecap_defaults_and_supported_sets)
{
	struct tctx *t = self->t;

	EXPECT_EQ(CAP_DEFAULT, vtd_cap_default());
	EXPECT_EQ(ECAP_DEFAULT, vtd_ecap_default());
	EXPECT_EQ(CAP_SUPPORTED, vtd_cap_supported());
	EXPECT_EQ(ECAP_SUPPORTED, vtd_ecap_supported());
	/* Asking for exactly the defaults gives the same unit as 0. */
	ASSERT_EQ(0, reinit(t, CAP_DEFAULT, ECAP_DEFAULT));
	EXPECT_EQ(CAP_DEFAULT, rd64(t, VTD_CAP_REG));
	EXPECT_EQ(ECAP_DEFAULT, rd64(t, VTD_ECAP_REG));
}

TEST_F(vtd, cap_each_unsupported_bit_rejected)
{
	struct tctx *t = self->t;
	u32 b;

	for (b = 0; b < 64; b++) {
		u64 bit = 1ULL << b;

		if (CAP_SUPPORTED & bit)
			continue;
		EXPECT_EQ(-EINVAL, reinit(t, CAP_DEFAULT | bit, 0))
			TH_LOG("CAP bit %u", b);
	}
}

TEST_F(vtd, ecap_each_unsupported_bit_rejected)
{
	struct tctx *t = self->t;
	u64 ecap = ECAP_DEFAULT | VTD_ECAP_IR;
	u32 b;

	for (b = 0; b < 64; b++) {
		u64 bit = 1ULL << b;

		if (ECAP_SUPPORTED & bit)
			continue;
		EXPECT_EQ(-EINVAL, reinit(t, 0, ecap | bit))
			TH_LOG("ECAP bit %u", b);
	}
	/* SC, for one, is defined by the spec but not offered. */
	EXPECT_EQ(-EINVAL, reinit(t, 0, ECAP_DEFAULT | VTD_ECAP_SC));
}

TEST_F(vtd, failed_init_leaves_unit_untouched)
{
	struct tctx *t = self->t;

	wr32(t, VTD_FEDATA_REG, 0x1234);
	EXPECT_EQ(-EINVAL, reinit(t, CAP_DEFAULT | VTD_CAP_RWBF, 0));
	EXPECT_EQ(0x1234U, rd32(t, VTD_FEDATA_REG));
	EXPECT_EQ(&test_ops, t->unit.ops);
}

TEST_F(vtd, init_rejects_missing_ops_or_regs)
{
	struct tctx *t = self->t;
	struct vtd_ops ops = test_ops;

	EXPECT_EQ(-EINVAL, vtd_unit_init(&t->unit, NULL, t->regs, 0, 0));
	EXPECT_EQ(-EINVAL, vtd_unit_init(&t->unit, &test_ops, NULL, 0, 0));
	ops.forward_desc = NULL;
	EXPECT_EQ(-EINVAL, vtd_unit_init(&t->unit, &ops, t->regs, 0, 0));
}

TEST_F(vtd, cap_nd_values)
{
	struct tctx *t = self->t;
	u64 base = CAP_DEFAULT & ~VTD_CAP_ND;
	u64 nd;

	for (nd = 0; nd <= 6; nd++)
		EXPECT_EQ(0, reinit(t, base | nd, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | 7, 0));
}

TEST_F(vtd, cap_sagaw_and_mgaw)
{
	struct tctx *t = self->t;
	u64 base = CAP_DEFAULT & ~(VTD_CAP_SAGAW | VTD_CAP_MGAW);
	u64 s39 = VTD_CAP_SAGAW_39, s48 = VTD_CAP_SAGAW_48;
	u64 w;

	/* At least one of the two offered table depths. */
	EXPECT_EQ(-EINVAL, reinit(t, base | 47ULL << 16, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | BIT_ULL(8) | 38ULL << 16, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | BIT_ULL(11) | 47ULL << 16, 0));
	for (w = 39; w <= 48; w++) {
		EXPECT_EQ(0, reinit(t, base | s48 | (w - 1) << 16, 0))
			TH_LOG("width %llu", (unsigned long long)w);
	}
	EXPECT_EQ(-EINVAL, reinit(t, base | s48 | 37ULL << 16, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | s48 | 48ULL << 16, 0));
	/* 3-level tables only: MGAW up to 39 bits. */
	EXPECT_EQ(0, reinit(t, base | s39 | 38ULL << 16, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | s39 | 39ULL << 16, 0));
	EXPECT_EQ(0, reinit(t, base | s39 | s48 | 47ULL << 16, 0));
}

TEST_F(vtd, cap_mamv_sllps_and_flags_accepted)
{
	struct tctx *t = self->t;
	u64 base = CAP_DEFAULT & ~(VTD_CAP_MAMV | VTD_CAP_SLLPS | VTD_CAP_PSI |
				   VTD_CAP_DWD | VTD_CAP_DRD);

	EXPECT_EQ(0, reinit(t, base, 0));
	EXPECT_EQ(0, reinit(t, base | 18ULL << 48, 0));
	EXPECT_EQ(18ULL, rd64(t, VTD_CAP_REG) >> 48 & 63);
	EXPECT_EQ(0, reinit(t, base | VTD_CAP_SLLPS_2M, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | BIT_ULL(36), 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | BIT_ULL(37), 0));
}

/*
 * A MAMV beyond what MGAW addresses would let a page-selective
 * invalidation name a region of 2^(12 + AM) bytes that wraps (at AM 52
 * and up, PAGE_SIZE << AM is 0): it is clamped to MGAW - 12 at creation,
 * whatever the VMM asked, and a region's end saturates rather than wraps.
 */
TEST_F(vtd, cap_mamv_clamped_to_mgaw)
{
	struct tctx *t = self->t;
	u64 base = CAP_DEFAULT & ~(VTD_CAP_MAMV | VTD_CAP_MGAW);

	EXPECT_EQ(0, reinit(t, base | VTD_CAP_MAMV | 47ULL << 16, 0));
	EXPECT_EQ(36ULL, rd64(t, VTD_CAP_REG) >> 48 & 63);
	EXPECT_EQ(0, reinit(t, base | VTD_CAP_MAMV | 38ULL << 16, 0));
	EXPECT_EQ(27ULL, rd64(t, VTD_CAP_REG) >> 48 & 63);
	EXPECT_EQ(0, reinit(t, base | 27ULL << 48 | 38ULL << 16, 0));
	EXPECT_EQ(27ULL, rd64(t, VTD_CAP_REG) >> 48 & 63);
	EXPECT_EQ(0, reinit(t, base | 5ULL << 48 | 38ULL << 16, 0));
	EXPECT_EQ(5ULL, rd64(t, VTD_CAP_REG) >> 48 & 63);

	EXPECT_EQ(0x3000ULL, vtd_am_region_end(0x2000, 0));
	EXPECT_EQ(0x1000000000ULL, vtd_am_region_end(0, 24));
	EXPECT_EQ(~0ULL, vtd_am_region_end(0, 52));
	EXPECT_EQ(~0ULL, vtd_am_region_end(0, 63));
	EXPECT_EQ(~0ULL, vtd_am_region_end(0xfffffffffffff000ULL, 0));
	EXPECT_EQ(~0ULL, vtd_am_region_end(0xffffffffc0000000ULL, 18));
}

TEST_F(vtd, cap_placement_fields_zero_or_exact)
{
	struct tctx *t = self->t;
	u64 base = CAP_DEFAULT & ~(VTD_CAP_FRO | VTD_CAP_NFR);

	EXPECT_EQ(0, reinit(t, base, 0));
	EXPECT_EQ(0, reinit(t, base | 0x20ULL << 24, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | 0x21ULL << 24, 0));
	EXPECT_EQ(0, reinit(t, base | 7ULL << 40, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | 6ULL << 40, 0));
	EXPECT_EQ(-EINVAL, reinit(t, base | 0xffULL << 40, 0));
	EXPECT_EQ(0, reinit(t, 0, VTD_ECAP_PT | 0x10ULL << 8));
	EXPECT_EQ(-EINVAL, reinit(t, 0, VTD_ECAP_PT | 0x11ULL << 8));
}

TEST_F(vtd, cap_forced_fields)
{
	struct tctx *t = self->t;
	u64 cap = CAP_DEFAULT & ~(VTD_CAP_CM | VTD_CAP_FRO | VTD_CAP_NFR);

	ASSERT_EQ(0, reinit(t, cap, VTD_ECAP_C));
	EXPECT_EQ(CAP_DEFAULT, rd64(t, VTD_CAP_REG));
	EXPECT_EQ(VTD_ECAP_C | VTD_ECAP_QI | 0x1000ULL,
		  rd64(t, VTD_ECAP_REG));
}

TEST_F(vtd, ecap_eim_and_mhmv_need_ir)
{
	struct tctx *t = self->t;

	EXPECT_EQ(-EINVAL, reinit(t, 0, VTD_ECAP_EIM));
	EXPECT_EQ(-EINVAL, reinit(t, 0, 0xfULL << 20));
	EXPECT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_EIM | 0xfULL << 20));
	EXPECT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_DT | VTD_ECAP_C));
}

/* Access rules. */

TEST_F(vtd, bad_len_or_offset_rejected)
{
	struct tctx *t = self->t;
	static const u32 bad_len[] = { 0, 1, 2, 3, 5, 6, 16 };
	u64 v;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(bad_len); i++) {
		EXPECT_EQ(-EINVAL, vtd_reg_read(&t->unit, 0, bad_len[i], &v));
		EXPECT_EQ(-EINVAL,
			  vtd_reg_write(&t->unit, 0, bad_len[i], 0));
	}
	EXPECT_EQ(-EINVAL, vtd_reg_read(&t->unit, 2, 4, &v));
	EXPECT_EQ(-EINVAL, vtd_reg_read(&t->unit, 4, 8, &v));
	EXPECT_EQ(-EINVAL, vtd_reg_write(&t->unit, 0x1c, 8, 0));
	EXPECT_EQ(-EINVAL, vtd_reg_read(&t->unit, 4096, 4, &v));
	EXPECT_EQ(-EINVAL, vtd_reg_write(&t->unit, 4096, 8, 0));
	EXPECT_EQ(-EINVAL, vtd_reg_read(&t->unit, 0xfffffff8, 8, &v));
	EXPECT_EQ(-EINVAL, vtd_reg_write(&t->unit, 0xfffffffc, 4, 0));
	EXPECT_EQ(0, vtd_reg_read(&t->unit, 4092, 4, &v));
	EXPECT_EQ(0, vtd_reg_read(&t->unit, 4088, 8, &v));
	EXPECT_EQ(0, vtd_reg_write(&t->unit, 4088, 8, ~0ULL));
	EXPECT_EQ(0ULL, rd64(t, 4088));
}

/* Every dword that holds no writable bit keeps its value when written. */
TEST_F(vtd, offsets_without_register_read_zero_ignore_writes)
{
	struct tctx *t = self->t;
	static const u32 reg[] = {
		VTD_VER_REG, VTD_CAP_REG, VTD_CAP_REG + 4, VTD_ECAP_REG,
		VTD_ECAP_REG + 4, VTD_GCMD_REG, VTD_RTADDR_REG,
		VTD_RTADDR_REG + 4, VTD_CCMD_REG, VTD_CCMD_REG + 4,
		VTD_FSTS_REG, VTD_FECTL_REG, VTD_FEDATA_REG, VTD_FEADDR_REG,
		VTD_FEUADDR_REG, VTD_PMEN_REG, VTD_IQT_REG, VTD_IQA_REG,
		VTD_IQA_REG + 4, VTD_ICS_REG, VTD_IECTL_REG, VTD_IEDATA_REG,
		VTD_IEADDR_REG, VTD_IEUADDR_REG, VTD_IVA_REG, VTD_IVA_REG + 4,
		VTD_IOTLB_REG + 4,
	};
	u32 off, i;
	bool skip;

	for (off = 0; off < VTD_REG_PAGE_SIZE; off += 4) {
		skip = false;
		for (i = 0; i < ARRAY_SIZE(reg); i++)
			skip |= off == reg[i];
		if (skip)
			continue;
		wr32(t, off, ~0U);
		EXPECT_EQ(0U, rd32(t, off)) TH_LOG("offset %#x", off);
	}
	/* IRTA is reserved without interrupt remapping. */
	EXPECT_EQ(0ULL, rd64(t, VTD_IRTA_REG));
	EXPECT_EQ(0U, t->n_tc + t->n_irq + t->n_cc + t->n_iotlb);
}

TEST_F(vtd, read_only_registers_ignore_writes)
{
	struct tctx *t = self->t;

	wr32(t, VTD_VER_REG, 0);
	wr64(t, VTD_CAP_REG, 0);
	wr64(t, VTD_ECAP_REG, ~0ULL);
	wr32(t, VTD_GSTS_REG, ~0U);
	wr64(t, VTD_IQH_REG, 0x7fff0);
	wr64(t, frcd(0), ~0ULL);
	EXPECT_EQ(0x10U, rd32(t, VTD_VER_REG));
	EXPECT_EQ(CAP_DEFAULT, rd64(t, VTD_CAP_REG));
	EXPECT_EQ(ECAP_DEFAULT, rd64(t, VTD_ECAP_REG));
	EXPECT_EQ(0U, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(0ULL, rd64(t, VTD_IQH_REG));
	EXPECT_EQ(0ULL, rd64(t, frcd(0)));
}

TEST_F(vtd, reserved_bits_ignored_on_write)
{
	struct tctx *t = self->t;
	static const struct {
		u32 off, len;
		u64 rw;
	} r[] = {
		{ VTD_RTADDR_REG, 8, 0xfffffffffffff000ULL },
		{ VTD_CCMD_REG, 4, 0xffffffffULL },
		{ VTD_FECTL_REG, 4, 0x80000000ULL },
		{ VTD_FEDATA_REG, 4, 0xffffffffULL },
		{ VTD_FEADDR_REG, 4, 0xfffffffcULL },
		{ VTD_FEUADDR_REG, 4, 0xffffffffULL },
		{ VTD_IQT_REG, 8, 0x7fff0ULL },
		{ VTD_IQA_REG, 8, 0xfffffffffffff007ULL },
		{ VTD_ICS_REG, 4, 0 },
		{ VTD_IECTL_REG, 4, 0x80000000ULL },
		{ VTD_IEDATA_REG, 4, 0xffffffffULL },
		{ VTD_IEADDR_REG, 4, 0xfffffffcULL },
		{ VTD_IEUADDR_REG, 4, 0xffffffffULL },
		{ VTD_IRTA_REG, 8, 0 },
		{ VTD_IVA_REG, 8, 0xfffffffffffff07fULL },
		{ VTD_IOTLB_REG, 4, 0 },
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		vtd_reg_write(&t->unit, r[i].off, r[i].len, ~0ULL);
		EXPECT_EQ(r[i].rw, r[i].len == 8 ? rd64(t, r[i].off) :
			  rd32(t, r[i].off)) TH_LOG("offset %#x", r[i].off);
		vtd_reg_write(&t->unit, r[i].off, r[i].len, 0);
		EXPECT_EQ(0ULL, r[i].len == 8 ? rd64(t, r[i].off) :
			  rd32(t, r[i].off)) TH_LOG("offset %#x", r[i].off);
	}
	/* TTM reads 0: only legacy translation is offered. */
	wr64(t, VTD_RTADDR_REG, 0xc00);
	EXPECT_EQ(0ULL, rd64(t, VTD_RTADDR_REG));
	/* CAIG and the reserved bits of CCMD's upper half; no ICC. */
	wr32(t, VTD_CCMD_REG + 4, 0x7ffffffc);
	EXPECT_EQ(0x60000000U, rd32(t, VTD_CCMD_REG + 4));
	EXPECT_EQ(0U, t->n_cc);
}

TEST_F(vtd, irta_fields_follow_ir_and_eim)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR));
	wr64(t, VTD_IRTA_REG, ~0ULL);
	EXPECT_EQ(0xfffffffffffff00fULL, rd64(t, VTD_IRTA_REG));
	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_EIM));
	wr64(t, VTD_IRTA_REG, ~0ULL);
	EXPECT_EQ(0xfffffffffffff80fULL, rd64(t, VTD_IRTA_REG));
}

TEST_F(vtd, pmen_prs_follows_epm)
{
	struct tctx *t = self->t;

	wr32(t, VTD_PMEN_REG, ~0U);
	EXPECT_EQ(0x80000001U, rd32(t, VTD_PMEN_REG));
	wr32(t, VTD_PMEN_REG, VTD_PMEN_PRS);
	EXPECT_EQ(0U, rd32(t, VTD_PMEN_REG));
}

/* GCMD and GSTS. */

TEST_F(vtd, gcmd_reads_zero)
{
	struct tctx *t = self->t;

	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE | VTD_GCMD_QIE);
	EXPECT_EQ(0U, rd32(t, VTD_GCMD_REG));
	EXPECT_EQ(VTD_GSTS_TES | VTD_GSTS_QIES, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ((u64)(VTD_GSTS_TES | VTD_GSTS_QIES) << 32,
		  rd64(t, VTD_GCMD_REG));
}

TEST_F(vtd, gcmd_srtp_latches_rtaddr_and_sets_rtps)
{
	struct tctx *t = self->t;

	wr64(t, VTD_RTADDR_REG, 0x123456789fffULL);
	EXPECT_EQ(0x123456789000ULL, rd64(t, VTD_RTADDR_REG));
	EXPECT_EQ(0ULL, t->unit.rta);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_SRTP);
	EXPECT_EQ(0x123456789000ULL, t->unit.rta);
	EXPECT_EQ(VTD_GSTS_RTPS, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(1U, t->n_tc);
	/* A new RTADDR takes effect on the next SRTP only. */
	wr64(t, VTD_RTADDR_REG, 0xabc000);
	EXPECT_EQ(0x123456789000ULL, t->unit.rta);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_SRTP);
	EXPECT_EQ(0xabc000ULL, t->unit.rta);
	EXPECT_EQ(2U, t->n_tc);
}

TEST_F(vtd, gcmd_te_sets_tes_and_notifies_on_change)
{
	struct tctx *t = self->t;

	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE);
	EXPECT_EQ(VTD_GSTS_TES, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(1U, t->n_tc);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE);
	EXPECT_EQ(1U, t->n_tc);
	wr32(t, VTD_GCMD_REG, 0);
	EXPECT_EQ(0U, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(2U, t->n_tc);
	/* SRTP with TE kept on (as Linux writes it): one notification. */
	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE | VTD_GCMD_SRTP);
	EXPECT_EQ(4U, t->n_tc);
	EXPECT_EQ(VTD_GSTS_TES | VTD_GSTS_RTPS, rd32(t, VTD_GSTS_REG));
}

TEST_F(vtd, gcmd_qie_sets_qies_and_disable_resets_iqh)
{
	struct tctx *t = self->t;
	u32 i;

	qi_enable(t, 0);
	EXPECT_EQ(VTD_GSTS_QIES, rd32(t, VTD_GSTS_REG));
	for (i = 0; i < 3; i++)
		q_put(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0), 0);
	q_kick(t);
	EXPECT_EQ(3U, vtd_iq_process(&t->unit, 16));
	EXPECT_EQ(3U, iqh(t));
	wr32(t, VTD_GCMD_REG, 0);
	EXPECT_EQ(0U, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(0ULL, rd64(t, VTD_IQH_REG));
	EXPECT_EQ(3ULL << 4, rd64(t, VTD_IQT_REG));
	EXPECT_EQ(0U, t->n_tc);
}

TEST_F(vtd, gcmd_ir_commands_with_ir)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_EIM));
	wr64(t, VTD_IRTA_REG, 0xabcd000ULL | VTD_IRTA_EIME | 0xf);
	EXPECT_EQ(0ULL, t->unit.irta);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_SIRTP);
	EXPECT_EQ(0xabcd000ULL | VTD_IRTA_EIME | 0xf, t->unit.irta);
	EXPECT_EQ(VTD_GSTS_IRTPS, rd32(t, VTD_GSTS_REG));
	wr32(t, VTD_GCMD_REG, VTD_GCMD_IRE);
	EXPECT_EQ(VTD_GSTS_IRTPS | VTD_GSTS_IRES, rd32(t, VTD_GSTS_REG));
	wr32(t, VTD_GCMD_REG, VTD_GCMD_IRE | VTD_GCMD_CFI);
	EXPECT_EQ(VTD_GSTS_IRTPS | VTD_GSTS_IRES | VTD_GSTS_CFIS,
		  rd32(t, VTD_GSTS_REG));
	wr32(t, VTD_GCMD_REG, VTD_GCMD_CFI);
	EXPECT_EQ(VTD_GSTS_IRTPS | VTD_GSTS_CFIS, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(0U, t->n_tc);
}

TEST_F(vtd, gcmd_ir_commands_ignored_without_ir)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IRTA_REG, 0xabcd000ULL);
	wr32(t, VTD_GCMD_REG,
	     VTD_GCMD_SIRTP | VTD_GCMD_IRE | VTD_GCMD_CFI);
	EXPECT_EQ(0U, rd32(t, VTD_GSTS_REG));
	EXPECT_EQ(0ULL, t->unit.irta);
}

TEST_F(vtd, gcmd_one_shot_commands_not_sticky)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR));
	wr64(t, VTD_RTADDR_REG, 0x1000);
	wr64(t, VTD_IRTA_REG, 0x2000);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_SRTP | VTD_GCMD_SIRTP);
	EXPECT_EQ(1U, t->n_tc);
	wr64(t, VTD_RTADDR_REG, 0x3000);
	wr64(t, VTD_IRTA_REG, 0x4000);
	/* Later commands without SRTP/SIRTP latch nothing. */
	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_TE | VTD_GCMD_IRE);
	EXPECT_EQ(0x1000ULL, t->unit.rta);
	EXPECT_EQ(0x2000ULL, t->unit.irta);
	EXPECT_EQ(2U, t->n_tc);
	/* WBF, SFL, EAFL are not offered: no status. */
	wr32(t, VTD_GCMD_REG, VTD_GCMD_WBF | VTD_GCMD_SFL | VTD_GCMD_EAFL);
	EXPECT_EQ(VTD_GSTS_RTPS | VTD_GSTS_IRTPS, rd32(t, VTD_GSTS_REG));
}

/* RW1C status. */

TEST_F(vtd, fsts_rw1c_and_read_only_bits)
{
	struct tctx *t = self->t;
	u32 i;

	qi_enable(t, 0);
	q_put(t, 0, 0);
	q_kick(t);
	vtd_iq_process(&t->unit, 1);
	for (i = 0; i <= VTD_NR_FRCD; i++)
		record(t, i);
	EXPECT_EQ(VTD_FSTS_IQE | VTD_FSTS_PPF | VTD_FSTS_PFO,
		  rd32(t, VTD_FSTS_REG));
	/* Writing 0, or to PPF and FRI, changes nothing. */
	wr32(t, VTD_FSTS_REG, 0);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_PPF | VTD_FSTS_FRI);
	EXPECT_EQ(VTD_FSTS_IQE | VTD_FSTS_PPF | VTD_FSTS_PFO,
		  rd32(t, VTD_FSTS_REG));
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_EQ(VTD_FSTS_PPF | VTD_FSTS_PFO, rd32(t, VTD_FSTS_REG));
	wr32(t, VTD_FSTS_REG, VTD_FSTS_PFO);
	EXPECT_EQ(VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
}

TEST_F(vtd, ics_iwc_rw1c_clears_iectl_ip)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF, 0), 0);
	q_kick(t);
	vtd_iq_process(&t->unit, 1);
	EXPECT_EQ(VTD_ICS_IWC, rd32(t, VTD_ICS_REG));
	EXPECT_EQ(VTD_IECTL_IM | VTD_IECTL_IP, rd32(t, VTD_IECTL_REG));
	wr32(t, VTD_ICS_REG, 0);
	EXPECT_EQ(VTD_ICS_IWC, rd32(t, VTD_ICS_REG));
	wr32(t, VTD_ICS_REG, VTD_ICS_IWC);
	EXPECT_EQ(0U, rd32(t, VTD_ICS_REG));
	EXPECT_EQ(VTD_IECTL_IM, rd32(t, VTD_IECTL_REG));
	wr32(t, VTD_IECTL_REG, 0);
	EXPECT_EQ(0U, t->n_irq);
}

/* 32-bit halves of 64-bit registers. */

TEST_F(vtd, halves_of_64bit_registers)
{
	struct tctx *t = self->t;

	wr32(t, VTD_RTADDR_REG, 0x12345fff);
	wr32(t, VTD_RTADDR_REG + 4, 0xabcdef01);
	EXPECT_EQ(0xabcdef0112345000ULL, rd64(t, VTD_RTADDR_REG));
	EXPECT_EQ(0x12345000U, rd32(t, VTD_RTADDR_REG));
	EXPECT_EQ(0xabcdef01U, rd32(t, VTD_RTADDR_REG + 4));
	wr32(t, VTD_IQA_REG + 4, 0x1);
	wr32(t, VTD_IQA_REG, 0x7000 | 3);
	EXPECT_EQ(0x100007003ULL, rd64(t, VTD_IQA_REG));
	wr32(t, VTD_IVA_REG, 0x5043);
	wr32(t, VTD_IVA_REG + 4, 0x2);
	EXPECT_EQ(0x200005043ULL, rd64(t, VTD_IVA_REG));
	EXPECT_EQ((u32)(CAP_DEFAULT >> 32), rd32(t, VTD_CAP_REG + 4));
	EXPECT_EQ((u32)ECAP_DEFAULT, rd32(t, VTD_ECAP_REG));
	/* A 64-bit access to two 32-bit registers reaches both. */
	wr64(t, VTD_FEADDR_REG, 0x11112222fee00000ULL);
	EXPECT_EQ(0xfee00000U, rd32(t, VTD_FEADDR_REG));
	EXPECT_EQ(0x11112222U, rd32(t, VTD_FEUADDR_REG));
	/* Linux writes IQT with a 32-bit access. */
	wr32(t, VTD_IQT_REG, 0x50);
	EXPECT_EQ(0x50ULL, rd64(t, VTD_IQT_REG));
}

TEST_F(vtd, ccmd_split_write_fires_on_upper_half)
{
	struct tctx *t = self->t;

	wr32(t, VTD_CCMD_REG, 0x1234 << 16 | 7);
	EXPECT_EQ(0U, t->n_cc);
	wr32(t, VTD_CCMD_REG + 4, 0x80000000 | 3 << 29 | 2);
	ASSERT_EQ(1U, t->n_cc);
	EXPECT_EQ(VTD_CC_DEVICE, t->cc[0].granularity);
	EXPECT_EQ(7, t->cc[0].did);
	EXPECT_EQ(0x1234, t->cc[0].sid);
	EXPECT_EQ(2, t->cc[0].fm);
	EXPECT_EQ(0x78000002U, rd32(t, VTD_CCMD_REG + 4));
}

TEST_F(vtd, iotlb_split_write_fires_on_upper_half)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IVA_REG, 0x40000 | 2);
	wr32(t, VTD_IOTLB_REG, 0);
	EXPECT_EQ(0U, t->n_iotlb);
	wr32(t, VTD_IOTLB_REG + 4, 0x80000000 | 3 << 28 | 9);
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_PAGE, t->iotlb[0].granularity);
	EXPECT_EQ(9, t->iotlb[0].did);
	EXPECT_EQ(0x40000ULL, t->iotlb[0].addr);
	EXPECT_EQ(2, t->iotlb[0].am);
	EXPECT_EQ(0x36000009U, rd32(t, VTD_IOTLB_REG + 4));
}

/* Register-based context-cache invalidation. */

static u64 ccmd(u64 cirg, u64 did, u64 sid, u64 fm)
{
	return VTD_CCMD_ICC | cirg << 61 | fm << 32 | sid << 16 | did;
}

TEST_F(vtd, ccmd_global_domain_device)
{
	struct tctx *t = self->t;

	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_GLOBAL, 5, 6, 1));
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_DOMAIN, 5, 6, 1));
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_DEVICE, 5, 6, 1));
	ASSERT_EQ(3U, t->n_cc);
	EXPECT_EQ(VTD_CC_GLOBAL, t->cc[0].granularity);
	EXPECT_EQ(0, t->cc[0].did);
	EXPECT_EQ(VTD_CC_DOMAIN, t->cc[1].granularity);
	EXPECT_EQ(5, t->cc[1].did);
	EXPECT_EQ(0, t->cc[1].sid);
	EXPECT_EQ(VTD_CC_DEVICE, t->cc[2].granularity);
	EXPECT_EQ(5, t->cc[2].did);
	EXPECT_EQ(6, t->cc[2].sid);
	EXPECT_EQ(1, t->cc[2].fm);
	/* ICC cleared, CAIG = device-selective, request fields kept. */
	EXPECT_EQ(3ULL << 61 | 3ULL << 59 | 1ULL << 32 | 6 << 16 | 5,
		  rd64(t, VTD_CCMD_REG));
	EXPECT_EQ(3ULL, t->unit.stats.cc_invals);
}

TEST_F(vtd, ccmd_cirg_zero_does_nothing)
{
	struct tctx *t = self->t;

	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_GLOBAL, 0, 0, 0));
	wr64(t, VTD_CCMD_REG, ccmd(0, 5, 0, 0));
	EXPECT_EQ(1U, t->n_cc);
	EXPECT_EQ(5ULL, rd64(t, VTD_CCMD_REG));
}

TEST_F(vtd, ccmd_unknown_did_becomes_global)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, CAP_DEFAULT & ~VTD_CAP_ND, 0));
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_DOMAIN, 16, 0, 0));
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_DOMAIN, 15, 0, 0));
	ASSERT_EQ(2U, t->n_cc);
	EXPECT_EQ(VTD_CC_GLOBAL, t->cc[0].granularity);
	EXPECT_EQ(VTD_CC_DOMAIN, t->cc[1].granularity);
	EXPECT_EQ(15, t->cc[1].did);
	EXPECT_EQ(2ULL, rd64(t, VTD_CCMD_REG) >> 59 & 3);
}

TEST_F(vtd, ccmd_ignored_while_qies)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_GLOBAL, 0, 0, 0));
	EXPECT_EQ(0U, t->n_cc);
	EXPECT_EQ(0ULL, t->unit.stats.cc_invals);
	EXPECT_EQ(1ULL << 61, rd64(t, VTD_CCMD_REG));
}

/* Register-based IOTLB invalidation. */

static u64 iotlb_reg(u64 iirg, u64 did)
{
	return VTD_IOTLB_IVT | iirg << 60 | did << 32;
}

TEST_F(vtd, iotlb_reg_global_domain_page)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_GLOBAL, 4));
	EXPECT_EQ(1ULL << 60 | 1ULL << 57 | 4ULL << 32,
		  rd64(t, VTD_IOTLB_REG));
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_DOMAIN, 4) |
	     VTD_IOTLB_DR | VTD_IOTLB_DW);
	EXPECT_EQ(2ULL << 60 | 2ULL << 57 | 3ULL << 48 | 4ULL << 32,
		  rd64(t, VTD_IOTLB_REG));
	wr64(t, VTD_IVA_REG, 0x12345000ULL | VTD_IVA_IH | 2);
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_PAGE, 4));
	EXPECT_EQ(3ULL << 60 | 3ULL << 57 | 4ULL << 32,
		  rd64(t, VTD_IOTLB_REG));
	ASSERT_EQ(3U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_GLOBAL, t->iotlb[0].granularity);
	EXPECT_EQ(0, t->iotlb[0].did);
	EXPECT_EQ(VTD_IOTLB_DOMAIN, t->iotlb[1].granularity);
	EXPECT_EQ(4, t->iotlb[1].did);
	EXPECT_EQ(VTD_IOTLB_PAGE, t->iotlb[2].granularity);
	EXPECT_EQ(4, t->iotlb[2].did);
	EXPECT_EQ(2, t->iotlb[2].am);
	EXPECT_TRUE(t->iotlb[2].ih);
	/* Aligned to 2^AM pages. */
	EXPECT_EQ(0x12344000ULL, t->iotlb[2].addr);
	EXPECT_EQ(3ULL, t->unit.stats.iotlb_invals);
}

TEST_F(vtd, iotlb_reg_am_above_mamv_invalidates_domain)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IVA_REG, 0x12345000ULL | 19);
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_PAGE, 4));
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_DOMAIN, t->iotlb[0].granularity);
	EXPECT_EQ(4, t->iotlb[0].did);
	EXPECT_EQ(2ULL, rd64(t, VTD_IOTLB_REG) >> 57 & 3);
	wr64(t, VTD_IVA_REG, 0x12345000ULL | 18);
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_PAGE, 4));
	EXPECT_EQ(VTD_IOTLB_PAGE, t->iotlb[1].granularity);
	EXPECT_EQ(0ULL, t->iotlb[1].addr);
}

TEST_F(vtd, iotlb_reg_without_psi_invalidates_domain)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, CAP_DEFAULT & ~VTD_CAP_PSI, 0));
	wr64(t, VTD_IVA_REG, 0x5000);
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_PAGE, 4));
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_DOMAIN, t->iotlb[0].granularity);
	EXPECT_EQ(2ULL, rd64(t, VTD_IOTLB_REG) >> 57 & 3);
}

TEST_F(vtd, iotlb_reg_unknown_did_becomes_global)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_DOMAIN, 256));
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_GLOBAL, t->iotlb[0].granularity);
	EXPECT_EQ(1ULL, rd64(t, VTD_IOTLB_REG) >> 57 & 3);
}

TEST_F(vtd, iotlb_reg_iirg_zero_or_qies_does_nothing)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IOTLB_REG, iotlb_reg(0, 4));
	EXPECT_EQ(4ULL << 32, rd64(t, VTD_IOTLB_REG));
	qi_enable(t, 0);
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_GLOBAL, 0));
	EXPECT_EQ(1ULL << 60, rd64(t, VTD_IOTLB_REG));
	EXPECT_EQ(0U, t->n_iotlb);
	EXPECT_EQ(0ULL, t->unit.stats.iotlb_invals);
}

/* Queued invalidation. */

TEST_F(vtd, qi_not_pending_without_qies)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IQA_REG, IQ_BASE | 5);
	EXPECT_EQ(256U << 5, vtd_iq_entries(&t->unit));
	wr32(t, VTD_IQT_REG, 1 << 4);
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 10));
	wr32(t, VTD_GCMD_REG, VTD_GCMD_QIE);
	EXPECT_TRUE(vtd_iq_pending(&t->unit));
}

TEST_F(vtd, qi_batch_ending_in_wait_with_status_write)
{
	struct tctx *t = self->t;

	mem_write(&t->unit, STATUS_GPA, "\xff\xff\xff\xff", 4);
	qi_enable(t, 0);
	q_put(t, cc_lo(VTD_CC_DEVICE, 3, 0x0810, 2), 0);
	q_put(t, iotlb_lo(VTD_IOTLB_DOMAIN, 3), 0);
	q_put(t, iotlb_lo(VTD_IOTLB_PAGE, 3), iotlb_hi(0x7654000, true, 0));
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_SW, 0xdeadbeef), STATUS_GPA);
	q_kick(t);
	ASSERT_TRUE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(4U, vtd_iq_process(&t->unit, 100));
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(4U, iqh(t));
	EXPECT_EQ(0xdeadbeefU, mem_get32(t, STATUS_GPA));
	ASSERT_EQ(1U, t->n_cc);
	EXPECT_EQ(VTD_CC_DEVICE, t->cc[0].granularity);
	EXPECT_EQ(3, t->cc[0].did);
	EXPECT_EQ(0x0810, t->cc[0].sid);
	EXPECT_EQ(2, t->cc[0].fm);
	ASSERT_EQ(2U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_DOMAIN, t->iotlb[0].granularity);
	EXPECT_EQ(3, t->iotlb[0].did);
	EXPECT_EQ(VTD_IOTLB_PAGE, t->iotlb[1].granularity);
	EXPECT_EQ(0x7654000ULL, t->iotlb[1].addr);
	EXPECT_TRUE(t->iotlb[1].ih);
	EXPECT_EQ(0U, t->n_irq);
	EXPECT_EQ(0U, rd32(t, VTD_ICS_REG));
}

/*
 * A guest that sees a wait's status finds IQH past the wait; one that
 * takes its interrupt finds the status written.
 */
TEST_F(vtd, qi_wait_status_is_written_after_iqh_before_irq)
{
	struct tctx *t = self->t;

	wr32(t, VTD_IECTL_REG, 0);
	qi_enable(t, 0);
	q_put(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0), 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_SW | VTD_INV_DESC_WAIT_IF, 5),
	      STATUS_GPA);
	q_kick(t);
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 10));
	EXPECT_EQ(5U, mem_get32(t, STATUS_GPA));
	EXPECT_EQ(2ULL << 4, t->iqh_at_write);
	EXPECT_EQ(0U, t->ics_at_write);
	EXPECT_EQ(0U, t->irqs_at_write);
	EXPECT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_ICS_IWC, rd32(t, VTD_ICS_REG));
}

TEST_F(vtd, qi_wait_if_unmasked_sends_irq_once_per_iwc)
{
	struct tctx *t = self->t;

	wr32(t, VTD_IECTL_REG, 0);
	qi_enable(t, 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF, 0), 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF, 0), 0);
	q_kick(t);
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 10));
	/* The second wait found IWC still set: no new interrupt. */
	ASSERT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_IRQ_INV_COMPLETION, t->irq[0]);
	EXPECT_EQ(VTD_ICS_IWC, rd32(t, VTD_ICS_REG));
	EXPECT_EQ(0U, rd32(t, VTD_IECTL_REG));
	wr32(t, VTD_ICS_REG, VTD_ICS_IWC);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF, 0), 0);
	q_kick(t);
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 10));
	EXPECT_EQ(2U, t->n_irq);
	EXPECT_EQ(2ULL, t->unit.stats.irqs);
}

TEST_F(vtd, qi_wait_if_masked_sets_ip_and_unmask_sends)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF | VTD_INV_DESC_WAIT_SW, 1),
	      STATUS_GPA);
	q_kick(t);
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 10));
	EXPECT_EQ(1U, mem_get32(t, STATUS_GPA));
	EXPECT_EQ(0U, t->n_irq);
	EXPECT_EQ(VTD_IECTL_IM | VTD_IECTL_IP, rd32(t, VTD_IECTL_REG));
	/* Rewriting IM = 1 sends nothing; clearing it sends and clears IP. */
	wr32(t, VTD_IECTL_REG, VTD_IECTL_IM);
	EXPECT_EQ(0U, t->n_irq);
	wr32(t, VTD_IECTL_REG, 0);
	ASSERT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_IRQ_INV_COMPLETION, t->irq[0]);
	EXPECT_EQ(0U, rd32(t, VTD_IECTL_REG));
	wr32(t, VTD_IECTL_REG, 0);
	EXPECT_EQ(1U, t->n_irq);
}

TEST_F(vtd, qi_wait_fence_and_drain_accepted)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_FN | VTD_INV_DESC_WAIT_PD, 0),
	      0);
	q_kick(t);
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 10));
	EXPECT_FALSE(iqe(t));
	EXPECT_EQ(1ULL, t->unit.stats.waits);
}

TEST_F(vtd, qi_wraps_around_for_every_qs)
{
	struct tctx *t = self->t;
	u32 qs, i, entries;

	for (qs = 0; qs <= 7; qs++) {
		ASSERT_EQ(0, reinit(t, 0, 0));
		qi_enable(t, qs);
		entries = 256U << qs;
		ASSERT_EQ(entries, vtd_iq_entries(&t->unit));
		for (i = 0; i < entries - 2; i++)
			q_put(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0), 0);
		q_kick(t);
		ASSERT_EQ(entries - 2, vtd_iq_process(&t->unit, ~0U));
		ASSERT_EQ(entries - 2, iqh(t));
		q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
		q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
		q_put(t, wait_lo(VTD_INV_DESC_WAIT_SW, qs), STATUS_GPA);
		ASSERT_EQ(1U, t->tail);
		q_kick(t);
		EXPECT_EQ(3U, vtd_iq_process(&t->unit, ~0U))
			TH_LOG("QS %u", qs);
		EXPECT_EQ(1U, iqh(t));
		EXPECT_EQ(qs, mem_get32(t, STATUS_GPA));
		EXPECT_FALSE(iqe(t));
		EXPECT_FALSE(vtd_iq_pending(&t->unit));
	}
}

TEST_F(vtd, qi_tail_beyond_queue_sets_iqe)
{
	struct tctx *t = self->t;

	put_desc(t, 0, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	put_desc(t, 1, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	qi_enable(t, 0);
	wr32(t, VTD_IQT_REG, 256 << 4);
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 10));
	EXPECT_TRUE(iqe(t));
	EXPECT_EQ(0U, iqh(t));
	EXPECT_EQ(0U, t->n_cc);
	EXPECT_EQ(1ULL, t->unit.stats.iq_errors);
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	/* Once the queue holds 512 entries, the same tail is fine. */
	wr64(t, VTD_IQA_REG, IQ_BASE | 1);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 2));
	EXPECT_EQ(2U, t->n_cc);
}

/* Queue a good descriptor then @lo/@hi; expect IQE at the second one. */
static bool second_desc_fails(struct tctx *t, u64 lo, u64 hi)
{
	u32 done;

	qi_restart(t);
	q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	q_put(t, lo, hi);
	q_kick(t);
	done = vtd_iq_process(&t->unit, 10);
	return done == 1 && iqe(t) && iqh(t) == 1;
}

static bool second_desc_ok(struct tctx *t, u64 lo, u64 hi)
{
	qi_restart(t);
	q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	q_put(t, lo, hi);
	q_kick(t);
	return vtd_iq_process(&t->unit, 10) == 2 && !iqe(t);
}

TEST_F(vtd, qi_unknown_types_set_iqe_at_offender)
{
	struct tctx *t = self->t;
	u64 type;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_DT));
	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, 0, 0));
	for (type = 6; type < 16; type++) {
		EXPECT_TRUE(second_desc_fails(t, type, 0))
			TH_LOG("type %llu", (unsigned long long)type);
	}
	/* Types 16 and up use bits 11:9. */
	for (type = 1; type < 8; type++) {
		EXPECT_TRUE(second_desc_fails(t, type << 9 |
					      VTD_INV_DESC_WAIT, 0))
			TH_LOG("type %llu", (unsigned long long)(type << 4));
	}
	EXPECT_EQ(0U, t->n_fwd);
}

struct desc_case {
	const char *name;
	u64 lo, hi;		/* a valid descriptor */
	u64 rsvd_lo, rsvd_hi;	/* its reserved bits, from the spec */
};

static const struct desc_case desc_cases[] = {
	{ "cc", VTD_INV_DESC_CC | 1 << 4, 0,
	  0xfffc00000000f1c0ULL, ~0ULL },
	{ "iotlb", VTD_INV_DESC_IOTLB | 1 << 4, 0,
	  0xffffffff0000f100ULL, 0xf80ULL },
	{ "devtlb", VTD_INV_DESC_DEVTLB, 0,
	  0x000f0000ffe001f0ULL, 0xffeULL },
	{ "iec", VTD_INV_DESC_IEC, 0,
	  0xffff000007fff1e0ULL, ~0ULL },
	{ "wait", VTD_INV_DESC_WAIT, 0,
	  0x00000000fffff100ULL, 0x3ULL },
};

TEST_F(vtd, qi_reserved_bits_of_each_type_set_iqe)
{
	struct tctx *t = self->t;
	const struct desc_case *c;
	u64 bit;
	u32 i, b;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_DT));
	qi_enable(t, 0);
	for (i = 0; i < ARRAY_SIZE(desc_cases); i++) {
		c = &desc_cases[i];
		EXPECT_TRUE(second_desc_ok(t, c->lo, c->hi))
			TH_LOG("%s", c->name);
		for (b = 0; b < 64; b++) {
			bit = 1ULL << b;
			if (c->rsvd_lo & bit) {
				EXPECT_TRUE(second_desc_fails(t, c->lo | bit,
							      c->hi))
					TH_LOG("%s lo bit %u", c->name, b);
			}
			if (c->rsvd_hi & bit) {
				EXPECT_TRUE(second_desc_fails(t, c->lo,
							      c->hi | bit))
					TH_LOG("%s hi bit %u", c->name, b);
			}
		}
	}
}

TEST_F(vtd, qi_defined_fields_accepted)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_DT));
	qi_enable(t, 0);
	/* IOTLB with DR and DW; device-TLB with PFSID, MIP, SID, S, ADDR. */
	EXPECT_TRUE(second_desc_ok(t, iotlb_lo(VTD_IOTLB_DOMAIN, 255) |
				   VTD_INV_DESC_IOTLB_DR |
				   VTD_INV_DESC_IOTLB_DW, 0));
	EXPECT_TRUE(second_desc_ok(t, VTD_INV_DESC_DEVTLB |
				   0xfff000000000f000ULL | 0x1f << 16 |
				   0xffffULL << 32, 0xfffffffffffff001ULL));
	/* IEC with G, IM and IIDX. */
	EXPECT_TRUE(second_desc_ok(t, VTD_INV_DESC_IEC | 1 << 4 |
				   0x1fULL << 27 | 0xffffULL << 32, 0));
	EXPECT_TRUE(second_desc_ok(t, wait_lo(0xf0, ~0U),
				   STATUS_GPA));
}

TEST_F(vtd, qi_recovers_after_iqe_cleared)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	q_put(t, cc_lo(0, 0, 0, 0), 0);
	q_put(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0), 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_SW, 7), STATUS_GPA);
	q_kick(t);
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 10));
	EXPECT_TRUE(iqe(t));
	EXPECT_EQ(1U, iqh(t));
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 10));
	/* The guest replaces the offender, as Linux does, and clears IQE. */
	put_desc(t, 1, wait_lo(0, 0), 0);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_TRUE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(3U, vtd_iq_process(&t->unit, 10));
	EXPECT_EQ(4U, iqh(t));
	EXPECT_EQ(7U, mem_get32(t, STATUS_GPA));
	EXPECT_EQ(1U, t->n_cc);
	EXPECT_EQ(1U, t->n_iotlb);
}

TEST_F(vtd, qi_queue_outside_memory_sets_iqe)
{
	struct tctx *t = self->t;

	wr64(t, VTD_IQA_REG, MEM_SIZE);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_QIE);
	wr32(t, VTD_IQT_REG, 1 << 4);
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 10));
	EXPECT_TRUE(iqe(t));
	EXPECT_EQ(0U, iqh(t));
	/* A queue at the top of the address space. */
	wr32(t, VTD_GCMD_REG, 0);
	wr64(t, VTD_IQA_REG, 0xfffffffffffff000ULL | 7);
	wr32(t, VTD_GCMD_REG, VTD_GCMD_QIE);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 10));
	EXPECT_TRUE(iqe(t));
}

TEST_F(vtd, qi_wait_status_outside_memory_sets_iqe)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, wait_lo(VTD_INV_DESC_WAIT_SW, 1),
				      MEM_SIZE));
	EXPECT_TRUE(second_desc_fails(t, wait_lo(VTD_INV_DESC_WAIT_SW, 1),
				      0xfffffffffffffffcULL));
	EXPECT_TRUE(second_desc_ok(t, wait_lo(VTD_INV_DESC_WAIT_SW, 1),
				   MEM_SIZE - 4));
	EXPECT_EQ(1U, mem_get32(t, MEM_SIZE - 4));
	/* Without SW the address is not used. */
	EXPECT_TRUE(second_desc_ok(t, wait_lo(0, 1), MEM_SIZE));
	EXPECT_EQ(0U, t->n_irq);
}

TEST_F(vtd, qi_iec_and_devtlb_forwarded_when_offered)
{
	struct tctx *t = self->t;
	u64 iec = VTD_INV_DESC_IEC | 1 << 4 | 3ULL << 27 | 0x40ULL << 32;
	u64 dev = VTD_INV_DESC_DEVTLB | 0x10ULL << 16 | 0x0100ULL << 32;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR | VTD_ECAP_DT));
	qi_enable(t, 0);
	q_put(t, iec, 0);
	q_put(t, dev, 0x7fff000ULL | 1);
	q_kick(t);
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 10));
	ASSERT_EQ(2U, t->n_fwd);
	EXPECT_EQ(iec, t->fwd[0].lo);
	EXPECT_EQ(0ULL, t->fwd[0].hi);
	EXPECT_EQ(dev, t->fwd[1].lo);
	EXPECT_EQ(0x7fff001ULL, t->fwd[1].hi);
	EXPECT_EQ(2ULL, t->unit.stats.forwarded);
}

/* The host's ->wait_ready(): whether the VMM acted on what it was sent. */
static bool host_acked;

static bool wait_when_acked(struct vtd_unit *u)
{
	return u && host_acked;
}

/*
 * Hardware completes a wait only after every descriptor before it, the
 * forwarded ones included: while the host says the VMM has not acted on
 * them, the queue stops at the wait (IQH on it, no error, no status
 * written, no IWC), and goes on, from the wait, once it has.
 */
TEST_F(vtd, qi_wait_after_forwarded_waits_for_the_host)
{
	struct tctx *t = self->t;
	struct vtd_ops ops = test_ops;
	u64 iec = VTD_INV_DESC_IEC | 1 << 4 | 3ULL << 27 | 0x40ULL << 32;

	ops.wait_ready = wait_when_acked;
	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR));
	t->unit.ops = &ops;
	host_acked = false;
	mem_write(&t->unit, STATUS_GPA, "\0\0\0\0", 4);
	qi_enable(t, 0);
	q_put(t, iec, 0);
	q_put(t, iotlb_lo(VTD_IOTLB_DOMAIN, 3), 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_SW | VTD_INV_DESC_WAIT_IF, 7),
	      STATUS_GPA);
	q_put(t, iotlb_lo(VTD_IOTLB_DOMAIN, 4), 0);
	q_kick(t);
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 100));
	EXPECT_EQ(2U, iqh(t));
	EXPECT_TRUE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(0U, mem_get32(t, STATUS_GPA));
	EXPECT_EQ(0U, rd32(t, VTD_ICS_REG));
	EXPECT_EQ(0U, rd32(t, VTD_FSTS_REG));
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 100));
	EXPECT_EQ(1U, t->n_iotlb);

	host_acked = true;
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 100));
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(7U, mem_get32(t, STATUS_GPA));
	EXPECT_EQ(VTD_ICS_IWC, rd32(t, VTD_ICS_REG));
	EXPECT_EQ(2U, t->n_iotlb);
	EXPECT_EQ(1ULL, t->unit.stats.waits);
	t->unit.ops = &test_ops;
}

TEST_F(vtd, qi_iec_and_devtlb_set_iqe_when_not_offered)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, VTD_INV_DESC_IEC, 0));
	EXPECT_TRUE(second_desc_fails(t, VTD_INV_DESC_DEVTLB, 0));
	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR));
	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_ok(t, VTD_INV_DESC_IEC, 0));
	EXPECT_TRUE(second_desc_fails(t, VTD_INV_DESC_DEVTLB, 0));
	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_DT));
	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, VTD_INV_DESC_IEC, 0));
	EXPECT_TRUE(second_desc_ok(t, VTD_INV_DESC_DEVTLB, 0));
	EXPECT_EQ(2U, t->n_fwd);
}

TEST_F(vtd, qi_budget_limits_and_processing_resumes)
{
	struct tctx *t = self->t;
	u32 i;

	qi_enable(t, 0);
	for (i = 0; i < 10; i++)
		q_put(t, iotlb_lo(VTD_IOTLB_DOMAIN, i), 0);
	q_kick(t);
	EXPECT_EQ(0U, vtd_iq_process(&t->unit, 0));
	EXPECT_EQ(3U, vtd_iq_process(&t->unit, 3));
	EXPECT_EQ(3U, iqh(t));
	EXPECT_TRUE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(3U, vtd_iq_process(&t->unit, 3));
	EXPECT_EQ(6U, iqh(t));
	EXPECT_EQ(4U, vtd_iq_process(&t->unit, 100));
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	ASSERT_EQ(10U, t->n_iotlb);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(i, (u32)t->iotlb[i].did);
}

/* The host's ->yield(): after every third IOTLB invalidation. */
static bool yield_every_third(struct vtd_unit *u)
{
	return to_ctx(u)->n_iotlb % 3 == 0;
}

/*
 * ->yield() stops processing right after the descriptor it was asked
 * about (even under a larger budget), and the next call goes on from
 * there: nothing skipped, nothing done twice.
 */
TEST_F(vtd, qi_yield_stops_after_the_descriptor_and_resumes)
{
	struct tctx *t = self->t;
	struct vtd_ops ops = test_ops;
	u32 i;

	ops.yield = yield_every_third;
	t->unit.ops = &ops;
	qi_enable(t, 0);
	for (i = 0; i < 7; i++)
		q_put(t, iotlb_lo(VTD_IOTLB_DOMAIN, i), 0);
	q_kick(t);
	EXPECT_EQ(3U, vtd_iq_process(&t->unit, 100));
	EXPECT_EQ(3U, iqh(t));
	EXPECT_TRUE(vtd_iq_pending(&t->unit));
	EXPECT_EQ(2U, vtd_iq_process(&t->unit, 2));
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 100));
	EXPECT_EQ(1U, vtd_iq_process(&t->unit, 100));
	EXPECT_FALSE(vtd_iq_pending(&t->unit));
	ASSERT_EQ(7U, t->n_iotlb);
	for (i = 0; i < 7; i++)
		EXPECT_EQ(i, (u32)t->iotlb[i].did);
	t->unit.ops = &test_ops;
}

TEST_F(vtd, qi_granularity_zero_sets_iqe)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, cc_lo(0, 1, 0, 0), 0));
	EXPECT_TRUE(second_desc_fails(t, iotlb_lo(0, 1), 0));
}

TEST_F(vtd, qi_did_out_of_range_sets_iqe)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	/* ND = 2: 256 domains. */
	EXPECT_TRUE(second_desc_ok(t, cc_lo(VTD_CC_DOMAIN, 255, 0, 0), 0));
	EXPECT_TRUE(second_desc_fails(t, cc_lo(VTD_CC_DOMAIN, 256, 0, 0),
				      0));
	EXPECT_TRUE(second_desc_fails(t, cc_lo(VTD_CC_DEVICE, 0xffff, 0, 0),
				      0));
	EXPECT_TRUE(second_desc_fails(t, iotlb_lo(VTD_IOTLB_DOMAIN, 256),
				      0));
	EXPECT_TRUE(second_desc_fails(t, iotlb_lo(VTD_IOTLB_PAGE, 300), 0));
	/* Global invalidations ignore DID. */
	EXPECT_TRUE(second_desc_ok(t, cc_lo(VTD_CC_GLOBAL, 0xffff, 0, 0),
				   0));
	EXPECT_TRUE(second_desc_ok(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0xffff),
				   0));
	ASSERT_EQ(0, reinit(t, CAP_DEFAULT & ~VTD_CAP_ND, 0));
	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_ok(t, cc_lo(VTD_CC_DOMAIN, 15, 0, 0), 0));
	EXPECT_TRUE(second_desc_fails(t, cc_lo(VTD_CC_DOMAIN, 16, 0, 0), 0));
}

TEST_F(vtd, qi_iotlb_page_am_checked_and_address_aligned)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_fails(t, iotlb_lo(VTD_IOTLB_PAGE, 1),
				      iotlb_hi(0, false, 19)));
	EXPECT_TRUE(second_desc_ok(t, iotlb_lo(VTD_IOTLB_PAGE, 1),
				   iotlb_hi(0x12345000, false, 4)));
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(0x12340000ULL, t->iotlb[0].addr);
	EXPECT_EQ(4, t->iotlb[0].am);
	EXPECT_FALSE(t->iotlb[0].ih);
	EXPECT_TRUE(second_desc_ok(t, iotlb_lo(VTD_IOTLB_PAGE, 1),
				   iotlb_hi(0xfffffffffffff000ULL, true, 18)));
	EXPECT_EQ(0xffffffffc0000000ULL, t->iotlb[1].addr);
}

TEST_F(vtd, qi_iotlb_page_without_psi_invalidates_domain)
{
	struct tctx *t = self->t;

	ASSERT_EQ(0, reinit(t, CAP_DEFAULT & ~VTD_CAP_PSI, 0));
	qi_enable(t, 0);
	EXPECT_TRUE(second_desc_ok(t, iotlb_lo(VTD_IOTLB_PAGE, 9),
				   iotlb_hi(0x5000, true, 63)));
	ASSERT_EQ(1U, t->n_iotlb);
	EXPECT_EQ(VTD_IOTLB_DOMAIN, t->iotlb[0].granularity);
	EXPECT_EQ(9, t->iotlb[0].did);
	EXPECT_EQ(0ULL, t->iotlb[0].addr);
}

TEST_F(vtd, qi_iqe_raises_fault_event)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	/* Masked: IP, then clearing IQE services it without a message. */
	EXPECT_TRUE(second_desc_fails(t, 0, 0));
	EXPECT_EQ(VTD_FECTL_IM | VTD_FECTL_IP, rd32(t, VTD_FECTL_REG));
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_EQ(VTD_FECTL_IM, rd32(t, VTD_FECTL_REG));
	wr32(t, VTD_FECTL_REG, 0);
	EXPECT_EQ(0U, t->n_irq);
	/* Unmasked: sent at once. */
	EXPECT_TRUE(second_desc_fails(t, 0, 0));
	ASSERT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_IRQ_FAULT, t->irq[0]);
	EXPECT_EQ(0U, rd32(t, VTD_FECTL_REG));
}

/* Fault recording. */

TEST_F(vtd, fault_record_fields)
{
	struct tctx *t = self->t;

	vtd_record_fault(&t->unit, 0x1234, 0xabcdef123ULL, VTD_FR_WRITE,
			 false);
	vtd_record_fault(&t->unit, 0x0008, 0x5000, VTD_FR_READ, true);
	EXPECT_EQ(0xabcdef000ULL, rd64(t, frcd(0)));
	EXPECT_EQ(1ULL << 63 | 1ULL << 62 | 5ULL << 32 | 0x1234,
		  rd64(t, frcd(0) + 8));
	EXPECT_EQ(0x5000ULL, rd64(t, frcd(1)));
	EXPECT_EQ(1ULL << 63 | 6ULL << 32 | 0x0008, rd64(t, frcd(1) + 8));
	EXPECT_EQ(VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	EXPECT_EQ(2ULL, t->unit.stats.faults);
}

TEST_F(vtd, fault_records_fill_circularly_and_fri_names_first)
{
	struct tctx *t = self->t;
	u32 i;

	for (i = 0; i < 3; i++)
		record(t, i + 1);
	EXPECT_EQ(VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	for (i = 0; i < 3; i++)
		clear_f(t, i);
	EXPECT_EQ(0U, rd32(t, VTD_FSTS_REG) & VTD_FSTS_PPF);
	/* The next record follows the last one written. */
	record(t, 4);
	EXPECT_EQ(4ULL, rd64(t, frcd(3) + 8) & 0xffff);
	EXPECT_EQ(3U << 8 | VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	/* FRI stays at the first pending record. */
	for (i = 5; i <= 9; i++)
		record(t, i);
	EXPECT_EQ(3U << 8 | VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	for (i = 3; i < 8; i++)
		clear_f(t, i);
	clear_f(t, 0);
	record(t, 10);
	EXPECT_EQ(10ULL, rd64(t, frcd(1) + 8) & 0xffff);
	EXPECT_EQ(1U << 8 | VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
}

TEST_F(vtd, fault_overflow_sets_pfo_and_drops)
{
	struct tctx *t = self->t;
	u32 i;

	for (i = 0; i < VTD_NR_FRCD; i++)
		record(t, i + 1);
	EXPECT_EQ(VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	record(t, 100);
	EXPECT_EQ(VTD_FSTS_PPF | VTD_FSTS_PFO, rd32(t, VTD_FSTS_REG));
	EXPECT_EQ(1ULL, rd64(t, frcd(0) + 8) & 0xffff);
	EXPECT_EQ(1ULL, t->unit.stats.faults_lost);
	/* While PFO is set nothing is recorded, even with a free record. */
	clear_f(t, 0);
	record(t, 101);
	EXPECT_EQ(0ULL, rd64(t, frcd(0) + 8) >> 63);
	EXPECT_EQ(2ULL, t->unit.stats.faults_lost);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_PFO);
	record(t, 102);
	EXPECT_EQ(1ULL << 63 | 6ULL << 32 | 1ULL << 62 | 102,
		  rd64(t, frcd(0) + 8));
	EXPECT_EQ(VTD_NR_FRCD + 1ULL, t->unit.stats.faults);
}

TEST_F(vtd, fault_f_is_rw1c_in_32_and_64_bit_writes)
{
	struct tctx *t = self->t;

	record(t, 1);
	record(t, 2);
	wr32(t, frcd(0) + 12, 0);
	wr32(t, frcd(0) + 8, ~0U);
	wr32(t, frcd(0) + 4, ~0U);
	wr64(t, frcd(0), 0);
	EXPECT_EQ(0x1000ULL, rd64(t, frcd(0)));
	EXPECT_NE(0ULL, rd64(t, frcd(0) + 8) >> 63);
	wr32(t, frcd(0) + 12, F32);
	EXPECT_EQ(0ULL, rd64(t, frcd(0) + 8) >> 63);
	EXPECT_EQ(VTD_FSTS_PPF, rd32(t, VTD_FSTS_REG));
	wr64(t, frcd(1) + 8, 1ULL << 63);
	EXPECT_EQ(0ULL, rd64(t, frcd(1) + 8) >> 63);
	EXPECT_EQ(0U, rd32(t, VTD_FSTS_REG) & VTD_FSTS_PPF);
}

TEST_F(vtd, fault_event_masked_then_unmasked)
{
	struct tctx *t = self->t;

	record(t, 1);
	EXPECT_EQ(0U, t->n_irq);
	EXPECT_EQ(VTD_FECTL_IM | VTD_FECTL_IP, rd32(t, VTD_FECTL_REG));
	/* IP is read-only. */
	wr32(t, VTD_FECTL_REG, VTD_FECTL_IM);
	EXPECT_EQ(VTD_FECTL_IM | VTD_FECTL_IP, rd32(t, VTD_FECTL_REG));
	wr32(t, VTD_FECTL_REG, 0);
	ASSERT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_IRQ_FAULT, t->irq[0]);
	EXPECT_EQ(0U, rd32(t, VTD_FECTL_REG));
}

TEST_F(vtd, fault_event_unmasked_sent_at_once)
{
	struct tctx *t = self->t;

	wr32(t, VTD_FECTL_REG, 0);
	record(t, 1);
	ASSERT_EQ(1U, t->n_irq);
	EXPECT_EQ(VTD_IRQ_FAULT, t->irq[0]);
	EXPECT_EQ(0U, rd32(t, VTD_FECTL_REG));
}

TEST_F(vtd, fault_one_event_per_pending_condition)
{
	struct tctx *t = self->t;
	u32 i;

	wr32(t, VTD_FECTL_REG, 0);
	qi_enable(t, 0);
	for (i = 0; i <= VTD_NR_FRCD; i++)
		record(t, i);
	EXPECT_TRUE(second_desc_fails(t, 0, 0));
	EXPECT_EQ(1U, t->n_irq);
	/* Service everything; the next condition is a new event. */
	for (i = 0; i < VTD_NR_FRCD; i++)
		clear_f(t, i);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_PFO | VTD_FSTS_IQE);
	EXPECT_EQ(0U, rd32(t, VTD_FSTS_REG) & ~VTD_FSTS_FRI);
	record(t, 1);
	EXPECT_EQ(2U, t->n_irq);
	EXPECT_EQ(2ULL, t->unit.stats.irqs);
}

TEST_F(vtd, fault_ip_cleared_once_all_status_serviced)
{
	struct tctx *t = self->t;

	qi_enable(t, 0);
	record(t, 1);
	EXPECT_TRUE(second_desc_fails(t, 0, 0));
	EXPECT_NE(0U, rd32(t, VTD_FECTL_REG) & VTD_FECTL_IP);
	clear_f(t, 0);
	EXPECT_NE(0U, rd32(t, VTD_FECTL_REG) & VTD_FECTL_IP);
	wr32(t, VTD_FSTS_REG, VTD_FSTS_IQE);
	EXPECT_EQ(VTD_FECTL_IM, rd32(t, VTD_FECTL_REG));
	wr32(t, VTD_FECTL_REG, 0);
	EXPECT_EQ(0U, t->n_irq);
}

/* Statistics. */

TEST_F(vtd, stats_counters)
{
	struct tctx *t = self->t;
	const struct vtd_stats *s = &t->unit.stats;
	u64 v;
	u32 i;

	ASSERT_EQ(0, reinit(t, 0, VTD_ECAP_IR));
	wr32(t, VTD_IECTL_REG, 0);
	wr64(t, VTD_CCMD_REG, ccmd(VTD_CC_GLOBAL, 0, 0, 0));
	wr64(t, VTD_IOTLB_REG, iotlb_reg(VTD_IOTLB_GLOBAL, 0));
	vtd_reg_write(&t->unit, 3, 4, 0);
	vtd_reg_read(&t->unit, VTD_VER_REG, 4, &v);
	EXPECT_EQ(3ULL, s->reg_writes);
	qi_enable(t, 0);
	q_put(t, cc_lo(VTD_CC_GLOBAL, 0, 0, 0), 0);
	q_put(t, iotlb_lo(VTD_IOTLB_GLOBAL, 0), 0);
	q_put(t, VTD_INV_DESC_IEC, 0);
	q_put(t, wait_lo(VTD_INV_DESC_WAIT_IF, 0), 0);
	q_put(t, 0, 0);
	q_kick(t);
	EXPECT_EQ(4U, vtd_iq_process(&t->unit, 100));
	EXPECT_EQ(4ULL, s->descs);
	EXPECT_EQ(2ULL, s->cc_invals);
	EXPECT_EQ(2ULL, s->iotlb_invals);
	EXPECT_EQ(1ULL, s->waits);
	EXPECT_EQ(1ULL, s->forwarded);
	EXPECT_EQ(1ULL, s->iq_errors);
	for (i = 0; i <= VTD_NR_FRCD; i++)
		record(t, i);
	EXPECT_EQ((u64)VTD_NR_FRCD, s->faults);
	EXPECT_EQ(1ULL, s->faults_lost);
	/* Completion sent, fault held: FECTL is masked. */
	EXPECT_EQ(1ULL, s->irqs);
	EXPECT_EQ(7ULL, s->reg_writes);
}

TEST_HARNESS_MAIN
