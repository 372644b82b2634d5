#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_deps.sh: every header and library a make target compiles or links
# against comes from a Debian package that the scripts/deps.sh list of that
# target installs (or that one of those packages depends on), so that
# "make demo" works on a machine with only the build packages, and a nocheck
# .deb build without the test packages.  What each target builds is read from
# "make -n -B" in an empty build directory; the headers from "cc -M" with the
# target's own flags; the owners from dpkg -S.
set -u
suite=e2e_deps
. tests/lib.sh

# It reads the Makefile and the package database and runs none of our
# programs: the sanitizer and valgrind runs would check the same again.
case "${CHECK_RUN:-plain}" in
plain) ;;
*)	echo "e2e_deps: skipped (runs no program of ours; the plain run checks it)"
	exit 0 ;;
esac

for p in dpkg dpkg-query apt-cache; do
	if ! command -v "$p" >/dev/null; then
		echo "# $p not found: not a Debian system, dependency lists not checked"
		finish
		exit $?
	fi
done
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
mkdir "$T/cache"
: >"$T/owners"

# deps_list NAME: the packages of "scripts/deps.sh NAME", one a line.
deps_list() {
	sed -n "s/^$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')=\"\(.*\)\"\$/\1/p" scripts/deps.sh |
	    while read -r l; do
		for w in $l; do
			case "$w" in
			'$'*) deps_list "$(printf '%s' "${w#\$}" | tr '[:upper:]' '[:lower:]')" ;;
			*) echo "$w" ;;
			esac
		done
	done
}

# closure FILE: the packages of FILE and, recursively, every installed package
# they depend on (Depends and Pre-Depends; any alternative), one a line.
closure() {
	# shellcheck disable=SC2046
	apt-cache depends --recurse --installed --no-recommends --no-suggests \
	    --no-conflicts --no-breaks --no-replaces --no-enhances $(cat "$1") 2>/dev/null |
	    sed -n 's/^\([a-z0-9][^ ]*\)$/\1/p' | sed 's/:.*//' | sort -u
	cat "$1"
}

# split: from compile commands (one a line), "C CC FLAGS|SOURCE" for each C
# source with the command's preprocessor flags, and "L CC -lNAME" for each
# library.
split() {
	awk '{
		pf = ""
		for (i = 2; i <= NF; i++)
			if ($i ~ /^-(I|D|U|std=|O|f|m)/)
				pf = pf " " $i
		for (i = 2; i <= NF; i++) {
			if ($i ~ /\.c$/)
				print "C " $1 pf "|" $i
			else if ($i ~ /^-l/)
				print "L " $1 " " $i
		}
	}' "$1" | sort -u
}

# files SPLIT: the absolute path of every file the sources include (one
# "cc -M" per set of flags) and of every library, one a line; "!WHAT: why"
# for what is not found.
files() {
	sed -n 's/^C \([^|]*\)|.*/\1/p' "$1" | sort -u | while read -r flags; do
		# Targets share most commands: each set is preprocessed once.
		k=$T/cache/$(printf '%s' "$flags" | md5sum | cut -c1-32)
		if [ ! -f "$k" ]; then
			srcs=$(grep -F "C $flags|" "$1" | sed 's/.*|//')
			# shellcheck disable=SC2086
			if ! $flags -M $srcs >"$T/m" 2>"$T/m.err"; then
				echo "!$(echo $srcs): $(grep -m 3 -i error "$T/m.err")"
				continue
			fi
			tr ' \\' '\n\n' <"$T/m" | grep '^/' | sort -u >"$k"
		fi
		cat "$k"
	done
	sed -n 's/^L //p' "$1" | sort -u | while read -r cc l; do
		n=${l#-l}
		f=$("$cc" -print-file-name="lib$n.so")
		case "$f" in /*) ;; *) f=$("$cc" -print-file-name="lib$n.a") ;; esac
		case "$f" in /*) echo "$f" ;; *) echo "!$l: no lib$n.so or lib$n.a" ;; esac
	done
}

# owners FILE: "package path" for each path of FILE; "- path" for a path
# no package owns.  /usr/lib and /lib are the same directory on a merged
# /usr, but dpkg knows each file by one of the two names.  One dpkg -S for
# all the paths not yet known (each call reads the whole package database).
owners() {
	xargs -r realpath -s -m <"$1" | sort -u >"$T/want.paths"
	awk 'FILENAME == ARGV[1] { o[$2] = 1; next } !($0 in o)' "$T/owners" "$T/want.paths" >"$T/new.paths"
	if [ -s "$T/new.paths" ]; then
		# Each path under both names; "PACKAGE PATH" for those dpkg knows.
		sed -e 'p' -e 's,^/usr/,/,;t' -e 's,^/,/usr/,' "$T/new.paths" >"$T/both.paths"
		# shellcheck disable=SC2046
		dpkg -S $(cat "$T/both.paths") 2>/dev/null |
		    sed -n 's/^\([^:,]*\)[^ ]* \(\/.*\)$/\1 \2/p' >"$T/found"
		awk 'FILENAME == ARGV[1] { o[$2] = $1; next }
		    { a = $0; if (!sub(/^\/usr\//, "/", a)) a = "/usr" a
		      print ($0 in o ? o[$0] : (a in o ? o[a] : "-")), $0 }' \
		    "$T/found" "$T/new.paths" >>"$T/owners"
	fi
	awk 'FILENAME == ARGV[1] { o[$2] = $1; next } { print ($0 in o ? o[$0] : "-"), $0 }' \
	    "$T/owners" "$T/want.paths"
}

# target TARGET [LIST]: check what "make TARGET" compiles against the
# deps.sh list it installs, or LIST where the target installs none.
target() {
	tg=$1
	mk="$T/make.$tg"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -n -B --no-print-directory "$tg" B="$T/b" >"$mk" 2>&1
	RC=$?
	OUT=$(tail -n 5 "$mk")
	check "make -n $tg succeeds" test "$RC" -eq 0
	lists=$(sed -n 's/^sh scripts\/deps.sh \([a-z]*\)$/\1/p' "$mk" | sort -u)
	[ -n "$lists" ] || lists=${2:-}
	OUT=$(cat "$mk")
	check "make $tg installs a deps.sh list (${lists:-none})" test -n "$lists"
	: >"$T/want"
	for l in $lists; do deps_list "$l" >>"$T/want"; done
	closure "$T/want" | sort -u >"$T/allowed"
	# The compiler's lines: the first word runs a C compiler.
	grep -E '^([^ ]*-)?(cc|gcc|gcc-[0-9]+|clang|clang-[0-9]+) ' "$mk" | sort -u >"$T/cmds"
	n=$(grep -c . "$T/cmds")
	OUT=$(cat "$mk")
	check "make $tg: $n compile and link commands found" test "$n" -gt 0
	split "$T/cmds" >"$T/split"
	files "$T/split" >"$T/files"
	OUT=$(grep '^!' "$T/files")
	check "make $tg: every header and -l library of its sources is found" test -z "$OUT"
	grep '^/' "$T/files" | sort -u >"$T/paths"
	owners "$T/paths" >"$T/owned"
	np=$(grep -c . "$T/paths")
	OUT=$(cat "$T/owned")
	check "make $tg: $np system headers and libraries, each with its owner" \
	    test "$np" -gt 0 -a "$(grep -c . "$T/owned")" -eq "$np"
	OUT=$(grep '^- ' "$T/owned" | grep -v -e "^- $(pwd)/" -e "^- $T/")
	check "make $tg: every system header and library belongs to a package" test -z "$OUT"
	# One line per package that the list does not bring, with one of its files.
	OUT=$(grep -v '^- ' "$T/owned" | sort -u -k1,1 | while read -r pkg path; do
		grep -qxF "$pkg" "$T/allowed" || echo "$pkg (e.g. $path)"
	done)
	check "make $tg: every package it compiles against is in deps.sh $(echo $lists) or its dependencies" test -z "$OUT"
}

# demo, test, check and bench name their lists; all is what a nocheck .deb
# build and "make install" run, with the build packages only.
target demo
target all build
target test
target check
target bench

finish
