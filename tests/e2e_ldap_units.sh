#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_units.sh: the store-level and auth unit tests (test_auth,
# test_admin, test_purge, test_slots, test_deep, test_migrate, and of
# test_store the operations' own) run again on the directory store, so
# that it is held to what the LMDB store is: one throw-away slapd
# (tests/slapd.sh), a configuration with store = ldap bound as the
# administrators' account, and each binary run with REC_TEST_STORE=ldap
# REC_TEST_LDAP_CONF=FILE (tests/testldap.h: every test starts from an
# empty subtree; those that plant LMDB records or test what only LMDB
# has say why they skip).  Each binary is one check; its cmocka summary
# is printed.  All take some 6 s, under valgrind (VG) some 60 s.
set -u
suite=e2e_ldap_units
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

UNITS="test_auth test_admin test_purge test_slots test_deep test_migrate test_store"

slapd_suite_skips
T=$(mktemp -d) || exit 1
cleanup() {
	slapd_stop "$T/a"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir "$T/a"
t0=$(date +%s)

# A throw-away database need not reach the disk at every write; the
# administrators' account needs no limit on paged searches
# (conf/ldap/README), as in e2e_ldap_admin.sh.
RC=0
{ slapd_pki "$T/a" && slapd_conf "$T/a" && echo dbnosync >>"$T/a/slapd.conf" &&
    echo "limits dn.exact=\"$SLAPD_ADMIN_DN\" size.prtotal=unlimited" >>"$T/a/slapd.conf" &&
    slapd_start "$T/a"; } || RC=$?
slapd_started "$RC" "$T/a" "a slapd with the shipped schema and ACLs starts"

printf 'adminpw\n' >"$T/admin.pw"
chmod 0600 "$T/admin.pw"
cat >"$T/units.conf" <<EOF
store = ldap
ldap_uri = ldap://127.0.0.1:$SLAPD_PORT/
ldap_base = $SLAPD_BASE
ldap_bind_dn = $SLAPD_ADMIN_DN
ldap_bind_pw_file = $T/admin.pw
ldap_ca_file = $T/a/ca.pem
ldap_timeout = 5
kdf_opslimit = 1
kdf_memlimit = 8K
host_name = unit-host
EOF
chmod 0644 "$T/units.conf"

for u in $UNITS; do
	if [ ! -x "$BIN/$u" ]; then
		OUT="$BIN/$u not built (make tests)"
		check "$u on the directory store" false
		continue
	fi
	s0=$(date +%s)
	OUT=$(REC_TEST_STORE=ldap REC_TEST_LDAP_CONF="$T/units.conf" \
	    $VG "$BIN/$u" 2>&1)
	RC=$?
	vgcheck "$u"
	printf '%s\n' "$OUT" | grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test' |
	    sed -e 's/, listed below://' -e "s/^/# $u: /"
	check "$u on the directory store ($(($(date +%s) - s0)) s)" \
	    test "$RC" -eq 0 -a -n "$(printf '%s\n' "$OUT" | grep '^\[  PASSED  \]')"
done

echo "# the suite took $(($(date +%s) - t0)) s"
finish
