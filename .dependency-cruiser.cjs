/**
 * The architecture of wasmxds, as the imports must keep it (checked by
 * `npm test` through dependency-cruiser; docs/ARCHITECTURE.md draws it).
 *
 * Layers, bottom to top. A folder may import its own files, the layers below
 * it that a rule here names, npm packages and Node's built-ins; nothing else.
 * `import type` counts: a type import upward is still an upward import.
 *
 *   cli/                 commands: parse arguments, call the rest
 *   main.ts, index.ts    the composition root (wires everything), the library's front door
 *   admin/               HTTP admin API over the running parts
 *   cluster/             replicas over etcd: election, shared state, signals (beside control)
 *   control/             the serving pipeline: config -> versions -> groups -> cache
 *   rollout/             the rollout controller: decides on its own tick
 *   health/              signals, verdicts, quarantine, known-good
 *   xds/   resources/    the stream protocol over the cache | builders: config -> Envoy messages
 *   cache/  watch/       snapshots per node group | file events -> batches
 *   config/  wasm/       the YAML model | module store, server, pre-flight, host
 *   foundation           errors, logger, clock, event log, protos, sockets, files
 *   vocabulary/          type URLs, node identity and selectors, version keys, module hashes
 *
 *   sim/                 the Envoy simulator: beside the control plane, not on top of it
 */

/** Folders and single files every layer above may use: small utilities that know no domain. */
const FOUNDATION = [
  "^src/(errors|logger|emitter|log-limiter|background|package-root)\\.ts$",
  "^src/(time|fs|net|proto|generated|events)/",
];
const VOCABULARY = ["^src/vocabulary/"];
const BELOW_DOMAIN = [...VOCABULARY, ...FOUNDATION];

/** One allowed direction: files matching `from` may import files matching any of `to`. */
function may(from, to, comment) {
  return { comment, from: { path: from }, to: { path: to } };
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two files one concept in two places; it also hides re-entry (A notifies B, B calls A back).",
      from: {},
      to: { circular: true },
    },
    {
      name: "src-not-to-tests",
      severity: "error",
      comment: "The shipped code never imports tests, fixtures or benchmarks.",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that does not resolve would fail at run time.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],

  allowedSeverity: "error",
  allowed: [
    {
      comment: "Every file may use npm packages and Node's built-ins; package.json says which are runtime dependencies.",
      from: {},
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown", "core"] },
    },
    {
      comment: "A folder's own files work together freely (one concept per file, one concern per folder).",
      from: { path: "^src/([^/]+)/" },
      to: { path: "^src/$1/" },
    },
    may("^src/vocabulary/", "^src/vocabulary/", "The vocabulary imports nothing of the project: it is what every layer says to the others (go-control-plane's pkg/resource)."),
    may(FOUNDATION, BELOW_DOMAIN, "Foundation utilities use each other and the vocabulary, and know no domain."),
    may("^src/config/", BELOW_DOMAIN, "The config model is plain data read from YAML; it knows no module store, builder or server."),
    may("^src/wasm/", BELOW_DOMAIN, "Modules are bytes named by sha256: stored, served, pre-flight checked, hosted. They know no config file."),
    may("^src/cache/", BELOW_DOMAIN, "The cache stores snapshots of encoded resources per node group; like go-control-plane's, it knows no builder and no protocol."),
    may("^src/watch/", BELOW_DOMAIN, "The watcher turns file events into batches; what a batch means is decided above."),
    may("^src/resources/", ["^src/(config|cache)/", ...BELOW_DOMAIN], "Builders are pure functions from the config model to Envoy messages, encoded once as cache resources."),
    may("^src/xds/", ["^src/cache/", ...BELOW_DOMAIN], "The stream protocol (nonces, ACK/NACK, subscriptions) depends only on the cache it serves from."),
    may("^src/health/", ["^src/(config|wasm|cache|xds)/", ...BELOW_DOMAIN], "Health turns xDS events, stats and module fetches into verdicts on filter versions; it decides, the pipeline applies."),
    may("^src/rollout/", ["^src/(config|health)/", ...BELOW_DOMAIN], "Rollouts read health verdicts and the config's plans and decide on their own tick; they build nothing and serve nothing."),
    may(
      "^src/control/",
      ["^src/(config|wasm|cache|resources|health|rollout)/", ...BELOW_DOMAIN],
      "The serving pipeline applies the policies (health selection, rollout split, node grouping) and fills the cache. It reaches nodes through a small interface, never the xDS server.",
    ),
    may(
      "^src/cluster/",
      ["^src/(config|health)/", ...BELOW_DOMAIN],
      "Replicas over etcd: the election, the shared state and the signals channel implement health's interfaces (StateStore, Leadership, EvidenceSink); main hands them in.",
    ),
    may("^src/admin/", ["^src/(config|wasm|cache|resources|xds|health|rollout|control)/", ...BELOW_DOMAIN], "The admin API reads and steers the running parts; nothing below knows it exists."),
    may("^src/sim/", ["^src/wasm/", ...BELOW_DOMAIN], "The simulator imitates Envoy: it shares the vocabulary and the proxy-wasm host, never the control plane's logic."),
    may("^src/main\\.ts$", "^src/(?!cli/)", "The composition root constructs and connects every part; it never imports the CLI (the CLI hands it observers)."),
    may("^src/index\\.ts$", "^src/(?!cli/)", "The library's front door re-exports the public types of each layer and startWasmxds."),
    may("^src/cli/", "^src/", "Commands parse arguments and call anything: the server, the simulator, the admin client."),
  ],

  options: {
    // TypeScript 7 has no JavaScript API, so dependency-cruiser reads TypeScript through swc; it keeps type-only imports.
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/generated/" },
    enhancedResolveOptions: { extensions: [".ts", ".mts", ".js", ".mjs", ".json"], exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
