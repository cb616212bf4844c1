import { parseTrainConfig, resolvePlan, toIterations } from './config';
import { learningRate } from './schedule';

describe('learningRate', () => {
  it('is constant without milestones or warmup', () => {
    for (const it of [0, 1, 99, 100000]) expect(learningRate(0.01, it, { milestones: [], warmup: 0 })).toBe(0.01);
  });

  it('drops by gamma from each milestone iteration on (open_lth bisect semantics)', () => {
    const plan = { milestones: [3, 6], gamma: 0.1, warmup: 0 };
    const lr = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((it) => learningRate(0.1, it, plan));
    const expected = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001];
    lr.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('warms up linearly over k iterations: lr * min(1, it / k)', () => {
    const plan = { milestones: [], warmup: 4 };
    const lr = [0, 1, 2, 3, 4, 5, 1000].map((it) => learningRate(0.03, it, plan));
    const expected = [0, 0.0075, 0.015, 0.0225, 0.03, 0.03, 0.03];
    lr.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('multiplies warmup and piecewise factors (ResNet-style 20K/25K drops, scaled down)', () => {
    const plan = { milestones: [20, 25], gamma: 0.1, warmup: 10 };
    expect(learningRate(0.1, 5, plan)).toBeCloseTo(0.05, 12);
    expect(learningRate(0.1, 10, plan)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, 20, plan)).toBeCloseTo(0.01, 12);
    expect(learningRate(0.1, 29, plan)).toBeCloseTo(0.001, 12);
  });
});

describe('config', () => {
  it('applies the defaults (Adam 1.2e-3, batch 60)', () => {
    const cfg = parseTrainConfig({ iterations: 10 });
    expect(cfg.optimizer).toEqual({ type: 'adam', lr: 1.2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(cfg.batchSize).toBe(60);
    expect(cfg.schedule).toEqual({ type: 'constant', warmup: 0 });
    expect(cfg.checkpoints).toEqual([]);
  });

  it('converts epochs and "Nep" steps with full batches per epoch', () => {
    // 45,000 CIFAR training images at batch 64: 703 steps per epoch, VGG-19's 160 epochs = 112,480.
    const cfg = parseTrainConfig({
      epochs: 160,
      batchSize: 64,
      optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
      schedule: { type: 'piecewise', milestones: ['120ep', '80ep'], gamma: 0.1, warmup: '500it' },
      evalEvery: '1ep',
    });
    const plan = resolvePlan(cfg, 45000);
    expect(plan).toMatchObject({ iterations: 112480, perEpoch: 703, milestones: [56240, 84360], warmup: 500, evalEvery: 703 });
    expect(toIterations('0.5ep', 10, 'x')).toBe(5);
  });

  it('names the bad field', () => {
    expect(() => parseTrainConfig({})).toThrow(/iterations: give exactly one of iterations and epochs/);
    expect(() => parseTrainConfig({ iterations: 5, epochs: 1 })).toThrow(/exactly one/);
    expect(() => parseTrainConfig({ iterations: 5, optimizer: { type: 'sgd' } })).toThrow(/optimizer\.lr/);
    expect(() => parseTrainConfig({ iterations: 5, evalEvery: '3 epochs' })).toThrow(/evalEvery/);
    expect(() => parseTrainConfig({ iterations: 5, lr: 0.1 })).toThrow(/lr|unrecognized/i);
    expect(() => resolvePlan(parseTrainConfig({ iterations: 5, checkpoints: [0, 6] }), 100)).toThrow(/checkpoints \[6\] lie beyond the last iteration \(5\)/);
  });
});
