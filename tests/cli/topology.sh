#!/usr/bin/env bash
# knee topology: exact counts for small cases, JSON output, and exit 2 with a message naming the
# field for every bad input.  $1 = knee binary, $2 = source dir.
set -u
KNEE="$1"; SRC="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --- good cases ---
out=$("$KNEE" topology --system dgx-h100 --nodes 4 --fabric rail-fat-tree --json) || fail "dgx-h100 x4 exited $?"
echo "$out" | grep -q '"gpus": 32,' || fail "expected 32 gpus: $out"
echo "$out" | grep -q '"switches": 44,' || fail "expected 44 switches (4 NVSwitch + 8 leaves + 32 spines): $out"
echo "$out" | grep -q '"links": 352,' || fail "expected 352 links: $out"
echo "$out" | grep -q '"bisection_GBps": 800.0' || fail "expected 800 GB/s bisection: $out"
echo "$out" | grep -q '"build_time_s"' || fail "expected build_time_s: $out"

out=$("$KNEE" topology --system dgx-h100 --nodes 128 --fabric rail-fat-tree --oversubscription 2 --json) || fail "oversubscribed exited $?"
echo "$out" | grep -q '"gpus": 1024,' || fail "expected 1024 gpus: $out"
echo "$out" | grep -q '"bisection_GBps": 12800.0' || fail "expected 12800 GB/s at 2:1: $out"

out=$("$KNEE" topology --system dgx-h100 --nodes 16 --fabric fat-tree --json) || fail "fat-tree exited $?"
echo "$out" | grep -q '"switches": 52,' || fail "expected 52 switches: $out"

out=$("$KNEE" topology --system dgx-a100 --fabric torus --dims 4,4 --json) || fail "torus exited $?"
echo "$out" | grep -q '"nodes": 16,' || fail "expected 16 servers from --dims: $out"

out=$("$KNEE" topology --system "$SRC/topologies/systems/hgx-b200.json" --fabric single-node) || fail "system file exited $?"
echo "$out" | grep -q '^gpus  *8$' || fail "expected table row 'gpus 8': $out"

cat > "$tmp/t.json" <<'JSON'
{"nodes": [{"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}, {"id": "sw", "kind": "switch"}],
 "links": [{"a": "g0", "b": "sw", "bandwidth_GBps": 450, "latency_ns": 350},
           {"a": "g1", "b": "sw", "bandwidth_GBps": 450, "latency_ns": 350}]}
JSON
out=$("$KNEE" topology --file "$tmp/t.json" --json) || fail "file exited $?"
echo "$out" | grep -q '"gpus": 2,' || fail "file: expected 2 gpus: $out"
echo "$out" | grep -q '"bisection_GBps": 450.0' || fail "file: expected 450 GB/s: $out"

# --- bad inputs: exit 2 and a message naming the field ---
expect_error() {  # expect_error PATTERN ARGS...
  local pat="$1"; shift
  local err rc
  err=$("$KNEE" topology "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2 ($err)"
  [ "$(echo "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
  echo "$err" | grep -qF -- "$pat" || fail "'$*': expected '$pat' in: $err"
}
expect_error "--system: expected one of dgx-a100" --system dgx-h900 --nodes 2
expect_error "--fabric: expected one of single-node" --system dgx-h100 --nodes 2 --fabric dragonfly
expect_error "--nodes: expected an integer >= 1" --system dgx-h100 --nodes 0
expect_error "--nodes: expected an integer >= 1" --system dgx-h100 --nodes -3
expect_error "--oversubscription: expected a number >= 1" --system dgx-h100 --nodes 2 --oversubscription 0.5
expect_error "--oversubscription: expected a finite number" --system dgx-h100 --nodes 2 --oversubscription lots
expect_error "--system/--file: expected exactly one" --system dgx-h100 --file "$tmp/t.json"
expect_error "--system/--file: expected exactly one" --nodes 4
expect_error "--nodes: expected 1 with --fabric single-node" --system dgx-h100 --nodes 2 --fabric single-node
expect_error "--dims: expected 2 or 3" --system dgx-h100 --fabric torus --dims 8
expect_error "--radix: expected" --system dgx-h100 --nodes 2 --radix 7
expect_error "--nodes: expected no fabric options with --file" --file "$tmp/t.json" --nodes 2
expect_error "/nonexistent.json: expected a readable JSON file" --file /nonexistent.json
echo '{"nodes": [{"id": "g0", "kind": "gpu"}], "links": [{"a": "g0", "b": "g9", "bandwidth_GBps": 1, "latency_ns": 0}]}' > "$tmp/bad.json"
expect_error "$tmp/bad.json: \$.links[0].b: expected the id of a node" --file "$tmp/bad.json"
echo '{"nodes": [' > "$tmp/trunc.json"
expect_error "$tmp/trunc.json: expected valid JSON" --file "$tmp/trunc.json"
echo "ok"
