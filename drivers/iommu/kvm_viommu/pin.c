// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning the host pages behind guest-physical ranges, and charging them to
 * the VM's locked_vm, for the shadow to map into a host IOMMU domain.
 *
 * Pages are pinned long-term and writable, whatever the guest's mapping
 * allows, as VFIO type1 pins guest RAM: a read-only pin of memory the
 * guest never touched would pin the shared zero page, and the guest's
 * first write would then copy away from the page the device reads.  The
 * device's access is restricted in the IOMMU mapping instead.
 *
 * A unit pins each host page once, however many leaves (IOVAs, devices)
 * map it: the pin table (@viommu->pins, pfn -> how many of the unit's
 * leaves hold the page) keeps the count.  A guest aliasing one page from
 * many IOVAs so adds nothing to the page's reference count after the
 * first (each long-term pin of a small page adds 1024 to it, and 2^21 of
 * them would overflow it), and the page is charged to locked_vm once.
 *
 * locked_vm is charged in chunks (KVM_VIOMMU_CHARGE_CHUNK pages): the unit
 * keeps a credit of pages charged but not pinned, which pins draw on and
 * unpins refill, so a guest that maps and unmaps takes the VM's mmap lock
 * (which __account_locked_vm() needs for writing) about once per chunk, not
 * twice per page.  The credit never goes below 0 (locked_vm never
 * under-counts what is pinned) and never stays above two chunks; it goes
 * back whole when the unit's last device does.  A chunk that would go over
 * RLIMIT_MEMLOCK is charged exactly instead, and a pin drawn from the
 * credit is checked against the limit as if charged exactly: the chunking
 * never refuses a pin that exact charging would allow, nor allows one it
 * would refuse.
 *
 * The pin cache: the last leaf holding the page of a 4 KiB guest leaf
 * lets go of it into a small per-unit cache instead of unpinning it
 * (module parameter pin_cache_pages), still pinned and charged, for a
 * guest that maps the same buffer again soon (dma_map_single() of a
 * driver's ring buffer): the vIOMMU paper's optimistic teardown, on the
 * host's side only.  A page enters the cache only once no leaf holds it,
 * which is only after the host IOTLB sync of the leaf's unmap (shadow.c),
 * so no device reaches a cached page.  It leaves the cache for a leaf
 * only after checking, in the VM's mm, that the guest's memory at that
 * GPA still is that very page; a memslot change empties the cache
 * (kvm_viommu_pin_cache_check()).  The rst ("The pin cache") has the
 * whole argument.
 */
#include <linux/capability.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "compat.h"
#include "kvm_viommu.h"
#include "shadow.h"

/* Pages unpinned between reschedules: a 1 GiB leaf has 2^18. */
#define KVM_VIOMMU_UNPIN_BATCH	512

/* Pages charged to locked_vm at a time; at most twice that unused. */
#define KVM_VIOMMU_CHARGE_CHUNK	256UL

/*
 * A pin table entry: whether any leaf let the device write the page (it is
 * marked dirty when let go of); then either how many leaves hold it, or,
 * with KVM_VIOMMU_PIN_CACHED, the gfn it is cached for (no leaf holds it).
 */
#define KVM_VIOMMU_PIN_WRITE	1UL
#define KVM_VIOMMU_PIN_CACHED	2UL
#define KVM_VIOMMU_PIN_SHIFT	2
#define KVM_VIOMMU_PIN_ONE	BIT(KVM_VIOMMU_PIN_SHIFT)

/*
 * Pages one unit's pin cache holds at most.  Read at every use: lowering
 * it trims the cache at the unit's next queue run or VMM call (0 empties
 * it), whatever was written, never above KVM_VIOMMU_PIN_CACHE_MAX.
 */
static unsigned int pin_cache_pages = 256;
module_param(pin_cache_pages, uint, 0644);
MODULE_PARM_DESC(pin_cache_pages,
		 "Pages a unit keeps pinned after the guest unmapped them, to map again without pinning (default: 256, 0: none, at most 65536)");

#define KVM_VIOMMU_PIN_CACHE_MAX	65536U

static unsigned int kvm_viommu_pin_cache_max(void)
{
	return min(READ_ONCE(pin_cache_pages), KVM_VIOMMU_PIN_CACHE_MAX);
}

/* A page in the pin cache, pinned and charged, mapped by no leaf. */
struct kvm_viommu_cached {
	struct list_head lru;
	struct page *page;
	gfn_t gfn;
};

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

	if (!n)
		return 0;
	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, n, inc, viommu->owner,
				  inc && has_capability(viommu->owner,
							CAP_IPC_LOCK));
	mmap_write_unlock(mm);
	return ret;
}

/*
 * May @n more pages be pinned, from the credit?  __account_locked_vm()'s
 * question, as if only what is pinned were charged.  The credit was
 * charged against the limit in force then; the limit may have come down
 * since, and the credit must not let the unit pin past it.  Without the
 * mmap lock: locked_vm may change meanwhile (the VMM's mlock()), which
 * only decides who of two racing chargers gets the last pages, as it
 * would with the lock.
 */
static bool kvm_viommu_credit_allowed(struct kvm_viommu *viommu,
				      unsigned long n)
{
	unsigned long locked = READ_ONCE(viommu->kvm->mm->locked_vm);
	unsigned long limit;

	limit = task_rlimit(viommu->owner, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	locked -= min(locked, viommu->lock_credit);
	return locked + n <= limit ||
	       has_capability(viommu->owner, CAP_IPC_LOCK);
}

/* @n pages were pinned anew: charge them, from the credit if it can. */
static int kvm_viommu_charge_pages(struct kvm_viommu *viommu,
				   unsigned long n)
{
	unsigned long need, chunk;
	int ret;

	if (!n)
		return 0;
	if (n <= viommu->lock_credit) {
		if (!kvm_viommu_credit_allowed(viommu, n))
			return -ENOMEM;
		viommu->lock_credit -= n;
		return 0;
	}
	need = n - viommu->lock_credit;
	chunk = round_up(need, KVM_VIOMMU_CHARGE_CHUNK);
	ret = kvm_viommu_account(viommu, chunk, true);
	/* Near the limit: exactly what is needed, or nothing. */
	if (ret && chunk != need) {
		chunk = need;
		ret = kvm_viommu_account(viommu, chunk, true);
	}
	if (ret)
		return ret;
	/* The credit went into the @n pages, and the chunk's rest stays. */
	viommu->lock_credit = chunk - need;
	viommu->cnt.locked_pages += chunk;
	return 0;
}

/*
 * @n pages were unpinned: their charge goes to the credit, and the credit
 * back to locked_vm beyond two chunks, down to one.
 */
static void kvm_viommu_uncharge_pages(struct kvm_viommu *viommu,
				      unsigned long n)
{
	unsigned long excess;

	viommu->lock_credit += n;
	if (viommu->lock_credit <= 2 * KVM_VIOMMU_CHARGE_CHUNK)
		return;
	excess = viommu->lock_credit - KVM_VIOMMU_CHARGE_CHUNK;
	kvm_viommu_account(viommu, excess, false);
	viommu->lock_credit = KVM_VIOMMU_CHARGE_CHUNK;
	viommu->cnt.locked_pages -= excess;
}

/* @n pinned and charged pages were unpinned. */
static void kvm_viommu_released(struct kvm_viommu *viommu, unsigned long n)
{
	viommu->cnt.pinned_pages -= n;
	kvm_viommu_uncharge_pages(viommu, n);
}

/* Unpin @page, which the pin table no longer lists. */
static void kvm_viommu_unpin_page(struct page *page, unsigned long v)
{
	unpin_user_pages_dirty_lock(&page, 1, v & KVM_VIOMMU_PIN_WRITE);
}

/* Take @c out of the cache; its page stays pinned, in the pin table. */
static void kvm_viommu_cache_del(struct kvm_viommu *viommu,
				 struct kvm_viommu_cached *c)
{
	xa_erase(&viommu->pin_cache, c->gfn);
	list_del(&c->lru);
	viommu->cnt.pin_cache_pages--;
	kfree(c);
}

/* Drop @c from the cache: unpin and uncharge its page. */
static void kvm_viommu_cache_evict(struct kvm_viommu *viommu,
				   struct kvm_viommu_cached *c)
{
	unsigned long pfn = page_to_pfn(c->page);
	unsigned long v = xa_to_value(xa_erase(&viommu->pins, pfn));
	struct page *page = c->page;

	WARN_ON_ONCE(!(v & KVM_VIOMMU_PIN_CACHED));
	kvm_viommu_cache_del(viommu, c);
	kvm_viommu_unpin_page(page, v);
	kvm_viommu_released(viommu, 1);
}

/* Let go of the oldest cached pages until at most @keep are left. */
static unsigned long kvm_viommu_cache_trim(struct kvm_viommu *viommu,
					   unsigned long keep)
{
	unsigned long n = 0;

	while (viommu->cnt.pin_cache_pages > keep) {
		kvm_viommu_cache_evict(viommu,
				       list_first_entry(&viommu->pin_lru,
							struct kvm_viommu_cached,
							lru));
		if (!(++n % KVM_VIOMMU_UNPIN_BATCH))
			cond_resched();
	}
	return n;
}

/**
 * kvm_viommu_pin_cache_drop() - empty the unit's pin cache
 * @viommu: the unit, locked
 *
 * Every cached page is unpinned and uncharged: at a detach, at the unit's
 * release, and before a pin that RLIMIT_MEMLOCK refused is tried again.
 *
 * Return: how many pages were dropped.
 */
unsigned long kvm_viommu_pin_cache_drop(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	return kvm_viommu_cache_trim(viommu, 0);
}

/**
 * kvm_viommu_pin_cache_check() - hold the pin cache to the VM's memory now
 * @viommu: the unit, locked
 *
 * A memslot change (one deleted, moved, added or with new flags) may have
 * taken cached pages out of guest memory: the whole cache goes, counted in
 * pin_cache_stale.  So does what the pin_cache_pages parameter no longer
 * allows.  Called where the unit's lock is taken for a queue run or a call
 * of the VMM, and before pages enter the cache: a cache that outlived a
 * memslot change is emptied by the next of those, and a page enters it
 * only under the memslots it was last mapped under, or later ones.
 */
void kvm_viommu_pin_cache_check(struct kvm_viommu *viommu)
{
	struct kvm *kvm = viommu->kvm;
	u64 gen;
	int idx;

	lockdep_assert_held(&viommu->lock);
	idx = srcu_read_lock(&kvm->srcu);
	gen = kvm_memslots(kvm)->generation;
	srcu_read_unlock(&kvm->srcu, idx);
	if (gen != viommu->pin_cache_gen) {
		viommu->pin_cache_gen = gen;
		viommu->cnt.pin_cache_stale += kvm_viommu_pin_cache_drop(viommu);
	}
	kvm_viommu_cache_trim(viommu, kvm_viommu_pin_cache_max());
}

/*
 * The unit's last device is gone: the credit goes back to locked_vm, which
 * then holds exactly the pages still pinned (none, but for leaves a host
 * IOMMU may still reach).
 */
void kvm_viommu_uncharge_credit(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_account(viommu, viommu->lock_credit, false);
	viommu->cnt.locked_pages -= viommu->lock_credit;
	viommu->lock_credit = 0;
}

/*
 * Keep @page, which no leaf holds any more, pinned and charged in the
 * cache for @gfn, evicting the oldest page if the cache is full.  @v is
 * its pin table entry.  False if the cache is off or out of memory: the
 * caller unpins it then.
 */
static bool kvm_viommu_cache_add(struct kvm_viommu *viommu, struct page *page,
				 gfn_t gfn, unsigned long v)
{
	unsigned int max = kvm_viommu_pin_cache_max();
	struct kvm_viommu_cached *c;

	if (!max)
		return false;
	/* Another page cached for the gfn: the VMM remapped it. */
	c = xa_load(&viommu->pin_cache, gfn);
	if (c) {
		viommu->cnt.pin_cache_stale++;
		kvm_viommu_cache_evict(viommu, c);
	}
	kvm_viommu_cache_trim(viommu, max - 1);
	c = kmalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return false;
	c->page = page;
	c->gfn = gfn;
	if (xa_err(xa_store(&viommu->pin_cache, gfn, c, GFP_KERNEL_ACCOUNT))) {
		kfree(c);
		return false;
	}
	list_add_tail(&c->lru, &viommu->pin_lru);
	viommu->cnt.pin_cache_pages++;
	/* In place of the entry that counted one leaf: no allocation. */
	xa_store(&viommu->pins, page_to_pfn(page),
		 xa_mk_value((u64)gfn << KVM_VIOMMU_PIN_SHIFT |
			     KVM_VIOMMU_PIN_CACHED |
			     (v & KVM_VIOMMU_PIN_WRITE)), GFP_NOWAIT);
	return true;
}

/*
 * The memslot of guest page @gfn if the unit may pin it: guest RAM in a
 * memslot the VMM made, not one of KVM's private ones (the APIC access
 * page), nor one KVM is deleting or moving (KVM_MEMSLOT_INVALID: KVM's
 * own accessors treat it as gone already).  Under KVM's SRCU.
 */
static struct kvm_memory_slot *kvm_viommu_ram_slot(struct kvm *kvm,
						   gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	if (!slot || slot->id >= KVM_USER_MEM_SLOTS ||
	    slot->flags & KVM_MEMSLOT_INVALID)
		return NULL;
	return slot;
}

/*
 * Is the guest's memory at @gfn still @page?  Asked of the VM's mm as a
 * pin would be: the memslot's address for @gfn now, and the page the VM's
 * page tables map there, writable, without faulting anything in (a page
 * that would need a fault, or that is mapped read-only, is a miss: the
 * caller pins afresh).  Under KVM's SRCU, so the memslot cannot go while
 * we look.
 */
static bool kvm_viommu_still_maps(struct kvm_viommu *viommu, gfn_t gfn,
				  struct page *page)
{
	struct kvm *kvm = viommu->kvm;
	struct kvm_memory_slot *slot;
	struct page *now = NULL;
	int idx, got = 0;

	if (current->mm != kvm->mm)
		return false;
	idx = srcu_read_lock(&kvm->srcu);
	slot = kvm_viommu_ram_slot(kvm, gfn);
	if (slot)
		got = get_user_pages_fast_only(gfn_to_hva_memslot(slot, gfn),
					       1, FOLL_WRITE, &now);
	srcu_read_unlock(&kvm->srcu, idx);
	if (got != 1)
		return false;
	put_page(now);
	return now == page;
}

/*
 * The page cached for @gfn, if there is one and the guest's memory at
 * @gfn still is that page: out of the cache, and counted in the pin table
 * for one leaf (that may write it if @write).  Else NULL.
 */
static struct page *kvm_viommu_cache_take(struct kvm_viommu *viommu,
					  gfn_t gfn, bool write)
{
	struct kvm_viommu_cached *c = xa_load(&viommu->pin_cache, gfn);
	unsigned long pfn, v;
	struct page *page;

	if (!c || !kvm_viommu_still_maps(viommu, gfn, c->page))
		return NULL;
	page = c->page;
	pfn = page_to_pfn(page);
	v = xa_to_value(xa_load(&viommu->pins, pfn));
	kvm_viommu_cache_del(viommu, c);
	xa_store(&viommu->pins, pfn,
		 xa_mk_value(KVM_VIOMMU_PIN_ONE | (v & KVM_VIOMMU_PIN_WRITE) |
			     (write ? KVM_VIOMMU_PIN_WRITE : 0)), GFP_NOWAIT);
	viommu->cnt.pin_cache_hits++;
	return page;
}

/*
 * Pin the host pages behind [@gfn, @gfn + @n): guest RAM in memslots the
 * VMM made, not KVM's private ones (the APIC access page), and never the
 * unit's own register page.  Returns how many were pinned, or -errno
 * with none pinned.
 */
static long kvm_viommu_gup(struct kvm_viommu *viommu, gfn_t gfn,
			   unsigned long n, struct page **pages)
{
	unsigned int gup_flags = FOLL_LONGTERM | FOLL_WRITE;
	struct kvm_memory_slot *slot;
	struct kvm *kvm = viommu->kvm;
	unsigned long done = 0, run, max, hva, i;
	long got, ret = 0;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	while (done < n) {
		slot = kvm_viommu_ram_slot(kvm, gfn + done);
		if (!slot) {
			ret = -EFAULT;
			break;
		}
		hva = gfn_to_hva_memslot(slot, gfn + done);
		/* Within this memslot, as far as the VMM's mapping is too. */
		max = min(n - done, slot->base_gfn + slot->npages - gfn - done);
		for (run = 1; run < max; run++)
			if (gfn_to_hva_memslot(slot, gfn + done + run) !=
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
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	srcu_read_unlock(&kvm->srcu, idx);
	for (i = 0; !ret && i < done; i++)
		if (pages[i] == viommu->reg_page)
			ret = -EFAULT;
	if (ret) {
		unpin_user_pages(pages, done);
		return ret;
	}
	return done;
}

/*
 * Take one count off each of @pages[0, @n) in the pin table.  A page left
 * with none goes to the pin cache, for @gfn + its index, if @cache and the
 * cache takes it; else it is unpinned (dirty if any leaf let the device
 * write it).  Returns how many were unpinned; the caller uncharges them.
 */
static unsigned long kvm_viommu_put_pins(struct kvm_viommu *viommu,
					 struct page **pages, unsigned long n,
					 bool cache, gfn_t gfn)
{
	unsigned long i, pfn, v, released = 0;

	for (i = 0; i < n; i++) {
		pfn = page_to_pfn(pages[i]);
		v = xa_to_value(xa_load(&viommu->pins, pfn));
		if (WARN_ON_ONCE(v < KVM_VIOMMU_PIN_ONE ||
				 (v & KVM_VIOMMU_PIN_CACHED)))
			continue;
		if (v >= 2 * KVM_VIOMMU_PIN_ONE) {
			/* Fits in place: a smaller value, no allocation. */
			xa_store(&viommu->pins, pfn,
				 xa_mk_value(v - KVM_VIOMMU_PIN_ONE), GFP_NOWAIT);
			continue;
		}
		if (cache && kvm_viommu_cache_add(viommu, pages[i], gfn + i, v))
			continue;
		xa_erase(&viommu->pins, pfn);
		kvm_viommu_unpin_page(pages[i], v);
		released++;
		if (!(released % KVM_VIOMMU_UNPIN_BATCH))
			cond_resched();
	}
	return released;
}

/*
 * Pin [@gfn, @gfn + @n) through GUP and count the pages in the pin table.
 * A page the table holds already keeps the table's pin (a page in the
 * cache, for this gfn or another aliasing the same memory, leaves it);
 * *@fresh counts the others, not charged yet.  On error nothing of the
 * range stays pinned or counted, and cached pages it took are uncharged:
 * the pages that go back to no count are the fresh ones and those.
 */
static int kvm_viommu_pin_range(struct kvm_viommu *viommu, gfn_t gfn,
				unsigned long n, bool write, struct page **pages,
				unsigned long *fresh)
{
	unsigned long i, pfn, v, nv, w = write ? KVM_VIOMMU_PIN_WRITE : 0;
	struct kvm_viommu_cached *c;
	long got;
	int ret;

	got = kvm_viommu_gup(viommu, gfn, n, pages);
	if (got < 0)
		return got;
	for (i = 0; i < n; i++) {
		pfn = page_to_pfn(pages[i]);
		v = xa_to_value(xa_load(&viommu->pins, pfn));
		/* A page cached for @gfn + i that is not what GUP found. */
		c = xa_load(&viommu->pin_cache, gfn + i);
		if (c && c->page != pages[i]) {
			viommu->cnt.pin_cache_stale++;
			kvm_viommu_cache_evict(viommu, c);
		}
		if (v & KVM_VIOMMU_PIN_CACHED) {
			c = xa_load(&viommu->pin_cache,
				    v >> KVM_VIOMMU_PIN_SHIFT);
			if (!WARN_ON_ONCE(!c || c->page != pages[i]))
				kvm_viommu_cache_del(viommu, c);
			nv = KVM_VIOMMU_PIN_ONE | (v & KVM_VIOMMU_PIN_WRITE) | w;
		} else {
			nv = (v + KVM_VIOMMU_PIN_ONE) | w;
		}
		ret = xa_err(xa_store(&viommu->pins, pfn, xa_mk_value(nv),
				      GFP_KERNEL_ACCOUNT));
		if (ret) {
			kvm_viommu_released(viommu,
					    kvm_viommu_put_pins(viommu, pages, i,
								false, 0) -
					    *fresh);
			unpin_user_pages(pages + i, n - i);
			return ret;
		}
		/* Held already: the table's pin is enough. */
		if (v)
			unpin_user_page(pages[i]);
		else
			(*fresh)++;
	}
	return 0;
}

/**
 * kvm_viommu_pin() - pin and charge the host pages behind guest memory
 * @viommu: the unit, locked
 * @gpa: first guest-physical address, page aligned
 * @n: pages
 * @write: the device may write them
 * @pages: out: the pages, in GPA order
 *
 * A 4 KiB leaf (@n 1) takes the page the pin cache keeps for @gpa, if the
 * guest's memory there still is that page.  Otherwise, pages the unit
 * holds already (by a leaf, or in the cache for another GPA) are counted
 * again, not pinned again; the others are pinned and charged to the VM's
 * locked_vm against RLIMIT_MEMLOCK (over it, the cache is emptied and the
 * charge tried again).  Runs in process context with the VM's mm usable.
 *
 * Return: 0, or -ENOMEM over the limit (or for the table), -EFAULT for
 * what is not guest RAM in a memslot, or GUP's error; nothing stays
 * pinned, counted or charged then.
 */
int kvm_viommu_pin(struct kvm_viommu *viommu, u64 gpa, unsigned long n,
		   bool write, struct page **pages)
{
	gfn_t gfn = gpa >> PAGE_SHIFT;
	unsigned long fresh = 0;
	int ret;

	lockdep_assert_held(&viommu->lock);
	/* The cache serves 4 KiB leaves: a driver's buffers. */
	if (n == 1 && kvm_viommu_pin_cache_max()) {
		pages[0] = kvm_viommu_cache_take(viommu, gfn, write);
		if (pages[0])
			return 0;
		viommu->cnt.pin_cache_misses++;
	}
	ret = kvm_viommu_pin_range(viommu, gfn, n, write, pages, &fresh);
	if (ret)
		return ret;
	ret = kvm_viommu_charge_pages(viommu, fresh);
	/* Over RLIMIT_MEMLOCK: the cache's pages go first. */
	if (ret == -ENOMEM && kvm_viommu_pin_cache_drop(viommu))
		ret = kvm_viommu_charge_pages(viommu, fresh);
	if (ret) {
		/*
		 * As kvm_viommu_pin_range() undoes itself: the fresh pages
		 * were never charged, pages it took from the cache were.
		 */
		kvm_viommu_released(viommu,
				    kvm_viommu_put_pins(viommu, pages, n,
							false, 0) - fresh);
		return ret;
	}
	viommu->cnt.pinned_pages += fresh;
	return 0;
}

/**
 * kvm_viommu_unpin() - let go of pages taken by kvm_viommu_pin()
 * @viommu: the unit, locked
 * @pages: the pages
 * @n: how many
 * @gpa: the guest-physical address of the first
 * @cache: pages no leaf holds any more may stay in the pin cache
 *
 * The last leaf holding a page unpins and uncharges it, or with @cache
 * leaves it in the pin cache.  Only once no host IOMMU can reach the
 * pages through the leaf: callers unmap, sync the host IOTLB and check
 * first.
 */
void kvm_viommu_unpin(struct kvm_viommu *viommu, struct page **pages,
		      unsigned long n, u64 gpa, bool cache)
{
	lockdep_assert_held(&viommu->lock);
	if (n)
		kvm_viommu_released(viommu,
				    kvm_viommu_put_pins(viommu, pages, n, cache,
							gpa >> PAGE_SHIFT));
}
