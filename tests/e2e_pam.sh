#!/bin/sh
# e2e_pam.sh: the built module through the real libpam (pam_start_confdir),
# as the invoking user, with a per-user store in a temporary directory.
set -u
suite=e2e_pam
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ME=$(id -un)
mkdir "$T/pam.d"
cat >"$T/conf" <<CONF
# Tiny argon2 limits, set the way an administrator would.
store = $T/%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
M="$BIN/pam_recovery.so conf=$T/conf"
echo "auth required $M" >"$T/pam.d/rt"
# These stacks succeed exactly when the module returns PAM_IGNORE.
printf 'auth [ignore=1 default=die] %s nouserok\nauth required pam_deny.so\nauth required pam_permit.so\n' "$M" >"$T/pam.d/rt-nouserok"
echo "auth required $M silent" >"$T/pam.d/rt-silent"
echo "auth required $M frobnicate" >"$T/pam.d/rt-badarg"
echo "auth required $M kdf_opslimit=0" >"$T/pam.d/rt-badvalue"
echo "auth required $M max_attempts=3 prompt=Code_please:" >"$T/pam.d/rt-args"
echo "auth required $BIN/pam_recovery.so conf=$T/missing" >"$T/pam.d/rt-noconf"
printf 'auth required %s\naccount [ignore=1 default=die] %s\naccount required pam_deny.so\naccount required pam_permit.so\n' "$M" "$M" >"$T/pam.d/rt-acct"

# Well-formed codes that are wrong for the user: another store's codes.
cat >"$T/other.conf" <<CONF
store = $T/other.%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
$VG "$BIN/pam-recovery" -c "$T/other.conf" generate -n 20 --format csv >"$T/wrong.csv" 2>&1
wrong() { code "$1" "$T/wrong.csv"; }

# --- not enrolled ---------------------------------------------------------
pamrun rt "$ME" auth -- "$(wrong 1)"
check "not enrolled: same prompt, PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
check "not enrolled: one prompt" has "prompts: 1"
pamrun rt-nouserok "$ME" auth -- "$(wrong 1)"
check "not enrolled with nouserok: PAM_IGNORE without prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SUCCESS" && printf "%s" "$0" | grep -q "prompts: 0"' "$OUT"
pamrun rt no-such-user-e2e auth -- "$(wrong 1)"
check "unknown user: same prompt, PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
check "unknown user: one prompt" has "prompts: 1"

# --- configuration errors fail closed ---------------------------------------
pamrun rt-badarg "$ME" auth -- "$(wrong 1)"
check "unknown argument: PAM_SERVICE_ERR, no prompt" has "auth: PAM_SERVICE_ERR"
pamrun rt-badvalue "$ME" auth -- "$(wrong 1)"
check "out-of-range value: PAM_SERVICE_ERR" has "auth: PAM_SERVICE_ERR"
pamrun rt-noconf "$ME" auth -- "$(wrong 1)"
check "missing named configuration: PAM_SERVICE_ERR" has "auth: PAM_SERVICE_ERR"
chmod 0666 "$T/conf"
pamrun rt "$ME" auth -- "$(wrong 1)"
check "world-writable configuration: PAM_SERVICE_ERR" has "auth: PAM_SERVICE_ERR"
chmod 0644 "$T/conf"

# --- generate, then log in --------------------------------------------------
helper generate -n 10 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
check "generate: 10 codes" test "$(grep -c '^[0-9]*,' "$T/codes.csv")" -eq 10
check "store is a 0700 directory" test "$(stat -c %a "$T/$ME.store")" = 700
helper generate -n 10 --format csv
check "generate refuses to replace live codes without a terminal or -y" test "$RC" -eq 1
helper status --json
check "status: 10 remaining" test "$(json_field remaining)" = 10

pamrun rt "$ME" auth -- "$(code 1 "$T/codes.csv")"
check "valid code: PAM_SUCCESS" has "auth: PAM_SUCCESS"
check "valid code: says how many are left" has "Recovery code accepted. 9 codes left."
check "valid code: PAM_RECOVERY_USED" has "env: PAM_RECOVERY_USED=1"
check "valid code: PAM_RECOVERY_REMAINING" has "env: PAM_RECOVERY_REMAINING=9"
pamrun rt "$ME" auth -- "$(code 1 "$T/codes.csv")"
check "reused code: PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
check "reused code: nothing accepted" hasnt "accepted"

typed=$(code 2 "$T/codes.csv" | tr 'A-Z' 'a-z' | sed 's/-/ /g; s/0/o/g')
pamrun rt "$ME" auth -- "$typed"
check "lower case, spaces, o for 0: accepted" has "auth: PAM_SUCCESS"

pamrun rt-silent "$ME" auth -- "$(code 3 "$T/codes.csv")"
check "silent: accepted without messages" sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SUCCESS" && ! printf "%s" "$0" | grep -q "^info:"' "$OUT"

pamrun rt-args "$ME" auth -- "$(code 4 "$T/codes.csv")"
check "prompt= argument is used" has "prompt: Code_please:"
check "key=value argument accepted" has "auth: PAM_SUCCESS"

# --- malformed input is not counted ----------------------------------------
c5=$(code 5 "$T/codes.csv")
last=$(printf '%s' "$c5" | tail -c 1)
if [ "$last" = 0 ]; then sub=1; else sub=0; fi
typo=$(printf '%s' "$c5" | sed "s/.\$/$sub/")
for i in 1 2 3 4 5 6 7; do pamrun rt "$ME" auth -- "$typo"; done
check "typo: PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
check "typo: reported as a likely typo" has "check for typos"
pamrun rt "$ME" auth -- ""
check "empty input: PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
helper status --json
check "typos and empty input are not counted as failures" test "$(json_field failures)" = 0

# --- lockout ----------------------------------------------------------------
for i in 1 2 3 4; do pamrun rt "$ME" auth -- "$(wrong "$i")"; done
check "4 wrong codes: not locked yet" hasnt "locked"
pamrun rt "$ME" auth -- "$(wrong 5)"
check "5th wrong code: locks for 60 seconds" has "Try again in 60 seconds"
pamrun rt "$ME" auth -- "$c5"
check "while locked: even a valid code is refused" has "auth: PAM_AUTH_ERR"
check "while locked: no prompt" has "prompts: 0"
check "while locked: the wait is shown" has "Try again in"
helper status --json
check "status shows the lock" test "$(json_field lock_remaining)" -gt 0

# --- unsafe stores ----------------------------------------------------------
chmod 0750 "$T/$ME.store"
pamrun rt "$ME" auth -- "$c5"
check "group-readable store: PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
chmod 0700 "$T/$ME.store"
mv "$T/$ME.store" "$T/real.store"
ln -s "$T/real.store" "$T/$ME.store"
pamrun rt "$ME" auth -- "$c5"
check "symlinked store: PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
rm "$T/$ME.store"
mv "$T/real.store" "$T/$ME.store"

# --- single use under concurrency ---------------------------------------------
rm -rf "$T/$ME.store"
helper generate -n 10 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
c1=$(code 1 "$T/codes.csv")
i=0
while [ $i -lt 16 ]; do
	$VG "$BIN/pamdrive" "$T/pam.d" rt "$ME" auth -- "$c1" >"$T/par.$i" 2>&1 &
	i=$((i + 1))
done
wait
OUT=$(cat "$T"/par.*)
n=$(grep -c "auth: PAM_SUCCESS" "$T"/par.* | awk -F: '{s += $NF} END {print s}')
check "16 parallel logins with one code: exactly one succeeds (got $n)" test "$n" -eq 1
rm -f "$T"/par.*

# --- parallel wrong guesses never get more than max_attempts in --------------
i=0
while [ $i -lt 12 ]; do
	$VG "$BIN/pamdrive" "$T/pam.d" rt "$ME" auth -- "$(wrong $((i + 1)))" >"$T/par.$i" 2>&1 &
	i=$((i + 1))
done
wait
helper status --json
check "12 parallel wrong guesses: exactly max_attempts counted (got $(json_field failures))" test "$(json_field failures)" = 5
check "12 parallel wrong guesses: locked" test "$(json_field lock_remaining)" -gt 0

# --- account reminder ---------------------------------------------------------
rm -rf "$T/$ME.store"
helper generate -n 2 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
pamrun rt-acct "$ME" auth account -- "$(code 1 "$T/codes.csv")"
check "account: reminder when codes run low" has "Only 1 recovery code left"
check "account: returns PAM_IGNORE" has "account: PAM_SUCCESS"
pamrun rt "$ME" auth -- "$(code 2 "$T/codes.csv")"
check "last code: loud warning" has "LAST recovery code"

# --- one disk flush per attempt -----------------------------------------------
# The pre-count commits without a sync; the commit that ends the attempt
# flushes the data file once (LMDB then writes its meta page O_DSYNC).
# With audit off, a wrong code's closing commit is empty, and the store
# flushes the pre-count itself.  Counted with strace, where there is one (LeakSanitizer
# cannot run under ptrace: leaks are looked for everywhere else).
flushes() { grep -cE '^[0-9]+ +(fdatasync|fsync|msync|sync_file_range)\(' "$T/strace"; }
# traced ANSWER: one login through rt-flush under strace; output in $OUT.
traced() {
	OUT=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$T/strace" \
	    -e trace=fdatasync,fsync,msync,sync_file_range \
	    "$BIN/pamdrive" "$T/pam.d" rt-flush "$ME" auth -- "$1" 2>&1)
}
if command -v strace >/dev/null && [ -z "$VG" ]; then
	for audit in yes no; do
		sed "s|^store = .*|store = $T/flush-$audit.%u|" "$T/conf" >"$T/flush.conf"
		echo "audit = $audit" >>"$T/flush.conf"
		echo "auth required $BIN/pam_recovery.so conf=$T/flush.conf" >"$T/pam.d/rt-flush"
		"$BIN/pam-recovery" -c "$T/flush.conf" generate -n 2 --format csv >"$T/flush.csv" 2>&1
		traced "$(wrong 3)"
		check "audit $audit: a wrong code is refused" has "auth: PAM_AUTH_ERR"
		check "audit $audit: a wrong code costs one flush (got $(flushes))" test "$(flushes)" -eq 1
		traced "$(code 1 "$T/flush.csv")"
		check "audit $audit: a valid code logs in" has "auth: PAM_SUCCESS"
		check "audit $audit: a valid code costs one flush (got $(flushes))" test "$(flushes)" -eq 1
	done
else
	echo "ok - one disk flush per attempt # SKIP no strace, or under valgrind"
fi

finish
