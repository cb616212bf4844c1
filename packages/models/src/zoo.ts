import { z } from 'zod';
import type { ModelRef } from '@lth/artifacts';
import type { LayerSpec, ModelSpec } from './spec';

export const MODEL_NAMES = ['lenet_300_100', 'conv2', 'conv4', 'conv6', 'vgg19', 'resnet18'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

const NoOptions = z.object({}).strict();
/**
 * Conv-2/4/6: dropout rate on the fully-connected layers (paper: 0.5 in the dropout runs);
 * `width` is the first conv pair's channel count (paper 64; later pairs scale with it), smaller
 * only for cheap test variants.
 */
export const ConvNetOptions = z.object({ dropout: z.number().min(0).lt(1).optional(), width: z.number().int().positive().optional() }).strict();
/**
 * VGG-19 / ResNet: `width` is the first stage's channel count (VGG 64, ResNet 16); later
 * stages scale with it. Smaller widths are cheap variants for tests, not paper models.
 */
export const VggOptions = z.object({ width: z.number().int().positive().optional() }).strict();
export const ResNetOptions = z.object({ width: z.number().int().positive().optional() }).strict();

const conv = (name: string, filters: number, o: Partial<Extract<LayerSpec, { kind: 'conv' }>> = {}): LayerSpec => ({
  kind: 'conv',
  name,
  filters,
  kernel: 3,
  stride: 1,
  padding: 'same',
  bias: true,
  role: 'conv',
  ...o,
});
const dense = (name: string, units: number, role: 'fc' | 'output' = 'fc', bias = true): LayerSpec => ({ kind: 'dense', name, units, bias, role });
const relu: LayerSpec = { kind: 'relu' };
const pool: LayerSpec = { kind: 'maxpool', size: 2, stride: 2 };

function lenet(): ModelSpec {
  return {
    arch: 'lenet_300_100',
    input: [28, 28, 1],
    layers: [{ kind: 'flatten' }, dense('fc1', 300), relu, dense('fc2', 100), relu, dense('fc3', 10, 'output')],
  };
}

/**
 * Conv-2/4/6: pairs of 3x3 'same' convolutions with biases, ReLU, 2x2 max-pool after each pair,
 * then fc 256-256-10. Dropout, when enabled, follows each hidden fc layer's ReLU.
 * Conv-6's layer list gives 1,144,512 conv weights and 2,261,184 in all: the paper's printed
 * 1.7M total does not follow from its own layer list (its 1.1M conv count does).
 */
function convNet(arch: 'conv2' | 'conv4' | 'conv6', pairs: number[], opts: z.output<typeof ConvNetOptions>): ModelSpec {
  const layers: LayerSpec[] = [];
  let i = 1;
  const scale = (opts.width ?? 64) / 64;
  for (const f of pairs) {
    const filters = Math.max(1, Math.round(f * scale));
    layers.push(conv(`conv${i++}`, filters), relu, conv(`conv${i++}`, filters), relu, pool);
  }
  const drop: LayerSpec[] = opts.dropout ? [{ kind: 'dropout', rate: opts.dropout }] : [];
  layers.push({ kind: 'flatten' }, dense('fc1', 256), relu, ...drop, dense('fc2', 256), relu, ...drop, dense('fc3', 10, 'output'));
  return { arch, input: [32, 32, 3], layers };
}

/** CIFAR VGG-19 with batch norm (open_lth): bias-free convs, BN, ReLU; global avg-pool; fc 10. */
function vgg19(opts: z.output<typeof VggOptions>): ModelSpec {
  const w = opts.width ?? 64;
  const plan: (number | 'M')[] = [w, w, 'M', 2 * w, 2 * w, 'M', 4 * w, 4 * w, 4 * w, 4 * w, 'M', 8 * w, 8 * w, 8 * w, 8 * w, 'M', 8 * w, 8 * w, 8 * w, 8 * w];
  const layers: LayerSpec[] = [];
  let i = 1;
  for (const p of plan) {
    if (p === 'M') layers.push(pool);
    else {
      layers.push(conv(`conv${i}`, p, { bias: false }), { kind: 'bn', name: `bn${i}` }, relu);
      i++;
    }
  }
  layers.push({ kind: 'avgpool' }, dense('fc', 10, 'output'));
  return { arch: 'vgg19', input: [32, 32, 3], layers };
}

/**
 * The paper's "ResNet-18": the 20-layer CIFAR ResNet (open_lth cifar_resnet_20): conv 16, three
 * stages of three basic blocks (16, 32, 64 channels; stride 2 entering stages 2 and 3), 1x1
 * conv + BN shortcuts where the shape changes, global avg-pool, fc 10.
 */
function resnet(opts: z.output<typeof ResNetOptions>): ModelSpec {
  const w = opts.width ?? 16;
  const layers: LayerSpec[] = [conv('conv', w, { bias: false }), { kind: 'bn', name: 'bn' }, relu];
  let inCh = w;
  [w, 2 * w, 4 * w].forEach((ch, stage) => {
    for (let b = 0; b < 3; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const n = `block${stage + 1}.${b}`;
      const shortcut: LayerSpec[] =
        stride !== 1 || inCh !== ch
          ? [conv(`${n}.shortcut`, ch, { kernel: 1, stride, bias: false, role: 'shortcut' }), { kind: 'bn', name: `${n}.shortcut_bn` }]
          : [];
      layers.push(
        {
          kind: 'residual',
          name: n,
          body: [
            conv(`${n}.conv1`, ch, { stride, bias: false }),
            { kind: 'bn', name: `${n}.bn1` },
            relu,
            conv(`${n}.conv2`, ch, { bias: false }),
            { kind: 'bn', name: `${n}.bn2` },
          ],
          shortcut,
        },
        relu,
      );
      inCh = ch;
    }
  });
  layers.push({ kind: 'avgpool' }, dense('fc', 10, 'output'));
  return { arch: 'resnet18', input: [32, 32, 3], layers };
}

function parseOptions<S extends z.ZodType>(schema: S, ref: ModelRef): z.output<S> {
  const r = schema.safeParse(ref.options ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${['options', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new Error(`model '${ref.arch}': invalid options: ${msg}`);
  }
  return r.data;
}

/** The declarative layer list of a model; unknown architectures and bad options are errors. */
export function modelSpec(ref: ModelRef): ModelSpec {
  switch (ref.arch) {
    case 'lenet_300_100':
      parseOptions(NoOptions, ref);
      return lenet();
    case 'conv2':
      return convNet('conv2', [64], parseOptions(ConvNetOptions, ref));
    case 'conv4':
      return convNet('conv4', [64, 128], parseOptions(ConvNetOptions, ref));
    case 'conv6':
      return convNet('conv6', [64, 128, 256], parseOptions(ConvNetOptions, ref));
    case 'vgg19':
      return vgg19(parseOptions(VggOptions, ref));
    case 'resnet18':
      return resnet(parseOptions(ResNetOptions, ref));
    default:
      throw new Error(`unknown model architecture '${ref.arch}' (valid: ${MODEL_NAMES.join(', ')})`);
  }
}
