// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching VFIO devices to a unit.
 *
 * On 6.1 a module cannot get an IOMMU group from a VFIO group file
 * (vfio_file_iommu_group() answers only on SPAPR), so the VMM names the
 * host PCI device and proves it owns it: the device must be bound to
 * vfio-pci and belong to the VFIO group behind the fd it passes
 * (vfio_file_has_dev()).  The device's domain is then its VFIO type1
 * container's, which the unit maps into directly.
 *
 * References: the attachment holds the VMM's group file and device file,
 * and the PCI device.  With the device file held, VFIO counts the device
 * open, so it refuses VFIO_GROUP_UNSET_CONTAINER on the group and keeps
 * the group in its container, and the container's domain alive, whatever
 * the VMM closes or asks first.  A device is attached to at most one unit
 * at a time (kvm_viommu_attached_lock), since two would fight over one
 * domain.
 *
 * Unbinding vfio-pci from an attached device (or removing the device)
 * tears VFIO's domain down under the group file we hold, so a PCI bus
 * notifier detaches the device first: BUS_NOTIFY_UNBIND_DRIVER comes
 * with the device lock held, before the driver's remove().  Attaching
 * holds the same device lock from the vfio-pci check to the claim, so the
 * notifier sees every attachment of a device that is still bound.  The
 * device file is let go of from a worker then (see kvm_viommu_put_work).
 * Lock order: device lock, then the unit's lock, then
 * kvm_viommu_attached_lock.
 */
#include <linux/device.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/llist.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
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

/* @viommu: the unit @dev is attached to; valid while on the list. */
struct kvm_viommu_attached_dev {
	struct list_head node;
	struct device *dev;
	struct kvm_viommu *viommu;
};

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
 * Check that @pdev is vfio-pci's, in @group_file's group, behind
 * @device_file, alone in its IOMMU group, and translated through an
 * unmanaged (VFIO) domain; return that domain.  Called with the device
 * lock held: it keeps vfio-pci bound.
 */
static struct iommu_domain *kvm_viommu_vfio_domain(struct pci_dev *pdev,
						   struct file *group_file,
						   struct file *device_file)
{
	struct iommu_domain *domain = ERR_PTR(-EINVAL);
	struct vfio_pci_core_device *core;
	struct iommu_group *group;
	unsigned int n = 0;

	device_lock_assert(&pdev->dev);
	if (!pdev->dev.driver || strcmp(pdev->dev.driver->name, "vfio-pci"))
		goto out;
	core = dev_get_drvdata(&pdev->dev);
	if (!core || !vfio_file_has_dev(group_file, &core->vdev) ||
	    !kvm_viommu_vfio_is_device_file(device_file, group_file,
					    &core->vdev))
		goto out;
	group = iommu_group_get(&pdev->dev);
	if (!group)
		goto out;
	iommu_group_for_each_dev(group, &n, kvm_viommu_count_dev);
	iommu_group_put(group);
	if (n != 1)
		goto out;
	domain = iommu_get_domain_for_dev(&pdev->dev);
	if (!domain || domain->type != IOMMU_DOMAIN_UNMANAGED)
		domain = ERR_PTR(-EINVAL);
out:
	return domain;
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

/* KVM_VIOMMU_ATTACH_DEVICE */
int kvm_viommu_attach_device(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_attach *cmd = ucmd->cmd;
	struct kvm_viommu_dev *vdev;
	struct iommu_domain *domain;
	struct file *group_file, *device_file;
	struct pci_dev *pdev;
	int ret;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	group_file = fget(cmd->group_fd);
	if (!group_file)
		return -EBADF;
	device_file = fget(cmd->device_fd);
	ret = -EBADF;
	if (!device_file)
		goto err_fput_group;
	ret = -EINVAL;
	if (!vfio_file_is_group(group_file))
		goto err_fput;
	pdev = pci_get_domain_bus_and_slot(cmd->host_segment, cmd->host_bus,
					   cmd->host_devfn);
	ret = -ENODEV;
	if (!pdev)
		goto err_fput;
	/* Held until claimed: see the bus notifier below. */
	device_lock(&pdev->dev);
	domain = kvm_viommu_vfio_domain(pdev, group_file, device_file);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto err_unlock_dev;
	}
	/*
	 * Every IOVA the guest can use must be one the host domain can map,
	 * or its DMA would fault for no reason it can see: the VMM gives
	 * the guest a CAP.MGAW the host's IOMMU can back.
	 */
	ret = -ERANGE;
	if (domain->geometry.force_aperture &&
	    (domain->geometry.aperture_start ||
	     domain->geometry.aperture_end <
	     BIT_ULL(vtd_mgaw(&viommu->vtd)) - 1))
		goto err_unlock_dev;
	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!vdev)
		goto err_unlock_dev;
	vdev->sid = cmd->sid;
	vdev->group_file = group_file;
	vdev->device_file = device_file;
	vdev->dev = &pdev->dev;
	vdev->domain = domain;
	vdev->shadow = RB_ROOT_CACHED;

	mutex_lock(&viommu->lock);
	ret = -EEXIST;
	if (kvm_viommu_find_sid(viommu, cmd->sid))
		goto err_unlock;
	ret = kvm_viommu_claim(viommu, vdev->dev);
	if (ret)
		goto err_unlock;
	list_add_tail(&vdev->node, &viommu->devices);
	viommu->shadow_stats.devices++;
	mutex_unlock(&viommu->lock);
	device_unlock(&pdev->dev);
	return 0;

err_unlock:
	mutex_unlock(&viommu->lock);
	kfree(vdev);
err_unlock_dev:
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
err_fput:
	fput(device_file);
err_fput_group:
	fput(group_file);
	return ret;
}

/*
 * Device files the bus notifier let go of.  The notifier runs in the task
 * that unbinds vfio-pci, which then waits in vfio-pci's remove() until
 * every device fd is released; an fput() there would release ours only
 * as that task's task work, after remove() returned: never.  A worker's
 * fput() is independent of it.  Flushed before the module goes.
 */
static LLIST_HEAD(kvm_viommu_put_list);

static void kvm_viommu_put_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&kvm_viommu_put_list);
	struct kvm_viommu_dev *vdev, *tmp;

	llist_for_each_entry_safe(vdev, tmp, list, put_node) {
		fput(vdev->device_file);
		kfree(vdev);
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
	kvm_viommu_shadow_clear(viommu, vdev);
	list_del(&vdev->node);
	viommu->shadow_stats.devices--;
	kvm_viommu_unclaim(vdev->dev);
	pci_dev_put(to_pci_dev(vdev->dev));
	/* Not the group's last reference: the device file holds one. */
	fput(vdev->group_file);
	if (from_worker) {
		if (llist_add(&vdev->put_node, &kvm_viommu_put_list))
			schedule_work(&kvm_viommu_put_work);
		return;
	}
	fput(vdev->device_file);
	kfree(vdev);
}

/* KVM_VIOMMU_DETACH_DEVICE */
int kvm_viommu_detach_device(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_attach *cmd = ucmd->cmd;
	struct kvm_viommu_dev *vdev;
	int ret = -ENOENT;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;
	mutex_lock(&viommu->lock);
	vdev = kvm_viommu_find_sid(viommu, cmd->sid);
	if (vdev) {
		kvm_viommu_detach(viommu, vdev, false);
		ret = 0;
	}
	mutex_unlock(&viommu->lock);
	return ret;
}

/* The unit is going: detach everything. */
void kvm_viommu_devices_release(struct kvm_viommu *viommu)
{
	struct kvm_viommu_dev *vdev, *tmp;

	mutex_lock(&viommu->lock);
	list_for_each_entry_safe(vdev, tmp, &viommu->devices, node)
		kvm_viommu_detach(viommu, vdev, false);
	mutex_unlock(&viommu->lock);
}

/*
 * A PCI device loses its driver (or goes away): if it is attached, detach
 * it now, while VFIO's domain still exists.  Process context, with the
 * device lock held by the driver core.
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
		/*
		 * A unit whose file count is zero is being released, and its
		 * release detaches the device itself.
		 */
		if (a->dev == dev &&
		    atomic_long_inc_not_zero(&a->viommu->file->f_count))
			viommu = a->viommu;
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
	mutex_unlock(&viommu->lock);
	fput(viommu->file);
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
