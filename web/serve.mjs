// serve.mjs - `make serve`: serves a folder (build/web) on 127.0.0.1 and prints the address.
//
//   node web/serve.mjs DIRECTORY [--port N]     (N = 0 picks a free port)
//
// Static files only, with the MIME types the page needs (WebAssembly must be application/wasm
// for streaming compilation); nothing outside DIRECTORY is served.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
};

const argumentsGiven = process.argv.slice(2);
const root = path.resolve(argumentsGiven[0] ?? "build/web");
const portFlag = argumentsGiven.indexOf("--port");
const port = portFlag >= 0 ? Number(argumentsGiven[portFlag + 1]) : 8086;
const HOST = "127.0.0.1";

if (!fs.existsSync(path.join(root, "index.html"))) {
    console.error(`serve: no index.html in ${root}; run make web first`);
    process.exit(1);
}

const server = http.createServer((request, response) => {
    const url = new URL(request.url, `http://${HOST}`);
    let file;
    try {
        file = path.join(root, decodeURIComponent(url.pathname));
    } catch {
        response.writeHead(400).end();
        return;
    }
    if (!file.startsWith(root + path.sep) && file !== root) {
        response.writeHead(403).end();
        return;
    }
    if (url.pathname.endsWith("/")) file = path.join(file, "index.html");
    fs.stat(file, (error, stat) => {
        if (error || !stat.isFile()) {
            response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
            return;
        }
        response.writeHead(200, {
            "content-type": MIME_TYPES[path.extname(file)] ?? "application/octet-stream",
            "content-length": stat.size,
            "cache-control": "no-cache",
            // Cross-origin isolation: browsers then give performance.now(), which drives v86's
            // clocks, a finer resolution (docs/web.md).
            "cross-origin-opener-policy": "same-origin",
            "cross-origin-embedder-policy": "require-corp",
        });
        if (request.method === "HEAD") response.end();
        else fs.createReadStream(file).pipe(response);
    });
});

server.listen(port, HOST, () => {
    console.log(`Ferrite in the browser: http://${HOST}:${server.address().port}/ (Ctrl-C stops)`);
});
