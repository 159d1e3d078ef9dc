#!/usr/bin/env bash
# Long-run evidence for live capture: a steady stream of HTTP (Basic credentials in
# clear) and HTTPS requests between two network namespaces joined by a veth pair, for at
# least ten minutes, while `medscan scan --iface` watches one end and its resident memory
# (VmRSS) is sampled every 10 s. A second medscan process lists the store every minute
# while the first writes it. Prints the RSS series and a summary; docs/live-capture.md
# records the figures.
#
#   sudo scripts/live-soak.sh                        # 11 min capture, 200 requests/s
#   DURATION=30m RATE=500 sudo scripts/live-soak.sh
#   OUT=/tmp/soak sudo scripts/live-soak.sh          # keep the series, store and report there
#
# Needs root (namespaces, capture), Go and iproute2. Everything it creates (namespaces,
# processes, the temporary directory unless OUT is given) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-11m}
rate=${RATE:-200}
out=${OUT:-}
work=$(mktemp -d)
id=$$
ns_srv=msoak-s-$id ns_cli=msoak-c-$id
veth_srv=msk${id}a veth_cli=msk${id}b
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns_srv" 2>/dev/null || true
  ip netns del "$ns_cli" 2>/dev/null || true
  if [ -z "$out" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
if [ -n "$out" ]; then mkdir -p "$out"; rm -rf "$work"; work=$out; fi

secs() { # a Go duration (11m, 1h30m, 90s) in seconds
  python3 -c 'import re,sys; print(sum(int(n)*{"h":3600,"m":60,"s":1}[u] for n,u in re.findall(r"(\d+)([hms])", sys.argv[1])))' "$1"
}
total=$(secs "$duration")
[ "$total" -ge 60 ] || { echo "DURATION must be at least 1m" >&2; exit 2; }
load=$((total - 30)) # the load stops before the capture does, so the last flows end in it

CGO_ENABLED=0 go build -o "$work/medscan" ./cmd/medscan
CGO_ENABLED=0 go build -o "$work/soakload" ./scripts/soakload

ip netns add "$ns_srv"
ip netns add "$ns_cli"
ip link add "$veth_srv" netns "$ns_srv" type veth peer name "$veth_cli" netns "$ns_cli"
ip -n "$ns_srv" addr add 10.203.0.1/24 dev "$veth_srv"
ip -n "$ns_cli" addr add 10.203.0.2/24 dev "$veth_cli"
for ns in "$ns_srv" "$ns_cli"; do ip -n "$ns" link set lo up; done
ip -n "$ns_srv" link set "$veth_srv" up
ip -n "$ns_cli" link set "$veth_cli" up

ip netns exec "$ns_srv" "$work/soakload" serve -addr 10.203.0.1 -duration "$((total + 60))s" &
pids+=($!)
ip netns exec "$ns_srv" "$work/medscan" scan --iface "$veth_srv" --duration "$duration" --commit-interval 30s \
  --db "$work/soak.db" --format json -o "$work/report.json" 2>"$work/medscan.err" &
medscan_pid=$!
pids+=("$medscan_pid")
sleep 2
ip netns exec "$ns_cli" "$work/soakload" client -addr 10.203.0.1 -rate "$rate" -duration "${load}s" >"$work/load.log" 2>&1 &
pids+=($!)

echo "elapsed_s,rss_kb" >"$work/rss.csv"
start=$(date +%s)
# Bounded: one sample per 10 s until medscan ends, and never past the duration + 2 min.
for ((i = 0; i <= total / 10 + 12; i++)); do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$medscan_pid/status" 2>/dev/null) || break
  [ -n "$rss" ] || break
  echo "$(($(date +%s) - start)),$rss" >>"$work/rss.csv"
  if ((i % 6 == 5)); then # a second process reads the store while the first writes it
    "$work/medscan" scans --db "$work/soak.db" >"$work/scans.txt" 2>&1 || { echo "reading the store failed:"; cat "$work/scans.txt"; }
  fi
  sleep 10
done
code=0
wait "$medscan_pid" || code=$?
echo "medscan exited $code"
cat "$work/medscan.err" | tail -5
cat "$work/load.log" | tail -2

python3 - "$work/rss.csv" "$work/report.json" <<'PY'
import csv, json, sys
rows = [(int(r["elapsed_s"]), int(r["rss_kb"])) for r in csv.DictReader(open(sys.argv[1]))]
rep = json.load(open(sys.argv[2]))
c = {x["name"]: x["value"] for x in rep["scan"]["counters"]}
print("RSS series (s: MB):", " ".join(f"{t}:{kb/1024:.1f}" for t, kb in rows))
warm = [kb for t, kb in rows if t >= 120] or [kb for _, kb in rows]
half = len(warm) // 2
first, second = warm[:half] or warm, warm[half:] or warm
print(f"samples {len(rows)}, after 2 min warm-up: min {min(warm)/1024:.1f} MB, max {max(warm)/1024:.1f} MB, "
      f"mean of first half {sum(first)/len(first)/1024:.1f} MB, of second half {sum(second)/len(second)/1024:.1f} MB")
print(f"packets {c.get('packets_captured', 0):,}, kernel dropped {c.get('kernel_dropped', 0):,}, "
      f"dropped by medscan {c.get('dropped_by_medscan', 0):,}, flows {c.get('flows', 0):,}, "
      f"findings {len(rep['findings'])}, complete {rep['scan']['complete']}")
PY
exit "$code"
