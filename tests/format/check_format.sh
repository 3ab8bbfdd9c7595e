#!/usr/bin/env bash
# The C++ sources match .clang-format (ctest format.clang_format). Usage: check_format.sh SRC [--fix]
# Checks every tracked .cpp/.hpp/.cu (git ls-files, so build trees are never read); --fix rewrites
# them in place. The style is pinned to Debian 12's clang-format 14, which scripts/install-deps.sh
# --test installs: another major version may format some lines differently.
set -u
src=${1:?usage: check_format.sh SRC [--fix]}
cd "$src" || exit 2
cf=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$cf" ] || { echo "FAIL: clang-format not installed (scripts/install-deps.sh --test installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cu')
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C++ files found under $src (not a git checkout?)"; exit 1; }
if [ "${2:-}" = "--fix" ]; then
  "$cf" -i --style=file "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "FAIL: ${#bad[@]} file(s) not formatted as .clang-format says (fix: tests/format/check_format.sh . --fix):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "OK: ${#files[@]} files formatted"
