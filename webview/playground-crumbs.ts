// The playground's breadcrumbs: the shown run's line from its root run, through each branch's
// choice (run-tree.ts). Hidden for a run that is no branch; each crumb but the last shows its run.
import type { RunRecord } from "./playground-state.js";
import { breadcrumbs } from "./run-tree.js";

export class Breadcrumbs {
  constructor(private readonly nav: HTMLElement, private readonly choose: (key: string) => void) {}

  render(history: readonly RunRecord[], shownKey: string | undefined): void {
    const crumbs = shownKey ? breadcrumbs(history, shownKey) : [];
    this.nav.hidden = crumbs.length < 2;
    const list = document.createElement("ol");
    crumbs.forEach((c, i) => {
      const li = document.createElement("li");
      if (i === crumbs.length - 1) {
        const here = document.createElement("span");
        here.setAttribute("aria-current", "true");
        here.textContent = c.label;
        li.append(here);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "crumb";
        button.textContent = c.label;
        button.addEventListener("click", () => this.choose(c.key));
        li.append(button);
      }
      list.append(li);
    });
    this.nav.replaceChildren(list);
  }

  /** The crumbs shown, root first (empty when hidden). */
  labels(): string[] {
    return this.nav.hidden ? [] : [...this.nav.querySelectorAll("li")].map((li) => li.textContent ?? "");
  }
}
