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
#include <linux/mm.h>

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

#endif /* _KVM_VIOMMU_COMPAT_H_ */
