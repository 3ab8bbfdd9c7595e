#!/usr/bin/env bash
# A topology file's degraded_links and failed_links (docs/topologies.md, "Topology file") from the
# command line: a link degraded to a quarter is exactly the file with a quarter of its bandwidth written, a
# failed link exactly the file without it, and a bad entry is one line and exit 2.
# $1 = knee binary, $2 = source dir.
. "$(dirname "$0")/lib.sh"

# Two GPUs on two leaves joined directly (the shortest path) and through two spines at half the NIC
# rate: failing the direct link sends the traffic over a spine.
write() {  # write FILE N0_LEAF_GBPS LEAF0_LEAF1_LINK EXTRA
  cat >"$1" <<JSON
{"nodes": [{"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}, {"id": "n0", "kind": "nic"}, {"id": "n1", "kind": "nic"},
           {"id": "leaf0", "kind": "switch"}, {"id": "leaf1", "kind": "switch"}, {"id": "s0", "kind": "switch"}, {"id": "s1", "kind": "switch"}],
 "links": [{"a": "g0", "b": "n0", "bandwidth_GBps": 64, "latency_ns": 500},
           {"a": "g1", "b": "n1", "bandwidth_GBps": 64, "latency_ns": 500},
           {"a": "n0", "b": "leaf0", "bandwidth_GBps": $2, "latency_ns": 600},
           {"a": "n1", "b": "leaf1", "bandwidth_GBps": 50, "latency_ns": 600},
           $3
           {"a": "leaf0", "b": "s0", "bandwidth_GBps": 25, "latency_ns": 600},
           {"a": "leaf0", "b": "s1", "bandwidth_GBps": 25, "latency_ns": 600},
           {"a": "leaf1", "b": "s0", "bandwidth_GBps": 25, "latency_ns": 600},
           {"a": "leaf1", "b": "s1", "bandwidth_GBps": 25, "latency_ns": 600}]$4}
JSON
}
direct='{"a": "leaf0", "b": "leaf1", "bandwidth_GBps": 50, "latency_ns": 600},'
time_of() { "$knee" collective --file "$1" --op allreduce --bytes 1GiB --json | grep '"time_s"' || fail "collective on $1"; }

write "$tmp/plain.json" 50 "$direct" ""
write "$tmp/empty.json" 50 "$direct" ', "degraded_links": [], "failed_links": []'
write "$tmp/degraded.json" 50 "$direct" ', "degraded_links": [{"between": ["leaf0", "n0"], "factor": 0.25}]'
write "$tmp/quarter.json" 12.5 "$direct" ""
write "$tmp/failed.json" 50 "$direct" ', "failed_links": [{"between": ["leaf1", "leaf0"]}]'
write "$tmp/without.json" 50 "" ""

[ "$(time_of "$tmp/empty.json")" = "$(time_of "$tmp/plain.json")" ] || fail "empty lists changed the time"
[ "$(time_of "$tmp/degraded.json")" = "$(time_of "$tmp/quarter.json")" ] ||
  fail "degraded to 0.25: $(time_of "$tmp/degraded.json"), a quarter written: $(time_of "$tmp/quarter.json")"
[ "$(time_of "$tmp/degraded.json")" != "$(time_of "$tmp/plain.json")" ] || fail "degrading changed nothing"
[ "$(time_of "$tmp/failed.json")" = "$(time_of "$tmp/without.json")" ] ||
  fail "failed: $(time_of "$tmp/failed.json"), without the link: $(time_of "$tmp/without.json")"
[ "$(time_of "$tmp/failed.json")" != "$(time_of "$tmp/plain.json")" ] || fail "failing changed nothing"

write "$tmp/bad.json" 50 "$direct" ', "degraded_links": [{"between": ["n0", "leaf0"], "factor": 2}]'
expect2 "$tmp/bad.json: \$.degraded_links[0].factor: expected a fraction of the link's bandwidth in (0, 1]" \
  "$knee" topology --file "$tmp/bad.json"
write "$tmp/bad.json" 50 "$direct" ', "failed_links": [{"between": ["n0", "leaf1"]}]'
expect2 "$tmp/bad.json: \$.failed_links[0].between: expected two nodes joined by a link in \$.links" \
  "$knee" collective --file "$tmp/bad.json" --op allreduce --bytes 1MiB
write "$tmp/bad.json" 50 "$direct" ', "failed_links": [{"between": ["n0", "leaf0"]}]'
expect2 "$tmp/bad.json: \$.failed_links[0]: expected failed links that leave every GPU and host reaching every other" \
  "$knee" topology --file "$tmp/bad.json"
echo PASS
