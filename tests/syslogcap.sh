#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# syslogcap.sh: used by the end-to-end scripts (copied into their temporary
# directory); not a test of its own.
# cap.sh T COMMAND...: run COMMAND with a /dev/log of its own (this must run
# in a private mount namespace) whose messages are appended to T/syslog.
T=$1
shift
mount --bind /dev "$T/olddev" || exit 97
mount -t tmpfs -o size=64k,mode=0755 tmpfs /dev || exit 97
for n in null zero full random urandom tty; do
	[ -e "$T/olddev/$n" ] || continue
	: >"/dev/$n" && mount --bind "$T/olddev/$n" "/dev/$n" || exit 97
done
perl -MSocket -e '
	alarm 60;
	socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
	bind($s, pack_sockaddr_un("/dev/log")) or die "bind: $!";
	chmod 0666, "/dev/log";
	open(my $o, ">>", $ARGV[0]) or die "$ARGV[0]: $!";
	while (defined(recv($s, my $m, 65536, 0))) {
		last if $m eq "cap.sh: end";
		print $o "$m\n";
	}' "$T/syslog" &
lp=$!
i=0
while [ ! -S /dev/log ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
"$@"
rc=$?
perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0);
	send($s, "cap.sh: end", 0, pack_sockaddr_un("/dev/log"));'
wait "$lp"
exit $rc
