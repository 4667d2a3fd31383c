/**
 * XGBoost 0.7x legacy binary model (what the WASM `save_model` returns) → flat typed-array forest.
 * Layout (little-endian), see /work/shared/notes/xgboost-wasm.md:
 *   LearnerModelParam 136 B: f32 base_score (stored as a margin), u32 num_feature, i32 num_class,
 *     i32 contain_extra_attrs, i32 contain_eval_metrics, 29 × i32 reserved
 *   string objective, string booster (u64 length + bytes)
 *   GBTreeModelParam 160 B: i32 num_trees, num_roots, num_feature, pad, i64 num_pbuffer,
 *     i32 num_output_group, i32 size_leaf_vector, 32 × i32 reserved
 *   per tree: TreeParam 148 B (num_roots, num_nodes, num_deleted, max_depth, num_feature,
 *     size_leaf_vector, 31 reserved); num_nodes × Node 20 B (i32 parent, i32 left (-1 = leaf),
 *     i32 right, u32 sindex (low 31 bits feature, top bit default-left), f32 split_cond | leaf value);
 *     num_nodes × NodeStat 16 B (f32 loss_chg, f32 sum_hess, f32 base_weight, i32 leaf_child_cnt);
 *     leaf vector (u64 n + n × f32) only if size_leaf_vector ≠ 0
 *   i32 tree_info[num_trees]; attributes (vector<pair<string,string>>) if contain_extra_attrs;
 *   metric names (vector<string>) if contain_eval_metrics.
 * Decision rule: go left iff x < split_cond; a missing x goes to the default side.
 */
import { XGBoostInputError, XGBoostModelFormatError } from "./errors.ts";

/** A parsed gbtree forest. Node arrays are indexed globally; tree t owns nodes [treeStart[t], treeStart[t+1]). */
export interface Forest {
  /** Number of input features the model was trained on. */
  numFeature: number;
  /** Global bias as a margin (logit of base_score for binary:logistic). */
  baseMargin: number;
  objective: string;
  numTrees: number;
  /** Length numTrees + 1; the root of tree t is node treeStart[t]. */
  treeStart: Int32Array;
  /** Global index of the left / right child, -1 at leaves. */
  left: Int32Array;
  right: Int32Array;
  /** Split feature, -1 at leaves. */
  feature: Int32Array;
  /** Split threshold (go left iff x < threshold); 0 at leaves. */
  threshold: Float32Array;
  /** Leaf value (margin contribution); 0 at internal nodes. */
  leafValue: Float32Array;
  /** 1 if a missing value goes left. */
  defaultLeft: Uint8Array;
  /** Loss reduction of the split (XGBoost "gain"); 0 at leaves. */
  gain: Float32Array;
  /** Hessian sum of the training rows reaching the node (XGBoost "cover"). */
  cover: Float32Array;
  /** Deepest root-to-leaf edge count over all trees. */
  maxDepth: number;
}

/** Options of the functions that evaluate a forest on rows (prediction, TreeSHAP). */
export interface PredictOptions {
  /** Use only the first `nTrees` trees (default: all). */
  nTrees?: number;
  /** Treat an exact -1 as missing too (models trained with `minusOneIsMissing`). */
  minusOneIsMissing?: boolean;
}

/** @throws XGBoostInputError unless X holds nRows rows of the forest's feature count. */
export function checkShape(forest: Forest, X: Float32Array, nRows: number, nCols: number): void {
  if (!Number.isInteger(nRows) || nRows < 0) throw new XGBoostInputError(`nRows must be an integer ≥ 0, got ${nRows}`);
  if (nCols !== forest.numFeature) {
    throw new XGBoostInputError(`the model was trained on ${forest.numFeature} features, X has ${nCols} columns`);
  }
  if (X.length !== nRows * nCols) throw new XGBoostInputError(`X has ${X.length} values, expected nRows × nCols = ${nRows * nCols}`);
}

/** The number of trees to use (all when `nTrees` is undefined). @throws XGBoostInputError outside 0..numTrees. */
export function treeCount(forest: Forest, nTrees: number | undefined): number {
  if (nTrees === undefined) return forest.numTrees;
  if (!Number.isInteger(nTrees) || nTrees < 0 || nTrees > forest.numTrees) {
    throw new XGBoostInputError(`nTrees must be an integer in 0..${forest.numTrees}, got ${nTrees}`);
  }
  return nTrees;
}

interface ParsedModel {
  forest: Forest;
  /** Byte range [start, end) of each tree's serialised form (for truncation). */
  treeBytes: Array<[number, number]>;
  /** Offsets needed to rewrite the model with fewer trees. */
  gbtreeParamOffset: number;
  treeInfoOffset: number;
  tailOffset: number;
}

class Reader {
  readonly view: DataView;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new XGBoostModelFormatError(
        `XGBoost model truncated: need ${n} bytes for ${what} at offset ${this.pos}, only ${this.bytes.length - this.pos} left`,
      );
    }
  }
  i32(): number {
    this.need(4, "int32");
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4, "uint32");
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4, "float32");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.bytes.length)) throw new XGBoostModelFormatError(`XGBoost model: ${what} = ${v} is larger than the file`);
    return Number(v);
  }
  string(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
}

/**
 * Parses an XGBoost 0.7x binary gbtree model. Every byte must be consumed, otherwise the format is
 * not the one this parser knows and it throws. Complexity O(bytes); ~7 ms for a 470 KB model.
 * @throws XGBoostModelFormatError on any deviation (truncation, trailing bytes, multi-class, non-gbtree).
 */
export function parseModel(bytes: Uint8Array): Forest {
  return parseModelDetailed(bytes).forest;
}

function parseModelDetailed(bytes: Uint8Array): ParsedModel {
  const r = new Reader(bytes);
  const baseMargin = r.f32();
  const numFeature = r.u32();
  const numClass = r.i32();
  const containExtraAttrs = r.i32();
  const containEvalMetrics = r.i32();
  r.skip(29 * 4, "LearnerModelParam reserved");
  const objective = r.string("objective");
  const booster = r.string("booster");
  if (booster !== "gbtree") throw new XGBoostModelFormatError(`XGBoost model booster is "${booster}", only gbtree is supported`);
  if (numClass > 1) throw new XGBoostModelFormatError(`XGBoost model has num_class=${numClass}; only single-output models are supported`);
  const gbtreeParamOffset = r.pos;
  const numTrees = r.i32();
  const numRoots = r.i32();
  r.i32(); // num_feature (gbtree copy)
  r.i32(); // pad
  r.need(8, "num_pbuffer");
  const numPbuffer = r.view.getBigInt64(r.pos, true);
  r.pos += 8;
  const numOutputGroup = r.i32();
  const sizeLeafVector = r.i32();
  r.skip(32 * 4, "GBTreeModelParam reserved");
  if (numTrees < 0 || numTrees > 1_000_000) throw new XGBoostModelFormatError(`XGBoost model: implausible num_trees=${numTrees}`);
  if (numRoots !== 1 || numOutputGroup !== 1 || numPbuffer !== 0n || sizeLeafVector !== 0) {
    throw new XGBoostModelFormatError(
      `XGBoost model: unsupported gbtree layout (num_roots=${numRoots}, num_output_group=${numOutputGroup}, num_pbuffer=${numPbuffer}, size_leaf_vector=${sizeLeafVector})`,
    );
  }

  // First pass over tree headers to size the arrays.
  const treeBytes: Array<[number, number]> = [];
  const nodeCounts: number[] = [];
  let totalNodes = 0;
  for (let t = 0; t < numTrees; t++) {
    const start = r.pos;
    const roots = r.i32();
    const numNodes = r.i32();
    r.i32(); // num_deleted
    r.i32(); // max_depth (0 in practice)
    r.i32(); // num_feature
    const leafVec = r.i32();
    r.skip(31 * 4, "TreeParam reserved");
    if (roots !== 1 || numNodes < 1 || numNodes > 1 << 24) {
      throw new XGBoostModelFormatError(`XGBoost model: tree ${t} has num_roots=${roots}, num_nodes=${numNodes}`);
    }
    r.skip(numNodes * 36, `tree ${t} nodes`);
    if (leafVec !== 0) {
      const n = r.u64(`tree ${t} leaf vector length`);
      r.skip(n * 4, `tree ${t} leaf vector`);
    }
    treeBytes.push([start, r.pos]);
    nodeCounts.push(numNodes);
    totalNodes += numNodes;
  }
  const treeInfoOffset = r.pos;
  for (let t = 0; t < numTrees; t++) {
    const info = r.i32();
    if (info !== 0) throw new XGBoostModelFormatError(`XGBoost model: tree ${t} belongs to output group ${info}; expected 0`);
  }
  const tailOffset = r.pos;
  if (containExtraAttrs !== 0) {
    const n = r.u64("attribute count");
    for (let i = 0; i < n; i++) {
      r.string("attribute name");
      r.string("attribute value");
    }
  }
  if (objective === "count:poisson") r.string("max_delta_step");
  if (containEvalMetrics !== 0) {
    const n = r.u64("metric count");
    for (let i = 0; i < n; i++) r.string("metric name");
  }
  if (r.pos !== bytes.length) {
    throw new XGBoostModelFormatError(`XGBoost model: ${bytes.length - r.pos} unexpected trailing bytes at offset ${r.pos}`);
  }

  const treeStart = new Int32Array(numTrees + 1);
  const left = new Int32Array(totalNodes);
  const right = new Int32Array(totalNodes);
  const feature = new Int32Array(totalNodes);
  const threshold = new Float32Array(totalNodes);
  const leafValue = new Float32Array(totalNodes);
  const defaultLeft = new Uint8Array(totalNodes);
  const gain = new Float32Array(totalNodes);
  const cover = new Float32Array(totalNodes);
  const v = r.view;
  let base = 0;
  let maxDepth = 0;
  for (let t = 0; t < numTrees; t++) {
    treeStart[t] = base;
    const n = nodeCounts[t];
    const nodeOff = treeBytes[t][0] + 148;
    const statOff = nodeOff + n * 20;
    for (let i = 0; i < n; i++) {
      const o = nodeOff + i * 20;
      const cl = v.getInt32(o + 4, true);
      const cr = v.getInt32(o + 8, true);
      const sindex = v.getUint32(o + 12, true);
      const value = v.getFloat32(o + 16, true);
      const g = base + i;
      if (cl === -1) {
        left[g] = -1;
        right[g] = -1;
        feature[g] = -1;
        leafValue[g] = value;
      } else {
        if (cl < 0 || cl >= n || cr < 0 || cr >= n) {
          throw new XGBoostModelFormatError(`XGBoost model: tree ${t} node ${i} has children ${cl}/${cr} outside 0..${n - 1}`);
        }
        left[g] = base + cl;
        right[g] = base + cr;
        const f = sindex & 0x7fffffff;
        if (f >= numFeature) throw new XGBoostModelFormatError(`XGBoost model: tree ${t} node ${i} splits on feature ${f} ≥ num_feature ${numFeature}`);
        feature[g] = f;
        defaultLeft[g] = sindex >>> 31;
        threshold[g] = value;
      }
      const so = statOff + i * 16;
      gain[g] = v.getFloat32(so, true);
      cover[g] = v.getFloat32(so + 4, true);
    }
    maxDepth = Math.max(maxDepth, depthOf(left, right, base, n));
    base += n;
  }
  treeStart[numTrees] = base;
  return {
    forest: { numFeature, baseMargin, objective, numTrees, treeStart, left, right, feature, threshold, leafValue, defaultLeft, gain, cover, maxDepth },
    treeBytes,
    gbtreeParamOffset,
    treeInfoOffset,
    tailOffset,
  };
}

/** Max root-to-leaf depth of one tree (iterative; also rejects cycles). */
function depthOf(left: Int32Array, right: Int32Array, root: number, n: number): number {
  const stack = [root, 0];
  let max = 0;
  let visited = 0;
  while (stack.length) {
    const d = stack.pop()!;
    const node = stack.pop()!;
    if (++visited > n) throw new XGBoostModelFormatError("XGBoost model: a tree is not a tree (cycle)");
    if (d > max) max = d;
    if (left[node] >= 0) stack.push(left[node], d + 1, right[node], d + 1);
  }
  return max;
}

/**
 * Rewrites a 0.7 binary model keeping only its first `k` trees (early stopping), so the saved
 * artifact and the in-memory forest agree and the bytes stay loadable by WASM and native 1.7.
 * O(bytes).
 */
export function truncateModelBytes(bytes: Uint8Array, k: number): Uint8Array {
  const p = parseModelDetailed(bytes);
  if (!Number.isInteger(k) || k < 1 || k > p.forest.numTrees) {
    throw new RangeError(`cannot keep ${k} trees of a ${p.forest.numTrees}-tree model`);
  }
  if (k === p.forest.numTrees) return bytes.slice();
  const treesEnd = p.treeBytes[k - 1][1];
  const head = bytes.subarray(0, treesEnd);
  const info = new Uint8Array(4 * k); // tree_info is all zeros (single output group)
  const tail = bytes.subarray(p.tailOffset);
  const out = new Uint8Array(head.length + info.length + tail.length);
  out.set(head, 0);
  out.set(info, head.length);
  out.set(tail, head.length + info.length);
  new DataView(out.buffer).setInt32(p.gbtreeParamOffset, k, true);
  return out;
}
