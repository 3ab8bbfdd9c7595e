# Sourced by the command-line tests (tests/cli/*.sh, which ctest runs as `bash T.sh KNEE SRC`):
# the tool and the source tree, a scratch folder removed on exit, and the checks they share.
# Not a test itself (tests/CMakeLists.txt skips it).
set -u
knee=$1
src=${2:-}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect2 PATTERN CMD... : CMD exits with status 2 and prints one line on stderr containing
# PATTERN (kept in $tmp/err; stdout in $tmp/out).
expect2() {
  "${@:2}" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2, got $rc: ${*:2}"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one error line: $(cat "$tmp/err")"
  grep -qF -- "$1" "$tmp/err" || fail "expected '$1' in: $(cat "$tmp/err")"
}
