// Serves the OPFS notes demo on http://127.0.0.1:8735 (a fixed port keeps the
// same origin, and so the same OPFS, across restarts). OPFS needs a secure
// context: localhost qualifies, file:// does not.
//   node examples/opfs/serve.mjs
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles the demo and starts the server; resolves to the server. */
export async function serveDemo(port = 8735) {
  const bundle = await build({
    entryPoints: [join(here, "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  const script = bundle.outputFiles[0].text;
  const page = readFileSync(join(here, "index.html"), "utf8");
  const server = createServer((request, response) => {
    if (request.url === "/main.js") {
      response.writeHead(200, { "content-type": "text/javascript" });
      response.end(script);
    } else if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(page);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await serveDemo();
  console.log("OPFS notes demo: http://127.0.0.1:8735/ (Ctrl-C to stop)");
}
