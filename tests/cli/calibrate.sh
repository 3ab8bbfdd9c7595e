#!/usr/bin/env bash
# knee fit / knee calibrate: a successful fit from the project's data, a derived profile, the CPU
# backend end to end, and exit status 2 with one line naming file and path on bad input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
d=$src/calibrate/data/h200-2026-11-27

"$knee" fit "$d/micro.json" "$d/run2/micro.json" --name h200 --out "$tmp/h200.json" || fail "fit exited $?"
grep -q '"schema_version": 1' "$tmp/h200.json" || fail "fit: no schema_version"
grep -q '"run_to_run"' "$tmp/h200.json" || fail "fit: no run_to_run from the second run"
"$knee" fit --derive a100 "$tmp/h200.json" --out "$tmp/a100.json" || fail "derive exited $?"
grep -q '"NVIDIA A100 SXM 80GB"' "$tmp/a100.json" || fail "derive: wrong gpu"

head -c 5000 "$d/micro.json" >"$tmp/trunc.json"
expect2 "$tmp/trunc.json: expected valid JSON" "$knee" fit "$tmp/trunc.json" --out "$tmp/x.json"
sed '0,/{/s//{"elapsed_secs": 1, /' "$d/micro.json" >"$tmp/unknown.json"
expect2 "$tmp/unknown.json: \$.elapsed_secs: expected one of the known keys" "$knee" fit "$tmp/unknown.json"
sed '0,/"times_s": \[/s//"times_s": [-1.5e-05, /' "$d/micro.json" >"$tmp/neg.json"
expect2 "$tmp/neg.json: \$.gemm[0].times_s[0]: expected a finite number > 0, got -1.5e-05" "$knee" fit "$tmp/neg.json"
sed '0,/"m": 64/s//"m": "64"/' "$d/micro.json" >"$tmp/type.json"
expect2 "$tmp/type.json: \$.gemm[0].m: expected an integer >= 1" "$knee" fit "$tmp/type.json"
expect2 "/nonexistent.json" "$knee" fit /nonexistent.json
sed 's/"bandwidth_Bps"/"bandwith_Bps"/' "$tmp/h200.json" >"$tmp/badprof.json"
expect2 "$tmp/badprof.json: \$.memory.copy.bandwith_Bps" "$knee" fit --derive h100 "$tmp/badprof.json"
expect2 "--backend: expected cuda, cpu or auto" "$knee" calibrate --backend tpu
if [ ! -e /dev/nvidia0 ]; then
  expect2 "no CUDA device" "$knee" calibrate --backend cuda --quick
fi

"$knee" calibrate --backend cpu --quick --out "$tmp/cpu.json" --raw "$tmp/cpu-raw.json" 2>"$tmp/progress" ||
  fail "calibrate --backend cpu exited $?: $(tail -3 "$tmp/progress")"
grep -q "knee calibrate \[cpu" "$tmp/progress" || fail "no progress lines on stderr"
grep -q '"host_pipe"' "$tmp/cpu.json" || fail "cpu profile lacks the pipe link"
grep -q '"knee-raw/1"' "$tmp/cpu-raw.json" || fail "raw output is not knee-raw/1"
grep -q "knee calibrate: backend" "$tmp/progress" && fail "an explicit --backend cpu printed the auto choice"

# --backend auto (the default) says which backend it chose and why, on stderr before measuring.
# Without a GPU it picks cpu; without the driver library the reason names libcuda.so.1.
if [ ! -e /dev/nvidia0 ]; then
  "$knee" calibrate --quick --out "$tmp/auto.json" 2>"$tmp/auto-err" || fail "calibrate (auto) exited $?"
  [ "$(grep -c '^knee calibrate: backend ' "$tmp/auto-err")" -eq 1 ] || fail "auto: expected one choice line: $(head -3 "$tmp/auto-err")"
  head -1 "$tmp/auto-err" | grep -q '^knee calibrate: backend cpu (.\+)$' ||
    fail "auto: the first stderr line is not the choice of cpu with a reason: $(head -1 "$tmp/auto-err")"
  # Whether the driver library loads, asked of the dynamic loader through Python's ctypes.
  if ! /usr/bin/python3 -c 'import ctypes; ctypes.CDLL("libcuda.so.1")' 2>/dev/null; then
    grep -qF "knee calibrate: backend cpu (no CUDA driver: libcuda.so.1 not loadable" "$tmp/auto-err" ||
      fail "auto: no driver reason: $(head -1 "$tmp/auto-err")"
  fi
  grep -q '"gpu_count": 0' "$tmp/auto.json" || fail "auto without a GPU did not write a cpu profile"
fi
# The raw file fits again into a profile (knee fit reads the backend's own format).
"$knee" fit "$tmp/cpu-raw.json" --out "$tmp/cpu2.json" || fail "refit of the cpu raw file exited $?"
echo "ok"
