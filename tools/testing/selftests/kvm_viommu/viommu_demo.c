// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_demo: what kvm_viommu does for an L2 guest today, step by step,
 * in words.  Run by `make demo` inside the testbed's L1.
 *
 * Creates a VM with the KVM selftest library, gives it a VT-d unit through
 * /dev/kvm_viommu, runs guest code in it, and shows the unit's state and
 * lifetime from the operator's side (debugfs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kvm_viommu_util.h"

static void guest_code(void)
{
	uint64_t i;

	for (i = 1; i <= 3; i++)
		GUEST_SYNC(i * 1000);
	GUEST_DONE();
}

static void show_units(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "for d in %s/*/; do [ -d \"$d\" ] || continue; "
		 "echo \"    $d\"; sed 's/^/      /' \"$d/info\"; done",
		 KVM_VIOMMU_DEBUGFS);
	if (system(cmd))
		printf("    (debugfs not readable)\n");
	printf("    units alive: %d\n", viommu_count_units());
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int dev, unit;

	if (viommu_mount_debugfs())
		printf("debugfs: not mounted, state will not be shown\n");

	printf("1. Opening %s (module refcount %d)\n", KVM_VIOMMU_DEV,
	       viommu_module_refcnt());
	dev = viommu_dev_open();
	if (dev < 0) {
		printf("   cannot open it: %s; is kvm_viommu loaded?\n",
		       strerror(-dev));
		return 1;
	}

	printf("2. Creating an L2 VM with one vCPU (KVM in this L1)\n");
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);

	printf("3. KVM_CREATE_VIOMMU on that VM\n");
	unit = viommu_create(dev, vm->fd);
	if (unit < 0) {
		printf("   failed: %s\n", strerror(-unit));
		return 1;
	}
	printf("   unit fd %d; the operator sees:\n", unit);
	show_units();

	printf("4. Running the L2 guest beside its unit\n");
	for (;;) {
		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			printf("   L2 guest says %lu\n", (unsigned long)uc.args[1]);
			continue;
		case UCALL_DONE:
			printf("   L2 guest done\n");
			break;
		default:
			printf("   unexpected exit %u\n", vcpu->run->exit_reason);
			return 1;
		}
		break;
	}

	printf("5. The VMM closes the VM first: the unit keeps it alive\n");
	kvm_vm_free(vm);
	printf("   VMs of this process still alive: %d\n",
	       viommu_count_vms(getpid()));

	printf("6. Closing the unit frees the unit and then the VM\n");
	close(unit);
	close(dev);
	printf("   VMs alive: %d, units alive: %d, module refcount %d\n",
	       viommu_count_vms(getpid()), viommu_count_units(),
	       viommu_module_refcnt());
	printf("Next: the guest's VT-d registers and invalidation queue,\n");
	printf("then real DMA through the unit.\n");
	return 0;
}
