#!/bin/sh
# e2e_root.sh: as root, a real user, a real /etc/pam.d service and pamtester:
# the module drops to the user's identity for the per-user store.
set -u
suite=e2e_root
. tests/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v pamtester >/dev/null || ! command -v useradd >/dev/null; then
	echo "e2e_root: skipped (needs root, pamtester and useradd)"
	finish
	exit $?
fi

U=prt$$
SVC=pam-recovery-test-$$
T=$(mktemp -d) || exit 1
cleanup() {
	rm -f "/etc/pam.d/$SVC"
	userdel -r "$U" >/dev/null 2>&1
	userdel "${U}n" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
chmod 0755 "$T"
useradd -m -s /bin/sh "$U" || { failed "useradd"; finish; exit 1; }
H=$(getent passwd "$U" | cut -d: -f6)
cp "$BIN/pam-recovery" "$T/pam-recovery"
chmod 0755 "$T/pam-recovery"
cat >"$T/conf" <<CONF
# The default store, ~/.pam-recovery, with tiny argon2 limits.
kdf_opslimit = 1
kdf_memlimit = 8K
CONF
chmod 0644 "$T/conf"
# max_attempts is raised so that the parallel test's nine refusals of a
# used code do not lock the user out of the later steps.
printf 'auth required %s conf=%s max_attempts=50\naccount required pam_permit.so\n' \
    "$BIN/pam_recovery.so" "$T/conf" >"/etc/pam.d/$SVC"

as_user() { runuser -u "$U" -- "$@"; }
login() { OUT=$(printf '%s\n' "$1" | LD_PRELOAD="${SAN_PRELOAD:-}" $VG pamtester -v "$SVC" "$U" authenticate 2>&1); RC=$?; }

OUT=$(as_user "$T/pam-recovery" -c "$T/conf" generate -n 10 --format csv 2>&1)
printf '%s\n' "$OUT" >"$T/codes.csv"
check "the user generates codes with the helper" test "$(grep -c '^[0-9]*,' "$T/codes.csv")" -eq 10
check "the store belongs to the user, mode 0700" \
    test "$(stat -c '%U %a' "$H/.pam-recovery")" = "$U 700"

rm -f "$H/.pam-recovery/lock.mdb"
login "$(code 1 "$T/codes.csv")"
check "pamtester: a code logs in" test "$RC" -eq 0
check "the module opened the store as the user (lock file owned by $U)" \
    test "$(stat -c %U "$H/.pam-recovery/lock.mdb")" = "$U"
login "$(code 1 "$T/codes.csv")"
check "pamtester: the same code is refused" test "$RC" -ne 0

i=0
while [ $i -lt 10 ]; do
	printf '%s\n' "$(code 2 "$T/codes.csv")" | LD_PRELOAD="${SAN_PRELOAD:-}" pamtester "$SVC" "$U" authenticate >"$T/par.$i" 2>&1 &
	i=$((i + 1))
done
wait
n=$(grep -l "successfully authenticated" "$T"/par.* | wc -l)
check "10 parallel pamtester logins with one code: exactly one succeeds (got $n)" test "$n" -eq 1

chmod 0755 "$H/.pam-recovery"
login "$(code 3 "$T/codes.csv")"
check "a store with group/other bits is refused" test "$RC" -ne 0
chmod 0700 "$H/.pam-recovery"
chown root "$H/.pam-recovery"
login "$(code 3 "$T/codes.csv")"
check "a store not owned by the user is refused" test "$RC" -ne 0
# Issue #15: check names the owner mismatch, not a bare "Permission denied".
OUT=$("$BIN/pam-recovery-admin" -c "$T/conf" check 2>&1)
check "check of a store restored as root: says whose it is" \
    has "$H/.pam-recovery: the store belongs to another user"
check "check of a store restored as root: names both uids" \
    has "owned by uid 0, not by uid $(id -u "$U")"
chown "$U" "$H/.pam-recovery"
login "$(code 3 "$T/codes.csv")"
check "after repair the code works" test "$RC" -eq 0

# A user who writes garbage into their own store must not crash the root
# process that reads it: the module reads per-user stores in a child that
# is only the user, so the worst is that child dying.
D="$H/.pam-recovery/data.mdb"
cp "$D" "$T/data.saved"
PS=$(getconf PAGESIZE)
pages=$(($(stat -c %s "$D") / PS))
head -c $(((pages - 2) * PS)) /dev/zero | tr '\0' '\377' |
    dd of="$D" bs="$PS" seek=2 conv=notrunc 2>/dev/null
login "$(code 4 "$T/codes.csv")"
check "garbage data pages in a user's store: refused, the host does not crash" \
    sh -c '[ "$0" -eq 1 ] && printf "%s" "$1" | grep -q "cannot retrieve authentication info"' "$RC" "$OUT"
# The same store under the admin tool, run as root as the daily purge is:
# each per-user store is read in a child that is its user, so the store
# fails alone and the tool goes on.
for cmd in "list" "purge --report" "check" "audit"; do
	# shellcheck disable=SC2086
	admin $cmd
	check "admin $cmd over the garbage store: fails for it, does not crash (exit $RC)" \
	    test "$RC" -eq 1
	check "admin $cmd: says which store" has "$H/.pam-recovery"
	check "admin $cmd: does not call it empty" hasnt "No user has"
done
admin purge --report
check "purge report counts the unread store as an error" has "Errors: 1"
cp "$T/data.saved" "$D"
chown "$U" "$D"
login "$(code 4 "$T/codes.csv")"
check "after the store is restored the code works" test "$RC" -eq 0

# The user can write anything into their own store, also events that name
# root or anyone: the admin tool gives every event of a per-user store to
# its owner, marks the others forged, and escapes what it prints.  A store
# name of this test's own keeps the purge away from other users' stores.
cp "$BIN/storeplant" "$T/storeplant"
chmod 0755 "$T/storeplant"
printf 'store = ~/.pam-recovery-forged%s\nkdf_opslimit = 1\nkdf_memlimit = 8K\n' $$ >"$T/forged.conf"
chmod 0644 "$T/forged.conf"
F="$H/.pam-recovery-forged$$"
ESC=$(printf '\033')
as_user "$T/storeplant" "$F" event root sshd "$(printf '203.0.113.9\033[2J')" ""
as_user "$T/storeplant" "$F" batch "$(printf 'root\033[2J\nroot 9999 codes')"
forged() { OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/forged.conf" "$@" 2>&1); RC=$?; }
forged audit
check "forged: an event naming root in $U's store is shown as $U's, marked" \
    sh -c 'printf "%s\n" "$0" | grep -q " code_used user=$1 forged=root service=sshd rhost=203.0.113.9\\\\033\[2J "' "$OUT" "$U"
check "forged: no line speaks as root, no raw ESC" \
    sh -c '! printf "%s\n" "$0" | grep -q -e " user=root " -e "$1"' "$OUT" "$ESC"
check "forged: a warning counts them" has "in a user's own store name another user"
forged audit --user "$U" --json
check "forged: audit --json marks the event" \
    test "$(printf '%s' "$OUT" | sed '/^pam-recovery-admin:/d' | jq -r '[.[] | select(.forged and .claimed_user == "root")][0].user')" = "$U"
sleep 1
forged purge --retention-days 0 --report
check "forged: the purge report gives the records to $U, escaped" \
    sh -c 'printf "%s\n" "$0" | grep -q "^  $1 .*(forged records for root.*root.*codes)"' "$OUT" "$U"
check "forged: the purge report has no raw ESC and no forged line" \
    sh -c '! printf "%s\n" "$0" | grep -q -e "$1" -e "^root 9999"' "$OUT" "$ESC"
forged check --deep
check "forged: check --deep flags the records under root's name" \
    sh -c '[ "$1" -eq 1 ] && printf "%s\n" "$0" | grep -q "^FAIL .*user root.*a record under another user.s name"' "$OUT" "$RC"

found=0
for c in $(cut -d, -f2 "$T/codes.csv" | tail -n +2); do
	if grep -rqF "$c" "$H" /etc/pam.d 2>/dev/null; then found=1; fi
done
check "no code is stored in clear anywhere in the home" test "$found" -eq 0

# A user whose home directory does not exist (issue #15): status and
# generate name it, and status does not advise a generate that would fail.
NU=${U}n
useradd -M -d "/nonexistent-$NU" -s /bin/sh "$NU"
OUT=$(runuser -u "$NU" -- "$T/pam-recovery" -c "$T/conf" status 2>&1)
RC=$?
check "status, home missing: exit status 1 (got $RC)" test "$RC" -eq 1
check "status, home missing: names the home directory" \
    has "the home directory /nonexistent-$NU of $NU does not exist"
check "status, home missing: does not advise generate" hasnt "Create some with"
OUT=$(runuser -u "$NU" -- "$T/pam-recovery" -c "$T/conf" generate -y --format csv 2>&1)
RC=$?
check "generate, home missing: exit status 1 (got $RC)" test "$RC" -eq 1
check "generate, home missing: names the home directory" \
    has "the home directory /nonexistent-$NU of $NU does not exist"
check "generate, home missing: no input/output error" hasnt "input/output"
admin show "$NU"
check "admin show, home missing: names the home directory" \
    has "the home directory /nonexistent-$NU of $NU does not exist"

finish
