// A running comparison's progress with a rate measured in the current phase: steps counted
// from the phase's first report, so the time before it (loading, the first decode) does not
// make the rate look slow, and the time left is what that rate needs for the steps left.
import type { CompareProgress, ComparePhase } from "../../webview/comparison-protocol.js";

/** The rate is stated once the phase has run this long since its first report (ms): earlier it is noise. */
export const MIN_RATE_WINDOW_MS = 1000;

export class PhaseClock {
  private phase: ComparePhase | undefined;
  private first = { done: 0, at: 0 };

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** `done` of `total` steps in `phase` (`atMost`: total is an upper bound). */
  update(phase: ComparePhase, done: number, total: number, atMost: boolean): CompareProgress {
    const at = this.now();
    if (phase !== this.phase) {
      this.phase = phase;
      this.first = { done, at };
    }
    const out: CompareProgress = { phase, done, total, atMost };
    const elapsed = at - this.first.at;
    if (elapsed >= MIN_RATE_WINDOW_MS && done > this.first.done) {
      out.rate = ((done - this.first.done) * 1000) / elapsed;
      out.etaS = Math.max(0, total - done) / out.rate;
    }
    return out;
  }
}
