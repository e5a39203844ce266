#!/usr/bin/env bash
# Crash rollback demo: wasmxds serves examples/guard to 8 simulated Envoys
# with traffic; a new guard version that passes the pre-flight check but
# crashes on its 50th request is saved; Envoy's stats (metrics service)
# show the crashes and wasmxds rolls the filter back on every node.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d)
cp -r examples/guard/. "$demo"
# Instant pushes for this demo: no rollout plan.
sed -i '/^    rollout:/,/^      gates:/d' "$demo/wasmxds.yaml"
cleanup() { kill "${sim:-}" "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$demo"; }
trap cleanup EXIT
node bin/wasmxds.js dev --config "$demo" --xds-address 127.0.0.1:18100 --modules-address 127.0.0.1:18102 --admin-address 127.0.0.1:18103 &
server=$!
sleep 3
node bin/wasmxds.js sim --nodes 8 --cluster edge --rps 20 --metrics-service --flush-interval 1s --xds-address 127.0.0.1:18100 --duration 25s --interval 5s &
sim=$!
sleep 5
echo "--- saving a version that crashes on its 50th request"
cp test/fixtures/modules/trap_nth_request.wasm "$demo/modules/guard.wasm"
sed -i 's/^    configuration: {}$/    configuration: { crashAfter: 50 }/' "$demo/wasmxds.yaml"
sleep 12
echo "--- wasmxds status"
NO_COLOR=1 node bin/wasmxds.js status --admin-address 127.0.0.1:18103 --events 8
