// good_http (fixture, root_id "good_http"): a known-good HTTP filter, the
// add_header filter under another root id. See ../common/add_header_filter.ts.
export * from "@solo-io/proxy-runtime/proxy";
import { registerAddHeader } from "../common/add_header_filter";

registerAddHeader("good_http");
