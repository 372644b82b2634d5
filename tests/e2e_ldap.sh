#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap.sh: the directory store's schema, ACLs and client against a
# throw-away slapd of the test's own (tests/slapd.sh): both schema forms
# load, the example ACLs keep hashes from everyone but the hosts and keep
# the hosts to what a login needs, one code consumed by 20 parallel logins
# over two hosts succeeds once, 30 parallel attempts are each counted once,
# TLS is verified, plain LDAP refused, and a silent or stopped directory
# fails with a store error within ldap_timeout.  Then a provider and a
# syncrepl consumer: hosts reading the consumer and writing to the provider
# keep single use and lockout, also while the consumer is behind, and fail
# closed when either server is gone.  Last, the module's login (layer 4)
# through the store interface on the directory (rec_store_open_ldap).
set -u
suite=e2e_ldap
. tests/lib.sh
skip_under_valgrind
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

# check's table of the schema (rec_ldap_probe.c) is the shipped file's.
OUT=$(awk -f scripts/schema-table.awk conf/ldap/pam-recovery.schema |
    diff - pam_recovery/rec_ldap_schema.h 2>&1)
check "pam_recovery/rec_ldap_schema.h is scripts/schema-table.awk's output (see there to remake it)" \
    test -z "$OUT"

slapd_suite_skips
T=$(mktemp -d) || exit 1
SILENT=
cleanup() {
	slapd_stop "$T/a"
	slapd_stop "$T/p"
	slapd_stop "$T/r"
	slapd_stop "$T/c"
	slapd_stop "$T/l"
	[ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
SRC=$(pwd)
D=$BIN/ldapdrive
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
mkdir "$T/a" "$T/c" "$T/p" "$T/r"

# ---- The two schema forms say the same -------------------------------------
# defs FILE: each attribute type and object class definition on one line,
# blanks collapsed, from the slapd.conf form or the cn=config form.
defs() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
if sys.argv[1].endswith(".ldif"):
    text = text.replace("\n ", "")
    found = re.findall(r"^olc(?:AttributeTypes|ObjectClasses): (.*)$", text, re.M)
else:
    text = re.sub(r"(?m)^#.*$", "", text)
    found = re.split(r"(?i)\b(?:attributetype|objectclass)\s+", text)[1:]
for d in found:
    print(" ".join(d.split()))
PY
}
defs conf/ldap/pam-recovery.schema >"$T/schema.defs"
defs conf/ldap/pam-recovery.ldif >"$T/ldif.defs"
OUT=$(diff "$T/schema.defs" "$T/ldif.defs")
check "schema: .schema and .ldif define the same $(grep -c . "$T/schema.defs") types and classes" \
    test -z "$OUT" -a "$(grep -c . "$T/schema.defs")" -eq 36
OUT=$(grep -o "2\.25\.[0-9]*" "$T/schema.defs" | sort -u)
check "schema: every OID under one 2.25 UUID arc" test "$(printf '%s\n' "$OUT" | grep -c .)" -eq 1

# rules FILE: the access directives of an ACL file, one a line, either form.
rules() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
if sys.argv[1].endswith(".ldif"):
    text = text.replace("\n ", "")
    found = [re.sub(r"^\{\d+\}", "", r) for r in re.findall(r"^olcAccess: (.*)$", text, re.M)]
else:
    text = re.sub(r"\n[ \t]+", " ", re.sub(r"(?m)^#.*\n", "", text))
    found = re.findall(r"^access (.*)$", text, re.M)
for r in found:
    print(" ".join(r.split()))
PY
}
for a in acl acl-self acl-repl; do
	rules conf/ldap/$a.conf >"$T/$a.conf.rules"
	rules conf/ldap/$a.ldif >"$T/$a.ldif.rules"
	OUT=$(diff "$T/$a.conf.rules" "$T/$a.ldif.rules")
	check "ACLs: $a.conf and $a.ldif hold the same $(grep -c . "$T/$a.conf.rules") rules" \
	    test -z "$OUT" -a "$(grep -c . "$T/$a.conf.rules")" -ge "$([ $a = acl-repl ] && echo 1 || echo 4)"
done

# ---- A slapd.conf server with the .schema and both ACL files ---------------
RC=0
slapd_pki "$T/a" || RC=$?
OUT="openssl failed"
check "a test CA and a server certificate made" test "$RC" -eq 0
slapd_conf "$T/a" self
RC=$?
OUT=$(cat "$T/a/slapadd.log")
check "slapd.conf with pam-recovery.schema, acl-self.conf, acl.conf: slapadd loads the seed" test "$RC" -eq 0
OUT=$(slaptest -u -f "$T/a/slapd.conf" 2>&1)
check "slaptest accepts the slapd.conf" has "config file testing succeeded"
RC=0
slapd_start "$T/a" || RC=$?
OUT=$(cat "$T/a/slapd.log")
check "slapd -f starts on 127.0.0.1:$SLAPD_PORT (and ldaps, ldapi)" test "$RC" -eq 0
if [ "$RC" -ne 0 ]; then
	finish
	exit 1
fi
H="ldap://127.0.0.1:$SLAPD_PORT/"
HS="ldaps://127.0.0.1:$SLAPD_SPORT/"

# conf NAME BIND-DN PASSWORD [KEY=VALUE...]: a client configuration; the
# KEY=VALUE pairs replace the defaults below or add keys.
conf() {
	n=$1 dn=$2 pw=$3
	shift 3
	printf '%s\n' "$pw" >"$T/$n.pw"
	chmod 0600 "$T/$n.pw"
	for kv in "ldap_uri=$H" "ldap_base=$SLAPD_BASE" "ldap_bind_dn=$dn" \
	    "ldap_bind_pw_file=$T/$n.pw" "ldap_ca_file=$T/a/ca.pem" \
	    ldap_timeout=5 kdf_opslimit=1 kdf_memlimit=8K max_attempts=1000; do
		k=${kv%%=*}
		case " $* " in *" $k="*) continue ;; esac
		[ -z "$dn" ] && case "$k" in ldap_bind_*) continue ;; esac
		echo "$k = ${kv#*=}"
	done >"$T/$n.conf"
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done >>"$T/$n.conf"
	chmod 0644 "$T/$n.conf"
}
conf admin "$SLAPD_ADMIN_DN" adminpw host_name=adminhost
conf hosta "$SLAPD_HOST_DN" hostpw host_name=host-a
conf hostb "$SLAPD_HOST_DN" hostpw host_name=host-b
# drive NAME ARGS...: ldapdrive with NAME's configuration; output and
# messages in OUT, status in RC.
drive() {
	n=$1
	shift
	OUT=$($VG "$D" "$T/$n.conf" "$@" 2>"$T/drive.err")
	RC=$?
	OUT="$OUT
$(cat "$T/drive.err")"
	vgcheck ldapdrive
}
# quick NAME ARGS...: the same, never under valgrind, for runs that repeat
# a path already driven under it (each run there costs a second or more).
quick() {
	qvg=$VG
	VG=
	drive "$@"
	VG=$qvg
}

drive admin gen alice 5
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/alice.codes"
check "admin writes a batch of 5 for alice" test "$RC" -eq 0 -a "$(grep -c . "$T/alice.codes")" -eq 5
quick admin gen bob 3
check "admin writes a batch of 3 for bob" test "$RC" -eq 0
drive hosta status alice
check "host reads alice: 5 unused codes, never used" has "ok batch 1 count 5 unused 5 used 0 invalid 0"
check "... never used" has "last_used never"

# ---- ACLs: who reads hashes, who writes what -------------------------------
# ld TOOL WHO ARGS...: an ldap-utils tool over StartTLS to $H as WHO (anon,
# host, repl, admin, alice, bob).
ld() {
	tool=$1 who=$2
	shift 2
	case "$who" in
	anon) set -- -x -ZZ -H "$H" "$@" ;;
	host) set -- -x -ZZ -H "$H" -D "$SLAPD_HOST_DN" -w hostpw "$@" ;;
	repl) set -- -x -ZZ -H "$H" -D "$SLAPD_REPL_DN" -w replpw "$@" ;;
	admin) set -- -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw "$@" ;;
	*) set -- -x -ZZ -H "$H" -D "uid=$who,ou=people,$SLAPD_SUFFIX" -w "$who-pw" "$@" ;;
	esac
	OUT=$("$tool" "$@" 2>&1)
	RC=$?
}
# hashes WHO USER: how many code values WHO can read below USER's entry.
hashes() {
	ld ldapsearch "$1" -o ldif-wrap=no -LLL -b "uid=$2,$SLAPD_BASE" pamRecoveryCode
	printf '%s\n' "$OUT" | grep -c '^pamRecoveryCode:'
}
check "anonymous reads no hash" test "$(hashes anon alice)" -eq 0
check "another user (bob) reads none of alice's hashes" test "$(hashes bob alice)" -eq 0
check "the hosts' account reads alice's 5 hashes" test "$(hashes host alice)" -eq 5
check "with acl-self, alice reads her own 5" test "$(hashes alice alice)" -eq 5
ld ldapsearch anon -LLL -b "$SLAPD_BASE" -s sub "(objectClass=*)" pamRecoveryTagKey
check "anonymous sees no recovery entry at all" hasnt "dn:"
BATCH=$(ldapsearch -o ldif-wrap=no -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw -LLL \
    -b "uid=alice,$SLAPD_BASE" "(objectClass=pamRecoveryBatch)" dn 2>/dev/null |
    sed -n 's/^dn: //p' | head -n 1)
# modify WHO DN LDIF-LINES: one Modify as WHO; RC is ldapmodify's status.
modify() {
	who=$1 dn=$2
	shift 2
	printf 'dn: %s\nchangetype: modify\n' "$dn" >"$T/mod.ldif"
	printf '%s\n' "$@" >>"$T/mod.ldif"
	ld ldapmodify "$who" -f "$T/mod.ldif"
}
FAKE='pamRecoveryCode: 9 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
modify host "$BATCH" "add: pamRecoveryCode" "$FAKE"
check "the hosts' account cannot plant a code (insufficient access)" test "$RC" -eq 50
modify host "uid=alice,$SLAPD_BASE" "replace: pamRecoveryActiveBatch" "pamRecoveryActiveBatch: 1"
check "the hosts' account cannot switch a user's active batch" test "$RC" -eq 50
modify host "$BATCH" "replace: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 1"
check "the hosts' account cannot change a batch's status" test "$RC" -eq 50
modify host "$BATCH" "delete: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 1" "-" \
    "add: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 4"
check "... nor take the active status away for another" test "$RC" -eq 50
modify host "$BATCH" "delete: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 1" "-" \
    "add: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 1"
check "... but it may delete the active status and add it back (a consume's assertion)" test "$RC" -eq 0
modify host "$BATCH" "replace: pamRecoveryExpires" "pamRecoveryExpires: 1"
check "the hosts' account cannot change an expiry" test "$RC" -eq 50
modify host "$BATCH" "delete: pamRecoveryUsedCode"
check "the hosts' account cannot erase used marks" test "$RC" -ne 0
ld ldapdelete host "$BATCH"
check "the hosts' account cannot delete a batch" test "$RC" -eq 50
modify bob "$BATCH" "add: pamRecoveryCode" "$FAKE"
check "another user cannot plant a code for alice" test "$RC" -eq 50
modify alice "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLastUsed" "pamRecoveryLastUsed: 1"
check "alice cannot rewrite her last use (hosts' only)" test "$RC" -eq 50
modify alice "$BATCH" "add: pamRecoveryUsedCode" "pamRecoveryUsedCode: 9 0 x 1 h"
check "... nor mark a code used" test "$RC" -eq 50
modify alice "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "with acl-self, alice may clear her own lockout (verify counts and clears it)" test "$RC" -eq 0
modify bob "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "... bob may not clear hers" test "$RC" -eq 50
modify alice "$BATCH" "add: pamRecoveryCode" "$FAKE"
check "with acl-self, alice can add a code to her own batch" test "$RC" -eq 0
modify alice "$BATCH" "delete: pamRecoveryCode" "$FAKE"
check "... and take it away again" test "$RC" -eq 0

# ---- Logins and audit through the client -----------------------------------
C1=$(sed -n 1p "$T/alice.codes")
drive hosta login alice "$C1"
check "host-a: alice's code #1 logs in" has "ok slot 1"
drive hostb login alice "$C1"
check "host-b: the same code on the very next login is refused as used" has "used"
quick hostb status alice
check "alice: 4 unused, 1 used" has "unused 4 used 1 invalid 0"
check "alice's entry records the last use" has "last_used set"
ld ldapsearch admin -o ldif-wrap=no -LLL -b "$BATCH" -s base pamRecoveryUsedCode
check "the used mark names host-a" has "pamRecoveryUsedCode: 1 "
check "... host-a" has " host-a"
drive hosta audit alice code_used sshd
check "host-a records an audit event" test "$RC" -eq 0
drive admin events alice
check "the event reads back with its host" has "event code_used host=host-a service=sshd"
ld ldapdelete host "$(ldapsearch -o ldif-wrap=no -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw -LLL \
    -b "uid=alice,$SLAPD_BASE" "(objectClass=pamRecoveryEvent)" dn 2>/dev/null |
    sed -n 's/^dn: //p' | head -n 1)"
check "the hosts' account cannot delete an audit event" test "$RC" -eq 50
drive admin invalidate alice 5 admin:root
check "admin invalidates code #5" test "$RC" -eq 0
drive hosta login alice "$(sed -n 5p "$T/alice.codes")"
check "the invalidated code #5 is refused as invalidated" has "invalidated"
quick hosta status alice
check "alice: 3 unused, 1 used, 1 invalidated" has "unused 3 used 1 invalid 1"

# ---- Single use and counting under concurrency -----------------------------
# race N ARGS...: N ldapdrive runs at once, half as host-a, half as host-b
# (the configurations named by RA and RB, hosta and hostb unless set);
# their outputs in $T/race.*.  Not under valgrind: N of them at once would
# take minutes; the single runs above and below cover the same code.
race() {
	n=$1
	shift
	rm -f "$T"/race.*
	i=0
	while [ "$i" -lt "$n" ]; do
		h=${RA:-hosta}
		[ $((i % 2)) -eq 1 ] && h=${RB:-hostb}
		"$D" "$T/$h.conf" "$@" >"$T/race.$i" 2>&1 &
		i=$((i + 1))
	done
	wait
}
for round in 1 2 3; do
	code=$(sed -n "$((round + 1))p" "$T/alice.codes")
	race 20 login alice "$code"
	ok=$(cat "$T"/race.* | grep -c '^ok slot')
	used=$(cat "$T"/race.* | grep -c '^used')
	OUT=$(cat "$T"/race.*)
	check "round $round: 20 parallel logins with one code over two hosts: exactly one success ($ok), 19 told it is used ($used)" \
	    test "$ok" -eq 1 -a "$used" -eq 19
done
quick admin status alice
check "after the three rounds: 0 unused, 4 used, 1 invalidated" has "unused 0 used 4 invalid 1"

quick hosta clear alice
race 30 count bob
OUT=$(cat "$T"/race.*)
n=$(grep -h '^ok ' "$T"/race.* | grep -c .)
d=$(grep -h '^ok ' "$T"/race.* | sort -u | grep -c .)
check "30 parallel pre-counts: 30 counted ($n), 30 distinct counter values ($d)" \
    test "$n" -eq 30 -a "$d" -eq 30
quick hosta status bob
check "bob's lockout state holds 30 failures" has "failures 30 "
quick hosta clear bob
sed -i 's/max_attempts = 1000/max_attempts = 5/' "$T/hosta.conf" "$T/hostb.conf"
race 30 count bob
OUT=$(cat "$T"/race.*)
n=$(grep -h '^ok ' "$T"/race.* | grep -c .)
l=$(grep -h '^locked' "$T"/race.* | grep -c .)
check "30 parallel attempts over two hosts, max_attempts 5: exactly 5 counted ($n), 25 refused as locked ($l)" \
    test "$n" -eq 5 -a "$l" -eq 25
quick hostb status bob
check "the lock is seen at host-b" has "failures 5 "
check "... with a lock set" hasnt "locked_until 0"
sed -i 's/max_attempts = 5/max_attempts = 1000/' "$T/hosta.conf" "$T/hostb.conf"
quick hosta clear bob
drive hosta count bob
drive hosta refund bob
drive hosta status bob
check "an attempt refunded leaves no failure behind" has "failures 1 "

# ---- generate_cooldown, fleet-wide -------------------------------------------
conf admincd "$SLAPD_ADMIN_DN" adminpw generate_cooldown=60
rm -f "$T"/gen.*
i=0
while [ "$i" -lt 10 ]; do
	"$D" "$T/admincd.conf" take-generate carol >"$T/gen.$i" 2>&1 &
	i=$((i + 1))
done
wait
OUT=$(cat "$T"/gen.*)
n=$(cat "$T"/gen.* | grep -c '^ok')
w=$(cat "$T"/gen.* | grep -c '^cooldown ')
check "10 parallel generations for a new user, generate_cooldown 60: one goes ($n), 9 wait ($w)" \
    test "$n" -eq 1 -a "$w" -eq 9
drive admincd take-generate carol
check "the next one is told how long to wait (at most 60 s)" \
    sh -c 'printf "%s\n" "$1" | grep -Eq "^cooldown ([1-5]?[0-9]|60)\$"' sh "$OUT"
quick admin status carol
check "carol's entry was created, with no batch yet" has "ok batch 0"
conf hostcd "$SLAPD_HOST_DN" hostpw generate_cooldown=60
drive hostcd take-generate alice
check "the hosts' account cannot take a generation" has "error permission"

# ---- Binding and TLS --------------------------------------------------------
conf ext "" "" "ldap_uri=$SLAPD_LDAPI" host_name=host-c
drive ext status alice
check "ldapi:// with SASL EXTERNAL (root mapped to the hosts' account) reads alice" has "ok batch 1"
conf ldaps "$SLAPD_HOST_DN" hostpw "ldap_uri=$HS"
drive ldaps status alice
check "ldaps:// with the test CA works" has "ok batch 1"
conf wrongca "$SLAPD_HOST_DN" hostpw "ldap_ca_file=$T/a/other-ca.pem"
drive wrongca status alice
check "StartTLS against another CA: refused with a store error" has "error io"
conf wrongcas "$SLAPD_HOST_DN" hostpw "ldap_uri=$HS" "ldap_ca_file=$T/a/other-ca.pem"
drive wrongcas status alice
check "ldaps:// against another CA: refused with a store error" has "error io"
conf plain "$SLAPD_HOST_DN" hostpw ldap_starttls=no
drive plain status alice
check "plain ldap:// without ldap_insecure: refused as a configuration error" has "error config"
check "... saying why" has "refusing ldap:// without StartTLS"
conf insecure "$SLAPD_HOST_DN" hostpw ldap_starttls=no ldap_insecure=yes
drive insecure status alice
check "plain ldap:// with ldap_insecure = yes works" has "ok batch 1"
conf badpw "$SLAPD_HOST_DN" wrong
drive badpw status alice
check "a wrong bind password: permission denied, not a user without codes" has "error permission (permission denied)"
conf loose "$SLAPD_HOST_DN" hostpw
chmod 0640 "$T/loose.pw"
drive loose status alice
check "a bind password file readable by its group: refused as unsafe" has "error unsafe"
check "... naming the file" has "loose.pw: readable or usable by group or other (mode 0640)"
conf nobind "" "" host_name=host-d
drive nobind status alice
check "no ldap_bind_dn over ldap://: a configuration error" has "error config"
drive hosta status nobody-here
check "a user without an entry: no codes (missing), not a store error" has "error missing"

# ---- A silent, stopped or absent directory ---------------------------------
# A listener that accepts every connection and never answers (60 s at most).
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); s.settimeout(0.2)
print(s.getsockname()[1], flush=True)
held = []; end = time.time() + 60
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' >"$T/silent.port" &
SILENT=$!
i=0
while [ ! -s "$T/silent.port" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SP=$(cat "$T/silent.port")
# silent NAME WHAT: a store error (timeout or io) within the deadline.
silent() {
	OUT=$(timeout 60 $VG "$D" "$T/$1.conf" status alice 2>&1)
	RC=$?
	echo "# $2: $(printf '%s\n' "$OUT" | sed -n 's/^elapsed_ms=//p') ms with ldap_timeout = 1"
	check "$2: fails with a store error, never a success" \
	    test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep -E '^error (timeout|io) ')"
}
conf s1 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/" ldap_timeout=1
silent s1 "silent server, StartTLS"
conf s2 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldaps://127.0.0.1:$SP/" ldap_timeout=1
silent s2 "silent server, ldaps:// (TLS handshake)"
conf s3 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/" ldap_starttls=no ldap_insecure=yes ldap_timeout=1
silent s3 "silent server, plain bind"
# 5 s here: the second URI must answer in time even under valgrind on a
# loaded machine; only the silent one is meant to run out.
conf s4 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldaps://127.0.0.1:$SP/ $HS" ldap_timeout=5
OUT=$(timeout 60 $VG "$D" "$T/s4.conf" status alice 2>&1)
check "a silent first URI, then the next one answers" has "ok batch 1"
kill "$SILENT" 2>/dev/null
SILENT=
conf s5 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/" ldap_timeout=1
silent s5 "nothing listening"
# Stopped after the bind: the search itself must time out.
conf s6 "$SLAPD_HOST_DN" hostpw ldap_timeout=5
mkfifo "$T/go"
(timeout 60 $VG "$D" "$T/s6.conf" pause-read alice <"$T/go" >"$T/s6.out" 2>&1) &
DRV=$!
exec 3>"$T/go"
i=0
while ! grep -q bound "$T/s6.out" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -STOP "$(cat "$T/a/slapd.pid")"
echo go >&3
exec 3>&-
wait "$DRV"
RC=$?
kill -CONT "$(cat "$T/a/slapd.pid")"
OUT=$(cat "$T/s6.out")
echo "# slapd stopped after the bind: $(sed -n 's/^elapsed_ms=//p' "$T/s6.out") ms in all with ldap_timeout = 5"
check "slapd stopped after the bind: the read fails with a timeout" \
    test "$RC" -eq 2 -a -n "$(grep '^error timeout' "$T/s6.out")"
quick hosta status alice
check "slapd continued: reads work again" has "ok batch 1"
slapd_stop "$T/a"

# ---- A replicated directory: a provider and a syncrepl consumer -------------
# Two hosts read from the consumer and write to the provider (ldap_uri and
# ldap_write_uri): single use and lockout are decided where they are
# written, so they hold whatever the consumer shows, even when it is behind.
for d in p r; do cp "$T/a/ca.pem" "$T/a/server.pem" "$T/a/server.key" "$T/$d/"; done
slapd_conf "$T/p" provider
RC=$?
OUT=$(cat "$T/p/slapadd.log")
check "provider: slapd.conf with syncprov and acl-repl.conf, slapadd loads the seed" test "$RC" -eq 0
OUT=$(slaptest -u -f "$T/p/slapd.conf" 2>&1)
check "slaptest accepts the provider's slapd.conf" has "config file testing succeeded"
RC=0
slapd_start "$T/p" || RC=$?
OUT=$(cat "$T/p/slapd.log")
check "provider starts" test "$RC" -eq 0
PH="ldap://127.0.0.1:$SLAPD_PORT/" PL=$SLAPD_LDAPI
# consumer URI: (re)start the consumer, replicating from URI (its database
# kept); RH and RL are its URIs, and the hosts' configurations follow them
# (max_attempts RMAX).
consumer() {
	slapd_stop "$T/r"
	slapd_consumer_conf "$T/r" "$1"
	slapd_start "$T/r" || return 1
	RH="ldap://127.0.0.1:$SLAPD_PORT/" RL=$SLAPD_LDAPI
	conf rhosta "$SLAPD_HOST_DN" hostpw "ldap_uri=$RH" "ldap_write_uri=$PH" host_name=host-a "max_attempts=$RMAX"
	conf rhostb "$SLAPD_HOST_DN" hostpw "ldap_uri=$RH" "ldap_write_uri=$PH" host_name=host-b "max_attempts=$RMAX"
	conf rslow "$SLAPD_HOST_DN" hostpw "ldap_uri=$RH" "ldap_write_uri=$PH" host_name=host-a ldap_timeout=1
	conf ronly "$SLAPD_HOST_DN" hostpw "ldap_uri=$RH" host_name=host-c
}
RMAX=1000
conf rphost "$SLAPD_HOST_DN" hostpw "ldap_uri=$PH" host_name=host-p max_attempts=5
conf radmin "$SLAPD_ADMIN_DN" adminpw "ldap_uri=$PH" host_name=adminhost
RC=0
consumer "$PH" || RC=$?
OUT=$(cat "$T/r/slapd.log" 2>/dev/null)
check "consumer starts (syncrepl refreshAndPersist from the provider, StartTLS verified)" test "$RC" -eq 0
if [ "$RC" -ne 0 ]; then
	finish
	exit 1
fi
# synced: the consumer holds what the provider holds (30 s at most).
synced() {
	RC=0
	slapd_synced "$PL" "$RL" 300 || RC=$?
	OUT="provider: $(slapd_csn "$PL"); consumer: $(slapd_csn "$RL")"
	test "$RC" -eq 0
}
quick radmin gen alice 5
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/ralice.codes"
check "admin writes alice's batch of 5 on the provider" test "$RC" -eq 0 -a "$(grep -c . "$T/ralice.codes")" -eq 5
quick radmin gen dave 1
WRONG=$(printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$')
check "the consumer catches up" synced
drive rhosta status alice
check "a host reading from the consumer sees alice's 5 codes" has "ok batch 1 count 5 unused 5 used 0"

# The replication account and the consumer's own ACLs.
H=$PH
check "provider: the replication account reads alice's 5 hashes" test "$(hashes repl alice)" -eq 5
ld ldapsearch repl -LLL -b "uid=alice,$SLAPD_BASE" -s base "(pamRecoveryLock=*)" dn
check "... and can search them" has "dn: uid=alice"
modify repl "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "provider: the replication account cannot write a lockout state" test "$RC" -eq 50
modify repl "$(ldapsearch -o ldif-wrap=no -x -ZZ -H "$PH" -D "$SLAPD_ADMIN_DN" -w adminpw -LLL \
    -b "uid=alice,$SLAPD_BASE" "(objectClass=pamRecoveryBatch)" dn 2>/dev/null | sed -n 's/^dn: //p' | head -n 1)" \
    "add: pamRecoveryCode" "$FAKE"
check "provider: the replication account cannot plant a code" test "$RC" -eq 50
ld ldapcompare repl "uid=alice,$SLAPD_BASE" "uid:alice"
check "provider: the replication account cannot even compare (no such object, or insufficient access)" \
    test "$RC" -eq 32 -o "$RC" -eq 50
H=$RH
check "consumer: anonymous reads no hash (the consumer has the same ACLs)" test "$(hashes anon alice)" -eq 0
check "consumer: bob reads none of alice's" test "$(hashes bob alice)" -eq 0
check "consumer: the hosts' account reads alice's 5" test "$(hashes host alice)" -eq 5
modify host "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "consumer: a write is referred to the provider, not applied (referral)" test "$RC" -eq 10

# Single use over two hosts with replication in the path.
RA=rhosta RB=rhostb
for round in 1 2 3; do
	code=$(sed -n "${round}p" "$T/ralice.codes")
	race 20 login alice "$code"
	ok=$(cat "$T"/race.* | grep -c '^ok slot')
	used=$(cat "$T"/race.* | grep -c '^used')
	OUT=$(cat "$T"/race.*)
	check "replicated, round $round: 20 parallel logins with one code over two hosts reading the consumer: exactly one success ($ok), 19 told it is used ($used)" \
	    test "$ok" -eq 1 -a "$used" -eq 19
done
drive rhostb login alice "$(sed -n 1p "$T/ralice.codes")"
check "host-b, reading the consumer: round 1's code on the next login is refused as used" has "used"
check "the consumer catches up" synced
quick rhosta status alice
check "the consumer then shows 3 used" has "unused 2 used 3"

# Fleet-wide lockout: max_attempts 5 over both hosts, counted on the provider.
RMAX=5
sed -i 's/max_attempts = 1000/max_attempts = 5/' "$T/rhosta.conf" "$T/rhostb.conf"
quick rhosta clear alice
race 30 login alice "$WRONG"
OUT=$(cat "$T"/race.*)
n=$(cat "$T"/race.* | grep -c '^nomatch')
l=$(cat "$T"/race.* | grep -c '^locked')
check "replicated: 30 parallel wrong codes over two hosts, max_attempts 5: exactly 5 counted and hashed ($n), 25 refused as locked ($l)" \
    test "$n" -eq 5 -a "$l" -eq 25
drive rhosta login alice "$(sed -n 4p "$T/ralice.codes")"
check "the cooldown is seen at host-a: even the right code is refused" has "locked"
quick rhostb login alice "$(sed -n 4p "$T/ralice.codes")"
check "... and at host-b" has "locked"
check "the consumer catches up" synced
quick rhostb status alice
check "the consumer shows the 5 failures" has "failures 5 "
check "... and the lock" hasnt "locked_until 0"
unset RA RB

# A consumer that is behind: replication stopped (the consumer restarted
# with a provider nothing listens on), the provider goes on changing.
quick radmin gen bob 3
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/rbob.codes"
check "admin writes bob's batch of 3" test "$(grep -c . "$T/rbob.codes")" -eq 3
check "the consumer catches up" synced
RC=0
consumer "ldap://127.0.0.1:1/" || RC=$?
OUT=$(cat "$T/r/slapd.log")
check "the consumer restarts with replication cut off" test "$RC" -eq 0
B1=$(sed -n 1p "$T/rbob.codes") B2=$(sed -n 2p "$T/rbob.codes") B3=$(sed -n 3p "$T/rbob.codes")
quick rphost login bob "$B1"
check "a host on the provider uses bob's code #1" has "ok slot 1"
quick rhosta status bob
check "the consumer still shows it unused (it is behind)" has "unused 3 used 0"
drive rhosta login bob "$B1"
check "host-a, reading that consumer, on the next login: refused as used (the provider decides)" has "used"
quick rphost clear bob
for i in 1 2 3 4 5; do quick rphost count bob; done
check "5 failures counted on the provider lock bob" has "ok 5"
quick rhostb status bob
check "the consumer still shows no failure" has "failures 0 "
quick rhostb login bob "$B2"
check "host-b, reading that consumer: bob is locked all the same, even with his right code" has "locked"
quick rphost clear bob
for i in 1 2 3; do quick rphost count bob; done
drive rhosta refund bob
quick rphost status bob
check "an attempt refunded by host-a puts back the provider's 3 failures, not the consumer's 0" has "failures 3 "
quick rphost clear bob
quick radmin gen bob 3
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/rbob2.codes"
check "admin replaces bob's batch on the provider" test "$(grep -c . "$T/rbob2.codes")" -eq 3
quick rhosta status bob
check "the consumer still names the old batch" has "unused 3 used 0"
drive rhosta login bob "$B3"
check "host-a, reading that consumer: a code of the replaced batch is refused as invalidated" has "invalidated"
quick rphost status bob
check "... and the new batch is untouched" has "unused 3 used 0"
H=$PH
OLD=$(ldapsearch -o ldif-wrap=no -x -ZZ -H "$PH" -D "$SLAPD_ADMIN_DN" -w adminpw -LLL \
    -b "uid=bob,$SLAPD_BASE" "(&(objectClass=pamRecoveryBatch)(pamRecoveryBatchStatus=2))" dn 2>/dev/null |
    sed -n 's/^dn: //p')
modify host "$OLD" "add: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 1"
check "the hosts' account cannot revive the replaced batch by adding the active status" test "$RC" -ne 0
modify host "$OLD" "delete: pamRecoveryBatchStatus" "pamRecoveryBatchStatus: 2"
check "... nor by deleting its status" test "$RC" -eq 50
quick rhostb login bob "$(sed -n 1p "$T/rbob2.codes")"
check "a code of the new batch, which the consumer does not know yet, is not accepted through it" has "nomatch"
RC=0
consumer "$PH" || RC=$?
check "the consumer replicates again" synced
quick rhostb status bob
check "... and shows bob's new batch" has "ok batch 1 count 3 unused 3 used 0"
drive rhostb login bob "$(sed -n 1p "$T/rbob2.codes")"
check "host-b: bob's new code works through the consumer" has "ok slot 1"

# A host writing to the consumer, or a server gone: a store error.
drive ronly count bob
check "a host with no ldap_write_uri writing to the consumer: a store error (referral), nothing counted" has "error io"
quick rphost status bob
check "... the provider counted nothing" has "failures 0 "
slapd_stop "$T/r"
drive rhosta login bob "$(sed -n 2p "$T/rbob2.codes")"
echo "# consumer stopped: $(printf '%s\n' "$OUT" | sed -n 's/^elapsed_ms=//p') ms"
check "consumer stopped: the attempt fails closed with a store error" test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep '^error io ')"
RC=0
consumer "$PH" || RC=$?
check "the consumer replicates again" synced
kill -STOP "$(cat "$T/p/slapd.pid")"
OUT=$(timeout 60 $VG "$D" "$T/rslow.conf" login bob "$(sed -n 2p "$T/rbob2.codes")" 2>&1)
RC=$?
kill -CONT "$(cat "$T/p/slapd.pid")"
echo "# provider silent: $(printf '%s\n' "$OUT" | sed -n 's/^elapsed_ms=//p') ms with ldap_timeout = 1"
check "provider silent (stopped), consumer up: a store error (timeout), never a success" \
    test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep -E '^error (timeout|io) ')"
slapd_stop "$T/p"
drive rhosta login bob "$(sed -n 2p "$T/rbob2.codes")"
echo "# provider stopped: $(printf '%s\n' "$OUT" | sed -n 's/^elapsed_ms=//p') ms"
check "provider stopped, consumer up: the attempt fails closed with a store error" test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep '^error io ')"
slapd_stop "$T/r"

# ---- cn=config from the .ldif files ----------------------------------------
cp "$T/a/ca.pem" "$T/a/server.pem" "$T/a/server.key" "$T/c/"
mkdir "$T/c/cn=config" "$T/c/db"
cat >"$T/c/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $T/c/slapd.pid
olcArgsFile: $T/c/slapd.args
olcTLSCACertificateFile: $T/c/ca.pem
olcTLSCertificateFile: $T/c/server.pem
olcTLSCertificateKeyFile: $T/c/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $SLAPD_MODS
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file://$SRC/conf/ldap/pam-recovery.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $SLAPD_SUFFIX
olcRootDN: $SLAPD_ROOT_DN
olcRootPW: secret
olcDbDirectory: $T/c/db
olcDbMaxSize: 67108864
olcDbIndex: objectClass eq
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by * read
LDIF
OUT=$(slapadd -n 0 -F "$T/c/cn=config" -l "$T/c/config.ldif" 2>&1)
check "cn=config built with slapadd from pam-recovery.ldif" test $? -eq 0
OUT=$(slaptest -u -F "$T/c/cn=config" 2>&1)
check "slaptest accepts the cn=config" has "config file testing succeeded"
slapd_seed | slapadd -q -n 1 -F "$T/c/cn=config" >"$T/c/slapadd.log" 2>&1
RC=0
slapd_start "$T/c" -F "$T/c/cn=config" || RC=$?
OUT=$(cat "$T/c/slapd.log")
check "slapd -F cn=config starts" test "$RC" -eq 0
H="ldap://127.0.0.1:$SLAPD_PORT/"
OUT=$(ldapmodify -Y EXTERNAL -H "$SLAPD_LDAPI" -f conf/ldap/acl.ldif 2>&1)
check "acl.ldif loads with ldapmodify -Y EXTERNAL" test $? -eq 0
OUT=$(ldapmodify -Y EXTERNAL -H "$SLAPD_LDAPI" -f conf/ldap/acl-self.ldif 2>&1)
check "acl-self.ldif loads after it" test $? -eq 0
OUT=$(ldapmodify -Y EXTERNAL -H "$SLAPD_LDAPI" -f conf/ldap/acl-repl.ldif 2>&1)
check "acl-repl.ldif loads after those" test $? -eq 0
OUT=$(ldapsearch -Y EXTERNAL -H "$SLAPD_LDAPI" -LLL -b "olcDatabase={1}mdb,cn=config" olcAccess 2>&1 |
    tr -d '\n' | sed 's/ //g')
check "the recovery rules come before the site's own (which open everything)" \
    sh -c 'printf "%s" "$1" | sed "s/.*ou=recovery//" | grep -q "}to\*by\*read"' sh "$OUT"
conf ca "$SLAPD_ADMIN_DN" adminpw
quick ca gen alice 3
check "cn=config server: admin writes alice's batch" test "$RC" -eq 0
C1=$(printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' | head -n 1)
check "cn=config server: anonymous reads no hash" test "$(hashes anon alice)" -eq 0
check "cn=config server: bob reads no hash of alice's" test "$(hashes bob alice)" -eq 0
check "cn=config server: the hosts' account reads 3" test "$(hashes host alice)" -eq 3
check "cn=config server: the replication account reads 3" test "$(hashes repl alice)" -eq 3
modify repl "uid=alice,$SLAPD_BASE" "replace: pamRecoveryLock" "pamRecoveryLock: 0 0 0 0 0"
check "cn=config server: the replication account cannot write" test "$RC" -eq 50
BATCH=$(ldapsearch -o ldif-wrap=no -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw -LLL \
    -b "uid=alice,$SLAPD_BASE" "(objectClass=pamRecoveryBatch)" dn 2>/dev/null |
    sed -n 's/^dn: //p' | head -n 1)
modify host "$BATCH" "add: pamRecoveryCode" "$FAKE"
check "cn=config server: the hosts' account cannot plant a code" test "$RC" -eq 50
conf chost "$SLAPD_HOST_DN" hostpw host_name=host-a
quick chost login alice "$C1"
check "cn=config server: a host consumes alice's code" has "ok slot 1"
slapd_stop "$T/c"

# ---- The store interface on the directory: the module's login ---------------
# ldapdrive auth is what the store helper does for one login: the status
# (rec_auth_status), then rec_auth_attempt, over rec_store_open_ldap; the
# codes are written with rec_ldap_write_batch.  Two hosts, as before.
mkdir "$T/l"
cp "$T/a/ca.pem" "$T/a/server.pem" "$T/a/server.key" "$T/l/"
slapd_conf "$T/l"
RC=0
slapd_start "$T/l" || RC=$?
OUT=$(cat "$T/l/slapd.log" 2>/dev/null)
check "store interface: a slapd with acl.conf starts" test "$RC" -eq 0
H="ldap://127.0.0.1:$SLAPD_PORT/"
conf sadmin "$SLAPD_ADMIN_DN" adminpw host_name=adminhost
conf shosta "$SLAPD_HOST_DN" hostpw host_name=host-a
conf shostb "$SLAPD_HOST_DN" hostpw host_name=host-b
conf s5a "$SLAPD_HOST_DN" hostpw host_name=host-a max_attempts=5
conf s5b "$SLAPD_HOST_DN" hostpw host_name=host-b max_attempts=5
# evals: the argon2id evaluations the last run, or the race, reported.
evals() { printf '%s\n' "$OUT" | sed -n 's/^kdf_evals=//p' | awk '{ s += $1 } END { print s + 0 }'; }
quick sadmin gen erin 8
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/erin.codes"
check "store interface: admin writes erin's batch of 8" test "$RC" -eq 0 -a "$(grep -c . "$T/erin.codes")" -eq 8
quick sadmin gen frank 1
WRONG=$(printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$')
E() { sed -n "${1}p" "$T/erin.codes"; }
drive shosta view erin
check "store interface: a view reads erin's batch and its 8 codes" has "ok batch 1 codes 8 unused 8 used 0 invalid 0 verified never failures 0"
drive shosta auth erin "$(E 1)"
check "store interface, host-a: erin's code #1 logs in (slot 1, 7 left)" has "ok slot 1 remaining 7"
check "... at the cost of one argon2id" test "$(evals)" -eq 1
drive shostb auth erin "$(E 1)"
check "store interface, host-b: the same code again is refused as used" \
    test "$RC" -eq 3 -a -n "$(printf '%s\n' "$OUT" | grep '^used$')"
quick shostb view erin
check "... erin: 7 unused, 1 used, the refused reuse counted as a failure" has "unused 7 used 1 invalid 0 verified never failures 1 "
check "... the last use recorded" has "last_used set"
ld ldapsearch admin -o ldif-wrap=no -LLL -b "uid=erin,$SLAPD_BASE" "(objectClass=pamRecoveryBatch)" pamRecoveryUsedCode
check "... the used mark names host-a" has " host-a"
quick sadmin events erin
check "... the audit trail holds the use, at host-a" has "event code_used host=host-a service=ldapdrive"
check "... and the refusal, at host-b" has "event code_rejected host=host-b service=ldapdrive"

# Lockout through the interface, seen at the other host.
quick shosta clear erin
for i in 1 2 3 4 5; do quick s5a auth erin "$WRONG"; done
check "store interface, max_attempts 5: the 5th wrong code at host-a is still hashed and refused" \
    sh -c 'printf "%s\n" "$1" | grep -q "^nomatch$" && printf "%s\n" "$1" | grep -q "^kdf_evals=1$"' sh "$OUT"
drive s5b auth erin "$WRONG"
check "... then host-b finds erin locked" has "locked"
check "... without evaluating a hash" test "$(evals)" -eq 0
quick s5b auth erin "$(E 2)"
check "... even with erin's right code" has "locked"
quick s5b view erin
check "... host-b sees the 5 failures and the lock" has "failures 5 "
check "... (locked_until set)" hasnt "locked_until 0 "
quick sadmin events erin
check "... the lock is in the audit trail" has "event locked host=host-a"
quick shosta clear erin
quick shosta auth erin "$WRONG"
quick shostb auth erin "$(E 2)"
check "store interface: a success after a failure" has "ok slot 2 remaining 6"
quick shosta view erin
check "... clears the lockout (one Modify with the last use)" has "failures 0 locked_until 0 last_used set"

# An unknown user costs what a known one does, and nothing is written.
drive shosta auth nobody "$(E 3)"
check "store interface: an unknown user is not enrolled" \
    test "$RC" -eq 3 -a -n "$(printf '%s\n' "$OUT" | grep '^notenrolled$')"
check "... after one (dummy) argon2id, as for a wrong code" test "$(evals)" -eq 1
ld ldapsearch admin -LLL -b "$SLAPD_BASE" "(uid=nobody)" dn
check "... and no entry is made for it" hasnt "dn:"

# Single use and lockout under concurrency, through the interface.
RA=shosta RB=shostb
for k in 3 4; do
	race 20 auth erin "$(E $k)"
	ok=$(cat "$T"/race.* | grep -c '^ok slot')
	used=$(cat "$T"/race.* | grep -c '^used$')
	OUT=$(cat "$T"/race.*)
	check "store interface: 20 parallel logins with code #$k over two hosts: exactly one success ($ok), 19 told it is used ($used)" \
	    test "$ok" -eq 1 -a "$used" -eq 19
done
quick shosta view erin
check "... erin then has 4 unused, 4 used" has "unused 4 used 4 invalid 0"
quick shosta clear erin
RA=s5a RB=s5b
race 30 auth erin "$WRONG"
OUT=$(cat "$T"/race.*)
n=$(cat "$T"/race.* | grep -c '^nomatch$')
l=$(cat "$T"/race.* | grep -c '^locked$')
e=$(evals)
check "store interface: 30 parallel wrong codes over two hosts, max_attempts 5: 5 hashed ($e), 5 refused as wrong ($n), 25 as locked ($l)" \
    test "$e" -le 5 -a "$n" -eq 5 -a "$l" -eq 25
unset RA RB
quick s5b view erin
check "... the directory holds exactly 5 failures" has "failures 5 "
quick shosta clear erin

# VERIFY: the batch is marked verified, the code stays unused.
drive sadmin verify erin "$(E 5)"
check "store interface: verifying code #5 accepts it, with nothing spent (4 left)" has "ok slot 5 remaining 4"
quick shosta view erin
check "... the batch is marked verified, 4 still unused" has "unused 4 used 4 invalid 0 verified set"
quick shostb auth erin "$(E 5)"
check "... and code #5 still logs in" has "ok slot 5 remaining 3"
drive shosta verify erin "$(E 6)"
check "... the hosts' account may not mark a batch verified (acl.conf): a store error" has "error permission"
quick shosta view erin
check "... and nothing of code #6 is spent" has "unused 3 used 5 invalid 0"

# A code mark's outcomes in their order of precedence, nothing written for
# a refusal; a lock update of both states, racing to create the entry.
drive shosta mark erin 1 used expired
check "store interface: marking used code #1 of an expired batch: used comes before expired" has "outcome used remaining 3"
drive shosta mark erin 7 used expired
check "... an unused code of an expired batch: expired" has "outcome expired remaining 3"
quick sadmin invalidate erin 8 admin:root
drive shosta mark erin 8 used expired
check "... an invalidated code of an expired batch: invalidated comes first" has "outcome invalidated remaining 2"
quick shosta view erin
check "... none of them changed a code" has "unused 2 used 5 invalid 1"
drive shosta mark erin 7 used
check "... code #7, in force: marked used" has "outcome ok remaining 1"
RA=sadmin RB=sadmin
race 20 lock gina both create
OUT=$(cat "$T"/race.*)
n=$(grep -h '^ok login ' "$T"/race.* | grep -c .)
d=$(grep -h '^ok login ' "$T"/race.* | sort -u | grep -c .)
check "store interface: 20 parallel lock updates of both states, creating gina's entry: 20 written ($n), 20 distinct ($d)" \
    test "$n" -eq 20 -a "$d" -eq 20
unset RA RB
drive sadmin lock gina both
check "... the next one finds 20 failures in each state" has "ok login 21 gen 21"
drive shosta lock nobody login
check "store interface: a lock update of a user without an entry: not there" \
    test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep '^error missing')"
ld ldapsearch admin -LLL -b "$SLAPD_BASE" "(uid=nobody)" dn
check "... and nothing made" hasnt "dn:"
slapd_stop "$T/l"

finish
