/**
 * Checks that need the whole file: unique names and addresses, and every
 * name a listener refers to (filters, clusters) declared with the right kind.
 * Runs on the entries that passed the schema; names of entries that failed it
 * are passed in so a reference to them is not reported a second time.
 */
import { addressKey } from "./address";
import { type IssuePath, issueLine } from "./issue-path";
import { type ClusterConfig, type FilterConfig, type ListenerConfig, MODULE_CLUSTER_NAME } from "./model";
import { didYouMean } from "./suggest";

export interface Entry<T> {
  readonly index: number;
  readonly value: T;
}

export interface CrossCheckInput {
  readonly filters: readonly Entry<FilterConfig>[];
  readonly listeners: readonly Entry<ListenerConfig>[];
  readonly clusters: readonly Entry<ClusterConfig>[];
  /** Names written on entries that failed validation. */
  readonly invalidNames: { readonly filters: ReadonlySet<string>; readonly clusters: ReadonlySet<string> };
}

/** Envoy filter kind each listener kind runs. */
const FILTER_KIND_OF = { http: "http", tcp: "network" } as const;

export function crossCheck(file: string, input: CrossCheckInput): string[] {
  const lines: string[] = [];
  const add = (path: IssuePath, message: string) => lines.push(issueLine(file, path, message));

  const filters = uniqueByName("filters", input.filters, add);
  sharedVms(input.filters, add);
  uniqueByName("listeners", input.listeners, add);
  const clusters = uniqueByName("clusters", input.clusters, add);

  for (const { index, value } of input.clusters) {
    if (value.name === MODULE_CLUSTER_NAME) {
      add(["clusters", index, "name"], `${JSON.stringify(MODULE_CLUSTER_NAME)} is reserved for the module server cluster wasmxds adds`);
    }
  }

  // Envoy rejects a listener whose address another listener already has.
  const addresses = new Map<string, Entry<ListenerConfig>>();
  for (const entry of input.listeners) {
    const key = addressKey(entry.value.address);
    const first = addresses.get(key);
    if (first) {
      add(
        ["listeners", entry.index, "address"],
        `${key} is already used by listeners[${first.index}] (${JSON.stringify(first.value.name)})`,
      );
    } else addresses.set(key, entry);
  }

  const clusterNames = new Set([...clusters.keys(), ...input.invalidNames.clusters]);
  const filterNames = new Set([...filters.keys(), ...input.invalidNames.filters]);
  const clusterRef = (path: IssuePath, name: string) => {
    if (clusterNames.has(name)) return;
    add(path, `unknown cluster ${JSON.stringify(name)}${hint(name, clusterNames, "clusters")}`);
  };

  for (const { index, value: listener } of input.listeners) {
    const section = listener.kind;
    const wanted = FILTER_KIND_OF[section];
    const seen = new Map<string, number>();
    for (const [i, name] of listener.filters.entries()) {
      const path = ["listeners", index, section, "filters", i];
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        add(path, `filter ${JSON.stringify(name)} is already listed at filters[${earlier}]`);
        continue;
      }
      seen.set(name, i);
      const filter = filters.get(name);
      if (!filterNames.has(name)) {
        add(path, `unknown filter ${JSON.stringify(name)}${hint(name, filterNames, "filters")}`);
      } else if (filter !== undefined && filter.value.kind !== wanted) {
        add(
          path,
          `filter ${JSON.stringify(name)} (filters[${filter.index}]) is a ${filter.value.kind} filter; ${section === "http" ? "an" : "a"} ${section} listener runs ${wanted} filters`,
        );
      }
    }
    if (listener.kind === "http") {
      for (const [r, route] of listener.routes.entries()) {
        clusterRef(["listeners", index, "http", "routes", r, "cluster"], route.cluster);
      }
    } else {
      clusterRef(["listeners", index, "tcp", "cluster"], listener.cluster);
    }
  }
  return lines;
}

/**
 * Envoy keys a VM on vm_id, VM configuration and code only, and a plugin
 * that matches a live VM's key reuses it, with the runtime and environment
 * of the filter that created it (docs/ENVOY.md "Environment variables").
 * Filters that set the same `vmId` for the same module and vmConfiguration
 * share a VM, so they must agree on what the VM is made with; otherwise the
 * second filter's env would be silently ignored. Modules are compared by
 * what the file names (path, url or sha256): two paths to equal bytes are
 * not caught here.
 */
function sharedVms(entries: readonly Entry<FilterConfig>[], add: (path: IssuePath, message: string) => void): void {
  const byVm = new Map<string, Entry<FilterConfig>>();
  for (const entry of entries) {
    const f = entry.value;
    if (f.vmId === undefined) continue;
    const { type, ...source } = f.module;
    const vmKey = JSON.stringify([f.vmId, type, source.sha256 ?? null, "path" in source ? source.path : null, "url" in source ? source.url : null, f.vmConfiguration ?? null]);
    const first = byVm.get(vmKey);
    if (!first) {
      byVm.set(vmKey, entry);
      continue;
    }
    const made = (g: FilterConfig) => JSON.stringify([g.runtime ?? "v8", g.allowPrecompiled === true, g.env ?? null]);
    if (made(first.value) !== made(f)) {
      add(
        ["filters", entry.index, "vmId"],
        `shares a VM with filters[${first.index}] (${JSON.stringify(first.value.name)}: same vmId, module and vmConfiguration, which is all Envoy keys VMs on), but differs in runtime, allowPrecompiled or env; Envoy would run it with filters[${first.index}]'s. Give it its own vmId, or the same settings`,
      );
    }
  }
}

/** Reports repeated names; returns the first entry for each name. */
function uniqueByName<T extends { readonly name: string }>(
  section: string,
  entries: readonly Entry<T>[],
  add: (path: IssuePath, message: string) => void,
): Map<string, Entry<T>> {
  const byName = new Map<string, Entry<T>>();
  for (const entry of entries) {
    const first = byName.get(entry.value.name);
    if (first) {
      add([section, entry.index, "name"], `${JSON.stringify(entry.value.name)} is already used by ${section}[${first.index}]`);
    } else byName.set(entry.value.name, entry);
  }
  return byName;
}

/** A likely typo, or the names that exist. */
function hint(name: string, names: ReadonlySet<string>, section: string): string {
  const typo = didYouMean(name, names);
  if (typo !== "") return typo;
  const list = [...names].map((n) => JSON.stringify(n));
  return list.length === 0 ? `; no ${section} are declared` : `; declared ${section}: ${list.join(", ")}`;
}
