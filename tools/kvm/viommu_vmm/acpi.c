// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI tables for the viommu reference VMM.
 *
 * The guest is an unmodified x86-64 Linux booted without firmware: it finds
 * the RSDP by scanning 0xe0000-0xfffff (or through boot_params), and from
 * there everything it needs to enumerate PCI, find the VT-d unit and power
 * off.  The table set is:
 *
 *   RSDP (rev 2) -> XSDT -> FADT (rev 6) -> FACS, DSDT
 *                        -> MADT, MCFG, DMAR (if asked for)
 *
 * Tables are written field by field, little-endian, in the order the ACPI
 * 6.3 and VT-d 3.x specifications list the fields; each field carries the
 * spec's name in a comment.  Writes never go past the caller's buffer, but
 * the position keeps counting, so a short buffer is detected at the end
 * and reported as -ENOSPC.
 *
 * The DSDT's AML is produced by the small emitter in the middle of this
 * file.  It knows the handful of terms the DSDT needs: Scope, Device, Name,
 * Package, Buffer (resource templates) and integers.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "acpi.h"

#define BIT(n)			(1ul << (n))

#define ACPI_OEM_ID		"KVMVIO"	/* 6 bytes */
#define ACPI_OEM_TABLE_ID	"KVMVIOMM"	/* 8 bytes */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"KVMV"		/* 4 bytes */
#define ACPI_CREATOR_REVISION	1

#define ACPI_RSDP_SIZE		36
#define ACPI_FACS_SIZE		64
#define ACPI_TABLE_ALIGN	16

/* FADT Fixed Feature Flags (ACPI 6.3, table 5-34). */
#define FADT_F_WBINVD		BIT(0)
#define FADT_F_PROC_C1		BIT(2)
#define FADT_F_PWR_BUTTON	BIT(4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	BIT(5)	/* no fixed sleep button */
#define FADT_F_FIX_RTC		BIT(6)	/* no RTC wake status */
#define FADT_F_RESET_REG_SUP	BIT(10)
#define FADT_FLAGS		(FADT_F_WBINVD | FADT_F_PROC_C1 | \
				 FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | \
				 FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP)

/* FADT IA-PC Boot Architecture Flags (ACPI 6.3, table 5-35). */
#define FADT_BOOT_VGA_NOT_PRESENT	BIT(2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT	BIT(5)

/* Generic Address Structure (ACPI 6.3, table 5-25). */
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1
#define GAS_ACCESS_WORD		2

/* MADT (ACPI 6.3, section 5.2.12). */
#define MADT_PCAT_COMPAT		BIT(0)
#define MADT_TYPE_LOCAL_APIC		0
#define MADT_TYPE_IO_APIC		1
#define MADT_TYPE_INT_SRC_OVERRIDE	2
#define MADT_LAPIC_ENABLED		BIT(0)
#define MADT_POLARITY_HIGH		0x1
#define MADT_TRIGGER_LEVEL		(0x3 << 2)
#define MADT_BUS_ISA			0

/* DMAR (VT-d 3.x, section 8). */
#define DMAR_TYPE_DRHD			0
#define DMAR_DRHD_INCLUDE_PCI_ALL	BIT(0)

/* AML encoding (ACPI 6.3, section 20.2). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_EXT_DEVICE_OP	0x82
#define AML_ROOT_CHAR		'\\'
#define AML_PARENT_PREFIX_CHAR	'^'
#define AML_NAME_SEG_SIZE	4

/* Resource data types (ACPI 6.3, section 6.4). */
#define RES_IO_PORT		0x47	/* small item 0x08, length 7 */
#define RES_END_TAG		0x79	/* small item 0x0f, length 1 */
#define RES_DWORD_ADDRESS	0x87	/* large item 0x07 */
#define RES_WORD_ADDRESS	0x88	/* large item 0x08 */
#define RES_QWORD_ADDRESS	0x8a	/* large item 0x0a */
#define RES_IO_DECODE16		BIT(0)
/* Address space descriptors: Resource Type */
#define RES_TYPE_MEMORY		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2
/* ... General Flags */
#define RES_CONSUMER		BIT(0)	/* clear: producer */
#define RES_MIN_FIXED		BIT(2)
#define RES_MAX_FIXED		BIT(3)
/* ... Type Specific Flags */
#define RES_MEM_READ_WRITE	BIT(0)	/* _MEM 0: non-cacheable */
#define RES_IO_ENTIRE_RANGE	0x3		/* _RNG: ISA and non-ISA */

#define PCI_CONF1_PORT		0xcf8
#define PCI_CONF1_LEN		8
#define ECAM_BUS_SIZE		0x100000ull	/* 1 MiB of config space */

/* A write cursor over the caller's buffer. */
struct out {
	uint8_t *buf;
	size_t size;
	size_t pos;	/* may pass size: then nothing more is stored */
	int err;	/* an internal limit was hit */
};

static int out_ok(const struct out *o)
{
	return o->pos <= o->size;
}

static void put8(struct out *o, uint8_t v)
{
	if (o->pos < o->size)
		o->buf[o->pos] = v;
	o->pos++;
}

static void put16(struct out *o, uint16_t v)
{
	put8(o, v);
	put8(o, v >> 8);
}

static void put32(struct out *o, uint32_t v)
{
	put16(o, v);
	put16(o, v >> 16);
}

static void put64(struct out *o, uint64_t v)
{
	put32(o, v);
	put32(o, v >> 32);
}

static void put_bytes(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		put8(o, b[i]);
}

static void put_zeros(struct out *o, size_t n)
{
	while (n--)
		put8(o, 0);
}

/* Pad so the next byte lands at a guest-physical multiple of align. */
static void put_align(struct out *o, uint64_t gpa, uint64_t align)
{
	while ((gpa + o->pos) % align)
		put8(o, 0);
}

/* Store v at offset off, if the buffer holds it. */
static void poke32(struct out *o, size_t off, uint32_t v)
{
	int i;

	for (i = 0; i < 4 && off + i < o->size; i++)
		o->buf[off + i] = v >> (8 * i);
}

/* The value that makes len bytes from p sum to zero. */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

/* A Generic Address Structure. */
static void put_gas(struct out *o, uint8_t space_id, uint8_t bit_width,
		    uint8_t access_size, uint64_t address)
{
	put8(o, space_id);		/* Address Space ID */
	put8(o, bit_width);		/* Register Bit Width */
	put8(o, 0);			/* Register Bit Offset */
	put8(o, access_size);		/* Access Size */
	put64(o, address);		/* Address */
}

/* The System Description Table Header; returns where the table starts. */
static size_t table_begin(struct out *o, const char *signature,
			  uint8_t revision)
{
	size_t start = o->pos;

	put_bytes(o, signature, 4);		/* Signature */
	put32(o, 0);				/* Length: table_end() */
	put8(o, revision);			/* Revision */
	put8(o, 0);				/* Checksum: table_end() */
	put_bytes(o, ACPI_OEM_ID, 6);		/* OEMID */
	put_bytes(o, ACPI_OEM_TABLE_ID, 8);	/* OEM Table ID */
	put32(o, ACPI_OEM_REVISION);		/* OEM Revision */
	put_bytes(o, ACPI_CREATOR_ID, 4);	/* Creator ID */
	put32(o, ACPI_CREATOR_REVISION);	/* Creator Revision */
	return start;
}

static void table_end(struct out *o, size_t start)
{
	size_t len = o->pos - start;

	if (!out_ok(o))
		return;
	poke32(o, start + 4, len);
	o->buf[start + 9] = checksum(o->buf + start, len);
}

/* ---- AML emitter ---- */

/*
 * A PkgLength counts itself, so its size is known only once the body is:
 * aml_pkg_begin() remembers where the body starts, aml_pkg_end() moves the
 * body up and writes the encoding in front of it.  Nested packages work
 * because the inner one is closed first.
 */
static size_t aml_pkg_begin(struct out *o)
{
	return o->pos;
}

static void aml_pkg_end(struct out *o, size_t start)
{
	size_t body = o->pos - start;
	size_t n, total, i;

	/* One byte holds a 6-bit length; with 1-3 more, 12, 20 or 28 bits. */
	if (body + 1 < 0x40)
		n = 1;
	else if (body + 2 < 0x1000)
		n = 2;
	else if (body + 3 < 0x100000)
		n = 3;
	else
		n = 4;
	total = body + n;
	if (total >= 0x10000000)
		o->err = -EINVAL;

	o->pos += n;
	if (!out_ok(o))
		return;
	memmove(o->buf + start + n, o->buf + start, body);
	if (n == 1) {
		o->buf[start] = total;
		return;
	}
	/* Lead byte: count of following bytes in 7:6, length bits 3:0. */
	o->buf[start] = ((n - 1) << 6) | (total & 0xf);
	for (i = 1; i < n; i++)
		o->buf[start + i] = total >> (4 + 8 * (i - 1));
}

/*
 * A NameString from ASL-like notation: an optional "\" or "^" prefixes,
 * then NameSegs separated by dots ("\_SB.PCI0", "_HID", "^PCI0").  Short
 * segments are padded with '_' as ASL does.
 */
static void aml_name(struct out *o, const char *path)
{
	unsigned int nsegs = 1;
	const char *p;
	int i;

	if (*path == AML_ROOT_CHAR)
		put8(o, *path++);
	else
		while (*path == AML_PARENT_PREFIX_CHAR)
			put8(o, *path++);

	if (!*path) {
		put8(o, 0);			/* NullName */
		return;
	}
	for (p = path; *p; p++)
		if (*p == '.')
			nsegs++;
	if (nsegs == 2) {
		put8(o, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		put8(o, AML_MULTI_NAME_PREFIX);
		put8(o, nsegs);			/* SegCount */
	}

	for (p = path; *p; p++) {
		for (i = 0; i < AML_NAME_SEG_SIZE; i++) {
			if (*p && *p != '.')
				put8(o, *p++);
			else
				put8(o, '_');
		}
		if (!*p)
			break;
	}
}

/* The shortest encoding of an Integer constant. */
static void aml_int(struct out *o, uint64_t v)
{
	if (v == 0) {
		put8(o, AML_ZERO_OP);
	} else if (v == 1) {
		put8(o, AML_ONE_OP);
	} else if (v <= UINT8_MAX) {
		put8(o, AML_BYTE_PREFIX);
		put8(o, v);
	} else if (v <= UINT16_MAX) {
		put8(o, AML_WORD_PREFIX);
		put16(o, v);
	} else if (v <= UINT32_MAX) {
		put8(o, AML_DWORD_PREFIX);
		put32(o, v);
	} else {
		put8(o, AML_QWORD_PREFIX);
		put64(o, v);
	}
}

/*
 * EISAID("PNP0A08"): three letters of five bits each (A = 1), then four
 * hex digits, big-endian in the 32-bit value's bytes.  Always a DWord, as
 * that is what an OS (and a disassembler) recognises as an EISA id.
 */
static void aml_eisaid(struct out *o, const char *id)
{
	uint16_t vendor = ((id[0] - '@') << 10) | ((id[1] - '@') << 5) |
			  (id[2] - '@');
	uint16_t product = 0;
	int i;

	for (i = 3; i < 7; i++) {
		char c = id[i];

		product <<= 4;
		product |= c <= '9' ? c - '0' : c - 'A' + 10;
	}
	put8(o, AML_DWORD_PREFIX);
	put8(o, vendor >> 8);
	put8(o, vendor);
	put8(o, product >> 8);
	put8(o, product);
}

/* Name (name, ...): the caller emits the object that follows. */
static void aml_name_decl(struct out *o, const char *name)
{
	put8(o, AML_NAME_OP);
	aml_name(o, name);
}

/* Scope (name) { ... }: close with aml_pkg_end(). */
static size_t aml_scope_begin(struct out *o, const char *name)
{
	size_t pkg;

	put8(o, AML_SCOPE_OP);
	pkg = aml_pkg_begin(o);
	aml_name(o, name);
	return pkg;
}

/* Device (name) { ... }: close with aml_pkg_end(). */
static size_t aml_device_begin(struct out *o, const char *name)
{
	size_t pkg;

	put8(o, AML_EXT_OP_PREFIX);
	put8(o, AML_EXT_DEVICE_OP);
	pkg = aml_pkg_begin(o);
	aml_name(o, name);
	return pkg;
}

/* Package (n) { ... }: the caller emits n elements, then aml_pkg_end(). */
static size_t aml_package_begin(struct out *o, uint8_t num_elements)
{
	size_t pkg;

	put8(o, AML_PACKAGE_OP);
	pkg = aml_pkg_begin(o);
	put8(o, num_elements);		/* NumElements */
	return pkg;
}

/* Buffer () { bytes }, sized to fit them. */
static void aml_buffer(struct out *o, const uint8_t *bytes, size_t len)
{
	size_t pkg;

	put8(o, AML_BUFFER_OP);
	pkg = aml_pkg_begin(o);
	aml_int(o, len);		/* BufferSize */
	put_bytes(o, bytes, len);
	aml_pkg_end(o, pkg);
}

/* ---- Resource descriptors, for resource templates ---- */

/* A resource template under construction; large enough for the DSDT's. */
struct restmpl {
	uint8_t bytes[256];
	struct out o;
};

static void res_init(struct restmpl *r)
{
	memset(r, 0, sizeof(*r));
	r->o.buf = r->bytes;
	r->o.size = sizeof(r->bytes);
}

/* End the template and store it as the object of a Name(). */
static void res_emit(struct out *o, struct restmpl *r)
{
	put8(&r->o, RES_END_TAG);
	put8(&r->o, 0);			/* Checksum: 0, not checked */
	if (!out_ok(&r->o) || r->o.err) {
		o->err = -EINVAL;
		return;
	}
	aml_buffer(o, r->bytes, r->o.pos);
}

/* IO (Decode16, min, max, alignment, length) */
static void res_io(struct restmpl *r, uint16_t min, uint16_t max,
		   uint8_t alignment, uint8_t length)
{
	struct out *o = &r->o;

	put8(o, RES_IO_PORT);
	put8(o, RES_IO_DECODE16);	/* Information */
	put16(o, min);			/* Range Minimum Base Address */
	put16(o, max);			/* Range Maximum Base Address */
	put8(o, alignment);		/* Base Alignment */
	put8(o, length);		/* Range Length */
}

/* Word Address Space Descriptor for [min, max], fixed, no translation. */
static void res_word(struct restmpl *r, uint8_t type, uint8_t flags,
		     uint8_t type_flags, uint16_t min, uint16_t max)
{
	struct out *o = &r->o;

	put8(o, RES_WORD_ADDRESS);
	put16(o, 13);			/* Length */
	put8(o, type);			/* Resource Type */
	put8(o, flags);			/* General Flags */
	put8(o, type_flags);		/* Type Specific Flags */
	put16(o, 0);			/* Address Space Granularity */
	put16(o, min);			/* Address Range Minimum */
	put16(o, max);			/* Address Range Maximum */
	put16(o, 0);			/* Address Translation Offset */
	put16(o, max - min + 1);	/* Address Length */
}

/* DWord Address Space Descriptor */
static void res_dword(struct restmpl *r, uint8_t type, uint8_t flags,
		      uint8_t type_flags, uint32_t min, uint32_t max)
{
	struct out *o = &r->o;

	put8(o, RES_DWORD_ADDRESS);
	put16(o, 23);			/* Length */
	put8(o, type);			/* Resource Type */
	put8(o, flags);			/* General Flags */
	put8(o, type_flags);		/* Type Specific Flags */
	put32(o, 0);			/* Address Space Granularity */
	put32(o, min);			/* Address Range Minimum */
	put32(o, max);			/* Address Range Maximum */
	put32(o, 0);			/* Address Translation Offset */
	put32(o, max - min + 1);	/* Address Length */
}

/* QWord Address Space Descriptor */
static void res_qword(struct restmpl *r, uint8_t type, uint8_t flags,
		      uint8_t type_flags, uint64_t min, uint64_t max)
{
	struct out *o = &r->o;

	put8(o, RES_QWORD_ADDRESS);
	put16(o, 43);			/* Length */
	put8(o, type);			/* Resource Type */
	put8(o, flags);			/* General Flags */
	put8(o, type_flags);		/* Type Specific Flags */
	put64(o, 0);			/* Address Space Granularity */
	put64(o, min);			/* Address Range Minimum */
	put64(o, max);			/* Address Range Maximum */
	put64(o, 0);			/* Address Translation Offset */
	put64(o, max - min + 1);	/* Address Length */
}

/* A memory range, as a DWord descriptor if it fits below 4 GiB. */
static void res_memory(struct restmpl *r, uint8_t flags, uint64_t base,
		       uint64_t size)
{
	uint64_t last = base + size - 1;

	flags |= RES_MIN_FIXED | RES_MAX_FIXED;
	if (last <= UINT32_MAX)
		res_dword(r, RES_TYPE_MEMORY, flags, RES_MEM_READ_WRITE,
			  base, last);
	else
		res_qword(r, RES_TYPE_MEMORY, flags, RES_MEM_READ_WRITE,
			  base, last);
}

/* An I/O window the root bridge forwards (producer). */
static void res_io_window(struct restmpl *r, uint16_t min, uint16_t max)
{
	res_word(r, RES_TYPE_IO, RES_MIN_FIXED | RES_MAX_FIXED,
		 RES_IO_ENTIRE_RANGE, min, max);
}

/*
 * \_SB.PCI0._CRS: the buses below the root bridge, the config mechanism #1
 * ports it consumes, and the I/O and MMIO windows it forwards.  An I/O
 * window never covers 0xcf8-0xcff, which belong to the host bridge itself.
 */
static void pci0_crs(struct out *o, const struct acpi_layout *l)
{
	uint32_t io_first = l->pci_io_base;
	uint32_t io_last = io_first + l->pci_io_size - 1;
	uint32_t cfg_last = PCI_CONF1_PORT + PCI_CONF1_LEN - 1;
	struct restmpl r;

	res_init(&r);
	res_word(&r, RES_TYPE_BUS, RES_MIN_FIXED | RES_MAX_FIXED, 0,
		 0, l->ecam_end_bus);
	res_io(&r, PCI_CONF1_PORT, PCI_CONF1_PORT, 1, PCI_CONF1_LEN);
	if (l->pci_io_size) {
		if (io_first < PCI_CONF1_PORT)
			res_io_window(&r, io_first,
				      io_last < PCI_CONF1_PORT ?
				      io_last : PCI_CONF1_PORT - 1);
		if (io_last > cfg_last)
			res_io_window(&r, io_first > cfg_last ?
				      io_first : cfg_last + 1, io_last);
	}
	if (l->pci_mmio_size)
		res_memory(&r, 0, l->pci_mmio_base, l->pci_mmio_size);
	res_emit(o, &r);
}

/* \_SB.MRES._CRS: the ECAM window, so the OS sees MCFG's area reserved. */
static void mres_crs(struct out *o, const struct acpi_layout *l)
{
	struct restmpl r;

	res_init(&r);
	res_memory(&r, RES_CONSUMER, l->ecam_base,
		   ((uint64_t)l->ecam_end_bus + 1) * ECAM_BUS_SIZE);
	res_emit(o, &r);
}

/* ---- Tables ---- */

/*
 * DefinitionBlock ("", "DSDT", 2, ...)
 * {
 *	Scope (\_SB)
 *	{
 *		Device (PCI0) { _HID, _CID, _UID, _SEG, _BBN, _CRS }
 *	}
 *	Device (\_SB.MRES) { _HID PNP0C02, _UID, _CRS }
 *	Name (\_S5, Package (4) { typ, typ, 0, 0 })
 * }
 *
 * Revision 2 makes integers 64 bits wide.
 */
static size_t build_dsdt(struct out *o, const struct acpi_layout *l)
{
	size_t t = table_begin(o, "DSDT", 2);
	size_t scope, dev, pkg;

	scope = aml_scope_begin(o, "\\_SB");
	dev = aml_device_begin(o, "PCI0");
	aml_name_decl(o, "_HID");
	aml_eisaid(o, "PNP0A08");		/* PCI Express root bridge */
	aml_name_decl(o, "_CID");
	aml_eisaid(o, "PNP0A03");		/* PCI root bridge */
	aml_name_decl(o, "_UID");
	aml_int(o, 0);
	aml_name_decl(o, "_SEG");
	aml_int(o, 0);
	aml_name_decl(o, "_BBN");
	aml_int(o, 0);
	aml_name_decl(o, "_CRS");
	pci0_crs(o, l);
	aml_pkg_end(o, dev);
	aml_pkg_end(o, scope);

	dev = aml_device_begin(o, "\\_SB.MRES");
	aml_name_decl(o, "_HID");
	aml_eisaid(o, "PNP0C02");		/* motherboard resources */
	aml_name_decl(o, "_UID");
	aml_int(o, 0);
	aml_name_decl(o, "_CRS");
	mres_crs(o, l);
	aml_pkg_end(o, dev);

	/* SLP_TYPa, SLP_TYPb, two reserved elements. */
	aml_name_decl(o, "\\_S5");
	pkg = aml_package_begin(o, 4);
	aml_int(o, l->s5_slp_typ);
	aml_int(o, l->s5_slp_typ);
	aml_int(o, 0);
	aml_int(o, 0);
	aml_pkg_end(o, pkg);

	table_end(o, t);
	return t;
}

/*
 * The FACS: nothing in it is used (no S3/S4, no global lock users), but
 * the FADT of a system that is not hardware-reduced points at one.
 */
static size_t build_facs(struct out *o)
{
	size_t start = o->pos;

	put_bytes(o, "FACS", 4);	/* Signature */
	put32(o, ACPI_FACS_SIZE);	/* Length */
	put32(o, 0);			/* Hardware Signature */
	put32(o, 0);			/* Firmware Waking Vector */
	put32(o, 0);			/* Global Lock */
	put32(o, 0);			/* Flags */
	put64(o, 0);			/* X Firmware Waking Vector */
	put8(o, 2);			/* Version */
	put_zeros(o, 3);		/* Reserved */
	put32(o, 0);			/* OSPM Flags */
	put_zeros(o, 24);		/* Reserved */
	return start;
}

/*
 * FADT revision 6 (ACPI 6.3), 276 bytes.  Not hardware-reduced: PM1a event
 * and control blocks in system I/O, no PM timer, no GPE blocks, and no
 * SMI_CMD since the system is always in ACPI mode (the VMM reads SCI_EN as
 * set).  RESET_REG is a byte in system I/O.
 */
static size_t build_fadt(struct out *o, const struct acpi_layout *l,
			 uint64_t facs, uint64_t dsdt)
{
	size_t t = table_begin(o, "FACP", 6);

	put32(o, 0);			/* FIRMWARE_CTRL: see X_FIRMWARE_CTRL */
	put32(o, dsdt <= UINT32_MAX ? dsdt : 0);	/* DSDT */
	put8(o, 0);			/* Reserved */
	put8(o, 0);			/* Preferred_PM_Profile: Unspecified */
	put16(o, l->sci_irq);		/* SCI_INT */
	put32(o, 0);			/* SMI_CMD */
	put8(o, 0);			/* ACPI_ENABLE */
	put8(o, 0);			/* ACPI_DISABLE */
	put8(o, 0);			/* S4BIOS_REQ */
	put8(o, 0);			/* PSTATE_CNT */
	put32(o, l->pm1a_evt_port);	/* PM1a_EVT_BLK */
	put32(o, 0);			/* PM1b_EVT_BLK */
	put32(o, l->pm1a_cnt_port);	/* PM1a_CNT_BLK */
	put32(o, 0);			/* PM1b_CNT_BLK */
	put32(o, 0);			/* PM2_CNT_BLK */
	put32(o, 0);			/* PM_TMR_BLK */
	put32(o, 0);			/* GPE0_BLK */
	put32(o, 0);			/* GPE1_BLK */
	put8(o, 4);			/* PM1_EVT_LEN */
	put8(o, 2);			/* PM1_CNT_LEN */
	put8(o, 0);			/* PM2_CNT_LEN */
	put8(o, 0);			/* PM_TMR_LEN */
	put8(o, 0);			/* GPE0_BLK_LEN */
	put8(o, 0);			/* GPE1_BLK_LEN */
	put8(o, 0);			/* GPE1_BASE */
	put8(o, 0);			/* CST_CNT */
	put16(o, 101);			/* P_LVL2_LAT: > 100, no C2 */
	put16(o, 1001);			/* P_LVL3_LAT: > 1000, no C3 */
	put16(o, 0);			/* FLUSH_SIZE */
	put16(o, 0);			/* FLUSH_STRIDE */
	put8(o, 0);			/* DUTY_OFFSET */
	put8(o, 0);			/* DUTY_WIDTH */
	put8(o, 0);			/* DAY_ALRM */
	put8(o, 0);			/* MON_ALRM */
	put8(o, 0);			/* CENTURY */
	put16(o, FADT_BOOT_VGA_NOT_PRESENT |
	      FADT_BOOT_CMOS_RTC_NOT_PRESENT);	/* IAPC_BOOT_ARCH */
	put8(o, 0);			/* Reserved */
	put32(o, FADT_FLAGS);		/* Flags */
	put_gas(o, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE,
		l->reset_port);		/* RESET_REG */
	put8(o, l->reset_value);	/* RESET_VALUE */
	put16(o, 0);			/* ARM_BOOT_ARCH */
	put8(o, 3);			/* FADT Minor Version */
	put64(o, facs);			/* X_FIRMWARE_CTRL */
	put64(o, dsdt);			/* X_DSDT */
	put_gas(o, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD,
		l->pm1a_evt_port);	/* X_PM1a_EVT_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_PM1b_EVT_BLK */
	put_gas(o, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD,
		l->pm1a_cnt_port);	/* X_PM1a_CNT_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_PM1b_CNT_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_PM2_CNT_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_PM_TMR_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_GPE0_BLK */
	put_gas(o, 0, 0, 0, 0);		/* X_GPE1_BLK */
	put_gas(o, 0, 0, 0, 0);		/* SLEEP_CONTROL_REG */
	put_gas(o, 0, 0, 0, 0);		/* SLEEP_STATUS_REG */
	put64(o, 0);			/* Hypervisor Vendor Identity */
	table_end(o, t);
	return t;
}

/*
 * MADT revision 5: the Local APICs, one I/O APIC with GSIs 0-23, and the
 * two ISA overrides a PC has (the PIT on GSI 2, a level-triggered SCI).
 */
static size_t build_madt(struct out *o, const struct acpi_layout *l)
{
	size_t t = table_begin(o, "APIC", 5);
	uint32_t i;

	put32(o, l->lapic_addr);	/* Local Interrupt Controller Address */
	put32(o, MADT_PCAT_COMPAT);	/* Flags */

	for (i = 0; i < l->ncpus; i++) {
		put8(o, MADT_TYPE_LOCAL_APIC);	/* Type */
		put8(o, 8);			/* Length */
		put8(o, i);			/* ACPI Processor UID */
		put8(o, i);			/* APIC ID */
		put32(o, MADT_LAPIC_ENABLED);	/* Flags */
	}

	put8(o, MADT_TYPE_IO_APIC);		/* Type */
	put8(o, 12);				/* Length */
	put8(o, l->ncpus);			/* I/O APIC ID */
	put8(o, 0);				/* Reserved */
	put32(o, l->ioapic_addr);		/* I/O APIC Address */
	put32(o, 0);				/* Global System Interrupt Base */

	put8(o, MADT_TYPE_INT_SRC_OVERRIDE);	/* Type */
	put8(o, 10);				/* Length */
	put8(o, MADT_BUS_ISA);			/* Bus */
	put8(o, 0);				/* Source */
	put32(o, 2);				/* Global System Interrupt */
	put16(o, 0);				/* Flags: conforming */

	put8(o, MADT_TYPE_INT_SRC_OVERRIDE);	/* Type */
	put8(o, 10);				/* Length */
	put8(o, MADT_BUS_ISA);			/* Bus */
	put8(o, l->sci_irq);			/* Source */
	put32(o, l->sci_irq);			/* Global System Interrupt */
	put16(o, MADT_POLARITY_HIGH | MADT_TRIGGER_LEVEL);	/* Flags */

	table_end(o, t);
	return t;
}

/* MCFG: one ECAM area, segment 0. */
static size_t build_mcfg(struct out *o, const struct acpi_layout *l)
{
	size_t t = table_begin(o, "MCFG", 1);

	put64(o, 0);			/* Reserved */
	put64(o, l->ecam_base);		/* Base Address */
	put16(o, 0);			/* PCI Segment Group Number */
	put8(o, 0);			/* Start Bus Number */
	put8(o, l->ecam_end_bus);	/* End Bus Number */
	put32(o, 0);			/* Reserved */
	table_end(o, t);
	return t;
}

/*
 * DMAR: one remapping unit for every device of segment 0.  No interrupt
 * remapping is offered, so the table flags are 0 and no I/O APIC scope is
 * needed.
 */
static size_t build_dmar(struct out *o, const struct acpi_layout *l)
{
	size_t t = table_begin(o, "DMAR", 1);

	put8(o, l->dmar_haw - 1);	/* Host Address Width */
	put8(o, 0);			/* Flags */
	put_zeros(o, 10);		/* Reserved */

	put16(o, DMAR_TYPE_DRHD);	/* Type */
	put16(o, 16);			/* Length: no Device Scope */
	put8(o, DMAR_DRHD_INCLUDE_PCI_ALL);	/* Flags */
	put8(o, 0);			/* Size: 2^0 4 KiB pages */
	put16(o, 0);			/* Segment Number */
	put64(o, l->drhd_base);		/* Register Base Address */
	table_end(o, t);
	return t;
}

static size_t build_xsdt(struct out *o, const uint64_t *entries, int n)
{
	size_t t = table_begin(o, "XSDT", 1);
	int i;

	for (i = 0; i < n; i++)
		put64(o, entries[i]);	/* Entry */
	table_end(o, t);
	return t;
}

static void build_rsdp(struct out *o, uint64_t xsdt)
{
	put_bytes(o, "RSD PTR ", 8);	/* Signature */
	put8(o, 0);			/* Checksum: below */
	put_bytes(o, ACPI_OEM_ID, 6);	/* OEMID */
	put8(o, 2);			/* Revision */
	put32(o, 0);			/* RsdtAddress: XSDT only */
	put32(o, ACPI_RSDP_SIZE);	/* Length */
	put64(o, xsdt);			/* XsdtAddress */
	put8(o, 0);			/* Extended Checksum: below */
	put_zeros(o, 3);		/* Reserved */
	if (!out_ok(o))
		return;
	/* The first covers the ACPI 1.0 part, the second all of it. */
	o->buf[8] = checksum(o->buf, 20);
	o->buf[32] = checksum(o->buf, ACPI_RSDP_SIZE);
}

/*
 * What the tables cannot express, or what would be nonsense to the guest:
 * 32-bit MADT addresses (no x2APIC, no address override), an ISA IRQ for
 * the SCI other than the PIT's GSI 2, a 3-bit SLP_TYP, windows that wrap
 * or leave the 16-bit I/O space, an ECAM area aligned to a bus.
 */
static int layout_valid(uint64_t gpa, const struct acpi_layout *l)
{
	uint64_t ecam_size = ((uint64_t)l->ecam_end_bus + 1) * ECAM_BUS_SIZE;

	if (gpa % 16)
		return 0;
	if (l->ncpus < 1 || l->ncpus > 8)
		return 0;
	if (!l->lapic_addr || l->lapic_addr > UINT32_MAX ||
	    !l->ioapic_addr || l->ioapic_addr > UINT32_MAX)
		return 0;
	if (l->ecam_base % ECAM_BUS_SIZE ||
	    l->ecam_base + ecam_size - 1 < l->ecam_base)
		return 0;
	if (l->sci_irq < 1 || l->sci_irq > 15 || l->sci_irq == 2)
		return 0;
	if (!l->pm1a_evt_port || !l->pm1a_cnt_port || !l->reset_port)
		return 0;
	if (l->s5_slp_typ > 7)
		return 0;
	if (l->pci_mmio_size &&
	    l->pci_mmio_base + l->pci_mmio_size - 1 < l->pci_mmio_base)
		return 0;
	if ((uint32_t)l->pci_io_base + l->pci_io_size > 0x10000)
		return 0;
	if (l->dmar) {
		if (l->dmar_haw < 32 || l->dmar_haw > 64)
			return 0;
		if (!l->drhd_base || l->drhd_base % 4096)
			return 0;
		if (l->dmar_haw < 64 && l->drhd_base >> l->dmar_haw)
			return 0;
	}
	return 1;
}

int acpi_build(void *buf, size_t size, uint64_t gpa,
	       const struct acpi_layout *l, size_t *used)
{
	struct out o = { .buf = buf, .size = size };
	uint64_t xsdt_entries[4];
	size_t facs, dsdt, xsdt;
	int n = 0;

	if (!layout_valid(gpa, l))
		return -EINVAL;

	/* The RSDP is written last, when the XSDT's address is known. */
	o.pos = ACPI_RSDP_SIZE;

	put_align(&o, gpa, 64);		/* the FACS must be 64-byte aligned */
	facs = build_facs(&o);
	put_align(&o, gpa, ACPI_TABLE_ALIGN);
	dsdt = build_dsdt(&o, l);
	put_align(&o, gpa, ACPI_TABLE_ALIGN);
	xsdt_entries[n++] = gpa + build_fadt(&o, l, gpa + facs, gpa + dsdt);
	put_align(&o, gpa, ACPI_TABLE_ALIGN);
	xsdt_entries[n++] = gpa + build_madt(&o, l);
	put_align(&o, gpa, ACPI_TABLE_ALIGN);
	xsdt_entries[n++] = gpa + build_mcfg(&o, l);
	if (l->dmar) {
		put_align(&o, gpa, ACPI_TABLE_ALIGN);
		xsdt_entries[n++] = gpa + build_dmar(&o, l);
	}
	put_align(&o, gpa, ACPI_TABLE_ALIGN);
	xsdt = build_xsdt(&o, xsdt_entries, n);

	if (o.err)
		return o.err;
	if (!out_ok(&o))
		return -ENOSPC;
	*used = o.pos;

	o.pos = 0;
	build_rsdp(&o, gpa + xsdt);
	return 0;
}
