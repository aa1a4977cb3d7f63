// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the VT-d table walker (vtd_walk.c), built for userspace:
 * root and context entry lookup, second-level translation and range walks
 * over tables a hostile guest wrote.
 *
 * Each test gets a fresh unit with the default capabilities, a fake guest
 * memory of MEM_SIZE bytes at GPA 0 (reads outside it fail with -EFAULT,
 * and every read is counted), and the root table at RT latched by SRTP.
 * Context tables sit at CT(bus), paging tables are handed out from
 * TABLES up.  Expected values are written from the VT-d specification,
 * fault reasons included, not from the walker.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The harness has an unused handler parameter; the tests build -Wextra. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "vtd_walk.h"

#define MEM_SIZE	(4ULL << 20)
#define RT		0x1000ULL		/* root table */
#define CT(bus)		(0x100000ULL + 0x1000ULL * (bus))	/* to 2 MiB */
#define TABLES		0x200000ULL		/* paging tables, to 4 MiB */
#define OUTSIDE		MEM_SIZE		/* a GPA that is not RAM */

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL
#define SZ_512G		0x8000000000ULL
#define BIT39		BIT_ULL(39)
#define BIT48		BIT_ULL(48)

#define SID		0x0108			/* 01:01.0 */
#define DID		5
#define MAX_LEAVES	8192
#define STOP		42			/* a callback's stop value */
#define BIG		1000000U		/* budget no test exhausts */

/* Fault reasons, legacy mode, from the spec's table. */
#define FR_ROOT_NOT_PRESENT	0x1
#define FR_CTX_NOT_PRESENT	0x2
#define FR_CTX_INVALID		0x3
#define FR_BEYOND_MGAW		0x4
#define FR_WRITE		0x5
#define FR_READ			0x6
#define FR_PTE_ACCESS		0x7
#define FR_ROOT_ACCESS		0x8
#define FR_CTX_ACCESS		0x9
#define FR_ROOT_RSVD		0xa
#define FR_CTX_RSVD		0xb
#define FR_PTE_RSVD		0xc
#define FR_INTR_ADDR		0xe

/* Entry bits, from the spec's layouts. */
#define P		1ULL
#define R		1ULL
#define W		2ULL
#define RW		3ULL
#define PS		BIT_ULL(7)
#define FPD		2ULL
#define TT_PT		2ULL
#define AW39		1ULL
#define AW48		2ULL

/* A unit, its register page, guest memory, and what the walk reported. */
struct tctx {
	struct vtd_unit unit;
	u8 regs[VTD_REG_PAGE_SIZE];
	u8 *mem;
	u64 next_table;
	u64 reads;			/* read_gpa calls */
	u32 side_effects;		/* calls of any other callback */
	struct vtd_mapping leaf[MAX_LEAVES];
	u32 n_leaves;
	u32 stop_after;			/* leaf the callback stops at, 1-based */
	int stop_value;
	u32 yield_at;			/* walk_yield call that says stop, 1-based */
	u32 yields;			/* walk_yield calls */
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
	struct tctx *t = to_ctx(u);

	t->reads++;
	if (!mem_range_ok(gpa, len))
		return -EFAULT;
	memcpy(buf, t->mem + gpa, len);
	return 0;
}

/*
 * The walker only reads guest memory: every other callback just counts,
 * for walker_has_no_side_effects.  Their arguments do not matter.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
static int mem_write(struct vtd_unit *u, u64 gpa, const void *buf, u32 len)
{
	to_ctx(u)->side_effects++;
	return -EFAULT;
}

static void log_cc(struct vtd_unit *u, const struct vtd_cc_inval *inv)
{
	to_ctx(u)->side_effects++;
}

static void log_iotlb(struct vtd_unit *u, const struct vtd_iotlb_inval *inv)
{
	to_ctx(u)->side_effects++;
}

static void log_irq(struct vtd_unit *u, enum vtd_irq irq)
{
	to_ctx(u)->side_effects++;
}

static void log_fwd(struct vtd_unit *u, const struct vtd_inv_desc *desc)
{
	to_ctx(u)->side_effects++;
}

#pragma GCC diagnostic pop

static void log_tc(struct vtd_unit *u)
{
	to_ctx(u)->side_effects++;
}

/* The host's word at each table the walker enters. */
static bool walk_yield(struct vtd_unit *u)
{
	struct tctx *t = to_ctx(u);

	return ++t->yields == t->yield_at;
}

static const struct vtd_ops test_ops = {
	.read_gpa = mem_read,
	.write_gpa = mem_write,
	.cc_inval = log_cc,
	.iotlb_inval = log_iotlb,
	.send_irq = log_irq,
	.forward_desc = log_fwd,
	.translation_changed = log_tc,
	.walk_yield = walk_yield,
};

/* Latch RT as the guest does: RTADDR_REG, then GCMD.SRTP. */
static void latch_root(struct tctx *t)
{
	vtd_reg_write(&t->unit, VTD_RTADDR_REG, 8, RT);
	vtd_reg_write(&t->unit, VTD_GCMD_REG, 4, VTD_GCMD_SRTP);
}

static int reinit(struct tctx *t, u64 cap, u64 ecap)
{
	int ret = vtd_unit_init(&t->unit, &test_ops, t->regs, cap, ecap);

	latch_root(t);
	return ret;
}

FIXTURE(walk) {
	struct tctx *t;
};

FIXTURE_SETUP(walk)
{
	self->t = calloc(1, sizeof(*self->t));
	ASSERT_NE(NULL, self->t);
	self->t->mem = calloc(1, MEM_SIZE);
	ASSERT_NE(NULL, self->t->mem);
	self->t->next_table = TABLES;
	ASSERT_EQ(0, reinit(self->t, 0, 0));
}

FIXTURE_TEARDOWN(walk)
{
	free(self->t->mem);
	free(self->t);
}

/* Capabilities: the defaults with @clear cleared and @set set. */
static u64 cap_with(u64 clear, u64 set)
{
	return (vtd_cap_default() & ~clear) | set;
}

static u64 ecap_with(u64 clear, u64 set)
{
	return (vtd_ecap_default() & ~clear) | set;
}

/* The default CAP with MGAW @width bits. */
static u64 cap_mgaw(u64 width)
{
	return cap_with(VTD_CAP_MGAW, (width - 1) << 16);
}

/* Guest memory, little-endian as the unit reads it. */
static void put64(struct tctx *t, u64 gpa, u64 val)
{
	u64 le = htole64(val);

	memcpy(t->mem + gpa, &le, sizeof(le));
}

static u64 get64(struct tctx *t, u64 gpa)
{
	u64 le;

	memcpy(&le, t->mem + gpa, sizeof(le));
	return le64toh(le);
}

/* A zeroed 4 KiB table. */
static u64 new_table(struct tctx *t)
{
	u64 gpa = t->next_table;

	if (gpa + SZ_4K > MEM_SIZE)
		abort();
	t->next_table += SZ_4K;
	return gpa;
}

static void set_root(struct tctx *t, u32 bus, u64 lo, u64 hi)
{
	put64(t, RT + 16ULL * bus, lo);
	put64(t, RT + 16ULL * bus + 8, hi);
}

/* @sid's context entry, and a present root entry for its bus. */
static void set_ctx(struct tctx *t, u16 sid, u64 lo, u64 hi)
{
	u32 bus = sid >> 8;

	set_root(t, bus, CT(bus) | P, 0);
	put64(t, CT(bus) + 16ULL * (sid & 0xff), lo);
	put64(t, CT(bus) + 16ULL * (sid & 0xff) + 8, hi);
}

static u64 ctx_lo(u64 slptptr, u64 tt)
{
	return slptptr | tt << 2 | P;
}

static u64 ctx_hi(u64 aw, u64 did)
{
	return aw | did << 8;
}

static int lookup(struct tctx *t, u16 sid, struct vtd_context *c)
{
	return vtd_context_lookup(&t->unit, sid, c);
}

/* SID with new, empty @levels-level tables; 0 or the lookup's fault. */
static int dev_setup(struct tctx *t, u32 levels, struct vtd_context *c)
{
	set_ctx(t, SID, ctx_lo(new_table(t), 0),
		ctx_hi(levels == 3 ? AW39 : AW48, DID));
	return lookup(t, SID, c);
}

static u32 level_shift(u32 level)
{
	return 12 + 9 * (level - 1);
}

/*
 * Address of the level-@level entry translating @iova, in the tables under
 * @root (@levels of them), creating missing tables with R and W.
 */
static u64 slot(struct tctx *t, u64 root, u32 levels, u64 iova, u32 level)
{
	u64 table = root;
	u32 l;

	for (l = levels; ; l--) {
		u64 gpa = table + 8 * ((iova >> level_shift(l)) & 511);
		u64 pte;

		if (l == level)
			return gpa;
		pte = get64(t, gpa);
		if (!(pte & RW)) {
			pte = new_table(t) | RW;
			put64(t, gpa, pte);
		}
		table = pte & VTD_SLPTE_ADDR;
	}
}

/* Map @iova to @gpa with a leaf of @size and @flags (R, W, ...). */
static u64 map(struct tctx *t, const struct vtd_context *c, u64 iova,
	       u64 gpa, u64 size, u64 flags)
{
	u32 level = size == SZ_1G ? 3 : size == SZ_2M ? 2 : 1;
	u64 gpa_slot = slot(t, c->slptptr, c->levels, iova, level);

	put64(t, gpa_slot, gpa | flags | (level > 1 ? PS : 0));
	return gpa_slot;
}

static int xlate(struct tctx *t, const struct vtd_context *c, u64 iova,
		 struct vtd_mapping *m)
{
	memset(m, 0xa5, sizeof(*m));
	return vtd_sl_translate(&t->unit, c, iova, m);
}

static int collect(void *opaque, const struct vtd_mapping *m)
{
	struct tctx *t = opaque;

	if (t->n_leaves < MAX_LEAVES)
		t->leaf[t->n_leaves] = *m;
	t->n_leaves++;
	if (t->stop_after && t->n_leaves == t->stop_after)
		return t->stop_value;
	return 0;
}

/* Walk [start, end), leaves to t->leaf, reads counted from 0. */
static int walk(struct tctx *t, const struct vtd_context *c, u64 start,
		u64 end, u32 *budget)
{
	t->n_leaves = 0;
	t->reads = 0;
	return vtd_sl_walk(&t->unit, c, start, end, collect, t, budget, NULL);
}

/* The same, with the cursor where a stopped walk would resume. */
static int walk_next(struct tctx *t, const struct vtd_context *c, u64 start,
		     u64 end, u32 *budget, u64 *next)
{
	t->n_leaves = 0;
	t->reads = 0;
	t->yields = 0;
	*next = 0xdeadULL;
	return vtd_sl_walk(&t->unit, c, start, end, collect, t, budget, next);
}

static int walk_all(struct tctx *t, const struct vtd_context *c)
{
	u32 budget = BIG;

	return walk(t, c, 0, ~0ULL, &budget);
}

static bool same_mapping(const struct vtd_mapping *a,
			 const struct vtd_mapping *b)
{
	return a->iova == b->iova && a->gpa == b->gpa && a->size == b->size &&
	       a->read == b->read && a->write == b->write;
}

/* Root and context entries. */

TEST_F(walk, lookup_decodes_every_context_field)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, 0xabcd, 0x123456000ULL | P, ctx_hi(AW48, 0x42));
	ASSERT_EQ(0, lookup(t, 0xabcd, &c));
	EXPECT_EQ(0xabcd, c.sid);
	EXPECT_EQ(0x42, c.did);
	EXPECT_EQ(0, c.tt);
	EXPECT_EQ(4, c.levels);
	EXPECT_FALSE(c.fpd);
	EXPECT_EQ(0x123456000ULL, c.slptptr);

	set_ctx(t, 0xabcd, 0x7000ULL | 1ULL << 2 | FPD | P, ctx_hi(AW39, 1));
	ASSERT_EQ(0, reinit(t, 0, ecap_with(0, VTD_ECAP_DT)));
	ASSERT_EQ(0, lookup(t, 0xabcd, &c));
	EXPECT_EQ(1, c.tt);
	EXPECT_EQ(3, c.levels);
	EXPECT_TRUE(c.fpd);
	EXPECT_EQ(0x7000ULL, c.slptptr);
}

/*
 * With caching mode (always set here) the spec reserves domain-id 0 for
 * tagging cached not-present entries: a present context entry with DID 0
 * is invalid programming (3h), its other fields left out of @c.
 */
TEST_F(walk, lookup_did_zero_is_invalid_under_caching_mode)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(AW48, 0));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
	EXPECT_EQ(SID, c.sid);
	EXPECT_EQ(0, c.did);
	EXPECT_EQ(0, c.levels);
	EXPECT_EQ(0ULL, c.slptptr);
	set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(AW48, 1));
	EXPECT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(1, c.did);
}

TEST_F(walk, lookup_indexes_root_by_bus_and_context_by_devfn)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, 0x1234, ctx_lo(0x5000, 0), ctx_hi(AW48, 7));
	set_ctx(t, 0xffff, ctx_lo(0x6000, 0), ctx_hi(AW48, 8));
	ASSERT_EQ(0, lookup(t, 0x1234, &c));
	EXPECT_EQ(7, c.did);
	ASSERT_EQ(0, lookup(t, 0xffff, &c));
	EXPECT_EQ(8, c.did);
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, 0x1235, &c));
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, 0x12ff, &c));
	EXPECT_EQ(FR_ROOT_NOT_PRESENT, lookup(t, 0x1334, &c));
	EXPECT_EQ(FR_ROOT_NOT_PRESENT, lookup(t, 0x0034, &c));
}

TEST_F(walk, lookup_root_table_outside_memory)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	vtd_reg_write(&t->unit, VTD_RTADDR_REG, 8, OUTSIDE);
	vtd_reg_write(&t->unit, VTD_GCMD_REG, 4, VTD_GCMD_SRTP);
	EXPECT_EQ(FR_ROOT_ACCESS, lookup(t, SID, &c));
	EXPECT_EQ(SID, c.sid);
	vtd_reg_write(&t->unit, VTD_RTADDR_REG, 8, 1ULL << 47);
	vtd_reg_write(&t->unit, VTD_GCMD_REG, 4, VTD_GCMD_SRTP);
	EXPECT_EQ(FR_ROOT_ACCESS, lookup(t, 0xff00, &c));
}

TEST_F(walk, lookup_root_not_present_ignores_other_bits)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	EXPECT_EQ(FR_ROOT_NOT_PRESENT, lookup(t, SID, &c));
	set_root(t, 1, ~P, ~0ULL);
	EXPECT_EQ(FR_ROOT_NOT_PRESENT, lookup(t, SID, &c));
}

TEST_F(walk, lookup_root_reserved_bits)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 b;

	set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	for (b = 1; b <= 11; b++) {
		set_root(t, 1, CT(1) | P | 1ULL << b, 0);
		EXPECT_EQ(FR_ROOT_RSVD, lookup(t, SID, &c)) TH_LOG("lo %u", b);
	}
	/* CTP bits 63:HAW, HAW being MGAW (48 bits by default). */
	for (b = 48; b <= 63; b++) {
		set_root(t, 1, CT(1) | P | 1ULL << b, 0);
		EXPECT_EQ(FR_ROOT_RSVD, lookup(t, SID, &c)) TH_LOG("lo %u", b);
	}
	for (b = 0; b <= 63; b++) {
		set_root(t, 1, CT(1) | P, 1ULL << b);
		EXPECT_EQ(FR_ROOT_RSVD, lookup(t, SID, &c)) TH_LOG("hi %u", b);
	}
}

TEST_F(walk, lookup_root_ctp_reserved_above_a_39_bit_mgaw)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	ASSERT_EQ(0, reinit(t, cap_mgaw(39), 0));
	set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(AW48, DID));
	set_root(t, 1, CT(1) | P | 1ULL << 39, 0);
	EXPECT_EQ(FR_ROOT_RSVD, lookup(t, SID, &c));
	/* Below the HAW it is an address like any other: not RAM here. */
	set_root(t, 1, CT(1) | P | 1ULL << 38, 0);
	EXPECT_EQ(FR_CTX_ACCESS, lookup(t, SID, &c));
}

TEST_F(walk, lookup_context_table_outside_memory)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_root(t, 1, OUTSIDE | P, 0);
	EXPECT_EQ(FR_CTX_ACCESS, lookup(t, SID, &c));
	set_root(t, 1, (1ULL << 47) | P, 0);
	EXPECT_EQ(FR_CTX_ACCESS, lookup(t, SID, &c));
}

TEST_F(walk, lookup_context_not_present_ignores_other_bits)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, 0, 0);
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, SID, &c));
	set_ctx(t, SID, ~P & ~FPD, ~0ULL);
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, SID, &c));
	EXPECT_FALSE(c.fpd);
}

TEST_F(walk, lookup_context_fpd_reported_with_faults_too)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0x5000, 0) | FPD, ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_TRUE(c.fpd);
	/* The spec evaluates FPD whatever P says. */
	set_ctx(t, SID, FPD, 0);
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, SID, &c));
	EXPECT_TRUE(c.fpd);
	EXPECT_EQ(SID, c.sid);
	set_ctx(t, SID, ctx_lo(0x5000, 0) | FPD | 1ULL << 4, ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c));
	EXPECT_TRUE(c.fpd);
	set_ctx(t, SID, ctx_lo(0x5000, 3) | FPD, ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
	EXPECT_TRUE(c.fpd);
	/* No context entry read, no FPD. */
	set_root(t, 1, 0, 0);
	EXPECT_EQ(FR_ROOT_NOT_PRESENT, lookup(t, SID, &c));
	EXPECT_FALSE(c.fpd);
}

TEST_F(walk, lookup_context_reserved_bits)
{
	struct tctx *t = self->t;
	u64 lo = ctx_lo(0x5000, 0), hi = ctx_hi(AW48, DID);
	struct vtd_context c;
	u32 b;

	for (b = 4; b <= 11; b++) {
		set_ctx(t, SID, lo | 1ULL << b, hi);
		EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c)) TH_LOG("lo %u", b);
	}
	/* SLPTPTR bits 63:HAW. */
	for (b = 48; b <= 63; b++) {
		set_ctx(t, SID, lo | 1ULL << b, hi);
		EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c)) TH_LOG("lo %u", b);
	}
	set_ctx(t, SID, lo, hi | 1ULL << 7);
	EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c));
	for (b = 24; b <= 63; b++) {
		set_ctx(t, SID, lo, hi | 1ULL << b);
		EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c)) TH_LOG("hi %u", b);
	}
}

TEST_F(walk, lookup_context_avail_bits_ignored)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(AW48, DID) | 0x78);
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(DID, c.did);
	EXPECT_EQ(4, c.levels);
}

TEST_F(walk, lookup_tt_reserved_value_is_invalid)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	ASSERT_EQ(0, reinit(t, 0, ecap_with(0, VTD_ECAP_DT)));
	set_ctx(t, SID, ctx_lo(0x5000, 3), ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
}

TEST_F(walk, lookup_tt_device_tlb_needs_ecap_dt)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0x5000, 1), ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
	ASSERT_EQ(0, reinit(t, 0, ecap_with(0, VTD_ECAP_DT)));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(1, c.tt);
	EXPECT_EQ(0x5000ULL, c.slptptr);
}

TEST_F(walk, lookup_pass_through_needs_ecap_pt)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(2, c.tt);
	EXPECT_EQ(DID, c.did);
	ASSERT_EQ(0, reinit(t, 0, ecap_with(VTD_ECAP_PT, 0)));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
}

TEST_F(walk, lookup_pass_through_ignores_slptptr)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(~0xfffULL, TT_PT), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(0ULL, c.slptptr);
	/* The other reserved bits still are. */
	set_ctx(t, SID, ctx_lo(0, TT_PT) | 1ULL << 4, ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_RSVD, lookup(t, SID, &c));
}

TEST_F(walk, lookup_pass_through_aw_must_be_largest_sagaw)
{
	struct tctx *t = self->t;
	struct vtd_context c;

	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW39, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	EXPECT_EQ(0, lookup(t, SID, &c));
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(0, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));

	ASSERT_EQ(0, reinit(t, cap_with(VTD_CAP_SAGAW_48 | VTD_CAP_MGAW,
					VTD_CAP_SAGAW_39 | 38ULL << 16), 0));
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW39, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(3, c.levels);
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	EXPECT_EQ(FR_CTX_INVALID, lookup(t, SID, &c));
}

TEST_F(walk, lookup_aw_must_be_in_sagaw)
{
	static const struct {
		u64 sagaw;
		u64 mgaw;
	} caps[] = {
		{ VTD_CAP_SAGAW_39, 39 },
		{ VTD_CAP_SAGAW_48, 48 },
		{ VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48, 48 },
		{ VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48, 39 },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 i, aw;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		u64 cap = cap_with(VTD_CAP_SAGAW | VTD_CAP_MGAW,
				   caps[i].sagaw | (caps[i].mgaw - 1) << 16);

		ASSERT_EQ(0, reinit(t, cap, 0));
		for (aw = 0; aw < 8; aw++) {
			bool ok = caps[i].sagaw & 1ULL << (8 + aw);

			set_ctx(t, SID, ctx_lo(0x5000, 0), ctx_hi(aw, DID));
			EXPECT_EQ(ok ? 0 : FR_CTX_INVALID, lookup(t, SID, &c))
				TH_LOG("cap %u aw %u", i, aw);
			if (ok)
				EXPECT_EQ(aw + 2, c.levels);
		}
	}
}

TEST_F(walk, lookup_did_beyond_cap_nd_is_reserved)
{
	static const struct {
		u64 nd;
		u64 did;
		int fr;
	} cases[] = {
		{ 0, 15, 0 }, { 0, 16, FR_CTX_RSVD }, { 0, 0x8000, FR_CTX_RSVD },
		{ 1, 63, 0 }, { 1, 64, FR_CTX_RSVD },
		{ 2, 255, 0 }, { 2, 256, FR_CTX_RSVD },
		{ 5, 0x3fff, 0 }, { 5, 0x4000, FR_CTX_RSVD },
		{ 6, 0xffff, 0 },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, reinit(t, cap_with(VTD_CAP_ND, cases[i].nd), 0));
		set_ctx(t, SID, ctx_lo(0x5000, 0),
			ctx_hi(AW48, cases[i].did));
		EXPECT_EQ(cases[i].fr, lookup(t, SID, &c))
			TH_LOG("nd %llu did %#llx", (unsigned long long)cases[i].nd,
			       (unsigned long long)cases[i].did);
		if (!cases[i].fr)
			EXPECT_EQ(cases[i].did, c.did);
	}
}

/* Translation of one IOVA. */

TEST_F(walk, translate_4k_three_level)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 iova = BIT39 - SZ_4K;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	map(t, &c, iova, 0x123456000ULL, SZ_4K, RW);
	ASSERT_EQ(0, xlate(t, &c, iova + 0x123, &m));
	EXPECT_EQ(iova, m.iova);
	EXPECT_EQ(0x123456000ULL, m.gpa);
	EXPECT_EQ(SZ_4K, m.size);
	EXPECT_TRUE(m.read);
	EXPECT_TRUE(m.write);
	EXPECT_EQ(-ENOENT, xlate(t, &c, iova - SZ_4K, &m));
}

TEST_F(walk, translate_4k_four_level)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 iova = BIT48 - SZ_4K;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, iova, 0xabc000ULL, SZ_4K, R);
	map(t, &c, 0, 0xdef000ULL, SZ_4K, W);
	ASSERT_EQ(0, xlate(t, &c, iova + 0xfff, &m));
	EXPECT_EQ(iova, m.iova);
	EXPECT_EQ(0xabc000ULL, m.gpa);
	EXPECT_TRUE(m.read);
	EXPECT_FALSE(m.write);
	ASSERT_EQ(0, xlate(t, &c, 0, &m));
	EXPECT_EQ(0xdef000ULL, m.gpa);
	EXPECT_FALSE(m.read);
	EXPECT_TRUE(m.write);
}

TEST_F(walk, translate_2m_and_1g_leaves)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u32 levels;

	for (levels = 3; levels <= 4; levels++) {
		ASSERT_EQ(0, dev_setup(t, levels, &c));
		map(t, &c, SZ_1G + SZ_2M, 0x80000000ULL, SZ_2M, RW);
		map(t, &c, 3 * SZ_1G, 0x140000000ULL, SZ_1G, R);
		ASSERT_EQ(0, xlate(t, &c, SZ_1G + SZ_2M + 0x12345, &m));
		EXPECT_EQ(SZ_1G + SZ_2M, m.iova);
		EXPECT_EQ(0x80000000ULL, m.gpa);
		EXPECT_EQ(SZ_2M, m.size);
		ASSERT_EQ(0, xlate(t, &c, 4 * SZ_1G - 1, &m));
		EXPECT_EQ(3 * SZ_1G, m.iova);
		EXPECT_EQ(0x140000000ULL, m.gpa);
		EXPECT_EQ(SZ_1G, m.size);
		EXPECT_TRUE(m.read);
		EXPECT_FALSE(m.write);
	}
}

TEST_F(walk, translate_superpage_needs_cap_sllps)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;

	ASSERT_EQ(0, reinit(t, cap_with(VTD_CAP_SLLPS_2M, 0), 0));
	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, SZ_2M, 0x80000000ULL, SZ_2M, RW);
	map(t, &c, SZ_1G, 0x80000000ULL, SZ_1G, RW);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, SZ_2M, &m));
	EXPECT_EQ(0, xlate(t, &c, SZ_1G, &m));

	ASSERT_EQ(0, reinit(t, cap_with(VTD_CAP_SLLPS_1G, 0), 0));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(0, xlate(t, &c, SZ_2M, &m));
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, SZ_1G, &m));
}

TEST_F(walk, translate_ps_in_top_entry_of_four_levels_is_reserved)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	put64(t, c.slptptr, RW | PS);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, 0, &m));
	/* With three levels the top entry maps 1 GiB pages. */
	ASSERT_EQ(0, dev_setup(t, 3, &c));
	put64(t, c.slptptr, RW | PS);
	ASSERT_EQ(0, xlate(t, &c, 0, &m));
	EXPECT_EQ(SZ_1G, m.size);
}

TEST_F(walk, translate_ps_ignored_in_4k_entry)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW | PS);
	ASSERT_EQ(0, xlate(t, &c, 0x5000, &m));
	EXPECT_EQ(SZ_4K, m.size);
	EXPECT_EQ(0x9000ULL, m.gpa);
}

TEST_F(walk, translate_permissions_anded_down_the_path)
{
	static const struct {
		u64 pml4e, pdpe, pde, pte;
		bool read, write;
	} cases[] = {
		{ RW, RW, RW, RW, true, true },
		{ R, RW, RW, RW, true, false },
		{ RW, W, RW, RW, false, true },
		{ RW, RW, R, W, false, false },
		{ RW, RW, RW, R, true, false },
		{ W, RW, RW, W, false, true },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 iova = 0x1234567000ULL;
	u32 i;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, iova, 0x9000, SZ_4K, RW);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 perm[] = { cases[i].pte, cases[i].pde, cases[i].pdpe,
			       cases[i].pml4e };
		u32 level;

		for (level = 1; level <= 4; level++) {
			u64 s = slot(t, c.slptptr, 4, iova, level);

			put64(t, s, (get64(t, s) & ~RW) | perm[level - 1]);
		}
		ASSERT_EQ(0, xlate(t, &c, iova, &m)) TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].read, m.read) TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].write, m.write) TH_LOG("case %u", i);
		EXPECT_EQ(0x9000ULL, m.gpa);
	}
}

TEST_F(walk, translate_not_present_at_each_level)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 iova = 0x1234567000ULL;
	u32 level;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, iova, 0x9000, SZ_4K, RW);
	for (level = 1; level <= 4; level++) {
		u64 s = slot(t, c.slptptr, 4, iova, level);
		u64 pte = get64(t, s);

		/* Neither R nor W: not present, whatever else is set. */
		put64(t, s, (pte & ~RW) | VTD_SLPTE_TM | VTD_SLPTE_SNP | PS);
		EXPECT_EQ(-ENOENT, xlate(t, &c, iova, &m)) TH_LOG("%u", level);
		put64(t, s, pte);
		EXPECT_EQ(0, xlate(t, &c, iova, &m));
	}
}

TEST_F(walk, translate_iova_beyond_address_width)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	EXPECT_EQ(FR_BEYOND_MGAW, xlate(t, &c, BIT39, &m));
	EXPECT_EQ(FR_BEYOND_MGAW, xlate(t, &c, ~0ULL, &m));
	EXPECT_EQ(-ENOENT, xlate(t, &c, BIT39 - 1, &m));

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	EXPECT_EQ(FR_BEYOND_MGAW, xlate(t, &c, BIT48, &m));
	EXPECT_EQ(-ENOENT, xlate(t, &c, BIT48 - 1, &m));

	/* A 48-bit context on a unit whose MGAW is 39 bits. */
	ASSERT_EQ(0, reinit(t, cap_mgaw(39), 0));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(4, c.levels);
	t->reads = 0;
	EXPECT_EQ(FR_BEYOND_MGAW, xlate(t, &c, BIT39, &m));
	EXPECT_EQ(0ULL, t->reads);
	EXPECT_EQ(-ENOENT, xlate(t, &c, BIT39 - 1, &m));
}

TEST_F(walk, translate_reserved_bits_at_every_level)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 iova = 0x1234567000ULL;
	u32 level, b;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, iova, 0x9000, SZ_4K, RW);
	for (level = 1; level <= 4; level++) {
		u64 s = slot(t, c.slptptr, 4, iova, level);
		u64 pte = get64(t, s);
		/* 11 (SNP), 62 (TM), 51:48 (above HAW); 7 in the SL-PML4E. */
		u32 bits[] = { 11, 62, 48, 49, 50, 51, level == 4 ? 7 : 11 };

		for (b = 0; b < ARRAY_SIZE(bits); b++) {
			put64(t, s, pte | 1ULL << bits[b]);
			EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, iova, &m))
				TH_LOG("level %u bit %u", level, bits[b]);
		}
		put64(t, s, pte);
	}
	EXPECT_EQ(0, xlate(t, &c, iova, &m));
}

TEST_F(walk, translate_address_bits_reserved_above_mgaw)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 s;

	ASSERT_EQ(0, reinit(t, cap_mgaw(39), 0));
	ASSERT_EQ(0, dev_setup(t, 4, &c));
	s = map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	put64(t, s, get64(t, s) | 1ULL << 39);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, 0x5000, &m));
	put64(t, s, (1ULL << 38) | RW);
	ASSERT_EQ(0, xlate(t, &c, 0x5000, &m));
	EXPECT_EQ(1ULL << 38, m.gpa);
	s = slot(t, c.slptptr, 4, 0x5000, 3);
	put64(t, s, get64(t, s) | 1ULL << 45);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, 0x5000, &m));
}

TEST_F(walk, translate_superpage_low_address_bits_reserved)
{
	static const struct {
		u64 size;
		u32 bit;
		bool rsvd;
	} cases[] = {
		{ SZ_2M, 12, true }, { SZ_2M, 20, true }, { SZ_2M, 21, false },
		{ SZ_1G, 12, true }, { SZ_1G, 21, true }, { SZ_1G, 29, true },
		{ SZ_1G, 30, false },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u32 i;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 iova = cases[i].size * 3;
		int want = 0;

		if (cases[i].rsvd)
			want = FR_PTE_RSVD;
		map(t, &c, iova, 1ULL << cases[i].bit, cases[i].size, RW);
		EXPECT_EQ(want, xlate(t, &c, iova, &m)) TH_LOG("case %u", i);
	}
}

TEST_F(walk, translate_ignored_bits_accepted_at_every_level)
{
	/* 2 X, 6:3 (EMT/IPAT in leaves), 8 A, 9 D, 10, 61:52, 63. */
	static const u32 ignored[] = { 2, 3, 4, 5, 6, 8, 9, 10, 52, 55, 61,
				       63 };
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m, want;
	u64 iova = 0x1234567000ULL;
	u32 level, b;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, iova, 0x9000, SZ_4K, RW);
	ASSERT_EQ(0, xlate(t, &c, iova, &want));
	for (level = 1; level <= 4; level++) {
		u64 s = slot(t, c.slptptr, 4, iova, level);
		u64 pte = get64(t, s);

		for (b = 0; b < ARRAY_SIZE(ignored); b++) {
			put64(t, s, pte | 1ULL << ignored[b]);
			ASSERT_EQ(0, xlate(t, &c, iova, &m))
				TH_LOG("level %u bit %u", level, ignored[b]);
			EXPECT_TRUE(same_mapping(&want, &m));
		}
		put64(t, s, pte);
	}
}

TEST_F(walk, translate_tm_needs_ecap_dt_and_a_leaf)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 s;

	ASSERT_EQ(0, reinit(t, 0, ecap_with(0, VTD_ECAP_DT)));
	ASSERT_EQ(0, dev_setup(t, 4, &c));
	s = map(t, &c, 0x5000, 0x9000, SZ_4K, RW | VTD_SLPTE_TM);
	ASSERT_EQ(0, xlate(t, &c, 0x5000, &m));
	EXPECT_EQ(0x9000ULL, m.gpa);
	put64(t, s, 0x9000 | RW);
	s = slot(t, c.slptptr, 4, 0x5000, 2);
	put64(t, s, get64(t, s) | VTD_SLPTE_TM);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, 0x5000, &m));
}

TEST_F(walk, translate_snp_needs_ecap_sc_and_a_leaf)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 s;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, SZ_2M, 0x80000000ULL, SZ_2M, RW | VTD_SLPTE_SNP);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, SZ_2M, &m));
	/* The unit does not offer SC; set it in the register image. */
	vtd_set64(&t->unit, VTD_ECAP_REG,
		  vtd_get64(&t->unit, VTD_ECAP_REG) | VTD_ECAP_SC);
	ASSERT_EQ(0, xlate(t, &c, SZ_2M, &m));
	EXPECT_EQ(0x80000000ULL, m.gpa);
	s = slot(t, c.slptptr, 4, SZ_2M, 3);
	put64(t, s, get64(t, s) | VTD_SLPTE_SNP);
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, SZ_2M, &m));
}

TEST_F(walk, translate_table_outside_memory)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u64 s;

	set_ctx(t, SID, ctx_lo(OUTSIDE, 0), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(FR_PTE_ACCESS, xlate(t, &c, 0, &m));

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, OUTSIDE, SZ_4K, RW);
	/* A leaf's page is not read: outside memory is the caller's call. */
	ASSERT_EQ(0, xlate(t, &c, 0x5000, &m));
	EXPECT_EQ(OUTSIDE, m.gpa);
	s = slot(t, c.slptptr, 4, 0x5000, 2);
	put64(t, s, OUTSIDE | RW);
	EXPECT_EQ(FR_PTE_ACCESS, xlate(t, &c, 0x5000, &m));
}

TEST_F(walk, translate_pass_through_is_identity)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;

	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	t->reads = 0;
	ASSERT_EQ(0, xlate(t, &c, 0x123456789ULL, &m));
	EXPECT_EQ(0x123456000ULL, m.iova);
	EXPECT_EQ(0x123456000ULL, m.gpa);
	EXPECT_EQ(SZ_4K, m.size);
	EXPECT_TRUE(m.read);
	EXPECT_TRUE(m.write);
	EXPECT_EQ(FR_BEYOND_MGAW, xlate(t, &c, BIT48, &m));
	EXPECT_EQ(0ULL, t->reads);
}

TEST_F(walk, translate_rejects_context_with_bad_levels)
{
	struct tctx *t = self->t;
	struct vtd_context c = { .levels = 5 };
	struct vtd_mapping m;
	u32 budget = BIG;

	EXPECT_EQ(-EINVAL, xlate(t, &c, 0, &m));
	c.levels = 2;
	EXPECT_EQ(-EINVAL, xlate(t, &c, 0, &m));
	EXPECT_EQ(-EINVAL, walk(t, &c, 0, SZ_4K, &budget));
	EXPECT_EQ(0ULL, t->reads);
}

/* A DMA request's answer (vtd_translate()). */

#define RD		VTD_ACCESS_READ
#define WR		VTD_ACCESS_WRITE
#define LOOKUP		0

/* Translation on, as the guest's driver turns it on. */
static void te_on(struct tctx *t)
{
	vtd_reg_write(&t->unit, VTD_GCMD_REG, 4, VTD_GCMD_TE);
}

/* Answer a request, from fresh counts and an answer full of junk. */
static void request(struct tctx *t, u16 sid, u64 iova, u32 access,
		    struct vtd_translation *tr)
{
	memset(tr, 0xa5, sizeof(*tr));
	t->reads = 0;
	vtd_translate(&t->unit, sid, iova, access, tr);
}

/* A fault's answer holds nothing but the fault and FPD. */
static bool only_fault(const struct vtd_translation *tr, u8 fault)
{
	return tr->fault == fault && !tr->gpa && !tr->size && !tr->read &&
	       !tr->write && !tr->untranslated;
}

TEST_F(walk, request_untranslated_while_translation_is_off)
{
	struct tctx *t = self->t;
	struct vtd_translation tr;

	/* No root entry, no context: with TES clear none is read. */
	request(t, SID, 0x1234567abcULL, WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0x1234567abcULL, tr.gpa);
	EXPECT_EQ(SZ_4K, tr.size);
	EXPECT_TRUE(tr.read && tr.write && tr.untranslated);
	EXPECT_EQ(0ULL, t->reads);
	/* On: the same request faults at the root entry. */
	te_on(t);
	request(t, SID, 0x1234567abcULL, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_ROOT_NOT_PRESENT));
	EXPECT_FALSE(tr.fpd);
	/* Off again, untranslated again. */
	vtd_reg_write(&t->unit, VTD_GCMD_REG, 4, 0);
	request(t, SID, 0x2000, RD, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0x2000ULL, tr.gpa);
	EXPECT_TRUE(tr.untranslated);
}

TEST_F(walk, request_through_a_leaf_keeps_the_offset)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	te_on(t);
	map(t, &c, 0x7000, 0xabc000ULL, SZ_4K, RW);
	map(t, &c, 0x40200000ULL, 0x80000000ULL, SZ_2M, RW);
	map(t, &c, 0x80000000ULL, 0x100000000ULL, SZ_1G, R);
	request(t, SID, 0x7123, RD | WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0xabc123ULL, tr.gpa);
	EXPECT_EQ(SZ_4K, tr.size);
	EXPECT_TRUE(tr.read && tr.write);
	EXPECT_FALSE(tr.untranslated);
	/* Root entry, context entry, one entry per level: no more. */
	EXPECT_GE(2ULL + 4, t->reads);
	request(t, SID, 0x40200000ULL + 0x12345, WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0x80012345ULL, tr.gpa);
	EXPECT_EQ(SZ_2M, tr.size);
	request(t, SID, 0x80000000ULL + 0x3456789, RD, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0x103456789ULL, tr.gpa);
	EXPECT_EQ(SZ_1G, tr.size);
	EXPECT_FALSE(tr.write);
}

TEST_F(walk, request_needs_the_access_every_entry_grants)
{
	/*
	 * A read-only page, a write-only page, none: each request is
	 * granted with the leaf's R/W, or faults with the reason of the
	 * access the path does not grant (a lookup's is a read's).
	 */
	static const struct {
		u64 iova;
		u32 access;
		u8 fault;
		bool read, write;
	} cases[] = {
		{ 0x1000, RD, 0, true, false },
		{ 0x1000, WR, FR_WRITE, false, false },
		{ 0x1000, RD | WR, FR_WRITE, false, false },
		{ 0x1000, LOOKUP, 0, true, false },
		{ 0x2000, WR, 0, false, true },
		{ 0x2000, RD, FR_READ, false, false },
		{ 0x2000, RD | WR, FR_READ, false, false },
		{ 0x2000, LOOKUP, 0, false, true },
		{ 0x3000, RD, FR_READ, false, false },
		{ 0x3000, WR, FR_WRITE, false, false },
		{ 0x3000, LOOKUP, FR_READ, false, false },
		{ BIT39, WR, FR_WRITE, false, false },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;
	u64 s;
	u32 i;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	te_on(t);
	map(t, &c, 0x1000, 0xa000, SZ_4K, R);
	map(t, &c, 0x2000, 0xb000, SZ_4K, W);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		request(t, SID, cases[i].iova, cases[i].access, &tr);
		if (cases[i].fault) {
			EXPECT_TRUE(only_fault(&tr, cases[i].fault))
				TH_LOG("case %u", i);
			continue;
		}
		EXPECT_EQ(0, tr.fault) TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].read, tr.read) TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].write, tr.write) TH_LOG("case %u", i);
	}
	/* A table entry without W denies W to every leaf below it. */
	s = slot(t, c.slptptr, 4, 0x1000, 2);
	put64(t, s, (get64(t, s) & ~RW) | R);
	map(t, &c, 0x1000, 0xa000, SZ_4K, RW);
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_WRITE));
	request(t, SID, 0x1000, RD, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_FALSE(tr.write);
}

TEST_F(walk, request_into_the_interrupt_range_faults)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	te_on(t);
	/* A 4 KiB leaf onto its first page, one onto its last. */
	map(t, &c, 0x1000, 0xfee00000ULL, SZ_4K, RW);
	map(t, &c, 0x2000, 0xfeeff000ULL, SZ_4K, RW);
	map(t, &c, 0x3000, 0xfed00000ULL, SZ_4K, RW);
	map(t, &c, 0x4000, 0xfef00000ULL, SZ_4K, RW);
	/* A 2 MiB leaf around all of it. */
	map(t, &c, 0x40200000ULL, 0xfee00000ULL, SZ_2M, RW);
	request(t, SID, 0x1004, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_INTR_ADDR));
	request(t, SID, 0x2000, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_INTR_ADDR));
	request(t, SID, 0x40200000ULL + 0x150000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_INTR_ADDR));
	/* A qualified fault: FPD suppresses its record. */
	set_ctx(t, SID, ctx_lo(c.slptptr, 0) | FPD, ctx_hi(AW48, DID));
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_INTR_ADDR));
	EXPECT_TRUE(tr.fpd);
	/* Just below and just above: plain memory. */
	request(t, SID, 0x3000, WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0xfed00000ULL, tr.gpa);
	request(t, SID, 0x4000, WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0xfef00000ULL, tr.gpa);
}

TEST_F(walk, request_fpd_covers_qualified_faults_only)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;
	u64 slpt = new_table(t);

	te_on(t);
	/* A context entry not present, with FPD: qualified, suppressed. */
	set_ctx(t, SID, FPD, 0);
	request(t, SID, 0, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_CTX_NOT_PRESENT));
	EXPECT_TRUE(tr.fpd);
	/* Reserved bits in a context entry with FPD: reported anyway. */
	set_ctx(t, SID, ctx_lo(slpt, 0) | FPD | BIT_ULL(11),
		ctx_hi(AW48, DID));
	request(t, SID, 0, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_CTX_RSVD));
	EXPECT_FALSE(tr.fpd);
	/* A present context with FPD: its paging faults are qualified. */
	set_ctx(t, SID, ctx_lo(slpt, 0) | FPD, ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_WRITE));
	EXPECT_TRUE(tr.fpd);
	/* Without FPD, not suppressed. */
	set_ctx(t, SID, ctx_lo(slpt, 0), ctx_hi(AW48, DID));
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_WRITE));
	EXPECT_FALSE(tr.fpd);
	/* The root entry's faults are never suppressed. */
	set_root(t, SID >> 8, 0, 0);
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_ROOT_NOT_PRESENT));
	EXPECT_FALSE(tr.fpd);
	EXPECT_FALSE(vtd_fault_qualified(FR_ROOT_ACCESS));
	EXPECT_FALSE(vtd_fault_qualified(FR_CTX_ACCESS));
	EXPECT_FALSE(vtd_fault_qualified(FR_ROOT_RSVD));
	EXPECT_TRUE(vtd_fault_qualified(FR_CTX_INVALID));
	EXPECT_TRUE(vtd_fault_qualified(FR_PTE_RSVD));
}

TEST_F(walk, request_faults_of_the_walk_pass_through)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;
	u64 s;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	te_on(t);
	request(t, SID, BIT39, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_BEYOND_MGAW));
	s = map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	/* Bit 62, TM: reserved without ECAP.DT. */
	put64(t, s, get64(t, s) | BIT_ULL(62));
	request(t, SID, 0x5000, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_PTE_RSVD));
	/* A context the lookup refuses: its reason, not a walk's. */
	set_ctx(t, SID, ctx_lo(c.slptptr, 3), ctx_hi(AW39, DID));
	request(t, SID, 0x5000, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_CTX_INVALID));
	/* Another device on the bus has no context. */
	request(t, SID + 1, 0x5000, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_CTX_NOT_PRESENT));
}

TEST_F(walk, request_pass_through_is_untranslated)
{
	struct tctx *t = self->t;
	struct vtd_translation tr;

	te_on(t);
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	request(t, SID, 0xfed00004ULL, RD | WR, &tr);
	EXPECT_EQ(0, tr.fault);
	EXPECT_EQ(0xfed00004ULL, tr.gpa);
	EXPECT_EQ(SZ_4K, tr.size);
	EXPECT_TRUE(tr.read && tr.write && tr.untranslated);
	/* Only the root and context entries were read. */
	EXPECT_GE(2ULL, t->reads);
	request(t, SID, BIT48, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_BEYOND_MGAW));
}

TEST_F(walk, request_has_no_side_effects)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_translation tr;
	u8 before[VTD_REG_PAGE_SIZE];

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	te_on(t);
	t->side_effects = 0;
	memcpy(before, t->regs, sizeof(before));
	request(t, SID, 0x1000, WR, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_WRITE));
	request(t, 0xffff, 0x1000, RD, &tr);
	EXPECT_TRUE(only_fault(&tr, FR_ROOT_NOT_PRESENT));
	/* Recording a fault is the caller's: no register moved. */
	EXPECT_EQ(0, memcmp(before, t->regs, sizeof(before)));
	EXPECT_EQ(0U, t->side_effects);
}

/* Range walks. */

TEST_F(walk, walk_reports_each_leaf_once_in_ascending_order)
{
	static const struct vtd_mapping want[] = {
		{ 0x1000, 0xa000, SZ_4K, true, true },
		{ 0x3000, 0xb000, SZ_4K, true, false },
		{ 0x201000, 0xc000, SZ_4K, false, true },
		{ 2 * SZ_2M, 0x40000000, SZ_2M, true, true },
		{ SZ_1G, 0x80000000, SZ_1G, true, true },
		{ SZ_512G + 0x1000, 0xd000, SZ_4K, true, true },
		{ BIT48 - SZ_1G, 0xc0000000, SZ_1G, true, true },
	};
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 i, order[] = { 5, 2, 6, 0, 4, 1, 3 };

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		const struct vtd_mapping *w = &want[order[i]];

		map(t, &c, w->iova, w->gpa, w->size,
		    (w->read ? R : 0) | (w->write ? W : 0));
	}
	ASSERT_EQ(0, walk_all(t, &c));
	ASSERT_EQ(ARRAY_SIZE(want), t->n_leaves);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		EXPECT_TRUE(same_mapping(&want[i], &t->leaf[i]))
			TH_LOG("leaf %u at %#llx", i,
			       (unsigned long long)t->leaf[i].iova);
}

TEST_F(walk, walk_leaves_match_translate)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u32 i;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	for (i = 0; i < 16; i++)
		map(t, &c, 0x7654000000ULL + i * 0x3000, 0x100000ULL * i,
		    SZ_4K, i & 3);
	map(t, &c, 5 * SZ_2M, 0, SZ_2M, R);
	map(t, &c, 7 * SZ_1G, 0, SZ_1G, W);
	ASSERT_EQ(0, walk_all(t, &c));
	EXPECT_EQ(14U, t->n_leaves);	/* i & 3 == 0 is not present */
	for (i = 0; i < t->n_leaves; i++) {
		const struct vtd_mapping *l = &t->leaf[i];

		ASSERT_EQ(0, xlate(t, &c, l->iova + l->size - 1, &m));
		EXPECT_TRUE(same_mapping(l, &m)) TH_LOG("leaf %u", i);
	}
}

TEST_F(walk, walk_range_inside_one_table_reads_only_that_path)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, SZ_2M - SZ_4K, 0x1000, SZ_4K, RW);
	map(t, &c, SZ_2M, 0x2000, SZ_4K, RW);
	map(t, &c, 2 * SZ_2M - SZ_4K, 0x3000, SZ_4K, RW);
	map(t, &c, 2 * SZ_2M, 0x4000, SZ_4K, RW);
	ASSERT_EQ(0, walk(t, &c, SZ_2M, 2 * SZ_2M, &budget));
	ASSERT_EQ(2U, t->n_leaves);
	EXPECT_EQ(SZ_2M, t->leaf[0].iova);
	EXPECT_EQ(2 * SZ_2M - SZ_4K, t->leaf[1].iova);
	/* One entry in each of three tables, then the whole SL-PT. */
	EXPECT_EQ(3ULL + 512, t->reads);
	EXPECT_EQ(BIG - (3U + 512), budget);
}

TEST_F(walk, walk_range_across_table_boundaries)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, SZ_512G - SZ_4K, 0x1000, SZ_4K, RW);
	map(t, &c, SZ_512G, 0x2000, SZ_4K, RW);
	map(t, &c, SZ_512G + SZ_4K, 0x3000, SZ_4K, RW);
	ASSERT_EQ(0, walk(t, &c, SZ_512G - SZ_4K, SZ_512G + SZ_4K, &budget));
	ASSERT_EQ(2U, t->n_leaves);
	EXPECT_EQ(SZ_512G - SZ_4K, t->leaf[0].iova);
	EXPECT_EQ(SZ_512G, t->leaf[1].iova);
	/* The last entry of each table before, the first of each after. */
	EXPECT_EQ(8ULL, t->reads);

	/* Across 2 MiB within one SL-PD. */
	map(t, &c, SZ_2M - SZ_4K, 0x4000, SZ_4K, RW);
	map(t, &c, SZ_2M, 0x5000, SZ_4K, RW);
	ASSERT_EQ(0, walk(t, &c, SZ_2M - SZ_4K, SZ_2M + SZ_4K, &budget));
	ASSERT_EQ(2U, t->n_leaves);
	EXPECT_EQ(0x4000ULL, t->leaf[0].gpa);
	EXPECT_EQ(0x5000ULL, t->leaf[1].gpa);
	EXPECT_EQ(6ULL, t->reads);
}

TEST_F(walk, walk_leaf_straddling_start_is_reported_whole)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 2 * SZ_2M, 0x40000000, SZ_2M, RW);
	map(t, &c, SZ_1G, 0x80000000, SZ_1G, RW);
	ASSERT_EQ(0, walk(t, &c, 2 * SZ_2M + SZ_4K, 2 * SZ_2M + 2 * SZ_4K,
			  &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(2 * SZ_2M, t->leaf[0].iova);
	EXPECT_EQ(SZ_2M, t->leaf[0].size);
	EXPECT_EQ(0x40000000ULL, t->leaf[0].gpa);
	ASSERT_EQ(0, walk(t, &c, SZ_1G + 5 * SZ_2M, 2 * SZ_1G + SZ_4K,
			  &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(SZ_1G, t->leaf[0].iova);
	EXPECT_EQ(SZ_1G, t->leaf[0].size);
}

TEST_F(walk, walk_empty_tables_report_nothing)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	ASSERT_EQ(0, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, t->n_leaves);
	EXPECT_EQ(512ULL, t->reads);

	/* Present entries down to an empty SL-PT. */
	slot(t, c.slptptr, 4, SZ_512G, 1);
	ASSERT_EQ(0, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, t->n_leaves);
	EXPECT_EQ(4ULL * 512, t->reads);
}

TEST_F(walk, walk_empty_range_reads_nothing)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = 0;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	EXPECT_EQ(0, walk(t, &c, 0x5000, 0x5000, &budget));
	EXPECT_EQ(0, walk(t, &c, 0x6000, 0x5000, &budget));
	EXPECT_EQ(0, walk(t, &c, BIT48, ~0ULL, &budget));
	EXPECT_EQ(0ULL, t->reads);
	EXPECT_EQ(0U, t->n_leaves);
}

TEST_F(walk, walk_does_not_descend_non_present_entries)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u64 s;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	s = slot(t, c.slptptr, 4, 0x5000, 3);
	put64(t, s, get64(t, s) & ~RW);
	ASSERT_EQ(0, walk_all(t, &c));
	EXPECT_EQ(0U, t->n_leaves);
	EXPECT_EQ(2ULL * 512, t->reads);
}

TEST_F(walk, walk_permissions_anded_down_the_path)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u64 s;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	map(t, &c, SZ_2M, 0xa000, SZ_4K, W);
	map(t, &c, SZ_1G, 0x40000000, SZ_1G, RW);
	s = slot(t, c.slptptr, 4, 0, 2);
	put64(t, s, (get64(t, s) & ~RW) | R);
	s = slot(t, c.slptptr, 4, SZ_2M, 2);
	put64(t, s, (get64(t, s) & ~RW) | R);
	ASSERT_EQ(0, walk_all(t, &c));
	ASSERT_EQ(3U, t->n_leaves);
	EXPECT_TRUE(t->leaf[0].read);
	EXPECT_FALSE(t->leaf[0].write);
	/* Still reported, with no access left. */
	EXPECT_FALSE(t->leaf[1].read);
	EXPECT_FALSE(t->leaf[1].write);
	EXPECT_TRUE(t->leaf[2].read);
	EXPECT_TRUE(t->leaf[2].write);
}

TEST_F(walk, walk_budget_exhausted_returns_e2big)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = 5, i;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < 8; i++)
		map(t, &c, SZ_4K * i, 0x9000, SZ_4K, RW);
	EXPECT_EQ(-E2BIG, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, budget);
	EXPECT_EQ(5ULL, t->reads);
	EXPECT_EQ(2U, t->n_leaves);
	EXPECT_EQ(SZ_4K, t->leaf[1].iova);
	/* A zero budget reads nothing. */
	EXPECT_EQ(-E2BIG, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0ULL, t->reads);
}

/*
 * A walk the budget stops says where to resume: below the cursor all is
 * done, and a walk from the cursor reports the rest, never a leaf twice.
 * (A domain-wide invalidation of a large guest depends on it: the shadow
 * must not tear down leaves the walk has not reached.)
 */
TEST_F(walk, walk_stopped_by_budget_resumes_at_cursor)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = 5, i;
	u64 next;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < 8; i++)
		map(t, &c, SZ_4K * i, 0x9000 + SZ_4K * i, SZ_4K, RW);
	map(t, &c, SZ_1G, 0x40000000, SZ_1G, RW);
	/* PML4E, PDPTE, PDE, then two PTEs: stopped before the third. */
	EXPECT_EQ(-E2BIG, walk_next(t, &c, 0, ~0ULL, &budget, &next));
	EXPECT_EQ(2U, t->n_leaves);
	EXPECT_EQ(2 * SZ_4K, next);
	/* From there: the six other 4 KiB leaves and the 1 GiB one. */
	budget = BIG;
	EXPECT_EQ(0, walk_next(t, &c, next, ~0ULL, &budget, &next));
	EXPECT_EQ(0xdeadULL, next);
	ASSERT_EQ(7U, t->n_leaves);
	EXPECT_EQ(2 * SZ_4K, t->leaf[0].iova);
	EXPECT_EQ(SZ_1G, t->leaf[6].iova);
	/* A cursor is never below the range asked for. */
	budget = 1;
	EXPECT_EQ(-E2BIG, walk_next(t, &c, 5 * SZ_4K, ~0ULL, &budget, &next));
	EXPECT_EQ(5 * SZ_4K, next);
}

/* A walk the callback stops resumes at the leaf it stopped on. */
TEST_F(walk, walk_stopped_by_callback_resumes_at_its_leaf)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG, i;
	u64 next;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < 4; i++)
		map(t, &c, SZ_2M * i, 0x200000 * (i + 1), SZ_2M, RW);
	t->stop_after = 3;
	t->stop_value = -E2BIG;
	EXPECT_EQ(-E2BIG, walk_next(t, &c, SZ_4K, ~0ULL, &budget, &next));
	EXPECT_EQ(2 * SZ_2M, next);
	/* The first leaf began before the range: the cursor is the range. */
	t->stop_after = 1;
	EXPECT_EQ(-E2BIG, walk_next(t, &c, SZ_4K, ~0ULL, &budget, &next));
	EXPECT_EQ(SZ_4K, next);
}

/*
 * The host may stop a walk at any table it enters (its run has to end:
 * the VMM died, its budget went to pages): -E2BIG and the cursor at the
 * first entry of that table.
 */
TEST_F(walk, walk_yield_stops_at_a_table)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG, i;
	u64 next;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < 2; i++)
		map(t, &c, SZ_2M * i, 0x9000, SZ_4K, RW);
	/* Root, PDPT, PD, PT of 0-2M: the second PT is the fifth table. */
	t->yield_at = 5;
	EXPECT_EQ(-E2BIG, walk_next(t, &c, 0, ~0ULL, &budget, &next));
	EXPECT_EQ(1U, t->n_leaves);
	EXPECT_EQ(SZ_2M, next);
	t->yield_at = 1;
	EXPECT_EQ(-E2BIG, walk_next(t, &c, SZ_4K, ~0ULL, &budget, &next));
	EXPECT_EQ(0ULL, t->reads);
	EXPECT_EQ(SZ_4K, next);
	t->yield_at = 0;
}

/* A malformed entry stops the walk with the cursor at that entry. */
TEST_F(walk, walk_fault_reports_its_entry)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;
	u64 next;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x1000, 0x9000, SZ_4K, RW);
	map(t, &c, 0x2000, 0x9000, SZ_4K, RW | VTD_SLPTE_TM);
	EXPECT_EQ(FR_PTE_RSVD, walk_next(t, &c, 0, ~0ULL, &budget, &next));
	EXPECT_EQ(0x2000ULL, next);
}

TEST_F(walk, walk_budget_exactly_enough_succeeds)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG, need;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	map(t, &c, SZ_1G, 0x40000000, SZ_1G, RW);
	ASSERT_EQ(0, walk(t, &c, 0, ~0ULL, &budget));
	need = BIG - budget;
	EXPECT_EQ(3U * 512, need);
	budget = need;
	EXPECT_EQ(0, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, budget);
	EXPECT_EQ(2U, t->n_leaves);
	budget = need - 1;
	EXPECT_EQ(-E2BIG, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, budget);
}

TEST_F(walk, walk_self_referencing_table_ends_within_budget)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = 5000, i;
	u64 table;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	table = c.slptptr;
	/* Every entry references the table itself: 2^36 leaves. */
	for (i = 0; i < 512; i++)
		put64(t, table + 8 * i, table | RW);
	EXPECT_EQ(-E2BIG, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0U, budget);
	EXPECT_EQ(5000ULL, t->reads);
	/*
	 * Three reads down to the first SL-PT, then 512 leaves and one
	 * SL-PD entry per SL-PT: 4997 = 9 * 513 + 380.
	 */
	ASSERT_EQ(9U * 512 + 380, t->n_leaves);
	for (i = 0; i < t->n_leaves; i++) {
		EXPECT_EQ(SZ_4K * i, t->leaf[i].iova);
		EXPECT_EQ(table, t->leaf[i].gpa);
		if (SZ_4K * i != t->leaf[i].iova)
			break;
	}
}

TEST_F(walk, walk_tables_referencing_each_other_terminate)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG, i;
	u64 a, b;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	a = c.slptptr;
	b = new_table(t);
	put64(t, a, b | RW);
	put64(t, b, a | RW);
	ASSERT_EQ(0, walk(t, &c, 0, ~0ULL, &budget));
	/* A, B, A, B as SL-PML4, SL-PDPT, SL-PD, SL-PT: one leaf, to A. */
	EXPECT_EQ(4ULL * 512, t->reads);
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(0ULL, t->leaf[0].iova);
	EXPECT_EQ(a, t->leaf[0].gpa);

	/* Every entry of both, each referencing the other. */
	memset(t->mem + a, 0, SZ_4K);
	memset(t->mem + b, 0, SZ_4K);
	for (i = 0; i < 512; i++) {
		put64(t, a + 8 * i, b | RW);
		put64(t, b + 8 * i, a | RW);
	}
	budget = 100000;
	EXPECT_EQ(-E2BIG, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(100000ULL, t->reads);
}

TEST_F(walk, walk_callback_stop_value_propagated)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG, i;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	for (i = 0; i < 8; i++)
		map(t, &c, SZ_4K * i, 0x9000, SZ_4K, RW);
	t->stop_after = 3;
	t->stop_value = STOP;
	EXPECT_EQ(STOP, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(3U, t->n_leaves);
	EXPECT_EQ(6ULL, t->reads);
	t->stop_value = -EINTR;
	EXPECT_EQ(-EINTR, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(3U, t->n_leaves);
}

TEST_F(walk, walk_end_clipped_to_address_width)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 3, &c));
	map(t, &c, BIT39 - SZ_4K, 0x9000, SZ_4K, RW);
	ASSERT_EQ(0, walk(t, &c, BIT39 - SZ_2M, ~0ULL, &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(BIT39 - SZ_4K, t->leaf[0].iova);
	EXPECT_EQ(3ULL + 511, t->reads);

	/* 48-bit tables under a 39-bit MGAW: the SL-PML4E 1 is not read. */
	ASSERT_EQ(0, reinit(t, cap_mgaw(39), 0));
	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, BIT39 - SZ_4K, 0x9000, SZ_4K, RW);
	map(t, &c, BIT39, 0xa000, SZ_4K, RW);
	ASSERT_EQ(0, walk(t, &c, BIT39 - SZ_4K, ~0ULL, &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(0x9000ULL, t->leaf[0].gpa);
	EXPECT_EQ(4ULL, t->reads);
}

TEST_F(walk, walk_stops_at_reserved_entry)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x1000, 0x9000, SZ_4K, RW);
	map(t, &c, 0x2000, 0x9000, SZ_4K, RW | VTD_SLPTE_TM);
	map(t, &c, 0x3000, 0x9000, SZ_4K, RW);
	EXPECT_EQ(FR_PTE_RSVD, walk(t, &c, 0, ~0ULL, &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(0x1000ULL, t->leaf[0].iova);
}

TEST_F(walk, walk_stops_at_table_outside_memory)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x1000, 0x9000, SZ_4K, RW);
	put64(t, c.slptptr + 8, OUTSIDE | RW);
	map(t, &c, 2 * SZ_512G, 0x9000, SZ_4K, RW);
	EXPECT_EQ(FR_PTE_ACCESS, walk(t, &c, 0, ~0ULL, &budget));
	ASSERT_EQ(1U, t->n_leaves);
	EXPECT_EQ(0x1000ULL, t->leaf[0].iova);
}

TEST_F(walk, walk_rejects_pass_through)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	u32 budget = BIG;

	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(-EINVAL, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(0ULL, t->reads);
	EXPECT_EQ(BIG, budget);
}

TEST_F(walk, walker_has_no_side_effects)
{
	struct tctx *t = self->t;
	struct vtd_context c;
	struct vtd_mapping m;
	u32 budget = BIG;

	ASSERT_EQ(0, dev_setup(t, 4, &c));
	map(t, &c, 0x5000, 0x9000, SZ_4K, RW);
	map(t, &c, 0x6000, 0x9000, SZ_4K, RW | VTD_SLPTE_TM);
	t->side_effects = 0;
	EXPECT_EQ(0, xlate(t, &c, 0x5000, &m));
	EXPECT_EQ(FR_PTE_RSVD, xlate(t, &c, 0x6000, &m));
	EXPECT_EQ(FR_PTE_RSVD, walk(t, &c, 0, ~0ULL, &budget));
	EXPECT_EQ(FR_CTX_NOT_PRESENT, lookup(t, SID + 1, &c));
	EXPECT_EQ(0U, t->side_effects);
	/* Faults are the caller's to record. */
	EXPECT_EQ(0U, vtd_get32(&t->unit, VTD_FSTS_REG));
}

/* vtd_context_iova_end(). */

TEST_F(walk, context_iova_end_is_min_of_agaw_and_mgaw)
{
	static const struct {
		u64 mgaw;
		u8 levels;
		u64 end;
	} cases[] = {
		{ 48, 3, 1ULL << 39 }, { 48, 4, 1ULL << 48 },
		{ 39, 3, 1ULL << 39 }, { 39, 4, 1ULL << 39 },
		{ 42, 3, 1ULL << 39 }, { 42, 4, 1ULL << 42 },
	};
	struct tctx *t = self->t;
	struct vtd_context c = {};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, reinit(t, cap_mgaw(cases[i].mgaw), 0));
		c.levels = cases[i].levels;
		EXPECT_EQ(cases[i].end, vtd_context_iova_end(&t->unit, &c))
			TH_LOG("case %u", i);
	}
	/* A pass-through context spans the largest AGAW, within MGAW. */
	ASSERT_EQ(0, reinit(t, cap_mgaw(42), 0));
	set_ctx(t, SID, ctx_lo(0, TT_PT), ctx_hi(AW48, DID));
	ASSERT_EQ(0, lookup(t, SID, &c));
	EXPECT_EQ(1ULL << 42, vtd_context_iova_end(&t->unit, &c));
}

TEST_HARNESS_MAIN
