/**
 * TreeSHAP of a parsed forest: path-dependent SHAP values (Lundberg, Erion & Lee 2018), XGBoost's recursive
 * algorithm (`recursiveTreeShap`) and the same values from per-leaf tables built once per forest (`treeShap`, after
 * Yang 2021, "Fast TreeSHAP"). Pure functions over typed arrays; no I/O.
 */
import { checkShape, treeCount, type Forest, type PredictOptions } from "./forest.ts";
import { XGBoostInputError } from "./errors.ts";

/**
 * Cover-weighted mean leaf value of every node (E[f] under the training distribution):
 * leaf → value; internal → (cover_l·mean_l + cover_r·mean_r) / cover. Children precede nothing in
 * XGBoost's numbering, so this recurses per tree. O(nodes).
 */
function nodeMeans(forest: Forest): Float64Array {
  const { left, right, cover, leafValue, treeStart } = forest;
  const means = new Float64Array(left.length);
  const visit = (n: number): number => {
    const l = left[n];
    if (l < 0) return (means[n] = leafValue[n]);
    const r = right[n];
    const ml = visit(l);
    const mr = visit(r);
    const c = cover[n];
    return (means[n] = c > 0 ? (cover[l] * ml + cover[r] * mr) / c : 0.5 * (ml + mr));
  };
  for (let t = 0; t < forest.numTrees; t++) visit(treeStart[t]);
  return means;
}

/**
 * Node means per forest, computed once: a parsed forest's arrays never change, and the means are O(nodes)
 * work that would otherwise dominate explaining a single row (the scoring server explains one lead per request).
 */
const NODE_MEANS = new WeakMap<Forest, Float64Array>();
function cachedNodeMeans(forest: Forest): Float64Array {
  let m = NODE_MEANS.get(forest);
  if (!m) NODE_MEANS.set(forest, (m = nodeMeans(forest)));
  return m;
}

/**
 * TreeSHAP's unique path (XGBoost's PathElement arrays): element i of a path starting at `b` is at index b + i;
 * `w` holds the permutation weights of the subsets of the path's features.
 */
interface UniquePath {
  feat: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  w: Float64Array;
}

/** Adds a feature (its zero and one fractions) at `depth`, updating the weights. */
function extendPath(p: UniquePath, b: number, depth: number, zero: number, one: number, feat: number): void {
  const { feat: pFeat, zero: pZero, one: pOne, w: pW } = p;
  pFeat[b + depth] = feat;
  pZero[b + depth] = zero;
  pOne[b + depth] = one;
  pW[b + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    pW[b + i + 1] += (one * pW[b + i] * (i + 1)) / (depth + 1);
    pW[b + i] = (zero * pW[b + i] * (depth - i)) / (depth + 1);
  }
}

/** Removes element `pathIndex` of a path of `depth` + 1 elements (undoes its extend). */
function unwindPath(p: UniquePath, b: number, depth: number, pathIndex: number): void {
  const { feat: pFeat, zero: pZero, one: pOne, w: pW } = p;
  const one = pOne[b + pathIndex];
  const zero = pZero[b + pathIndex];
  let next = pW[b + depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = pW[b + i];
      pW[b + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (pW[b + i] * zero * (depth - i)) / (depth + 1);
    } else {
      pW[b + i] = (pW[b + i] * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = pathIndex; i < depth; i++) {
    pFeat[b + i] = pFeat[b + i + 1];
    pZero[b + i] = pZero[b + i + 1];
    pOne[b + i] = pOne[b + i + 1];
  }
}

/** Σ of the weights the path would have with element `pathIndex` removed (without removing it). */
function unwoundPathSum(p: UniquePath, b: number, depth: number, pathIndex: number): number {
  const { zero: pZero, one: pOne, w: pW } = p;
  const one = pOne[b + pathIndex];
  const zero = pZero[b + pathIndex];
  let next = pW[b + depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = pW[b + i] - tmp * zero * ((depth - i) / (depth + 1));
    } else {
      total += pW[b + i] / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

/**
 * What both TreeSHAP forms start from: the shape checked, the trees used, and the output [nRows × (nCols + 1)] with
 * each row's bias E[f] = base_margin + Σ_t (cover-weighted mean leaf of tree t) in its last column.
 */
function shapOutput(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: PredictOptions): { T: number; m1: boolean; out: Float64Array } {
  checkShape(forest, X, nRows, nCols);
  const T = treeCount(forest, opts.nTrees);
  const out = new Float64Array(nRows * (nCols + 1));
  const means = cachedNodeMeans(forest);
  let bias = forest.baseMargin;
  for (let t = 0; t < T; t++) bias += means[forest.treeStart[t]];
  for (let row = 0; row < nRows; row++) out[row * (nCols + 1) + nCols] = bias;
  return { T, m1: !!opts.minusOneIsMissing, out };
}

/**
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature Attribution
 * for Tree Ensembles", Algorithm 2; port of XGBoost's RegTree::TreeShap with cover = sum_hess).
 * Output row i holds φ_i1..φ_iF and, last, the bias E[f] = base_margin + Σ_t (cover-weighted mean
 * leaf of tree t), so Σ_j φ_ij + bias = predictMargin(x_i) (to ~1e-12 in float64).
 * Allocation-free per row: the unique-path stacks are preallocated typed arrays of size
 * (D+2)(D+3)/2 where D is the forest's max depth; each recursion level uses the next segment.
 * Complexity O(nRows × nTrees × L × D²) (L leaves per tree). Missing → default side, as in prediction.
 * treeShap reads by it the trees past its tables' budget in calls of too few rows to pay for building their tables; it is
 * also the reference the table forms are tested against.
 * @returns Float64Array [nRows × (nCols + 1)], row-major, bias in the last column.
 */
export function recursiveTreeShap(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: PredictOptions = {}): Float64Array {
  const { T, m1, out } = shapOutput(forest, X, nRows, nCols, opts);
  const recurseTree = recursiveTree(forest, X, nCols, m1, out);
  for (let row = 0; row < nRows; row++) for (let t = 0; t < T; t++) recurseTree(t, row);
  return out;
}

/** recursiveTreeShap's work for one tree and one row: adds the row's values from tree t to `out`. */
function recursiveTree(forest: Forest, X: Float32Array, nCols: number, m1: boolean, out: Float64Array): (t: number, row: number) => void {
  const F = nCols;

  const { left, right, feature, threshold, defaultLeft, cover, leafValue } = forest;
  const maxd = forest.maxDepth + 2;
  const size = (maxd * (maxd + 1)) / 2 + maxd;
  const pFeat = new Int32Array(size);
  const pZero = new Float64Array(size);
  const pOne = new Float64Array(size);
  const pW = new Float64Array(size);
  let rowOff = 0;
  let phiOff = 0;

  const path: UniquePath = { feat: pFeat, zero: pZero, one: pOne, w: pW };
  const extend = (b: number, depth: number, zero: number, one: number, feat: number): void => extendPath(path, b, depth, zero, one, feat);
  const unwind = (b: number, depth: number, pathIndex: number): void => unwindPath(path, b, depth, pathIndex);
  const unwoundSum = (b: number, depth: number, pathIndex: number): number => unwoundPathSum(path, b, depth, pathIndex);
  const recurse = (node: number, depth: number, parentBase: number, parentZero: number, parentOne: number, parentFeat: number): void => {
    // Copy the parent's path into the next segment, then extend it.
    const b = parentBase + depth;
    for (let i = 0; i < depth; i++) {
      pFeat[b + i] = pFeat[parentBase + i];
      pZero[b + i] = pZero[parentBase + i];
      pOne[b + i] = pOne[parentBase + i];
      pW[b + i] = pW[parentBase + i];
    }
    extend(b, depth, parentZero, parentOne, parentFeat);
    const l = left[node];
    if (l < 0) {
      const v = leafValue[node];
      for (let i = 1; i <= depth; i++) {
        const w = unwoundSum(b, depth, i);
        out[phiOff + pFeat[b + i]] += w * (pOne[b + i] - pZero[b + i]) * v;
      }
      return;
    }
    const f = feature[node];
    const r = right[node];
    const x = X[rowOff + f];
    const hot = x !== x || (m1 && x === -1) ? (defaultLeft[node] ? l : r) : x < threshold[node] ? l : r;
    const cold = hot === l ? r : l;
    const w = cover[node];
    const hotZero = cover[hot] / w;
    const coldZero = cover[cold] / w;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    let k = 0;
    for (; k <= d; k++) if (pFeat[b + k] === f) break;
    if (k !== d + 1) {
      inZero = pZero[b + k];
      inOne = pOne[b + k];
      unwind(b, d, k);
      d -= 1;
    }
    recurse(hot, d + 1, b, hotZero * inZero, inOne, f);
    recurse(cold, d + 1, b, coldZero * inZero, 0, f);
  };

  return (t, row) => {
    rowOff = row * nCols;
    phiOff = row * (F + 1);
    // Root call: depth 0 with the sentinel feature -1 (XGBoost passes parent_unique_path = buffer start).
    recurse(forest.treeStart[t], 0, 0, 1, 1, -1);
  };
}

/**
 * Most values a forest's kept TreeSHAP tables may hold by default (8 bytes each: 64 MiB); a leaf with U distinct
 * features on its path holds 2^U × U. XGBoost's default depth 6 and 100 trees need at most 2.5M. The trees past it (in
 * tree order) are read from tables built for the call, one tree's at a time, when the call has rows enough to pay for
 * building them (`temporaryFrom`), otherwise by recursiveTreeShap's recursion.
 */
export const SHAP_TABLE_MAX_VALUES = 8 * 1024 * 1024;

/**
 * Nanoseconds a step of treeCosts' counts takes in the recursion, the walk on tables and the building of tables,
 * measured tree by tree over the trees past the budget of two forests (depth 10, 30 columns; depth 12, 20 columns):
 * 8.6–8.9, 11.3–14.2 and 12.9–13.0. Only their ratios matter.
 */
const RECURSION_STEP_NS = 9;
const WALK_STEP_NS = 13;
const BUILD_STEP_NS = 13;

/**
 * A forest's TreeSHAP tables. In path-dependent TreeSHAP a leaf's contribution to each feature on its root path
 * depends on the row only through which of those features the row "follows" (goes the path's way at every node
 * splitting on it): the zero fractions are covers. So every leaf's contributions are computed once per pattern of
 * followed features (Yang 2021, "Fast TreeSHAP", algorithm v2), and a row costs a walk of the tree and a lookup per leaf.
 * - `unique[n]`: the index, in order of first appearance from the root, of node n's feature among the features of
 *   its root path (the same for every leaf below n);
 * - at a leaf n: `width[n]` = U, its path's features at `features[featureStart[n] …]`, and its contributions
 *   at `coef[coefStart[n] + pattern × U + k]` (bit k of the pattern: the row follows feature k).
 */
interface ShapTables {
  unique: Int8Array;
  width: Int8Array;
  featureStart: Int32Array;
  features: Int32Array;
  coefStart: Int32Array;
  coef: Float64Array;
  /** Per tree: 1 when its leaves' tables are kept here (within the budget, by default SHAP_TABLE_MAX_VALUES). */
  kept: Uint8Array;
  /** The budget `kept` was filled within (prepareTreeShap's maxTableValues). */
  maxValues: number;
  /**
   * Per tree not kept: the rows from which a call reads it from tables built for the call (building them costs less
   * than the recursion would more); Infinity for a tree always recursed (its own tables past SHAP_TABLE_MAX_VALUES) and
   * 0 for a kept one.
   */
  temporaryFrom: Float64Array;
  /** Per tree: its values by route (routeTables), or null for a tree walked or recursed instead. */
  routes: (RouteTable | null)[];
}

/**
 * A tree's TreeSHAP values by route. The values a row gets from the leaves below a node n depend only on which way it
 * goes at n's ancestors (whether it follows their features toward n) and at the splits below n: at most 2^B distinct
 * vectors for B such splits. So a tree is cut into blocks, subtrees whose splits and ancestors number at most
 * ROUTE_MAX_BITS (the whole tree when it is that small; else its root is cut and its children tried, and so on), each
 * with its values for every route. `splits` are the tree's split nodes, in the order of a row's directions (1: right);
 * a block's route has bit j set when the row goes right at `splits[bits[j]]`; its values at `values[route × U + k]`
 * for `features[k]` (U = features.length). A row then costs a comparison per split and, per block, its bits and U
 * additions, instead of a walk of every node adding at every leaf (lead scoring's forest at 10M demo events, 789 trees
 * of depth 3: one block each; depth 6: sixteen blocks of 3 splits under 4 ancestors).
 */
interface RouteTable {
  splits: Int32Array;
  blocks: RouteBlock[];
}

interface RouteBlock {
  /** The nodes of its route's bits, and their places in `splits`. */
  nodes: Int32Array;
  bits: Int32Array;
  features: Int32Array;
  values: Float64Array;
}

/** Most bits (ancestors and splits) of a block's route: 2^8 = 256 value vectors. */
const ROUTE_MAX_BITS = 8;
/** Most values all of a forest's route tables hold together (8 bytes each: 32 MiB); trees past it are walked. */
const ROUTE_MAX_VALUES = 4 * 1024 * 1024;

/**
 * Every root-to-leaf path of tree t: `onSplit(node, k)` for each split node, k its feature's index among the
 * distinct features of its root path (in order of first appearance: the same for every leaf below it), then at each
 * leaf `onLeaf(leaf, features, zeros)`: those features and their zero fractions (the product of cover[child] /
 * cover[node] over the path's nodes splitting on the feature). The arrays are reused: read them in the call.
 */
function walkLeafPaths(
  forest: Forest,
  t: number,
  onLeaf: (leaf: number, features: readonly number[], zeros: readonly number[]) => void,
  onSplit: (node: number, k: number) => void = () => undefined,
): void {
  const { left, right, feature, cover } = forest;
  const pathFeatures: number[] = [];
  const pathZero: number[] = [];
  const visit = (node: number): void => {
    const l = left[node];
    if (l < 0) {
      onLeaf(node, pathFeatures, pathZero);
      return;
    }
    const f = feature[node];
    let k = pathFeatures.indexOf(f);
    const added = k < 0;
    if (added) {
      k = pathFeatures.length;
      pathFeatures.push(f);
      pathZero.push(1);
    }
    onSplit(node, k);
    const before = pathZero[k]!;
    for (const child of [l, right[node]]) {
      pathZero[k] = before * (cover[child] / cover[node]);
      visit(child);
    }
    pathZero[k] = before;
    if (added) {
      pathFeatures.pop();
      pathZero.pop();
    }
  };
  visit(forest.treeStart[t]);
}

/**
 * Tree t's sizes and costs: `values`, what its tables hold (Σ over its leaves of 2^U × U); `build`, the steps of building
 * them (each of a leaf's 2^U patterns: U unwound sums of U steps); `walk`, the steps of reading one row from them (every
 * node, and U additions a leaf); `recursion`, the steps of XGBoost's recursion for one row (every node extends the
 * path of its depth, every leaf unwinds it once per feature).
 */
function treeCosts(forest: Forest, t: number): { values: number; build: number; walk: number; recursion: number } {
  const { left, right, treeStart } = forest;
  let nodes = 0;
  let recursion = 0;
  const stack: [node: number, depth: number][] = [[treeStart[t]!, 0]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    nodes++;
    recursion += d + 1;
    if (left[n]! >= 0) stack.push([left[n]!, d + 1], [right[n]!, d + 1]);
  }
  let values = 0;
  let build = 0;
  let walk = nodes;
  walkLeafPaths(forest, t, (_, features) => {
    const U = features.length;
    values += 2 ** U * U;
    build += 2 ** U * U * U;
    walk += U;
    recursion += U * U;
  });
  return { values, build, walk, recursion };
}

/**
 * The forest's tables: every tree's, in tree order, while they hold at most `maxValues` together (`kept`); the per-node
 * entries of the others are filled by temporaryTables when a call reads them.
 */
function buildShapTables(forest: Forest, maxValues: number): ShapTables {
  const nodes = forest.left.length;
  const tables: ShapTables = {
    unique: new Int8Array(nodes), width: new Int8Array(nodes), featureStart: new Int32Array(nodes), coefStart: new Int32Array(nodes),
    features: new Int32Array(0), coef: new Float64Array(0), kept: new Uint8Array(forest.numTrees), maxValues,
    temporaryFrom: new Float64Array(forest.numTrees), routes: [],
  };
  const features: number[] = [];
  const coef: number[] = [];
  let budget = maxValues;
  for (let t = 0; t < forest.numTrees; t++) {
    const { values, build, walk, recursion } = treeCosts(forest, t);
    if (values > budget) {
      const saved = RECURSION_STEP_NS * recursion - WALK_STEP_NS * walk;
      tables.temporaryFrom[t] = values > SHAP_TABLE_MAX_VALUES || saved <= 0 ? Infinity : Math.ceil((BUILD_STEP_NS * build) / saved);
      continue;
    }
    budget -= values;
    addTreeTables(forest, t, tables, features, coef);
    tables.kept[t] = 1;
  }
  tables.features = Int32Array.from(features);
  tables.coef = Float64Array.from(coef);
  tables.routes = routeTables(forest, tables);
  return tables;
}

/**
 * Tables of tree t built for one call: its leaves' features and values in arrays of their own; its nodes' entries of
 * `tables` point into them.
 */
function temporaryTables(forest: Forest, tables: ShapTables, t: number): ShapTables {
  const features: number[] = [];
  const coef: number[] = [];
  addTreeTables(forest, t, tables, features, coef);
  return { ...tables, features: Int32Array.from(features), coef: Float64Array.from(coef) };
}

/** Tree t's nodes' entries in `tables`, its leaves' features and values appended to `features` and `coef`. */
function addTreeTables(forest: Forest, t: number, tables: ShapTables, features: number[], coef: number[]): void {
  const { unique, width, featureStart, coefStart } = tables;
  const D = forest.maxDepth + 2;
  const path: UniquePath = { feat: new Int32Array(D), zero: new Float64Array(D), one: new Float64Array(D), w: new Float64Array(D) };
  walkLeafPaths(
    forest,
    t,
    (leaf, pathFeatures, pathZero) => {
      const U = pathFeatures.length;
      width[leaf] = U;
      featureStart[leaf] = features.length;
      features.push(...pathFeatures);
      coefStart[leaf] = coef.length;
      const v = forest.leafValue[leaf];
      for (let pattern = 0; pattern < 1 << U; pattern++) {
        extendPath(path, 0, 0, 1, 1, -1);
        for (let k = 0; k < U; k++) extendPath(path, 0, k + 1, pathZero[k]!, (pattern >> k) & 1, pathFeatures[k]!);
        for (let k = 0; k < U; k++) coef.push(unwoundPathSum(path, 0, U, k + 1) * (((pattern >> k) & 1) - pathZero[k]!) * v);
      }
    },
    (node, k) => (unique[node] = k),
  );
}

/** Every tree's RouteTable while their values fit ROUTE_MAX_VALUES (null for a tree past it, or deeper than the bits). */
function routeTables(forest: Forest, tables: ShapTables): (RouteTable | null)[] {
  const { left, right, feature, treeStart } = forest;
  const scratch = new Float64Array(forest.numFeature);
  const walk = treeWalker(forest, tables);
  let budget = ROUTE_MAX_VALUES;
  const out: (RouteTable | null)[] = [];
  const splitsBelow = (n: number): number => (left[n] < 0 ? 0 : 1 + splitsBelow(left[n]) + splitsBelow(right[n]));
  const nodesBelow = (n: number, into: number[]): number[] => {
    if (left[n] >= 0) into.push(n, ...nodesBelow(left[n], []), ...nodesBelow(right[n], []));
    return into;
  };
  for (let t = 0; t < forest.numTrees; t++) {
    if (!tables.kept[t]) {
      out.push(null);
      continue;
    }
    const splits: number[] = [];
    for (let n = treeStart[t]; n < treeStart[t + 1]; n++) if (left[n] >= 0) splits.push(n);
    const position = new Map(splits.map((n, i) => [n, i]));
    // The blocks: [block root, its ancestors from the tree's root], cutting a subtree while it has too many bits.
    const roots: Array<[number, number[]]> = [];
    let fits = true;
    const cut = (n: number, ancestors: number[]): void => {
      if (ancestors.length + splitsBelow(n) <= ROUTE_MAX_BITS) roots.push([n, ancestors]);
      else if (left[n] < 0 || ancestors.length >= ROUTE_MAX_BITS) fits = false;
      else for (const child of [left[n], right[n]]) cut(child, [...ancestors, n]);
    };
    cut(treeStart[t], []);
    if (!fits) {
      out.push(null);
      continue;
    }
    const shapes = roots.map(([n, ancestors]) => {
      const own = nodesBelow(n, []);
      const nodes = [...ancestors, ...own];
      const features = [...new Set(nodes.map((m) => feature[m]!))];
      return { n, ancestors, nodes, features };
    });
    const size = shapes.reduce((sum, b) => sum + (1 << b.nodes.length) * b.features.length, 0);
    if (size > budget) {
      out.push(null);
      continue;
    }
    budget -= size;
    const blocks = shapes.map(({ n, ancestors, nodes, features }) => {
      const bit = new Map(nodes.map((m, j) => [m, j]));
      const U = features.length;
      const values = new Float64Array((1 << nodes.length) * U);
      for (let route = 0; route < 1 << nodes.length; route++) {
        const goesLeft = (m: number): boolean => ((route >> bit.get(m)!) & 1) === 0;
        // The features of n's ancestors the row does not follow toward n (it goes the other way there).
        let missed = 0;
        ancestors.forEach((a, j) => {
          const towards = j + 1 < ancestors.length ? ancestors[j + 1]! : n;
          if (goesLeft(a) !== (left[a] === towards)) missed |= 1 << tables.unique[a]!;
        });
        walk(n, missed, goesLeft, scratch, 0);
        for (let k = 0; k < U; k++) {
          values[route * U + k] = scratch[features[k]!]!;
          scratch[features[k]!] = 0;
        }
      }
      return { nodes: Int32Array.from(nodes), bits: Int32Array.from(nodes, (m) => position.get(m)!), features: Int32Array.from(features), values };
    });
    out.push({ splits: Int32Array.from(splits), blocks });
  }
  return out;
}

/**
 * A walk of a tree (or of the subtree below `start`) from its tables: adds, at `out[offset + feature]`, the values of
 * every leaf below `start` for the features the row follows on the leaf's path, the row going left at a split where
 * `goesLeft(node)`; `missedAbove`: the features of start's ancestors it does not follow (0 from a tree's root). Depth
 * first, an explicit stack of (node, mask of the path's features the row does not follow).
 */
function treeWalker(forest: Forest, tables: ShapTables): (start: number, missedAbove: number, goesLeft: (node: number) => boolean, out: Float64Array, offset: number) => void {
  const { unique, width, featureStart, features, coefStart, coef } = tables;
  const { left, right } = forest;
  const stackNode = new Int32Array(forest.maxDepth + 2);
  const stackMissed = new Int32Array(forest.maxDepth + 2);
  return (start, missedAbove, goesLeft, out, offset) => {
    let top = 0;
    stackNode[0] = start;
    stackMissed[0] = missedAbove;
    while (top >= 0) {
      const node = stackNode[top]!;
      const missed = stackMissed[top]!;
      top--;
      const l = left[node];
      if (l < 0) {
        const U = width[node];
        const base = coefStart[node] + (((1 << U) - 1) & ~missed) * U;
        const fs = featureStart[node];
        for (let k = 0; k < U; k++) out[offset + features[fs + k]] += coef[base + k];
        continue;
      }
      const toLeft = goesLeft(node);
      const bit = 1 << unique[node];
      stackNode[++top] = l;
      stackMissed[top] = toLeft ? missed : missed | bit;
      stackNode[++top] = right[node];
      stackMissed[top] = toLeft ? missed | bit : missed;
    }
  };
}

const SHAP_TABLES = new WeakMap<Forest, ShapTables>();

/** The forest's TreeSHAP tables, built on first use (within SHAP_TABLE_MAX_VALUES) and kept with the forest. */
function shapTablesOf(forest: Forest): ShapTables {
  let tables = SHAP_TABLES.get(forest);
  if (tables === undefined) SHAP_TABLES.set(forest, (tables = buildShapTables(forest, SHAP_TABLE_MAX_VALUES)));
  return tables;
}

/**
 * Builds the forest's TreeSHAP tables now (≈ 0.1–0.3 s for 100 trees of depth 6) rather than in the first treeShap
 * call: for a server that explains one row per request. `maxTableValues` (default SHAP_TABLE_MAX_VALUES, 8 bytes a
 * value) bounds the memory the kept tables take; the trees past it cost more a call (see treeShap). Tables already
 * built within the same budget are kept.
 */
export function prepareTreeShap(forest: Forest, opts: { maxTableValues?: number } = {}): void {
  const maxValues = opts.maxTableValues ?? SHAP_TABLE_MAX_VALUES;
  if (!(maxValues >= 0)) throw new XGBoostInputError(`prepareTreeShap: maxTableValues must be a number ≥ 0, got ${maxValues}`);
  if (SHAP_TABLES.get(forest)?.maxValues !== maxValues) SHAP_TABLES.set(forest, buildShapTables(forest, maxValues));
}

/**
 * How treeShap reads the forest's trees: `kept`, the trees whose tables it keeps; `routed`, those of them read by
 * route (RouteTable; the other kept ones are walked); `temporaryFrom`, for each other tree, the rows from which a call
 * reads it from tables built for the call rather than by the recursion (Infinity: always the recursion).
 */
export function treeShapForms(forest: Forest): { trees: number; kept: number; routed: number; temporaryFrom: number[] } {
  const tables = shapTablesOf(forest);
  return {
    trees: forest.numTrees, kept: tables.kept.reduce((n, k) => n + k, 0), routed: tables.routes.filter((r) => r !== null).length,
    temporaryFrom: [...tables.temporaryFrom].filter((_, t) => !tables.kept[t]),
  };
}

/**
 * Path-dependent TreeSHAP, the same values as recursiveTreeShap (XGBoost's algorithm; they differ by summation
 * order, ~1e-15 relative) from per-leaf tables built once per forest: O(nRows × nTrees × (nodes + L × D)) instead of
 * O(nRows × nTrees × L × D²); measured 7–8× faster at depth 6 and 8 (100 trees). A tree with a RouteTable is read
 * from it instead, O(splits + the blocks' bits and features) a row: the 10M-event demo's lead model (789 trees of
 * depth 3) over its 95,546 open leads 36.8 → 14.6 s in one thread; 100 trees of depth 6, 2.0–2.2× the walk. A tree
 * whose tables are not kept (past the budget: deep forests) is walked on tables built for the call when the call's
 * rows pay for building them (treeCosts' steps: from 89–257 rows a tree at depth 8 on 30 columns, 350–843 at depth
 * 12 on 20), else, or when its own tables would pass SHAP_TABLE_MAX_VALUES, read by the recursion: 50,000 rows
 * through 100 trees of depth 8 (30 columns), recursed whole before, 436 → 69.9 s.
 * @returns Float64Array [nRows × (nCols + 1)], row-major, bias in the last column.
 */
export function treeShap(forest: Forest, X: Float32Array, nRows: number, nCols: number, opts: PredictOptions = {}): Float64Array {
  const tables = shapTablesOf(forest);
  const { T, m1, out } = shapOutput(forest, X, nRows, nCols, opts);
  const F = nCols;
  const { feature, threshold, defaultLeft } = forest;
  let rowOff = 0;
  const goesLeft = (node: number): boolean => {
    const x = X[rowOff + feature[node]];
    return x !== x || (m1 && x === -1) ? defaultLeft[node] === 1 : x < threshold[node];
  };
  const walk = treeWalker(forest, tables);
  let recurseTree: ((t: number, row: number) => void) | undefined;
  // A row's direction at each split of the tree being read (1: right), for its blocks' routes.
  const directions = new Uint8Array(forest.left.length);
  // Tree by tree over all rows: one tree's tables stay in cache while the rows pass.
  for (let t = 0; t < T; t++) {
    const routes = tables.routes[t];
    if (routes === null) {
      // A tree not kept, in a call of fewer rows than its tables would cost (temporaryFrom: 0 for a kept one).
      if (nRows < tables.temporaryFrom[t]!) {
        recurseTree ??= recursiveTree(forest, X, nCols, m1, out);
        for (let row = 0; row < nRows; row++) recurseTree(t, row);
        continue;
      }
      const walkTree = tables.kept[t] ? walk : treeWalker(forest, temporaryTables(forest, tables, t));
      for (let row = 0; row < nRows; row++) {
        rowOff = row * nCols;
        walkTree(forest.treeStart[t], 0, goesLeft, out, row * (F + 1));
      }
      continue;
    }
    const { splits, blocks } = routes;
    const K = splits.length;
    if (blocks.length === 1) {
      // The whole tree one block (at most 8 splits): its route straight from the comparisons.
      const { nodes, features, values } = blocks[0]!;
      const U = features.length;
      for (let row = 0; row < nRows; row++) {
        rowOff = row * nCols;
        let route = 0;
        for (let j = 0; j < nodes.length; j++) if (!goesLeft(nodes[j]!)) route |= 1 << j;
        const phiOff = row * (F + 1);
        const base = route * U;
        for (let k = 0; k < U; k++) out[phiOff + features[k]!] += values[base + k]!;
      }
      continue;
    }
    for (let row = 0; row < nRows; row++) {
      rowOff = row * nCols;
      for (let i = 0; i < K; i++) directions[i] = goesLeft(splits[i]!) ? 0 : 1;
      const phiOff = row * (F + 1);
      for (let b = 0; b < blocks.length; b++) {
        const { bits, features, values } = blocks[b]!;
        let route = 0;
        for (let j = 0; j < bits.length; j++) route |= directions[bits[j]!]! << j;
        const U = features.length;
        const base = route * U;
        for (let k = 0; k < U; k++) out[phiOff + features[k]!] += values[base + k]!;
      }
    }
  }
  return out;
}
