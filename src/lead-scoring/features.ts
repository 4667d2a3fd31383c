/** Per-source-feature views of an encoded matrix (for drift checks and explanations). Pure. */
import type { Encoder } from "../models/encoding.ts";

/**
 * One value per row for source feature `fi`: the encoded value for numeric/boolean features and
 * ordinal categoricals; for one-hot categoricals the level index (0..k−1, k = rare bucket), NaN when missing.
 * Complexity O(rows × columns of the feature).
 */
export function featureCodes(encoder: Encoder, X: Float32Array, nRows: number, fi: number): Float64Array {
  const C = encoder.columns.length;
  let start = 0;
  for (let i = 0; i < fi; i++) start += encoder.features[i]!.columns.length;
  const f = encoder.features[fi]!;
  const width = f.columns.length;
  const out = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const off = r * C + start;
    if (width === 1) {
      out[r] = X[off]!;
      continue;
    }
    let code = NaN;
    for (let j = 0; j < width; j++) if (X[off + j] === 1) { code = j; break; }
    out[r] = code;
  }
  return out;
}
