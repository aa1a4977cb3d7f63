// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the table walker (vtd_walk.c) over root, context and
 * second-level tables the input writes into guest memory.
 *
 * Input:
 *   caps (2):    capability selectors (fuzz_common.h)
 *   rt (1):      bits 3:0 root table page; bit 4 root table outside
 *                guest memory
 *   sid (2):     source-id to look up
 *   budget (1):  paging entries each walk may read
 *   nranges (1): IOVA ranges to walk, at most 4
 *   ranges:      16 bytes each: start (8), end (8, exclusive)
 *   the rest:    10-byte records: qword index into guest memory (2,
 *                modulo its size) and the value to store there (8)
 *
 * Checked: lookup results are well-formed; the walk reports leaves in
 * ascending, non-overlapping IOVA order, each aligned, 4K/2M/1G, within
 * the range and the context's IOVA space, never more than the budget;
 * vtd_sl_translate() agrees with a completed walk at every IOVA probed,
 * and vtd_translate() with both, for reads and writes, and with a lookup
 * that faults:
 * the leaves' own, the range ends and points from the input; and a walk
 * the budget stopped left its cursor within the range, above every leaf
 * it reported, and resumed there it completes with exactly the leaves a
 * walk with budget to spare reports.
 */
#include "fuzz_common.h"

#define FZ_MAX_RANGES	4
#define FZ_MAX_LEAVES	256
#define FZ_SZ_4K	0x1000ULL
#define FZ_SZ_2M	0x200000ULL
#define FZ_SZ_1G	0x40000000ULL

struct fz_walk {
	struct fz f;
	u64 start, end;		/* range asked, end clipped */
	u32 n;
	struct vtd_mapping leaf[FZ_MAX_LEAVES];
	u32 n_full;		/* a walk with budget to spare */
	struct vtd_mapping full[FZ_MAX_LEAVES];
};

static struct fz_walk fzw;

static int fz_leaf(void *opaque, const struct vtd_mapping *m)
{
	struct fz_walk *w = opaque;
	const struct vtd_mapping *prev = w->n ? &w->leaf[w->n - 1] : NULL;

	FZ_CHECK(m->size == FZ_SZ_4K || m->size == FZ_SZ_2M ||
		 m->size == FZ_SZ_1G);
	FZ_CHECK(!(m->iova & (m->size - 1)));
	FZ_CHECK(!(m->gpa & (m->size - 1)));
	/* Overlaps the range; ascending and disjoint from the last one. */
	FZ_CHECK(m->iova < w->end && m->iova + m->size > w->start);
	if (prev)
		FZ_CHECK(m->iova >= prev->iova + prev->size);
	/* More than we keep (only walks with a large budget get here). */
	if (w->n == FZ_MAX_LEAVES)
		return 1;
	w->leaf[w->n++] = *m;
	return 0;
}

static bool fz_same(const struct vtd_mapping *a, const struct vtd_mapping *b)
{
	return a->iova == b->iova && a->gpa == b->gpa && a->size == b->size &&
	       a->read == b->read && a->write == b->write;
}

/*
 * After a walk of [w->start, w->end) that completed (returned 0),
 * translating @iova in that range must find exactly the leaf the walk
 * reported for it, or nothing if it reported none; never a fault, since
 * the walk read every entry on the path without one.
 */
static void fz_probe(struct fz_walk *w, const struct vtd_context *ctx,
		     u64 iova)
{
	struct vtd_translation t;
	struct vtd_mapping m;
	u32 i, access;
	int ret, fault;

	if (iova < w->start || iova >= w->end)
		return;
	ret = vtd_sl_translate(&w->f.unit, ctx, iova, &m);
	FZ_CHECK(ret == 0 || ret == -ENOENT);
	/*
	 * A DMA request there (translation is on), for a lookup, a read, a
	 * write and both: the leaf's answer if it grants the access and
	 * stays out of the interrupt range, else the access's own fault,
	 * suppressed by FPD as a qualified one.
	 */
	for (access = 0; access <= (VTD_ACCESS_READ | VTD_ACCESS_WRITE);
	     access++) {
		vtd_translate(&w->f.unit, ctx->sid, iova, access, &t);
		fault = ret ? (access & VTD_ACCESS_WRITE ? VTD_FR_WRITE :
				VTD_FR_READ) : 0;
		if (!ret && access & VTD_ACCESS_WRITE && !m.write)
			fault = VTD_FR_WRITE;
		else if (!ret && access & VTD_ACCESS_READ && !m.read)
			fault = VTD_FR_READ;
		else if (!ret && m.gpa <= VTD_INTR_RANGE_END &&
			 m.gpa + m.size > VTD_INTR_RANGE_START)
			fault = VTD_FR_INTERRUPT_ADDR;
		if (!fault)
			FZ_CHECK(!t.fault && !t.untranslated &&
				 t.size == m.size &&
				 t.gpa == m.gpa + (iova - m.iova) &&
				 t.read == m.read && t.write == m.write);
		else
			FZ_CHECK(t.fault == fault && !t.size && !t.gpa &&
				 t.fpd == ctx->fpd);
	}
	for (i = 0; i < w->n; i++) {
		if (iova >= w->leaf[i].iova &&
		    iova - w->leaf[i].iova < w->leaf[i].size) {
			FZ_CHECK(!ret && fz_same(&m, &w->leaf[i]));
			return;
		}
	}
	FZ_CHECK(ret == -ENOENT);
}

/*
 * The budget stopped a walk at @next: resume it there, as often as it
 * takes, and check that the leaves reported in all add up to those of a
 * walk with budget to spare.
 */
static void fz_resume(struct fz_walk *w, const struct vtd_context *ctx,
		      u32 budget)
{
	u64 start = w->start, end = w->end, cursor, next;
	u32 left, i, rounds = 0;
	int ret;

	w->n = 0;
	left = FZ_MAX_LEAVES * 8;
	ret = vtd_sl_walk(&w->f.unit, ctx, start, end, fz_leaf, w, &left,
			  NULL);
	if (ret)
		return;		/* a fault, or more than we keep: no oracle */
	memcpy(w->full, w->leaf, w->n * sizeof(w->leaf[0]));
	w->n_full = w->n;

	w->n = 0;
	ret = -E2BIG;
	for (cursor = start; ret == -E2BIG; cursor = next) {
		/*
		 * A part re-reads the entries above its cursor (three at
		 * most) and then gets at least one entry further: each
		 * moves the cursor, and they end.
		 */
		FZ_CHECK(++rounds <= FZ_MAX_LEAVES * 8 + 1);
		left = budget < 5 ? 5 : budget;
		w->start = cursor;
		next = end;
		ret = vtd_sl_walk(&w->f.unit, ctx, cursor, end, fz_leaf, w,
				  &left, &next);
		FZ_CHECK(next >= cursor && next <= end);
	}
	w->start = start;
	FZ_CHECK(!ret);
	/* Parts meet at their cursors: no leaf twice, none missing. */
	FZ_CHECK(w->n == w->n_full);
	for (i = 0; i < w->n; i++)
		FZ_CHECK(fz_same(&w->leaf[i], &w->full[i]));
}

static void fz_walk_range(struct fz_walk *w, const struct vtd_context *ctx,
			  u64 start, u64 end, u32 budget, u64 extra)
{
	u64 iova_end = vtd_context_iova_end(&w->f.unit, ctx);
	u64 next = ~0ULL;
	u32 left = budget;
	u32 i;
	int ret;

	w->start = start;
	w->end = end < iova_end ? end : iova_end;
	w->n = 0;
	ret = vtd_sl_walk(&w->f.unit, ctx, start, end, fz_leaf, w, &left,
			  &next);
	FZ_CHECK(left <= budget);
	FZ_CHECK(w->n <= budget - left);
	if (ret && w->start < w->end) {
		/* Stopped: the cursor is in the range, past every leaf. */
		FZ_CHECK(next >= w->start && next < w->end);
		for (i = 0; i < w->n; i++)
			FZ_CHECK(w->leaf[i].iova < next);
	}
	if (ret == -E2BIG)
		FZ_CHECK(!left);
	else
		FZ_CHECK(ret == 0 || ret == VTD_FR_PAGING_ENTRY_RSVD ||
			 ret == VTD_FR_PAGING_ENTRY_ACCESS);
	if (w->start >= w->end) {
		FZ_CHECK(!ret && !w->n && left == budget);
		return;
	}

	/* Leaves the walk found translate alike, complete walk or not. */
	for (i = 0; i < w->n; i++) {
		struct vtd_mapping m;

		FZ_CHECK(!vtd_sl_translate(&w->f.unit, ctx, w->leaf[i].iova,
					   &m));
		FZ_CHECK(fz_same(&m, &w->leaf[i]));
	}
	if (ret)
		return;
	fz_probe(w, ctx, w->start);
	fz_probe(w, ctx, w->end - 1);
	fz_probe(w, ctx, w->start + extra % (w->end - w->start));
}

static void fz_walk_and_resume(struct fz_walk *w,
			       const struct vtd_context *ctx, u64 start,
			       u64 end, u32 budget, u64 extra)
{
	u64 next = ~0ULL;
	u32 left = budget;

	fz_walk_range(w, ctx, start, end, budget, extra);
	if (w->start >= w->end)
		return;
	w->n = 0;
	if (vtd_sl_walk(&w->f.unit, ctx, w->start, w->end, fz_leaf, w, &left,
			&next) == -E2BIG)
		fz_resume(w, ctx, budget);
}

static void fz_check_ctx(struct fz *f, const struct vtd_context *ctx,
			 u16 sid, int ret)
{
	FZ_CHECK(ctx->sid == sid);
	if (ret) {
		FZ_CHECK(ret >= VTD_FR_ROOT_NOT_PRESENT &&
			 ret <= VTD_FR_CONTEXT_ENTRY_RSVD);
		FZ_CHECK(!ctx->did && !ctx->tt && !ctx->levels &&
			 !ctx->slptptr);
		return;
	}
	FZ_CHECK(ctx->levels == 3 || ctx->levels == 4);
	FZ_CHECK(ctx->did < vtd_ndoms(&f->unit));
	FZ_CHECK(ctx->tt <= VTD_TT_PASS_THROUGH);
	FZ_CHECK(!(ctx->slptptr & (FZ_PAGE - 1)));
	if (ctx->tt == VTD_TT_PASS_THROUGH)
		FZ_CHECK(!ctx->slptptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u64 start[FZ_MAX_RANGES], end[FZ_MAX_RANGES];
	struct fz_in in = { data, size };
	struct fz_walk *w = &fzw;
	struct fz *f = &w->f;
	struct vtd_translation t;
	struct vtd_context ctx;
	struct vtd_mapping m;
	u32 budget, nranges, i;
	u64 rta, extra = 0;
	u16 sid;
	u8 rt;
	int ret;

	fz_init(f, &in);
	rt = fz_u8(&in);
	sid = fz_u16(&in);
	budget = fz_u8(&in);
	nranges = fz_u8(&in) % (FZ_MAX_RANGES + 1);
	for (i = 0; i < nranges; i++) {
		start[i] = fz_u64(&in);
		end[i] = fz_u64(&in);
		extra ^= start[i] * 0x9e3779b97f4a7c15ULL + end[i];
	}
	while (in.n >= 10) {
		u32 idx = fz_u16(&in) % (FZ_MEM_SIZE / 8);
		u64 val = fz_u64(&in);

		memcpy(f->mem + 8 * idx, &val, sizeof(val));
	}

	rta = rt & 0x10 ? FZ_MEM_SIZE : (rt & 0xf) * FZ_PAGE;
	FZ_CHECK(!vtd_reg_write(&f->unit, VTD_RTADDR_REG, 8, rta));
	FZ_CHECK(!vtd_reg_write(&f->unit, VTD_GCMD_REG, 4, VTD_GCMD_SRTP));
	FZ_CHECK(f->unit.rta == rta);
	/* Translation on: requests (vtd_translate()) go through the tables. */
	FZ_CHECK(!vtd_reg_write(&f->unit, VTD_GCMD_REG, 4, VTD_GCMD_TE));

	ret = vtd_context_lookup(&f->unit, sid, &ctx);
	fz_check_ctx(f, &ctx, sid, ret);
	if (ret) {
		/* A request from @sid faults the same way. */
		vtd_translate(&f->unit, sid, rta, VTD_ACCESS_READ, &t);
		FZ_CHECK(t.fault == ret && !t.size &&
			 t.fpd == (ctx.fpd && vtd_fault_qualified(ret)));
		return 0;
	}

	if (ctx.tt == VTD_TT_PASS_THROUGH) {
		u32 left = budget;

		FZ_CHECK(vtd_sl_walk(&f->unit, &ctx, 0, ~0ULL, fz_leaf, w,
				     &left, NULL) == -EINVAL);
		for (i = 0; i < nranges; i++) {
			ret = vtd_sl_translate(&f->unit, &ctx, start[i], &m);
			if (start[i] >= vtd_context_iova_end(&f->unit, &ctx)) {
				FZ_CHECK(ret == VTD_FR_ADDR_BEYOND_MGAW);
				continue;
			}
			FZ_CHECK(!ret && m.size == FZ_SZ_4K &&
				 m.iova == m.gpa && m.read && m.write &&
				 m.iova == (start[i] & ~(FZ_SZ_4K - 1)));
			/* Requests: untranslated, whatever they need. */
			vtd_translate(&f->unit, sid, start[i],
				      VTD_ACCESS_READ | VTD_ACCESS_WRITE, &t);
			FZ_CHECK(!t.fault && t.untranslated &&
				 t.gpa == start[i] && t.size == FZ_SZ_4K);
		}
		return 0;
	}

	for (i = 0; i < nranges; i++)
		fz_walk_and_resume(w, &ctx, start[i], end[i], budget, extra);
	/* The whole IOVA space, as a shadow rebuild would walk it. */
	fz_walk_and_resume(w, &ctx, 0, ~0ULL, budget, extra);
	return 0;
}
