/**
 * The package's own folder: the one holding package.json, protos/ and dist/.
 * Code bundled into dist/ does not sit at its source path, so a path taken
 * relative to import.meta.url would differ between src/ and dist/ (and between
 * chunks). The package's "imports" field maps `#package.json` to its own
 * package.json, which Node resolves the same from the sources, from the build
 * and from wherever the package is installed, under whatever name.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";

export const PACKAGE_ROOT = dirname(createRequire(import.meta.url).resolve("#package.json"));
