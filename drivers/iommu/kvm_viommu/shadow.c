// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shadow: each attached device's host IOMMU domain kept equal to what
 * the guest's tables say for it, as far as the guest has invalidated
 * (caching mode: a guest must invalidate after every change, so only
 * invalidations need looking at), or, with translation off, to all of
 * guest RAM at IOVA = GPA (identity.c).
 *
 * A shadow mapping is one guest leaf (4 KiB, 2 MiB or 1 GiB): its guest
 * pages are pinned, charged to the VM's locked_vm, and mapped in the host
 * domain in physically contiguous runs.  An invalidation walks the guest's
 * tables over the invalidated range and compares leaf by leaf: unchanged
 * leaves stay mapped (a device may be using them), changed ones are
 * unmapped and mapped anew, vanished ones are unmapped.  A context that
 * changes, and translation turned on, have the whole context walked.
 *
 * Walks and page loops charge the queue run's budget (kvm_viommu_charge());
 * a walk the budget stops keeps a cursor in its device and resumes in the
 * next run, before any later descriptor, so it never tears down what it
 * has not reached.
 *
 * Pages are unpinned only after iommu_unmap(), which flushes the host
 * IOTLB, has returned the size that was mapped.  Any other size means the
 * domain changed under the unit (which owns it, through its VFIO backend:
 * a kernel bug, or something mapping into it behind VFIO's back): the
 * leaf's pages stay pinned and the unit fails.  Anything
 * else that fails leaves the range unmapped: the device's DMA there
 * faults, it never reaches memory the guest did not give it.
 *
 * Everything here runs under the unit's lock, in process context with the
 * VM's mm usable (an ioctl of the VMM, a vCPU thread's task work or the
 * queue worker), except detach and release, which only unmap and unpin.
 */
#include <linux/iommu.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"
#include "trace.h"

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

/* Pages looked up in the host domain between reschedules. */
#define KVM_VIOMMU_LOOKUP_BATCH	512

/**
 * struct kvm_viommu_map - one shadowed guest leaf (or chunk of guest RAM)
 * @it: its IOVA range, in the device's interval tree
 * @gpa: guest-physical address of the leaf
 * @gen: the last walk that saw this leaf in the guest's tables
 * @read: the device may read through it
 * @write: the device may write through it
 * @nr_pages: 4 KiB pages pinned
 * @pages: the pinned pages, in IOVA order
 * @stale: on a walk's list of leaves to remove, or on the device's
 *	stranded list
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

/* Charge @units of work to the current queue run (see iq.c). */
void kvm_viommu_charge(struct kvm_viommu *viommu, u64 units)
{
	viommu->run_budget = units < viommu->run_budget ?
			     viommu->run_budget - (u32)units : 0;
}

/*
 * May the current run take on @units of work at once?  Within what it has
 * left, yes.  Beyond that, a full run may once (a single leaf is at most
 * 2^18 pages, and the run stops right after), so that any leaf can be
 * handled; a short one (a vCPU's) hands the rest to the worker.
 */
static bool kvm_viommu_can_afford(struct kvm_viommu *viommu, u64 units)
{
	if (units <= viommu->run_budget)
		return true;
	if (!viommu->run_overdraw)
		return false;
	/* Once per full run: it ends right after. */
	viommu->run_overdraw = false;
	return true;
}

static void kvm_viommu_unmap_range(struct kvm_viommu *viommu,
				   struct kvm_viommu_dev *vdev,
				   struct rb_root_cached *tree, u64 start,
				   u64 last);

static void kvm_viommu_free_map(struct kvm_viommu_map *map)
{
	kvfree(map->pages);
	kfree(map);
}

/*
 * Could a device still reach any page of @map through @vdev's domain?
 * The domain's own page table says; whoever changed an entry flushed the
 * host IOTLB for it.
 */
static bool kvm_viommu_reachable(struct kvm_viommu_dev *vdev,
				 struct kvm_viommu_map *map)
{
	unsigned long i;

	for (i = 0; i < map->nr_pages; i++) {
		if (iommu_iova_to_phys(vdev->domain,
				       map->it.start + i * PAGE_SIZE) ==
		    page_to_phys(map->pages[i]))
			return true;
		if (!((i + 1) % KVM_VIOMMU_LOOKUP_BATCH))
			cond_resched();
	}
	return false;
}

/*
 * iommu_unmap() of @map's range removed @unmapped bytes, not its size: the
 * domain is not what the unit made it.  Keep the pages pinned (a device
 * may still reach them), and stop using the domain.
 */
static void kvm_viommu_strand(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev,
			      struct kvm_viommu_map *map, size_t unmapped)
{
	viommu->cnt.unmap_mismatches++;
	viommu->cnt.leaves--;
	list_add_tail(&map->stale, &vdev->stranded);
	dev_err_ratelimited(vdev->dev, "kvm_viommu: unmapping IOVA 0x%llx size 0x%llx removed 0x%zx\n",
			    (u64)map->it.start, kvm_viommu_map_size(map),
			    unmapped);
	kvm_viommu_fail(viommu, "the host IOMMU domain changed under it");
}

/*
 * Unmap and unpin @map, which the caller has taken out of whatever tree or
 * list held it.
 */
static void kvm_viommu_unmap_leaf(struct kvm_viommu *viommu,
				  struct kvm_viommu_dev *vdev,
				  struct kvm_viommu_map *map)
{
	size_t size = kvm_viommu_map_size(map), unmapped;

	trace_kvm_viommu_shadow(vdev->sid, false, map->it.start, size,
				map->gpa, 0);
	kvm_viommu_charge(viommu, 2 * map->nr_pages);
	/* Returns once the host IOTLB no longer holds the range. */
	unmapped = iommu_unmap(vdev->domain, map->it.start, size);
	if (unmapped != size) {
		kvm_viommu_strand(viommu, vdev, map, unmapped);
		return;
	}
	kvm_viommu_unpin(viommu, map->pages, map->nr_pages);
	viommu->cnt.unmaps++;
	viommu->cnt.leaves--;
	kvm_viommu_free_map(map);
}

static bool kvm_viommu_resv_overlaps(struct kvm_viommu_dev *vdev, u64 start,
				     u64 last)
{
	unsigned int i;

	for (i = 0; i < vdev->nr_resv; i++)
		if (start <= vdev->resv[i].last && vdev->resv[i].start <= last)
			return true;
	return false;
}

/* Does the domain map any page of [@iova, @iova + @n pages) already? */
static bool kvm_viommu_domain_maps(struct kvm_viommu_dev *vdev, u64 iova,
				   unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (iommu_iova_to_phys(vdev->domain, iova + i * PAGE_SIZE))
			return true;
		if (!((i + 1) % KVM_VIOMMU_LOOKUP_BATCH))
			cond_resched();
	}
	return false;
}

/* Map @map's pages at its IOVA, in physically contiguous runs. */
static int kvm_viommu_map_pages(struct kvm_viommu *viommu,
				struct kvm_viommu_dev *vdev,
				struct kvm_viommu_map *map)
{
	/* As VFIO type1: the device's DMA snoops where the IOMMU can say so. */
	int prot = (map->read ? IOMMU_READ : 0) |
		   (map->write ? IOMMU_WRITE : 0) | IOMMU_CACHE;
	unsigned long n = map->nr_pages, i, run;
	size_t unmapped;
	int ret = 0;

	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n; run++)
			if (page_to_pfn(map->pages[i + run]) !=
			    page_to_pfn(map->pages[i]) + run)
				break;
		ret = kvm_viommu_iommu_map(vdev->domain,
					   map->it.start + i * PAGE_SIZE,
					   page_to_phys(map->pages[i]),
					   run * PAGE_SIZE, prot);
		if (ret)
			break;
		cond_resched();
	}
	if (!ret || !i)
		return ret;
	unmapped = iommu_unmap(vdev->domain, map->it.start, i * PAGE_SIZE);
	if (unmapped != i * PAGE_SIZE) {
		/* The pages stay pinned and the map stranded: see there. */
		map->it.last = map->it.start + i * PAGE_SIZE - 1;
		viommu->cnt.leaves++;
		kvm_viommu_strand(viommu, vdev, map, unmapped);
		return -EBUSY;
	}
	return ret;
}

/**
 * kvm_viommu_map_leaf() - pin and map one leaf into a device's domain
 * @viommu: the unit
 * @vdev: the device
 * @leaf: IOVA, GPA, size (a multiple of 4 KiB) and access
 *
 * Return: 0; -ENOSPC over max_shadow_leaves; -EADDRNOTAVAIL for IOVAs the
 * host reserves for the device; -EEXIST if the domain maps some of them
 * already; -EBUSY if undoing a failed map found the domain changed (the
 * unit has failed); or the errors of pinning and of iommu_map().  On
 * error nothing of the leaf is mapped, pinned or charged, but for -EBUSY.
 */
int kvm_viommu_map_leaf(struct kvm_viommu *viommu,
			struct kvm_viommu_dev *vdev,
			const struct kvm_viommu_leaf *leaf)
{
	unsigned long n = leaf->size >> PAGE_SHIFT;
	struct kvm_viommu_map *map;
	int ret;

	/*
	 * A doomed leaf still mapped there goes first; it no longer counts
	 * against the limit either.
	 */
	kvm_viommu_unmap_range(viommu, vdev, &vdev->doomed, leaf->iova,
			       leaf->iova + leaf->size - 1);
	if (viommu->cnt.leaves >= READ_ONCE(max_shadow_leaves))
		return -ENOSPC;
	if (kvm_viommu_resv_overlaps(vdev, leaf->iova,
				     leaf->iova + leaf->size - 1))
		return -EADDRNOTAVAIL;
	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->pages = kvmalloc_array(n, sizeof(*map->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!map->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	map->it.start = leaf->iova;
	map->it.last = leaf->iova + leaf->size - 1;
	map->gpa = leaf->gpa;
	map->gen = vdev->gen;
	map->read = leaf->read;
	map->write = leaf->write;
	map->nr_pages = n;

	kvm_viommu_charge(viommu, 2 * n);
	ret = kvm_viommu_pin(viommu, leaf->gpa, n, leaf->write, map->pages);
	if (ret)
		goto err_free;
	/*
	 * The domain must not map any of it already: the unit owns the
	 * domain, so that would be a mapping the unit lost track of, and
	 * intel-iommu WARNs on a mapping over a live entry.
	 */
	ret = -EEXIST;
	if (kvm_viommu_domain_maps(vdev, leaf->iova, n))
		goto err_unpin;
	ret = kvm_viommu_map_pages(viommu, vdev, map);
	if (ret == -EBUSY)
		goto err_trace;
	if (ret)
		goto err_unpin;

	interval_tree_insert(&map->it, &vdev->shadow);
	trace_kvm_viommu_shadow(vdev->sid, true, leaf->iova, leaf->size,
				leaf->gpa, 0);
	viommu->cnt.maps++;
	viommu->cnt.leaves++;
	return 0;

err_unpin:
	kvm_viommu_unpin(viommu, map->pages, n);
err_free:
	kvm_viommu_free_map(map);
err_trace:
	trace_kvm_viommu_shadow(vdev->sid, true, leaf->iova, leaf->size,
				leaf->gpa, ret);
	return ret;
}

/* Take @map out of the shadow, unmap and unpin it. */
static void kvm_viommu_drop(struct kvm_viommu *viommu,
			    struct kvm_viommu_dev *vdev,
			    struct rb_root_cached *tree,
			    struct kvm_viommu_map *map)
{
	interval_tree_remove(&map->it, tree);
	kvm_viommu_unmap_leaf(viommu, vdev, map);
}

static struct kvm_viommu_map *kvm_viommu_first(struct rb_root_cached *tree,
					       u64 start, u64 last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(tree, start, last);
	return node ? container_of(node, struct kvm_viommu_map, it) : NULL;
}

/* Remove every leaf of @tree overlapping [@start, @last]. */
static void kvm_viommu_unmap_range(struct kvm_viommu *viommu,
				   struct kvm_viommu_dev *vdev,
				   struct rb_root_cached *tree, u64 start,
				   u64 last)
{
	struct kvm_viommu_map *map;

	while ((map = kvm_viommu_first(tree, start, last)))
		kvm_viommu_drop(viommu, vdev, tree, map);
}

/*
 * The whole shadow is stale (a context changed, translation went on or
 * off): its leaves move to @vdev->doomed, still mapped, to be unmapped
 * within the runs' budgets (kvm_viommu_drain_doomed()) before any later
 * descriptor, or at once where a new mapping needs their IOVAs.
 */
static void kvm_viommu_doom_all(struct kvm_viommu_dev *vdev)
{
	struct kvm_viommu_map *map;

	if (RB_EMPTY_ROOT(&vdev->doomed.rb_root)) {
		swap(vdev->doomed, vdev->shadow);
		return;
	}
	while ((map = kvm_viommu_first(&vdev->shadow, 0, U64_MAX))) {
		interval_tree_remove(&map->it, &vdev->shadow);
		interval_tree_insert(&map->it, &vdev->doomed);
		cond_resched();
	}
}

/* Unmap doomed leaves while the run can afford it; true when none is left. */
static bool kvm_viommu_drain_doomed(struct kvm_viommu *viommu,
				    struct kvm_viommu_dev *vdev)
{
	struct kvm_viommu_map *map;

	while ((map = kvm_viommu_first(&vdev->doomed, 0, U64_MAX))) {
		if (kvm_viommu_iq_should_stop(viommu) ||
		    !kvm_viommu_can_afford(viommu, 2 * map->nr_pages))
			return false;
		kvm_viommu_drop(viommu, vdev, &vdev->doomed, map);
	}
	return true;
}

/* Every leaf goes now, doomed or not, and any walk still to do. */
void kvm_viommu_shadow_clear(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev)
{
	kvm_viommu_unmap_range(viommu, vdev, &vdev->shadow, 0, U64_MAX);
	kvm_viommu_unmap_range(viommu, vdev, &vdev->doomed, 0, U64_MAX);
	vdev->identity = false;
	vdev->sync_pending = false;
}

/*
 * The device is being detached: clear its shadow, then settle its stranded
 * leaves while its domain still exists (we hold its device file).  A
 * stranded leaf whose pages the domain still maps is unmapped once more
 * (the unit has failed; the VMM broke the attach contract); pages the
 * domain no longer reaches are unpinned, and those it still does stay
 * pinned for good, as VFIO type1 leaves pages pinned when an unmap fails.
 */
void kvm_viommu_shadow_detach(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev)
{
	struct kvm_viommu_map *map, *tmp;

	kvm_viommu_shadow_clear(viommu, vdev);
	list_for_each_entry_safe(map, tmp, &vdev->stranded, stale) {
		list_del(&map->stale);
		if (kvm_viommu_reachable(vdev, map)) {
			iommu_unmap(vdev->domain, map->it.start,
				    kvm_viommu_map_size(map));
			if (kvm_viommu_reachable(vdev, map)) {
				dev_err(vdev->dev, "kvm_viommu: %lu pages at IOVA 0x%llx stay pinned: the host IOMMU still maps them\n",
					map->nr_pages, (u64)map->it.start);
				kvm_viommu_free_map(map);
				continue;
			}
		}
		kvm_viommu_unpin(viommu, map->pages, map->nr_pages);
		kvm_viommu_free_map(map);
	}
}

/*
 * A walk in progress: and the hull of what it must walk again, because a
 * leaf it replaced (a superpage split into a table, say) reached beyond
 * the leaf that replaced it.
 */
struct kvm_viommu_sync {
	struct kvm_viommu *viommu;
	struct kvm_viommu_dev *vdev;
	u64 again_start;
	u64 again_end;
};

/* Pages held by the shadow leaves overlapping [@start, @last]. */
static u64 kvm_viommu_pages_in(struct kvm_viommu_dev *vdev, u64 start,
			       u64 last)
{
	struct interval_tree_node *node;
	u64 pages = 0;

	for (node = interval_tree_iter_first(&vdev->shadow, start, last); node;
	     node = interval_tree_iter_next(node, start, last))
		pages += container_of(node, struct kvm_viommu_map,
				      it)->nr_pages;
	return pages;
}

/* A leaf could not be mapped: count it, and tell the guest if it listens. */
static void kvm_viommu_map_failed(struct kvm_viommu *viommu,
				  struct kvm_viommu_dev *vdev,
				  const struct vtd_mapping *m, int err)
{
	if (err == -EADDRNOTAVAIL)
		viommu->cnt.resv_faults++;
	else
		viommu->cnt.pin_failures += m->size >> PAGE_SHIFT;
	/*
	 * Over RLIMIT_MEMLOCK or max_shadow_leaves, not guest RAM, a host
	 * reserved IOVA, or no host mapping: the leaf stays unmapped.  The
	 * spec has no fault reason for host limits, so the guest gets the
	 * nearest: the memory behind a paging entry is unusable.
	 */
	if (!vdev->ctx.fpd)
		vtd_record_fault(&viommu->vtd, vdev->sid, m->iova,
				 VTD_FR_PAGING_ENTRY_ACCESS, m->write);
}

/* The walker's callback: one present guest leaf, in IOVA order. */
static int kvm_viommu_sync_leaf(void *opaque, const struct vtd_mapping *m)
{
	struct kvm_viommu_sync *s = opaque;
	struct kvm_viommu *viommu = s->viommu;
	struct kvm_viommu_dev *vdev = s->vdev;
	u64 last = m->iova + m->size - 1;
	struct interval_tree_node *node;
	struct kvm_viommu_leaf leaf;
	struct kvm_viommu_map *map;
	int ret;

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
	/* Out of budget for this leaf's pages: resume at it, later. */
	if (!kvm_viommu_can_afford(viommu, 2 * ((m->size >> PAGE_SHIFT) +
			kvm_viommu_pages_in(vdev, m->iova, last))))
		return -E2BIG;
	/*
	 * Whatever overlaps is stale: out before the new leaf goes in.  What
	 * of it lies outside the new leaf is walked again: the guest may
	 * still map it, through other entries.
	 */
	while ((map = kvm_viommu_first(&vdev->shadow, m->iova, last))) {
		if (map->it.start < m->iova || map->it.last > last) {
			s->again_start = min_t(u64, s->again_start,
					       map->it.start);
			s->again_end = max_t(u64, s->again_end,
					     map->it.last + 1);
		}
		kvm_viommu_drop(viommu, vdev, &vdev->shadow, map);
	}
	if (viommu->cnt.failed)
		return -EIO;
	leaf.iova = m->iova;
	leaf.gpa = m->gpa;
	leaf.size = m->size;
	leaf.read = m->read;
	leaf.write = m->write;
	ret = kvm_viommu_map_leaf(viommu, vdev, &leaf);
	if (ret == -EBUSY)
		return -EIO;
	if (ret)
		kvm_viommu_map_failed(viommu, vdev, m, ret);
	cond_resched();
	return 0;
}

/* Add [@start, @end) to @vdev's walk still to do. */
static void kvm_viommu_sync_add(struct kvm_viommu_dev *vdev, u64 start,
				u64 end)
{
	if (start >= end)
		return;
	if (!vdev->sync_pending) {
		vdev->sync_pending = true;
		vdev->sync_next = start;
		vdev->sync_end = end;
		return;
	}
	/* One range per device: the union's hull, walked once more. */
	vdev->sync_next = min(vdev->sync_next, start);
	vdev->sync_end = max(vdev->sync_end, end);
}

/*
 * Walk on from @vdev's cursor, as far as the run's budget goes.  Leaves
 * the walk passed without seeing are gone from the guest's tables; leaves
 * beyond where it stopped are left alone for the next run.  Returns true
 * when the whole pending range is done.
 */
static bool kvm_viommu_sync_some(struct kvm_viommu *viommu,
				 struct kvm_viommu_dev *vdev)
{
	struct kvm_viommu_sync s = {
		.viommu = viommu, .vdev = vdev, .again_start = U64_MAX,
	};
	u64 start = vdev->sync_next, end = vdev->sync_end, next = end;
	struct interval_tree_node *node;
	struct kvm_viommu_map *map, *tmp;
	LIST_HEAD(stale);
	u64 reached;
	int ret;

	vdev->gen++;
	viommu->cnt.walks++;
	ret = vtd_sl_walk(&viommu->vtd, &vdev->ctx, start, end,
			  kvm_viommu_sync_leaf, &s, &viommu->run_budget, &next);
	trace_kvm_viommu_sync(vdev->sid, start, end, ret);
	if (ret == -EIO)
		return false;		/* the unit failed */
	reached = ret == -E2BIG ? next : end;
	if (ret > 0) {
		/*
		 * A malformed entry or an unreadable table: the rest of the
		 * range is treated as gone, as the guest's translation of it
		 * would fault.
		 */
		viommu->cnt.walk_faults++;
		if (!vdev->ctx.fpd)
			vtd_record_fault(&viommu->vtd, vdev->sid, next, ret,
					 false);
	}

	if (reached > start) {
		for (node = interval_tree_iter_first(&vdev->shadow, start,
						     reached - 1);
		     node;
		     node = interval_tree_iter_next(node, start, reached - 1)) {
			map = container_of(node, struct kvm_viommu_map, it);
			if (map->gen != vdev->gen)
				list_add_tail(&map->stale, &stale);
		}
	}
	/*
	 * As many as the run can afford; if not all, this part is walked
	 * again later (the cursor stays), and the rest found stale then.
	 */
	while (!list_empty(&stale)) {
		map = list_first_entry(&stale, struct kvm_viommu_map, stale);
		if (!kvm_viommu_can_afford(viommu, 2 * map->nr_pages)) {
			/* In IOVA order: the next run walks again from here. */
			reached = max_t(u64, start, map->it.start);
			break;
		}
		list_del_init(&map->stale);
		kvm_viommu_drop(viommu, vdev, &vdev->shadow, map);
	}
	list_for_each_entry_safe(map, tmp, &stale, stale)
		list_del_init(&map->stale);
	/* What is left to walk: the rest of the range, and the again part. */
	vdev->sync_pending = false;
	kvm_viommu_sync_add(vdev, reached, end);
	kvm_viommu_sync_add(vdev, s.again_start, s.again_end);
	if (reached < end) {
		viommu->cnt.walk_yields++;
		return false;
	}
	return true;
}

/**
 * kvm_viommu_shadow_resume() - carry on with the walks still to do
 * @viommu: the unit, locked, in a queue run (or a VMM call) with a budget
 *
 * Return: true when no walk is left to do; false when the budget, or the
 * run's end, stopped one (the next run resumes it).
 */
bool kvm_viommu_shadow_resume(struct kvm_viommu *viommu)
{
	struct kvm_viommu_dev *vdev;

	lockdep_assert_held(&viommu->lock);
	/* Doomed leaves first: they hold pins a walk's new leaves may need. */
	list_for_each_entry(vdev, &viommu->devices, node)
		if (viommu->cnt.failed || !kvm_viommu_drain_doomed(viommu, vdev))
			return false;
	list_for_each_entry(vdev, &viommu->devices, node) {
		while (vdev->sync_pending) {
			if (kvm_viommu_iq_should_stop(viommu) ||
			    viommu->cnt.failed ||
			    !kvm_viommu_sync_some(viommu, vdev))
				return false;
		}
	}
	return true;
}

/* Is any walk, or unmap of a doomed leaf, left to do? */
bool kvm_viommu_shadow_pending(struct kvm_viommu *viommu)
{
	struct kvm_viommu_dev *vdev;

	lockdep_assert_held(&viommu->lock);
	list_for_each_entry(vdev, &viommu->devices, node)
		if (vdev->sync_pending ||
		    !RB_EMPTY_ROOT(&vdev->doomed.rb_root))
			return true;
	return false;
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
 * Make @vdev's shadow follow the unit's translation state.  Translation
 * off: all of guest RAM at IOVA = GPA, or nothing if the unit was created
 * with KVM_VIOMMU_CREATE_TE_OFF_BLOCKS.  Translation on: the device's
 * context looked up again; a context that changed, vanished, or that is
 * pass-through (not shadowed yet: its device gets nothing) takes the whole
 * shadow with it, and a valid one has its whole IOVA space walked.
 */
static int kvm_viommu_refresh(struct kvm_viommu *viommu,
			      struct kvm_viommu_dev *vdev)
{
	struct vtd_unit *vtd = &viommu->vtd;
	struct vtd_context ctx = {};
	bool valid;

	if (!(vtd_get32(vtd, VTD_GSTS_REG) & VTD_GSTS_TES)) {
		if (vdev->identity)
			return 0;
		kvm_viommu_doom_all(vdev);
		vdev->sync_pending = false;
		vdev->ctx_valid = false;
		if (viommu->flags & KVM_VIOMMU_CREATE_TE_OFF_BLOCKS ||
		    vdev->attaching)
			return 0;
		vdev->identity = true;
		return kvm_viommu_identity_map(viommu, vdev);
	}

	valid = !vtd_context_lookup(vtd, vdev->sid, &ctx) &&
		ctx.tt != VTD_TT_PASS_THROUGH;
	if (valid && vdev->ctx_valid && !vdev->identity &&
	    kvm_viommu_ctx_equal(&ctx, &vdev->ctx))
		return 0;
	kvm_viommu_doom_all(vdev);
	vdev->identity = false;
	vdev->sync_pending = false;
	vdev->ctx_valid = valid;
	vdev->ctx = ctx;
	if (valid)
		kvm_viommu_sync_add(vdev, 0,
				    vtd_context_iova_end(vtd, &vdev->ctx));
	return 0;
}

/*
 * A device was just attached (under the unit's lock, in the VMM's attach
 * call): shadow what the guest has for it now.  With translation off that
 * is all of guest RAM, and an error pinning it fails the attach.
 */
int kvm_viommu_shadow_attach(struct kvm_viommu *viommu,
			     struct kvm_viommu_dev *vdev)
{
	int ret;

	lockdep_assert_held(&viommu->lock);
	kvm_viommu_run_begin(viommu, true);
	ret = kvm_viommu_refresh(viommu, vdev);
	if (ret)
		return ret;
	if (!kvm_viommu_shadow_resume(viommu))
		kvm_viommu_iq_kick(viommu);
	return 0;
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
		/*
		 * The domain it had, or the domain it has now; and with
		 * caching mode, DID 0 names the cached entries that were not
		 * present (or did not translate).
		 */
		if (vdev->ctx_valid ? vdev->ctx.did == inv->did : !inv->did)
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
			kvm_viommu_refresh(viommu, vdev);
	kvm_viommu_shadow_resume(viommu);
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
			end = min(end, vtd_am_region_end(start, inv->am));
		}
		kvm_viommu_sync_add(vdev, start, end);
	}
	kvm_viommu_shadow_resume(viommu);
}

/* TE changed: every device follows (see kvm_viommu_refresh()). */
void kvm_viommu_shadow_translation_changed(struct kvm_viommu *viommu)
{
	bool te = vtd_get32(&viommu->vtd, VTD_GSTS_REG) & VTD_GSTS_TES;
	struct kvm_viommu_dev *vdev;

	lockdep_assert_held(&viommu->lock);
	if (te == viommu->te)
		return;	/* SRTP alone: contexts stay cached until invalidated */
	viommu->te = te;
	list_for_each_entry(vdev, &viommu->devices, node)
		kvm_viommu_refresh(viommu, vdev);
	kvm_viommu_shadow_resume(viommu);
}
