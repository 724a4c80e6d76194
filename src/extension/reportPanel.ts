// Shows a comparison's report.html (written by the engine's report renderer) in a webview.
// The report is static HTML with one <style> block and inline SVG: no scripts run (scripts are
// disabled), and its style block is allowed by a fresh nonce only.
import { readFile } from "node:fs/promises";
import * as vscode from "vscode";
import { makeNonce } from "./webviewHtml.js";

export const REPORT_VIEW_TYPE = "tempo.report";

/** Adds the CSP and puts the nonce on the report's own <style> blocks. */
export function reportPageHtml(reportHtml: string, nonce: string): string {
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:`;
  const withNonce = reportHtml.replace(/<style>/g, `<style nonce="${nonce}">`);
  return withNonce.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${csp}">`);
}

/** Opens in the active editor group: beside it, a third column would leave the report's charts and tables too narrow. */
export async function showReport(file: string, title: string): Promise<vscode.WebviewPanel> {
  const html = await readFile(file, "utf8");
  const panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, {
    enableScripts: false,
    localResourceRoots: [],
  });
  panel.webview.html = reportPageHtml(html, makeNonce());
  return panel;
}
