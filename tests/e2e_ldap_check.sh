#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_check.sh: pam-recovery-admin check on a directory store (store =
# ldap) against throw-away slapds of the test's own (tests/slapd.sh), run as
# an administrator would, on a configuration file, no root needed: all OK
# with the shipped schema and ACLs (and the ACL probes change nothing);
# failures for plain ldap:// with ldap_insecure, a certificate that does not
# verify, a slapd that lets anyone read everything, the schema not loaded or
# different, a stopped or silent directory (within ldap_timeout); warnings
# for a hosts' account that reads passwords or writes too much.
set -u
suite=e2e_ldap_check
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

slapd_suite_skips novalgrind
T=$(mktemp -d) || exit 1
SILENT=
cleanup() {
	for d in a o n m u; do slapd_stop "$T/$d" & done
	wait
	[ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
SRC=$(pwd)
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
for d in a o n m u; do mkdir "$T/$d"; done

# check_with NAME [OPTIONS]: check with NAME's configuration; output in
# OUT, status in RC, the time it took in MS.
check_with() {
	n=$1
	shift
	t0=$(date +%s%N)
	OUT=$(timeout 60 $VG "$BIN/pam-recovery-admin" -c "$T/$n.conf" check "$@" 2>&1)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	vgcheck pam-recovery-admin
}
# line STATUS TEXT: a report line with that status holds TEXT.
line() { printf '%s\n' "$OUT" | grep "^$1 " | grep -qF -- "$2"; }

# conf NAME URI [KEY=VALUE...]: a configuration of the hosts' account; the
# KEY=VALUE pairs replace the defaults below (an empty VALUE drops the key)
# or add keys.
conf() {
	n=$1 uri=$2
	shift 2
	printf 'hostpw\n' >"$T/$n.pw"
	chmod 0600 "$T/$n.pw"
	for kv in store=ldap "ldap_uri=$uri" "ldap_base=$SLAPD_BASE" \
	    "ldap_bind_dn=$SLAPD_HOST_DN" "ldap_bind_pw_file=$T/$n.pw" \
	    "ldap_ca_file=$T/a/ca.pem" ldap_timeout=2 kdf_opslimit=1 \
	    kdf_memlimit=8K "$@"; do
		k=${kv%%=*}
		v=$(for o in "$@"; do case "$o" in "$k="*) echo "${o#*=}" ;; esac; done | tail -n 1)
		[ -n "$v" ] || case " $* " in *" $k= "*) continue ;; *) v=${kv#*=} ;; esac
		grep -q "^$k = " "$T/$n.conf" 2>/dev/null && continue
		echo "$k = $v" >>"$T/$n.conf"
	done
	chmod 0644 "$T/$n.conf"
}

# ---- The shipped schema and ACLs ---------------------------------------------
RC=0
slapd_pki "$T/a" || RC=$?
for d in o n m u; do cp "$T/a/ca.pem" "$T/a/server.pem" "$T/a/server.key" "$T/$d/"; done
slapd_conf "$T/a" >/dev/null 2>&1 || RC=$?
slapd_start "$T/a" || RC=$?
slapd_started "$RC" "$T/a" "slapd with the shipped schema and ACLs starts"
# As many definitions as the shipped schema has: check's table is made
# from it.
NDEF=$(grep -ciE '^(attributetype|objectclass) ' conf/ldap/pam-recovery.schema)
H="ldap://127.0.0.1:$SLAPD_PORT/"
HS="ldaps://127.0.0.1:$SLAPD_SPORT/"
LDAPI=$SLAPD_LDAPI

conf ok "$H"
check_with ok
check "shipped ACLs, no codes yet: check exits 0" test "$RC" -eq 0
check "... no failure, no warning but the hash cost's" sh -c 'printf "%s\n" "$0" | grep -q "0 failures" && ! printf "%s\n" "$0" | grep "^WARN " | grep -qv " hash cost: "' "$OUT"
check "... connected and bound as the hosts' account, timed" line OK "connected and bound as dn:$SLAPD_HOST_DN in"
check "... StartTLS, the certificate verified" line OK "(TLS): StartTLS, "
check "... all $NDEF types and classes of the schema" line OK "(schema): all $NDEF types and classes"
check "... ldap_base readable" line OK "(ldap_base): $SLAPD_BASE exists and is readable"
check "... the hosts' account reads no other userPassword" line OK "reads no userPassword below $SLAPD_SUFFIX"
check "... a login's writes allowed, probed on ldap_base" line OK "may count attempts, record uses and consume codes (probed on $SLAPD_BASE: no user has codes yet"
check "... no write outside ldap_base" line OK "may not write outside ldap_base (probed on $SLAPD_SUFFIX)"
check "... anonymous reads and compares no hash" line OK "(anonymous): anonymous reads no hash below ldap_base, nor compares one"
# A tiny cost is a warning when fast, plain OK when slow (valgrind).
check "... the hash cost is measured as for a local store" line '\(OK\|WARN\)' "hash cost: one argon2id (opslimit 1, memlimit 8 KiB) took"

# With codes issued (as the administrators' account), the probes run on a
# user's entry and active batch, and change nothing there.
printf 'adminpw\n' >"$T/admin.pw"
chmod 0600 "$T/admin.pw"
cat >"$T/admin.conf" <<EOF
ldap_uri = $H
ldap_base = $SLAPD_BASE
ldap_bind_dn = $SLAPD_ADMIN_DN
ldap_bind_pw_file = $T/admin.pw
ldap_ca_file = $T/a/ca.pem
kdf_opslimit = 1
kdf_memlimit = 8K
EOF
OUT=$("$BIN/ldapdrive" "$T/admin.conf" gen alice 3 2>&1)
check "three codes issued for alice" test "$?" -eq 0
dump() {
	ldapsearch -x -ZZ -H "$H" -D "$SLAPD_ROOT_DN" -w secret -o ldif-wrap=no -LLL \
	    -b "$SLAPD_SUFFIX" '(objectClass=*)' '*' '+' 2>/dev/null |
	    grep -v '^\(modifyTimestamp\|entryCSN\|contextCSN\):'
}
dump >"$T/before.ldif"
check_with ok
check "with codes: check exits 0" test "$RC" -eq 0
check "... the login's writes probed on alice's active batch" line OK "(probed on pamRecoveryBatchId="
dump >"$T/after.ldif"
OUT=$(diff "$T/before.ldif" "$T/after.ldif")
check "... every entry unchanged by the probes, operational attributes too" test -z "$OUT" -a -s "$T/after.ldif"
check_with ok --json
check "check --json: one document, ok" sh -c 'printf "%s\n" "$0" | python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(0 if d[\"ok\"] and any(\"(schema)\" in c[\"item\"] for c in d[\"checks\"]) else 1)"' "$OUT"

# ldaps:// and ldapi:// (SASL EXTERNAL: root mapped to the hosts' account
# where the test runs as root), each URI on its own, with ldap_write_uri.
conf multi "$HS" "ldap_write_uri=$H"
check_with multi
check "ldaps:// to read, StartTLS to write: exit 0" test "$RC" -eq 0
check "... the ldaps:// URI used for reads, TLS from the first byte" line OK "$HS (connect): for reads: connected"
check "... the ldap_write_uri used for writes" line OK "$H (connect): for reads and writes: connected"
check "... the write probes run on the write URI only" test "$(printf '%s\n' "$OUT" | grep -c '(writes): the bound account may count')" -eq 1
conf ext "$LDAPI" "ldap_bind_dn=" "ldap_bind_pw_file="
check_with ext
if [ "$(id -u)" -eq 0 ]; then
	check "ldapi:// with SASL EXTERNAL: exit 0, no TLS needed" sh -c '[ "$0" -eq 0 ]' "$RC"
	check "... no TLS needed" line OK "(TLS): a local socket: no TLS needed"
else
	check "ldapi:// with SASL EXTERNAL as a user slapd does not map: a failure" test "$RC" -ne 0
fi

# ---- Failures -----------------------------------------------------------------
conf insecure "$H" ldap_starttls=no ldap_insecure=yes
check_with insecure
check "ldap:// with ldap_insecure = yes: exit 1" test "$RC" -eq 1
check "... a failure saying insecure" line FAIL "ldap_uri: $H: insecure: ldap:// without StartTLS (ldap_insecure = yes)"
check "... and the connection has no TLS" line FAIL "(TLS): insecure: no TLS on this connection"
conf plain "$H" ldap_starttls=no
check_with plain
check "ldap:// without StartTLS nor ldap_insecure: exit 1, the configuration refused" sh -c '[ "$0" -eq 1 ] && printf "%s\n" "$1" | grep -q "^FAIL  configuration: .*ldap_starttls: is no, and $2 is a plain ldap:// URI"' "$RC" "$OUT" "$H"
conf wrongca "$H" "ldap_ca_file=$T/a/other-ca.pem"
check_with wrongca
check "StartTLS, another CA: exit 1, certificate verify failed" sh -c '[ "$0" -eq 1 ]' "$RC"
check "... said so" line FAIL "(TLS): certificate verify failed"
conf wrongcas "$HS" "ldap_ca_file=$T/a/other-ca.pem"
check_with wrongcas
check "ldaps://, another CA: certificate verify failed" line FAIL "$HS (TLS): certificate verify failed"
conf badpw "$H"
printf 'wrong\n' >"$T/badpw.pw"
check_with badpw
check "a wrong bind password: exit 1, refused credentials" sh -c '[ "$0" -eq 1 ] && printf "%s\n" "$1" | grep -q "^FAIL .*(connect): permission denied"' "$RC" "$OUT"
conf loose "$H"
chmod 0640 "$T/loose.pw"
check_with loose
check "a bind password file readable by its group: a failure naming it" line FAIL "loose.pw: readable or usable by group or other (mode 0640)"
conf nobase "$H" "ldap_base=ou=nowhere,$SLAPD_SUFFIX"
check_with nobase
check "an ldap_base that does not exist: a failure" line FAIL "(ldap_base): ou=nowhere,$SLAPD_SUFFIX does not exist"
check "... and no write probe on it" hasnt "(writes)"

# mini_conf DIR SCHEMA ACLS...: slapd.conf with SCHEMA (a file, or "" for
# none) and the access lines given, the seed loaded.
mini_conf() {
	d=$1 schema=$2
	shift 2
	mkdir -p "$d/db"
	slapd_global "$d" | sed "s|^include .*pam-recovery.schema\$|${schema:+include $schema}|" >"$d/slapd.conf"
	for a in "$@"; do printf '%s\n' "$a"; done >>"$d/slapd.conf"
	slapd_seed "$d" >"$d/seed.ldif"
	slapadd -q -f "$d/slapd.conf" -l "$d/seed.ldif" >"$d/slapadd.log" 2>&1
}
# start DIR NAME: start it and write the configuration NAME for it.
start() {
	RC=0
	slapd_start "$1" || RC=$?
	OUT=$(cat "$1/slapd.log" "$1/slapadd.log" 2>/dev/null)
	check "slapd $2 starts" test "$RC" -eq 0
	conf "$2" "ldap://127.0.0.1:$SLAPD_PORT/"
}

# Anyone reads everything, hashes included.
mini_conf "$T/o" "$SRC/conf/ldap/pam-recovery.schema" 'access to * by * read'
start "$T/o" open
sed -e "s|^ldap_uri.*|ldap_uri = ldap://127.0.0.1:$SLAPD_PORT/|" \
    -e "s|^ldap_bind_dn.*|ldap_bind_dn = $SLAPD_ROOT_DN|" "$T/admin.conf" >"$T/oroot.conf"
printf 'secret\n' >"$T/admin.pw"
OUT=$("$BIN/ldapdrive" "$T/oroot.conf" gen alice 3 2>&1)
check "codes issued there (as the root DN)" test "$?" -eq 0
check_with open
check "access to * by * read: exit 1" test "$RC" -eq 1
check "... hashes exposed to anyone" line FAIL "(anonymous): anyone can read pamRecoveryCode of 1 entry below ldap_base (pamRecoveryBatchId="
check "... and the hosts' account may not make a login's writes" line FAIL "(writes): the bound account may not count attempts (pamRecoveryLock), record a use (pamRecoveryLastUsed), consume a code"
check "... and it reads other entries' userPassword" line WARN "(bound account): reads userPassword of"

# The schema not loaded (nothing below ldap_base can exist then).
mini_conf "$T/n" "" 'access to * by * read'
start "$T/n" noschema
check_with noschema
check "the schema not loaded: exit 1" test "$RC" -eq 1
check "... said so" line FAIL "(schema): not loaded: none of the $NDEF types and classes of pam-recovery.schema is known to the server"
check "... and no write probe (nothing to probe with)" hasnt "(writes)"

# A schema of another version: one type with another OID, another with
# another equality rule, one class left out.
python3 - "$SRC/conf/ldap/pam-recovery.schema" "$T/m/other.schema" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = s.replace("619.1.32 NAME 'pamRecoveryHost'", "619.1.99 NAME 'pamRecoveryHost'")
s = re.sub(r"(NAME 'pamRecoveryCode'\s+DESC '[^']*'\s+EQUALITY) caseExactIA5Match", r"\1 caseIgnoreIA5Match", s)
s = re.sub(r"objectclass \( [0-9.]+\.2\.3 NAME 'pamRecoveryEvent'.*?\)\s*\)", "", s, flags=re.S)
open(sys.argv[2], "w").write(s)
PY
mini_conf "$T/m" "$T/m/other.schema" 'access to * by * read'
start "$T/m" otherschema
check_with otherschema
check "a schema of another version: 3 differences listed" line FAIL "(schema): 3 of the $NDEF types and classes"
check "... another OID" line FAIL "pamRecoveryHost is 2.25.203232167919455891474112604897570647619.1.99 EQUALITY caseExactMatch, not 2.25.203232167919455891474112604897570647619.1.32"
check "... another equality rule" line FAIL "pamRecoveryCode is 2.25.203232167919455891474112604897570647619.1.19 EQUALITY caseIgnoreIA5Match, not"
check "... a class missing" line FAIL "pamRecoveryEvent missing"

# A hosts' account that can do too much: read passwords, write outside
# ldap_base, add codes.  The shipped rules after these.
mini_conf "$T/u" "$SRC/conf/ldap/pam-recovery.schema" \
    "access to attrs=pamRecoveryCode by dn.exact=\"$SLAPD_HOST_DN\" write by * break" \
    "access to dn.base=\"$SLAPD_SUFFIX\" attrs=description by dn.exact=\"$SLAPD_HOST_DN\" write by * break" \
    "include $SRC/conf/ldap/acl.conf" \
    "access to attrs=userPassword by dn.exact=\"$SLAPD_HOST_DN\" read by anonymous auth by * none" \
    'access to * by * read'
start "$T/u" lax
check_with lax
check "a lax hosts' account: exit 0 (warnings only)" test "$RC" -eq 0
check "... it reads userPassword of the other accounts" line WARN "(bound account): reads userPassword of 4 entries below $SLAPD_SUFFIX"
check "... it may write outside ldap_base" line WARN "may write outside ldap_base (description of $SLAPD_SUFFIX)"
check "... it may plant codes" line WARN "may add pamRecoveryCode values"
check "... and still do what a login needs" line OK "may count attempts, record uses and consume codes"

# ---- A silent or stopped directory: a failure within ldap_timeout -------------
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); s.settimeout(0.2)
print(s.getsockname()[1], flush=True)
held = []; end = time.time() + 30
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' >"$T/silent.port" &
SILENT=$!
i=0
while [ ! -s "$T/silent.port" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SP=$(cat "$T/silent.port")
conf silent "ldap://127.0.0.1:$SP/" ldap_timeout=1
check_with silent
echo "# a silent directory: check took $MS ms with ldap_timeout = 1"
check "a silent directory: exit 1, a timeout" sh -c '[ "$0" -eq 1 ] && printf "%s\n" "$1" | grep -q "^FAIL .*(connect): .*after [0-9]* ms"' "$RC" "$OUT"
check "... within a few ldap_timeouts, not hanging" test "$MS" -lt 8000
conf silents "ldaps://127.0.0.1:$SP/" ldap_timeout=1
check_with silents
echo "# a silent directory over ldaps://: check took $MS ms with ldap_timeout = 1"
check "a silent directory over ldaps:// (TLS handshake): exit 1" sh -c '[ "$0" -eq 1 ] && printf "%s\n" "$1" | grep -q "^FAIL .*127.0.0.1:$2/ (\(connect\|TLS\))"' "$RC" "$OUT" "$SP"
check "... not taken for a certificate that does not verify" hasnt "certificate verify failed"
check "... within a few ldap_timeouts, not hanging" test "$MS" -lt 8000
kill "$SILENT" 2>/dev/null
SILENT=
slapd_stop "$T/a"
check_with ok
echo "# a stopped directory: check took $MS ms"
check "a stopped directory: exit 1, cannot connect" sh -c '[ "$0" -eq 1 ] && printf "%s\n" "$1" | grep -q "^FAIL .*(connect): .*cannot connect"' "$RC" "$OUT"
# At once: no retry, no timeout spent (valgrind costs a second or two).
check "... at once" test "$MS" -lt "$([ -n "$VG" ] && echo 6000 || echo 3000)"

finish
