import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LstmForecaster } from '../../src/detect/anomaly/lstm/forecaster.ts';
import { Adam } from '../../src/detect/anomaly/lstm/adam.ts';
import { LstmNetwork, type Sample } from '../../src/detect/anomaly/lstm/network.ts';
import { SeededRandom } from '../../src/detect/anomaly/random.ts';
import { syntheticSeries } from './detector-conformance.ts';

function randomBatch(r: SeededRandom, steps: number, inputs: number, size: number): Sample[] {
  return Array.from({ length: size }, () => ({
    x: Float64Array.from({ length: steps * inputs }, () => r.symmetric(1)),
    target: r.symmetric(1),
  }));
}

describe('LSTM network', () => {
  it('back-propagation through time matches a numerical gradient (central differences)', () => {
    const net = new LstmNetwork({ inputs: 3, hidden: 5 });
    const r = new SeededRandom(7);
    net.initialize(r);
    // Move off the symmetric initialization so every gate is exercised.
    for (let k = 0; k < net.params.length; k++) net.params[k] = (net.params[k] ?? 0) + r.symmetric(0.5);
    const steps = 6;
    const batch = randomBatch(r, steps, 3, 3);
    const grad = new Float64Array(net.params.length);
    net.lossAndGradient(batch, steps, grad);
    const scratch = new Float64Array(net.params.length);
    const h = 1e-5;
    let worst = 0;
    for (let k = 0; k < net.params.length; k++) {
      const original = net.params[k] ?? 0;
      net.params[k] = original + h;
      const up = net.lossAndGradient(batch, steps, scratch);
      net.params[k] = original - h;
      const down = net.lossAndGradient(batch, steps, scratch);
      net.params[k] = original;
      const numerical = (up - down) / (2 * h);
      const analytic = grad[k] ?? 0;
      const rel = Math.abs(numerical - analytic) / Math.max(1e-6, Math.abs(numerical) + Math.abs(analytic));
      worst = Math.max(worst, rel);
    }
    assert.ok(worst < 1e-4, `worst relative gradient error ${worst}`);
  });

  it('Adam training lowers the loss on a learnable task', () => {
    const net = new LstmNetwork({ inputs: 1, hidden: 8 });
    const r = new SeededRandom(3);
    net.initialize(r);
    // Target: the mean of the window (needs memory across steps).
    const steps = 8;
    const batch: Sample[] = Array.from({ length: 64 }, () => {
      const x = Float64Array.from({ length: steps }, () => r.symmetric(1));
      return { x, target: x.reduce((a, b) => a + b, 0) / steps };
    });
    const adam = new Adam(net.params.length, { learningRate: 0.01 });
    const grad = new Float64Array(net.params.length);
    const first = net.lossAndGradient(batch, steps, grad);
    let last = first;
    for (let i = 0; i < 300; i++) {
      last = net.lossAndGradient(batch, steps, grad);
      adam.step(net.params, grad);
    }
    assert.ok(last < first / 10, `loss ${first} → ${last}`);
  });
});

describe('LSTM forecaster', () => {
  const { times, values } = syntheticSeries(700, -1);
  const warm = 400;

  it('forecasts a seasonal series better than "next = last"', () => {
    const f = new LstmForecaster({ seed: 1 });
    f.fit(times.slice(0, warm), values.slice(0, warm));
    let lstmErr = 0;
    let naiveErr = 0;
    for (let i = warm; i < values.length; i++) {
      lstmErr += Math.abs(f.predict() - (values[i] ?? 0));
      naiveErr += Math.abs((values[i - 1] ?? 0) - (values[i] ?? 0));
      f.observe(times[i] ?? 0, values[i] ?? 0);
    }
    assert.ok(lstmErr < naiveErr, `LSTM MAE ${lstmErr} vs naive ${naiveErr}`);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const predictions = (seed: number): number[] => {
      const f = new LstmForecaster({ seed, epochs: 3 });
      f.fit(times.slice(0, warm), values.slice(0, warm));
      const out: number[] = [];
      for (let i = warm; i < warm + 50; i++) {
        out.push(f.predict());
        f.observe(times[i] ?? 0, values[i] ?? 0);
      }
      return out;
    };
    assert.deepEqual(predictions(5), predictions(5));
    assert.notDeepEqual(predictions(5), predictions(6));
  });

  it('online fine-tuning changes the weights and survives save/restore', () => {
    const f = new LstmForecaster({ seed: 2, epochs: 2, retrainEvery: 50, retrainWindow: 100 });
    f.fit(times.slice(0, warm), values.slice(0, warm));
    const before = f.save().params;
    for (let i = warm; i < warm + 60; i++) f.observe(times[i] ?? 0, values[i] ?? 0);
    const saved = f.save();
    assert.notDeepEqual(saved.params, before);
    const g = LstmForecaster.restore(JSON.parse(JSON.stringify(saved)) as typeof saved);
    for (let i = warm + 60; i < warm + 160; i++) {
      assert.equal(g.predict(), f.predict());
      f.observe(times[i] ?? 0, values[i] ?? 0);
      g.observe(times[i] ?? 0, values[i] ?? 0);
    }
  });
});
