#!/usr/bin/env bash
# knee topology: exact counts for small cases, JSON output, the pod tier (and knee collective with
# its flags), and exit 2 with a message naming the field for every bad input.  $1 = knee binary,
# $2 = source dir.
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

# --- the pod tier (--pod-gpus, --pod-oversubscription): closed-form counts and bisection of a
# 2-pod build, the Llama 3 cluster, fat-tree pods, and knee collective with the same flags ---
# 64 DGX H100 (512 GPUs), pods of 256 GPUs (32 servers: one leaf per rail), 1:7 between pods.
# Switches: 64 NVSwitches + 16 leaves + 2 x 32 pod spines + 32 cores = 176. Links: 512 x 3 +
# 16 x 32 leaf-spine + 2 x 32 spine-core = 2112. Bisection: one pod's uplink, 256 x 50 GB/s / 7.
out=$("$KNEE" topology --system dgx-h100 --nodes 64 --pod-gpus 256 --pod-oversubscription 7 --json) ||
  fail "2 pods exited $?"
echo "$out" | grep -q '"gpus": 512,' || fail "expected 512 gpus: $out"
echo "$out" | grep -q '"switches": 176,' || fail "expected 176 switches: $out"
echo "$out" | grep -q '"links": 2112,' || fail "expected 2112 links: $out"
echo "$out" | grep -q '"bisection_GBps": 1828.57' || fail "expected 1828.57 GB/s bisection: $out"
echo "$out" | grep -q '"pods": 2,' || fail "expected 2 pods: $out"
echo "$out" | grep -q '"cores": 32,' || fail "expected 32 cores: $out"
echo "$out" | grep -q '"pod_oversubscription": 7' || fail "expected pod_oversubscription 7: $out"
echo "$out" | grep -q '"pod_bisection_GBps": 1828.57' || fail "expected pod_bisection_GBps: $out"

# The table prints the pod tier too.
out=$("$KNEE" topology --system dgx-h100 --nodes 64 --pod-gpus 256 --pod-oversubscription 7) || fail "table exited $?"
echo "$out" | grep -q '^pods  *2$' || fail "expected table row 'pods 2': $out"
echo "$out" | grep -q '^cores  *32$' || fail "expected table row 'cores 32': $out"

# Without the options the build is unchanged (the plain rail fat-tree of tests/cli/topology.sh).
out=$("$KNEE" topology --system dgx-h100 --nodes 64 --json) || fail "plain exited $?"
echo "$out" | grep -q '"bisection_GBps": 12800.0' || fail "expected 12800 GB/s without pods: $out"
echo "$out" | grep -q '"pod_gpus"' && fail "no pod keys without --pod-gpus: $out"

# Meta's Llama 3 cluster: 24,576 GPUs in 8 pods of 3,072 at 1:7 (docs/topologies.md).
out=$("$KNEE" topology --system dgx-h100 --nodes 3072 --pod-gpus 3072 --pod-oversubscription 7 --json) ||
  fail "llama3 exited $?"
echo "$out" | grep -q '"gpus": 24576,' || fail "expected 24576 gpus: $out"
echo "$out" | grep -q '"pods": 8,' || fail "expected 8 pods: $out"
echo "$out" | grep -q '"bisection_GBps": 87771.4' || fail "expected 4 pods' uplinks, 87771.4 GB/s: $out"

# fat-tree pods: 16 DGX, pods of 64 GPUs (2 edges): 2 pods; each pod's 32 x 32 core links sum to
# its 2 x 32 x 50 GB/s aggregation downlinks / 4 = 800 GB/s.
out=$("$KNEE" topology --system dgx-h100 --nodes 16 --fabric fat-tree --pod-gpus 64 --pod-oversubscription 4 --json) ||
  fail "fat-tree pods exited $?"
echo "$out" | grep -q '"pod_uplink_GBps": 800.0' || fail "expected an 800 GB/s pod uplink: $out"
echo "$out" | grep -q '"bisection_GBps": 800.0' || fail "expected 800 GB/s bisection: $out"

# knee collective takes the same flags: an all-to-all over both pods is slower at 1:7 than at 1:1.
t7=$("$KNEE" collective --system dgx-h100 --nodes 8 --radix 8 --pod-gpus 32 --pod-oversubscription 7 \
  --op alltoall --bytes 64MiB --algo direct --json) || fail "collective 1:7 exited $?"
t1=$("$KNEE" collective --system dgx-h100 --nodes 8 --radix 8 --pod-gpus 32 \
  --op alltoall --bytes 64MiB --algo direct --json) || fail "collective 1:1 exited $?"
python3 - "$t1" "$t7" <<'PY' || fail "expected 1:7 at least 3x slower than 1:1"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
key = "time_s"
sys.exit(0 if b[key] > 3 * a[key] else 1)
PY

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
# the pod tier's options
expect_error "knee topology: --pod-gpus: expected a multiple of 256" --system dgx-h100 --nodes 64 --pod-gpus 100 --pod-oversubscription 7
expect_error "--pod-gpus: expected a multiple of 32 (the GPUs of one edge switch" --system dgx-h100 --nodes 16 --fabric fat-tree --pod-gpus 48
expect_error "--pod-gpus: expected an integer >= 0" --system dgx-h100 --nodes 64 --pod-gpus -256
expect_error "--pod-gpus: expected" --system dgx-h100 --nodes 64 --pod-gpus many
expect_error "--pod-oversubscription: expected a number >= 1" --system dgx-h100 --nodes 64 --pod-gpus 256 --pod-oversubscription 0.5
expect_error "--pod-oversubscription: expected a finite number" --system dgx-h100 --nodes 64 --pod-gpus 256 --pod-oversubscription lots
expect_error "--pod-oversubscription: expected 1 without --pod-gpus" --system dgx-h100 --nodes 64 --pod-oversubscription 7
expect_error "--pod-gpus: expected 0 (no pod tier) with --fabric torus" --system dgx-h100 --fabric torus --dims 2,2 --pod-gpus 16
expect_error "--pod-gpus: expected no fabric options with --file" --file "$tmp/t.json" --pod-gpus 256
echo "ok"
