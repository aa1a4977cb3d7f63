// SPDX-License-Identifier: GPL-2.0-only
/*
 * An L2 guest runs beside a kvm_viommu unit: the nested KVM path of the
 * testbed works under the kselftest harness, with the KVM selftest
 * library's guest code and ucalls.
 */
#include <errno.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kvm_viommu_util.h"

/* kselftest_harness.h has its own. */
#undef ASSERT_EQ
#include "kselftest_harness.h"

#define GUEST_STAGES	16

static void guest_code(void)
{
	uint64_t i, sum = 0;

	for (i = 1; i <= GUEST_STAGES; i++) {
		sum += i;
		GUEST_SYNC(sum);
	}
	GUEST_DONE();
}

TEST(l2_guest_runs_beside_unit)
{
	uint64_t expect = 0, stage = 0;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int dev, unit, units;

	ASSERT_EQ(0, viommu_mount_debugfs());
	units = viommu_count_units();
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	dev = viommu_dev_open();
	ASSERT_LE(0, dev);
	unit = viommu_create(dev, vm->fd);
	ASSERT_LE(0, unit);
	EXPECT_EQ(units + 1, viommu_count_units());

	for (;;) {
		vcpu_run(vcpu);
		ASSERT_EQ(KVM_EXIT_IO, vcpu->run->exit_reason);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			stage++;
			expect += stage;
			ASSERT_EQ(expect, uc.args[1]);
			continue;
		case UCALL_DONE:
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			ASSERT_TRUE(0);
		}
		break;
	}
	EXPECT_EQ(GUEST_STAGES, stage);

	/* The unit outlives the library's VM fd, and then goes cleanly. */
	kvm_vm_free(vm);
	EXPECT_EQ(1, viommu_count_vms(getpid()));
	close(unit);
	close(dev);
	EXPECT_EQ(0, viommu_count_vms(getpid()));
	EXPECT_EQ(units, viommu_count_units());
}

TEST_HARNESS_MAIN
