#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_selfd.sh: as root, the self-service for a system store: a
# pam-recovery-selfd of the test's own on a socket in a temporary directory,
# throw-away users who generate, see, verify and invalidate their own codes
# with pam-recovery after their password (a test PAM service), codes that
# then log in through the module; wrong passwords counted and limited; a
# malformed message ending only its connection; a socket that is not
# root's refused by the client.
set -u
suite=e2e_selfd
OUT=""
. tests/lib.sh

skip() { echo "e2e_selfd: skipped ($1)"; finish; exit $?; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in useradd userdel runuser python3; do
	command -v "$p" >/dev/null || skip "needs $p"
done
[ -e /usr/lib/x86_64-linux-gnu/security/pam_exec.so ] ||
    [ -n "$(find /lib /usr/lib -name pam_exec.so 2>/dev/null | head -n 1)" ] ||
    skip "needs pam_exec.so"

U=prsa$$
U2=prsb$$
STORE=/var/lib/pam-recovery-selfd-test-$$
T=$(mktemp -d) || exit 1
DPID=
FPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	userdel -r "$U" >/dev/null 2>&1
	userdel -r "$U2" >/dev/null 2>&1
	rm -rf "$STORE" "$T"
}
trap cleanup EXIT
chmod 0755 "$T"
useradd -m -s /bin/sh "$U" || { failed "useradd"; finish; exit 1; }
useradd -m -s /bin/sh "$U2" || { failed "useradd"; finish; exit 1; }
mkdir -m 0700 "$STORE"
cat >"$T/conf" <<CONF
store = $STORE
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
self_socket = $T/self.sock
generate_cooldown = 0

# The same store, for the advice a service with a section is given.
[service rt-sudo]
warn_remaining = 3
CONF
chmod 0644 "$T/conf"
sed "s|^self_socket = .*|self_socket = $T/u/fake.sock|" "$T/conf" >"$T/fake.conf"
sed "s|^self_socket = .*|self_socket = $T/none.sock|" "$T/conf" >"$T/none.conf"
chmod 0644 "$T/fake.conf" "$T/none.conf"
# The test's "password": pam_exec hands the typed one on standard input.
cat >"$T/pw.sh" <<'SH'
#!/bin/sh
pw=$(head -c 200 | tr -d '\000')
[ "$pw" = "right-password" ]
SH
chmod 0755 "$T/pw.sh"
mkdir "$T/pam.d"
printf 'auth required pam_exec.so expose_authtok quiet %s\naccount required pam_permit.so\n' \
    "$T/pw.sh" >"$T/pam.d/pam-recovery-self"
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt"
echo "account required $BIN/pam_recovery.so conf=$T/none.conf" >"$T/pam.d/rt-none"
echo "account required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt-sudo"

$VG "$BIN/pam-recovery-selfd" -c "$T/conf" --socket "$T/self.sock" \
    --pam-dir "$T/pam.d" 2>"$T/daemon.err" &
DPID=$!
i=0
while [ ! -S "$T/self.sock" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
check "the service listens on its socket" test -S "$T/self.sock"
check "the socket is open to every user (mode 0666)" \
    test "$(stat -c %a "$T/self.sock")" = 666

# as USER STDIN ARGS...: pam-recovery as USER, STDIN its standard input.
as() {
	u=$1
	in=$2
	shift 2
	OUT=$(printf '%b' "$in" | runuser -u "$u" -- $VG "$BIN/pam-recovery" \
	    -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}
admin() {
	OUT=$("$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>&1)
	RC=$?
}
code() { printf '%s\n' "$CODES" | sed -n "$(($1 + 1))p" | cut -d, -f2; }

as "$U" 'wrong\n' generate -n 3 --format csv -y
check "a wrong password: exit 1" test "$RC" -eq 1
check "a wrong password: says so, changes nothing" has "authentication failed: nothing was changed"
admin show "$U"
check "a wrong password: the user has no codes" has "No recovery codes for $U"

as "$U" 'right-password\n' generate -n 3 --format csv -y
check "the right password: generate through the service, exit 0" test "$RC" -eq 0
check "the codes come to the user's own output" test "$(printf '%s\n' "$OUT" | grep -c '^[0-9],')" -eq 3
CODES=$OUT
admin show "$U"
check "the codes are in the system store" has "3 of 3 left"
pamrun rt "$U" auth -- "$(code 1)"
check "a code of the user's own list logs in through the module" has "auth: PAM_SUCCESS"
check "the module sends a self-service user to pam-recovery, not the administrator" \
    has "Generate new codes soon with: pam-recovery generate"
pamrun rt-none "$U" account
check "with no self-service socket the module says to ask the administrator" \
    has "Only 2 recovery codes left. Ask your administrator for new ones."
pamrun rt-sudo "$U" account
check "a service with a section of its own: the advice names it" \
    has "Only 2 recovery codes left. Generate new ones with: pam-recovery --service rt-sudo generate"
admin audit --json
check "the change is audited with actor=self" \
    sh -c 'printf "%s\n" "$0" | grep "\"generated\"" | grep -q "\"actor\":\"self\""' "$OUT"

as "$U" 'right-password\n' status
check "status through the service" has "2 of 3 left"
as "$U" "right-password\n$(code 2)\n" verify
check "verify through the service: the code is good" test "$RC" -eq 0
as "$U" 'right-password\n' status
check "verify used nothing up" has "2 of 3 left"

H=$(getent passwd "$U" | cut -d: -f6)
as "$U" 'right-password\n' generate -n 4 --format txt -y -o "$H/codes.txt"
check "generate -o FILE through the service: exit 0" test "$RC" -eq 0
check "the file belongs to the user, mode 0600" \
    test "$(stat -c '%U %a' "$H/codes.txt")" = "$U 600"
check "the file holds the 4 new codes" test "$(grep -c '^ *[0-9]*\.' "$H/codes.txt")" -ge 4
check "a sheet the user made through the service does not send them to the administrator" \
    sh -c '! grep -q "ask your administrator" "$0"' "$H/codes.txt"
as "$U" 'right-password\n' invalidate --all -y
check "invalidate --all through the service: exit 0" test "$RC" -eq 0
admin show "$U"
check "the user's codes are invalidated" has "No recovery codes for $U"

# Another user acts only on their own codes, whatever they send.
as "$U2" 'right-password\n' generate -n 2 --format csv -y
check "a second user: generate, exit 0" test "$RC" -eq 0
admin show "$U2"
check "a second user: their own 2 codes" has "2 of 2 left"
admin show "$U"
check "the first user's codes are untouched by the second" has "No recovery codes for $U"

# A malformed and an oversized message end their connection only.
python3 - "$T/self.sock" <<'PY'
import socket, sys
for payload in (b"\x09\x01\x00\x00garbage", b"\x01\x01\x10\x00" + b"x" * 5000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(payload)
    s.settimeout(60)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
PY
as "$U2" 'right-password\n' status
check "after malformed messages the service still serves" has "2 of 2 left"

# The client talks only to root's service.
mkdir -m 0755 "$T/u" && chown "$U" "$T/u"
runuser -u "$U" -- python3 -c '
import os, socket, sys, time
os.umask(0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); time.sleep(5)' "$T/u/fake.sock" >/dev/null 2>&1 &
FPID=$!
i=0
while [ ! -S "$T/u/fake.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
OUT=$(printf 'right-password\n' | runuser -u "$U2" -- "$BIN/pam-recovery" -c "$T/fake.conf" status 2>&1)
RC=$?
check "a socket that is not root's: refused, exit 1" test "$RC" -eq 1
check "a socket that is not root's: says so" has "is not root's pam-recovery-selfd"
OUT=$(runuser -u "$U2" -- "$BIN/pam-recovery" -c "$T/none.conf" status 2>&1)
RC=$?
check "no service: exit 1, and it says so" sh -c '[ "$1" -eq 1 ] && printf "%s" "$0" | grep -q "not reachable"' "$OUT" "$RC"

# Wrong passwords: three in a row are free, the fourth attempt must wait.
for i in 1 2 3; do as "$U" 'wrong\n' status; done
as "$U" 'right-password\n' status
check "after three wrong passwords: refused, even with the right one" has "too many wrong passwords: try again in"
as "$U2" 'right-password\n' status
check "another user is not held back" has "2 of 2 left"

kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=
if [ -n "$VG" ]; then
	OUT=$(vgstrip <"$T/daemon.err")
	check "valgrind clean: pam-recovery-selfd and its workers" hasnt "=="
fi
finish
