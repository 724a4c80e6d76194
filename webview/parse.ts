import type { z } from "zod";

/** A validator for messages crossing the webview boundary: the parsed message, or undefined (dropped). */
export function parserFor<S extends z.ZodType>(schema: S): (raw: unknown) => z.output<S> | undefined {
  return (raw) => {
    const r = schema.safeParse(raw);
    return r.success ? r.data : undefined;
  };
}
