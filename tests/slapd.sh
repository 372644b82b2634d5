# SPDX-License-Identifier: BSD-2-Clause
# slapd.sh: a throw-away slapd for the directory-store tests (sourced, not
# run).  Provides: slapd_missing (why the tests must skip, or nothing),
# slapd_pki DIR (a test CA and a server certificate for 127.0.0.1, made
# now), slapd_conf DIR [self] [provider] (slapd.conf: the shipped schema and
# ACLs, an mdb database in DIR/db; provider adds syncprov and acl-repl.conf),
# slapd_consumer_conf DIR URI (a syncrepl consumer of the provider at URI,
# refreshAndPersist over StartTLS, its database empty until replicated),
# slapd_start DIR (on a free loopback port with StartTLS, ldaps and an ldapi
# socket in DIR; sets SLAPD_PORT, SLAPD_SPORT, SLAPD_LDAPI), slapd_synced
# LDAPI LDAPI N (both servers hold the same contextCSN, bounded),
# slapd_stop DIR (by its PID); for the suites, slapd_suite_skips and
# slapd_started.  Never touches a system slapd:
# every file, port and socket is the test's own.
# Entries: suffix dc=example,dc=org, root cn=root (password "secret"), the
# recovery subtree ou=recovery, the hosts' account
# cn=pam-recovery-host,ou=services (password "hostpw"), the administrators'
# cn=pam-recovery-admin,ou=services ("adminpw"), the consumers' replication
# account cn=pam-recovery-replica,ou=services ("replpw"), users
# uid=NAME,ou=people (password NAME-pw), and root over ldapi mapped to the
# hosts' account.

SLAPD_SUFFIX="dc=example,dc=org"
SLAPD_BASE="ou=recovery,$SLAPD_SUFFIX"
SLAPD_HOST_DN="cn=pam-recovery-host,ou=services,$SLAPD_SUFFIX"
SLAPD_ADMIN_DN="cn=pam-recovery-admin,ou=services,$SLAPD_SUFFIX"
SLAPD_ROOT_DN="cn=root,$SLAPD_SUFFIX"
SLAPD_REPL_DN="cn=pam-recovery-replica,ou=services,$SLAPD_SUFFIX"
SLAPD_MODS=/usr/lib/ldap

slapd_missing() {
	for p in slapd slapadd slaptest ldapsearch ldapmodify ldapadd openssl python3; do
		PATH=$PATH:/usr/sbin:/sbin command -v "$p" >/dev/null || { echo "$p not installed"; return; }
	done
	for m in back_mdb syncprov; do
		[ -e "$SLAPD_MODS/$m.so" ] || [ -e "$SLAPD_MODS/$m.la" ] ||
		    { echo "slapd's $m module not in $SLAPD_MODS"; return; }
	done
}

# slapd_suite_skips [novalgrind]: say the suite is skipped and exit 0 when
# slapd's programs are missing, or with novalgrind under valgrind
# (skip_under_valgrind in lib.sh).
slapd_suite_skips() {
	[ "${1:-}" = novalgrind ] && skip_under_valgrind
	why=$(slapd_missing)
	if [ -n "$why" ]; then
		echo "$suite: skipped ($why; install slapd ldap-utils openssl python3)"
		exit 0
	fi
}

# slapd_started RC DIR NAME: the check NAME that the slapd of DIR started
# (RC 0), with its logs when not; a slapd that did not start ends the suite.
slapd_started() {
	OUT=$(cat "$2/slapadd.log" "$2/slapd.log" 2>/dev/null)
	check "$3" test "$1" -eq 0
	if [ "$1" -ne 0 ]; then
		finish
		exit 1
	fi
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on just now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

slapd_pki() {
	d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=pam_recovery test CA" \
	    -keyout "$d/ca.key" -out "$d/ca.pem" \
	    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	    >/dev/null 2>&1 || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
	    -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem" >/dev/null 2>&1 || return 1
	# A second CA that signed nothing here: verification must fail with it.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=another CA" \
	    -keyout "$d/other-ca.key" -out "$d/other-ca.pem" >/dev/null 2>&1
}

# slapd_global DIR [provider]: slapd.conf up to the database's rules.
slapd_global() {
	d=$1
	echo "include /etc/ldap/schema/core.schema"
	echo "include $(pwd)/conf/ldap/pam-recovery.schema"
	echo "pidfile $d/slapd.pid"
	echo "argsfile $d/slapd.args"
	echo "modulepath $SLAPD_MODS"
	echo "moduleload back_mdb"
	case " $* " in *" provider "*) echo "moduleload syncprov" ;; esac
	echo "TLSCACertificateFile $d/ca.pem"
	echo "TLSCertificateFile $d/server.pem"
	echo "TLSCertificateKeyFile $d/server.key"
	# slapd.conf unescapes once more: "\\+" is a regex's literal '+'.
	printf '%s\n' "authz-regexp \"^gidNumber=0\\\\+uidNumber=0,cn=peercred,cn=external,cn=auth\$\" \"$SLAPD_HOST_DN\""
	echo "database mdb"
	echo "maxsize 67108864"
	echo "suffix \"$SLAPD_SUFFIX\""
	echo "rootdn \"$SLAPD_ROOT_DN\""
	echo "rootpw secret"
	echo "directory $d/db"
	echo "index objectClass eq"
	echo "index entryCSN,entryUUID eq"
	case " $* " in
	*" provider "*)
		echo "limits dn.exact=\"$SLAPD_REPL_DN\" size=unlimited time=unlimited"
		;;
	esac
}

# slapd_acls [self] [provider]: the shipped rules, then the site's own:
# passwords for binding only (and for the replication account to copy),
# everything else open, so the rules above must hold on their own.
slapd_acls() {
	src=$(pwd)
	repl=
	for o in "$@"; do
		case "$o" in
		provider)
			echo "include $src/conf/ldap/acl-repl.conf"
			repl="by dn.exact=\"$SLAPD_REPL_DN\" read "
			;;
		esac
	done
	for o in "$@"; do
		[ "$o" = self ] && echo "include $src/conf/ldap/acl-self.conf"
	done
	echo "include $src/conf/ldap/acl.conf"
	echo "access to attrs=userPassword ${repl}by anonymous auth by * none"
	echo "access to * by * read"
}

# slapd_conf DIR [self] [provider]: self adds acl-self.conf before acl.conf;
# provider makes it a syncrepl provider (syncprov, acl-repl.conf, no limits
# for the replication account).  The seed is loaded with slapadd.
slapd_conf() {
	d=$1
	shift
	mkdir -p "$d/db"
	{
		slapd_global "$d" "$@"
		slapd_acls "$@"
		case " $* " in
		*" provider "*)
			echo "overlay syncprov"
			echo "syncprov-checkpoint 100 10"
			;;
		esac
	} >"$d/slapd.conf"
	slapd_seed "$d" >"$d/seed.ldif"
	slapadd -q -f "$d/slapd.conf" -l "$d/seed.ldif" >"$d/slapadd.log" 2>&1
}

# slapd_consumer_conf DIR URI: a syncrepl consumer of the provider at URI
# (ldap://, StartTLS verified with DIR/ca.pem), bound as the replication
# account, refreshAndPersist, retrying every second; writes are referred to
# URI.  The same shipped ACLs as the provider (ACLs are configuration, not
# replicated data).  DIR/db is kept when it exists: calling it again with
# another URI (one nothing listens on) and restarting leaves the consumer
# serving what it holds, replication stopped.  Short syncrepl timeouts
# (a failed round is retried a second later) let it stop in 2-3 s, not 7.
slapd_consumer_conf() {
	d=$1 uri=$2
	mkdir -p "$d/db"
	{
		slapd_global "$d"
		printf 'syncrepl rid=001\n\tprovider=%s\n' "$uri"
		printf '\tbindmethod=simple\n\tbinddn="%s"\n\tcredentials=replpw\n' "$SLAPD_REPL_DN"
		printf '\tsearchbase="%s"\n\ttype=refreshAndPersist\n\tretry="1 +"\n' "$SLAPD_SUFFIX"
		printf '\ttimeout=1\n\tnetwork-timeout=1\n'
		printf '\tstarttls=critical\n\ttls_cacert=%s\n\ttls_reqcert=demand\n' "$d/ca.pem"
		echo "updateref $uri"
		slapd_acls
	} >"$d/slapd.conf"
}

# slapd_synced LDAPI LDAPI N: up to N tries, a tenth of a second apart,
# until both servers name the same non-empty contextCSN for the suffix.
slapd_synced() {
	i=0
	while [ "$i" -lt "$3" ]; do
		a=$(slapd_csn "$1") b=$(slapd_csn "$2")
		[ -n "$a" ] && [ "$a" = "$b" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
slapd_csn() {
	ldapsearch -x -H "$1" -o ldif-wrap=no -LLL -b "$SLAPD_SUFFIX" -s base contextCSN 2>/dev/null |
	    sed -n 's/^contextCSN: //p' | sort | tr '\n' ' '
}

# The entries every test starts from.
slapd_seed() {
	cat <<LDIF
dn: $SLAPD_SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=services,$SLAPD_SUFFIX
objectClass: organizationalUnit
ou: services

dn: ou=people,$SLAPD_SUFFIX
objectClass: organizationalUnit
ou: people

dn: $SLAPD_BASE
objectClass: organizationalUnit
ou: recovery

dn: $SLAPD_HOST_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: pam-recovery-host
userPassword: hostpw

dn: $SLAPD_ADMIN_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: pam-recovery-admin
userPassword: adminpw

dn: $SLAPD_REPL_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: pam-recovery-replica
userPassword: replpw
LDIF
	for u in alice bob; do
		printf '\ndn: uid=%s,ou=people,%s\nobjectClass: applicationProcess\nobjectClass: uidObject\nobjectClass: simpleSecurityObject\ncn: %s\nuid: %s\nuserPassword: %s-pw\n' \
		    "$u" "$SLAPD_SUFFIX" "$u" "$u" "$u"
	done
}

# slapd_urlpath PATH: PATH with '/' as %2F, for an ldapi:// URI.
slapd_urlpath() { printf '%s' "$1" | sed 's,/,%2F,g'; }

# slapd_wait URI N: up to N tries, a tenth of a second apart.
slapd_wait() {
	i=0
	while [ "$i" -lt "$2" ]; do
		ldapsearch -x -H "$1" -b "" -s base -LLL namingContexts >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# slapd_start DIR [slapd options...]: start slapd -f DIR/slapd.conf (or the
# options given, e.g. -F DIR/cn=config), wait for it, bounded.
slapd_start() {
	d=$1
	shift
	[ $# -gt 0 ] || set -- -f "$d/slapd.conf"
	tries=0
	while [ "$tries" -lt 5 ]; do
		SLAPD_PORT=$(free_port) && SLAPD_SPORT=$(free_port) || return 1
		SLAPD_LDAPI="ldapi://$(slapd_urlpath "$d/ldapi")"
		rm -f "$d/slapd.pid"
		slapd "$@" -h "ldap://127.0.0.1:$SLAPD_PORT/ ldaps://127.0.0.1:$SLAPD_SPORT/ $SLAPD_LDAPI" \
		    >"$d/slapd.log" 2>&1 || { tries=$((tries + 1)); continue; }
		# slapd forks; its pidfile names the daemon.
		if slapd_wait "$SLAPD_LDAPI" 100; then
			export SLAPD_PORT SLAPD_SPORT SLAPD_LDAPI
			return 0
		fi
		slapd_stop "$d"
		tries=$((tries + 1))
	done
	return 1
}

slapd_stop() {
	d=$1
	[ -s "$d/slapd.pid" ] || return 0
	pid=$(cat "$d/slapd.pid")
	kill -CONT "$pid" 2>/dev/null	# a test may have stopped it
	kill "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$d/slapd.pid"
}
