#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_purge.sh: pam-recovery-admin purge on a system store in a temporary
# directory: dry run, bounded runs, the report and its mail, idempotence.
set -u
suite=e2e_purge
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ME=$(id -un)
mkdir "$T/pam.d" "$T/bin"
mkdir -m 0700 "$T/sys"
cat >"$T/conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
site_name = purge-test
mail_from = pam-recovery@purge-test.example
CONF
chmod 0644 "$T/conf"
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt"
# A sendmail that keeps the message instead of sending it.
cat >"$T/bin/sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$*" >"$T/mail.args"
cat >"$T/mail.msg"
SH
chmod 0755 "$T/bin/sendmail"

admin() {
	OUT=$(PATH="$T/bin:$PATH" $VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery-admin
}

admin generate "$ME" -n 10 --format csv
admin generate "$ME" -n 10 --format csv -y
printf '%s\n' "$OUT" >"$T/codes.csv"
pamrun rt "$ME" auth -- "$(code 1 "$T/codes.csv")"
pamrun rt "$ME" auth -- "$(code 2 "$T/codes.csv")"
check "two codes used" has "auth: PAM_SUCCESS"
# Purge keeps what changed within the retention; the CLI has no clock to
# set (no test hooks ship), so the test lets one second pass for
# --retention-days 0 to cover everything above.
sleep 1

admin purge --dry-run --retention-days 0 --report
check "dry run: exit 0" test "$RC" -eq 0
check "dry run: 12 codes and 1 batch would go" has "Dry run, would remove: 12 codes, 1 batch purged"
# Issue #15: the per-user lines agree with the totals.
check "dry run report: the user's line, not (nothing to remove)" \
    sh -c 'printf "%s\n" "$0" | grep -Eq "^  $1 +12 codes +1 batches"' "$OUT" "$ME"
admin show "$ME" --json
check "dry run changed nothing (8 left)" test "$(json_field remaining)" = 8

admin purge --retention-days 0 --batch-size 3 --max 5
check "--max 5: stops early and says so" has "stopped at --max"
check "--max 5: 5 records in 2 transactions" has "in 2 transactions"

admin purge --retention-days 0 --batch-size 3 --report --mail admin@purge-test.example
check "second run finishes: exit 0" test "$RC" -eq 0
check "report: per user" has "$ME"
check "report: the user once, over all its transactions" \
    test "$(printf '%s\n' "$OUT" | grep -c "^  $ME ")" -eq 1
check "report: what is left" has "Left: "
check "mail: sendmail -t -oi" grep -q -- "-t -oi" "$T/mail.args"
check "mail: To" grep -q "^To: admin@purge-test.example" "$T/mail.msg"
check "mail: From mail_from" grep -q "^From: pam-recovery@purge-test.example" "$T/mail.msg"
check "mail: Subject names the site" grep -q "^Subject: \[purge-test\] pam_recovery purge report" "$T/mail.msg"
check "mail: Date header" grep -q "^Date: " "$T/mail.msg"

admin history "$ME"
check "history: the replaced batch is shown as purged" has "purged"
# With retention 0, a purged card goes as soon as a second has passed;
# a day's retention shows that a second run finds nothing at all to do.
admin purge --retention-days 1
check "idempotent: nothing left to remove" has "Removed 0 codes, 0 batches purged, 0 purged batch cards deleted"

pamrun rt "$ME" auth -- "$(code 3 "$T/codes.csv")"
check "unused codes survive the purge" has "auth: PAM_SUCCESS"
pamrun rt "$ME" auth -- "$(code 1 "$T/codes.csv")"
check "a purged used code is still refused" has "auth: PAM_AUTH_ERR"

admin audit
check "audit: purge recorded with its administrator" sh -c 'printf "%s" "$0" | grep "purged" | grep -q "actor=$1"' "$OUT" "$ME"

# A name from the store is escaped in the report and its mail: it can
# neither clear the administrator's screen nor forge a line.
ESC=$(printf '\033')
"$BIN/storeplant" "$T/sys" batch "$(printf 'evil\033[2J\nroot 9999 codes')"
sleep 1
rm -f "$T/mail.msg"
admin purge --retention-days 0 --report --mail admin@purge-test.example
check "escaped: the report names the planted user, escaped" has 'evil\033[2J\nroot\s9999\scodes'
check "escaped: the report has no raw ESC and no forged line" \
    sh -c '! printf "%s\n" "$0" | grep -q -e "$1" -e "^root 9999"' "$OUT" "$ESC"
check "escaped: the mail has no raw ESC and no forged line" \
    sh -c 'grep -q "evil" "$0" && ! grep -q -e "$1" -e "^root 9999" "$0"' "$T/mail.msg" "$ESC"

admin purge --mail "-oQ/tmp/x"
check "a mail address that looks like an option is refused" test "$RC" -ne 0
admin purge --batch-size 0
check "--batch-size 0 is a usage error" test "$RC" -eq 2
admin purge --max -2
check "--max -2 is a usage error" test "$RC" -eq 2

finish
