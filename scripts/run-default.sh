#!/usr/bin/env bash
# `make run`: the default study on shipped data. Until the training workload lands this is a
# collective study: how all-reduce bus bandwidth bends as a DGX H200 cluster grows.
set -euo pipefail
build=${1:-build}
knee=$build/knee
echo "== The cluster: 16 x DGX H200 on a rail-optimized fat-tree (datasheet link rates)"
"$knee" topology --system dgx-h200 --nodes 16
echo
echo "== All-reduce size sweep on 128 GPUs (16 servers), algorithm/protocol/channels chosen as NCCL's tuner would"
"$knee" collective --system dgx-h200 --nodes 16 --op allreduce --sweep 1KiB:4GiB
echo
echo "== 1 GiB all-reduce as the cluster grows (baseline: 1 server, 8 GPUs)"
printf "%8s %8s %12s %12s %-10s %-7s\n" servers gpus "time(ms)" "busbw(GB/s)" algorithm proto
for n in 1 2 4 8 16 32 64 128; do
  "$knee" collective --system dgx-h200 --nodes "$n" --op allreduce --bytes 1GiB --json |
    /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print("%8d %8d %12.3f %12.1f %-10s %-7s" % ('"$n"', j["ranks"], j["time_s"]*1e3, j["busbw_GBps"], j["algorithm"], j["protocol"]))'
done
