/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-side VT-d driver pieces for selftest guest code: what a guest
 * kernel's driver does, in the fewest lines.  Inline and libc-free: they
 * run in the L2 guest.  The register page is identity-mapped at
 * VIOMMU_REG_GPA.
 */
#ifndef _VIOMMU_GUEST_H
#define _VIOMMU_GUEST_H

#include <stdint.h>
#include <linux/compiler.h>

#include "ucall_common.h"
#include "viommu_vfio.h"
#include "viommu_vmm.h"
#include "vtd.h"
#include "vtd_walk.h"

/* Bound on every guest poll loop: a broken unit fails, never hangs. */
#define GUEST_POLL_LOOPS	BIT_ULL(26)

static inline uint32_t gr32(uint32_t off)
{
	return READ_ONCE(*(uint32_t *)(VIOMMU_REG_GPA + off));
}

static inline uint64_t gr64(uint32_t off)
{
	return READ_ONCE(*(uint64_t *)(VIOMMU_REG_GPA + off));
}

static inline void gw32(uint32_t off, uint32_t val)
{
	WRITE_ONCE(*(uint32_t *)(VIOMMU_REG_GPA + off), val);
}

static inline void gw64(uint32_t off, uint64_t val)
{
	WRITE_ONCE(*(uint64_t *)(VIOMMU_REG_GPA + off), val);
}

static inline void guest_pause(void)
{
	asm volatile("pause" ::: "memory");
}

/* Poll a 32-bit register until (reg & mask) == want. */
static inline void guest_poll_reg32(uint32_t off, uint32_t mask, uint32_t want)
{
	uint64_t n = 0;

	while ((gr32(off) & mask) != want && ++n < GUEST_POLL_LOOPS)
		guest_pause();
	GUEST_ASSERT_2((gr32(off) & mask) == want, off, gr32(off));
}

/* Poll a 32-bit word of guest memory until it reads @want, @loops times. */
static inline void guest_poll_mem32_loops(uint32_t *ptr, uint32_t want,
					  uint64_t loops)
{
	uint64_t n = 0;

	while (READ_ONCE(*ptr) != want && ++n < loops)
		guest_pause();
	GUEST_ASSERT_2(READ_ONCE(*ptr) == want, READ_ONCE(*ptr), want);
}

static inline void guest_poll_mem32(uint32_t *ptr, uint32_t want)
{
	guest_poll_mem32_loops(ptr, want, GUEST_POLL_LOOPS);
}

/* The guest's view of its invalidation queue. */
struct guest_iq {
	uint64_t gpa;			/* IQA */
	struct vtd_inv_desc *va;	/* same memory, guest-virtual */
	uint32_t qs;
	uint32_t entries;
	uint32_t tail;			/* next free slot, as IQT.QT */
};

/* GCMD takes the persistent bits every time, as a driver keeps them. */
static inline void guest_gcmd(uint32_t set, uint32_t clear)
{
	uint32_t keep = gr32(VTD_GSTS_REG) &
			(VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES |
			 VTD_GSTS_CFIS);

	gw32(VTD_GCMD_REG, (keep | set) & ~clear);
}

static inline void guest_set_root(uint64_t rta)
{
	gw64(VTD_RTADDR_REG, rta);
	guest_gcmd(VTD_GCMD_SRTP, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_RTPS, VTD_GSTS_RTPS);
}

static inline void guest_qi_disable(void)
{
	guest_gcmd(0, VTD_GCMD_QIE);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_QIES, 0);
}

/* As a driver: IQT = 0, IQA, then QIE and wait for QIES. */
static inline void guest_qi_enable(struct guest_iq *q)
{
	q->entries = 256u << q->qs;
	q->tail = 0;
	gw32(VTD_IQT_REG, 0);
	gw64(VTD_IQA_REG, q->gpa | q->qs);
	guest_gcmd(VTD_GCMD_QIE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_QIES, VTD_GSTS_QIES);
}

static inline void guest_iq_push(struct guest_iq *q, uint64_t lo, uint64_t hi)
{
	struct vtd_inv_desc *d = &q->va[q->tail];

	WRITE_ONCE(d->lo, lo);
	WRITE_ONCE(d->hi, hi);
	q->tail = (q->tail + 1) % q->entries;
}

/* Ring: a 4-byte IQT write, as Linux does; a doorbell when wired. */
static inline void guest_iq_kick(struct guest_iq *q)
{
	asm volatile("" ::: "memory");
	gw32(VTD_IQT_REG, q->tail << 4);
}

static inline uint64_t desc_wait_lo(uint32_t data, uint64_t flags)
{
	return VTD_INV_DESC_WAIT | flags | ((uint64_t)data << 32);
}

static inline void guest_iq_push_wait(struct guest_iq *q, uint64_t status_gpa,
				      uint32_t data, uint64_t flags)
{
	guest_iq_push(q, desc_wait_lo(data, VTD_INV_DESC_WAIT_SW | flags),
		      status_gpa);
}

/*
 * A driver's synchronous invalidation: one descriptor, then a wait whose
 * status (in guest memory at @status, GPA @status_gpa) is polled.
 */
static inline void guest_iq_sync(struct guest_iq *q, uint64_t lo, uint64_t hi,
				 uint32_t *status, uint64_t status_gpa)
{
	uint32_t seq = READ_ONCE(*status) + 1;

	guest_iq_push(q, lo, hi);
	guest_iq_push_wait(q, status_gpa, seq, 0);
	guest_iq_kick(q);
	guest_poll_mem32(status, seq);
}

#define DESC_CC_GLOBAL		(VTD_INV_DESC_CC | (1ULL << 4))
#define DESC_IOTLB_GLOBAL	(VTD_INV_DESC_IOTLB | (1ULL << 4))
#define DESC_IOTLB_DOMAIN(did)	(VTD_INV_DESC_IOTLB | (2ULL << 4) | \
				 ((uint64_t)(did) << 16))
#define DESC_IOTLB_PAGE(did)	(VTD_INV_DESC_IOTLB | (3ULL << 4) | \
				 ((uint64_t)(did) << 16))

#define DESC_IOTLB_PSI(did)	DESC_IOTLB_PAGE(did)

/*
 * The guest's translation structures, as its driver builds them: a root
 * table, bus 0's context table, and second-level tables, all from a pool
 * of zeroed pages the host set aside (contiguous in GPA and GVA).
 */
struct guest_vtd {
	uint64_t pool_gpa;
	uint64_t pool_gva;
	uint32_t pool_used;
	uint32_t pool_nr;
	uint64_t root_gpa;
	uint64_t ctx_gpa;
};

static inline void *gvtd_va(struct guest_vtd *g, uint64_t gpa)
{
	return (void *)(g->pool_gva + (gpa - g->pool_gpa));
}

static inline uint64_t gvtd_alloc(struct guest_vtd *g)
{
	uint64_t gpa = g->pool_gpa + 4096ULL * g->pool_used;

	GUEST_ASSERT(g->pool_used < g->pool_nr);
	g->pool_used++;
	memset(gvtd_va(g, gpa), 0, 4096);
	return gpa;
}

static inline void gvtd_init(struct guest_vtd *g)
{
	uint64_t *root;

	g->pool_used = 0;
	g->root_gpa = gvtd_alloc(g);
	g->ctx_gpa = gvtd_alloc(g);
	root = gvtd_va(g, g->root_gpa);
	WRITE_ONCE(root[0], g->ctx_gpa | VTD_ROOT_LO_P);	/* bus 0 */
}

/* A context entry for devfn on bus 0: second-level, 4 levels (AW 2). */
static inline void gvtd_set_context(struct guest_vtd *g, uint8_t devfn,
				    uint16_t did, uint64_t slpt_gpa)
{
	uint64_t *ctx = gvtd_va(g, g->ctx_gpa);

	WRITE_ONCE(ctx[2 * devfn + 1], 2 | (uint64_t)did << 8);
	WRITE_ONCE(ctx[2 * devfn], slpt_gpa | VTD_CTX_LO_P);
}

/*
 * The entry for @iova at @level (1: 4 KiB leaf, 2: 2 MiB leaf) under the
 * 4-level table @slpt_gpa, creating tables on the way.
 */
static inline uint64_t *gvtd_entry(struct guest_vtd *g, uint64_t slpt_gpa,
				   uint64_t iova, int level)
{
	uint64_t table = slpt_gpa, *e;
	int l;

	for (l = 4; ; l--) {
		e = (uint64_t *)gvtd_va(g, table) +
		    ((iova >> (12 + 9 * (l - 1))) & 511);
		if (l == level)
			return e;
		if (!(READ_ONCE(*e) & (VTD_SLPTE_R | VTD_SLPTE_W)))
			WRITE_ONCE(*e, gvtd_alloc(g) | VTD_SLPTE_R |
				       VTD_SLPTE_W);
		table = READ_ONCE(*e) & VTD_SLPTE_ADDR;
	}
}

static inline void gvtd_map(struct guest_vtd *g, uint64_t slpt_gpa,
			    uint64_t iova, uint64_t gpa, int level,
			    uint64_t perms)
{
	WRITE_ONCE(*gvtd_entry(g, slpt_gpa, iova, level),
		   gpa | perms | (level > 1 ? VTD_SLPTE_PS : 0));
}

static inline void gvtd_unmap(struct guest_vtd *g, uint64_t slpt_gpa,
			      uint64_t iova, int level)
{
	WRITE_ONCE(*gvtd_entry(g, slpt_gpa, iova, level), 0);
}

/*
 * What a guest kernel's intel-iommu driver does at boot for one device:
 * root and context tables with an empty 4-level second-level table for
 * @devfn in domain @did, root table pointer, queued invalidation, a
 * context-cache flush, translation on, an IOTLB flush.  Returns the
 * second-level table's GPA.
 */
static inline uint64_t guest_iommu_enable(struct guest_vtd *g,
					  struct guest_iq *q,
					  const struct guest_iommu_mem *mem,
					  uint8_t devfn, uint16_t did)
{
	uint32_t *status = (uint32_t *)mem->status_gva;
	uint64_t slpt;

	g->pool_gpa = mem->pool_gpa;
	g->pool_gva = mem->pool_gva;
	g->pool_nr = mem->pool_nr;
	gvtd_init(g);
	slpt = gvtd_alloc(g);
	gvtd_set_context(g, devfn, did, slpt);
	guest_set_root(g->root_gpa);
	q->gpa = mem->queue_gpa;
	q->va = (struct vtd_inv_desc *)mem->queue_gva;
	q->qs = 0;
	guest_qi_enable(q);
	guest_iq_sync(q, DESC_CC_GLOBAL, 0, status, mem->status_gpa);
	guest_gcmd(VTD_GCMD_TE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, VTD_GSTS_TES);
	guest_iq_sync(q, DESC_IOTLB_GLOBAL, 0, status, mem->status_gpa);
	return slpt;
}

/* edu, with its BAR0 mapped at EDU_BAR0_GPA (see viommu_vfio.h). */
static inline void edu_w64(uint32_t reg, uint64_t val)
{
	WRITE_ONCE(*(uint64_t *)(EDU_BAR0_GPA + reg), val);
}

static inline uint32_t edu_r32(uint32_t reg)
{
	return READ_ONCE(*(uint32_t *)(EDU_BAR0_GPA + reg));
}

/* Start one edu DMA of EDU_DMA_LEN bytes (edu runs it from a timer). */
static inline void edu_dma_start(uint64_t src, uint64_t dst, bool to_ram)
{
	edu_w64(EDU_DMA_SRC, src);
	edu_w64(EDU_DMA_DST, dst);
	edu_w64(EDU_DMA_COUNT, EDU_DMA_LEN);
	edu_w64(EDU_DMA_CMD, EDU_DMA_CMD_START |
			     (to_ram ? EDU_DMA_CMD_TO_RAM : 0));
}

static inline void edu_dma_wait(void)
{
	uint64_t n = 0;

	while ((edu_r32(EDU_DMA_CMD) & EDU_DMA_CMD_START) &&
	       ++n < GUEST_POLL_LOOPS)
		guest_pause();
	GUEST_ASSERT(!(edu_r32(EDU_DMA_CMD) & EDU_DMA_CMD_START));
}

/* One edu DMA of EDU_DMA_LEN bytes, polled to completion. */
static inline void edu_dma(uint64_t src, uint64_t dst, bool to_ram)
{
	edu_dma_start(src, dst, to_ram);
	edu_dma_wait();
}

#endif /* _VIOMMU_GUEST_H */
