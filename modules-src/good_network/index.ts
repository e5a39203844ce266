// good_network (fixture, root_id "good_network"): a known-good network filter,
// the conn_guard filter under another root id. See ../common/conn_guard_filter.ts.
export * from "@solo-io/proxy-runtime/proxy";
export * from "../common/network";
import { registerConnGuard } from "../common/conn_guard_filter";

registerConnGuard("good_network");
