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
#include "viommu_vmm.h"
#include "vtd.h"

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

/* Poll a 32-bit word of guest memory until it reads @want. */
static inline void guest_poll_mem32(uint32_t *ptr, uint32_t want)
{
	uint64_t n = 0;

	while (READ_ONCE(*ptr) != want && ++n < GUEST_POLL_LOOPS)
		guest_pause();
	GUEST_ASSERT_2(READ_ONCE(*ptr) == want, READ_ONCE(*ptr), want);
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

#define DESC_CC_GLOBAL		(VTD_INV_DESC_CC | (1ULL << 4))
#define DESC_IOTLB_GLOBAL	(VTD_INV_DESC_IOTLB | (1ULL << 4))
#define DESC_IOTLB_DOMAIN(did)	(VTD_INV_DESC_IOTLB | (2ULL << 4) | \
				 ((uint64_t)(did) << 16))
#define DESC_IOTLB_PAGE(did)	(VTD_INV_DESC_IOTLB | (3ULL << 4) | \
				 ((uint64_t)(did) << 16))

#endif /* _VIOMMU_GUEST_H */
