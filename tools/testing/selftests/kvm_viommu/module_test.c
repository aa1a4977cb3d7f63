// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module load and unload: the misc device comes and goes with the module,
 * every open fd pins the module, and unloading a module in use is refused
 * without disturbing the unit that uses it.
 *
 * Loading goes through modprobe, which the testbed points at the build's
 * module tree; unloading through delete_module(2), for its errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_viommu_util.h"

static int unload_module(void)
{
	if (syscall(__NR_delete_module, "kvm_viommu", O_NONBLOCK))
		return -errno;
	return 0;
}

static int load_module(void)
{
	return system("modprobe kvm_viommu");
}

static int is_char_device(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISCHR(st.st_mode);
}

FIXTURE(module) {
	int unused;
};

FIXTURE_SETUP(module)
{
	ASSERT_EQ(0, viommu_mount_debugfs());
	if (!viommu_module_loaded())
		ASSERT_EQ(0, load_module());
	ASSERT_EQ(0, viommu_module_refcnt());
}

/* Leave the module loaded and unused for whoever runs next. */
FIXTURE_TEARDOWN(module)
{
	if (!viommu_module_loaded())
		EXPECT_EQ(0, load_module());
	EXPECT_EQ(0, viommu_module_refcnt());
}

TEST_F(module, load_registers_device)
{
	EXPECT_TRUE(is_char_device(KVM_VIOMMU_DEV));
	EXPECT_TRUE(access(KVM_VIOMMU_DEBUGFS, F_OK) == 0);
}

/*
 * Unloading waits for RCU and the module's workqueues, and loading a
 * KASAN build relocates a large module: on the debug kernel under TCG
 * the pair took longer than the harness's default 30 s.
 */
TEST_F_TIMEOUT(module, unload_and_reload, 120)
{
	ASSERT_EQ(0, unload_module());
	EXPECT_FALSE(viommu_module_loaded());
	EXPECT_FALSE(is_char_device(KVM_VIOMMU_DEV));
	EXPECT_TRUE(access(KVM_VIOMMU_DEBUGFS, F_OK) != 0);
	ASSERT_EQ(0, load_module());
	EXPECT_TRUE(is_char_device(KVM_VIOMMU_DEV));
	EXPECT_EQ(0, viommu_count_units());
}

TEST_F(module, fds_pin_the_module)
{
	int dev, vm, unit;

	dev = viommu_dev_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(1, viommu_module_refcnt());
	vm = viommu_new_vm_fd();
	ASSERT_LE(0, vm);
	unit = viommu_create(dev, vm);
	ASSERT_LE(0, unit);
	/*
	 * The unit's fd holds one, and the unit object another until it
	 * is freed (it may outlive its fd briefly, freed from a work item
	 * the module's exit waits for).
	 */
	EXPECT_EQ(3, viommu_module_refcnt());
	close(dev);
	close(vm);
	/* The unit alone keeps the module. */
	EXPECT_EQ(2, viommu_module_refcnt());
	close(unit);
	EXPECT_EQ(0, viommu_module_refcnt());
}

TEST_F(module, unload_refused_while_unit_exists)
{
	int dev, vm, unit, ret;

	dev = viommu_dev_open();
	ASSERT_LE(0, dev);
	vm = viommu_new_vm_fd();
	ASSERT_LE(0, vm);
	unit = viommu_create(dev, vm);
	ASSERT_LE(0, unit);
	close(dev);

	ret = unload_module();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY);
	EXPECT_TRUE(viommu_module_loaded());
	EXPECT_EQ(1, viommu_count_units());

	close(unit);
	close(vm);
	EXPECT_EQ(0, viommu_count_units());
	EXPECT_EQ(0, viommu_count_vms(getpid()));
	/* Now it may go. */
	EXPECT_EQ(0, unload_module());
}

TEST_HARNESS_MAIN
