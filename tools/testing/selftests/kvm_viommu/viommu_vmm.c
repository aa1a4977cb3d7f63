// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal VMM side of kvm_viommu for selftests; see viommu_vmm.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/compiler.h>

#include "processor.h"
#include "viommu_vmm.h"
#include "vtd.h"

uint32_t viommu_vmm_max_wired = VIOMMU_MAX_WIRED;
uint32_t viommu_vmm_create_flags;
uint32_t viommu_vmm_sidecore;

uint32_t viommu_reg32(struct viommu_vmm *v, uint32_t off)
{
	return READ_ONCE(*(uint32_t *)(v->regs + off));
}

uint64_t viommu_reg64(struct viommu_vmm *v, uint32_t off)
{
	return READ_ONCE(*(uint64_t *)(v->regs + off));
}

static void viommu_get_info(struct viommu_vmm *v)
{
	memset(&v->info, 0, sizeof(v->info));
	v->info.size = sizeof(v->info);
	TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_GET_INFO, &v->info),
		    "KVM_VIOMMU_GET_INFO: %s", strerror(errno));
}

/*
 * One eventfd per IQT value: KVM signals it on a 4-byte guest write of
 * qt << 4 to IQT, and the unit treats the signal as that write.  Called
 * with v->lock held.  Doorbells only grow: a value past a smaller queue is
 * an error the unit reports, wherever the write arrives.
 */
static void viommu_wire_doorbells(struct viommu_vmm *v)
{
	uint32_t want = v->info.doorbells, qt;

	if (want > viommu_vmm_max_wired)
		want = viommu_vmm_max_wired;
	for (qt = v->wired; qt < want; qt++) {
		struct kvm_viommu_doorbell db = {
			.size = sizeof(db),
			.qt = qt,
		};
		struct kvm_ioeventfd ioev = {
			.datamatch = (uint64_t)qt << 4,
			.addr = VIOMMU_REG_GPA + v->info.iqt_offset,
			.len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		int fd = eventfd(0, EFD_CLOEXEC);

		TEST_ASSERT(fd >= 0, "eventfd");
		ioev.fd = fd;
		vm_ioctl(v->vm, KVM_IOEVENTFD, &ioev);
		db.fd = fd;
		TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_SET_DOORBELL, &db),
			    "KVM_VIOMMU_SET_DOORBELL %u: %s", qt,
			    strerror(errno));
		/* KVM and the unit hold their own references. */
		close(fd);
	}
	v->wired = want;
}

/* Route each interrupt's GSI to @msg. */
static void viommu_route_msgs(struct viommu_vmm *v,
			      const struct kvm_viommu_irq_msg *msg)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[KVM_VIOMMU_NR_IRQS];
	} routing;
	int i;

	memset(&routing, 0, sizeof(routing));
	routing.r.nr = KVM_VIOMMU_NR_IRQS;
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		routing.e[i].gsi = VIOMMU_IRQ_GSI_BASE + i;
		routing.e[i].type = KVM_IRQ_ROUTING_MSI;
		routing.e[i].u.msi.data = msg[i].data;
		routing.e[i].u.msi.address_lo = msg[i].addr_lo;
		routing.e[i].u.msi.address_hi = msg[i].addr_hi;
	}
	vm_ioctl(v->vm, KVM_SET_GSI_ROUTING, &routing.r);
}

/* ... to the message the guest programmed, as the page shows it. */
static void viommu_route_irqs(struct viommu_vmm *v)
{
	static const uint32_t reg[KVM_VIOMMU_NR_IRQS][3] = {
		[KVM_VIOMMU_IRQ_INV_COMPLETION] = {
			VTD_IEDATA_REG, VTD_IEADDR_REG, VTD_IEUADDR_REG },
		[KVM_VIOMMU_IRQ_FAULT] = {
			VTD_FEDATA_REG, VTD_FEADDR_REG, VTD_FEUADDR_REG },
	};
	struct kvm_viommu_irq_msg msg[KVM_VIOMMU_NR_IRQS] = {};
	int i;

	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		msg[i].data = viommu_reg32(v, reg[i][0]);
		msg[i].addr_lo = viommu_reg32(v, reg[i][1]);
		msg[i].addr_hi = viommu_reg32(v, reg[i][2]);
	}
	viommu_route_msgs(v, msg);
}

/*
 * Sidecore: the unit signals msg_fd when the guest changes a message; the
 * VMM reads them, routes them and says so, and the unit then sends what
 * it held back.
 */
static void *viommu_msg_thread(void *data)
{
	struct viommu_vmm *v = data;
	struct kvm_viommu_irq_msgs msgs;
	struct kvm_viommu_ack_events ack = {
		.size = sizeof(ack),
		.flags = KVM_VIOMMU_ACK_IRQ_MSGS,
	};
	uint64_t cnt;

	while (read(v->msg_fd, &cnt, sizeof(cnt)) == sizeof(cnt) &&
	       !__atomic_load_n(&v->msg_stop, __ATOMIC_ACQUIRE)) {
		memset(&msgs, 0, sizeof(msgs));
		msgs.size = sizeof(msgs);
		TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_GET_IRQ_MSGS, &msgs),
			    "KVM_VIOMMU_GET_IRQ_MSGS: %s", strerror(errno));
		pthread_mutex_lock(&v->lock);
		viommu_route_msgs(v, msgs.msg);
		pthread_mutex_unlock(&v->lock);
		ack.seq = msgs.gen;
		TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_ACK_EVENTS, &ack),
			    "KVM_VIOMMU_ACK_EVENTS (messages): %s",
			    strerror(errno));
		__atomic_add_fetch(&v->msg_routes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Turn the sidecore on: 0 or -errno of KVM_VIOMMU_SET_SIDECORE. */
static int viommu_sidecore_on(struct viommu_vmm *v, uint32_t flags)
{
	struct kvm_viommu_sidecore sc = {
		.size = sizeof(sc),
		.flags = flags,
		.reg_gpa = VIOMMU_REG_GPA,
	};

	v->msg_fd = eventfd(0, EFD_CLOEXEC);
	TEST_ASSERT(v->msg_fd >= 0, "eventfd");
	sc.msg_fd = v->msg_fd;
	if (ioctl(v->unit_fd, KVM_VIOMMU_SET_SIDECORE, &sc))
		return -errno;
	v->sidecore = flags;
	TEST_ASSERT(!pthread_create(&v->msg_thread, NULL, viommu_msg_thread,
				    v), "pthread_create");
	return 0;
}

int viommu_vmm_init_bare(struct viommu_vmm *v, struct kvm_vm *vm,
			 uint64_t cap)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = vm->fd,
		.cap = cap,
	};

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->dev_fd = viommu_dev_open();
	TEST_ASSERT(v->dev_fd >= 0, "open %s: %s", KVM_VIOMMU_DEV,
		    strerror(-v->dev_fd));
	v->unit_fd = viommu_create_raw(v->dev_fd, &create);
	if (v->unit_fd < 0) {
		close(v->dev_fd);
		return v->unit_fd;
	}
	viommu_get_info(v);
	return 0;
}

int viommu_vmm_init(struct viommu_vmm *v, struct kvm_vm *vm, uint64_t cap,
		    uint64_t ecap)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.flags = viommu_vmm_create_flags,
		.vm_fd = vm->fd,
		.cap = cap,
		.ecap = ecap,
	};
	int i;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	pthread_mutex_init(&v->lock, NULL);
	v->dev_fd = viommu_dev_open();
	TEST_ASSERT(v->dev_fd >= 0, "open %s: %s", KVM_VIOMMU_DEV,
		    strerror(-v->dev_fd));
	v->unit_fd = ioctl(v->dev_fd, KVM_CREATE_VIOMMU, &create);
	if (v->unit_fd < 0) {
		close(v->dev_fd);
		return -errno;
	}
	viommu_get_info(v);

	/*
	 * 1. The register page, read-only, as a read-only memslot; or, for
	 * the sidecore, writable.
	 */
	v->msg_fd = -1;
	v->regs = mmap(NULL, KVM_VIOMMU_REG_PAGE_SIZE,
		       PROT_READ | (viommu_vmm_sidecore ? PROT_WRITE : 0),
		       MAP_SHARED, v->unit_fd, KVM_VIOMMU_REG_PAGE_OFFSET);
	TEST_ASSERT(v->regs != MAP_FAILED, "mmap register page: %s",
		    strerror(errno));
	vm_set_user_memory_region(vm, VIOMMU_REG_SLOT,
				  viommu_vmm_sidecore ? 0 : KVM_MEM_READONLY,
				  VIOMMU_REG_GPA, KVM_VIOMMU_REG_PAGE_SIZE,
				  (void *)v->regs);
	virt_map(vm, VIOMMU_REG_GPA, VIOMMU_REG_GPA, 1);

	/* 2. Doorbells for the queue's current size, without the sidecore. */
	if (!viommu_vmm_sidecore)
		viommu_wire_doorbells(v);

	/* 3. Interrupts: eventfd -> unit, and irqfd -> GSI -> MSI route. */
	viommu_route_irqs(v);
	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++) {
		struct kvm_viommu_irqfd set = {
			.size = sizeof(set),
			.irq = i,
		};
		struct kvm_irqfd irqfd = {
			.gsi = VIOMMU_IRQ_GSI_BASE + i,
		};

		v->irq_fd[i] = eventfd(0, EFD_CLOEXEC);
		TEST_ASSERT(v->irq_fd[i] >= 0, "eventfd");
		set.fd = v->irq_fd[i];
		TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_SET_IRQFD, &set),
			    "KVM_VIOMMU_SET_IRQFD: %s", strerror(errno));
		irqfd.fd = v->irq_fd[i];
		vm_ioctl(vm, KVM_IRQFD, &irqfd);
	}

	/* 4. The sidecore, if asked for. */
	if (viommu_vmm_sidecore)
		return viommu_sidecore_on(v, viommu_vmm_sidecore);
	return 0;
}

void viommu_vmm_fini(struct viommu_vmm *v)
{
	uint64_t one = 1;
	int i;

	if (v->sidecore) {
		__atomic_store_n(&v->msg_stop, 1, __ATOMIC_RELEASE);
		TEST_ASSERT(write(v->msg_fd, &one, sizeof(one)) == sizeof(one),
			    "eventfd write");
		pthread_join(v->msg_thread, NULL);
	}
	if (v->msg_fd >= 0)
		close(v->msg_fd);

	for (i = 0; i < KVM_VIOMMU_NR_IRQS; i++)
		close(v->irq_fd[i]);
	munmap(v->regs, KVM_VIOMMU_REG_PAGE_SIZE);
	close(v->unit_fd);
	close(v->dev_fd);
}

/* 4. Everything else a guest writes: relayed, with its consequences. */
static void viommu_relay_mmio(struct viommu_vmm *v, struct kvm_run *run)
{
	struct kvm_viommu_reg reg = {
		.size = sizeof(reg),
		.offset = run->mmio.phys_addr - VIOMMU_REG_GPA,
		.len = run->mmio.len,
	};

	if (!run->mmio.is_write) {
		__atomic_add_fetch(&v->mmio_reads, 1, __ATOMIC_RELAXED);
		TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_REG_READ, &reg),
			    "KVM_VIOMMU_REG_READ 0x%x: %s", reg.offset,
			    strerror(errno));
		memcpy(run->mmio.data, &reg.value, run->mmio.len);
		return;
	}
	__atomic_add_fetch(&v->mmio_writes, 1, __ATOMIC_RELAXED);
	if (reg.offset == v->info.iqt_offset)
		__atomic_add_fetch(&v->iqt_relays, 1, __ATOMIC_RELAXED);
	memcpy(&reg.value, run->mmio.data, run->mmio.len);
	TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_REG_WRITE, &reg),
		    "KVM_VIOMMU_REG_WRITE 0x%x: %s", reg.offset,
		    strerror(errno));
	if (v->after_write)
		v->after_write(v, reg.offset, reg.value);
	if (!reg.events)
		return;
	pthread_mutex_lock(&v->lock);
	if (reg.events & KVM_VIOMMU_REG_EVENT_DOORBELLS) {
		viommu_get_info(v);
		viommu_wire_doorbells(v);
	}
	if (reg.events & KVM_VIOMMU_REG_EVENT_IRQ_MSG)
		viommu_route_irqs(v);
	pthread_mutex_unlock(&v->lock);
}

uint64_t viommu_vcpu_run(struct viommu_vmm *v, struct kvm_vcpu *vcpu,
			 struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason == KVM_EXIT_MMIO &&
		    run->mmio.phys_addr >= VIOMMU_REG_GPA &&
		    run->mmio.phys_addr < VIOMMU_REG_GPA +
					  KVM_VIOMMU_REG_PAGE_SIZE) {
			viommu_relay_mmio(v, run);
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO,
			    "unexpected exit %u", run->exit_reason);
		return get_ucall(vcpu, uc);
	}
}

void viommu_vmm_stats(struct viommu_vmm *v, struct kvm_viommu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	TEST_ASSERT(!ioctl(v->unit_fd, KVM_VIOMMU_GET_STATS, st),
		    "KVM_VIOMMU_GET_STATS: %s", strerror(errno));
}

uint64_t viommu_vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t val = 0;
	int fd, i;
	bool found = false;

	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	TEST_ASSERT(fd >= 0, "KVM_GET_STATS_FD: %s", strerror(errno));
	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (strcmp(d->name, name))
			continue;
		read_stat_data(fd, &header, d, &val, 1);
		found = true;
		break;
	}
	free(descs);
	close(fd);
	TEST_ASSERT(found, "no vCPU statistic %s", name);
	return val;
}

void viommu_guest_iommu_mem(struct kvm_vm *vm, struct guest_iommu_mem *mem,
			    uint32_t pool_nr)
{
	vm_vaddr_t gva;

	mem->pool_nr = pool_nr;
	gva = vm_vaddr_alloc(vm, pool_nr * 4096, 0x10000000);
	mem->pool_gva = gva;
	mem->pool_gpa = addr_gva2gpa(vm, gva);
	gva = vm_vaddr_alloc_page(vm);
	mem->queue_gva = gva;
	mem->queue_gpa = addr_gva2gpa(vm, gva);
	gva = vm_vaddr_alloc_page(vm);
	mem->status_gva = gva;
	mem->status_gpa = addr_gva2gpa(vm, gva);
}

uint64_t viommu_guest_ram_pages(struct kvm_vm *vm)
{
	struct userspace_mem_region *region;
	uint64_t pages = 0;
	int bkt;

	hash_for_each(vm->regions.slot_hash, bkt, region, slot_node)
		if (!(region->region.flags & KVM_MEM_READONLY) &&
		    region->region.slot != VIOMMU_REG_SLOT)
			pages += region->region.memory_size >> 12;
	return pages;
}
