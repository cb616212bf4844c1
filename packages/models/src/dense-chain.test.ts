import { convChain, denseChain } from './dense-chain';
import { modelSpec } from './zoo';

describe('denseChain', () => {
  test('LeNet-300-100 is a chain of three dense layers, ReLU after the first two', () => {
    expect(denseChain(modelSpec({ arch: 'lenet_300_100', options: {} }).layers)).toEqual([
      { weight: 'fc1.weight', bias: 'fc1.bias', relu: true },
      { weight: 'fc2.weight', bias: 'fc2.bias', relu: true },
      { weight: 'fc3.weight', bias: 'fc3.bias', relu: false },
    ]);
  });

  test('convolutions, dropout that drops, a ReLU at the end or two in a row are not chains', () => {
    expect(denseChain(modelSpec({ arch: 'conv2', options: {} }).layers)).toBeNull();
    const d = (name: string) => ({ kind: 'dense' as const, name, units: 4, bias: false, role: 'fc' as const });
    const flat = { kind: 'flatten' as const };
    const relu = { kind: 'relu' as const };
    expect(denseChain([flat, d('a'), { kind: 'dropout', rate: 0.5 }, d('b')])).toBeNull();
    expect(denseChain([flat, d('a'), relu])).toBeNull();
    expect(denseChain([flat, d('a'), relu, relu, d('b')])).toBeNull();
    expect(denseChain([d('a')])).toBeNull();
    expect(denseChain([flat])).toBeNull();
    // Dropout with rate 0 is the identity; no bias is fine.
    expect(denseChain([flat, d('a'), relu, { kind: 'dropout', rate: 0 }, d('b')])).toEqual([
      { weight: 'a.weight', relu: true },
      { weight: 'b.weight', relu: false },
    ]);
  });
});

describe('convChain', () => {
  test('Conv-2 and Conv-6 are conv chains: every conv with its bias, pools after each pair, the fc chain', () => {
    const c2 = convChain(modelSpec({ arch: 'conv2', options: {} }).layers)!;
    expect(c2.convs).toEqual([
      { weight: 'conv1.weight', bias: 'conv1.bias', pool: false },
      { weight: 'conv2.weight', bias: 'conv2.bias', pool: true },
    ]);
    expect(c2.dense.map((l) => [l.weight, l.relu])).toEqual([
      ['fc1.weight', true],
      ['fc2.weight', true],
      ['fc3.weight', false],
    ]);
    expect(convChain(modelSpec({ arch: 'conv6', options: {} }).layers)!.convs.map((c) => c.pool)).toEqual([false, true, false, true, false, true]);
  });

  test('not a conv chain: dropout that drops, batch norm, residual blocks, a dense chain alone', () => {
    expect(convChain(modelSpec({ arch: 'conv2', options: { dropout: 0.5 } }).layers)).toBeNull();
    expect(convChain(modelSpec({ arch: 'vgg19', options: {} }).layers)).toBeNull();
    expect(convChain(modelSpec({ arch: 'resnet18', options: {} }).layers)).toBeNull();
    expect(convChain(modelSpec({ arch: 'lenet_300_100', options: {} }).layers)).toBeNull();
  });
});
