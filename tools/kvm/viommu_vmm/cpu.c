// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPUs: creation, CPUID, and the run loop that hands port and MMIO exits
 * to the device models.  The boot CPU is vCPU 0; the others wait for the
 * guest's INIT/SIPI in KVM's local APIC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "vmm.h"

#define CPUID_MAX_ENTRIES	128
#define CPUID_1_ECX_HYPERVISOR	BIT(31)

static int cpu_set_cpuid(struct vmm *vmm, int idx)
{
	struct kvm_cpuid2 *c;
	uint32_t i;
	int ret = 0;

	c = calloc(1, sizeof(*c) +
		   CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vmm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID, logical CPU count. */
			e->ebx = (e->ebx & 0x0000ffff) | (uint32_t)idx << 24 |
				 (uint32_t)vmm->opts.cpus << 16;
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC ID of this CPU. */
			e->edx = idx;
			break;
		}
	}
	if (ioctl(vmm->vcpu[idx].fd, KVM_SET_CPUID2, c))
		ret = -errno;
out:
	free(c);
	return ret;
}

int cpu_init(struct vmm *vmm, int idx)
{
	int ret;

	vmm->vcpu[idx].stats_fd = -1;
	vmm->vcpu[idx].fd = ioctl(vmm->vm_fd, KVM_CREATE_VCPU, idx);
	if (vmm->vcpu[idx].fd < 0) {
		ret = -errno;
		fprintf(stderr, "viommu-vmm: KVM_CREATE_VCPU %d: %s\n", idx,
			strerror(-ret));
		return ret;
	}
	vmm->vcpu[idx].vmm = vmm;
	vmm->vcpu[idx].idx = idx;
	vmm->vcpu[idx].run = mmap(NULL, vmm->run_size, PROT_READ | PROT_WRITE,
				  MAP_SHARED, vmm->vcpu[idx].fd, 0);
	if (vmm->vcpu[idx].run == MAP_FAILED) {
		vmm->vcpu[idx].run = NULL;
		return -errno;
	}
	ret = cpu_set_cpuid(vmm, idx);
	if (ret)
		fprintf(stderr, "viommu-vmm: CPUID of vCPU %d: %s\n", idx,
			strerror(-ret));
	return ret;
}

static void cpu_io(struct vmm *vmm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	pthread_mutex_lock(&vmm->dev_lock);
	for (i = 0; i < run->io.count; i++) {
		bus_access(vmm, &vmm->pio, run->io.port, data, run->io.size,
			   is_write);
		data += run->io.size;
	}
	pthread_mutex_unlock(&vmm->dev_lock);
}

static void cpu_mmio(struct vmm *vmm, struct kvm_run *run)
{
	uint64_t addr = run->mmio.phys_addr;

	/* The unit's relay does its own locking and may sleep in KVM. */
	if (vmm->viommu && addr >= VIOMMU_REG_BASE &&
	    addr - VIOMMU_REG_BASE < 4096) {
		viommu_mmio(vmm, addr - VIOMMU_REG_BASE, run->mmio.data,
			    run->mmio.len, run->mmio.is_write);
		return;
	}
	pthread_mutex_lock(&vmm->dev_lock);
	bus_access(vmm, &vmm->mmio, addr, run->mmio.data, run->mmio.len,
		   run->mmio.is_write);
	pthread_mutex_unlock(&vmm->dev_lock);
}

static void cpu_fail(struct vmm *vmm, int idx, const char *what)
{
	struct kvm_regs regs;

	if (!ioctl(vmm->vcpu[idx].fd, KVM_GET_REGS, &regs))
		fprintf(stderr, "viommu-vmm: vCPU %d: %s at rip 0x%llx\n", idx,
			what, (unsigned long long)regs.rip);
	else
		fprintf(stderr, "viommu-vmm: vCPU %d: %s\n", idx, what);
	vmm_stop(vmm, VMM_STOP_ERROR);
}

void *cpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vmm *vmm = vcpu->vmm;
	struct kvm_run *run = vcpu->run;
	int idx = vcpu->idx;
	char why[64];

	while (!__atomic_load_n(&vmm->stop, __ATOMIC_SEQ_CST)) {
		if (ioctl(vmm->vcpu[idx].fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "KVM_RUN: %s",
				 strerror(errno));
			cpu_fail(vmm, idx, why);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			cpu_io(vmm, run);
			break;
		case KVM_EXIT_MMIO:
			cpu_mmio(vmm, run);
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault: Linux's last reboot method. */
			vmm_stop(vmm, VMM_STOP_RESET);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			vmm_stop(vmm, run->system_event.type ==
				 KVM_SYSTEM_EVENT_SHUTDOWN ?
				 VMM_STOP_POWEROFF : VMM_STOP_RESET);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(why, sizeof(why), "entry failed (0x%llx)",
				 (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
			cpu_fail(vmm, idx, why);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(why, sizeof(why), "KVM internal error %u",
				 run->internal.suberror);
			cpu_fail(vmm, idx, why);
			break;
		default:
			snprintf(why, sizeof(why), "unexpected exit %u",
				 run->exit_reason);
			cpu_fail(vmm, idx, why);
			break;
		}
	}
	return NULL;
}
