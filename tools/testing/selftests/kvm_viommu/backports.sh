#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Debian's bookworm-backports, for the few packages the project takes from
# there (QEMU 10 and its source, meson, pycotap; kernel 6.12 comes from
# Debian 12's own bookworm-security now, see setup.sh), without letting
# anything else on this machine move to it:
#
#   backports.sh ensure           add the suite (deb and deb-src) once, at
#                                 pin priority 1: nothing comes from it
#                                 unless asked for by name
#   backports.sh install PKG...   install PKG from bookworm-backports, and
#                                 of its dependencies only those that
#                                 Debian 12's own versions cannot satisfy
#   backports.sh version PKG      the version bookworm-backports offers
#
# Idempotent.  apt-get update runs when the suite was just added, when
# apt has no index of it yet (an earlier update failed), or when the
# caller sets BACKPORTS_UPDATE=1.  A machine whose own sources name the
# suite keeps them, and gets from us only the types they lack (deb-src,
# usually, which the QEMU build needs), without a Signed-By of ours: a
# second value for one source would break every apt command.  dpkg's
# lock is waited for up to ten minutes, and a failed update is tried
# again (a first boot's unattended-upgrades).
set -euo pipefail

SUITE=bookworm-backports
LIST=/etc/apt/sources.list.d/kvm_viommu-backports.sources
PIN=/etc/apt/preferences.d/kvm_viommu-backports
export DEBIAN_FRONTEND=noninteractive

log() { echo "backports: $*" >&2; }

APT_LOCK=(-o DPkg::Lock::Timeout=600)

# apt-get update, again after a while if it fails: DPkg::Lock::Timeout
# does not cover the lists' lock, which apt-daily may hold at first boot.
update() {
	local try
	for try in 1 2 3 4 5; do
		apt-get "${APT_LOCK[@]}" update -qq >&2 && return
		log "apt-get update failed (try $try of 5)"
		[ "$try" = 5 ] || sleep 30
	done
	return 1
}

# Does apt have an index of the suite?  (No grep -q on a pipe: pipefail.)
known() {
	local policy
	policy=$(apt-cache policy 2>/dev/null || :)
	[[ $policy == *"n=$SUITE,"* ]]
}

# Does this machine's own configuration name the suite's TARGET
# (Packages for deb, Sources for deb-src)?  Downloaded or not.
configured() {
	local targets
	# shellcheck disable=SC2016 # apt's own $(...) fields
	targets=$(apt-get indextargets --no-release-info \
		  --format '$(RELEASE) $(CREATED_BY)' 2>/dev/null || :)
	[[ $'\n'$targets$'\n' == *$'\n'"$SUITE $1"$'\n'* ]]
}

ensure() {
	local added='' types=''
	if [ ! -e "$LIST" ]; then
		configured Packages || types=deb
		configured Sources || types="${types:+$types }deb-src"
	fi
	if [ "$types" = "deb deb-src" ]; then
		log "adding $SUITE (deb, deb-src) at pin priority 1"
		cat > "$LIST" <<EOF
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
		added=1
	elif [ -n "$types" ]; then
		# Beside the machine's own entry, whose Signed-By (if any) a
		# second value would contradict: apt's own keyrings then.
		log "adding $SUITE ($types) beside this machine's own entry"
		cat > "$LIST" <<EOF
Types: $types
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
EOF
		added=1
	fi
	if [ ! -e "$PIN" ]; then
		cat > "$PIN" <<EOF
# kvm_viommu: nothing from $SUITE unless asked for by name.
Package: *
Pin: release n=$SUITE
Pin-Priority: 1
EOF
		added=1
	fi
	if [ -n "$added" ] || [ "${BACKPORTS_UPDATE:-}" = 1 ] || ! known; then
		update
	fi
}

# What a simulated install of ARGS... leaves to ask for by name from the
# suite: the dependencies Debian 12's versions leave unmet, and the
# packages it would remove (a 7.2 part that the new QEMU's versions break,
# such as qemu-system-gui), one a line.  Empty, with status 0, when the
# install goes through as it is.  apt's messages are read in English.
unmet() {
	local out
	if out=$(LC_ALL=C LANGUAGE='' apt-get -s install \
		 --no-install-recommends "$@" 2>&1); then
		printf '%s\n' "$out" | sed -n 's/^Remv \([^ :]*\).*/\1/p'
		return 0
	fi
	printf '%s\n' "$out" >&2
	# Only a version conflict: a dependency that "is not going to be
	# installed" is broken otherwise, and the suite would not mend it.
	printf '%s\n' "$out" | sed -n \
		's/.*Depends: \([^ :(]*\)[^ ]* (.*) but .* is \(to be \)\{0,1\}installed\( or\)\{0,1\}$/\1/p'
	return 1
}

# Install PKG/SUITE for each PKG.  apt takes a dependency from the named
# release only when asked to by name, so ask again with each dependency
# Debian 12's versions leave unmet ("Depends: X (>= V) but W is to be
# installed") and each package the install would remove, a few rounds at
# most, until the simulation installs and removes nothing unasked.
# "-t SUITE" would instead take every newly installed dependency from the
# suite (libudev1, libelf1 and libsystemd0 among them, on a minimal
# machine).
install() {
	local pkgs=() p more new round ok
	for p in "$@"; do
		pkgs+=("$p/$SUITE")
	done
	for round in 1 2 3 4 5 6; do
		ok=1
		more=$(unmet "${pkgs[@]}" 2>/dev/null) || ok=
		new=()
		for p in $(printf '%s\n' "$more" | sort -u); do
			[[ " ${pkgs[*]} " == *" $p/$SUITE "* ]] || new+=("$p")
		done
		if [ ${#new[@]} = 0 ] && [ -n "$ok" ]; then
			log "installing ${pkgs[*]}"
			apt-get "${APT_LOCK[@]}" install -y -qq \
				--no-install-recommends "${pkgs[@]}" >&2
			return
		fi
		if [ ${#new[@]} = 0 ]; then
			unmet "${pkgs[@]}" > /dev/null || :
			log "cannot install $* from $SUITE (round $round)"
			return 1
		fi
		log "asking $SUITE for ${new[*]} too"
		for p in "${new[@]}"; do
			pkgs+=("$p/$SUITE")
		done
	done
	log "cannot install $* from $SUITE: too many rounds"
	return 1
}

case "${1:-}" in
ensure)
	ensure
	;;
install)
	shift
	ensure
	install "$@"
	;;
version)
	ensure
	# A version line is "VERSION PRIORITY" (after "***" if installed);
	# the lines under it, "PRIORITY URI SUITE/...", name its sources.
	apt-cache policy "$2" |
		awk -v s="$SUITE" '/^ +(\*\*\* )?[^ ]+ -?[0-9]+$/ { v = $(NF - 1) }
			$0 ~ " " s "/" { print v; exit }'
	;;
*)
	echo "usage: backports.sh ensure | install PKG... | version PKG" >&2
	exit 2
	;;
esac
