// `npm run vscode:serve -- --port <n> --folder <dir>`: a browser VS Code (code-server 4.100.3,
// VS Code 1.100.3) on 127.0.0.1 with the TEMPO extension installed, fully offline.
//   --port <n>      port on 127.0.0.1 (default: a free one)
//   --folder <dir>  workspace folder (default: the current directory)
//   --vsix <file>   install this package (default: out/<name>-<version>-linux-x64.vsix, built
//                   with `npm run package` when missing or older than the sources)
//   --dev           instead of installing a package, load the built extension from this
//                   checkout (extensionDevelopmentPath); rebuild with `npm run build`
//   --data <dir>    keep VS Code's user data and extensions here (default: a temp dir per run)
// Remote use: ssh -L <n>:127.0.0.1:<n> host, then open http://127.0.0.1:<n>/ locally.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, cleanupAll, isStopping, ensureInstalled, log, remoteUri, run, startCodeServer, tempDir, workbenchUrl } from "./harness.js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    folder: { type: "string" },
    vsix: { type: "string" },
    dev: { type: "boolean", default: false },
    data: { type: "string" },
  },
});

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

async function main(): Promise<void> {
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error(`--port must be 1-65535, got ${values.port}`);
  const folder = resolve(values.folder ?? process.cwd());
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`--folder ${folder} is not a directory`);
  ensureInstalled();

  const installExtensions: string[] = [];
  if (values.dev) {
    if (!existsSync(join(ROOT, "dist/extension.cjs"))) run(process.execPath, [join(ROOT, "scripts/build.mjs")]);
  } else {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
    const vsix = resolve(values.vsix ?? join(ROOT, "out", `${pkg.name}-${pkg.version}-linux-x64.vsix`));
    if (!values.vsix) {
      const sources = Math.max(...["src", "webview", "media"].filter((d) => existsSync(join(ROOT, d))).map((d) => newestMtime(join(ROOT, d))));
      if (!existsSync(vsix) || statSync(vsix).mtimeMs < sources) {
        log("serve", "packaging the extension (npm run package)");
        run("npm", ["run", "--silent", "package"]);
      }
    }
    if (!existsSync(vsix)) throw new Error(`${vsix} does not exist`);
    installExtensions.push(vsix);
  }

  const dataRoot = values.data ? resolve(values.data) : tempDir("serve");
  mkdirSync(dataRoot, { recursive: true });
  const server = await startCodeServer({
    port,
    folder,
    logFile: join(dataRoot, "code-server.log"),
    userDataDir: join(dataRoot, "user-data"),
    extensionsDir: join(dataRoot, "extensions"),
    installExtensions,
  });
  const url = values.dev
    ? workbenchUrl(server, folder, [["extensionDevelopmentPath", remoteUri(server, ROOT)]])
    : workbenchUrl(server, folder);
  console.log(`\nVS Code (code-server) with TEMPO${values.dev ? " (development build)" : ""}: ${url}`);
  console.log(`logs: ${server.logFile}; Ctrl+C stops it`);
  await new Promise<void>((r) => server.process.once("exit", () => r()));
  if (isStopping()) return;
  throw new Error(`code-server exited (${server.process.exitCode ?? server.process.signalCode}); see ${server.logFile}`);
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error(`vscode:serve: ${(e as Error).message}`);
  code = 1;
}
await cleanupAll();
process.exit(code);
