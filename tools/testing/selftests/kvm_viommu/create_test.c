// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_CREATE_VIOMMU: unit lifetime in every close order, and bad input.
 *
 * Every test runs against the "unit" fixture, whose teardown proves that
 * nothing leaked: no unit left in debugfs and no VM of this process left
 * in KVM's debugfs once every fd is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kvm_viommu_util.h"

FIXTURE(unit) {
	int dev_fd;
	int vm_fd;
	int units_before;
};

FIXTURE_SETUP(unit)
{
	ASSERT_EQ(0, viommu_mount_debugfs());
	self->units_before = viommu_count_units();
	ASSERT_LE(0, self->units_before);
	self->dev_fd = viommu_dev_open();
	ASSERT_LE(0, self->dev_fd);
	self->vm_fd = viommu_new_vm_fd();
	ASSERT_LE(0, self->vm_fd);
	ASSERT_EQ(1, viommu_count_vms(getpid()));
}

FIXTURE_TEARDOWN(unit)
{
	if (self->vm_fd >= 0)
		close(self->vm_fd);
	if (self->dev_fd >= 0)
		close(self->dev_fd);
	/*
	 * Tests close their unit fds; whatever they created must be gone,
	 * at once or, when a queue run on another CPU held the unit's last
	 * reference as the fds closed, a moment later.
	 */
	EXPECT_LE(0, viommu_wait_vms_gone(getpid()));
	EXPECT_EQ(self->units_before, viommu_count_units());
}

TEST_F(unit, close_unit_then_vm)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	EXPECT_EQ(self->units_before + 1, viommu_count_units());
	close(unit);
	EXPECT_EQ(self->units_before, viommu_count_units());
	/* The VM is the VMM's until it closes its fd. */
	EXPECT_EQ(1, viommu_count_vms(getpid()));
	close(self->vm_fd);
	self->vm_fd = -1;
	EXPECT_EQ(0, viommu_count_vms(getpid()));
}

TEST_F(unit, close_vm_then_unit)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	close(self->vm_fd);
	self->vm_fd = -1;
	/* The unit's reference keeps the VM alive... */
	EXPECT_EQ(1, viommu_count_vms(getpid()));
	EXPECT_EQ(self->units_before + 1, viommu_count_units());
	/* ...until the unit goes. */
	close(unit);
	EXPECT_EQ(0, viommu_count_vms(getpid()));
	EXPECT_EQ(self->units_before, viommu_count_units());
}

TEST_F(unit, close_device_then_unit_then_vm)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	close(self->dev_fd);
	self->dev_fd = -1;
	EXPECT_EQ(self->units_before + 1, viommu_count_units());
	close(unit);
	EXPECT_EQ(self->units_before, viommu_count_units());
}

/* The process dies holding everything: the VFS closes, we free. */
TEST_F(unit, process_exit_frees_everything)
{
	int status, pipefd[2];
	char ok = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dev = viommu_dev_open();
		int vm = viommu_new_vm_fd();
		int unit = viommu_create(dev, vm);

		ok = dev >= 0 && vm >= 0 && unit >= 0;
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(2);
		/* Wait to be killed, with every fd open. */
		pause();
		_exit(3);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &ok, 1));
	close(pipefd[0]);
	EXPECT_EQ(1, ok);
	EXPECT_EQ(self->units_before + 1, viommu_count_units());
	EXPECT_EQ(1, viommu_count_vms(pid));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(self->units_before, viommu_count_units());
	EXPECT_EQ(0, viommu_count_vms(pid));
}

TEST_F(unit, unit_fd_is_cloexec)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	EXPECT_EQ(FD_CLOEXEC, fcntl(unit, F_GETFD) & FD_CLOEXEC);
	close(unit);
}

TEST_F(unit, second_unit_on_vm_refused)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	EXPECT_EQ(-EEXIST, viommu_create(self->dev_fd, self->vm_fd));
	EXPECT_EQ(self->units_before + 1, viommu_count_units());
	/* Once the first is gone the VM may have another. */
	close(unit);
	unit = viommu_create(self->dev_fd, self->vm_fd);
	EXPECT_LE(0, unit);
	close(unit);
}

/*
 * A refused creation holds nothing: the unit it made is freed before the
 * ioctl returns, with its reference on the VM, so the VM goes as soon as
 * its fds close.  (The free used to be left to a workqueue: a VM closed
 * right after stayed listed until the queue ran, seen once in
 * unit_fd_test's teardown.)  Many refusals make a deferred free likely
 * to show.
 */
TEST_F(unit, refused_create_holds_no_vm)
{
	int unit = viommu_create(self->dev_fd, self->vm_fd);
	int i;

	ASSERT_LE(0, unit);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(-EEXIST, viommu_create(self->dev_fd, self->vm_fd));
	close(unit);
	close(self->vm_fd);
	self->vm_fd = -1;
	EXPECT_EQ(0, viommu_count_vms(getpid()));
}

TEST_F(unit, one_unit_per_vm_for_two_vms)
{
	int vm2 = viommu_new_vm_fd();
	int unit1, unit2;

	ASSERT_LE(0, vm2);
	unit1 = viommu_create(self->dev_fd, self->vm_fd);
	unit2 = viommu_create(self->dev_fd, vm2);
	EXPECT_LE(0, unit1);
	EXPECT_LE(0, unit2);
	EXPECT_EQ(self->units_before + 2, viommu_count_units());
	close(unit1);
	close(unit2);
	close(vm2);
}

TEST_F(unit, unknown_ioctls_are_enotty)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = self->vm_fd,
	};
	int unit = viommu_create(self->dev_fd, self->vm_fd);

	ASSERT_LE(0, unit);
	/* The unit fd takes no create command. */
	EXPECT_EQ(-1, ioctl(unit, KVM_CREATE_VIOMMU, &create));
	EXPECT_EQ(ENOTTY, errno);
	/* Right number, other encodings; other numbers; other types. */
	EXPECT_EQ(-1, ioctl(self->dev_fd,
			    _IOW(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_CREATE,
				 struct kvm_viommu_create), &create));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev_fd,
			    _IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_CREATE + 1),
			    &create));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev_fd,
			    _IO(KVM_VIOMMU_TYPE, KVM_VIOMMU_CMD_CREATE - 1),
			    &create));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev_fd, KVM_CREATE_VM, 0));
	EXPECT_EQ(ENOTTY, errno);
	close(unit);
}

TEST_F(unit, vm_fd_of_wrong_kind_is_einval)
{
	int pipefd[2], null_fd, kvm_fd, vcpu_fd;

	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, viommu_create(self->dev_fd, pipefd[0]));
	close(pipefd[0]);
	close(pipefd[1]);

	null_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null_fd);
	EXPECT_EQ(-EINVAL, viommu_create(self->dev_fd, null_fd));
	close(null_fd);

	/* Our own device, the KVM system fd and a vCPU are not VMs. */
	EXPECT_EQ(-EINVAL, viommu_create(self->dev_fd, self->dev_fd));
	kvm_fd = open("/dev/kvm", O_RDWR);
	ASSERT_LE(0, kvm_fd);
	EXPECT_EQ(-EINVAL, viommu_create(self->dev_fd, kvm_fd));
	close(kvm_fd);
	vcpu_fd = ioctl(self->vm_fd, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu_fd);
	EXPECT_EQ(-EINVAL, viommu_create(self->dev_fd, vcpu_fd));
	close(vcpu_fd);
}

TEST_F(unit, vm_fd_not_open_is_ebadf)
{
	int fd = dup(self->vm_fd);

	EXPECT_EQ(-EBADF, viommu_create(self->dev_fd, -1));
	EXPECT_EQ(-EBADF, viommu_create(self->dev_fd, INT32_MIN));
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EBADF, viommu_create(self->dev_fd, fd));
}

TEST_F(unit, vm_of_another_process_is_eperm)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Inherited fds, but our mm is not the VM's. */
		_exit(viommu_create(self->dev_fd, self->vm_fd) == -EPERM ?
		      0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(unit, unknown_flags_are_einval)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = self->vm_fd,
	};
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (1u << bit == KVM_VIOMMU_CREATE_TE_OFF_BLOCKS)
			continue;
		create.flags = 1u << bit;
		EXPECT_EQ(-EINVAL, viommu_create_raw(self->dev_fd, &create));
	}
}

TEST_F(unit, nonzero_reserved_is_einval)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = self->vm_fd,
		.__reserved = 1,
	};

	EXPECT_EQ(-EINVAL, viommu_create_raw(self->dev_fd, &create));
	create.__reserved = 0x80000000;
	EXPECT_EQ(-EINVAL, viommu_create_raw(self->dev_fd, &create));
}

/* Shorter than the struct's first version (up to __reserved). */
TEST_F(unit, short_size_is_einval)
{
	struct kvm_viommu_create create = {
		.vm_fd = self->vm_fd,
	};
	__u32 size;

	for (size = 0; size < offsetof(struct kvm_viommu_create, cap); size++) {
		create.size = size;
		EXPECT_EQ(-EINVAL, viommu_create_raw(self->dev_fd, &create));
	}
}

/* A newer VMM's longer struct: zero tail accepted, anything else E2BIG. */
TEST_F(unit, longer_struct_needs_zero_tail)
{
	struct {
		struct kvm_viommu_create create;
		__u8 tail[256];
	} big;
	int unit;

	memset(&big, 0, sizeof(big));
	big.create.size = sizeof(big);
	big.create.vm_fd = self->vm_fd;
	unit = viommu_create_raw(self->dev_fd, &big);
	ASSERT_LE(0, unit);
	close(unit);

	big.tail[sizeof(big.tail) - 1] = 1;
	EXPECT_EQ(-E2BIG, viommu_create_raw(self->dev_fd, &big));
	big.tail[sizeof(big.tail) - 1] = 0;
	big.tail[0] = 0xff;
	EXPECT_EQ(-E2BIG, viommu_create_raw(self->dev_fd, &big));
}

/*
 * Nor may a VMM make the kernel scan megabytes for nonzero bytes: an
 * argument larger than a page is refused, zero tail or not.
 */
TEST_F(unit, size_above_a_page_is_e2big)
{
	struct {
		struct kvm_viommu_create create;
		__u8 tail[2 * KVM_VIOMMU_MAX_ARG_SIZE];
	} *huge = calloc(1, sizeof(*huge));
	int unit;

	ASSERT_NE(NULL, huge);
	huge->create.vm_fd = self->vm_fd;
	huge->create.size = KVM_VIOMMU_MAX_ARG_SIZE;
	unit = viommu_create_raw(self->dev_fd, huge);
	ASSERT_LE(0, unit);
	close(unit);
	huge->create.size = KVM_VIOMMU_MAX_ARG_SIZE + 1;
	EXPECT_EQ(-E2BIG, viommu_create_raw(self->dev_fd, huge));
	huge->create.size = sizeof(*huge);
	EXPECT_EQ(-E2BIG, viommu_create_raw(self->dev_fd, huge));
	huge->create.size = ~0u;
	EXPECT_EQ(-E2BIG, viommu_create_raw(self->dev_fd, huge));
	free(huge);
}

TEST_F(unit, bad_pointers_are_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kvm_viommu_create *create;
	char *map;

	EXPECT_EQ(-EFAULT, viommu_create_raw(self->dev_fd, NULL));
	EXPECT_EQ(-EFAULT, viommu_create_raw(self->dev_fd,
					     (void *)(uintptr_t)-4096));

	/* A struct whose claimed size runs into an inaccessible page. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	create = (void *)(map + page - sizeof(*create));
	create->size = 2 * sizeof(*create);
	create->flags = 0;
	create->vm_fd = self->vm_fd;
	create->__reserved = 0;
	EXPECT_EQ(-EFAULT, viommu_create_raw(self->dev_fd, create));
	/* Its first four bytes, the size, alone readable. */
	create = (void *)(map + page - sizeof(__u32));
	create->size = sizeof(*create);
	EXPECT_EQ(-EFAULT, viommu_create_raw(self->dev_fd, create));
	munmap(map, 2 * page);
}

TEST_HARNESS_MAIN
