// The whole-vocabulary arrays of a prepared Distribution, for comparing against references.
import type { Distribution } from "../../src/engine/math/distribution.js";

export const probs = (d: Distribution): number[] => Array.from({ length: d.size }, (_, i) => d.prob(i));
export const logProbs = (d: Distribution): number[] => Array.from({ length: d.size }, (_, i) => d.logProb(i));
