/**
 * What happens after a module traps, per failure_policy (docs/ENVOY.md "What
 * Envoy does when a running module crashes"), with trap_nth_request
 * ({"crashAfter":3}: requests 1 and 2 pass, 3 traps) served by the
 * project's own XdsServer and SnapshotCache. Time is a FakeClock and jitter
 * is off, so the FAIL_RELOAD backoff is exactly reload_config's base.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/cache/snapshot";
import { FakeClock, SimNode } from "../../src/sim";
import { startHarness, type Harness } from "../helpers/xds-harness";
import { ecds, httpListener, moduleBytes, type Res, routeConfig, staticCluster, tcpListener, TYPE_URLS, wasmAny } from "../helpers/xds-resources";
import { waitFor } from "../helpers/wait";

const T = TYPE_URLS;
type Policy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

function snapshot(policy: Policy, generation = 1): Snapshot {
  const plugin = `nth-${policy}@${generation}`;
  const f1 = ecds("f1", wasmAny("http", { plugin, rootId: "trap_nth_request", configuration: '{"crashAfter":3}', code: { inline: moduleBytes("trap_nth_request") }, failurePolicy: policy, reloadBaseMs: 1000 }));
  const n1 = ecds("n1", wasmAny("network", { plugin: `net-${policy}`, rootId: "network_trap", code: { inline: moduleBytes("network_trap") }, failurePolicy: policy }));
  const input = (list: Res[]) => list.map((r) => ({ name: r.name, message: r.message }));
  return Snapshot.create({
    [T.cluster]: input([staticCluster("backend", 8080)]),
    [T.extensionConfig]: input([f1, n1]),
    [T.listener]: input([httpListener("ingress", 10000, [{ ecds: "f1" }]), tcpListener("tcp-in", 10001, ["n1"], "backend")]),
    [T.route]: input([routeConfig("ingress", "backend")]),
  });
}

describe("failure policies with a module that traps on its 3rd request (project xDS server)", () => {
  let harness: Harness;
  const clock = new FakeClock();
  const nodes = new Map<Policy, SimNode>();
  const statuses = (node: SimNode, n: number) => Array.from({ length: n }, () => node.sendHttp({}, "ingress")?.status);

  beforeAll(async () => {
    harness = await startHarness();
    for (const policy of ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const) {
      harness.cache.setSnapshot(policy, snapshot(policy));
      const node = new SimNode({ id: policy, xdsAddress: `127.0.0.1:${harness.port}`, clock, random: () => 0 });
      nodes.set(policy, node);
      await node.start();
    }
    await waitFor("all nodes LIVE", () => [...nodes.values()].every((n) => n.serverState === "LIVE"));
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await harness.close();
  });

  it("FAIL_CLOSED: the trapping request and every later one get 503 wasm_fail_stream, until the config changes", async () => {
    const node = nodes.get("FAIL_CLOSED") as SimNode;
    expect(statuses(node, 2)).toEqual([200, 200]);
    expect(node.sendHttp({}, "ingress")).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    expect(statuses(node, 3)).toEqual([503, 503, 503]);
    expect(node.stats.get("http.ingress.downstream_rq_5xx")).toBe(4);
    expect(node.stats.get("http.ingress.downstream_rq_2xx")).toBe(2);
    harness.cache.setSnapshot("FAIL_CLOSED", snapshot("FAIL_CLOSED", 2));
    await waitFor("the new plugin", () => node.plugins().some((p) => p.name === "nth-FAIL_CLOSED@2"));
    expect(statuses(node, 3)).toEqual([200, 200, 503]);
    expect(node.stats.get("extension_config_discovery.http_filter.f1.config_reload")).toBe(2);
  });

  it("FAIL_OPEN: the trapping request fails, later ones skip the filter", () => {
    const node = nodes.get("FAIL_OPEN") as SimNode;
    expect(statuses(node, 6)).toEqual([200, 200, 503, 200, 200, 200]);
    expect(node.stats.get("wasm.nth-FAIL_OPEN@1.vm_reload_success")).toBe(0);
  });

  it("FAIL_RELOAD: re-creates the VM on the next request once the backoff has passed, counting vm_reload_*", () => {
    const node = nodes.get("FAIL_RELOAD") as SimNode;
    const stat = (s: string) => node.stats.get(`wasm.nth-FAIL_RELOAD@1.${s}`);
    const created = node.stats.get("wasm.envoy.wasm.runtime.v8.created") ?? 0;
    expect(statuses(node, 3)).toEqual([200, 200, 503]);
    // Within reload_config's base interval of the VM's load: backoff, still failed.
    expect(statuses(node, 2)).toEqual([503, 503]);
    expect(stat("vm_reload_backoff")).toBe(2);
    clock.advance(1000);
    // A fresh VM: its request count starts again, so it traps on its own 3rd request.
    expect(statuses(node, 3)).toEqual([200, 200, 503]);
    expect(stat("vm_reload_success")).toBe(1);
    expect(stat("vm_reload_failure")).toBe(0);
    expect(node.stats.get("wasm.envoy.wasm.runtime.v8.created")).toBe(created + 1);
    clock.advance(999);
    expect(statuses(node, 1)).toEqual([503]);
    clock.advance(1);
    expect(statuses(node, 1)).toEqual([200]);
    expect(stat("vm_reload_success")).toBe(2);
  });

  it("network filters: a trap closes the connection; FAIL_CLOSED keeps closing, FAIL_OPEN lets data through", () => {
    const closed = nodes.get("FAIL_CLOSED") as SimNode;
    expect(closed.openTcp({}, "tcp-in")?.closed).toBe("wasm_fail_stream");
    expect(closed.openTcp({}, "tcp-in")?.closed).toBe("wasm_fail_stream");
    const open = nodes.get("FAIL_OPEN") as SimNode;
    expect(open.openTcp({}, "tcp-in")?.closed).toBe("wasm_fail_stream");
    expect(open.openTcp({ data: "hello" }, "tcp-in")).toMatchObject({ closed: "none" });
    expect(open.stats.get("tcp.tcp-in.downstream_cx_total")).toBe(2);
  });

  it("the server saw only ACKs from every node", () => {
    expect(harness.xds.nacks()).toEqual([]);
  });
});
