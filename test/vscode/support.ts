// Helpers shared by the in-VS-Code suites (bundled into each test file).
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { TempoExtensionApi } from "../../src/extension/extension.js";

export const EXTENSION_ID = "tempo-playground.tempo-playground";

/** The extension's API, activating it if needed. */
export async function api(): Promise<TempoExtensionApi> {
  const ext = vscode.extensions.getExtension<TempoExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
