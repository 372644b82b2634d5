#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_sudo.sh: as root, sudo step-up with a system store: a real user, codes
# issued by pam-recovery-admin, a real /etc/pam.d service and sudoers rule.
set -u
suite=e2e_sudo
OUT=""
. tests/lib.sh

skip() { echo "e2e_sudo: skipped ($1)"; finish; exit $?; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in sudo visudo useradd userdel runuser; do
	command -v "$p" >/dev/null || skip "needs $p"
done
# sudo is setuid: the dynamic linker ignores LD_PRELOAD for it, so a module
# built with the sanitizers cannot be loaded into it.
if ldd "$BIN/pam_recovery.so" 2>/dev/null | grep -q 'lib[at]san'; then
	skip "ASan+UBSan build: sudo is setuid, the dynamic linker ignores LD_PRELOAD for it, so the ASan runtime the module needs cannot be loaded first; the plain run tests sudo"
fi

U=prs$$
SVC=pam-recovery-sudo-$$
STORE=/var/lib/pam-recovery-test-$$
DROPIN=/etc/sudoers.d/pam-recovery-test-$$
T=$(mktemp -d) || exit 1
cleanup() {
	rm -f "$DROPIN" "/etc/pam.d/$SVC"
	userdel -r "$U" >/dev/null 2>&1
	rm -rf "$STORE" "$T"
}
trap cleanup EXIT
chmod 0755 "$T"
useradd -m -s /bin/sh "$U" || { failed "useradd"; finish; exit 1; }
mkdir -m 0700 "$STORE"
cat >"$T/conf" <<CONF
# The system store, with tiny argon2 limits.
store = $STORE
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
printf 'auth required %s conf=%s\naccount required pam_permit.so\nsession required pam_permit.so\n' \
    "$BIN/pam_recovery.so" "$T/conf" >"/etc/pam.d/$SVC"
cat >"$T/sudoers" <<SUDOERS
Defaults:$U pam_service=$SVC
$U ALL=(root) /usr/bin/id
SUDOERS
# An invalid drop-in would break sudo for everyone: never install one.
if ! visudo -qcf "$T/sudoers"; then
	failed "the sudoers drop-in is valid"
	finish
	exit 1
fi
pass "the sudoers drop-in is valid"
install -m 0440 "$T/sudoers" "$DROPIN"

# sudo_as CODE: the user runs "sudo -S -k id -u" with CODE on standard input.
sudo_as() {
	printf '%s\n' "$1" | runuser -u "$U" -- sudo -S -k /usr/bin/id -u >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

admin generate "$U" -n 5 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
check "pam-recovery-admin generate USER: 5 codes" test "$(grep -c '^[0-9]*,' "$T/codes.csv")" -eq 5
check "the system store belongs to root, mode 0700" test "$(stat -c '%U %a' "$STORE")" = "root 700"
# Well-formed codes of another store.
mkdir -m 0700 "$T/other"
"$BIN/pam-recovery-admin" -c "$T/conf" -s "$T/other" generate "$U" -n 10 --format csv >"$T/wrong.csv" 2>/dev/null
wrong() { code "$1" "$T/wrong.csv"; }

sudo_as "$(code 1 "$T/codes.csv")"
check "sudo with a recovery code: id -u prints 0" test "$RC" -eq 0 -a "$OUT" = 0
check "sudo -S shows the module's prompt and reads the code from stdin" \
    sh -c 'printf "%s" "$0" | grep -q "Recovery code:"' "$ERR"
sudo_as "$(code 1 "$T/codes.csv")"
check "the same code again is refused" test "$RC" -ne 0 -a -z "$OUT"

OUT=$(runuser -u "$U" -- ls "$STORE" 2>&1)
check "the user cannot read the system store" test $? -ne 0
# Without a self-service to re-authenticate them (pam-recovery-selfd, not
# started here) the user's helper cannot touch the system store.
OUT=$(runuser -u "$U" -- "$BIN/pam-recovery" -c "$T/conf" generate -y 2>&1)
RC=$?
check "the user's helper cannot plant codes in the system store" \
    sh -c '[ "$1" -eq 1 ] && printf "%s" "$0" | grep -q "managed by the administrator"' "$OUT" "$RC"

# The reused code was failure 1; four more lock.  sudo passes PAM_SILENT,
# so the module's messages are not shown: the state is read with show.
for i in 1 2 3 4; do sudo_as "$(wrong "$i")"; done
admin show "$U" --json
check "four more wrong codes: locked" test "$(json_field lock_remaining)" -gt 0
sudo_as "$(code 2 "$T/codes.csv")"
check "while locked even a valid code is refused, without a prompt" \
    sh -c 'test "$1" -ne 0 && ! printf "%s" "$0" | grep -q "Recovery code:"' "$ERR" "$RC"
OUT=$(SUDO_USER=helpdesk $VG "$BIN/pam-recovery-admin" -c "$T/conf" unlock "$U" 2>&1)
RC=$?
vgcheck pam-recovery-admin
check "pam-recovery-admin unlock USER" test "$RC" -eq 0
sudo_as "$(code 2 "$T/codes.csv")"
check "after unlock the next valid code works" test "$RC" -eq 0 -a "$OUT" = 0

admin audit --user "$U"
printf '%s\n' "$OUT" >"$T/audit"
for ev in generated code_used code_rejected locked unlocked; do
	check "the audit shows $ev" grep -q "Z $ev user=$U " "$T/audit"
done
check "the audit names the sudo service" grep -q " code_used user=$U service=$SVC " "$T/audit"
check "the audit names the administrator who unlocked" grep -q " unlocked .* actor=helpdesk " "$T/audit"
check "two codes used" test "$(grep -c " code_used " "$T/audit")" -eq 2

found=0
for c in $(cut -d, -f2 "$T/codes.csv" | tail -n +2); do
	if grep -rqF "$c" "$STORE" /etc/sudoers.d /etc/pam.d 2>/dev/null; then found=1; fi
done
check "no code is stored in clear" test "$found" -eq 0

finish
