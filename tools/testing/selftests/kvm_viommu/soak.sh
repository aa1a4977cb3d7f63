#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The soak (make soak): inside the testbed's L1, boots the L2 Linux guest
# (Debian's kernel, edu_dma doing DMA through the guest's DMA API) again and
# again in each VMM, and counts the boots that passed in a row.  Run by
# l1_run.sh, which exports where everything is.
#
#   soak.sh OUT_DIR
#
# The VMMs (SOAK_VMMS, space-separated, default all):
#   kvm_viommu       viommu-vmm, kvm_viommu in front of edu, one vCPU
#   kvm_viommu_2cpu  the same with two vCPUs
#   vmm_no_viommu    viommu-vmm, no vIOMMU
#   qemu_viommu      QEMU 10 (installed) with its intel-iommu
#   qemu_no_viommu   QEMU 10, no vIOMMU
#   qemu72_viommu    Debian 12's QEMU 7.2 (unpacked) with its intel-iommu
#   qemu72_no_viommu QEMU 7.2, no vIOMMU
# SOAK_BOOTS boots each (default 30), SOAK_ITERS map+unmap pairs per boot
# (default 200), SOAK_TIMEOUT seconds per boot (default 240).
#
# A boot passes when the VMM exits 0 and the guest reached the end of its
# init, its DMA round trips matched, edu_dma passed, the device was
# translated (or not) as the VMM promised, and the guest logged no DMAR
# error.  A boot that runs out of time is a hang: before it is killed, the
# VMM's threads' kernel stacks, kvm_viommu's debugfs and (QEMU) its vCPUs'
# registers go to OUT_DIR/soak-<vmm>-<n>.hang, and (SOAK_TRACE=1) the last
# KVM events of L1.  With SOAK_TRACE=1 a boot that fails otherwise leaves
# L1's last KVM events in OUT_DIR/soak-<vmm>-<n>.trace too.
#
# Prints kselftest TAP: one line per VMM, one comment per boot.
set -uo pipefail

OUT=$1
BOOTS=${SOAK_BOOTS:-30}
ITERS=${SOAK_ITERS:-200}
LIMIT=${SOAK_TIMEOUT:-240}
ALL="kvm_viommu kvm_viommu_2cpu vmm_no_viommu qemu_viommu qemu_no_viommu
	qemu72_viommu qemu72_no_viommu"
VMMS=${SOAK_VMMS:-$ALL}
# QEMU's L2 guests print a panic from the start of their boot, before
# their serial console is up: a boot that ends silently otherwise says
# why.  quiet keeps it to the lines at error level and above.
EARLYCON=earlycon=uart8250,io,0x3f8
TMP=${TMPDIR:-/tmp}
TRACE=/sys/kernel/tracing
[ -d "$TRACE/events" ] || TRACE=/sys/kernel/debug/tracing

# shellcheck disable=SC2086 # VMMS is a list of words
set -- $VMMS
echo "TAP version 13"
echo "1..$#"
echo "# soak: $BOOTS boots per VMM, edu_dma.iters=$ITERS, ${LIMIT}s each;" \
	"L1 $(uname -r) on $(nproc) CPUs"

if [ "${SOAK_TRACE:-0}" = 1 ] && [ -d "$TRACE/events/kvm" ]; then
	echo 4096 > "$TRACE/buffer_size_kb"
	for e in kvm_inj_virq kvm_inj_exception kvm_nested_vmenter \
		 kvm_nested_vmexit kvm_nested_vmexit_inject \
		 kvm_nested_intr_vmexit kvm_exit; do
		[ ! -d "$TRACE/events/kvm/$e" ] ||
			echo 1 > "$TRACE/events/kvm/$e/enable"
	done
fi

# L1's KVM while the boot hangs: its counters two seconds apart, and which
# exits (reason, guest RIP) it took in those two seconds.  A vCPU that
# never leaves the guest shows no exit but interrupts; one looping on a
# fault shows the same exit at the same RIP.
kvm_counters() {
	local d s

	for d in /sys/kernel/debug/kvm/*-*/; do
		[ -d "$d" ] || continue
		for s in exits io_exits mmio_exits irq_exits halt_exits \
			 pf_taken pf_fixed pf_emulate pf_spurious pf_guest \
			 irq_injections nmi_injections req_event \
			 remote_tlb_flush mmu_shadow_zapped; do
			[ -r "$d/$s" ] && echo "$d$s $(cat "$d/$s")"
		done
	done
}

kvm_exits() {
	local e

	echo "== L1 KVM statistics, then again 2s later"
	kvm_counters > "$TMP/soak-kvm.0"
	if [ ! -d "$TRACE/events/kvm" ]; then
		sleep 2
		kvm_counters | paste -d' ' "$TMP/soak-kvm.0" - |
			awk '{ print $1, $2, "->", $4 }'
		return
	fi
	echo 0 > "$TRACE/tracing_on"
	echo > "$TRACE/trace"
	for e in kvm_exit kvm_nested_vmexit kvm_page_fault kvm_inj_exception \
		 kvm_inj_virq kvm_cr kvm_msr; do
		[ ! -d "$TRACE/events/kvm/$e" ] ||
			echo 1 > "$TRACE/events/kvm/$e/enable"
	done
	echo 1 > "$TRACE/tracing_on"
	sleep 2
	echo 0 > "$TRACE/tracing_on"
	kvm_counters | paste -d' ' "$TMP/soak-kvm.0" - |
		awk '{ print $1, $2, "->", $4 }'
	echo "== L1 KVM events in those 2s, by kind (count, event, detail)"
	awk '{ k = ""
		for (i = 1; i <= NF; i++)
			if ($i ~ /^kvm_[a-z_]*:$/)
				k = $i
			else if (k != "" && ($i == "reason" || $i == "rip" ||
				 $i == "vec" || $i == "address" || $i == "cr"))
				k = k " " $i " " $(i + 1)
		if (k != "")
			print k }' "$TRACE/trace" | sort | uniq -c | sort -rn |
		head -n 40
	echo "== the last 100 of them"
	grep -v '^#' "$TRACE/trace" | tail -n 100
	echo 1 > "$TRACE/tracing_on"
}

# QEMU's events while it runs (QMP on SOCKET, into FILE): its SHUTDOWN
# event tells a guest that powered off (guest-shutdown) from one that
# reset (guest-reset: a triple fault, or a panic, which panic=-1 turns
# into a reboot, both an exit under -no-reboot).  earlycon then tells
# those two apart: a panic prints.  A failed boot without a line on its
# console is otherwise silent about how it ended.
qmp_events() { # qmp_events SOCKET FILE
	# socat retries until QEMU listens (it may take seconds in L1); QEMU
	# drops a client whose side closes, so stdin stays open, and
	# stop_reader() ends the sleep once QEMU is gone.
	{ echo '{"execute": "qmp_capabilities"}'; exec sleep "$LIMIT"; } |
		socat -t 1 - "UNIX-CONNECT:$1,retry=$((LIMIT * 10)),interval=0.1" \
		> "$2" 2>/dev/null
}

# stop_reader PID: qmp_events's sleep first, so that socat copies what
# QEMU said last and ends by itself; then whatever is left.
stop_reader() {
	local i

	[ -n "$1" ] || return 0
	pkill -P "$1" -x sleep 2>/dev/null
	for i in $(seq 20); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	pkill -P "$1" 2>/dev/null
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

shutdown_reason() { # shutdown_reason FILE
	if [ ! -s "$1" ]; then
		echo "no QMP events"
		return
	fi
	sed -n 's/.*"event": *"SHUTDOWN".*"reason": *"\([a-z-]*\)".*/\1/p' "$1" |
		head -n1 | grep . || echo "no SHUTDOWN event"
}

# What a hung boot leaves behind, while its VMM still runs.
evidence() { # evidence PID FILE MONITOR_SOCKET
	{
		echo "== $(date -u +%T) kernel stacks of the VMM's threads"
		for p in $(pgrep -g "$1"); do
			for t in /proc/"$p"/task/*; do
				echo "-- $(cat "$t/comm") ${t##*/} $(cut -d' ' -f3 "$t/stat")"
				cat "$t/stack" 2>/dev/null
			done
		done
		for d in /sys/kernel/debug/kvm_viommu/*/; do
			[ -d "$d" ] || continue
			echo "== $d"
			cat "$d/info" "$d/regs" "$d/stats" 2>/dev/null
		done
		# Registers twice, a second apart (spinning or stuck?), the
		# code at RIP, and the local APIC's IRR/ISR: an interrupt
		# delivered twice, as under QEMU 7.2, shows in-service there.
		# Where RIP is in the guest's own page tables (a fault
		# there with CR2 == RIP and a valid PTE loops for ever).
		if [ -S "$3" ]; then
			echo "== QEMU monitor"
			printf '%s\n' "info cpus" "info registers -a" \
				"x/16i \$pc" "gva2gpa \$pc" "info lapic" \
				"info irq" "info registers -a" "x/16i \$pc" \
				"info pic" "info mtree -f" |
				while read -r c; do echo "$c"; sleep 1; done |
				socat -t 20 - "UNIX-CONNECT:$3"
		fi
		kvm_exits
		if [ -e "$TRACE/trace" ] && [ "${SOAK_TRACE:-0}" = 1 ]; then
			echo "== last KVM events"
			tail -n 400 "$TRACE/trace"
		fi
	} > "$2" 2>&1
}

# soak_one VMM N: one boot; prints "pass SECONDS" or "fail|hang SECONDS WHY".
soak_one() {
	local vmm=$1 n=$2 log=$TMP/soak-$1.log mon=$TMP/soak-$1.mon
	local qmp=$TMP/soak-$1.qmp events=$TMP/soak-$1.events
	local viommu=on cpus=1 cmd pid qpid t0 t rc=0 why=
	local append="console=ttyS0 quiet panic=-1"

	case "$vmm" in
	*no_viommu) viommu=off ;;
	esac
	[ "$vmm" = kvm_viommu_2cpu ] && cpus=2
	rm -f "$mon" "$qmp" "$events"
	case "$vmm" in
	qemu*)
		local root=
		[ "${vmm#qemu72}" = "$vmm" ] || root=$KVM_VIOMMU_QEMU72
		local mode=viommu
		[ $viommu = on ] || mode=none
		cmd=(env KVM_VIOMMU_QEMU_ROOT="$root"
		     GUEST_TIMEOUT=$((LIMIT + 60))
		     GUEST_APPEND="edu_dma.iters=$ITERS $EARLYCON"
		     GUEST_QEMU_ARGS="-monitor unix:$mon,server=on,wait=off -qmp unix:$qmp,server=on,wait=off"
		     "$KVM_VIOMMU_QEMU_RUN" "$mode" "$KVM_VIOMMU_L2_KERNEL"
		     "$KVM_VIOMMU_L2_INITRD")
		;;
	*)
		cmd=("$KVM_VIOMMU_VMM" --kernel "$KVM_VIOMMU_L2_KERNEL"
		     --initrd "$KVM_VIOMMU_L2_INITRD" --mem 512M --cpus "$cpus"
		     --vfio "$KVM_VIOMMU_EDU_BDF"
		     --append "$append intel_iommu=$viommu edu_dma.iters=$ITERS")
		[ $viommu = off ] || cmd+=(--viommu caching-mode=on)
		;;
	esac

	t0=$(date +%s.%N)
	setsid "${cmd[@]}" > "$log" 2>&1 < /dev/null &
	pid=$!
	qpid=
	if [ "${vmm#qemu}" != "$vmm" ]; then
		qmp_events "$qmp" "$events" > /dev/null 2>&1 &
		qpid=$!
	fi
	while kill -0 "$pid" 2>/dev/null; do
		t=$(date +%s)
		if [ $((t - ${t0%.*})) -ge "$LIMIT" ]; then
			evidence "$pid" "$OUT/soak-$vmm-$n.hang" "$mon"
			cp "$log" "$OUT/soak-$vmm-$n.console"
			kill -KILL -- -"$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			stop_reader "$qpid"
			cp "$events" "$OUT/soak-$vmm-$n.qmp" 2>/dev/null
			echo "hang $LIMIT no end after ${LIMIT}s (evidence in soak-$vmm-$n.hang)"
			return
		fi
		sleep 0.2
	done
	wait "$pid" || rc=$?
	stop_reader "$qpid"
	t=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')

	local want=translated
	[ $viommu = on ] || want=none
	if [ "$rc" != 0 ]; then
		why="exit status $rc"
	elif ! grep -q '^guest: done' "$log"; then
		why="the guest's init did not finish"
	elif ! grep -q 'edu_dma: dma_check.* ok' "$log"; then
		why="DMA round trip mismatch"
	elif ! grep -q 'edu_dma: result pass' "$log"; then
		why="edu_dma did not pass"
	elif ! grep -q "edu_dma: iommu=$want" "$log"; then
		why="the device was not $want"
	elif ! grep -q '^guest: dmar_errors=0' "$log"; then
		why="DMAR errors in the guest"
	fi
	if [ -n "$why" ]; then
		cp "$log" "$OUT/soak-$vmm-$n.console"
		# L1's KVM up to the end: a triple fault is an exit of reason
		# shutdown, after whatever exception KVM injected last.
		if [ -e "$TRACE/trace" ] && [ "${SOAK_TRACE:-0}" = 1 ]; then
			echo 0 > "$TRACE/tracing_on"
			grep -v '^#' "$TRACE/trace" | tail -n 3000 \
				> "$OUT/soak-$vmm-$n.trace"
			echo > "$TRACE/trace"
			echo 1 > "$TRACE/tracing_on"
		fi
		# QEMU's own word for how the guest ended (QMP SHUTDOWN).
		if [ -n "$qpid" ]; then
			why="$why; QEMU: $(shutdown_reason "$events")"
			cp "$events" "$OUT/soak-$vmm-$n.qmp" 2>/dev/null
		fi
		echo "fail $t $why (console in soak-$vmm-$n.console)"
	else
		echo "pass $t"
	fi
}

i=0
fails=0
for vmm in "$@"; do
	i=$((i + 1))
	case "$vmm" in
	qemu72*) [ -x "${KVM_VIOMMU_QEMU72:-}/usr/bin/qemu-system-x86_64" ] || {
		echo "ok $i soak: $vmm # SKIP no QEMU 7.2 (KVM_VIOMMU_QEMU72)"
		continue; } ;;
	esac
	streak=0 best=0 passed=0 total=0 max=0 first=
	for n in $(seq 1 "$BOOTS"); do
		# (L1's chroot has no /dev/fd for a process substitution.)
		res=$(soak_one "$vmm" "$n")
		read -r verdict secs why <<< "$res"
		echo "# soak: $vmm boot $n/$BOOTS: $verdict ${secs}s${why:+: $why}"
		if [ "$verdict" = pass ]; then
			passed=$((passed + 1))
			streak=$((streak + 1))
			[ $streak -le $best ] || best=$streak
			total=$(awk -v a="$total" -v b="$secs" 'BEGIN { print a + b }')
			max=$(awk -v a="$max" -v b="$secs" 'BEGIN { print (b > a) ? b : a }')
		else
			streak=0
			[ -n "$first" ] || first="boot $n: $verdict${why:+ ($why)}"
		fi
	done
	mean=$(awk -v t="$total" -v n="$passed" \
		'BEGIN { printf "%.1f", n ? t / n : 0 }')
	msg="soak: $vmm: $passed of $BOOTS boots passed, $best in a row (mean ${mean}s, max ${max}s)"
	if [ "$passed" = "$BOOTS" ]; then
		echo "ok $i $msg"
	else
		echo "not ok $i $msg; first failure: $first"
		fails=$((fails + 1))
	fi
done
echo "# Totals: pass:$(($# - fails)) fail:$fails"
[ $fails = 0 ]
