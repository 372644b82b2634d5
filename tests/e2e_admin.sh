#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_admin.sh: pam-recovery-admin on a system store in a temporary directory,
# owned by whoever runs the test (root, or an unprivileged user, which the
# code accepts for a store it owns), with logins through the real libpam.
set -u
suite=e2e_admin
. tests/lib.sh
skip_under_valgrind

# The PDF sheets go through cairo: fontconfig's allocations kept until exit
# are suppressed, as in e2e_helper, and only those.
[ -n "$VG" ] && VG="$VG --suppressions=$(pwd)/tests/valgrind.supp"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ME=$(id -un)
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1
# A second user of the password database, for a second set of codes.
U2=$(getent passwd | cut -d: -f1 | grep -vx "$ME" | head -n 1)
mkdir "$T/pam.d"
mkdir -m 0700 "$T/sys"
cat >"$T/conf" <<CONF
# A system store with tiny argon2 limits, set the way an administrator would.
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt"

# admin ARGS...: stdout in $OUT, stderr in $ERR, exit status in $RC.
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
	sancheck
}
# Under ASan/UBSan a report fails the test even where the status is not checked.
sancheck() {
	if printf '%s\n' "$ERR" | grep -qE 'Sanitizer|runtime error:'; then
		failed "sanitizers clean: pam-recovery-admin" "$ERR"
	fi
}
err_has() { printf '%s\n' "$ERR" | grep -qF -- "$1"; }
# json_ok: the output is one JSON document (checked with jq when present).
json_ok() {
	if command -v jq >/dev/null; then
		printf '%s\n' "$OUT" | jq -e . >/dev/null 2>&1
	else
		printf '%s\n' "$OUT" | head -c 1 | grep -q '[[{]'
	fi
}
login() { pamrun rt "$1" auth -- "$2"; }
count() { printf '%s\n' "$OUT" | grep -c -- "$1"; }

# Well-formed codes that no user of the test store holds.
cat >"$T/other.conf" <<CONF
store = $T/other
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/other.conf"
mkdir -m 0700 "$T/other"
"$BIN/pam-recovery-admin" -c "$T/other.conf" generate "$ME" -n 20 --format csv >"$T/wrong.csv" 2>/dev/null
wrong() { code "$1" "$T/wrong.csv"; }

# --- usage -------------------------------------------------------------------
admin
check "no command: exit 2" test "$RC" -eq 2
admin frobnicate
check "unknown command: exit 2" test "$RC" -eq 2
admin show
check "show without USER: exit 2" test "$RC" -eq 2
admin list extra
check "list with an extra argument: exit 2" test "$RC" -eq 2
admin audit --since yesterday
check "audit --since with a bad date: exit 2" test "$RC" -eq 2
VERSION=$(sed -n '1{s/^[^ ]* [(]//;s/[)].*//;p;}' debian/changelog)
admin --version
check "--version: name and the version of debian/changelog ($VERSION), exit 0" \
    test "$RC/$OUT" = "0/pam-recovery-admin $VERSION"
admin --help
check "--help: exit 0, on stdout" sh -c '[ "$0" -eq 0 ] && printf "%s\n" "$1" | grep -q "COMMAND --help"' "$RC" "$OUT"
# Every command answers --help with its own usage on stdout, also where
# it would otherwise want USER first or a configuration that is missing.
for c in list show history generate invalidate unlock audit check calibrate backup purge; do
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/no-such.conf" $c --help 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
	check "$c --help: exit 0, its usage on stdout, nothing on stderr" \
	    sh -c '[ "$0" -eq 0 ] && printf "%s\n" "$1" | head -n 1 | grep -q "^usage: pam-recovery-admin \[options\] $2 " && test -z "$3"' "$RC" "$OUT" "$c" "$ERR"
	check "$c --help: describes it" sh -c 'printf "%s\n" "$0" | grep -q "^  $1  "' "$OUT" "$c"
done
admin show "$ME" --help
check "show USER --help: help, exit 0" sh -c '[ "$0" -eq 0 ] && printf "%s\n" "$1" | grep -q "^usage: pam-recovery-admin \[options\] show USER"' "$RC" "$OUT"
admin unlock "$ME" -- --help
check "after --, --help is an argument, not a request for help" test "$RC" -eq 2

# --- generate, list, show, history ---------------------------------------------
admin list
check "list of an empty store: exit 0" test "$RC" -eq 0
admin generate "$ME" -n 5 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
check "generate USER: 5 codes" test "$(grep -c '^[0-9]*,' "$T/codes.csv")" -eq 5
check "the store files are 0600" test "$(stat -c %a "$T/sys/data.mdb")" = 600
admin generate no-such-user-e2e -n 3 --format csv
check "generate for an unknown user: exit 1" test "$RC" -eq 1
check "generate for an unknown user: says so" err_has "no such user"
admin generate "$U2" -n 3 --format json
check "generate --format json" json_ok
admin list
check "list: both users" sh -c 'printf "%s\n" "$0" | grep -q "^$1 .*5/5" && printf "%s\n" "$0" | grep -q "^$2 .*3/3"' "$OUT" "$ME" "$U2"
admin list --json
check "list --json: a JSON array" json_ok
check "list --json: two users" test "$(count '"user":')" -eq 2
admin show "$ME" --json
check "show --json: 5 remaining" test "$(json_field remaining)" = 5
# A document that could not be written is a failure, not a silent success.
for c in "show $ME" list "audit --user $ME" check; do
	# shellcheck disable=SC2086 # c is the command and its arguments
	$VG "$BIN/pam-recovery-admin" -c "$T/conf" $c --json >/dev/full 2>"$T/err"
	RC=$?
	ERR=$(cat "$T/err")
	check "$c --json to a full disk: exit 1, said" sh -c 'test "$0" -eq 1 && printf "%s\n" "$1" | grep -q "standard output: "' "$RC" "$ERR"
done

login "$ME" "$(code 1 "$T/codes.csv")"
check "a code issued by the admin logs in" has "auth: PAM_SUCCESS"
admin show "$ME"
check "show: as the user sees it" has "4 of 5 left"
admin list --json
check "list: last use recorded" sh -c 'printf "%s\n" "$0" | grep "\"user\":\"$1\"" | grep -qv "\"last_used\":0,"' "$OUT" "$ME"
admin history "$ME"
check "history USER: exit 0" test "$RC" -eq 0
check "history USER: the batch card" has "1 used"
admin history "$ME" --json
check "history --json" json_ok

# --- invalidate ----------------------------------------------------------------
admin invalidate "$ME" 2
check "invalidate USER 2: exit 0" test "$RC" -eq 0
admin show "$ME" --json
check "invalidate: 3 remaining" test "$(json_field remaining)" = 3
login "$ME" "$(code 2 "$T/codes.csv")"
check "the invalidated code is refused" has "auth: PAM_AUTH_ERR"
admin invalidate "$ME" 99
check "invalidate a slot that does not exist: exit 1" test "$RC" -eq 1
admin invalidate "$ME"
check "invalidate without slots: exit 2" test "$RC" -eq 2

# --- lockout and unlock ---------------------------------------------------------
for i in 1 2 3 4 5; do login "$ME" "$(wrong "$i")"; done
check "5 wrong codes lock" has "Try again in"
admin show "$ME" --json
check "show: locked" test "$(json_field lock_remaining)" -gt 0
admin list --json
check "list: locked until" sh -c 'printf "%s\n" "$0" | grep "\"user\":\"$1\"" | grep -qv "\"locked_until\":0}"' "$OUT" "$ME"
login "$ME" "$(code 3 "$T/codes.csv")"
check "while locked a valid code is refused" has "auth: PAM_AUTH_ERR"
if [ "$ROOT" -eq 1 ]; then
	# sudo leaves SUDO_USER for the administrator behind it.
	OUT=$(SUDO_USER=helpdesk $VG "$BIN/pam-recovery-admin" -c "$T/conf" unlock "$ME" 2>&1)
	RC=$?
	ACTOR=helpdesk
else
	# Only root's SUDO_USER is believed.
	OUT=$(SUDO_USER=helpdesk $VG "$BIN/pam-recovery-admin" -c "$T/conf" unlock "$ME" 2>&1)
	RC=$?
	ACTOR=$ME
fi
vgcheck pam-recovery-admin
check "unlock USER: exit 0" test "$RC" -eq 0
check "unlock USER: says what it cleared" has "Unlocked $ME"
admin show "$ME" --json
check "unlock: no lock, no failures" test "$(json_field lock_remaining)/$(json_field failures)" = 0/0
login "$ME" "$(code 3 "$T/codes.csv")"
check "after unlock the next valid code works" has "auth: PAM_SUCCESS"
admin unlock never-seen-user
check "unlock a user the store does not know: exit 1" test "$RC" -eq 1

# --- audit --------------------------------------------------------------------
admin audit
check "audit: exit 0" test "$RC" -eq 0
for ev in generated code_used invalidated code_rejected locked unlocked; do
	check "audit shows $ev" sh -c 'printf "%s\n" "$0" | grep -q "^[0-9T:-]*Z $1 "' "$OUT" "$ev"
done
check "audit: generate names the administrator ($ME)" sh -c 'printf "%s\n" "$0" | grep " generated " | grep -q "actor=$1 "' "$OUT" "$ME"
check "audit: unlock names the administrator ($ACTOR)" sh -c 'printf "%s\n" "$0" | grep " unlocked " | grep -q "actor=$1 "' "$OUT" "$ACTOR"
check "audit: a login names its service and rhost" sh -c 'printf "%s\n" "$0" | grep " code_used " | grep -q "service=rt rhost=127.0.0.1"' "$OUT"
all=$(printf '%s\n' "$OUT" | wc -l)
admin audit --json
check "audit --json: a JSON array" json_ok
check "audit --json: as many events as the text" test "$(count '"event":')" -eq "$all"
admin audit --user "$U2"
check "audit --user: only that user" sh -c 'test -n "$0" && ! printf "%s\n" "$0" | grep -v "user=$1 "' "$OUT" "$U2"
admin audit --since 2000-01-01
check "audit --since a date before: everything" test "$(printf '%s\n' "$OUT" | wc -l)" -eq "$all"
admin audit --since 2999-01-01T00:00:00 --json
check "audit --since a date after: an empty array" test "$(printf '%s' "$OUT" | tr -d '\n')" = "[]"
admin audit --purge --json
check "audit --purge with a listing option: exit 2" test "$RC" -eq 2
admin audit --purge --older-than 1
check "audit --purge --older-than 1: nothing is that old" has "Deleted 0 audit events"
all=$((all + 1))
# Every event so far is older than the next second.
sleep 1
admin audit --purge --older-than 0 --dry-run
check "audit --purge --dry-run: counts the events" has "Would delete $all audit events"
admin audit
check "audit --purge --dry-run: deletes nothing" test "$(printf '%s\n' "$OUT" | wc -l)" -eq "$all"
admin audit --purge --older-than 0
check "audit --purge --older-than 0: deletes them" has "Deleted $all audit events"
admin audit
check "audit --purge: what is left is the record of it, naming the administrator" \
    sh -c 'test "$(printf "%s\n" "$0" | wc -l)" -eq 1 && printf "%s\n" "$0" | grep -q " purged .* actor=$1 detail=\"deleted $2 "' "$OUT" "$ME" "$all"

# --- check ----------------------------------------------------------------------
admin check
check "check: exit 0" test "$RC" -eq 0
check "check: 0 failures" has "0 failures"
check "check: reports the hash time" has "hash cost"
admin check --json
check "check --json: ok" sh -c 'printf "%s" "$0" | jq -e ".ok == true and (.checks | length) > 4" >/dev/null 2>&1 || ! command -v jq >/dev/null' "$OUT"
chmod 0750 "$T/sys"
admin check
check "check: a group-readable store fails, exit 1" test "$RC" -eq 1
check "check: the FAIL line names the store" sh -c 'printf "%s\n" "$0" | grep -q "^FAIL  $1"' "$OUT" "$T/sys"
chmod 0700 "$T/sys"
cp "$T/conf" "$T/bad.conf"
echo "frobnicate = 1" >>"$T/bad.conf"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/bad.conf" check 2>/dev/null)
RC=$?
vgcheck pam-recovery-admin
check "check: a bad configuration fails, exit 1" test "$RC" -eq 1
check "check: the FAIL line names the key" sh -c 'printf "%s\n" "$0" | grep "^FAIL  configuration" | grep -q frobnicate' "$OUT"
sed 's/^store = .*/store = '"$(printf '%s' "$T" | sed 's/[\/&]/\\&/g')"'\/sys\ncode_length = 10/' "$T/conf" >"$T/weak.conf"
chmod 0644 "$T/weak.conf"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/weak.conf" check 2>/dev/null)
RC=$?
vgcheck pam-recovery-admin
check "check: a 45-bit format warns" sh -c 'printf "%s\n" "$0" | grep -q "^WARN  code format"' "$OUT"
printf 'store = %s/sys\ncode_alphabet = digits\ncode_length = 12\n' "$T" >"$T/weak.conf"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/weak.conf" check 2>/dev/null)
RC=$?
vgcheck pam-recovery-admin
check "check: a format under 40 bits fails, exit 1" test "$RC" -eq 1

# --- strings from a store are escaped in every output ---------------------------
# A store of its own, with what a user's login or a crafted store can put
# in: a name that clears the screen and forges a line, escapes in every
# field of an event.
ESC=$(printf '\033')
EVIL=$(printf 'evil\033[2J\nroot 9999 codes')
mkdir -m 0700 "$T/hostile"
sed "s|^store = .*|store = $T/hostile|" "$T/conf" >"$T/hostile.conf"
chmod 0644 "$T/hostile.conf"
hostile() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/hostile.conf" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
	sancheck
}
# clean: neither stdout nor stderr holds a raw ESC or a forged line.
clean() {
	! printf '%s\n%s\n' "$OUT" "$ERR" | grep -q -e "$ESC" -e '^root 9999'
}
"$BIN/storeplant" "$T/hostile" event "$EVIL" "$(printf 'ss\033]0;x\007h')" "$(printf '203.0.113.9\r\nx')" "$(printf 'a "detail"\033[31m')"
"$BIN/storeplant" "$T/hostile" batch "$EVIL"
"$BIN/storeplant" "$T/hostile" user "$(printf 'u\033[1A')"
hostile audit
check "escaped: audit shows the events (exit $RC)" test "$RC" -eq 0 -a "$(count ' code_used ')" -eq 1
check "escaped: audit has no raw ESC and no forged line" clean
check "escaped: audit shows the escapes (vis)" has 'user=evil\033[2J\nroot\s9999\scodes service=ss\033]0;x\ah rhost=203.0.113.9\r\nx '
check "escaped: audit keeps the detail quoted" has 'detail="a \"detail\"\033[31m"'
hostile audit --json
check "escaped: audit --json is JSON" json_ok
check "escaped: audit --json has no raw ESC" clean
check "escaped: audit --json gives the name back exactly" \
    test "$(printf '%s' "$OUT" | jq -r '.[0].user')" = "$EVIL"
hostile list
check "escaped: list has no raw ESC and no forged line" clean
check "escaped: list names the user escaped" has 'evil\033[2J\nroot\s9999\scodes'
check "escaped: list warns about the broken record, escaped" err_has 'u\033[1A: '
hostile list --json
check "escaped: list --json has no raw ESC" clean
hostile check --deep
check "escaped: check --deep fails on the crafted record (exit $RC)" test "$RC" -eq 1
check "escaped: check --deep has no raw ESC" clean
check "escaped: check --deep names the user escaped" has "user u\\033[1A, batch 0000000000005eed: the user's active batch does not exist"
hostile check --deep --json
check "escaped: check --deep --json is JSON without a raw ESC" sh -c 'printf "%s" "$0" | jq -e .checks >/dev/null && ! printf "%s" "$0" | grep -q "$1"' "$OUT" "$ESC"
hostile show "$EVIL"
check "escaped: show has no raw ESC" clean
hostile history "$EVIL"
check "escaped: history has no raw ESC" clean
hostile unlock "$EVIL"
check "escaped: unlock has no raw ESC" clean

# --- calibrate ------------------------------------------------------------------
admin calibrate --target-ms 1 --max-memory 8M
check "calibrate: exit 0" test "$RC" -eq 0
check "calibrate: suggests kdf_opslimit" has "kdf_opslimit = "
check "calibrate: suggests kdf_memlimit" has "kdf_memlimit = 8M"
check "calibrate: states the memory per login" has "Each login attempt holds 8M"
admin calibrate --target-ms 0
check "calibrate --target-ms 0: exit 2" test "$RC" -eq 2

# --- privileges -------------------------------------------------------------------
if [ "$ROOT" -eq 1 ]; then
	chmod 0755 "$T"
	OUT=$(runuser -u nobody -- "$BIN/pam-recovery-admin" -c "$T/conf" unlock "$ME" 2>&1)
	RC=$?
	chmod 0700 "$T"
else
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" -s "$T/notmine" unlock "$ME" 2>&1)
	RC=$?
fi
check "not root: a state-changing command is refused, exit 1" test "$RC" -eq 1
check "not root: the message says to run it as root" has "run it as root"

# --- backup while logins go on ------------------------------------------------------
admin generate "$U2" -y -n 40 --format csv
printf '%s\n' "$OUT" >"$T/u2.csv"
loop() {
	i=$1
	while [ "$i" -le "$2" ]; do
		# Under valgrind too, so that the logins keep pace with the backups.
		$VG "$BIN/pamdrive" "$T/pam.d" rt "$U2" auth -- "$(code "$i" "$T/u2.csv")" >>"$T/loop.out" 2>&1
		i=$((i + 1))
	done
}
loop 1 20 &
p1=$!
loop 21 40 &
p2=$!
# The first copy once a login went through, so that it falls among them
# however fast a login is (bounded: 10 s).
w=0
while [ "$w" -lt 1000 ] && ! grep -q 'auth: PAM_SUCCESS' "$T/loop.out" 2>/dev/null; do
	w=$((w + 1))
	sleep 0.01
done
n=0
while [ "$n" -lt 8 ]; do
	n=$((n + 1))
	admin backup "$T/bk.$n"
	[ "$RC" -eq 0 ] || break
	kill -0 "$p1" 2>/dev/null || kill -0 "$p2" 2>/dev/null || break
	sleep 0.05
done
wait "$p1" "$p2"
check "backup during logins: exit 0 ($n copies)" test "$RC" -eq 0
check "all 40 logins during the backups succeeded" test "$(grep -c 'auth: PAM_SUCCESS' "$T/loop.out")" -eq 40
check "backup: directory 0700, data.mdb 0600, no lock file" \
    test "$(stat -c %a "$T/bk.1") $(stat -c %a "$T/bk.1/data.mdb") $(ls "$T/bk.1")" = "700 600 data.mdb"
ok=1
seen=""
mid=0
middir=$T/bk.1
for d in "$T"/bk.*; do
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" check 2>&1) || { ok=0; printf '%s\n' "$OUT"; }
	# A consistent snapshot: the batch, the user and the audit trail agree.
	used=$("$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" show "$U2" --json | sed -n 's/.*"used":\([0-9]*\).*/\1/p')
	left=$("$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" show "$U2" --json | sed -n 's/.*"remaining":\([0-9]*\).*/\1/p')
	ev=$("$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" audit --user "$U2" | grep -c " code_used ")
	seen="$seen $used"
	[ "$used" -gt 0 ] && [ "$used" -lt 40 ] && mid=1 && middir=$d
	if [ "$((used + left))" -ne 40 ] || [ "$ev" -ne "$used" ]; then
		ok=0
		echo "# $d: used $used, left $left, code_used events $ev"
	fi
	# What nobody touched during the backup is exactly the same.
	a=$("$BIN/pam-recovery-admin" -c "$T/conf" show "$ME" --json)
	b=$("$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" show "$ME" --json)
	[ "$a" = "$b" ] || { ok=0; echo "# $d: $a != $b"; }
done
check "every copy passes check and is consistent" test "$ok" -eq 1
check "a copy was taken while the logins went on (codes used in the copies:$seen)" test "$mid" -eq 1
# A copy is a working store of its own: in one taken half-way, a code used
# before it was taken is refused, and one used only since logs in.
d=$middir
"$BIN/pam-recovery-admin" -c "$T/conf" -s "$d" audit --user "$U2" |
    sed -n 's/.* code_used .* slot=\([0-9]*\) .*/\1/p' >"$T/used.slots"
unused=$(seq 1 40 | grep -vxF -f "$T/used.slots" | head -n 1)
usedslot=$(head -n 1 "$T/used.slots")
sed "s|^store = .*|store = $d|" "$T/conf" >"$T/bk.conf"
chmod 0644 "$T/bk.conf"
echo "auth required $BIN/pam_recovery.so conf=$T/bk.conf" >"$T/pam.d/rt-bk"
if [ -n "$unused" ]; then
	pamrun rt-bk "$U2" auth -- "$(code "$unused" "$T/u2.csv")"
	check "the copy accepts a code used only after it was taken (#$unused)" has "auth: PAM_SUCCESS"
fi
if [ -n "$usedslot" ]; then
	pamrun rt-bk "$U2" auth -- "$(code "$usedslot" "$T/u2.csv")"
	check "the copy refuses a code used before it was taken (#$usedslot)" has "auth: PAM_AUTH_ERR"
fi
before=$(ls -la --time-style=full-iso "$T/bk.1")
admin backup "$T/bk.1"
check "backup onto an existing directory: exit 1" test "$RC" -eq 1
check "backup onto an existing directory: says so, changes nothing" sh -c 'printf "%s\n" "$0" | grep -q "already exists" && test "$1" = "$(ls -la --time-style=full-iso "$2")"' "$ERR" "$before" "$T/bk.1"
OUT=$(umask 0277; $VG "$BIN/pam-recovery-admin" -c "$T/conf" backup "$T/bk.umask" 2>&1)
check "backup under umask 0277: still 0700 and 0600" \
    test "$(stat -c %a "$T/bk.umask") $(stat -c %a "$T/bk.umask/data.mdb")" = "700 600"
admin backup --user "$ME" "$T/bk.x"
check "backup --user with a system store: exit 1" test "$RC" -eq 1

# --- a per-user pattern -------------------------------------------------------------
# As root the admin acts with the user's identity: the store must belong to
# the user.  Without root, the caller's own store.
if [ "$ROOT" -eq 1 ]; then PU=nobody; else PU=$ME; fi
mkdir -m 1777 "$T/pu"
[ "$ROOT" -eq 1 ] && chmod 0755 "$T"
printf 'store = %s/pu/%%u.store\nkdf_opslimit = 1\nkdf_memlimit = 8K\n' "$T" >"$T/pu.conf"
chmod 0644 "$T/pu.conf"
pu() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/pu.conf" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
	sancheck
}
pu generate "$PU" -n 4 --format csv
printf '%s\n' "$OUT" >"$T/pu.csv"
check "per-user: generate USER: 4 codes" test "$(grep -c '^[0-9]*,' "$T/pu.csv")" -eq 4
check "per-user: the store and its files belong to $PU" \
    test "$(stat -c %U "$T/pu/$PU.store" "$T/pu/$PU.store/data.mdb" "$T/pu/$PU.store/lock.mdb" | sort -u)" = "$PU"
pu generate "$PU" -y -n 4 --format csv -o "$T/pu.out.csv"
check "per-user: generate -o writes the file as the administrator" \
    test "$(stat -c '%U %a' "$T/pu.out.csv")" = "$ME 600"
check "per-user: ... and the store stays the user's" \
    test "$(stat -c %U "$T/pu/$PU.store" "$T/pu/$PU.store/data.mdb" "$T/pu/$PU.store/lock.mdb" | sort -u)" = "$PU"
pu list --json
check "per-user: list finds the store" sh -c 'printf "%s\n" "$0" | grep -q "\"user\":\"$1\".*\"remaining\":4"' "$OUT" "$PU"
pu check
check "per-user: check passes" test "$RC" -eq 0
pu unlock "$PU"
check "per-user: unlock" test "$RC" -eq 0
pu audit --user "$PU"
check "per-user: audit names the administrator" sh -c 'printf "%s\n" "$0" | grep " unlocked " | grep -q "actor=$1 "' "$OUT" "$ME"
check "per-user: still owned by $PU after every command" \
    test "$(stat -c %U "$T/pu/$PU.store" "$T/pu/$PU.store/data.mdb" "$T/pu/$PU.store/lock.mdb" | sort -u)" = "$PU"
pu backup "$T/pu.bk"
check "per-user: backup needs --user" test "$RC" -eq 1
pu backup --user "$PU" "$T/pu.bk"
check "per-user: backup --user USER DEST" test "$RC" -eq 0
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" -s "$T/pu.bk" check 2>&1)
check "per-user: the copy belongs to the administrator and passes check" \
    sh -c 'test "$(stat -c %u "$1")" = "$(id -u)" && printf "%s\n" "$0" | grep -q "all readable" && printf "%s\n" "$0" | grep -q "0 failures"' "$OUT" "$T/pu.bk"

# A user can write anything into their own store, also events about someone
# else: they are the owner's, and flagged as forged.
plant_pu() {
	if [ "$ROOT" -eq 1 ]; then
		runuser -u "$PU" -- "$BIN/storeplant" "$T/pu/$PU.store" "$@"
	else
		"$BIN/storeplant" "$T/pu/$PU.store" "$@"
	fi
}
plant_pu event "$U2" sshd 203.0.113.9 ""
plant_pu event "$EVIL" sshd 203.0.113.9 ""
plant_pu batch "$EVIL"
pu audit
check "forged: audit shows the events as the owner's" \
    sh -c 'test "$(printf "%s\n" "$0" | grep -c " code_used user=$1 forged=")" -eq 2' "$OUT" "$PU"
check "forged: no line speaks as $U2" sh -c '! printf "%s\n" "$0" | grep -q "user=$1 "' "$OUT" "$U2"
check "forged: the claimed name is shown, escaped" has "forged=evil\\033[2J\\nroot\\s9999\\scodes"
check "forged: no raw ESC, no forged line" clean
check "forged: a warning counts them" err_has "4 events in a user's own store name another user"
pu audit --user "$PU"
check "forged: audit --user flags them too" \
    sh -c 'printf "%s\n" "$0" | grep -q " code_used user=$1 forged=$2 service=sshd rhost=203.0.113.9 "' "$OUT" "$PU" "$U2"
pu audit --json
check "forged: audit --json is JSON" json_ok
check "forged: audit --json marks them" \
    test "$(printf '%s' "$OUT" | jq -r '[.[] | select(.forged) | .user + ">" + .claimed_user] | .[0]')" = "$PU>$U2"
check "forged: audit --json: the others are not forged" \
    test "$(printf '%s' "$OUT" | jq '[.[] | select(.forged == false and .user == "'"$PU"'")] | length')" -gt 0
pu check --deep
check "forged: check --deep fails on records under another name" \
    sh -c 'test "$2" -eq 1 && printf "%s\n" "$0" | grep -q "^FAIL .*: user evil.*a record under another user.s name in $1.s own store"' "$OUT" "$PU" "$RC"
check "forged: check --deep has no raw ESC" clean
sleep 1
pu purge --retention-days 0 --report
check "forged: the purge report gives the records to $PU and marks them" \
    sh -c 'printf "%s\n" "$0" | grep -q "^  $1 .* (forged records for evil\\\\033\[2J\\\\nroot\\\\s9999\\\\scodes)"' "$OUT" "$PU"
check "forged: the purge report has no raw ESC, no forged line" clean

# --- advice that fits the store (#12): users of a system store ask the admin --
# (No pam-recovery-selfd: a socket path of the test's own that is not there.)
{ sed "s|^store = .*|store = $T/advsys|" "$T/conf"; echo "self_socket = $T/no-self.sock"; } >"$T/adv.conf"
chmod 0644 "$T/adv.conf"
printf 'auth required %s conf=%s\naccount optional %s conf=%s\n' \
    "$BIN/pam_recovery.so" "$T/adv.conf" "$BIN/pam_recovery.so" "$T/adv.conf" >"$T/pam.d/rt-adv"
"$BIN/pam-recovery-admin" -c "$T/adv.conf" generate "$ME" -y -n 2 --format csv >"$T/adv.csv" 2>/dev/null
pamrun rt-adv "$ME" account
check "system store, account: no 'never tested' (its user cannot run verify)" hasnt "never tested"
pamrun rt-adv "$ME" auth account -- "$(code 1 "$T/adv.csv")"
check "system store, a code used: PAM_SUCCESS" has "auth: PAM_SUCCESS"
check "system store, few codes left: ask the administrator" has "Ask your administrator for new codes soon."
check "system store: never pointed at pam-recovery generate" hasnt "pam-recovery generate"
pamrun rt-adv "$ME" auth -- "$(code 2 "$T/adv.csv")"
check "system store, the last code: ask the administrator now" \
    has "that was your LAST recovery code. Ask your administrator for new ones now."
pamrun rt-adv "$ME" account
check "system store, none left: ask the administrator" \
    has "You have no usable recovery codes. Ask your administrator for some."
check "system store, none left: not pointed at pam-recovery generate" hasnt "pam-recovery generate"

# The printed sheets say so too: a system store's user cannot run
# pam-recovery verify or generate on its codes.  sheet CONF ARGS...: the
# admin tool with configuration CONF, like admin.
sheet() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
	sancheck
}
{ cat "$T/adv.conf"; echo "admin_email = boss@example.org"; } >"$T/adv-mail.conf"
chmod 0644 "$T/adv-mail.conf"
sheet "$T/adv.conf" generate "$ME" -y -n 3 --format txt
check "system store, txt sheet: exit 0" test "$RC" -eq 0
check "system store, txt sheet: ask the administrator" has "When few are left, ask your administrator for new ones."
check "system store, txt sheet: no pam-recovery command" hasnt "pam-recovery"
sheet "$T/adv-mail.conf" generate "$ME" -y -n 3 --format txt
check "system store, txt sheet: names admin_email" \
    has "When few are left, ask your administrator (boss@example.org) for new ones."
# With pam-recovery-selfd (its socket there) the user makes their own.
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/self.sock"
	sed "s|^self_socket = .*|self_socket = $T/self.sock|" "$T/adv.conf" >"$T/adv-self.conf"
	chmod 0644 "$T/adv-self.conf"
	sheet "$T/adv-self.conf" generate "$ME" -y -n 3 --format txt
	check "system store with self-service, txt sheet: exit 0" test "$RC" -eq 0
	check "system store with self-service, txt sheet: no administrator line" hasnt "administrator"
fi
sheet "$T/pu.conf" generate "$PU" -y -n 3 --format txt
check "per-user store, txt sheet: exit 0" test "$RC" -eq 0
check "per-user store, txt sheet: unchanged, no administrator line" hasnt "administrator"
if command -v pdftotext >/dev/null; then
	# pdftext FILE: the PDF's text on one line, into OUT.
	pdftext() { OUT=$(pdftotext "$1" - | tr '\n' ' ' | tr -s ' '); }
	sheet "$T/adv-mail.conf" generate "$ME" -y -n 3 -o "$T/adv.pdf"
	check "system store, pdf sheet: exit 0" test "$RC" -eq 0
	pdftext "$T/adv.pdf"
	check "system store, pdf sheet: ask the administrator, with admin_email" \
	    has "When few codes are left, ask your administrator (boss@example.org) for new ones"
	check "system store, pdf sheet: no pam-recovery generate" hasnt "pam-recovery generate"
	check "system store, pdf sheet: no pam-recovery verify" hasnt "pam-recovery verify"
	check "system store, pdf sheet: still says how to use the codes" has "type any one unused code"
	sheet "$T/pu.conf" generate "$PU" -y -n 3 -o "$T/pu.pdf"
	check "per-user store, pdf sheet: exit 0" test "$RC" -eq 0
	pdftext "$T/pu.pdf"
	check "per-user store, pdf sheet: pam-recovery verify, as before" has "run: pam-recovery verify"
	check "per-user store, pdf sheet: pam-recovery generate, as before" has "make a new list with: pam-recovery generate"
	check "per-user store, pdf sheet: no administrator line" hasnt "ask your administrator"
else
	echo "ok - printed sheets of a system store # SKIP no pdftotext (poppler-utils)"
fi

# --- one file, several stacks: [service NAME] sections (#12, spec 12) ----------
{ sed '/^store = /d' "$T/conf"; echo "store = $T/gsys"
  echo "[service rt-msudo]"; echo "store = $T/ssys"; echo "max_attempts = 2"; } >"$T/multi.conf"
chmod 0644 "$T/multi.conf"
for n in rt-msudo rt-mother; do
	echo "auth required $BIN/pam_recovery.so conf=$T/multi.conf" >"$T/pam.d/$n"
done
admin -c "$T/multi.conf" generate "$ME" -y -n 3 --format csv
check "two stores in one file, no --service: generate refuses to guess" \
    sh -c '[ "$0" -ne 0 ] && [ -z "$1" ]' "$RC" "$OUT"
check "two stores: the refusal names both stores and the option" \
    sh -c 'printf "%s\n" "$0" | grep -qF "$1  (global settings)" &&
	printf "%s\n" "$0" | grep -qF "$2  ([service rt-msudo]: --service rt-msudo)" &&
	printf "%s\n" "$0" | grep -q "say which with --service NAME"' "$ERR" "$T/gsys" "$T/ssys"
check "two stores: nothing was created" test ! -e "$T/gsys" -a ! -e "$T/ssys"
admin -c "$T/multi.conf" --service rt-msudo generate "$ME" -y -n 3 --format csv
printf '%s\n' "$OUT" >"$T/multi.csv"
check "--service rt-msudo generate: exit 0" test "$RC" -eq 0
check "--service: says which store it writes" err_has "[service rt-msudo]: store $T/ssys"
check "--service: the section's store got the codes, the global one nothing" \
    test -e "$T/ssys/data.mdb" -a ! -e "$T/gsys"
pamrun rt-msudo "$ME" auth -- "$(code 1 "$T/multi.csv")"
check "the module on service rt-msudo uses its section's store" has "auth: PAM_SUCCESS"
pamrun rt-mother "$ME" auth -- "$(code 2 "$T/multi.csv")"
check "the module on another service uses the global store (missing here)" \
    has "auth: PAM_AUTHINFO_UNAVAIL"
for i in 1 2; do pamrun rt-msudo "$ME" auth -- "$(code 1 "$T/multi.csv")"; done
admin -c "$T/multi.conf" --service rt-msudo show "$ME" --json
check "the section's max_attempts = 2 holds at login: locked after 2" \
    sh -c 'printf "%s" "$0" | grep -q "\"lock_remaining\":[1-9]"' "$OUT"
admin -c "$T/multi.conf" show "$ME"
check "two stores, show USER without --service: each store in turn, labelled" \
    sh -c 'printf "%s\n" "$0" | grep -qxF "== store $1 (global settings)" &&
	printf "%s\n" "$0" | grep -qxF "== store $2 ([service rt-msudo])"' "$OUT" "$T/gsys" "$T/ssys"
check "two stores, show: the codes appear under the section's store" \
    sh -c 'printf "%s\n" "$0" | sed -n "/^== store .*ssys/,\$p" | grep -q "Recovery codes for $1: 2 of 3 left"' "$OUT" "$ME"
check "two stores, show: none under the global store" \
    sh -c 'printf "%s\n" "$0" | sed -n "/^== store .*gsys/,/^== store .*ssys/p" | grep -q "No recovery codes for $1"' "$OUT" "$ME"
admin -c "$T/multi.conf" list
check "two stores, list: a heading per store" \
    sh -c 'test "$(printf "%s\n" "$0" | grep -c "^== store ")" -eq 2' "$OUT"
admin -c "$T/multi.conf" show "$ME" --json
check "two stores, show --json without --service: refused (one document)" \
    sh -c '[ "$1" -ne 0 ] && printf "%s" "$0" | grep -q "say which with --service NAME"' "$ERR" "$RC"
admin -c "$T/multi.conf" --service no-such-svc list
check "--service without a section: the global settings, and it says so" \
    err_has "has no [service no-such-svc]: the global settings"
admin -c "$T/multi.conf" --service 'a/b' list
check "--service a/b: usage error" test "$RC" -eq 2
OUT=$("$BIN/pam-recovery" -c "$T/multi.conf" status 2>&1)
RC=$?
check "pam-recovery, two stores, no --service: refuses to guess (exit 1)" \
    sh -c '[ "$1" -eq 1 ] && printf "%s" "$0" | grep -q "say which with --service NAME"' "$OUT" "$RC"
OUT=$("$BIN/pam-recovery" -c "$T/multi.conf" --service rt-msudo status 2>&1)
check "pam-recovery --service rt-msudo: a system store, the administrator's" \
    sh -c 'printf "%s" "$0" | grep -q -e "codes are issued by the administrator" -e "managed by the administrator"' "$OUT"

admin -c "$T/multi.conf" check
check "two stores, check without --service: each store is checked, labelled" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK .*configuration.*global settings, store = $1" &&
	printf "%s\n" "$0" | grep -q "^OK .*configuration.*\[service rt-msudo\], store = $2"' "$OUT" "$T/gsys" "$T/ssys"
check "two stores, check: the section's store is opened and counted" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK .*$1.*opens on a local filesystem; 1 users"' "$OUT" "$T/ssys"
check "two stores, check: the global store, not made yet, is reported by name" \
    sh -c 'printf "%s\n" "$0" | grep -q "^WARN .*$1: does not exist yet"' "$OUT" "$T/gsys"
admin -c "$T/multi.conf" check --json
check "two stores, check --json: one document with both configurations" \
    sh -c 'test "$(printf "%s\n" "$0" | grep -c "\"configuration\"")" -eq 2' "$OUT"

admin -c "$T/multi.conf" --service rt-msudo invalidate "$ME" --all -y
check "--service rt-msudo invalidate: the advice names the service too" \
    has "pam-recovery-admin --service rt-msudo generate $ME"

# --- check reads the PAM stacks (#12 item 2, spec 12) -------------------------
mkdir "$T/pamd" "$T/emptysys"
chmod 0700 "$T/emptysys"
M=$BIN/pam_recovery.so
printf 'auth sufficient %s conf=%s\naccount optional %s conf=%s\n' "$M" "$T/conf" "$M" "$T/conf" >"$T/pamd/stk-ok"
printf 'auth [success=done default=ignore] %s conf=%s store=%s\n' "$M" "$T/conf" "$T/nope" >"$T/pamd/stk-missing"
printf -- '-auth required %s conf=%s store=%s pepper_file=/etc/x.key\n' "$M" "$T/conf" "$T/%u.x" >"$T/pamd/stk-pepper"
printf 'auth required %s conf=%s store=%s nouserok\n' "$M" "$T/conf" "$T/emptysys" >"$T/pamd/stk-empty"
printf 'auth required %s conf=%s no_such_key=1\n' "$M" "$T/conf" >"$T/pamd/stk-badarg"
printf 'auth required pam_unix.so\n# auth required pam_recovery.so\n' >"$T/pamd/stk-other"
printf 'auth sufficient %s conf=%s store=%s\n' "$M" "$T/conf" "$T/%u.x" >"$T/pamd/sudo"
cp "$T/pamd/stk-missing" "$T/pamd/stk-missing~"
admin check --pam-dir "$T/pamd"
check "check --pam-dir: fails (exit 1) on broken stacks" test "$RC" -eq 1
check "check: a stack whose system store exists with codes is OK" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK    $1/stk-ok:1 (auth): system store $2: "' "$OUT" "$T/pamd" "$T/sys"
check "check: the account line of the same store is not checked twice" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK    $1/stk-ok:2 (account): system store $2 (checked above)"' "$OUT" "$T/pamd" "$T/sys"
check "check: a missing system store fails, with the fix" \
    sh -c 'printf "%s\n" "$0" | grep "^FAIL  $1/stk-missing:1 (auth)" | grep -q "does not exist.*reason=missing.*--service stk-missing generate USER"' "$OUT" "$T/pamd"
check "check: a pepper with per-user stores fails" \
    sh -c 'printf "%s\n" "$0" | grep "^FAIL  $1/stk-pepper:1 (-auth)" | grep -q "pepper_file with the per-user store"' "$OUT" "$T/pamd"
check "check: a system store without codes fails" \
    sh -c 'printf "%s\n" "$0" | grep "^FAIL  $1/stk-empty:1" | grep -q "no user has codes"' "$OUT" "$T/pamd"
check "check: a line the module would refuse fails, naming the key" \
    sh -c 'printf "%s\n" "$0" | grep "^FAIL  $1/stk-badarg:1" | grep -q "no_such_key"' "$OUT" "$T/pamd"
check "check: per-user stores for sudo warn (a user's program could replace the codes)" \
    sh -c 'printf "%s\n" "$0" | grep "^WARN  $1/sudo:1 (auth)" | grep -q "which gives root.*\[service sudo\] store ="' "$OUT" "$T/pamd"
check "check: other modules, comments and backup files are not stacks" \
    sh -c '! printf "%s\n" "$0" | grep -q -e stk-other -e "stk-missing~"' "$OUT"
admin check --pam-dir "$T/pamd" --json
check "check --pam-dir --json: JSON" json_ok
rm "$T/pamd"/stk-missing* "$T/pamd"/stk-pepper "$T/pamd"/stk-empty "$T/pamd"/stk-badarg "$T/pamd/sudo"
admin check --pam-dir "$T/pamd"
check "check --pam-dir: good stacks only: exit 0" test "$RC" -eq 0
# A system store whose active batch was made with a pepper, and a stack line
# that no longer names it: those codes can never work there.
mkdir -m 0700 "$T/pepsys"
head -c 64 /dev/urandom >"$T/pep.key"
chmod 0600 "$T/pep.key"
sed "s|^store = .*|store = $T/pepsys|" "$T/conf" >"$T/pep.conf"
echo "pepper_file = $T/pep.key" >>"$T/pep.conf"
chmod 0644 "$T/pep.conf"
admin -c "$T/pep.conf" generate "$ME" -y -n 2 --format csv
check "a peppered batch in a system store: generated" test "$RC" -eq 0
printf 'auth required %s conf=%s store=%s\n' "$M" "$T/conf" "$T/pepsys" >"$T/pamd/stk-nopep"
printf 'auth required %s conf=%s store=%s pepper_file=%s\naccount required %s conf=%s store=%s\n' "$M" "$T/conf" "$T/pepsys" "$T/pep.key" "$M" "$T/conf" "$T/pepsys" >"$T/pamd/stk-pep"
admin check --pam-dir "$T/pamd"
check "check: a peppered batch under a line without the pepper fails, with the fix" \
    sh -c 'printf "%s\n" "$0" | grep "^FAIL  $1/stk-nopep:1" | grep -q "1 active batch made with a pepper.*no pepper_file"' "$OUT" "$T/pamd"
check "check: the same store under a line with the pepper is OK" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK    $1/stk-pep:1 (auth): system store"' "$OUT" "$T/pamd"
check "check: an account line needs no pepper" \
    sh -c 'printf "%s\n" "$0" | grep -q "^OK    $1/stk-pep:2 (account): system store"' "$OUT" "$T/pamd"
rm "$T/pamd/stk-nopep" "$T/pamd/stk-pep"

# --- offboarding: forget USER, purge --departed, list hides empty users (#17.8) --
# 2 codes, their batch and the user record: 4 records.
sed "s|^store = .*|store = $T/offsys|" "$T/conf" >"$T/off.conf"
chmod 0644 "$T/off.conf"
off() { admin -c "$T/off.conf" "$@"; }
off generate "$ME" -y -n 3 --format csv
off generate "$U2" -y -n 2 --format csv
off forget "$U2" </dev/null
check "forget without a terminal or -y: exit 1, nothing changed" \
    sh -c '[ "$1" -eq 1 ] && printf "%s" "$0" | grep -q "Nothing changed"' "$OUT" "$RC"
off list
check "forget refused: $U2 still listed" sh -c 'printf "%s\n" "$0" | grep -q "^$1 "' "$OUT" "$U2"
off forget "$U2" -y
check "forget USER -y: exit 0, says how many records went" \
    sh -c '[ "$2" -eq 0 ] && printf "%s" "$0" | grep -q "^Forgot $1: 4 records removed from "' "$OUT" "$U2" "$RC"
off list
check "forget: $U2 is no longer listed, $ME still is" \
    sh -c '! printf "%s\n" "$0" | grep -q "^$1 " && printf "%s\n" "$0" | grep -q "^$2 "' "$OUT" "$U2" "$ME"
off show "$U2"
check "forget: show $U2 finds no codes" has "No recovery codes for $U2"
off audit --user "$U2"
check "forget: audited with the count and the administrator" \
    sh -c 'printf "%s\n" "$0" | grep " forgotten user=$1 " | grep -q "4 records"' "$OUT" "$U2"
check "forget: the audit trail before it stays" \
    sh -c 'printf "%s\n" "$0" | grep -q " generated user=$1 "' "$OUT" "$U2"
off forget "$U2" -y
check "forget again: nothing to forget, exit 0" \
    sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q "Nothing to forget"' "$OUT" "$RC"
# All codes invalidated and purged: nothing left, so not listed (#17.8).
off invalidate "$ME" --all -y
sleep 1
off purge --retention-days 0
off list
check "a user whose codes were all invalidated and purged is not listed" \
    sh -c '! printf "%s\n" "$0" | grep -q "^$1 "' "$OUT" "$ME"
off purge --departed --report
check "purge --departed with other purge options: usage error" test "$RC" -eq 2
if [ "$ROOT" -eq 1 ] && command -v useradd >/dev/null; then
	DU=prd$$
	useradd -M -N -s /usr/sbin/nologin "$DU" 2>/dev/null
	trap 'userdel "$DU" 2>/dev/null; rm -rf "$T"' EXIT
	off generate "$DU" -y -n 2 --format csv
	off generate "$ME" -y -n 2 --format csv
	off purge --departed --dry-run
	check "purge --departed while $DU exists: nobody to forget" has "0 departed users found"
	userdel "$DU"
	off purge --departed --dry-run
	check "purge --departed --dry-run: names the departed user, changes nothing" \
	    sh -c 'printf "%s" "$0" | grep -q "^Would forget $1: 4 records (no such user)"' "$OUT" "$DU"
	off list
	check "dry run: $DU still listed" sh -c 'printf "%s\n" "$0" | grep -q "^$1 "' "$OUT" "$DU"
	off purge --departed
	check "purge --departed: forgets $DU, exit 0" \
	    sh -c '[ "$2" -eq 0 ] && printf "%s" "$0" | grep -q "^Forgot $1: 4 records"' "$OUT" "$DU" "$RC"
	off list
	check "purge --departed: $DU gone, $ME kept" \
	    sh -c '! printf "%s\n" "$0" | grep -q "^$1 " && printf "%s\n" "$0" | grep -q "^$2 "' "$OUT" "$DU" "$ME"
	off audit --user "$DU"
	check "purge --departed: audited as forgotten" has " forgotten user=$DU "
else
	echo "# purge --departed with a real departed user: skipped (needs root and useradd)"
fi

# --- which codes are left: show USER --codes (#17.1) ---------------------------
sed "s|^store = .*|store = $T/codessys|" "$T/conf" >"$T/codes.conf"
chmod 0644 "$T/codes.conf"
echo "auth required $BIN/pam_recovery.so conf=$T/codes.conf" >"$T/pam.d/rt-codes"
cadm() { admin -c "$T/codes.conf" "$@"; }
cadm generate "$ME" -y -n 5 --format csv
printf '%s\n' "$OUT" >"$T/codes5.csv"
pamrun rt-codes "$ME" auth -- "$(code 2 "$T/codes5.csv")"
cadm invalidate "$ME" 4 -y
cadm show "$ME" --codes
check "show --codes: one line per slot" test "$(printf '%s\n' "$OUT" | grep -c '^  *[1-5]  ')" -eq 5
check "show --codes: slot 1 unused" sh -c 'printf "%s\n" "$0" | grep -q "^    1  unused *$"' "$OUT"
check "show --codes: slot 2 used, when, host, service and rhost" \
    sh -c 'printf "%s\n" "$0" | grep -q "^    2  used        20[0-9-]* [0-9:]* UTC on $1 via rt-codes from 127.0.0.1$"' "$OUT" "$(hostname)"
check "show --codes: slot 4 invalidated, when, by the administrator" \
    sh -c 'printf "%s\n" "$0" | grep -q "^    4  invalidated 20[0-9-]* [0-9:]* UTC by $1$"' "$OUT" "$ME"
cadm show "$ME" --codes --json
check "show --codes --json: JSON" json_ok
check "show --codes --json: slot states" \
    test "$(printf '%s' "$OUT" | jq -r '[.codes[].state] | join(",")')" = "unused,used,unused,invalidated,unused"
check "show --codes --json: the used code's service and rhost" \
    test "$(printf '%s' "$OUT" | jq -r '.codes[1] | .service + " " + .rhost + " " + (.audited|tostring)')" = "rt-codes 127.0.0.1 true"
check "show --codes --json: who invalidated" \
    test "$(printf '%s' "$OUT" | jq -r '.codes[3].by')" = "$ME"
cadm invalidate "$ME" 1 3 -y
cadm show "$ME" --codes
check "show --codes: codes invalidated together are each attributed" \
    sh -c 'test "$(printf "%s\n" "$0" | grep -c "invalidated 20.* by $1$")" -eq 3' "$OUT" "$ME"

finish
