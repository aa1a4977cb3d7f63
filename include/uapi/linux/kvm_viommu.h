/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm_viommu: in-kernel emulation of a guest Intel VT-d unit for KVM guests
 * with assigned (VFIO) devices.
 *
 * The VMM ABI.  Documentation/virt/kvm_viommu.rst is the reference.
 *
 * Conventions, for every ioctl below:
 *  - the argument is a struct whose first field, @size, is set by the caller
 *    to sizeof() of the struct it was compiled with.  The kernel accepts any
 *    size from the struct's first version up to its own; a larger struct is
 *    accepted only if the bytes the kernel does not know are zero (E2BIG
 *    otherwise), so structs grow at the end without new ioctl numbers;
 *  - @flags bits that are not defined must be zero (EINVAL otherwise);
 *  - fields named __reserved must be zero (EINVAL otherwise).
 */
#ifndef _UAPI_LINUX_KVM_VIOMMU_H
#define _UAPI_LINUX_KVM_VIOMMU_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* The misc device that KVM_CREATE_VIOMMU is issued on. */
#define KVM_VIOMMU_DEVICE_NAME	"kvm_viommu"

/*
 * The VFIO IOMMU type (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) of the
 * module's own container backend: the container of a device attached to a
 * unit.  It holds one group, gives it a domain of its own, reports page
 * sizes and usable IOVA ranges as type1 does (VFIO_IOMMU_GET_INFO), and
 * refuses VFIO_IOMMU_MAP_DMA and _UNMAP_DMA (EPERM): the unit owns the
 * domain.
 */
#define KVM_VIOMMU_VFIO_IOMMU	0x6b76

/*
 * The ioctl type: 0xBA, numbers 0x00-0x1F, free in
 * Documentation/userspace-api/ioctl/ioctl-number.rst as of 6.12.
 */
#define KVM_VIOMMU_TYPE		0xBA

enum {
	/* /dev/kvm_viommu */
	KVM_VIOMMU_CMD_CREATE = 0x00,
	/* unit fd */
	KVM_VIOMMU_CMD_GET_INFO = 0x01,
	KVM_VIOMMU_CMD_REG_READ,
	KVM_VIOMMU_CMD_REG_WRITE,
	KVM_VIOMMU_CMD_SET_DOORBELL,
	KVM_VIOMMU_CMD_SET_IRQFD,
	KVM_VIOMMU_CMD_GET_STATS,
	KVM_VIOMMU_CMD_ATTACH_DEVICE,
	KVM_VIOMMU_CMD_DETACH_DEVICE,
	KVM_VIOMMU_CMD_ACK_EVENTS,
	KVM_VIOMMU_CMD_SET_SIDECORE,
	KVM_VIOMMU_CMD_GET_IRQ_MSGS,
	KVM_VIOMMU_CMD_TRANSLATE,
	KVM_VIOMMU_CMD_SET_EVENTS,
};

/* Largest argument size accepted: E2BIG above it. */
#define KVM_VIOMMU_MAX_ARG_SIZE	4096

/*
 * Create flags.  KVM_VIOMMU_CREATE_TE_OFF_BLOCKS: while the guest has
 * translation off (GSTS.TES clear), attached devices' DMA is blocked.
 * Without it the unit does what VT-d hardware does: with TES clear, DMA is
 * untranslated, IOVA = GPA, and the unit maps all of the VM's RAM into each
 * attached device's host domain (pinned and charged as VFIO type1 charges a
 * VM without a vIOMMU).
 */
#define KVM_VIOMMU_CREATE_TE_OFF_BLOCKS	(1U << 0)

/**
 * struct kvm_viommu_create - ioctl(KVM_CREATE_VIOMMU)
 * @size: sizeof(struct kvm_viommu_create)
 * @flags: KVM_VIOMMU_CREATE_* bits
 * @vm_fd: a KVM VM file descriptor (from KVM_CREATE_VM) of the calling
 *         process
 * @__reserved: must be 0
 * @cap: the CAP_REG value asked for; 0 for the module's default
 * @ecap: the ECAP_REG value asked for; 0 for the module's default
 *
 * Create the VT-d unit of the VM behind @vm_fd.  On success the ioctl
 * returns a new file descriptor (O_CLOEXEC) for the unit; the unit holds a
 * reference on the VM until that descriptor is closed.  A VM has at most one
 * unit.  @cap and @ecap may ask only for what the module supports; it then
 * fixes the fields that describe its own layout (CAP.CM, FRO, NFR, ECAP.QI,
 * IRO) and clamps CAP.MAMV to the guest address width.
 * KVM_VIOMMU_GET_INFO returns the values in force.
 *
 * Errors: EFAULT bad argument pointer; EINVAL short @size, unknown @flags,
 * nonzero @__reserved, unsupported @cap or @ecap bits, or @vm_fd is not a
 * KVM VM; E2BIG @size larger than the kernel knows with nonzero tail, or
 * larger than KVM_VIOMMU_MAX_ARG_SIZE; EBADF @vm_fd is not an open
 * descriptor; EPERM the VM belongs to another process; EEXIST the VM has a
 * unit already; ENOMEM, EMFILE, ENFILE.
 */
struct kvm_viommu_create {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 __reserved;
	__u64 cap;
	__u64 ecap;
};

#define KVM_CREATE_VIOMMU	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_CREATE)

/*
 * The ioctls below are issued on a unit fd, by the process that owns the
 * VM (EPERM otherwise); read(), poll() and mmap() likewise.  Once the unit
 * has failed (it found the host IOMMU domain changed under it and keeps
 * the affected pages pinned; see the rst), every one of them but
 * KVM_VIOMMU_GET_STATS fails with EIO.  Any of them may fail with EINTR
 * when a fatal signal is pending.
 */

/* The register page: mmap() offset and size on the unit fd. */
#define KVM_VIOMMU_REG_PAGE_OFFSET	0
#define KVM_VIOMMU_REG_PAGE_SIZE	4096

/* The IQT register's offset in the register page. */
#define KVM_VIOMMU_IQT_OFFSET		0x88

/**
 * struct kvm_viommu_info - ioctl(KVM_VIOMMU_GET_INFO)
 * @size: sizeof(struct kvm_viommu_info)
 * @flags: must be 0
 * @cap: out: CAP_REG as the guest reads it
 * @ecap: out: ECAP_REG as the guest reads it
 * @reg_page_size: out: KVM_VIOMMU_REG_PAGE_SIZE
 * @iqt_offset: out: KVM_VIOMMU_IQT_OFFSET
 * @doorbells: out: entries of the invalidation queue as the guest has
 *	configured it now (IQA.QS): the IQT values a doorbell can carry are
 *	n << 4 for n < @doorbells
 * @__reserved: must be 0
 */
struct kvm_viommu_info {
	__u32 size;
	__u32 flags;
	__u64 cap;
	__u64 ecap;
	__u32 reg_page_size;
	__u32 iqt_offset;
	__u32 doorbells;
	__u32 __reserved;
};

#define KVM_VIOMMU_GET_INFO	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_GET_INFO)

/* Things a relayed register write asks the VMM to do. */
/* The queue size changed: wire doorbells for KVM_VIOMMU_GET_INFO's count. */
#define KVM_VIOMMU_REG_EVENT_DOORBELLS	(1U << 0)
/* An interrupt message (IEDATA/IEADDR/IEUADDR, FEDATA/FEADDR/FEUADDR)
 * changed: route the matching irqfd's GSI to the new message.
 */
#define KVM_VIOMMU_REG_EVENT_IRQ_MSG	(1U << 1)

/**
 * struct kvm_viommu_reg - ioctl(KVM_VIOMMU_REG_READ, KVM_VIOMMU_REG_WRITE)
 * @size: sizeof(struct kvm_viommu_reg)
 * @flags: must be 0
 * @offset: register offset in the register page, aligned to @len
 * @len: access size, 4 or 8
 * @value: in for a write, out for a read
 * @events: out, for a write: KVM_VIOMMU_REG_EVENT_* bits
 * @__reserved: must be 0
 *
 * Relay one guest access to the unit's registers.  A write has the side
 * effects the VT-d specification gives it (commands, invalidations,
 * status bits); an IQT write that the queue can process is processed
 * before the ioctl returns.  Offsets with no register read as 0 and ignore
 * writes.  Errors: EINVAL bad @len, unaligned or out-of-page @offset.
 */
struct kvm_viommu_reg {
	__u32 size;
	__u32 flags;
	__u32 offset;
	__u32 len;
	__u64 value;
	__u32 events;
	__u32 __reserved;
};

#define KVM_VIOMMU_REG_READ	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_REG_READ)
#define KVM_VIOMMU_REG_WRITE	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_REG_WRITE)

/* Queue entries at the largest IQA.QS: IQT.QT is below this. */
#define KVM_VIOMMU_MAX_DOORBELLS	32768

/**
 * struct kvm_viommu_doorbell - ioctl(KVM_VIOMMU_SET_DOORBELL)
 * @size: sizeof(struct kvm_viommu_doorbell)
 * @flags: must be 0
 * @fd: an eventfd that KVM signals on a guest write of @qt << 4 to IQT
 *	(KVM_IOEVENTFD with datamatch), or -1 to unbind @qt's doorbell
 * @qt: the IQT.QT value (descriptor index) the eventfd stands for, below
 *	KVM_VIOMMU_MAX_DOORBELLS
 *
 * Binds (or replaces, or with @fd -1 removes) the doorbell for one IQT
 * value.  A signal on it is an IQT write of that value, handled in kernel
 * context.  The unit keeps its own reference on the eventfd: the VMM may
 * close its fd.  Errors: EINVAL bad @qt or @fd not an eventfd; EBADF @fd
 * not open; ENOENT unbinding a @qt that has no doorbell.
 */
struct kvm_viommu_doorbell {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 qt;
};

#define KVM_VIOMMU_SET_DOORBELL	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_SET_DOORBELL)

/* The unit's interrupts. */
enum {
	KVM_VIOMMU_IRQ_INV_COMPLETION = 0,	/* IECTL/IEDATA/IEADDR */
	KVM_VIOMMU_IRQ_FAULT = 1,		/* FECTL/FEDATA/FEADDR */
	KVM_VIOMMU_NR_IRQS,
};

/**
 * struct kvm_viommu_irqfd - ioctl(KVM_VIOMMU_SET_IRQFD)
 * @size: sizeof(struct kvm_viommu_irqfd)
 * @flags: must be 0
 * @irq: KVM_VIOMMU_IRQ_*
 * @fd: an eventfd the unit signals to send @irq (the VMM wires it to
 *	KVM_IRQFD on a GSI routed to the interrupt's message), or -1 to
 *	unbind
 *
 * Errors: EINVAL bad @irq or @fd not an eventfd; EBADF @fd not open.
 */
struct kvm_viommu_irqfd {
	__u32 size;
	__u32 flags;
	__u32 irq;
	__s32 fd;
};

#define KVM_VIOMMU_SET_IRQFD	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_SET_IRQFD)

/**
 * struct kvm_viommu_stats - ioctl(KVM_VIOMMU_GET_STATS)
 * @size: sizeof(struct kvm_viommu_stats)
 * @flags: must be 0
 * @doorbells: doorbell signals received
 * @relay_reads: KVM_VIOMMU_REG_READ calls
 * @relay_writes: KVM_VIOMMU_REG_WRITE calls
 * @descs: invalidation descriptors processed
 * @cc_invals: context-cache invalidations (register or queued)
 * @iotlb_invals: IOTLB invalidations (register or queued)
 * @waits: invalidation-wait descriptors
 * @forwarded: descriptors handed to the VMM through read()
 * @iq_errors: times FSTS.IQE was set
 * @faults: fault records written
 * @faults_lost: faults dropped with FSTS.PFO
 * @irqs: interrupt messages sent
 * @maps: guest mappings shadowed into a host domain
 * @unmaps: shadow mappings removed
 * @pinned_pages: host pages pinned now (4 KiB each), each counted (and
 *	charged to locked_vm) once however many shadow leaves map it
 * @walks: guest table walks (each IOVA range walked, resumed walks
 *	counted once per part)
 * @walk_faults: malformed guest entries met by those walks (recorded as
 *	faults)
 * @pin_failures: guest pages that could not be pinned or charged (over
 *	RLIMIT_MEMLOCK, not guest RAM, or host map failure)
 * @devices: devices attached now
 * @leaves: shadow mappings (guest leaves, or with translation off chunks
 *	of guest RAM) that exist now
 * @resv_faults: guest leaves refused because their IOVAs fall in a host
 *	reserved region of the device (MSI window, RMRR)
 * @walk_yields: times a walk stopped at the queue run's budget and resumed
 *	in a later run
 * @ack_stalls: times an invalidation wait waited for the VMM to
 *	acknowledge forwarded descriptors (KVM_VIOMMU_ACK_EVENTS)
 * @unmap_mismatches: host unmaps that removed another size than the unit
 *	mapped: the domain changed under the unit
 * @failed: 1 once the unit has failed (see KVM_VIOMMU_GET_STATS's note in
 *	the rst), else 0
 * @tracked_writes: guest writes to the register page that KVM's write
 *	tracking handed to the unit (KVM_VIOMMU_SET_SIDECORE)
 * @polled_writes: guest register writes the sidecore poller found in the
 *	page, with no exit
 * @polled_runs: queue runs by the sidecore poller
 * @parks: times the page went from polled to write-tracked
 * @unparks: times it went from write-tracked to polled
 * @iotlb_syncs: host IOTLB syncs after shadow unmaps (the unmaps of one
 *	walk or queue run share one)
 * @locked_pages: pages charged to the VM's locked_vm now: @pinned_pages
 *	and a credit of at most 512 more, charged in advance (returned when
 *	the last device is detached)
 * @pin_cache_pages: of @pinned_pages, those kept in the pin cache: pinned
 *	for a GPA the guest unmapped, mapped in no host domain
 * @pin_cache_hits: 4 KiB guest leaves mapped from the pin cache, not
 *	pinned anew
 * @pin_cache_misses: 4 KiB guest leaves pinned anew while the cache was on
 * @pin_cache_stale: cached pages let go of because the VM's memory changed
 *	under them: another page at their GPA, or a memslot change
 * @translations: KVM_VIOMMU_TRANSLATE calls answered
 * @translate_faults: of those, the ones answered with a fault
 * @inval_events: invalidations handed to the VMM under
 *	KVM_VIOMMU_EVENTS_INVALIDATIONS
 *
 * Counters since the unit was created, all out.  The fields from @maps on
 * came with the second version of the struct, those from @leaves on with
 * the third, those from @tracked_writes on with the fourth, those from
 * @iotlb_syncs on with the fifth, those from @translations on with the
 * sixth.
 */
struct kvm_viommu_stats {
	__u32 size;
	__u32 flags;
	__u64 doorbells;
	__u64 relay_reads;
	__u64 relay_writes;
	__u64 descs;
	__u64 cc_invals;
	__u64 iotlb_invals;
	__u64 waits;
	__u64 forwarded;
	__u64 iq_errors;
	__u64 faults;
	__u64 faults_lost;
	__u64 irqs;
	__u64 maps;
	__u64 unmaps;
	__u64 pinned_pages;
	__u64 walks;
	__u64 walk_faults;
	__u64 pin_failures;
	__u64 devices;
	__u64 leaves;
	__u64 resv_faults;
	__u64 walk_yields;
	__u64 ack_stalls;
	__u64 unmap_mismatches;
	__u64 failed;
	__u64 tracked_writes;
	__u64 polled_writes;
	__u64 polled_runs;
	__u64 parks;
	__u64 unparks;
	__u64 iotlb_syncs;
	__u64 locked_pages;
	__u64 pin_cache_pages;
	__u64 pin_cache_hits;
	__u64 pin_cache_misses;
	__u64 pin_cache_stale;
	__u64 translations;
	__u64 translate_faults;
	__u64 inval_events;
};

#define KVM_VIOMMU_GET_STATS	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_GET_STATS)

/**
 * struct kvm_viommu_attach - ioctl(KVM_VIOMMU_ATTACH_DEVICE, _DETACH_DEVICE)
 * @size: sizeof(struct kvm_viommu_attach)
 * @flags: must be 0
 * @device_fd: the VFIO device fd the VMM got for the device from its VFIO
 *	group (VFIO_GROUP_GET_DEVICE_FD; attach only, ignored by detach)
 * @sid: the device's source-id in the guest: bus << 8 | devfn
 * @__reserved: must be 0
 *
 * Attach: from now on the unit keeps the device's host IOMMU domain (its
 * VFIO container's, of type KVM_VIOMMU_VFIO_IOMMU) equal to what the
 * guest's tables say for @sid, as far as the guest has invalidated, and,
 * with translation off, equal to all of guest RAM (unless the unit was
 * created with KVM_VIOMMU_CREATE_TE_OFF_BLOCKS).  The host device is the
 * one behind @device_fd, which must be a PCI device opened through its
 * VFIO group (any vfio-pci driver, variant drivers included), alone in its
 * IOMMU group, whose group is in a container of type
 * KVM_VIOMMU_VFIO_IOMMU.  The unit holds the device file until detach:
 * VFIO sees the device open, so the group cannot leave its container
 * under the unit.  Detach removes every shadow mapping and unpins every
 * page.
 *
 * Errors: EINVAL bad fields, @device_fd not a VFIO device fd, its device
 * not PCI or not alone in its IOMMU group, or its container not of type
 * KVM_VIOMMU_VFIO_IOMMU; EBADF @device_fd not open; EOPNOTSUPP the
 * device fd is bound through iommufd; ERANGE the unit's CAP.MGAW is wider
 * than the host IOMMU domain can map; EEXIST @sid or the device already
 * attached (to this unit or another); ENODEV the device was detached
 * (driver unbound) while being attached;
 * ENOMEM, or the errors of pinning guest RAM (translation off); ENOENT
 * detaching a @sid that is not attached.
 */
struct kvm_viommu_attach {
	__u32 size;
	__u32 flags;
	__s32 device_fd;
	__u16 sid;
	__u16 __reserved;
};

#define KVM_VIOMMU_ATTACH_DEVICE \
	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_ATTACH_DEVICE)
#define KVM_VIOMMU_DETACH_DEVICE \
	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_DETACH_DEVICE)

/*
 * read() on a unit fd returns whole struct kvm_viommu_event records, in
 * the order the unit carried out what they tell, each with a sequence
 * number one above the previous event's (the first is 1): descriptors the
 * unit accepts but does not act on itself (interrupt-entry cache
 * invalidations with ECAP.IR, device-TLB invalidations with ECAP.DT),
 * and, under KVM_VIOMMU_EVENTS_INVALIDATIONS, copies of invalidations it
 * carried out (flag KVM_VIOMMU_EVENT_INVALIDATION, see
 * KVM_VIOMMU_SET_EVENTS).  poll() reports EPOLLIN while any is waiting.
 * The queue stalls (the guest waits) while the VMM has not read them, and
 * an invalidation wait descriptor queued after one completes only once
 * the VMM has acknowledged it with KVM_VIOMMU_ACK_EVENTS.
 */
#define KVM_VIOMMU_EVENT_DESC	1

/*
 * Event flags.  KVM_VIOMMU_EVENT_INVALIDATION: not a descriptor for the
 * VMM to act on as the guest's, but a copy of an invalidation the unit
 * carried out, for a VMM that keeps translations
 * (KVM_VIOMMU_EVENTS_INVALIDATIONS).
 */
#define KVM_VIOMMU_EVENT_INVALIDATION	(1U << 0)

struct kvm_viommu_event {
	__u32 type;
	__u32 flags;
	__u64 seq;
	__u64 desc[2];
};

/**
 * struct kvm_viommu_ack_events - ioctl(KVM_VIOMMU_ACK_EVENTS)
 * @size: sizeof(struct kvm_viommu_ack_events)
 * @flags: 0, or KVM_VIOMMU_ACK_IRQ_MSGS
 * @seq: the VMM has acted on every event up to and including this one
 *
 * Acknowledging an older @seq than already acknowledged does nothing.
 * With @flags KVM_VIOMMU_ACK_IRQ_MSGS, @seq is instead a @gen from
 * KVM_VIOMMU_GET_IRQ_MSGS whose messages the VMM has routed: if no
 * message changed since, the interrupts held back go out (but one the
 * guest has masked meanwhile, which stays pending until it unmasks it);
 * an older @gen releases nothing.
 * Errors: EINVAL @seq of an event not read yet, a @gen not yet returned,
 * or unknown @flags.
 */
struct kvm_viommu_ack_events {
	__u32 size;
	__u32 flags;
	__u64 seq;
};

#define KVM_VIOMMU_ACK_IRQ_MSGS	(1U << 0)

#define KVM_VIOMMU_ACK_EVENTS	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_ACK_EVENTS)

/* The guest writes the register page itself; KVM traps the writes. */
#define KVM_VIOMMU_SIDECORE_TRACK	(1U << 0)
/* ... and a polling kernel thread takes them while the guest is busy. */
#define KVM_VIOMMU_SIDECORE_POLL	(1U << 1)

/**
 * struct kvm_viommu_sidecore - ioctl(KVM_VIOMMU_SET_SIDECORE)
 * @size: sizeof(struct kvm_viommu_sidecore)
 * @flags: 0 (off), KVM_VIOMMU_SIDECORE_TRACK, or that and
 *	KVM_VIOMMU_SIDECORE_POLL
 * @reg_gpa: where the guest finds the register page: a writable memslot
 *	there must be backed by a writable shared mapping of the unit fd's
 *	register page (mmap() offset 0); ignored when turning off
 * @msg_fd: an eventfd the unit signals when the guest changes an interrupt
 *	message register (see KVM_VIOMMU_GET_IRQ_MSGS); ignored when turning
 *	off
 * @__reserved: must be 0
 *
 * Guest register writes without the VMM.  With TRACK the guest writes the
 * page itself; KVM write-tracks it and hands every write, with its value,
 * to the unit in the vCPU's thread: one exit, no trip to userspace, no
 * doorbells or relay.  With POLL as well, a kernel thread of the module
 * (the sidecore) polls the page while the guest is busy, and the tracking
 * is lifted whenever no write could be misread from memory alone: the
 * guest's IQT writes then cost no exit at all.  See the rst for what the
 * poller can and cannot tell from memory.
 *
 * Register writes no longer reach the VMM, so neither do the guest's
 * interrupt messages: the unit signals @msg_fd instead, and holds those
 * interrupts back until the VMM has routed the new messages and said so
 * (KVM_VIOMMU_ACK_EVENTS with KVM_VIOMMU_ACK_IRQ_MSGS).  Turning the
 * sidecore off applies what the guest wrote and sends the interrupts held
 * back (masked ones stay pending): route the messages first.
 *
 * The unit registers a KVM page-track notifier at the first call and
 * keeps it until it is closed; on 6.12, KVM refuses to move any memslot
 * of the VM (EINVAL) while one is registered.
 *
 * Errors: EINVAL bad @flags, nonzero @__reserved, @reg_gpa not page
 * aligned or not such a memslot, or @msg_fd not an eventfd; EBADF @msg_fd
 * not open; EBUSY sidecore already on at another @reg_gpa (turn it off
 * first); EOPNOTSUPP the host kernel has no KVM write tracking for
 * modules (CONFIG_KVM_EXTERNAL_WRITE_TRACKING).
 */
struct kvm_viommu_sidecore {
	__u32 size;
	__u32 flags;
	__u64 reg_gpa;
	__s32 msg_fd;
	__u32 __reserved;
};

#define KVM_VIOMMU_SET_SIDECORE	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_SET_SIDECORE)

/* One interrupt's message, as the guest programmed it. */
struct kvm_viommu_irq_msg {
	__u32 data;
	__u32 addr_lo;
	__u32 addr_hi;
	__u32 __reserved;
};

/**
 * struct kvm_viommu_irq_msgs - ioctl(KVM_VIOMMU_GET_IRQ_MSGS)
 * @size: sizeof(struct kvm_viommu_irq_msgs)
 * @flags: must be 0
 * @gen: out: how many times the guest has changed a message register
 * @msg: out: each interrupt's message now, by KVM_VIOMMU_IRQ_*
 *
 * The interrupt messages, read together with the count of their changes.
 * With the sidecore on, the VMM routes each irqfd's GSI to @msg, then
 * passes @gen to KVM_VIOMMU_ACK_EVENTS (flags KVM_VIOMMU_ACK_IRQ_MSGS): the
 * unit then sends the interrupts it held back.
 */
struct kvm_viommu_irq_msgs {
	__u32 size;
	__u32 flags;
	__u64 gen;
	struct kvm_viommu_irq_msg msg[KVM_VIOMMU_NR_IRQS];
};

#define KVM_VIOMMU_GET_IRQ_MSGS	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_GET_IRQ_MSGS)

/* What the request needs: a read, a write, both; neither for a lookup. */
#define KVM_VIOMMU_TRANSLATE_READ		(1U << 0)
#define KVM_VIOMMU_TRANSLATE_WRITE		(1U << 1)
/* A fault is recorded in the guest's fault registers, as for a device's. */
#define KVM_VIOMMU_TRANSLATE_RECORD_FAULT	(1U << 2)

/* @perm bits of struct kvm_viommu_translate. */
#define KVM_VIOMMU_TRANSLATE_PERM_READ		(1U << 0)
#define KVM_VIOMMU_TRANSLATE_PERM_WRITE		(1U << 1)

/* @result bits of struct kvm_viommu_translate. */
/* Nothing is translated (translation off, or a pass-through context). */
#define KVM_VIOMMU_TRANSLATE_UNTRANSLATED	(1U << 0)
/* Translation off, and the unit blocks DMA then (CREATE_TE_OFF_BLOCKS). */
#define KVM_VIOMMU_TRANSLATE_BLOCKED		(1U << 1)
/* @iova is in the interrupt range, which DMA remapping leaves alone. */
#define KVM_VIOMMU_TRANSLATE_INTERRUPT		(1U << 2)
/* The fault was recorded in the fault registers. */
#define KVM_VIOMMU_TRANSLATE_RECORDED		(1U << 3)

/**
 * struct kvm_viommu_translate - ioctl(KVM_VIOMMU_TRANSLATE)
 * @size: sizeof(struct kvm_viommu_translate)
 * @flags: KVM_VIOMMU_TRANSLATE_READ, _WRITE, _RECORD_FAULT
 * @iova: the address the device asks for
 * @sid: the device's source-id in the guest: bus << 8 | devfn
 * @fault: out: 0, or the VT-d fault reason (legacy mode) the request
 *	faults with
 * @perm: out: KVM_VIOMMU_TRANSLATE_PERM_* the translation grants (0 on a
 *	fault, or when blocked)
 * @result: out: KVM_VIOMMU_TRANSLATE_UNTRANSLATED, _BLOCKED, _INTERRUPT,
 *	_RECORDED
 * @gpa: out: the guest-physical address @iova translates to
 * @page_size: out: a power of two: the naturally aligned @page_size block
 *	around @iova translates to the one around @gpa, with @perm (0 when
 *	nothing is granted)
 * @did: out: the domain-id of @sid's context the answer came through,
 *	pass-through too (0 with translation off): what the guest's
 *	domain- and page-selective invalidations name
 * @__reserved: must be 0
 *
 * Translate one DMA request of a device the VMM emulates, as the unit's
 * hardware would now, from the guest's tables as they are in its memory;
 * see the rst for what each answer means.  A fault is the answer, not an
 * error; with KVM_VIOMMU_TRANSLATE_RECORD_FAULT it is also recorded, as
 * for a faulting DMA of an assigned device, unless the context has fault
 * processing disabled.
 *
 * Errors: EINVAL unknown @flags, nonzero @__reserved, or _RECORD_FAULT
 * for a lookup (neither _READ nor _WRITE).
 */
struct kvm_viommu_translate {
	__u32 size;
	__u32 flags;
	__u64 iova;
	__u16 sid;
	__u16 fault;
	__u16 perm;
	__u16 result;
	__u64 gpa;
	__u64 page_size;
	__u16 did;
	__u16 __reserved[3];
};

#define KVM_VIOMMU_TRANSLATE	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_TRANSLATE)

/*
 * Invalidations that may drop what KVM_VIOMMU_TRANSLATE answered come
 * through read() too.
 */
#define KVM_VIOMMU_EVENTS_INVALIDATIONS	(1U << 0)

/**
 * struct kvm_viommu_events - ioctl(KVM_VIOMMU_SET_EVENTS)
 * @size: sizeof(struct kvm_viommu_events)
 * @flags: must be 0
 * @mask: KVM_VIOMMU_EVENTS_* the VMM wants from now on (0: none)
 * @__reserved: must be 0
 *
 * With KVM_VIOMMU_EVENTS_INVALIDATIONS, every IOTLB invalidation the
 * guest makes (queued, or through IOTLB_REG) that covers a domain
 * KVM_VIOMMU_TRANSLATE answered through since the events went on, and
 * every context-cache invalidation while the VMM may hold an answer, is
 * also handed to the VMM through read(), after the unit's own work on
 * it, as a KVM_VIOMMU_EVENT_DESC event flagged
 * KVM_VIOMMU_EVENT_INVALIDATION, with the invalidation in its queued
 * form; a change of translation as a whole (GCMD.TE, SRTP) comes as a
 * global context-cache invalidation.  The guest's invalidation completes
 * only once the VMM has acknowledged it (KVM_VIOMMU_ACK_EVENTS): a wait
 * descriptor queued after it stalls, a command register reads as in
 * progress.  A VMM that caches answers (an IOTLB of its own, vhost's)
 * turns this on before it caches the first.  See the rst.
 *
 * Errors: EINVAL unknown @flags or @mask bits, nonzero @__reserved;
 * ENOMEM.
 */
struct kvm_viommu_events {
	__u32 size;
	__u32 flags;
	__u32 mask;
	__u32 __reserved;
};

#define KVM_VIOMMU_SET_EVENTS	_IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_SET_EVENTS)

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
