// The playground page's DOM access, shared by its sections (webview/playground*.ts).

/** A form control as the @vscode-elements components expose it. */
export type ValueElement = HTMLElement & { value: string; disabled: boolean };

export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: #${id} is missing`);
  return el as T;
};
