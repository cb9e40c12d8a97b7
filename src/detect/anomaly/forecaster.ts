import { LifelineError } from '../../core/errors.ts';
import { LstmForecaster, type LstmForecasterOptions, type LstmForecasterState } from './lstm/forecaster.ts';

/**
 * The Forecaster port: predicts the next value of a series from the records observed so far.
 * Detectors turn its errors into anomaly scores.
 */
export interface Forecaster {
  /** Trains on the warm-up records; returns in-sample one-step forecasts (NaN where none). */
  fit(timestamps: ArrayLike<number>, values: ArrayLike<number>): Float64Array;
  /** Forecast of the next value (NaN when it cannot forecast yet). */
  predict(): number;
  /** Appends an observed record (after {@link predict} was asked about it). */
  observe(timestamp: number, value: number): void;
  save(): ForecasterState;
}

/** Saved forecaster, tagged with its kind. */
export type ForecasterState =
  | { readonly kind: 'lstm'; readonly lstm: LstmForecasterState }
  | { readonly kind: 'last-value'; readonly last: number | null };

/** Forecaster kinds. */
export type ForecasterKind = ForecasterState['kind'];

/** Predicts that the next value equals the last one: the naive baseline of every forecaster. */
export class LastValueForecaster implements Forecaster {
  constructor(private last = Number.NaN) {}

  fit(_timestamps: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
    const out = new Float64Array(values.length).fill(Number.NaN);
    for (let i = 1; i < values.length; i++) out[i] = values[i - 1] ?? Number.NaN;
    if (values.length > 0) this.last = values[values.length - 1] ?? Number.NaN;
    return out;
  }

  predict(): number {
    return this.last;
  }

  observe(_timestamp: number, value: number): void {
    this.last = value;
  }

  save(): ForecasterState {
    // JSON has no NaN: "nothing seen yet" is null.
    return { kind: 'last-value', last: Number.isNaN(this.last) ? null : this.last };
  }
}

/** Adapts {@link LstmForecaster} to the port. */
export class LstmForecasterAdapter implements Forecaster {
  constructor(private readonly lstm: LstmForecaster) {}

  fit(timestamps: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
    return this.lstm.fit(timestamps, values);
  }

  predict(): number {
    return this.lstm.predict();
  }

  observe(timestamp: number, value: number): void {
    this.lstm.observe(timestamp, value);
  }

  save(): ForecasterState {
    return { kind: 'lstm', lstm: this.lstm.save() };
  }
}

/** Creates a forecaster of `kind`. */
export function createForecaster(kind: ForecasterKind, lstm: LstmForecasterOptions = {}): Forecaster {
  return kind === 'lstm' ? new LstmForecasterAdapter(new LstmForecaster(lstm)) : new LastValueForecaster();
}

/** Rebuilds a forecaster from {@link Forecaster.save} output. */
export function restoreForecaster(state: ForecasterState): Forecaster {
  switch (state.kind) {
    case 'lstm':
      return new LstmForecasterAdapter(LstmForecaster.restore(state.lstm));
    case 'last-value':
      return new LastValueForecaster(state.last ?? Number.NaN);
    default:
      throw new LifelineError('anomaly.state', `unknown forecaster kind in saved state`, {
        fix: 'delete the saved model state so the detector starts fresh',
      });
  }
}
