#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_sshd.sh: as root, store = ldap behind a real sshd (issue #13 item
# 4): while the directory accepts TCP and never answers, an SSH login that
# asks for a recovery code fails with PAM_AUTHINFO_UNAVAIL within the
# configured ldap_timeout, the module logs why, nothing ever logs in; and
# meanwhile sshd serves other logins (public keys) at once.  A directory
# port nothing listens on fails fast.  sshd runs as in tests/e2e_sshd.sh (a
# loopback port, its own PAM service through a symbolic link's name), in a
# private mount namespace whose /dev/log is tests/syslogcap.sh's, so the
# module's and its store helper's syslog lines are read back.
set -u
suite=e2e_ldap_sshd
. tests/lib.sh
. tests/slapd.sh
skip_under_valgrind
PATH=$PATH:/usr/sbin:/sbin

skip() { echo "e2e_ldap_sshd: skipped ($1)"; finish; exit $?; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in "$SSHD" ssh ssh-keygen useradd userdel setsid timeout unshare perl python3 openssl; do
	command -v "$p" >/dev/null ||
	    skip "needs $p (openssh-server, openssh-client, passwd, util-linux, perl, python3, openssl)"
done

# The directory's timeout, seconds: long enough that the logins below fit
# inside one hanging login, short enough to keep the suite quick.
TMO=3
U=prl$$
K=prk$$
SVC=pam-recovery-lsshd-$$
T=$(mktemp -d) || exit 1
SILENT=
cleanup() {
	# sshd itself (its PID file); the capture around it then ends by
	# itself (bounded), or sshd_stop ends it.
	if [ -n "$SSHD_PID" ] && [ -s "$T/sshd.pid" ]; then
		kill "$(cat "$T/sshd.pid")" 2>/dev/null
		i=0
		while kill -0 "$SSHD_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	sshd_stop
	[ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null && wait "$SILENT" 2>/dev/null
	rm -f "/etc/pam.d/$SVC"
	userdel -r "$U" >/dev/null 2>&1
	userdel -r "$K" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 0755 "$T"
useradd -m -s /bin/sh "$U" || { failed "useradd $U"; finish; exit 1; }
useradd -m -s /bin/sh "$K" || { failed "useradd $K"; finish; exit 1; }
now() { echo $(($(date +%s%N) / 1000000)); }

# --- the publickey user ---------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/user_ed25519" || { failed "ssh-keygen"; finish; exit 1; }
KH=$(getent passwd "$K" | cut -d: -f6)
install -d -m 0700 -o "$K" "$KH/.ssh"
install -m 0600 -o "$K" "$T/user_ed25519.pub" "$KH/.ssh/authorized_keys"

# --- a silent directory: accepts, never answers ----------------------------------
# Each accepted connection is one line in silent.acc: the test sees when a
# store helper is waiting on it.
: >"$T/silent.acc"
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); s.settimeout(0.2)
print(s.getsockname()[1]); sys.stdout.flush()
acc = open(sys.argv[1], "a")
held = []
for _ in range(3000):
    try:
        held.append(s.accept()[0])
        acc.write("accepted\n"); acc.flush()
    except socket.timeout: pass
' "$T/silent.acc" >"$T/silent.port" &
SILENT=$!
i=0
while [ ! -s "$T/silent.port" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SP=$(cat "$T/silent.port")
check "a silent listener on 127.0.0.1:$SP" test -n "$SP"
accepted() { grep -c . "$T/silent.acc"; }

# --- the configuration: store = ldap on the silent listener ----------------------
mkdir "$T/pki"
slapd_pki "$T/pki" || { failed "a test CA (openssl)"; finish; exit 1; }
printf 'hostpw\n' >"$T/host.pw"
chmod 0600 "$T/host.pw"
# conf URI: the module's configuration, the directory at URI.
conf() {
	cat >"$T/conf" <<CONF
store = ldap
ldap_uri = $1
ldap_base = $SLAPD_BASE
ldap_bind_dn = $SLAPD_HOST_DN
ldap_bind_pw_file = $T/host.pw
ldap_ca_file = $T/pki/ca.pem
ldap_timeout = $TMO
host_name = host-sshd
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
	chmod 0644 "$T/conf"
}
conf "ldap://127.0.0.1:$SP/"
M="$BIN/pam_recovery.so conf=$T/conf"
# stack [ACCOUNT-LINE]: the module decides keyboard-interactive logins;
# public keys do not go through the auth stack.  sshd reads the service
# anew for every connection.
stack() {
	{
		echo "auth     required  $M"
		[ -n "${1:-}" ] && echo "$1"
		echo "account  required  pam_permit.so"
		echo "session  required  pam_permit.so"
	} >"/etc/pam.d/$SVC"
}
stack

# --- sshd, its syslog captured -------------------------------------------------------
sshd_setup "$SVC" || { failed "ssh-keygen (host key)"; finish; exit 1; }
# sshd_start runs $T/$SVC: here a script that starts the real link (same
# name, so the same PAM service) under syslogcap.sh in a mount namespace of
# its own.  The capture's alarm is raised (it must outlive sshd), and it
# writes each line at once (it is read while sshd runs).
mkdir "$T/bin" "$T/olddev"
mv "$T/$SVC" "$T/bin/$SVC"
sed -e 's/alarm 60;/alarm 120;/' \
    -e 's/or die "\$ARGV\[0\]: \$!";/& select((select($o), $| = 1)[0]);/' \
    tests/syslogcap.sh >"$T/cap.sh"
printf '#!/bin/sh\nexec unshare -m sh %s %s %s "$@"\n' "$T/cap.sh" "$T" "$T/bin/$SVC" >"$T/$SVC"
chmod 0755 "$T/$SVC"
: >"$T/syslog"
if ! sshd_start "KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
MaxAuthTries 3"; then
	failed "sshd starts on a loopback port" "$(tail -n 5 "$T/sshd.log")"
	finish
	exit 1
fi
pass "sshd listens on 127.0.0.1:$PORT with PAM service $SVC, syslog captured"

# login TAG USER KIND: one ssh login, KIND "code" (keyboard-interactive,
# a well-formed code as the answer) or "key" (publickey only); files
# $T/TAG.{out,err,rc,t0,t1} (start and end, milliseconds).  Several run at
# once, so nothing here is shared but the askpass answer.
login() {
	if [ "$3" = key ]; then
		set -- "$1" "$2" -o PreferredAuthentications=publickey -o IdentitiesOnly=yes \
		    -i "$T/user_ed25519"
	else
		set -- "$1" "$2" -o PreferredAuthentications=keyboard-interactive
	fi
	tag=$1 user=$2
	shift 2
	now >"$T/$tag.t0"
	SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    timeout 60 setsid -w ssh -F /dev/null -p "$PORT" "$@" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
	    -o LogLevel=INFO "$user@127.0.0.1" 'echo logged-in' \
	    </dev/null >"$T/$tag.out" 2>"$T/$tag.err"
	echo $? >"$T/$tag.rc"
	now >"$T/$tag.t1"
}
ms() { echo $(($(cat "$T/$1.t1") - $(cat "$T/$1.t0"))); }
ok() { [ "$(cat "$T/$1.rc")" -eq 0 ] && grep -qx logged-in "$T/$1.out"; }
refused() { [ "$(cat "$T/$1.rc")" -ne 0 ] && ! grep -q logged-in "$T/$1.out"; }
show() { OUT=$(for t in "$@"; do echo "[$t] rc=$(cat "$T/$t.rc" 2>/dev/null) $(ms "$t" 2>/dev/null) ms"; cat "$T/$t.out" "$T/$t.err" 2>/dev/null; done; echo "--- sshd.log"; tail -n 20 "$T/sshd.log"); }
# A code in the right form; the module never gets as far as asking.
printf 'ABCDEFGHJKMNPQRSTVWX\n' >"$T/answer"
: >"$T/prompts"
# "Within the timeout": an upper bound on the whole SSH exchange (connect,
# key exchange, PAM, refusal), generous so that a loaded machine does not
# fail it; it says the login does not hang past ldap_timeout, it is not a
# performance measure (the measured time is printed).
BOUND=$((4 * TMO * 1000 + 10000))
unavail() { grep -c "PAM: Authentication service cannot retrieve authentication info for $U " "$T/sshd.log"; }

# --- a publickey login works -------------------------------------------------------
login k0 "$K" key
show k0
check "a publickey login of $K works ($(ms k0) ms)" ok k0

# --- one recovery login on the silent directory, others meanwhile ------------------
a0=$(accepted)
login hang "$U" code &
HANG=$!
# Wait (bounded) until its store helper is connected to the silent directory.
i=0
while [ "$(accepted)" -le "$a0" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
OUT="silent.acc: $(accepted) lines"
check "the recovery login's store helper is waiting on the silent directory" test "$(accepted)" -gt "$a0"
for n in 1 2 3; do login "k$n" "$K" key; done
# The hanging login must still be running now.
still=0
kill -0 "$HANG" 2>/dev/null && [ ! -e "$T/hang.rc" ] && still=1
wait "$HANG"
show hang k1 k2 k3
check "meanwhile: 3 publickey logins of $K succeed ($(ms k1), $(ms k2), $(ms k3) ms)" \
    sh -c 'for t in k1 k2 k3; do [ "$(cat "$0/$t.rc")" -eq 0 ] && grep -qx logged-in "$0/$t.out" || exit 1; done' "$T"
check "... all three done while the recovery login was still waiting" test "$still" -eq 1
check "... each finished before it (timestamps)" \
    sh -c 'for t in k1 k2 k3; do [ "$(cat "$0/$t.t1")" -lt "$(cat "$0/hang.t1")" ] || exit 1; done' "$T"
check "silent directory: the recovery login is refused, never logged in" refused hang
check "... within ldap_timeout ($TMO s) and slack: $(ms hang) ms < $BOUND ms" test "$(ms hang)" -lt "$BOUND"
check "... and not before ldap_timeout: it did wait on the directory" test "$(ms hang)" -ge $((TMO * 1000 - 500))
OUT=$(cat "$T/prompts")
check "... no recovery prompt was shown" test -z "$OUT"
OUT=$(tail -n 20 "$T/sshd.log")
check "... sshd: PAM_AUTHINFO_UNAVAIL (\"cannot retrieve authentication info\")" test "$(unavail)" -eq 1
OUT=$(cat "$T/syslog")
check "... syslog: the module logged a store error" grep -q "event=store_error.*user=$U\|user=$U.*event=store_error" "$T/syslog"
check "... the reason: timeout" grep -q "reason=timeout" "$T/syslog"
check "... the store helper says which directory, and why" \
    grep -qF "directory ldap://127.0.0.1:$SP/: StartTLS: no answer within $TMO s" "$T/syslog"

# --- 5 at once, then sshd still serves ----------------------------------------------
pids=
for n in 1 2 3 4 5; do
	login "p$n" "$U" code &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
show p1 p2 p3 p4 p5
check "5 recovery logins at once on the silent directory: all refused" \
    sh -c 'for t in p1 p2 p3 p4 p5; do [ "$(cat "$0/$t.rc")" -ne 0 ] && ! grep -q logged-in "$0/$t.out" || exit 1; done' "$T"
check "... each within the bound ($(ms p1), $(ms p2), $(ms p3), $(ms p4), $(ms p5) ms < $BOUND ms)" \
    sh -c 'for t in p1 p2 p3 p4 p5; do [ $(($(cat "$0/$t.t1") - $(cat "$0/$t.t0"))) -lt "$1" ] || exit 1; done' "$T" "$BOUND"
check "... sshd: PAM_AUTHINFO_UNAVAIL for each (6 so far)" test "$(unavail)" -eq 6
login k4 "$K" key
show k4
check "afterwards sshd still accepts a publickey login ($(ms k4) ms)" ok k4

# --- the account stage on a silent directory ---------------------------------------
# The shipped examples put "account optional pam_recovery.so" (the
# reminder) in sshd's stack: it asks the store too, for a publickey login
# as well, but waits at most 1 s per URI, not ldap_timeout ($TMO s here).
stack "account  optional  $M"
login k5 "$K" key
show k5
check "with the account line: a publickey login still succeeds ($(ms k5) ms)" ok k5
check "... the reminder waited less than ldap_timeout ($(ms k5) ms < $((TMO * 1000)) ms)" \
    test "$(ms k5)" -lt $((TMO * 1000))
stack

# --- no directory at all: refused at once ------------------------------------------
DOWN=ldap://127.0.0.1:$(free_port)/
conf "$DOWN"
n0=$(grep -c "reason=io" "$T/syslog")
login down "$U" code
show down
check "directory port closed: the recovery login is refused" refused down
check "... fast: $(ms down) ms < ldap_timeout ($TMO s)" test "$(ms down)" -lt $((TMO * 1000))
OUT=$(tail -n 20 "$T/sshd.log")
check "... sshd: PAM_AUTHINFO_UNAVAIL" test "$(unavail)" -eq 7
OUT=$(cat "$T/syslog")
check "... syslog: reason=io" test "$(grep -c "reason=io" "$T/syslog")" -gt "$n0"
check "... the store helper: cannot connect" grep -qF "directory $DOWN: cannot connect" "$T/syslog"

OUT=$(grep "Accepted" "$T/sshd.log")
check "sshd accepted only public keys, never a recovery login" \
    sh -c '! grep -q "Accepted keyboard-interactive" "$0" && [ "$(grep -c "Accepted publickey for $1 " "$0")" -eq 6 ]' "$T/sshd.log" "$K"
OUT=$(cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null)
check "no sanitizer report from sshd" test -z "$OUT"

finish
