# SPDX-License-Identifier: BSD-2-Clause
# lib.sh: helpers for the end-to-end scripts (sourced, not run).
# Provides: check NAME CONDITION-COMMAND..., expect_out NAME PATTERN,
# pamrun SERVICE USER ANSWERS..., finish.  Uses $B and $VG from run.sh.
B=${B:-build}
VG=${VG:-}
BIN=$(cd "$B" && pwd)
npass=0
nfail=0
suite=${suite:-e2e}

pass() { npass=$((npass + 1)); echo "ok - $1"; }
failed() { nfail=$((nfail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else failed "$name" "$OUT"; fi
}

# vgstrip: stdin without valgrind's own notes ("--PID-- WARNING: unhandled
# syscall" for pidfd_open), newline and all; they land in the middle of
# output that is read as prompts in order, or as JSON.
vgstrip() { perl -0pe 's/--[0-9]+-- [^\n]*\n//g'; }

# has PATTERN: the last output contains the fixed string PATTERN.
has() { printf '%s\n' "$OUT" | grep -qF -- "$1"; }
hasnt() { ! has "$1"; }

# pamrun SERVICE USER STEPS -- ANSWERS: drive libpam; output in $OUT.
pamrun() {
	OUT=$($VG "$BIN/pamdrive" "$T/pam.d" "$@" 2>&1)
	RC=$?
	vgcheck pamdrive
}

# Under valgrind, exit status 99 means valgrind found an error.
vgcheck() {
	if [ -n "$VG" ] && [ "$RC" -eq 99 ]; then failed "valgrind clean: $1" "$OUT"; fi
}

# helper ARGS...: run the user helper with the test configuration.
helper() {
	OUT=$($VG "$BIN/pam-recovery" -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}

# admin ARGS...: the same for the admin tool (scripts that want stderr
# apart, or another PATH, define their own).
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery-admin
}

# code N FILE: the Nth code of a csv listing.
code() { sed -n "$(($1 + 1))p" "$2" | cut -d, -f2; }

# json_field KEY: a number or literal from the last one-line JSON output.
json_field() { printf '%s\n' "$OUT" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }

finish() {
	echo "$suite: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}
