// Starts step-analysis-worker.ts from TypeScript source (tsx, mocha), where no bundle exists:
// tsx's loader is registered per thread, and a worker does not inherit its parent's. A file,
// not an eval'd string, so that "tsx" resolves from the repository, not the working folder.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
