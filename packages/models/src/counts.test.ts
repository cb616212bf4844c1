import { formatModelTable, listModels, paramCounts } from './counts';
import { initWeights } from './init';
import { modelSpec, MODEL_NAMES } from './zoo';

const counts = (arch: string) => paramCounts({ arch, options: {} });

describe('parameter counts (PAPER.md, Figure 2)', () => {
  test('LeNet-300-100: 266,200 weights, biases separately', () => {
    const c = counts('lenet_300_100');
    expect(c.prunable).toBe(266_200);
    expect(c.byRole).toEqual({ conv: 0, fc: 235_200 + 30_000, output: 1_000, shortcut: 0, bias: 410, batchnorm: 0 });
    expect(c.total).toBe(266_610);
  });
  test('Conv-2: 4,300,992 with 38,592 conv', () => {
    expect(counts('conv2').prunable).toBe(4_300_992);
    expect(counts('conv2').byRole.conv).toBe(38_592);
  });
  test('Conv-4: 2,425,024 with 259,776 conv', () => {
    expect(counts('conv4').prunable).toBe(2_425_024);
    expect(counts('conv4').byRole.conv).toBe(259_776);
  });
  test("Conv-6: conv 1,144,512 and 2,261,184 in all (the paper's 1.7M does not follow)", () => {
    expect(counts('conv6').byRole.conv).toBe(1_144_512);
    expect(counts('conv6').prunable).toBe(2_261_184);
  });
  test('VGG-19: 20,024,000 weights (20.0M), 5,120 in the output layer, bias-free convs', () => {
    const c = counts('vgg19');
    expect(c.prunable).toBe(20_024_000);
    expect(c.byRole.output).toBe(5_120);
    expect(c.byRole.bias).toBe(10);
    expect(c.byRole.batchnorm).toBe(2 * (2 * 64 + 2 * 128 + 4 * 256 + 8 * 512));
  });
  test('ResNet-20 ("ResNet-18"): conv 267,696 + shortcuts 2,560 + fc 640 (274K / 270K)', () => {
    const c = counts('resnet18');
    expect(c.byRole.conv).toBe(267_696);
    expect(c.byRole.shortcut).toBe(2_560);
    expect(c.byRole.output).toBe(640);
    expect(c.byRole.fc).toBe(0);
    expect(Math.round(c.prunable / 1000)).toBe(271);
    // The paper's "274K" is every stored value: 272,474 trained + 1,568 batch-norm running stats.
    expect(c.total).toBe(272_474);
    const buffers = listModels()
      .find((m) => m.name === 'resnet18')!
      .layers.filter((l) => l.role === 'buffer');
    expect(c.total + buffers.reduce((a, l) => a + l.shape.reduce((x, y) => x * y, 1), 0)).toBe(274_042);
  });
  test('listModels covers every architecture with its tensors', () => {
    const l = listModels();
    expect(l.map((m) => m.name)).toEqual([...MODEL_NAMES]);
    const lenet = l[0]!;
    expect(lenet.layers).toEqual([
      { name: 'fc1.weight', role: 'fc', shape: [784, 300] },
      { name: 'fc1.bias', role: 'bias', shape: [300] },
      { name: 'fc2.weight', role: 'fc', shape: [300, 100] },
      { name: 'fc2.bias', role: 'bias', shape: [100] },
      { name: 'fc3.weight', role: 'output', shape: [100, 10] },
      { name: 'fc3.bias', role: 'bias', shape: [10] },
    ]);
    expect(JSON.parse(JSON.stringify(l))).toEqual(l);
  });
});

describe('specs and options', () => {
  test('unknown architecture lists the valid names', () => {
    expect(() => modelSpec({ arch: 'alexnet', options: {} })).toThrow(
      /unknown model architecture 'alexnet'.*lenet_300_100, conv2, conv4, conv6, vgg19, resnet18/,
    );
  });
  test('options are validated', () => {
    expect(() => modelSpec({ arch: 'conv2', options: { dropout: 1.5 } })).toThrow(/options\.dropout/);
    expect(() => modelSpec({ arch: 'lenet_300_100', options: { dropout: 0.5 } })).toThrow(/lenet_300_100.*invalid options/);
    expect(modelSpec({ arch: 'conv4', options: { dropout: 0.5 } }).layers.filter((l) => l.kind === 'dropout')).toHaveLength(2);
  });
});

describe('initWeights', () => {
  test('same seed, identical bytes; different seed differs; Glorot variance', () => {
    const a = initWeights({ arch: 'lenet_300_100', options: {} }, 7);
    const b = initWeights({ arch: 'lenet_300_100', options: {} }, 7);
    const c = initWeights({ arch: 'lenet_300_100', options: {} }, 8);
    expect(a.meta).toMatchObject({ content: 'init', seed: 7, model: { arch: 'lenet_300_100' } });
    a.tensors.forEach((t, i) => expect(Buffer.from(t.values.buffer).equals(Buffer.from(b.tensors[i]!.values.buffer))).toBe(true));
    expect(a.tensors[0]!.values[0]).not.toBe(c.tensors[0]!.values[0]);
    const w = a.tensors[0]!.values;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(variance).toBeCloseTo(2 / (784 + 300), 4);
    expect(a.tensors[1]!.values.every((v) => v === 0)).toBe(true);
  });
  test('conv fans include the receptive field; batch norm starts at gamma 1, beta 0, mean 0, var 1', () => {
    const r = initWeights({ arch: 'resnet18', options: {} }, 1);
    const w = r.tensors.find((t) => t.name === 'block3.2.conv2.weight')!.values;
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeCloseTo(2 / (64 * 9 + 64 * 9), 4);
    const v = (n: string) => Array.from(r.tensors.find((t) => t.name === n)!.values);
    expect(new Set(v('bn.gamma'))).toEqual(new Set([1]));
    expect(new Set(v('bn.beta'))).toEqual(new Set([0]));
    expect(new Set(v('bn.mean'))).toEqual(new Set([0]));
    expect(new Set(v('bn.var'))).toEqual(new Set([1]));
    expect(r.tensors.find((t) => t.name === 'bn.mean')!.role).toBe('buffer');
  });
});

test('formatModelTable prints one aligned row per model', () => {
  const lines = formatModelTable().split('\n');
  expect(lines).toHaveLength(2 + MODEL_NAMES.length);
  expect(lines[0]).toMatch(/^model\s+total\s+prunable\s+conv/);
  expect(lines.find((l) => l.startsWith('vgg19'))).toMatch(/20,024,000/);
  expect(new Set(lines.map((l) => l.length)).size).toBe(1);
});
