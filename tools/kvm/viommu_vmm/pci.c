// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI segment 0, bus 0: configuration mechanism #1 (ports 0xcf8/0xcfc) and
 * ECAM (the MCFG window), a host bridge at 00:00.0, and the functions
 * others add (the assigned device).  Port 0xcf9, inside the address
 * register, is the reset control register the FADT names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define PCI_MAX_FUNCS		8
#define CONF1_ENABLE		BIT(31)
#define RESET_CF9_RST_CPU	0x04

/* The host bridge: a PCIe root complex with nothing to configure. */
#define HB_VENDOR		0x1b36	/* Red Hat, Inc. (QEMU's IDs) */
#define HB_DEVICE		0x0008	/* "QEMU PCIe Host bridge" */
#define HB_CLASS		0x060000

struct pci {
	uint32_t conf1_addr;
	struct pci_func *funcs[PCI_MAX_FUNCS];
	int nr;
	struct pci_func host_bridge;
};

static struct pci_func *pci_find(struct pci *pci, uint8_t bus, uint8_t devfn)
{
	int i;

	if (bus)
		return NULL;
	for (i = 0; i < pci->nr; i++)
		if (pci->funcs[i]->devfn == devfn)
			return pci->funcs[i];
	return NULL;
}

static uint32_t pci_cfg_read(struct vmm *vmm, uint8_t bus, uint8_t devfn,
			     uint32_t off, uint32_t len)
{
	struct pci_func *f = pci_find(vmm->pci, bus, devfn);

	if (!f || off >= 4096 || (off & (len - 1)))
		return 0xffffffff;
	return f->cfg_read(vmm, f, off, len);
}

static void pci_cfg_write(struct vmm *vmm, uint8_t bus, uint8_t devfn,
			  uint32_t off, uint32_t len, uint32_t val)
{
	struct pci_func *f = pci_find(vmm->pci, bus, devfn);

	if (!f || off >= 4096 || (off & (len - 1)))
		return;
	f->cfg_write(vmm, f, off, len, val);
}

static bool cfg_len_ok(uint32_t len)
{
	return len == 1 || len == 2 || len == 4;
}

static void conf1_read(struct vmm *vmm, void *opaque, uint64_t off,
		       void *data, uint32_t len)
{
	struct pci *pci = opaque;
	uint32_t a = pci->conf1_addr, v = 0xffffffff;

	if (off == 0 && len == 4) {
		v = a;
	} else if (off >= 4 && cfg_len_ok(len) && (a & CONF1_ENABLE)) {
		v = pci_cfg_read(vmm, (a >> 16) & 0xff, (a >> 8) & 0xff,
				 (a & 0xfc) + off - 4, len);
	}
	memcpy(data, &v, len > 4 ? 4 : len);
}

static void conf1_write(struct vmm *vmm, void *opaque, uint64_t off,
			const void *data, uint32_t len)
{
	struct pci *pci = opaque;
	uint32_t a = pci->conf1_addr, v = 0;

	memcpy(&v, data, len > 4 ? 4 : len);
	if (off == 0 && len == 4) {
		pci->conf1_addr = v;
	} else if (off == 1 && len == 1) {
		if (v & RESET_CF9_RST_CPU)
			vmm_stop(vmm, VMM_STOP_RESET);
	} else if (off >= 4 && cfg_len_ok(len) && (a & CONF1_ENABLE)) {
		pci_cfg_write(vmm, (a >> 16) & 0xff, (a >> 8) & 0xff,
			      (a & 0xfc) + off - 4, len, v);
	}
}

static void ecam_read(struct vmm *vmm, void *opaque, uint64_t off,
		      void *data, uint32_t len)
{
	uint32_t v = 0xffffffff;

	(void)opaque;
	if (cfg_len_ok(len))
		v = pci_cfg_read(vmm, off >> 20, (off >> 12) & 0xff,
				 off & 0xfff, len);
	memset(data, 0xff, len);
	memcpy(data, &v, len > 4 ? 4 : len);
}

static void ecam_write(struct vmm *vmm, void *opaque, uint64_t off,
		       const void *data, uint32_t len)
{
	uint32_t v = 0;

	(void)opaque;
	if (!cfg_len_ok(len))
		return;
	memcpy(&v, data, len);
	pci_cfg_write(vmm, off >> 20, (off >> 12) & 0xff, off & 0xfff, len, v);
}

static uint32_t hb_read(struct vmm *vmm, struct pci_func *f, uint32_t off,
			uint32_t len)
{
	uint8_t cfg[64] = { 0 };
	uint32_t v = 0;

	(void)vmm;
	(void)f;
	if (off >= sizeof(cfg))
		return 0;
	cfg[0x00] = HB_VENDOR & 0xff;
	cfg[0x01] = HB_VENDOR >> 8;
	cfg[0x02] = HB_DEVICE & 0xff;
	cfg[0x03] = HB_DEVICE >> 8;
	cfg[0x09] = HB_CLASS & 0xff;
	cfg[0x0a] = (HB_CLASS >> 8) & 0xff;
	cfg[0x0b] = HB_CLASS >> 16;
	memcpy(&v, cfg + off, len);
	return v;
}

static void hb_write(struct vmm *vmm, struct pci_func *f, uint32_t off,
		     uint32_t len, uint32_t val)
{
	(void)vmm;
	(void)f;
	(void)off;
	(void)len;
	(void)val;
}

int pci_add_func(struct vmm *vmm, struct pci_func *f)
{
	struct pci *pci = vmm->pci;

	if (pci->nr == PCI_MAX_FUNCS || pci_find(pci, 0, f->devfn))
		return -EBUSY;
	pci->funcs[pci->nr++] = f;
	return 0;
}

int pci_init(struct vmm *vmm)
{
	struct bus_dev conf1 = { .read = conf1_read, .write = conf1_write };
	struct bus_dev ecam = { .read = ecam_read, .write = ecam_write };
	struct pci *pci;
	int ret;

	pci = calloc(1, sizeof(*pci));
	if (!pci)
		return -ENOMEM;
	vmm->pci = pci;
	pci->host_bridge.devfn = 0;
	pci->host_bridge.cfg_read = hb_read;
	pci->host_bridge.cfg_write = hb_write;
	conf1.opaque = pci;
	ecam.opaque = pci;
	ret = pci_add_func(vmm, &pci->host_bridge);
	if (!ret)
		ret = bus_add(&vmm->pio, PORT_PCI_CONF_ADDR, 8, &conf1);
	if (!ret)
		ret = bus_add(&vmm->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam);
	return ret;
}
