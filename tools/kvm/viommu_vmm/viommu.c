// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d unit, wired to kvm_viommu as Documentation/virt/kvm_viommu.rst
 * describes.  By default (sidecore=track), the register page is a
 * writable memslot the guest writes itself: reads never exit, and KVM's
 * write tracking hands each write, with its value, to the unit in the
 * kernel (with sidecore=poll the module's poller takes a busy guest's
 * writes with no exit at all); the interrupt messages are read when the
 * unit signals that they changed.  Where the kernel cannot track writes
 * for modules, and with sidecore=off: the page as a read-only memslot,
 * one ioeventfd doorbell per IQT value (queue submissions never reach
 * userspace, but KVM tries the doorbells one by one until one matches),
 * every other register write relayed with KVM_VIOMMU_REG_WRITE, and the
 * MSI routes following the message registers as the guest programs them.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/kvm_viommu.h>

#include "vmm.h"

/* KVM allows 1000 devices per I/O bus: wire at most this many doorbells. */
#define VIOMMU_MAX_WIRED	512

/* Global status: translation enabled (VT-d spec, 11.4.5). */
#define VTD_GSTS_REG		0x1c
#define VTD_GSTS_TES		0x80000000U

/* Interrupt message registers (VT-d spec, 11.4.4 and 11.4.7). */
#define VTD_FEDATA_REG		0x3c
#define VTD_FEADDR_REG		0x40
#define VTD_FEUADDR_REG		0x44
#define VTD_IEDATA_REG		0xa4
#define VTD_IEADDR_REG		0xa8
#define VTD_IEUADDR_REG		0xac

struct viommu {
	int dev_fd;
	int unit_fd;
	uint8_t *regs;
	int irq_fd[KVM_VIOMMU_NR_IRQS];
	/*
	 * Protects info, wired and the GSI routing table against two vCPUs
	 * relaying writes at once; taken in vCPU thread context.
	 */
	pthread_mutex_t lock;
	struct kvm_viommu_info info;
	uint32_t wired;
	uint64_t relayed_reads;
	uint64_t relayed_writes;
	uint64_t relayed_iqt;
	/*
	 * How long the last relayed write that turned translation on, and
	 * off, took (ns), if GSTS.TES changed in that call: turning it on,
	 * the unit walks the whole context there (as far as a queue run's
	 * budget goes).  Turning it off with a device attached completes
	 * later, in the unit's worker, which maps all of guest RAM after the
	 * call returns: then te_off_ns stays 0.
	 */
	uint64_t te_on_ns;
	uint64_t te_off_ns;
	/*
	 * Sidecore: the flags in force, the eventfd the unit signals when an
	 * interrupt message changed, the thread that routes them, and the
	 * messages as last read (under @lock).
	 */
	uint32_t sidecore;
	int msg_fd;
	pthread_t msg_thread;
	bool msg_started;
	bool msg_stop;
	struct kvm_viommu_irq_msgs msgs;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t reg32(struct viommu *v, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(v->regs + off), __ATOMIC_RELAXED);
}

static int viommu_get_info(struct viommu *v)
{
	memset(&v->info, 0, sizeof(v->info));
	v->info.size = sizeof(v->info);
	return ioctl(v->unit_fd, KVM_VIOMMU_GET_INFO, &v->info) ? -errno : 0;
}

/* Doorbells only grow; IQT values past them are relayed instead. */
static int viommu_wire_doorbells(struct vmm *vmm, struct viommu *v)
{
	uint32_t want = v->info.doorbells, qt;

	if (want > VIOMMU_MAX_WIRED)
		want = VIOMMU_MAX_WIRED;
	for (qt = v->wired; qt < want; qt++) {
		struct kvm_viommu_doorbell db = { .size = sizeof(db), .qt = qt };
		struct kvm_ioeventfd ioev = {
			.datamatch = (uint64_t)qt << 4,
			.addr = VIOMMU_REG_BASE + v->info.iqt_offset,
			.len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		int fd = eventfd(0, EFD_CLOEXEC), ret = 0;

		if (fd < 0)
			return -errno;
		ioev.fd = fd;
		db.fd = fd;
		if (ioctl(vmm->vm_fd, KVM_IOEVENTFD, &ioev) ||
		    ioctl(v->unit_fd, KVM_VIOMMU_SET_DOORBELL, &db))
			ret = -errno;
		/* KVM and the unit hold their own references. */
		close(fd);
		if (ret) {
			fprintf(stderr, "viommu-vmm: doorbell %u: %s\n", qt,
				strerror(-ret));
			return ret;
		}
		v->wired = qt + 1;
	}
	return 0;
}

int viommu_add_routes(struct vmm *vmm, void *entries, int max)
{
	static const uint32_t msg[KVM_VIOMMU_NR_IRQS][3] = {
		[KVM_VIOMMU_IRQ_INV_COMPLETION] = {
			VTD_IEDATA_REG, VTD_IEADDR_REG, VTD_IEUADDR_REG },
		[KVM_VIOMMU_IRQ_FAULT] = {
			VTD_FEDATA_REG, VTD_FEADDR_REG, VTD_FEUADDR_REG },
	};
	struct kvm_irq_routing_entry *e = entries;
	struct viommu *v = vmm->viommu;
	int i;

	if (max < KVM_VIOMMU_NR_IRQS)
		return -ENOSPC;
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].gsi = GSI_VIOMMU_BASE + i;
		e[i].type = KVM_IRQ_ROUTING_MSI;
		if (v->sidecore) {
			/* As KVM_VIOMMU_GET_IRQ_MSGS last said. */
			e[i].u.msi.data = v->msgs.msg[i].data;
			e[i].u.msi.address_lo = v->msgs.msg[i].addr_lo;
			e[i].u.msi.address_hi = v->msgs.msg[i].addr_hi;
			continue;
		}
		e[i].u.msi.data = reg32(v, msg[i][0]);
		e[i].u.msi.address_lo = reg32(v, msg[i][1]);
		e[i].u.msi.address_hi = reg32(v, msg[i][2]);
	}
	return KVM_VIOMMU_NR_IRQS;
}

/*
 * CAP_REG for a guest address width of @bits (VT-d spec 11.4.2): 0, the
 * module's default, for 48; for 39 the same unit with CAP.MGAW lowered.
 * ND 2 (256 domains), caching mode, 3- and 4-level tables, 2M and 1G
 * leaves, page-selective invalidation up to AM 18, read/write draining.
 */
static uint64_t viommu_cap(int bits)
{
	if (bits == 48)
		return 0;
	return 2ULL |				/* ND */
	       1ULL << 7 |			/* CM */
	       1ULL << 9 | 1ULL << 10 |		/* SAGAW: 39, 48 bits */
	       (uint64_t)(bits - 1) << 16 |	/* MGAW */
	       1ULL << 34 | 1ULL << 35 |	/* SLLPS: 2M, 1G */
	       1ULL << 39 |			/* PSI */
	       18ULL << 48 |			/* MAMV */
	       1ULL << 54 | 1ULL << 55;		/* DWD, DRD */
}

/* The guest's address width, for its DMAR table's HAW field. */
int viommu_haw(struct vmm *vmm)
{
	return ((vmm->viommu->info.cap >> 16) & 0x3f) + 1;
}

/*
 * Sidecore: the unit signals msg_fd when the guest changes an interrupt
 * message, and holds those interrupts back until the VMM has routed the
 * new messages and acknowledged them.
 */
static void *viommu_msg_thread(void *data)
{
	struct vmm *vmm = data;
	struct viommu *v = vmm->viommu;
	struct kvm_viommu_irq_msgs msgs;
	struct kvm_viommu_ack_events ack = {
		.size = sizeof(ack),
		.flags = KVM_VIOMMU_ACK_IRQ_MSGS,
	};
	uint64_t cnt;
	int ret;

	while (read(v->msg_fd, &cnt, sizeof(cnt)) == sizeof(cnt) &&
	       !__atomic_load_n(&v->msg_stop, __ATOMIC_ACQUIRE)) {
		memset(&msgs, 0, sizeof(msgs));
		msgs.size = sizeof(msgs);
		if (ioctl(v->unit_fd, KVM_VIOMMU_GET_IRQ_MSGS, &msgs)) {
			fprintf(stderr, "viommu-vmm: KVM_VIOMMU_GET_IRQ_MSGS: %s\n",
				strerror(errno));
			continue;
		}
		pthread_mutex_lock(&v->lock);
		v->msgs = msgs;
		ret = vmm_set_gsi_routes(vmm);
		pthread_mutex_unlock(&v->lock);
		if (ret) {
			fprintf(stderr, "viommu-vmm: MSI routes: %s\n",
				strerror(-ret));
			continue;
		}
		ack.seq = msgs.gen;
		if (ioctl(v->unit_fd, KVM_VIOMMU_ACK_EVENTS, &ack))
			fprintf(stderr, "viommu-vmm: acknowledging messages: %s\n",
				strerror(errno));
	}
	return NULL;
}

/* 3. Sidecore: the guest writes the page; the unit is told where. */
static int viommu_sidecore_on(struct vmm *vmm, struct viommu *v)
{
	struct kvm_viommu_sidecore sc = {
		.size = sizeof(sc),
		.flags = vmm->opts.sidecore,
		.reg_gpa = VIOMMU_REG_BASE,
	};
	int ret;

	v->msg_fd = eventfd(0, EFD_CLOEXEC);
	if (v->msg_fd < 0)
		return -errno;
	sc.msg_fd = v->msg_fd;
	if (ioctl(v->unit_fd, KVM_VIOMMU_SET_SIDECORE, &sc)) {
		ret = -errno;
		close(v->msg_fd);
		v->msg_fd = -1;
		if (ret == -EOPNOTSUPP && vmm->opts.sidecore_auto)
			return ret;	/* the caller falls back to doorbells */
		fprintf(stderr, "viommu-vmm: KVM_VIOMMU_SET_SIDECORE: %s\n",
			ret == -EOPNOTSUPP ?
			"refused (no write tracking for modules, or sidecore=N)" :
			strerror(-ret));
		return ret;
	}
	v->sidecore = sc.flags;
	ret = -pthread_create(&v->msg_thread, NULL, viommu_msg_thread, vmm);
	if (ret)
		return ret;
	v->msg_started = true;
	return 0;
}

int viommu_open(struct vmm *vmm)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = vmm->vm_fd,
	};
	struct viommu *v;
	int i, ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	vmm->viommu = v;
	v->unit_fd = -1;
	v->msg_fd = -1;
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++)
		v->irq_fd[i] = -1;
	pthread_mutex_init(&v->lock, NULL);

	/*
	 * Every IOVA the guest may use must be one the host domain can map
	 * (the module refuses to attach otherwise): the guest gets the
	 * widest address width the device's container offers.
	 */
	ret = vfio_dev_iova_bits(vmm);
	if (ret < 0) {
		fprintf(stderr, "viommu-vmm: the host IOMMU's usable IOVAs: %s\n",
			ret == -ERANGE ? "narrower than 39 bits" :
			strerror(-ret));
		return ret;
	}
	create.cap = viommu_cap(ret);

	v->dev_fd = open("/dev/" KVM_VIOMMU_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (v->dev_fd < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: /dev/%s: %s\n",
			KVM_VIOMMU_DEVICE_NAME, ret == -ENOENT ?
			"no such device: modprobe kvm_viommu first" :
			strerror(-ret));
		return ret;
	}
	v->unit_fd = ioctl(v->dev_fd, KVM_CREATE_VIOMMU, &create);
	if (v->unit_fd < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: KVM_CREATE_VIOMMU: %s\n",
			strerror(-ret));
		return ret;
	}
	ret = viommu_get_info(v);
	if (ret)
		return ret;

	/*
	 * 1. Register reads come straight from the unit's page; with the
	 * sidecore, writes go there too.
	 */
	v->regs = mmap(NULL, KVM_VIOMMU_REG_PAGE_SIZE,
		       PROT_READ | (vmm->opts.sidecore ? PROT_WRITE : 0),
		       MAP_SHARED, v->unit_fd, KVM_VIOMMU_REG_PAGE_OFFSET);
	if (v->regs == MAP_FAILED) {
		v->regs = NULL;
		return -errno;
	}
	ret = set_memslot(vmm, SLOT_VIOMMU_REGS,
			  vmm->opts.sidecore ? 0 : KVM_MEM_READONLY,
			  VIOMMU_REG_BASE, KVM_VIOMMU_REG_PAGE_SIZE,
			  (void *)v->regs);
	if (ret) {
		fprintf(stderr, "viommu-vmm: register memslot: %s\n",
			strerror(-ret));
		return ret;
	}

	/* 2. Interrupts: the unit signals an eventfd that KVM injects. */
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		struct kvm_viommu_irqfd set = { .size = sizeof(set), .irq = i };
		struct kvm_irqfd irqfd = { .gsi = GSI_VIOMMU_BASE + i };

		v->irq_fd[i] = eventfd(0, EFD_CLOEXEC);
		if (v->irq_fd[i] < 0)
			return -errno;
		set.fd = v->irq_fd[i];
		irqfd.fd = v->irq_fd[i];
		if (ioctl(v->unit_fd, KVM_VIOMMU_SET_IRQFD, &set) ||
		    ioctl(vmm->vm_fd, KVM_IRQFD, &irqfd)) {
			ret = -errno;
			fprintf(stderr, "viommu-vmm: irqfd %d: %s\n", i,
				strerror(-ret));
			return ret;
		}
	}
	/*
	 * 3. Register writes: the sidecore's tracking (or polling), or else
	 * doorbells for the queue's current size.  By default a kernel that
	 * cannot track writes for modules gets doorbells, and the page
	 * becomes read-only to the guest again (a memslot's flags cannot
	 * change in place).
	 */
	if (vmm->opts.sidecore) {
		ret = viommu_sidecore_on(vmm, v);
		if (ret != -EOPNOTSUPP || !vmm->opts.sidecore_auto)
			return ret;
		fprintf(stderr,
			"viommu-vmm: kvm_viommu refused the sidecore (no KVM write tracking for modules here, or its sidecore=N): IQT doorbells instead\n");
		ret = set_memslot(vmm, SLOT_VIOMMU_REGS, 0, VIOMMU_REG_BASE, 0,
				  (void *)v->regs);
		if (!ret && mprotect((void *)v->regs, KVM_VIOMMU_REG_PAGE_SIZE,
				     PROT_READ))
			ret = -errno;
		if (!ret)
			ret = set_memslot(vmm, SLOT_VIOMMU_REGS, KVM_MEM_READONLY,
					  VIOMMU_REG_BASE,
					  KVM_VIOMMU_REG_PAGE_SIZE,
					  (void *)v->regs);
		if (ret) {
			fprintf(stderr, "viommu-vmm: register memslot: %s\n",
				strerror(-ret));
			return ret;
		}
	}
	return viommu_wire_doorbells(vmm, v);
}

int viommu_attach(struct vmm *vmm, uint16_t sid)
{
	struct kvm_viommu_attach at = { .size = sizeof(at), .sid = sid };
	int ret;

	at.device_fd = vfio_dev_fd(vmm);
	if (at.device_fd < 0)
		return at.device_fd;
	if (ioctl(vmm->viommu->unit_fd, KVM_VIOMMU_ATTACH_DEVICE, &at)) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: KVM_VIOMMU_ATTACH_DEVICE: %s\n",
			ret == -EEXIST ?
			"the device is attached to another vIOMMU unit" :
			ret == -EBUSY ?
			"the device's IOMMU domain is shared with another group" :
			ret == -ERANGE ?
			"the guest's address width is wider than the host IOMMU maps" :
			strerror(-ret));
		return ret;
	}
	return 0;
}

/* 4. Everything else the guest writes, relayed with its consequences. */
void viommu_mmio(struct vmm *vmm, uint64_t off, void *data, uint32_t len,
		 bool is_write)
{
	struct viommu *v = vmm->viommu;
	struct kvm_viommu_reg reg = {
		.size = sizeof(reg),
		.offset = off,
		.len = len,
	};
	uint32_t tes;
	uint64_t t0;
	int ret;

	if (!is_write) {
		/* Only a read KVM could not serve from the page lands here. */
		__atomic_add_fetch(&v->relayed_reads, 1, __ATOMIC_RELAXED);
		if (ioctl(v->unit_fd, KVM_VIOMMU_REG_READ, &reg))
			reg.value = ~0ULL;
		memcpy(data, &reg.value, len);
		return;
	}
	__atomic_add_fetch(&v->relayed_writes, 1, __ATOMIC_RELAXED);
	if (off == v->info.iqt_offset)
		__atomic_add_fetch(&v->relayed_iqt, 1, __ATOMIC_RELAXED);
	memcpy(&reg.value, data, len > 8 ? 8 : len);
	tes = reg32(v, VTD_GSTS_REG) & VTD_GSTS_TES;
	t0 = now_ns();
	if (ioctl(v->unit_fd, KVM_VIOMMU_REG_WRITE, &reg)) {
		/* A bad offset or size: the spec drops such writes. */
		return;
	}
	if ((reg32(v, VTD_GSTS_REG) & VTD_GSTS_TES) != tes)
		*(tes ? &v->te_off_ns : &v->te_on_ns) = now_ns() - t0;
	if (!reg.events)
		return;
	pthread_mutex_lock(&v->lock);
	if (reg.events & KVM_VIOMMU_REG_EVENT_DOORBELLS) {
		ret = viommu_get_info(v);
		if (!ret)
			ret = viommu_wire_doorbells(vmm, v);
		if (ret)
			fprintf(stderr, "viommu-vmm: rewiring doorbells: %s\n",
				strerror(-ret));
	}
	if (reg.events & KVM_VIOMMU_REG_EVENT_IRQ_MSG) {
		ret = vmm_set_gsi_routes(vmm);
		if (ret)
			fprintf(stderr, "viommu-vmm: MSI routes: %s\n",
				strerror(-ret));
	}
	pthread_mutex_unlock(&v->lock);
}

int viommu_write_stats(struct vmm *vmm, FILE *out)
{
	struct viommu *v = vmm->viommu;
	struct kvm_viommu_stats st = { .size = sizeof(st) };

	if (!v) {
		fprintf(out, "viommu 0\n");
		return 0;
	}
	if (ioctl(v->unit_fd, KVM_VIOMMU_GET_STATS, &st))
		return -errno;
	fprintf(out,
		"viommu 1\ndoorbells %llu\nrelay_reads %llu\nrelay_writes %llu\n"
		"descs %llu\ncc_invals %llu\niotlb_invals %llu\nwaits %llu\n"
		"forwarded %llu\niq_errors %llu\nfaults %llu\nfaults_lost %llu\n"
		"irqs %llu\nmaps %llu\nunmaps %llu\npinned_pages %llu\n"
		"walks %llu\nwalk_faults %llu\npin_failures %llu\ndevices %llu\n"
		"leaves %llu\nresv_faults %llu\nwalk_yields %llu\n"
		"unmap_mismatches %llu\nfailed %llu\n"
		"tracked_writes %llu\npolled_writes %llu\npolled_runs %llu\n"
		"parks %llu\nunparks %llu\n"
		"vmm_relayed_reads %llu\nvmm_relayed_writes %llu\n"
		"vmm_relayed_iqt %llu\nvmm_doorbells_wired %u\n"
		"vmm_te_on_ns %llu\nvmm_te_off_ns %llu\n",
		(unsigned long long)st.doorbells,
		(unsigned long long)st.relay_reads,
		(unsigned long long)st.relay_writes,
		(unsigned long long)st.descs,
		(unsigned long long)st.cc_invals,
		(unsigned long long)st.iotlb_invals,
		(unsigned long long)st.waits,
		(unsigned long long)st.forwarded,
		(unsigned long long)st.iq_errors,
		(unsigned long long)st.faults,
		(unsigned long long)st.faults_lost,
		(unsigned long long)st.irqs,
		(unsigned long long)st.maps,
		(unsigned long long)st.unmaps,
		(unsigned long long)st.pinned_pages,
		(unsigned long long)st.walks,
		(unsigned long long)st.walk_faults,
		(unsigned long long)st.pin_failures,
		(unsigned long long)st.devices,
		(unsigned long long)st.leaves,
		(unsigned long long)st.resv_faults,
		(unsigned long long)st.walk_yields,
		(unsigned long long)st.unmap_mismatches,
		(unsigned long long)st.failed,
		(unsigned long long)st.tracked_writes,
		(unsigned long long)st.polled_writes,
		(unsigned long long)st.polled_runs,
		(unsigned long long)st.parks,
		(unsigned long long)st.unparks,
		(unsigned long long)v->relayed_reads,
		(unsigned long long)v->relayed_writes,
		(unsigned long long)v->relayed_iqt, v->wired,
		(unsigned long long)v->te_on_ns,
		(unsigned long long)v->te_off_ns);
	return 0;
}

/* Closing the unit fd detaches the device and unpins every page. */
void viommu_close(struct vmm *vmm)
{
	struct viommu *v = vmm->viommu;
	uint64_t one = 1;
	int i;

	if (!v)
		return;
	if (v->msg_started) {
		__atomic_store_n(&v->msg_stop, true, __ATOMIC_RELEASE);
		if (write(v->msg_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(v->msg_thread, NULL);
	}
	if (v->msg_fd >= 0)
		close(v->msg_fd);
	if (v->regs) {
		set_memslot(vmm, SLOT_VIOMMU_REGS, 0, VIOMMU_REG_BASE, 0, NULL);
		munmap((void *)v->regs, KVM_VIOMMU_REG_PAGE_SIZE);
	}
	if (v->unit_fd >= 0)
		close(v->unit_fd);
	if (v->dev_fd >= 0)
		close(v->dev_fd);
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++)
		if (v->irq_fd[i] >= 0)
			close(v->irq_fd[i]);
	free(v);
	vmm->viommu = NULL;
}
