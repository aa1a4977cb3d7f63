#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boots the L2 guest, inside the testbed's L1, with Debian's QEMU on KVM and
# the edu device (bound to vfio-pci by l1_run.sh) assigned to it:
#
#   run_qemu.sh viommu|none KERNEL INITRD
#   run_qemu.sh --version      which QEMU it runs, e.g. "10.0.2 (Debian ...)"
#
#   viommu  QEMU's intel-iommu in front of the device, driven by the guest
#           kernel (intel_iommu=on): the guest's DMA is translated.
#   none    no vIOMMU (intel_iommu=off): the guest's DMA addresses are
#           guest-physical ones.
#
# Prints the guest's console (without carriage returns, line by line: a
# guest killed at a time-out keeps its last words); the caller parses
# the "guest: " lines (see mkinitrd.sh).  Exit status: QEMU's, 124 if the
# guest ran out of time.
#
# Environment: KVM_VIOMMU_EDU_BDF (the device, from l1_run.sh),
# KVM_VIOMMU_QEMU_ROOT (empty: the installed QEMU, 10.x; else the root of
# an unpacked QEMU package, Debian 12's 7.2, run with its own firmware and
# modules), GUEST_TIMEOUT (seconds, default 180), GUEST_APPEND (more
# kernel parameters, e.g. edu_dma.iters=1000), GUEST_MEM (default 512M),
# GUEST_QEMU_ARGS (more QEMU options, split on blanks; e.g. a monitor).
set -uo pipefail

usage() { echo "usage: run_qemu.sh viommu|none KERNEL INITRD" >&2; exit 2; }

# An unpacked QEMU looks for its firmware (-L) and its modules (such as
# the TCG accelerator; QEMU_MODULE_DIR) in its own tree, never in the
# installed QEMU's, whose versions differ.
ROOT=${KVM_VIOMMU_QEMU_ROOT:-}
qemu=(qemu-system-x86_64)
if [ -n "$ROOT" ]; then
	qemu=("$ROOT/usr/bin/qemu-system-x86_64" -L "$ROOT/usr/share/qemu"
	      -L "$ROOT/usr/share/seabios")
	export QEMU_MODULE_DIR=$ROOT/usr/lib/x86_64-linux-gnu/qemu
fi
if [ "${1:-}" = --version ]; then
	"${qemu[0]}" --version | sed -n '1s/^QEMU emulator version //p'
	exit
fi
[ $# = 3 ] || usage
MODE=$1
KERNEL=$2
INITRD=$3
BDF=${KVM_VIOMMU_EDU_BDF:-}

[ -n "$BDF" ] || { echo "run_qemu: KVM_VIOMMU_EDU_BDF is not set" >&2; exit 2; }
[ -r "$KERNEL" ] || { echo "run_qemu: no kernel at $KERNEL" >&2; exit 2; }
[ -r "$INITRD" ] || { echo "run_qemu: no initrd at $INITRD" >&2; exit 2; }
[ -c /dev/kvm ] || { echo "run_qemu: no /dev/kvm" >&2; exit 2; }

# Quiet: the console is a serial port, slow to emulate this deep down; the
# whole kernel log stays in the guest's dmesg, which /init reads.  The
# early console prints what quiet lets through (a panic) from the first
# line of the boot: a guest that ends early with nothing on its console
# (QEMU's exit status is 0 for a triple fault as for a panic, under
# -no-reboot and panic=-1) then did not panic.
append="console=ttyS0 earlycon=uart8250,io,0x3f8 quiet panic=-1 rdinit=/init"
iommu=()
case "$MODE" in
viommu)
	# Caching mode: QEMU learns of every new mapping, as VFIO needs; it
	# also makes Linux invalidate strictly.  Interrupt remapping needs
	# the split irqchip.
	iommu=(-device "intel-iommu,intremap=on,caching-mode=on")
	append="$append intel_iommu=on"
	;;
none)
	append="$append intel_iommu=off"
	;;
*)
	usage
	;;
esac

# shellcheck disable=SC2086 # GUEST_QEMU_ARGS is a list of options
timeout --foreground -k 10 "${GUEST_TIMEOUT:-180}" "${qemu[@]}" \
	-machine q35,accel=kvm,kernel-irqchip=split -cpu host -smp 1 \
	-m "${GUEST_MEM:-512M}" \
	"${iommu[@]}" \
	-device vfio-pci,host="$BDF" \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "$append ${GUEST_APPEND:-}" \
	-nodefaults -serial stdio -display none -no-reboot \
	${GUEST_QEMU_ARGS:-} \
	< /dev/null 2>&1 | stdbuf -oL tr -d '\r'
exit "${PIPESTATUS[0]}"
