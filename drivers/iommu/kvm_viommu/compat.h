/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels kvm_viommu builds for (6.1 and 6.12
 * today), in one place.  Kbuild probes the kernel's headers for each
 * feature (KVM_VIOMMU_HAVE_*) rather than trusting version numbers, which
 * distribution backports make lie.
 */
#ifndef _KVM_VIOMMU_COMPAT_H_
#define _KVM_VIOMMU_COMPAT_H_

#include <linux/eventfd.h>
#include <linux/iommu.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/vfio.h>

/* 6.8 dropped eventfd_signal()'s count argument. */
static inline void kvm_viommu_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef KVM_VIOMMU_HAVE_EVENTFD_SIGNAL_NOCOUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.3 made vma->vm_flags read-only behind vm_flags_clear(). */
static inline void kvm_viommu_vma_deny_write(struct vm_area_struct *vma)
{
#ifdef KVM_VIOMMU_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, VM_MAYWRITE);
#else
	vma->vm_flags &= ~VM_MAYWRITE;
#endif
}

/*
 * 6.3 gave iommu_map() a gfp argument, in the change that removed
 * iommu_map_atomic(): the latter's presence marks the old API.
 */
static inline int kvm_viommu_iommu_map(struct iommu_domain *domain,
				       unsigned long iova, phys_addr_t paddr,
				       size_t size, int prot)
{
#ifdef KVM_VIOMMU_HAVE_IOMMU_MAP_ATOMIC
	return iommu_map(domain, iova, paddr, size, prot);
#else
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#endif
}

/*
 * Long-term pins of current->mm's pages.  Before 6.5 the unlocked variant
 * refused FOLL_LONGTERM, and the locked one took a vmas argument (dropped
 * from every GUP call in 6.5: its presence marks the old API).
 */
static inline long kvm_viommu_pin_user_pages(unsigned long start,
					     unsigned long nr_pages,
					     unsigned int gup_flags,
					     struct page **pages)
{
#ifdef KVM_VIOMMU_HAVE_GUP_VMAS
	long ret;

	mmap_read_lock(current->mm);
	ret = pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
	mmap_read_unlock(current->mm);
	return ret;
#else
	return pin_user_pages_unlocked(start, nr_pages, pages, gup_flags);
#endif
}

/*
 * Is @file the VFIO device fd of @vdev?  @group_file is a VFIO group file.
 * 6.1 exports no test for device fds: there a device fd is the one file
 * VFIO's module makes whose private_data is the vfio_device itself.  Later
 * kernels have vfio_file_is_valid(), and a device fd's private_data is a
 * struct vfio_device_file (VFIO's private header) whose first member
 * points at the device.
 */
static inline bool kvm_viommu_vfio_is_device_file(struct file *file,
						  struct file *group_file,
						  struct vfio_device *vdev)
{
	if (vfio_file_is_group(file))
		return false;
#ifdef KVM_VIOMMU_HAVE_VFIO_FILE_IS_VALID
	return vfio_file_is_valid(file) &&
	       *(struct vfio_device **)file->private_data == vdev;
#else
	return file->f_op->owner == group_file->f_op->owner &&
	       file->private_data == vdev;
#endif
}

#endif /* _KVM_VIOMMU_COMPAT_H_ */
