/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI tables for the viommu reference VMM.
 *
 * The guest kernel boots without firmware, so the VMM builds the whole
 * table set itself and places it where Linux looks for an RSDP (the VMM
 * uses 0xe0000).  What the tables describe is given by struct acpi_layout.
 */
#ifndef VIOMMU_VMM_ACPI_H
#define VIOMMU_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct acpi_layout {
	uint32_t ncpus;		/* 1..8: Local APICs 0..ncpus-1, all enabled */
	uint64_t lapic_addr;	/* 0xfee00000 */
	uint64_t ioapic_addr;	/* 0xfec00000; id ncpus, GSI base 0, 24 pins */
	uint64_t ecam_base;	/* MCFG: segment 0, buses 0..ecam_end_bus */
	uint8_t ecam_end_bus;
	uint16_t sci_irq;	/* ISA IRQ of the SCI, e.g. 9 */
	uint16_t pm1a_evt_port;	/* PM1a event block, 4 bytes */
	uint16_t pm1a_cnt_port;	/* PM1a control block, 2 bytes */
	uint16_t reset_port;	/* FADT RESET_REG (system I/O), e.g. 0xcf9 */
	uint8_t reset_value;	/* e.g. 0x06 */
	uint8_t s5_slp_typ;	/* the SLP_TYP value \_S5 reports, e.g. 5 */
	int dmar;		/* nonzero: emit a DMAR table */
	uint64_t drhd_base;	/* the VT-d unit's 4 KiB register page GPA */
	uint8_t dmar_haw;	/* host address width, e.g. 48 */
	uint64_t pci_mmio_base;	/* root bridge MMIO window (DSDT _CRS) */
	uint64_t pci_mmio_size;
	uint16_t pci_io_base;	/* root bridge I/O window, e.g. 0x1000 */
	uint16_t pci_io_size;	/* e.g. 0xf000 */
};

/*
 * Build RSDP, XSDT, FADT, FACS, DSDT, MADT, MCFG and (if l->dmar) DMAR
 * into buf, which the guest sees at guest-physical address gpa (16-byte
 * aligned).  The RSDP is at offset 0, the other tables follow it.
 *
 * Returns 0 and the number of bytes used in *used; -ENOSPC if size is too
 * small (nothing is written at or past buf + size); -EINVAL if the layout
 * cannot be described (see acpi.c for the limits).
 */
int acpi_build(void *buf, size_t size, uint64_t gpa,
	       const struct acpi_layout *l, size_t *used);

#endif /* VIOMMU_VMM_ACPI_H */
