// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: a sequence of guest register accesses to a VT-d unit
 * (vtd_regs.c), with the invalidation queue processed as the module
 * does after each write, and translation faults recorded in between.
 *
 * Input: two capability selector bytes (fuzz_common.h), then steps of
 * 11 bytes each:
 *   op (1):  bits 1:0 kind: 0 read, 1 write, 2 record a fault,
 *            3 process the queue; bit 2 a 64-bit access; bit 3 use the
 *            raw offset (may be misaligned or off the page); bits 7:4
 *            the queue budget after a write, or the fault reason
 *   off (2): register offset, masked to the first 1 KiB unless raw; for
 *            a fault, the source-id
 *   val (8): value written, or the faulting address
 * Fake guest memory (64 KiB at GPA 0) takes wait descriptors' status
 * writes and holds whatever queue IQA points at (zeroes: malformed).
 */
#include "fuzz_common.h"

#define FZ_STEP_SIZE	11
#define FZ_MAX_STEPS	512

static struct fz fz;

/* An access the core must accept: aligned, within the register page. */
static bool fz_access_ok(u32 off, u32 len)
{
	return !(off & (len - 1)) && off <= VTD_REG_PAGE_SIZE - len;
}

static void fz_reg_read(struct fz *f, u32 off, u32 len)
{
	struct vtd_unit *u = &f->unit;
	u64 val = ~0ULL;
	int ret;

	ret = vtd_reg_read(u, off, len, &val);
	if (!fz_access_ok(off, len)) {
		FZ_CHECK(ret == -EINVAL);
		return;
	}
	/* Register page reads never fault and return the page's bytes. */
	FZ_CHECK(!ret);
	FZ_CHECK(val == (len == 8 ? vtd_get64(u, off) : vtd_get32(u, off)));
}

static void fz_reg_write(struct fz *f, u32 off, u32 len, u64 val,
			 u32 budget)
{
	struct vtd_unit *u = &f->unit;
	u64 writes = u->stats.reg_writes;
	int ret;

	ret = vtd_reg_write(u, off, len, val);
	if (!fz_access_ok(off, len)) {
		FZ_CHECK(ret == -EINVAL);
		FZ_CHECK(u->stats.reg_writes == writes);
		return;
	}
	FZ_CHECK(!ret);
	FZ_CHECK(u->stats.reg_writes == writes + 1);
	/* GCMD is write-only: it always reads 0. */
	FZ_CHECK(!vtd_get32(u, VTD_GCMD_REG));
	fz_check_unit(f);
	if (vtd_iq_pending(u))
		fz_iq_run(f, budget);
}

static void fz_fault(struct fz *f, u16 sid, u64 addr, u32 reason,
		     bool is_write)
{
	struct vtd_unit *u = &f->unit;
	u64 seen = u->stats.faults + u->stats.faults_lost;

	vtd_record_fault(u, sid, addr, reason, is_write);
	/* Every fault is either recorded or counted as lost. */
	FZ_CHECK(u->stats.faults + u->stats.faults_lost == seen + 1);
	fz_check_unit(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz *f = &fz;
	u32 steps = 0;

	fz_init(f, &in);
	fz_check_unit(f);

	while (in.n && steps++ < FZ_MAX_STEPS) {
		u8 op = fz_u8(&in);
		u16 off = fz_u16(&in);
		u64 val = fz_u64(&in);
		u32 len = op & 4 ? 8 : 4;
		u32 arg = op >> 4;

		if (!(op & 8))
			off &= 0x3ff & ~(len - 1);
		switch (op & 3) {
		case 0:
			fz_reg_read(f, off, len);
			break;
		case 1:
			fz_reg_write(f, off, len, val, arg);
			break;
		case 2:
			fz_fault(f, off, val, arg, op & 8);
			break;
		case 3:
			fz_iq_run(f, arg);
			break;
		}
	}
	return 0;
}
