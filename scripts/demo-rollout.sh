#!/usr/bin/env bash
# Fleet rollout demo: 24 simulated Envoys (20 ring=main, 4 ring=canary, all
# cluster edge); a new guard version (a new configuration) rolls out in
# steps - 1 node, 25%, the canary ring, everyone - each baked for 10 s under
# health gates, shown with `wasmxds rollout status`.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d)
cp -r examples/guard/. "$demo"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$demo"; }
trap cleanup EXIT
node bin/wasmxds.js serve --watch --config "$demo" --xds-address 127.0.0.1:18200 --modules-address 127.0.0.1:18202 --admin-address 127.0.0.1:18203 --log-level warn &
pids+=($!)
sleep 3
node bin/wasmxds.js sim --nodes 20 --id-prefix main- --cluster edge --metadata ring=main --rps 5 --metrics-service --flush-interval 1s --xds-address 127.0.0.1:18200 --duration 70s --interval 70s >/dev/null &
pids+=($!)
node bin/wasmxds.js sim --nodes 4 --id-prefix canary- --cluster edge --metadata ring=canary --rps 5 --metrics-service --flush-interval 1s --xds-address 127.0.0.1:18200 --duration 70s --interval 70s >/dev/null &
pids+=($!)
sleep 5
echo "--- new version: guard with a new configuration"
sed -i 's/^    configuration: {}$/    configuration: { header: x-guard, value: v2 }/' "$demo/wasmxds.yaml"
for _ in 1 2 3 4 5; do
  sleep 9
  NO_COLOR=1 node bin/wasmxds.js rollout status --admin-address 127.0.0.1:18203
done
