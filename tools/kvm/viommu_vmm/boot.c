// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a bzImage and its initramfs, and entering it through the 64-bit
 * boot protocol (Documentation/x86/boot.rst): the boot CPU starts in long
 * mode at the protected-mode code's offset 0x200, with flat __BOOT_CS and
 * __BOOT_DS segments, identity page tables and %rsi pointing at a filled-in
 * struct boot_params.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <asm/bootparam.h>
#include <linux/kvm.h>

#include "vmm.h"

#define SETUP_HDR_OFFSET	0x1f1
#define SETUP_HDR_MAGIC		0x53726448	/* "HdrS" */
#define BOOT_PROTO_64BIT	0x020c		/* first with XLF_KERNEL_64 */
#define XLF_KERNEL_64_BIT	BIT(0)
#define LOADER_TYPE_UNDEFINED	0xff
#define BOOT_CS			0x10
#define BOOT_DS			0x18

#define E820_RAM		1
#define E820_RESERVED		2

#define PTE_P			BIT_ULL(0)
#define PTE_RW			BIT_ULL(1)
#define PTE_PS			BIT_ULL(7)

#define CR0_PE			BIT_ULL(0)
#define CR0_ET			BIT_ULL(4)
#define CR0_NE			BIT_ULL(5)
#define CR0_PG			BIT_ULL(31)
#define CR4_PAE			BIT_ULL(5)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)

/* Reads a whole file; the caller frees *buf. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + done, st.st_size - done);

		if (n <= 0) {
			ret = n ? -errno : -EIO;
			free(*buf);
			goto out;
		}
		done += n;
	}
	*len = done;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

/* 4 GiB identity-mapped in 2 MiB pages: enough for the kernel's entry. */
static void build_page_tables(struct vmm *vmm)
{
	uint64_t *pml4 = gpa_to_hva(vmm, GUEST_PGTABLE, 4096);
	uint64_t *pdpt = gpa_to_hva(vmm, GUEST_PGTABLE + 0x1000, 4096);
	uint64_t *pd = gpa_to_hva(vmm, GUEST_PGTABLE + 0x2000, 4 * 4096);
	int i;

	memset(pml4, 0, 6 * 4096);
	pml4[0] = (GUEST_PGTABLE + 0x1000) | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (GUEST_PGTABLE + 0x2000 + i * 0x1000) | PTE_P | PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static void build_gdt(struct vmm *vmm)
{
	uint64_t *gdt = gpa_to_hva(vmm, GUEST_GDT, 4 * 8);

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[BOOT_CS / 8] = 0x00af9b000000ffffULL;	/* 64-bit code */
	gdt[BOOT_DS / 8] = 0x00cf93000000ffffULL;	/* flat data */
}

int boot_load(struct vmm *vmm)
{
	const struct vmm_opts *o = &vmm->opts;
	struct boot_params *bp;
	uint8_t *image = NULL, *initrd = NULL;
	size_t image_len, initrd_len = 0, setup_len, code_len, hdr_len;
	uint64_t kernel_end, initrd_gpa = 0, initrd_max;
	int ret;

	ret = read_file(o->kernel, &image, &image_len);
	if (ret) {
		fprintf(stderr, "viommu-vmm: --kernel %s: %s\n", o->kernel,
			strerror(-ret));
		return ret;
	}
	bp = gpa_to_hva(vmm, GUEST_ZERO_PAGE, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	ret = -ENOEXEC;
	if (image_len < 0x1000)
		goto bad_image;
	hdr_len = 0x202 + image[0x201] - SETUP_HDR_OFFSET;
	if (hdr_len > sizeof(bp->hdr))
		hdr_len = sizeof(bp->hdr);
	memcpy(&bp->hdr, image + SETUP_HDR_OFFSET, hdr_len);
	if (bp->hdr.header != SETUP_HDR_MAGIC ||
	    bp->hdr.version < BOOT_PROTO_64BIT ||
	    !(bp->hdr.xloadflags & XLF_KERNEL_64_BIT))
		goto bad_image;
	setup_len = ((bp->hdr.setup_sects ? bp->hdr.setup_sects : 4) + 1) * 512;
	if (setup_len >= image_len)
		goto bad_image;
	code_len = image_len - setup_len;
	/* Where the kernel would run anyway: no relocation copy. */
	vmm->kernel_gpa = bp->hdr.pref_address ? bp->hdr.pref_address :
						 GUEST_KERNEL;
	if (vmm->kernel_gpa < GUEST_KERNEL || vmm->kernel_gpa & 0xfff)
		goto bad_image;
	kernel_end = vmm->kernel_gpa + (code_len > bp->hdr.init_size ?
					code_len : bp->hdr.init_size);
	if (kernel_end < vmm->kernel_gpa || kernel_end > o->mem_size) {
		fprintf(stderr, "viommu-vmm: --mem too small for the kernel\n");
		ret = -ENOMEM;
		goto out;
	}
	memcpy(gpa_to_hva(vmm, vmm->kernel_gpa, code_len), image + setup_len,
	       code_len);

	if (o->initrd) {
		ret = read_file(o->initrd, &initrd, &initrd_len);
		if (ret) {
			fprintf(stderr, "viommu-vmm: --initrd %s: %s\n",
				o->initrd, strerror(-ret));
			goto out;
		}
		initrd_max = (uint64_t)bp->hdr.initrd_addr_max + 1;
		if (initrd_max > o->mem_size)
			initrd_max = o->mem_size;
		initrd_gpa = (initrd_max - initrd_len) & ~0xfffULL;
		if (initrd_len > initrd_max || initrd_gpa < kernel_end) {
			fprintf(stderr,
				"viommu-vmm: --mem too small for the initrd\n");
			ret = -ENOMEM;
			goto out;
		}
		memcpy(gpa_to_hva(vmm, initrd_gpa, initrd_len), initrd,
		       initrd_len);
		bp->hdr.ramdisk_image = initrd_gpa;
		bp->hdr.ramdisk_size = initrd_len;
	}

	strcpy(gpa_to_hva(vmm, GUEST_CMDLINE, GUEST_CMDLINE_MAX), o->append);
	bp->hdr.cmd_line_ptr = GUEST_CMDLINE;
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	bp->acpi_rsdp_addr = GUEST_ACPI;

	e820_add(bp, 0, GUEST_EBDA, E820_RAM);
	e820_add(bp, GUEST_EBDA, GUEST_KERNEL - GUEST_EBDA, E820_RESERVED);
	e820_add(bp, GUEST_KERNEL, o->mem_size - GUEST_KERNEL, E820_RAM);
	e820_add(bp, PCI_ECAM_BASE, PCI_ECAM_SIZE, E820_RESERVED);

	build_page_tables(vmm);
	build_gdt(vmm);
	ret = 0;
	goto out;

bad_image:
	fprintf(stderr,
		"viommu-vmm: --kernel %s: not a bzImage with the 64-bit entry point (boot protocol 2.12+)\n",
		o->kernel);
out:
	free(initrd);
	free(image);
	return ret;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, bool code)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = selector;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	if (code) {
		s->type = 0xb;	/* execute/read, accessed */
		s->l = 1;
	} else {
		s->type = 0x3;	/* read/write, accessed */
		s->db = 1;
	}
}

int boot_setup_bsp(struct vmm *vmm, int vcpu_fd)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs))
		return -errno;
	flat_segment(&sregs.cs, BOOT_CS, true);
	flat_segment(&sregs.ds, BOOT_DS, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.gdt.base = GUEST_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = GUEST_PGTABLE;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs))
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = vmm->kernel_gpa + 0x200;
	regs.rsi = GUEST_ZERO_PAGE;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}
