import { expect } from 'chai';
import { classify, conditionalThroughput, pessimisticLossRatio } from '../../../../framework/methodology/load-stats.js';

const t = (durationS: number, lossRatio: number) => ({ durationS, lossRatio });

describe('load classification (RFC 9971)', () => {
  const rfc2544 = { lossRatio: 0, exceedRatio: 0, trialDurationS: 60, durationSumS: 60 };
  const tst009 = { lossRatio: 0, exceedRatio: 0.5, trialDurationS: 60, durationSumS: 120 };
  const csit = { lossRatio: 0.005, exceedRatio: 0.5, trialDurationS: 1, durationSumS: 21 };

  it('RFC 2544 preset: one 60 s zero-loss trial makes a lower bound, any high-loss trial an upper bound', () => {
    expect(classify([t(60, 0)], rfc2544)).to.equal('lower');
    expect(classify([t(60, 1e-6)], rfc2544)).to.equal('upper');
    expect(classify([t(1, 1e-6)], rfc2544)).to.equal('upper'); // even a short one (exceed ratio 0)
    expect(classify([t(1, 0)], rfc2544)).to.equal('undecided'); // a short low-loss trial proves nothing
    expect(classify([], rfc2544)).to.equal('undecided');
  });

  it('TST009 preset: one pass decides, a failure needs a second failure (loss verification, 2 repeats)', () => {
    expect(classify([t(60, 0)], tst009)).to.equal('lower');
    expect(classify([t(60, 0.01)], tst009)).to.equal('undecided');
    expect(classify([t(60, 0.01), t(60, 0.01)], tst009)).to.equal('upper');
    expect(classify([t(60, 0.01), t(60, 0)], tst009)).to.equal('lower');
  });

  it('CSIT preset: needs about half of 21 s either way; short trials cancel by the exceed ratio', () => {
    expect(
      classify(
        Array.from({ length: 10 }, () => t(1, 0)),
        csit,
      ),
    ).to.equal('undecided');
    expect(
      classify(
        Array.from({ length: 11 }, () => t(1, 0)),
        csit,
      ),
    ).to.equal('lower');
    expect(
      classify(
        Array.from({ length: 11 }, () => t(1, 0.5)),
        csit,
      ),
    ).to.equal('upper');
    expect(classify([...Array.from({ length: 11 }, () => t(1, 0)), ...Array.from({ length: 10 }, () => t(1, 0.5))], csit)).to.equal('lower');
    // Short high-loss trials beyond what short low-loss trials cancel count as high-loss time.
    const longGoal = { ...csit, trialDurationS: 10, durationSumS: 20 };
    expect(classify([t(1, 0.5), t(1, 0.5), t(1, 0)], longGoal)).to.equal('undecided');
  });

  it('conditional throughput takes the loss ratio at the (1 − exceed ratio) quantile of full-length time', () => {
    const trials = [t(1, 0), t(1, 0.001), t(1, 0.002), t(1, 0.003)];
    const p = { lossRatio: 0.005, exceedRatio: 0.5, trialDurationS: 1, durationSumS: 4 };
    expect(pessimisticLossRatio(trials, p)).to.equal(0.001);
    expect(conditionalThroughput(1e6, trials, p)).to.be.closeTo(999_000, 1e-6);
    // Not enough full-length time: the missing time counts as total loss.
    expect(pessimisticLossRatio([t(1, 0)], { ...p, durationSumS: 21 })).to.equal(1);
    // Exceed ratio 0: the worst trial counts.
    expect(pessimisticLossRatio(trials, { ...p, exceedRatio: 0 })).to.equal(0.003);
  });
});
