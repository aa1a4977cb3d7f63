// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the kvm_viommu selftests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_viommu_util.h"

int viommu_dev_open(void)
{
	int fd = open(KVM_VIOMMU_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int viommu_new_vm_fd(void)
{
	int kvm_fd, vm_fd, err;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return -errno;
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	err = errno;
	close(kvm_fd);
	return vm_fd < 0 ? -err : vm_fd;
}

int viommu_create_raw(int dev_fd, void *arg)
{
	int fd = ioctl(dev_fd, KVM_CREATE_VIOMMU, arg);

	return fd < 0 ? -errno : fd;
}

int viommu_create(int dev_fd, int vm_fd)
{
	struct kvm_viommu_create create = {
		.size = sizeof(create),
		.vm_fd = vm_fd,
	};

	return viommu_create_raw(dev_fd, &create);
}

int viommu_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (int)n : -EIO;
}

int viommu_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int viommu_mount_debugfs(void)
{
	struct stat st;

	if (!stat(KVM_DEBUGFS, &st))
		return 0;
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		return -errno;
	return 0;
}

/* Count subdirectories of @path whose name starts with @prefix. */
static int count_dirs(const char *path, const char *prefix)
{
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	}
	closedir(dir);
	return n;
}

int viommu_count_units(void)
{
	return count_dirs(KVM_VIOMMU_DEBUGFS, "");
}

long long viommu_unit_info(const char *key)
{
	char prefix[32], path[300], line[128];
	long long val = -ENOENT;
	struct dirent *de;
	size_t klen = strlen(key);
	DIR *d;
	FILE *f;

	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	d = opendir(KVM_VIOMMU_DEBUGFS);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			break;
	if (!de) {
		closedir(d);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), KVM_VIOMMU_DEBUGFS "/%s/info",
		 de->d_name);
	closedir(d);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

int viommu_count_vms(pid_t pid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%d-", pid);
	return count_dirs(KVM_DEBUGFS, prefix);
}

int viommu_module_refcnt(void)
{
	char buf[32];
	int n = viommu_read_file(KVM_VIOMMU_SYSFS "/refcnt", buf, sizeof(buf));

	return n < 0 ? n : atoi(buf);
}

int viommu_module_loaded(void)
{
	struct stat st;

	return !stat(KVM_VIOMMU_SYSFS "/initstate", &st);
}
