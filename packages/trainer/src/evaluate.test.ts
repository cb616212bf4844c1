import type { MetricRow } from '@lth/artifacts';
import { initBackend, tf } from '@lth/compute';
import { syntheticDataset } from '@lth/data';
import { createModel, initWeights } from '@lth/models';
import { addBatchSums, crossEntropy, earlyStopFrom, evaluateSplit } from './evaluate';

// The root Jest config runs packages as projects, where a project's testTimeout is ignored.
jest.setTimeout(60000);

beforeAll(async () => {
  await initBackend();
});

const row = (iteration: number, split: MetricRow['split'], loss: number, accuracy: number): MetricRow => ({ iteration, split, loss, accuracy });

describe('earlyStopFrom', () => {
  it('picks the iteration of minimum validation loss and the test accuracy there', () => {
    const rows = [
      row(0, 'validation', 2.3, 0.1),
      row(0, 'test', 2.3, 0.11),
      row(100, 'train', 0.01, 1), // training loss never counts
      row(100, 'validation', 0.4, 0.9),
      row(100, 'test', 0.45, 0.88),
      row(200, 'validation', 0.3, 0.93),
      row(200, 'test', 0.35, 0.925),
      row(300, 'validation', 0.5, 0.94), // higher accuracy, but the criterion is the loss
      row(300, 'test', 0.5, 0.95),
    ];
    expect(earlyStopFrom(rows)).toEqual({ iteration: 200, validationLoss: 0.3, validationAccuracy: 0.93, testAccuracy: 0.925 });
  });

  it('takes the earliest iteration on ties and ignores NaN losses', () => {
    const rows = [
      row(0, 'validation', Number.NaN, 0.1),
      row(0, 'test', 1, 0.1),
      row(10, 'validation', 0.2, 0.5),
      row(10, 'test', 0.2, 0.6),
      row(20, 'validation', 0.2, 0.55),
      row(20, 'test', 0.2, 0.7),
    ];
    expect(earlyStopFrom(rows)?.iteration).toBe(10);
    expect(earlyStopFrom(rows)?.testAccuracy).toBe(0.6);
    expect(earlyStopFrom([row(0, 'train', 1, 0)])).toBeUndefined();
  });
});

describe('crossEntropy', () => {
  it('is the mean of -log softmax at the label', () => {
    const v = tf.tidy(
      () =>
        crossEntropy(
          tf.tensor2d([
            [0, 0],
            [Math.log(3), 0],
          ]),
          tf.tensor1d([0, 1], 'int32'),
        ).dataSync()[0]!,
    );
    // ln 2 for equal logits; -log(1/4) for logits (ln 3, 0) at label 1
    expect(v).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 5);
  });
});

describe('addBatchSums', () => {
  it('adds -log softmax at the label and first-maximum hits, hand-checked', () => {
    const sums = { loss: 0, correct: 0, count: 0 };
    // Row 0: equal logits, label 0: loss ln 2, the first maximum (0) is the label.
    // Row 1: logits (ln 3, 0), label 1: loss -log(1/4) = ln 4, the maximum is class 0.
    addBatchSums(sums, [0, 0, Math.log(3), 0], [0, 1], 2);
    expect(sums.loss).toBeCloseTo(Math.log(2) + Math.log(4), 12);
    expect(sums.correct).toBe(1);
    expect(sums.count).toBe(2);
    // Large logits do not overflow (max-shifted): loss of (1000, 0) at label 1 is ~1000.
    addBatchSums(sums, [1000, 0], [1], 2);
    expect(sums.loss - Math.log(2) - Math.log(4)).toBeCloseTo(1000, 9);
    expect(() => addBatchSums(sums, [0, 0, 0], [0, 1], 2)).toThrow(/3 logits for 2 labels of 2 classes/);
  });

  it('agrees with crossEntropy (the training loss) and argMax on random logits', () => {
    const logits = tf.randomNormal([64, 10], 0, 4, 'float32', 5) as tf.Tensor2D;
    const labels = tf.tensor1d(
      Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 10),
      'int32',
    );
    const sums = { loss: 0, correct: 0, count: 0 };
    addBatchSums(sums, logits.dataSync(), labels.dataSync(), 10);
    const ce = tf.tidy(() => crossEntropy(logits, labels).dataSync()[0]!);
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0]!);
    expect(Math.abs(sums.loss / 64 - ce) / ce).toBeLessThan(1e-6);
    expect(sums.correct).toBe(hits);
    tf.dispose([logits, labels]);
  });
});

describe('evaluateSplit', () => {
  it('evaluates LeNet in eval mode on a limited training sample, disposing every batch', () => {
    const ds = syntheticDataset({ seed: 1, shape: [28, 28, 1], train: 70, validation: 20, test: 30 });
    const model = createModel(initWeights({ arch: 'lenet_300_100', options: {} }, 0));
    const before = tf.memory().numTensors;
    const train = evaluateSplit(model, ds, 'train', 16, 40)!;
    const test = evaluateSplit(model, ds, 'test', 16)!;
    expect(tf.memory().numTensors).toBe(before);
    expect(train.count).toBe(40);
    expect(test.count).toBe(30);
    // 30 examples: accuracy is a multiple of 1/30; untrained loss is near ln 10
    expect(Math.abs(test.accuracy * 30 - Math.round(test.accuracy * 30))).toBeLessThan(1e-6);
    expect(test.loss).toBeGreaterThan(1);
    expect(test.loss).toBeLessThan(5);
    model.dispose();
  });
});
