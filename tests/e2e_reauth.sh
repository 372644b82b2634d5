#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_reauth.sh: reauth = yes: pam-recovery generate and invalidate ask for
# the account password through PAM service pam-recovery-self (a test stack:
# pam_exec checks the answer), refuse on a wrong one with nothing changed,
# and a user's -c file can neither turn it off nor choose the stack.
set -u
suite=e2e_reauth
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
ME=$(id -un)
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1
RIGHT="correct horse battery"
mkdir "$T/sec" "$T/pam.d" "$T/permit.d" "$T/noacct.d" "$T/empty.d"
# pam_exec hands the answer to the script on its standard input.
cat >"$T/check.sh" <<CHK
#!/bin/sh
pw=\$(tr -d '\\000')
[ "\$pw" = "$RIGHT" ]
CHK
chmod 0755 "$T/check.sh"
printf 'auth required pam_exec.so quiet expose_authtok %s\naccount required pam_permit.so\n' \
    "$T/check.sh" >"$T/pam.d/pam-recovery-self"
printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$T/permit.d/pam-recovery-self"
printf 'auth required pam_exec.so quiet expose_authtok %s\naccount required pam_deny.so\n' \
    "$T/check.sh" >"$T/noacct.d/pam-recovery-self"

# mkconf FILE EXTRA: a configuration of the test store, plus line EXTRA.
mkconf() {
	cat >"$1" <<CONF
store = $T/%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
$2
CONF
	chmod 0644 "$1"
}
# The user's own file tries to turn the password off, and to use a stack
# that says yes to anything.
mkconf "$T/conf" "reauth = no
reauth_pam_dir = $T/permit.d"
mkconf "$T/plain.conf" ""

# As root, $T/sec is mounted over /etc/security in a mount namespace of the
# test's own, so that its pam_recovery.conf is the system configuration --
# the policy -- for the helper, and for nobody else on the machine.
HAVE_NS=0
if [ "$ROOT" -eq 1 ] && command -v unshare >/dev/null &&
    unshare -m sh -c 'mount --bind "$0" /etc/security' "$T/sec" 2>/dev/null; then
	HAVE_NS=1
fi
# system EXTRA: the system configuration, with reauth = yes and line EXTRA.
system() { mkconf "$T/sec/pam_recovery.conf" "reauth = yes
$1"; }
system "reauth_pam_dir = $T/pam.d"
# sys ANSWER ARGS...: the helper under the test's system configuration,
# with ANSWER (and a newline) on standard input.
sys() {
	answer=$1
	shift
	OUT=$(printf '%s\n' "$answer" | unshare -m sh -c 'mount --bind "$0" /etc/security && shift && exec "$@"' \
	    "$T/sec" x $VG "$BIN/pam-recovery" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}
# batch: the active batch id of the test store (reauth plays no part).
batch() { "$BIN/pam-recovery" -c "$T/plain.conf" status --json | sed -n 's/.*"batch":"\([0-9a-f]*\)".*/\1/p'; }
rc() { test "$RC" -eq "$1"; }

"$BIN/pam-recovery" -c "$T/plain.conf" generate -n 5 --format csv -y >"$T/first.csv" 2>/dev/null
FIRST=$(batch)
check "set-up: a batch to protect" test -n "$FIRST"

if [ "$HAVE_NS" -eq 0 ]; then
	echo "ok - reauth through the system configuration # SKIP needs root and unshare -m"
else
	# --- generate -----------------------------------------------------------
	sys "wrong horse" -c "$T/conf" generate -n 5 --format csv -y
	check "generate, wrong password: exit 1" rc 1
	check "generate, wrong password: asks for it" has "needs your password"
	check "generate, wrong password: says so" has "password for $ME not accepted"
	check "generate, wrong password: nothing changed" has "nothing changed"
	check "generate, wrong password: the user's reauth = no is ignored" has "reauth = no ignored"
	check "generate, wrong password: the user's reauth_pam_dir is ignored" has "reauth_pam_dir ignored"
	check "generate, wrong password: no codes printed" sh -c '! printf "%s\n" "$0" | grep -q "^1,"' "$OUT"
	check "generate, wrong password: the batch is the same" test "$(batch)" = "$FIRST"
	sys "$(code 1 "$T/first.csv")" -c "$T/conf" verify
	check "verify asks no password: the old code still works" rc 0
	check "verify asks no password" hasnt "needs your password"
	sys "" -c "$T/conf" status
	check "status asks no password" rc 0
	check "status asks no password: none asked" hasnt "needs your password"
	OUT=$(unshare -m sh -c 'mount --bind "$0" /etc/security && shift && exec "$@"' \
	    "$T/sec" x "$BIN/pam-recovery" -c "$T/conf" generate -y </dev/null 2>&1)
	RC=$?
	check "generate, no answer at all: exit 1" rc 1
	check "generate, no answer at all: the batch is the same" test "$(batch)" = "$FIRST"

	sys "$RIGHT" -c "$T/conf" generate -n 5 --format csv -y
	check "generate, right password: exit 0" rc 0
	printf '%s\n' "$OUT" | grep '^[0-9]*,' | sed '1i slot,code' >"$T/second.csv"
	check "generate, right password: prints the codes" test "$(grep -c , "$T/second.csv")" -eq 6
	SECOND=$(batch)
	check "generate, right password: a new batch" test -n "$SECOND" -a "$SECOND" != "$FIRST"
	# The answer is one line: what follows it is not consumed.
	OUT=$(printf '%s\n%s\n' "$RIGHT" "$(code 2 "$T/second.csv")" | unshare -m sh -c \
	    'mount --bind "$0" /etc/security && shift && "$@" generate -n 5 --format csv -y >/dev/null 2>&1; head -n 1' \
	    "$T/sec" x "$BIN/pam-recovery" -c "$T/conf")
	check "one line per prompt: the next line is left on standard input" test "$OUT" = "$(code 2 "$T/second.csv")"
	sys "$RIGHT" -c "$T/conf" generate -n 5 --format csv -y
	THIRD=$(batch)
	printf '%s\n' "$OUT" | grep '^[0-9]*,' | sed '1i slot,code' >"$T/third.csv"

	# --- invalidate ---------------------------------------------------------
	sys "wrong horse" -c "$T/conf" invalidate -y 1
	check "invalidate, wrong password: exit 1" rc 1
	check "invalidate, wrong password: says so" has "not accepted"
	sys "$(code 1 "$T/third.csv")" -c "$T/conf" verify
	check "invalidate, wrong password: code 1 still works" rc 0
	sys "$RIGHT" -c "$T/conf" invalidate -y 1
	check "invalidate, right password: exit 0" rc 0
	sys "$(code 1 "$T/third.csv")" -c "$T/conf" verify
	check "invalidate, right password: code 1 no longer works" rc 1
	sys "$(code 2 "$T/third.csv")" -c "$T/conf" verify
	check "invalidate, right password: code 2 still works" rc 0

	# --- without -c: the system configuration itself --------------------------
	sys "wrong horse" generate -n 5 --format csv -y
	check "system configuration, wrong password: exit 1" rc 1
	check "system configuration, wrong password: the batch is the same" test "$(batch)" = "$THIRD"
	sys "$RIGHT" generate -n 5 --format csv -y
	check "system configuration, right password: exit 0" rc 0
	check "system configuration, right password: a new batch" test "$(batch)" != "$THIRD"
	NOW=$(batch)

	# --- fail closed ----------------------------------------------------------
	system "reauth_pam_dir = $T/empty.d"
	sys "$RIGHT" -c "$T/conf" generate -y
	check "no pam-recovery-self: exit 1" rc 1
	check "no pam-recovery-self: says it is not installed" has "pam-recovery-self is not installed"
	check "no pam-recovery-self: no password asked" hasnt "needs your password"
	check "no pam-recovery-self: the batch is the same" test "$(batch)" = "$NOW"
	system "reauth_pam_dir = $T/noacct.d"
	sys "$RIGHT" -c "$T/conf" invalidate --all -y
	check "account refused by PAM: exit 1" rc 1
	check "account refused by PAM: says so" has "account $ME refused by PAM"
	check "account refused by PAM: the batch is still active" test "$(batch)" = "$NOW"
	# A user's file cannot point at its own stack even when the system
	# configuration leaves reauth_pam_dir unset: /etc/pam.d is used.
	if [ -e /etc/pam.d/pam-recovery-self ]; then
		echo "ok - a user's reauth_pam_dir is not used # SKIP /etc/pam.d/pam-recovery-self exists"
	else
		system ""
		sys "$RIGHT" -c "$T/conf" generate -y
		check "a user's reauth_pam_dir is not used: exit 1" rc 1
		check "a user's reauth_pam_dir is not used: /etc/pam.d is" has "(/etc/pam.d/pam-recovery-self)"
		check "a user's reauth_pam_dir is not used: the batch is the same" test "$(batch)" = "$NOW"
	fi
	system "reauth_pam_dir = $T/pam.d"

	# --- on a terminal: misc_conv ---------------------------------------------
	if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
		DELAY=1
		[ -n "$VG" ] && DELAY=6
		# onpty INPUT: generate on a pseudo-terminal, INPUT typed after DELAY.
		onpty() {
			OUT=$( (sleep "$DELAY"; printf '%s\r' "$1") | script -qec \
			    "unshare -m sh -c 'mount --bind $T/sec /etc/security && exec $BIN/pam-recovery -c $T/conf generate -n 5 --format csv -y'" \
			    /dev/null 2>&1)
			RC=$?
		}
		onpty "wrong horse"
		check "terminal, wrong password: refused" has "not accepted"
		check "terminal, wrong password: the batch is the same" test "$(batch)" = "$NOW"
		onpty "$RIGHT"
		check "terminal, right password: codes printed" has "1,"
		check "terminal, right password: the answer is not echoed" hasnt "$RIGHT"
		check "terminal, right password: a new batch" test "$(batch)" != "$NOW"
	else
		echo "ok - reauth on a terminal # SKIP no script(1) pseudo-terminal"
	fi
fi

# --- any user: a -c file may ask for the password, never choose the stack ------
if [ -e /etc/pam.d/pam-recovery-self ] || [ -e /etc/security/pam_recovery.conf ]; then
	echo "ok - reauth = yes in a -c file # SKIP /etc/pam.d/pam-recovery-self or the system configuration exists"
else
	mkconf "$T/own.conf" "reauth = yes
reauth_pam_dir = $T/permit.d"
	B0=$(batch)
	OUT=$(printf '%s\n' "$RIGHT" | $VG "$BIN/pam-recovery" -c "$T/own.conf" generate -y 2>&1)
	RC=$?
	vgcheck pam-recovery
	check "reauth = yes in a -c file: refused without pam-recovery-self in /etc/pam.d" rc 1
	check "reauth = yes in a -c file: its reauth_pam_dir is ignored" has "reauth_pam_dir ignored"
	check "reauth = yes in a -c file: the batch is the same" test "$(batch)" = "$B0"
	OUT=$($VG "$BIN/pam-recovery" -c "$T/own.conf" status </dev/null 2>&1)
	RC=$?
	check "reauth = yes in a -c file: status still works" rc 0
fi

finish
