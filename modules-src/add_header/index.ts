// add_header (example HTTP filter, root_id "add_header"): adds a configurable
// header to request and response headers. See ../common/add_header_filter.ts.
export * from "@solo-io/proxy-runtime/proxy";
import { registerAddHeader } from "../common/add_header_filter";

registerAddHeader("add_header");
