#!/usr/bin/env node
// Copies the .proto files wasmxds needs into protos/, from pinned sources:
//   - Envoy, xds, udpa, googleapis and validate protos from the npm package
//     @grpc/grpc-js-xds (its deps/ folder), pinned in package.json;
//   - io/prometheus/client/metrics.proto from Debian's
//     golang-github-prometheus-client-model-dev (needs apt-get; skipped with a
//     warning when it is not available, keeping the committed copy).
// Only the transitive import closure of ROOTS is copied. Newer Envoy fields
// that the pinned copy lacks are patched in afterwards (see protos/README.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(repo, "protos");
const xdsDeps = join(repo, "node_modules/@grpc/grpc-js-xds/deps");
const searchDirs = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(xdsDeps, d));

const ROOTS = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/service/extension/v3/config_discovery.proto",
  "envoy/service/metrics/v3/metrics_service.proto",
  "envoy/service/accesslog/v3/als.proto",
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/config/metrics/v3/metrics_service.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/wasm/v3/wasm.proto",
  "envoy/extensions/filters/network/wasm/v3/wasm.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/extensions/access_loggers/grpc/v3/als.proto",
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
];

// protobufjs bundles the well-known types (any, duration, struct, wrappers, ...)
// and resolves them itself; descriptor.proto is copied from its package.
const isBuiltin = (p) => p.startsWith("google/protobuf/") && p !== "google/protobuf/descriptor.proto";
const protobufjsDir = join(repo, "node_modules/protobufjs");

function locate(rel) {
  if (rel === "io/prometheus/client/metrics.proto") return null;
  if (rel === "google/protobuf/descriptor.proto") return join(protobufjsDir, rel);
  for (const dir of searchDirs) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`vendor-protos: ${rel} not found under ${searchDirs.join(", ")}`);
}

const seen = new Set();
const queue = [...ROOTS];
while (queue.length > 0) {
  const rel = queue.shift();
  if (seen.has(rel) || isBuiltin(rel)) continue;
  seen.add(rel);
  const src = locate(rel);
  if (src === null) continue;
  // Some upstream files have CRLF line endings; store them with LF.
  const text = readFileSync(src, "utf8").replace(/\r\n/g, "\n");
  const dest = join(out, rel);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, text);
  for (const m of text.matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm)) queue.push(m[1]);
}

vendorPrometheus();
patchWasmProto();
console.log(`vendor-protos: ${seen.size} files in ${out}`);

function vendorPrometheus() {
  const dest = join(out, "io/prometheus/client/metrics.proto");
  try {
    const tmp = mkdtempSync(join(tmpdir(), "prom-"));
    execFileSync("apt-get", ["download", "golang-github-prometheus-client-model-dev"], { cwd: tmp, stdio: "ignore" });
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
    execFileSync("dpkg-deb", ["-x", join(tmp, deb), join(tmp, "x")]);
    const src = join(tmp, "x/usr/share/gocode/src/github.com/prometheus/client_model/io/prometheus/client/metrics.proto");
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, readFileSync(src));
  } catch (err) {
    if (!existsSync(dest)) throw err;
    console.warn(`vendor-protos: could not refresh ${dest} from Debian (${err.message}); keeping the committed copy`);
  }
}

// Envoy 1.33+ fields on PluginConfig, absent from the pinned copy.
// Field numbers from envoy/extensions/wasm/v3/wasm.proto upstream.
function patchWasmProto() {
  const file = join(out, "envoy/extensions/wasm/v3/wasm.proto");
  let text = readFileSync(file, "utf8");
  if (text.includes("FailurePolicy failure_policy = 7")) return;
  const anchor = "  CapabilityRestrictionConfig capability_restriction_config = 6;\n}";
  if (!text.includes(anchor)) throw new Error("vendor-protos: PluginConfig anchor not found in wasm.proto");
  text = text.replace(
    anchor,
    `  CapabilityRestrictionConfig capability_restriction_config = 6;

  // [wasmxds patch] Added from Envoy 1.33+ (not in the @grpc/grpc-js-xds copy).
  // What to do when the VM fails: see FailurePolicy. Setting both fail_open and a
  // non-UNSPECIFIED failure_policy is rejected by Envoy.
  FailurePolicy failure_policy = 7;

  // [wasmxds patch] Envoy 1.33+: backoff for FAIL_RELOAD.
  ReloadConfig reload_config = 8;

  // [wasmxds patch] Envoy 1.35+.
  google.protobuf.BoolValue allow_on_headers_stop_iteration = 9;
}

// [wasmxds patch] Envoy 1.33+.
enum FailurePolicy {
  UNSPECIFIED = 0;
  FAIL_RELOAD = 1;
  FAIL_CLOSED = 2;
  FAIL_OPEN = 3;
}

// [wasmxds patch] Envoy 1.33+.
message ReloadConfig {
  config.core.v3.BackoffStrategy backoff = 1;
}`,
  );
  if (!text.includes('import "google/protobuf/wrappers.proto";')) {
    text = text.replace('import "google/protobuf/any.proto";', 'import "google/protobuf/any.proto";\nimport "google/protobuf/wrappers.proto";');
  }
  if (!text.includes('import "envoy/config/core/v3/backoff.proto";')) {
    text = text.replace('import "envoy/config/core/v3/base.proto";', 'import "envoy/config/core/v3/backoff.proto";\nimport "envoy/config/core/v3/base.proto";');
  }
  writeFileSync(file, text);
}
