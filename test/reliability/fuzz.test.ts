/**
 * Hostile input is normal input: a seeded property-based test (fast-check)
 * that throws random and mutated DiscoveryRequests, StreamMetricsMessages,
 * access-log messages and config files at a running wasmxds (the bundled
 * example, in-process, real sockets) while an honest Envoy-like client stays
 * connected. After every round: the server is up, a fresh honest client is
 * served the complete, consistent configuration, the long-lived honest
 * client's stream is still open, and nothing was left unhandled (vitest
 * fails the run on an unhandled rejection). Reproduce a failure with
 * FUZZ_SEED=<seed printed by fast-check>; widen with FUZZ_RUNS.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWasmxds } from "../../src/main";
import { encodeMessage } from "../../src/proto/registry";
import { TYPE_URLS } from "../../src/vocabulary/type-urls";
import { type LogRecord, memoryLogger } from "../../src/logger";
import { AdsClient, resourcesOf } from "../helpers/ads-client";
import { startTestApp } from "../helpers/app";

const CONFIG = join(import.meta.dirname, "../../config");
const ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const METRICS = "/envoy.service.metrics.v3.MetricsService/StreamMetrics";
const ACCESS_LOGS = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

const KNOWN_TYPES = Object.values(TYPE_URLS) as string[];
const KNOWN_NAMES = ["ingress", "tcp-in", "backend", "wasmxds_modules", "add-header", "conn-guard", "*"];

/** A string that is sometimes ordinary, sometimes huge or full of odd code points. */
const text = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.nat({ max: 200_000 }).map((n) => "x".repeat(n)) },
);
const name = fc.oneof(fc.constantFrom(...KNOWN_NAMES), text);
const nonce = fc.oneof(fc.nat({ max: 2000 }).map((n) => n.toString(36)), text);

const node = fc.record({
  id: fc.oneof(fc.constantFrom("honest", "envoy-1", ""), text),
  cluster: fc.oneof(fc.constant("edge"), text),
});

const discoveryRequest = fc.record(
  {
    node,
    type_url: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KNOWN_TYPES) }, { weight: 1, arbitrary: text }),
    resource_names: fc.oneof(fc.array(name, { maxLength: 20 }), fc.nat({ max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `n${i}`))),
    version_info: fc.oneof(fc.constant(""), text),
    response_nonce: fc.oneof(fc.constant(""), nonce),
    error_detail: fc.option(fc.record({ code: fc.integer({ min: -5, max: 20 }), message: text }), { nil: undefined }),
  },
  { requiredKeys: ["type_url"] },
);

const counter = fc.record({
  name: fc.oneof(
    fc.constantFrom(
      "wasm.envoy.wasm.runtime.v8.vm_reload_success",
      "wasm.envoy.wasm.runtime.v8.active",
      "http.ingress.downstream_rq_5xx",
      "wasm_filter.add-header@00000000.vm_reload_failure",
    ),
    text,
  ),
  value: fc.oneof(fc.nat(), fc.double({ noNaN: false })),
});
const metricsMessage = fc.record({
  identifier: fc.option(fc.record({ node }), { nil: undefined }),
  envoy_metrics: fc.array(counter, { maxLength: 30 }).map((cs) => cs.map((c) => ({ name: c.name, type: "COUNTER", metric: [{ counter: { value: c.value } }] }))),
});

const accessLogMessage = fc.record({
  identifier: fc.option(fc.record({ node, log_name: text }), { nil: undefined }),
  http_logs: fc.record({
    log_entry: fc.array(
      fc.record({
        response: fc.record({ response_code: fc.record({ value: fc.integer({ min: 0, max: 999 }) }), response_code_details: fc.oneof(fc.constant("wasm_fail_stream"), text) }),
      }),
      { maxLength: 10 },
    ),
  }),
});

/** Encoded bytes, sometimes damaged: bit flips, truncation, garbage appended, or pure noise. */
function damaged(encoded: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 4, arbitrary: encoded },
    { weight: 1, arbitrary: fc.tuple(encoded, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 })).map(([b, flips]) => flip(b, flips)) },
    { weight: 1, arbitrary: fc.tuple(encoded, fc.nat()).map(([b, n]) => b.subarray(0, b.length ? n % b.length : 0)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)) },
  );
}

function flip(b: Buffer, flips: ReadonlyArray<readonly [number, number]>): Buffer {
  const out = Buffer.from(b);
  for (const [at, v] of flips) if (out.length) out[at % out.length] = v;
  return out;
}

function safeEncode(type: string, msg: object): Buffer {
  try {
    return encodeMessage(type, msg);
  } catch {
    // Values protobufjs cannot encode (e.g. lone surrogates are fine, NaN is fine; huge lists are fine): send noise instead.
    return Buffer.from("not a protobuf");
  }
}

const adsBytes = damaged(discoveryRequest.map((r) => safeEncode("envoy.service.discovery.v3.DiscoveryRequest", r)));
const metricsBytes = damaged(metricsMessage.map((m) => safeEncode("envoy.service.metrics.v3.StreamMetricsMessage", m)));
const accessLogBytes = damaged(accessLogMessage.map((m) => safeEncode("envoy.service.accesslog.v3.StreamAccessLogsMessage", m)));

/** A mutation of the good wasmxds.yaml: lines dropped, duplicated, cut or scrambled. */
const yamlMutation = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat(), len: fc.nat({ max: 10 }) }),
  fc.record({ kind: fc.constant("dup" as const), at: fc.nat(), len: fc.nat({ max: 5 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), with: text }),
);
type YamlMutation = typeof yamlMutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(yaml: string, m: YamlMutation): string {
  const lines = yaml.split("\n");
  const at = m.at % Math.max(1, lines.length);
  switch (m.kind) {
    case "drop":
      return [...lines.slice(0, at), ...lines.slice(at + m.len)].join("\n");
    case "dup":
      return [...lines.slice(0, at + m.len), ...lines.slice(at, at + m.len), ...lines.slice(at + m.len)].join("\n");
    case "truncate":
      return yaml.slice(0, m.at % Math.max(1, yaml.length));
    case "replace":
      return [...lines.slice(0, at), m.with, ...lines.slice(at + 1)].join("\n");
  }
}

/** A client that answers what it is sent: ACKs, NACKs (some repeated many times), with any node id. */
const reactive = fc.record({
  node,
  types: fc.subarray(KNOWN_TYPES, { minLength: 1 }),
  names: fc.array(name, { maxLength: 5 }),
  replies: fc.array(fc.record({ nack: fc.boolean(), message: text, repeat: fc.nat({ max: 40 }) }), { minLength: 1, maxLength: 6 }),
});
type Reactive = typeof reactive extends fc.Arbitrary<infer T> ? T : never;

const round = fc.record({
  ads: fc.array(fc.array(adsBytes, { minLength: 1, maxLength: 6 }), { maxLength: 4 }),
  reactive: fc.array(reactive, { maxLength: 3 }),
  metrics: fc.array(fc.array(metricsBytes, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
  accessLogs: fc.array(fc.array(accessLogBytes, { minLength: 1, maxLength: 4 }), { maxLength: 2 }),
  config: fc.option(yamlMutation, { nil: undefined }),
});

/** Sends raw frames on a bidi or client stream, then lets the server read them and cancels. */
async function hostileStream(address: string, path: string, frames: readonly Buffer[], bidi: boolean): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer) => b;
  const call = bidi ? client.makeBidiStreamRequest(path, identity, identity) : client.makeClientStreamRequest(path, identity, identity, () => {});
  const ended = new Promise<void>((resolve) => {
    call.on("status", () => resolve());
    setTimeout(resolve, 150);
  });
  call.on("error", () => {});
  if (bidi) (call as grpc.ClientDuplexStream<Buffer, Buffer>).on("data", () => {});
  for (const f of frames) call.write(f);
  await ended;
  call.cancel();
  client.close();
}

async function reactiveStream(port: number, r: Reactive): Promise<void> {
  const c = new AdsClient(port, { id: r.node.id, cluster: r.node.cluster });
  for (const typeUrl of r.types) c.request({ typeUrl, names: typeUrl === TYPE_URLS.extensionConfig ? [...r.names, "add-header"] : r.names });
  try {
    for (const reply of r.replies) {
      const resp = await c.next(undefined, 100).catch(() => undefined);
      if (!resp) break;
      for (let i = 0; i <= reply.repeat; i++) {
        if (reply.nack) c.nack(resp, "", reply.message);
        else c.ack(resp);
      }
    }
    await c.drain(20);
  } finally {
    c.cancel();
  }
}

async function heapUsedAfterGc(): Promise<number> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/** Subscribes as Envoy does and checks the bundled example is served whole and consistent. */
async function expectServedWhole(port: number, id: string): Promise<void> {
  const c = new AdsClient(port, { id, cluster: "edge" });
  try {
    c.request({ typeUrl: TYPE_URLS.cluster });
    const cds = await c.next(TYPE_URLS.cluster, 5000);
    c.ack(cds);
    c.request({ typeUrl: TYPE_URLS.listener });
    const lds = await c.next(TYPE_URLS.listener, 5000);
    c.ack(lds);
    c.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["add-header", "conn-guard"] });
    const ecds = await c.next(TYPE_URLS.extensionConfig, 5000);
    c.ack(ecds, ["add-header", "conn-guard"]);
    expect(resourcesOf(cds).map((r) => r.name).sort()).toEqual(["backend", "wasmxds_modules"]);
    expect(resourcesOf(lds).map((r) => r.name).sort()).toEqual(["ingress", "tcp-in"]);
    expect(resourcesOf(ecds).map((r) => r.name).sort()).toEqual(["add-header", "conn-guard"]);
  } finally {
    c.cancel();
  }
}

describe("reliability: random and mutated input from every peer and file", () => {
  let dir: string;
  let app: RunningWasmxds;
  let honest: AdsClient;
  let goodYaml: string;
  const logger = memoryLogger();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmxds-fuzz-"));
    await cp(CONFIG, dir, { recursive: true });
    goodYaml = await readFile(join(dir, "wasmxds.yaml"), "utf8");
    app = await startTestApp(dir, { logger });
    honest = new AdsClient(app.xdsAddress.port, { id: "honest-long-lived", cluster: "edge" });
    honest.request({ typeUrl: TYPE_URLS.cluster });
    honest.ack(await honest.next(TYPE_URLS.cluster));
    honest.request({ typeUrl: TYPE_URLS.listener });
    honest.ack(await honest.next(TYPE_URLS.listener));
    honest.request({ typeUrl: TYPE_URLS.extensionConfig, names: ["add-header", "conn-guard"] });
    honest.ack(await honest.next(TYPE_URLS.extensionConfig), ["add-header", "conn-guard"]);
  });

  afterAll(async () => {
    honest?.cancel();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps serving honest clients whatever the others send", async () => {
    const address = `127.0.0.1:${app.xdsAddress.port}`;
    const before = await heapUsedAfterGc();
    let n = 0;
    let configsRejected = 0;
    const outcome = await fc.check(
      fc.asyncProperty(round, async (r) => {
        n++;
        await Promise.all([
          ...r.ads.map((frames) => hostileStream(address, ADS, frames, true)),
          ...r.reactive.map((x) => reactiveStream(app.xdsAddress.port, x)),
          ...r.metrics.map((frames) => hostileStream(address, METRICS, frames, false)),
          ...r.accessLogs.map((frames) => hostileStream(address, ACCESS_LOGS, frames, false)),
        ]);
        if (r.config) {
          await writeFile(join(dir, "wasmxds.yaml"), mutate(goodYaml, r.config));
          if (!(await app.reload()).ok) configsRejected++;
          await writeFile(join(dir, "wasmxds.yaml"), goodYaml);
          const back = await app.reload();
          if (!back.ok) throw new Error(`the good config was refused after round ${n}: ${back.error.message}`);
        }
        await expectServedWhole(app.xdsAddress.port, `honest-${n}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Counterexamples can be megabytes of bytes: report how to replay, and the error.
    if (outcome.failed) {
      throw new Error(`failed at run ${outcome.numRuns} (replay: FUZZ_SEED=${outcome.seed}, path ${outcome.counterexamplePath}): ${String(outcome.errorInstance).slice(0, 2000)}`);
    }
    // The long-lived honest stream was never closed by anyone else's input.
    const status = await Promise.race([honest.ended, new Promise((r) => setTimeout(() => r("open"), 50))]);
    expect(status).toBe("open");
    // The hostile input reached the server and was handled, not dropped before it.
    const said = (re: RegExp) => logger.records.filter((l: LogRecord) => re.test(l.msg)).length;
    expect(said(/closing stream on bad request|error handling DiscoveryRequest/)).toBeGreaterThan(0);
    expect(said(/node connected/)).toBeGreaterThan(RUNS);
    expect(app.xds.nacks().length).toBeGreaterThan(0);
    expect(configsRejected).toBeGreaterThan(0);
    // Nothing a client sent is still held.
    expect(await heapUsedAfterGc()).toBeLessThan(before + 48 * 1024 * 1024);
  }, 240_000);
});
