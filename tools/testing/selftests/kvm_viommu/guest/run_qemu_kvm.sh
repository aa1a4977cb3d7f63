#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boots the L2 guest, inside the testbed's L1, under the patched QEMU
# (tools/qemu) on the seed's command line: q35 on KVM with the split
# irqchip, QEMU's intel-iommu with interrupt remapping and caching mode in
# front of the edu device assigned through vfio-pci, and kvm-viommu=on or
# not:
#
#   run_qemu_kvm.sh on|off|track|poll KERNEL INITRD
#   run_qemu_kvm.sh --cmdline MODE      print the QEMU command line only
#
#   on     the VT-d unit is kvm_viommu's, in L1's kernel
#   off    QEMU's own intel-iommu emulation, as Debian's QEMU does it
#   track  on, with kvm-viommu-sidecore=track: the guest writes the
#          register page, KVM's write tracking hands the writes to the unit
#   poll   on, with kvm-viommu-sidecore=poll: the module's poller takes them
#
# Prints the guest's console (without carriage returns, a line at a time,
# so that a caller can follow it); the caller parses the "guest: " lines
# (see mkinitrd.sh).  Exit status: QEMU's, 124 if the
# guest ran out of time, 4 if there is no patched QEMU.
#
# With GUEST_STATS set (a file), the unit's counters when the guest stopped
# go there, one "name value" per line as viommu-vmm's --stats writes them,
# from QEMU's vtd_kvm_stats trace events: "viommu 1" when the unit ran
# (kvm-viommu=on), "viommu 0" otherwise; with the sidecore also
# tracked_writes and polled_writes; vmm_relayed_iqt is the number of
# Invalidation Queue Tail writes that reached QEMU, and
# vfio_kvm_viommu_containers the number of VFIO containers QEMU opened of
# kvm_viommu's own type (KVM_VIOMMU_VFIO_IOMMU), which QEMU maps nothing
# into, and vmm_sidecore_fallbacks the times QEMU's default sidecore was
# refused by the host and doorbells wired instead.
#
# Environment: KVM_VIOMMU_QEMU_KVM (the patched binary; default the
# build/qemu/qemu-system-x86_64 link that make qemu leaves),
# KVM_VIOMMU_EDU_BDF (the device, from l1_run.sh), GUEST_TIMEOUT (seconds,
# default 180), GUEST_APPEND (more kernel parameters), GUEST_MEM (default
# 512M), GUEST_QEMU_ARGS (more QEMU options, split on blanks; e.g. a
# monitor), GUEST_RESET=1 (a system reset reboots the guest rather than
# ending QEMU: -no-reboot is left out).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../../../../.." && pwd)
QEMU=${KVM_VIOMMU_QEMU_KVM:-$TOP/build/qemu/qemu-system-x86_64}
BDF=${KVM_VIOMMU_EDU_BDF:-}

usage() {
	echo "usage: run_qemu_kvm.sh [--cmdline] on|off|track|poll [KERNEL INITRD]" >&2
	exit 2
}

cmdline_only=
if [ "${1:-}" = --cmdline ]; then
	cmdline_only=1
	shift
fi
case "${1:-}" in
on) prop=",kvm-viommu=on" ;;
off) prop= ;;
track|poll) prop=",kvm-viommu=on,kvm-viommu-sidecore=$1" ;;
*) usage ;;
esac

# The seed's command line, plus one property.
args=(-machine q35,accel=kvm,kernel-irqchip=split -cpu host -smp 1
      -m "${GUEST_MEM:-512M}"
      -device "intel-iommu,intremap=on,caching-mode=on$prop"
      -device "vfio-pci,host=${BDF:-BDF}")
if [ -n "$cmdline_only" ]; then
	echo "qemu-system-x86_64 ${args[*]}"
	exit 0
fi

[ $# = 3 ] || usage
KERNEL=$2
INITRD=$3
[ -n "$BDF" ] || { echo "run_qemu_kvm: KVM_VIOMMU_EDU_BDF is not set" >&2; exit 2; }
# Exit status 4, kselftest's skip, when the patched QEMU was not built.
[ -x "$QEMU" ] || { echo "run_qemu_kvm: no patched QEMU at $QEMU (make qemu)" >&2; exit 4; }
[ -r "$KERNEL" ] || { echo "run_qemu_kvm: no kernel at $KERNEL" >&2; exit 2; }
[ -r "$INITRD" ] || { echo "run_qemu_kvm: no initrd at $INITRD" >&2; exit 2; }

trace=$(mktemp "${TMPDIR:-/tmp}/qemu_kvm_trace.XXXXXX")
trap 'rm -f "$trace"' EXIT

# The early console: a guest that ends early with nothing on its console
# did not panic (see run_qemu.sh).
# shellcheck disable=SC2086 # GUEST_QEMU_ARGS is a list of options
timeout --foreground -k 10 "${GUEST_TIMEOUT:-180}" "$QEMU" "${args[@]}" \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 earlycon=uart8250,io,0x3f8 quiet panic=-1 rdinit=/init intel_iommu=on ${GUEST_APPEND:-}" \
	-nodefaults -serial stdio -display none \
	$([ "${GUEST_RESET:-}" = 1 ] || echo -no-reboot) \
	-trace 'enable=vtd_kvm_stats*' -trace enable=vfio_kvm_viommu_container \
	-trace enable=vtd_kvm_sidecore_unsupported \
	-D "$trace" \
	${GUEST_QEMU_ARGS:-} \
	< /dev/null 2>&1 | stdbuf -oL tr -d '\r'
rc=${PIPESTATUS[0]}

if [ -n "${GUEST_STATS:-}" ]; then
	# The last stop's counters: "vtd_kvm_stats doorbells 5 maps 7 ...".
	{
		if grep -q 'vtd_kvm_stats ' "$trace"; then
			echo "viommu 1"
		else
			echo "viommu 0"
		fi
		echo "vfio_kvm_viommu_containers $(grep -c 'vfio_kvm_viommu_container ' "$trace")"
		echo "vmm_sidecore_fallbacks $(grep -c 'vtd_kvm_sidecore_unsupported ' "$trace")"
		for ev in vtd_kvm_stats vtd_kvm_stats_errors vtd_kvm_stats_sidecore; do
			grep -o "$ev [a-z_0-9 ]*" "$trace" | tail -n1 |
				sed "s/^$ev //" | xargs -n2 echo
		done
	} | sed 's/^relayed_iqt /vmm_relayed_iqt /;s/^relayed_writes /vmm_relayed_writes /' \
		> "$GUEST_STATS"
fi
exit "$rc"
