// The generation settings are declared once (src/protocol/generation.ts). package.json cannot
// import it, and the playground page is HTML: these tests hold both to that one declaration.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  DEFAULT_CONFIG, generationConfigSchema, generationSettingsSchema, NUMBER_RANGES, TEMPO_MODES, type NumberRange,
} from "../../src/protocol/generation.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { completionRequestSchema } from "../../src/server/api.js";
import { playgroundHtml } from "../../src/extension/webviewHtml.js";

interface ConfigProperty { type: string; default: unknown; enum?: string[]; minimum?: number; exclusiveMinimum?: number; maximum?: number; items?: { enum?: string[] } }
const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { contributes: { configuration: { properties: Record<string, ConfigProperty> } } };
const properties = manifest.contributes.configuration.properties;
const PREFIX = "tempo.generation.";
const generation = Object.entries(properties).filter(([k]) => k.startsWith(PREFIX)).map(([k, v]) => [k.slice(PREFIX.length), v] as const);
const shape = generationConfigSchema.shape;
const choices = (key: string): readonly string[] | undefined => {
  const s = shape[key as keyof typeof shape];
  return "options" in s ? (s.options as readonly string[]) : undefined;
};

describe("generation settings: one declaration", () => {
  it("package.json has a tempo.generation setting for every setting the playground sends", () => {
    assert.deepEqual(generation.map(([k]) => k).sort(), Object.keys(generationSettingsSchema.shape).sort());
  });
  for (const [key, p] of generation) {
    it(`tempo.generation.${key}: default, type, range and choices as declared`, () => {
      assert.deepEqual(p.default, DEFAULT_CONFIG[key as keyof typeof DEFAULT_CONFIG], "default");
      const list = choices(key);
      if (list) assert.deepEqual(p.enum, [...list], "enum");
      const r: NumberRange | undefined = NUMBER_RANGES[key as keyof typeof NUMBER_RANGES];
      if (!r) return;
      assert.equal(p.type, r.integer ? "integer" : "number", "type");
      if (r.exclusiveMin) assert.deepEqual([p.exclusiveMinimum, p.minimum], [r.min, undefined], "exclusive minimum");
      else assert.deepEqual([p.minimum, p.exclusiveMinimum], [r.min, undefined], "minimum");
      assert.equal(p.maximum, r.max, "maximum");
    });
  }
  it("tempo.inlineCompletions.arms offers the modes", () => {
    assert.deepEqual(properties["tempo.inlineCompletions.arms"].items?.enum, [...TEMPO_MODES]);
  });

  it("the playground's controls are bounded and offer choices as declared; none accepts a refused 0", () => {
    const html = playgroundHtml({ cspSource: "x", scriptUri: "s.js", styleUri: "s.css", nonce: "n", title: "t" });
    for (const [key, r] of Object.entries(NUMBER_RANGES) as [string, NumberRange][]) {
      const tag = new RegExp(`<vscode-textfield id="${key}"[^>]*>`).exec(html)?.[0];
      if (key === "relativeAlpha") { assert.equal(tag, undefined); continue; } // CLI only
      assert.ok(tag, `#${key} control`);
      const attr = (name: string) => new RegExp(` ${name}="([^"]*)"`).exec(tag)?.[1];
      const min = Number(attr("min"));
      assert.ok(r.exclusiveMin ? min > r.min : min === r.min, `#${key} min ${min}`);
      assert.equal(attr("max"), r.max === undefined ? undefined : String(r.max), `#${key} max`);
      assert.equal(Number(attr("step")), r.step, `#${key} step`);
    }
    for (const key of ["mode", "policy", "schedule"]) {
      const select = new RegExp(`<vscode-single-select id="${key}">(.*?)</vscode-single-select>`).exec(html)?.[1] ?? "";
      assert.deepEqual([...select.matchAll(/value="([^"]*)"/g)].map((m) => m[1]), [...choices(key)!], key);
    }
  });

  it("threshold and temperature refuse 0 with one message, wherever they come in", () => {
    assert.throws(() => resolveConfig({ threshold: 0 }), /threshold must be in \(0, 1\]/);
    const engine = (() => { try { resolveConfig({ temperature: 0 }); } catch (e) { return (e as Error).message; } })();
    const api = completionRequestSchema.safeParse({ prompt: "x", temperature: 0 }).error?.issues[0].message;
    assert.equal(engine, "temperature must be > 0");
    assert.equal(api, engine);
  });
});
