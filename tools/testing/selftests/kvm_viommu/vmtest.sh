#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The nested testbed: boots Debian's kernel under QEMU (TCG, nested SVM,
# QEMU's intel-iommu as the host IOMMU, the edu DMA device), runs kvm_viommu
# and its selftests there, and turns the result into kselftest TAP and one
# closing line.  Nothing is ever loaded into this machine's own kernel.
#
#   vmtest.sh check     run the selftests (make check)
#   vmtest.sh demo      show what the module does (make demo)
#   vmtest.sh bench     compare the vIOMMU modes (make bench)
#
# L1 runs from this machine's root, shared read-only over virtio-9p; a tiny
# initramfs loads the 9p modules, chroots into the share and runs
# l1_run.sh.  Results come back through a second, writable share.
#
# Exit status: 0 only if every test passed, L1 reported back in time, and
# L1's kernel log holds no oops, BUG, WARNING, lockdep, KASAN or call trace.
#
# Environment: VMTEST_TIMEOUT (seconds, default 1200), VMTEST_SMP (1),
# VMTEST_MEM (2G), VMTEST_TESTS (space-separated test names, default all),
# VMTEST_APPEND (more of L1's kernel command line), KVM_VIOMMU_BENCH_TRACED
# (bench: the traced pass alone, that many times; see viommu_bench.c).
# Another L1 kernel (make check-debug): VMTEST_KERNEL (its bzImage),
# VMTEST_KVER (its release), VMTEST_KMODS (its lib/modules/<release>, with
# modules.builtin), VMTEST_KO (kvm_viommu.ko built for it).
set -uo pipefail

MODE=${1:-check}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../../.." && pwd)
BUILD=$TOP/build
CONFIG_MK=$BUILD/config.mk
TIMEOUT=${VMTEST_TIMEOUT:-1200}

die() { echo "vmtest: $*" >&2; exit 2; }

case "$MODE" in
check|demo|bench) ;;
*) die "usage: vmtest.sh check|demo|bench" ;;
esac

[ -r "$CONFIG_MK" ] || die "$CONFIG_MK missing: run make first"
mkvar() { sed -n "s/^$1 := //p" "$CONFIG_MK"; }
KVER=${VMTEST_KVER:-$(mkvar KVER)}
KIMG=$(mkvar KIMG)
KMODS=${VMTEST_KMODS:-$KIMG/lib/modules/$KVER}
VMLINUZ=${VMTEST_KERNEL:-$KIMG/boot/vmlinuz-$KVER}
KO=${VMTEST_KO:-$TOP/drivers/iommu/kvm_viommu/kvm_viommu.ko}
[ -r "$VMLINUZ" ] || die "no L1 kernel at $VMLINUZ"
[ -r "$KO" ] || die "no module at $KO: run make"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"

VMDIR=$BUILD/vmtest
OUT=$VMDIR/out
rm -rf "$VMDIR"
mkdir -p "$OUT" "$VMDIR/bin"

# Settings for the test programs in L1 (KVM_VIOMMU_SOAK_*,
# KVM_VIOMMU_BENCH_TRACED), which l1_run.sh reads back: L1's environment
# starts empty.
for v in "${!KVM_VIOMMU_SOAK_@}" "${!KVM_VIOMMU_BENCH_TRACED@}"; do
	printf 'export %s=%q\n' "$v" "${!v}"
done > "$OUT/env"

# A module tree for L1's modprobe: the kernel package's modules (linked,
# not copied) plus ours, indexed by depmod.  depmod only reads files.
MODROOT=$VMDIR/modroot
mkdir -p "$MODROOT/lib/modules/$KVER/extra"
[ ! -d "$KMODS/kernel" ] ||
	ln -s "$KMODS/kernel" "$MODROOT/lib/modules/$KVER/kernel"
cp "$KMODS"/modules.order "$KMODS"/modules.builtin \
   "$KMODS"/modules.builtin.modinfo "$MODROOT/lib/modules/$KVER/"
cp "$KO" "$MODROOT/lib/modules/$KVER/extra/"
depmod -b "$MODROOT" "$KVER" || die "depmod failed"

# L1 runs modprobe through this, so that `modprobe kvm_viommu` and the
# kernel's own module requests find that tree.
cat > "$VMDIR/bin/modprobe" <<MP
#!/bin/sh
exec /sbin/modprobe -d "$MODROOT" "\$@"
MP
chmod +x "$VMDIR/bin/modprobe"

# The initramfs: busybox, the 9p modules in dependency order, and /init.
INITRD=$VMDIR/initramfs
mkdir -p "$INITRD"/{bin,dev,proc,sys,mods,host}
cp /bin/busybox "$INITRD/bin/busybox"
insmods=$(modprobe -d "$MODROOT" -S "$KVER" --show-depends 9p 2>/dev/null;
	  modprobe -d "$MODROOT" -S "$KVER" --show-depends 9pnet_virtio \
	  2>/dev/null; modprobe -d "$MODROOT" -S "$KVER" --show-depends \
	  virtio_pci 2>/dev/null)
order=()
while read -r verb path _; do
	[ "$verb" = insmod ] || continue
	name=$(basename "$path")
	case " ${order[*]-} " in *" $name "*) continue ;; esac
	cp "$path" "$INITRD/mods/$name"
	order+=("$name")
done < <(echo "$insmods" | awk '/^insmod/ && !seen[$2]++')
# A kernel with 9p built in needs none.
[ ${#order[@]} -gt 0 ] || grep -q '/9p.ko$' "$KMODS/modules.builtin" ||
	die "cannot resolve the 9p modules"

cat > "$INITRD/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${order[*]}; do insmod /mods/\$m || echo "init: insmod \$m failed"; done
# virtio-9p's devices appear asynchronously.
for i in 1 2 3 4 5 6 7 8 9 10; do
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose host /host \
		&& break
	sleep 0.5
done
mount -t 9p -o trans=virtio,version=9p2000.L,rw out /host$OUT ||
	echo "init: cannot mount the result share"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
# Scratch space goes on /run: the build tree itself may live under /tmp.
mount -t tmpfs run /host/run
exec chroot /host /bin/bash $HERE/l1_run.sh $MODE $BUILD $OUT \
	"${VMTEST_TESTS:-}"
INIT
chmod +x "$INITRD/init"
(cd "$INITRD" && find . | cpio -o -H newc --quiet | gzip -1) \
	> "$VMDIR/initramfs.cpio.gz"

# L1's command line: warnings and stack traces reach the console
# (loglevel=5); and no NX huge page recovery thread per VM: one CI run hung
# with that thread and rcu_preempt in soft lockups under TCG, and the
# mitigation means nothing for L2 guests that run our tests.
#
# Single-threaded TCG: with thread=multi, L1 froze twice in about 40 runs
# (both vCPU threads spinning, no kernel message, in tests that only create
# VMs and call ioctls); the whole run also got faster (10 s, from 14 s).
#
# One L1 CPU: with two, about half of the L2 Linux boots hung, in any VMM
# (QEMU's and ours), with L2 spinning in a spinlock after taking an
# interrupt inside its own handler; KVM tracepoints in L1 show one
# injection handled twice.  QEMU's TCG nested SVM appears to deliver an
# injected interrupt again after a round-robin kick between L1's vCPUs;
# with one L1 CPU there is no such kick, and 20 boots in a row passed.
echo "vmtest: booting L1 ($KVER) under QEMU TCG; timeout ${TIMEOUT}s"
timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-machine q35 -accel tcg,thread=single -cpu EPYC,+svm \
	-smp "${VMTEST_SMP:-1}" -m "${VMTEST_MEM:-2G}" \
	-device intel-iommu,caching-mode=on \
	-device edu -device edu \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$OUT",mount_tag=out,security_model=none,multidevs=remap \
	-kernel "$VMLINUZ" -initrd "$VMDIR/initramfs.cpio.gz" \
	-append "console=ttyS0 intel_iommu=on loglevel=5 panic=-1 kvm.nx_huge_pages=never rdinit=/init ${VMTEST_APPEND:-}" \
	-display none -monitor none -serial stdio -no-reboot \
	< /dev/null 2>&1 |
	grep --line-buffered -v "TCG doesn't support requested feature" |
	tee "$VMDIR/console.log"
qemu_rc=${PIPESTATUS[0]}

# The testbed's own checks, as TAP lines after the programs' ones.
checks=()
check() { # check OK DESCRIPTION
	if [ "$1" = 0 ]; then
		checks+=("ok $((${#checks[@]} + 1)) testbed: $2")
	else
		checks+=("not ok $((${#checks[@]} + 1)) testbed: $2")
	fi
}
timed_out=0
[ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] && timed_out=1
check $timed_out "L1 finished within ${TIMEOUT}s"
[ -e "$OUT/done" ]
check $? "L1 reported back (qemu exit $qemu_rc)"

# What the kernel must never say: WARN/BUG/oops, lockdep, KASAN, UBSAN,
# kmemleak, lockups.  (A bare "WARNING:" also starts harmless boot notices.)
splat='BUG:|WARNING: CPU|WARNING: possible|WARNING: suspicious|Oops|Call Trace|general protection fault|KASAN|UBSAN|kmemleak: [0-9]+ new|soft lockup|blocked for more than|Kernel panic'
log=$OUT/dmesg.txt
[ -e "$log" ] || log=$VMDIR/console.log
if grep -E "$splat" "$log" > "$VMDIR/splats.txt"; then
	echo "vmtest: L1 kernel log has reports (from $log):"
	cat "$VMDIR/splats.txt"
	check 1 "L1 kernel log clean"
else
	check 0 "L1 kernel log clean"
fi
fail=0
printf '%s\n' "${checks[@]}" | grep -q '^not ok' && fail=1

if [ "$MODE" = demo ]; then
	[ $fail = 0 ] && [ "$(cat "$OUT/done" 2>/dev/null)" = 0 ] && exit 0
	exit 1
fi
if [ "$MODE" = bench ]; then
	[ $fail = 0 ] && [ "$(cat "$OUT/done" 2>/dev/null)" = 0 ] &&
		[ -s "$OUT/bench.json" ] || exit 1
	cp "$OUT/bench.json" "$BUILD/bench.json"
	echo "bench: $BUILD/bench.json"
	exit 0
fi

# Count the TAP results of every test program (written by l1_run.sh to
# tap.txt, free of kernel messages).
tap=$OUT/tap.txt
[ -e "$tap" ] || : > "$tap"
passed=$(grep -cE '^ok [0-9]+ ' "$tap" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' "$tap" | tr -d ' ')
failed=$(grep -cE '^not ok [0-9]+ ' "$tap" | tr -d ' ')
passed=$((passed - skipped))
if [ $((passed + failed)) = 0 ]; then
	checks+=("not ok $((${#checks[@]} + 1)) testbed: any test ran")
fi
printf '%s\n' "${checks[@]}"
passed=$((passed + $(printf '%s\n' "${checks[@]}" | grep -c '^ok')))
failed=$((failed + $(printf '%s\n' "${checks[@]}" | grep -c '^not ok')))

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
