import { SeededRandom } from '../random.ts';

/** Shape of an {@link LstmNetwork}. */
export interface LstmShape {
  /** Features per time step. */
  readonly inputs: number;
  /** Hidden units. */
  readonly hidden: number;
}

/** One training example: `steps × inputs` features (row-major) and the value to predict. */
export interface Sample {
  readonly x: Float64Array;
  readonly target: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * A one-layer LSTM with a linear read-out of the last hidden state, on flat typed arrays.
 *
 * Parameters live in one `Float64Array` (`params`) so an optimizer can treat them as a vector:
 * `W` (4H × (D+H), gate order input, forget, cell, output), `b` (4H), `Wy` (H), `by` (1).
 * `lossAndGradient` runs back-propagation through time over the whole window.
 */
export class LstmNetwork {
  readonly inputs: number;
  readonly hidden: number;
  readonly params: Float64Array;
  private readonly cols: number;
  private readonly offB: number;
  private readonly offWy: number;
  private readonly offBy: number;
  // Per-step caches, grown on demand: gates (4H), cell (H), hidden (H), tanh(cell) (H).
  private gates = new Float64Array(0);
  private cells = new Float64Array(0);
  private hiddens = new Float64Array(0);
  private tanhCells = new Float64Array(0);
  private readonly z: Float64Array;

  constructor(shape: LstmShape, params?: Float64Array) {
    this.inputs = shape.inputs;
    this.hidden = shape.hidden;
    const H = shape.hidden;
    this.cols = shape.inputs + H;
    this.offB = 4 * H * this.cols;
    this.offWy = this.offB + 4 * H;
    this.offBy = this.offWy + H;
    const size = this.offBy + 1;
    if (params !== undefined && params.length !== size) {
      throw new Error(`LSTM parameter vector has ${params.length} values, expected ${size}`);
    }
    this.params = params ?? new Float64Array(size);
    this.z = new Float64Array(4 * H);
  }

  /** Number of parameters for a shape. */
  static parameterCount(shape: LstmShape): number {
    const cols = shape.inputs + shape.hidden;
    return 4 * shape.hidden * cols + 4 * shape.hidden + shape.hidden + 1;
  }

  /** Glorot-uniform weights, zero biases except the forget gate (1), from a seeded generator. */
  initialize(random: SeededRandom): void {
    const H = this.hidden;
    const p = this.params;
    const limit = Math.sqrt(6 / (this.cols + 4 * H));
    for (let k = 0; k < this.offB; k++) p[k] = random.symmetric(limit);
    for (let k = this.offB; k < this.offWy; k++) p[k] = 0;
    for (let j = 0; j < H; j++) p[this.offB + H + j] = 1;
    const outLimit = Math.sqrt(6 / (H + 1));
    for (let j = 0; j < H; j++) p[this.offWy + j] = random.symmetric(outLimit);
    p[this.offBy] = 0;
  }

  private ensureCache(steps: number): void {
    const H = this.hidden;
    if (this.cells.length >= (steps + 1) * H) return;
    this.gates = new Float64Array(steps * 4 * H);
    this.cells = new Float64Array((steps + 1) * H);
    this.hiddens = new Float64Array((steps + 1) * H);
    this.tanhCells = new Float64Array(steps * H);
  }

  /** Forward pass from a zero state over `x` (`steps × inputs`); returns the prediction. */
  forward(x: Float64Array, steps: number): number {
    this.ensureCache(steps);
    const H = this.hidden;
    const D = this.inputs;
    const cols = this.cols;
    const p = this.params;
    const z = this.z;
    const { gates, cells, hiddens, tanhCells } = this;
    cells.fill(0, 0, H);
    hiddens.fill(0, 0, H);
    for (let t = 0; t < steps; t++) {
      const xo = t * D;
      const hPrev = t * H;
      for (let r = 0; r < 4 * H; r++) {
        const row = r * cols;
        let s = p[this.offB + r] ?? 0;
        for (let k = 0; k < D; k++) s += (p[row + k] ?? 0) * (x[xo + k] ?? 0);
        for (let k = 0; k < H; k++) s += (p[row + D + k] ?? 0) * (hiddens[hPrev + k] ?? 0);
        z[r] = s;
      }
      const go = t * 4 * H;
      const cNext = (t + 1) * H;
      for (let j = 0; j < H; j++) {
        const ig = sigmoid(z[j] ?? 0);
        const fg = sigmoid(z[H + j] ?? 0);
        const gg = Math.tanh(z[2 * H + j] ?? 0);
        const og = sigmoid(z[3 * H + j] ?? 0);
        gates[go + j] = ig;
        gates[go + H + j] = fg;
        gates[go + 2 * H + j] = gg;
        gates[go + 3 * H + j] = og;
        const c = fg * (cells[hPrev + j] ?? 0) + ig * gg;
        cells[cNext + j] = c;
        const tc = Math.tanh(c);
        tanhCells[t * H + j] = tc;
        hiddens[cNext + j] = og * tc;
      }
    }
    let y = p[this.offBy] ?? 0;
    const hLast = steps * H;
    for (let j = 0; j < H; j++) y += (p[this.offWy + j] ?? 0) * (hiddens[hLast + j] ?? 0);
    return y;
  }

  /**
   * Mean squared-error loss (½·(y − target)²) over `batch` and its gradient, accumulated into
   * `grad` (which is zeroed first). Returns the mean loss.
   */
  lossAndGradient(batch: readonly Sample[], steps: number, grad: Float64Array): number {
    grad.fill(0);
    const H = this.hidden;
    const D = this.inputs;
    const cols = this.cols;
    const p = this.params;
    const dh = new Float64Array(H);
    const dc = new Float64Array(H);
    const dz = new Float64Array(4 * H);
    const dhPrev = new Float64Array(H);
    let loss = 0;
    const scale = 1 / batch.length;
    for (const sample of batch) {
      const y = this.forward(sample.x, steps);
      const err = y - sample.target;
      loss += 0.5 * err * err;
      const dy = err * scale;
      const { gates, cells, hiddens, tanhCells } = this;
      const hLast = steps * H;
      grad[this.offBy] = (grad[this.offBy] ?? 0) + dy;
      for (let j = 0; j < H; j++) {
        grad[this.offWy + j] = (grad[this.offWy + j] ?? 0) + dy * (hiddens[hLast + j] ?? 0);
        dh[j] = dy * (p[this.offWy + j] ?? 0);
      }
      dc.fill(0);
      for (let t = steps - 1; t >= 0; t--) {
        const go = t * 4 * H;
        const hPrevOff = t * H;
        for (let j = 0; j < H; j++) {
          const ig = gates[go + j] ?? 0;
          const fg = gates[go + H + j] ?? 0;
          const gg = gates[go + 2 * H + j] ?? 0;
          const og = gates[go + 3 * H + j] ?? 0;
          const tc = tanhCells[t * H + j] ?? 0;
          const dhj = dh[j] ?? 0;
          const dcj = (dc[j] ?? 0) + dhj * og * (1 - tc * tc);
          dz[j] = dcj * gg * ig * (1 - ig);
          dz[H + j] = dcj * (cells[hPrevOff + j] ?? 0) * fg * (1 - fg);
          dz[2 * H + j] = dcj * ig * (1 - gg * gg);
          dz[3 * H + j] = dhj * tc * og * (1 - og);
          dc[j] = dcj * fg;
        }
        dhPrev.fill(0);
        const xo = t * D;
        for (let r = 0; r < 4 * H; r++) {
          const d = dz[r] ?? 0;
          if (d === 0) continue;
          const row = r * cols;
          grad[this.offB + r] = (grad[this.offB + r] ?? 0) + d;
          for (let k = 0; k < D; k++) grad[row + k] = (grad[row + k] ?? 0) + d * (sample.x[xo + k] ?? 0);
          for (let k = 0; k < H; k++) {
            grad[row + D + k] = (grad[row + D + k] ?? 0) + d * (hiddens[hPrevOff + k] ?? 0);
            dhPrev[k] = (dhPrev[k] ?? 0) + d * (p[row + D + k] ?? 0);
          }
        }
        dh.set(dhPrev);
      }
    }
    return loss * scale;
  }
}
