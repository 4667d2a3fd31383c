/**
 * Sequence conversion models over a journey's ordered touches (channel, time-gap bucket), trained on unique
 * weighted sequences: each sequence stands for `positives` converting and `negatives` non-converting journeys.
 * Hand-written forward pass, backpropagation and Adam (no dependency; checked against central-difference
 * gradients in test/models-sequence.test.ts). Pure functions, no I/O.
 *
 * Two kinds, both ending in p = σ(logit):
 * - lstm: an LSTM (Hochreiter & Schmidhuber 1997; forget-gate form of Gers et al. 2000) over the touches, oldest
 *   first; a touch enters as the sum of a channel embedding and a gap embedding, which for one-hot inputs is the
 *   input weight matrix's columns (z_t = Wc[c_t] + Wg[g_t] + b + Uᵀh_{t−1}; gates i, f, o = σ, candidate g = tanh;
 *   c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh c_t); logit = v·h_T + b0.
 * - attention: additive attention pooling (Bahdanau et al. 2015 with a learned query; Yang et al. 2016,
 *   "Hierarchical attention networks"): u_t = tanh(Ec[c_t] + Eg[g_t] + Ep[position from the end]),
 *   α = softmax(a·u_t), context = Σ α_t u_t, r = tanh(Mᵀcontext + bm), logit = v·r + b0. The position embedding
 *   makes the pooled context depend on order; α is the attention-weight view of each touch.
 *
 * User covariates (user type, device, region as one-hot columns, `covariates` of them) enter both kinds as a
 * linear term of the logit: logit += Σ_k w_k·x_k — a per-user baseline, so the touches' part is not asked to
 * explain who the user is, and a counterfactual that removes touches keeps the user as they were.
 *
 * Loss: −Σ_i (P_i log p_i + N_i log(1 − p_i)) / Σ_i (P_i + N_i) over a batch (weighted log loss).
 */
import { ModelInputError, mulberry32, shuffleInPlace } from "./numeric.ts";

export type SequenceModelKind = "lstm" | "attention";

/** Unique weighted sequences, touches oldest first, row-major [count × maxLength] (−1 past a sequence's end). */
export interface SequenceData {
  channels: Int32Array;
  gaps: Int32Array;
  lengths: Int32Array;
  /** Converting and non-converting journeys of each sequence. */
  positives: Float64Array;
  negatives: Float64Array;
  count: number;
  maxLength: number;
  /** Covariate columns of each sequence, row-major [count × covariateSlots] (−1: none in that slot). */
  covariates: Int32Array;
  covariateSlots: number;
}

interface SequenceModelShape {
  kind: SequenceModelKind;
  /** Channel vocabulary size (indices 0 … channels − 1). */
  channels: number;
  /** Gap buckets (indices 0 … gapBuckets − 1). */
  gapBuckets: number;
  /** Longest sequence the model reads; longer ones keep their last maxLength touches. */
  maxLength: number;
  hidden: number;
  /** One-hot user covariate columns (indices 0 … covariates − 1); 0 or absent: none. */
  covariates?: number;
}

export interface SequenceModel extends SequenceModelShape {
  params: Float64Array;
}

/** Offsets of the parameter blocks in `params`. */
interface Layout {
  size: number;
  [block: string]: number;
}

function layoutOf(s: SequenceModelShape): Layout {
  const H = s.hidden;
  const blocks: Array<[string, number]> = s.kind === "lstm"
    ? [["Wc", s.channels * 4 * H], ["Wg", s.gapBuckets * 4 * H], ["U", H * 4 * H], ["b", 4 * H], ["v", H], ["b0", 1]]
    : [["Ec", s.channels * H], ["Eg", s.gapBuckets * H], ["Ep", s.maxLength * H], ["a", H], ["M", H * H], ["bm", H], ["v", H], ["b0", 1]];
  // Covariate weights last, so a model without covariates keeps the layout it always had.
  blocks.push(["w", s.covariates ?? 0]);
  const out: Layout = { size: 0 };
  for (const [name, n] of blocks) {
    out[name] = out.size;
    out.size += n;
  }
  return out;
}

/**
 * A model with seeded uniform(±1/√H) weights; LSTM forget-gate biases start at 1 (Jozefowicz et al. 2015),
 * the output bias at the logit of `baseRate` when given.
 */
export function initSequenceModel(shape: SequenceModelShape, seed: number, baseRate?: number): SequenceModel {
  for (const [k, v] of [["channels", shape.channels], ["gapBuckets", shape.gapBuckets], ["maxLength", shape.maxLength], ["hidden", shape.hidden]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ModelInputError(`sequence model: ${k} must be a positive integer, got ${v}`);
  }
  const L = layoutOf(shape);
  const params = new Float64Array(L.size);
  const rand = mulberry32(seed >>> 0);
  const r = 1 / Math.sqrt(shape.hidden);
  for (let i = 0; i < L.size; i++) params[i] = (2 * rand() - 1) * r;
  const H = shape.hidden;
  if (shape.kind === "lstm") {
    params.fill(0, L.b!, L.b! + 4 * H);
    params.fill(1, L.b! + H, L.b! + 2 * H);
  } else {
    params.fill(0, L.bm!, L.bm! + H);
  }
  params.fill(0, L.w!, L.size);
  params[L.b0!] = baseRate !== undefined && baseRate > 0 && baseRate < 1 ? Math.log(baseRate / (1 - baseRate)) : 0;
  return { ...shape, params };
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Work arrays for one sequence's forward and backward pass (reused across sequences). */
interface Scratch {
  /** lstm: gates [T × 4H] (i, f, o, g), cells c [(T+1) × H] (row 0 = c_{−1} = 0), tanh c [T × H], h [(T+1) × H]. */
  gates: Float64Array;
  cell: Float64Array;
  tanhCell: Float64Array;
  h: Float64Array;
  /** attention: u [T × H], α [T], context [H], r [H]. */
  u: Float64Array;
  alpha: Float64Array;
  ctx: Float64Array;
  r: Float64Array;
  dz: Float64Array;
  dh: Float64Array;
  dc: Float64Array;
  tmp: Float64Array;
}

function scratchFor(m: SequenceModelShape): Scratch {
  const T = m.maxLength;
  const H = m.hidden;
  return {
    gates: new Float64Array(T * 4 * H), cell: new Float64Array((T + 1) * H), tanhCell: new Float64Array(T * H), h: new Float64Array((T + 1) * H),
    u: new Float64Array(T * H), alpha: new Float64Array(T), ctx: new Float64Array(H), r: new Float64Array(H),
    dz: new Float64Array(4 * H), dh: new Float64Array(Math.max(H, T)), dc: new Float64Array(H), tmp: new Float64Array(Math.max(4 * H, T)),
  };
}

/** First touch read of sequence i (the last maxLength touches) and how many. */
function window(data: SequenceData, i: number, maxLength: number): { start: number; T: number } {
  const len = data.lengths[i]!;
  const T = Math.min(len, maxLength);
  return { start: i * data.maxLength + (len - T), T };
}

function checkTouch(m: SequenceModelShape, c: number, g: number, i: number): void {
  if (!(c >= 0 && c < m.channels)) throw new ModelInputError(`sequence ${i + 1}: channel index ${c} is outside the model's ${m.channels} channels`);
  if (!(g >= 0 && g < m.gapBuckets)) throw new ModelInputError(`sequence ${i + 1}: gap bucket ${g} is outside the model's ${m.gapBuckets} buckets`);
}

/** Σ w_k over sequence i's covariate columns. */
function covariateTerm(m: SequenceModel, L: Layout, data: SequenceData, i: number): number {
  let z = 0;
  for (let k = 0; k < data.covariateSlots; k++) {
    const col = data.covariates[i * data.covariateSlots + k]!;
    if (col < 0) continue;
    if (!(col < (m.covariates ?? 0))) throw new ModelInputError(`sequence ${i + 1}: covariate column ${col} is outside the model's ${m.covariates ?? 0} covariate columns`);
    z += m.params[L.w! + col]!;
  }
  return z;
}

/** Logit of sequence i; leaves the activations in `s` for {@link backward}. O(T·H²). */
function forward(m: SequenceModel, L: Layout, data: SequenceData, i: number, s: Scratch): number {
  const H = m.hidden;
  const P = m.params;
  const { start, T } = window(data, i, m.maxLength);
  if (T === 0) throw new ModelInputError(`sequence ${i + 1} has no touches`);
  if (m.kind === "lstm") {
    const H4 = 4 * H;
    const Wc = L.Wc!, Wg = L.Wg!, U = L.U!, bias = L.b!;
    const hs = s.h, cs = s.cell, tcs = s.tanhCell, gates = s.gates;
    hs.fill(0, 0, H);
    cs.fill(0, 0, H);
    for (let t = 0; t < T; t++) {
      const c = data.channels[start + t]!;
      const g = data.gaps[start + t]!;
      checkTouch(m, c, g, i);
      const zo = t * H4;
      const wc = Wc + c * H4;
      const wg = Wg + g * H4;
      for (let k = 0; k < H4; k++) gates[zo + k] = P[wc + k]! + P[wg + k]! + P[bias + k]!;
      const hPrev = t * H;
      for (let j = 0; j < H; j++) {
        const hj = hs[hPrev + j]!;
        if (hj === 0) continue;
        const row = U + j * H4;
        for (let k = 0; k < H4; k++) gates[zo + k] += hj * P[row + k]!;
      }
      for (let k = zo; k < zo + 3 * H; k++) gates[k] = sigmoid(gates[k]!);
      for (let k = zo + 3 * H; k < zo + H4; k++) gates[k] = Math.tanh(gates[k]!);
      for (let j = 0; j < H; j++) {
        const cNew = gates[zo + H + j]! * cs[t * H + j]! + gates[zo + j]! * gates[zo + 3 * H + j]!;
        cs[(t + 1) * H + j] = cNew;
        const tc = Math.tanh(cNew);
        tcs[t * H + j] = tc;
        hs[(t + 1) * H + j] = gates[zo + 2 * H + j]! * tc;
      }
    }
    let logit = P[L.b0!]! + covariateTerm(m, L, data, i);
    for (let j = 0; j < H; j++) logit += P[L.v! + j]! * hs[T * H + j]!;
    return logit;
  }
  let maxScore = -Infinity;
  for (let t = 0; t < T; t++) {
    const c = data.channels[start + t]!;
    const g = data.gaps[start + t]!;
    checkTouch(m, c, g, i);
    const ec = L.Ec! + c * H;
    const eg = L.Eg! + g * H;
    const ep = L.Ep! + (T - 1 - t) * H;
    let score = 0;
    for (let j = 0; j < H; j++) {
      const u = Math.tanh(P[ec + j]! + P[eg + j]! + P[ep + j]!);
      s.u[t * H + j] = u;
      score += P[L.a! + j]! * u;
    }
    s.alpha[t] = score;
    if (score > maxScore) maxScore = score;
  }
  let z = 0;
  for (let t = 0; t < T; t++) {
    s.alpha[t] = Math.exp(s.alpha[t]! - maxScore);
    z += s.alpha[t]!;
  }
  s.ctx.fill(0);
  for (let t = 0; t < T; t++) {
    s.alpha[t] = s.alpha[t]! / z;
    for (let j = 0; j < H; j++) s.ctx[j] += s.alpha[t]! * s.u[t * H + j]!;
  }
  let logit = P[L.b0!]! + covariateTerm(m, L, data, i);
  for (let k = 0; k < H; k++) {
    let pre = P[L.bm! + k]!;
    for (let j = 0; j < H; j++) pre += s.ctx[j]! * P[L.M! + j * H + k]!;
    s.r[k] = Math.tanh(pre);
    logit += P[L.v! + k]! * s.r[k]!;
  }
  return logit;
}

/** Add ∂(dLogit · logit)/∂params of sequence i to `grad` (after {@link forward} on the same i). */
function backward(m: SequenceModel, L: Layout, data: SequenceData, i: number, s: Scratch, dLogit: number, grad: Float64Array): void {
  const H = m.hidden;
  const P = m.params;
  const { start, T } = window(data, i, m.maxLength);
  grad[L.b0!] += dLogit;
  for (let k = 0; k < data.covariateSlots; k++) {
    const col = data.covariates[i * data.covariateSlots + k]!;
    if (col >= 0) grad[L.w! + col] += dLogit;
  }
  if (m.kind === "lstm") {
    const H4 = 4 * H;
    const Wc = L.Wc!, Wg = L.Wg!, U = L.U!, bias = L.b!;
    const hs = s.h, cs = s.cell, tcs = s.tanhCell, gates = s.gates;
    const dh = s.dh;
    const dc = s.dc;
    const dz = s.dz;
    for (let j = 0; j < H; j++) {
      grad[L.v! + j] += dLogit * hs[T * H + j]!;
      dh[j] = dLogit * P[L.v! + j]!;
      dc[j] = 0;
    }
    for (let t = T - 1; t >= 0; t--) {
      const zo = t * H4;
      for (let j = 0; j < H; j++) {
        const ig = gates[zo + j]!;
        const fg = gates[zo + H + j]!;
        const og = gates[zo + 2 * H + j]!;
        const gg = gates[zo + 3 * H + j]!;
        const tc = tcs[t * H + j]!;
        const dcj = dc[j]! + dh[j]! * og * (1 - tc * tc);
        dz[j] = dcj * gg * ig * (1 - ig);
        dz[H + j] = dcj * cs[t * H + j]! * fg * (1 - fg);
        dz[2 * H + j] = dh[j]! * tc * og * (1 - og);
        dz[3 * H + j] = dcj * ig * (1 - gg * gg);
        dc[j] = dcj * fg;
      }
      const c = data.channels[start + t]!;
      const g = data.gaps[start + t]!;
      const wc = Wc + c * H4;
      const wg = Wg + g * H4;
      for (let k = 0; k < H4; k++) {
        const d = dz[k]!;
        grad[wc + k] += d;
        grad[wg + k] += d;
        grad[bias + k] += d;
      }
      const hPrev = t * H;
      for (let j = 0; j < H; j++) {
        const hj = hs[hPrev + j]!;
        const row = U + j * H4;
        let back = 0;
        if (t > 0) {
          for (let k = 0; k < H4; k++) {
            grad[row + k] += hj * dz[k]!;
            back += P[row + k]! * dz[k]!;
          }
        }
        dh[j] = back;
      }
    }
    return;
  }
  // Attention: dr → dM, dbm, dcontext → dα, du → da, dE.
  const dctx = s.tmp.subarray(0, H);
  dctx.fill(0);
  for (let k = 0; k < H; k++) {
    grad[L.v! + k] += dLogit * s.r[k]!;
    const dpre = dLogit * P[L.v! + k]! * (1 - s.r[k]! * s.r[k]!);
    grad[L.bm! + k] += dpre;
    for (let j = 0; j < H; j++) {
      grad[L.M! + j * H + k] += s.ctx[j]! * dpre;
      dctx[j] += P[L.M! + j * H + k]! * dpre;
    }
  }
  const dAlpha = s.dh;
  let mean = 0;
  for (let t = 0; t < T; t++) {
    let d = 0;
    for (let j = 0; j < H; j++) d += dctx[j]! * s.u[t * H + j]!;
    dAlpha[t] = d;
    mean += s.alpha[t]! * d;
  }
  for (let t = 0; t < T; t++) {
    const dScore = s.alpha[t]! * (dAlpha[t]! - mean);
    const c = data.channels[start + t]!;
    const g = data.gaps[start + t]!;
    const ec = L.Ec! + c * H;
    const eg = L.Eg! + g * H;
    const ep = L.Ep! + (T - 1 - t) * H;
    for (let j = 0; j < H; j++) {
      const u = s.u[t * H + j]!;
      grad[L.a! + j] += dScore * u;
      const du = s.alpha[t]! * dctx[j]! + dScore * P[L.a! + j]!;
      const dpre = du * (1 - u * u);
      grad[ec + j] += dpre;
      grad[eg + j] += dpre;
      grad[ep + j] += dpre;
    }
  }
}

/** Probabilities of every sequence of `data`. O(count · T · H²). */
export function predictSequences(m: SequenceModel, data: SequenceData): Float64Array {
  const L = layoutOf(m);
  const s = scratchFor(m);
  const out = new Float64Array(data.count);
  for (let i = 0; i < data.count; i++) out[i] = sigmoid(forward(m, L, data, i, s));
  return out;
}

/**
 * Attention weights α_t of each touch of sequence i (attention models only; the touches read: the last
 * maxLength). They add up to 1. A view of where the model looks, not causal credit.
 */
export function attentionWeights(m: SequenceModel, data: SequenceData, i: number): Float64Array {
  if (m.kind !== "attention") throw new ModelInputError(`attention weights: the model is ${m.kind}, not attention`);
  const s = scratchFor(m);
  forward(m, layoutOf(m), data, i, s);
  return s.alpha.slice(0, window(data, i, m.maxLength).T);
}

/**
 * Weighted log loss of `indices` (all sequences when omitted) and its gradient w.r.t. the parameters
 * (divided by the indices' journeys). `l2` adds ½λ‖θ‖² / journeys (λ per journey-weighted loss unit).
 */
export function sequenceLossAndGradient(m: SequenceModel, data: SequenceData, indices?: ArrayLike<number>, l2 = 0): { loss: number; gradient: Float64Array } {
  const L = layoutOf(m);
  const s = scratchFor(m);
  const grad = new Float64Array(m.params.length);
  let loss = 0;
  let weight = 0;
  const n = indices ? indices.length : data.count;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k]! : k;
    const pos = data.positives[i]!;
    const neg = data.negatives[i]!;
    if (pos + neg <= 0) continue;
    const logit = forward(m, L, data, i, s);
    // log σ(x) = −softplus(−x), log(1 − σ(x)) = −softplus(x), stable for large |x|.
    const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    loss += pos * softplus(-logit) + neg * softplus(logit);
    weight += pos + neg;
    backward(m, L, data, i, s, (pos + neg) * sigmoid(logit) - pos, grad);
  }
  if (weight > 0) {
    for (let j = 0; j < grad.length; j++) grad[j] = grad[j]! / weight;
    loss /= weight;
  }
  if (l2 > 0) {
    for (let j = 0; j < grad.length; j++) {
      loss += (0.5 * l2 * m.params[j]! * m.params[j]!);
      grad[j] += l2 * m.params[j]!;
    }
  }
  return { loss, gradient: grad };
}

interface SequenceTrainOptions {
  kind: SequenceModelKind;
  hidden: number;
  /** Adam step size. */
  learningRate: number;
  /** Sequences per Adam step. */
  batchSize: number;
  maxEpochs: number;
  /** Stop after this many epochs without a lower validation log loss; the best epoch's parameters are kept. */
  patience: number;
  seed: number;
  /** ½λ‖θ‖² added to the per-journey loss (0: early stopping alone regularises). */
  l2?: number;
  channels: number;
  gapBuckets: number;
  /** One-hot covariate columns the data's covariate indices refer to (default 0). */
  covariates?: number;
}

interface SequenceFit {
  model: SequenceModel;
  /** Epochs run and the best one (1-based); validation weighted log loss per epoch. */
  epochs: number;
  bestEpoch: number;
  validationLoss: number[];
  fitSeconds: number;
}

/**
 * Train with Adam (Kingma & Ba 2015; β1 0.9, β2 0.999, ε 1e-8) on seeded shuffled minibatches of unique
 * sequences, each weighted by its journeys; after each epoch the validation window's weighted log loss is
 * measured and training stops `patience` epochs after its minimum (early stopping), returning those parameters.
 * Deterministic for the same data and options. Complexity: epochs · Σ_i T_i · H² (×3 for the backward pass).
 */
export function fitSequenceModel(train: SequenceData, validation: SequenceData, opts: SequenceTrainOptions): SequenceFit {
  const t0 = performance.now();
  if (train.count === 0) throw new ModelInputError("sequence model: no training sequences");
  for (const [k, v] of [["batchSize", opts.batchSize], ["maxEpochs", opts.maxEpochs], ["patience", opts.patience]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ModelInputError(`sequence model: ${k} must be a positive integer, got ${v}`);
  }
  if (!(opts.learningRate > 0)) throw new ModelInputError(`sequence model: learningRate must be > 0, got ${opts.learningRate}`);
  let pos = 0;
  let all = 0;
  let longest = 1;
  for (let i = 0; i < train.count; i++) {
    pos += train.positives[i]!;
    all += train.positives[i]! + train.negatives[i]!;
    longest = Math.max(longest, train.lengths[i]!);
  }
  for (let i = 0; i < validation.count; i++) longest = Math.max(longest, validation.lengths[i]!);
  const model = initSequenceModel({ kind: opts.kind, channels: opts.channels, gapBuckets: opts.gapBuckets, maxLength: longest, hidden: opts.hidden, covariates: opts.covariates ?? 0 }, opts.seed, all > 0 ? pos / all : undefined);
  const nP = model.params.length;
  const mom = new Float64Array(nP);
  const vel = new Float64Array(nP);
  const rand = mulberry32((opts.seed * 7919 + 17) >>> 0);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  let step = 0;
  let best = { loss: Infinity, epoch: 0, params: model.params.slice() };
  const losses: number[] = [];
  const validationLoss = (): number => (validation.count > 0 ? sequenceLossAndGradient(model, validation).loss : 0);
  let epoch = 0;
  while (epoch < opts.maxEpochs) {
    epoch++;
    shuffleInPlace(order, rand);
    for (let b = 0; b < train.count; b += opts.batchSize) {
      const batch = order.subarray(b, Math.min(train.count, b + opts.batchSize));
      const { gradient } = sequenceLossAndGradient(model, train, batch, opts.l2 ?? 0);
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      for (let j = 0; j < nP; j++) {
        const g = gradient[j]!;
        mom[j] = 0.9 * mom[j]! + 0.1 * g;
        vel[j] = 0.999 * vel[j]! + 0.001 * g * g;
        model.params[j] -= (opts.learningRate * (mom[j]! / c1)) / (Math.sqrt(vel[j]! / c2) + 1e-8);
      }
    }
    const loss = validationLoss();
    losses.push(loss);
    if (loss < best.loss - 1e-7) best = { loss, epoch, params: model.params.slice() };
    else if (epoch - best.epoch >= opts.patience) break;
  }
  model.params.set(best.params);
  return { model, epochs: epoch, bestEpoch: best.epoch, validationLoss: losses, fitSeconds: (performance.now() - t0) / 1000 };
}

/** Tagged JSON of a fitted model (the run's artifact) and back. */
export function sequenceModelToJSON(m: SequenceModel): { type: "sequence_model"; kind: SequenceModelKind; channels: number; gapBuckets: number; maxLength: number; hidden: number; covariates: number; params: number[] } {
  return { type: "sequence_model", kind: m.kind, channels: m.channels, gapBuckets: m.gapBuckets, maxLength: m.maxLength, hidden: m.hidden, covariates: m.covariates ?? 0, params: [...m.params] };
}

export function loadSequenceModel(json: unknown): SequenceModel {
  const j = json as ReturnType<typeof sequenceModelToJSON>;
  if (!j || j.type !== "sequence_model" || (j.kind !== "lstm" && j.kind !== "attention")) throw new ModelInputError("not a sequence_model JSON");
  const m: SequenceModel = { kind: j.kind, channels: j.channels, gapBuckets: j.gapBuckets, maxLength: j.maxLength, hidden: j.hidden, covariates: j.covariates ?? 0, params: Float64Array.from(j.params) };
  if (m.params.length !== layoutOf(m).size) throw new ModelInputError(`sequence_model JSON: ${m.params.length} parameters, the shape needs ${layoutOf(m).size}`);
  return m;
}

/** Sequences from lists of (channel, gap) touches, oldest first, with their journeys (tests and the job). */
export function sequenceData(seqs: ReadonlyArray<{ touches: ReadonlyArray<readonly [number, number]>; positives: number; negatives: number; covariates?: readonly number[] }>): SequenceData {
  const maxLength = Math.max(1, ...seqs.map((s) => s.touches.length));
  const covariateSlots = seqs.reduce((m, s) => Math.max(m, s.covariates?.length ?? 0), 0);
  const covariates = new Int32Array(seqs.length * covariateSlots).fill(-1);
  seqs.forEach((s, i) => s.covariates?.forEach((c, k) => (covariates[i * covariateSlots + k] = c)));
  const n = seqs.length;
  const channels = new Int32Array(n * maxLength).fill(-1);
  const gaps = new Int32Array(n * maxLength).fill(-1);
  const lengths = new Int32Array(n);
  const positives = new Float64Array(n);
  const negatives = new Float64Array(n);
  seqs.forEach((s, i) => {
    if (!(s.positives >= 0) || !(s.negatives >= 0)) throw new ModelInputError(`sequence ${i + 1}: journeys must be ≥ 0, got ${s.positives} converting and ${s.negatives} not`);
    lengths[i] = s.touches.length;
    positives[i] = s.positives;
    negatives[i] = s.negatives;
    s.touches.forEach(([c, g], t) => {
      channels[i * maxLength + t] = c;
      gaps[i * maxLength + t] = g;
    });
  });
  return { channels, gaps, lengths, positives, negatives, count: n, maxLength, covariates, covariateSlots };
}
