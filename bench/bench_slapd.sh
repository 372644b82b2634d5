#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench_slapd.sh: the throw-away slapd of item 11 (bench/bench_ldap.c), made
# the way the tests make theirs (tests/slapd.sh): slapd from the system, a
# test CA, the shipped schema and acl.conf, an mdb database in DIR/db, on
# free ports of 127.0.0.1 and an ldapi socket in DIR.  Never touches a
# system slapd; every server it starts is stopped by its PID.
#
# usage: bench_slapd.sh missing            why it cannot run, or nothing
#        bench_slapd.sh start DIR PID      make and start it; a watcher
#                                          stops it once process PID is gone
#        bench_slapd.sh fill DIR N USER    stop it, copy USER's entries
#                                          (slapcat) to N users u0000000..,
#                                          load them with slapadd -q, start
#        bench_slapd.sh stop DIR
# start and fill print "port=N" (ldap:// with StartTLS), "version=V" and fill also
# "ldif_bytes=N", "ldif_s=S", "slapadd_s=S" and "users=N" (the user
# entries the server then holds, counted by ldapsearch); the exit status says
# whether it worked (slapd's and slapadd's messages are in DIR/*.log).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

# The database may grow far beyond the tests' 64 MiB: a map of 16 GiB,
# of which the file takes only what is written.
MAXSIZE=17179869184

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

start() {
	slapd_start "$1" -f "$1/slapd.conf" || return 1
	echo "port=$SLAPD_PORT"
	echo "version=$(slapd -VV 2>&1 | sed -n 's/.*slapd \([0-9][0-9.]*\).*/\1/p' | head -n 1)"
}

case "${1:-}" in
missing)
	slapd_missing
	;;
start)
	d=$2 watch=$3
	slapd_pki "$d" || { echo "openssl failed" >&2; exit 1; }
	slapd_conf "$d" || { cat "$d/slapadd.log" >&2; exit 1; }
	sed -i "s/^maxsize .*/maxsize $MAXSIZE/" "$d/slapd.conf"
	start "$d" || { cat "$d/slapd.log" >&2; exit 1; }
	# Should the bench die without stopping it, the server goes too.
	(
		while kill -0 "$watch" 2>/dev/null; do sleep 1; done
		slapd_stop "$d"
	) </dev/null >/dev/null 2>&1 &
	;;
fill)
	d=$2 n=$3 user=$4
	slapd_stop "$d"
	t0=$(now)
	# The template's entries without what slapadd makes anew.  (The
	# whole database is small yet; slapcat -s crashes in slapd 2.5.13.)
	slapcat -f "$d/slapd.conf" -o ldif-wrap=no >"$d/all.ldif" 2>"$d/slapcat.log" || exit 1
	awk -v dn="uid=$user,$SLAPD_BASE" 'BEGIN { RS = ""; ORS = "\n\n" }
	{
		split($0, l, "\n")
		d = substr(l[1], 5)
		if (d == dn || substr(d, length(d) - length(dn)) == "," dn)
			print
	}' "$d/all.ldif" |
	    grep -Ev '^(entryUUID|entryCSN|creatorsName|createTimestamp|modifiersName|modifyTimestamp|structuralObjectClass):' \
	    >"$d/template.ldif" || exit 1
	grep -q "^dn: uid=$user," "$d/template.ldif" || {
		echo "slapcat found no entry of $user" >&2
		exit 1
	}
	# Each line cut once at the user's name; each filler user joins the
	# pieces around a name of its own.
	awk -v n="$n" -v user="$user" '
	{
		i = index($0, user)
		if (i == 0) { pre[NR] = $0; has[NR] = 0 }
		else {
			pre[NR] = substr($0, 1, i - 1)
			post[NR] = substr($0, i + length(user))
			has[NR] = 1
		}
	}
	END {
		for (u = 0; u < n; u++) {
			name = sprintf("u%07d", u)
			for (l = 1; l <= NR; l++)
				print has[l] ? pre[l] name post[l] : pre[l]
			print ""
		}
	}' "$d/template.ldif" >"$d/fill.ldif" || exit 1
	t1=$(now)
	slapadd -q -f "$d/slapd.conf" -l "$d/fill.ldif" >"$d/fill.log" 2>&1 || {
		tail -n 20 "$d/fill.log" >&2
		exit 1
	}
	t2=$(now)
	echo "ldif_bytes=$(wc -c <"$d/fill.ldif")"
	echo "ldif_s=$(secs "$t0" "$t1")"
	echo "slapadd_s=$(secs "$t1" "$t2")"
	rm -f "$d/fill.ldif" "$d/all.ldif"
	start "$d" || { cat "$d/slapd.log" >&2; exit 1; }
	# What the server holds now, counted by the root DN (no size limit).
	echo "users=$(ldapsearch -x -H "$SLAPD_LDAPI" -D "$SLAPD_ROOT_DN" -w secret -LLL \
	    -b "$SLAPD_BASE" -s one "(objectClass=pamRecoveryUser)" 1.1 | grep -c '^dn:')"
	;;
stop)
	slapd_stop "$2"
	;;
*)
	echo "usage: bench_slapd.sh missing | start DIR PID | fill DIR N USER | stop DIR" >&2
	exit 1
	;;
esac
