#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Checks the mark_insns plugin on L0's QEMU itself, in a second: a 64 KiB
# firmware whose reset vector writes the marks 1 and 2 to the mark port,
# with a 100-turn loop between them, then 3 to the port beside it (not a
# mark), then 4 with an 8-bit port number (neither), and leaves through
# isa-debug-exit.  The plugin must log the two marks, in order, with
# counts that grow, and nothing else; and its profile must put the loop's
# instructions in the one function a fake kallsyms names there.
#
#   plugin_test.sh PLUGIN.so
set -uo pipefail

SO=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0 fails=0
check() { # check NAME CONDITION...
	local name=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n plugin: $name"
	else
		echo "not ok $n plugin: $name"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..6"
# The code at the firmware's start (F000:0000 in real mode); the reset
# vector (F000:FFF0) jumps back to it:
#   mov dx, 0x510; mov al, 1; out dx, al; mov cx, 100; loop $
#   mov al, 2; out dx, al
#   inc dx; mov al, 3; out dx, al; mov al, 4; out 0x10, al
#   out 0xf4, al (isa-debug-exit); hlt
code='\xba\x10\x05\xb0\x01\xee\xb9\x64\x00\xe2\xfe\xb0\x02\xee'
code+='\x42\xb0\x03\xee\xb0\x04\xe6\x10\xe6\xf4\xf4'
{
	printf %b "$code"
	head -c $((0xfff0 - 25)) /dev/zero
	printf '\xe9\x0d\x00'	# jmp 0x0000
	head -c 13 /dev/zero
} > "$TMP/fw.bin"
[ "$(stat -c %s "$TMP/fw.bin")" = 65536 ] || {
	echo "Bail out! the firmware is not 64 KiB"; exit 1; }
# The firmware runs at F000:0000 with the reset CS base (linear
# 0xffff0000): its one "function".
printf '# plugin test\n00000000ffff0000 T fw_start\n' > "$TMP/kallsyms"
timeout 60 "${KVM_VIOMMU_L0_QEMU_BIN:-qemu-system-x86_64}" -accel tcg -nodefaults -display none \
	-bios "$TMP/fw.bin" -device isa-debug-exit,iobase=0xf4 \
	-plugin "$SO,port=0x510,out=$TMP/log,profile=$TMP/prof,kallsyms=$TMP/kallsyms" \
	> "$TMP/qemu.out" 2>&1
rc=$?
# isa-debug-exit exits with (value << 1) | 1: 4 gives 9.
check "the firmware ran to its exit (status $rc)" [ $rc = 9 ]
marks=$(awk '$1 == "mark" { printf "%s ", $2 }' "$TMP/log")
check "the log holds marks 1 and 2 and no other ($marks)" \
	[ "$marks" = "1 2 " ]
a=$(awk '$1 == "mark" && $2 == 1 { print $6 }' "$TMP/log")
b=$(awk '$1 == "mark" && $2 == 2 { print $6 }' "$TMP/log")
grows() { [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; }
check "the count grows from mark 1 ($a) to mark 2 ($b)" grows
check "the count at exit is logged" grep -q '^exit insns [0-9][0-9]*$' "$TMP/log"
check "the profile has one window, labelled" \
	[ "$(grep -c '^window 1 plugin test$' "$TMP/prof" 2>/dev/null)" = 1 ]
total=$(awk '$1 == "total" { print $2 }' "$TMP/prof" 2>/dev/null)
fw=$(awk '$3 == "fw_start" { print $1 }' "$TMP/prof" 2>/dev/null)
looped() { [ -n "$fw" ] && [ "$fw" -ge 100 ] && [ "$fw" = "$total" ]; }
check "the loop's instructions are fw_start's (${fw:-none} of ${total:-none})" looped
[ $fails = 0 ] || { cat "$TMP/qemu.out" "$TMP/log" "$TMP/prof"; }
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
