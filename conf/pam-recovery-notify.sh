#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-recovery-notify.sh: mail the user (and a copy to the administrator) when
# a recovery code was used, or, as notify_command, on every change.
#
# Two ways to run it:
#
# 1. As notify_command (pam_recovery.conf(5)): the module, pam-recovery and
#    pam-recovery-admin run it with PAM_RECOVERY_EVENT set (code_used,
#    generated, invalidated, locked, unlocked, expiring), PAM_USER,
#    PAM_RECOVERY_REMAINING, PAM_RECOVERY_HOST, PAM_RECOVERY_STORE_KIND
#    (system or user: whose codes they are), PAM_RECOVERY_ADMIN_EMAIL (the
#    configuration's admin_email, when set), PAM_RECOVERY_HELPER (the
#    command with which the user manages their own codes, e.g.
#    "pam-recovery --service sudo"; unset when only the administrator can)
#    and, at login, PAM_SERVICE and PAM_RHOST.  notify_command takes no arguments: to pass options, point
#    it at a small root-owned wrapper, e.g. /usr/local/sbin/recovery-notice:
#      #!/bin/sh
#      exec /usr/share/pam-recovery/pam-recovery-notify.sh -c admin@example.org
#
# 2. As a pam_exec(8) session hook, mailing only when a code was used:
# /etc/pam.d/sshd (after the session modules that must succeed), followed
# by pam_recovery's session line, which takes the variables out of the
# environment the user's shell gets (see pam_recovery(8), ENVIRONMENT):
#   session optional pam_exec.so quiet /usr/share/pam-recovery/pam-recovery-notify.sh
#   session optional pam_recovery.so
#
# pam_exec passes the PAM environment, where pam_recovery.so left
# PAM_RECOVERY_USED=1 and PAM_RECOVERY_REMAINING=N, plus PAM_USER,
# PAM_SERVICE, PAM_RHOST and PAM_TYPE.  Nothing happens unless
# PAM_RECOVERY_USED is 1, and only once per login (on open_session).
#
# Options, written after the script's path on the pam_exec line:
#   -c ADDRESS   also send a copy to ADDRESS (the administrator; default:
#                PAM_RECOVERY_ADMIN_EMAIL, the configuration's admin_email)
#   -f ADDRESS   sender (default: root@HOST)
#   -k KIND      system or user: whose store the codes are in, when
#                PAM_RECOVERY_STORE_KIND does not say (the pam_exec hook).
#                With a system store and no PAM_RECOVERY_HELPER (no
#                pam-recovery-selfd) only the administrator issues codes,
#                so the mail says to ask the administrator, never to run
#                pam-recovery; default user
#   -s PATH      the sendmail program (default: sendmail on PATH, then
#                /usr/sbin/sendmail, /usr/lib/sendmail)
#   -t ADDRESS   recipient (default: the user, delivered locally; forward it
#                with /etc/aliases or ~/.forward)
#
# The login never depends on this script: it always exits 0, and a mail that
# cannot be sent is reported to syslog (authpriv) through logger(1).

PATH=${PATH:+$PATH:}/usr/sbin:/usr/lib:/usr/bin:/bin
export PATH

cc='' from='' sendmail=sendmail to='' kind=''
while getopts c:f:k:s:t: opt; do
	case $opt in
	c) cc=$OPTARG ;;
	f) from=$OPTARG ;;
	k) kind=$OPTARG ;;
	s) sendmail=$OPTARG ;;
	t) to=$OPTARG ;;
	*) ;;
	esac
done

event=$(printf '%s' "${PAM_RECOVERY_EVENT:-}" | tr -cd 'a-z_')
if [ -z "$event" ]; then
	[ "${PAM_RECOVERY_USED:-}" = 1 ] || exit 0
	# pam_exec runs session hooks at close_session too: one mail per login.
	[ "${PAM_TYPE:-open_session}" = open_session ] || exit 0
	event=code_used
fi

# Values from the login end up in mail headers: keep only characters that
# cannot start a new header line or otherwise surprise a mail reader.
clean() { printf '%s' "$1" | tr -cd 'A-Za-z0-9._@:+-' | cut -c 1-200; }
user=$(clean "${PAM_USER:-}")
[ -n "$user" ] || exit 0
service=$(clean "${PAM_SERVICE:-unknown}")
rhost=$(clean "${PAM_RHOST:-}")
remaining=$(printf '%s' "${PAM_RECOVERY_REMAINING:-}" | tr -cd '0-9')
host=$(clean "${PAM_RECOVERY_HOST:-}")
[ -n "$host" ] || host=$(clean "$(hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n)")
[ -n "$host" ] || host=localhost
to=$(clean "${to:-$user}")
cc=$(clean "${cc:-${PAM_RECOVERY_ADMIN_EMAIL:-}}")
kind=${PAM_RECOVERY_STORE_KIND:-${kind:-user}}
[ "$kind" = system ] || kind=user
# The module and the tools set it only to "pam-recovery" and a service
# name; keep it to such characters all the same.
helper=$(printf '%s' "${PAM_RECOVERY_HELPER:-}" | tr -cd 'A-Za-z0-9._@ -' | cut -c 1-100)
[ -z "$helper" ] || kind=user
[ -n "$helper" ] || helper=pam-recovery
from=$(clean "${from:-root@$host}")
date=$(LC_ALL=C date '+%a, %d %b %Y %H:%M:%S %z')

# Who makes new codes: the user with pam-recovery (a per-user store, or a
# system store with pam-recovery-selfd), or only the administrator.
if [ "$kind" = system ]; then
	ask="ask your administrator${cc:+ ($cc)}"
	status="To know how many are left, $ask."
	renew="$ask for new codes"
	lost='tell your administrator at once, who can invalidate them, and
change your password.'
else
	status="See what is left with \"$helper status\"."
	renew="make a new list with \"$helper generate\""
	lost="log in, run
\"$helper invalidate --all\", change your password, and tell your
administrator at once."
fi
if [ -z "$remaining" ]; then
	remaining=unknown
	advice=$status
elif [ "$remaining" -eq 0 ]; then
	advice="That was the LAST one: $renew now."
elif [ "$remaining" -le 3 ]; then
	advice="Only a few are left: $renew."
else
	advice=$status
fi

case $event in
code_used)
	subject="A recovery code was used to log in as $user on $host"
	what="A one-time recovery code was just used to log in to the account" ;;
generated)
	subject="New recovery codes were made for $user on $host"
	what="A new list of recovery codes replaced the old one for the account"
	advice="The old codes no longer work." ;;
invalidated)
	subject="Recovery codes were invalidated for $user on $host"
	what="Recovery codes were invalidated for the account"
	advice="Those codes no longer work. $status" ;;
locked)
	subject="Recovery codes are locked for $user on $host"
	what="Too many wrong recovery codes locked recovery logins to the account"
	advice="Recovery codes are refused until the lock runs out." ;;
unlocked)
	subject="Recovery codes were unlocked for $user on $host"
	what="The administrator lifted the recovery-code lock on the account"
	advice="Recovery codes work again." ;;
expiring)
	subject="Recovery codes expire soon for $user on $host"
	what="The recovery codes expire soon for the account"
	advice="Before they do, $renew." ;;
*)
	exit 0 ;;
esac

message() {
	printf 'From: %s\n' "$from"
	printf 'To: %s\n' "$to"
	[ -z "$cc" ] || printf 'Cc: %s\n' "$cc"
	printf 'Subject: %s\n' "$subject"
	printf 'Date: %s\n' "$date"
	printf 'Message-ID: <%s.%s.pam-recovery@%s>\n' "$(date +%s)" "$$" "$host"
	printf 'Auto-Submitted: auto-generated\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=us-ascii\n'
	printf '\n'
	printf '%s\n' "$what"
	printf '%s on %s.\n\n' "$user" "$host"
	printf '  Event:   %s\n' "$event"
	printf '  Service: %s\n' "$service"
	printf '  From:    %s\n' "${rhost:-(local)}"
	printf '  Time:    %s\n' "$date"
	printf '  Left:    %s recovery codes\n\n' "$remaining"
	if [ "$event" = code_used ]; then
		printf 'If this was you, that code is now used up.\n'
	fi
	printf '%s\n\n' "$advice"
	printf 'If this was NOT you, someone has your recovery codes: %s\n' "$lost"
}

# A mail system that hangs must not hold the login for long.
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 30"
if ! message | $limit "$sendmail" -t -oi >/dev/null 2>&1; then
	logger -p authpriv.warning -t pam-recovery-notify \
	    "could not mail $to about $event for $user ($service from ${rhost:-local})" \
	    2>/dev/null
fi
exit 0
