// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow sync proved with real DMA under nested KVM.  QEMU's edu sits
 * behind L1's (emulated) VT-d, bound to vfio-pci; the test VMM gives the
 * L2 guest a kvm_viommu unit, attaches edu to it and maps edu's BAR0 into
 * L2.  L2 builds VT-d tables as a driver does, invalidates, and tells edu
 * to DMA to IOVAs: where the data lands (or does not) is what the unit
 * made of the guest's tables in edu's host domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "viommu_vmm.h"
#include "viommu_guest.h"
#include "viommu_vfio.h"

#undef ASSERT_EQ
#include "kselftest_harness.h"

/* edu's source-id in the guest: 00:03.0, and its domain. */
#define EDU_SID			0x18
#define EDU_DID			1
#define NR_BUFS			5
#define BIG_GPA			0x40000000ULL	/* 2 MiB aligned */
#define BIG_SLOT		12
#define IOVA(n)			(0x100000ULL + 0x1000ULL * (n))
#define IOVA_2M			0x400000ULL
#define RW			(VTD_SLPTE_R | VTD_SLPTE_W)
#define FRESH_GPA		0x80000000ULL	/* memory nobody touched */
#define FRESH_SLOT		13
#define MSI_IOVA		0xfee00000ULL	/* the host's MSI window */

static struct dma_args {
	uint64_t buf_gpa[NR_BUFS];
	uint64_t buf_gva[NR_BUFS];
	struct guest_iommu_mem mem;
	uint32_t many_pdes;	/* guest_many_leaves(): PD entries aliased */
	uint32_t mode;		/* 0 tour, 1 memlock, 3 hostile,
				 * 4 storm, 5 TE toggled during DMA, 6 map,
				 * 7 aliased tables and an invalidation storm,
				 * 8 many leaves, 9 an endless storm,
				 * 10 read-only fresh memory, 11 MSI window,
				 * 12 tables set up before, 13 MAMV at the
				 * top, 15 a superpage split
				 */
} args;

static struct guest_vtd gv;
static struct guest_iq gq;
static uint64_t slpt;

static uint8_t *gbuf(int i)
{
	return (uint8_t *)args.buf_gva[i];
}

/* The driver's invalidation after changing a mapping, then a wait. */
static void guest_flush(uint64_t lo, uint64_t hi)
{
	guest_iq_sync(&gq, lo, hi, (uint32_t *)args.mem.status_gva,
		      args.mem.status_gpa);
}

static void guest_flush_page(uint64_t iova)
{
	guest_flush(DESC_IOTLB_PSI(EDU_DID), iova);
}

static bool buf_is(uint8_t *p, uint8_t val, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* Pattern into edu's buffer, through IOVA(0), which maps buffer 0. */
static void edu_load_pattern(uint8_t val)
{
	memset(gbuf(0), val, 4096);
	edu_dma(IOVA(0), EDU_DMA_BUF, false);
}

/* The driver: tables, root, queue, contexts, translation on. */
static void guest_iommu_on(void)
{
	slpt = guest_iommu_enable(&gv, &gq, &args.mem, EDU_SID & 0xff,
				  EDU_DID);
}

/*
 * Three pages mapped with room for two pinned: the third fails closed
 * (unmapped, a fault recorded), and freeing one makes room again.
 */
static void guest_memlock(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		gvtd_map(&gv, slpt, IOVA(i), args.buf_gpa[i], 1, RW);
		guest_flush_page(IOVA(i));
	}
	GUEST_SYNC(11);
	edu_load_pattern(0x77);
	edu_dma(EDU_DMA_BUF, IOVA(2), true);
	GUEST_ASSERT(buf_is(gbuf(2), 0, 4096));
	GUEST_SYNC(12);
	gvtd_unmap(&gv, slpt, IOVA(1), 1);
	guest_flush_page(IOVA(1));
	guest_flush_page(IOVA(2));
	edu_dma(EDU_DMA_BUF, IOVA(2), true);
	GUEST_ASSERT(buf_is(gbuf(2), 0x77, EDU_DMA_LEN));
	GUEST_DONE();
}

#define TE_TOGGLES	8

/*
 * Translation switched while a DMA is in flight: edu starts a transfer
 * from a timer, well after the command, so the guest's GCMD write (and
 * GSTS.TES acknowledging it) lands in between.  Off with the transfer
 * pending: it must not land, the host domain is already empty.  On with
 * the transfer pending (after the driver's global invalidation): it
 * lands.  Each way TE_TOGGLES times.
 */
static void guest_te_toggle(void)
{
	int i;

	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	for (i = 0; i < TE_TOGGLES; i++) {
		edu_load_pattern(0x10 + i);
		memset(gbuf(1), 0, 4096);
		edu_dma_start(EDU_DMA_BUF, IOVA(1), true);
		GUEST_ASSERT(edu_r32(EDU_DMA_CMD) & EDU_DMA_CMD_START);
		guest_gcmd(0, VTD_GCMD_TE);
		guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, 0);
		edu_dma_wait();
		GUEST_ASSERT_1(buf_is(gbuf(1), 0, 4096), i);

		edu_dma_start(EDU_DMA_BUF, IOVA(1), true);
		guest_gcmd(VTD_GCMD_TE, 0);
		guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, VTD_GSTS_TES);
		guest_flush(DESC_IOTLB_GLOBAL, 0);
		edu_dma_wait();
		GUEST_ASSERT_1(buf_is(gbuf(1), 0x10 + i, EDU_DMA_LEN), i);
	}
	GUEST_DONE();
}

#define STORM_ROUNDS	2
#define STORM_IOVA	BIT_ULL(30)	/* PDPT entry 1 */
#define AM_1G		18		/* the unit's CAP.MAMV */
#define LIVE_IOVA	0x0fe00000ULL	/* PD entry 127: below edu's 28 bits */
#define ALIASED_PDES	125		/* PD entries 2-126 */

/* The PDPT that IOVA 0-512G goes through (PML4 entry 0). */
static uint64_t *guest_pdpt(void)
{
	return gvtd_va(&gv, *gvtd_entry(&gv, slpt, IOVA(0), 4) &
		       VTD_SLPTE_ADDR);
}

/*
 * Storm rounds of a global, a domain and a 1 GiB (AM 18) invalidation at
 * @iova, all in one doorbell, then one wait, polled @loops times.
 */
static void guest_invalidation_storm(uint64_t iova, uint64_t loops)
{
	uint32_t *status = (uint32_t *)args.mem.status_gva;
	uint32_t seq = READ_ONCE(*status) + 1;
	int i;

	for (i = 0; i < STORM_ROUNDS; i++) {
		guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
		guest_iq_push(&gq, DESC_IOTLB_DOMAIN(EDU_DID), 0);
		guest_iq_push(&gq, DESC_IOTLB_PSI(EDU_DID), iova | AM_1G);
	}
	guest_iq_push_wait(&gq, args.mem.status_gpa, seq, 0);
	guest_iq_kick(&gq);
	guest_poll_mem32_loops(status, seq, loops);
}

/*
 * A walk much longer than a queue run (the test sets a small run budget):
 * PD entries 2-126 all point at one empty PT, 125 * 512 entries between
 * the mappings at IOVA(0)/IOVA(1) and the one at LIVE_IOVA, which the walk
 * reaches last.  Storm rounds over it; every walk goes on where the last
 * run stopped, so the mapping beyond the cut stays, and the device keeps
 * working through all three.
 */
static void guest_alias_storm(void)
{
	uint64_t pt = gvtd_alloc(&gv), *e;
	int i;

	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
	gvtd_map(&gv, slpt, LIVE_IOVA, args.buf_gpa[2], 1, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	e = gvtd_va(&gv, *gvtd_entry(&gv, slpt, IOVA(0), 3) & VTD_SLPTE_ADDR);
	for (i = 2; i < 2 + ALIASED_PDES; i++)
		WRITE_ONCE(e[i], pt | RW);
	GUEST_SYNC(1);

	guest_invalidation_storm(0, GUEST_POLL_LOOPS << 4);
	GUEST_SYNC(2);

	edu_load_pattern(0x3c);
	edu_dma(EDU_DMA_BUF, LIVE_IOVA, true);
	GUEST_ASSERT(buf_is(gbuf(2), 0x3c, EDU_DMA_LEN));
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0x3c, EDU_DMA_LEN));
	GUEST_DONE();
}

/*
 * A storm without end: PDPT entries 1-511 all point at one PD, whose 512
 * entries all point at one empty PT, so every domain-wide walk reads
 * 511 * 512^2 entries (below 2^39: L1's intel-iommu maps 39 bits).  The
 * guest waits for ever; the test kills its VMM.
 */
static void guest_endless_storm(void)
{
	uint64_t pt = gvtd_alloc(&gv), pd = gvtd_alloc(&gv), *e;
	int i;

	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	e = gvtd_va(&gv, pd);
	for (i = 0; i < 512; i++)
		e[i] = pt | RW;
	e = guest_pdpt();
	for (i = 1; i < 512; i++)
		WRITE_ONCE(e[i], pd | RW);
	GUEST_SYNC(1);
	for (;;)
		guest_invalidation_storm(STORM_IOVA, GUEST_POLL_LOOPS);
}

#define MANY_PDES	2
#define MANY_LEAVES	(MANY_PDES * 512)

/*
 * 512 * args.many_pdes 4 KiB leaves, all at buffer 0 (one full PT that
 * many PD entries share), made known by one 1 GiB invalidation; then gone.
 */
static void guest_many_leaves(void)
{
	uint64_t pt = gvtd_alloc(&gv), pd = gvtd_alloc(&gv), *e;
	int i;

	e = gvtd_va(&gv, pt);
	for (i = 0; i < 512; i++)
		e[i] = args.buf_gpa[0] | RW;
	e = gvtd_va(&gv, pd);
	for (i = 0; i < args.many_pdes; i++)
		e[i] = pt | RW;
	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	e = guest_pdpt();
	WRITE_ONCE(e[1], pd | RW);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), STORM_IOVA | AM_1G);
	GUEST_SYNC(1);
	WRITE_ONCE(e[1], 0);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), STORM_IOVA | AM_1G);
	GUEST_DONE();
}

/*
 * A read-only mapping of memory nobody has touched yet: the device reads
 * what the guest writes there afterwards (the unit must pin the page the
 * guest's write will land in, not the shared zero page).
 */
static void guest_read_only_fresh(void)
{
	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(3), FRESH_GPA, 1, VTD_SLPTE_R);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	memset((void *)FRESH_GPA, 0x6b, 4096);
	memset(gbuf(0), 0, 4096);
	edu_dma(IOVA(3), EDU_DMA_BUF, false);
	edu_dma(EDU_DMA_BUF, IOVA(0), true);
	GUEST_ASSERT(buf_is(gbuf(0), 0x6b, EDU_DMA_LEN));
	GUEST_DONE();
}

/* An IOVA in the host's MSI window, one beside it. */
static void guest_msi_window(void)
{
	gvtd_map(&gv, slpt, MSI_IOVA, args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, MSI_IOVA - 4096, args.buf_gpa[1], 1, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	GUEST_DONE();
}

/*
 * Tables made before the unit sees them, never invalidated: the device is
 * attached after the guest set up its tables and turned translation on
 * (1); translation goes off, a mapping is added, and it goes on again
 * (2); the context entry moves to new tables, with only a context-cache
 * invalidation (3).  Each time the device's whole context is shadowed.
 */
static void guest_tables_before(void)
{
	uint64_t slpt2;

	gv.pool_gpa = args.mem.pool_gpa;
	gv.pool_gva = args.mem.pool_gva;
	gv.pool_nr = args.mem.pool_nr;
	gvtd_init(&gv);
	slpt = gvtd_alloc(&gv);
	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
	gvtd_set_context(&gv, EDU_SID & 0xff, EDU_DID, slpt);
	guest_set_root(gv.root_gpa);
	gq.gpa = args.mem.queue_gpa;
	gq.va = (struct vtd_inv_desc *)args.mem.queue_gva;
	gq.qs = 0;
	guest_qi_enable(&gq);
	guest_flush(DESC_CC_GLOBAL, 0);
	guest_gcmd(VTD_GCMD_TE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, VTD_GSTS_TES);
	GUEST_SYNC(1);

	edu_load_pattern(0x11);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0x11, EDU_DMA_LEN));

	guest_gcmd(0, VTD_GCMD_TE);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, 0);
	gvtd_map(&gv, slpt, IOVA(2), args.buf_gpa[2], 1, RW);
	guest_gcmd(VTD_GCMD_TE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, VTD_GSTS_TES);
	edu_load_pattern(0x22);
	edu_dma(EDU_DMA_BUF, IOVA(2), true);
	GUEST_ASSERT(buf_is(gbuf(2), 0x22, EDU_DMA_LEN));

	slpt2 = gvtd_alloc(&gv);
	gvtd_map(&gv, slpt2, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt2, IOVA(1), args.buf_gpa[3], 1, RW);
	gvtd_set_context(&gv, EDU_SID & 0xff, EDU_DID + 1, slpt2);
	guest_flush(DESC_CC_GLOBAL, 0);
	edu_load_pattern(0x33);
	memset(gbuf(1), 0, 4096);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(3), 0x33, EDU_DMA_LEN));
	GUEST_ASSERT(buf_is(gbuf(1), 0, 4096));
	GUEST_DONE();
}

/*
 * A page-selective invalidation of the largest region the unit allows
 * (CAP.MAMV, whatever the VMM asked for), from IOVA 0: it covers every
 * IOVA the guest can use, so the unmapped page is gone from the host.
 */
static void guest_mamv_top(void)
{
	uint32_t mamv = vtd_field(gr64(VTD_CAP_REG), VTD_CAP_MAMV);

	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	edu_load_pattern(0x44);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0x44, EDU_DMA_LEN));
	gvtd_unmap(&gv, slpt, IOVA(1), 1);
	guest_flush(DESC_IOTLB_PSI(EDU_DID), mamv);
	memset(gbuf(1), 0, 4096);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0, 4096));
	GUEST_DONE();
}

/*
 * A 2 MiB leaf split into a table of the same 4 KiB translations, as a
 * driver does before unmapping part of it, with one 4 KiB invalidation:
 * the rest of the 2 MiB still translates (hardware drops the cached 2 MiB
 * entry, and walks the new table on the next access).
 */
static void guest_superpage_split(void)
{
	uint8_t *big = (uint8_t *)BIG_GPA;
	uint64_t pt = gvtd_alloc(&gv), *e;
	int i;

	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA_2M, BIG_GPA, 2, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	e = gvtd_va(&gv, pt);
	for (i = 0; i < 512; i++)
		e[i] = (BIG_GPA + 4096ULL * i) | RW;
	WRITE_ONCE(*gvtd_entry(&gv, slpt, IOVA_2M, 2), pt | RW);
	guest_flush_page(IOVA_2M);
	edu_load_pattern(0x55);
	edu_dma(EDU_DMA_BUF, IOVA_2M + 0x155000, true);
	GUEST_ASSERT(buf_is(big + 0x155000, 0x55, EDU_DMA_LEN));
	GUEST_DONE();
}

static void guest_code(void)
{
	uint8_t *big = (uint8_t *)BIG_GPA;

	if (args.mode == 12)
		guest_tables_before();
	guest_iommu_on();
	if (args.mode == 10)
		guest_read_only_fresh();
	if (args.mode == 11)
		guest_msi_window();
	if (args.mode == 13)
		guest_mamv_top();
	if (args.mode == 15)
		guest_superpage_split();

	if (args.mode == 1)
		guest_memlock();
	if (args.mode == 5)
		guest_te_toggle();
	if (args.mode == 7)
		guest_alias_storm();
	if (args.mode == 8)
		guest_many_leaves();
	if (args.mode == 9)
		guest_endless_storm();
	if (args.mode == 6) {
		gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
		gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
		guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
		GUEST_DONE();
	}
	if (args.mode == 4) {
		/* Map, DMA, unmap, forever: until the VMM is killed. */
		for (;;) {
			gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
			guest_flush_page(IOVA(0));
			edu_dma(IOVA(0), EDU_DMA_BUF, false);
			gvtd_unmap(&gv, slpt, IOVA(0), 1);
			guest_flush_page(IOVA(0));
		}
	}
	if (args.mode == 3) {
		uint64_t *e;

		/* IOVAs at what is not guest RAM: all must fail closed. */
		gvtd_map(&gv, slpt, IOVA(5), VIOMMU_REG_GPA, 1, RW);
		gvtd_map(&gv, slpt, IOVA(6), EDU_BAR0_GPA, 1, RW);
		gvtd_map(&gv, slpt, IOVA(7), 0x7fff000000ULL, 1, RW);
		guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
		/*
		 * A loop: IOVA 0-2M's PD entry points back at the PDPT, which
		 * the walk then reads as a leaf table.  As in hardware, its
		 * present entry (to the PD) becomes a 4 KiB leaf at IOVA 0:
		 * guest RAM, the guest's own table.  Bounded by the levels.
		 */
		e = gvtd_entry(&gv, slpt, IOVA(8), 2);
		WRITE_ONCE(*e, (READ_ONCE(*gvtd_entry(&gv, slpt, IOVA(8), 3)) &
				VTD_SLPTE_ADDR) | RW);
		guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
		/* The device still works through a good mapping. */
		gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
		gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
		guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
		edu_load_pattern(0x5a);
		edu_dma(EDU_DMA_BUF, IOVA(1), true);
		GUEST_ASSERT(buf_is(gbuf(1), 0x5a, EDU_DMA_LEN));
		GUEST_DONE();
	}

	/* 1. Map two pages read/write: the data goes round edu. */
	gvtd_map(&gv, slpt, IOVA(0), args.buf_gpa[0], 1, RW);
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[1], 1, RW);
	guest_flush_page(IOVA(0));
	guest_flush_page(IOVA(1));
	edu_load_pattern(0xa5);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0xa5, EDU_DMA_LEN));
	GUEST_ASSERT(buf_is(gbuf(1) + EDU_DMA_LEN, 0, 4096 - EDU_DMA_LEN));
	GUEST_SYNC(1);

	/* 2. Read-only: the device's write is refused. */
	gvtd_map(&gv, slpt, IOVA(2), args.buf_gpa[2], 1, VTD_SLPTE_R);
	guest_flush_page(IOVA(2));
	edu_dma(EDU_DMA_BUF, IOVA(2), true);
	GUEST_ASSERT(buf_is(gbuf(2), 0, 4096));
	GUEST_SYNC(2);

	/* 3. Unmapped and invalidated: blocked. */
	memset(gbuf(1), 0, 4096);
	gvtd_unmap(&gv, slpt, IOVA(1), 1);
	guest_flush_page(IOVA(1));
	edu_load_pattern(0x3c);
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(1), 0, 4096));
	GUEST_SYNC(3);

	/* 4. Remapped elsewhere: the data follows the new mapping. */
	gvtd_map(&gv, slpt, IOVA(1), args.buf_gpa[3], 1, RW);
	guest_flush_page(IOVA(1));
	edu_dma(EDU_DMA_BUF, IOVA(1), true);
	GUEST_ASSERT(buf_is(gbuf(3), 0x3c, EDU_DMA_LEN));
	GUEST_ASSERT(buf_is(gbuf(1), 0, 4096));
	GUEST_SYNC(4);

	/* 5. A 2 MiB leaf: a DMA into its middle lands in the middle. */
	gvtd_map(&gv, slpt, IOVA_2M, BIG_GPA, 2, RW);
	guest_flush(DESC_IOTLB_DOMAIN(EDU_DID), 0);
	edu_dma(EDU_DMA_BUF, IOVA_2M + 0x155000, true);
	GUEST_ASSERT(buf_is(big + 0x155000, 0x3c, EDU_DMA_LEN));
	GUEST_ASSERT(buf_is(big + 0x154000, 0, 4096));
	GUEST_SYNC(5);

	/*
	 * 6. Translation off: DMA is untranslated, IOVA = GPA, as on
	 * hardware; IOVA(1) no longer leads to buffer 3.
	 */
	guest_gcmd(0, VTD_GCMD_TE);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, 0);
	memset(gbuf(3), 0, 4096);
	memset(gbuf(4), 0, 4096);
	edu_dma(EDU_DMA_BUF, args.buf_gpa[4], true);
	GUEST_ASSERT(buf_is(gbuf(4), 0x3c, EDU_DMA_LEN));
	GUEST_ASSERT(buf_is(gbuf(3), 0, 4096));
	GUEST_SYNC(6);

	/* 7. On again, mappings left in place for the teardown test. */
	guest_gcmd(VTD_GCMD_TE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, VTD_GSTS_TES);
	guest_flush(DESC_IOTLB_GLOBAL, 0);
	GUEST_DONE();
}

/* The VMM's locked memory (VmLck), in kB. */
static long vm_locked_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

FIXTURE(dma) {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct viommu_vmm v;
	struct viommu_vfio f;
	void *big;
};

FIXTURE_SETUP(dma)
{
	const char *why = NULL;
	vm_vaddr_t gva;
	int i;

	ASSERT_EQ(0, viommu_mount_debugfs());
	self->vm = vm_create_with_one_vcpu(&self->vcpu, guest_code);
	if (viommu_vfio_open(&self->f, self->vm, &why))
		SKIP(return, "%s", why);

	for (i = 0; i < NR_BUFS; i++) {
		gva = vm_vaddr_alloc_page(self->vm);
		args.buf_gva[i] = gva;
		args.buf_gpa[i] = addr_gva2gpa(self->vm, gva);
	}
	viommu_guest_iommu_mem(self->vm, &args.mem, 32);
	sync_global_to_guest(self->vm, args);

	/* 2 MiB of guest memory at a 2 MiB-aligned GPA, for superpages. */
	vm_userspace_mem_region_add(self->vm, VM_MEM_SRC_ANONYMOUS, BIG_GPA,
				    BIG_SLOT, 512, 0);
	virt_map(self->vm, BIG_GPA, BIG_GPA, 512);
	self->big = addr_gpa2hva(self->vm, BIG_GPA);
}

/*
 * The test's unit, created once the guest's memory is in place (so that a
 * translation-off identity map covers all of it), with @flags
 * (KVM_VIOMMU_CREATE_*).
 */
static void unit_for(struct __test_metadata *_metadata, struct viommu_vmm *v,
		     struct kvm_vm *vm, struct viommu_vfio *f, uint32_t flags)
{
	viommu_vmm_create_flags = flags;
	ASSERT_EQ(0, viommu_vmm_init(v, vm, viommu_vfio_cap(f), 0));
}

FIXTURE_TEARDOWN(dma)
{
	viommu_vmm_create_flags = 0;
	viommu_restore_params();
	viommu_vfio_close(&self->f);
	if (self->vm) {
		if (self->v.vm)
			viommu_vmm_fini(&self->v);
		kvm_vm_free(self->vm);
	}
	EXPECT_EQ(0, viommu_count_units());
}

/* Run the guest to its next GUEST_SYNC(@want), or to GUEST_DONE if 0. */
static void run_stage(struct __test_metadata *_metadata,
		      struct viommu_vmm *v, struct kvm_vcpu *vcpu,
		      uint64_t want)
{
	struct ucall uc;

	switch (viommu_vcpu_run(v, vcpu, &uc)) {
	case UCALL_SYNC:
		ASSERT_EQ(want, uc.args[1]);
		return;
	case UCALL_DONE:
		ASSERT_EQ(0, want);
		return;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT_2(uc, "values: %#lx, %#lx");
		break;
	default:
		ASSERT_TRUE(0);
	}
}

TEST_F_TIMEOUT(dma, edu_dma_follows_guest_tables, 300)
{
	uint64_t ram = viommu_guest_ram_pages(self->vm);
	struct kvm_viommu_stats st, st0;
	long locked_before = vm_locked_kb();

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	EXPECT_EQ(-EEXIST, viommu_vfio_attach(&self->f, self->v.unit_fd,
					      EDU_SID));
	/* Translation is off until the guest's driver turns it on. */
	viommu_vmm_stats(&self->v, &st0);
	EXPECT_EQ(ram, st0.pinned_pages);
	EXPECT_EQ(locked_before + 4 * (long)ram, vm_locked_kb());

	run_stage(_metadata, &self->v, self->vcpu, 1);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(1, st.devices);
	EXPECT_EQ(st0.maps + 2, st.maps);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(locked_before + 8, vm_locked_kb());

	run_stage(_metadata, &self->v, self->vcpu, 2);
	run_stage(_metadata, &self->v, self->vcpu, 3);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(st0.unmaps + st0.maps + 1, st.unmaps);
	EXPECT_EQ(2, st.pinned_pages);

	run_stage(_metadata, &self->v, self->vcpu, 4);
	run_stage(_metadata, &self->v, self->vcpu, 5);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(3 + 512, st.pinned_pages);

	/* Off again: all of guest RAM, and nothing of the tables. */
	run_stage(_metadata, &self->v, self->vcpu, 6);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(ram, st.pinned_pages);
	EXPECT_EQ(locked_before + 4 * (long)ram, vm_locked_kb());

	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(3 + 512, st.pinned_pages);
	EXPECT_EQ(0, st.walk_faults);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(0, st.unmap_mismatches);
	EXPECT_EQ(0, self->v.mmio_reads);
	EXPECT_EQ(0, self->v.iqt_relays);

	/*
	 * 8. The VM and the unit go with mappings in place: every pinned
	 * page comes back.
	 */
	viommu_vfio_close(&self->f);
	memset(&self->f, 0, sizeof(self->f));
	self->f.container = -1;
	self->f.group = -1;
	self->f.device = -1;
	EXPECT_LT(locked_before, vm_locked_kb());
	viommu_vmm_fini(&self->v);
	kvm_vm_free(self->vm);
	self->vm = NULL;
	EXPECT_EQ(locked_before, vm_locked_kb());
	EXPECT_EQ(0, viommu_count_units());
}

/*
 * guest_memlock() to its first stop, with room for two pages: two mapped,
 * the third refused (a pin failure, a primary fault recorded).
 */
static void run_to_third_page_refused(struct __test_metadata *_metadata,
				      struct kvm_vm *vm, struct kvm_vcpu *vcpu,
				      struct viommu_vmm *v)
{
	struct kvm_viommu_stats st, st0;

	/* Maps so far: guest RAM, while translation is off. */
	viommu_vmm_stats(v, &st0);
	args.mode = 1;
	sync_global_to_guest(vm, args);
	run_stage(_metadata, v, vcpu, 11);
	viommu_vmm_stats(v, &st);
	EXPECT_EQ(st0.maps + 2, st.maps);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(1, st.pin_failures);
	EXPECT_EQ(1, st.faults);
	EXPECT_TRUE(viommu_reg32(v, VTD_FSTS_REG) & VTD_FSTS_PPF);
}

/* Drop CAP_IPC_LOCK: RLIMIT_MEMLOCK applies to us from now on. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[0].effective &= ~(1U << CAP_IPC_LOCK);
	data[0].permitted &= ~(1U << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/*
 * Pinning is charged to locked_vm against RLIMIT_MEMLOCK: past it the
 * guest's mapping fails closed, is counted and recorded as a fault, and
 * nothing leaks.
 */
TEST_F_TIMEOUT(dma, memlock_limit_fails_closed, 120)
{
	long locked_before = vm_locked_kb();
	struct kvm_viommu_stats st;
	struct rlimit rl;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	ASSERT_LE(0, locked_before);
	/*
	 * Attached first: with translation off (until the guest's driver
	 * turns it on) all of guest RAM is pinned, as for a VM without a
	 * vIOMMU, which the limit below would refuse.
	 */
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	rl.rlim_cur = (locked_before + 8) * 1024;
	rl.rlim_max = rl.rlim_cur;
	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	run_to_third_page_refused(_metadata, self->vm, self->vcpu, &self->v);
	EXPECT_EQ(locked_before + 8, vm_locked_kb());
	run_stage(_metadata, &self->v, self->vcpu, 12);

	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(locked_before + 8, vm_locked_kb());
	EXPECT_EQ(0, viommu_vfio_detach(self->v.unit_fd, EDU_SID));
	EXPECT_EQ(locked_before, vm_locked_kb());
}

/*
 * No one but the unit maps into its domain: the device's container is of
 * the module's own backend, which refuses the VMM's VFIO_IOMMU_MAP_DMA and
 * _UNMAP_DMA (with type1 in its place, a VMM could unmap a range over a
 * unit's superpage and have type1 unpin the unit's pages).  The guest's
 * mappings work all the same.
 */
TEST_F_TIMEOUT(dma, vmm_cannot_map_or_unmap_in_a_units_domain, SCALED(120))
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA(4),
		.size = 4096,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA(0),
		.size = 4096,
	};
	struct kvm_viommu_stats st;
	void *page;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	map.vaddr = (uintptr_t)page;
	EXPECT_EQ(-1, ioctl(self->f.container, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EPERM, errno);
	args.mode = 6;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	EXPECT_EQ(-1, ioctl(self->f.container, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(self->f.container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(EPERM, errno);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(0, st.unmap_mismatches);
	munmap(page, 4096);
}

/*
 * The same three pages with room for two leaves (max_shadow_leaves, which
 * bounds what RLIMIT_MEMLOCK does not when the VMM has CAP_IPC_LOCK, as
 * this test does): the third fails closed, freeing one makes room.
 */
TEST_F_TIMEOUT(dma, shadow_leaf_limit_fails_closed, 120)
{
	struct kvm_viommu_stats st, st0;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st0);
	ASSERT_EQ(0, viommu_set_param("max_shadow_leaves", "2"));
	run_to_third_page_refused(_metadata, self->vm, self->vcpu, &self->v);
	run_stage(_metadata, &self->v, self->vcpu, 12);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(st0.maps + 3, st.maps);
	EXPECT_EQ(2, st.pinned_pages);
}

/*
 * A guest pointing IOVAs at its vIOMMU's register page, at edu's BAR, and
 * outside its memory, and building a table that points at itself: no
 * such mapping reaches the host domain, nothing is pinned for them,
 * nothing splats in L1, and the device still works for the rest.
 */
TEST_F_TIMEOUT(dma, hostile_mappings_fail_closed, 120)
{
	struct kvm_viommu_stats st;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	args.mode = 3;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	/* Buffers 0 and 1, and the PD page the loop maps at IOVA 0. */
	EXPECT_EQ(3, st.pinned_pages);
	/* Register page, BAR, beyond memory: none pinned, each recorded. */
	EXPECT_EQ(3, st.pin_failures);
	EXPECT_EQ(3, st.faults);
	EXPECT_EQ(0, st.walk_faults);
}

/*
 * Translation switched off and on while edu's DMA is in flight: off, the
 * transfer is blocked and nothing stays pinned; on again, it lands.
 */
TEST_F_TIMEOUT(dma, translation_toggled_during_dma, 120)
{
	struct kvm_viommu_stats st;
	long locked_before = vm_locked_kb();

	unit_for(_metadata, &self->v, self->vm, &self->f,
		 KVM_VIOMMU_CREATE_TE_OFF_BLOCKS);

	args.mode = 5;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	/* Mapped again after each TE off: both pages, every round. */
	EXPECT_EQ(2 * (1 + TE_TOGGLES), st.maps);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(0, st.walk_faults);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(0, self->v.iqt_relays);
	EXPECT_EQ(locked_before + 8, vm_locked_kb());
}

/*
 * Walks far longer than a queue run (guest_alias_storm(), with a run
 * budget of 4096): each stops at the run's budget and goes on from there
 * in the next run, before any later descriptor.  So the mapping beyond
 * where a run stopped stays (the device still reaches it afterwards),
 * nothing is unmapped, remapped or faulted, and the guest's one wait
 * completes after all of them.
 */
TEST_F_TIMEOUT(dma, walks_beyond_a_run_resume_where_they_stopped, 600)
{
	struct kvm_viommu_stats st, before;
	long long runs0, runs1;
	struct timespec t0, t1;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	ASSERT_EQ(0, viommu_set_param("run_budget", "4096"));
	args.mode = 7;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 1);
	viommu_vmm_stats(&self->v, &before);
	runs0 = viommu_unit_info("iq_runs_worker") +
		viommu_unit_info("iq_runs_vcpu");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_stage(_metadata, &self->v, self->vcpu, 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	runs1 = viommu_unit_info("iq_runs_worker") +
		viommu_unit_info("iq_runs_vcpu");
	viommu_vmm_stats(&self->v, &st);
	TH_LOG("%d walks of %d entries each: %llu parts, %lld queue runs, %ld ms",
	       3 * STORM_ROUNDS, ALIASED_PDES * 512,
	       st.walks - before.walks, runs1 - runs0,
	       (t1.tv_sec - t0.tv_sec) * 1000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000);
	/* Each walk needs 16 runs of 4096 entries at least. */
	EXPECT_LE(3 * STORM_ROUNDS * 15, st.walk_yields - before.walk_yields);
	EXPECT_LE(3 * STORM_ROUNDS * 15, runs1 - runs0);
	EXPECT_EQ(0, st.walk_faults - before.walk_faults);
	EXPECT_EQ(before.maps, st.maps);
	EXPECT_EQ(before.unmaps, st.unmaps);
	EXPECT_EQ(3, st.pinned_pages);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(0, st.iq_errors);
	EXPECT_EQ(1, st.waits - before.waits);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	EXPECT_EQ(0, self->v.iqt_relays);
}

/*
 * A VMM killed while its guest's invalidations walk without end (2^28
 * entries per walk), with a run budget far larger than usual (2^26, some
 * seconds of walking per run in the testbed): its unit's worker stops at
 * the next table, whatever budget is left, and the unit lets go of edu
 * within moments, so that edu can be attached elsewhere.  (The worker
 * may hold the last user of the VMM's mm when the process dies; the mm's
 * teardown then closes the unit's register page mapping, and so its
 * file, from the worker, just after the process is reaped: the test
 * waits for the unit to be gone.)
 */
TEST_F_TIMEOUT(dma, vmm_killed_mid_storm_lets_go_at_once, 120)
{
	struct kvm_viommu_stats st;
	struct timespec t0, t1;
	int status, fds[2];
	long ms;
	pid_t pid;
	char c;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	ASSERT_EQ(0, viommu_set_param("run_budget", "67108864"));
	args.mode = 9;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct kvm_vcpu *vcpu;
		struct viommu_vmm v;
		struct kvm_vm *vm;
		struct ucall uc;

		vm = vm_create_with_one_vcpu(&vcpu, guest_code);
		if (viommu_vmm_init(&v, vm, viommu_vfio_cap(&self->f), 0) ||
		    viommu_vfio_attach(&self->f, v.unit_fd, EDU_SID))
			_exit(1);
		viommu_vfio_map_bar(&self->f, vm);
		args.buf_gpa[0] = addr_gva2gpa(vm, vm_vaddr_alloc_page(vm));
		viommu_guest_iommu_mem(vm, &args.mem, 32);
		sync_global_to_guest(vm, args);
		if (viommu_vcpu_run(&v, vcpu, &uc) != UCALL_SYNC ||
		    write(fds[1], "s", 1) != 1)
			_exit(2);
		viommu_vcpu_run(&v, vcpu, &uc);
		_exit(3);
	}
	close(fds[1]);
	ASSERT_EQ(1, read(fds[0], &c, 1));
	/* Well into the first walk's 2^28 entries. */
	sleep(2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	do {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	} while (viommu_count_units() > 1 && ms < SCALED(5000) &&
		 !usleep(1000));
	EXPECT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	TH_LOG("killed, and its unit gone, in %ld ms", ms);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_GT(SCALED(5000), ms);
	EXPECT_EQ(1, viommu_count_units());
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(1, st.devices);
	close(fds[0]);
}

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define TEST_CGROUP	CGROUP_ROOT "/kvm_viommu_test"

/* Our process in a fresh memory cgroup; NULL, or why not. */
static const char *memcg_enter(void)
{
	char buf[256];

	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return "cgroup2 cannot be mounted";
	if (viommu_read_file(CGROUP_ROOT "/cgroup.controllers", buf,
			     sizeof(buf)) < 0)
		return "no cgroup.controllers";
	if (!strstr(buf, "memory"))
		return "L1's kernel has no memory cgroup controller";
	if (viommu_write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	rmdir(TEST_CGROUP);
	if (mkdir(TEST_CGROUP, 0755) ||
	    viommu_write_file(TEST_CGROUP "/cgroup.procs", "0"))
		return "cannot enter a new cgroup";
	return NULL;
}

static void memcg_leave(void)
{
	viommu_write_file(CGROUP_ROOT "/cgroup.procs", "0");
	rmdir(TEST_CGROUP);
}

static long long memcg_current(void)
{
	char buf[32];
	int n = viommu_read_file(TEST_CGROUP "/memory.current", buf,
				 sizeof(buf));

	return n < 0 ? n : atoll(buf);
}

/*
 * A unit's queue worker is a thread in its VMM's cgroups (as vhost's
 * workers are), so the CPU a guest's invalidations cost is the VM's.
 */
TEST(worker_runs_in_the_owners_cgroups)
{
	char path[64], line[256] = "";
	struct viommu_vmm v;
	struct kvm_vm *vm;
	long long pid;
	const char *why;
	FILE *f;

	ASSERT_EQ(0, viommu_mount_debugfs());
	why = memcg_enter();
	if (why)
		SKIP(return, "%s", why);
	vm = vm_create_barebones();
	ASSERT_EQ(0, viommu_vmm_init_bare(&v, vm, 0));
	pid = viommu_unit_info("worker_pid");
	ASSERT_LT(0, pid);
	snprintf(path, sizeof(path), "/proc/%lld/cgroup", pid);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	TH_LOG("worker %lld: %s", pid, line);
	EXPECT_EQ(0, strcmp(line, "0::/kvm_viommu_test\n"));
	close(v.unit_fd);
	close(v.dev_fd);
	kvm_vm_free(vm);
	memcg_leave();
}

/*
 * The shadow's kernel memory is the VM's: the queue worker, not the VMM,
 * allocates it, but charges it to the memory cgroup of the VM's process.
 * MANY_LEAVES leaves cost at least a 64-byte entry each there.
 */
TEST_F_TIMEOUT(dma, shadow_memory_charged_to_the_vm_memcg, 120)
{
	struct kvm_viommu_stats st, st0;
	long long cur0, cur1;
	const char *why;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	why = memcg_enter();
	if (why)
		SKIP(return, "%s", why);
	args.mode = 8;
	args.many_pdes = MANY_PDES;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st0);
	cur0 = memcg_current();
	run_stage(_metadata, &self->v, self->vcpu, 1);
	cur1 = memcg_current();
	viommu_vmm_stats(&self->v, &st);
	TH_LOG("%d leaves: the VM's cgroup grew by %lld KiB", MANY_LEAVES,
	       (cur1 - cur0) / 1024);
	EXPECT_EQ(st0.maps + MANY_LEAVES, st.maps);
	EXPECT_EQ(MANY_LEAVES, st.leaves);
	EXPECT_EQ(1, st.pinned_pages);
	EXPECT_LE(0, cur0);
	EXPECT_LE(MANY_LEAVES * 64LL, cur1 - cur0);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(0, st.pinned_pages);
	memcg_leave();
}

/*
 * A 2 MiB leaf becomes a table of 4 KiB leaves, with an invalidation of
 * one of them (guest_superpage_split()): the shadow drops the 2 MiB leaf
 * and walks all of it again, so DMA elsewhere in it still lands.
 */
TEST_F_TIMEOUT(dma, superpage_split_keeps_the_rest, SCALED(120))
{
	struct kvm_viommu_stats st;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	args.mode = 15;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(1 + 512, st.pinned_pages);
	EXPECT_EQ(1 + 512, st.leaves);
}

/*
 * A guest aliasing one page from 8192 IOVAs: every leaf maps, and the page
 * is pinned and charged once.  A long-term pin per alias would add 1024 to
 * the page's reference count each time, and overflow it after 2^21.
 */
TEST_F_TIMEOUT(dma, aliased_leaves_pin_their_page_once, SCALED(120))
{
	long locked_before = vm_locked_kb();
	struct kvm_viommu_stats st;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	args.mode = 8;
	args.many_pdes = 16;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 1);
	viommu_vmm_stats(&self->v, &st);
	TH_LOG("%llu leaves, %llu pages pinned, VmLck +%ld kB", st.leaves,
	       st.pinned_pages, vm_locked_kb() - locked_before);
	EXPECT_EQ(16 * 512, st.leaves);
	EXPECT_EQ(1, st.pinned_pages);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(locked_before + 4, vm_locked_kb());
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(0, st.leaves);
	EXPECT_EQ(0, st.pinned_pages);
	EXPECT_EQ(locked_before, vm_locked_kb());
}

/* What te_reads_on_only_once_the_identity_map_is_gone() saw. */
static struct {
	int te_writes;		/* relayed GCMD writes turning TE on */
	int te_early;		/* ... after which TES read 1, leaves left */
	uint64_t leaves;
} te_seen;

static void te_after_write(struct viommu_vmm *v, uint32_t off, uint64_t val)
{
	struct kvm_viommu_stats st;

	if (off != VTD_GCMD_REG || !(val & VTD_GCMD_TE))
		return;
	te_seen.te_writes++;
	if (!(viommu_reg32(v, VTD_GSTS_REG) & VTD_GSTS_TES))
		return;
	viommu_vmm_stats(v, &st);
	if (st.leaves) {
		te_seen.te_early++;
		te_seen.leaves = st.leaves;
	}
}

/*
 * Translation turned on by a GCMD write, with guest RAM mapped at IOVA =
 * GPA for translation off, and a queue run's budget too small to unmap
 * it at once (64, one 2 MiB chunk a run): the guest reads GSTS.TES = 1
 * only once none of it is left, so a device can no longer reach guest RAM
 * the guest's tables do not give it.  Checked right after the relayed
 * write returns (the guest reads the page next).
 */
TEST_F_TIMEOUT(dma, te_reads_on_only_once_the_identity_map_is_gone,
	       SCALED(120))
{
	struct kvm_viommu_stats st;

	/* 64 MiB more guest RAM: 32 chunks more to unmap. */
	vm_userspace_mem_region_add(self->vm, VM_MEM_SRC_ANONYMOUS,
				    FRESH_GPA, FRESH_SLOT, 16384, 0);
	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	ASSERT_EQ(0, viommu_set_param("run_budget", "64"));
	memset(&te_seen, 0, sizeof(te_seen));
	self->v.after_write = te_after_write;
	args.mode = 6;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st);
	ASSERT_LT(32, st.leaves);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	TH_LOG("%d TE writes; TES read 1 with %llu leaves left after %d",
	       te_seen.te_writes, (unsigned long long)te_seen.leaves,
	       te_seen.te_early);
	EXPECT_EQ(1, te_seen.te_writes);
	EXPECT_EQ(0, te_seen.te_early);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(2, st.leaves);
	EXPECT_EQ(2, st.pinned_pages);
}

/*
 * A VMM killed while its guest maps, DMAs and unmaps in a loop: the VFS
 * closes its fds, the unit detaches edu, unmaps and unpins, and edu can
 * be attached again right away.  (L1's log is checked by the testbed.)
 */
TEST_F_TIMEOUT(dma, vmm_killed_mid_invalidation, 120)
{
	int status, units_before;
	pid_t pid;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	units_before = viommu_count_units();
	args.mode = 4;
	sync_global_to_guest(self->vm, args);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct kvm_vcpu *vcpu;
		struct viommu_vmm v;
		struct kvm_vm *vm;
		struct ucall uc;

		/* Its own VM and unit; the VFIO fds are inherited. */
		vm = vm_create_with_one_vcpu(&vcpu, guest_code);
		if (viommu_vmm_init(&v, vm, viommu_vfio_cap(&self->f), 0) ||
		    viommu_vfio_attach(&self->f, v.unit_fd, EDU_SID))
			_exit(1);
		viommu_vfio_map_bar(&self->f, vm);
		args.buf_gpa[0] = addr_gva2gpa(vm, vm_vaddr_alloc_page(vm));
		viommu_guest_iommu_mem(vm, &args.mem, 32);
		sync_global_to_guest(vm, args);
		viommu_vcpu_run(&v, vcpu, &uc);
		_exit(2);
	}
	/* Let it get going, with pages pinned and mapped, then kill it. */
	sleep(3);
	EXPECT_EQ(units_before + 1, viommu_count_units());
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(units_before, viommu_count_units());
	EXPECT_EQ(0, viommu_count_vms(pid));
	EXPECT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
}

static int attach_raw(int unit, struct kvm_viommu_attach *at)
{
	return ioctl(unit, KVM_VIOMMU_ATTACH_DEVICE, at) ? -errno : 0;
}

/* Every way a VMM can get attach wrong, with a real VFIO device at hand. */
TEST_F(dma, attach_bad_input)
{
	struct kvm_viommu_attach good = {
		.size = sizeof(good),
		.device_fd = self->f.device,
		.sid = EDU_SID,
	};
	struct kvm_viommu_attach at;
	struct viommu_vmm v2;
	struct kvm_vm *vm2;
	int closed, efd;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	at = good;
	at.flags = 1;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	at = good;
	at.__reserved = 1;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	/*
	 * Not a VFIO device fd: the group, the container, the VM, the unit
	 * itself, an eventfd (another anonymous inode), /dev/null, closed.
	 */
	at = good;
	at.device_fd = self->f.group;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	at.device_fd = self->f.container;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	at.device_fd = self->vm->fd;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	at.device_fd = self->v.unit_fd;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	at.device_fd = efd;
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	close(efd);
	at.device_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, at.device_fd);
	EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
	close(at.device_fd);
	closed = dup(self->f.device);
	close(closed);
	at.device_fd = closed;
	EXPECT_EQ(-EBADF, attach_raw(self->v.unit_fd, &at));
	at.device_fd = -1;
	EXPECT_EQ(-EBADF, attach_raw(self->v.unit_fd, &at));
	EXPECT_EQ(-ENOENT, viommu_vfio_detach(self->v.unit_fd, EDU_SID));

	/*
	 * A device in a type1 container: its domain is open to the VMM's
	 * own map and unmap, so no unit may use it.
	 */
	if (getenv("KVM_VIOMMU_EDU2_GROUP")) {
		struct viommu_vfio t1;
		const char *why2 = NULL;

		viommu_vfio_iommu = VFIO_TYPE1v2_IOMMU;
		ASSERT_EQ(0, viommu_vfio_open_dev(&t1, NULL,
						  getenv("KVM_VIOMMU_EDU2_BDF"),
						  getenv("KVM_VIOMMU_EDU2_GROUP"),
						  &why2));
		viommu_vfio_iommu = KVM_VIOMMU_VFIO_IOMMU;
		at = good;
		at.device_fd = t1.device;
		EXPECT_EQ(-EINVAL, attach_raw(self->v.unit_fd, &at));
		viommu_vfio_close(&t1);
	} else {
		TH_LOG("no second edu: no type1 container to refuse");
	}

	/*
	 * A unit whose guest addresses are wider than the host domain maps
	 * (the default unit has 48 bits; L1's intel-iommu maps 39).
	 */
	vm2 = vm_create_barebones();
	ASSERT_EQ(0, viommu_vmm_init_bare(&v2, vm2, 0));
	if (vtd_field(v2.info.cap, VTD_CAP_MGAW) >
	    vtd_field(viommu_vfio_cap(&self->f), VTD_CAP_MGAW)) {
		EXPECT_EQ(-ERANGE, attach_raw(v2.unit_fd, &good));
	} else {
		TH_LOG("the host domain maps 48 bits: no narrower case here");
	}
	close(v2.unit_fd);
	close(v2.dev_fd);
	kvm_vm_free(vm2);

	/* Attached once: not again, not under another sid, not elsewhere. */
	ASSERT_EQ(0, attach_raw(self->v.unit_fd, &good));
	EXPECT_EQ(-EEXIST, attach_raw(self->v.unit_fd, &good));
	at = good;
	at.sid = EDU_SID + 1;
	EXPECT_EQ(-EEXIST, attach_raw(self->v.unit_fd, &at));
	vm2 = vm_create_barebones();
	ASSERT_EQ(0, viommu_vmm_init_bare(&v2, vm2, viommu_vfio_cap(&self->f)));
	EXPECT_EQ(-EEXIST, attach_raw(v2.unit_fd, &good));
	EXPECT_EQ(0, viommu_vfio_detach(self->v.unit_fd, EDU_SID));
	EXPECT_EQ(0, attach_raw(v2.unit_fd, &good));
	EXPECT_EQ(-ENOENT, viommu_vfio_detach(self->v.unit_fd, EDU_SID));
	/* Closing a unit detaches its devices. */
	close(v2.unit_fd);
	close(v2.dev_fd);
	kvm_vm_free(vm2);
	EXPECT_EQ(0, attach_raw(self->v.unit_fd, &good));
}

/*
 * Guest pages are pinned writable, as VFIO type1 pins guest RAM, whatever
 * the guest's mapping allows: a read-only pin of memory nobody touched
 * would pin the shared zero page, and the guest's first write would copy
 * away from what the device reads.  (Translation-off units pin all guest
 * RAM writable at attach anyway: this needs a blocking one.)
 */
TEST_F_TIMEOUT(dma, read_only_leaf_of_fresh_memory_reads_what_the_guest_wrote,
	       SCALED(120))
{
	unit_for(_metadata, &self->v, self->vm, &self->f,
		 KVM_VIOMMU_CREATE_TE_OFF_BLOCKS);
	vm_userspace_mem_region_add(self->vm, VM_MEM_SRC_ANONYMOUS, FRESH_GPA,
				    FRESH_SLOT, 1, 0);
	virt_map(self->vm, FRESH_GPA, FRESH_GPA, 1);
	args.mode = 10;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
}

/*
 * IOVAs the host reserves for the device (here the MSI window) are
 * refused with a fault record, as VFIO type1 refuses them to a VMM's own
 * mappings; the page beside them is mapped.
 */
TEST_F_TIMEOUT(dma, guest_iova_in_the_host_msi_window_refused, SCALED(120))
{
	struct kvm_viommu_stats st, st0;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	args.mode = 11;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st0);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(1, st.resv_faults);
	EXPECT_EQ(0, st.pin_failures);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(st0.maps + 1, st.maps);
	EXPECT_EQ(1, st.pinned_pages);
	EXPECT_TRUE(viommu_reg32(&self->v, VTD_FSTS_REG) & VTD_FSTS_PPF);
	EXPECT_EQ(MSI_IOVA, viommu_reg64(&self->v, VTD_FRCD_REG) & ~0xfffULL);
}

/*
 * The device's whole context is shadowed when the unit first sees it (at
 * attach), when translation goes on, and when its context entry changes:
 * not only what later IOTLB invalidations name (guest_tables_before()).
 */
TEST_F_TIMEOUT(dma, whole_context_shadowed_without_iotlb_invalidations,
	       SCALED(120))
{
	struct kvm_viommu_stats st;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	args.mode = 12;
	sync_global_to_guest(self->vm, args);
	run_stage(_metadata, &self->v, self->vcpu, 1);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(2, st.pinned_pages);
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(0, st.iotlb_invals);
	EXPECT_EQ(0, st.walk_faults);
	EXPECT_EQ(0, st.faults);
}

/*
 * A VMM asking for CAP.MAMV 63 gets MGAW - 12 (27 for 39 bits): a
 * page-selective invalidation of the largest region then covers every
 * IOVA.  (With MAMV 63, an AM of 52 or more made the region's size wrap
 * to 0, the invalidation did nothing, and an unmapped page stayed
 * reachable.)
 */
TEST_F_TIMEOUT(dma, largest_page_selective_invalidation_covers_everything,
	       SCALED(120))
{
	viommu_vmm_create_flags = 0;
	ASSERT_EQ(0, viommu_vmm_init(&self->v, self->vm,
				     viommu_vfio_cap(&self->f) | VTD_CAP_MAMV,
				     0));
	EXPECT_EQ(vtd_field(self->v.info.cap, VTD_CAP_MGAW) + 1 - 12,
		  vtd_field(self->v.info.cap, VTD_CAP_MAMV));
	args.mode = 13;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
}

/*
 * The domain serves the unit's device alone: a container of the module's
 * backend takes one group, so the testbed's second edu cannot join edu's
 * container (and so its domain).
 */
TEST_F_TIMEOUT(dma, a_units_container_takes_one_group, SCALED(120))
{
	const char *grp = getenv("KVM_VIOMMU_EDU2_GROUP");
	char path[64];
	int group2;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);
	if (!grp)
		SKIP(return, "no second edu in the testbed");
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	group2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group2);
	EXPECT_EQ(-1, ioctl(group2, VFIO_GROUP_SET_CONTAINER,
			    &self->f.container));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	close(group2);
}

/*
 * The unit holds the VMM's device file while attached: with the VMM's own
 * device fd and BAR mapping gone, VFIO still counts the device open and
 * refuses to take its group out of the container (which, when it could,
 * freed the very domain the unit maps into); after detach it agrees.
 */
TEST_F_TIMEOUT(dma, group_stays_in_container_while_attached, 120)
{
	long locked_before = vm_locked_kb();
	struct kvm_viommu_stats st;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	args.mode = 6;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	munmap(self->f.bar0, self->f.bar0_size);
	self->f.bar0 = NULL;
	close(self->f.device);
	self->f.device = -1;

	EXPECT_EQ(-1, ioctl(self->f.group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(EBUSY, errno);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(1, st.devices);
	EXPECT_EQ(2, st.pinned_pages);
	EXPECT_EQ(locked_before + 8, vm_locked_kb());

	EXPECT_EQ(0, viommu_vfio_detach(self->v.unit_fd, EDU_SID));
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(0, st.devices);
	EXPECT_EQ(0, st.pinned_pages);
	EXPECT_EQ(locked_before, vm_locked_kb());
	EXPECT_EQ(0, ioctl(self->f.group, VFIO_GROUP_UNSET_CONTAINER));
}

static bool edu_bound_to_vfio(const char *bdf)
{
	char path[128], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strstr(link, "/vfio-pci");
}

/*
 * edu unbound from vfio-pci while attached, with pages pinned: vfio-pci's
 * unbind waits for the VMM's device fd (as VFIO's contract says); the
 * unit detaches the device as the driver goes, before VFIO's domain does
 * (this was a kernel BUG in intel-iommu's unmap on the freed domain), so
 * every page comes back and the VMM's own detach finds nothing.  Last,
 * edu is bound again for the tests after this one.
 */
TEST_F_TIMEOUT(dma, device_unbound_while_attached, 120)
{
	const char *bdf = getenv("KVM_VIOMMU_EDU_BDF");
	long locked_before = vm_locked_kb();
	struct kvm_viommu_stats st;
	int status, i;
	pid_t pid;

	unit_for(_metadata, &self->v, self->vm, &self->f, 0);

	ASSERT_NE(NULL, bdf);
	args.mode = 6;
	sync_global_to_guest(self->vm, args);
	ASSERT_EQ(0, viommu_vfio_attach(&self->f, self->v.unit_fd, EDU_SID));
	run_stage(_metadata, &self->v, self->vcpu, 0);
	viommu_vmm_stats(&self->v, &st);
	ASSERT_EQ(2, st.pinned_pages);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* fork() copied the device fd and BAR0's mapping: not ours. */
		munmap(self->f.bar0, self->f.bar0_size);
		close(self->f.device);
		_exit(viommu_write_file("/sys/bus/pci/drivers/vfio-pci/unbind", bdf) ?
		      1 : 0);
	}
	/* The unbind waits for our device fd... */
	usleep(500 * 1000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	/* ...which a VMM closes when asked: BAR mapping first. */
	munmap(self->f.bar0, self->f.bar0_size);
	self->f.bar0 = NULL;
	close(self->f.device);
	self->f.device = -1;
	for (i = 0; i < 100 && !waitpid(pid, &status, WNOHANG); i++)
		usleep(100 * 1000);
	ASSERT_LT(i, 100);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_FALSE(edu_bound_to_vfio(bdf));

	/* The driver took the attachment and its pins with it. */
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ(0, st.devices);
	EXPECT_EQ(0, st.pinned_pages);
	EXPECT_EQ(locked_before, vm_locked_kb());
	EXPECT_EQ(-ENOENT, viommu_vfio_detach(self->v.unit_fd, EDU_SID));

	/* driver_override still says vfio-pci. */
	EXPECT_EQ(0, viommu_write_file("/sys/bus/pci/drivers_probe", bdf));
	EXPECT_TRUE(edu_bound_to_vfio(bdf));
}

TEST_HARNESS_MAIN
