// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power management the guest can see: the ACPI PM1a event and control
 * blocks (the FADT names them; writing SLP_EN with \_S5's SLP_TYP powers
 * off) and a CMOS that reads as a stopped clock, so stray probes of ports
 * 0x70/0x71 never spin on "update in progress".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define PM1_CNT_SCI_EN		BIT(0)
#define PM1_CNT_SLP_TYP_SHIFT	10
#define PM1_CNT_SLP_TYP_MASK	(7U << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN		BIT(13)

#define CMOS_REG_A		0x0a
#define CMOS_REG_B		0x0b
#define CMOS_REG_D		0x0d
#define CMOS_A_DIVIDER_32K	0x20	/* UIP clear */
#define CMOS_B_24H		0x02
#define CMOS_D_VRT		0x80

struct pm {
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint16_t pm1_cnt;
	uint8_t cmos_index;
};

static uint64_t le_get(const void *data, uint32_t len)
{
	uint64_t v = 0;

	memcpy(&v, data, len > 8 ? 8 : len);
	return v;
}

static void le_put(void *data, uint32_t len, uint64_t v)
{
	memcpy(data, &v, len > 8 ? 8 : len);
}

static void pm1_evt_read(struct vmm *vmm, void *opaque, uint64_t off,
			 void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint32_t v = pm->pm1_sts | (uint32_t)pm->pm1_en << 16;

	(void)vmm;
	le_put(data, len, v >> (off * 8));
}

static void pm1_evt_write(struct vmm *vmm, void *opaque, uint64_t off,
			  const void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint64_t v = le_get(data, len);

	(void)vmm;
	/* PM1_STS bits are write-one-to-clear; nothing ever sets them. */
	if (off < 2)
		pm->pm1_sts &= ~(uint16_t)(v << (off * 8));
	else if (off + len <= 4)
		pm->pm1_en = v << ((off - 2) * 8);
}

static void pm1_cnt_read(struct vmm *vmm, void *opaque, uint64_t off,
			 void *data, uint32_t len)
{
	struct pm *pm = opaque;

	(void)vmm;
	le_put(data, len, (pm->pm1_cnt | PM1_CNT_SCI_EN) >> (off * 8));
}

static void pm1_cnt_write(struct vmm *vmm, void *opaque, uint64_t off,
			  const void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint16_t v;

	if (off || len != 2)
		return;
	v = le_get(data, len);
	if ((v & PM1_CNT_SLP_EN) &&
	    (v & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT == S5_SLP_TYP) {
		vmm_stop(vmm, VMM_STOP_POWEROFF);
		return;
	}
	pm->pm1_cnt = v & ~PM1_CNT_SLP_EN;
}

static void cmos_read(struct vmm *vmm, void *opaque, uint64_t off,
		      void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint8_t v = 0;

	(void)vmm;
	if (off == 1) {
		switch (pm->cmos_index) {
		case CMOS_REG_A:
			v = CMOS_A_DIVIDER_32K;
			break;
		case CMOS_REG_B:
			v = CMOS_B_24H;
			break;
		case CMOS_REG_D:
			v = CMOS_D_VRT;
			break;
		}
	}
	memset(data, 0, len);
	*(uint8_t *)data = v;
}

static void cmos_write(struct vmm *vmm, void *opaque, uint64_t off,
		       const void *data, uint32_t len)
{
	struct pm *pm = opaque;

	(void)vmm;
	(void)len;
	if (off == 0)
		pm->cmos_index = *(const uint8_t *)data & 0x7f;
}

int pm_init(struct vmm *vmm)
{
	struct bus_dev evt = { .read = pm1_evt_read, .write = pm1_evt_write };
	struct bus_dev cnt = { .read = pm1_cnt_read, .write = pm1_cnt_write };
	struct bus_dev cmos = { .read = cmos_read, .write = cmos_write };
	struct pm *pm;
	int ret;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	vmm->pm = pm;
	evt.opaque = pm;
	cnt.opaque = pm;
	cmos.opaque = pm;
	ret = bus_add(&vmm->pio, PORT_PM1A_EVT, 4, &evt);
	if (!ret)
		ret = bus_add(&vmm->pio, PORT_PM1A_CNT, 2, &cnt);
	if (!ret)
		ret = bus_add(&vmm->pio, PORT_CMOS, 2, &cmos);
	return ret;
}
