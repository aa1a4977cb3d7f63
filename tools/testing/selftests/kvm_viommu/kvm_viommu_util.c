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

#include "kselftest.h"
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

int viommu_count_units_of(pid_t pid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%d-", pid);
	return count_dirs(KVM_VIOMMU_DEBUGFS, prefix);
}

pid_t viommu_find_task(const char *comm)
{
	char path[64], name[32];
	struct dirent *de;
	pid_t pid = -ENOENT;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/comm", de->d_name);
		if (viommu_read_file(path, name, sizeof(name)) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (!strcmp(name, comm)) {
			pid = atoi(de->d_name);
			break;
		}
	}
	closedir(d);
	return pid;
}

/*
 * The path of @file in the debugfs directory of this process's first
 * unit; -errno if it has none.
 */
static int unit_debugfs_path(const char *file, char *path, size_t size)
{
	char prefix[32];
	struct dirent *de;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	d = opendir(KVM_VIOMMU_DEBUGFS);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			break;
	if (de)
		snprintf(path, size, KVM_VIOMMU_DEBUGFS "/%s/%s", de->d_name,
			 file);
	closedir(d);
	return de ? 0 : -ENOENT;
}

long long viommu_unit_info(const char *key)
{
	char path[300], line[128];
	long long val = -ENOENT;
	size_t klen = strlen(key);
	FILE *f;
	int ret;

	ret = unit_debugfs_path("info", path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return val;
}

void viommu_log_unit(const char *why)
{
	static const char *const files[] = { "info", "regs" };
	char path[300], line[160];
	unsigned int i;
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (unit_debugfs_path(files[i], path, sizeof(path)))
			return;
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			fprintf(stderr, "# %s: %s: %s", why, files[i], line);
		fclose(f);
	}
}

int viommu_count_vms(pid_t pid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%d-", pid);
	return count_dirs(KVM_DEBUGFS, prefix);
}

int viommu_wait_vms_gone(pid_t pid)
{
	int ms, n;

	for (ms = 0; ms < SCALED(1000); ms++) {
		n = viommu_count_vms(pid);
		if (n <= 0)
			return n < 0 ? n : ms;
		usleep(1000);
	}
	return -ETIMEDOUT;
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

/* Parameters changed by viommu_set_param(), with their first values. */
#define NR_SAVED_PARAMS	8
static struct {
	char name[32];
	char val[32];
} saved_params[NR_SAVED_PARAMS];

int viommu_set_param(const char *name, const char *val)
{
	char path[128];
	unsigned int i;
	int n;

	snprintf(path, sizeof(path), KVM_VIOMMU_SYSFS "/parameters/%.31s",
		 name);
	for (i = 0; i < NR_SAVED_PARAMS; i++) {
		if (!strcmp(saved_params[i].name, name))
			break;
		if (saved_params[i].name[0])
			continue;
		n = viommu_read_file(path, saved_params[i].val,
				     sizeof(saved_params[i].val));
		if (n < 0)
			return n;
		snprintf(saved_params[i].name, sizeof(saved_params[i].name),
			 "%.31s", name);
		break;
	}
	if (i == NR_SAVED_PARAMS)
		return -ENOSPC;
	return viommu_write_file(path, val);
}

void viommu_restore_params(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < NR_SAVED_PARAMS; i++) {
		if (!saved_params[i].name[0])
			continue;
		snprintf(path, sizeof(path), KVM_VIOMMU_SYSFS "/parameters/%.31s",
			 saved_params[i].name);
		viommu_write_file(path, saved_params[i].val);
		saved_params[i].name[0] = '\0';
	}
}
