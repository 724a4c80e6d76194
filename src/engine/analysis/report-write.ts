/** Writes report.json, report.md and report.html into a (capture) folder, atomically, never overwriting. */
import * as path from "node:path";
import { writeFileAtomic } from "../capture/atomic.js";
import type { DivergenceReport } from "./report-model.js";
import { renderReportJson } from "./report-json.js";
import { renderReportMarkdown } from "./report-md.js";
import { renderReportHtml } from "./report-html.js";

export const REPORT_FILES = { json: "report.json", md: "report.md", html: "report.html" } as const;

export async function writeReport(dir: string, report: DivergenceReport): Promise<{ json: string; md: string; html: string }> {
  return (await renderReport(report))(dir);
}

/**
 * Renders the three reports now and returns the (synchronous) writer of their files: a
 * capture writes them before its manifest (CaptureRecorder.write's companions), so a folder
 * with a manifest always has its reports.
 */
export async function renderReport(report: DivergenceReport): Promise<(dir: string) => { json: string; md: string; html: string }> {
  const html = await renderReportHtml(report); // render everything before writing anything
  const json = renderReportJson(report), md = renderReportMarkdown(report);
  return (dir) => {
    const files = { json: path.join(dir, REPORT_FILES.json), md: path.join(dir, REPORT_FILES.md), html: path.join(dir, REPORT_FILES.html) };
    writeFileAtomic(files.json, json, { exclusive: true });
    writeFileAtomic(files.md, md, { exclusive: true });
    writeFileAtomic(files.html, html, { exclusive: true });
    return files;
  };
}
