// conn_guard (example network filter, root_id "conn_guard"): closes downstream
// connections that send more than maxBytes. See ../common/conn_guard_filter.ts.
export * from "@solo-io/proxy-runtime/proxy";
export * from "../common/network";
import { registerConnGuard } from "../common/conn_guard_filter";

registerConnGuard("conn_guard");
