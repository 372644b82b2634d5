#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deps.sh: make sure the Debian packages a job needs are installed.
# usage: sh scripts/deps.sh [build|test|ci|bench]   (default: build)
# As root, installs what is missing with apt-get; otherwise prints the exact
# apt-get line and fails, so that nothing half-works.
set -u

BUILD="gcc make pkg-config libpam0g-dev libsodium-dev liblmdb-dev libqrencode-dev libcairo2-dev libbsd-dev libldap2-dev fonts-dejavu-core"
TEST="$BUILD libcmocka-dev valgrind pamtester passwd util-linux poppler-utils zbar-tools openssh-server openssh-client sudo mandoc libpam-google-authenticator oathtool strace age slapd ldap-utils openssl"
CI="$TEST lmdb-utils jq clang libclang-rt-14-dev"
BENCH="$BUILD libpam-google-authenticator gnuplot-nox slapd ldap-utils openssl python3"

case "${1:-build}" in
build) want=$BUILD ;;
test) want=$TEST ;;
ci) want=$CI ;;
bench) want=$BENCH ;;
*) echo "usage: $0 [build|test|ci|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "Installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
