#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_seal.sh: generate --encrypt-to-ssh-key: the code sheet sealed with age
# to an SSH public key, opened with the private key, its codes working at a
# login; every refusal before a batch is made.
set -u
suite=e2e_seal
. tests/lib.sh

if ! command -v age >/dev/null || ! command -v ssh-keygen >/dev/null ||
    [ ! -x /usr/bin/age ]; then
	echo "e2e_seal: skipped (needs age and ssh-keygen: apt-get install age openssh-client)"
	exit 0
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
ME=$(id -un)
mkdir "$T/pam.d"
mkdir -m 0700 "$T/sys"
cat >"$T/conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt"
ssh-keygen -q -t ed25519 -N '' -C seal-test -f "$T/id_ed25519"
ssh-keygen -q -t rsa -b 2048 -N '' -C seal-test -f "$T/id_rsa"

# admin ARGS...: stdout in $OUT, stderr in $ERR, exit status in $RC.
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
}
err_has() { printf '%s\n' "$ERR" | grep -qF -- "$1"; }
# batches: how many batches the store has for ME (show's history).
batches() { "$BIN/pam-recovery-admin" -c "$T/conf" history "$ME" --json 2>/dev/null | grep -o '"batch"' | wc -l; }

admin generate "$ME" -y -n 3 --format csv --encrypt-to-ssh-key "$T/id_ed25519.pub" -o "$T/sheet.age"
check "sealed to ed25519: exit 0" test "$RC" -eq 0
check "sealed: nothing on standard output" test -z "$OUT"
check "sealed: says how the owner opens it" err_has "age -d -i ~/.ssh/id_ed25519 $T/sheet.age"
check "sealed: the file is mode 0600" test "$(stat -c %a "$T/sheet.age")" = 600
check "sealed: an age file, no code in clear" \
    sh -c 'head -c 21 "$0" | grep -q "^age-encryption.org/v1" && ! grep -qa "^1," "$0"' "$T/sheet.age"
age -d -i "$T/id_ed25519" "$T/sheet.age" >"$T/sheet.csv" 2>"$T/err"
check "the private key opens it" test "$(grep -c '^[0-9]*,' "$T/sheet.csv")" -eq 3
pamrun rt "$ME" auth -- "$(code 2 "$T/sheet.csv")"
check "a code from the sealed sheet logs in" has "auth: PAM_SUCCESS"
check "another key cannot open it" sh -c '! age -d -i "$0" "$1" >/dev/null 2>&1' "$T/id_rsa" "$T/sheet.age"

admin generate "$ME" -y -n 2 --format txt --encrypt-to-ssh-key "$T/id_rsa.pub" -o "$T/rsa.age"
check "sealed to ssh-rsa: exit 0" test "$RC" -eq 0
age -d -i "$T/id_rsa" "$T/rsa.age" >"$T/rsa.txt" 2>/dev/null
check "ssh-rsa: the txt sheet opens, with its header" grep -q "Recovery codes" "$T/rsa.txt"

# Refusals: each before any batch is made; the current codes keep working.
n=$(batches)
admin generate "$ME" -y --encrypt-to-ssh-key "$T/id_ed25519.pub"
check "without -o: usage error" test "$RC" -eq 2
admin generate "$ME" -y --qr --encrypt-to-ssh-key "$T/id_ed25519.pub" -o "$T/qr.age"
check "with --qr: usage error (the QR code would be in clear)" test "$RC" -eq 2
admin generate "$ME" -y --encrypt-to-ssh-key "$T/id_ed25519" -o "$T/priv.age"
check "a private key file: refused, exit 1" test "$RC" -eq 1
check "a private key file: says it is not a public key" err_has "not an ssh-ed25519 or ssh-rsa public key"
printf '# nothing\n\n' >"$T/empty.pub"
admin generate "$ME" -y --encrypt-to-ssh-key "$T/empty.pub" -o "$T/empty.age"
check "a file without keys: refused" err_has "no public key in it"
admin generate "$ME" -y --encrypt-to-ssh-key "$T/none.pub" -o "$T/none.age"
check "a key file that does not exist: refused" test "$RC" -eq 1
m=$(batches)
check "no refused run left a file or a batch ($n batches before, $m after)" \
    sh -c '[ ! -e "$1/priv.age" ] && [ ! -e "$1/empty.age" ] && [ ! -e "$1/none.age" ] && [ "$0" -eq "$2" ] && [ "$0" -gt 0 ]' "$n" "$T" "$m"
admin show "$ME"
check "after the refusals: the ssh-rsa batch is still the active one, 2 left" has "2 of 2 left"

# age itself failing (a key age rejects) after the batch was staged: the
# file is removed and the staged batch discarded.
printf 'ssh-ed25519 AAAAnot-base64!!! broken\n' >"$T/bad.pub"
admin generate "$ME" -y --encrypt-to-ssh-key "$T/bad.pub" -o "$T/bad.age"
check "age refuses the key: exit 1" test "$RC" -eq 1
check "age refuses the key: says the codes were not activated" err_has "NOT activated"
check "age refuses the key: no file left" test ! -e "$T/bad.age"
admin show "$ME"
check "age refuses the key: the ssh-rsa batch is still active" has "2 of 2 left"
finish
