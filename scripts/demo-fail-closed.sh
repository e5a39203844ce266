#!/usr/bin/env bash
# Crash rollback under FAIL_CLOSED (Envoy's default failure policy), with no
# Envoy-side configuration but the bootstrap's cluster name: wasmxds serves
# examples/guard to 8 simulated Envoys that push no stats at all; a version
# that crashes on its 50th request is saved. A crashed FAIL_CLOSED filter
# emits no wasm counter, so the only signal is the failure report wasmxds
# put in every listener (a gRPC access log of failed requests to its own
# access log service): `wasm_fail_stream` entries roll the filter back.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d)
cp -r examples/guard/. "$demo"
# Instant pushes for this demo (no rollout plan), and Envoy's default failure policy.
sed -i '/^    rollout:/,/^      gates:/d; s/^    failurePolicy: FAIL_RELOAD$/    failurePolicy: FAIL_CLOSED/' "$demo/wasmxds.yaml"
cleanup() { kill "${sim:-}" "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$demo"; }
trap cleanup EXIT
node bin/wasmxds.js dev --config "$demo" --xds-address 127.0.0.1:18110 --modules-address 127.0.0.1:18112 --admin-address 127.0.0.1:18113 &
server=$!
sleep 3
# No --metrics-service and no admin ports: the simulated Envoys report nothing but the access logs they are served.
node bin/wasmxds.js sim --nodes 8 --cluster edge --rps 20 --xds-address 127.0.0.1:18110 --duration 25s --interval 5s &
sim=$!
sleep 5
echo "--- saving a version that crashes on its 50th request (FAIL_CLOSED: failed requests get 503 wasm_fail_stream)"
cp test/fixtures/modules/trap_nth_request.wasm "$demo/modules/guard.wasm"
sed -i 's/^    configuration: {}$/    configuration: { crashAfter: 50 }/' "$demo/wasmxds.yaml"
sleep 12
echo "--- wasmxds status"
NO_COLOR=1 node bin/wasmxds.js status --admin-address 127.0.0.1:18113 --events 8
