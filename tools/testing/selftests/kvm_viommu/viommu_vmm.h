/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal VMM side of kvm_viommu for selftests, wired exactly as
 * Documentation/virt/kvm_viommu.rst tells a VMM: the register page as a
 * read-only memslot, IQT doorbells as datamatch ioeventfds, the relay for
 * every other access, and the unit's interrupts through irqfds.
 */
#ifndef _VIOMMU_VMM_H
#define _VIOMMU_VMM_H

#include <pthread.h>
#include <stdint.h>

#include "kvm_util.h"
#include "kvm_viommu_util.h"

/* Where the guest finds the unit (a DMAR unit's usual place). */
#define VIOMMU_REG_GPA		0xfed90000ULL
#define VIOMMU_REG_SLOT		10
/* GSIs routed to the unit's interrupt messages. */
#define VIOMMU_IRQ_GSI_BASE	24
/* KVM allows 1000 devices per bus: at most this many doorbells. */
#define VIOMMU_MAX_WIRED	512

/* Doorbells viommu_vmm_init() wires at most; 0 relays every IQT write. */
extern uint32_t viommu_vmm_max_wired;
/* KVM_VIOMMU_CREATE_* flags viommu_vmm_init() creates units with. */
extern uint32_t viommu_vmm_create_flags;
/*
 * KVM_VIOMMU_SIDECORE_* viommu_vmm_init() turns on (0: doorbells and the
 * relay): then the page is a writable memslot, no doorbell is wired, and
 * a thread of the VMM routes the interrupt messages the unit announces.
 */
extern uint32_t viommu_vmm_sidecore;

struct viommu_vmm {
	struct kvm_vm *vm;
	int dev_fd;
	int unit_fd;
	uint8_t *regs;			/* the register page, as mapped */
	struct kvm_viommu_info info;
	uint32_t wired;			/* doorbells wired: qt < wired */
	int irq_fd[KVM_VIOMMU_NR_IRQS];
	pthread_mutex_t lock;		/* wiring and routing */
	/* Counted by viommu_vcpu_run(), from any vCPU thread. */
	uint64_t mmio_reads;		/* must stay 0: reads hit the page */
	uint64_t mmio_writes;		/* relayed writes */
	uint64_t iqt_relays;		/* relayed IQT writes */
	/* If set, called after each relayed write, in the vCPU's thread. */
	void (*after_write)(struct viommu_vmm *v, uint32_t off, uint64_t val);
	uint32_t sidecore;		/* KVM_VIOMMU_SIDECORE_* on */
	int msg_fd;			/* the unit says: messages changed */
	pthread_t msg_thread;		/* routes them */
	int msg_stop;
	uint64_t msg_routes;		/* routings it made */
};

/*
 * Create @vm's unit with @cap/@ecap (0: default) and wire it: memslot,
 * guest mapping of the page, doorbells for the current queue size (or the
 * sidecore, see viommu_vmm_sidecore), irqfds.  Returns 0 or -errno of
 * KVM_CREATE_VIOMMU or KVM_VIOMMU_SET_SIDECORE (nothing else can fail
 * without aborting the test).
 */
int viommu_vmm_init(struct viommu_vmm *v, struct kvm_vm *vm, uint64_t cap,
		    uint64_t ecap);
void viommu_vmm_fini(struct viommu_vmm *v);

/*
 * Only KVM_CREATE_VIOMMU (@cap, 0: default) and KVM_VIOMMU_GET_INFO, for a
 * VM with no memory (no wiring).
 */
int viommu_vmm_init_bare(struct viommu_vmm *v, struct kvm_vm *vm,
			 uint64_t cap);

/* Run @vcpu, relaying MMIO, until a ucall; returns its number. */
uint64_t viommu_vcpu_run(struct viommu_vmm *v, struct kvm_vcpu *vcpu,
			 struct ucall *uc);

void viommu_vmm_stats(struct viommu_vmm *v, struct kvm_viommu_stats *st);

/* A vCPU statistic of KVM's (binary stats), e.g. "exits". */
uint64_t viommu_vcpu_stat(struct kvm_vcpu *vcpu, const char *name);

/* Where the host puts a guest driver's memory (viommu_guest.h uses it). */
struct guest_iommu_mem {
	uint64_t pool_gpa, pool_gva;	/* pages for tables */
	uint32_t pool_nr;
	uint64_t queue_gpa, queue_gva;	/* one page: a 256-entry queue */
	uint64_t status_gpa, status_gva;	/* wait status word */
};

/* Allocate it in @vm: @pool_nr table pages, a queue page, a status page. */
void viommu_guest_iommu_mem(struct kvm_vm *vm, struct guest_iommu_mem *mem,
			    uint32_t pool_nr);

/*
 * 4 KiB pages of guest RAM in @vm's memslots: what a unit maps for each
 * attached device while the guest has translation off.
 */
uint64_t viommu_guest_ram_pages(struct kvm_vm *vm);

/* Register page read, host side. */
uint32_t viommu_reg32(struct viommu_vmm *v, uint32_t off);
uint64_t viommu_reg64(struct viommu_vmm *v, uint32_t off);

#endif /* _VIOMMU_VMM_H */
