/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attached devices and their shadow of the guest's translations.
 */
#ifndef _KVM_VIOMMU_SHADOW_H_
#define _KVM_VIOMMU_SHADOW_H_

#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include "vtd_walk.h"

struct device;
struct file;
struct iommu_domain;
struct kvm_viommu;
struct kvm_viommu_ucmd;

/**
 * struct kvm_viommu_dev - a VFIO device attached to a unit
 * @node: in kvm_viommu.devices, under the unit's lock
 * @sid: the device's guest source-id
 * @group_file: the VMM's VFIO group file
 * @device_file: the VMM's VFIO device file.  While we hold it VFIO counts
 *	the device open: its group stays in its container (VFIO refuses
 *	VFIO_GROUP_UNSET_CONTAINER), hence the container's type1 domain
 *	alive, whatever the VMM closes or asks first.
 * @dev: the host device; we hold a reference
 * @domain: the VFIO container's domain that @dev translates through
 * @ctx: the guest's context for @sid, as of the last context-cache
 *	invalidation; valid if @ctx_valid
 * @shadow: interval tree of struct kvm_viommu_map, by IOVA
 * @gen: sync generation, to find what a sync did not see
 * @put_node: on the list of device files to release, once detached
 *
 * All fields are under the unit's lock while attached.
 */
struct kvm_viommu_dev {
	struct list_head node;
	u16 sid;
	struct file *group_file;
	struct file *device_file;
	struct device *dev;
	struct iommu_domain *domain;
	bool ctx_valid;
	struct vtd_context ctx;
	struct rb_root_cached shadow;
	u64 gen;
	struct llist_node put_node;
};

/* shadow.c */
void kvm_viommu_shadow_cc_inval(struct kvm_viommu *viommu,
				const struct vtd_cc_inval *inv);
void kvm_viommu_shadow_iotlb_inval(struct kvm_viommu *viommu,
				   const struct vtd_iotlb_inval *inv);
void kvm_viommu_shadow_translation_changed(struct kvm_viommu *viommu);
void kvm_viommu_shadow_clear(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev);
void kvm_viommu_shadow_run_begin(struct kvm_viommu *viommu);
bool kvm_viommu_shadow_run_spent(struct kvm_viommu *viommu);

/* attach.c */
int kvm_viommu_attach_device(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_detach_device(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_devices_release(struct kvm_viommu *viommu);
int kvm_viommu_attach_init(void);
void kvm_viommu_attach_exit(void);

#endif /* _KVM_VIOMMU_SHADOW_H_ */
