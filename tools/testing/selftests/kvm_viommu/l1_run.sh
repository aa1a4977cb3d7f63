#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the testbed's L1 (chrooted into the build machine's root,
# shared read-only), started by vmtest.sh's initramfs:
#
#   l1_run.sh check|demo|bench|soak BUILD_DIR OUT_DIR [TEST...]
#
# Prepares L1 (kvm-amd, vfio-pci with edu bound, kvm_viommu), runs the
# selftests, the demo, the bench or the soak, and leaves in OUT_DIR:
# tap.txt (every program's TAP), dmesg.txt, l2/ (the L2 guests' consoles,
# after check) and done (the exit status).
# Then powers L1 off.
#
# What it exports to the programs (besides PATH, TMPDIR and HOME):
#   KVM_VIOMMU_EDU_BDF, KVM_VIOMMU_EDU_GROUP  edu, bound to vfio-pci
#   KVM_VIOMMU_VMM          viommu-vmm
#   KVM_VIOMMU_QEMU_RUN     guest/run_qemu.sh, which runs QEMU in L1
#   KVM_VIOMMU_QEMU_ROOT    empty: run_qemu.sh runs the installed QEMU (10);
#                           else an unpacked QEMU's root (Debian 12's 7.2)
#   KVM_VIOMMU_QEMU_VERSION that QEMU's version, e.g. "10.0.2 (Debian ...)"
#   KVM_VIOMMU_L0_QEMU      the version of the QEMU that runs L1
#   KVM_VIOMMU_L2_KERNEL, KVM_VIOMMU_L2_INITRD  the L2 Linux guest: the L1
#                           kernel's release (Debian's build of it) and
#                           an initramfs with edu_dma.ko built for it
#   KVM_VIOMMU_PKG_DIR, KVM_VIOMMU_INSTALL_DEBS, KVM_VIOMMU_KDIR,
#   KVM_VIOMMU_KMODS        what install_test.sh installs and builds with
# vmtest.sh writes the testbed's part of these to BUILD_DIR/vmtest/l1.env.
set -u

MODE=$1
BUILD=$2
OUT=$3
TESTS=${4:-}
SELFTESTS=$BUILD/selftests
DEFAULT_TESTS="vtd_core_test vtd_walk_test module_test create_test unit_fd_test
	l2_guest_test vtd_unit_test shadow_dma_test acpi_test linux_guest_test
	qemu_kvm_viommu_test host_trace_test install_test"

export PATH=$BUILD/vmtest/bin:/usr/sbin:/usr/bin:/sbin:/bin
# / is read-only, and /tmp is the build machine's (the build tree may be
# there): scratch lives on /run, a tmpfs.
export TMPDIR=/run/tmp HOME=/run/tmp
mkdir -p "$TMPDIR"
# What vmtest.sh passed on for the test programs.
# shellcheck source=/dev/null
[ -r "$OUT/env" ] && . "$OUT/env"

poweroff_now() {
	# A debug kernel's kmemleak scans every 10 minutes; make it look now
	# (twice, as it advises), so leaks reach the log vmtest.sh checks.
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		sleep 1
		echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak > "$OUT/kmemleak.txt"
		echo "l1: kmemleak: $(grep -c '^unreferenced object' \
			"$OUT/kmemleak.txt") suspected leaks"
	fi
	dmesg > "$OUT/dmesg.txt" 2>&1
	echo "$1" > "$OUT/done"
	sync
	# In this process, not through sysrq: sysrq-o powers off from a
	# worker, and with two CPUs this script went on meanwhile, failed
	# to run its next command from the 9p root being shut down, and
	# init's exit panicked L1.
	exec /bin/busybox poweroff -f
}

setup_fail() {
	echo "l1: setup failed: $*"
	echo "not ok 1 testbed setup: $*" >> "$OUT/tap.txt"
	poweroff_now 1
}

mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "$BUILD/vmtest/bin/modprobe" > /proc/sys/kernel/modprobe
echo 1 > /proc/sys/kernel/sysrq

echo "l1: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
modprobe kvm_amd || setup_fail "modprobe kvm_amd"
[ -c /dev/kvm ] || setup_fail "no /dev/kvm after loading kvm_amd"
modprobe vfio-pci || setup_fail "modprobe vfio-pci"

# QEMU's edus (1234:11e8) go to vfio-pci: the assigned device of later
# tests, and a second one for tests that need two IOMMU groups.
edus=()
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edus+=("$(basename "$d")")
	fi
done
[ ${#edus[@]} -gt 0 ] || setup_fail "no edu device"
for e in "${edus[@]}"; do
	echo vfio-pci > "/sys/bus/pci/devices/$e/driver_override"
	[ -e "/sys/bus/pci/devices/$e/driver" ] &&
		echo "$e" > "/sys/bus/pci/devices/$e/driver/unbind"
	echo "$e" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$e/driver")")" = vfio-pci ] ||
		setup_fail "edu ($e) did not bind to vfio-pci"
done
edu=${edus[0]}
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
echo "l1: edu $edu bound to vfio-pci, IOMMU group $group"
export KVM_VIOMMU_EDU_BDF=$edu KVM_VIOMMU_EDU_GROUP=$group
if [ ${#edus[@]} -gt 1 ]; then
	edu2=${edus[1]}
	group2=$(basename "$(readlink "/sys/bus/pci/devices/$edu2/iommu_group")")
	echo "l1: second edu $edu2, IOMMU group $group2"
	export KVM_VIOMMU_EDU2_BDF=$edu2 KVM_VIOMMU_EDU2_GROUP=$group2
fi

# The Linux guest of linux_guest_test, the demo and the bench: Debian's
# kernel (whatever L1 runs, even the debug kernel) with our initramfs,
# under viommu-vmm or under QEMU.
# shellcheck source=/dev/null # written by vmtest.sh
. "$BUILD/vmtest/l1.env"
export KVM_VIOMMU_VMM=$BUILD/vmm/viommu-vmm
KVM_VIOMMU_QEMU_RUN=$(cd "$(dirname "$0")" && pwd)/guest/run_qemu.sh
KVM_VIOMMU_QEMU_VERSION=$("$KVM_VIOMMU_QEMU_RUN" --version)
export KVM_VIOMMU_QEMU_RUN KVM_VIOMMU_QEMU_VERSION
echo "l1: L0 QEMU $KVM_VIOMMU_L0_QEMU; L1 kernel $(uname -r) on $(nproc) CPUs; the L2 Linux guest's QEMU $KVM_VIOMMU_QEMU_VERSION"

modprobe kvm_viommu || setup_fail "modprobe kvm_viommu"
[ -c /dev/kvm_viommu ] || setup_fail "no /dev/kvm_viommu"
echo "l1: kvm_viommu loaded"

if [ "$MODE" = demo ]; then
	# First the whole story with a Linux guest; then the same unit driven
	# register by register by a selftest guest.
	echo
	"$SELFTESTS/linux_demo"
	rc=$?
	echo
	"$SELFTESTS/viommu_demo" || rc=1
	echo
	poweroff_now $rc
fi

if [ "$MODE" = bench ]; then
	KVM_VIOMMU_BENCH_OUT=$OUT/bench.json "$SELFTESTS/viommu_bench"
	poweroff_now $?
fi

if [ "$MODE" = soak ]; then
	"$(dirname "$0")/soak.sh" "$OUT" 2>&1 | tee "$TMPDIR/soak.log"
	rc=${PIPESTATUS[0]}
	cat "$TMPDIR/soak.log" >> "$OUT/tap.txt"
	poweroff_now "$rc"
fi

# Each test program prints its own TAP.  A program that dies before its
# totals line is one more failure, said as such.
rc=0
for t in ${TESTS:-$DEFAULT_TESTS}; do
	echo "# selftests: kvm_viommu: $t"
	log=$TMPDIR/$t.log
	start=$(date +%s)
	# A program of the build, or a script beside this one.
	prog=$SELFTESTS/$t
	[ -x "$prog" ] || prog=$(dirname "$0")/$t.sh
	"$prog" 2>&1 | tee "$log"
	trc=${PIPESTATUS[0]}
	# How long each program took: what a slower machine's timeouts need.
	echo "# selftests: kvm_viommu: $t took $(($(date +%s) - start)) s" |
		tee -a "$log"
	cat "$log" >> "$OUT/tap.txt"
	if ! grep -q '^# Totals:' "$log"; then
		echo "not ok 1 $t: exited with status $trc before reporting" |
			tee -a "$OUT/tap.txt"
		rc=1
	fi
	[ "$trc" = 0 ] || [ "$trc" = 4 ] || rc=1
done
# The L2 guests' whole consoles, which the TAP only quotes the end of.
mkdir -p "$OUT/l2"
cp "$TMPDIR"/l2-*.log "$OUT/l2/" 2>/dev/null
poweroff_now $rc
