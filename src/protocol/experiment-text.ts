/**
 * An experiment file's text, JSON or YAML (docs/experiments.md), to and from the checked
 * object of ./experiment-file.ts. The format is the file name's: `.yaml` / `.yml` is YAML
 * (the `yaml` package, YAML 1.2 core schema), anything else JSON. Both go through the same
 * strict schema, so a YAML file and its JSON form resolve to the same experiment.
 *
 * Every problem is one line, without the file's name (the caller puts it in front): malformed
 * YAML as `<line>:<column>: not valid YAML: …`, a schema problem in a YAML file as
 * `<line>: <the schema's message>` (the line of the key or value it is about).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, visit, type Document, type Node } from "yaml";
import { experimentFileSchema, experimentIssueText, type ExperimentFile } from "./experiment-file.js";

export type ExperimentFormat = "json" | "yaml";

/** `.yaml` / `.yml` (any case): YAML; anything else: JSON. */
export function experimentFormat(fileName: string): ExperimentFormat {
  return /\.ya?ml$/i.test(fileName) ? "yaml" : "json";
}

export type ExperimentTextResult = { ok: true; experiment: ExperimentFile } | { ok: false; message: string };

/** Parses and checks an experiment file's text in the format its name says. */
export function parseExperimentText(text: string, fileName: string): ExperimentTextResult {
  return experimentFormat(fileName) === "yaml" ? parseYaml(text) : parseJson(text);
}

/** The text of an experiment file in the format `fileName` says (JSON: two-space indent, as every folder stores it). */
export function experimentText(experiment: ExperimentFile, fileName: string): string {
  if (experimentFormat(fileName) === "json") return JSON.stringify(experiment, null, 2) + "\n";
  // Block style, strings quoted only where YAML needs it; long prompts are not folded (lineWidth 0),
  // so the text of a prompt is exactly what a reader sees.
  return stringify(experiment, { lineWidth: 0, minContentWidth: 0 });
}

function parseJson(text: string): ExperimentTextResult {
  let value: unknown;
  try { value = JSON.parse(text); } catch (e) { return { ok: false, message: `not valid JSON (${(e as Error).message})` }; }
  const r = experimentFileSchema.safeParse(value);
  return r.success ? { ok: true, experiment: r.data } : { ok: false, message: experimentIssueText(r.error) };
}

/** The first line of a yaml error's message, without the " at line L, column C:" the library adds. */
const yamlMessage = (m: string) => m.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");

function parseYaml(text: string): ExperimentTextResult {
  const lines = new LineCounter();
  // Core schema (YAML 1.2): no `<<` merge keys, no timestamps; duplicate keys are errors.
  const doc = parseDocument(text, { lineCounter: lines, schema: "core", uniqueKeys: true, prettyErrors: true });
  // An unknown tag (`!foo`) is only a warning to the library; a setting read as something else is an error here.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const at = problem.linePos?.[0] ?? lines.linePos(problem.pos[0]);
    return { ok: false, message: `${at.line}:${at.col}: not valid YAML: ${yamlMessage(problem.message)}` };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias to an anchor not (yet) set, or one that expands too far.
    const at = firstAlias(doc);
    const where = at !== undefined ? `${lines.linePos(at).line}:${lines.linePos(at).col}: ` : "";
    return { ok: false, message: `${where}not valid YAML: ${(e as Error).message}` };
  }
  if (value === null || value === undefined) return { ok: false, message: "the file holds no experiment (an empty YAML document)" };
  const r = experimentFileSchema.safeParse(value);
  if (r.success) return { ok: true, experiment: r.data };
  const issue = r.error.issues[0];
  const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const offset = locate(doc, issue.path, keys[0]);
  return { ok: false, message: `${offset !== undefined ? `${lines.linePos(offset).line}: ` : ""}${experimentIssueText(r.error)}` };
}

function firstAlias(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, { Alias(_, node) { at = node.range?.[0]; return visit.BREAK; } });
  return at;
}

/**
 * The offset of what a schema issue is about: the unknown key itself, else the node at `path`,
 * else the deepest node on the way there (a missing key is reported where its parent is).
 */
function locate(doc: Document, path: readonly PropertyKey[], unknownKey?: string): number | undefined {
  let node: unknown = doc.contents;
  let at = (doc.contents as Node | null)?.range?.[0];
  const steps: PropertyKey[] = unknownKey !== undefined ? [...path, unknownKey] : [...path];
  for (const [i, step] of steps.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(step));
      if (!pair) break;
      // The unknown key: its own line, not its value's.
      if (unknownKey !== undefined && i === steps.length - 1) return (pair.key as Node | null)?.range?.[0] ?? at;
      node = pair.value;
    } else if (isSeq(node) && typeof step === "number") {
      node = node.items[step];
    } else break;
    at = (node as Node | null)?.range?.[0] ?? at;
  }
  return at;
}
