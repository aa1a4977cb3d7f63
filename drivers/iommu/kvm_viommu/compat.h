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
#include <linux/irqdomain.h>
#include <linux/kvm_host.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/string.h>
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

/* 6.3 made vma->vm_flags read-only behind vm_flags_mod(). */
static inline void kvm_viommu_vma_set_flags(struct vm_area_struct *vma,
					    unsigned long set,
					    unsigned long clear)
{
#ifdef KVM_VIOMMU_HAVE_VM_FLAGS_CLEAR
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
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
 * The vfio_device behind a VFIO device file, or NULL if @file is not one.
 * No kernel we build for exports this; upstream would add a
 * vfio_file_device() beside vfio_file_is_valid() and this would go.
 *
 * Where vfio_file_is_valid() is exported, a valid VFIO file that is not a
 * group is a device file, whose private_data is VFIO's private struct
 * vfio_device_file, with the device as its first member.  That holds from
 * 6.6 (the device cdev series); 6.2 to 6.5 export the function for group
 * files only, so there every device fd is refused (EINVAL): attach fails
 * closed, nothing worse.
 *
 * 6.1 exports no test for device files.  There vfio.ko makes three kinds
 * of file: groups (vfio_file_is_group()), the container (/dev/vfio/vfio,
 * a character device) and devices, each an anonymous inode named
 * "[vfio-device]" whose private_data is the vfio_device itself.  No other
 * file in the tree has that name.
 */
static inline struct vfio_device *kvm_viommu_vfio_device(struct file *file)
{
#ifdef KVM_VIOMMU_HAVE_VFIO_FILE_IS_VALID
	if (!vfio_file_is_valid(file) || vfio_file_is_group(file))
		return NULL;
	return *(struct vfio_device **)file->private_data;
#else
	struct module *owner = file->f_op ? file->f_op->owner : NULL;

	if (file_inode(file)->i_sb->s_magic != ANON_INODE_FS_MAGIC ||
	    strcmp(file->f_path.dentry->d_name.name, "[vfio-device]"))
		return NULL;
	if (IS_MODULE(CONFIG_VFIO) && (!owner || strcmp(owner->name, "vfio")))
		return NULL;
	return file->private_data;
#endif
}

/*
 * Is @vdev bound through iommufd (a cdev device fd, or a group in an
 * iommufd-backed container)?  Then iommufd may replace the device's
 * domain under the unit at any time; such devices are refused.  Before
 * iommufd (6.1) never.
 */
static inline bool kvm_viommu_vfio_uses_iommufd(struct vfio_device *vdev)
{
#ifdef KVM_VIOMMU_HAVE_VFIO_IOMMUFD_DEVICE_ICTX
	return vfio_iommufd_device_ictx(vdev);
#else
	return false;
#endif
}

/*
 * A paging domain for @dev.  6.11 added iommu_paging_domain_alloc(), which
 * returns an ERR_PTR; iommu_domain_alloc() by bus returns NULL.
 */
static inline struct iommu_domain *kvm_viommu_domain_alloc(struct device *dev)
{
#ifdef KVM_VIOMMU_HAVE_IOMMU_PAGING_DOMAIN_ALLOC
	return iommu_paging_domain_alloc(dev);
#else
	return iommu_domain_alloc(dev->bus) ?: ERR_PTR(-ENOMEM);
#endif
}

/*
 * Can no device of @group forge an MSI that reaches another's interrupt
 * (interrupt remapping, or an MSI controller that isolates)?  VFIO type1
 * asks before it gives a group a domain; 6.3 turned its two questions
 * into iommu_group_has_isolated_msi().
 */
#ifndef KVM_VIOMMU_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
static inline int kvm_viommu_dev_intr_remap(struct device *dev, void *data)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

static inline bool kvm_viommu_group_isolates_msi(struct iommu_group *group)
{
#ifdef KVM_VIOMMU_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       iommu_group_for_each_dev(group, NULL,
					kvm_viommu_dev_intr_remap);
#endif
}

/*
 * The backend below plugs into the VFIO container (/dev/vfio/vfio), which
 * 6.2 made optional: a kernel without it (iommufd only) has no
 * vfio_register_iommu_driver() to link against.  CONFIG_VFIO_CONTAINER
 * does not exist before 6.2 (the container was always built): there the
 * probe of vfio_file_is_valid() fails too.
 */
#if defined(KVM_VIOMMU_HAVE_VFIO_FILE_IS_VALID) && \
	!IS_ENABLED(CONFIG_VFIO_CONTAINER)
#error "kvm_viommu needs CONFIG_VFIO_CONTAINER: its domains are VFIO container backends"
#endif

/*
 * A VFIO IOMMU backend (container.c).  VFIO exports the registration, for
 * its own type1 and SPAPR modules, but keeps the ops struct and the group
 * type in its private drivers/vfio/vfio.h.  Here is that layout as 6.1
 * has it; 6.12's is the same without the last member, which it never
 * reads.  Upstream would move the struct to <linux/vfio.h> (or let a
 * module own an iommufd HWPT instead), and this would go.
 */
enum kvm_viommu_vfio_group_type {
	KVM_VIOMMU_VFIO_GROUP_IOMMU,		/* VFIO_IOMMU */
	KVM_VIOMMU_VFIO_GROUP_EMULATED,		/* VFIO_EMULATED_IOMMU */
	KVM_VIOMMU_VFIO_GROUP_NO_IOMMU,		/* VFIO_NO_IOMMU */
};

struct kvm_viommu_vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum kvm_viommu_vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
	void (*notify)(void *iommu_data, unsigned int event);	/* 6.1 only */
};

struct vfio_iommu_driver_ops;
int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

static inline int
kvm_viommu_vfio_register_iommu_driver(const struct kvm_viommu_vfio_iommu_driver_ops *ops)
{
	return vfio_register_iommu_driver((const void *)ops);
}

static inline void
kvm_viommu_vfio_unregister_iommu_driver(const struct kvm_viommu_vfio_iommu_driver_ops *ops)
{
	vfio_unregister_iommu_driver((const void *)ops);
}

/*
 * KVM's write tracking of one guest page (track.c).  Debian builds 6.1 and
 * 6.12 with CONFIG_KVM_EXTERNAL_WRITE_TRACKING, which lets a module use
 * it; 6.7 reworked the API:
 *
 *  - 6.1 tracks a gfn of a memslot the caller looked up under kvm->srcu,
 *    with kvm->mmu_lock held for write; its notifier is told the writing
 *    vCPU, and a slot that goes (deleted or moved) through
 *    ->track_flush_slot();
 *  - 6.12 has kvm_write_track_add_gfn() do all that; its notifier is told
 *    no vCPU, a slot that goes through ->track_remove_region(), and
 *    registering one needs the VM's own process (-ESRCH otherwise).
 *
 * The unit's callbacks, kvm_viommu_track_write() and
 * kvm_viommu_track_slot_gone(), take the node, the written gpa and bytes,
 * and the range of gfns that went.
 */
void kvm_viommu_track_write(struct kvm_page_track_notifier_node *node,
			    gpa_t gpa, const u8 *new, int bytes);
void kvm_viommu_track_slot_gone(struct kvm_page_track_notifier_node *node,
				gfn_t gfn, unsigned long nr_pages);

#if !IS_ENABLED(CONFIG_KVM_EXTERNAL_WRITE_TRACKING)
/* No write tracking for modules: no sidecore (EOPNOTSUPP). */
static inline void
kvm_viommu_track_node_init(struct kvm_page_track_notifier_node *node)
{
}

static inline int
kvm_viommu_track_register(struct kvm *kvm,
			  struct kvm_page_track_notifier_node *node)
{
	return -EOPNOTSUPP;
}

static inline int kvm_viommu_track_gfn(struct kvm *kvm, gfn_t gfn, bool on)
{
	return -EOPNOTSUPP;
}

static inline void
kvm_viommu_track_unregister(struct kvm *kvm,
			    struct kvm_page_track_notifier_node *node)
{
}
#elif defined(KVM_VIOMMU_HAVE_KVM_WRITE_TRACK_ADD_GFN)
static inline void
kvm_viommu_track_write_cb(gpa_t gpa, const u8 *new, int bytes,
			  struct kvm_page_track_notifier_node *node)
{
	kvm_viommu_track_write(node, gpa, new, bytes);
}

static inline void
kvm_viommu_track_remove_cb(gfn_t gfn, unsigned long nr_pages,
			   struct kvm_page_track_notifier_node *node)
{
	kvm_viommu_track_slot_gone(node, gfn, nr_pages);
}

static inline void
kvm_viommu_track_node_init(struct kvm_page_track_notifier_node *node)
{
	node->track_write = kvm_viommu_track_write_cb;
	node->track_remove_region = kvm_viommu_track_remove_cb;
}

static inline int
kvm_viommu_track_register(struct kvm *kvm,
			  struct kvm_page_track_notifier_node *node)
{
	return kvm_page_track_register_notifier(kvm, node);
}

/* 0, or -EINVAL if no memslot holds @gfn. */
static inline int kvm_viommu_track_gfn(struct kvm *kvm, gfn_t gfn, bool on)
{
	return on ? kvm_write_track_add_gfn(kvm, gfn) :
		    kvm_write_track_remove_gfn(kvm, gfn);
}
#else
static inline void
kvm_viommu_track_write_cb(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new,
			  int bytes, struct kvm_page_track_notifier_node *node)
{
	kvm_viommu_track_write(node, gpa, new, bytes);
}

static inline void
kvm_viommu_track_flush_cb(struct kvm *kvm, struct kvm_memory_slot *slot,
			  struct kvm_page_track_notifier_node *node)
{
	kvm_viommu_track_slot_gone(node, slot->base_gfn, slot->npages);
}

static inline void
kvm_viommu_track_node_init(struct kvm_page_track_notifier_node *node)
{
	node->track_write = kvm_viommu_track_write_cb;
	node->track_flush_slot = kvm_viommu_track_flush_cb;
}

static inline int
kvm_viommu_track_register(struct kvm *kvm,
			  struct kvm_page_track_notifier_node *node)
{
	kvm_page_track_register_notifier(kvm, node);
	return 0;
}

static inline int kvm_viommu_track_gfn(struct kvm *kvm, gfn_t gfn, bool on)
{
	struct kvm_memory_slot *slot;
	int idx, ret = 0;

	idx = srcu_read_lock(&kvm->srcu);
	slot = gfn_to_memslot(kvm, gfn);
	if (!slot) {
		ret = -EINVAL;
		goto out;
	}
	write_lock(&kvm->mmu_lock);
	if (on)
		kvm_slot_page_track_add_page(kvm, slot, gfn,
					     KVM_PAGE_TRACK_WRITE);
	else
		kvm_slot_page_track_remove_page(kvm, slot, gfn,
						KVM_PAGE_TRACK_WRITE);
	write_unlock(&kvm->mmu_lock);
out:
	srcu_read_unlock(&kvm->srcu, idx);
	return ret;
}
#endif

#if IS_ENABLED(CONFIG_KVM_EXTERNAL_WRITE_TRACKING)
static inline void
kvm_viommu_track_unregister(struct kvm *kvm,
			    struct kvm_page_track_notifier_node *node)
{
	kvm_page_track_unregister_notifier(kvm, node);
}
#endif

#endif /* _KVM_VIOMMU_COMPAT_H_ */
