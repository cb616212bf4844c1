import { objectiveValue } from './objective';

describe('objectiveValue', () => {
  const m = {
    meta: { earlyStop: { iteration: 10, validationLoss: 0.2, validationAccuracy: 0.9, testAccuracy: 0.8 } },
    rows: [0, 10, 20].flatMap((it, i) => [
      { iteration: it, split: 'validation' as const, loss: [0.5, 0.2, 0.3][i] as number, accuracy: [0.5, 0.9, 0.85][i] as number },
      { iteration: it, split: 'test' as const, loss: 1, accuracy: [0.4, 0.8, 0.82][i] as number },
    ]),
  };
  it('reads a split and field at the early stop, last, min or max', () => {
    expect(objectiveValue(m, 'validation.accuracy@earlyStop')).toBe(0.9);
    expect(objectiveValue(m, 'test.accuracy@last')).toBe(0.82);
    expect(objectiveValue(m, 'validation.loss@min')).toBe(0.2);
    expect(objectiveValue(m, 'test.accuracy@max')).toBe(0.82);
    expect(objectiveValue(m, 'train.accuracy@last')).toBeNull();
    expect(objectiveValue({ meta: {}, rows: m.rows }, 'validation.accuracy@earlyStop')).toBeNull();
  });
});
