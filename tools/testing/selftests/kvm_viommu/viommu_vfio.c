// SPDX-License-Identifier: GPL-2.0-only
/*
 * The assigned device for selftests; see viommu_vfio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "processor.h"
#include "kvm_viommu_util.h"
#include "viommu_vfio.h"
#include "vtd.h"

static int vfio_region(int device, uint32_t index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

/* vfio-pci leaves bus mastering off: a VMM forwards the guest's. */
static int vfio_enable_master(int device)
{
	struct vfio_region_info cfg;
	uint16_t cmd;

	if (vfio_region(device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg))
		return -errno;
	if (pread(device, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(device, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -EIO;
	return 0;
}

uint32_t viommu_vfio_iommu = KVM_VIOMMU_VFIO_IOMMU;

int viommu_vfio_open(struct viommu_vfio *f, struct kvm_vm *vm,
		     const char **why)
{
	return viommu_vfio_open_dev(f, vm, getenv("KVM_VIOMMU_EDU_BDF"),
				    getenv("KVM_VIOMMU_EDU_GROUP"), why);
}

int viommu_vfio_open_dev(struct viommu_vfio *f, struct kvm_vm *vm,
			 const char *bdf, const char *grp, const char **why)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	unsigned int seg, bus, dev, fn;
	struct vfio_region_info bar;
	char path[64];
	int ret;

	memset(f, 0, sizeof(*f));
	f->container = -1;
	f->group = -1;
	f->device = -1;
	if (!bdf || !grp ||
	    sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		*why = "no edu device bound to vfio-pci (run in the testbed)";
		return -ENODEV;
	}
	f->segment = seg;
	f->bus = bus;
	f->devfn = dev << 3 | fn;

	f->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	f->group = open(path, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(f->container >= 0 && f->group >= 0, "open %s: %s", path,
		    strerror(errno));
	TEST_ASSERT(!ioctl(f->group, VFIO_GROUP_GET_STATUS, &status) &&
		    (status.flags & VFIO_GROUP_FLAGS_VIABLE),
		    "VFIO group %s not viable", grp);
	TEST_ASSERT(!ioctl(f->group, VFIO_GROUP_SET_CONTAINER, &f->container),
		    "VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	TEST_ASSERT(!ioctl(f->container, VFIO_SET_IOMMU, viommu_vfio_iommu),
		    "VFIO_SET_IOMMU %u: %s", viommu_vfio_iommu,
		    strerror(errno));
	f->device = ioctl(f->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	TEST_ASSERT(f->device >= 0, "VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf,
		    strerror(errno));
	ret = vfio_enable_master(f->device);
	TEST_ASSERT(!ret, "bus master: %s", strerror(-ret));

	/* BAR0 straight into the guest: its MMIO costs no exit. */
	TEST_ASSERT(!vfio_region(f->device, VFIO_PCI_BAR0_REGION_INDEX, &bar) &&
		    (bar.flags & VFIO_REGION_INFO_FLAG_MMAP),
		    "BAR0 not mappable");
	f->bar0_size = bar.size;
	f->bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       f->device, bar.offset);
	TEST_ASSERT(f->bar0 != MAP_FAILED, "mmap BAR0: %s", strerror(errno));
	if (vm)
		viommu_vfio_map_bar(f, vm);
	return 0;
}

void viommu_vfio_map_bar(struct viommu_vfio *f, struct kvm_vm *vm)
{
	vm_set_user_memory_region(vm, EDU_BAR0_SLOT, 0, EDU_BAR0_GPA,
				  f->bar0_size, f->bar0);
	virt_map(vm, EDU_BAR0_GPA, EDU_BAR0_GPA, f->bar0_size / vm->page_size);
}

void viommu_vfio_close(struct viommu_vfio *f)
{
	if (f->bar0 && f->bar0 != MAP_FAILED)
		munmap(f->bar0, f->bar0_size);
	if (f->device >= 0)
		close(f->device);
	if (f->group >= 0)
		close(f->group);
	if (f->container >= 0)
		close(f->container);
}

/* The highest IOVA the container's domain maps, from VFIO's IOVA ranges. */
static uint64_t container_iova_max(int container)
{
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *hdr;
	size_t size = 4096;
	uint64_t max = 0;
	uint32_t off, i;

	info = calloc(1, size);
	TEST_ASSERT(info, "calloc");
	info->argsz = size;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info) ||
	    !(info->flags & VFIO_IOMMU_INFO_CAPS) || info->argsz > size)
		goto out;
	for (off = info->cap_offset; off && off + sizeof(*hdr) <= size;
	     off = hdr->next) {
		hdr = (void *)info + off;
		if (hdr->id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			continue;
		r = (void *)hdr;
		for (i = 0; i < r->nr_iovas; i++)
			if (r->iova_ranges[i].end > max)
				max = r->iova_ranges[i].end;
	}
out:
	free(info);
	return max;
}

uint64_t viommu_vfio_cap(struct viommu_vfio *f)
{
	uint64_t max = container_iova_max(f->container);
	uint32_t mgaw = max >= BIT_ULL(48) - 1 ? 48 : 39;

	return vtd_field_prep(VTD_CAP_ND, 2) | VTD_CAP_CM |
	       VTD_CAP_SAGAW_39 | VTD_CAP_SAGAW_48 |
	       vtd_field_prep(VTD_CAP_MGAW, mgaw - 1) |
	       VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G | VTD_CAP_PSI |
	       vtd_field_prep(VTD_CAP_MAMV, 18) | VTD_CAP_DWD | VTD_CAP_DRD;
}

int viommu_vfio_attach(struct viommu_vfio *f, int unit_fd, uint16_t sid)
{
	struct kvm_viommu_attach at = {
		.size = sizeof(at),
		.device_fd = f->device,
		.sid = sid,
	};

	return ioctl(unit_fd, KVM_VIOMMU_ATTACH_DEVICE, &at) ? -errno : 0;
}

int viommu_vfio_detach(int unit_fd, uint16_t sid)
{
	struct kvm_viommu_attach at = {
		.size = sizeof(at),
		.sid = sid,
	};

	return ioctl(unit_fd, KVM_VIOMMU_DETACH_DEVICE, &at) ? -errno : 0;
}
