// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO IOMMU backend of the module's own: the host domain a unit shadows
 * into.
 *
 * A unit maps and unmaps a device's host IOMMU domain directly.  That is
 * only safe if no one else can: a VFIO type1 container's domain, say,
 * stays open to the VMM's VFIO_IOMMU_MAP_DMA and _UNMAP_DMA, and type1,
 * which cannot see the unit's mappings, then unpins what the unit pinned
 * (an unmap over a unit's superpage returns 2 MiB, and type1 unpins every
 * page it finds there).  So the VMM puts the device's group in a container
 * of this backend (VFIO_SET_IOMMU with KVM_VIOMMU_VFIO_IOMMU): it allocates
 * a domain for the group, attaches it, and refuses every map and unmap
 * from userspace.  A container of this kind holds one group, and its
 * domain is a unit's alone once attached.
 *
 * VFIO calls these ops with its container and group locks held, in the
 * VMM's process context.  kvm_viommu_containers_lock protects the list of
 * this backend's containers and their fields, which units look domains up
 * in.  Process context only.  Lock order, outermost first: VFIO's
 * container and group locks (these ops) or a device's lock (attach's
 * claim), then a unit's lock (detach's unclaim), then
 * kvm_viommu_containers_lock, then the IOMMU group's own mutex
 * (iommu_get_group_resv_regions() under it).
 */
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

/**
 * struct kvm_viommu_container - one VFIO container of this backend
 * @node: in kvm_viommu_containers
 * @group: the one IOMMU group attached, or NULL
 * @domain: its domain, allocated at the group's attach, freed at detach
 * @coherent: the domain enforces cache coherency (no-snoop ignored)
 * @unit_attached: a unit maps into @domain (set and cleared by attach.c)
 */
struct kvm_viommu_container {
	struct list_head node;
	struct iommu_group *group;
	struct iommu_domain *domain;
	bool coherent;
	bool unit_attached;
};

static LIST_HEAD(kvm_viommu_containers);
static DEFINE_MUTEX(kvm_viommu_containers_lock);

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Give a domain to a device even where the host cannot isolate its MSIs (as vfio_iommu_type1's parameter; default: no)");

static void *kvm_viommu_container_open(unsigned long arg)
{
	struct kvm_viommu_container *c;

	if (arg != KVM_VIOMMU_VFIO_IOMMU)
		return ERR_PTR(-EINVAL);
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&kvm_viommu_containers_lock);
	list_add(&c->node, &kvm_viommu_containers);
	mutex_unlock(&kvm_viommu_containers_lock);
	return c;
}

static void kvm_viommu_container_release(void *data)
{
	struct kvm_viommu_container *c = data;

	mutex_lock(&kvm_viommu_containers_lock);
	list_del(&c->node);
	mutex_unlock(&kvm_viommu_containers_lock);
	/* VFIO detaches every group before it releases the container. */
	WARN_ON_ONCE(c->group);
	kfree(c);
}

static int kvm_viommu_first_dev(struct device *dev, void *data)
{
	*(struct device **)data = dev;
	return 1;
}

static int kvm_viommu_container_attach_group(void *data,
					     struct iommu_group *group,
					     enum kvm_viommu_vfio_group_type type)
{
	struct kvm_viommu_container *c = data;
	struct iommu_domain *domain;
	struct device *dev = NULL;
	int ret;

	/* Emulated (mdev) and no-IOMMU groups have no domain to give. */
	if (type != KVM_VIOMMU_VFIO_GROUP_IOMMU)
		return -EINVAL;
	/* One group: the domain serves the unit's device alone. */
	if (c->group)
		return -EBUSY;
	iommu_group_for_each_dev(group, &dev, kvm_viommu_first_dev);
	if (!dev)
		return -ENODEV;
	/* As type1: a device that can forge host interrupts is refused. */
	if (!kvm_viommu_group_isolates_msi(group) &&
	    !READ_ONCE(allow_unsafe_interrupts)) {
		dev_warn(dev, "kvm_viommu: no interrupt remapping: refused; the module parameter allow_unsafe_interrupts allows it\n");
		return -EPERM;
	}
	domain = kvm_viommu_domain_alloc(dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	ret = iommu_attach_group(domain, group);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}
	mutex_lock(&kvm_viommu_containers_lock);
	c->group = group;
	c->domain = domain;
	c->coherent = domain->ops->enforce_cache_coherency &&
		      domain->ops->enforce_cache_coherency(domain);
	mutex_unlock(&kvm_viommu_containers_lock);
	return 0;
}

/*
 * VFIO detaches the group only once no device of it is open, and a unit
 * holds its device's file while attached: no unit maps into the domain.
 */
static void kvm_viommu_container_detach_group(void *data,
					      struct iommu_group *group)
{
	struct kvm_viommu_container *c = data;
	struct iommu_domain *domain;

	mutex_lock(&kvm_viommu_containers_lock);
	if (WARN_ON_ONCE(c->group != group || c->unit_attached)) {
		mutex_unlock(&kvm_viommu_containers_lock);
		return;
	}
	domain = c->domain;
	c->group = NULL;
	c->domain = NULL;
	mutex_unlock(&kvm_viommu_containers_lock);
	iommu_detach_group(domain, group);
	iommu_domain_free(domain);
}

/*
 * The usable IOVA ranges, in VFIO type1's capability format, so that a VMM
 * picks the unit's CAP.MGAW the same way for either backend: the
 * domain's aperture less the group's reserved regions.
 */
static int kvm_viommu_container_iova_caps(struct kvm_viommu_container *c,
					  struct vfio_info_cap *caps)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_info_cap_header *header;
	struct iommu_resv_region *r, *tmp;
	u64 start, end, next;
	LIST_HEAD(regions);
	u32 n = 0, i;
	int ret;

	if (!c->domain)
		return 0;
	ret = iommu_get_group_resv_regions(c->group, &regions);
	if (ret)
		goto out;
	list_for_each_entry(r, &regions, list)
		n++;
	header = vfio_info_cap_add(caps, struct_size(cap, iova_ranges, n + 1),
				   VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (IS_ERR(header)) {
		ret = PTR_ERR(header);
		goto out;
	}
	cap = container_of(header, struct vfio_iommu_type1_info_cap_iova_range,
			   header);
	/* Regions come sorted by start; carve them out of the aperture. */
	start = c->domain->geometry.aperture_start;
	end = c->domain->geometry.aperture_end;
	i = 0;
	list_for_each_entry(r, &regions, list) {
		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE || !r->length ||
		    r->start > end || r->start + r->length - 1 < start)
			continue;
		if (r->start > start) {
			cap->iova_ranges[i].start = start;
			cap->iova_ranges[i].end = r->start - 1;
			i++;
		}
		/* A region running to the top of the space ends the list. */
		if (check_add_overflow(r->start, (u64)r->length, &next) ||
		    !next) {
			start = 0;
			break;
		}
		if (next > start)
			start = next;
		if (start > end)
			break;
	}
	if (start && start <= end) {
		cap->iova_ranges[i].start = start;
		cap->iova_ranges[i].end = end;
		i++;
	}
	cap->nr_iovas = i;
out:
	list_for_each_entry_safe(r, tmp, &regions, list)
		kfree(r);
	return ret;
}

/* VFIO_IOMMU_GET_INFO: page sizes and usable IOVA ranges, as type1 says. */
static long kvm_viommu_container_get_info(struct kvm_viommu_container *c,
					  unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	unsigned long capsz = offsetofend(struct vfio_iommu_type1_info,
					  cap_offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_iommu_type1_info info;
	int ret;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	mutex_lock(&kvm_viommu_containers_lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = c->domain ? c->domain->pgsize_bitmap : 0;
	ret = kvm_viommu_container_iova_caps(c, &caps);
	mutex_unlock(&kvm_viommu_containers_lock);
	if (ret)
		goto out;
	if (caps.size && minsz == capsz) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user((void __user *)arg + sizeof(info),
					 caps.buf, caps.size)) {
				ret = -EFAULT;
				goto out;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(caps.buf);
	return ret;
}

static long kvm_viommu_container_ioctl(void *data, unsigned int cmd,
				       unsigned long arg)
{
	struct kvm_viommu_container *c = data;
	long ret;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
		if (arg == KVM_VIOMMU_VFIO_IOMMU)
			return 1;
		if (arg != VFIO_DMA_CC_IOMMU || !c)
			return 0;
		mutex_lock(&kvm_viommu_containers_lock);
		ret = c->coherent;
		mutex_unlock(&kvm_viommu_containers_lock);
		return ret;
	case VFIO_IOMMU_GET_INFO:
		return kvm_viommu_container_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
	case VFIO_IOMMU_UNMAP_DMA:
		/* The domain is the unit's: the VMM maps nothing itself. */
		return -EPERM;
	}
	return -ENOTTY;
}

static const struct kvm_viommu_vfio_iommu_driver_ops kvm_viommu_container_ops = {
	.name = "kvm-viommu",
	.owner = THIS_MODULE,
	.open = kvm_viommu_container_open,
	.release = kvm_viommu_container_release,
	.ioctl = kvm_viommu_container_ioctl,
	.attach_group = kvm_viommu_container_attach_group,
	.detach_group = kvm_viommu_container_detach_group,
};

/**
 * kvm_viommu_container_claim() - take a device's domain for a unit
 * @dev: the device; its VFIO device file is held open by the caller
 * @domainp: out: its domain
 *
 * The device's group must be in a container of this backend, whose domain
 * no unit has taken yet.
 *
 * Return: 0; -EINVAL if the device's domain is not this backend's (a type1
 * container, iommufd, none); -EEXIST if a unit has it already.
 */
int kvm_viommu_container_claim(struct device *dev,
			       struct iommu_domain **domainp)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	struct kvm_viommu_container *c;
	int ret = -EINVAL;

	mutex_lock(&kvm_viommu_containers_lock);
	list_for_each_entry(c, &kvm_viommu_containers, node) {
		if (!domain || c->domain != domain)
			continue;
		ret = c->unit_attached ? -EEXIST : 0;
		if (!ret) {
			c->unit_attached = true;
			*domainp = domain;
		}
		break;
	}
	mutex_unlock(&kvm_viommu_containers_lock);
	return ret;
}

/* The unit let go of @domain (detach, after its last unmap). */
void kvm_viommu_container_unclaim(struct iommu_domain *domain)
{
	struct kvm_viommu_container *c;

	mutex_lock(&kvm_viommu_containers_lock);
	list_for_each_entry(c, &kvm_viommu_containers, node) {
		if (c->domain == domain) {
			c->unit_attached = false;
			break;
		}
	}
	mutex_unlock(&kvm_viommu_containers_lock);
}

int kvm_viommu_container_init(void)
{
	return kvm_viommu_vfio_register_iommu_driver(&kvm_viommu_container_ops);
}

void kvm_viommu_container_exit(void)
{
	kvm_viommu_vfio_unregister_iommu_driver(&kvm_viommu_container_ops);
}
