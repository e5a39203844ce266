/** Builds the web console into `outDir` (default dist/console/): index.html, style.css and the bundled app.js. */
export function buildConsole(outDir?: string): Promise<void>;
