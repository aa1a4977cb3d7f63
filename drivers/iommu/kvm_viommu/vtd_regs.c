// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest VT-d unit's register file: capabilities, reset state, register
 * semantics, register-based invalidation, fault recording and the two
 * interrupt sources (fault event, invalidation completion event).
 *
 * The register page holds exactly what the guest reads: write-only fields
 * (GCMD) are never stored, and offsets with no register are never written,
 * so a read is a plain load from the page.
 *
 * A write is carried out one 32-bit slot at a time, the lower half of a
 * 64-bit access first.  A 64-bit access to a 64-bit register then behaves
 * as the two 32-bit writes some guests issue instead, and a command held in
 * an upper half (CCMD.ICC, IOTLB_REG.IVT) fires on the write of that half,
 * with the lower half already in place.
 */
#include "vtd.h"

/* Where this implementation places its fault records and IOTLB registers. */
#define VTD_CAP_FRO_VAL		(VTD_FRCD_REG / 16)
#define VTD_CAP_NFR_VAL		(VTD_NR_FRCD - 1)
#define VTD_ECAP_IRO_VAL	(VTD_IVA_REG / 16)

/* Largest CAP.ND: 7 is reserved. */
#define VTD_CAP_ND_MAX		6

/* FSTS bits that each make a fault condition pending. */
#define VTD_FSTS_PENDING	(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | \
				 VTD_FSTS_ICE | VTD_FSTS_ITE)

/* Fault record F bit, in the record's last 32-bit slot (offset 12). */
#define VTD_FRCD_F32		((u32)(VTD_FRCD_HI_F >> 32))

static inline u32 vtd_lo32(u64 v)
{
	return (u32)v;
}

static inline u32 vtd_hi32(u64 v)
{
	return (u32)(v >> 32);
}

/**
 * vtd_cap_supported() - CAP_REG bits a VMM may ask for
 *
 * Return: the mask; vtd_unit_init() refuses any other bit.
 */
u64 vtd_cap_supported(void)
{
	return VTD_CAP_ND | VTD_CAP_CM | VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48 |
	       VTD_CAP_MGAW | VTD_CAP_FRO | VTD_CAP_SLLPS_2M |
	       VTD_CAP_SLLPS_1G | VTD_CAP_PSI | VTD_CAP_NFR | VTD_CAP_MAMV |
	       VTD_CAP_DWD | VTD_CAP_DRD;
}

/**
 * vtd_ecap_supported() - ECAP_REG bits a VMM may ask for
 *
 * Return: the mask; vtd_unit_init() refuses any other bit.
 */
u64 vtd_ecap_supported(void)
{
	return VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_DT | VTD_ECAP_IR |
	       VTD_ECAP_EIM | VTD_ECAP_PT | VTD_ECAP_IRO | VTD_ECAP_MHMV;
}

/**
 * vtd_cap_default() - CAP_REG of a unit whose VMM asks for nothing
 *
 * Return: 256 domains, caching mode, 3- and 4-level tables, 48-bit guest
 * addresses, 2 MiB and 1 GiB pages, page-selective invalidation of up to
 * 2^18 pages, read and write draining, and the forced fault record
 * placement.
 */
u64 vtd_cap_default(void)
{
	return vtd_field_prep(VTD_CAP_ND, 2) | VTD_CAP_CM |
	       VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48 |
	       vtd_field_prep(VTD_CAP_MGAW, 48 - 1) |
	       vtd_field_prep(VTD_CAP_FRO, VTD_CAP_FRO_VAL) |
	       VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G | VTD_CAP_PSI |
	       vtd_field_prep(VTD_CAP_NFR, VTD_CAP_NFR_VAL) |
	       vtd_field_prep(VTD_CAP_MAMV, 18) | VTD_CAP_DWD | VTD_CAP_DRD;
}

/**
 * vtd_ecap_default() - ECAP_REG of a unit whose VMM asks for nothing
 *
 * Return: queued invalidation and pass-through, with the forced IOTLB
 * register placement.
 */
u64 vtd_ecap_default(void)
{
	return VTD_ECAP_QI | VTD_ECAP_PT |
	       vtd_field_prep(VTD_ECAP_IRO, VTD_ECAP_IRO_VAL);
}

static int vtd_cap_check(u64 cap)
{
	u64 fro = vtd_field(cap, VTD_CAP_FRO);
	u64 nfr = vtd_field(cap, VTD_CAP_NFR);
	u64 width = vtd_field(cap, VTD_CAP_MGAW) + 1;
	u64 max_width;

	if (cap & ~vtd_cap_supported())
		return -EINVAL;
	if (vtd_field(cap, VTD_CAP_ND) > VTD_CAP_ND_MAX)
		return -EINVAL;
	if (!(cap & (VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48)))
		return -EINVAL;
	/* MGAW may not exceed what the widest supported table maps. */
	max_width = (cap & VTD_CAP_SAGAW_48) ? 48 : 39;
	if (width < 39 || width > max_width)
		return -EINVAL;
	if (fro && fro != VTD_CAP_FRO_VAL)
		return -EINVAL;
	if (nfr && nfr != VTD_CAP_NFR_VAL)
		return -EINVAL;
	return 0;
}

static int vtd_ecap_check(u64 ecap)
{
	u64 iro = vtd_field(ecap, VTD_ECAP_IRO);

	if (ecap & ~vtd_ecap_supported())
		return -EINVAL;
	/* x2APIC mode and the handle mask only mean something with IR. */
	if (!(ecap & VTD_ECAP_IR) && (ecap & (VTD_ECAP_EIM | VTD_ECAP_MHMV)))
		return -EINVAL;
	if (iro && iro != VTD_ECAP_IRO_VAL)
		return -EINVAL;
	return 0;
}

static bool vtd_ops_ok(const struct vtd_ops *ops)
{
	return ops && ops->read_gpa && ops->write_gpa && ops->cc_inval &&
	       ops->iotlb_inval && ops->send_irq && ops->forward_desc &&
	       ops->translation_changed;
}

/**
 * vtd_unit_init() - validate capabilities and reset a unit
 * @u: the unit
 * @ops: callbacks, all of them set; must outlive the unit
 * @regs: the register page, VTD_REG_PAGE_SIZE bytes
 * @cap: CAP_REG to offer, 0 for vtd_cap_default()
 * @ecap: ECAP_REG to offer, 0 for vtd_ecap_default()
 *
 * CAP.CM, CAP.FRO, CAP.NFR, ECAP.QI and ECAP.IRO are forced; a request may
 * leave FRO, NFR and IRO 0 or give exactly the forced value.  CAP.MAMV is
 * clamped to MGAW - 12: the largest region any IOVA range can need.
 *
 * Return: 0, or -EINVAL (the unit is then left untouched).
 */
int vtd_unit_init(struct vtd_unit *u, const struct vtd_ops *ops, u8 *regs,
		  u64 cap, u64 ecap)
{
	if (!vtd_ops_ok(ops) || !regs)
		return -EINVAL;
	if (!cap)
		cap = vtd_cap_default();
	if (!ecap)
		ecap = vtd_ecap_default();
	if (vtd_cap_check(cap) || vtd_ecap_check(ecap))
		return -EINVAL;

	/*
	 * No invalidation can name more pages than MGAW addresses; a larger
	 * MAMV would only let a guest ask for ranges that wrap.
	 */
	if (vtd_field(cap, VTD_CAP_MAMV) > vtd_field(cap, VTD_CAP_MGAW) + 1 - 12)
		cap = (cap & ~VTD_CAP_MAMV) |
		      vtd_field_prep(VTD_CAP_MAMV,
				     vtd_field(cap, VTD_CAP_MGAW) + 1 - 12);
	cap &= ~(VTD_CAP_FRO | VTD_CAP_NFR);
	cap |= VTD_CAP_CM | vtd_field_prep(VTD_CAP_FRO, VTD_CAP_FRO_VAL) |
	       vtd_field_prep(VTD_CAP_NFR, VTD_CAP_NFR_VAL);
	ecap &= ~VTD_ECAP_IRO;
	ecap |= VTD_ECAP_QI | vtd_field_prep(VTD_ECAP_IRO, VTD_ECAP_IRO_VAL);

	memset(u, 0, sizeof(*u));
	u->ops = ops;
	u->regs = regs;
	memset(regs, 0, VTD_REG_PAGE_SIZE);
	vtd_set32(u, VTD_VER_REG, VTD_VER_1_0);
	vtd_set64(u, VTD_CAP_REG, cap);
	vtd_set64(u, VTD_ECAP_REG, ecap);
	vtd_set32(u, VTD_FECTL_REG, VTD_FECTL_IM);
	vtd_set32(u, VTD_IECTL_REG, VTD_IECTL_IM);
	return 0;
}

static bool vtd_access_ok(u32 off, u32 len)
{
	if (len != 4 && len != 8)
		return false;
	return !(off & (len - 1)) && off <= VTD_REG_PAGE_SIZE - len;
}

/**
 * vtd_reg_read() - a guest read of a register
 * @u: the unit
 * @off: offset in the register page, aligned to @len
 * @len: 4 or 8
 * @val: the value read; 0 where there is no register
 *
 * Return: 0, or -EINVAL for a bad @off or @len.
 */
int vtd_reg_read(struct vtd_unit *u, u32 off, u32 len, u64 *val)
{
	if (!vtd_access_ok(off, len))
		return -EINVAL;
	*val = len == 8 ? vtd_get64(u, off) : vtd_get32(u, off);
	return 0;
}

static bool vtd_qies(const struct vtd_unit *u)
{
	return vtd_get32(u, VTD_GSTS_REG) & VTD_GSTS_QIES;
}

static void vtd_send_irq(struct vtd_unit *u, enum vtd_irq irq)
{
	u->stats.irqs++;
	u->ops->send_irq(u, irq);
}

/* Each interrupt source has its control register, FECTL or IECTL. */
struct vtd_irq_ctl {
	u32 off;
	u32 im;
	u32 ip;
};

static struct vtd_irq_ctl vtd_irq_ctl(enum vtd_irq irq)
{
	struct vtd_irq_ctl c = {
		VTD_IECTL_REG, VTD_IECTL_IM, VTD_IECTL_IP
	};

	if (irq == VTD_IRQ_FAULT) {
		c.off = VTD_FECTL_REG;
		c.im = VTD_FECTL_IM;
		c.ip = VTD_FECTL_IP;
	}
	return c;
}

/*
 * An interrupt condition for @irq: held pending in IP while IM masks it,
 * sent at once otherwise.
 */
static void vtd_irq_event(struct vtd_unit *u, enum vtd_irq irq)
{
	struct vtd_irq_ctl c = vtd_irq_ctl(irq);
	u32 v = vtd_get32(u, c.off);

	if (v & c.im)
		vtd_set32(u, c.off, v | c.ip);
	else
		vtd_send_irq(u, irq);
}

/*
 * Software wrote the control register of @irq: once unmasked, a pending
 * message goes out.
 */
static void vtd_ctl_written(struct vtd_unit *u, enum vtd_irq irq)
{
	struct vtd_irq_ctl c = vtd_irq_ctl(irq);
	u32 v = vtd_get32(u, c.off);

	if (!(v & c.im) && (v & c.ip)) {
		vtd_set32(u, c.off, v & ~c.ip);
		vtd_send_irq(u, irq);
	}
}

/* The pending message of @irq was serviced by clearing its status. */
static void vtd_irq_serviced(struct vtd_unit *u, enum vtd_irq irq)
{
	struct vtd_irq_ctl c = vtd_irq_ctl(irq);

	vtd_set32(u, c.off, vtd_get32(u, c.off) & ~c.ip);
}

/**
 * vtd_fault_condition() - a new fault condition
 * @u: the unit
 * @fsts_bits: FSTS bits to set (PPF, PFO, IQE)
 *
 * The condition raises a fault event only if every earlier one has been
 * serviced; otherwise software has yet to see the pending one and will find
 * this one in FSTS as well.
 */
void vtd_fault_condition(struct vtd_unit *u, u32 fsts_bits)
{
	u32 fsts = vtd_get32(u, VTD_FSTS_REG);

	vtd_set32(u, VTD_FSTS_REG, fsts | fsts_bits);
	if (!(fsts & VTD_FSTS_PENDING))
		vtd_irq_event(u, VTD_IRQ_FAULT);
}

/**
 * vtd_inv_completion() - an invalidation wait descriptor with IF completed
 * @u: the unit
 *
 * Sets ICS.IWC; if IWC was already set this is no new interrupt condition.
 */
void vtd_inv_completion(struct vtd_unit *u)
{
	u32 ics = vtd_get32(u, VTD_ICS_REG);

	if (ics & VTD_ICS_IWC)
		return;
	vtd_set32(u, VTD_ICS_REG, ics | VTD_ICS_IWC);
	vtd_irq_event(u, VTD_IRQ_INV_COMPLETION);
}

static u32 vtd_frcd_off(u32 i)
{
	return VTD_FRCD_REG + 16 * i;
}

static bool vtd_frcd_any_f(const struct vtd_unit *u)
{
	u32 i;

	for (i = 0; i < VTD_NR_FRCD; i++)
		if (vtd_get32(u, vtd_frcd_off(i) + 12) & VTD_FRCD_F32)
			return true;
	return false;
}

/*
 * Software cleared fault status (FSTS or an F bit): PPF follows the F bits,
 * and FECTL.IP clears once nothing is left pending.
 */
static void vtd_fault_status_update(struct vtd_unit *u)
{
	u32 fsts = vtd_get32(u, VTD_FSTS_REG) & ~VTD_FSTS_PPF;

	if (vtd_frcd_any_f(u))
		fsts |= VTD_FSTS_PPF;
	vtd_set32(u, VTD_FSTS_REG, fsts);
	if (!(fsts & VTD_FSTS_PENDING))
		vtd_irq_serviced(u, VTD_IRQ_FAULT);
}

/**
 * vtd_record_fault() - record a translation fault
 * @u: the unit
 * @sid: source-id of the faulting request
 * @addr: the faulting address; its page goes in FI
 * @reason: fault reason
 * @is_write: the request was a write (T = 0)
 *
 * The record after the last one written is used, circularly.  While PFO is
 * set no fault is recorded; if that record is still pending (F set) the
 * fault is dropped and PFO set.
 */
void vtd_record_fault(struct vtd_unit *u, u16 sid, u64 addr,
		      enum vtd_fault_reason reason, bool is_write)
{
	u32 fsts = vtd_get32(u, VTD_FSTS_REG);
	u32 i = u->frcd_next % VTD_NR_FRCD;
	u32 off = vtd_frcd_off(i);
	u64 hi;

	if (fsts & VTD_FSTS_PFO) {
		u->stats.faults_lost++;
		return;
	}
	if (vtd_get64(u, off + 8) & VTD_FRCD_HI_F) {
		u->stats.faults_lost++;
		vtd_fault_condition(u, VTD_FSTS_PFO);
		return;
	}

	hi = VTD_FRCD_HI_F | vtd_field_prep(VTD_FRCD_HI_FR, reason) |
	     vtd_field_prep(VTD_FRCD_HI_SID, sid);
	if (!is_write)
		hi |= VTD_FRCD_HI_T;
	vtd_set64(u, off, addr & VTD_FRCD_LO_FI);
	vtd_set64(u, off + 8, hi);
	u->frcd_next = (i + 1) % VTD_NR_FRCD;
	u->stats.faults++;

	/* FRI names the first pending record: set only as PPF goes to 1. */
	if (!(fsts & VTD_FSTS_PPF)) {
		fsts = (fsts & ~VTD_FSTS_FRI) |
		       (u32)vtd_field_prep(VTD_FSTS_FRI, i);
		vtd_set32(u, VTD_FSTS_REG, fsts);
	}
	vtd_fault_condition(u, VTD_FSTS_PPF);
}

/*
 * GCMD.  Each persistent command bit (TE, QIE, IRE, CFI) sits at the same
 * position as its GSTS status bit, which takes the written value.  The
 * one-shot commands latch a pointer and set their status bit; since the
 * unit completes them at once, RTPS/IRTPS are never seen clear afterwards.
 * WBF, SFL and EAFL are not offered (CAP.RWBF, advanced fault logging) and
 * are ignored.  SRTP is done before TE so that a guest setting both in one
 * write (which the spec asks it not to) enables translation on the new
 * root table.
 */
static void vtd_gcmd_write(struct vtd_unit *u, u32 cmd)
{
	bool ir = vtd_has_ecap(u, VTD_ECAP_IR);
	u32 old = vtd_get32(u, VTD_GSTS_REG);
	u32 persist = VTD_GCMD_TE | VTD_GCMD_QIE;
	u32 gsts = old;
	bool changed = false;

	/* IRE, SIRTP and CFI are reserved without interrupt remapping. */
	if (ir)
		persist |= VTD_GCMD_IRE | VTD_GCMD_CFI;

	if (cmd & VTD_GCMD_SRTP) {
		u->rta = vtd_get64(u, VTD_RTADDR_REG) & VTD_RTADDR_RTA;
		gsts |= VTD_GSTS_RTPS;
		changed = true;
	}
	if (ir && (cmd & VTD_GCMD_SIRTP)) {
		u->irta = vtd_get64(u, VTD_IRTA_REG);
		gsts |= VTD_GSTS_IRTPS;
	}
	gsts = (gsts & ~persist) | (cmd & persist);

	/*
	 * The spec has hardware reset IQH to 0 "whenever the queued
	 * invalidation is disabled (QIES field Clear)": do it as QIES goes
	 * 1 -> 0, whatever is left in the queue.  IQH stays 0 while QIES is
	 * clear since only queue processing moves it.
	 */
	if ((old & VTD_GSTS_QIES) && !(gsts & VTD_GSTS_QIES))
		vtd_set64(u, VTD_IQH_REG, 0);

	vtd_set32(u, VTD_GSTS_REG, gsts);
	if ((old ^ gsts) & VTD_GSTS_TES)
		changed = true;
	if (changed)
		u->ops->translation_changed(u);
}

/*
 * CCMD.ICC written as 1.  With QIES set, register-based invalidation is not
 * performed: the spec leaves it undefined and software must use the queue;
 * ICC is cleared so a polling guest does not hang, and CAIG reads 0 (not
 * performed).  A domain- or device-selective request for a DID the unit
 * does not have becomes a global invalidation, which the spec lets hardware
 * do instead of the requested one; CAIG reports it.
 */
static void vtd_ccmd_fire(struct vtd_unit *u)
{
	u64 ccmd = vtd_get64(u, VTD_CCMD_REG);
	struct vtd_cc_inval inv = {};
	u8 g = vtd_field(ccmd, VTD_CCMD_CIRG);

	if (!(ccmd & VTD_CCMD_ICC))
		return;
	ccmd &= ~(VTD_CCMD_ICC | VTD_CCMD_CAIG);
	if (g && !vtd_qies(u)) {
		inv.granularity = g;
		if (g != VTD_CC_GLOBAL) {
			inv.did = vtd_field(ccmd, VTD_CCMD_DID);
			if (inv.did >= vtd_ndoms(u)) {
				inv.granularity = VTD_CC_GLOBAL;
				inv.did = 0;
			}
		}
		if (inv.granularity == VTD_CC_DEVICE) {
			inv.sid = vtd_field(ccmd, VTD_CCMD_SID);
			inv.fm = vtd_field(ccmd, VTD_CCMD_FM);
		}
		u->stats.cc_invals++;
		u->ops->cc_inval(u, &inv);
		ccmd |= vtd_field_prep(VTD_CCMD_CAIG, inv.granularity);
	}
	vtd_set64(u, VTD_CCMD_REG, ccmd);
}

/*
 * Page-selective IOTLB invalidation from IVA_REG.  Without CAP.PSI, or for
 * an AM above CAP.MAMV, the whole domain is invalidated instead, as the
 * spec allows hardware to invalidate more than asked.
 */
static void vtd_iva_decode(struct vtd_unit *u, struct vtd_iotlb_inval *inv)
{
	u64 cap = vtd_get64(u, VTD_CAP_REG);
	u64 iva = vtd_get64(u, VTD_IVA_REG);
	u8 am = vtd_field(iva, VTD_IVA_AM);

	if (!(cap & VTD_CAP_PSI) || am > vtd_field(cap, VTD_CAP_MAMV)) {
		inv->granularity = VTD_IOTLB_DOMAIN;
		return;
	}
	inv->am = am;
	inv->ih = iva & VTD_IVA_IH;
	inv->addr = iva & VTD_IVA_ADDR & vtd_am_addr_mask(am);
}

/*
 * IOTLB_REG.IVT written as 1; QIES and unknown DIDs are handled as for
 * CCMD, with IAIG for CAIG.  DR and DW need nothing: the invalidation is
 * complete, and so are all earlier translations, when the callback returns.
 */
static void vtd_iotlb_fire(struct vtd_unit *u)
{
	u64 reg = vtd_get64(u, VTD_IOTLB_REG);
	struct vtd_iotlb_inval inv = {};
	u8 g = vtd_field(reg, VTD_IOTLB_IIRG);

	if (!(reg & VTD_IOTLB_IVT))
		return;
	reg &= ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG);
	if (g && !vtd_qies(u)) {
		inv.granularity = g;
		if (g != VTD_IOTLB_GLOBAL)
			inv.did = vtd_field(reg, VTD_IOTLB_DID);
		if (g == VTD_IOTLB_PAGE)
			vtd_iva_decode(u, &inv);
		if (g != VTD_IOTLB_GLOBAL && inv.did >= vtd_ndoms(u)) {
			memset(&inv, 0, sizeof(inv));
			inv.granularity = VTD_IOTLB_GLOBAL;
		}
		u->stats.iotlb_invals++;
		u->ops->iotlb_inval(u, &inv);
		reg |= vtd_field_prep(VTD_IOTLB_IAIG, inv.granularity);
	}
	vtd_set64(u, VTD_IOTLB_REG, reg);
}

/* The last 32-bit slot of a fault record, which holds F. */
static bool vtd_is_frcd_f_slot(u32 off)
{
	return off >= VTD_FRCD_REG &&
	       off < VTD_FRCD_REG + 16 * VTD_NR_FRCD && (off & 15) == 12;
}

static u32 vtd_irta_rw(const struct vtd_unit *u, bool upper)
{
	u64 rw = VTD_IRTA_IRTA | VTD_IRTA_S;

	/* The register is reserved without IR, and EIME without EIM. */
	if (!vtd_has_ecap(u, VTD_ECAP_IR))
		return 0;
	if (vtd_has_ecap(u, VTD_ECAP_EIM))
		rw |= VTD_IRTA_EIME;
	return upper ? vtd_hi32(rw) : vtd_lo32(rw);
}

/*
 * Bits of the 32-bit slot at @off that a write stores as given.  Slots not
 * listed are read-only, reserved, or not a register: writes leave them.
 * GCMD is write-only, so it has no stored bits; vtd_gcmd_write() acts on
 * the written value.
 */
static u32 vtd_slot_rw(const struct vtd_unit *u, u32 off)
{
	switch (off) {
	case VTD_RTADDR_REG:
		return vtd_lo32(VTD_RTADDR_RTA);
	case VTD_RTADDR_REG + 4:
		return vtd_hi32(VTD_RTADDR_RTA);
	case VTD_CCMD_REG:
		return vtd_lo32(VTD_CCMD_SID | VTD_CCMD_DID);
	case VTD_CCMD_REG + 4:
		return vtd_hi32(VTD_CCMD_ICC | VTD_CCMD_CIRG | VTD_CCMD_FM);
	case VTD_FECTL_REG:
		return VTD_FECTL_IM;
	case VTD_IECTL_REG:
		return VTD_IECTL_IM;
	case VTD_FEDATA_REG:
	case VTD_FEUADDR_REG:
	case VTD_IEDATA_REG:
	case VTD_IEUADDR_REG:
		return ~0U;
	case VTD_FEADDR_REG:
	case VTD_IEADDR_REG:
		return GENMASK(31, 2);
	case VTD_PMEN_REG:
		return VTD_PMEN_EPM;
	case VTD_IQT_REG:
		return vtd_lo32(VTD_IQT_QT);
	case VTD_IQA_REG:
		/* DW is reserved: only 128-bit descriptors are offered. */
		return vtd_lo32(VTD_IQA_IQA | VTD_IQA_QS);
	case VTD_IQA_REG + 4:
		return vtd_hi32(VTD_IQA_IQA);
	case VTD_IRTA_REG:
		return vtd_irta_rw(u, false);
	case VTD_IRTA_REG + 4:
		return vtd_irta_rw(u, true);
	case VTD_IVA_REG:
		return vtd_lo32(VTD_IVA_ADDR | VTD_IVA_IH | VTD_IVA_AM);
	case VTD_IVA_REG + 4:
		return vtd_hi32(VTD_IVA_ADDR);
	case VTD_IOTLB_REG + 4:
		return vtd_hi32(VTD_IOTLB_IVT | VTD_IOTLB_IIRG | VTD_IOTLB_DR |
				VTD_IOTLB_DW | VTD_IOTLB_DID);
	}
	return 0;
}

/* Bits of the 32-bit slot at @off that a write of 1 clears (RW1C). */
static u32 vtd_slot_rw1c(u32 off)
{
	if (off == VTD_FSTS_REG)
		return VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE |
		       VTD_FSTS_ITE;
	if (off == VTD_ICS_REG)
		return VTD_ICS_IWC;
	if (vtd_is_frcd_f_slot(off))
		return VTD_FRCD_F32;
	return 0;
}

/* What a write to the slot at @off does besides storing bits. */
static void vtd_slot_effects(struct vtd_unit *u, u32 off, u32 val)
{
	u32 v;

	switch (off) {
	case VTD_GCMD_REG:
		vtd_gcmd_write(u, val);
		break;
	case VTD_CCMD_REG + 4:
		vtd_ccmd_fire(u);
		break;
	case VTD_IOTLB_REG + 4:
		vtd_iotlb_fire(u);
		break;
	case VTD_FECTL_REG:
		vtd_ctl_written(u, VTD_IRQ_FAULT);
		break;
	case VTD_IECTL_REG:
		vtd_ctl_written(u, VTD_IRQ_INV_COMPLETION);
		break;
	case VTD_ICS_REG:
		/* Clearing IWC services the pending completion message. */
		if (!(vtd_get32(u, VTD_ICS_REG) & VTD_ICS_IWC))
			vtd_irq_serviced(u, VTD_IRQ_INV_COMPLETION);
		break;
	case VTD_PMEN_REG:
		/* No protected regions: PRS just reports EPM. */
		v = vtd_get32(u, VTD_PMEN_REG) & VTD_PMEN_EPM;
		vtd_set32(u, VTD_PMEN_REG, v ? v | VTD_PMEN_PRS : 0);
		break;
	case VTD_FSTS_REG:
		vtd_fault_status_update(u);
		break;
	default:
		if (vtd_is_frcd_f_slot(off))
			vtd_fault_status_update(u);
		break;
	}
}

static void vtd_slot_write(struct vtd_unit *u, u32 off, u32 val)
{
	u32 old = vtd_get32(u, off);
	u32 rw = vtd_slot_rw(u, off);
	u32 rw1c = vtd_slot_rw1c(off);
	u32 v = ((old & ~rw) | (val & rw)) & ~(val & rw1c);

	if (v != old)
		vtd_set32(u, off, v);
	vtd_slot_effects(u, off, val);
}

/**
 * vtd_reg_write() - a guest write to a register
 * @u: the unit
 * @off: offset in the register page, aligned to @len
 * @len: 4 or 8
 * @val: the value written
 *
 * Read-only and reserved bits keep their value, RW1C bits clear where @val
 * has a 1, and commands take effect before this returns, except queued
 * invalidation, which vtd_iq_process() carries out.
 *
 * Return: 0, or -EINVAL for a bad @off or @len.
 */
int vtd_reg_write(struct vtd_unit *u, u32 off, u32 len, u64 val)
{
	if (!vtd_access_ok(off, len))
		return -EINVAL;
	u->stats.reg_writes++;
	vtd_slot_write(u, off, vtd_lo32(val));
	if (len == 8)
		vtd_slot_write(u, off + 4, vtd_hi32(val));
	return 0;
}
