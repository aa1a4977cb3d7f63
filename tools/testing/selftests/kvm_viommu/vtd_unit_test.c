// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's VT-d unit under nested KVM: L2 guest code drives it as a
 * driver would, through a test VMM wired as the documentation says
 * (viommu_vmm.c).  Every test also proves the trap design: register reads
 * never exit, and IQT writes reach the unit through doorbells, never
 * through the VMM.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "viommu_vmm.h"
#include "viommu_guest.h"

/* kselftest_harness.h has its own. */
#undef ASSERT_EQ
#include "kselftest_harness.h"

#define NR_STATUS		64
#define IRQ_VECTOR_INV		0xa0
#define IRQ_VECTOR_FAULT	0xa1
#define MAX_VCPUS		4

/* Set up by the host before the guest runs (sync_global_to_guest). */
static struct guest_args {
	uint64_t queue_gpa;
	uint64_t queue_gva;
	uint64_t status_gpa;
	uint64_t status_gva;
	uint64_t root_gpa;
	uint32_t qs;
	uint32_t batch;
	uint32_t rounds;
	uint32_t nr_vcpus;
	uint32_t mode;			/* a test's variant of its guest */
	uint64_t out_gva;		/* results the host checks */
} args;

/* Translation structures' pages, queue and status, for tests with edu. */
static struct guest_iommu_mem gmem;

/* Guest-side state shared by its vCPUs, in guest memory. */
static struct guest_iq gq;
static uint32_t gq_lock;
static uint32_t irq_count[2];

static uint32_t *guest_status(unsigned int i)
{
	return (uint32_t *)(args.status_gva + 4 * i);
}

static uint64_t status_gpa(unsigned int i)
{
	return args.status_gpa + 4 * i;
}

static void guest_iq_init(void)
{
	gq.gpa = args.queue_gpa;
	gq.va = (struct vtd_inv_desc *)args.queue_gva;
	gq.qs = args.qs;
	guest_qi_enable(&gq);
}

/* Submit a wait for status slot @slot with @data and poll for it. */
static void guest_wait_for(unsigned int slot, uint32_t data, uint64_t flags)
{
	WRITE_ONCE(*guest_status(slot), 0);
	guest_iq_push_wait(&gq, status_gpa(slot), data, flags);
	guest_iq_kick(&gq);
	guest_poll_mem32(guest_status(slot), data);
}

/* ---- Reset values ---- */

static const struct {
	uint32_t off;
	uint32_t len;
} reset_regs[] = {
	{ VTD_VER_REG, 4 }, { VTD_CAP_REG, 8 }, { VTD_ECAP_REG, 8 },
	{ VTD_GCMD_REG, 4 }, { VTD_GSTS_REG, 4 }, { VTD_RTADDR_REG, 8 },
	{ VTD_CCMD_REG, 8 }, { VTD_FSTS_REG, 4 }, { VTD_FECTL_REG, 4 },
	{ VTD_FEDATA_REG, 4 }, { VTD_FEADDR_REG, 4 }, { VTD_FEUADDR_REG, 4 },
	{ VTD_PMEN_REG, 4 }, { VTD_IQH_REG, 8 }, { VTD_IQT_REG, 8 },
	{ VTD_IQA_REG, 8 }, { VTD_ICS_REG, 4 }, { VTD_IECTL_REG, 4 },
	{ VTD_IEDATA_REG, 4 }, { VTD_IEADDR_REG, 4 }, { VTD_IEUADDR_REG, 4 },
	{ VTD_IRTA_REG, 8 }, { VTD_IVA_REG, 8 }, { VTD_IOTLB_REG, 8 },
	{ VTD_FRCD_REG, 8 }, { VTD_FRCD_REG + 8, 8 },
};

static void guest_read_reset_values(void)
{
	uint64_t *out = (uint64_t *)args.out_gva;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reset_regs); i++)
		out[i] = reset_regs[i].len == 8 ? gr64(reset_regs[i].off) :
						  gr32(reset_regs[i].off);
	GUEST_DONE();
}

/* ---- Root table and a first batch ---- */

static void guest_first_batch(void)
{
	guest_set_root(args.root_gpa);
	GUEST_ASSERT(gr64(VTD_RTADDR_REG) == args.root_gpa);
	guest_iq_init();
	GUEST_ASSERT(gr64(VTD_IQH_REG) == 0);

	guest_iq_push(&gq, DESC_CC_GLOBAL, 0);
	guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
	guest_iq_push(&gq, DESC_IOTLB_DOMAIN(1), 0);
	guest_iq_push(&gq, DESC_IOTLB_PAGE(1), 0x200000);
	guest_wait_for(0, 0xc0ffee, 0);
	GUEST_ASSERT_2(gr64(VTD_IQH_REG) == 5 << 4, gr64(VTD_IQH_REG), 5);
	GUEST_ASSERT(!(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE));
	GUEST_DONE();
}

/* ---- Batches, wrapping the queue ---- */

static void guest_batches(void)
{
	uint32_t r, i;

	guest_iq_init();
	for (r = 0; r < args.rounds; r++) {
		for (i = 0; i + 1 < args.batch; i++)
			guest_iq_push(&gq, DESC_IOTLB_PAGE(2),
				      (uint64_t)(r * args.batch + i) << 12);
		guest_wait_for(r % NR_STATUS, r + 1, 0);
	}
	GUEST_ASSERT_2(gr64(VTD_IQH_REG) == gq.tail << 4,
		       gr64(VTD_IQH_REG), gq.tail);
	GUEST_DONE();
}

/* ---- Every queue size ---- */

static void guest_every_qs(void)
{
	uint32_t qs, r, i, rounds;

	for (qs = 0; qs <= 7; qs++) {
		args.qs = qs;
		guest_iq_init();
		/* One lap and a bit, in batches of 64. */
		rounds = gq.entries / 64 + 2;
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < 63; i++)
				guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
			guest_wait_for(r % NR_STATUS, r + 1, 0);
		}
		GUEST_ASSERT_2(gr64(VTD_IQH_REG) == gq.tail << 4,
			       gr64(VTD_IQH_REG), qs);
		GUEST_SYNC(qs);
		guest_qi_disable();
		GUEST_ASSERT(gr64(VTD_IQH_REG) == 0);
	}
	GUEST_DONE();
}

/* ---- Interrupts ---- */

static void guest_irq_handler(struct ex_regs *regs)
{
	__atomic_add_fetch(&irq_count[regs->vector == IRQ_VECTOR_FAULT], 1,
			   __ATOMIC_RELAXED);
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_wait_irq(unsigned int which, uint32_t count)
{
	uint64_t n = 0;

	while (READ_ONCE(irq_count[which]) != count && ++n < GUEST_POLL_LOOPS)
		guest_pause();
	GUEST_ASSERT_2(READ_ONCE(irq_count[which]) == count,
		       READ_ONCE(irq_count[which]), count);
}

static void guest_completion_irq(void)
{
	x2apic_enable();
	asm volatile("sti");
	guest_iq_init();

	gw32(VTD_IEDATA_REG, IRQ_VECTOR_INV);
	gw32(VTD_IEADDR_REG, 0xfee00000);
	gw32(VTD_IEUADDR_REG, 0);
	GUEST_ASSERT(gr32(VTD_IECTL_REG) == VTD_IECTL_IM);
	gw32(VTD_IECTL_REG, 0);

	/* IF: IWC and one interrupt. */
	guest_wait_for(0, 1, VTD_INV_DESC_WAIT_IF);
	guest_wait_irq(0, 1);
	GUEST_ASSERT(gr32(VTD_ICS_REG) & VTD_ICS_IWC);

	/* IWC still set: no new interrupt. */
	guest_wait_for(1, 2, VTD_INV_DESC_WAIT_IF);
	guest_wait_for(2, 3, 0);
	GUEST_ASSERT(READ_ONCE(irq_count[0]) == 1);

	/* RW1C. */
	gw32(VTD_ICS_REG, VTD_ICS_IWC);
	GUEST_ASSERT(!(gr32(VTD_ICS_REG) & VTD_ICS_IWC));

	/* Masked: IP instead of an interrupt, sent when unmasked. */
	gw32(VTD_IECTL_REG, VTD_IECTL_IM);
	guest_wait_for(3, 4, VTD_INV_DESC_WAIT_IF);
	/* IF's completion follows the status write (see the rst). */
	guest_poll_reg32(VTD_IECTL_REG, VTD_IECTL_IM | VTD_IECTL_IP,
			 VTD_IECTL_IM | VTD_IECTL_IP);
	GUEST_ASSERT(READ_ONCE(irq_count[0]) == 1);
	gw32(VTD_IECTL_REG, 0);
	guest_wait_irq(0, 2);
	GUEST_ASSERT(!(gr32(VTD_IECTL_REG) & VTD_IECTL_IP));
	gw32(VTD_ICS_REG, VTD_ICS_IWC);
	GUEST_DONE();
}

/* ---- Queue errors ---- */

static void guest_iqe_recovery(void)
{
	uint32_t bad;

	x2apic_enable();
	asm volatile("sti");
	gw32(VTD_FEDATA_REG, IRQ_VECTOR_FAULT);
	gw32(VTD_FEADDR_REG, 0xfee00000);
	gw32(VTD_FEUADDR_REG, 0);
	gw32(VTD_FECTL_REG, 0);
	guest_iq_init();

	/* Something valid, a descriptor of no type, then a wait. */
	guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
	bad = gq.tail;
	guest_iq_push(&gq, 0xf, 0);
	WRITE_ONCE(*guest_status(0), 0);
	guest_iq_push_wait(&gq, status_gpa(0), 7, 0);
	guest_iq_kick(&gq);

	guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_IQE, VTD_FSTS_IQE);
	GUEST_ASSERT_2(gr64(VTD_IQH_REG) == bad << 4, gr64(VTD_IQH_REG), bad);
	guest_wait_irq(1, 1);
	GUEST_ASSERT(READ_ONCE(*guest_status(0)) == 0);

	/* The driver fixes the slot and clears IQE: the queue goes on. */
	WRITE_ONCE(gq.va[bad].lo, DESC_IOTLB_GLOBAL);
	WRITE_ONCE(gq.va[bad].hi, 0);
	gw32(VTD_FSTS_REG, VTD_FSTS_IQE);
	guest_poll_mem32(guest_status(0), 7);
	GUEST_ASSERT(!(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE));
	GUEST_ASSERT(gr64(VTD_IQH_REG) == gq.tail << 4);

	/* Reserved bits in a known type: the same error. */
	bad = gq.tail;
	guest_iq_push(&gq, DESC_CC_GLOBAL | (1ULL << 63), 0);
	guest_iq_kick(&gq);
	guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_IQE, VTD_FSTS_IQE);
	GUEST_ASSERT(gr64(VTD_IQH_REG) == bad << 4);
	WRITE_ONCE(gq.va[bad].lo, DESC_CC_GLOBAL);
	gw32(VTD_FSTS_REG, VTD_FSTS_IQE);
	guest_wait_for(1, 8, 0);
	GUEST_DONE();
}

/* ---- A hostile driver ---- */

static void guest_expect_iqe_then_recover(uint64_t iqh)
{
	guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_IQE, VTD_FSTS_IQE);
	GUEST_ASSERT_2(gr64(VTD_IQH_REG) == iqh, gr64(VTD_IQH_REG), iqh);
	/* Recovery as a driver does it: QI off, clear, fresh queue. */
	guest_qi_disable();
	gw32(VTD_FSTS_REG, VTD_FSTS_IQE);
	GUEST_ASSERT(!(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE));
}

static void guest_hostile_queue(void)
{
	uint32_t i, r;

	/* IQT beyond the queue: IQE, IQH untouched. */
	guest_iq_init();
	gw32(VTD_IQT_REG, 300 << 4);
	guest_expect_iqe_then_recover(0);

	/* IQA far outside guest memory: the fetch fails, IQE. */
	gw32(VTD_IQT_REG, 0);
	gw64(VTD_IQA_REG, 0x7ffff000000ULL);
	guest_gcmd(VTD_GCMD_QIE, 0);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_QIES, VTD_GSTS_QIES);
	gw32(VTD_IQT_REG, 1 << 4);
	guest_expect_iqe_then_recover(0);

	/* A wait whose status address is outside guest memory: IQE. */
	guest_iq_init();
	guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
	guest_iq_push_wait(&gq, 0x7ffff000000ULL, 1, 0);
	guest_iq_kick(&gq);
	guest_expect_iqe_then_recover(1 << 4);

	/*
	 * A storm: 4000 doorbells, one per descriptor, with no wait but one
	 * per burst of 200 (fewer than the queue holds, so the count is
	 * exact): IOTLB page invalidations with every AM up to MAMV, global
	 * and context-cache invalidations.
	 */
	guest_iq_init();
	for (r = 0; r < 20; r++) {
		for (i = 0; i < 200; i++) {
			if (i & 1)
				guest_iq_push(&gq, DESC_IOTLB_PAGE(1),
					      (i >> 1) % 19);
			else
				guest_iq_push(&gq, i & 2 ? DESC_CC_GLOBAL :
						   DESC_IOTLB_GLOBAL, 0);
			guest_iq_kick(&gq);
		}
		guest_wait_for(r % NR_STATUS, r + 1, 0);
	}
	GUEST_ASSERT(!(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE));
	GUEST_DONE();
}

/* ---- Descriptors for the VMM ---- */

#define FWD_IEC(i)	(VTD_INV_DESC_IEC | (1ULL << 4) | ((uint64_t)(i) << 32))
#define FWD_DEVTLB(i)	(VTD_INV_DESC_DEVTLB | ((uint64_t)(i) << 32))

static void guest_forward(void)
{
	uint32_t i;

	guest_iq_init();
	/* More than the unit's ring holds: it must wait for the VMM. */
	for (i = 0; i < args.rounds; i++)
		guest_iq_push(&gq, i & 1 ? FWD_DEVTLB(i) : FWD_IEC(i),
			      i & 1 ? (uint64_t)i << 12 : 0);
	guest_wait_for(0, 1, 0);
	GUEST_DONE();
}

/*
 * An interrupt-entry-cache invalidation, then a wait: the guest does not
 * wait here, it tells the host it rang; the host checks that the wait
 * stays pending until the VMM acknowledges the forwarded descriptor.
 */
static void guest_forward_then_wait(void)
{
	guest_iq_init();
	WRITE_ONCE(*guest_status(0), 0);
	guest_iq_push(&gq, FWD_IEC(1), 0);
	guest_iq_push_wait(&gq, status_gpa(0), 0x5a, VTD_INV_DESC_WAIT_IF);
	guest_iq_kick(&gq);
	GUEST_SYNC(1);
	guest_poll_mem32(guest_status(0), 0x5a);
	GUEST_DONE();
}

/* ---- Several vCPUs ringing at once ---- */

static void guest_lock(void)
{
	while (__atomic_exchange_n(&gq_lock, 1, __ATOMIC_ACQUIRE))
		guest_pause();
}

static void guest_unlock(void)
{
	__atomic_store_n(&gq_lock, 0, __ATOMIC_RELEASE);
}

static void guest_multi_vcpu(uint32_t id)
{
	uint32_t r;

	if (id == 0) {
		guest_iq_init();
		GUEST_SYNC(0);
	}
	for (r = 0; r < args.rounds; r++) {
		WRITE_ONCE(*guest_status(id), 0);
		guest_lock();
		guest_iq_push(&gq, DESC_IOTLB_DOMAIN(id + 1), 0);
		guest_iq_push_wait(&gq, status_gpa(id), r + 1, 0);
		guest_iq_kick(&gq);
		guest_unlock();
		guest_poll_mem32(guest_status(id), r + 1);
	}
	GUEST_DONE();
}

/* ---- Several register words between two polls ---- */

/*
 * Each round writes the completion interrupt's vector and then the tail
 * of a wait that raises it, back to back: a poller finds both at once,
 * and must apply the message before the tail, or the interrupt goes out
 * with the old vector.  The vector alternates between the two handlers'.
 */
static void guest_words_in_order(void)
{
	uint32_t r;

	x2apic_enable();
	asm volatile("sti");
	guest_iq_init();
	gw32(VTD_IEADDR_REG, 0xfee00000);
	gw32(VTD_IEUADDR_REG, 0);
	gw32(VTD_IECTL_REG, 0);
	for (r = 0; r < args.rounds; r++) {
		WRITE_ONCE(*guest_status(0), 0);
		guest_iq_push_wait(&gq, status_gpa(0), r + 1,
				   VTD_INV_DESC_WAIT_IF);
		gw32(VTD_IEDATA_REG, r & 1 ? IRQ_VECTOR_FAULT : IRQ_VECTOR_INV);
		guest_iq_kick(&gq);
		guest_poll_mem32(guest_status(0), r + 1);
		guest_wait_irq(r & 1, r / 2 + 1);
		gw32(VTD_ICS_REG, VTD_ICS_IWC);
	}
	GUEST_ASSERT_2(irq_count[0] + irq_count[1] == args.rounds,
		       irq_count[0], irq_count[1]);
	GUEST_DONE();
}

/* ---- The sidecore's own cases, guest side ---- */

/*
 * A completion interrupt while the message the guest just programmed is
 * not routed yet: the unit holds it.  With args.mode 1 the guest masks it
 * afterwards (IM), at its second stop.  Then it waits for it.
 */
static void guest_irq_hold(void)
{
	x2apic_enable();
	asm volatile("sti");
	guest_iq_init();
	gw32(VTD_IEDATA_REG, IRQ_VECTOR_INV);
	gw32(VTD_IEADDR_REG, 0xfee00000);
	gw32(VTD_IEUADDR_REG, 0);
	gw32(VTD_IECTL_REG, 0);
	guest_wait_for(0, 1, VTD_INV_DESC_WAIT_IF);
	GUEST_SYNC(1);
	if (args.mode) {
		gw32(VTD_IECTL_REG, VTD_IECTL_IM);
		GUEST_SYNC(2);
	}
	guest_wait_irq(0, 1);
	GUEST_DONE();
}

/* A word of the register page that holds no register. */
#define SCRATCH_OFF		0x300
#define SCRATCH_WRITES		1000

/*
 * Queue enabled (stop 1); args.rounds waits of args.batch descriptors
 * (stop 2); then SCRATCH_WRITES plain stores to the page (stop 3), which
 * exit only if KVM still write-tracks the page.
 */
static void guest_slot_phases(void)
{
	uint32_t r, i;

	guest_iq_init();
	GUEST_SYNC(1);
	for (r = 0; r < args.rounds; r++) {
		for (i = 0; i + 1 < args.batch; i++)
			guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
		guest_wait_for(r % NR_STATUS, r + 1, 0);
	}
	GUEST_SYNC(2);
	for (i = 0; i < SCRATCH_WRITES; i++)
		gw32(SCRATCH_OFF, i);
	GUEST_SYNC(3);
	GUEST_DONE();
}

static void guest_w8(uint32_t off, uint8_t val)
{
	WRITE_ONCE(*(uint8_t *)(VIOMMU_REG_GPA + off), val);
}

/*
 * 1- and 2-byte writes to RW1C registers with a status set: the bytes
 * not written must not count as the ones the page shows.
 */
static void guest_partial_rw1c(void)
{
	uint32_t bad;

	guest_iq_init();
	guest_wait_for(0, 1, VTD_INV_DESC_WAIT_IF);
	GUEST_ASSERT(gr32(VTD_ICS_REG) & VTD_ICS_IWC);
	/* ICS's other bytes, 0: IWC stays. */
	guest_w8(VTD_ICS_REG + 1, 0);
	GUEST_ASSERT(gr32(VTD_ICS_REG) & VTD_ICS_IWC);
	WRITE_ONCE(*(uint16_t *)(VIOMMU_REG_GPA + VTD_ICS_REG + 2), 0);
	GUEST_ASSERT(gr32(VTD_ICS_REG) & VTD_ICS_IWC);
	/* The byte with IWC, with its 1: cleared. */
	guest_w8(VTD_ICS_REG, VTD_ICS_IWC);
	GUEST_ASSERT(!(gr32(VTD_ICS_REG) & VTD_ICS_IWC));

	/* IQE, then a write of FSTS's FRI byte: IQE stays. */
	bad = gq.tail;
	guest_iq_push(&gq, 0xf, 0);
	guest_iq_kick(&gq);
	guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_IQE, VTD_FSTS_IQE);
	guest_w8(VTD_FSTS_REG + 1, 0);
	GUEST_ASSERT(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE);
	WRITE_ONCE(gq.va[bad].lo, DESC_IOTLB_GLOBAL);
	WRITE_ONCE(gq.va[bad].hi, 0);
	guest_w8(VTD_FSTS_REG, VTD_FSTS_IQE);
	GUEST_ASSERT(!(gr32(VTD_FSTS_REG) & VTD_FSTS_IQE));
	guest_wait_for(1, 2, 0);
	GUEST_DONE();
}

/* edu's source-id in the guest, and IOVAs of its mappings. */
#define EDU_SID			0x18
#define FAULT_IOVA(n)		(0x200000ULL + 0x1000ULL * (n))

/*
 * Two faults, each recorded and cleared (a mapping of the register page,
 * which the unit refuses, then unmapped): FSTS then keeps FRI at 1, with
 * nothing pending (stop 1).  Then args.rounds invalidations.
 */
static void guest_faults_then_waits(void)
{
	uint32_t *status = (uint32_t *)gmem.status_gva;
	struct guest_vtd g;
	struct guest_iq q;
	uint32_t n, fri;
	uint64_t slpt;

	slpt = guest_iommu_enable(&g, &q, &gmem, EDU_SID, 1);
	for (n = 0; n < 2; n++) {
		gvtd_map(&g, slpt, FAULT_IOVA(n), VIOMMU_REG_GPA, 1,
			 VTD_SLPTE_R | VTD_SLPTE_W);
		guest_iq_sync(&q, DESC_IOTLB_PSI(1), FAULT_IOVA(n), status,
			      gmem.status_gpa);
		guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_PPF, VTD_FSTS_PPF);
		fri = (gr32(VTD_FSTS_REG) & VTD_FSTS_FRI) >> 8;
		GUEST_ASSERT_2(fri == n, fri, n);
		gw32(VTD_FRCD_REG + 16 * fri + 12, 1U << 31);
		guest_poll_reg32(VTD_FSTS_REG, VTD_FSTS_PPF, 0);
		/* Gone again, or each later walk would fault anew. */
		gvtd_unmap(&g, slpt, FAULT_IOVA(n), 1);
		guest_iq_sync(&q, DESC_IOTLB_PSI(1), FAULT_IOVA(n), status,
			      gmem.status_gpa);
	}
	GUEST_SYNC(1);
	for (n = 0; n < args.rounds; n++)
		guest_iq_sync(&q, DESC_IOTLB_GLOBAL, 0, status, gmem.status_gpa);
	GUEST_DONE();
}

/*
 * Translation on (stop 1), then off, waiting for GSTS.TES to clear (the
 * unit maps all of guest RAM first), with a longer patience than the
 * usual polls (stop 2); then args.rounds invalidations.
 */
static void guest_te_off(void)
{
	uint32_t *status = (uint32_t *)gmem.status_gva;
	struct guest_vtd g;
	struct guest_iq q;
	uint64_t n = 0;
	uint32_t r;

	guest_iommu_enable(&g, &q, &gmem, EDU_SID, 1);
	GUEST_SYNC(1);
	guest_gcmd(0, VTD_GCMD_TE);
	while ((gr32(VTD_GSTS_REG) & VTD_GSTS_TES) &&
	       ++n < 16 * GUEST_POLL_LOOPS)
		guest_pause();
	GUEST_ASSERT(!(gr32(VTD_GSTS_REG) & VTD_GSTS_TES));
	GUEST_SYNC(2);
	for (r = 0; r < args.rounds; r++)
		guest_iq_sync(&q, DESC_IOTLB_GLOBAL, 0, status, gmem.status_gpa);
	GUEST_DONE();
}

/* KVM_VIOMMU_TRANSLATE's pages: read-write, read-only, a 2 MiB leaf. */
#define XL_RW_IOVA		0x10000ULL
#define XL_RO_IOVA		0x11000ULL
#define XL_2M_IOVA		0x40000000ULL
#define XL_RW_GPA		0x5000ULL
#define XL_RO_GPA		0x6000ULL
#define XL_2M_GPA		0x80000000ULL

/* Translation on, with tables for EDU_SID in domain 1 mapping the XL_ pages. */
static uint64_t guest_translate_tables(struct guest_vtd *g, struct guest_iq *q)
{
	uint32_t *status = (uint32_t *)gmem.status_gva;
	uint64_t slpt;

	slpt = guest_iommu_enable(g, q, &gmem, EDU_SID, 1);
	gvtd_map(g, slpt, XL_RW_IOVA, XL_RW_GPA, 1,
		 VTD_SLPTE_R | VTD_SLPTE_W);
	gvtd_map(g, slpt, XL_RO_IOVA, XL_RO_GPA, 1, VTD_SLPTE_R);
	gvtd_map(g, slpt, XL_2M_IOVA, XL_2M_GPA, 2,
		 VTD_SLPTE_R | VTD_SLPTE_W);
	guest_iq_sync(q, DESC_IOTLB_GLOBAL, 0, status, gmem.status_gpa);
	return slpt;
}

/* Translation off, as Linux turns it off. */
static void guest_te_off_now(void)
{
	guest_gcmd(0, VTD_GCMD_TE);
	guest_poll_reg32(VTD_GSTS_REG, VTD_GSTS_TES, 0);
}

/* The XL_ tables (stop 1); then translation off (stop 2). */
static void guest_translate(void)
{
	struct guest_vtd g;
	struct guest_iq q;

	guest_translate_tables(&g, &q);
	GUEST_SYNC(1);
	guest_te_off_now();
	GUEST_SYNC(2);
	GUEST_DONE();
}

/*
 * The XL_ tables (stop 1); then the read-write page unmapped, and queued
 * at once: an IOTLB invalidation of domain 2, one of the page in domain
 * 1, a wait; the guest stops without waiting (stop 2), then waits.  Then
 * translation off (stop 3).
 */
static void guest_translate_invalidate(void)
{
	uint32_t *status = (uint32_t *)gmem.status_gva;
	struct guest_vtd g;
	struct guest_iq q;
	uint64_t slpt;

	slpt = guest_translate_tables(&g, &q);
	GUEST_SYNC(1);
	gvtd_unmap(&g, slpt, XL_RW_IOVA, 1);
	WRITE_ONCE(*status, 0);
	guest_iq_push(&q, DESC_IOTLB_DOMAIN(2), 0);
	guest_iq_push(&q, DESC_IOTLB_PSI(1), XL_RW_IOVA);
	guest_iq_push_wait(&q, gmem.status_gpa, 0x5a, 0);
	guest_iq_kick(&q);
	GUEST_SYNC(2);
	guest_poll_mem32(status, 0x5a);
	guest_te_off_now();
	GUEST_SYNC(3);
	GUEST_DONE();
}

/* More invalidations than the VMM's event ring holds (64). */
#define XL_FLOOD		70

/*
 * The XL_ tables (stop 1); then XL_FLOOD invalidations of the read-write
 * page and a wait, queued at once; the guest stops (stop 2), then waits.
 */
static void guest_translate_flood(void)
{
	uint32_t *status = (uint32_t *)gmem.status_gva;
	struct guest_vtd g;
	struct guest_iq q;
	uint32_t i;

	guest_translate_tables(&g, &q);
	GUEST_SYNC(1);
	WRITE_ONCE(*status, 0);
	for (i = 0; i < XL_FLOOD; i++)
		guest_iq_push(&q, DESC_IOTLB_PSI(1), XL_RW_IOVA);
	guest_iq_push_wait(&q, gmem.status_gpa, 0x5a, 0);
	guest_iq_kick(&q);
	GUEST_SYNC(2);
	guest_poll_mem32(status, 0x5a);
	GUEST_DONE();
}

/* ---- Host side ---- */

/* A test's VM, vCPUs, unit and result page. */
struct unit_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[MAX_VCPUS];
	struct viommu_vmm v;
	void *out;
};

FIXTURE(vtd) {
	struct unit_vm u;
};

/*
 * Each test three ways: guest register writes through doorbells and the
 * relay; write-tracked by KVM and taken in the kernel; and with the
 * sidecore polling the page while the guest is busy.
 */
FIXTURE_VARIANT(vtd) {
	uint32_t sidecore;
};

FIXTURE_VARIANT_ADD(vtd, doorbells) {
	.sidecore = 0,
};

FIXTURE_VARIANT_ADD(vtd, tracked) {
	.sidecore = KVM_VIOMMU_SIDECORE_TRACK,
};

FIXTURE_VARIANT_ADD(vtd, sidecore) {
	.sidecore = KVM_VIOMMU_SIDECORE_TRACK | KVM_VIOMMU_SIDECORE_POLL,
};

FIXTURE_SETUP(vtd)
{
	ASSERT_EQ(0, viommu_mount_debugfs());
	self->u.vm = NULL;
	viommu_vmm_sidecore = variant->sidecore;
}

FIXTURE_TEARDOWN(vtd)
{
	viommu_vmm_sidecore = 0;
	viommu_restore_params();
	if (self->u.vm) {
		viommu_vmm_fini(&self->u.v);
		kvm_vm_free(self->u.vm);
	}
	EXPECT_EQ(0, viommu_count_units());
}

/* The queue (as large as QS 7 needs), status, root and result pages. */
static void unit_vm_memory(struct __test_metadata *_metadata,
			   struct unit_vm *self)
{
	vm_vaddr_t gva;

	gva = vm_vaddr_alloc(self->vm, 128 * 4096, 0x10000000);
	args.queue_gva = gva;
	args.queue_gpa = addr_gva2gpa(self->vm, gva);
	gva = vm_vaddr_alloc_page(self->vm);
	args.status_gva = gva;
	args.status_gpa = addr_gva2gpa(self->vm, gva);
	gva = vm_vaddr_alloc_page(self->vm);
	args.root_gpa = addr_gva2gpa(self->vm, gva);
	gva = vm_vaddr_alloc_page(self->vm);
	args.out_gva = gva;
	self->out = addr_gva2hva(self->vm, gva);
	args.qs = 0;
	sync_global_to_guest(self->vm, args);
}

/*
 * The unit for @self->vm, with @ecap (0: default).  False, with the test
 * marked skipped, if this kernel cannot give the variant's sidecore.
 */
static bool unit_vm_unit(struct __test_metadata *_metadata,
			 struct unit_vm *self, uint64_t ecap)
{
	int ret = viommu_vmm_init(&self->v, self->vm, 0, ecap);

	if (ret == -EOPNOTSUPP && viommu_vmm_sidecore)
		SKIP(return false, "no KVM write tracking for modules here");
	ASSERT_EQ(0, ret) {
		return false;
	}
	return true;
}

/* A VM with @n vCPUs running @guest, its unit, IDT and memory. */
static bool unit_vm_setup(struct __test_metadata *_metadata,
			  struct unit_vm *self, void *guest, int n)
{
	self->vm = vm_create_with_vcpus(n, guest, self->vcpus);
	if (!unit_vm_unit(_metadata, self, 0))
		return false;
	vm_init_descriptor_tables(self->vm);
	for (int i = 0; i < n; i++) {
		vcpu_init_descriptor_tables(self->vcpus[i]);
		vcpu_args_set(self->vcpus[i], 1, i);
	}
	vm_install_exception_handler(self->vm, IRQ_VECTOR_INV,
				     guest_irq_handler);
	vm_install_exception_handler(self->vm, IRQ_VECTOR_FAULT,
				     guest_irq_handler);
	args.nr_vcpus = n;
	unit_vm_memory(_metadata, self);
	return true;
}

/* Run vCPU 0 to GUEST_DONE; SYNCs are fine; anything else fails. */
static void unit_vm_run(struct __test_metadata *_metadata,
			struct unit_vm *self)
{
	struct ucall uc;

	for (;;) {
		switch (viommu_vcpu_run(&self->v, self->vcpus[0], &uc)) {
		case UCALL_SYNC:
			continue;
		case UCALL_DONE:
			return;
		case UCALL_ABORT:
			viommu_log_unit("at the guest's abort");
			REPORT_GUEST_ASSERT_2(uc, "values: %#lx, %#lx");
			break;
		default:
			ASSERT_TRUE(0);
		}
	}
}

/*
 * What every test proves about the trap design: register reads never
 * exit; IQT writes never reach the VMM; under the sidecore no register
 * write does.
 */
static void expect_no_exits(struct __test_metadata *_metadata,
			    struct unit_vm *self)
{
	EXPECT_EQ(0, self->v.mmio_reads);
	EXPECT_EQ(0, self->v.iqt_relays);
	EXPECT_EQ(0, self->v.sidecore ? self->v.mmio_writes : 0);
}

/*
 * The guest wrote IQT @n times: doorbells counted each; KVM's tracking
 * counted at least as many register writes; the poller takes several
 * writes found at once as one, so of it only that it took some.
 */
static void expect_tails(struct __test_metadata *_metadata,
			 struct unit_vm *self,
			 const struct kvm_viommu_stats *st, uint64_t n)
{
	uint32_t sc = self->v.sidecore;

	EXPECT_EQ(sc ? 0 : n, st->doorbells);
	EXPECT_LE(sc == KVM_VIOMMU_SIDECORE_TRACK ? n : 0, st->tracked_writes);
	EXPECT_LE(sc & KVM_VIOMMU_SIDECORE_POLL ? 1 : 0,
		  st->tracked_writes + st->polled_writes);
	EXPECT_EQ(0, sc == KVM_VIOMMU_SIDECORE_TRACK ? st->polled_writes : 0);
	EXPECT_EQ(0, st->relay_writes - self->v.mmio_writes);
}

TEST_F(vtd, reset_values)
{
	struct kvm_viommu_info *info = &self->u.v.info;
	uint64_t *out;
	unsigned int i;

	if (!unit_vm_setup(_metadata, &self->u, guest_read_reset_values, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	out = self->u.out;
	for (i = 0; i < ARRAY_SIZE(reset_regs); i++) {
		uint64_t want = 0;

		switch (reset_regs[i].off) {
		case VTD_VER_REG:
			want = VTD_VER_1_0;
			break;
		case VTD_CAP_REG:
			want = info->cap;
			break;
		case VTD_ECAP_REG:
			want = info->ecap;
			break;
		case VTD_FECTL_REG:
		case VTD_IECTL_REG:
			want = VTD_FECTL_IM;
			break;
		}
		EXPECT_EQ(want, out[i]) {
			TH_LOG("register 0x%x", reset_regs[i].off);
		}
	}
	/* The unit's fixed fields. */
	EXPECT_TRUE(info->cap & VTD_CAP_CM);
	EXPECT_TRUE(info->ecap & VTD_ECAP_QI);
	EXPECT_EQ(VTD_FRCD_REG / 16,
		  (info->cap & VTD_CAP_FRO) >> 24);
	EXPECT_EQ(VTD_IVA_REG / 16, (info->ecap & VTD_ECAP_IRO) >> 8);
	EXPECT_EQ(256, info->doorbells);
	expect_no_exits(_metadata, &self->u);
}

TEST_F(vtd, root_table_and_first_batch)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_first_batch, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(5, st.descs);
	EXPECT_EQ(1, st.cc_invals);
	EXPECT_EQ(3, st.iotlb_invals);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(0, st.iq_errors);
	/* IQT = 0 when enabling the queue, then the batch. */
	expect_tails(_metadata, &self->u, &st, 2);
	expect_no_exits(_metadata, &self->u);
}

/* Write @val to a tracefs file; 0 or -errno. */
static int tracefs_write(const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/%s", file);
	return viommu_write_file(path, val);
}

/*
 * The unit's statistics into @st once the poller (if it has one) took the
 * page, or after 2 s.  The guest's last tracked write kicked the poller,
 * which takes the page once that vCPU thread lets go of the unit's lock;
 * on this testbed it may run only after the guest ended.  The statistics
 * are read under the unit's lock, as the poller counts and traces.
 */
static void stats_after_unpark(struct unit_vm *u, bool polls,
			       struct kvm_viommu_stats *st)
{
	int i;

	for (i = 0; i < 200; i++) {
		viommu_vmm_stats(&u->v, st);
		if (!polls || st->unparks)
			break;
		usleep(10000);
	}
}

/* The hot path is visible to an operator: doorbell and queue events. */
TEST_F(vtd, tracepoints_show_the_hot_path)
{
	static char buf[1 << 16];
	struct kvm_viommu_stats st, st0;
	bool polled;
	ssize_t n;
	int fd;

	if (access("/sys/kernel/tracing/trace", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("events/kvm_viommu/enable", "1"));
	if (!unit_vm_setup(_metadata, &self->u, guest_first_batch, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	stats_after_unpark(&self->u,
			   variant->sidecore & KVM_VIOMMU_SIDECORE_POLL, &st0);
	ASSERT_EQ(0, tracefs_write("events/kvm_viommu/enable", "0"));
	viommu_vmm_stats(&self->u.v, &st);

	fd = open("/sys/kernel/tracing/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_TRUE(variant->sidecore || strstr(buf, "kvm_viommu_doorbell:"));
	EXPECT_NE(NULL, strstr(buf, "kvm_viommu_iq_run:"));
	EXPECT_NE(NULL, strstr(buf, "processed 5"));
	/* The poller taking the page shows, and only when it happened. */
	polled = !!strstr(buf, "register page polled");
	TH_LOG("%llu unparks while traced, %llu in all", st0.unparks,
	       st.unparks);
	if (variant->sidecore & KVM_VIOMMU_SIDECORE_POLL)
		EXPECT_NE(0, st0.unparks);
	if (st0.unparks)
		EXPECT_TRUE(polled);
	if (polled)
		EXPECT_NE(0, st.unparks);
	if (!(variant->sidecore & KVM_VIOMMU_SIDECORE_POLL))
		EXPECT_EQ(0, st.unparks);
}

/*
 * A poller whose spin is shorter than the queue run a tracked write
 * starts: its unpark may find the unit's lock held by the vCPU thread
 * applying the write, and the spin run out before the lock is free.
 * The holder's unlock then wakes it, and the page is still taken once
 * the guest is quiet (before, it slept with the page tracked).
 */
TEST_F(vtd, a_short_spin_still_takes_the_page)
{
	bool polls = variant->sidecore & KVM_VIOMMU_SIDECORE_POLL;
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_batches, 1))
		return;
	ASSERT_EQ(0, viommu_set_param("sidecore_spin_us", "20"));
	args.batch = 8;
	args.rounds = 4;
	sync_global_to_guest(self->u.vm, args);
	unit_vm_run(_metadata, &self->u);
	stats_after_unpark(&self->u, polls, &st);
	TH_LOG("%llu unparks, %llu parks, %llu tracked writes",
	       st.unparks, st.parks, st.tracked_writes);
	EXPECT_EQ(32, st.descs);
	/* Taken with a poller, never without. */
	EXPECT_EQ(polls, st.unparks != 0);
}

static void batches(struct __test_metadata *_metadata,
		    struct unit_vm *self, uint32_t batch, uint32_t rounds)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, self, guest_batches, 1))
		return;
	args.batch = batch;
	args.rounds = rounds;
	sync_global_to_guest(self->vm, args);
	unit_vm_run(_metadata, self);
	viommu_vmm_stats(&self->v, &st);
	EXPECT_EQ((uint64_t)batch * rounds, st.descs);
	EXPECT_EQ(rounds, st.waits);
	expect_tails(_metadata, self, &st, rounds + 1);
	EXPECT_EQ(0, st.iq_errors);
	expect_no_exits(_metadata, self);
}

/*
 * What an IQT write costs the guest in exits, by KVM's own count: one
 * each with doorbells or KVM's tracking; none for a tail the sidecore's
 * poller takes from the page.  Under the sidecore the exits for register
 * writes (KVM's emulated page-tracked writes, pf_emulate, and MMIO exits)
 * are so at most the tracked writes; how many tails the poller gets is
 * timing (a poller that parked while L0 gave it no CPU leaves the next
 * tails to the tracking), logged here and measured by make bench.
 */
TEST_F_TIMEOUT(vtd, exits_per_tail, 300)
{
	const uint32_t rounds = 400;
	static const char * const why[] = {
		"halt_exits", "irq_exits", "io_exits", "mmio_exits",
		"signal_exits", "request_irq_exits", "irq_window_exits",
		"nmi_window_exits", "pf_taken", "pf_fixed", "pf_emulate",
		"pf_spurious", "insn_emulation", "hypercalls", "halt_wakeup",
	};
	uint64_t exits, why_n[ARRAY_SIZE(why)], reg_exits = 0;
	struct kvm_viommu_stats st;
	unsigned int i;

	/*
	 * A poller that shares the vCPU's only CPU runs when the vCPU is
	 * preempted, spins with nothing to do, parks: each tail exits.
	 */
	if (variant->sidecore & KVM_VIOMMU_SIDECORE_POLL &&
	    sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: the poller has none of its own");
	if (!unit_vm_setup(_metadata, &self->u, guest_batches, 1))
		return;
	/* This testbed's rounds take far longer than hardware's. */
	ASSERT_EQ(0, viommu_set_param("sidecore_spin_us", "20000"));
	args.batch = 1;
	args.rounds = rounds;
	sync_global_to_guest(self->u.vm, args);
	for (i = 0; i < ARRAY_SIZE(why); i++)
		why_n[i] = viommu_vcpu_stat(self->u.vcpus[0], why[i]);
	exits = viommu_vcpu_stat(self->u.vcpus[0], "exits");
	unit_vm_run(_metadata, &self->u);
	exits = viommu_vcpu_stat(self->u.vcpus[0], "exits") - exits;
	for (i = 0; i < ARRAY_SIZE(why); i++) {
		why_n[i] = viommu_vcpu_stat(self->u.vcpus[0], why[i]) -
			   why_n[i];
		if (!strcmp(why[i], "pf_emulate") ||
		    !strcmp(why[i], "mmio_exits"))
			reg_exits += why_n[i];
		if (why_n[i])
			TH_LOG("%s: %llu", why[i],
			       (unsigned long long)why_n[i]);
	}
	viommu_vmm_stats(&self->u.v, &st);
	TH_LOG("%llu exits for %u tails; %llu tracked writes, %llu polled",
	       (unsigned long long)exits, rounds + 1, st.tracked_writes,
	       st.polled_writes);
	TH_LOG("%llu parks, %llu unparks, %llu poller runs", st.parks,
	       st.unparks, st.polled_runs);
	EXPECT_EQ(rounds, st.waits);
	if (variant->sidecore & KVM_VIOMMU_SIDECORE_POLL) {
		EXPECT_LE(1, st.polled_writes);
		EXPECT_GE(st.tracked_writes, reg_exits);
	} else {
		EXPECT_LE(rounds, exits);
	}
	expect_no_exits(_metadata, &self->u);
}

/* 600 single waits: the tail wraps the 256-entry queue twice. */
TEST_F_TIMEOUT(vtd, wrap_single_descriptors, 300)
{
	batches(_metadata, &self->u, 1, 600);
}

/* Batches of 8 and 64 that straddle the wrap point. */
TEST_F_TIMEOUT(vtd, wrap_batches_of_8, 300)
{
	batches(_metadata, &self->u, 8, 100);
}

TEST_F_TIMEOUT(vtd, wrap_batches_of_64, 300)
{
	batches(_metadata, &self->u, 64, 20);
}

/*
 * QS 0..7.  Above 512 entries not every tail has a doorbell (KVM's bus
 * limit): those IQT writes take the relay, and the queue works the same.
 */
TEST_F_TIMEOUT(vtd, every_queue_size, 600)
{
	struct kvm_viommu_stats st;
	uint64_t descs = 0;
	uint32_t qs;

	if (!unit_vm_setup(_metadata, &self->u, guest_every_qs, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	for (qs = 0; qs <= 7; qs++)
		descs += ((256u << qs) / 64 + 2) * 64ULL;
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(descs, st.descs);
	EXPECT_EQ(0, st.iq_errors);
	EXPECT_EQ(0, self->u.v.mmio_reads);
	EXPECT_EQ(st.relay_writes, self->u.v.mmio_writes);
	if (variant->sidecore) {
		/* No doorbells: every tail is the page's. */
		expect_no_exits(_metadata, &self->u);
		return;
	}
	/* Only tails past the wired doorbells went through the VMM. */
	EXPECT_EQ(VIOMMU_MAX_WIRED, self->u.v.wired);
	EXPECT_LT(0, self->u.v.iqt_relays);
}

TEST_F_TIMEOUT(vtd, completion_interrupt, 120)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_completion_irq, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(2, st.irqs);
	expect_no_exits(_metadata, &self->u);
}

TEST_F_TIMEOUT(vtd, iqe_and_recovery, 120)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_iqe_recovery, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(2, st.iq_errors);
	/* One fault event per error: the first unmasked. */
	EXPECT_LE(1, st.irqs);
	expect_no_exits(_metadata, &self->u);
}

/*
 * A driver gone wrong: IQT beyond the queue, IQA outside memory, a wait
 * status outside memory, each an IQE it recovers from; then 4000
 * doorbells without waiting, in bursts that end in one wait each.
 */
TEST_F_TIMEOUT(vtd, hostile_queue, 300)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_hostile_queue, 1))
		return;
	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(3, st.iq_errors);
	/* One good descriptor before the bad wait, then the storm's. */
	EXPECT_EQ(4021, st.descs);
	EXPECT_EQ(20, st.waits);
	EXPECT_EQ(0, self->u.v.mmio_reads);
	if (variant->sidecore) {
		expect_tails(_metadata, &self->u, &st,
			     variant->sidecore & KVM_VIOMMU_SIDECORE_POLL ?
			     1 : 4000);
		expect_no_exits(_metadata, &self->u);
		return;
	}
	EXPECT_LE(4000, st.doorbells);
	/* IQT 300 has no doorbell (256 wired): that one write relays. */
	EXPECT_EQ(1, self->u.v.iqt_relays);
}

struct vcpu_thread {
	struct __test_metadata *_metadata;
	struct viommu_vmm *v;
	struct kvm_vcpu *vcpu;
	int done;
};

static void *vcpu_thread_fn(void *data)
{
	struct vcpu_thread *t = data;
	struct ucall uc;

	for (;;) {
		switch (viommu_vcpu_run(t->v, t->vcpu, &uc)) {
		case UCALL_SYNC:
			continue;
		case UCALL_DONE:
			t->done = 1;
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT_2(uc, "values: %#lx, %#lx");
			return NULL;
		default:
			return NULL;
		}
	}
}

struct event_reader {
	int fd;
	uint32_t want;
	uint32_t got;
	uint32_t in_order;
	uint32_t acked;
};

static int ack_events(int fd, uint64_t seq)
{
	struct kvm_viommu_ack_events ack = {
		.size = sizeof(ack),
		.seq = seq,
	};

	return ioctl(fd, KVM_VIOMMU_ACK_EVENTS, &ack) ? -errno : 0;
}

/*
 * The VMM's side: poll() and read() until every event is in, checking
 * their order and numbers, and acknowledge each batch once "acted on".
 */
static void *event_reader_fn(void *data)
{
	struct event_reader *r = data;
	struct kvm_viommu_event ev[16];
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	uint32_t n, i;
	ssize_t len;

	r->in_order = 1;
	r->acked = 1;
	while (r->got < r->want) {
		if (poll(&pfd, 1, 60000) != 1)
			break;
		len = read(r->fd, ev, sizeof(ev));
		if (len <= 0 || len % sizeof(ev[0]))
			break;
		n = len / sizeof(ev[0]);
		for (i = 0; i < n; i++, r->got++) {
			uint64_t lo = r->got & 1 ? FWD_DEVTLB(r->got) :
						   FWD_IEC(r->got);

			if (ev[i].type != KVM_VIOMMU_EVENT_DESC ||
			    ev[i].desc[0] != lo || ev[i].seq != r->got + 1)
				r->in_order = 0;
		}
		if (ack_events(r->fd, ev[n - 1].seq))
			r->acked = 0;
	}
	return NULL;
}

/*
 * IEC and device-TLB descriptors reach the VMM in queue order through
 * read(); 200 of them overflow the unit's ring, so the queue must stall
 * until the VMM reads, and lose nothing.
 */
TEST_F_TIMEOUT(vtd, forwarded_descriptors, 120)
{
	struct event_reader r = { .want = 200 };
	struct kvm_viommu_stats st;
	pthread_t th;

	self->u.vm = vm_create_with_vcpus(1, guest_forward, self->u.vcpus);
	if (!unit_vm_unit(_metadata, &self->u, VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_DT))
		return;
	unit_vm_memory(_metadata, &self->u);
	args.rounds = r.want;
	sync_global_to_guest(self->u.vm, args);
	r.fd = self->u.v.unit_fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, event_reader_fn, &r));
	unit_vm_run(_metadata, &self->u);
	pthread_join(th, NULL);
	EXPECT_EQ(r.want, r.got);
	EXPECT_EQ(1, r.in_order);
	EXPECT_EQ(1, r.acked);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(r.want, st.forwarded);
	EXPECT_EQ(r.want + 1, st.descs);
	expect_no_exits(_metadata, &self->u);
}

/*
 * A wait descriptor after a forwarded one completes only once the VMM has
 * acted on it, as hardware completes in order: a guest's interrupt-entry
 * cache flush must not return while the VMM may still use the old entry.
 * Until KVM_VIOMMU_ACK_EVENTS the queue waits at the wait descriptor (no
 * status, no IWC, IQH on it); the acknowledgment itself completes it.
 */
TEST_F_TIMEOUT(vtd, wait_after_forwarded_completes_only_when_acked, 120)
{
	struct kvm_viommu_event ev[2];
	struct pollfd pfd = { .events = POLLIN };
	struct kvm_viommu_stats st;
	uint32_t *status;
	struct ucall uc;

	self->u.vm = vm_create_with_vcpus(1, guest_forward_then_wait,
					  self->u.vcpus);
	if (!unit_vm_unit(_metadata, &self->u, VTD_ECAP_QI | VTD_ECAP_IR))
		return;
	unit_vm_memory(_metadata, &self->u);
	status = addr_gva2hva(self->u.vm, args.status_gva);
	ASSERT_EQ(UCALL_SYNC, viommu_vcpu_run(&self->u.v, self->u.vcpus[0],
					      &uc));

	pfd.fd = self->u.v.unit_fd;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	/* Nothing read yet: nothing to acknowledge. */
	EXPECT_EQ(-EINVAL, ack_events(self->u.v.unit_fd, 1));
	ASSERT_EQ(sizeof(ev[0]), read(self->u.v.unit_fd, ev, sizeof(ev)));
	EXPECT_EQ(1ULL, ev[0].seq);
	EXPECT_EQ(FWD_IEC(1), ev[0].desc[0]);
	usleep(200 * 1000);
	EXPECT_EQ(0, READ_ONCE(*status));
	EXPECT_EQ(0, viommu_reg32(&self->u.v, VTD_ICS_REG));
	EXPECT_EQ(1ULL << 4, viommu_reg64(&self->u.v, VTD_IQH_REG));
	EXPECT_EQ(0, viommu_reg32(&self->u.v, VTD_FSTS_REG));
	EXPECT_EQ(-EINVAL, ack_events(self->u.v.unit_fd, 2));

	EXPECT_EQ(0, ack_events(self->u.v.unit_fd, 1));
	EXPECT_EQ(0x5a, READ_ONCE(*status));
	EXPECT_EQ(VTD_ICS_IWC, viommu_reg32(&self->u.v, VTD_ICS_REG));
	EXPECT_EQ(2ULL << 4, viommu_reg64(&self->u.v, VTD_IQH_REG));
	/* An old acknowledgment again: nothing to do. */
	EXPECT_EQ(0, ack_events(self->u.v.unit_fd, 1));
	EXPECT_EQ(0, ack_events(self->u.v.unit_fd, 0));

	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(1, st.forwarded);
	EXPECT_EQ(1, st.waits);
	EXPECT_EQ(1, st.ack_stalls);
	expect_no_exits(_metadata, &self->u);
}

/* Four vCPUs share the queue under a guest lock and ring at will. */
TEST_F_TIMEOUT(vtd, several_vcpus_ring_at_once, 300)
{
	struct vcpu_thread t[MAX_VCPUS];
	pthread_t th[MAX_VCPUS];
	struct kvm_viommu_stats st;
	struct ucall uc;
	int i;

	if (!unit_vm_setup(_metadata, &self->u, guest_multi_vcpu, MAX_VCPUS))
		return;
	args.rounds = 200;
	sync_global_to_guest(self->u.vm, args);
	/* vCPU 0 enables the queue first. */
	ASSERT_EQ(UCALL_SYNC, viommu_vcpu_run(&self->u.v, self->u.vcpus[0], &uc));
	for (i = 0; i < MAX_VCPUS; i++) {
		t[i] = (struct vcpu_thread){ _metadata, &self->u.v,
					     self->u.vcpus[i], 0 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, vcpu_thread_fn,
					    &t[i]));
	}
	for (i = 0; i < MAX_VCPUS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(1, t[i].done);
	}
	viommu_vmm_stats(&self->u.v, &st);
	EXPECT_EQ(MAX_VCPUS * 200, st.waits);
	EXPECT_EQ(MAX_VCPUS * 200 * 2, st.descs);
	EXPECT_EQ(0, st.iq_errors);
	EXPECT_LE(1, variant->sidecore ? st.tracked_writes + st.polled_writes :
		     st.doorbells);
	expect_no_exits(_metadata, &self->u);
}

/*
 * Register words that depend on each other, written back to back: the
 * interrupt message, then the tail of a wait that raises it.  Each time
 * the interrupt arrives with the vector just written, whether the unit
 * took the two words one by one (doorbells and the relay, KVM's tracking)
 * or found them together in the page (the poller).
 */
TEST_F_TIMEOUT(vtd, words_written_between_polls_apply_in_order, 300)
{
	struct kvm_viommu_stats st;

	if (!unit_vm_setup(_metadata, &self->u, guest_words_in_order, 1))
		return;
	args.rounds = 100;
	sync_global_to_guest(self->u.vm, args);
	unit_vm_run(_metadata, &self->u);
	viommu_vmm_stats(&self->u.v, &st);
	TH_LOG("%llu polled writes, %llu tracked, %llu message routings",
	       st.polled_writes, st.tracked_writes,
	       (unsigned long long)self->u.v.msg_routes);
	EXPECT_EQ(100, st.waits);
	EXPECT_EQ(100, st.irqs);
	expect_no_exits(_metadata, &self->u);
}

/* ---- The sidecore's own cases ---- */

FIXTURE(poller) {
	int unused;
};

FIXTURE_SETUP(poller)
{
}

FIXTURE_TEARDOWN(poller)
{
	viommu_vmm_sidecore = 0;
	viommu_restore_params();
}

/* A unit with the sidecore @flags for a new VM running @guest. */
static bool sidecore_vm_setup(struct __test_metadata *_metadata,
			      struct unit_vm *u, void *guest, uint32_t flags)
{
	bool ok;

	viommu_vmm_sidecore = flags;
	ok = unit_vm_setup(_metadata, u, guest, 1);
	viommu_vmm_sidecore = 0;
	return ok;
}

static void sidecore_vm_fini(struct unit_vm *u)
{
	viommu_vmm_fini(&u->v);
	kvm_vm_free(u->vm);
	u->vm = NULL;
}

/* Run vCPU 0 to its GUEST_SYNC(@want), or to GUEST_DONE if @want is 0. */
static void run_to(struct __test_metadata *_metadata, struct unit_vm *u,
		   uint64_t want)
{
	struct ucall uc;

	switch (viommu_vcpu_run(&u->v, u->vcpus[0], &uc)) {
	case UCALL_SYNC:
		ASSERT_EQ(want, uc.args[1]);
		return;
	case UCALL_DONE:
		ASSERT_EQ(0, want);
		return;
	case UCALL_ABORT:
		viommu_log_unit("at the guest's abort");
		REPORT_GUEST_ASSERT_2(uc, "values: %#lx, %#lx");
		break;
	default:
		ASSERT_TRUE(0);
	}
}

/* A VM running @guest (one of the XL_ guests), its unit and table pool. */
static bool xl_vm_setup(struct __test_metadata *_metadata, struct unit_vm *u,
			void *guest)
{
	if (!unit_vm_setup(_metadata, u, guest, 1))
		return false;
	viommu_guest_iommu_mem(u->vm, &gmem, 16);
	sync_global_to_guest(u->vm, gmem);
	return true;
}

/* KVM_VIOMMU_TRANSLATE of @iova for @sid; the answer in @xl, or -errno. */
static int translate(int unit, struct kvm_viommu_translate *xl,
		     uint32_t flags, uint16_t sid, uint64_t iova)
{
	memset(xl, 0xa5, sizeof(*xl));
	xl->size = sizeof(*xl);
	xl->flags = flags;
	xl->iova = iova;
	xl->sid = sid;
	memset(xl->__reserved, 0, sizeof(xl->__reserved));
	return ioctl(unit, KVM_VIOMMU_TRANSLATE, xl) ? -errno : 0;
}

#define XL_R		KVM_VIOMMU_TRANSLATE_READ
#define XL_W		KVM_VIOMMU_TRANSLATE_WRITE
#define XL_RECORD	KVM_VIOMMU_TRANSLATE_RECORD_FAULT
#define XL_PERM_RW	(KVM_VIOMMU_TRANSLATE_PERM_READ | \
			 KVM_VIOMMU_TRANSLATE_PERM_WRITE)

/* A fault's answer: the reason, nothing granted, maybe recorded. */
static void expect_xl_fault(struct __test_metadata *_metadata,
			    const struct kvm_viommu_translate *xl, int fault,
			    uint16_t result)
{
	EXPECT_EQ(fault, xl->fault);
	EXPECT_EQ(0, xl->perm);
	EXPECT_EQ(result, xl->result);
	EXPECT_EQ(0, xl->gpa);
	EXPECT_EQ(0, xl->page_size);
}

/*
 * The fault record the guest reads @n records after FSTS.FRI (the first
 * pending one), and that one is pending.
 */
static void expect_record(struct __test_metadata *_metadata,
			  struct unit_vm *u, uint32_t n, uint64_t addr,
			  uint64_t hi)
{
	uint32_t fsts = viommu_reg32(&u->v, VTD_FSTS_REG);
	uint32_t i = ((fsts & VTD_FSTS_FRI) >> 8) + n;

	EXPECT_TRUE(fsts & VTD_FSTS_PPF);
	i %= VTD_NR_FRCD;
	EXPECT_EQ(hi, viommu_reg64(&u->v, VTD_FRCD_REG + 16 * i + 8));
	EXPECT_EQ(addr, viommu_reg64(&u->v, VTD_FRCD_REG + 16 * i));
}

/*
 * The VMM's own devices translate through the guest's tables: untranslated
 * with translation off; through the leaves, offset kept, with their size
 * and permissions; a request they do not grant faults, recorded in the
 * guest's fault registers (and its fault event raised: pending, as the
 * guest left it masked) only when the VMM asks; the interrupt range is
 * not remapped.  Bad input is refused.
 */
TEST_F(vtd, translate_for_the_vmm_devices)
{
	struct unit_vm *u = &self->u;
	struct {
		struct kvm_viommu_translate xl;
		uint64_t tail;
	} big = {};
	struct kvm_viommu_translate xl;
	struct kvm_viommu_stats st;
	int unit;

	if (!xl_vm_setup(_metadata, u, guest_translate))
		return;
	unit = u->v.unit_fd;

	/* Translation off, as at reset: any device, any address. */
	ASSERT_EQ(0, translate(unit, &xl, XL_W, EDU_SID + 1, 0x1234567));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(0x1234567, xl.gpa);
	EXPECT_EQ(4096, xl.page_size);
	EXPECT_EQ(XL_PERM_RW, xl.perm);
	EXPECT_EQ(KVM_VIOMMU_TRANSLATE_UNTRANSLATED, xl.result);

	run_to(_metadata, u, 1);
	ASSERT_EQ(0, translate(unit, &xl, XL_R | XL_W, EDU_SID,
			       XL_RW_IOVA + 0x123));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(XL_RW_GPA + 0x123, xl.gpa);
	EXPECT_EQ(4096, xl.page_size);
	EXPECT_EQ(XL_PERM_RW, xl.perm);
	EXPECT_EQ(0, xl.result);
	EXPECT_EQ(1, xl.did);
	ASSERT_EQ(0, translate(unit, &xl, XL_W, EDU_SID, XL_2M_IOVA + 0x12345));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(XL_2M_GPA + 0x12345, xl.gpa);
	EXPECT_EQ(2 << 20, xl.page_size);
	ASSERT_EQ(0, translate(unit, &xl, XL_R | XL_RECORD, EDU_SID,
			       XL_RO_IOVA));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(XL_RO_GPA, xl.gpa);
	EXPECT_EQ(KVM_VIOMMU_TRANSLATE_PERM_READ, xl.perm);
	/* A lookup needs nothing and says what is granted. */
	ASSERT_EQ(0, translate(unit, &xl, 0, EDU_SID, XL_RO_IOVA));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(KVM_VIOMMU_TRANSLATE_PERM_READ, xl.perm);

	/* A write to the read-only page: reason 5, and nothing recorded. */
	ASSERT_EQ(0, translate(unit, &xl, XL_W, EDU_SID, XL_RO_IOVA + 8));
	expect_xl_fault(_metadata, &xl, 5, 0);
	/* Not present, for a read: reason 6; no context: reason 2. */
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RO_IOVA + 4096));
	expect_xl_fault(_metadata, &xl, 6, 0);
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID + 1, XL_RW_IOVA));
	expect_xl_fault(_metadata, &xl, 2, 0);
	EXPECT_EQ(0, viommu_reg32(&u->v, VTD_FSTS_REG));

	/* The interrupt range is not remapped: nothing granted, no fault. */
	ASSERT_EQ(0, translate(unit, &xl, XL_W | XL_RECORD, EDU_SID,
			       0xfee00000));
	expect_xl_fault(_metadata, &xl, 0, KVM_VIOMMU_TRANSLATE_INTERRUPT);
	EXPECT_EQ(0, viommu_reg32(&u->v, VTD_FSTS_REG));

	/* Now recorded, as the guest reads it: a write (T 0). */
	ASSERT_EQ(0, translate(unit, &xl, XL_W | XL_RECORD, EDU_SID,
			       XL_RO_IOVA + 8));
	expect_xl_fault(_metadata, &xl, 5, KVM_VIOMMU_TRANSLATE_RECORDED);
	expect_record(_metadata, u, 0, XL_RO_IOVA,
		      VTD_FRCD_HI_F | 5ULL << 32 | EDU_SID);
	EXPECT_EQ(VTD_FECTL_IM | VTD_FECTL_IP,
		  viommu_reg32(&u->v, VTD_FECTL_REG));
	/* A status is pending: the sidecore's page is tracked again. */
	if (u->v.sidecore)
		EXPECT_EQ(1, viommu_unit_info("sidecore_tracked"));
	/* A read (T 1), in the next record. */
	ASSERT_EQ(0, translate(unit, &xl, XL_R | XL_RECORD, EDU_SID + 1,
			       XL_RW_IOVA + 0x10));
	expect_xl_fault(_metadata, &xl, 2, KVM_VIOMMU_TRANSLATE_RECORDED);
	expect_record(_metadata, u, 1, XL_RW_IOVA, VTD_FRCD_HI_F |
		      VTD_FRCD_HI_T | 2ULL << 32 | (EDU_SID + 1));
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(2, st.faults);
	EXPECT_EQ(11, st.translations);
	EXPECT_EQ(5, st.translate_faults);

	/* Bad input, refused with nothing counted. */
	EXPECT_EQ(-EINVAL, translate(unit, &xl, 1U << 3, EDU_SID, 0));
	EXPECT_EQ(-EINVAL, translate(unit, &xl, XL_RECORD, EDU_SID, 0));
	memset(&xl, 0, sizeof(xl));
	xl.size = sizeof(xl);
	xl.__reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(unit, KVM_VIOMMU_TRANSLATE, &xl));
	EXPECT_EQ(EINVAL, errno);
	xl.__reserved[2] = 0;
	xl.size = offsetof(struct kvm_viommu_translate, did);
	EXPECT_EQ(-1, ioctl(unit, KVM_VIOMMU_TRANSLATE, &xl));
	EXPECT_EQ(EINVAL, errno);
	/* A newer VMM's longer struct: its tail must be zero. */
	big.xl.size = sizeof(big);
	big.tail = 1;
	EXPECT_EQ(-1, ioctl(unit, KVM_VIOMMU_TRANSLATE, &big));
	EXPECT_EQ(E2BIG, errno);
	big.tail = 0;
	EXPECT_EQ(0, ioctl(unit, KVM_VIOMMU_TRANSLATE, &big));
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(12, st.translations);

	/* Off again: untranslated again. */
	run_to(_metadata, u, 2);
	ASSERT_EQ(0, translate(unit, &xl, XL_W, EDU_SID, XL_RO_IOVA));
	EXPECT_EQ(0, xl.fault);
	EXPECT_EQ(XL_RO_IOVA, xl.gpa);
	EXPECT_EQ(XL_PERM_RW, xl.perm);
	EXPECT_EQ(KVM_VIOMMU_TRANSLATE_UNTRANSLATED, xl.result);
	run_to(_metadata, u, 0);
	expect_no_exits(_metadata, u);
}

static int set_events(int unit, uint32_t mask, uint32_t flags,
		      uint32_t reserved)
{
	struct kvm_viommu_events e = {
		.size = sizeof(e),
		.flags = flags,
		.mask = mask,
		.__reserved = reserved,
	};

	return ioctl(unit, KVM_VIOMMU_SET_EVENTS, &e) ? -errno : 0;
}

/* vCPU 0 run to its next ucall in a thread of its own. */
struct vcpu_runner {
	struct unit_vm *u;
	struct ucall uc;
	uint64_t ret;
	int done;			/* the run returned */
	pthread_t th;
};

static void *vcpu_runner_fn(void *data)
{
	struct vcpu_runner *r = data;

	r->ret = viommu_vcpu_run(&r->u->v, r->u->vcpus[0], &r->uc);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The one invalidation event the unit has now, waiting up to 10 s for
 * it; false (the test failed) if there is none, or more than one.
 */
static bool get_one_event(struct __test_metadata *_metadata, int unit,
			  struct kvm_viommu_event *ev)
{
	struct pollfd pfd = { .fd = unit, .events = POLLIN };
	struct kvm_viommu_event evs[4];
	ssize_t n = -1;

	if (poll(&pfd, 1, 10000) == 1)
		n = read(unit, evs, sizeof(evs));
	EXPECT_EQ(sizeof(evs[0]), n) {
		return false;
	}
	*ev = evs[0];
	EXPECT_EQ(KVM_VIOMMU_EVENT_DESC, ev->type);
	EXPECT_EQ(KVM_VIOMMU_EVENT_INVALIDATION, ev->flags);
	return true;
}

static void read_one_event(struct __test_metadata *_metadata, int unit,
			   struct kvm_viommu_event *ev)
{
	ASSERT_TRUE(get_one_event(_metadata, unit, ev));
}

/*
 * A VMM that keeps translations learns of the guest's invalidations that
 * cover them, and only of those (not domain 2's, where it translated
 * nothing), in their queued form; the wait after one completes only once
 * the VMM acknowledged it; translation going off comes as a global
 * context-cache invalidation.
 */
TEST_F_TIMEOUT(vtd, invalidations_reach_a_vmm_that_holds_translations, 120)
{
	struct unit_vm *u = &self->u;
	struct kvm_viommu_translate xl;
	struct kvm_viommu_stats st;
	struct kvm_viommu_event ev;
	struct vcpu_runner run = {};
	uint32_t *status;
	int unit;

	if (!xl_vm_setup(_metadata, u, guest_translate_invalidate))
		return;
	status = addr_gva2hva(u->vm, gmem.status_gva);
	unit = u->v.unit_fd;
	EXPECT_EQ(-EINVAL, set_events(unit, 1U << 1, 0, 0));
	EXPECT_EQ(-EINVAL, set_events(unit, 0, 1, 0));
	EXPECT_EQ(-EINVAL, set_events(unit, 0, 0, 1));
	ASSERT_EQ(0, set_events(unit, KVM_VIOMMU_EVENTS_INVALIDATIONS, 0, 0));

	run_to(_metadata, u, 1);
	/* Nothing held yet: the guest's boot invalidations went nowhere. */
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(0, st.inval_events);
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RW_IOVA));
	EXPECT_EQ(0, xl.fault);

	run_to(_metadata, u, 2);
	read_one_event(_metadata, unit, &ev);
	EXPECT_EQ(DESC_IOTLB_PSI(1), ev.desc[0]);
	EXPECT_EQ(XL_RW_IOVA, ev.desc[1]);
	/* The wait waits for the VMM. */
	usleep(200 * 1000);
	EXPECT_EQ(0, READ_ONCE(*status));
	EXPECT_EQ(0, ack_events(unit, ev.seq));
	EXPECT_EQ(0x5a, READ_ONCE(*status));
	/* Asked again: the page is gone; the read-only one is there. */
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RW_IOVA));
	EXPECT_EQ(6, xl.fault);
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RO_IOVA));
	EXPECT_EQ(0, xl.fault);

	/*
	 * Translation off: the guest polls TES, which reads as set until
	 * the VMM acknowledged, so it runs in a thread of its own.
	 */
	run.u = u;
	ASSERT_EQ(0, pthread_create(&run.th, NULL, vcpu_runner_fn, &run));
	if (get_one_event(_metadata, unit, &ev)) {
		EXPECT_EQ(DESC_CC_GLOBAL, ev.desc[0]);
		EXPECT_EQ(0, ev.desc[1]);
		/* The guest polls a TES that still reads as set. */
		usleep(200 * 1000);
		EXPECT_EQ(0, __atomic_load_n(&run.done, __ATOMIC_ACQUIRE));
		EXPECT_TRUE(viommu_reg32(&u->v, VTD_GSTS_REG) &
			    VTD_GSTS_TES);
		EXPECT_EQ(0, ack_events(unit, ev.seq));
	}
	/* Without the event the guest gives up on its own: joined anyway. */
	pthread_join(run.th, NULL);
	if (run.ret == UCALL_ABORT)
		REPORT_GUEST_ASSERT_2(run.uc, "values: %#lx, %#lx");
	ASSERT_EQ(UCALL_SYNC, run.ret);
	ASSERT_EQ(3, run.uc.args[1]);
	ASSERT_EQ(0, set_events(unit, 0, 0, 0));
	run_to(_metadata, u, 0);
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(2, st.inval_events);
	EXPECT_LE(1, st.ack_stalls);
	expect_no_exits(_metadata, u);
}

/*
 * The ring full of the guest's invalidations, translation goes off (a
 * register write): no room for its event, so a global one is owed, goes
 * as soon as a read makes room, and until the VMM acknowledged it the
 * guest's wait does not complete.  What the queue had left then covers
 * nothing the VMM holds: no event.
 */
TEST_F_TIMEOUT(vtd, an_event_the_ring_had_no_room_for_is_owed, 120)
{
	struct kvm_viommu_reg reg = {
		.size = sizeof(reg),
		.offset = VTD_GCMD_REG,
		.len = 4,
		.value = VTD_GCMD_QIE,	/* TE off, the queue kept on */
	};
	struct pollfd pfd = { .events = POLLIN };
	struct unit_vm *u = &self->u;
	struct kvm_viommu_event ev[8];
	struct kvm_viommu_translate xl;
	struct kvm_viommu_stats st;
	uint32_t *status, n = 0;
	ssize_t got;
	int unit;

	if (!xl_vm_setup(_metadata, u, guest_translate_flood))
		return;
	status = addr_gva2hva(u->vm, gmem.status_gva);
	unit = u->v.unit_fd;
	ASSERT_EQ(0, set_events(unit, KVM_VIOMMU_EVENTS_INVALIDATIONS, 0, 0));
	run_to(_metadata, u, 1);
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RW_IOVA));
	run_to(_metadata, u, 2);
	/* The queue stops with the ring full. */
	pfd.fd = unit;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	for (n = 0; n < 100; n++) {
		viommu_vmm_stats(&u->v, &st);
		if (st.inval_events == 64)
			break;
		usleep(10 * 1000);
	}
	ASSERT_EQ(64, st.inval_events);
	/* Translation off, relayed: its event finds no room. */
	ASSERT_EQ(0, ioctl(unit, KVM_VIOMMU_REG_WRITE, &reg));
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(64, st.inval_events);
	/* The command waits for it: TES still reads as set. */
	EXPECT_TRUE(viommu_reg32(&u->v, VTD_GSTS_REG) & VTD_GSTS_TES);
	/* Read them all: the owed one comes last, as the 65th. */
	for (n = 0; n < 65; n += got / sizeof(ev[0])) {
		ASSERT_EQ(1, poll(&pfd, 1, 10000));
		got = read(unit, ev, sizeof(ev));
		ASSERT_LT(0, got);
		ASSERT_EQ(0, got % sizeof(ev[0]));
		if (n + got / sizeof(ev[0]) < 65)
			EXPECT_EQ(DESC_IOTLB_PSI(1), ev[0].desc[0]);
	}
	ASSERT_EQ(65, n);
	EXPECT_EQ(DESC_CC_GLOBAL, ev[got / sizeof(ev[0]) - 1].desc[0]);
	EXPECT_EQ(65, ev[got / sizeof(ev[0]) - 1].seq);
	/* Acknowledged but for the owed one: the wait and TES still wait. */
	EXPECT_EQ(0, ack_events(unit, 64));
	usleep(200 * 1000);
	EXPECT_EQ(0, READ_ONCE(*status));
	EXPECT_TRUE(viommu_reg32(&u->v, VTD_GSTS_REG) & VTD_GSTS_TES);
	EXPECT_EQ(0, ack_events(unit, 65));
	EXPECT_EQ(0x5a, READ_ONCE(*status));
	EXPECT_FALSE(viommu_reg32(&u->v, VTD_GSTS_REG) & VTD_GSTS_TES);
	run_to(_metadata, u, 0);
	viommu_vmm_stats(&u->v, &st);
	EXPECT_EQ(65, st.inval_events);
	/* The boot's four and the tables' two, the flood and its wait. */
	EXPECT_EQ(6 + XL_FLOOD + 1, st.descs);
}

/* A relayed register write of the guest's, unchecked: 0 or -errno. */
static int relay_write(int unit, uint32_t off, uint32_t len, uint64_t val)
{
	struct kvm_viommu_reg reg = {
		.size = sizeof(reg),
		.offset = off,
		.len = len,
		.value = val,
	};

	return ioctl(unit, KVM_VIOMMU_REG_WRITE, &reg) ? -errno : 0;
}

/*
 * Register-based invalidations reach the VMM too, converted to their
 * queued form, and the command reads as in progress (IOTLB_REG.IVT,
 * GSTS.TES) until the VMM has acknowledged: the guest polls the register
 * as hardware has it, and the VMM holds nothing stale once it clears.
 */
TEST_F_TIMEOUT(vtd, register_invalidations_wait_for_the_vmm, 120)
{
	struct unit_vm *u = &self->u;
	struct kvm_viommu_translate xl;
	struct kvm_viommu_event ev;
	int unit;

	if (!xl_vm_setup(_metadata, u, guest_translate))
		return;
	unit = u->v.unit_fd;
	ASSERT_EQ(0, set_events(unit, KVM_VIOMMU_EVENTS_INVALIDATIONS, 0, 0));
	run_to(_metadata, u, 1);
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RW_IOVA));
	ASSERT_EQ(1, xl.did);

	/* Queued invalidation off (register-based ones are then done). */
	ASSERT_EQ(0, relay_write(unit, VTD_GCMD_REG, 4, VTD_GCMD_TE));
	/* Two pages from the read-write one, leaf entries only, domain 1. */
	ASSERT_EQ(0, relay_write(unit, VTD_IVA_REG, 8,
				 XL_RW_IOVA | VTD_IVA_IH | 1));
	ASSERT_EQ(0, relay_write(unit, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT |
				 3ULL << 60 | 1ULL << 32));
	read_one_event(_metadata, unit, &ev);
	EXPECT_EQ(DESC_IOTLB_PSI(1), ev.desc[0]);
	EXPECT_EQ(XL_RW_IOVA | VTD_INV_DESC_IOTLB_IH | 1, ev.desc[1]);
	EXPECT_TRUE(viommu_reg64(&u->v, VTD_IOTLB_REG) & VTD_IOTLB_IVT);
	EXPECT_EQ(0, ack_events(unit, ev.seq));
	EXPECT_FALSE(viommu_reg64(&u->v, VTD_IOTLB_REG) & VTD_IOTLB_IVT);
	/* Domain 2, where the VMM holds nothing: no event, no wait. */
	ASSERT_EQ(0, relay_write(unit, VTD_IOTLB_REG, 8, VTD_IOTLB_IVT |
				 2ULL << 60 | 2ULL << 32));
	EXPECT_FALSE(viommu_reg64(&u->v, VTD_IOTLB_REG) & VTD_IOTLB_IVT);

	/*
	 * A device-selective context-cache invalidation (FM 1), through
	 * CCMD: ICC waits too, and still after the events go off, until
	 * the VMM acknowledged what it was told.
	 */
	ASSERT_EQ(0, relay_write(unit, VTD_CCMD_REG, 8, VTD_CCMD_ICC |
				 3ULL << 61 | 1ULL << 32 |
				 (uint64_t)EDU_SID << 16 | 1));
	read_one_event(_metadata, unit, &ev);
	EXPECT_EQ(VTD_INV_DESC_CC | 3ULL << 4 | 1ULL << 16 |
		  (uint64_t)EDU_SID << 32 | 1ULL << 48, ev.desc[0]);
	EXPECT_TRUE(viommu_reg64(&u->v, VTD_CCMD_REG) & VTD_CCMD_ICC);
	ASSERT_EQ(0, set_events(unit, 0, 0, 0));
	EXPECT_TRUE(viommu_reg64(&u->v, VTD_CCMD_REG) & VTD_CCMD_ICC);
	EXPECT_EQ(0, ack_events(unit, ev.seq));
	EXPECT_FALSE(viommu_reg64(&u->v, VTD_CCMD_REG) & VTD_CCMD_ICC);
	ASSERT_EQ(0, set_events(unit, KVM_VIOMMU_EVENTS_INVALIDATIONS, 0, 0));
	ASSERT_EQ(0, translate(unit, &xl, XL_R, EDU_SID, XL_RO_IOVA));

	/* Translation off: TES reads as set until the VMM let go. */
	ASSERT_EQ(0, relay_write(unit, VTD_GCMD_REG, 4, 0));
	read_one_event(_metadata, unit, &ev);
	EXPECT_EQ(DESC_CC_GLOBAL, ev.desc[0]);
	EXPECT_TRUE(viommu_reg32(&u->v, VTD_GSTS_REG) & VTD_GSTS_TES);
	EXPECT_EQ(0, ack_events(unit, ev.seq));
	EXPECT_FALSE(viommu_reg32(&u->v, VTD_GSTS_REG) & VTD_GSTS_TES);
	run_to(_metadata, u, 2);
	run_to(_metadata, u, 0);
}

/* With KVM_VIOMMU_CREATE_TE_OFF_BLOCKS, translation off blocks them too. */
TEST_F(vtd, translate_blocked_while_off_if_the_unit_blocks)
{
	struct unit_vm *u = &self->u;
	struct kvm_viommu_translate xl;

	viommu_vmm_create_flags = KVM_VIOMMU_CREATE_TE_OFF_BLOCKS;
	if (!unit_vm_setup(_metadata, u, guest_translate, 1)) {
		viommu_vmm_create_flags = 0;
		return;
	}
	viommu_vmm_create_flags = 0;
	ASSERT_EQ(0, translate(u->v.unit_fd, &xl, XL_W, EDU_SID, 0x5000));
	expect_xl_fault(_metadata, &xl, 0, KVM_VIOMMU_TRANSLATE_BLOCKED);
}

static int set_sidecore(int unit, uint32_t flags, uint64_t gpa, int msg_fd,
			uint32_t reserved)
{
	struct kvm_viommu_sidecore sc = {
		.size = sizeof(sc),
		.flags = flags,
		.reg_gpa = gpa,
		.msg_fd = msg_fd,
		.__reserved = reserved,
	};

	return ioctl(unit, KVM_VIOMMU_SET_SIDECORE, &sc) ? -errno : 0;
}

/*
 * KVM_VIOMMU_SET_SIDECORE refuses what it cannot use: bad flags, reserved
 * bits, an unaligned address, a memslot that is read-only, absent, or not
 * the unit's page, a message fd that is not an eventfd.  Then on, on
 * elsewhere (EBUSY), off, on again with the poller.
 */
TEST(set_sidecore_bad_input)
{
	struct unit_vm u = {};
	uint8_t *rw;
	int efd, pipefd[2], unit, ret;
	uint64_t ram_gpa;

	viommu_vmm_sidecore = 0;
	u.vm = vm_create_with_vcpus(1, guest_first_batch, u.vcpus);
	ASSERT_EQ(0, viommu_vmm_init(&u.v, u.vm, 0, 0));
	unit = u.v.unit_fd;
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(pipefd));
	ram_gpa = addr_gva2gpa(u.vm, vm_vaddr_alloc_page(u.vm));

	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_POLL,
					VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, 1U << 2, VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					VIOMMU_REG_GPA, efd, 1));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					VIOMMU_REG_GPA + 8, efd, 0));
	EXPECT_EQ(-EBADF, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
				       VIOMMU_REG_GPA, -1, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					VIOMMU_REG_GPA, pipefd[0], 0));
	/* The read-only memslot of the doorbell wiring. */
	ret = set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK, VIOMMU_REG_GPA,
			   efd, 0);
	if (ret == -EOPNOTSUPP)
		SKIP(goto out, "no KVM write tracking for modules here");
	EXPECT_EQ(-EINVAL, ret);
	/* Guest RAM that is not the unit's page; no memslot at all. */
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					ram_gpa, efd, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					0x7000000000ULL, efd, 0));

	/* The page, writable, as a writable memslot: now it takes. */
	rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, unit, 0);
	ASSERT_NE(MAP_FAILED, rw);
	vm_set_user_memory_region(u.vm, VIOMMU_REG_SLOT, 0, VIOMMU_REG_GPA, 0,
				  NULL);
	vm_set_user_memory_region(u.vm, VIOMMU_REG_SLOT, 0, VIOMMU_REG_GPA,
				  4096, rw);
	EXPECT_EQ(0, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
				  VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(-EBUSY, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
				       ram_gpa, efd, 0));
	EXPECT_EQ(0, set_sidecore(unit, 0, 0, -1, 0));
	EXPECT_EQ(0, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK |
				  KVM_VIOMMU_SIDECORE_POLL, VIOMMU_REG_GPA,
				  efd, 0));
	EXPECT_EQ(KVM_VIOMMU_SIDECORE_TRACK | KVM_VIOMMU_SIDECORE_POLL,
		  viommu_unit_info("sidecore"));
	/* GCMD reads as the enables in force: none yet. */
	EXPECT_EQ(0, viommu_reg32(&u.v, VTD_GCMD_REG));
	/*
	 * Root's sidecore=N: a unit already on may drop the poller and go
	 * off, but gains nothing; bad input is still refused as such first,
	 * as on a kernel without the tracking.
	 */
	ASSERT_EQ(0, viommu_set_param("sidecore", "N"));
	EXPECT_EQ(0, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK |
				  KVM_VIOMMU_SIDECORE_POLL, VIOMMU_REG_GPA,
				  efd, 0));
	EXPECT_EQ(0, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
				  VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(-EOPNOTSUPP, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK |
					    KVM_VIOMMU_SIDECORE_POLL,
					    VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(KVM_VIOMMU_SIDECORE_TRACK, viommu_unit_info("sidecore"));
	EXPECT_EQ(0, set_sidecore(unit, 0, 0, -1, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					VIOMMU_REG_GPA + 8, efd, 0));
	EXPECT_EQ(-EINVAL, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					ram_gpa, efd, 0));
	EXPECT_EQ(-EOPNOTSUPP, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
					    VIOMMU_REG_GPA, efd, 0));
	EXPECT_EQ(0, viommu_unit_info("sidecore"));
	viommu_restore_params();
	EXPECT_EQ(0, set_sidecore(unit, KVM_VIOMMU_SIDECORE_TRACK,
				  VIOMMU_REG_GPA, efd, 0));
	munmap(rw, 4096);
out:
	close(pipefd[0]);
	close(pipefd[1]);
	close(efd);
	viommu_vmm_fini(&u.v);
	kvm_vm_free(u.vm);
	EXPECT_EQ(0, viommu_count_units());
}

/*
 * The VMM deletes the register page's memslot and puts it back, as VMMs
 * do when they rebuild their memory map: KVM drops its tracking with the
 * memslot, and the unit finds the page again and re-arms; what the guest
 * writes meanwhile is not lost.
 */
TEST_F_TIMEOUT(poller, memslot_lost_and_found, 120)
{
	struct kvm_viommu_stats st;
	struct unit_vm u = {};
	struct ucall uc;
	int i;

	viommu_vmm_sidecore = KVM_VIOMMU_SIDECORE_TRACK;
	if (!unit_vm_setup(_metadata, &u, guest_batches, 1)) {
		viommu_vmm_sidecore = 0;
		return;
	}
	viommu_vmm_sidecore = 0;
	args.batch = 4;
	args.rounds = 50;
	sync_global_to_guest(u.vm, args);
	for (i = 0; i < 3; i++) {
		vm_set_user_memory_region(u.vm, VIOMMU_REG_SLOT, 0,
					  VIOMMU_REG_GPA, 0, NULL);
		usleep(20 * 1000);
		vm_set_user_memory_region(u.vm, VIOMMU_REG_SLOT, 0,
					  VIOMMU_REG_GPA, 4096, u.v.regs);
	}
	ASSERT_EQ(UCALL_DONE, viommu_vcpu_run(&u.v, u.vcpus[0], &uc));
	viommu_vmm_stats(&u.v, &st);
	EXPECT_EQ(50, st.waits);
	EXPECT_EQ(0, st.iq_errors);
	EXPECT_EQ(0, u.v.mmio_writes);
	viommu_vmm_fini(&u.v);
	kvm_vm_free(u.vm);
}

/* The sidecore poller threads of this process's units, from debugfs. */
static int poller_pids(pid_t *pids, int max)
{
	char prefix[32], path[300], line[128];
	struct dirent *de;
	int n = 0;
	FILE *f;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	d = opendir("/sys/kernel/debug/kvm_viommu");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/kvm_viommu/%s/info", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "sidecore_poller_pid: %d", &pids[n]) == 1)
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void *unit_vm_thread(void *data)
{
	struct unit_vm *u = data;
	struct ucall uc;

	return (void *)(long)viommu_vcpu_run(&u->v, u->vcpus[0], &uc);
}

/* CPU time (user + system, in clock ticks) and state of task @pid. */
static long task_ticks(pid_t pid, char *state)
{
	unsigned long utime, stime;
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 state, &utime, &stime) != 3)
		return -1;
	return utime + stime;
}

/*
 * One poller serves two VMs' units at once (sidecore_pollers is 1), and
 * once they are idle it parks them and sleeps: over a second it takes
 * less than 5% of a CPU.
 */
TEST_F_TIMEOUT(poller, one_serves_two_units_and_sleeps_when_idle, 300)
{
	struct unit_vm u[2] = {};
	struct kvm_viommu_stats st;
	long ticks0, ticks1, hz = sysconf(_SC_CLK_TCK);
	pthread_t th[2];
	pid_t pids[2];
	char state;
	void *ret;
	int i;

	ASSERT_EQ(0, viommu_mount_debugfs());
	viommu_vmm_sidecore = KVM_VIOMMU_SIDECORE_TRACK |
			      KVM_VIOMMU_SIDECORE_POLL;
	for (i = 0; i < 2; i++) {
		if (!unit_vm_setup(_metadata, &u[i], guest_batches, 1)) {
			viommu_vmm_sidecore = 0;
			return;
		}
		args.batch = 8;
		args.rounds = 100;
		sync_global_to_guest(u[i].vm, args);
	}
	viommu_vmm_sidecore = 0;
	ASSERT_EQ(2, poller_pids(pids, 2));
	EXPECT_EQ(pids[0], pids[1]);
	ASSERT_LT(0, pids[0]);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, unit_vm_thread,
					    &u[i]));
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], &ret);
		EXPECT_EQ(UCALL_DONE, (long)ret);
		viommu_vmm_stats(&u[i].v, &st);
		EXPECT_EQ(100, st.waits);
		TH_LOG("unit %d: %llu polled writes, %llu tracked, %llu parks",
		       i, st.polled_writes, st.tracked_writes, st.parks);
	}
	/* Idle: after its spin window the poller sleeps. */
	usleep(200 * 1000);
	ticks0 = task_ticks(pids[0], &state);
	sleep(1);
	ticks1 = task_ticks(pids[0], &state);
	ASSERT_LE(0, ticks0);
	TH_LOG("idle poller: %ld ticks of %ld in 1 s, state %c",
	       ticks1 - ticks0, hz, state);
	EXPECT_GE(hz / 20, ticks1 - ticks0);
	EXPECT_EQ('S', state);
	for (i = 0; i < 2; i++) {
		viommu_vmm_fini(&u[i].v);
		kvm_vm_free(u[i].vm);
	}
	EXPECT_EQ(0, viommu_count_units());
}

static int get_irq_msgs(int unit, struct kvm_viommu_irq_msgs *msgs)
{
	memset(msgs, 0, sizeof(*msgs));
	msgs->size = sizeof(*msgs);
	return ioctl(unit, KVM_VIOMMU_GET_IRQ_MSGS, msgs) ? -errno : 0;
}

static int ack_irq_msgs(int unit, uint64_t gen)
{
	struct kvm_viommu_ack_events ack = {
		.size = sizeof(ack),
		.flags = KVM_VIOMMU_ACK_IRQ_MSGS,
		.seq = gen,
	};

	return ioctl(unit, KVM_VIOMMU_ACK_EVENTS, &ack) ? -errno : 0;
}

/* The guest's interrupt count for @which (0: completion vector). */
static uint32_t guest_irqs(struct kvm_vm *vm, unsigned int which)
{
	sync_global_from_guest(vm, irq_count);
	return irq_count[which];
}

/*
 * The VMM has not routed the message the guest just programmed: the
 * completion interrupt waits.  Acknowledging an older generation than
 * the messages' releases nothing; the right one sends it.
 */
TEST_F_TIMEOUT(poller, irq_held_until_its_generation_is_acked, 120)
{
	struct kvm_viommu_irq_msgs msgs;
	struct kvm_viommu_stats st;
	struct unit_vm u = {};

	if (!sidecore_vm_setup(_metadata, &u, guest_irq_hold,
			       KVM_VIOMMU_SIDECORE_TRACK))
		return;
	viommu_vmm_stop_routing(&u.v);
	args.mode = 0;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	EXPECT_EQ(1 << KVM_VIOMMU_IRQ_INV_COMPLETION,
		  viommu_unit_info("irq_held"));
	ASSERT_EQ(0, get_irq_msgs(u.v.unit_fd, &msgs));
	ASSERT_LE(2, msgs.gen);
	EXPECT_EQ(IRQ_VECTOR_INV, msgs.msg[KVM_VIOMMU_IRQ_INV_COMPLETION].data);
	viommu_vmm_route_msgs(&u.v, msgs.msg);

	EXPECT_EQ(-EINVAL, ack_irq_msgs(u.v.unit_fd, msgs.gen + 1));
	EXPECT_EQ(0, ack_irq_msgs(u.v.unit_fd, msgs.gen - 1));
	EXPECT_EQ(msgs.gen - 1, viommu_unit_info("irq_msg_acked"));
	EXPECT_EQ(1 << KVM_VIOMMU_IRQ_INV_COMPLETION,
		  viommu_unit_info("irq_held"));
	EXPECT_EQ(0, guest_irqs(u.vm, 0));

	EXPECT_EQ(0, ack_irq_msgs(u.v.unit_fd, msgs.gen));
	EXPECT_EQ(0, viommu_unit_info("irq_held"));
	/* The guest now waits for it. */
	run_to(_metadata, &u, 0);
	EXPECT_EQ(1, guest_irqs(u.vm, 0));
	viommu_vmm_stats(&u.v, &st);
	EXPECT_EQ(1, st.irqs);
	sidecore_vm_fini(&u);
}

/*
 * The sidecore goes off while an interrupt waits for the VMM's routing:
 * the relay reports message changes from now on, so it goes out (@mask
 * 0); or, if the guest masked it meanwhile, stays pending in IECTL.IP and
 * goes out when the guest unmasks it (relayed by the VMM, as it is now).
 */
static void sidecore_off_with_an_interrupt_held(struct __test_metadata *_metadata,
						bool mask)
{
	struct kvm_viommu_irq_msgs msgs;
	struct kvm_viommu_reg reg = {
		.size = sizeof(reg),
		.offset = VTD_IECTL_REG,
		.len = 4,
	};
	struct unit_vm u = {};

	if (!sidecore_vm_setup(_metadata, &u, guest_irq_hold,
			       KVM_VIOMMU_SIDECORE_TRACK))
		return;
	viommu_vmm_stop_routing(&u.v);
	args.mode = mask;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	EXPECT_EQ(1 << KVM_VIOMMU_IRQ_INV_COMPLETION,
		  viommu_unit_info("irq_held"));
	/* The VMM routes, but says nothing: it turns the sidecore off. */
	ASSERT_EQ(0, get_irq_msgs(u.v.unit_fd, &msgs));
	viommu_vmm_route_msgs(&u.v, msgs.msg);
	if (mask)
		run_to(_metadata, &u, 2);
	ASSERT_EQ(0, set_sidecore(u.v.unit_fd, 0, 0, -1, 0));
	EXPECT_EQ(0, viommu_unit_info("irq_held"));
	if (mask) {
		EXPECT_EQ(VTD_IECTL_IM | VTD_IECTL_IP,
			  viommu_reg32(&u.v, VTD_IECTL_REG));
		EXPECT_EQ(0, guest_irqs(u.vm, 0));
		ASSERT_EQ(0, ioctl(u.v.unit_fd, KVM_VIOMMU_REG_WRITE, &reg));
		EXPECT_EQ(0, viommu_reg32(&u.v, VTD_IECTL_REG));
	}
	run_to(_metadata, &u, 0);
	EXPECT_EQ(1, guest_irqs(u.vm, 0));
	sidecore_vm_fini(&u);
}

TEST_F_TIMEOUT(poller, sidecore_off_sends_held_interrupts, 120)
{
	sidecore_off_with_an_interrupt_held(_metadata, false);
}

TEST_F_TIMEOUT(poller, sidecore_off_leaves_a_masked_one_pending, 120)
{
	sidecore_off_with_an_interrupt_held(_metadata, true);
}

/* KVM_SET_USER_MEMORY_REGION, unchecked: 0 or -errno. */
static int set_region(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		      uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/* Wait up to a second for the unit to take the page's writes again. */
static bool page_rearmed(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (viommu_unit_info("sidecore_tracked") == 1 ||
		    viommu_unit_info("sidecore_polled") == 1)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/*
 * After guest_slot_phases()' stop 2: the sidecore off, the guest's stores
 * to the page must not exit, or the unit left a count of its own in
 * KVM's write tracking.
 */
static void expect_tracking_gone(struct __test_metadata *_metadata,
				 struct unit_vm *u)
{
	uint64_t exits;

	ASSERT_EQ(0, set_sidecore(u->v.unit_fd, 0, 0, -1, 0));
	exits = viommu_vcpu_stat(u->vcpus[0], "exits");
	run_to(_metadata, u, 3);
	exits = viommu_vcpu_stat(u->vcpus[0], "exits") - exits;
	TH_LOG("%llu exits for %d stores to the page, sidecore off",
	       (unsigned long long)exits, SCRATCH_WRITES);
	EXPECT_GT(SCRATCH_WRITES / 10, exits);
	run_to(_metadata, u, 0);
}

/* What the guest's last ucall in slot_phase_thread() said. */
static struct ucall slot_phase_uc;

/* Runs the guest from its stop 1 to its stop 2 (guest_slot_phases()). */
static void *slot_phase_thread(void *data)
{
	struct unit_vm *u = data;

	return (void *)(long)viommu_vcpu_run(&u->v, u->vcpus[0],
					     &slot_phase_uc);
}

/*
 * With the poller: the VMM deletes and re-creates the page's memslot
 * while the guest invalidates.  Nothing the guest writes is lost (what
 * it writes while the memslot is away reaches the VMM, which relays it),
 * the unit takes the page again each time, and when it lets go the
 * count it kept in KVM's tracking goes with it.
 */
TEST_F_TIMEOUT(poller, memslot_lost_and_found_while_polled, 300)
{
	struct kvm_viommu_stats st;
	struct unit_vm u = {};
	uint32_t *status;
	pthread_t th;
	void *ret;
	int i;

	if (!sidecore_vm_setup(_metadata, &u, guest_slot_phases,
			       KVM_VIOMMU_SIDECORE_TRACK |
			       KVM_VIOMMU_SIDECORE_POLL))
		return;
	args.batch = 4;
	args.rounds = 200;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	ASSERT_EQ(0, pthread_create(&th, NULL, slot_phase_thread, &u));
	for (i = 0; i < 10; i++) {
		usleep(5 * 1000);
		ASSERT_EQ(0, set_region(u.vm, VIOMMU_REG_SLOT, VIOMMU_REG_GPA,
					0, NULL));
		usleep(5 * 1000);
		ASSERT_EQ(0, set_region(u.vm, VIOMMU_REG_SLOT, VIOMMU_REG_GPA,
					4096, u.v.regs));
	}
	pthread_join(th, &ret);
	if ((long)ret == UCALL_ABORT) {
		viommu_vmm_stats(&u.v, &st);
		TH_LOG("%llu waits, %llu polled writes, %llu tracked",
		       st.waits, st.polled_writes, st.tracked_writes);
		TH_LOG("%llu relayed, %llu parks, %llu unparks",
		       (unsigned long long)u.v.mmio_writes, st.parks,
		       st.unparks);
		/*
		 * Lost, or only late?  The unit as the guest gave up, and a
		 * second on: the wait it gave up on is round @st.waits.
		 */
		status = addr_gpa2hva(u.vm, status_gpa(st.waits % NR_STATUS));
		viommu_log_unit("at the guest's abort");
		sleep(1);
		viommu_log_unit("1 s later");
		TH_LOG("1 s later: wait %llu's status %#x",
		       st.waits + 1, READ_ONCE(*status));
		REPORT_GUEST_ASSERT_2(slot_phase_uc, "values: %#lx, %#lx");
	}
	ASSERT_EQ(UCALL_SYNC, (long)ret);
	EXPECT_TRUE(page_rearmed());
	viommu_vmm_stats(&u.v, &st);
	TH_LOG("%llu polled writes, %llu tracked, %llu relayed, %llu parks",
	       st.polled_writes, st.tracked_writes,
	       (unsigned long long)u.v.mmio_writes, st.parks);
	EXPECT_EQ(200, st.waits);
	EXPECT_EQ(0, st.iq_errors);
	expect_tracking_gone(_metadata, &u);
	sidecore_vm_fini(&u);
}

/*
 * The VMM re-creates the page's memslot and sets the sidecore again at
 * once, before the unit's own re-arming has run: the unit must track the
 * new memslot (a guest under KVM_VIOMMU_SIDECORE_TRACK alone would wait
 * for ever otherwise), and hold one count there, not two or none.
 */
TEST_F_TIMEOUT(poller, set_sidecore_after_memslot_recreate, 120)
{
	struct kvm_viommu_stats st, st0;
	struct unit_vm u = {};
	int i;

	if (!sidecore_vm_setup(_metadata, &u, guest_slot_phases,
			       KVM_VIOMMU_SIDECORE_TRACK))
		return;
	args.batch = 4;
	args.rounds = 50;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, set_region(u.vm, VIOMMU_REG_SLOT, VIOMMU_REG_GPA,
					0, NULL));
		ASSERT_EQ(0, set_region(u.vm, VIOMMU_REG_SLOT, VIOMMU_REG_GPA,
					4096, u.v.regs));
		ASSERT_EQ(0, set_sidecore(u.v.unit_fd,
					  KVM_VIOMMU_SIDECORE_TRACK,
					  VIOMMU_REG_GPA, u.v.msg_fd, 0));
	}
	EXPECT_EQ(1, viommu_unit_info("sidecore_tracked"));
	viommu_vmm_stats(&u.v, &st0);
	run_to(_metadata, &u, 2);
	viommu_vmm_stats(&u.v, &st);
	EXPECT_EQ(50, st.waits);
	EXPECT_LE(50, st.tracked_writes - st0.tracked_writes);
	EXPECT_EQ(0, u.v.mmio_writes);
	expect_tracking_gone(_metadata, &u);
	sidecore_vm_fini(&u);
}

/*
 * A move of the page's memslot that KVM refuses: 6.1 tells the unit the
 * memslot goes before it finds the new place out of bounds and puts the
 * memslot back as it was (6.12 refuses any move while the unit's notifier
 * is registered).  The unit keeps taking the guest's writes, and holds
 * one count in KVM's tracking, not two.
 */
TEST_F_TIMEOUT(poller, memslot_move_undone_keeps_one_count, 120)
{
	struct kvm_viommu_stats st;
	struct unit_vm u = {};

	if (!sidecore_vm_setup(_metadata, &u, guest_slot_phases,
			       KVM_VIOMMU_SIDECORE_TRACK))
		return;
	args.batch = 4;
	args.rounds = 50;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	EXPECT_EQ(-EINVAL, set_region(u.vm, VIOMMU_REG_SLOT, 1ULL << 52, 4096,
				      u.v.regs));
	EXPECT_TRUE(page_rearmed());
	run_to(_metadata, &u, 2);
	viommu_vmm_stats(&u.v, &st);
	EXPECT_EQ(50, st.waits);
	EXPECT_LE(50, st.tracked_writes);
	EXPECT_EQ(0, u.v.mmio_writes);
	expect_tracking_gone(_metadata, &u);
	sidecore_vm_fini(&u);
}

/* 1- and 2-byte writes to ICS and FSTS clear what they say, no more. */
TEST_F_TIMEOUT(poller, partial_writes_to_rw1c_clear_only_their_bytes, 120)
{
	struct kvm_viommu_stats st;
	struct unit_vm u = {};

	if (!sidecore_vm_setup(_metadata, &u, guest_partial_rw1c,
			       KVM_VIOMMU_SIDECORE_TRACK))
		return;
	run_to(_metadata, &u, 0);
	viommu_vmm_stats(&u.v, &st);
	EXPECT_EQ(1, st.iq_errors);
	EXPECT_EQ(2, st.waits);
	EXPECT_EQ(0, u.v.mmio_writes);
	sidecore_vm_fini(&u);
}

/* A unit, with the sidecore @flags, for @vm, attached to edu. */
static bool edu_unit(struct __test_metadata *_metadata, struct unit_vm *u,
		     struct viommu_vfio *f, uint32_t flags)
{
	int ret;

	viommu_vmm_sidecore = flags;
	ret = viommu_vmm_init(&u->v, u->vm, viommu_vfio_cap(f), 0);
	viommu_vmm_sidecore = 0;
	if (ret)
		u->v.vm = NULL;		/* nothing for viommu_vmm_fini() */
	if (ret == -EOPNOTSUPP)
		SKIP(return false, "no KVM write tracking for modules here");
	ASSERT_EQ(0, ret) {
		return false;
	}
	viommu_guest_iommu_mem(u->vm, &gmem, 8);
	sync_global_to_guest(u->vm, gmem);
	ASSERT_EQ(0, viommu_vfio_attach(f, u->v.unit_fd, EDU_SID)) {
		return false;
	}
	return true;
}

/*
 * Two faults recorded and cleared leave FSTS.FRI at 1 with nothing
 * pending: the unit is quiet again, and the poller takes the page again.
 */
TEST_F_TIMEOUT(poller, fault_then_polling_continues, 300)
{
	struct kvm_viommu_stats st, st0;
	struct viommu_vfio f = { .container = -1, .group = -1, .device = -1 };
	struct unit_vm u = {};
	const char *why = NULL;

	if (viommu_vfio_open(&f, NULL, &why))
		SKIP(return, "%s", why);
	u.vm = vm_create_with_vcpus(1, guest_faults_then_waits, u.vcpus);
	if (!edu_unit(_metadata, &u, &f, KVM_VIOMMU_SIDECORE_TRACK |
		      KVM_VIOMMU_SIDECORE_POLL))
		goto out;
	/* This testbed's rounds take far longer than hardware's. */
	ASSERT_EQ(0, viommu_set_param("sidecore_spin_us", "20000"));
	args.rounds = 200;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);
	EXPECT_EQ(1 << 8, viommu_reg32(&u.v, VTD_FSTS_REG));
	viommu_vmm_stats(&u.v, &st0);
	EXPECT_EQ(2, st0.faults);
	run_to(_metadata, &u, 0);
	viommu_vmm_stats(&u.v, &st);
	TH_LOG("after the faults: %llu polled writes, %llu unparks",
	       st.polled_writes - st0.polled_writes,
	       st.unparks - st0.unparks);
	/*
	 * Polling goes on after the faults.  Whether the poller gave the
	 * page back and took it again in between, or only later than the
	 * snapshot above, depends on when this testbed lets it run.
	 */
	EXPECT_LT(st0.polled_writes, st.polled_writes);
	EXPECT_EQ(2, st.faults);
out:
	if (u.v.vm)
		viommu_vmm_fini(&u.v);
	kvm_vm_free(u.vm);
	viommu_vfio_close(&f);
}

/* Guest RAM beyond the default memslot, for a translation-off map. */
#define TE_OFF_RAM_GPA		0x100000000ULL
#define TE_OFF_RAM_SLOT		12
#define TE_OFF_RAM_PAGES	16384	/* 64 MiB: 32 chunks of 2 MiB */

/* What each thread mapped, by the kvm_viommu_shadow trace events. */
static void trace_maps(pid_t worker, int *by_worker, int *by_others)
{
	static char buf[1 << 18];
	char *line, *ev, *dash, *save;
	ssize_t n, len = 0;
	int fd;

	*by_worker = 0;
	*by_others = 0;
	fd = open("/sys/kernel/tracing/trace", O_RDONLY);
	if (fd < 0)
		return;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ev = strstr(line, "kvm_viommu_shadow: ");
		if (!ev || !strstr(ev, " map iova") || !strstr(ev, " ret 0"))
			continue;
		/* "<comm>-<pid> [cpu] ...": the pid ends where " [" starts. */
		ev = strstr(line, " [");
		if (!ev)
			continue;
		*ev = 0;
		dash = strrchr(line, '-');
		if (dash && atoi(dash + 1) == worker)
			(*by_worker)++;
		else
			(*by_others)++;
	}
}

/*
 * The guest turns translation off under the poller, with edu attached: all
 * of guest RAM is to be mapped.  Whoever applies the GCMD write (the
 * poller, or the vCPU's task work) leaves that to the unit's worker,
 * which maps it in runs of its budget (here one 2 MiB chunk each) while
 * the guest waits for GSTS.TES; the poller goes on serving the guest
 * afterwards.
 */
TEST_F_TIMEOUT(poller, te_off_under_the_poller_maps_in_the_worker, 300)
{
	struct viommu_vfio f = { .container = -1, .group = -1, .device = -1 };
	struct kvm_viommu_stats st, st0;
	long long runs0, runs1, worker;
	int by_worker, by_others;
	struct unit_vm u = {};
	const char *why = NULL;

	if (viommu_vfio_open(&f, NULL, &why))
		SKIP(return, "%s", why);
	if (access("/sys/kernel/tracing/trace", F_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	u.vm = vm_create_with_vcpus(1, guest_te_off, u.vcpus);
	vm_userspace_mem_region_add(u.vm, VM_MEM_SRC_ANONYMOUS, TE_OFF_RAM_GPA,
				    TE_OFF_RAM_SLOT, TE_OFF_RAM_PAGES, 0);
	if (!edu_unit(_metadata, &u, &f, KVM_VIOMMU_SIDECORE_TRACK |
		      KVM_VIOMMU_SIDECORE_POLL))
		goto out;
	args.rounds = 50;
	sync_global_to_guest(u.vm, args);
	run_to(_metadata, &u, 1);

	ASSERT_EQ(0, viommu_set_param("run_budget", "64"));
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("events/kvm_viommu/kvm_viommu_shadow/enable",
				   "1"));
	viommu_vmm_stats(&u.v, &st0);
	runs0 = viommu_unit_info("iq_runs_worker");
	run_to(_metadata, &u, 2);
	runs1 = viommu_unit_info("iq_runs_worker");
	ASSERT_EQ(0, tracefs_write("events/kvm_viommu/kvm_viommu_shadow/enable",
				   "0"));
	viommu_vmm_stats(&u.v, &st);
	worker = viommu_unit_info("worker_pid");
	trace_maps(worker, &by_worker, &by_others);
	TH_LOG("%llu maps: %d by the worker, %d elsewhere, in %lld worker runs",
	       st.maps - st0.maps, by_worker, by_others, runs1 - runs0);
	EXPECT_LE(TE_OFF_RAM_PAGES / 512, st.maps - st0.maps);
	EXPECT_EQ(st.maps - st0.maps, by_worker);
	EXPECT_EQ(0, by_others);
	/* One chunk per run at this budget. */
	EXPECT_LE(TE_OFF_RAM_PAGES / 512, runs1 - runs0);
	EXPECT_EQ(viommu_guest_ram_pages(u.vm), st.pinned_pages);

	/* The poller serves the guest on. */
	ASSERT_EQ(0, viommu_set_param("run_budget", "1048576"));
	run_to(_metadata, &u, 0);
	viommu_vmm_stats(&u.v, &st0);
	EXPECT_EQ(st.waits + 50, st0.waits);
	EXPECT_EQ(0, st0.pin_failures);
out:
	if (u.v.vm)
		viommu_vmm_fini(&u.v);
	kvm_vm_free(u.vm);
	viommu_vfio_close(&f);
}

TEST_HARNESS_MAIN
