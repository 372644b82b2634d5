#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
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
	rm -f "/etc/pam.d/$SVC" "/etc/pam.d/$SVC-h"
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
store_helper = $BIN/pam-recovery-store
# A user holding their store's lock stalls nobody for longer than this.
store_timeout = 2
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
    test "$(printf '%s' "$OUT" | vgstrip | sed '/^pam-recovery-admin:/d' | jq -r '[.[] | select(.forged and .claimed_user == "root")][0].user')" = "$U"
sleep 1
forged purge --retention-days 0 --report
check "forged: the purge report gives the records to $U, escaped" \
    sh -c 'printf "%s\n" "$0" | grep -q "^  $1 .*(forged records for root.*root.*codes)"' "$OUT" "$U"
check "forged: the purge report has no raw ESC and no forged line" \
    sh -c '! printf "%s\n" "$0" | grep -q -e "$1" -e "^root 9999"' "$OUT" "$ESC"
forged check --deep
check "forged: check --deep flags the records under root's name" \
    sh -c '[ "$1" -eq 1 ] && printf "%s\n" "$0" | grep -q "^FAIL .*user root.*a record under another user.s name"' "$OUT" "$RC"

# One byte of a user's own store, the high byte of mp_lower of the main
# database's root page, made root's admin tool write out of bounds when
# it opened the store itself.  Every command on one user now reads the
# store in a child that is the user: the child may die, root never maps
# the file.  Under ASan the report would name the tool.
craft_lower() {
	f=$1
	t0=$(od -An -t u8 -j 144 -N 8 "$f" | tr -d ' ')
	t1=$(od -An -t u8 -j $((PS + 144)) -N 8 "$f" | tr -d ' ')
	m=0
	[ "$t1" -gt "$t0" ] && m=$PS
	root=$(od -An -t u8 -j $((m + 128)) -N 8 "$f" | tr -d ' ')
	printf '\054' | dd of="$f" bs=1 seek=$((root * PS + 13)) conv=notrunc 2>/dev/null
}
cp "$D" "$T/data.saved"
craft_lower "$D"
for cmd in "show $U" "history $U" "unlock $U" "invalidate $U 5" \
    "generate $U -y -n 2" "backup --user $U $T/bk" "audit --user $U"; do
	# shellcheck disable=SC2086
	OUT=$(ASAN_OPTIONS=detect_leaks=0 "$BIN/pam-recovery-admin" -c "$T/conf" $cmd 2>&1)
	RC=$?
	check "admin $cmd over a crafted store: fails (exit $RC)" test "$RC" -eq 1
	check "admin $cmd: no memory error in root" \
	    sh -c '! printf "%s" "$0" | grep -Eq "AddressSanitizer|runtime error|Invalid write"' "$OUT"
	check "admin $cmd: says the store was not read" \
	    sh -c 'printf "%s" "$0" | grep -Eq "not read to the end|store .*: "' "$OUT"
done
check "a failed backup leaves nothing behind" test ! -e "$T/bk"
cp "$T/data.saved" "$D"
chown "$U" "$D"
admin show "$U"
check "admin show after the repair reads the store (exit $RC)" test "$RC" -eq 0
admin backup --user "$U" "$T/bk"
check "admin backup --user works (exit $RC)" test "$RC" -eq 0
check "the backup belongs to root, mode 0600" \
    test "$(stat -c '%U %a' "$T/bk/data.mdb")" = "root 600"
check "the backup is data.mdb alone" test "$(ls "$T/bk")" = "data.mdb"
admin generate "$U" -y -n 3 -o "$T/gen.txt"
check "admin generate -o works (exit $RC)" test "$RC" -eq 0
check "the file of generate -o belongs to the administrator" \
    test "$(stat -c '%U %a' "$T/gen.txt")" = "root 600"
admin show "$U" --bogus
check "a usage error in the child: exit 2, no store message (exit $RC)" \
    sh -c '[ "$0" -eq 2 ] && ! printf "%s" "$1" | grep -Eq "not read|reader"' "$RC" "$OUT"

# A user can hold an exclusive lock on their own lock.mdb (LMDB then waits
# with F_SETLKW) or stop the store's reader: every wait on a store has the
# deadline store_timeout (2 s here).  The walk skips that store and goes
# on, a login fails closed within it, a named-user command gives up.
G=$(id -g "$U")
as_user "$T/pam-recovery" -c "$T/conf" generate -y -n 10 --format csv >"$T/codes2.csv" 2>&1
setpriv --reuid="$U" --regid="$G" --init-groups perl -MFcntl -e '
	open(my $f, "+<", $ARGV[0]) or die "open: $!";
	my $l = pack("ssx4qqix4", F_WRLCK, 0, 0, 0, 0);
	fcntl($f, F_SETLK, $l) or die "lock: $!";
	$| = 1; print "locked\n"; sleep 60;' "$H/.pam-recovery/lock.mdb" >"$T/locker" 2>&1 &
LOCKER=$!
n=0
while ! grep -q locked "$T/locker" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check "the user holds an exclusive lock on lock.mdb" grep -q locked "$T/locker"
# The bound is store_timeout plus the programs' own start-up: seconds
# plainly, far more under valgrind on a busy machine.  It shows a wait
# that ends, not a speed.
if [ -n "$VG" ]; then LIMIT=30; else LIMIT=5; fi
t0=$(date +%s)
admin list
t1=$(date +%s)
check "list with a held store lock: fails for that store (exit $RC)" test "$RC" -eq 1
check "list: names the store it skipped" has "$H/.pam-recovery: skipped: no answer within 2 seconds"
check "list: ends within the deadline ($((t1 - t0)) s)" test $((t1 - t0)) -le "$LIMIT"
t0=$(date +%s)
admin show "$U"
t1=$(date +%s)
check "show with a held store lock: fails within the deadline (exit $RC, $((t1 - t0)) s)" \
    sh -c '[ "$0" -eq 1 ] && [ "$1" -le "$2" ]' "$RC" $((t1 - t0)) "$LIMIT"
t0=$(date +%s)
login "$(code 1 "$T/codes2.csv")"
t1=$(date +%s)
check "a login with a held store lock: PAM_AUTHINFO_UNAVAIL within the deadline ($((t1 - t0)) s)" \
    sh -c '[ "$0" -le "$2" ] && printf "%s" "$1" | grep -q "cannot retrieve authentication info"' \
    $((t1 - t0)) "$OUT" "$LIMIT"
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
check "no store reader is left behind" sh -c '! pgrep -u "$0" >/dev/null' "$U"
login "$(code 1 "$T/codes2.csv")"
check "once the lock is let go, the code works" test "$RC" -eq 0

# A closed output (head(1) had its line) is not a corrupt store: the
# tool ends quietly, as any filter would.
for cmd in "audit" "list" "check --json"; do
	# shellcheck disable=SC2086
	{ sleep 0.3; "$BIN/pam-recovery-admin" -c "$T/conf" $cmd 2>"$T/err"; echo $? >"$T/rc"; } | :
	OUT=$(cat "$T/err")
	check "admin $cmd into a closed pipe: ends by SIGPIPE, says nothing (exit $(cat "$T/rc"))" \
	    sh -c '[ "$0" -eq 141 ] && [ -z "$1" ]' "$(cat "$T/rc")" "$OUT"
	# shellcheck disable=SC2086
	OUT=$("$BIN/pam-recovery-admin" -c "$T/conf" $cmd 2>&1 | head -1)
	check "admin $cmd | head -1: no word of a corrupt store" hasnt "corrupt"
done

# The store work of a login runs in pam-recovery-store, spawned with its
# socket and nothing else of the host: not the host's descriptors (here an
# open /etc/shadow), memory or environment.  The host never maps the store;
# the helper is the user, and dies with the host.
mkfifo "$T/fifo"
# shellcheck disable=SC2016
LD_PRELOAD="${SAN_PRELOAD:-}" SECRET=1 sh -c 'exec 7</etc/shadow; exec pamtester "$0" "$1" authenticate' \
    "$SVC" "$U" <"$T/fifo" >"$T/pt.out" 2>&1 &
PT=$!
exec 8>"$T/fifo"
HP=
n=0
while [ -z "$HP" ] && [ $n -lt 100 ]; do
	HP=$(pgrep -u "$U" -f '^pam-recovery-store$' | head -1)
	[ -z "$HP" ] && sleep 0.1
	n=$((n + 1))
done
OUT=$(ls -l "/proc/$HP/fd" 2>&1; cat "/proc/$HP/status" 2>&1)
check "the store helper runs while the host prompts (pid ${HP:-none})" test -n "$HP"
check "the helper's parent is the host" test "$(ps -o ppid= -p "$HP" | tr -d ' ')" = "$PT"
check "the helper is the user" test "$(ps -o user= -p "$HP" | tr -d ' ')" = "$U"
# shellcheck disable=SC2016
check "the helper holds its socket, /dev/null and its store's files, nothing else" \
    sh -c 'for fd in $(ls "/proc/$0/fd"); do t=$(readlink "/proc/$0/fd/$fd");
	case "$fd:$t" in 0:socket:*|1:/dev/null|2:/dev/null|*:"$1"/*.mdb) ;; *) exit 1;; esac; done' \
    "$HP" "$H/.pam-recovery"
check "its descriptor 0 is the socket" sh -c 'readlink "/proc/$0/fd/0" | grep -q "^socket:"' "$HP"
check "the host's /etc/shadow is not the helper's" sh -c '! ls -l "/proc/$0/fd" | grep -q shadow' "$HP"
check "the helper has an empty environment" test ! -s "/proc/$HP/environ"
check "the helper maps the store" grep -q "$H/.pam-recovery/data.mdb" "/proc/$HP/maps"
check "the host never maps the store" sh -c '! grep -q "data.mdb" "/proc/$0/maps"' "$PT"
kill -9 "$PT"
wait "$PT" 2>/dev/null
exec 8>&-
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
n=0
while ! gone "$HP" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check "the helper dies with its host (kill -9)" gone "$HP"

# The module runs the helper only from a file of root's that nobody else
# may write, never through a symbolic link.
cp "$BIN/pam-recovery-store" "$T/helper"
chmod 0755 "$T/helper"
hl() { printf 'auth required %s conf=%s store_helper=%s\n' "$BIN/pam_recovery.so" "$T/conf" "$1" >"/etc/pam.d/$SVC-h"
	OUT=$(printf '%s\n' "$(code 2 "$T/codes2.csv")" | LD_PRELOAD="${SAN_PRELOAD:-}" pamtester "$SVC-h" "$U" authenticate 2>&1); RC=$?; }
chmod 0775 "$T/helper"
hl "$T/helper"
check "a group-writable helper is not run: PAM_AUTHINFO_UNAVAIL" has "cannot retrieve authentication info"
chmod 0755 "$T/helper"
chown "$U" "$T/helper"
hl "$T/helper"
check "a helper of the user's is not run" has "cannot retrieve authentication info"
chown root "$T/helper"
ln -s "$T/helper" "$T/helper.link"
hl "$T/helper.link"
check "a helper reached through a symlink is not run" has "cannot retrieve authentication info"
hl "$T/helper"
check "a helper of root's, mode 0755, is run: the code works" test "$RC" -eq 0
rm -f "/etc/pam.d/$SVC-h"

# The helper is not setuid: a user who runs it with a job of their own
# (here: become root, read root's store) stays the user and gets nothing.
# shellcheck disable=SC2016
perl -e 'print pack("N/a*", pack("a4 C N N N n/a* n/a* C N n/a* C n/a* C n/a* C n/a* C C",
	"PRSJ", 1, 0, 0, 1, "/root", "/etc/security/pam_recovery.conf", 0, 0,
	"root", 0, "", 0, "", 0, "", 0, 0))' >"$T/job"
as_user "$BIN/pam-recovery-store" <"$T/job" >/dev/null 2>&1
check "run by a user, the helper cannot become root (exit 111)" test $? -eq 111

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
