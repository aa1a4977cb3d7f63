#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install_test: kvm_viommu installed the way its users install it, inside
# the testbed's L1, and used by a VMM that is not root.  Run by l1_run.sh
# (last: it unloads the tree's module and loads it again at the end).
#
# L1's root is the build machine's, read-only; the test gives it a
# writable overlay (upper layer on tmpfs) and works chrooted there, so
# nothing it installs outlives it:
#   - dkms and udev from Debian's packages (setup.sh downloaded them into
#     the cache: a user's system has both), then the project's
#     kvm-viommu-dkms and kvm-viommu-tools, built by make deb;
#   - DKMS builds the module against the headers of L1's own kernel (the
#     ones the tree's build uses, at /lib/modules/<release>/build) and
#     installs it under updates/dkms; modprobe loads that one;
#   - udevd (the installed package's) applies the package's rule, and
#     /dev/kvm_viommu is root:kvm 0660;
#   - a user in group kvm, with the edu's VFIO group given to it and
#     RLIMIT_MEMLOCK raised by root (what an administrator does), runs the
#     installed viommu-vmm: a Linux guest does DMA through a kvm_viommu
#     unit; a user outside group kvm cannot open /dev/kvm_viommu;
#   - purging both packages leaves no file behind (the overlay's upper
#     layer holds exactly what it held before they were installed, less
#     dpkg's own records and logs) and no module.
#
# Environment (l1.env): KVM_VIOMMU_PKG_DIR (the .deb files),
# KVM_VIOMMU_INSTALL_DEBS (dkms and udev), KVM_VIOMMU_KDIR (headers of
# L1's kernel), KVM_VIOMMU_KMODS (its lib/modules/<release>), and the
# L2 guest and edu variables every test gets.
#
# The test bodies are functions that check() calls by name.
# shellcheck disable=SC2317
set -uo pipefail

KVER=$(uname -r)
PKGS=${KVM_VIOMMU_PKG_DIR:-}
DEBS=${KVM_VIOMMU_INSTALL_DEBS:-}
KDIR=${KVM_VIOMMU_KDIR:-}
KMODS=${KVM_VIOMMU_KMODS:-}
WORK=${TMPDIR:-/run/tmp}/install_test
R=$WORK/root
UPPER=$WORK/upper
ITERS=200
NTESTS=7
VMM_USER=viommu-vmm-user
OTHER_USER=viommu-other-user

n=0 passed=0 failed=0 skipped=0 broken=
echo "TAP version 13"
echo "1..$NTESTS"

result() { # result ok|fail NAME [DIAG]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n install.$2"
		passed=$((passed + 1))
	else
		[ -z "${3:-}" ] || echo "# $3"
		echo "not ok $n install.$2"
		failed=$((failed + 1))
	fi
}

skip() { # skip NAME REASON
	n=$((n + 1))
	echo "ok $n install.$1 # SKIP $2"
	skipped=$((skipped + 1))
}

# check NAME COMMAND...: one test; once one fails, the ones that need it
# are skipped, saying which.
check() {
	local name=$1
	shift
	if [ -n "$broken" ]; then
		skip "$name" "$broken failed"
		return
	fi
	local out t0=$SECONDS
	if out=$("$@" 2>&1); then
		out+="${out:+$'\n'}($((SECONDS - t0)) s)"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
		result ok "$name"
	else
		out+="${out:+$'\n'}($((SECONDS - t0)) s)"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
		result fail "$name"
		broken=$name
	fi
}

finish() {
	echo "# Totals: pass:$passed fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
	[ "$failed" = 0 ] || exit 1
	[ "$passed" != 0 ] || exit 4
	exit 0
}

# A command in the overlay root, with a clean environment.  (udevadm
# ignores requests made in a chroot unless told this one is a system.)
in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TMPDIR=/tmp LANG=C.UTF-8 SYSTEMD_IGNORE_CHROOT=1 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# The .deb files of PACKAGE..., as paths in the overlay root.  libudev1
# is there only when the machine's own udev had left the archive (see
# setup.sh); any other package missing is an error, which dpkg names.
debs() {
	local p f
	for p in "$@"; do
		for f in "$R/run/debs/${p}"_*.deb; do
			[ "$p" = libudev1 ] && [ ! -e "$f" ] && continue
			echo "${f#"$R"}"
		done
	done
}

# What the upper layer holds, less what dpkg keeps for itself (its
# database, its log, debconf's answers), the module index depmod rewrites
# (purged() reads it), the test's own scratch in /tmp, and the key dkms
# makes to sign every module it builds (the first build makes it; it is
# dkms's, and purging dkms takes it away): one line per file or link,
# with its mode, owner and checksum, and per directory L1's root lacks.
upper_files() {
	(cd "$UPPER" && find . \( -path ./var/lib/dpkg \
		-o -path ./var/log/dpkg.log -o -path ./var/cache/debconf \
		-o -path ./tmp -o -path './var/lib/dkms/mok.*' \
		-o -path "*/lib/modules/$KVER/modules.*" \) -prune \
		-o -print | sort | while read -r f; do
			if [ -d "$f" ] && [ ! -L "$f" ]; then
				# A directory L1's root has is only a copy-up.
				[ -e "/$f" ] ||
					echo "$f $(stat -c '%F %a %u:%g' "$f")"
			elif [ -f "$f" ] && [ ! -L "$f" ]; then
				echo "$f $(stat -c '%a %u:%g' "$f") $(md5sum < "$f" | cut -c1-32)"
			else
				echo "$f $(stat -c %F "$f")"
			fi
		done)
}

# What the test changes in L1 itself, put back by cleanup(): the device
# nodes' owners and modes (udevd works on L1's /dev), the /dev links it
# adds, the module (the tree's, whose build ID is kept), and the mounts.
# L1 runs on after this test: what cannot be put back fails the test.
mounted='' udevd='' dev_links=() node_state=() tree_id=''
live_build_id() {
	od -An -tx1 -v /sys/module/kvm_viommu/notes/.note.gnu.build-id \
		2>/dev/null | tr -d ' \n'
}
cleanup() {
	local l n ids mode p bad=''
	for l in "${dev_links[@]}"; do
		rm -f "/dev/$l"
	done
	for n in "${node_state[@]}"; do
		# (path uid:gid mode)
		read -r l ids mode <<< "$n"
		chown "$ids" "$l" && chmod "$mode" "$l" || bad+=" $l"
	done
	# The tree's module, for whatever runs after this test: not the
	# package's, should a purge have failed to take it away.
	if [ -d /sys/module/kvm_viommu ] && [ "$(live_build_id)" != "$tree_id" ]; then
		modprobe -r kvm_viommu || bad+=" kvm_viommu(package's)"
	fi
	if [ ! -d /sys/module/kvm_viommu ]; then
		modprobe kvm_viommu || bad+=" kvm_viommu"
	fi
	[ -z "$tree_id" ] || [ "$(live_build_id)" = "$tree_id" ] ||
		bad+=" kvm_viommu(not the tree's)"
	[ -z "$udevd" ] || in_root udevadm control --exit --timeout=30
	if [ -n "$mounted" ] && ! umount -R "$R"; then
		# Whatever still runs in the overlay root holds it.
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root")" != "$R" ] ||
				kill -KILL "${p#/proc/}" 2>/dev/null
		done
		sleep 1
		umount -R "$R" || umount -R -l "$R" || bad+=" $R"
	fi
	# (One file system: never into a mount left behind.)
	rm -rf --one-file-system "$WORK"
	if [ -n "$bad" ]; then
		echo "# install_test: L1 not put back:$bad"
		exit 1
	fi
}
trap cleanup EXIT

# The testbed's side: the overlay root, and in it what a user's system
# has before it installs ours (dkms, udev running), and two users.
prepare() {
	local d l n
	modprobe overlay || return 1
	mkdir -p "$UPPER" "$WORK/ovl" "$R" || return 1
	mount -t overlay overlay \
		-o "lowerdir=/,upperdir=$UPPER,workdir=$WORK/ovl" "$R" || return 1
	mounted=1
	mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" &&
		mount --rbind /dev "$R/dev" && mount -t tmpfs tmpfs "$R/run" ||
		return 1
	# What udev or systemd would have made on a booted system, and dkms
	# needs (process substitution): /dev/fd and friends.
	for l in fd:/proc/self/fd stdin:/proc/self/fd/0 \
		 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
		[ -e "/dev/${l%%:*}" ] && continue
		ln -s "${l#*:}" "/dev/${l%%:*}" || return 1
		dev_links+=("${l%%:*}")
	done
	for n in /dev/kvm "/dev/vfio/$KVM_VIOMMU_EDU_GROUP"; do
		node_state+=("$n $(stat -c '%u:%g %a' "$n")")
	done
	mkdir -p "$R/run/debs" && cp "$PKGS"/*.deb "$DEBS"/*.deb "$R/run/debs/" ||
		return 1
	# No service starts in a chroot (udevd is started below, by hand).
	printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d" &&
		chmod 755 "$R/usr/sbin/policy-rc.d" || return 1
	# L1's kernel as an installed kernel with its headers: its modules
	# (linked), its module index, and build/ at the headers.
	d=$R/lib/modules/$KVER
	mkdir -p "$d" && rm -rf "$d/build" "$d/kernel" "$d/updates" "$d/extra" &&
		ln -s "$KDIR" "$d/build" && ln -s "$KMODS/kernel" "$d/kernel" &&
		cp "$KMODS"/modules.order "$KMODS"/modules.builtin* "$d/" ||
		return 1
	# man-db's index is rebuilt after every package with a manual page:
	# minutes under TCG, and no part of this test (Debian's container
	# images turn it off the same way).
	rm -f "$R/var/lib/man-db/auto-update"
	echo "overlay: $SECONDS s"
	# shellcheck disable=SC2046 # one path per word
	in_root dpkg -i $(debs dkms libudev1 udev) \
		> "$WORK/prereq.log" 2>&1 ||
		{ tail -n 20 "$WORK/prereq.log"; return 1; }
	echo "dkms and udev installed: $SECONDS s"
	in_root /lib/systemd/systemd-udevd --daemon || return 1
	udevd=1
	in_root useradd --create-home --groups kvm "$VMM_USER" &&
		in_root useradd --create-home "$OTHER_USER" || return 1
	# The edu's VFIO group, given to the VMM's user by its administrator.
	chown "$(in_root id -u "$VMM_USER")" "/dev/vfio/$KVM_VIOMMU_EDU_GROUP"
}

TESTS="packages_install dkms_builds_for_l1s_kernel
	modprobe_loads_the_installed_module udev_gives_the_device_to_group_kvm
	unprivileged_vmm_runs_a_guest_through_the_unit
	user_outside_group_kvm_is_refused purge_leaves_nothing"
why=
for d in "$PKGS" "$DEBS"; do
	[ -d "$d" ] || why="no package directory '$d'"
done
[ -r "$KDIR/Makefile" ] || why="no headers for $KVER ('$KDIR')"
[ -d "$KMODS/kernel" ] || why="no modules of $KVER ('$KMODS')"
if [ -n "$why" ]; then
	for t in $TESTS; do
		skip "$t" "$why"
	done
	finish
fi
t0=$SECONDS
mkdir -p "$WORK"
if ! prepare > "$WORK/prepare.log" 2>&1; then
	# The testbed had all it needs: a failure here is the test's.
	tail -n 30 "$WORK/prepare.log" | sed 's/^/# /'
	result fail packages_install "could not prepare the overlay root"
	for t in $TESTS; do
		[ "$t" = packages_install ] || skip "$t" "setup failed"
	done
	finish
fi
sed 's/^/# /' "$WORK/prepare.log"
echo "# the overlay root, dkms and udev ready in $((SECONDS - t0)) s"
upper_files > "$WORK/before"
# DKMS's version and the module's: the package's, less epoch and revision.
version=$(dpkg-deb -f "$(ls "$PKGS"/kvm-viommu-dkms_*.deb)" Version |
	  sed 's/^[0-9]*://; s/-[^-]*$//')
echo "# kvm-viommu $version on $KVER"

# The tree's module goes; the package's takes its place.
tree_id=$(live_build_id)
modprobe -r kvm_viommu

installed() {
	# shellcheck disable=SC2046 # one path per word
	in_root dpkg -i $(debs kvm-viommu-dkms kvm-viommu-tools) \
		> "$WORK/install.log" 2>&1 ||
		{ cat "$WORK/install.log"; return 1; }
	grep -E 'Building|DKMS: install completed|Error' "$WORK/install.log" ||
		true
	! grep -q 'Error!' "$WORK/install.log"
}
check packages_install installed

built() {
	local status ko
	status=$(in_root dkms status -m kvm-viommu -v "$version" -k "$KVER")
	echo "$status"
	case "$status" in
	*": installed"*) ;;
	*) tail -n 20 "$R/var/lib/dkms/kvm-viommu/$version/build/make.log" \
		2>/dev/null; return 1 ;;
	esac
	ko=$(ls "$R/lib/modules/$KVER/updates/dkms/"kvm_viommu.ko* 2>/dev/null)
	[ -n "$ko" ] || { echo "no kvm_viommu.ko under updates/dkms"; return 1; }
	echo "${ko#"$R"}"
}
check dkms_builds_for_l1s_kernel built

# The build ID of the module file FILE (in the overlay root), compressed
# or not.
build_id() {
	local f=$R$1
	case "$f" in
	*.gz) gzip -dc "$f" > "$WORK/ko" ;;
	*.xz) xz -dc "$f" > "$WORK/ko" ;;
	*.zst) zstd -qdc "$f" > "$WORK/ko" ;;
	*) cp "$f" "$WORK/ko" ;;
	esac
	readelf -n "$WORK/ko" | sed -n 's/.*Build ID: *//p'
}

loaded() {
	local file id live
	[ ! -d /sys/module/kvm_viommu ] ||
		{ echo "the tree's kvm_viommu is still loaded"; return 1; }
	in_root modprobe kvm_viommu || return 1
	file=$(in_root modinfo -F filename kvm_viommu)
	echo "modinfo: $file"
	case "$file" in
	*/updates/dkms/kvm_viommu.ko*) ;;
	*) echo "modprobe would load $file, not DKMS's"; return 1 ;;
	esac
	# The loaded module is that file: the build ID its notes carry
	# (the note's last bytes) is the file's.
	id=$(build_id "$file")
	live=$(live_build_id)
	if [ -z "$id" ] || [ "${live%"$id"}" = "$live" ]; then
		echo "the loaded module is not $file (notes $live, file's ID $id)"
		return 1
	fi
	[ "$(cat /sys/module/kvm_viommu/version)" = "$version" ] ||
		{ echo "version $(cat /sys/module/kvm_viommu/version), not $version"
		  return 1; }
	echo "loaded: version $version, build ID $id"
}
check modprobe_loads_the_installed_module loaded

device_group() {
	local mode _
	for _ in $(seq 1 50); do
		in_root udevadm settle --timeout=10
		mode=$(in_root stat -c '%U:%G %a' /dev/kvm_viommu)
		[ "$mode" != "root:kvm 660" ] || break
		sleep 0.2
	done
	echo "/dev/kvm_viommu: $mode"
	[ "$mode" = "root:kvm 660" ]
}
check udev_gives_the_device_to_group_kvm device_group

# The installed viommu-vmm, as the user in group kvm, with the limit an
# administrator gives it: the unit pins all of guest RAM (512 MiB) while
# the guest's translation is off, and the VM's memory is its own.
unprivileged_vmm() {
	local log=/tmp/$VMM_USER-guest.log rc=0
	# /dev/kvm too is group kvm's, by udev's own rule.
	in_root udevadm trigger --action=add --subsystem-match=misc \
		--sysname-match=kvm
	in_root udevadm settle --timeout=10
	in_root prlimit --memlock=$((1024 << 20)) -- \
		setpriv --reuid="$VMM_USER" --regid="$VMM_USER" --init-groups \
		--reset-env -- /bin/sh -c \
		"ulimit -l; exec timeout -k 10 300 /usr/bin/viommu-vmm \
		 --kernel '$KVM_VIOMMU_L2_KERNEL' --initrd '$KVM_VIOMMU_L2_INITRD' \
		 --mem 512M --vfio '$KVM_VIOMMU_EDU_BDF' \
		 --viommu caching-mode=on \
		 --append 'console=ttyS0 quiet panic=-1 intel_iommu=on edu_dma.iters=$ITERS' \
		 > $log 2>&1" || rc=$?
	log=$R$log
	echo "viommu-vmm as $(in_root id "$VMM_USER"): exit status $rc"
	grep -E '^guest: (done|dmar_errors)|edu_dma: (iommu=|result)' "$log"
	[ "$rc" = 0 ] && grep -q '^guest: done' "$log" &&
		grep -q 'edu_dma: dma_check.* ok' "$log" &&
		grep -q 'edu_dma: result pass' "$log" &&
		grep -q 'edu_dma: iommu=translated' "$log" &&
		grep -q '^guest: dmar_errors=0' "$log" && return 0
	tail -n 20 "$log"
	return 1
}
check unprivileged_vmm_runs_a_guest_through_the_unit unprivileged_vmm

# Not in group kvm: the device node refuses the open itself.
refused() {
	local out
	out=$(in_root setpriv --reuid="$OTHER_USER" --regid="$OTHER_USER" \
		--init-groups -- /bin/sh -c 'exec 3<> /dev/kvm_viommu' 2>&1) &&
		{ echo "$OTHER_USER opened /dev/kvm_viommu"; return 1; }
	echo "$out"
	case "$out" in
	*"Permission denied"*) ;;
	*) return 1 ;;
	esac
}
# (Not skipped when the VMM failed: this needs the rule applied, which
# udev_gives_the_device_to_group_kvm checked.)
broken_before=$broken
[ "$broken" != unprivileged_vmm_runs_a_guest_through_the_unit ] || broken=
check user_outside_group_kvm_is_refused refused
[ -n "$broken" ] || broken=$broken_before

purged() {
	local left
	if [ -d /sys/module/kvm_viommu ]; then
		in_root modprobe -r kvm_viommu || return 1
	fi
	in_root dpkg --purge kvm-viommu-tools kvm-viommu-dkms \
		> "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; return 1; }
	left=$(find "$R/lib/modules" "$R/usr/src" "$R/var/lib/dkms" \
		-name '*kvm_viommu*' -o -name 'kvm-viommu*' 2>/dev/null)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
	[ -f "$R/lib/modules/$KVER/modules.dep" ] ||
		{ echo "no modules.dep after the purge"; return 1; }
	! grep -q kvm_viommu "$R/lib/modules/$KVER/modules.dep" ||
		{ echo "modules.dep still names kvm_viommu"; return 1; }
	upper_files > "$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" && return 0
	echo "the overlay's upper layer changed:"
	diff "$WORK/before" "$WORK/after"
	return 1
}
# Whatever failed after the packages went in, they must come out clean.
[ "$broken" = packages_install ] || broken=
check purge_leaves_nothing purged

finish
