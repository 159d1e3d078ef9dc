#!/usr/bin/env bash
# Measures a whole `medscan scan` on generated captures with the ward's protocol mix, one
# core, beside tshark extracting the TLS handshake fields from the same file. Prints a
# Markdown table; docs/performance.md records the figures.
#
#   scripts/bench.sh            # 200 MB and 1 GiB captures
#   SIZES="200MB" scripts/bench.sh
#   SITES=40 SIZES="235MB" scripts/bench.sh   # a dense capture of 40 hospitals' traffic
#
# Needs Go, GNU time (/usr/bin/time) and, for the comparison, tshark.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-"200MB 1GiB"}
sites=${SITES:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/medscan" ./cmd/medscan
go build -o "$work/wardgen" ./fixtures/cmd/wardgen

measure() { # label, command...: prints "seconds maxrss_kb"
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/$label.err" || { cat "$work/$label.err" >&2; return 1; }
  cat "$work/time"
}

echo "| capture | sites | packets | hosts | findings | tool | wall s | packets/s | MB/s | Gbit/s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for size in $sizes; do
  cap="$work/ward-$size.pcapng"
  "$work/wardgen" -o "$cap" -size "$size" -sites "$sites"
  bytes=$(stat -c %s "$cap")
  rm -f "$work/m.db"*
  read -r secs rss < <(measure medscan env GOMAXPROCS=1 "$work/medscan" scan -q --pcap "$cap" --db "$work/m.db" --format json -o "$work/out.json")
  read -r packets hosts findings < <(python3 -c "import json;d=json.load(open('$work/out.json'));print(next(c['value'] for c in d['scan']['counters'] if c['name']=='packets'), len(d.get('assets') or []), len(d.get('findings') or []))")
  python3 - "$size" "$packets" medscan "$secs" "$bytes" "$rss" "$sites" "$hosts" "$findings" <<'PY'
import sys
size, packets, tool, secs, nbytes, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
sites, hosts, findings = sys.argv[7], int(sys.argv[8]), int(sys.argv[9])
secs = max(secs, 0.01)
print(f"| {size} | {sites} | {packets:,} | {hosts:,} | {findings:,} | {tool} | {secs:.2f} | {packets/secs:,.0f} | {nbytes/secs/1e6:,.0f} | {nbytes*8/secs/1e9:.2f} | {rss/1024:.0f} |")
PY
  if command -v tshark >/dev/null; then
    # The same protocols' fields medscan reads: TLS handshakes and certificates, HTTP
    # requests and their credentials, MQTT CONNECTs, DICOM associations (HL7 over MLLP on
    # the ward's port 6661 is decoded as such too).
    read -r secs rss < <(measure tshark tshark -n -r "$cap" -d tcp.port==6661,hl7 \
      -Y "tls.handshake.type == 1 || tls.handshake.type == 2 || tls.handshake.type == 11 || http.request || mqtt.msgtype == 1 || dicom.assoc.item.type || hl7" \
      -T fields -e ip.dst -e tcp.dstport -e tls.handshake.extensions_server_name -e tls.handshake.version \
      -e tls.handshake.ciphersuite -e tls.handshake.certificate -e http.request.method -e http.request.uri \
      -e http.authorization -e mqtt.username -e dicom.assoc.item.type)
    python3 - "$size" "$packets" tshark "$secs" "$bytes" "$rss" "$sites" <<'PY'
import sys
size, packets, tool, secs, nbytes, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
secs = max(secs, 0.01)
print(f"| {size} | {sys.argv[7]} | {packets:,} | — | — | {tool} | {secs:.2f} | {packets/secs:,.0f} | {nbytes/secs/1e6:,.0f} | {nbytes*8/secs/1e9:.2f} | {rss/1024:.0f} |")
PY
  fi
  rm -f "$cap"
done
