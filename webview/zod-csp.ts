// Imported first by every webview entry. zod otherwise probes `new Function` (to compile fast
// parsers) while it builds object schemas; under the page's CSP that probe is blocked and
// reported as a violation. Module order matters: this must run before any schema is built.
import { z } from "zod";

z.config({ jitless: true });
