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
# suite already keeps them: a second entry for it with another Signed-By
# would break every apt command.  apt and dpkg wait up to ten minutes for
# a lock another process holds (a first boot's unattended-upgrades).
set -euo pipefail

SUITE=bookworm-backports
LIST=/etc/apt/sources.list.d/kvm_viommu-backports.sources
PIN=/etc/apt/preferences.d/kvm_viommu-backports
export DEBIAN_FRONTEND=noninteractive

log() { echo "backports: $*" >&2; }

APT_LOCK=(-o DPkg::Lock::Timeout=600)

# Does apt have an index of the suite?  (No grep -q on a pipe: pipefail.)
known() {
	local policy
	policy=$(apt-cache policy 2>/dev/null || :)
	[[ $policy == *"n=$SUITE,"* ]]
}

ensure() {
	local added=
	if [ ! -e "$LIST" ] && known; then
		log "$SUITE is in this machine's own sources: using them"
	elif [ ! -e "$LIST" ]; then
		log "adding $SUITE (deb, deb-src) at pin priority 1"
		cat > "$LIST" <<EOF
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
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
		apt-get "${APT_LOCK[@]}" update -qq >&2
	fi
}

# Install PKG/SUITE for each PKG.  apt takes a dependency from the named
# release only when asked to by name, so ask again with each dependency
# that Debian 12's versions leave unmet ("Depends: X (>= V) but W is to
# be installed"), a few rounds at most.  "-t SUITE" would instead take
# every newly installed dependency from the suite (libudev1, libelf1 and
# libsystemd0 among them, on a minimal machine).
install() {
	local pkgs=() p out deps round
	for p in "$@"; do
		pkgs+=("$p/$SUITE")
	done
	for round in 1 2 3 4 5 6; do
		if out=$(apt-get -s install --no-install-recommends \
			 "${pkgs[@]}" 2>&1); then
			log "installing ${pkgs[*]}"
			apt-get "${APT_LOCK[@]}" install -y -qq \
				--no-install-recommends "${pkgs[@]}" >&2
			return
		fi
		deps=$(printf '%s\n' "$out" |
		       sed -n 's/.*Depends: \([^ ]*\) (.*) but .* is to be installed$/\1/p' |
		       sort -u)
		# One already asked for that is still unmet: asking again won't do.
		for p in $deps; do
			[[ " ${pkgs[*]} " != *" $p/$SUITE "* ]] || deps=
		done
		if [ -z "$deps" ]; then
			printf '%s\n' "$out" >&2
			log "cannot install $* from $SUITE (round $round)"
			return 1
		fi
		for p in $deps; do
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
