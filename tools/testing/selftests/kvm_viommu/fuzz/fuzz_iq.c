// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the invalidation queue (vtd_iq.c).  Guest memory holds a
 * queue of descriptors the input supplies; the guest moves IQT and the
 * unit processes the queue with small budgets.
 *
 * Input:
 *   caps (2):   capability selectors (fuzz_common.h)
 *   iqa (1):    bits 1:0 QS (256 << QS entries, capped at 2: 16 KiB);
 *               bits 5:2 queue page in guest memory; bit 6 place the
 *               queue outside guest memory (just above it if bits 5:2
 *               are 0, else in the top page, wrapping); bit 7 leave the
 *               completion interrupt unmasked
 *   nsteps (1): steps to run, at most 64
 *   steps:      4 bytes each: IQT index (2, stored as IQT = index << 4,
 *               so it may be beyond the queue), budget (1), action (1):
 *               bit 0 clear FSTS.IQE first, bit 1 clear ICS.IWC first,
 *               bit 2 toggle QIE off and on (IQH resets), bit 3 shrink
 *               the queue to QS 0 before the step
 *   the rest:   queue contents, copied to guest memory at the queue
 */
#include "fuzz_common.h"

#define FZ_MAX_STEPS	64

static struct fz fz;

static void fz_write(struct fz *f, u32 off, u32 len, u64 val)
{
	FZ_CHECK(!vtd_reg_write(&f->unit, off, len, val));
	fz_check_unit(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz *f = &fz;
	const u8 *steps;
	u64 iqa, base;
	u32 nsteps, i;
	u8 sel;

	fz_init(f, &in);
	sel = fz_u8(&in);
	nsteps = fz_u8(&in) % (FZ_MAX_STEPS + 1);
	if (in.n < nsteps * 4)
		nsteps = in.n / 4;
	steps = in.p;
	in.p += nsteps * 4;
	in.n -= nsteps * 4;

	base = ((sel >> 2) & 0xf) * FZ_PAGE;
	if (sel & 0x40)
		base = base ? ~(FZ_PAGE - 1) : FZ_MEM_SIZE;
	iqa = base | ((sel & 3) == 3 ? 2 : sel & 3);
	if (base < FZ_MEM_SIZE)
		memcpy(f->mem + base, in.p,
		       in.n < FZ_MEM_SIZE - base ? in.n : FZ_MEM_SIZE - base);

	fz_write(f, VTD_IQA_REG, 8, iqa);
	if (sel & 0x80)
		fz_write(f, VTD_IECTL_REG, 4, 0);
	fz_write(f, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
	FZ_CHECK(vtd_get32(&f->unit, VTD_GSTS_REG) & VTD_GSTS_QIES);

	for (i = 0; i < nsteps; i++) {
		const u8 *s = steps + 4 * i;
		u32 tail = s[0] | (u32)s[1] << 8;
		u32 budget = s[2];
		u8 act = s[3];

		if (act & 1)
			fz_write(f, VTD_FSTS_REG, 4, VTD_FSTS_IQE);
		if (act & 2)
			fz_write(f, VTD_ICS_REG, 4, VTD_ICS_IWC);
		if (act & 4) {
			fz_write(f, VTD_GCMD_REG, 4, 0);
			FZ_CHECK(!vtd_get64(&f->unit, VTD_IQH_REG));
			fz_write(f, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
		}
		if (act & 8)
			fz_write(f, VTD_IQA_REG, 8, iqa & ~VTD_IQA_QS);
		fz_write(f, VTD_IQT_REG, 8, (u64)tail << 4);
		fz_iq_run(f, budget);
	}
	return 0;
}
