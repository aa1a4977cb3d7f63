/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm_viommu selftests: raw access to the uapi, and
 * the counters through which tests prove that nothing leaked.
 */
#ifndef _KVM_VIOMMU_UTIL_H
#define _KVM_VIOMMU_UTIL_H

#include <sys/types.h>
#include <linux/kvm_viommu.h>

#define KVM_VIOMMU_DEV		"/dev/" KVM_VIOMMU_DEVICE_NAME
#define KVM_VIOMMU_DEBUGFS	"/sys/kernel/debug/kvm_viommu"
#define KVM_DEBUGFS		"/sys/kernel/debug/kvm"
#define KVM_VIOMMU_SYSFS	"/sys/module/kvm_viommu"

/* open() of /dev/kvm_viommu; -errno on failure. */
int viommu_dev_open(void);

/* A new VM fd from /dev/kvm (KVM_CREATE_VM); -errno on failure. */
int viommu_new_vm_fd(void);

/* KVM_CREATE_VIOMMU with a caller-built argument; fd or -errno. */
int viommu_create_raw(int dev_fd, void *arg);

/* KVM_CREATE_VIOMMU for @vm_fd with a well-formed argument; fd or -errno. */
int viommu_create(int dev_fd, int vm_fd);

/*
 * Read the start of the sysfs or cgroup file @path into @buf (@size bytes,
 * NUL-terminated); the length read, or -errno (-EIO if empty).
 */
int viommu_read_file(const char *path, char *buf, size_t size);

/* Write @val to the sysfs, tracefs or cgroup file @path; 0 or -errno. */
int viommu_write_file(const char *path, const char *val);

/*
 * Set the module parameter @name to @val; its value before the first
 * change is kept for viommu_restore_params().  0 or -errno.
 */
int viommu_set_param(const char *name, const char *val);

/* Every parameter viommu_set_param() changed, back as it was. */
void viommu_restore_params(void);

/*
 * Test timeouts are written for the testbed on this kind of machine; a
 * slower one (a debug kernel, a slower host) builds the tests with a
 * larger scale (make KVM_VIOMMU_TIMEOUT_SCALE=4 ...).
 */
#ifndef KVM_VIOMMU_TIMEOUT_SCALE
#define KVM_VIOMMU_TIMEOUT_SCALE	1
#endif
#define SCALED(seconds)		((seconds) * KVM_VIOMMU_TIMEOUT_SCALE)

/* Mount debugfs if it is not; 0 or -errno. */
int viommu_mount_debugfs(void);

/* Units alive, by their debugfs directories; -errno on failure. */
int viommu_count_units(void);

/* Units alive created by the process whose global pid is @pid. */
int viommu_count_units_of(pid_t pid);

/* The pid of a task (a kernel thread too) whose comm is @comm; -errno. */
pid_t viommu_find_task(const char *comm);

/*
 * The value of @key ("iq_runs_worker", ...) in the debugfs info file of
 * this process's one unit; -errno if there is no such unit or key.
 */
long long viommu_unit_info(const char *key);

/*
 * Log, as kselftest comments headed by @why, the debugfs info and regs of
 * this process's unit: for a test that failed, the state it failed in.
 */
void viommu_log_unit(const char *why);

/* VMs of process @pid alive, by KVM's debugfs directories; -errno. */
int viommu_count_vms(pid_t pid);

/*
 * Wait up to SCALED(1) s for process @pid's VMs to go: the milliseconds it
 * took (0: gone at once), or -errno (-ETIMEDOUT: still there).
 */
int viommu_wait_vms_gone(pid_t pid);

/* The module's reference count from sysfs; -errno if not loaded. */
int viommu_module_refcnt(void);

/* True if the kvm_viommu module is loaded. */
int viommu_module_loaded(void);

#endif /* _KVM_VIOMMU_UTIL_H */
