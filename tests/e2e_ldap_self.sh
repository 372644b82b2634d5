#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_self.sh: pam-recovery on the directory store (store = ldap), run
# by a user who binds as themselves (ldap_user_dn, their directory password
# on standard input; SASL EXTERNAL over ldapi://), against a throw-away
# slapd (tests/slapd.sh) with conf/ldap/acl-self.conf before acl.conf:
# generate, status, verify (not spent: the code then logs in through the
# real module), invalidate, history; a wrong or empty password is refused
# with nothing written; the user can neither read nor change another
# user's entries (ldapsearch, ldapmodify, and pam-recovery bound as alice
# acting for bob); the password is in no process's argv or environment.
# As root the user is a throw-away account (useradd, runuser); otherwise
# it is the test's own uid, and the parts that need a second account are
# skipped.
set -u
suite=e2e_ldap_self
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

slapd_suite_skips novalgrind
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1
if [ "$ROOT" -eq 1 ]; then
	for p in useradd userdel runuser; do
		command -v "$p" >/dev/null || {
			echo "e2e_ldap_self: skipped (as root, needs $p)"
			exit 0
		}
	done
fi
T=$(mktemp -d) || exit 1
U=
U2=
cleanup() {
	slapd_stop "$T/a"
	if [ "$ROOT" -eq 1 ]; then
		[ -n "$U" ] && userdel "$U" >/dev/null 2>&1
		[ -n "$U2" ] && userdel "$U2" >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 0755 "$T"
mkdir -m 0755 "$T/a" "$T/pam.d"
D=$BIN/ldapdrive

# The users: alice ($U) and, as root, bob ($U2), with directory passwords
# that are nowhere on a command line of this test.
if [ "$ROOT" -eq 1 ]; then
	U=prla$$
	U2=prlb$$
	useradd -M -N -s /usr/sbin/nologin "$U" || { failed "useradd $U"; finish; exit 1; }
	useradd -M -N -s /usr/sbin/nologin "$U2" || { failed "useradd $U2"; finish; exit 1; }
	as_a() { runuser -u "$U" -- "$@"; }
	as_b() { runuser -u "$U2" -- "$@"; }
else
	U=$(id -un)
	as_a() { "$@"; }
fi
PWA="Dir-A-$$-kQ7vX2"
PWB="Dir-B-$$-Lm3pZ9"

# ---- a directory with acl-self ---------------------------------------------
RC=0
{ slapd_pki "$T/a" && slapd_conf "$T/a" self; } || RC=$?
# SASL EXTERNAL over ldapi: alice's uid maps to her people entry.
sed -i "/^database mdb/i authz-regexp \"^gidNumber=[0-9]+\\\\\\\\+uidNumber=$(id -u "$U"),cn=peercred,cn=external,cn=auth\$\" \"uid=$U,ou=people,$SLAPD_SUFFIX\"" "$T/a/slapd.conf"
[ "$RC" -eq 0 ] && { slapd_start "$T/a" || RC=$?; }
slapd_started "$RC" "$T/a" "slapd with acl-self.conf before acl.conf starts"
chmod 0644 "$T/a/ca.pem"
H="ldap://127.0.0.1:$SLAPD_PORT/"
people() {
	printf 'dn: uid=%s,ou=people,%s\nobjectClass: applicationProcess\nobjectClass: uidObject\nobjectClass: simpleSecurityObject\ncn: %s\nuid: %s\nuserPassword: %s\n\n' \
	    "$1" "$SLAPD_SUFFIX" "$1" "$1" "$2"
}
{
	people "$U" "$PWA"
	[ -n "$U2" ] && people "$U2" "$PWB"
} >"$T/people.ldif"
OUT=$(ldapadd -x -H "$SLAPD_LDAPI" -D "$SLAPD_ROOT_DN" -w secret -f "$T/people.ldif" 2>&1)
check "people entries for $U${U2:+ and $U2}, with userPassword" test $? -eq 0
# snap [BASE]: everything below BASE (the recovery subtree) with each
# entry's change sequence number, which any write changes.
snap() {
	ldapsearch -x -H "$SLAPD_LDAPI" -D "$SLAPD_ROOT_DN" -w secret -o ldif-wrap=no -LLL \
	    -b "${1:-$SLAPD_BASE}" "(objectClass=*)" '*' entryCSN 2>/dev/null
}
# look DN FILTER ATTRS...: as the directory's root, one-line values.
look() {
	b=$1 f=$2
	shift 2
	OUT=$(ldapsearch -x -H "$SLAPD_LDAPI" -D "$SLAPD_ROOT_DN" -w secret -o ldif-wrap=no -LLL \
	    -b "$b" "$f" "$@" 2>&1)
}

# The configuration every host and user reads: the hosts' account for the
# module, ldap_user_dn for pam-recovery.  host.pw is the hosts' (0600).
printf 'hostpw\n' >"$T/host.pw"
chmod 0600 "$T/host.pw"
# conf NAME [KEY=VALUE...]: the KEY=VALUE pairs replace the defaults below.
conf() {
	n=$1
	shift
	for kv in store=ldap "ldap_uri=$H" "ldap_base=$SLAPD_BASE" \
	    "ldap_bind_dn=$SLAPD_HOST_DN" "ldap_bind_pw_file=$T/host.pw" \
	    "ldap_user_dn=uid=%u,ou=people,$SLAPD_SUFFIX" \
	    "ldap_ca_file=$T/a/ca.pem" ldap_timeout=3 kdf_opslimit=1 \
	    kdf_memlimit=8K host_name=selfhost "store_helper=$BIN/pam-recovery-store"; do
		k=${kv%%=*}
		case " $* " in *" $k="*) continue ;; esac
		echo "$k = ${kv#*=}"
	done >"$T/$n.conf"
	for kv in "$@"; do
		[ -n "${kv#*=}" ] && echo "${kv%%=*} = ${kv#*=}"
	done >>"$T/$n.conf"
	chmod 0644 "$T/$n.conf"
}
conf self
conf admin "ldap_bind_dn=$SLAPD_ADMIN_DN" "ldap_bind_pw_file=$T/admin.pw"
printf 'adminpw\n' >"$T/admin.pw"
chmod 0600 "$T/admin.pw"
echo "auth required $BIN/pam_recovery.so conf=$T/self.conf" >"$T/pam.d/self"

# ua CONF INPUT ARGS...: pam-recovery as alice with -c CONF, INPUT (printf
# %b: "\n" ends a line) on standard input, which is not a terminal.
ua() {
	c=$1 in=$2
	shift 2
	OUT=$(printf '%b' "$in" | as_a $VG "$BIN/pam-recovery" -c "$T/$c.conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}
ub() {
	c=$1 in=$2
	shift 2
	OUT=$(printf '%b' "$in" | as_b $VG "$BIN/pam-recovery" -c "$T/$c.conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}
UDN="uid=$U,$SLAPD_BASE"

# ---- generate, status, verify, a login, invalidate --------------------------
ua self "$PWA\n" generate -n 4 --format csv -y
printf '%s\n' "$OUT" >"$T/a.csv"
check "generate, bound as $U with the directory password on stdin: 4 codes" \
    test "$RC" -eq 0 -a "$(grep -c '^[0-9],' "$T/a.csv")" -eq 4
check "... no password prompt on stdout when stdin is not a terminal" hasnt "password"
look "$UDN" "(objectClass=pamRecoveryBatch)" pamRecoveryBatchStatus pamRecoveryCode
check "the directory holds $U's batch, active, with 4 hashes" \
    sh -c 'printf "%s\n" "$0" | grep -q "^pamRecoveryBatchStatus: 1$" &&
	[ "$(printf "%s\n" "$0" | grep -c "^pamRecoveryCode: ")" -eq 4 ]' "$OUT"
look "$UDN" "(objectClass=pamRecoveryEvent)" pamRecoveryEventType pamRecoveryHost
check "... and its generated event, from host selfhost" \
    sh -c 'printf "%s\n" "$0" | grep -qi "generated" && printf "%s\n" "$0" | grep -q "selfhost"' "$OUT"
ua self "$PWA\n" status --json
check "status: 4 codes left" test "$RC" -eq 0 -a "$(json_field remaining)" = 4

C1=$(code 1 "$T/a.csv")
C2=$(code 2 "$T/a.csv")
C3=$(code 3 "$T/a.csv")
WRONG=$("$D" "$T/admin.conf" gen nobody-self 1 2>/dev/null | grep -E '^[0-9A-Z]{20}$' | head -n 1)
ua self "$PWA\n$WRONG\n" verify
check "verify a wrong code: refused, counted" sh -c '[ "$0" -eq 1 ]' "$RC"
check "... says so" has "wrong code"
look "$UDN" "(objectClass=pamRecoveryUser)" pamRecoveryLock
check "... the attempt was pre-counted on $U's pamRecoveryLock (acl-self lets her)" has "pamRecoveryLock: 1 "
ua self "$PWA\n$C1\n" verify
check "verify code #1: would be accepted, not used up" test "$RC" -eq 0
check "... 4 codes left" has "Code #1 would be accepted; it was not used up (4 codes left)"
look "$UDN" "(objectClass=pamRecoveryUser)" pamRecoveryLock pamRecoveryLastUsed
check "... the lockout cleared" has "pamRecoveryLock: 0 0 0 0 0"
check "... no last use recorded (a test is not a use)" hasnt "pamRecoveryLastUsed"
look "$UDN" "(objectClass=pamRecoveryBatch)" pamRecoveryVerified
check "... the batch is marked verified" has "pamRecoveryVerified: "

pamrun self "$U" auth -- "$C1"
check "code #1 (verified, not spent) logs in through the module" has "auth: PAM_SUCCESS"
check "... 3 codes left" has "Recovery code accepted. 3 codes left."
check "... and the module advises pam-recovery (ldap_user_dn is set)" has "with: pam-recovery generate"
ua self "$PWA\n" invalidate -y 2
check "invalidate code #2" test "$RC" -eq 0
ua self "$PWA\n" status --json
check "status: 2 codes left" test "$RC" -eq 0 -a "$(json_field remaining)" = 2
pamrun self "$U" auth -- "$C2"
check "the invalidated code #2 no longer logs in" has "auth: PAM_AUTH_ERR"
ua self "$PWA\n" history
if has "not supported yet"; then
	echo "ok - history # SKIP the directory's batch walk (batch_each) is not on this branch"
else
	check "history lists the batch" test "$RC" -eq 0 -a -n "$(printf '%s\n' "$OUT" | grep -i active)"
fi
ua self "$PWA\n" status --codes
if has "not supported yet"; then
	echo "ok - status --codes # SKIP the directory's event walk (event_each) is not on this branch"
else
	check "status --codes: #1 used (through the module), #2 invalidated by the user" \
	    sh -c '[ "$0" -eq 0 ] && printf "%s\n" "$1" | grep -Eq "^ +1 +used .* via self" &&
		printf "%s\n" "$1" | grep -Eq "^ +2 +invalidated .* by the user"' "$RC" "$OUT"
fi

# ---- passwords that do not bind ---------------------------------------------
BEFORE=$(snap)
ua self "wrong-$PWA\n" generate -n 3 --format csv -y
check "a wrong directory password: exit 1" test "$RC" -eq 1
check "... said plainly" has "the directory did not accept the password for uid=$U,ou=people"
check "... no code printed" test -z "$(printf '%s\n' "$OUT" | grep -E '^[0-9]+,')"
ua self "\n" status
check "an empty password: exit 1, nothing sent" \
    sh -c '[ "$0" -eq 1 ] && printf "%s" "$1" | grep -q "no directory password was entered"' "$RC" "$OUT"
ua self "" invalidate --all -y
check "no password at all (end of input): exit 1" test "$RC" -eq 1
check "nothing was written by any of them" test "$(snap)" = "$BEFORE"
ua self "$PWA\n" status --json
check "... the right password still works: 2 codes left" test "$(json_field remaining)" = 2

# ---- who binds: never the hosts' account --------------------------------------
conf nouser ldap_user_dn=
ua nouser "$PWA\n" status
check "no ldap_user_dn on ldap://: refused, the administrator issues codes" \
    sh -c '[ "$0" -eq 1 ] && printf "%s" "$1" | grep -q "pam-recovery-admin generate"' "$RC" "$OUT"
check "... without a word of the hosts' account" hasnt "ldap_bind_pw_file"
pamrun self "$U" auth -- "$C3"
conf nouserpam ldap_user_dn=
echo "auth required $BIN/pam_recovery.so conf=$T/nouserpam.conf" >"$T/pam.d/nouserpam"
C4=$(code 4 "$T/a.csv")
pamrun nouserpam "$U" auth -- "$C4"
check "without ldap_user_dn the module asks users to go to the administrator" \
    has "Ask your administrator for new ones now."
ua self "$PWA\n" generate -n 4 --format csv -y
printf '%s\n' "$OUT" >"$T/a.csv"
check "a new batch for the rest of the test" test "$RC" -eq 0 -a "$(grep -c '^[0-9],' "$T/a.csv")" -eq 4
conf pepper "pepper_file=$T/host.pw"
ua pepper "$PWA\n" status
check "a pepper (root's): refused before anything is asked" \
    sh -c '[ "$0" -eq 1 ] && printf "%s" "$1" | grep -q "pepper"' "$RC" "$OUT"
# SASL EXTERNAL over ldapi: no password; slapd maps the peer's uid.
conf ext "ldap_uri=$SLAPD_LDAPI" ldap_user_dn= ldap_bind_dn= ldap_bind_pw_file=
ua ext "" status --json
check "SASL EXTERNAL over ldapi:// (no ldap_user_dn): status, no password asked" \
    test "$RC" -eq 0 -a "$(json_field remaining)" = 4

# ---- nobody else's entries ----------------------------------------------------
"$D" "$T/admin.conf" gen bob 3 >/dev/null 2>&1
BOB="uid=bob,$SLAPD_BASE"
printf '%s' "$PWA" >"$T/a.pw"
chmod 0600 "$T/a.pw"
[ "$ROOT" -eq 1 ] && chown "$U" "$T/a.pw"
# asa TOOL ARGS...: an ldap tool bound as alice (password from a file).
asa() {
	tool=$1
	shift
	OUT=$("$tool" -x -ZZ -H "$H" -D "uid=$U,ou=people,$SLAPD_SUFFIX" -y "$T/a.pw" "$@" 2>&1)
	RC=$?
}
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
asa ldapsearch -o ldif-wrap=no -LLL -b "$UDN" pamRecoveryCode
check "alice (ldapsearch) reads her own hashes" test "$(printf '%s\n' "$OUT" | grep -c '^pamRecoveryCode:')" -eq 4
asa ldapsearch -o ldif-wrap=no -LLL -b "$BOB" "(objectClass=*)"
check "alice sees nothing of bob's entries, not even that they exist" hasnt "dn:"
# modify DN LDIF-LINES: one Modify as alice.
modify() {
	dn=$1
	shift
	{ printf 'dn: %s\nchangetype: modify\n' "$dn"; printf '%s\n' "$@"; } >"$T/mod.ldif"
	asa ldapmodify -f "$T/mod.ldif"
}
BOBB=$(ldapsearch -x -H "$SLAPD_LDAPI" -D "$SLAPD_ROOT_DN" -w secret -LLL -o ldif-wrap=no \
    -b "$BOB" "(objectClass=pamRecoveryBatch)" dn 2>/dev/null | sed -n 's/^dn: //p' | head -n 1)
BEFORE=$(snap "$BOB")
modify "$BOB" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "alice cannot clear bob's lockout" test "$RC" -eq 50
modify "$BOBB" "add: pamRecoveryCode" 'pamRecoveryCode: 9 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
check "alice cannot plant a code in bob's batch" test "$RC" -eq 50
modify "$BOB" "replace: pamRecoveryActiveBatch" "pamRecoveryActiveBatch: 1"
check "alice cannot switch bob's active batch" test "$RC" -eq 50
asa ldapdelete "$BOBB"
check "alice cannot delete bob's batch" test "$RC" -eq 50
printf 'dn: uid=carol,%s\nobjectClass: pamRecoveryUser\nuid: carol\n' "$SLAPD_BASE" >"$T/carol.ldif"
asa ldapadd -f "$T/carol.ldif"
check "alice cannot make an entry for a user who has none (carol)" test "$RC" -eq 50
check "bob's entries are as they were" test "$(snap "$BOB")" = "$BEFORE"

if [ "$ROOT" -eq 1 ]; then
	# Bob runs pam-recovery with a file of his that binds as alice: the
	# helper acts on bob's entry, and the directory refuses alice there.
	"$D" "$T/admin.conf" gen "$U2" 3 >"$T/b.codes" 2>/dev/null
	B1=$(grep -E '^[0-9A-Z]{20}$' "$T/b.codes" | head -n 1)
	conf asalice "ldap_user_dn=uid=$U,ou=people,$SLAPD_SUFFIX"
	BEFORE=$(snap "uid=$U2,$SLAPD_BASE")
	ub asalice "$PWA\n" generate -n 2 --format csv -y
	check "pam-recovery for bob, bound as alice: generate refused (exit 1)" test "$RC" -eq 1
	check "... no code printed" test -z "$(printf '%s\n' "$OUT" | grep -E '^[0-9]+,')"
	ub asalice "$PWA\n" status --json
	check "... status shows none of bob's codes" \
	    sh -c '[ "$(printf "%s\n" "$0" | sed -n "s/.*\"remaining\":\([0-9]*\).*/\1/p")" != 3 ]' "$OUT"
	ub asalice "$PWA\n" invalidate --all -y
	check "... invalidate --all: exit 1" test "$RC" -eq 1
	ub asalice "$PWA\n$B1\n" verify
	check "... verify of bob's own code: not accepted" test "$RC" -eq 1
	check "... and bob's entries are as they were" test "$(snap "uid=$U2,$SLAPD_BASE")" = "$BEFORE"
	ub self "$PWB\n" status --json
	check "bob bound as himself sees his 3 codes" test "$RC" -eq 0 -a "$(json_field remaining)" = 3
else
	echo "ok - pam-recovery for another user, bound as alice # SKIP needs root for a second account"
fi

# ---- the password: not in argv, not in the environment ------------------------
mkfifo "$T/in"
( as_a "$BIN/pam-recovery" -c "$T/self.conf" verify <"$T/in" >"$T/v.out" 2>&1; echo $? >"$T/v.rc" ) &
VPID=$!
exec 7>"$T/in"
printf '%s\n' "$PWA" >&7
# Bound once the store is read: it then waits for the code's line.  Found
# by its argv (its /proc/PID/exe and fd are root's once it is not
# dumpable); as root, also by the directory's socket among its files.
pid=
i=0
while [ "$i" -lt 50 ]; do
	for p in /proc/[0-9]*; do
		[ "$(tr '\000' '\n' 2>/dev/null <"$p/cmdline" | head -n 1)" = "$BIN/pam-recovery" ] &&
		    pid=${p#/proc/}
	done
	if [ -n "$pid" ]; then
		[ "$ROOT" -eq 0 ] && break
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "socket:" && break
	fi
	sleep 0.1
	i=$((i + 1))
done
sleep 1
ps -eo args >"$T/ps" 2>/dev/null
check "pam-recovery waits for the code, bound (pid ${pid:-none})" test -n "$pid"
check "the password is in no process's argv (ps)" test "$(grep -cF -- "$PWA" "$T/ps")" -eq 0
tr '\000' '\n' 2>/dev/null <"/proc/${pid:-0}/cmdline" >"$T/cmdline"
check "... nor pam-recovery's own" test "$(grep -cF -- "$PWA" "$T/cmdline")" -eq 0
if tr '\000' '\n' 2>/dev/null <"/proc/${pid:-0}/environ" >"$T/environ" && [ -s "$T/environ" ]; then
	check "the password is not in pam-recovery's environment" test "$(grep -cF -- "$PWA" "$T/environ")" -eq 0
else
	echo "ok - the password is not in pam-recovery's environment # SKIP /proc/$pid/environ unreadable (not dumpable: only root reads it)"
fi
printf '%s\n' "$(code 1 "$T/a.csv")" >&7
exec 7>&-
wait "$VPID"
OUT=$(cat "$T/v.out")
check "... and the verify goes on: code #1 would be accepted" has "would be accepted"
check "the password is in nothing pam-recovery printed" test "$(grep -cF -- "$PWA" "$T/v.out")" -eq 0

finish
