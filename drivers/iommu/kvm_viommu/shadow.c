// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shadow: each attached device's host IOMMU domain kept equal to what
 * the guest's tables say for it, as far as the guest has invalidated
 * (caching mode: a guest must invalidate after every change, so only
 * invalidations need looking at).
 *
 * A shadow mapping is one guest leaf (4 KiB, 2 MiB or 1 GiB): its guest
 * pages are pinned, charged to the VM's locked_vm, and mapped in the host
 * domain in physically contiguous runs.  An invalidation walks the guest's
 * tables over the invalidated range and compares leaf by leaf: unchanged
 * leaves stay mapped (a device may be using them), changed ones are
 * unmapped and mapped anew, vanished ones are unmapped.  Pages are
 * unpinned only after iommu_unmap(), which flushes the host IOTLB, has
 * returned.  Anything that fails leaves the range unmapped: the device's
 * DMA there faults, it never reaches memory the guest did not give it.
 *
 * Everything here runs under the unit's lock, in process context with the
 * VM's mm usable (a relay ioctl or the queue worker), except the teardown
 * paths, which only unmap and unpin.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"
#include "trace.h"

/*
 * Most guest paging entries one invalidation may read: a guest with more
 * than this behind one domain-wide invalidation gets the rest of that
 * range unmapped (fail closed) and a walk fault counted.
 */
#define KVM_VIOMMU_WALK_BUDGET	BIT(20)

/*
 * Most guest paging entries one queue run reads before it yields (after
 * the descriptor that crossed it): so a guest's storm of domain-wide
 * invalidations over huge or aliased tables holds the unit's lock for a
 * bounded time per run, however long its queue, and the rest waits for
 * the worker's next run.
 */
#define KVM_VIOMMU_RUN_WALK_BUDGET	KVM_VIOMMU_WALK_BUDGET

/*
 * Most guest leaves one unit shadows at a time; more fail closed.  Each
 * costs kernel memory and host IOMMU page tables, which RLIMIT_MEMLOCK
 * does not bound when the VMM has CAP_IPC_LOCK (or, for the memory, when
 * leaves alias one guest page): VFIO type1's dma_entry_limit plays the
 * same part for a VMM's own mappings.  Read at each new leaf.
 */
static unsigned int max_shadow_leaves = 262144;
module_param(max_shadow_leaves, uint, 0644);
MODULE_PARM_DESC(max_shadow_leaves,
		 "Most guest leaves one unit shadows at a time; more fail closed (default: 262144)");

/**
 * struct kvm_viommu_map - one shadowed guest leaf
 * @it: its IOVA range, in the device's interval tree
 * @gpa: guest-physical address of the leaf
 * @gen: the last sync that saw this leaf in the guest's tables
 * @read: the device may read through it
 * @write: the device may write through it
 * @nr_pages: 4 KiB pages pinned
 * @pages: the pinned pages, in IOVA order
 * @stale: on a sync's list of leaves to remove
 */
struct kvm_viommu_map {
	struct interval_tree_node it;
	u64 gpa;
	u64 gen;
	bool read;
	bool write;
	unsigned long nr_pages;
	struct page **pages;
	struct list_head stale;
};

static u64 kvm_viommu_map_size(const struct kvm_viommu_map *map)
{
	return map->it.last - map->it.start + 1;
}

/*
 * Charge (or uncharge) @n pages to the VM's locked_vm.  As VFIO type1
 * does, the limit and the CAP_IPC_LOCK exemption are the VMM's (the unit's
 * owner), not those of whoever runs this: usually the queue worker.
 */
static int kvm_viommu_account(struct kvm_viommu *viommu, unsigned long n,
			      bool inc)
{
	struct mm_struct *mm = viommu->kvm->mm;
	int ret;

	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, n, inc, viommu->owner,
				  inc && has_capability(viommu->owner,
							CAP_IPC_LOCK));
	mmap_write_unlock(mm);
	return ret;
}

/*
 * Pin the host pages behind [@gpa, @gpa + @n pages), charging them to the
 * VM's locked_vm against RLIMIT_MEMLOCK first.
 */
static int kvm_viommu_pin(struct kvm_viommu *viommu, u64 gpa, unsigned long n,
			  bool write, struct page **pages)
{
	unsigned int gup_flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	struct kvm *kvm = viommu->kvm;
	gfn_t gfn = gpa >> PAGE_SHIFT;
	unsigned long done = 0, run, hva;
	int idx, ret;
	long got;

	ret = kvm_viommu_account(viommu, n, true);
	if (ret)
		return ret;
	idx = srcu_read_lock(&kvm->srcu);
	while (done < n) {
		hva = gfn_to_hva(kvm, gfn + done);
		if (kvm_is_error_hva(hva)) {
			ret = -EFAULT;
			break;
		}
		/* As many pages as are contiguous in the VMM's mapping. */
		for (run = 1; done + run < n; run++)
			if (gfn_to_hva(kvm, gfn + done + run) !=
			    hva + run * PAGE_SIZE)
				break;
		got = kvm_viommu_pin_user_pages(hva, run, gup_flags,
						pages + done);
		if (got > 0)
			done += got;
		if (got != run) {
			ret = got < 0 ? got : -EFAULT;
			break;
		}
	}
	srcu_read_unlock(&kvm->srcu, idx);
	if (ret) {
		unpin_user_pages(pages, done);
		kvm_viommu_account(viommu, n, false);
	}
	return ret;
}

static void kvm_viommu_unmap_leaf(struct kvm_viommu *viommu,
				  struct kvm_viommu_dev *vdev,
				  struct kvm_viommu_map *map)
{
	trace_kvm_viommu_shadow(vdev->sid, false, map->it.start,
				kvm_viommu_map_size(map), map->gpa, 0);
	interval_tree_remove(&map->it, &vdev->shadow);
	/* Returns once the host IOTLB no longer holds the range. */
	iommu_unmap(vdev->domain, map->it.start, kvm_viommu_map_size(map));
	unpin_user_pages_dirty_lock(map->pages, map->nr_pages, map->write);
	kvm_viommu_account(viommu, map->nr_pages, false);
	viommu->shadow_stats.unmaps++;
	viommu->shadow_stats.leaves--;
	viommu->shadow_stats.pinned_pages -= map->nr_pages;
	kvfree(map->pages);
	kfree(map);
}

static int kvm_viommu_map_leaf(struct kvm_viommu *viommu,
			       struct kvm_viommu_dev *vdev,
			       const struct vtd_mapping *m)
{
	int prot = (m->read ? IOMMU_READ : 0) | (m->write ? IOMMU_WRITE : 0);
	unsigned long n = m->size >> PAGE_SHIFT, i, run;
	struct kvm_viommu_map *map;
	int ret;

	if (viommu->shadow_stats.leaves >= READ_ONCE(max_shadow_leaves))
		return -ENOSPC;
	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->pages = kvmalloc_array(n, sizeof(*map->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!map->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = kvm_viommu_pin(viommu, m->gpa, n, m->write, map->pages);
	if (ret)
		goto err_free;

	/*
	 * The domain must not map any of it already: that would be a VMM
	 * mapping through its container, against the attach contract, and
	 * intel-iommu WARNs on a mapping over a live entry.
	 */
	for (i = 0; i < n; i++) {
		if (iommu_iova_to_phys(vdev->domain, m->iova + i * PAGE_SIZE)) {
			ret = -EEXIST;
			goto err_unpin;
		}
	}

	/* Physically contiguous runs: iommu_map() picks the page sizes. */
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n; run++)
			if (page_to_pfn(map->pages[i + run]) !=
			    page_to_pfn(map->pages[i]) + run)
				break;
		ret = kvm_viommu_iommu_map(vdev->domain, m->iova + i * PAGE_SIZE,
					   page_to_phys(map->pages[i]),
					   run * PAGE_SIZE, prot);
		if (ret) {
			if (i)
				iommu_unmap(vdev->domain, m->iova,
					    i * PAGE_SIZE);
			goto err_unpin;
		}
	}

	map->it.start = m->iova;
	map->it.last = m->iova + m->size - 1;
	map->gpa = m->gpa;
	map->gen = vdev->gen;
	map->read = m->read;
	map->write = m->write;
	map->nr_pages = n;
	interval_tree_insert(&map->it, &vdev->shadow);
	trace_kvm_viommu_shadow(vdev->sid, true, m->iova, m->size, m->gpa, 0);
	viommu->shadow_stats.maps++;
	viommu->shadow_stats.leaves++;
	viommu->shadow_stats.pinned_pages += n;
	return 0;

err_unpin:
	unpin_user_pages(map->pages, n);
	kvm_viommu_account(viommu, n, false);
err_free:
	kvfree(map->pages);
	kfree(map);
	trace_kvm_viommu_shadow(vdev->sid, true, m->iova, m->size, m->gpa, ret);
	return ret;
}

/* Remove every shadow leaf overlapping [@start, @last]. */
static void kvm_viommu_unmap_range(struct kvm_viommu *viommu,
				   struct kvm_viommu_dev *vdev, u64 start,
				   u64 last)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&vdev->shadow, start, last)))
		kvm_viommu_unmap_leaf(viommu, vdev,
				      container_of(node, struct kvm_viommu_map,
						   it));
}

void kvm_viommu_shadow_clear(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev)
{
	kvm_viommu_unmap_range(viommu, vdev, 0, U64_MAX);
}

struct kvm_viommu_sync {
	struct kvm_viommu *viommu;
	struct kvm_viommu_dev *vdev;
};

/* The walker's callback: one present guest leaf, in IOVA order. */
static int kvm_viommu_sync_leaf(void *opaque, const struct vtd_mapping *m)
{
	struct kvm_viommu_sync *s = opaque;
	struct kvm_viommu_dev *vdev = s->vdev;
	u64 last = m->iova + m->size - 1;
	struct interval_tree_node *node;
	struct kvm_viommu_map *map;

	/* No access left after ANDing R/W down the walk: as if absent. */
	if (!m->read && !m->write)
		return 0;

	node = interval_tree_iter_first(&vdev->shadow, m->iova, last);
	if (node && !interval_tree_iter_next(node, m->iova, last)) {
		map = container_of(node, struct kvm_viommu_map, it);
		if (map->it.start == m->iova && map->it.last == last &&
		    map->gpa == m->gpa && map->read == m->read &&
		    map->write == m->write) {
			map->gen = vdev->gen;
			return 0;
		}
	}
	/* Whatever overlaps is stale: out before the new leaf goes in. */
	kvm_viommu_unmap_range(s->viommu, vdev, m->iova, last);
	if (kvm_viommu_map_leaf(s->viommu, vdev, m)) {
		/*
		 * Over RLIMIT_MEMLOCK or max_shadow_leaves, not guest RAM,
		 * or no host mapping: the leaf stays unmapped.  The guest
		 * learns it from a fault record; the spec has no reason for
		 * host limits, so it gets the nearest: the memory behind a
		 * paging entry is unusable.
		 */
		s->viommu->shadow_stats.pin_failures += m->size >> PAGE_SHIFT;
		if (!vdev->ctx.fpd)
			vtd_record_fault(&s->viommu->vtd, vdev->sid, m->iova,
					 VTD_FR_PAGING_ENTRY_ACCESS, m->write);
	}
	cond_resched();
	return 0;
}

/* Make [@start, @end) of @vdev's shadow match the guest's tables. */
static void kvm_viommu_sync_range(struct kvm_viommu *viommu,
				  struct kvm_viommu_dev *vdev, u64 start,
				  u64 end)
{
	struct kvm_viommu_sync s = { .viommu = viommu, .vdev = vdev };
	u32 budget = KVM_VIOMMU_WALK_BUDGET;
	struct interval_tree_node *node;
	struct kvm_viommu_map *map, *tmp;
	LIST_HEAD(stale);
	int ret;

	if (start >= end)
		return;
	vdev->gen++;
	viommu->shadow_stats.walks++;
	ret = vtd_sl_walk(&viommu->vtd, &vdev->ctx, start, end,
			  kvm_viommu_sync_leaf, &s, &budget);
	viommu->run_walk_reads += KVM_VIOMMU_WALK_BUDGET - budget;
	trace_kvm_viommu_sync(vdev->sid, start, end, ret);
	if (ret) {
		/*
		 * A malformed entry or the budget stopped the walk: what it
		 * did not reach is treated as gone.
		 */
		viommu->shadow_stats.walk_faults++;
		if (ret > 0 && !vdev->ctx.fpd)
			vtd_record_fault(&viommu->vtd, vdev->sid, start, ret,
					 false);
	}

	/* Leaves the walk did not see are gone from the guest's tables. */
	for (node = interval_tree_iter_first(&vdev->shadow, start, end - 1);
	     node; node = interval_tree_iter_next(node, start, end - 1)) {
		map = container_of(node, struct kvm_viommu_map, it);
		if (map->gen != vdev->gen)
			list_add_tail(&map->stale, &stale);
	}
	list_for_each_entry_safe(map, tmp, &stale, stale)
		kvm_viommu_unmap_leaf(viommu, vdev, map);
}

/* A queue run begins: its walks have read nothing yet. */
void kvm_viommu_shadow_run_begin(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	viommu->run_walk_reads = 0;
}

/* Has the current queue run read its share of guest paging entries? */
bool kvm_viommu_shadow_run_spent(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return viommu->run_walk_reads >= KVM_VIOMMU_RUN_WALK_BUDGET;
}

/* Field by field: the struct has padding that memcmp() would compare. */
static bool kvm_viommu_ctx_equal(const struct vtd_context *a,
				 const struct vtd_context *b)
{
	return a->sid == b->sid && a->did == b->did && a->tt == b->tt &&
	       a->levels == b->levels && a->fpd == b->fpd &&
	       a->slptptr == b->slptptr;
}

/*
 * Look @vdev's context up again.  A context that changed, vanished, or
 * that translation no longer goes through takes its whole shadow with it;
 * the guest's next IOTLB invalidation maps what the new context has.
 * Pass-through contexts are not shadowed yet: their device gets nothing.
 */
static void kvm_viommu_refresh_ctx(struct kvm_viommu *viommu,
				   struct kvm_viommu_dev *vdev)
{
	struct vtd_unit *vtd = &viommu->vtd;
	struct vtd_context ctx = {};
	bool valid = false;

	if (vtd_get32(vtd, VTD_GSTS_REG) & VTD_GSTS_TES)
		valid = !vtd_context_lookup(vtd, vdev->sid, &ctx) &&
			ctx.tt != VTD_TT_PASS_THROUGH;
	if (!valid || !vdev->ctx_valid ||
	    !kvm_viommu_ctx_equal(&ctx, &vdev->ctx))
		kvm_viommu_shadow_clear(viommu, vdev);
	vdev->ctx_valid = valid;
	vdev->ctx = ctx;
}

/* Does a context-cache invalidation cover @vdev? */
static bool kvm_viommu_cc_covers(struct kvm_viommu *viommu,
				 struct kvm_viommu_dev *vdev,
				 const struct vtd_cc_inval *inv)
{
	struct vtd_context ctx;
	u16 fmask;

	switch (inv->granularity) {
	case VTD_CC_GLOBAL:
		return true;
	case VTD_CC_DOMAIN:
		/* The domain it had, or the domain it has now. */
		if (vdev->ctx_valid && vdev->ctx.did == inv->did)
			return true;
		return !vtd_context_lookup(&viommu->vtd, vdev->sid, &ctx) &&
		       ctx.did == inv->did;
	case VTD_CC_DEVICE:
		/* FM 1, 2, 3 mask function bits 2, 2:1, 2:0. */
		fmask = (0x7 << (3 - inv->fm)) & 0x7;
		return (vdev->sid | fmask) == (inv->sid | fmask);
	}
	return false;
}

void kvm_viommu_shadow_cc_inval(struct kvm_viommu *viommu,
				const struct vtd_cc_inval *inv)
{
	struct kvm_viommu_dev *vdev;

	lockdep_assert_held(&viommu->lock);
	list_for_each_entry(vdev, &viommu->devices, node)
		if (kvm_viommu_cc_covers(viommu, vdev, inv))
			kvm_viommu_refresh_ctx(viommu, vdev);
}

void kvm_viommu_shadow_iotlb_inval(struct kvm_viommu *viommu,
				   const struct vtd_iotlb_inval *inv)
{
	struct kvm_viommu_dev *vdev;
	u64 start, end;

	lockdep_assert_held(&viommu->lock);
	list_for_each_entry(vdev, &viommu->devices, node) {
		if (!vdev->ctx_valid)
			continue;
		if (inv->granularity != VTD_IOTLB_GLOBAL &&
		    vdev->ctx.did != inv->did)
			continue;
		start = 0;
		end = vtd_context_iova_end(&viommu->vtd, &vdev->ctx);
		if (inv->granularity == VTD_IOTLB_PAGE) {
			start = inv->addr;
			end = min(end, start + ((u64)PAGE_SIZE << inv->am));
		}
		kvm_viommu_sync_range(viommu, vdev, start, end);
	}
}

/* TE changed: every device's context is looked up again (or dropped). */
void kvm_viommu_shadow_translation_changed(struct kvm_viommu *viommu)
{
	bool te = vtd_get32(&viommu->vtd, VTD_GSTS_REG) & VTD_GSTS_TES;
	struct kvm_viommu_dev *vdev;

	lockdep_assert_held(&viommu->lock);
	if (te == viommu->te)
		return;	/* SRTP alone: contexts stay cached until invalidated */
	viommu->te = te;
	list_for_each_entry(vdev, &viommu->devices, node)
		kvm_viommu_refresh_ctx(viommu, vdev);
}
