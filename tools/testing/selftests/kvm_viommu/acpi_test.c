// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the reference VMM's ACPI tables (tools/kvm/viommu_vmm/acpi.c):
 * plain userspace, no KVM.
 *
 * Each layout is built at GPA 0xe0000, as the VMM places it, and walked the
 * way an OS walks it: RSDP -> XSDT -> each table, FADT -> FACS and DSDT.
 * The DSDT's AML is decoded by a small parser of its own, which checks every
 * PkgLength and collects the named objects with their values.  The field
 * offsets used here are written from ACPI 6.3 and VT-d 3.x, not taken from
 * acpi.c.
 *
 * If iasl (Debian package acpica-tools) is installed, every table is also
 * disassembled, the listing checked for what the guest needs, and compiled
 * back: the result must equal the table built, byte for byte past the
 * header (which iasl signs as its own).  Without iasl those tests skip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * This is built with -Wextra; the harness has an unused handler parameter,
 * and every TEST() an unused variant parameter.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include "acpi.h"

#define GPA		0xe0000ull
#define BUF_SIZE	0x20000u	/* 0xe0000-0xfffff */
#define HDR_LEN		36u		/* System Description Table Header */
#define FADT_LEN	276u		/* revision 6 */
#define FACS_LEN	64u
#define MAX_OBJS	32
#define MAX_PATH_LEN	64
#define MAX_ELEMS	8
#define MAX_RES		8
#define PATH_BUF	4096

/* ---- The image and reading it ---- */

struct img {
	uint8_t buf[BUF_SIZE];
	uint64_t gpa;
	size_t used;
	/* What the walk found. */
	const uint8_t *xsdt, *fadt, *facs, *dsdt, *madt, *mcfg, *dmar;
};

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The bytes at guest address gpa, if all len of them are in the image. */
static const uint8_t *at(const struct img *im, uint64_t gpa, size_t len)
{
	if (gpa < im->gpa || gpa - im->gpa > im->used ||
	    len > im->used - (gpa - im->gpa))
		return NULL;
	return im->buf + (gpa - im->gpa);
}

static void default_layout(struct acpi_layout *l, uint32_t ncpus, int dmar)
{
	memset(l, 0, sizeof(*l));
	l->ncpus = ncpus;
	l->lapic_addr = 0xfee00000;
	l->ioapic_addr = 0xfec00000;
	l->ecam_base = 0xb0000000;
	l->ecam_end_bus = 0xff;
	l->sci_irq = 9;
	l->pm1a_evt_port = 0x600;
	l->pm1a_cnt_port = 0x604;
	l->reset_port = 0xcf9;
	l->reset_value = 0x06;
	l->s5_slp_typ = 5;
	l->dmar = dmar;
	l->drhd_base = 0xfed90000;
	l->dmar_haw = 48;
	l->pci_mmio_base = 0xc0000000;
	l->pci_mmio_size = 0x3ec00000;
	l->pci_io_base = 0x1000;
	l->pci_io_size = 0xf000;
}

/* EISAID("ABC1234") as the DWord an OS compares _HID against. */
static uint32_t eisaid(const char *s)
{
	unsigned int hex = strtoul(s + 3, NULL, 16);
	uint8_t b[4];

	b[0] = ((s[0] - 0x40) << 2) | ((s[1] - 0x40) >> 3);
	b[1] = ((s[1] - 0x40) << 5) | (s[2] - 0x40);
	b[2] = hex >> 8;
	b[3] = hex;
	return rd32(b);
}

/* ---- A small AML reader ---- */

struct aml_obj {
	char path[MAX_PATH_LEN];	/* "\_SB_.PCI0._HID" */
	char kind;			/* 'i'nteger, 'b'uffer, 'p'ackage */
	uint8_t int_op;			/* the integer's opcode or prefix */
	uint64_t val;			/* integer; element count */
	uint64_t elems[MAX_ELEMS];	/* a package's integer elements */
	const uint8_t *data;		/* a buffer's bytes */
	size_t len;
};

struct aml {
	const uint8_t *p;		/* the AML, after the table header */
	size_t len;
	const char *err;		/* what was wrong, and where */
	size_t err_at;
	struct aml_obj objs[MAX_OBJS];
	int nobjs;
};

static int aml_fail(struct aml *a, size_t at, const char *why)
{
	if (!a->err) {
		a->err = why;
		a->err_at = at;
	}
	return -1;
}

/* A PkgLength at *pos; *end is where the package it measures ends. */
static int aml_pkglen(struct aml *a, size_t *pos, size_t limit, size_t *end)
{
	size_t start = *pos, n, i, v;

	if (start >= limit)
		return aml_fail(a, start, "PkgLength past the end");
	n = a->p[start] >> 6;
	if (start + n >= limit)
		return aml_fail(a, start, "PkgLength bytes past the end");
	if (!n) {
		v = a->p[start] & 0x3f;
	} else {
		if (a->p[start] & 0x30)
			return aml_fail(a, start, "PkgLength bits 5:4 set");
		v = a->p[start] & 0xf;
		for (i = 1; i <= n; i++)
			v |= (size_t)a->p[start + i] << (4 + 8 * (i - 1));
	}
	if (v < n + 1 || start + v > limit)
		return aml_fail(a, start, "PkgLength out of its parent");
	*pos = start + n + 1;
	*end = start + v;
	return 0;
}

static int aml_nameseg(struct aml *a, size_t pos, char *seg)
{
	int i;

	for (i = 0; i < 4; i++) {
		char c = a->p[pos + i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (i && c >= '0' && c <= '9')))
			return aml_fail(a, pos, "bad NameSeg");
		seg[i] = c;
	}
	seg[4] = 0;
	return 0;
}

/* A NameString, resolved against scope into an absolute path. */
static int aml_namestring(struct aml *a, size_t *pos, size_t limit,
			  const char *scope, char *path)
{
	size_t p = *pos;
	unsigned int nsegs, i;
	char seg[5];

	if (p >= limit)
		return aml_fail(a, p, "NameString past the end");
	if (a->p[p] == '\\') {
		strcpy(path, "\\");
		p++;
	} else {
		strcpy(path, scope);
		while (p < limit && a->p[p] == '^') {
			char *dot = strrchr(path, '.');

			if (dot)
				*dot = 0;
			else
				strcpy(path, "\\");
			p++;
		}
	}
	if (p >= limit)
		return aml_fail(a, p, "NameString past the end");
	switch (a->p[p]) {
	case 0x00:
		nsegs = 0;
		p++;
		break;
	case 0x2e:
		nsegs = 2;
		p++;
		break;
	case 0x2f:
		if (p + 1 >= limit)
			return aml_fail(a, p, "MultiNamePath past the end");
		nsegs = a->p[p + 1];
		p += 2;
		break;
	default:
		nsegs = 1;
		break;
	}
	for (i = 0; i < nsegs; i++, p += 4) {
		if (p + 4 > limit || aml_nameseg(a, p, seg))
			return aml_fail(a, p, "bad NameSeg");
		if (strlen(path) + 6 >= MAX_PATH_LEN)
			return aml_fail(a, p, "path too long for the test");
		if (strcmp(path, "\\"))
			strcat(path, ".");
		strcat(path, seg);
	}
	*pos = p;
	return 0;
}

/* A ComputationalData integer. */
static int aml_integer(struct aml *a, size_t *pos, size_t limit,
		       uint64_t *v, uint8_t *op)
{
	static const int size_of[256] = {
		[0x00] = 0, [0x01] = 0, [0xff] = 0,
		[0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8,
	};
	size_t p = *pos;
	uint8_t o;
	int i, n;

	if (p >= limit)
		return aml_fail(a, p, "integer past the end");
	o = a->p[p++];
	if (o != 0x00 && o != 0x01 && o != 0xff && !size_of[o])
		return aml_fail(a, p - 1, "not an integer");
	n = size_of[o];
	if (p + n > limit)
		return aml_fail(a, p, "integer past the end");
	*v = o == 0xff ? ~0ull : o == 0x01;
	if (n) {
		*v = 0;
		for (i = 0; i < n; i++)
			*v |= (uint64_t)a->p[p + i] << (8 * i);
	}
	*op = o;
	*pos = p + n;
	return 0;
}

/* The object of a Name(): integer, Buffer or Package of integers. */
static int aml_data(struct aml *a, size_t *pos, size_t limit,
		    struct aml_obj *obj)
{
	size_t p = *pos, end;
	uint8_t op;
	uint64_t n;

	if (p >= limit)
		return aml_fail(a, p, "object past the end");
	switch (a->p[p]) {
	case 0x11:			/* BufferOp */
		p++;
		if (aml_pkglen(a, &p, limit, &end) ||
		    aml_integer(a, &p, end, &n, &op))
			return -1;
		if (n != end - p)
			return aml_fail(a, p, "BufferSize is not the byte count");
		obj->kind = 'b';
		obj->data = a->p + p;
		obj->len = end - p;
		break;
	case 0x12:			/* PackageOp */
		p++;
		if (aml_pkglen(a, &p, limit, &end))
			return -1;
		if (p >= end)
			return aml_fail(a, p, "no NumElements");
		obj->kind = 'p';
		obj->val = a->p[p++];
		for (n = 0; p < end; n++) {
			if (n >= MAX_ELEMS)
				return aml_fail(a, p, "package too big");
			if (aml_integer(a, &p, end, &obj->elems[n], &op))
				return -1;
		}
		if (n != obj->val)
			return aml_fail(a, p, "NumElements is not the count");
		break;
	default:
		obj->kind = 'i';
		if (aml_integer(a, &p, limit, &obj->val, &obj->int_op))
			return -1;
		end = p;
		break;
	}
	*pos = end;
	return 0;
}

/* A TermList of Scope, Device and Name terms; nothing else is expected. */
static int aml_terms(struct aml *a, size_t pos, size_t end, const char *scope)
{
	char path[MAX_PATH_LEN];
	size_t body_end;

	while (pos < end) {
		uint8_t op = a->p[pos++];

		if (op == 0x5b && pos < end && a->p[pos] == 0x82) {
			pos++;			/* DeviceOp */
		} else if (op == 0x08) {	/* NameOp */
			struct aml_obj *obj;

			if (a->nobjs == MAX_OBJS)
				return aml_fail(a, pos, "too many names");
			obj = &a->objs[a->nobjs++];
			if (aml_namestring(a, &pos, end, scope, obj->path) ||
			    aml_data(a, &pos, end, obj))
				return -1;
			continue;
		} else if (op != 0x10) {	/* ScopeOp */
			return aml_fail(a, pos - 1, "unexpected opcode");
		}
		if (aml_pkglen(a, &pos, end, &body_end) ||
		    aml_namestring(a, &pos, body_end, scope, path) ||
		    aml_terms(a, pos, body_end, path))
			return -1;
		pos = body_end;
	}
	return 0;
}

static const struct aml_obj *aml_find(const struct aml *a, const char *path)
{
	int i;

	for (i = 0; i < a->nobjs; i++)
		if (!strcmp(a->objs[i].path, path))
			return &a->objs[i];
	return NULL;
}

/* ---- Resource templates ---- */

struct res {
	uint8_t item;		/* small item name, or 0x80 | large item name */
	uint8_t type;		/* address space: Resource Type */
	uint8_t flags;		/* address space: General Flags */
	uint8_t tflags;		/* address space: Type Specific Flags */
	uint64_t min, max, len;
};

/* Decode a template into r; returns the count, or -1 if malformed. */
static int parse_restmpl(const uint8_t *p, size_t n, struct res *r)
{
	size_t pos = 0;
	int count = 0;

	while (pos < n) {
		uint8_t tag = p[pos];
		size_t len, w;
		const uint8_t *d;

		if (count == MAX_RES)
			return -1;
		memset(&r[count], 0, sizeof(r[count]));
		if (!(tag & 0x80)) {
			len = tag & 7;
			d = p + pos + 1;
			if (pos + 1 + len > n)
				return -1;
			r[count].item = (tag >> 3) & 0xf;
			if (r[count].item == 0x0f)	/* End Tag */
				return pos + 2 == n && len == 1 &&
				       (!d[0] || !sum8(p, n)) ? count : -1;
			if (r[count].item == 0x08) {	/* I/O Port */
				if (len != 7)
					return -1;
				r[count].flags = d[0];
				r[count].min = rd16(d + 1);
				r[count].max = rd16(d + 3);
				r[count].len = d[6];
			}
			pos += 1 + len;
			count++;
			continue;
		}
		if (pos + 3 > n)
			return -1;
		len = rd16(p + pos + 1);
		d = p + pos + 3;
		if (pos + 3 + len > n)
			return -1;
		r[count].item = tag;
		switch (tag) {
		case 0x87:
			w = 4;
			break;
		case 0x88:
			w = 2;
			break;
		case 0x8a:
			w = 8;
			break;
		default:
			return -1;
		}
		if (len != 3 + 5 * w)
			return -1;
		r[count].type = d[0];
		r[count].flags = d[1];
		r[count].tflags = d[2];
		/* Granularity, Minimum, Maximum, Translation, Length */
		r[count].min = w == 2 ? rd16(d + 3 + w) : w == 4 ?
			       rd32(d + 3 + w) : rd64(d + 3 + w);
		r[count].max = w == 2 ? rd16(d + 3 + 2 * w) : w == 4 ?
			       rd32(d + 3 + 2 * w) : rd64(d + 3 + 2 * w);
		r[count].len = w == 2 ? rd16(d + 3 + 4 * w) : w == 4 ?
			       rd32(d + 3 + 4 * w) : rd64(d + 3 + 4 * w);
		pos += 3 + len;
		count++;
	}
	return -1;			/* no End Tag */
}

/* ---- Walking the tables ---- */

/* A table at gpa: in the image, long enough, summing to zero. */
static const uint8_t *table_at(struct __test_metadata *_metadata,
			       const struct img *im, uint64_t gpa,
			       const char *sig)
{
	const uint8_t *t = at(im, gpa, HDR_LEN);

	ASSERT_NE(NULL, t) TH_LOG("table at 0x%llx", (unsigned long long)gpa);
	ASSERT_GE(rd32(t + 4), HDR_LEN);
	ASSERT_NE(NULL, at(im, gpa, rd32(t + 4)));
	ASSERT_EQ(0, sum8(t, rd32(t + 4))) TH_LOG("%.4s checksum", t);
	if (sig)
		ASSERT_EQ(0, memcmp(t, sig, 4)) TH_LOG("want %s", sig);
	ASSERT_EQ(0, memcmp(t + 10, "KVMVIO", 6));
	return t;
}

static void check_fadt(struct __test_metadata *_metadata, struct img *im,
		       const struct acpi_layout *l)
{
	const uint8_t *f = im->fadt;
	uint32_t flags = rd32(f + 112);

	ASSERT_EQ(FADT_LEN, rd32(f + 4));
	ASSERT_EQ(6, f[8]);
	/* FACS through X_FIRMWARE_CTRL: 64 bytes, 64-byte aligned. */
	EXPECT_EQ(0U, rd32(f + 36));
	ASSERT_EQ(0U, rd64(f + 132) % 64U);
	im->facs = at(im, rd64(f + 132), FACS_LEN);
	ASSERT_NE(NULL, im->facs);
	ASSERT_EQ(0, memcmp(im->facs, "FACS", 4));
	ASSERT_EQ(FACS_LEN, rd32(im->facs + 4));
	/* DSDT and X_DSDT name the same table. */
	im->dsdt = table_at(_metadata, im, rd64(f + 140), "DSDT");
	EXPECT_EQ(rd64(f + 140), rd32(f + 40));
	EXPECT_EQ(2, im->dsdt[8]);

	EXPECT_EQ(l->sci_irq, rd16(f + 46));		/* SCI_INT */
	EXPECT_EQ(0U, rd32(f + 48));			/* SMI_CMD */
	EXPECT_EQ(l->pm1a_evt_port, rd32(f + 56));	/* PM1a_EVT_BLK */
	EXPECT_EQ(0U, rd32(f + 60));			/* PM1b_EVT_BLK */
	EXPECT_EQ(l->pm1a_cnt_port, rd32(f + 64));	/* PM1a_CNT_BLK */
	EXPECT_EQ(0U, rd32(f + 68));			/* PM1b_CNT_BLK */
	EXPECT_EQ(0U, rd32(f + 76));			/* PM_TMR_BLK */
	EXPECT_EQ(0U, rd32(f + 80));			/* GPE0_BLK */
	EXPECT_EQ(0U, rd32(f + 84));			/* GPE1_BLK */
	EXPECT_EQ(4, f[88]);				/* PM1_EVT_LEN */
	EXPECT_EQ(2, f[89]);				/* PM1_CNT_LEN */
	EXPECT_EQ(0, f[91]);				/* PM_TMR_LEN */
	EXPECT_EQ(0, f[92]);				/* GPE0_BLK_LEN */
	EXPECT_EQ(0, f[93]);				/* GPE1_BLK_LEN */
	/* IAPC_BOOT_ARCH: VGA and CMOS RTC not present, nothing else. */
	EXPECT_EQ(0x24, rd16(f + 109));
	EXPECT_NE(0U, flags & (1u << 10));		/* RESET_REG_SUP */
	EXPECT_EQ(0U, flags & (1u << 20));		/* HW_REDUCED_ACPI */
	/* RESET_REG: system I/O, 8 bits at offset 0. */
	EXPECT_EQ(1, f[116]);
	EXPECT_EQ(8, f[117]);
	EXPECT_EQ(0, f[118]);
	EXPECT_EQ(l->reset_port, rd64(f + 120));
	EXPECT_EQ(l->reset_value, f[128]);
	/* X_PM1a_EVT_BLK and X_PM1a_CNT_BLK match the legacy blocks. */
	EXPECT_EQ(1, f[148]);
	EXPECT_EQ(32, f[149]);
	EXPECT_EQ(l->pm1a_evt_port, rd64(f + 152));
	EXPECT_EQ(1, f[172]);
	EXPECT_EQ(16, f[173]);
	EXPECT_EQ(l->pm1a_cnt_port, rd64(f + 176));
	EXPECT_EQ(0, f[208]);				/* X_PM_TMR_BLK */
	EXPECT_EQ(0U, rd64(f + 212));
}

static void check_madt(struct __test_metadata *_metadata,
		       const struct img *im, const struct acpi_layout *l)
{
	const uint8_t *m = im->madt;
	uint32_t len = rd32(m + 4), pos;
	unsigned int lapics = 0, ioapics = 0, pit = 0, sci = 0;
	uint32_t seen_ids = 0;

	EXPECT_EQ(l->lapic_addr, rd32(m + 36));
	EXPECT_EQ(1U, rd32(m + 40) & 1U);		/* PCAT_COMPAT */
	for (pos = 44; pos < len; pos += m[pos + 1]) {
		const uint8_t *e = m + pos;

		ASSERT_GE(len - pos, 2U);
		ASSERT_GE(e[1], 2);
		ASSERT_GE(len - pos, e[1]);
		switch (e[0]) {
		case 0:					/* Local APIC */
			ASSERT_EQ(8, e[1]);
			EXPECT_EQ(1U, rd32(e + 4) & 1U);	/* Enabled */
			ASSERT_LT(e[3], l->ncpus);
			EXPECT_EQ(0U, seen_ids & (1u << e[3]));
			seen_ids |= 1u << e[3];
			lapics++;
			break;
		case 1:					/* I/O APIC */
			ASSERT_EQ(12, e[1]);
			EXPECT_EQ(l->ncpus, e[2]);
			EXPECT_EQ(l->ioapic_addr, rd32(e + 4));
			EXPECT_EQ(0U, rd32(e + 8));
			ioapics++;
			break;
		case 2:				/* Interrupt Source Override */
			ASSERT_EQ(10, e[1]);
			EXPECT_EQ(0, e[2]);		/* ISA */
			if (e[3] == 0) {
				EXPECT_EQ(2U, rd32(e + 4));
				EXPECT_EQ(0, rd16(e + 8));
				pit++;
			} else {
				EXPECT_EQ(l->sci_irq, e[3]);
				EXPECT_EQ(l->sci_irq, rd32(e + 4));
				/* active high, level triggered */
				EXPECT_EQ(0x0d, rd16(e + 8));
				sci++;
			}
			break;
		default:
			ASSERT_TRUE(0) TH_LOG("MADT entry type %u", e[0]);
		}
	}
	EXPECT_EQ(len, pos);
	EXPECT_EQ(l->ncpus, lapics);
	EXPECT_EQ(1U, ioapics);
	EXPECT_EQ(1U, pit);
	EXPECT_EQ(1U, sci);
}

static void check_mcfg(struct __test_metadata *_metadata,
		       const struct img *im, const struct acpi_layout *l)
{
	const uint8_t *m = im->mcfg;

	ASSERT_EQ(HDR_LEN + 8U + 16U, rd32(m + 4));	/* one allocation */
	EXPECT_EQ(l->ecam_base, rd64(m + 44));
	EXPECT_EQ(0, rd16(m + 52));			/* segment */
	EXPECT_EQ(0, m[54]);				/* start bus */
	EXPECT_EQ(l->ecam_end_bus, m[55]);
}

static void check_dmar(struct __test_metadata *_metadata,
		       const struct img *im, const struct acpi_layout *l)
{
	const uint8_t *d = im->dmar;

	EXPECT_EQ(1, d[8]);
	ASSERT_EQ(48U + 16U, rd32(d + 4));		/* one bare DRHD */
	EXPECT_EQ(l->dmar_haw - 1, d[36]);
	EXPECT_EQ(0, d[37]);				/* no INTR_REMAP */
	EXPECT_EQ(0, rd16(d + 48));			/* DRHD */
	EXPECT_EQ(16, rd16(d + 50));
	EXPECT_EQ(1, d[52] & 1);			/* INCLUDE_PCI_ALL */
	EXPECT_EQ(0, d[53]);				/* one 4 KiB page */
	EXPECT_EQ(0, rd16(d + 54));			/* segment */
	EXPECT_EQ(l->drhd_base, rd64(d + 56));
}

static void check_int(struct __test_metadata *_metadata, const struct aml *a,
		      const char *path, uint64_t want)
{
	const struct aml_obj *o = aml_find(a, path);

	ASSERT_NE(NULL, o) TH_LOG("no %s", path);
	ASSERT_EQ('i', o->kind) TH_LOG("%s", path);
	EXPECT_EQ(want, o->val) TH_LOG("%s", path);
}

static void check_eisaid(struct __test_metadata *_metadata,
			 const struct aml *a, const char *path, const char *id)
{
	const struct aml_obj *o = aml_find(a, path);

	check_int(_metadata, a, path, eisaid(id));
	EXPECT_EQ(0x0c, o->int_op) TH_LOG("%s is not a DWord", path);
}

static void check_dsdt(struct __test_metadata *_metadata,
		       const struct img *im, const struct acpi_layout *l)
{
	static struct aml a;
	const struct aml_obj *o;
	struct res r[MAX_RES];
	uint64_t io_total = 0, io_want = l->pci_io_size;
	int n, i, buses = 0, cfg = 0, mem = 0;

	memset(&a, 0, sizeof(a));
	a.p = im->dsdt + HDR_LEN;
	a.len = rd32(im->dsdt + 4) - HDR_LEN;
	ASSERT_EQ(0, aml_terms(&a, 0, a.len, "\\"))
		TH_LOG("AML at %zu: %s", a.err_at + HDR_LEN, a.err);

	check_eisaid(_metadata, &a, "\\_SB_.PCI0._HID", "PNP0A08");
	check_eisaid(_metadata, &a, "\\_SB_.PCI0._CID", "PNP0A03");
	check_int(_metadata, &a, "\\_SB_.PCI0._UID", 0);
	check_int(_metadata, &a, "\\_SB_.PCI0._SEG", 0);
	check_int(_metadata, &a, "\\_SB_.PCI0._BBN", 0);
	check_eisaid(_metadata, &a, "\\_SB_.MRES._HID", "PNP0C02");

	o = aml_find(&a, "\\_S5_");
	ASSERT_NE(NULL, o);
	ASSERT_EQ('p', o->kind);
	ASSERT_EQ(4U, o->val);
	EXPECT_EQ(l->s5_slp_typ, o->elems[0]);
	EXPECT_EQ(l->s5_slp_typ, o->elems[1]);
	EXPECT_EQ(0U, o->elems[2]);
	EXPECT_EQ(0U, o->elems[3]);

	/*
	 * The root bridge: a bus range it produces, the CF8 ports it
	 * consumes, I/O windows covering the window asked for except those,
	 * and the MMIO window (read-write, non-cacheable).
	 */
	o = aml_find(&a, "\\_SB_.PCI0._CRS");
	ASSERT_NE(NULL, o);
	ASSERT_EQ('b', o->kind);
	n = parse_restmpl(o->data, o->len, r);
	ASSERT_GT(n, 0);
	if (l->pci_io_base <= 0xcf8 &&
	    l->pci_io_base + l->pci_io_size >= 0xd00)
		io_want -= 8;
	for (i = 0; i < n; i++) {
		if (r[i].item == 0x08) {
			EXPECT_EQ(0xcf8U, r[i].min);
			EXPECT_EQ(0xcf8U, r[i].max);
			EXPECT_EQ(8U, r[i].len);
			EXPECT_EQ(1, r[i].flags);	/* Decode16 */
			cfg++;
			continue;
		}
		ASSERT_TRUE(r[i].item & 0x80);
		/* producer, MinFixed, MaxFixed */
		EXPECT_EQ(0x0c, r[i].flags);
		EXPECT_EQ(r[i].max - r[i].min + 1, r[i].len);
		switch (r[i].type) {
		case 2:
			EXPECT_EQ(0x88, r[i].item);	/* WordBusNumber */
			EXPECT_EQ(0U, r[i].min);
			EXPECT_EQ(l->ecam_end_bus, r[i].max);
			buses++;
			break;
		case 1:
			EXPECT_EQ(0x88, r[i].item);	/* WordIO */
			EXPECT_GE(r[i].min, l->pci_io_base);
			EXPECT_LE(r[i].max, l->pci_io_base +
				  l->pci_io_size - 1u);
			EXPECT_TRUE(r[i].max < 0xcf8 || r[i].min > 0xcff);
			io_total += r[i].len;
			break;
		case 0:
			EXPECT_EQ(l->pci_mmio_base, r[i].min);
			EXPECT_EQ(l->pci_mmio_size, r[i].len);
			EXPECT_EQ(1, r[i].tflags);	/* ReadWrite */
			mem++;
			break;
		default:
			ASSERT_TRUE(0) TH_LOG("resource type %u", r[i].type);
		}
	}
	EXPECT_EQ(1, buses);
	EXPECT_EQ(1, cfg);
	EXPECT_EQ(io_want, io_total);
	EXPECT_EQ(!!l->pci_mmio_size, mem);

	/* The motherboard device reserves (consumes) the ECAM area. */
	o = aml_find(&a, "\\_SB_.MRES._CRS");
	ASSERT_NE(NULL, o);
	ASSERT_EQ('b', o->kind);
	ASSERT_EQ(1, parse_restmpl(o->data, o->len, r));
	EXPECT_EQ(0, r[0].type);
	EXPECT_EQ(1, r[0].flags & 1);			/* consumer */
	EXPECT_EQ(l->ecam_base, r[0].min);
	EXPECT_EQ(((uint64_t)l->ecam_end_bus + 1) << 20, r[0].len);
}

/* Build l at gpa and check everything reachable from the RSDP. */
static void build_and_walk(struct __test_metadata *_metadata, struct img *im,
			   uint64_t gpa, const struct acpi_layout *l)
{
	const uint8_t *rsdp = im->buf;
	uint32_t i, n;

	memset(im, 0, sizeof(*im));
	im->gpa = gpa;
	ASSERT_EQ(0, acpi_build(im->buf, BUF_SIZE, gpa, l, &im->used));
	ASSERT_GE(im->used, 36U);
	ASSERT_LE(im->used, BUF_SIZE);

	/* RSDP, ACPI 2.0+: both checksums, XSDT only. */
	ASSERT_EQ(0, memcmp(rsdp, "RSD PTR ", 8));
	EXPECT_EQ(0, sum8(rsdp, 20));
	ASSERT_EQ(2, rsdp[15]);
	ASSERT_EQ(36U, rd32(rsdp + 20));
	EXPECT_EQ(0, sum8(rsdp, 36));
	EXPECT_EQ(0U, rd32(rsdp + 16));

	im->xsdt = table_at(_metadata, im, rd64(rsdp + 24), "XSDT");
	n = rd32(im->xsdt + 4) - HDR_LEN;
	ASSERT_EQ(0U, n % 8U);
	n /= 8;
	ASSERT_EQ(l->dmar ? 4U : 3U, n);
	for (i = 0; i < n; i++) {
		const uint8_t *t = table_at(_metadata, im,
					    rd64(im->xsdt + HDR_LEN + 8 * i),
					    NULL);
		const uint8_t **slot;

		if (!memcmp(t, "FACP", 4))
			slot = &im->fadt;
		else if (!memcmp(t, "APIC", 4))
			slot = &im->madt;
		else if (!memcmp(t, "MCFG", 4))
			slot = &im->mcfg;
		else if (!memcmp(t, "DMAR", 4))
			slot = &im->dmar;
		else
			slot = NULL;
		ASSERT_NE(NULL, slot) TH_LOG("XSDT lists %.4s", t);
		ASSERT_EQ(NULL, *slot) TH_LOG("XSDT lists %.4s twice", t);
		*slot = t;
	}
	ASSERT_NE(NULL, im->fadt);
	ASSERT_NE(NULL, im->madt);
	ASSERT_NE(NULL, im->mcfg);
	ASSERT_EQ(!!l->dmar, !!im->dmar);

	check_fadt(_metadata, im, l);
	check_madt(_metadata, im, l);
	check_mcfg(_metadata, im, l);
	if (l->dmar)
		check_dmar(_metadata, im, l);
	check_dsdt(_metadata, im, l);
}

static struct img img;

TEST(one_cpu_no_dmar)
{
	struct acpi_layout l;

	default_layout(&l, 1, 0);
	build_and_walk(_metadata, &img, GPA, &l);
}

TEST(two_cpus_dmar)
{
	struct acpi_layout l;

	default_layout(&l, 2, 1);
	build_and_walk(_metadata, &img, GPA, &l);
}

TEST(eight_cpus_dmar)
{
	struct acpi_layout l;

	default_layout(&l, 8, 1);
	build_and_walk(_metadata, &img, GPA, &l);
}

/*
 * Other shapes: an I/O window over the CF8 ports (split around them), MMIO
 * above 4 GiB (a QWord descriptor), fewer buses, a 48-bit-wide HAW of 39,
 * tables at an address that is 16- but not 64-byte aligned.
 */
TEST(other_layouts)
{
	struct acpi_layout l;

	default_layout(&l, 2, 1);
	l.pci_io_base = 0;
	l.pci_io_size = 0xffff;
	build_and_walk(_metadata, &img, GPA, &l);

	default_layout(&l, 3, 1);
	l.pci_mmio_base = 0x8000000000ull;
	l.pci_mmio_size = 0x100000000ull;
	l.ecam_end_bus = 0x3f;
	l.dmar_haw = 39;
	l.s5_slp_typ = 0;
	build_and_walk(_metadata, &img, 0x100010, &l);

	default_layout(&l, 1, 0);
	l.pci_io_size = 0;
	l.pci_mmio_size = 0;
	build_and_walk(_metadata, &img, GPA + 0x30, &l);
}

TEST(bad_layouts)
{
	static uint8_t buf[BUF_SIZE];
	struct acpi_layout l;
	size_t used = 0;

	default_layout(&l, 0, 1);
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 9, 1);
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA + 8, &l, &used));
	l.lapic_addr = 0x100000000ull;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	l.sci_irq = 2;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	l.ecam_base = 0xb0001000;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	l.pci_io_base = 0x2000;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	l.drhd_base = 0xfed90800;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	default_layout(&l, 2, 1);
	l.dmar_haw = 0;
	EXPECT_EQ(-EINVAL, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	/* ... which does not matter without a DMAR. */
	l.dmar = 0;
	EXPECT_EQ(0, acpi_build(buf, sizeof(buf), GPA, &l, &used));
	EXPECT_NE(0U, used);
}

/* Short buffers fail, and nothing is written past the end of them. */
TEST(too_small)
{
	static uint8_t buf[BUF_SIZE];
	struct acpi_layout l;
	size_t used, need, sizes[6], i;

	default_layout(&l, 2, 1);
	ASSERT_EQ(0, acpi_build(buf, sizeof(buf), GPA, &l, &need));
	sizes[0] = 0;
	sizes[1] = 20;
	sizes[2] = 36;
	sizes[3] = 100;
	sizes[4] = need / 2;
	sizes[5] = need - 1;
	for (i = 0; i < 6; i++) {
		memset(buf, 0xa5, sizeof(buf));
		used = 12345;
		EXPECT_EQ(-ENOSPC, acpi_build(buf, sizes[i], GPA, &l, &used))
			TH_LOG("size %zu", sizes[i]);
		EXPECT_EQ(12345U, used);
		EXPECT_EQ(0xa5, buf[sizes[i]]);
		EXPECT_EQ(0xa5, buf[sizes[i] + 1]);
	}
	memset(buf, 0xa5, sizeof(buf));
	EXPECT_EQ(0, acpi_build(buf, need, GPA, &l, &used));
	EXPECT_EQ(need, used);
	EXPECT_EQ(0xa5, buf[need]);
}

/* ---- iasl ---- */

static int have_iasl(void)
{
	const char *path = getenv("PATH");
	char file[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && n < sizeof(file) - 6) {
			memcpy(file, path, n);
			strcpy(file + n, "/iasl");
			if (!access(file, X_OK))
				return 1;
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

/* Run argv (an iasl command) in dir, its output appended to iasl.log. */
static int run_iasl(const char *dir, char *const argv[])
{
	int status, fd;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (chdir(dir))
			_exit(126);
		fd = open("iasl.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* dir/name into path (PATH_BUF bytes); -1 if it does not fit. */
static int path_in(char *path, const char *dir, const char *name)
{
	int n = snprintf(path, PATH_BUF, "%s/%s", dir, name);

	return n < 0 || n >= PATH_BUF ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const void *p,
		      size_t len)
{
	char path[PATH_BUF];
	FILE *f;
	int ret;

	if (path_in(path, dir, name))
		return -1;
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fwrite(p, 1, len, f) == len ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/* The whole file, NUL-terminated, in a malloc()ed buffer. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[PATH_BUF], *buf;
	struct stat st;
	FILE *f;

	if (path_in(path, dir, name))
		return NULL;
	f = fopen(path, "r");
	if (!f)
		return NULL;
	buf = fstat(fileno(f), &st) ? NULL : malloc(st.st_size + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, st.st_size, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static void remove_dir(const char *dir)
{
	char path[PATH_BUF];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!path_in(path, dir, de->d_name))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void dump_log(const char *dir)
{
	size_t len;
	char *log = read_file(dir, "iasl.log", &len);

	if (log)
		fprintf(stderr, "# iasl.log:\n%s\n", log);
	free(log);
}

/* One table to disassemble, and what its listing must contain. */
struct iasl_case {
	const char *name;		/* file name stem */
	const uint8_t *table;
	size_t len;
	size_t cmp_from;		/* recompiled bytes compared from here */
	const char *want[10];
};

static void iasl_one(struct __test_metadata *_metadata, const char *dir,
		     const struct iasl_case *c)
{
	static const char * const bad[] = {
		"Invalid", "Incorrect", "Unknown", "Error", "Warning", "****",
	};
	char dat[64], dsl[64], rt[64], aml[64];
	char *const disassemble[] = { "iasl", "-vs", "-d", dat, NULL };
	char *const compile[] = { "iasl", "-vs", "-oa", "-p", rt, dsl, NULL };
	char *text;
	size_t len, i;

	snprintf(dat, sizeof(dat), "%s.dat", c->name);
	snprintf(dsl, sizeof(dsl), "%s.dsl", c->name);
	snprintf(rt, sizeof(rt), "rt_%s", c->name);
	snprintf(aml, sizeof(aml), "rt_%s.aml", c->name);

	ASSERT_EQ(0, write_file(dir, dat, c->table, c->len));
	ASSERT_EQ(0, run_iasl(dir, disassemble))
		dump_log(dir);
	text = read_file(dir, dsl, &len);
	ASSERT_NE(NULL, text) TH_LOG("iasl wrote no %s", dsl);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *hit = strstr(text, bad[i]);

		EXPECT_EQ(NULL, hit) TH_LOG("%s: \"%.40s\"", dsl, hit);
	}
	for (i = 0; i < ARRAY_SIZE(c->want) && c->want[i]; i++)
		EXPECT_NE(NULL, strstr(text, c->want[i]))
			TH_LOG("%s lacks \"%s\"", dsl, c->want[i]);
	if (!_metadata->passed)
		fprintf(stderr, "# %s:\n%s\n", dsl, text);
	free(text);

	/* Compiled back, unoptimised, it must be the same table. */
	ASSERT_EQ(0, run_iasl(dir, compile))
		dump_log(dir);
	text = read_file(dir, aml, &len);
	ASSERT_NE(NULL, text) TH_LOG("iasl wrote no %s", aml);
	EXPECT_EQ(c->len, len) TH_LOG("%s", aml);
	if (len == c->len)
		EXPECT_EQ(0, memcmp(text + c->cmp_from, c->table + c->cmp_from,
				    len - c->cmp_from)) TH_LOG("%s", aml);
	free(text);
}

/*
 * Disassemble every table of l, look for what the guest relies on, and
 * compile each back.  dsdt_extra: one more string the DSDT must show.
 */
static void iasl_layout(struct __test_metadata *_metadata,
			const struct acpi_layout *l, const char *dsdt_extra)
{
	char dir[PATH_BUF], s[8][64];
	const char *tmp = getenv("TMPDIR");
	const uint8_t *f;
	struct iasl_case c[7];
	int n = 0, i;

	if (!have_iasl())
		SKIP(return,
		     "iasl not in PATH (Debian package acpica-tools)");
	build_and_walk(_metadata, &img, GPA, l);
	f = img.fadt;

	snprintf(dir, sizeof(dir), "%s/acpi_test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ASSERT_NE(NULL, mkdtemp(dir)) TH_LOG("mkdtemp: %s", strerror(errno));

	snprintf(s[0], 64, "DSDT Address : %016llX",
		 (unsigned long long)rd64(f + 140));
	snprintf(s[1], 64, "SCI Interrupt : %04X", l->sci_irq);
	snprintf(s[2], 64, "Local Apic ID : %02X", l->ncpus - 1);
	snprintf(s[3], 64, "Base Address : %016llX",
		 (unsigned long long)l->ecam_base);
	snprintf(s[4], 64, "End Bus Number : %02X", l->ecam_end_bus);
	snprintf(s[5], 64, "Register Base Address : %016llX",
		 (unsigned long long)l->drhd_base);
	snprintf(s[6], 64, "Host Address Width : %02X", l->dmar_haw - 1);
	snprintf(s[7], 64, "Address : %08llX",
		 (unsigned long long)l->ioapic_addr);

	c[n++] = (struct iasl_case){ "dsdt", img.dsdt, rd32(img.dsdt + 4),
		HDR_LEN, { "Device (PCI0)", "EisaId (\"PNP0A08\")",
		"EisaId (\"PNP0A03\")", "Name (_SEG, Zero)",
		"WordBusNumber (ResourceProducer", "Device (\\_SB.MRES)",
		"EisaId (\"PNP0C02\")", "Name (\\_S5, Package (0x04)",
		dsdt_extra } };
	c[n++] = (struct iasl_case){ "facp", f, FADT_LEN, HDR_LEN,
		{ "[Fixed ACPI Description Table (FADT)]", s[0], s[1],
		"Reset Register Supported (V2) : 1",
		"Hardware Reduced (V5) : 0",
		"8042 Present on ports 60/64 (V2) : 0",
		"CMOS RTC Not Present (V5) : 1" } };
	c[n++] = (struct iasl_case){ "facs", img.facs, FACS_LEN, 0,
		{ "Signature : \"FACS\"", "Length : 00000040" } };
	c[n++] = (struct iasl_case){ "apic", img.madt, rd32(img.madt + 4),
		HDR_LEN, { "[Processor Local APIC]", s[2], "[I/O APIC]", s[7],
		"[Interrupt Source Override]" } };
	c[n++] = (struct iasl_case){ "mcfg", img.mcfg, rd32(img.mcfg + 4),
		HDR_LEN, { s[3], s[4] } };
	if (l->dmar)
		c[n++] = (struct iasl_case){ "dmar", img.dmar,
			rd32(img.dmar + 4), HDR_LEN,
			{ "[Hardware Unit Definition]", s[5], s[6] } };
	c[n++] = (struct iasl_case){ "xsdt", img.xsdt, rd32(img.xsdt + 4),
		HDR_LEN, { "[Extended System Description Table]",
		"ACPI Table Address   0 : " } };
	/* iasl 20200925 reads no bare RSDP; build_and_walk() checked it. */
	for (i = 0; i < n; i++)
		iasl_one(_metadata, dir, &c[i]);

	if (_metadata->passed)
		remove_dir(dir);
	else
		TH_LOG("tables and listings kept in %s", dir);
}

TEST(iasl_one_cpu_no_dmar)
{
	struct acpi_layout l;

	default_layout(&l, 1, 0);
	iasl_layout(_metadata, &l, "DWordMemory (ResourceConsumer");
}

TEST(iasl_two_cpus_dmar)
{
	struct acpi_layout l;

	default_layout(&l, 2, 1);
	iasl_layout(_metadata, &l, "DWordMemory (ResourceProducer");
}

/* An I/O window split around CF8, 64-bit MMIO: a QWordMemory window. */
TEST(iasl_split_io_high_mmio)
{
	struct acpi_layout l;

	default_layout(&l, 4, 1);
	l.pci_io_base = 0;
	l.pci_io_size = 0xffff;
	l.pci_mmio_base = 0x8000000000ull;
	l.pci_mmio_size = 0x100000000ull;
	iasl_layout(_metadata, &l, "QWordMemory (ResourceProducer");
}

TEST_HARNESS_MAIN
