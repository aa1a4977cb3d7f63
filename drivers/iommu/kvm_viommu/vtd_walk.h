/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Walking the guest's VT-d translation structures (legacy mode): root
 * table, context tables, second-level page tables.  Kernel-independent,
 * like the rest of the core: guest memory is read through the unit's
 * ops->read_gpa, and every walk is bounded.
 */
#ifndef _KVM_VIOMMU_VTD_WALK_H_
#define _KVM_VIOMMU_VTD_WALK_H_

#include "vtd.h"

/* Root entry (128-bit), legacy mode. */
#define VTD_ROOT_LO_P		BIT_ULL(0)
#define VTD_ROOT_LO_CTP		GENMASK_ULL(63, 12)

/* Context entry (128-bit), legacy mode. */
#define VTD_CTX_LO_P		BIT_ULL(0)
#define VTD_CTX_LO_FPD		BIT_ULL(1)
#define VTD_CTX_LO_TT		GENMASK_ULL(3, 2)
#define VTD_CTX_LO_SLPTPTR	GENMASK_ULL(63, 12)
#define VTD_CTX_HI_AW		GENMASK_ULL(2, 0)
#define VTD_CTX_HI_DID		GENMASK_ULL(23, 8)

/* Context entry AW values the core implements (CAP.SAGAW bit AW). */
#define VTD_CTX_AW_39		1	/* 39-bit, 3-level tables */
#define VTD_CTX_AW_48		2	/* 48-bit, 4-level tables */

/* Context entry translation types. */
#define VTD_TT_UNTRANSLATED	0	/* second-level tables */
#define VTD_TT_ALL		1	/* the same, device-TLB allowed */
#define VTD_TT_PASS_THROUGH	2	/* IOVA == GPA */

/* Second-level paging entry. */
#define VTD_SLPTE_R		BIT_ULL(0)
#define VTD_SLPTE_W		BIT_ULL(1)
#define VTD_SLPTE_PS		BIT_ULL(7)
#define VTD_SLPTE_SNP		BIT_ULL(11)	/* leaf; reserved without ECAP.SC */
#define VTD_SLPTE_ADDR		GENMASK_ULL(51, 12)
#define VTD_SLPTE_TM		BIT_ULL(62)	/* leaf; reserved without ECAP.DT */

/* A device's context, decoded and validated. */
struct vtd_context {
	u16 sid;		/* bus << 8 | devfn */
	u16 did;
	u8 tt;			/* VTD_TT_* */
	u8 levels;		/* 3 or 4 (second-level tables only) */
	bool fpd;		/* fault processing disabled */
	u64 slptptr;		/* second-level table root (gpa) */
};

/* One translation, as the walker found it. */
struct vtd_mapping {
	u64 iova;		/* aligned to size */
	u64 gpa;		/* aligned to size */
	u64 size;		/* 4 KiB, 2 MiB or 1 GiB */
	bool read;
	bool write;
};

/*
 * Look up @sid's context through the root table latched by SRTP (u->rta).
 * Return: 0 with @ctx filled; or a positive enum vtd_fault_reason (root or
 * context entry not present, reserved bits set, invalid translation type,
 * address width not in CAP.SAGAW, domain id beyond CAP.ND, table not
 * readable).  On a fault, @ctx->sid is set, and @ctx->fpd too once the
 * context entry was read (the spec evaluates FPD whatever P says); the
 * other fields are 0.
 */
int vtd_context_lookup(struct vtd_unit *u, u16 sid, struct vtd_context *ctx);

/*
 * Translate one @iova through @ctx (second-level tables, or pass-through).
 * Return: 0 with @m the leaf mapping containing @iova; -ENOENT if not
 * mapped (no present leaf); or a positive enum vtd_fault_reason for an
 * IOVA beyond the context's address width or MGAW, a reserved bit set in
 * a paging entry, a superpage size CAP.SLLPS does not offer, or a table
 * that is not guest memory.
 */
int vtd_sl_translate(struct vtd_unit *u, const struct vtd_context *ctx,
		     u64 iova, struct vtd_mapping *m);

/* The interrupt address range: DMA there is never remapped. */
#define VTD_INTR_RANGE_START	0xfee00000ULL
#define VTD_INTR_RANGE_END	0xfeefffffULL

/* What a DMA request needs (vtd_translate()). */
#define VTD_ACCESS_READ		BIT(0)
#define VTD_ACCESS_WRITE	BIT(1)

/* A DMA request's answer (vtd_translate()). */
struct vtd_translation {
	u64 gpa;		/* what the IOVA translates to */
	u64 size;		/* of the naturally aligned block around it */
	bool read;
	bool write;
	bool untranslated;	/* translation off, or a pass-through context */
	bool fpd;		/* on a fault: FPD suppresses its record */
	u8 fault;		/* 0, or the request's enum vtd_fault_reason */
	u16 did;		/* the context's domain-id, with translation on */
};

/* Does FPD suppress a fault of @reason (a "qualified" fault)? */
bool vtd_fault_qualified(enum vtd_fault_reason reason);

/*
 * Answer a DMA request from @sid for @iova needing @access (VTD_ACCESS_*)
 * as the hardware would now: translation off, pass-through or
 * second-level tables, with the access checked against the R/W the path
 * grants.  See vtd_walk.c for the whole contract.
 */
void vtd_translate(struct vtd_unit *u, u16 sid, u64 iova, u32 access,
		   struct vtd_translation *t);

/* What a range walk reports, leaf by leaf, in IOVA order. */
typedef int (*vtd_walk_fn)(void *opaque, const struct vtd_mapping *m);

/*
 * Walk [@start, @end) of @ctx's second-level tables (@end exclusive,
 * clipped to the context's address width) and call @fn for every present
 * leaf that overlaps the range, in ascending IOVA order; a leaf larger
 * than the range is reported whole.  Non-present entries are skipped
 * without descending.  At most *@budget paging entries are read (@fn may
 * lower *@budget to charge its own work); the walk stops with -E2BIG when
 * the budget runs out or the host's ->walk_yield() says so at a table.  When it
 * stops early, *@next (if not NULL) is the first IOVA it did not finish:
 * [@start, *@next) is done and a walk of [*@next, @end) completes it.
 * Return: 0, a nonzero @fn result, -E2BIG, or a positive enum
 * vtd_fault_reason for a malformed entry or unreadable table (the walk
 * stops there).  Pass-through contexts have no tables: callers handle
 * them.
 */
int vtd_sl_walk(struct vtd_unit *u, const struct vtd_context *ctx,
		u64 start, u64 end, vtd_walk_fn fn, void *opaque, u32 *budget,
		u64 *next);

/* The end (exclusive) of @ctx's IOVA space: 2^39 or 2^48, within MGAW. */
u32 vtd_mgaw(const struct vtd_unit *u);
u64 vtd_context_iova_end(const struct vtd_unit *u,
			 const struct vtd_context *ctx);

#endif /* _KVM_VIOMMU_VTD_WALK_H_ */
