/**
 * One node: its identity, what each resource type was sent, ACKed and
 * NACKed (with Envoy's message), and what it receives of each filter and
 * why (GET /v1/nodes/<id> and GET /v1/nodes/<id>/explain).
 */
import type { NodeExplanation } from "../../../control/explain";
import type { NodeView } from "../../views";
import { getJson } from "./api";
import { fill, h, time } from "./dom";
import { type Context, type Page, changed } from "./page";

export function nodePage(root: HTMLElement, _ctx: Context, arg: string): Page {
  const id = decodeURIComponent(arg);
  const body = h("div");
  fill(root, h("p", null, h("a", { href: "#/nodes" }, "← All nodes")), h("h1", null, "Node ", h("code", null, id)), body);
  const isNew = changed<[NodeView, NodeExplanation]>();
  return {
    async refresh() {
      const path = `/v1/nodes/${encodeURIComponent(id)}`;
      const [node, explained] = await Promise.all([getJson<NodeView>(path), getJson<NodeExplanation>(`${path}/explain`)]);
      if (!isNew([node, explained])) return;
      const replica = (node as NodeView & { replica?: unknown }).replica;
      fill(
        body,
        h(
          "dl",
          { class: "facts" },
          h("dt", null, "Cluster"),
          h("dd", null, node.cluster),
          h("dt", null, "Locality"),
          h("dd", null, [node.locality.region, node.locality.zone, node.locality.subZone].filter(Boolean).join(" / ") || "—"),
          h("dt", null, "Metadata"),
          h("dd", null, h("code", null, JSON.stringify(node.metadata))),
          h("dt", null, "Group"),
          h("dd", null, node.group ? h("code", null, node.group) : "— (served the base snapshot)"),
          h("dt", null, "Envoy"),
          h("dd", null, node.userAgent || "—"),
          h("dt", null, "Connected"),
          h("dd", null, time(node.connectedAt), ` (stream ${node.streamId})`),
          ...(typeof replica === "string" ? [h("dt", null, "Replica"), h("dd", null, replica)] : []),
        ),
        h("h2", null, "What it receives, and why"),
        h(
          "ul",
          { class: "explain" },
          ...explained.filters.map((f) =>
            h(
              "li",
              null,
              h("h3", null, f.filter, ": ", f.receives ? h("code", null, f.receives.plugin) : "not served"),
              h("ul", null, ...f.reasons.map((r) => h("li", { "data-kind": r.kind }, r.text))),
            ),
          ),
        ),
        h("h2", null, "Resource types"),
        h(
          "table",
          null,
          h("thead", null, h("tr", null, ...["Type", "Sent", "ACKed", "Resources", "NACK"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            null,
            ...Object.entries(node.types).map(([type, t]) =>
              h(
                "tr",
                null,
                h("th", { scope: "row" }, type),
                h("td", null, t.sent ?? "—"),
                h("td", null, t.acked ?? "—", t.ackedAt ? h("span", null, " at ", time(t.ackedAt)) : null),
                h("td", null, t.names.join(", ")),
                h("td", null, t.rejected ? h("span", { class: "nack" }, h("strong", null, `NACKed ${t.rejected.version}: `), t.rejected.message) : "none"),
              ),
            ),
          ),
        ),
      );
    },
  };
}
