/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's VT-d unit, as the Intel VT-d specification describes it:
 * register file (legacy, non-scalable translation mode), invalidation
 * queue and fault recording.
 *
 * This core is kernel-independent: pure functions over a struct vtd_unit
 * and a table of callbacks for guest memory, invalidations and interrupts.
 * The module runs it in process context under the unit's mutex; the same
 * files build in userspace for unit tests, fuzzing and the userspace
 * baseline of the benchmark.  Names follow the specification's.
 */
#ifndef _KVM_VIOMMU_VTD_H_
#define _KVM_VIOMMU_VTD_H_

#include "vtd_types.h"

/* The register page the guest sees; all registers live in it. */
#define VTD_REG_PAGE_SIZE	4096

/* Register offsets (VT-d spec, "Register Descriptions"). */
#define VTD_VER_REG		0x00	/* 32 */
#define VTD_CAP_REG		0x08	/* 64 */
#define VTD_ECAP_REG		0x10	/* 64 */
#define VTD_GCMD_REG		0x18	/* 32 */
#define VTD_GSTS_REG		0x1c	/* 32 */
#define VTD_RTADDR_REG		0x20	/* 64 */
#define VTD_CCMD_REG		0x28	/* 64 */
#define VTD_FSTS_REG		0x34	/* 32 */
#define VTD_FECTL_REG		0x38	/* 32 */
#define VTD_FEDATA_REG		0x3c	/* 32 */
#define VTD_FEADDR_REG		0x40	/* 32 */
#define VTD_FEUADDR_REG		0x44	/* 32 */
#define VTD_AFLOG_REG		0x58	/* 64 */
#define VTD_PMEN_REG		0x64	/* 32 */
#define VTD_PLMBASE_REG		0x68	/* 32 */
#define VTD_PLMLIMIT_REG	0x6c	/* 32 */
#define VTD_PHMBASE_REG		0x70	/* 64 */
#define VTD_PHMLIMIT_REG	0x78	/* 64 */
#define VTD_IQH_REG		0x80	/* 64 */
#define VTD_IQT_REG		0x88	/* 64 */
#define VTD_IQA_REG		0x90	/* 64 */
#define VTD_ICS_REG		0x9c	/* 32 */
#define VTD_IECTL_REG		0xa0	/* 32 */
#define VTD_IEDATA_REG		0xa4	/* 32 */
#define VTD_IEADDR_REG		0xa8	/* 32 */
#define VTD_IEUADDR_REG		0xac	/* 32 */
#define VTD_IRTA_REG		0xb8	/* 64 */

/*
 * Where this implementation places the IOTLB registers (ECAP.IRO) and the
 * fault recording registers (CAP.FRO), and how many of those it has.
 */
#define VTD_IVA_REG		0x100	/* 64, ECAP.IRO * 16 */
#define VTD_IOTLB_REG		0x108	/* 64 */
#define VTD_FRCD_REG		0x200	/* 128 each, CAP.FRO * 16 */
#define VTD_NR_FRCD		8	/* CAP.NFR + 1 */

#define VTD_VER_1_0		0x10

/* CAP_REG */
#define VTD_CAP_ND		GENMASK_ULL(2, 0)
#define VTD_CAP_RWBF		BIT_ULL(4)
#define VTD_CAP_PLMR		BIT_ULL(5)
#define VTD_CAP_PHMR		BIT_ULL(6)
#define VTD_CAP_CM		BIT_ULL(7)
#define VTD_CAP_SAGAW		GENMASK_ULL(12, 8)
#define VTD_CAP_SAGAW_39	BIT_ULL(9)	/* 3-level tables */
#define VTD_CAP_SAGAW_48	BIT_ULL(10)	/* 4-level tables */
#define VTD_CAP_MGAW		GENMASK_ULL(21, 16)	/* width - 1 */
#define VTD_CAP_ZLR		BIT_ULL(22)
#define VTD_CAP_FRO		GENMASK_ULL(33, 24)
#define VTD_CAP_SLLPS		GENMASK_ULL(37, 34)
#define VTD_CAP_SLLPS_2M	BIT_ULL(34)
#define VTD_CAP_SLLPS_1G	BIT_ULL(35)
#define VTD_CAP_PSI		BIT_ULL(39)
#define VTD_CAP_NFR		GENMASK_ULL(47, 40)
#define VTD_CAP_MAMV		GENMASK_ULL(53, 48)
#define VTD_CAP_DWD		BIT_ULL(54)
#define VTD_CAP_DRD		BIT_ULL(55)

/* ECAP_REG */
#define VTD_ECAP_C		BIT_ULL(0)
#define VTD_ECAP_QI		BIT_ULL(1)
#define VTD_ECAP_DT		BIT_ULL(2)
#define VTD_ECAP_IR		BIT_ULL(3)
#define VTD_ECAP_EIM		BIT_ULL(4)
#define VTD_ECAP_PT		BIT_ULL(6)
#define VTD_ECAP_SC		BIT_ULL(7)
#define VTD_ECAP_IRO		GENMASK_ULL(17, 8)
#define VTD_ECAP_MHMV		GENMASK_ULL(23, 20)

/* GCMD_REG, and GSTS_REG's status bit for each command. */
#define VTD_GCMD_TE		BIT(31)
#define VTD_GCMD_SRTP		BIT(30)
#define VTD_GCMD_SFL		BIT(29)
#define VTD_GCMD_EAFL		BIT(28)
#define VTD_GCMD_WBF		BIT(27)
#define VTD_GCMD_QIE		BIT(26)
#define VTD_GCMD_IRE		BIT(25)
#define VTD_GCMD_SIRTP		BIT(24)
#define VTD_GCMD_CFI		BIT(23)
#define VTD_GSTS_TES		BIT(31)
#define VTD_GSTS_RTPS		BIT(30)
#define VTD_GSTS_FLS		BIT(29)
#define VTD_GSTS_AFLS		BIT(28)
#define VTD_GSTS_WBFS		BIT(27)
#define VTD_GSTS_QIES		BIT(26)
#define VTD_GSTS_IRES		BIT(25)
#define VTD_GSTS_IRTPS		BIT(24)
#define VTD_GSTS_CFIS		BIT(23)

/* RTADDR_REG */
#define VTD_RTADDR_RTA		GENMASK_ULL(63, 12)
#define VTD_RTADDR_TTM		GENMASK_ULL(11, 10)

/* CCMD_REG */
#define VTD_CCMD_ICC		BIT_ULL(63)
#define VTD_CCMD_CIRG		GENMASK_ULL(62, 61)
#define VTD_CCMD_CAIG		GENMASK_ULL(60, 59)
#define VTD_CCMD_FM		GENMASK_ULL(33, 32)
#define VTD_CCMD_SID		GENMASK_ULL(31, 16)
#define VTD_CCMD_DID		GENMASK_ULL(15, 0)

/* FSTS_REG */
#define VTD_FSTS_PFO		BIT(0)
#define VTD_FSTS_PPF		BIT(1)
#define VTD_FSTS_IQE		BIT(4)
#define VTD_FSTS_ICE		BIT(5)
#define VTD_FSTS_ITE		BIT(6)
#define VTD_FSTS_FRI		GENMASK(15, 8)

/* FECTL_REG and IECTL_REG */
#define VTD_FECTL_IM		BIT(31)
#define VTD_FECTL_IP		BIT(30)
#define VTD_IECTL_IM		BIT(31)
#define VTD_IECTL_IP		BIT(30)

/* PMEN_REG */
#define VTD_PMEN_EPM		BIT(31)
#define VTD_PMEN_PRS		BIT(0)

/* IQH_REG, IQT_REG (128-bit descriptors), IQA_REG, ICS_REG */
#define VTD_IQH_QH		GENMASK_ULL(18, 4)
#define VTD_IQT_QT		GENMASK_ULL(18, 4)
#define VTD_IQA_IQA		GENMASK_ULL(63, 12)
#define VTD_IQA_DW		BIT_ULL(11)
#define VTD_IQA_QS		GENMASK_ULL(2, 0)
#define VTD_ICS_IWC		BIT(0)

/* IRTA_REG */
#define VTD_IRTA_IRTA		GENMASK_ULL(63, 12)
#define VTD_IRTA_EIME		BIT_ULL(11)
#define VTD_IRTA_S		GENMASK_ULL(3, 0)

/* IOTLB_REG and IVA_REG */
#define VTD_IOTLB_IVT		BIT_ULL(63)
#define VTD_IOTLB_IIRG		GENMASK_ULL(61, 60)
#define VTD_IOTLB_IAIG		GENMASK_ULL(58, 57)
#define VTD_IOTLB_DR		BIT_ULL(49)
#define VTD_IOTLB_DW		BIT_ULL(48)
#define VTD_IOTLB_DID		GENMASK_ULL(47, 32)
#define VTD_IVA_ADDR		GENMASK_ULL(63, 12)
#define VTD_IVA_IH		BIT_ULL(6)
#define VTD_IVA_AM		GENMASK_ULL(5, 0)

/* Fault recording register, upper 64 bits (bits 127:64 of the record). */
#define VTD_FRCD_HI_F		BIT_ULL(63)
#define VTD_FRCD_HI_T		BIT_ULL(62)	/* 1: read, 0: write */
#define VTD_FRCD_HI_FR		GENMASK_ULL(39, 32)
#define VTD_FRCD_HI_SID		GENMASK_ULL(15, 0)
#define VTD_FRCD_LO_FI		GENMASK_ULL(63, 12)

/* Fault reasons, legacy mode. */
enum vtd_fault_reason {
	VTD_FR_ROOT_NOT_PRESENT		= 0x1,
	VTD_FR_CONTEXT_NOT_PRESENT	= 0x2,
	VTD_FR_CONTEXT_INVALID		= 0x3,
	VTD_FR_ADDR_BEYOND_MGAW		= 0x4,
	VTD_FR_WRITE			= 0x5,
	VTD_FR_READ			= 0x6,
	VTD_FR_PAGING_ENTRY_ACCESS	= 0x7,
	VTD_FR_ROOT_TABLE_ACCESS	= 0x8,
	VTD_FR_CONTEXT_TABLE_ACCESS	= 0x9,
	VTD_FR_ROOT_ENTRY_RSVD		= 0xa,
	VTD_FR_CONTEXT_ENTRY_RSVD	= 0xb,
	VTD_FR_PAGING_ENTRY_RSVD	= 0xc,
	VTD_FR_CONTEXT_ENTRY_TT		= 0xd,
	VTD_FR_INTERRUPT_ADDR		= 0xe,
};

/* Granularities: CCMD.CIRG/CAIG and context-cache descriptor G. */
#define VTD_CC_GLOBAL		1
#define VTD_CC_DOMAIN		2
#define VTD_CC_DEVICE		3
/* IOTLB_REG.IIRG/IAIG and IOTLB descriptor G. */
#define VTD_IOTLB_GLOBAL	1
#define VTD_IOTLB_DOMAIN	2
#define VTD_IOTLB_PAGE		3

/* Invalidation descriptors, 128-bit (legacy mode). */
struct vtd_inv_desc {
	u64 lo;
	u64 hi;
};

#define VTD_INV_DESC_TYPE_LO	GENMASK_ULL(3, 0)
#define VTD_INV_DESC_TYPE_HI	GENMASK_ULL(11, 9)	/* type bits 6:4 */
#define VTD_INV_DESC_CC		0x1
#define VTD_INV_DESC_IOTLB	0x2
#define VTD_INV_DESC_DEVTLB	0x3
#define VTD_INV_DESC_IEC	0x4
#define VTD_INV_DESC_WAIT	0x5

#define VTD_INV_DESC_G		GENMASK_ULL(5, 4)	/* CC, IOTLB */
#define VTD_INV_DESC_CC_DID	GENMASK_ULL(31, 16)
#define VTD_INV_DESC_CC_SID	GENMASK_ULL(47, 32)
#define VTD_INV_DESC_CC_FM	GENMASK_ULL(49, 48)
#define VTD_INV_DESC_IOTLB_DW	BIT_ULL(6)
#define VTD_INV_DESC_IOTLB_DR	BIT_ULL(7)
#define VTD_INV_DESC_IOTLB_DID	GENMASK_ULL(31, 16)
#define VTD_INV_DESC_IOTLB_AM	GENMASK_ULL(5, 0)	/* hi */
#define VTD_INV_DESC_IOTLB_IH	BIT_ULL(6)		/* hi */
#define VTD_INV_DESC_IOTLB_ADDR	GENMASK_ULL(63, 12)	/* hi */
#define VTD_INV_DESC_WAIT_IF	BIT_ULL(4)
#define VTD_INV_DESC_WAIT_SW	BIT_ULL(5)
#define VTD_INV_DESC_WAIT_FN	BIT_ULL(6)
#define VTD_INV_DESC_WAIT_PD	BIT_ULL(7)
#define VTD_INV_DESC_WAIT_SDATA	GENMASK_ULL(63, 32)
#define VTD_INV_DESC_WAIT_SADDR	GENMASK_ULL(63, 2)	/* hi */

/* What a context-cache invalidation asks for, register or descriptor. */
struct vtd_cc_inval {
	u8 granularity;		/* VTD_CC_* */
	u8 fm;			/* function mask, device-selective */
	u16 did;		/* domain- and device-selective */
	u16 sid;		/* device-selective */
};

/* What an IOTLB invalidation asks for, register or descriptor. */
struct vtd_iotlb_inval {
	u8 granularity;		/* VTD_IOTLB_* */
	u8 am;			/* page-selective: 2^am pages */
	bool ih;		/* page-selective: leaf entries only */
	u16 did;		/* domain- and page-selective */
	u64 addr;		/* page-selective, aligned to 2^am pages */
};

/* Interrupts the unit sends, each with its own message registers. */
enum vtd_irq {
	VTD_IRQ_INV_COMPLETION,	/* IECTL/IEDATA/IEADDR/IEUADDR */
	VTD_IRQ_FAULT,		/* FECTL/FEDATA/FEADDR/FEUADDR */
};

struct vtd_unit;

/*
 * The unit's view of the world.  All are called from vtd_reg_write() or
 * vtd_iq_process(), in whatever context the caller runs those.
 */
struct vtd_ops {
	/* Guest-physical memory; 0, or a negative errno if not guest RAM. */
	int (*read_gpa)(struct vtd_unit *u, u64 gpa, void *buf, u32 len);
	int (*write_gpa)(struct vtd_unit *u, u64 gpa, const void *buf,
			 u32 len);
	/* A context-cache or IOTLB invalidation to carry out. */
	void (*cc_inval)(struct vtd_unit *u, const struct vtd_cc_inval *inv);
	void (*iotlb_inval)(struct vtd_unit *u,
			    const struct vtd_iotlb_inval *inv);
	/* Send @irq with the message its registers hold now. */
	void (*send_irq)(struct vtd_unit *u, enum vtd_irq irq);
	/*
	 * A well-formed descriptor the unit does not act on itself
	 * (interrupt-entry-cache and device-TLB invalidations), for the VMM.
	 */
	void (*forward_desc)(struct vtd_unit *u,
			     const struct vtd_inv_desc *desc);
	/* GSTS.TES changed, or a root table pointer was latched (SRTP). */
	void (*translation_changed)(struct vtd_unit *u);
	/*
	 * Optional, asked after each descriptor vtd_iq_process() carries
	 * out: true stops it there, for the caller to call again later (the
	 * host has spent its share of work on this call, or has work of its
	 * own to finish first).
	 */
	bool (*yield)(struct vtd_unit *u);
	/*
	 * Optional, asked by vtd_sl_walk() at each table it enters: true
	 * stops the walk there, for the caller to resume it later.
	 */
	bool (*walk_yield)(struct vtd_unit *u);
	/*
	 * Optional: may an invalidation wait descriptor complete now?  False
	 * stops the queue at the wait, IQH on it, with no error, until the
	 * caller calls vtd_iq_process() again: hardware completes a wait only
	 * after every descriptor before it, including the ones forwarded to
	 * the VMM, which has to acknowledge those first.
	 */
	bool (*wait_ready)(struct vtd_unit *u);
};

/* Counters for operators (statistics ioctl, debugfs). */
struct vtd_stats {
	u64 reg_writes;
	u64 descs;		/* descriptors processed */
	u64 cc_invals;
	u64 iotlb_invals;
	u64 waits;
	u64 forwarded;
	u64 iq_errors;		/* times IQE was set */
	u64 faults;		/* fault records written */
	u64 faults_lost;	/* faults dropped with PFO set */
	u64 irqs;		/* interrupt messages sent */
};

/**
 * struct vtd_unit - one guest VT-d unit
 * @ops: callbacks, see struct vtd_ops
 * @regs: the register page, VTD_REG_PAGE_SIZE bytes, little-endian, as the
 *	guest reads it; owned by the caller, kept current by the core
 * @rta: root table address latched by the last SRTP
 * @irta: interrupt remapping table register latched by the last SIRTP
 * @stats: counters
 * @frcd_next: fault recording register the next fault goes to; hardware
 *	state the guest cannot see, 0 after reset
 * @gen: counts the stores to @regs, so that a caller that showed the image
 *	can tell cheaply whether it changed.  Every store after
 *	vtd_unit_init() (whose reset of the image comes before anyone shows
 *	it) goes through vtd_set32() or vtd_set64(), which count it: a store
 *	that bypassed them would leave a stale register page with the
 *	sidecore on (kvm_viommu_publish()).
 */
struct vtd_unit {
	const struct vtd_ops *ops;
	u8 *regs;
	u64 rta;
	u64 irta;
	struct vtd_stats stats;
	u32 frcd_next;
	u32 gen;
};

/*
 * CAP and ECAP: the bits a VMM may ask for (vtd_unit_init() refuses others
 * with -EINVAL), and the defaults used when it asks for none.
 */
u64 vtd_cap_supported(void);
u64 vtd_ecap_supported(void);
u64 vtd_cap_default(void);
u64 vtd_ecap_default(void);

/*
 * Validate @cap/@ecap (0 means the default) and put the unit in its reset
 * state.  CAP.CM, the IRO/FRO/NFR placement and ECAP.QI are always set;
 * CAP.MAMV is clamped to what MGAW can address (MGAW - 12).  0 or -EINVAL.
 */
int vtd_unit_init(struct vtd_unit *u, const struct vtd_ops *ops, u8 *regs,
		  u64 cap, u64 ecap);

/*
 * A guest access to a register.  @len is 4 or 8 and @off aligned to it; an
 * access to no register reads 0 and writes nothing.  -EINVAL for a bad
 * @off or @len.  A write performs the register's side effects (commands,
 * register-based invalidation, RW1C status) at once, except queued
 * invalidation, which vtd_iq_process() carries out.
 */
int vtd_reg_read(struct vtd_unit *u, u32 off, u32 len, u64 *val);
int vtd_reg_write(struct vtd_unit *u, u32 off, u32 len, u64 val);

/* True if the queue has descriptors to process (QIES, no IQE, IQH!=IQT). */
bool vtd_iq_pending(const struct vtd_unit *u);

/* Entries in the queue as IQA configures it now (256 << QS). */
u32 vtd_iq_entries(const struct vtd_unit *u);

/*
 * Process at most @budget descriptors from IQH towards IQT.  Returns the
 * number processed; vtd_iq_pending() says whether more remain.  Stops with
 * FSTS.IQE set and IQH at the offending descriptor on a malformed or
 * unreadable descriptor, or an IQT beyond the queue.
 */
u32 vtd_iq_process(struct vtd_unit *u, u32 budget);

/*
 * The queued form of an invalidation, whether the guest queued it or
 * wrote a command register: what a VMM told of it decodes, one format.
 */
void vtd_cc_inval_desc(const struct vtd_cc_inval *inv,
		       struct vtd_inv_desc *d);
void vtd_iotlb_inval_desc(const struct vtd_iotlb_inval *inv,
			  struct vtd_inv_desc *d);

/*
 * Record a translation fault for @sid at @addr: the next free FRCD, FSTS
 * PPF/FRI (PFO if none is free), and the fault event per FECTL.
 */
void vtd_record_fault(struct vtd_unit *u, u16 sid, u64 addr,
		      enum vtd_fault_reason reason, bool is_write);

/* Raw register image access, for the core and its tests. */
static inline u32 vtd_get32(const struct vtd_unit *u, u32 off)
{
	__le32 v;

	memcpy(&v, u->regs + off, sizeof(v));
	return le32_to_cpu(v);
}

static inline u64 vtd_get64(const struct vtd_unit *u, u32 off)
{
	__le64 v;

	memcpy(&v, u->regs + off, sizeof(v));
	return le64_to_cpu(v);
}

static inline void vtd_set32(struct vtd_unit *u, u32 off, u32 val)
{
	__le32 v = cpu_to_le32(val);

	memcpy(u->regs + off, &v, sizeof(v));
	u->gen++;
}

static inline void vtd_set64(struct vtd_unit *u, u32 off, u64 val)
{
	__le64 v = cpu_to_le64(val);

	memcpy(u->regs + off, &v, sizeof(v));
	u->gen++;
}

/* The field @mask (contiguous, non-zero) of @val, shifted down. */
static inline u64 vtd_field(u64 val, u64 mask)
{
	return (val & mask) >> __builtin_ctzll(mask);
}

/* @val placed in the field @mask (contiguous, non-zero). */
static inline u64 vtd_field_prep(u64 mask, u64 val)
{
	return (val << __builtin_ctzll(mask)) & mask;
}

static inline bool vtd_has_ecap(const struct vtd_unit *u, u64 bit)
{
	return vtd_get64(u, VTD_ECAP_REG) & bit;
}

static inline bool vtd_has_cap(const struct vtd_unit *u, u64 bit)
{
	return vtd_get64(u, VTD_CAP_REG) & bit;
}

/* Domains the unit supports, 2^(4 + 2 * CAP.ND); DIDs are below this. */
static inline u32 vtd_ndoms(const struct vtd_unit *u)
{
	return 1U << (4 + 2 * vtd_field(vtd_get64(u, VTD_CAP_REG), VTD_CAP_ND));
}

/* Address bits that select a 2^@am-page aligned region of 4 KiB pages. */
static inline u64 vtd_am_addr_mask(u32 am)
{
	return am < 52 ? ~0ULL << (12 + am) : 0;
}

/*
 * The end (exclusive) of the 2^@am-page region at @addr, saturated at the
 * top of the address space: never wraps to below @addr.
 */
static inline u64 vtd_am_region_end(u64 addr, u32 am)
{
	u64 size = am < 52 ? 1ULL << (12 + am) : 0;

	return size && addr + size > addr ? addr + size : ~0ULL;
}

/*
 * Core-internal, shared by vtd_regs.c and vtd_iq.c; not for callers.
 *
 * vtd_fault_condition() sets @fsts_bits in FSTS and raises a fault event if
 * no fault condition was pending before.  vtd_inv_completion() sets ICS.IWC
 * and raises an invalidation completion event unless IWC was already set.
 */
void vtd_fault_condition(struct vtd_unit *u, u32 fsts_bits);
void vtd_inv_completion(struct vtd_unit *u);

#endif /* _KVM_VIOMMU_VTD_H_ */
