// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest VT-d unit's invalidation queue (legacy mode, 128-bit
 * descriptors): fetch from guest memory, validation, dispatch.
 *
 * Descriptors are processed synchronously and in order: when one has been
 * dispatched, its invalidation is complete.  Anything malformed stops the
 * queue with FSTS.IQE and IQH left at the offending descriptor, as the spec
 * has hardware do.
 */
#include "vtd.h"

/*
 * Reserved bits of each descriptor type, from the spec's layouts; bits 3:0
 * and 11:9 (the type) are checked apart.  "lo" is bits 63:0 of the
 * descriptor, "hi" bits 127:64, numbered from 0 within each.
 *
 * Context-cache: 5:4 G, 31:16 DID, 47:32 SID, 49:48 FM; reserved 8:6,
 * 15:12, 63:50 and the whole upper half.
 */
#define VTD_CC_RSVD_LO		(GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | \
				 GENMASK_ULL(63, 50))
#define VTD_CC_RSVD_HI		GENMASK_ULL(63, 0)

/*
 * IOTLB: 5:4 G, 6 DW, 7 DR, 31:16 DID; hi 5:0 AM, 6 IH, 63:12 ADDR;
 * reserved 8, 15:12, 63:32 and hi 11:7.
 */
#define VTD_IOTLB_RSVD_LO	(BIT_ULL(8) | GENMASK_ULL(15, 12) | \
				 GENMASK_ULL(63, 32))
#define VTD_IOTLB_RSVD_HI	GENMASK_ULL(11, 7)

/*
 * Device-TLB: 15:12 PFSID[3:0], 20:16 MIP, 47:32 SID, 63:52 PFSID[15:4];
 * hi 0 S, 63:12 ADDR; reserved 8:4, 31:21, 51:48 and hi 11:1.
 */
#define VTD_DEVTLB_RSVD_LO	(GENMASK_ULL(8, 4) | GENMASK_ULL(31, 21) | \
				 GENMASK_ULL(51, 48))
#define VTD_DEVTLB_RSVD_HI	GENMASK_ULL(11, 1)

/*
 * Interrupt entry cache: 4 G, 31:27 IM, 47:32 IIDX; reserved 8:5, 26:12,
 * 63:48 and the whole upper half.
 */
#define VTD_IEC_RSVD_LO		(GENMASK_ULL(8, 5) | GENMASK_ULL(26, 12) | \
				 GENMASK_ULL(63, 48))
#define VTD_IEC_RSVD_HI		GENMASK_ULL(63, 0)

/*
 * Invalidation wait: 4 IF, 5 SW, 6 FN, 7 PD, 63:32 status data; hi 63:2
 * status address; reserved 8, 31:12 and hi 1:0.
 */
#define VTD_WAIT_RSVD_LO	(BIT_ULL(8) | GENMASK_ULL(31, 12))
#define VTD_WAIT_RSVD_HI	GENMASK_ULL(1, 0)

/**
 * vtd_iq_entries() - size of the invalidation queue
 * @u: the unit
 *
 * Return: the number of descriptors the queue holds as IQA.QS sets it now,
 * 256 << QS.
 */
u32 vtd_iq_entries(const struct vtd_unit *u)
{
	return 256U << vtd_field(vtd_get64(u, VTD_IQA_REG), VTD_IQA_QS);
}

/**
 * vtd_iq_pending() - whether the queue has descriptors to process
 * @u: the unit
 *
 * Return: true if queued invalidation is enabled, no queue error waits for
 * software, and IQH differs from IQT.
 */
bool vtd_iq_pending(const struct vtd_unit *u)
{
	return (vtd_get32(u, VTD_GSTS_REG) & VTD_GSTS_QIES) &&
	       !(vtd_get32(u, VTD_FSTS_REG) & VTD_FSTS_IQE) &&
	       vtd_get64(u, VTD_IQH_REG) != vtd_get64(u, VTD_IQT_REG);
}

static bool vtd_desc_rsvd_ok(const struct vtd_inv_desc *d, u64 lo, u64 hi)
{
	return !(d->lo & lo) && !(d->hi & hi);
}

static int vtd_iq_cc(struct vtd_unit *u, const struct vtd_inv_desc *d)
{
	struct vtd_cc_inval inv = {};

	if (!vtd_desc_rsvd_ok(d, VTD_CC_RSVD_LO, VTD_CC_RSVD_HI))
		return -EINVAL;
	inv.granularity = vtd_field(d->lo, VTD_INV_DESC_G);
	if (!inv.granularity)
		return -EINVAL;
	if (inv.granularity != VTD_CC_GLOBAL) {
		inv.did = vtd_field(d->lo, VTD_INV_DESC_CC_DID);
		if (inv.did >= vtd_ndoms(u))
			return -EINVAL;
	}
	if (inv.granularity == VTD_CC_DEVICE) {
		inv.sid = vtd_field(d->lo, VTD_INV_DESC_CC_SID);
		inv.fm = vtd_field(d->lo, VTD_INV_DESC_CC_FM);
	}
	u->stats.cc_invals++;
	u->ops->cc_inval(u, &inv);
	return 0;
}

/*
 * Page-selective: an AM above CAP.MAMV is an error, but without CAP.PSI
 * the whole domain is invalidated, which the spec lets hardware do.
 */
static int vtd_iq_iotlb_page(struct vtd_unit *u, const struct vtd_inv_desc *d,
			     struct vtd_iotlb_inval *inv)
{
	u64 cap = vtd_get64(u, VTD_CAP_REG);
	u8 am = vtd_field(d->hi, VTD_INV_DESC_IOTLB_AM);

	if (!(cap & VTD_CAP_PSI)) {
		inv->granularity = VTD_IOTLB_DOMAIN;
		return 0;
	}
	if (am > vtd_field(cap, VTD_CAP_MAMV))
		return -EINVAL;
	inv->am = am;
	inv->ih = d->hi & VTD_INV_DESC_IOTLB_IH;
	inv->addr = d->hi & VTD_INV_DESC_IOTLB_ADDR & vtd_am_addr_mask(am);
	return 0;
}

/* DR and DW need nothing: earlier work is complete when a callback runs. */
static int vtd_iq_iotlb(struct vtd_unit *u, const struct vtd_inv_desc *d)
{
	struct vtd_iotlb_inval inv = {};

	if (!vtd_desc_rsvd_ok(d, VTD_IOTLB_RSVD_LO, VTD_IOTLB_RSVD_HI))
		return -EINVAL;
	inv.granularity = vtd_field(d->lo, VTD_INV_DESC_G);
	if (!inv.granularity)
		return -EINVAL;
	if (inv.granularity != VTD_IOTLB_GLOBAL) {
		inv.did = vtd_field(d->lo, VTD_INV_DESC_IOTLB_DID);
		if (inv.did >= vtd_ndoms(u))
			return -EINVAL;
	}
	if (inv.granularity == VTD_IOTLB_PAGE &&
	    vtd_iq_iotlb_page(u, d, &inv))
		return -EINVAL;
	u->stats.iotlb_invals++;
	u->ops->iotlb_inval(u, &inv);
	return 0;
}

void vtd_cc_inval_desc(const struct vtd_cc_inval *inv,
		       struct vtd_inv_desc *d)
{
	d->lo = VTD_INV_DESC_CC |
		vtd_field_prep(VTD_INV_DESC_G, inv->granularity);
	d->hi = 0;
	if (inv->granularity != VTD_CC_GLOBAL)
		d->lo |= vtd_field_prep(VTD_INV_DESC_CC_DID, inv->did);
	if (inv->granularity == VTD_CC_DEVICE)
		d->lo |= vtd_field_prep(VTD_INV_DESC_CC_SID, inv->sid) |
			 vtd_field_prep(VTD_INV_DESC_CC_FM, inv->fm);
}

void vtd_iotlb_inval_desc(const struct vtd_iotlb_inval *inv,
			  struct vtd_inv_desc *d)
{
	d->lo = VTD_INV_DESC_IOTLB |
		vtd_field_prep(VTD_INV_DESC_G, inv->granularity);
	d->hi = 0;
	if (inv->granularity != VTD_IOTLB_GLOBAL)
		d->lo |= vtd_field_prep(VTD_INV_DESC_IOTLB_DID, inv->did);
	if (inv->granularity == VTD_IOTLB_PAGE)
		d->hi = (inv->addr & VTD_INV_DESC_IOTLB_ADDR) |
			(inv->ih ? VTD_INV_DESC_IOTLB_IH : 0) |
			vtd_field_prep(VTD_INV_DESC_IOTLB_AM, inv->am);
}

static void vtd_iq_set_head(struct vtd_unit *u, u32 head)
{
	vtd_set64(u, VTD_IQH_REG, vtd_field_prep(VTD_IQH_QH, head));
}

/* IEC and device-TLB descriptors: well-formed ones go to the VMM. */
static int vtd_iq_forward(struct vtd_unit *u, const struct vtd_inv_desc *d,
			  u64 ecap_bit, u64 rsvd_lo, u64 rsvd_hi)
{
	if (!vtd_has_ecap(u, ecap_bit) ||
	    !vtd_desc_rsvd_ok(d, rsvd_lo, rsvd_hi))
		return -EINVAL;
	u->stats.forwarded++;
	u->ops->forward_desc(u, d);
	return 0;
}

/*
 * Invalidation wait.  FN (fence) orders later descriptors after this one,
 * and PD (page-request drain) waits for page requests: processing is
 * synchronous and in order and the unit issues no page requests, so both
 * hold already.
 *
 * Order of effects: IQH moves past the descriptor first, then the status
 * is written, then IF's completion (ICS.IWC, and IECTL.IP or the
 * interrupt).  A guest that sees the status word finds IQH past the wait,
 * and one that takes the interrupt finds the status written.  If the
 * status cannot be written, IQH goes back to the descriptor for the IQE.
 */
static int vtd_iq_wait(struct vtd_unit *u, const struct vtd_inv_desc *d,
		       u32 head, u32 entries)
{
	u64 addr = d->hi & VTD_INV_DESC_WAIT_SADDR;
	u32 sdata = vtd_field(d->lo, VTD_INV_DESC_WAIT_SDATA);
	u8 buf[4];
	u32 i;

	if (!vtd_desc_rsvd_ok(d, VTD_WAIT_RSVD_LO, VTD_WAIT_RSVD_HI))
		return -EINVAL;
	if ((d->lo & VTD_INV_DESC_WAIT_SW) && addr + sizeof(buf) < addr)
		return -EFAULT;

	vtd_iq_set_head(u, (head + 1) % entries);
	if (d->lo & VTD_INV_DESC_WAIT_SW) {
		/* A little-endian dword, as the guest reads it. */
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = sdata >> (8 * i);
		if (u->ops->write_gpa(u, addr, buf, sizeof(buf))) {
			vtd_iq_set_head(u, head);
			return -EFAULT;
		}
	}
	u->stats.waits++;
	if (d->lo & VTD_INV_DESC_WAIT_IF)
		vtd_inv_completion(u);
	return 0;
}

/*
 * Validate and carry out the descriptor at @head; nonzero means IQE, with
 * IQH still at @head.  On success IQH is past it.
 */
static int vtd_iq_exec(struct vtd_unit *u, const struct vtd_inv_desc *d,
		       u32 head, u32 entries)
{
	int ret;

	/* Types above 15 use bits 11:9; none of them is offered. */
	if (d->lo & VTD_INV_DESC_TYPE_HI)
		return -EINVAL;

	switch (d->lo & VTD_INV_DESC_TYPE_LO) {
	case VTD_INV_DESC_CC:
		ret = vtd_iq_cc(u, d);
		break;
	case VTD_INV_DESC_IOTLB:
		ret = vtd_iq_iotlb(u, d);
		break;
	case VTD_INV_DESC_DEVTLB:
		ret = vtd_iq_forward(u, d, VTD_ECAP_DT, VTD_DEVTLB_RSVD_LO,
				     VTD_DEVTLB_RSVD_HI);
		break;
	case VTD_INV_DESC_IEC:
		ret = vtd_iq_forward(u, d, VTD_ECAP_IR, VTD_IEC_RSVD_LO,
				     VTD_IEC_RSVD_HI);
		break;
	case VTD_INV_DESC_WAIT:
		/* Moves IQH itself: see there. */
		return vtd_iq_wait(u, d, head, entries);
	default:
		return -EINVAL;
	}
	if (!ret)
		vtd_iq_set_head(u, (head + 1) % entries);
	return ret;
}

/* A little-endian quadword from guest memory. */
static u64 vtd_le64(const u8 *p)
{
	u64 v = 0;
	u32 i;

	for (i = 0; i < 8; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* Read the descriptor at index @head of the queue. */
static int vtd_iq_fetch(struct vtd_unit *u, u32 head, struct vtd_inv_desc *d)
{
	u64 base = vtd_get64(u, VTD_IQA_REG) & VTD_IQA_IQA;
	u64 gpa = base + (u64)head * sizeof(*d);
	u8 buf[sizeof(*d)];
	int ret;

	/* A queue wrapping around the top of the address space. */
	if (gpa + sizeof(buf) < base)
		return -EFAULT;
	ret = u->ops->read_gpa(u, gpa, buf, sizeof(buf));
	if (ret)
		return ret;
	d->lo = vtd_le64(buf);
	d->hi = vtd_le64(buf + 8);
	return 0;
}

/*
 * A wait descriptor completes only once everything before it has: the
 * host may say it has not yet (forwarded descriptors not acknowledged).
 */
static bool vtd_iq_wait_blocked(struct vtd_unit *u,
				const struct vtd_inv_desc *d)
{
	return !(d->lo & VTD_INV_DESC_TYPE_HI) &&
	       (d->lo & VTD_INV_DESC_TYPE_LO) == VTD_INV_DESC_WAIT &&
	       u->ops->wait_ready && !u->ops->wait_ready(u);
}

static void vtd_iq_error(struct vtd_unit *u)
{
	u->stats.iq_errors++;
	vtd_fault_condition(u, VTD_FSTS_IQE);
}

/**
 * vtd_iq_process() - process queued invalidation descriptors
 * @u: the unit
 * @budget: most descriptors to process in this call
 *
 * Processes descriptors from IQH towards IQT, advancing IQH past each one
 * carried out.  An IQT (or, after the guest shrank the queue under the
 * unit, an IQH) beyond the queue, an unreadable descriptor, or a malformed
 * one sets FSTS.IQE with IQH at the offender and stops; once software
 * clears IQE, vtd_iq_pending() reports the rest again.  If the host's
 * ->yield() says so after a descriptor, it stops there too, and so it does
 * before a wait descriptor that ->wait_ready() holds back (IQH on it, no
 * error).
 *
 * Return: the number of descriptors processed.
 */
u32 vtd_iq_process(struct vtd_unit *u, u32 budget)
{
	u32 done = 0;

	while (done < budget && vtd_iq_pending(u)) {
		u32 entries = vtd_iq_entries(u);
		u32 head = vtd_field(vtd_get64(u, VTD_IQH_REG), VTD_IQH_QH);
		u32 tail = vtd_field(vtd_get64(u, VTD_IQT_REG), VTD_IQT_QT);
		struct vtd_inv_desc d;

		if (tail >= entries || head >= entries ||
		    vtd_iq_fetch(u, head, &d)) {
			vtd_iq_error(u);
			break;
		}
		if (vtd_iq_wait_blocked(u, &d))
			break;
		if (vtd_iq_exec(u, &d, head, entries)) {
			vtd_iq_error(u);
			break;
		}
		u->stats.descs++;
		done++;
		if (u->ops->yield && u->ops->yield(u))
			break;
	}
	return done;
}
