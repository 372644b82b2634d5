# SPDX-License-Identifier: BSD-2-Clause
# lib.sh: helpers for the end-to-end scripts (sourced, not run).
# Provides: check NAME CONDITION-COMMAND..., expect_out NAME PATTERN,
# pamrun SERVICE USER ANSWERS..., finish; for the suites that run as root, a
# real sshd and ssh client (sshd_setup, sshd_start, sshd_stop, sshlogin,
# see).  Uses $B and $VG from run.sh.
B=${B:-build}
VG=${VG:-}
BIN=$(cd "$B" && pwd)
npass=0
nfail=0
suite=${suite:-e2e}

pass() { npass=$((npass + 1)); echo "ok - $1"; }
failed() { nfail=$((nfail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else failed "$name" "$OUT"; fi
}

# skip_under_valgrind: under valgrind (make valgrind), say the suite is
# skipped and exit 0.  The valgrind run is CI's slowest (CPU-bound, about
# 0.5 s of start-up a program); the suites that run the tools or the
# directory client most often are left out of it to keep CI within its
# time (README names them).  They run plain and under ASan+UBSan, and the
# code beneath them runs under valgrind in other suites.
skip_under_valgrind() {
	if [ -n "${VG:-}" ]; then
		echo "$suite: skipped under valgrind (runs plain and under ASan+UBSan)"
		exit 0
	fi
}

# vgstrip: stdin without valgrind's own notes ("--PID-- WARNING: unhandled
# syscall" for pidfd_open), newline and all; they land in the middle of
# output that is read as prompts in order, or as JSON.
vgstrip() { perl -0pe 's/--[0-9]+-- [^\n]*\n//g'; }

# has PATTERN: the last output contains the fixed string PATTERN.
has() { printf '%s\n' "$OUT" | grep -qF -- "$1"; }
hasnt() { ! has "$1"; }

# pamrun SERVICE USER STEPS -- ANSWERS: drive libpam; output in $OUT.
pamrun() {
	OUT=$($VG "$BIN/pamdrive" "$T/pam.d" "$@" 2>&1)
	RC=$?
	vgcheck pamdrive
}

# Under valgrind, exit status 99 means valgrind found an error.
vgcheck() {
	if [ -n "$VG" ] && [ "$RC" -eq 99 ]; then failed "valgrind clean: $1" "$OUT"; fi
}

# helper ARGS...: run the user helper with the test configuration.
helper() {
	OUT=$($VG "$BIN/pam-recovery" -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery
}

# admin ARGS...: the same for the admin tool (scripts that want stderr
# apart, or another PATH, define their own).
admin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>&1)
	RC=$?
	vgcheck pam-recovery-admin
}

# code N FILE: the Nth code of a csv listing.
code() { sed -n "$(($1 + 1))p" "$2" | cut -d, -f2; }

# json_field KEY: a number or literal from the last one-line JSON output.
json_field() { printf '%s\n' "$OUT" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }

# --- sshd on a loopback port, and the ssh client (root only) -------------------
# The suite sets T (its temporary directory, mode 0755) first.  SSHD is the
# server's path; SSHD_PID and PORT say which server runs.
SSHD=/usr/sbin/sshd
SSHD_PID=
PORT=

# sshd_setup SERVICE: a host key, the privilege separation directory, and a
# symbolic link $T/SERVICE to sshd: sshd names its PAM service after its
# own program name (__progname), so it then uses /etc/pam.d/SERVICE.  Also
# the askpass program of sshlogin.
sshd_setup() {
	SSHD_NAME=$1
	ssh-keygen -q -t ed25519 -N '' -f "$T/host_ed25519" || return 1
	# Normally made by the sshd service.
	[ -d /run/sshd ] || install -d -m 0755 /run/sshd
	ln -s "$SSHD" "$T/$SSHD_NAME" || return 1
	# ssh hands each prompt, with any PAM messages that came before it,
	# to the askpass program as argv[1]; ours records it and answers
	# from a file.
	cat >"$T/askpass" <<ASK
#!/bin/sh
printf '%s\n' "\$1" >>"$T/prompts"
cat "$T/answer"
ASK
	chmod 0755 "$T/askpass"
}

# sshd_start1 CONFIG: sshd on $PORT with CONFIG (sshd_config lines; the
# first value of each keyword wins, so they come before ours), until it
# says it listens.
sshd_start1() {
	{
		printf '%s\n' "$1"
		cat <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_ed25519
PidFile $T/sshd.pid
UsePAM yes
PermitRootLogin no
MaxStartups 50
CONF
	} >"$T/sshd_config"
	# OpenSSH 9.8 and later refuse a client for a while after failed
	# logins; the suites fail on purpose, from one address.
	if "$SSHD" -t -f "$T/sshd_config" -o PerSourcePenalties=no 2>/dev/null; then
		echo "PerSourcePenalties no" >>"$T/sshd_config"
	fi
	: >"$T/sshd.log"
	# An instrumented module needs the sanitizer runtimes preloaded into
	# sshd (which keeps them across its re-execution); reports go to
	# files, checked at the end.
	LD_PRELOAD="${SAN_PRELOAD:-}" \
	    ASAN_OPTIONS="detect_leaks=0:log_path=$T/asan" \
	    UBSAN_OPTIONS="print_stacktrace=1:log_path=$T/ubsan" \
	    "$T/$SSHD_NAME" -D -f "$T/sshd_config" -E "$T/sshd.log" &
	SSHD_PID=$!
	i=0
	while [ $i -lt 50 ]; do
		grep -q "Server listening on 127.0.0.1 port $PORT" "$T/sshd.log" && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sshd_stop
	return 1
}

# sshd_start CONFIG: as sshd_start1, on a free loopback port (five tries).
sshd_start() {
	tries=0
	while [ $tries -lt 5 ]; do
		PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
		sshd_start1 "$1" && return 0
		tries=$((tries + 1))
	done
	return 1
}

# sshd_stop: the server this suite started, by its PID, waited for.
sshd_stop() {
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	i=0
	while kill -0 "$SSHD_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# sshlogin USER ANSWER: one login, with the client options in SSH_OPTS
# (default: keyboard-interactive only), ANSWER to every askpass prompt;
# $OUT is what the session printed, $ERR what ssh printed on stderr
# (banners, failure messages), $PROMPTS what askpass was asked.
sshlogin() {
	printf '%s\n' "$2" >"$T/answer"
	: >"$T/prompts"
	# shellcheck disable=SC2086
	SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    timeout 30 setsid -w ssh -F /dev/null -p "$PORT" \
	    ${SSH_OPTS:--o PreferredAuthentications=keyboard-interactive} \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
	    -o LogLevel=INFO "$1@127.0.0.1" \
	    'echo logged-in; echo "used=$PAM_RECOVERY_USED left=$PAM_RECOVERY_REMAINING"' \
	    </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(grep -v '^Warning: Permanently added' "$T/err")
	PROMPTS=$(cat "$T/prompts")
}
in_out() { printf '%s\n' "$OUT" | grep -qF -- "$1"; }
in_err() { printf '%s\n' "$ERR" | grep -qF -- "$1"; }
in_prompts() { printf '%s\n' "$PROMPTS" | grep -qF -- "$1"; }
all() { printf 'rc=%s\n--- stdout\n%s\n--- stderr\n%s\n--- askpass\n%s\n' "$RC" "$OUT" "$ERR" "$PROMPTS"; }
# see NAME COMMAND...: like check, showing the whole exchange on failure.
see() {
	name=$1
	shift
	if "$@"; then pass "$name"; else failed "$name" "$(all)"; fi
}

finish() {
	echo "$suite: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}
