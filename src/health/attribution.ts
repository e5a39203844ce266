/**
 * Which tracked filter versions a health signal is about (docs/HEALTH.md,
 * "Failure reports"): stats and NACK texts that name a plugin
 * (`<filter>@<sha8>`) point at one version; a NACK that names none points at
 * the ECDS resources it rejected; an access-log failure at the versions its
 * listener runs on the node; and a failure reported late is not pinned on a
 * version the node only started running after it happened. The monitor
 * (monitor.ts) then checks the node holds what is blamed and records it.
 */
import type { NodeBook } from "./node-book";
import { versionId } from "./remote-evidence";
import { type HealthSignal, parsePluginName } from "./signal";
import type { VersionHealth } from "./version-health";
import { TYPE_URLS } from "../vocabulary/type-urls";

const PLUGIN_IN_TEXT = /([A-Za-z0-9][A-Za-z0-9._-]{0,99}@[0-9a-f]{8})/g;

/** The plugin names (`<filter>@<sha8>`) in Envoy's text, in order. */
export function pluginsNamedIn(text: string): string[] {
  return [...text.matchAll(PLUGIN_IN_TEXT)].map((m) => m[1] as string);
}

export interface AttributionSources {
  readonly tracked: ReadonlyMap<string, VersionHealth>;
  /** What a node runs: filter name -> version key. */
  readonly nodeVersions: (nodeId: string) => ReadonlyMap<string, string>;
  /** The filters of a served listener, in order. */
  readonly listenerFilters?: ((listener: string) => readonly string[] | undefined) | undefined;
  readonly nodes: NodeBook;
}

export class Attribution {
  constructor(private readonly s: AttributionSources) {}

  /** The newest tracked version of the plugin's filter and module that is not quarantined. */
  byPlugin(plugin: string): VersionHealth[] {
    const p = parsePluginName(plugin);
    if (!p) return [];
    const running = [...this.s.tracked.values()].filter((v) => v.filter === p.filter && v.sha256.startsWith(p.sha8) && v.status !== "quarantined");
    // Several settings may have run the same module; blame the newest.
    return running.slice(-1);
  }

  /** The versions the node runs of the named ECDS resources (filters). */
  byResources(nodeId: string, typeUrl: string, names: readonly string[]): VersionHealth[] {
    if (typeUrl !== TYPE_URLS.extensionConfig) return [];
    const running = this.s.nodeVersions(nodeId);
    return names.flatMap((f) => {
      const key = running.get(f);
      const v = key ? this.s.tracked.get(versionId(f, key)) : undefined;
      return v ? [v] : [];
    });
  }

  /**
   * The versions a listener runs on a node (access log signals): those on
   * trial if any, else all of them (a known-good version that went bad);
   * undefined when the listener is not served.
   */
  byListener(nodeId: string, listener: string): VersionHealth[] | undefined {
    const filters = this.s.listenerFilters?.(listener);
    if (!filters) return undefined;
    const running = this.s.nodeVersions(nodeId);
    const held = filters.flatMap((f) => {
      const key = running.get(f);
      const v = key ? this.s.tracked.get(versionId(f, key)) : undefined;
      return v && v.status !== "quarantined" ? [v] : [];
    });
    const onTrial = held.filter((v) => v.status === "probation");
    return onTrial.length > 0 ? onTrial : held;
  }

  /** The versions on trial (probation) on the node: suspects of a signal that names no plugin. */
  onTrial(nodeId: string): VersionHealth[] {
    return [...this.s.nodeVersions(nodeId)]
      .map(([f, key]) => this.s.tracked.get(versionId(f, key)))
      .filter((v): v is VersionHealth => v?.status === "probation");
  }

  /**
   * The suspects the node already ran when the failure happened. Envoy
   * buffers access logs (up to a second, docs/ENVOY.md "Access logs for
   * failure reports"), so failures of a version can arrive after the node
   * went back to the known-good one; pinned on what the node runs now, they
   * quarantined the known-good version too and left only the crashing one to
   * serve. A version the node ACKed after the failure's time did not cause it.
   * (Envoy's and the control plane's clocks are assumed in step, as NTP keeps them.)
   */
  ranWhen(signal: HealthSignal, suspects: VersionHealth[]): VersionHealth[] {
    const at = signal.occurredAt;
    if (at === undefined) return suspects;
    return suspects.filter((v) => {
      const since = this.s.nodes.runningSince(signal.nodeId, v.filter);
      return !(since && since.key === v.key && since.at > at);
    });
  }
}
