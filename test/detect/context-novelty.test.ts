import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContextNovelty } from '../../src/detect/anomaly/context-novelty.ts';

/** A square-ish wave over 0…15 with period 8: 0 0 5 10 15 15 10 5 … */
const wave = (i: number): number => [0, 0, 5, 10, 15, 15, 10, 5][i % 8] ?? 0;

describe('ContextNovelty', () => {
  it('scores 0 before it is fitted', () => {
    assert.equal(new ContextNovelty().update(3), 0);
  });

  it('knows a repeated pattern only after it was seen `known` times, then scores 0 on it', () => {
    const c = new ContextNovelty({ levels: 4, orders: 3, known: 2 });
    c.fit(Array.from({ length: 8 }, (_, i) => wave(i))); // one period: every transition seen once
    const second = Array.from({ length: 8 }, (_, i) => c.update(wave(8 + i)));
    assert.ok(
      second.some((s) => s > 0),
      `second period still novel somewhere: ${second.join(' ')}`,
    );
    // The wrap-around transitions (… 5 → 0 0 …) were first seen in the second period.
    const third = Array.from({ length: 8 }, (_, i) => c.update(wave(16 + i)));
    assert.ok(
      third.some((s) => s > 0),
      `wrap-around still novel: ${third.join(' ')}`,
    );
    const fourth = Array.from({ length: 8 }, (_, i) => c.update(wave(24 + i)));
    assert.deepEqual(fourth, new Array<number>(8).fill(0));
  });

  it('with known = 1, a pattern seen once is known', () => {
    const c = new ContextNovelty({ levels: 4, orders: 3, known: 1 });
    c.fit(Array.from({ length: 16 }, (_, i) => wave(i)));
    for (let i = 16; i < 24; i++) assert.equal(c.update(wave(i)), 0);
  });

  it('scores a never-seen jump 1 and a new long context less than a new short one', () => {
    const c = new ContextNovelty({ levels: 4, orders: 3, known: 1 });
    c.fit(Array.from({ length: 32 }, (_, i) => wave(i)));
    // Every level is known, but 0 → 15 never happened: novel at every context length.
    c.update(0);
    assert.equal(c.update(15), 1);
    // 15 → 15 is a known short context; its longer contexts (0,15 → 15) are new: in between.
    const mixed = c.update(15);
    assert.ok(mixed > 0 && mixed < 1, `mixed novelty ${mixed}`);
  });

  it('puts values beyond the warm-up range on levels of their own', () => {
    const c = new ContextNovelty({ levels: 4, orders: 1, known: 1 });
    c.fit([0, 10, 0, 10, 0, 10]);
    assert.equal(c.update(0), 0);
    assert.equal(c.update(50), 1, 'above the range: a new level');
    assert.equal(c.update(-50), 1, 'below the range: another new level');
  });

  it('remembers at most maxTransitions; beyond that, new transitions stay novel', () => {
    const c = new ContextNovelty({ levels: 8, orders: 2, known: 1, maxTransitions: 5 });
    c.fit([0, 8, 0, 8]); // 0→8, 8→0, (0,8)→0, (8,0)→8: 4 transitions
    assert.equal(c.save().transitions.length, 4);
    c.update(4); // 8→4 fits (5th); (0,8)→4 does not
    assert.equal(c.save().transitions.length, 5);
    c.update(0); // nothing more is stored
    c.update(8);
    c.update(4);
    assert.equal(c.save().transitions.length, 5);
    assert.equal(c.update(0), 1, 'both contexts of 4→0 are novel again: (4)→0 was never stored');
  });

  it('resumes from a JSON round-trip with identical scores', () => {
    const values = Array.from({ length: 200 }, (_, i) => wave(i) + (i % 37 === 0 ? 7 : 0));
    const a = new ContextNovelty();
    a.fit(values.slice(0, 50));
    for (let i = 50; i < 120; i++) a.update(values[i] ?? 0);
    const b = ContextNovelty.restore(JSON.parse(JSON.stringify(a.save())) as ReturnType<typeof a.save>);
    for (let i = 120; i < 200; i++) assert.equal(b.update(values[i] ?? 0), a.update(values[i] ?? 0));
  });
});
