/** Options of {@link Adam}; every field states its default. */
export interface AdamOptions {
  /** Step size. Default 0.005. */
  readonly learningRate?: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Gradients are rescaled to at most this L2 norm. Default 1. */
  readonly clipNorm?: number;
}

/** Serializable state of {@link Adam}. */
export interface AdamState {
  readonly t: number;
  readonly m: number[];
  readonly v: number[];
}

/** The Adam optimizer (Kingma & Ba) over a flat parameter vector, with gradient-norm clipping. */
export class Adam {
  private readonly lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly clip: number;
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;

  constructor(size: number, opts: AdamOptions = {}) {
    this.lr = opts.learningRate ?? 0.005;
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    this.eps = opts.epsilon ?? 1e-8;
    this.clip = opts.clipNorm ?? 1;
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Applies one update to `params` from `grad` (which may be rescaled in place). */
  step(params: Float64Array, grad: Float64Array): void {
    let norm = 0;
    for (const g of grad) norm += g * g;
    norm = Math.sqrt(norm);
    if (norm > this.clip) {
      const s = this.clip / norm;
      for (let k = 0; k < grad.length; k++) grad[k] = (grad[k] ?? 0) * s;
    }
    this.t++;
    const c1 = 1 - Math.pow(this.b1, this.t);
    const c2 = 1 - Math.pow(this.b2, this.t);
    const { m, v } = this;
    for (let k = 0; k < params.length; k++) {
      const g = grad[k] ?? 0;
      const mk = this.b1 * (m[k] ?? 0) + (1 - this.b1) * g;
      const vk = this.b2 * (v[k] ?? 0) + (1 - this.b2) * g * g;
      m[k] = mk;
      v[k] = vk;
      params[k] = (params[k] ?? 0) - (this.lr * (mk / c1)) / (Math.sqrt(vk / c2) + this.eps);
    }
  }

  save(): AdamState {
    return { t: this.t, m: Array.from(this.m), v: Array.from(this.v) };
  }

  load(state: AdamState): void {
    this.t = state.t;
    this.m = Float64Array.from(state.m);
    this.v = Float64Array.from(state.v);
  }
}
