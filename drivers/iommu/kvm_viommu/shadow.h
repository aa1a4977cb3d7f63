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
struct page;

/* An IOVA range the host reserves for a device (MSI window, RMRR). */
struct kvm_viommu_resv {
	u64 start;
	u64 last;
};

/**
 * struct kvm_viommu_dev - a VFIO device attached to a unit
 * @node: in kvm_viommu.devices
 * @sid: the device's guest source-id
 * @device_file: the VMM's VFIO device file.  While we hold it VFIO counts
 *	the device open: its group stays in its container (VFIO refuses
 *	VFIO_GROUP_UNSET_CONTAINER), hence the container's domain
 *	alive, whatever the VMM closes or asks first.
 * @dev: the host device; we hold a reference
 * @domain: the VFIO container's domain that @dev translates through
 * @resv: the IOVA ranges the host reserves for @dev, @nr_resv of them:
 *	no guest leaf is mapped over them
 * @ctx: the guest's context for @sid, as of the last context-cache
 *	invalidation (or translation change); valid if @ctx_valid
 * @shadow: interval tree of struct kvm_viommu_map, by IOVA
 * @doomed: leaves of a shadow gone stale at once (a context change, TE
 *	switched), still mapped: unmapped within the queue runs' budgets
 *	before any later descriptor, or at once where a new leaf needs
 *	their IOVAs
 * @identity: @shadow holds all of guest RAM at IOVA = GPA (translation
 *	off), not the guest's tables
 * @stranded: leaves whose host unmap removed another size than mapped:
 *	kept pinned, since the host IOMMU may still reach their pages,
 *	until detach finds it cannot
 * @gen: sync generation, to find what a walk did not see
 * @sync_pending: a walk of [@sync_next, @sync_end) is still to do: the
 *	rest of an invalidation (or of the whole context) that an earlier
 *	queue run's budget cut short.  No later descriptor is processed
 *	before it is done.
 * @put_node: on the list of device files to release, once detached
 * @attach_id: which attachment of its unit this is (numbered from 1)
 * @attaching: listed, but the attach call has not shadowed it yet: a
 *	queue run meanwhile leaves its translation-off identity map to the
 *	attach (which can take seconds, and belongs to the VMM's call)
 *
 * All fields but @put_node are under the unit's lock while attached.
 */
struct kvm_viommu_dev {
	struct list_head node;
	u16 sid;
	struct file *device_file;
	struct device *dev;
	struct iommu_domain *domain;
	struct kvm_viommu_resv *resv;
	unsigned int nr_resv;
	bool ctx_valid;
	struct vtd_context ctx;
	struct rb_root_cached shadow;
	struct rb_root_cached doomed;
	bool identity;
	struct list_head stranded;
	u64 gen;
	bool sync_pending;
	u64 sync_next;
	u64 sync_end;
	struct llist_node put_node;
	u64 attach_id;
	bool attaching;
};

/* One IOVA range to map, guest leaf or chunk of guest RAM. */
struct kvm_viommu_leaf {
	u64 iova;
	u64 gpa;
	u64 size;
	bool read;
	bool write;
};

/* pin.c */
int kvm_viommu_pin(struct kvm_viommu *viommu, u64 gpa, unsigned long n,
		   bool write, struct page **pages);
void kvm_viommu_unpin(struct kvm_viommu *viommu, struct page **pages,
		      unsigned long n);

/* shadow.c */
int kvm_viommu_map_leaf(struct kvm_viommu *viommu,
			struct kvm_viommu_dev *vdev,
			const struct kvm_viommu_leaf *leaf);
void kvm_viommu_shadow_cc_inval(struct kvm_viommu *viommu,
				const struct vtd_cc_inval *inv);
void kvm_viommu_shadow_iotlb_inval(struct kvm_viommu *viommu,
				   const struct vtd_iotlb_inval *inv);
void kvm_viommu_shadow_translation_changed(struct kvm_viommu *viommu);
int kvm_viommu_shadow_attach(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev);
void kvm_viommu_shadow_clear(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev);
void kvm_viommu_shadow_detach(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev);
bool kvm_viommu_shadow_resume(struct kvm_viommu *viommu);
bool kvm_viommu_shadow_pending(struct kvm_viommu *viommu);
void kvm_viommu_charge(struct kvm_viommu *viommu, u64 units);

/* container.c */
int kvm_viommu_container_claim(struct device *dev,
			       struct iommu_domain **domainp);
void kvm_viommu_container_unclaim(struct iommu_domain *domain);
int kvm_viommu_container_init(void);
void kvm_viommu_container_exit(void);

/* identity.c */
int kvm_viommu_identity_map(struct kvm_viommu *viommu,
			    struct kvm_viommu_dev *vdev);

/* attach.c */
int kvm_viommu_attach_device(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_detach_device(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_devices_release(struct kvm_viommu *viommu);
int kvm_viommu_attach_init(void);
void kvm_viommu_attach_exit(void);

#endif /* _KVM_VIOMMU_SHADOW_H_ */
