#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Debian's bookworm-backports, for the few packages the project takes from
# there (QEMU 10, kernel 6.12, meson, pycotap), without letting anything
# else on this machine move to it:
#
#   backports.sh ensure           add the suite (deb and deb-src) once, at
#                                 pin priority 1: nothing comes from it
#                                 unless asked for by name or with -t
#   backports.sh install PKG...   install PKG from bookworm-backports (and
#                                 what it needs from there, nothing more)
#   backports.sh version PKG      the version bookworm-backports offers
#
# Idempotent; apt-get update runs only when the suite was just added or
# the caller sets BACKPORTS_UPDATE=1.
set -euo pipefail

SUITE=bookworm-backports
LIST=/etc/apt/sources.list.d/kvm_viommu-backports.sources
PIN=/etc/apt/preferences.d/kvm_viommu-backports
export DEBIAN_FRONTEND=noninteractive

log() { echo "backports: $*" >&2; }

ensure() {
	local added=
	if [ ! -e "$LIST" ]; then
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
	if [ -n "$added" ] || [ "${BACKPORTS_UPDATE:-}" = 1 ]; then
		apt-get update -qq >&2
	fi
}

case "${1:-}" in
ensure)
	ensure
	;;
install)
	shift
	ensure
	log "installing $* from $SUITE"
	apt-get install -y -qq --no-install-recommends -t "$SUITE" "$@" >&2
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
