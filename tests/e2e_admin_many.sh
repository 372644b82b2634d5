#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_admin_many.sh: pam-recovery-admin generate --users-from FILE on a
# system store (LMDB, in a temporary directory owned by whoever runs the
# test): codes for each user of the list, comments and blank lines
# skipped, a user that fails reported and the rest still served, a
# non-zero status then, -o DIR giving each user a sheet of their own, a
# malformed list refused before anyone gets codes.
set -u
suite=e2e_admin_many
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
ME=$(id -un)
# Two more users of the password database.
U2=$(getent passwd | cut -d: -f1 | grep -vx "$ME" | sed -n 1p)
U3=$(getent passwd | cut -d: -f1 | grep -vx "$ME" | sed -n 2p)
mkdir -m 0700 "$T/sys"
cat >"$T/conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
# admin ARGS...: stdout in $OUT, stderr in $ERR, exit status in $RC.
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>"$T/err" </dev/null)
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
}
err_has() { printf '%s\n' "$ERR" | grep -qF -- "$1"; }
# left USER: the codes USER has left, as show --json says.
left() {
	"$BIN/pam-recovery-admin" -c "$T/conf" show "$1" --json 2>/dev/null |
	    grep -o '"remaining": *[0-9]*' | grep -o '[0-9]*$'
}

cat >"$T/users" <<LIST
# the help desk's list for today
$ME

  $U2   # trailing comment and blanks
LIST
admin generate --users-from "$T/users" -n 2 --format csv
check "--format csv on standard output: usage error (the sheets would not say whose codes they hold)" \
    test "$RC" -eq 2 && err_has "needs -o DIR"
OUT="$(left "$ME")$(left "$U2")"
check "... nobody got codes" test -z "$OUT" -o "$OUT" = 00
admin generate --users-from "$T/users" -n 4
check "--users-from: exit 0 when every user got codes" test "$RC" -eq 0
check "... 4 codes for each of the 2 users on standard output" test "$(printf '%s\n' "$OUT" | grep -c '^ *[0-9]*\.  ')" -eq 8
check "... each sheet names its user" \
    test "$(printf '%s\n' "$OUT" | grep -c -e "^Recovery codes for $ME " -e "^Recovery codes for $U2 ")" -eq 2
check "... each user reported" err_has "$ME: codes issued" && err_has "$U2: codes issued"
check "... and a summary" err_has "2 of 2 users issued codes, 0 failed"
OUT="$(left "$ME") $(left "$U2")"
check "show: both users have 4 codes left" test "$OUT" = "4 4"

printf '%s\nno-such-user-e2e-many\n%s\n' "$U3" "$ME" >"$T/users2"
admin generate --users-from "$T/users2" -n 3 -y
check "a user that cannot get codes: exit 1" test "$RC" -eq 1
check "... is reported as failed" err_has "no-such-user-e2e-many: FAILED"
check "... and the users after it still get theirs" err_has "$ME: codes issued" && err_has "$U3: codes issued"
check "... summary: 2 of 3" err_has "2 of 3 users issued codes, 1 failed"
OUT="$(left "$U3") $(left "$ME") $(left "$U2")"
check "show: the new batches of 3 (and $U2's 4 untouched)" test "$OUT" = "3 3 4"

admin generate --users-from "$T/users" -n 2
check "without -y, users whose codes still work keep them (no terminal to ask): exit 1" test "$RC" -eq 1
OUT="$(left "$ME") $(left "$U2")"
check "... their codes unchanged" test "$OUT" = "3 4"

mkdir -m 0700 "$T/out"
admin generate --users-from="$T/users" -y -n 2 -o "$T/out" --format csv
check "-o DIR: exit 0" test "$RC" -eq 0
check "... one sheet per user, DIR/USER.csv, with 2 codes each" \
    test "$(grep -c '^[0-9]*,' "$T/out/$ME.csv")" -eq 2 -a "$(grep -c '^[0-9]*,' "$T/out/$U2.csv")" -eq 2
check "... nothing on standard output" test -z "$OUT"
admin generate --users-from "$T/users" -y -n 2 --output="$T/out" --format csv
check "-o DIR again: the sheets exist, never written over: exit 1" test "$RC" -eq 1 -a "$(left "$ME")" = 2
admin generate --users-from "$T/users" -y -o "$T/out/$ME.csv"
check "-o naming a file: usage error" test "$RC" -eq 2
admin generate --users-from "$T/users" -y --encrypt-to-ssh-key "$T/key" -o "$T/out"
check "--encrypt-to-ssh-key: usage error (one user's key)" test "$RC" -eq 2

printf '%s\nbad user\n%s\n' "$U3" "$ME" >"$T/bad"
admin generate --users-from "$T/bad" -y -n 5
check "a line with two words: refused, naming the line" test "$RC" -eq 1 && err_has "line 2: not one user name"
check "... before anyone got codes" test "$(left "$U3")" = 3
printf '# nobody\n\n' >"$T/empty"
admin generate --users-from "$T/empty" -y
check "a list naming nobody: exit 1" test "$RC" -eq 1 && err_has "names no user"
admin generate --users-from "$T/missing" -y
check "a missing list: exit 1" test "$RC" -eq 1
admin generate --users-from
check "--users-from without FILE: usage error" test "$RC" -eq 2
admin audit
check "audit: every generate names the administrator ($ME)" \
    test "$(printf '%s\n' "$OUT" | grep ' generated ' | grep -c "actor=$ME ")" -eq 6
finish
