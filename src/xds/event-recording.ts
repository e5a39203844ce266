/**
 * What goes into the event log from the xDS side: connects, disconnects and
 * NACKs. ACKs are not logged one by one (too many); the admin API shows them
 * per node.
 */
import type { EventLog } from "../events/event-log";
import type { XdsStreams } from "./xds-streams";

export function recordXdsEvents(events: EventLog, xds: Pick<XdsStreams, "events">): void {
  xds.events.on((e) => {
    if (e.kind === "connect") {
      events.add("node-connected", `node ${e.node.id}`, `${e.node.id} connected`, { group: e.group, cluster: e.node.cluster });
    } else if (e.kind === "disconnect") {
      events.add("node-disconnected", `node ${e.node.id}`, `${e.node.id} disconnected: ${e.reason}`);
    } else if (e.kind === "nack") {
      events.add("nack", `node ${e.nack.nodeId}`, e.nack.message, {
        type: e.nack.typeUrl,
        rejectedVersion: e.nack.rejectedVersion,
        keptVersion: e.nack.keptVersion,
        resources: e.nack.resourceNames,
      });
    }
  });
}
