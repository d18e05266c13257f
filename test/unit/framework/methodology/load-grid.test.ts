import { expect } from 'chai';
import fc from 'fast-check';
import { LoadGrid } from '../../../../framework/methodology/load-grid.js';
import { keepInside, middle } from '../../../../framework/methodology/grid-steps.js';

describe('LoadGrid (logarithmic integer loads)', () => {
  it('has the min and max load as its ends and one step per goal width', () => {
    const g = new LoadGrid(14_880.95, 14_880_952.4, [0.001, 0.001]);
    expect(g.fps(0)).to.equal(14_880.95);
    expect(g.fps(g.top)).to.equal(14_880_952.4);
    expect(g.steps(0.001)).to.equal(1);
    expect(g.relativeWidth(1)).to.be.within(0.001 * 0.99, 0.001);
    expect(g.steps(0.002)).to.equal(2);
  });

  it('property: every goal width is a whole number of steps covering 99 %–100 % of it; floor() inverts fps()', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 2, max: 1e5, noNaN: true }),
        fc.array(fc.double({ min: 0.0005, max: 0.2, noNaN: true }), { minLength: 1, maxLength: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (min, ratio, widths, at) => {
          const g = new LoadGrid(min, min * ratio, widths);
          for (const w of widths) {
            const got = g.relativeWidth(g.steps(w));
            expect(got).to.be.at.most(w);
            expect(got).to.be.at.least(w * 0.99 * (1 - 1e-9));
          }
          const i = Math.round(at * g.top);
          expect(g.floor(g.fps(i))).to.equal(i);
          const x = min * Math.pow(ratio, at);
          const k = g.floor(x);
          expect(g.fps(k)).to.be.at.most(x);
          if (k < g.top) expect(g.fps(k + 1)).to.be.greaterThan(x);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('grid steps: middle() and keepInside()', () => {
  it('splits so that one part is a power-of-two multiple of the width and the lower part is the smaller', () => {
    expect(middle(0, 2, 1)).to.equal(1);
    expect(middle(0, 3, 1)).to.equal(1);
    expect(middle(0, 4, 1)).to.equal(2);
    expect(middle(10, 15, 1)).to.equal(12); // 2 + 3 (a 4 + 1 split is less even)
    expect(middle(0, 7, 2)).to.equal(3); // 3 + 4 (4 = 2 widths)
    expect(() => middle(0, 2, 2)).to.throw(RangeError);
  });

  it('property: the middle is strictly inside; above two widths one part is width × 2^k', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 64 }), (lo, d, w) => {
        fc.pre(d > w);
        const m = middle(lo, lo + d, w);
        expect(m).to.be.greaterThan(lo);
        expect(m).to.be.lessThan(lo + d);
        if (d > 2 * w) {
          const parts = [m - lo, lo + d - m];
          expect(parts[0]!).to.be.at.most(parts[1]!);
          expect(parts.some((p) => p % w === 0 && Number.isInteger(Math.log2(p / w)))).to.equal(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keepInside: stays a width away from known bounds, snaps onto the min/max load, refuses when there is no room', () => {
    const lim = { min: 0, max: 100 };
    expect(keepInside(50, 4, lim)).to.equal(50);
    expect(keepInside(98, 4, lim)).to.equal(100); // within one width of max: max itself
    expect(keepInside(2, 4, lim)).to.equal(0);
    expect(keepInside(52, 4, { ...lim, lo: 50 })).to.equal(54); // one width above the lower bound
    expect(keepInside(59, 4, { ...lim, hi: 60 })).to.equal(56);
    expect(keepInside(61, 4, { ...lim, hi: 60 })).to.equal(undefined);
    expect(keepInside(51, 4, { ...lim, lo: 50, hi: 53 })).to.equal(undefined); // no room of one width on either side
    expect(keepInside(51, 4, { ...lim, lo: 50, hi: 56 })).to.equal(52); // less than two widths: the middle (2 + 4 split)
  });
});
