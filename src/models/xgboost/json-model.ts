/**
 * Native XGBoost 1.x JSON model → XGBoost 0.7 legacy binary (the format `save_model` of the WASM build
 * writes and forest.ts parses). This keeps one artifact format for both backends: the bytes parse in
 * TS, load in the WASM build (predict_one) and load in native 1.7 (XGBoosterLoadModelFromBuffer).
 * Layout written (see forest.ts): LearnerModelParam (base_score as a margin, num_class 0), objective,
 * booster, GBTreeModelParam (num_roots 1, num_output_group 1), per tree TreeParam + Node (parent with
 * the is-left bit 31, children, sindex with default-left bit 31, split_cond | leaf value) + NodeStat
 * (loss_chg, sum_hess, base_weight, leaf_child_cnt), tree_info zeros.
 */
import { XGBoostModelFormatError } from "./errors.ts";

interface JsonTree {
  tree_param: { num_nodes: string; num_feature?: string; size_leaf_vector?: string };
  left_children: number[];
  right_children: number[];
  parents: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: Array<number | boolean>;
  loss_changes: number[];
  sum_hessian: number[];
  base_weights: number[];
  split_type?: number[];
}

interface JsonModel {
  learner: {
    learner_model_param: { base_score: string; num_feature: string; num_class?: string; num_target?: string };
    objective: { name: string };
    gradient_booster: { name: string; model: { trees: JsonTree[]; tree_info: number[] } };
  };
}

const bad = (why: string): never => {
  throw new XGBoostModelFormatError(`native XGBoost JSON model: ${why}`);
};

/**
 * Converts a 1.x JSON model (binary:logistic, gbtree, numeric splits, one output) to 0.7 binary bytes.
 * base_score in JSON is a probability; the 0.7 header stores its logit. O(nodes).
 * @throws XGBoostModelFormatError for anything else (multi-class, categorical splits, dart, ...).
 */
export function legacyBinaryFromJson(json: string | object): Uint8Array {
  const m = (typeof json === "string" ? JSON.parse(json) : json) as JsonModel;
  const L = m?.learner;
  if (!L) return bad("no learner");
  if (L.gradient_booster?.name !== "gbtree") bad(`booster ${L.gradient_booster?.name} is not gbtree`);
  const objective = L.objective?.name;
  if (objective !== "binary:logistic") bad(`objective ${objective} is not binary:logistic`);
  const numFeature = Number(L.learner_model_param.num_feature);
  if (!(Number(L.learner_model_param.num_class ?? 0) <= 1) || Number(L.learner_model_param.num_target ?? 1) !== 1) bad("multi-output models are not supported");
  const p = Number(L.learner_model_param.base_score);
  if (!(p > 0 && p < 1)) bad(`base_score ${L.learner_model_param.base_score} is not a probability`);
  const baseMargin = Math.log(p / (1 - p));
  const trees = L.gradient_booster.model.trees;
  if (L.gradient_booster.model.tree_info.some((g) => g !== 0)) bad("tree_info has output groups other than 0");

  const enc = new TextEncoder();
  const obj = enc.encode(objective);
  const booster = enc.encode("gbtree");
  let size = 136 + 8 + obj.length + 8 + booster.length + 160 + 4 * trees.length;
  for (const t of trees) size += 148 + 36 * Number(t.tree_param.num_nodes);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let pos = 0;
  const i32 = (x: number): void => {
    v.setInt32(pos, x, true);
    pos += 4;
  };
  const u32 = (x: number): void => {
    v.setUint32(pos, x >>> 0, true);
    pos += 4;
  };
  const f32 = (x: number): void => {
    v.setFloat32(pos, x, true);
    pos += 4;
  };
  const str = (b: Uint8Array): void => {
    v.setBigUint64(pos, BigInt(b.length), true);
    pos += 8;
    out.set(b, pos);
    pos += b.length;
  };
  // LearnerModelParam
  f32(baseMargin);
  u32(numFeature);
  i32(0); // num_class
  i32(0); // contain_extra_attrs
  i32(0); // contain_eval_metrics
  pos += 29 * 4;
  str(obj);
  str(booster);
  // GBTreeModelParam
  i32(trees.length);
  i32(1); // num_roots
  i32(numFeature);
  i32(0); // pad
  pos += 8; // num_pbuffer = 0
  i32(1); // num_output_group
  i32(0); // size_leaf_vector
  pos += 32 * 4;
  trees.forEach((t, ti) => {
    const n = Number(t.tree_param.num_nodes);
    const arrays = [t.left_children, t.right_children, t.parents, t.split_indices, t.split_conditions, t.default_left, t.loss_changes, t.sum_hessian, t.base_weights];
    if (!(n >= 1) || arrays.some((a) => !Array.isArray(a) || a.length !== n)) bad(`tree ${ti} arrays do not all have num_nodes = ${n} entries`);
    if (Number(t.tree_param.size_leaf_vector ?? 0) > 1) bad(`tree ${ti} has leaf vectors`);
    if (t.split_type?.some((s) => s !== 0)) bad(`tree ${ti} has categorical splits`);
    // TreeParam
    i32(1);
    i32(n);
    i32(0); // num_deleted
    i32(0); // max_depth
    i32(numFeature);
    i32(0); // size_leaf_vector
    pos += 31 * 4;
    const isLeft = new Uint8Array(n);
    const leafChildren = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const l = t.left_children[i];
      if (l !== -1) {
        isLeft[l] = 1;
        if (t.left_children[l] === -1) leafChildren[i]++;
        if (t.left_children[t.right_children[i]] === -1) leafChildren[i]++;
      }
    }
    for (let i = 0; i < n; i++) {
      const l = t.left_children[i];
      const parent = t.parents[i];
      // 1.x marks the root's parent as 2147483647; 0.7 as -1.
      u32(i === 0 || parent === 2147483647 ? 0xffffffff : (parent | (isLeft[i] ? 0x80000000 : 0)) >>> 0);
      i32(l);
      i32(t.right_children[i]);
      const dl = t.default_left[i] ? 1 : 0;
      u32(l === -1 ? 0 : ((t.split_indices[i] & 0x7fffffff) | (dl << 31)) >>> 0);
      f32(t.split_conditions[i]);
    }
    for (let i = 0; i < n; i++) {
      f32(t.loss_changes[i]);
      f32(t.sum_hessian[i]);
      f32(t.base_weights[i]);
      i32(leafChildren[i]);
    }
  });
  pos += 4 * trees.length; // tree_info zeros
  if (pos !== size) bad(`internal size mismatch (${pos} vs ${size})`);
  return out;
}
