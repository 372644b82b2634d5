#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh: run the unit tests and end-to-end scripts; print one closing line,
# "RUN run: N passed, N failed".
# Environment: B (build directory, default build), VALGRIND=1 to run every
# program under valgrind (errors and definite/indirect leaks fail the test),
# RUN_JOBS (suites run at once; default CPUs + 1),
# CHECK_RUN (the run's name: plain, asan+ubsan, valgrind), CHECK_TOTALS (a
# file to which "RUN PASSED FAILED" is appended for make check's total).
#
# sh tests/run.sh --total FILE RUN...: after make check's runs, one closing
# line for all of them, "check: N passed, N failed" (CI reads it); a run
# with no line in FILE (its build failed) counts as one failure.  Exit 1 if
# anything failed.
set -u
if [ "${1:-}" = --total ]; then
	file=$2
	shift 2
	pass=0
	fail=0
	for r in "$@"; do
		line=$(grep "^$r " "$file" 2>/dev/null | tail -n 1)
		if [ -z "$line" ]; then
			echo "$r run: did not finish (see its build or package errors above)"
			fail=$((fail + 1))
			continue
		fi
		set -- $line
		pass=$((pass + $2))
		fail=$((fail + $3))
	done
	echo "check: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
RUN=${CHECK_RUN:-plain}
B=${B:-build}
export B
if [ "${VALGRIND:-}" = 1 ]; then
	VG="valgrind -q --read-inline-info=no --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no"
else
	VG=""
fi
export VG
pass=0
fail=0
dir=$(mktemp -d) || exit 1
skips=$dir/skips
: >"$skips"
trap 'rm -rf "$dir"' EXIT

# The unit tests and the end-to-end scripts run RUN_JOBS at a time (default:
# one more than the CPUs; each suite has its own temporary directory, users,
# services and ports), the longest first; their logs are then printed whole,
# in the usual order, each with its time.
jobs=${RUN_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}
slow="tests/e2e_crash.sh tests/e2e_admin.sh tests/e2e_helper.sh tests/e2e_secrets.sh"
units=$(for t in "$B"/test_*; do [ -x "$t" ] && echo "$t"; done)
scripts=$(ls tests/e2e_*.sh)
{
	for s in $slow; do [ -f "$s" ] && echo "$s"; done
	for s in $scripts; do
		case " $slow " in *" $s "*) ;; *) echo "$s" ;; esac
	done
	printf '%s\n' $units
} | xargs -P "$jobs" -I{} sh -c '
	n=$(basename "$1" .sh)
	t0=$(date +%s)
	case "$1" in
	*.sh) sh "$1" ;;
	*) $VG "$1" ;;
	esac >"$2/$n.log" 2>&1
	echo $? >"$2/$n.rc"
	echo "$(($(date +%s) - t0))" >"$2/$n.secs"
	echo "  ($n done in $(cat "$2/$n.secs") s)"' _ {} "$dir"

for t in $units; do
	n=$(basename "$t")
	cat "$dir/$n.log"
	rc=$(cat "$dir/$n.rc" 2>/dev/null || echo 127)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$dir/$n.log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$dir/$n.log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAILED: $t exited with $rc"
		fail=$((fail + 1))
	fi
done

for s in $scripts; do
	n=$(basename "$s" .sh)
	cat "$dir/$n.log"
	echo "($n: $(cat "$dir/$n.secs" 2>/dev/null || echo '?') s)"
	rc=$(cat "$dir/$n.rc" 2>/dev/null || echo 127)
	grep '^e2e[^:]*: skipped' "$dir/$n.log" >>"$skips"
	p=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$dir/$n.log" | tail -n 1)
	f=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$dir/$n.log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAILED: $s exited with $rc"
		fail=$((fail + 1))
	fi
done

# Whole suites that did not run in this run, and why, next to its count.
if [ -s "$skips" ]; then
	echo "$RUN run: suites skipped:"
	sed 's/^/  /' "$skips"
fi
[ -n "${CHECK_TOTALS:-}" ] && echo "$RUN $pass $fail" >>"$CHECK_TOTALS"
echo "$RUN run: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
