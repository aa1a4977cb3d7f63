/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvm_viommu internals shared between the files of the module.
 */
#ifndef _KVM_VIOMMU_H_
#define _KVM_VIOMMU_H_

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/poll.h>
#include <linux/kvm_viommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "vtd.h"
#include "vtd_walk.h"

struct dentry;
struct eventfd_ctx;
struct file;
struct kvm;
struct kvm_viommu_poller;
struct page;
struct seq_file;
struct task_struct;
struct vtd_translation;

/* Forwarded descriptors the VMM has not read yet, at most. */
#define KVM_VIOMMU_EVENT_RING	64

/*
 * Guest pages whose host address the unit keeps for the VT-d core's reads
 * (guest.c): a walk's tables, one per level, the root and context tables
 * and the invalidation queue.
 */
#define KVM_VIOMMU_GPA_CACHE	8

/*
 * Work one queue run may do (module parameters run_budget and
 * vcpu_run_budget), in units of one guest paging entry read or one 4 KiB
 * page pinned, mapped, unmapped or unpinned: a full run (by the unit's
 * worker, or in a call of the VMM's), and a short run in the ringing
 * vCPU's thread (that thread is in KVM_RUN, and its guest waits).  What a
 * run leaves over waits for the worker's next run.
 */
#define KVM_VIOMMU_RUN_BUDGET		BIT(20)
#define KVM_VIOMMU_VCPU_RUN_BUDGET	BIT(12)

/**
 * struct kvm_viommu_counters - the unit's own statistics
 *
 * See struct kvm_viommu_stats in the uapi for each; all under the unit's
 * lock.  @failed is 0 or 1.
 */
struct kvm_viommu_counters {
	u64 relay_reads;
	u64 relay_writes;
	u64 maps;
	u64 unmaps;
	u64 pinned_pages;
	u64 walks;
	u64 walk_faults;
	u64 pin_failures;
	u64 devices;
	u64 leaves;
	u64 resv_faults;
	u64 walk_yields;
	u64 ack_stalls;
	u64 unmap_mismatches;
	u64 failed;
	u64 polled_writes;
	u64 polled_runs;
	u64 parks;
	u64 unparks;
	u64 iotlb_syncs;
	u64 locked_pages;
	u64 pin_cache_pages;
	u64 pin_cache_hits;
	u64 pin_cache_misses;
	u64 pin_cache_stale;
	u64 translations;
	u64 translate_faults;
	u64 inval_events;
};

/**
 * struct kvm_viommu - one guest VT-d unit, bound to one VM
 * @ref: references to the struct: one held by the unit's file from
 *	creation to its ->release(), one by each queued vCPU task work
 *	(@iq_twork).  ->release() frees the struct if it puts the last one;
 *	any other last put frees it from kvm_viommu_wq, never in the putter's
 *	context (which may be a vCPU thread inside KVM_RUN).
 * @free_work: that deferred free.
 * @kvm: the VM.  A reference is taken at creation and dropped by the
 *	free, so the VM outlives the unit whatever the VMM closes first.
 * @node: entry in the global list of units (one unit per VM); protected by
 *	kvm_viommu_list_lock.
 * @id: small unique number, names the debugfs directory.
 * @owner_tgid: the creating process's global tgid, for operators.
 * @owner: that process's group leader, referenced from create to free:
 *	pinned pages are charged against its RLIMIT_MEMLOCK, whoever pins.
 * @flags: KVM_VIOMMU_CREATE_* the unit was created with.
 * @debugfs_dir: this unit's directory under <debugfs>/kvm_viommu.
 * @lock: protects @vtd (and so the register page), @irqfd, the event ring
 *	and acknowledgments, @devices and their shadows, @cnt, @te, @dead,
 *	@run_budget and the binding of doorbells.  A mutex: held across
 *	guest memory accesses and IOMMU map/unmap, which sleep.  Taken in
 *	process context only: killably by the VMM's own calls (ioctls,
 *	read(), debugfs readers) and by a tracked write's task work (which
 *	must apply the write before its vCPU runs on, and so waits out a
 *	queue run in progress: at most one run's budget), plainly by the
 *	worker, the unit's release and the PCI bus notifier, and only with
 *	mutex_trylock() by the sidecore poller and by a ringing vCPU's queue
 *	task work (@iq_twork), which hand the work on when it is busy; never
 *	in a doorbell's wake-up.  Outside KVM's slots_lock (sidecore.c takes
 *	that inside it).
 * @dead: set under @lock by ->release() before it tears anything down;
 *	queue runs that start later find nothing to do.
 * @vtd: the VT-d core's state; its register image is @regs.
 * @regs: the core's register image, VTD_REG_PAGE_SIZE bytes.
 * @reg_page: the register page the guest reads: @regs as published
 *	(regpage.c), mapped read-only by the VMM (and so into the guest)
 *	through mmap() of the unit fd.  The unit owns one reference; each
 *	mapping holds its own.
 * @hold: KVM_VIOMMU_HOLD_* (regpage.c): registers that read as a command
 *	still in progress while its shadow work is pending.
 * @held_gsts: what GSTS reads meanwhile, under KVM_VIOMMU_HOLD_GSTS.
 * @doorbells: IQT.QT value -> struct kvm_viommu_db.  Stores and erases
 *	happen under @lock; the xarray's own lock covers lookups.
 * @pending_qt: the IQT.QT value of the newest doorbell not yet applied, or
 *	-1.  Written by doorbell wake-ups (atomic context), consumed with
 *	atomic_xchg() under @lock: the newest tail wins, as in hardware.
 * @worker: the unit's queue worker, a kernel thread in the owner's cgroups
 *	(so the CPU a guest's invalidations cost is the VM's), like
 *	vhost's.  Created with the unit, destroyed by the free: anyone
 *	holding @ref may queue @iq_work.
 * @iq_work: applies @pending_qt and processes the queue, on @worker.
 * @iq_twork: the queue run as task work of the vCPU thread that rang,
 *	before KVM re-enters the guest; holds @ref while queued.
 * @iq_twork_busy: 1 from a wake-up's claim of @iq_twork until its callback
 *	starts; other wake-ups meanwhile kick @worker.
 * @irqfd: eventfds of the unit's interrupts, KVM_VIOMMU_IRQ_*; under @lock.
 * @events: ring of forwarded descriptors, @ev_head the oldest, @ev_count
 *	of them valid; under @lock.  @ev_count is also read without it by
 *	poll().
 * @ev_seq: sequence number of the newest event pushed (0: none yet).
 * @ev_read_seq: of the newest event read() returned.
 * @ev_acked_seq: of the newest event the VMM acknowledged.
 * @ack_stalled: the queue waits at a wait descriptor for an acknowledgment
 *	(set once per stall, for the statistics; cleared by the
 *	acknowledgment that lets the wait complete).
 * @run_stalled: the current queue run stopped at such a wait.
 * @event_wq: readers and pollers of @events.
 * @read_lock: serializes read()s of @events (taken killably, outside
 *	@lock): a reader copies events out without @lock, then takes them
 *	off the ring.
 * @ev_mask: KVM_VIOMMU_EVENTS_* the VMM asked for; under @lock.
 * @ev_owed: an invalidation event found the ring full: a global one is
 *	owed, pushed as soon as read() makes room; under @lock.
 * @reg_ev_seq: the newest invalidation event a register write pushed (or
 *	the owed one's): until it is acknowledged, the command reads as in
 *	progress; under @lock.
 * @reg_applying: a register write is being applied (kvm_viommu_reg_apply());
 *	under @lock.
 * @xl_dids: under KVM_VIOMMU_EVENTS_INVALIDATIONS, the domains through
 *	which KVM_VIOMMU_TRANSLATE answered since the last invalidation
 *	event that covered them (one bit per CAP.ND domain-id), @xl_nr_dids
 *	of them; @xl_untranslated: it answered untranslated (translation
 *	off, pass-through).  What the VMM may hold; under @lock
 *	(coherence.c).
 * @nr_doorbells: doorbell signals received (atomic: counted in wake-ups).
 * @nr_iq_runs_vcpu: queue runs as a vCPU thread's task work.
 * @nr_iq_runs_worker: queue runs by the worker.
 * @devices: attached devices, struct kvm_viommu_dev.
 * @pins: the pin table (pin.c): pfn -> the shadow leaves holding that
 *	host page pinned, over all devices, or the gfn the pin cache keeps
 *	it for.  Under @lock.
 * @pin_cache: the pin cache (pin.c): gfn -> the page kept pinned for it,
 *	which no leaf holds.  Under @lock.
 * @pin_lru: the pin cache's pages, oldest first.  Under @lock.
 * @pin_cache_gen: the memslots' generation the pin cache was last checked
 *	against (kvm_viommu_pin_cache_check()).  Under @lock.
 * @lock_credit: pages charged to locked_vm beyond those pinned (pin.c),
 *	at most two charge chunks.  Under @lock.
 * @gpa_cache: guest pages the VT-d core read lately, with their host
 *	addresses (guest.c); @gpa_cache_next is the entry to replace next.
 *	Under @lock.
 * @attach_seq: the newest device's attach_id.
 * @te: GSTS.TES as the shadow last saw it.
 * @cnt: the unit's statistics.
 * @run_budget: work the current queue run may still do (see
 *	KVM_VIOMMU_RUN_BUDGET); walks and page loops charge it.
 * @run_overdraw: the current run is a full one that has not yet taken on
 *	a leaf beyond its budget: it may, once, and stops after.
 * @pub: what was last published of each 32-bit word of the page; with
 *	the sidecore, a word that differs is a guest write (regpage.c).
 * @snap: the page as a drain read it, word by word (regpage.c).
 * @pub_clean: with the sidecore, the last publish showed every register
 *	as it read then, and @pub has not changed since; @pub_gen,
 *	@pub_hold, @pub_held_gsts and @pub_sc_flags are what the view
 *	depended on then (kvm_viommu_publish()).  Under @lock.
 * @sc_flags: KVM_VIOMMU_SIDECORE_* in force, 0 when off (sidecore.c).
 *	Written under @lock, read without it by the page-track notifier.
 * @reg_gfn: where the guest has the page, with the sidecore on; written
 *	under @lock, read without it by KVM's callbacks.
 * @tracked: the unit takes the guest's writes from KVM's tracking of
 *	@reg_gfn (it holds a count there, @track_held, unless a memslot
 *	change it has not taken in yet, @reg_slot_gone, took it).
 * @polled: the poller owns the page: not tracked, and quiet.  Written
 *	under @lock, read without it by the poller as a hint.
 * @drain_pending: the guest may have written the page where no tracking
 *	saw it (before KVM's tracking took hold, or when a tracked write
 *	found no memory for its task work): the next queue run applies it.
 *	Set in any context, taken with atomic_xchg() under @lock.
 * @track_registered: @track_node is registered with KVM (till release).
 * @track_lock: protects @track_held.
 * @track_held: one count of ours is in KVM's write tracking of @reg_gfn's
 *	memslot.  Changed only under KVM's slots_lock too: by the unit
 *	(sidecore.c), and by KVM's memslot callback, which takes the count
 *	off the memslot it is deleting or moving.
 * @reg_slot_gone: KVM deleted or moved (or, on 6.1, is deleting or
 *	moving) @reg_gfn's memslot; set by KVM's callback, taken in with
 *	atomic_xchg() under @lock, which then looks for the memslot again.
 * @track_node: our page-track notifier.
 * @rearm_work: looks for the page's memslot again (sidecore.c), on
 *	kvm_viommu_wq; cancelled by the release.
 * @rearm_delay_ms: its next delay.
 * @msg_ctx: the VMM's eventfd for changed interrupt messages.
 * @irq_msg_gen: changes of a message register under the sidecore.
 * @irq_msg_read: the newest @irq_msg_gen KVM_VIOMMU_GET_IRQ_MSGS returned.
 * @irq_msg_acked: the newest the VMM routed (KVM_VIOMMU_ACK_EVENTS);
 *	interrupts wait in @irq_held while it is behind @irq_msg_gen.
 * @irq_held: KVM_VIOMMU_IRQ_* bits of interrupts held back meanwhile.
 * @nr_tracked_writes: writes the notifier saw (atomic: no lock there).
 * @poller: the poller serving the unit, or NULL; under
 *	kvm_viommu_pollers_lock (poller.c), read without it as a hint.
 * @poll_node: in the poller's list of units, under the poller's lock.
 * @lock_retry: the poller's last unpark or park of the unit found its lock
 *	busy: set by the poller under its lock (smp_store_release), cleared
 *	by it under both locks or by kvm_viommu_poller_sync() under the
 *	poller's as the unit leaves, read by kvm_viommu_unlock() after the
 *	unlock (smp_load_acquire) of a unit with KVM_VIOMMU_SIDECORE_POLL,
 *	which then wakes the poller; see poller.c.
 *
 * The unit's resources that reach other subsystems (doorbells, devices,
 * irqfds, debugfs) go in its file's ->release(); the struct, its worker and
 * its references on the VM, the owner and this module go with the last
 * @ref.
 */
struct kvm_viommu {
	struct kref ref;
	struct work_struct free_work;
	struct kvm *kvm;
	struct list_head node;
	u32 id;
	pid_t owner_tgid;
	struct task_struct *owner;
	u32 flags;
	struct dentry *debugfs_dir;

	struct mutex lock;	/* see @lock above */
	bool dead;
	struct vtd_unit vtd;
	u8 *regs;
	struct page *reg_page;
	u8 hold;
	u32 held_gsts;

	struct xarray doorbells;
	atomic_t pending_qt;
	struct kthread_worker *worker;
	struct kthread_work iq_work;
	struct callback_head iq_twork;
	atomic_t iq_twork_busy;

	struct eventfd_ctx *irqfd[KVM_VIOMMU_NR_IRQS];

	struct kvm_viommu_event events[KVM_VIOMMU_EVENT_RING];
	unsigned int ev_head;
	unsigned int ev_count;
	u64 ev_seq;
	u64 ev_read_seq;
	u64 ev_acked_seq;
	bool ack_stalled;
	bool run_stalled;
	wait_queue_head_t event_wq;
	struct mutex read_lock;	/* see @read_lock above */
	u32 ev_mask;
	bool ev_owed;
	bool reg_applying;
	u64 reg_ev_seq;
	unsigned long *xl_dids;
	u32 xl_nr_dids;
	bool xl_untranslated;

	atomic64_t nr_doorbells;
	atomic64_t nr_iq_runs_vcpu;
	atomic64_t nr_iq_runs_worker;

	struct list_head devices;
	struct xarray pins;
	struct xarray pin_cache;
	struct list_head pin_lru;
	u64 pin_cache_gen;
	unsigned long lock_credit;
	struct gfn_to_hva_cache gpa_cache[KVM_VIOMMU_GPA_CACHE];
	unsigned int gpa_cache_next;
	u64 attach_seq;
	bool te;
	struct kvm_viommu_counters cnt;
	u32 run_budget;
	bool run_overdraw;

	__le32 *pub;
	__le32 *snap;
	bool pub_clean;
	u8 pub_hold;
	u32 pub_gen;
	u32 pub_held_gsts;
	u32 pub_sc_flags;
	u32 sc_flags;
	gfn_t reg_gfn;
	bool tracked;
	bool polled;
	atomic_t drain_pending;
	bool track_registered;
	spinlock_t track_lock;	/* see @track_lock above */
	bool track_held;
	atomic_t reg_slot_gone;
	struct kvm_page_track_notifier_node track_node;
	struct delayed_work rearm_work;
	unsigned int rearm_delay_ms;
	struct eventfd_ctx *msg_ctx;
	u64 irq_msg_gen;
	u64 irq_msg_read;
	u64 irq_msg_acked;
	u8 irq_held;
	atomic64_t nr_tracked_writes;
	struct kvm_viommu_poller *poller;
	struct list_head poll_node;
	bool lock_retry;
};

/* An ioctl call in flight: the user's buffer and the kernel's copy of it. */
struct kvm_viommu_ucmd {
	struct file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/*
 * struct kvm_viommu_ioctl_op - one entry of an ioctl table
 * @ioctl_num: the full ioctl number
 * @size: sizeof() the kernel's struct
 * @min_size: offsetofend() of the last field of the struct's first version
 * @execute: handler; ucmd->cmd holds @size bytes copied from the user
 */
struct kvm_viommu_ioctl_op {
	unsigned int ioctl_num;
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct kvm_viommu_ucmd *ucmd);
};

long kvm_viommu_ioctl_dispatch(const struct kvm_viommu_ioctl_op *ops,
			       unsigned int nr_ops, unsigned int cmd_base,
			       struct file *file, unsigned int cmd,
			       unsigned long arg);

int kvm_viommu_ucmd_respond(struct kvm_viommu_ucmd *ucmd, size_t size);

extern struct dentry *kvm_viommu_debugfs_root;
extern struct workqueue_struct *kvm_viommu_wq;

/* viommu.c: the unit object and its fd */
int kvm_viommu_create(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_get(struct kvm_viommu *viommu);
void kvm_viommu_put(struct kvm_viommu *viommu);
int kvm_viommu_lock(struct kvm_viommu *viommu);
void kvm_viommu_fail(struct kvm_viommu *viommu, const char *why);
bool kvm_viommu_file_is_unit(struct file *file, struct kvm_viommu *viommu);

/* regpage.c: the register page the guest reads */
int kvm_viommu_regpage_init(void);
int kvm_viommu_regs_init(struct kvm_viommu *viommu);
void kvm_viommu_regs_free(struct kvm_viommu *viommu);
u32 kvm_viommu_reg_view(struct kvm_viommu *viommu, u32 off);
void kvm_viommu_publish(struct kvm_viommu *viommu);
void kvm_viommu_unlock(struct kvm_viommu *viommu);
int kvm_viommu_reg_write_guest(struct kvm_viommu *viommu, u32 off, u32 len,
			       u64 val);
int kvm_viommu_reg_apply(struct kvm_viommu *viommu, u32 off, u32 len,
			 u64 val);
void kvm_viommu_reg_apply_bytes(struct kvm_viommu *viommu, u32 off,
				const u8 *val, u32 bytes);
bool kvm_viommu_regs_quiet(struct kvm_viommu *viommu);
void kvm_viommu_regs_sidecore_begin(struct kvm_viommu *viommu);
unsigned int kvm_viommu_page_drain(struct kvm_viommu *viommu);
bool kvm_viommu_page_written(struct kvm_viommu *viommu);

/* sidecore.c: the guest writing the register page itself */
void kvm_viommu_sidecore_init(struct kvm_viommu *viommu);
int kvm_viommu_set_sidecore(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_sidecore_release(struct kvm_viommu *viommu);
void kvm_viommu_sidecore_publishing(struct kvm_viommu *viommu);
bool kvm_viommu_sidecore_park(struct kvm_viommu *viommu);
bool kvm_viommu_sidecore_unpark(struct kvm_viommu *viommu);
void kvm_viommu_irq_msg_changed(struct kvm_viommu *viommu);
int kvm_viommu_get_irq_msgs(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_translate(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_set_events(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_coherence_answered(struct kvm_viommu *viommu,
				   const struct vtd_translation *t);
bool kvm_viommu_coherence_pending(struct kvm_viommu *viommu);
void kvm_viommu_coherence_cc(struct kvm_viommu *viommu,
			     const struct vtd_cc_inval *inv);
void kvm_viommu_coherence_iotlb(struct kvm_viommu *viommu,
				const struct vtd_iotlb_inval *inv);
void kvm_viommu_coherence_changed(struct kvm_viommu *viommu);
void kvm_viommu_coherence_read(struct kvm_viommu *viommu);
void kvm_viommu_coherence_free(struct kvm_viommu *viommu);

/* poller.c: the sidecore threads */
void kvm_viommu_poller_sync(struct kvm_viommu *viommu);
void kvm_viommu_poller_kick(struct kvm_viommu *viommu);
void kvm_viommu_poller_released(struct kvm_viommu *viommu);
void kvm_viommu_pollers_exit(void);
pid_t kvm_viommu_poller_pid(struct kvm_viommu *viommu);

/* debugfs.c: the unit's debugfs directory */
void kvm_viommu_debugfs_init(struct kvm_viommu *viommu);

/* stats.c: the statistics, listed once */
void kvm_viommu_stats_fill(struct kvm_viommu *viommu,
			   struct kvm_viommu_stats *st);
void kvm_viommu_stats_show(struct kvm_viommu *viommu, struct seq_file *m);
int kvm_viommu_get_stats(struct kvm_viommu_ucmd *ucmd);

/* guest.c: the VT-d core's callbacks into KVM and the host */
extern const struct vtd_ops kvm_viommu_vtd_ops;

/* relay.c: register relay and information */
int kvm_viommu_get_info(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_reg_read(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_reg_write(struct kvm_viommu_ucmd *ucmd);

/* doorbell.c: IQT doorbells */
int kvm_viommu_set_doorbell(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_doorbells_release(struct kvm_viommu *viommu);

/* iq.c: where and how much of the queue is processed */
void kvm_viommu_run_begin(struct kvm_viommu *viommu, bool full);
void kvm_viommu_take_tail(struct kvm_viommu *viommu);
void kvm_viommu_iq_run(struct kvm_viommu *viommu, bool full);
bool kvm_viommu_iq_should_stop(struct kvm_viommu *viommu);
bool kvm_viommu_abandoned(struct kvm_viommu *viommu);
bool kvm_viommu_in_worker(struct kvm_viommu *viommu);
void kvm_viommu_iq_ring(struct kvm_viommu *viommu);
void kvm_viommu_iq_kick(struct kvm_viommu *viommu);
int kvm_viommu_worker_init(struct kvm_viommu *viommu);
void kvm_viommu_worker_stop(struct kvm_viommu *viommu);
void kvm_viommu_worker_destroy(struct kvm_viommu *viommu);
void kvm_viommu_iq_exit(void);
void kvm_viommu_twork_start(void);
void kvm_viommu_twork_done(void);

/* irq.c: the unit's interrupts */
int kvm_viommu_set_irqfd(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_send_irq(struct kvm_viommu *viommu, unsigned int irq);
int kvm_viommu_irqs_routed(struct kvm_viommu *viommu, u64 gen);
void kvm_viommu_irqs_unhold(struct kvm_viommu *viommu);
void kvm_viommu_irqfds_release(struct kvm_viommu *viommu);

/* event.c: descriptors forwarded to the VMM, and their acknowledgment */
void kvm_viommu_event_push(struct kvm_viommu *viommu,
			   const struct vtd_inv_desc *desc, u32 flags);
unsigned int kvm_viommu_event_space(struct kvm_viommu *viommu);
bool kvm_viommu_events_acked(struct kvm_viommu *viommu);
int kvm_viommu_ack_events(struct kvm_viommu_ucmd *ucmd);
ssize_t kvm_viommu_event_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos);
__poll_t kvm_viommu_event_poll(struct file *file, poll_table *wait);

static inline struct kvm_viommu *vtd_to_viommu(struct vtd_unit *u)
{
	return container_of(u, struct kvm_viommu, vtd);
}

#endif /* _KVM_VIOMMU_H_ */
