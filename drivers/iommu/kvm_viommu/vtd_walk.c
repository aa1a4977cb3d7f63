// SPDX-License-Identifier: GPL-2.0-only
/*
 * Walking the guest's VT-d translation structures in legacy mode
 * (RTADDR_REG.TTM 00b): root table, context table, second-level paging
 * structures, with the checks the spec's fault conditions LRT.*, LCT.*,
 * LSL.* and LGN.1 describe.
 *
 * Every entry read here was written by the guest, which may be hostile:
 * any pointer may lead anywhere, including back to a table already on the
 * path.  Nothing recurses and nothing follows pointers without a bound: a
 * translation reads one entry per level, and a range walk keeps an explicit
 * per-level cursor and charges each entry it reads to the caller's budget.
 *
 * HAW: the spec reserves pointer and address bits from the host address
 * width up, HAW being what the DMAR ACPI table reports.  The core does not
 * see that table and takes HAW = MGAW (CAP.MGAW + 1 bits); the VMM's DMAR
 * table must say the same (its field holds HAW - 1, i.e. CAP.MGAW).
 */
#include "vtd_walk.h"

#define VTD_PAGE_SHIFT		12
#define VTD_SL_STRIDE		9	/* IOVA bits each level resolves */
#define VTD_SL_INDEX		GENMASK_ULL(8, 0)
#define VTD_SL_LAST		511U	/* last entry of a 4 KiB table */
#define VTD_SL_MAX_LEVELS	4
#define VTD_SLPTE_RW		(VTD_SLPTE_R | VTD_SLPTE_W)

#define VTD_ROOT_ENTRY_SIZE	16
#define VTD_CTX_ENTRY_SIZE	16
#define VTD_SLPTE_SIZE		8

/*
 * Root entry, legacy mode: lo 0 P, 63:12 CTP; lo 11:1 and all of hi are
 * reserved.  CTP bits 63:HAW are reserved too (vtd_above_haw()).
 */
#define VTD_ROOT_RSVD_LO	GENMASK_ULL(11, 1)
#define VTD_ROOT_RSVD_HI	GENMASK_ULL(63, 0)

/*
 * Context entry, legacy mode: lo 0 P, 1 FPD, 3:2 TT, 63:12 SLPTPTR, with
 * 11:4 reserved; hi 2:0 AW, 6:3 AVAIL (software's, ignored), 23:8 DID,
 * with 7 and 63:24 reserved.  SLPTPTR bits 63:HAW and DID bits beyond the
 * width CAP.ND gives are reserved as well, see vtd_context_decode().
 */
#define VTD_CTX_RSVD_LO		GENMASK_ULL(11, 4)
#define VTD_CTX_RSVD_HI		(BIT_ULL(7) | GENMASK_ULL(63, 24))
#define VTD_DID_BITS		16

/*
 * Second-level paging entries, legacy mode (the spec's SL-PML4E, SL-PDPE,
 * SL-PDE and SL-PTE).  In every format: 0 R, 1 W; ignored are 2 X (no
 * execute requests without PASID), 8 A and 9 D (only scalable mode with
 * SLADE updates them), 10, 61:52 and 63; address bits 51:HAW are
 * reserved.
 *
 * Entries referencing a table: 6:3 ignored; 11 and 62 reserved.  Bit 7 is
 * PS in the SL-PDPE and SL-PDE (set, the entry maps a page instead) and
 * reserved in the SL-PML4E.
 */
#define VTD_SL_TABLE_RSVD	(VTD_SLPTE_SNP | VTD_SLPTE_TM)

/*
 * Entries mapping a page (SL-PTE, and SL-PDE/SL-PDPE with PS): 5:3 EMT and
 * 6 IPAT are defined but ignored in legacy mode, which takes no memory
 * type from the tables; 11 SNP is reserved without ECAP.SC and 62 TM
 * without ECAP.DT.  Bit 7 of an SL-PTE is ignored.  A 2 MiB page has
 * address bits 20:12 reserved, a 1 GiB page 29:12: vtd_level_shift().
 */

/* IOVA bits below those a level-@level entry translates: 12, 21, 30, 39. */
static u32 vtd_level_shift(u32 level)
{
	return VTD_PAGE_SHIFT + VTD_SL_STRIDE * (level - 1);
}

/**
 * vtd_mgaw() - the unit's maximum guest address width (CAP.MGAW + 1)
 * @u: the unit
 *
 * Return: the width in bits; the guest's IOVAs are below 2^width.
 */
u32 vtd_mgaw(const struct vtd_unit *u)
{
	return vtd_field(vtd_get64(u, VTD_CAP_REG), VTD_CAP_MGAW) + 1;
}

/* Host address width assumed for reserved-bit checks, see the top. */
static u32 vtd_haw(const struct vtd_unit *u)
{
	return vtd_mgaw(u);
}

/* Bits HAW to @top of an address the guest wrote: reserved. */
static u64 vtd_above_haw(const struct vtd_unit *u, u32 top)
{
	u32 haw = vtd_haw(u);

	return haw <= top ? GENMASK_ULL(top, haw) : 0;
}

/* @n (1 or 2) little-endian quadwords at @gpa; false if not guest memory. */
static bool vtd_read_qwords(struct vtd_unit *u, u64 gpa, u64 *val, u32 n)
{
	__le64 raw[2];
	u32 i;

	if (n > ARRAY_SIZE(raw) ||
	    u->ops->read_gpa(u, gpa, raw, n * sizeof(raw[0])))
		return false;
	for (i = 0; i < n; i++)
		val[i] = le64_to_cpu(raw[i]);
	return true;
}

/* Translation types this unit offers: TT 01b needs ECAP.DT, 10b ECAP.PT. */
static bool vtd_tt_supported(const struct vtd_unit *u, u32 tt)
{
	u64 ecap = vtd_get64(u, VTD_ECAP_REG);

	switch (tt) {
	case VTD_TT_UNTRANSLATED:
		return true;
	case VTD_TT_ALL:
		return ecap & VTD_ECAP_DT;
	case VTD_TT_PASS_THROUGH:
		return ecap & VTD_ECAP_PT;
	}
	return false;	/* 11b is reserved */
}

/*
 * Paging levels for context entry AW @aw under translation type @tt, or 0
 * if the unit does not offer that width.  The core implements the 39- and
 * 48-bit widths only; CAP.SAGAW says which of them this unit offers.
 *
 * Pass-through has no tables, yet the spec still has software program AW
 * then, with the largest AGAW SAGAW reports; this unit treats anything
 * else as invalid programming (LCT.4.1).  Linux programs it that way.
 */
static u8 vtd_aw_levels(const struct vtd_unit *u, u32 aw, u32 tt)
{
	u64 sagaw = vtd_field(vtd_get64(u, VTD_CAP_REG), VTD_CAP_SAGAW);

	if (aw != VTD_CTX_AW_39 && aw != VTD_CTX_AW_48)
		return 0;
	if (!(sagaw & BIT_ULL(aw)))
		return 0;
	if (tt == VTD_TT_PASS_THROUGH && (sagaw >> (aw + 1)))
		return 0;
	return aw + 2;
}

/*
 * A present context entry @ce (lo, hi).  Fault reasons follow the spec's
 * table: reserved bits are LCT.3 (Bh); a translation type the unit does not
 * offer (LCT.4.2) and an unsupported AW (LCT.4.1) are both "invalid
 * programming", 3h, and so is DID 0 while CAP.CM is set, as it always is
 * here (the spec reserves that value then: hardware in caching mode tags
 * cached not-present entries with it).  Dh (LCT.5) is a different
 * condition: a translation request, or a translated request, that the
 * entry's TT blocks; the walker never sees requests, so it never returns
 * Dh.
 */
static int vtd_context_decode(const struct vtd_unit *u, const u64 *ce,
			      struct vtd_context *ctx)
{
	u32 did_bits = 4 + 2 * vtd_field(vtd_get64(u, VTD_CAP_REG),
					 VTD_CAP_ND);
	u32 tt = vtd_field(ce[0], VTD_CTX_LO_TT);
	u64 rsvd_lo = VTD_CTX_RSVD_LO;
	u64 rsvd_hi = VTD_CTX_RSVD_HI;
	u8 levels;
	u16 did;

	/*
	 * With fewer than 16 domain-id bits (CAP.ND), the spec has hardware
	 * treat the unused DID bits as reserved: a DID >= vtd_ndoms() is a
	 * reserved-field fault, not an invalid entry.
	 */
	if (did_bits < VTD_DID_BITS)
		rsvd_hi |= VTD_CTX_HI_DID &
			   ~vtd_field_prep(VTD_CTX_HI_DID, BIT_ULL(did_bits) - 1);
	/* Pass-through ignores SLPTPTR, so none of its bits is reserved. */
	if (tt != VTD_TT_PASS_THROUGH)
		rsvd_lo |= vtd_above_haw(u, 63);
	if ((ce[0] & rsvd_lo) || (ce[1] & rsvd_hi))
		return VTD_FR_CONTEXT_ENTRY_RSVD;

	if (!vtd_tt_supported(u, tt))
		return VTD_FR_CONTEXT_INVALID;
	levels = vtd_aw_levels(u, vtd_field(ce[1], VTD_CTX_HI_AW), tt);
	if (!levels)
		return VTD_FR_CONTEXT_INVALID;

	did = vtd_field(ce[1], VTD_CTX_HI_DID);
	if (!did && vtd_has_cap(u, VTD_CAP_CM))
		return VTD_FR_CONTEXT_INVALID;

	ctx->did = did;
	ctx->tt = tt;
	ctx->levels = levels;
	if (tt != VTD_TT_PASS_THROUGH)
		ctx->slptptr = ce[0] & VTD_CTX_LO_SLPTPTR;
	return 0;
}

/**
 * vtd_context_lookup() - find and validate a device's context entry
 * @u: the unit
 * @sid: source-id, bus << 8 | devfn
 * @ctx: the decoded context
 *
 * Reads the root entry for the bus from the table SRTP latched and the
 * context entry for devfn from the table it references, and checks them
 * as the spec's legacy-mode fault conditions LRT.1-3 and LCT.1-4 do, in
 * that order: an entry that is not present has no reserved bits.  Whether
 * translation is enabled (GSTS.TES) is the caller's business.
 *
 * Return: 0 with @ctx filled, or a positive enum vtd_fault_reason; on a
 * fault @ctx holds the sid, and FPD once the context entry was read.
 */
int vtd_context_lookup(struct vtd_unit *u, u16 sid, struct vtd_context *ctx)
{
	u64 re[2], ce[2];
	u64 gpa;

	memset(ctx, 0, sizeof(*ctx));
	ctx->sid = sid;

	gpa = u->rta + (u64)(sid >> 8) * VTD_ROOT_ENTRY_SIZE;
	if (!vtd_read_qwords(u, gpa, re, 2))
		return VTD_FR_ROOT_TABLE_ACCESS;
	if (!(re[0] & VTD_ROOT_LO_P))
		return VTD_FR_ROOT_NOT_PRESENT;
	if ((re[0] & (VTD_ROOT_RSVD_LO | vtd_above_haw(u, 63))) ||
	    (re[1] & VTD_ROOT_RSVD_HI))
		return VTD_FR_ROOT_ENTRY_RSVD;

	gpa = (re[0] & VTD_ROOT_LO_CTP) + (u64)(sid & 0xff) * VTD_CTX_ENTRY_SIZE;
	if (!vtd_read_qwords(u, gpa, ce, 2))
		return VTD_FR_CONTEXT_TABLE_ACCESS;
	/* FPD is evaluated whatever P says: it covers faults on this entry. */
	ctx->fpd = ce[0] & VTD_CTX_LO_FPD;
	if (!(ce[0] & VTD_CTX_LO_P))
		return VTD_FR_CONTEXT_NOT_PRESENT;
	return vtd_context_decode(u, ce, ctx);
}

/**
 * vtd_context_iova_end() - end of a context's input address space
 * @u: the unit
 * @ctx: a context from vtd_context_lookup()
 *
 * Input addresses are limited by both the context's adjusted guest address
 * width (AW: 39 or 48 bits) and the unit's MGAW; LGN.1 faults addresses at
 * or beyond the smaller.
 *
 * Return: 2^min(AGAW, MGAW), the first IOVA that is out of range.
 */
u64 vtd_context_iova_end(const struct vtd_unit *u,
			 const struct vtd_context *ctx)
{
	u32 width = vtd_level_shift(ctx->levels + 1);
	u32 mgaw = vtd_mgaw(u);

	if (mgaw < width)
		width = mgaw;
	return width < 64 ? BIT_ULL(width) : ~0ULL;
}

/* Levels vtd_sl_translate() and vtd_sl_walk() can walk: 3 or 4. */
static bool vtd_levels_ok(const struct vtd_context *ctx)
{
	return ctx->levels >= 3 && ctx->levels <= VTD_SL_MAX_LEVELS;
}

/* Whether CAP.SLLPS offers pages the size a level-@level entry maps. */
static bool vtd_superpage_ok(const struct vtd_unit *u, u32 level)
{
	u64 cap = vtd_get64(u, VTD_CAP_REG);

	if (level == 2)
		return cap & VTD_CAP_SLLPS_2M;
	if (level == 3)
		return cap & VTD_CAP_SLLPS_1G;
	return false;	/* 512 GiB (SL-PML4E PS) is reserved */
}

/*
 * Check the present entry @pte read at @level: 0, with *@leaf telling
 * whether it maps a page or references the next table, or
 * VTD_FR_PAGING_ENTRY_RSVD (LSL.2) for a reserved bit set, PS among them
 * where no page of that size exists.
 */
static int vtd_slpte_check(const struct vtd_unit *u, u64 pte, u32 level,
			   bool *leaf)
{
	u64 ecap = vtd_get64(u, VTD_ECAP_REG);
	u64 rsvd = vtd_above_haw(u, 51);

	*leaf = level == 1 || (pte & VTD_SLPTE_PS);
	if (!*leaf)
		return pte & (rsvd | VTD_SL_TABLE_RSVD) ?
		       VTD_FR_PAGING_ENTRY_RSVD : 0;

	if (level > 1) {
		if (!vtd_superpage_ok(u, level))
			return VTD_FR_PAGING_ENTRY_RSVD;
		rsvd |= GENMASK_ULL(vtd_level_shift(level) - 1, VTD_PAGE_SHIFT);
	}
	if (!(ecap & VTD_ECAP_SC))
		rsvd |= VTD_SLPTE_SNP;
	if (!(ecap & VTD_ECAP_DT))
		rsvd |= VTD_SLPTE_TM;
	return pte & rsvd ? VTD_FR_PAGING_ENTRY_RSVD : 0;
}

/*
 * The leaf @pte at @level maps @iova's page; @perm is what the entries
 * above it grant.
 */
static void vtd_leaf(struct vtd_mapping *m, u64 pte, u32 level, u64 iova,
		     u64 perm)
{
	u64 size = BIT_ULL(vtd_level_shift(level));

	perm &= pte;
	m->iova = iova & ~(size - 1);
	m->gpa = pte & VTD_SLPTE_ADDR;
	m->size = size;
	m->read = perm & VTD_SLPTE_R;
	m->write = perm & VTD_SLPTE_W;
}

/**
 * vtd_sl_translate() - translate one IOVA
 * @u: the unit
 * @ctx: a context from vtd_context_lookup()
 * @iova: the input address
 * @m: the mapping found
 *
 * Walks the second-level tables from SLPTPTR, one entry per level.  An
 * entry with neither R nor W is not present.  R and W of each entry on the
 * path limit what the leaf grants: @m has the AND of them, possibly
 * neither (the spec faults the access then, with reason 5h or 6h, which is
 * the caller's to record since only it knows the access).  A pass-through
 * context maps @iova's 4 KiB page to itself, read and write.
 *
 * Return: 0; -ENOENT if an entry on the path is not present; -EINVAL for a
 * @ctx vtd_context_lookup() cannot produce; or VTD_FR_ADDR_BEYOND_MGAW,
 * VTD_FR_PAGING_ENTRY_RSVD, VTD_FR_PAGING_ENTRY_ACCESS.
 */
int vtd_sl_translate(struct vtd_unit *u, const struct vtd_context *ctx,
		     u64 iova, struct vtd_mapping *m)
{
	u64 perm = VTD_SLPTE_RW;
	u64 table = ctx->slptptr;
	u32 level;

	if (!vtd_levels_ok(ctx))
		return -EINVAL;
	if (iova >= vtd_context_iova_end(u, ctx))
		return VTD_FR_ADDR_BEYOND_MGAW;
	if (ctx->tt == VTD_TT_PASS_THROUGH) {
		m->size = BIT_ULL(VTD_PAGE_SHIFT);
		m->iova = iova & ~(m->size - 1);
		m->gpa = m->iova;
		m->read = true;
		m->write = true;
		return 0;
	}

	for (level = ctx->levels; level; level--) {
		u64 idx = (iova >> vtd_level_shift(level)) & VTD_SL_INDEX;
		bool leaf;
		u64 pte;
		int fr;

		if (!vtd_read_qwords(u, table + idx * VTD_SLPTE_SIZE, &pte, 1))
			return VTD_FR_PAGING_ENTRY_ACCESS;
		if (!(pte & VTD_SLPTE_RW))
			return -ENOENT;
		fr = vtd_slpte_check(u, pte, level, &leaf);
		if (fr)
			return fr;
		if (leaf) {
			vtd_leaf(m, pte, level, iova, perm);
			return 0;
		}
		perm &= pte;
		table = pte & VTD_SLPTE_ADDR;
	}
	return -ENOENT;		/* not reached: level 1 entries are leaves */
}

/*
 * Is a fault of @reason one that FPD suppresses ("qualified", in the
 * spec's table of legacy-mode faults)?  Faults on the root table and its
 * entries, on the context table, and reserved bits in a context entry
 * are reported whatever the entry says.
 */
bool vtd_fault_qualified(enum vtd_fault_reason reason)
{
	switch (reason) {
	case VTD_FR_ROOT_NOT_PRESENT:
	case VTD_FR_ROOT_TABLE_ACCESS:
	case VTD_FR_CONTEXT_TABLE_ACCESS:
	case VTD_FR_ROOT_ENTRY_RSVD:
	case VTD_FR_CONTEXT_ENTRY_RSVD:
		return false;
	default:
		return true;
	}
}

/* Does [@gpa, @gpa + @size) meet the interrupt address range? */
static bool vtd_hits_interrupt_range(u64 gpa, u64 size)
{
	return gpa <= VTD_INTR_RANGE_END && gpa + size > VTD_INTR_RANGE_START;
}

/* The request's permission fault, or 0 if @m grants its @access. */
static int vtd_access_fault(const struct vtd_mapping *m, u32 access)
{
	if (access & VTD_ACCESS_WRITE && !m->write)
		return VTD_FR_WRITE;
	if (access & VTD_ACCESS_READ && !m->read)
		return VTD_FR_READ;
	return 0;
}

/**
 * vtd_translate() - answer one DMA request as the unit's hardware would
 * @u: the unit
 * @sid: the requester's source-id
 * @iova: the address it asks for, outside the interrupt range (a write
 *	there is an interrupt request, not remapped: the caller's)
 * @access: VTD_ACCESS_READ and/or VTD_ACCESS_WRITE, what the request needs;
 *	0 for a lookup that needs nothing but a present translation
 * @t: the answer
 *
 * With translation off (GSTS.TES clear) a request is not translated:
 * IOVA = GPA.  Otherwise @sid's context says how: pass-through (IOVA =
 * GPA, if ECAP.PT lets the context say so) or through its second-level
 * tables, as they are in guest memory now.  The request is then allowed
 * only if every entry on the path grants the access it needs: a write
 * the path does not allow faults with reason 5, a read with reason 6, and
 * an entry with neither R nor W (not present) with the reason of the
 * access (6 for a lookup).  A leaf that maps any of the interrupt range
 * faults too (reason 0xe): remapped DMA never reaches that range.
 *
 * On success @t->fault is 0 and @t->gpa is what @iova translates to; the
 * @t->size block around @iova (naturally aligned: 4 KiB when untranslated,
 * else the leaf's size) translates to the same-sized block around @t->gpa
 * with @t->read and @t->write, and @t->untranslated says whether that is
 * because nothing is translated; with translation on, @t->did is the
 * context's domain-id.  On a fault @t->fault is its enum
 * vtd_fault_reason and the rest is 0 but @t->fpd: whether the context has
 * fault processing disabled for this (qualified) fault, which the caller
 * then does not record.  Reads at most the root entry, the context entry
 * and one entry per level.
 */
void vtd_translate(struct vtd_unit *u, u16 sid, u64 iova, u32 access,
		   struct vtd_translation *t)
{
	struct vtd_context ctx;
	struct vtd_mapping m;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!(vtd_get32(u, VTD_GSTS_REG) & VTD_GSTS_TES)) {
		m.size = BIT_ULL(VTD_PAGE_SHIFT);
		m.iova = iova & ~(m.size - 1);
		m.gpa = m.iova;
		m.read = true;
		m.write = true;
		t->untranslated = true;
	} else {
		ret = vtd_context_lookup(u, sid, &ctx);
		if (!ret)
			ret = vtd_sl_translate(u, &ctx, iova, &m);
		if (ret == -ENOENT)
			ret = access & VTD_ACCESS_WRITE ? VTD_FR_WRITE :
							  VTD_FR_READ;
		/* A context that decodes has levels the walk takes. */
		else if (ret < 0)
			ret = VTD_FR_CONTEXT_INVALID;
		if (!ret && ctx.tt == VTD_TT_PASS_THROUGH) {
			t->untranslated = true;
		} else if (!ret) {
			ret = vtd_access_fault(&m, access);
			if (!ret && vtd_hits_interrupt_range(m.gpa, m.size))
				ret = VTD_FR_INTERRUPT_ADDR;
		}
		if (ret) {
			t->fault = ret;
			t->fpd = ctx.fpd && vtd_fault_qualified(ret);
			return;
		}
		t->did = ctx.did;
	}
	t->size = m.size;
	t->gpa = m.gpa + (iova - m.iova);
	t->read = m.read;
	t->write = m.write;
}

/*
 * Where a range walk is in one table: the table, the IOVA its entry 0
 * translates, the entry to read next and the last one the range needs, and
 * the R/W the entries above grant.
 */
struct vtd_walk_pos {
	u64 table;
	u64 base;
	u64 perm;
	u32 idx;
	u32 last;
};

/*
 * Position in the table at @level translating [@base, @base + span), for
 * the range [@first, @last] (inclusive, overlapping that span).
 */
static void vtd_walk_enter(struct vtd_walk_pos *p, u32 level, u64 table,
			   u64 base, u64 perm, u64 first, u64 last)
{
	u32 shift = vtd_level_shift(level);
	u64 top = base + (BIT_ULL(shift + VTD_SL_STRIDE) - 1);

	p->table = table;
	p->base = base;
	p->perm = perm;
	p->idx = first > base ? (first - base) >> shift : 0;
	p->last = last < top ? (last - base) >> shift : VTD_SL_LAST;
}

/**
 * vtd_sl_walk() - report the leaves of a range of IOVAs
 * @u: the unit
 * @ctx: a context from vtd_context_lookup(), not pass-through
 * @start: first IOVA
 * @end: IOVA after the last, clipped to vtd_context_iova_end()
 * @fn: called for each present leaf overlapping the range
 * @opaque: passed to @fn
 * @budget: paging entries the walk may read; decremented for each (and
 *	@fn may lower it too, to charge its own work)
 * @next: if not NULL, set when the walk stops early: the first IOVA of
 *	the range it did not finish, where a later walk resumes
 *
 * Depth-first over the tables, in ascending IOVA order, without recursion:
 * a cursor per level stands for the call stack.  Only the entries the
 * range needs are read; a non-present entry (neither R nor W) is skipped,
 * a reserved bit or an unreadable table stops the walk.  Leaves are
 * reported as vtd_sl_translate() would return them, whole even where they
 * start before @start, and with the AND of R/W along their path, which may
 * be neither.
 *
 * Tables may reference each other or themselves: every IOVA is still
 * visited once, and each entry read costs budget, so a cycle ends when the
 * range or the budget does.  Before each table it enters the walk asks the
 * host's ->walk_yield(), and stops as for the budget if told to.
 *
 * Return: 0 when the range is done; the first nonzero @fn return value
 * (*@next then at that leaf, or @start if the leaf began before it);
 * -E2BIG when the next entry needed would exceed the budget, or
 * ->walk_yield() said stop (*@next then at the entry not read: everything below it is
 * done); -EINVAL for a pass-through or malformed @ctx; or
 * VTD_FR_PAGING_ENTRY_RSVD or VTD_FR_PAGING_ENTRY_ACCESS (*@next then at
 * the bad entry).
 */
int vtd_sl_walk(struct vtd_unit *u, const struct vtd_context *ctx,
		u64 start, u64 end, vtd_walk_fn fn, void *opaque, u32 *budget,
		u64 *next)
{
	struct vtd_walk_pos pos[VTD_SL_MAX_LEVELS + 1];
	struct vtd_walk_pos *p;
	struct vtd_mapping m;
	u64 iova_end, resume;
	bool entered = true;
	u32 level;
	int ret;

	if (ctx->tt == VTD_TT_PASS_THROUGH || !vtd_levels_ok(ctx))
		return -EINVAL;
	iova_end = vtd_context_iova_end(u, ctx);
	if (end > iova_end)
		end = iova_end;
	if (start >= end)
		return 0;

	level = ctx->levels;
	vtd_walk_enter(&pos[level], level, ctx->slptptr, 0, VTD_SLPTE_RW,
		       start, end - 1);
	for (;;) {
		u64 iova, pte;
		bool leaf;

		p = &pos[level];
		if (p->idx > p->last) {
			/* Table done: resume the entry that referenced it. */
			if (level == ctx->levels)
				return 0;
			pos[++level].idx++;
			continue;
		}

		iova = p->base + ((u64)p->idx << vtd_level_shift(level));
		resume = iova > start ? iova : start;
		if (!*budget ||
		    (entered && u->ops->walk_yield && u->ops->walk_yield(u))) {
			ret = -E2BIG;
			goto stop;
		}
		entered = false;
		(*budget)--;
		if (!vtd_read_qwords(u, p->table + (u64)p->idx * VTD_SLPTE_SIZE,
				     &pte, 1)) {
			ret = VTD_FR_PAGING_ENTRY_ACCESS;
			goto stop;
		}
		if (!(pte & VTD_SLPTE_RW)) {
			p->idx++;
			continue;
		}
		ret = vtd_slpte_check(u, pte, level, &leaf);
		if (ret)
			goto stop;

		if (leaf) {
			vtd_leaf(&m, pte, level, iova, p->perm);
			ret = fn(opaque, &m);
			if (ret)
				goto stop;
			p->idx++;
			continue;
		}
		level--;
		vtd_walk_enter(&pos[level], level, pte & VTD_SLPTE_ADDR, iova,
			       p->perm & pte, start, end - 1);
		entered = true;
	}
stop:
	if (next)
		*next = resume;
	return ret;
}
