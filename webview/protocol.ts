// Messages between the playground webview and the extension. Both sides validate what they
// receive: the webview is an untrusted page, and the extension's messages are checked too so a
// version skew after an update fails loudly instead of rendering garbage.

/** Webview -> extension. */
export type WebviewMessage =
  | {
      type: "ready";
      /** Custom elements the page managed to define: proves the bundle ran under the CSP. */
      elements: string[];
      /** The body class VS Code gave the page (vscode-light | vscode-dark | vscode-high-contrast...). */
      theme: string;
    }
  | { type: "cspViolation"; directive: string; blockedUri: string };

/** Extension -> webview. */
export type ExtensionMessage = { type: "init"; extensionVersion: string };

const isString = (v: unknown): v is string => typeof v === "string";
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw.type) {
    case "ready":
      if (Array.isArray(raw.elements) && raw.elements.every(isString) && raw.elements.length <= 256 && isString(raw.theme)) {
        return { type: "ready", elements: [...raw.elements], theme: raw.theme.slice(0, 200) };
      }
      return undefined;
    case "cspViolation":
      if (isString(raw.directive) && isString(raw.blockedUri)) {
        return { type: "cspViolation", directive: raw.directive.slice(0, 200), blockedUri: raw.blockedUri.slice(0, 500) };
      }
      return undefined;
    default:
      return undefined;
  }
}

export function parseExtensionMessage(raw: unknown): ExtensionMessage | undefined {
  if (isRecord(raw) && raw.type === "init" && isString(raw.extensionVersion)) {
    return { type: "init", extensionVersion: raw.extensionVersion };
  }
  return undefined;
}
