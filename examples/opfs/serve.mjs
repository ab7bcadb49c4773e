// Serves the OPFS crash demo on http://127.0.0.1:8735 (a fixed port keeps the
// same origin, and so the same OPFS, across restarts). OPFS needs a secure
// context: localhost qualifies, file:// does not.
//   node examples/opfs/serve.mjs
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** The page and its two scripts (the page's and the writers' worker). */
export async function demoFiles() {
  const bundle = await build({
    entryPoints: {
      main: join(here, "main.ts"),
      worker: join(here, "worker.ts"),
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    // WebKit cannot parse `await using`, which the library uses.
    target: "es2022",
    write: false,
    outdir: "/",
  });
  const files = { "/": readFileSync(join(here, "index.html"), "utf8") };
  for (const output of bundle.outputFiles) files[output.path] = output.text;
  return files;
}

/**
 * Bundles the demo and starts the server; resolves to the server. A POST
 * (the page's `?trials=N` results) is printed.
 */
export async function serveDemo(port = 8735) {
  const files = await demoFiles();
  const server = createServer((request, response) => {
    if (request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => body += chunk);
      request.on("end", () => {
        console.log(body);
        response.end("ok");
      });
      return;
    }
    const file = files[new URL(request.url, "http://x").pathname];
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      "content-type": file.startsWith("<!doctype")
        ? "text/html"
        : "text/javascript",
    });
    response.end(file);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await serveDemo();
  console.log("OPFS crash demo: http://127.0.0.1:8735/ (Ctrl-C to stop)");
}
