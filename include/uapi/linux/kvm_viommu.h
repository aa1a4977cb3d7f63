/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm_viommu: in-kernel emulation of a guest Intel VT-d unit for KVM guests
 * with assigned (VFIO) devices.
 *
 * The VMM ABI.  Documentation/virt/kvm_viommu.rst is the reference.
 *
 * Conventions, for every ioctl below:
 *  - the argument is a struct whose first field, @size, is set by the caller
 *    to sizeof() of the struct it was compiled with.  The kernel accepts any
 *    size from the struct's first version up to its own; a larger struct is
 *    accepted only if the bytes the kernel does not know are zero (E2BIG
 *    otherwise), so structs grow at the end without new ioctl numbers;
 *  - @flags bits that are not defined must be zero (EINVAL otherwise);
 *  - fields named __reserved must be zero (EINVAL otherwise).
 */
#ifndef _UAPI_LINUX_KVM_VIOMMU_H
#define _UAPI_LINUX_KVM_VIOMMU_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* The misc device that KVM_CREATE_VIOMMU is issued on. */
#define KVM_VIOMMU_DEVICE_NAME	"kvm_viommu"

#define KVM_VIOMMU_TYPE		0xAF
#define KVM_VIOMMU_CMD_BASE	0x80

enum {
	KVM_VIOMMU_CMD_CREATE = KVM_VIOMMU_CMD_BASE,
};

/**
 * struct kvm_viommu_create - ioctl(KVM_CREATE_VIOMMU)
 * @size: sizeof(struct kvm_viommu_create)
 * @flags: must be 0
 * @vm_fd: a KVM VM file descriptor (from KVM_CREATE_VM) of the calling
 *         process
 * @__reserved: must be 0
 *
 * Create the VT-d unit of the VM behind @vm_fd.  On success the ioctl
 * returns a new file descriptor (O_CLOEXEC) for the unit; the unit holds a
 * reference on the VM until that descriptor is closed.  A VM has at most one
 * unit.
 *
 * Errors: EFAULT bad argument pointer; EINVAL short @size, unknown @flags,
 * nonzero @__reserved, or @vm_fd is not a KVM VM; E2BIG @size larger than the
 * kernel knows with nonzero tail; EBADF @vm_fd is not an open descriptor;
 * EPERM the VM belongs to another process; EEXIST the VM has a unit already;
 * ENOMEM, EMFILE, ENFILE.
 */
struct kvm_viommu_create {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 __reserved;
};

#define KVM_CREATE_VIOMMU	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_CREATE)

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
