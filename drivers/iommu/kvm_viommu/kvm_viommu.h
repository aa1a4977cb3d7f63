/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvm_viommu internals shared between the files of the module.
 */
#ifndef _KVM_VIOMMU_H_
#define _KVM_VIOMMU_H_

#include <linux/atomic.h>
#include <linux/kthread.h>
#include <linux/poll.h>
#include <linux/kvm_viommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "vtd.h"
#include "vtd_walk.h"

struct dentry;
struct eventfd_ctx;
struct file;
struct kvm;
struct page;
struct task_struct;

/* Forwarded descriptors the VMM has not read yet, at most. */
#define KVM_VIOMMU_EVENT_RING	64

/**
 * struct kvm_viommu - one guest VT-d unit, bound to one VM
 * @kvm: the VM.  A reference is taken in kvm_viommu_create() and dropped in
 *	the fd's release, so the VM outlives the unit whatever the VMM closes
 *	first.
 * @node: entry in the global list of units (one unit per VM); protected by
 *	kvm_viommu_list_lock.
 * @id: small unique number, names the debugfs directory.
 * @owner_tgid: the process that created the unit, for operators.
 * @owner: that process's group leader, referenced from create to free:
 *	pinned pages are charged against its RLIMIT_MEMLOCK, whoever pins.
 * @debugfs_dir: this unit's directory under <debugfs>/kvm_viommu.
 * @lock: protects @vtd (and so the register page), @irqfd, the event ring
 *	and the binding of doorbells.  A mutex: it is held across guest
 *	memory accesses and, later, IOMMU map/unmap, which may sleep.  Taken
 *	in process context only (ioctls, read(), the queue worker), never in
 *	a doorbell's wake-up.
 * @vtd: the VT-d core's state; its register image is @reg_page.
 * @reg_page: the register page, mapped read-only by the VMM (and so into
 *	the guest) through mmap() of the unit fd.  The unit owns one
 *	reference; each mapping holds its own, so the page outlives the unit
 *	until the last mapping goes.
 * @doorbells: IQT.QT value -> struct kvm_viommu_doorbell.  Stores and
 *	erases happen under @lock; the xarray's own lock covers lookups.
 * @pending_qt: the IQT.QT value of the newest doorbell not yet applied, or
 *	-1.  Written by doorbell wake-ups (atomic context), consumed with
 *	atomic_xchg() under @lock: the newest tail wins, as in hardware.
 * @worker: the unit's queue worker, a kernel thread in the owner's cgroups
 *	(so the CPU time a guest's invalidations cost is the VM's), like
 *	vhost's.  Created with the unit, destroyed (after its last run) by
 *	the unit's release.
 * @iq_work: applies @pending_qt and processes the queue, on @worker.
 * @file: the unit fd's file.  Not a reference: set before the file is
 *	installed, valid while the unit lives.  A doorbell's wake-up takes a
 *	reference (only while the count is not zero) for @iq_twork.
 * @iq_twork: the fast path: the queue run as task work of the vCPU thread
 *	that rang, before KVM re-enters the guest.  Holds a reference on
 *	@file from task_work_add() to the end of its callback.
 * @iq_twork_busy: 1 from a wake-up's claim of @iq_twork until its callback
 *	starts; other wake-ups meanwhile use @iq_work.
 * @irqfd: eventfds of the unit's interrupts, KVM_VIOMMU_IRQ_*; under @lock.
 * @events: ring of forwarded descriptors, @ev_head the oldest, @ev_count
 *	of them valid; under @lock.  @ev_count is also read without it by
 *	poll().
 * @event_wq: readers and pollers of @events.
 * @nr_doorbells: doorbell signals received (atomic: counted in wake-ups).
 * @nr_iq_runs_vcpu: queue runs as a vCPU thread's task work.
 * @nr_iq_runs_worker: queue runs by the worker.
 * @relay_reads: KVM_VIOMMU_REG_READ calls; under @lock.
 * @relay_writes: KVM_VIOMMU_REG_WRITE calls; under @lock.
 * @devices: attached devices, struct kvm_viommu_dev; under @lock.
 * @te: GSTS.TES as the shadow last saw it; under @lock.
 * @shadow_stats: shadow counters; under @lock.
 * @run_walk_reads: guest paging entries read by shadow walks since the
 *	current queue run began; under @lock.
 *
 * The unit lives exactly as long as its file: it is allocated before the
 * file exists and freed by the file's ->release(), which the VFS calls once
 * every reference to the file (fds, in-flight ioctls) is gone.  Each file
 * also pins the module, so the module cannot go while a unit exists.
 */
struct kvm_viommu {
	struct kvm *kvm;
	struct list_head node;
	u32 id;
	pid_t owner_tgid;
	struct task_struct *owner;
	struct dentry *debugfs_dir;

	struct mutex lock;	/* see @lock above */
	struct vtd_unit vtd;
	struct page *reg_page;

	struct xarray doorbells;
	atomic_t pending_qt;
	struct kthread_worker *worker;
	struct kthread_work iq_work;
	struct file *file;
	struct callback_head iq_twork;
	atomic_t iq_twork_busy;

	struct eventfd_ctx *irqfd[KVM_VIOMMU_NR_IRQS];

	struct kvm_viommu_event events[KVM_VIOMMU_EVENT_RING];
	unsigned int ev_head;
	unsigned int ev_count;
	wait_queue_head_t event_wq;

	atomic64_t nr_doorbells;
	atomic64_t nr_iq_runs_vcpu;
	atomic64_t nr_iq_runs_worker;
	u64 relay_reads;
	u64 relay_writes;

	struct list_head devices;
	bool te;
	struct {
		u64 maps;
		u64 unmaps;
		u64 pinned_pages;
		u64 walks;
		u64 walk_faults;
		u64 pin_failures;
		u64 devices;
		u64 leaves;
	} shadow_stats;
	u64 run_walk_reads;
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

/* viommu.c: the unit object and its fd */
int kvm_viommu_create(struct kvm_viommu_ucmd *ucmd);

/* guest.c: the VT-d core's callbacks into KVM and the host */
extern const struct vtd_ops kvm_viommu_vtd_ops;

/* relay.c: register relay, information and statistics */
int kvm_viommu_get_info(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_reg_read(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_reg_write(struct kvm_viommu_ucmd *ucmd);
int kvm_viommu_get_stats(struct kvm_viommu_ucmd *ucmd);

/* doorbell.c: IQT doorbells and the queue worker */
int kvm_viommu_set_doorbell(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_iq_run(struct kvm_viommu *viommu);
bool kvm_viommu_iq_should_stop(struct kvm_viommu *viommu);
int kvm_viommu_worker_init(struct kvm_viommu *viommu);
void kvm_viommu_worker_release(struct kvm_viommu *viommu);
void kvm_viommu_iq_kick(struct kvm_viommu *viommu);
void kvm_viommu_doorbells_release(struct kvm_viommu *viommu);

/* irq.c: the unit's interrupts */
int kvm_viommu_set_irqfd(struct kvm_viommu_ucmd *ucmd);
void kvm_viommu_send_irq(struct kvm_viommu *viommu, unsigned int irq);
void kvm_viommu_irqfds_release(struct kvm_viommu *viommu);

/* event.c: descriptors forwarded to the VMM */
void kvm_viommu_event_push(struct kvm_viommu *viommu,
			   const struct vtd_inv_desc *desc);
unsigned int kvm_viommu_event_space(struct kvm_viommu *viommu);
ssize_t kvm_viommu_event_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos);
__poll_t kvm_viommu_event_poll(struct file *file, poll_table *wait);

static inline struct kvm_viommu *vtd_to_viommu(struct vtd_unit *u)
{
	return container_of(u, struct kvm_viommu, vtd);
}

#endif /* _KVM_VIOMMU_H_ */
