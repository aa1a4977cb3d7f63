/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The assigned device for selftests: QEMU's edu, bound to vfio-pci in L1
 * by the testbed (KVM_VIOMMU_EDU_BDF, KVM_VIOMMU_EDU_GROUP), opened the way
 * a VMM opens it and attached to a unit.
 */
#ifndef _VIOMMU_VFIO_H
#define _VIOMMU_VFIO_H

#include <stdint.h>

#include "kvm_util.h"

/* Where L2 finds edu's BAR0, and edu's registers in it. */
#define EDU_BAR0_GPA		0xfe000000ULL
#define EDU_BAR0_SLOT		11
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_CMD_START	0x1
#define EDU_DMA_CMD_TO_RAM	0x2
#define EDU_DMA_BUF		0x40000ULL	/* edu's 4 KiB buffer */
/*
 * edu refuses (and aborts QEMU on) a DMA that ends exactly at its buffer's
 * end: stay below it.
 */
#define EDU_DMA_LEN		2048
#define EDU_DMA_BITS		28		/* edu masks addresses */

struct viommu_vfio {
	int container;
	int group;
	int device;
	void *bar0;
	uint64_t bar0_size;
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;
};

/*
 * The VFIO IOMMU type viommu_vfio_open() sets its container to: the
 * module's own (KVM_VIOMMU_VFIO_IOMMU), which a unit's device needs; or
 * VFIO_TYPE1v2_IOMMU, for a VMM that maps guest RAM itself.
 */
extern uint32_t viommu_vfio_iommu;

/*
 * Open edu through VFIO (a container of viommu_vfio_iommu's type, no
 * mappings), enable bus mastering, and map its BAR0 into @vm (if not NULL)
 * at EDU_BAR0_GPA.  Returns 0, or -errno with a reason in @why if the
 * testbed has no edu.
 */
int viommu_vfio_open(struct viommu_vfio *f, struct kvm_vm *vm,
		     const char **why);

/* The same for the edu at host address @bdf, in VFIO group @grp. */
int viommu_vfio_open_dev(struct viommu_vfio *f, struct kvm_vm *vm,
			 const char *bdf, const char *grp, const char **why);

/* Map the opened device's BAR0 into @vm at EDU_BAR0_GPA. */
void viommu_vfio_map_bar(struct viommu_vfio *f, struct kvm_vm *vm);
void viommu_vfio_close(struct viommu_vfio *f);

/*
 * The module's default CAP_REG, but with the widest CAP.MGAW (48 or 39)
 * whose IOVAs the opened device's container can map, as a VMM picks it:
 * attaching fails with ERANGE otherwise.  QEMU's intel-iommu in L1 maps
 * 39 bits.
 */
uint64_t viommu_vfio_cap(struct viommu_vfio *f);

/* KVM_VIOMMU_ATTACH_DEVICE / _DETACH_DEVICE; 0 or -errno. */
int viommu_vfio_attach(struct viommu_vfio *f, int unit_fd, uint16_t sid);
int viommu_vfio_detach(int unit_fd, uint16_t sid);

#endif /* _VIOMMU_VFIO_H */
