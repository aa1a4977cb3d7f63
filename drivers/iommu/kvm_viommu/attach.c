// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching VFIO devices to a unit.
 *
 * The VMM passes the device's VFIO device fd; the device, and so its host
 * PCI address, comes from that file (compat.h).  Any VFIO PCI driver will
 * do, vfio-pci's variant drivers included.  The device must be the only
 * one of its IOMMU group, and its group in a VFIO container of the
 * module's own backend (container.c), whose domain the unit then maps
 * into directly and no one else can: one group per such container, one
 * unit per domain.  A device fd bound through iommufd is refused: iommufd
 * may replace the device's domain at any time.
 *
 * References: the attachment holds the VMM's device file and the PCI
 * device.  With the device file held, VFIO counts the device open, so it
 * refuses VFIO_GROUP_UNSET_CONTAINER on the group and keeps the group in
 * its container, and the container's domain alive, whatever the VMM
 * closes or asks first.
 *
 * Unbinding the VFIO driver from an attached device (or removing the
 * device) tears VFIO's domain down under the file we hold, so a PCI bus
 * notifier detaches the device first: BUS_NOTIFY_UNBIND_DRIVER comes with
 * the device lock held, before the driver's remove().  Attaching holds the
 * same device lock from its checks to the claim, so the notifier sees
 * every attachment of a device that is still bound.  The device file is
 * let go of from a worker then (see kvm_viommu_put_work).
 *
 * Lock order: device lock, then the unit's lock, then
 * kvm_viommu_attached_lock or kvm_viommu_containers_lock (container.c
 * gives the whole order around VFIO's locks).
 */
#include <linux/device.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/llist.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

/*
 * kvm_viommu_attached_lock protects kvm_viommu_attached, the host devices
 * attached to any unit.  Process context only; taken inside a unit's lock
 * (and alone by the bus notifier).
 */
static DEFINE_MUTEX(kvm_viommu_attached_lock);
static LIST_HEAD(kvm_viommu_attached);

/*
 * @viommu: the unit @dev is attached to; valid while on the list (the
 * unit's release takes the entry off before it drops its file's
 * reference).
 */
struct kvm_viommu_attached_dev {
	struct list_head node;
	struct device *dev;
	struct kvm_viommu *viommu;
};

/* Record that @dev now belongs to @viommu. */
static int kvm_viommu_claim(struct kvm_viommu *viommu, struct device *dev)
{
	struct kvm_viommu_attached_dev *a;
	int ret = 0;

	mutex_lock(&kvm_viommu_attached_lock);
	list_for_each_entry(a, &kvm_viommu_attached, node) {
		if (a->dev == dev) {
			ret = -EEXIST;
			goto out;
		}
	}
	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a) {
		ret = -ENOMEM;
		goto out;
	}
	a->dev = dev;
	a->viommu = viommu;
	list_add(&a->node, &kvm_viommu_attached);
out:
	mutex_unlock(&kvm_viommu_attached_lock);
	return ret;
}

static void kvm_viommu_unclaim(struct device *dev)
{
	struct kvm_viommu_attached_dev *a;

	mutex_lock(&kvm_viommu_attached_lock);
	list_for_each_entry(a, &kvm_viommu_attached, node) {
		if (a->dev == dev) {
			list_del(&a->node);
			kfree(a);
			break;
		}
	}
	mutex_unlock(&kvm_viommu_attached_lock);
}

static int kvm_viommu_count_dev(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/*
 * The IOVA ranges the host reserves for @dev's group (the MSI window,
 * RMRRs, ...), which no guest leaf may use, as VFIO type1 refuses them to
 * the VMM's own mappings.  Relaxable direct mappings (USB and graphics
 * RMRRs) are the host's to give up for an assigned device, as in type1.
 */
static int kvm_viommu_get_resv(struct kvm_viommu_dev *vdev,
			       struct iommu_group *group)
{
	struct iommu_resv_region *r, *tmp;
	LIST_HEAD(regions);
	unsigned int n = 0;
	int ret;

	ret = iommu_get_group_resv_regions(group, &regions);
	if (ret)
		goto out;
	list_for_each_entry(r, &regions, list)
		if (r->type != IOMMU_RESV_DIRECT_RELAXABLE && r->length)
			n++;
	vdev->resv = kcalloc(n, sizeof(*vdev->resv), GFP_KERNEL_ACCOUNT);
	if (n && !vdev->resv) {
		ret = -ENOMEM;
		goto out;
	}
	list_for_each_entry(r, &regions, list) {
		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE || !r->length)
			continue;
		vdev->resv[vdev->nr_resv].start = r->start;
		vdev->resv[vdev->nr_resv].last = r->start + r->length - 1;
		vdev->nr_resv++;
	}
out:
	list_for_each_entry_safe(r, tmp, &regions, list)
		kfree(r);
	return ret;
}

/*
 * Check that the device is alone in its IOMMU group, note its reserved
 * ranges, and take its domain: the one of its container of this module's
 * backend, if it can map every IOVA the unit's guest may use.  Called
 * with the device lock held: it keeps the VFIO driver bound.  On success
 * the caller owns the claim on the domain (kvm_viommu_container_unclaim()).
 */
static int kvm_viommu_check_domain(struct kvm_viommu *viommu,
				   struct kvm_viommu_dev *vdev)
{
	struct iommu_domain *domain;
	struct iommu_group *group;
	unsigned int n = 0;
	int ret;

	device_lock_assert(vdev->dev);
	if (!vdev->dev->driver)
		return -EINVAL;
	group = iommu_group_get(vdev->dev);
	if (!group)
		return -EINVAL;
	iommu_group_for_each_dev(group, &n, kvm_viommu_count_dev);
	ret = n == 1 ? kvm_viommu_get_resv(vdev, group) : -EINVAL;
	iommu_group_put(group);
	if (ret)
		return ret;

	ret = kvm_viommu_container_claim(vdev->dev, &domain);
	if (ret)
		return ret;
	/*
	 * Every IOVA the guest can use must be one the host domain can map,
	 * or its DMA would fault for no reason it can see: the VMM gives
	 * the guest a CAP.MGAW the host's IOMMU can back.
	 */
	if (domain->geometry.force_aperture &&
	    (domain->geometry.aperture_start ||
	     domain->geometry.aperture_end <
	     BIT_ULL(vtd_mgaw(&viommu->vtd)) - 1)) {
		kvm_viommu_container_unclaim(domain);
		return -ERANGE;
	}
	vdev->domain = domain;
	return 0;
}

static struct kvm_viommu_dev *kvm_viommu_find_sid(struct kvm_viommu *viommu,
						  u16 sid)
{
	struct kvm_viommu_dev *vdev;

	list_for_each_entry(vdev, &viommu->devices, node)
		if (vdev->sid == sid)
			return vdev;
	return NULL;
}

/* The device behind @file, a VFIO device file of a PCI device, or -errno. */
static struct device *kvm_viommu_vfio_pci_dev(struct file *file)
{
	struct vfio_device *vfio = kvm_viommu_vfio_device(file);

	if (!vfio || !vfio->dev || !dev_is_pci(vfio->dev))
		return ERR_PTR(-EINVAL);
	if (kvm_viommu_vfio_uses_iommufd(vfio))
		return ERR_PTR(-EOPNOTSUPP);
	return vfio->dev;
}

static void kvm_viommu_free_vdev(struct kvm_viommu_dev *vdev)
{
	kfree(vdev->resv);
	kfree(vdev);
}

static void kvm_viommu_detach(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev, bool from_worker);

/* KVM_VIOMMU_ATTACH_DEVICE */
int kvm_viommu_attach_device(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_attach *cmd = ucmd->cmd;
	struct kvm_viommu_dev *vdev, *other;
	struct file *device_file;
	struct device *dev;
	u64 id;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	device_file = fget(cmd->device_fd);
	if (!device_file)
		return -EBADF;
	/* The device file keeps the vfio_device, and so @dev, alive. */
	dev = kvm_viommu_vfio_pci_dev(device_file);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto err_fput;
	}
	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL_ACCOUNT);
	if (!vdev) {
		ret = -ENOMEM;
		goto err_fput;
	}
	vdev->sid = cmd->sid;
	vdev->device_file = device_file;
	vdev->dev = dev;

	/* Held until claimed: see the bus notifier below. */
	device_lock(dev);
	ret = kvm_viommu_check_domain(viommu, vdev);
	if (ret)
		goto err_unlock_dev;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		goto err_unclaim_domain;
	ret = -EEXIST;
	if (kvm_viommu_find_sid(viommu, cmd->sid))
		goto err_unlock;
	ret = kvm_viommu_claim(viommu, dev);
	if (ret)
		goto err_unlock;
	get_device(dev);
	vdev->attach_id = ++viommu->attach_seq;
	vdev->attaching = true;
	vdev->shadow = RB_ROOT_CACHED;
	vdev->doomed = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&vdev->stranded);
	list_add_tail(&vdev->node, &viommu->devices);
	viommu->cnt.devices++;
	id = vdev->attach_id;
	kvm_viommu_unlock(viommu);
	device_unlock(dev);

	/*
	 * Shadow what the guest has for it now, which for translation off
	 * means pinning all of guest RAM: seconds for a large guest, so not
	 * under the device lock, which an administrator's unbind waits for.
	 * The device may be gone again already (that unbind), and the sid
	 * even attached anew: @vdev may be freed, only the id tells.  Not
	 * killable: a device is never left attached without its shadow
	 * (the walk itself stops for a fatal signal).
	 */
	mutex_lock(&viommu->lock);
	other = kvm_viommu_find_sid(viommu, cmd->sid);
	if (other && other->attach_id == id) {
		other->attaching = false;
		ret = kvm_viommu_shadow_attach(viommu, other);
		/* Undone as a detach would: unmapped, unpinned, let go. */
		if (ret)
			kvm_viommu_detach(viommu, other, false);
	} else {
		ret = -ENODEV;
	}
	kvm_viommu_unlock(viommu);
	return ret;

err_unlock:
	kvm_viommu_unlock(viommu);
err_unclaim_domain:
	kvm_viommu_container_unclaim(vdev->domain);
err_unlock_dev:
	device_unlock(dev);
	kvm_viommu_free_vdev(vdev);
err_fput:
	fput(device_file);
	return ret;
}

/*
 * Device files the bus notifier let go of.  The notifier runs in the task
 * that unbinds the driver, which then waits in the VFIO driver's remove()
 * until every device fd is released; an fput() there would release ours
 * only as that task's task work, after remove() returned: never.  A
 * worker's fput() is independent of it.  Flushed before the module goes.
 */
static LLIST_HEAD(kvm_viommu_put_list);

static void kvm_viommu_put_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&kvm_viommu_put_list);
	struct kvm_viommu_dev *vdev, *tmp;

	llist_for_each_entry_safe(vdev, tmp, list, put_node) {
		fput(vdev->device_file);
		kvm_viommu_free_vdev(vdev);
	}
}

static DECLARE_WORK(kvm_viommu_put_work, kvm_viommu_put_fn);

/*
 * Called with the unit's lock held: unmap, unpin, drop references.  With
 * @from_worker, the device file (and @vdev) go from kvm_viommu_put_work.
 */
static void kvm_viommu_detach(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev, bool from_worker)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_shadow_detach(viommu, vdev);
	list_del(&vdev->node);
	viommu->cnt.devices--;
	kvm_viommu_container_unclaim(vdev->domain);
	kvm_viommu_unclaim(vdev->dev);
	put_device(vdev->dev);
	if (from_worker) {
		if (llist_add(&vdev->put_node, &kvm_viommu_put_list))
			schedule_work(&kvm_viommu_put_work);
		return;
	}
	fput(vdev->device_file);
	kvm_viommu_free_vdev(vdev);
}

/* KVM_VIOMMU_DETACH_DEVICE */
int kvm_viommu_detach_device(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_attach *cmd = ucmd->cmd;
	struct kvm_viommu_dev *vdev;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	vdev = kvm_viommu_find_sid(viommu, cmd->sid);
	if (vdev)
		kvm_viommu_detach(viommu, vdev, false);
	else
		ret = -ENOENT;
	kvm_viommu_unlock(viommu);
	return ret;
}

/* The unit is going: detach everything. */
void kvm_viommu_devices_release(struct kvm_viommu *viommu)
{
	struct kvm_viommu_dev *vdev, *tmp;

	mutex_lock(&viommu->lock);
	list_for_each_entry_safe(vdev, tmp, &viommu->devices, node)
		kvm_viommu_detach(viommu, vdev, false);
	kvm_viommu_unlock(viommu);
}

/*
 * A PCI device loses its driver (or goes away): if it is attached, detach
 * it now, while VFIO's domain still exists.  Process context; the driver
 * core holds the device lock for BUS_NOTIFY_UNBIND_DRIVER (not for
 * BUS_NOTIFY_DEL_DEVICE, which comes after any unbind).
 */
static int kvm_viommu_pci_notify(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct kvm_viommu *viommu = NULL;
	struct kvm_viommu_attached_dev *a;
	struct kvm_viommu_dev *vdev;
	struct device *dev = data;

	if (action != BUS_NOTIFY_UNBIND_DRIVER &&
	    action != BUS_NOTIFY_DEL_DEVICE)
		return NOTIFY_DONE;

	mutex_lock(&kvm_viommu_attached_lock);
	list_for_each_entry(a, &kvm_viommu_attached, node) {
		if (a->dev == dev) {
			/* Listed, so its file's reference is not gone yet. */
			viommu = a->viommu;
			kvm_viommu_get(viommu);
		}
	}
	mutex_unlock(&kvm_viommu_attached_lock);
	if (!viommu)
		return NOTIFY_DONE;

	mutex_lock(&viommu->lock);
	list_for_each_entry(vdev, &viommu->devices, node) {
		if (vdev->dev == dev) {
			dev_info(dev, "kvm_viommu: driver going: detached from unit %u\n",
				 viommu->id);
			kvm_viommu_detach(viommu, vdev, true);
			break;
		}
	}
	kvm_viommu_unlock(viommu);
	kvm_viommu_put(viommu);
	return NOTIFY_OK;
}

static struct notifier_block kvm_viommu_pci_nb = {
	.notifier_call = kvm_viommu_pci_notify,
};

int kvm_viommu_attach_init(void)
{
	return bus_register_notifier(&pci_bus_type, &kvm_viommu_pci_nb);
}

void kvm_viommu_attach_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &kvm_viommu_pci_nb);
	flush_work(&kvm_viommu_put_work);
}
