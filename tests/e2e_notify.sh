#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_notify.sh: notify_command on every change, through the real module,
# the admin tool and the user helper, with the notify script and a fake
# sendmail; a slow or failing command changes no outcome.
set -u
suite=e2e_notify
. tests/lib.sh

# The command must be root-owned: files we create are only that as root.
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_notify: skipped (notify_command must be root-owned: run as root)"
	exit 0
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
ME=$(id -un)
SRC=$(pwd)
mkdir "$T/pam.d" "$T/mail"
mkdir -m 0700 "$T/sys" "$T/other"
# Fake sendmail: each message in a file of its own.
cat >"$T/sendmail" <<SM
#!/bin/sh
cat >"$T/mail/\$\$.msg"
SM
# The notify_command: the notify script with -s and -c, through a wrapper.
cat >"$T/notify" <<NT
#!/bin/sh
exec /bin/sh $SRC/conf/pam-recovery-notify.sh -s $T/sendmail -c admin@example.org
NT
printf '#!/bin/sh\nexec sleep 30\n' >"$T/slow"
printf '#!/bin/sh\nexit 7\n' >"$T/fail"
chmod 0755 "$T/sendmail" "$T/notify" "$T/slow" "$T/fail"

# conf COMMAND [TIMEOUT]: the system store's config; TIMEOUT (default 30 s,
# far above what mailing takes even on a loaded machine) only short for the
# slow command.
conf() {
	cat >"$T/conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
max_attempts = 2
notify_command = $1
notify_timeout = ${2:-30}
self_socket = $T/${SELF_SOCK:-none.sock}
CONF
	chmod 0644 "$T/conf"
}
conf "$T/notify"
cat >"$T/other.conf" <<CONF
store = $T/other
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
printf 'auth required %s/pam_recovery.so conf=%s/conf\naccount optional %s/pam_recovery.so conf=%s/conf\n' \
    "$BIN" "$T" "$BIN" "$T" >"$T/pam.d/rt"
"$BIN/pam-recovery-admin" -c "$T/other.conf" generate "$ME" -n 5 --format csv >"$T/wrong.csv" 2>/dev/null
login() { pamrun rt "$ME" auth -- "$1"; }
# mail SUBJECT-WORDS: exactly one new message, with that subject; consumed.
mail() {
	n=$(ls "$T/mail" | wc -l)
	m=$(cat "$T/mail"/*.msg 2>/dev/null)
	rm -f "$T/mail"/*.msg
	[ "$n" -eq 1 ] && printf '%s\n' "$m" | grep -q "^Subject: .*$1" &&
	    printf '%s\n' "$m" | grep -qx "To: $ME" &&
	    printf '%s\n' "$m" | grep -qx "Cc: admin@example.org" &&
	    printf '%s\n' "$m" | grep -q "Event: *$2\$"
}
nomail() { [ "$(ls "$T/mail" | wc -l)" -eq 0 ]; }

admin generate "$ME" -n 5 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
check "admin generate: exit 0" test "$RC" -eq 0
check "admin generate: one mail, generated" mail "New recovery codes" generated
login "$(code 1 "$T/codes.csv")"
check "login with a code succeeds" has "auth: PAM_SUCCESS"
check "code used: one mail" mail "was used to log in" code_used
admin invalidate "$ME" 2
check "admin invalidate: exit 0" test "$RC" -eq 0
check "admin invalidate: one mail" mail "were invalidated" invalidated
login "$(code 1 "$T/wrong.csv")"
check "a wrong code: no mail" nomail
login "$(code 2 "$T/wrong.csv")"
check "the second wrong code locks" has "auth: PAM_AUTH_ERR"
check "locked: one mail" mail "are locked" locked
admin unlock "$ME"
check "admin unlock: exit 0" test "$RC" -eq 0
check "admin unlock: one mail" mail "were unlocked" unlocked

# A batch that expires within warn_expiry_days: the account stage's
# reminder goes to the command too.
admin generate "$ME" -y -n 3 -e 2 --format csv
check "admin generate --expires 2: exit 0" test "$RC" -eq 0
check "admin generate --expires 2: one mail" mail "New recovery codes" generated
pamrun rt "$ME" account
check "account stage reminds of the expiry" has "expire in"
check "expiring: one mail" mail "expire soon" expiring
admin generate "$ME" -y -n 5 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
rm -f "$T/mail"/*.msg

# A slow command is killed after notify_timeout; the login still succeeds.
conf "$T/slow" 1
login "$(code 3 "$T/codes.csv")"
check "slow command: the login succeeds" has "auth: PAM_SUCCESS"
check "slow command: killed, no sleep 30 left running" sh -c '! pgrep -x -f "sleep 30" >/dev/null'
# A failing command changes nothing either.
conf "$T/fail"
login "$(code 4 "$T/codes.csv")"
check "failing command: the login succeeds" has "auth: PAM_SUCCESS"
admin invalidate "$ME" 5
check "failing command: admin invalidate still exits 0" test "$RC" -eq 0
conf "$T/nonexistent"
admin unlock "$ME"
check "missing command: admin unlock still exits 0" test "$RC" -eq 0
# A group-writable command is refused, and not run.
conf "$T/notify"
chmod 0775 "$T/notify"
admin generate "$ME" -y -n 2 --format csv
check "group-writable command: generate still exits 0" test "$RC" -eq 0
check "group-writable command: not run" nomail

# --- advice that fits the store -----------------------------------------------
# The script without -c: the copy goes to the configuration's admin_email,
# which the command gets as PAM_RECOVERY_ADMIN_EMAIL.
cat >"$T/plain" <<NT
#!/bin/sh
exec /bin/sh $SRC/conf/pam-recovery-notify.sh -s $T/sendmail
NT
chmod 0755 "$T/plain"
# onemail: exactly one new message, into OUT; consumed.
onemail() {
	n=$(ls "$T/mail" | wc -l)
	OUT=$(cat "$T/mail"/*.msg 2>/dev/null)
	rm -f "$T/mail"/*.msg
	[ "$n" -eq 1 ]
}
# A system store: only the administrator issues codes.
conf "$T/plain"
printf 'admin_email = boss@example.org\n' >>"$T/conf"
admin unlock "$ME"
rm -f "$T/mail"/*.msg
admin generate "$ME" -y -n 2 --format csv
printf '%s\n' "$OUT" >"$T/sys.csv"
check "system store: generated, one mail" onemail
check "system store: Cc to admin_email" has "Cc: boss@example.org"
login "$(code 1 "$T/sys.csv")"
check "system store, code used: one mail" onemail
check "system store, code used: ask the administrator for new codes" \
    has "Only a few are left: ask your administrator (boss@example.org) for new codes."
check "system store, code used: no pam-recovery generate" hasnt "pam-recovery generate"
check "system store, code used: no pam-recovery status" hasnt "pam-recovery status"
check "system store, code used: no pam-recovery invalidate" hasnt "pam-recovery invalidate"
check "system store, code used: not you? tell the administrator" \
    has "tell your administrator at once, who can invalidate them"
login "$(code 2 "$T/sys.csv")"
check "system store, last code: one mail" onemail
check "system store, last code: ask the administrator now" \
    has "That was the LAST one: ask your administrator (boss@example.org) for new codes now."
admin generate "$ME" -y -n 3 --format csv
onemail
admin invalidate "$ME" 1
check "system store, invalidated: one mail" onemail
check "system store, invalidated: no pam-recovery status" hasnt "pam-recovery status"
admin generate "$ME" -y -n 3 -e 2 --format csv
onemail
pamrun rt "$ME" account
check "system store, expiring: one mail" onemail
check "system store, expiring: ask the administrator" \
    has "Before they do, ask your administrator (boss@example.org) for new codes."

# A system store whose users serve themselves (pam-recovery-selfd's socket
# is there): the mail gives them the command, with the service's section.
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/self.sock"
	SELF_SOCK=self.sock conf "$T/plain"
	printf 'admin_email = boss@example.org\n[service rt]\nwarn_remaining = 3\n' >>"$T/conf"
	admin generate "$ME" -y -n 3 --format csv
	printf '%s\n' "$OUT" >"$T/self.csv"
	onemail
	login "$(code 1 "$T/self.csv")"
	check "self-service store, code used: one mail" onemail
	check "self-service store, code used: the user's own command, with the service" \
	    has 'Only a few are left: make a new list with "pam-recovery --service rt generate".'
	check "self-service store, code used: not you? invalidate it yourself" \
	    has '"pam-recovery --service rt invalidate --all"'
	check "self-service store, code used: no ask-the-administrator advice" hasnt "ask your administrator"
	conf "$T/plain"
	printf 'admin_email = boss@example.org\n' >>"$T/conf"
else
	echo "# skipped: self-service advice in mail (no python3 to make a socket)"
fi

# A per-user store: the user makes new codes; no admin_email, no Cc.
mkdir -m 0700 "$T/$ME.ustore"
cat >"$T/user.conf" <<CONF
store = $T/%u.ustore
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
notify_command = $T/plain
notify_timeout = 30
CONF
chmod 0644 "$T/user.conf"
printf 'auth required %s/pam_recovery.so conf=%s/user.conf\n' "$BIN" "$T" >"$T/pam.d/ru"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/user.conf" generate "$ME" -n 2 --format csv 2>/dev/null)
printf '%s\n' "$OUT" >"$T/user.csv"
check "per-user store: generated, one mail" onemail
check "per-user store: no Cc without admin_email" hasnt "Cc:"
pamrun ru "$ME" auth -- "$(code 1 "$T/user.csv")"
check "per-user store: the login succeeds" has "auth: PAM_SUCCESS"
check "per-user store, code used: one mail" onemail
check "per-user store, code used: make a new list with pam-recovery generate" \
    has 'Only a few are left: make a new list with "pam-recovery generate".'
check "per-user store, code used: not you? pam-recovery invalidate --all" \
    has '"pam-recovery invalidate --all"'
check "per-user store, code used: no ask-the-administrator advice" hasnt "ask your administrator"

# As a pam_exec hook nothing says whose the store is: -k system does.
OUT=$(env -i PATH="$PATH" PAM_RECOVERY_USED=1 PAM_RECOVERY_REMAINING=0 PAM_USER="$ME" \
    PAM_TYPE=open_session PAM_SERVICE=sudo /bin/sh conf/pam-recovery-notify.sh -k system \
    -s "$T/sendmail" -c boss@example.org)
check "hook, -k system: one mail" onemail
check "hook, -k system: ask the administrator" \
    has "That was the LAST one: ask your administrator (boss@example.org) for new codes now."
OUT=$(env -i PATH="$PATH" PAM_RECOVERY_USED=1 PAM_RECOVERY_REMAINING=0 PAM_USER="$ME" \
    PAM_TYPE=open_session /bin/sh conf/pam-recovery-notify.sh -s "$T/sendmail")
check "hook, no -k: one mail" onemail
check "hook, no -k: a per-user store's advice" has '"pam-recovery generate"'
finish
