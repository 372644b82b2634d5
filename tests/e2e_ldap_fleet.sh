#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_fleet.sh: a fleet's life cycle on the directory store through
# the real programs only.  build/pam-recovery-admin -c (the administrators'
# configuration and account) issues codes to one user (a txt sheet) and to
# five at once (--users-from, comments and blank lines; an unknown user
# fails alone, a bad line refuses the list before anyone gets codes), and
# lists, shows, audits, unlocks, invalidates, purges, checks; two hosts, A
# and B (the hosts' account, each its host_name), log in through libpam and
# the module (tests/pamdrive) with the codes the tool printed: a code once,
# fleet-wide; wrong codes at A and B lock both; unlock, invalidate N and
# --all as the module sees them; the trail names each event's host; purge
# and audit --purge remove what their dry runs said and are audited;
# check finds no failure with the shipped ACLs; backup points to slapcat.
# One throw-away slapd (tests/slapd.sh) with the shipped schema and ACLs
# and the administrators' limit for paged searches.
# generate issues codes only to users of the password database: as root
# six throw-away users of the test's own (useradd, removed at the end);
# otherwise users that exist here stand in for them.
set -u
suite=e2e_ldap_fleet
PATH=$PATH:/usr/sbin:/sbin

# ---- the users: throw-away ones of the test's own (root), else existing ones
# (A copy of /etc/passwd bind-mounted in a namespace of our own does not
# last: the kernel drops a mount whose file another suite's useradd
# renames over, and the suites run side by side.)
. tests/lib.sh
. tests/slapd.sh

slapd_suite_skips novalgrind
USERS=
if [ "$(id -u)" -eq 0 ] && command -v useradd >/dev/null; then
	for x in a b c d e f; do
		u=prf$$$x
		useradd -M -d /nonexistent -s /usr/sbin/nologin -c e2e_ldap_fleet "$u" ||
		    break
		USERS="$USERS $u"
	done
	# shellcheck disable=SC2086
	set -- $USERS
fi
if [ $# -lt 6 ]; then
	# shellcheck disable=SC2046
	set -- $(getent passwd | cut -d: -f1 | sed -n 1,6p)
fi
ALICE=$1
shift
MANY="$*"
T=$(mktemp -d) || exit 1
cleanup() {
	slapd_stop "$T/a"
	for u in $USERS; do userdel "$u" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir "$T/a" "$T/pam.d"
chmod 0755 "$T"
t0=$(date +%s)

# ---- one directory, the administrators' account without a page limit ------
RC=0
{ slapd_pki "$T/a" && slapd_conf "$T/a" && echo dbnosync >>"$T/a/slapd.conf" &&
    echo "limits dn.exact=\"$SLAPD_ADMIN_DN\" size.prtotal=unlimited" >>"$T/a/slapd.conf" &&
    slapd_start "$T/a"; } || RC=$?
slapd_started "$RC" "$T/a" "slapd with the shipped schema and ACLs starts"
H="ldap://127.0.0.1:$SLAPD_PORT/"

# conf NAME BIND-DN PASSWORD HOST: a configuration with store = ldap.
conf() {
	printf '%s\n' "$3" >"$T/$1.pw"
	chmod 0600 "$T/$1.pw"
	cat >"$T/$1.conf" <<EOF
store = ldap
ldap_uri = $H
ldap_base = $SLAPD_BASE
ldap_bind_dn = $2
ldap_bind_pw_file = $T/$1.pw
ldap_ca_file = $T/a/ca.pem
ldap_timeout = 5
kdf_opslimit = 1
kdf_memlimit = 8K
max_attempts = 4
host_name = $4
store_helper = $BIN/pam-recovery-store
EOF
	chmod 0644 "$T/$1.conf"
}
conf admin "$SLAPD_ADMIN_DN" adminpw adminhost
conf hosta "$SLAPD_HOST_DN" hostpw host-a
conf hostb "$SLAPD_HOST_DN" hostpw host-b
for h in hosta hostb; do
	echo "auth required $BIN/pam_recovery.so conf=$T/$h.conf" >"$T/pam.d/$h"
	echo "account required $BIN/pam_recovery.so conf=$T/$h.conf" >>"$T/pam.d/$h"
done

# admin ARGS...: the admin tool with the administrators' configuration,
# no terminal; stdout in $OUT, stderr in $ERR, exit status in $RC.
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/admin.conf" "$@" 2>"$T/err" </dev/null)
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
}
all() { printf 'rc=%s\n--- stdout\n%s\n--- stderr\n%s\n' "$RC" "$OUT" "$ERR"; }
# see NAME COMMAND...: check, showing stdout and stderr on failure.
see() {
	name=$1
	shift
	if "$@"; then pass "$name"; else failed "$name" "$(all)"; fi
}
err_has() { printf '%s\n' "$ERR" | grep -qF -- "$1"; }
# login HOST USER CODE: auth at HOST through libpam and the module.
login() {
	OUT=$($VG "$BIN/pamdrive" "$T/pam.d" "$1" "$2" auth -- "$3" 2>&1)
	RC=$?
	vgcheck pamdrive
}
# sheet FILE: the codes of a txt sheet, one a line, in slot order.
sheet() { sed -n 's/^ *#\{0,1\}[0-9]\{1,3\}[.:)]\{0,1\} \{1,\}\([0-9A-Z]\{5\}\(-[0-9A-Z]\{5\}\)\{3\}\) *$/\1/p' "$1"; }
nth() { sed -n "$1p" "$2"; }
# ldroot TOOL ARGS...: an ldap-utils tool as the directory's root.
ldroot() {
	tool=$1
	shift
	OUT=$(LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand \
	    "$tool" -x -ZZ -H "$H" -D "$SLAPD_ROOT_DN" -w secret "$@" 2>&1)
	RC=$?
}

# ---- generate USER: a code logs in once, fleet-wide -------------------------
admin generate "$ALICE" -y -n 8 --format txt -o "$T/alice.txt"
see "generate $ALICE -n 8 -o FILE: exit 0" test "$RC" -eq 0
sheet "$T/alice.txt" >"$T/alice.codes"
OUT=$(cat "$T/alice.txt")
check "... the txt sheet holds 8 codes" test "$(grep -c . "$T/alice.codes")" -eq 8
check "... names the user" has "$ALICE"
login hosta "$ALICE" "$(nth 1 "$T/alice.codes")"
check "host A: code 1 logs in (PAM_SUCCESS)" has "auth: PAM_SUCCESS"
check "... 7 codes left" has "Recovery code accepted. 7 codes left."
login hostb "$ALICE" "$(nth 1 "$T/alice.codes")"
check "host B: the code host A used is refused" has "auth: PAM_AUTH_ERR"
check "... nothing accepted" hasnt "accepted"
login hostb "$ALICE" "$(nth 2 "$T/alice.codes")"
check "host B: code 2 logs in" has "auth: PAM_SUCCESS"
check "... 6 codes left, counted fleet-wide" has "Recovery code accepted. 6 codes left."
admin show "$ALICE" --json
b1=$(json_field batch)
admin generate "$ALICE" -n 2 --format csv
see "generate again without -y, no terminal, codes left: refused" test "$RC" -ne 0
check "... no codes printed" hasnt ","
admin show "$ALICE" --json
check "... the batch stays, 6 left" test -n "$b1" -a "$(json_field batch) $(json_field remaining)" = "$b1 6"

# ---- generate --users-from FILE: five users at once --------------------------
{
	echo "# the help desk's list for today"
	set -- $MANY
	echo "$1"
	echo
	echo "  $2   # a comment after the name"
	echo "$3"
	echo "	"
	echo "$4"
	echo "# the last one"
	echo "$5"
} >"$T/users"
mkdir "$T/sheets"
admin generate --users-from "$T/users" -n 3 --format csv -o "$T/sheets" -y
see "generate --users-from FILE (5 users, comments, blank lines): exit 0" test "$RC" -eq 0
for u in $MANY; do
	OUT=$(cat "$T/sheets/$u.csv" 2>&1)
	check "... $u's sheet: 3 codes" test "$(grep -c '^[0-9]*,' "$T/sheets/$u.csv" 2>/dev/null)" = 3
done
OUT=$ERR
check "... and a summary: 5 of 5" has "5 of 5 users issued codes, 0 failed"
for u in $MANY; do
	login hosta "$u" "$(code 1 "$T/sheets/$u.csv")"
	check "host A: $u's first code logs in" has "auth: PAM_SUCCESS"
done

# A user the password database does not know: reported, the others served,
# exit 1, and nothing of that user in the directory.
set -- $MANY
printf '%s\nnobody-e2e-fleet\n%s\n' "$1" "$2" >"$T/users2"
mkdir "$T/sheets2"
admin generate --users-from "$T/users2" -n 2 --format csv -o "$T/sheets2" -y
see "--users-from with an unknown user: exit 1" test "$RC" -eq 1
see "... the unknown user is named as failed" err_has "nobody-e2e-fleet: FAILED"
see "... with the reason" err_has "nobody-e2e-fleet: no such user"
see "... the others got codes" err_has "$1: codes issued"
see "... summary: 2 of 3" err_has "2 of 3 users issued codes, 1 failed"
OUT=$(ls "$T/sheets2")
check "... two sheets, none for the unknown user" \
    test "$(echo $OUT)" = "$(printf '%s.csv\n' "$1" "$2" | sort | tr '\n' ' ' | sed 's/ $//')"
login hosta "$1" "$(code 1 "$T/sheets2/$1.csv")"
check "... $1's new code logs in" has "auth: PAM_SUCCESS"
login hosta "$1" "$(code 2 "$T/sheets/$1.csv")"
check "... and the batch before it is gone" has "auth: PAM_AUTH_ERR"
ldroot ldapsearch -LLL -b "$SLAPD_BASE" "(uid=nobody-e2e-fleet)" 1.1
check "... and the directory has no entry of the unknown user" test "$RC" -eq 0 -a -z "$OUT"
admin show nobody-e2e-fleet --json
see "... show: not enrolled" has '"enrolled":false'

# A line that is not one user name: refused, naming the line, nobody served.
printf '%s\n# fine\n%s extra\n%s\n' "$3" "$4" "$5" >"$T/users3"
mkdir "$T/sheets3"
admin audit --json
nev=$(printf '%s\n' "$OUT" | grep -c '"generated"')
admin generate --users-from "$T/users3" -n 2 --format csv -o "$T/sheets3" -y
see "--users-from with a bad line: exit non-zero" test "$RC" -ne 0
see "... naming the line" err_has "line 3: not one user name"
OUT=$(ls "$T/sheets3")
check "... no sheet written" test -z "$OUT"
admin audit --json
check "... no codes issued to anyone (no new generated event)" \
    test "$(printf '%s\n' "$OUT" | grep -c '"generated"')" -eq "$nev"
login hosta "$3" "$(code 2 "$T/sheets/$3.csv")"
check "... $3's codes from before still work" has "auth: PAM_SUCCESS"


# ---- list, show, history: what was issued and used --------------------------
# Used so far: ALICE 2 of 8; bob 2 of his first 3 (the first, then a new
# batch of 2 with 1 used); carol 1 of 3 then 0 of 2; dave 2 of 3; erin 1 of
# 3; frank 1 of 3.
set -- $MANY
B=$1 C=$2 DV=$3 E=$4 F=$5
admin list
see "list: exit 0" test "$RC" -eq 0
row() { printf '%s\n' "$OUT" | awk -v u="$1" '$1 == u { print $2 }'; }
check "... $ALICE: 6/8 left" test "$(row "$ALICE")" = 6/8
check "... $B: 1/2 (his new batch, one used)" test "$(row "$B")" = 1/2
check "... $C: 2/2" test "$(row "$C")" = 2/2
check "... $DV: 1/3" test "$(row "$DV")" = 1/3
check "... $E and $F: 2/3" test "$(row "$E") $(row "$F")" = "2/3 2/3"
check "... nobody else" test "$(printf '%s\n' "$OUT" | grep -vc '^USER')" -eq 6
admin list --json
see "list --json: exit 0" test "$RC" -eq 0
jrow() { printf '%s\n' "$OUT" | grep "\"user\":\"$1\"" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"; }
check "... $ALICE: remaining 6 of count 8" test "$(jrow "$ALICE" remaining) $(jrow "$ALICE" count)" = "6 8"
check "... $DV: remaining 1 of 3" test "$(jrow "$DV" remaining) $(jrow "$DV" count)" = "1 3"
check "... $C: never used" test "$(jrow "$C" last_used)" = 0
check "... 6 users" test "$(printf '%s\n' "$OUT" | grep -c '"user"')" -eq 6
check "... valid JSON" sh -c 'printf "%s" "$0" | python3 -m json.tool >/dev/null' "$OUT"
admin show "$ALICE"
see "show $ALICE: 6 of 8 left, 2 used" sh -c 'printf "%s" "$0" | grep -q "6 of 8 left" && printf "%s" "$0" | grep -q "used 2, invalidated 0"' "$OUT"
admin show "$ALICE" --codes
see "show $ALICE --codes: slot 1 used at host-a (service hosta)" \
    sh -c 'printf "%s\n" "$0" | grep -qE "^ +1 +used .* on host-a via hosta"' "$OUT"
see "... slot 2 used at host-b (service hostb)" \
    sh -c 'printf "%s\n" "$0" | grep -qE "^ +2 +used .* on host-b via hostb"' "$OUT"
see "... slot 3 unused" sh -c 'printf "%s\n" "$0" | grep -qE "^ +3 +unused"' "$OUT"
admin show "$ALICE" --codes --json
see "show --codes --json: each use with its host" \
    sh -c 'printf "%s" "$0" | grep -q "\"slot\":1,\"state\":\"used\",\"when\":[0-9]*,\"host\":\"host-a\"" &&
	printf "%s" "$0" | grep -q "\"slot\":2,\"state\":\"used\",\"when\":[0-9]*,\"host\":\"host-b\""' "$OUT"
admin history "$ALICE"
see "history $ALICE: the active batch, 8 issued, 2 used, 6 remaining" \
    has "8 issued, 2 used, 0 invalidated, 6 remaining"
admin history "$ALICE" --json
see "history --json: used 2" sh -c 'printf "%s" "$0" | grep -q "\"status\":\"active\",\"current\":true" && printf "%s" "$0" | grep -q "\"used\":2"' "$OUT"


# ---- lockout at both hosts, unlock ------------------------------------------
# Well-formed codes of nobody's: a sheet for $C, then a new one replaces it.
admin generate "$C" -y -n 6 --format csv -o "$T/wrong.csv"
admin generate "$C" -y -n 2 --format csv -o "$T/c2.csv"
see "two batches for $C (the first one's codes are nobody's now)" test "$RC" -eq 0
for i in 1 2 3; do
	h=hosta
	[ $((i % 2)) -eq 0 ] && h=hostb
	login "$h" "$ALICE" "$(code "$i" "$T/wrong.csv")"
	check "wrong code $i at $h: PAM_AUTH_ERR, not locked yet" \
	    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && ! printf "%s" "$0" | grep -q "Try again"' "$OUT"
done
login hostb "$ALICE" "$(code 4 "$T/wrong.csv")"
check "4th wrong code (max_attempts = 4, counted over A and B): locked" has "Try again in 60 seconds"
login hosta "$ALICE" "$(nth 3 "$T/alice.codes")"
check "locked at host A: a valid code is refused, no prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "prompts: 0"' "$OUT"
login hostb "$ALICE" "$(nth 3 "$T/alice.codes")"
check "locked at host B too" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "Try again in"' "$OUT"
admin list --json
check "list --json: $ALICE locked, 4 failures" \
    test "$(jrow "$ALICE" failures)" = 4 -a "$(jrow "$ALICE" locked_until)" -gt "$(date +%s)"
admin list
check "list: $ALICE locked until a time" \
    sh -c 'printf "%s\n" "$0" | awk -v u="$1" "\$1 == u" | grep -q "UTC *$"' "$OUT" "$ALICE"
admin unlock "$ALICE"
see "unlock $ALICE: exit 0" test "$RC" -eq 0
login hostb "$ALICE" "$(nth 3 "$T/alice.codes")"
check "after unlock: the valid code logs in at host B" has "auth: PAM_SUCCESS"
check "... 5 codes left" has "Recovery code accepted. 5 codes left."
admin audit --user "$ALICE"
see "the unlock is audited, naming the administrator" \
    sh -c 'printf "%s\n" "$0" | grep " unlocked " | grep -q "actor=$1"' "$OUT" "$(id -un)"
admin unlock nobody-e2e-fleet
see "unlock of a user with no record: fails" test "$RC" -ne 0

# ---- invalidate -------------------------------------------------------------
admin invalidate "$ALICE" 4
see "invalidate $ALICE 4: exit 0" test "$RC" -eq 0
login hosta "$ALICE" "$(nth 4 "$T/alice.codes")"
check "code 4 is refused through the module" has "auth: PAM_AUTH_ERR"
admin show "$ALICE" --codes
see "show --codes: slot 4 invalidated by the administrator" \
    sh -c 'printf "%s\n" "$0" | grep -E "^ +4 +invalidated" | grep -q "by $1"' "$OUT" "$(id -un)"
login hosta "$ALICE" "$(nth 5 "$T/alice.codes")"
check "code 5 still logs in" has "auth: PAM_SUCCESS"
check "... 3 codes left (8 - 4 used - 1 invalidated)" has "Recovery code accepted. 3 codes left."
admin invalidate "$ALICE" --all -y
see "invalidate $ALICE --all -y: exit 0" test "$RC" -eq 0
for i in 6 7 8; do
	h=hosta
	[ "$i" -eq 7 ] && h=hostb
	OUT=$($VG "$BIN/pamdrive" "$T/pam.d" "$h" "$ALICE" auth account -- "$(nth "$i" "$T/alice.codes")" 2>&1)
	RC=$?
	vgcheck pamdrive
	check "after --all: code $i refused at $h" has "auth: PAM_AUTH_ERR"
done
check "... the module says there are no codes" has "You have no usable recovery codes"
admin list --json
check "list --json: $ALICE has none left" test "$(jrow "$ALICE" remaining)" = 0


# ---- audit: the fleet's trail, each event with its host --------------------
admin audit
see "audit: exit 0" test "$RC" -eq 0
check "... $ALICE's code used at host-a, with its host" \
    sh -c 'printf "%s\n" "$0" | grep " code_used user=$1 host=host-a service=hosta " | grep -q "slot=1 "' "$OUT" "$ALICE"
check "... and at host-b" \
    sh -c 'printf "%s\n" "$0" | grep " code_used user=$1 host=host-b service=hostb " | grep -q "slot=2 "' "$OUT" "$ALICE"
check "... the lock, recorded by host-b" has "locked user=$ALICE host=host-b"
check "... the administrator's events with the admin's host_name" has "generated user=$ALICE host=adminhost service=pam-recovery-admin"
check "... every user's events (the fleet's trail)" \
    sh -c 'for u in $1; do printf "%s\n" "$0" | grep -q " code_used user=$u host=host-a " || exit 1; done' "$OUT" "$MANY"
admin audit --json
see "audit --json: exit 0, valid JSON" sh -c 'printf "%s" "$0" | python3 -m json.tool >/dev/null' "$OUT"
check "... code_used at host-a and host-b, in the host field" \
    sh -c 'printf "%s" "$0" | grep -q "\"event\":\"code_used\",\"user\":\"$1\",\"host\":\"host-a\"" &&
	printf "%s" "$0" | grep -q "\"event\":\"code_used\",\"user\":\"$1\",\"host\":\"host-b\""' "$OUT" "$ALICE"
nall=$(printf '%s\n' "$OUT" | grep -c '"seq"')
admin audit --user "$ALICE"
see "audit --user $ALICE: only $ALICE's events" \
    sh -c '[ -n "$0" ] && ! printf "%s\n" "$0" | grep -v " user=$1 host="' "$OUT" "$ALICE"
check "... the uses at both hosts, the unlock, the invalidations" \
    sh -c 'for e in "code_used user=$1 host=host-a" "code_used user=$1 host=host-b" "unlocked user=$1 host=adminhost" "invalidated user=$1 host=adminhost"; do
	printf "%s\n" "$0" | grep -qF "$e" || exit 1; done' "$OUT" "$ALICE"
check "... fewer than the whole trail ($nall)" test "$(printf '%s\n' "$OUT" | grep -c .)" -lt "$nall"

# ---- purge: retention 0, what the dry run said ------------------------------
# Dead: $ALICE's invalidated batch (8), $B's first (3), $C's first three
# (3, 6, 2): 5 batches, 22 codes; used codes of live batches: $B 1, $DV 2,
# $E 1, $F 1: 5.  27 codes.
admin purge --dry-run --retention-days 0
see "purge --dry-run --retention-days 0: 27 codes, 5 batches" has "would remove: 27 codes, 5 batches purged"
admin list --json
check "... changes nothing: $DV still 1 of 3" test "$(jrow "$DV" remaining) $(jrow "$DV" count)" = "1 3"
admin purge --retention-days 0
see "purge --retention-days 0: exit 0" test "$RC" -eq 0
see "... removed what the dry run said" has "Removed 27 codes, 5 batches purged"
admin purge --retention-days 0
see "a second purge removes nothing, exit 0" sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q "Removed 0 codes, 0 batches purged"' "$OUT" "$RC"
admin list --json
check "after the purge: counts unchanged ($DV 1 of 3, $E 2 of 3)" \
    test "$(jrow "$DV" remaining) $(jrow "$DV" count) $(jrow "$E" remaining)" = "1 3 2"
admin list
check "... list: $DV 1/3, $B 1/2" test "$(row "$DV") $(row "$B")" = "1/3 1/2"
admin show "$DV" --codes
see "... show $DV: 1 of 3 left, 2 used, a last use" \
    sh -c 'printf "%s" "$0" | grep -q "1 of 3 left" && printf "%s" "$0" | grep -q "used 2, invalidated 0" && ! printf "%s" "$0" | grep -q "last used never"' "$OUT"
see "... its used codes gone (purged), with their host" \
    sh -c 'printf "%s\n" "$0" | grep -qE "^ +1 +gone .* on host-a via hosta .*purged" && printf "%s\n" "$0" | grep -qE "^ +3 +unused"' "$OUT"
login hostb "$E" "$(code 2 "$T/sheets/$E.csv")"
check "... $E's unused code logs in at host B" has "auth: PAM_SUCCESS"
check "... 1 code left (of 3: 1 used and purged, 1 used now)" has "Recovery code accepted. 1 code left."
login hosta "$E" "$(code 1 "$T/sheets/$E.csv")"
check "... $E's purged used code stays refused" has "auth: PAM_AUTH_ERR"
admin audit
see "the purge is in the audit trail, naming the administrator" \
    sh -c 'printf "%s\n" "$0" | grep " purged user=- host=adminhost " | grep "actor=$1" | grep -q "27 codes, 5 batches purged"' "$OUT" "$(id -un)"

# ---- audit --purge: every event older than 0 days ---------------------------
sleep 1		# every event so far is older than this second
admin audit --json
nall=$(printf '%s\n' "$OUT" | grep -c '"seq"')
admin audit --purge --older-than 0 --dry-run
see "audit --purge --older-than 0 --dry-run: all $nall events" has "Would delete $nall audit events older than 0 days"
admin audit --json
check "... deletes nothing" test "$(printf '%s\n' "$OUT" | grep -c '"seq"')" -eq "$nall"
admin audit --purge --older-than 0
see "audit --purge --older-than 0: exit 0, $nall deleted" \
    sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q "Deleted $2 audit events"' "$OUT" "$RC" "$nall"
admin audit
see "... what is left: the audit purge's own event" \
    sh -c '[ "$(printf "%s\n" "$0" | grep -c .)" -eq 1 ] && printf "%s" "$0" | grep -q "purged user=- host=adminhost .*deleted $1 audit events"' "$OUT" "$nall"

# ---- check: the shipped ACLs ------------------------------------------------
admin check
see "check (the administrators' configuration): exit 0, 0 failures" \
    sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q " 0 failures$"' "$OUT" "$RC"
check "... planting codes, as the administrators' account may: a warning naming it" \
    sh -c 'printf "%s\n" "$0" | grep "^WARN .*may add pamRecoveryCode values" | grep -qF "($1)"' "$OUT" "$SLAPD_ADMIN_DN"
check "... the schema, TLS and the anonymous ACL checked" \
    sh -c 'printf "%s" "$0" | grep -q "^OK .*(schema)" && printf "%s" "$0" | grep -q "^OK .*(TLS)" && printf "%s" "$0" | grep -q "^OK .*(anonymous)"' "$OUT"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/hosta.conf" check 2>&1 </dev/null)
RC=$?
check "check (host A's configuration): exit 0, 0 failures" \
    sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q " 0 failures$"' "$OUT" "$RC"
check "... the hosts' account may make a login's writes" has "may count attempts, record uses and consume codes"
check "... and may not plant a code" hasnt "may add pamRecoveryCode values"

admin check --deep
see "check --deep: exit 0, 0 failures" \
    sh -c '[ "$1" -eq 0 ] && printf "%s" "$0" | grep -q " 0 failures$"' "$OUT" "$RC"
see "... the counters match the codes (the walk of every batch)" has "the counters match the codes"
see "... no LMDB free-page probe on a directory" hasnt "free pages"
admin check --json
see "check --json: ok, 0 failures" sh -c 'printf "%s" "$0" | grep -q "\"failures\":0,\"ok\":true"' "$OUT"

# ---- forget: offboarding, the trail stays -----------------------------------
admin forget "$F" -y
see "forget $F -y: exit 0" test "$RC" -eq 0
login hosta "$F" "$(code 2 "$T/sheets/$F.csv")"
check "... $F's unused code is refused" has "auth: PAM_AUTH_ERR"
admin list
check "... list: no $F" test -z "$(row "$F")"
admin audit --user "$F"
see "... audited: forgotten, by the administrator (the trail stays)" \
    sh -c 'printf "%s\n" "$0" | grep "forgotten user=$1 host=adminhost" | grep -q "actor=$2"' "$OUT" "$F" "$(id -un)"
admin audit --since 2999-01-01
see "audit --since a future date: nothing" test "$RC" -eq 0 -a -z "$OUT"

# ---- backup: the directory's server does it ---------------------------------
admin backup "$T/bk"
see "backup DEST on the directory: exit 1" test "$RC" -eq 1
see "... says to use slapcat" err_has "slapcat"
check "... and writes nothing" test ! -e "$T/bk"

echo "# $(($(date +%s) - t0)) s"
finish
