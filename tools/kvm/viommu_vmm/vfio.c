// SPDX-License-Identifier: GPL-2.0-only
/*
 * The assigned device: a vfio-pci function shown to the guest at 00:01.0.
 *
 * Configuration space comes from the VFIO config region (vfio-pci already
 * virtualises what a user must not touch) except for what the VMM owns:
 * the BARs, which live at guest addresses the guest chooses, the expansion
 * ROM (not offered) and the interrupt pin (INTx and MSI are not
 * virtualised; the guest drivers this VMM serves poll).  Memory BARs that
 * VFIO lets us mmap() become memslots, so the guest reaches the device's
 * registers without an exit; others are trapped and forwarded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/kvm_viommu.h>

#include "vmm.h"

#define NR_BARS			6

struct vfio_bar {
	uint64_t size;		/* 0: not implemented */
	uint64_t region_off;	/* in the device fd */
	bool mmap_ok;
	bool mem64;		/* the low half of a 64-bit BAR */
	bool upper;		/* the high half of the one before */
	uint32_t type_bits;	/* the read-only low bits */
	uint32_t val;		/* what the guest wrote, masked */
	void *hva;		/* the mmap() of the region */
	uint64_t mapped_gpa;	/* memslot base, or 0 */
};

struct vfio_dev {
	int container;
	int group;
	int device;
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;
	uint64_t cfg_off;
	uint16_t command;	/* the guest's view */
	uint8_t intr_line;
	bool ram_mapped;
	struct vfio_bar bar[NR_BARS];
	struct pci_func func;
};

static int vfio_cfg_pread(struct vfio_dev *d, void *buf, size_t len,
			  uint32_t off)
{
	return pread(d->device, buf, len, d->cfg_off + off) == (ssize_t)len ?
		0 : -EIO;
}

static int vfio_cfg_pwrite(struct vfio_dev *d, const void *buf, size_t len,
			   uint32_t off)
{
	return pwrite(d->device, buf, len, d->cfg_off + off) == (ssize_t)len ?
		0 : -EIO;
}

static uint64_t bar_gpa(struct vfio_dev *d, int i)
{
	uint64_t gpa = d->bar[i].val & ~0xfULL;

	if (d->bar[i].mem64)
		gpa |= (uint64_t)d->bar[i + 1].val << 32;
	return gpa;
}

/* Memory decoding on and a sane address: the BAR is at its memslot. */
static void vfio_update_bars(struct vmm *vmm, struct vfio_dev *d)
{
	int i, ret;

	for (i = 0; i < NR_BARS; i++) {
		struct vfio_bar *b = &d->bar[i];
		uint64_t gpa = bar_gpa(d, i), want = 0;

		if (!b->size || b->upper || !b->mmap_ok)
			continue;
		if ((d->command & PCI_COMMAND_MEMORY) &&
		    gpa >= PCI_MMIO_BASE &&
		    gpa + b->size <= PCI_MMIO_BASE + PCI_MMIO_SIZE)
			want = gpa;
		if (want == b->mapped_gpa)
			continue;
		if (b->mapped_gpa)
			set_memslot(vmm, SLOT_BAR_BASE + i, 0, b->mapped_gpa,
				    0, NULL);
		b->mapped_gpa = 0;
		if (!want)
			continue;
		ret = set_memslot(vmm, SLOT_BAR_BASE + i, 0, want, b->size,
				  b->hva);
		if (ret)
			fprintf(stderr,
				"viommu-vmm: BAR%d at 0x%llx: %s (trapping it)\n",
				i, (unsigned long long)want, strerror(-ret));
		else
			b->mapped_gpa = want;
	}
}

static uint32_t bar_read(struct vfio_dev *d, int i)
{
	struct vfio_bar *b = &d->bar[i];

	if (!b->size && !b->upper)
		return 0;
	return b->val | b->type_bits;
}

static void bar_write(struct vfio_dev *d, int i, uint32_t v)
{
	struct vfio_bar *b = &d->bar[i];

	if (b->upper) {
		b->val = v & (uint32_t)(~(d->bar[i - 1].size - 1) >> 32);
		return;
	}
	if (!b->size)
		return;
	b->val = v & (uint32_t)~(b->size - 1) & ~0xfU;
}

static uint32_t vfio_cfg_read(struct vmm *vmm, struct pci_func *f,
			      uint32_t off, uint32_t len)
{
	struct vfio_dev *d = f->opaque;
	uint32_t dw = off & ~3U, v = 0;

	(void)vmm;
	if (dw >= PCI_BASE_ADDRESS_0 && dw <= PCI_BASE_ADDRESS_5) {
		v = bar_read(d, (dw - PCI_BASE_ADDRESS_0) / 4);
	} else if (dw == PCI_ROM_ADDRESS) {
		v = 0;
	} else if (dw == PCI_INTERRUPT_LINE) {
		if (vfio_cfg_pread(d, &v, 4, dw))
			return 0xffffffff;
		v &= 0xffff0000;	/* pin 0: no INTx */
		v |= d->intr_line;
	} else if (dw == PCI_COMMAND) {
		if (vfio_cfg_pread(d, &v, 4, dw))
			return 0xffffffff;
		v = (v & 0xffff0000) | d->command;
	} else if (vfio_cfg_pread(d, &v, 4, dw)) {
		return 0xffffffff;
	}
	v >>= (off & 3) * 8;
	return len == 4 ? v : v & ((1U << (len * 8)) - 1);
}

static void vfio_cfg_write(struct vmm *vmm, struct pci_func *f, uint32_t off,
			   uint32_t len, uint32_t val)
{
	struct vfio_dev *d = f->opaque;
	uint32_t dw = off & ~3U;

	if (dw >= PCI_BASE_ADDRESS_0 && dw <= PCI_BASE_ADDRESS_5) {
		if (len == 4)
			bar_write(d, (dw - PCI_BASE_ADDRESS_0) / 4, val);
		vfio_update_bars(vmm, d);
		return;
	}
	if (dw == PCI_ROM_ADDRESS)
		return;
	if (off == PCI_INTERRUPT_LINE) {
		d->intr_line = val;
		return;
	}
	if (dw == PCI_COMMAND && off < PCI_STATUS) {
		uint16_t cmd = off == PCI_COMMAND ? val :
			       (d->command & 0xff) | (val & 0xff) << 8;

		if (len == 1 && off == PCI_COMMAND)
			cmd = (d->command & 0xff00) | (val & 0xff);
		d->command = cmd;
		/* Bus mastering and decoding reach the device this way. */
		if (vfio_cfg_pwrite(d, &cmd, 2, PCI_COMMAND))
			fprintf(stderr, "viommu-vmm: VFIO config write failed\n");
		vfio_update_bars(vmm, d);
		return;
	}
	if (vfio_cfg_pwrite(d, &val, len, off))
		fprintf(stderr, "viommu-vmm: VFIO config write 0x%x failed\n",
			off);
}

/* A BAR access that no memslot caught: forwarded to the region. */
static void vfio_bar_trap(struct vmm *vmm, void *opaque, uint64_t off,
			  void *data, uint32_t len, bool is_write)
{
	struct vfio_dev *d = opaque;
	uint64_t gpa = PCI_MMIO_BASE + off;
	int i;

	(void)vmm;
	for (i = 0; i < NR_BARS; i++) {
		struct vfio_bar *b = &d->bar[i];
		uint64_t base = bar_gpa(d, i);
		ssize_t n;

		if (!b->size || b->upper || !(d->command & PCI_COMMAND_MEMORY) ||
		    gpa < base || gpa + len > base + b->size)
			continue;
		if (is_write)
			n = pwrite(d->device, data, len,
				   b->region_off + gpa - base);
		else
			n = pread(d->device, data, len,
				  b->region_off + gpa - base);
		if (n == (ssize_t)len)
			return;
		break;
	}
	if (!is_write)
		memset(data, 0xff, len);
}

static void vfio_bar_read(struct vmm *vmm, void *opaque, uint64_t off,
			  void *data, uint32_t len)
{
	vfio_bar_trap(vmm, opaque, off, data, len, false);
}

static void vfio_bar_write(struct vmm *vmm, void *opaque, uint64_t off,
			   const void *data, uint32_t len)
{
	vfio_bar_trap(vmm, opaque, off, (void *)data, len, true);
}

static int vfio_probe_bars(struct vfio_dev *d)
{
	uint64_t next_gpa = PCI_MMIO_BASE;
	int i;

	for (i = 0; i < NR_BARS; i++) {
		struct vfio_region_info r = {
			.argsz = sizeof(r),
			.index = VFIO_PCI_BAR0_REGION_INDEX + i,
		};
		struct vfio_bar *b = &d->bar[i];
		uint32_t raw;

		if (b->upper)
			continue;
		if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &r))
			return -errno;
		if (!r.size)
			continue;
		if (vfio_cfg_pread(d, &raw, 4, PCI_BASE_ADDRESS_0 + 4 * i))
			return -EIO;
		if (raw & PCI_BASE_ADDRESS_SPACE_IO) {
			fprintf(stderr,
				"viommu-vmm: BAR%d is an I/O BAR: not offered to the guest\n",
				i);
			continue;
		}
		if (r.size & (r.size - 1) || r.size < 4096) {
			fprintf(stderr,
				"viommu-vmm: BAR%d size 0x%llx: not offered\n",
				i, (unsigned long long)r.size);
			continue;
		}
		b->size = r.size;
		b->region_off = r.offset;
		b->type_bits = raw & 0xf;
		b->mem64 = (raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			   PCI_BASE_ADDRESS_MEM_TYPE_64;
		if (b->mem64 && i + 1 < NR_BARS)
			d->bar[i + 1].upper = true;
		if (r.flags & VFIO_REGION_INFO_FLAG_MMAP) {
			b->hva = mmap(NULL, r.size, PROT_READ | PROT_WRITE,
				      MAP_SHARED, d->device, r.offset);
			b->mmap_ok = b->hva != MAP_FAILED;
			if (!b->mmap_ok)
				b->hva = NULL;
		}
		/* A firmware-style first placement; the guest may move it. */
		next_gpa = (next_gpa + r.size - 1) & ~(r.size - 1);
		if (next_gpa + r.size <= PCI_MMIO_BASE + PCI_MMIO_SIZE) {
			b->val = next_gpa;
			next_gpa += r.size;
		}
	}
	return 0;
}

static int group_of(const char *bdf, int *group)
{
	char path[PATH_MAX], link[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	*group = atoi(base ? base + 1 : link);
	return 0;
}

static bool bound_to_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	base = strrchr(link, '/');
	return !strcmp(base ? base + 1 : link, "vfio-pci");
}

int vfio_dev_open(struct vmm *vmm, const char *arg, uint8_t devfn)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct bus_dev trap = { .read = vfio_bar_read, .write = vfio_bar_write };
	unsigned int seg, bus, dev, fn;
	char bdf[32], path[64];
	struct vfio_dev *d;
	int group, ret;
	unsigned long iommu;

	if (sscanf(arg, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		seg = 0;
		if (sscanf(arg, "%x:%x.%x", &bus, &dev, &fn) != 3)
			goto bad_bdf;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		goto bad_bdf;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", seg, bus, dev, fn);
	ret = group_of(bdf, &group);
	if (ret) {
		fprintf(stderr, "viommu-vmm: --vfio %s: %s\n", bdf,
			ret == -ENOENT ?
			"no such PCI device, or it has no IOMMU group" :
			strerror(-ret));
		return ret;
	}
	if (!bound_to_vfio_pci(bdf)) {
		fprintf(stderr,
			"viommu-vmm: --vfio %s: not bound to vfio-pci (echo vfio-pci > /sys/bus/pci/devices/%s/driver_override, then rebind)\n",
			bdf, bdf);
		return -ENODEV;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	vmm->vfio = d;
	d->container = -1;
	d->group = -1;
	d->device = -1;
	d->segment = seg;
	d->bus = bus;
	d->devfn = dev << 3 | fn;
	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: /dev/vfio/vfio: %s\n",
			strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: %s: %s\n", path,
			ret == -EBUSY ? "busy: the device is in use by another VMM" :
			strerror(-ret));
		return ret;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr,
			"viommu-vmm: IOMMU group %d is not viable: bind every device in it to vfio-pci\n",
			group);
		return -EBUSY;
	}
	/*
	 * Behind a vIOMMU the unit owns the device's domain: a container of
	 * kvm_viommu's own backend, which maps nothing itself.  Without one,
	 * type1, which maps guest RAM as a VMM without a vIOMMU does.
	 */
	iommu = vmm->opts.viommu ? KVM_VIOMMU_VFIO_IOMMU : VFIO_TYPE1v2_IOMMU;
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, iommu)) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: VFIO %s container: %s\n",
			vmm->opts.viommu ? "kvm-viommu" : "type1",
			vmm->opts.viommu && ret == -EINVAL ?
			"no such IOMMU type: modprobe kvm_viommu first" :
			strerror(-ret));
		return ret;
	}
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->device < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: --vfio %s: %s\n", bdf,
			ret == -EBUSY ? "busy: the device is in use" :
			strerror(-ret));
		return ret;
	}
	if (ioctl(d->device, VFIO_DEVICE_GET_INFO, &info) ||
	    !(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &cfg)) {
		fprintf(stderr, "viommu-vmm: --vfio %s: not a VFIO PCI device\n",
			bdf);
		return -ENODEV;
	}
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		ioctl(d->device, VFIO_DEVICE_RESET);
	d->cfg_off = cfg.offset;
	ret = vfio_probe_bars(d);
	if (ret) {
		fprintf(stderr, "viommu-vmm: --vfio %s: BARs: %s\n", bdf,
			strerror(-ret));
		return ret;
	}
	d->func.devfn = devfn;
	d->func.cfg_read = vfio_cfg_read;
	d->func.cfg_write = vfio_cfg_write;
	d->func.opaque = d;
	trap.opaque = d;
	ret = pci_add_func(vmm, &d->func);
	if (!ret)
		ret = bus_add(&vmm->mmio, PCI_MMIO_BASE, PCI_MMIO_SIZE, &trap);
	return ret;

bad_bdf:
	fprintf(stderr,
		"viommu-vmm: --vfio '%s': want a host PCI address like 0000:00:03.0\n",
		arg);
	return -EINVAL;
}

/* No vIOMMU: the device may reach all of guest RAM, GPA = IOVA. */
int vfio_dev_map_ram(struct vmm *vmm)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vmm->ram,
		.iova = 0,
		.size = vmm->opts.mem_size,
	};
	struct vfio_dev *d = vmm->vfio;

	if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map)) {
		fprintf(stderr, "viommu-vmm: VFIO_IOMMU_MAP_DMA of RAM: %s\n",
			strerror(errno));
		return -errno;
	}
	d->ram_mapped = true;
	return 0;
}

/*
 * How many bits of IOVA the device's container can map from 0: the
 * widest VT-d guest address width (48 or 39) below the highest IOVA of
 * VFIO's usable ranges (holes such as the MSI window just fault).
 * -ERANGE if less than 39 bits; -errno if VFIO cannot say.
 */
int vfio_dev_iova_bits(struct vmm *vmm)
{
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *hdr;
	struct vfio_dev *d = vmm->vfio;
	const uint32_t size = 4096;
	uint64_t max = 0;
	uint32_t off, i;
	int ret = 0;

	if (!d)
		return -ENODEV;
	info = calloc(1, size);
	if (!info)
		return -ENOMEM;
	info->argsz = size;
	if (ioctl(d->container, VFIO_IOMMU_GET_INFO, info))
		ret = -errno;
	else if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || info->argsz > size)
		ret = -EOPNOTSUPP;
	for (off = ret ? 0 : info->cap_offset;
	     off && off <= size - sizeof(*r); off = hdr->next) {
		hdr = (void *)info + off;
		if (hdr->id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			continue;
		r = (void *)hdr;
		for (i = 0; i < r->nr_iovas &&
		     off + sizeof(*r) + (i + 1) * sizeof(r->iova_ranges[0]) <=
		     size; i++)
			if (r->iova_ranges[i].end > max)
				max = r->iova_ranges[i].end;
	}
	free(info);
	if (ret)
		return ret;
	if (max >= (1ULL << 48) - 1)
		return 48;
	if (max >= (1ULL << 39) - 1)
		return 39;
	return -ERANGE;
}

int vfio_dev_fd(struct vmm *vmm)
{
	return vmm->vfio ? vmm->vfio->device : -ENODEV;
}

/*
 * After kvm_viommu let go of the domain (viommu_close() runs first): the
 * device fd, the group, then the container, as VFIO expects.
 */
void vfio_dev_close(struct vmm *vmm)
{
	struct vfio_dev *d = vmm->vfio;
	int i;

	if (!d)
		return;
	for (i = 0; i < NR_BARS; i++) {
		if (d->bar[i].mapped_gpa)
			set_memslot(vmm, SLOT_BAR_BASE + i, 0,
				    d->bar[i].mapped_gpa, 0, NULL);
		if (d->bar[i].hva)
			munmap(d->bar[i].hva, d->bar[i].size);
	}
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	free(d);
	vmm->vfio = NULL;
}
