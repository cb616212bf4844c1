import type { WeightRole } from '@lth/artifacts';

/**
 * A model is a declarative list of layer specs interpreted by `createModel`, `paramCounts` and
 * `exportLayersModel`; no architecture is hand-written as code.
 *
 * Bias convention (as open_lth): LeNet and Conv-2/4/6 layers carry biases; VGG-19 and ResNet
 * convolutions have none because batch norm follows each of them (its shift plays the bias'
 * part); their output layer has a bias.
 */
export type LayerSpec =
  | { kind: 'conv'; name: string; filters: number; kernel: number; stride: number; padding: 'same' | 'valid'; bias: boolean; role: 'conv' | 'shortcut' }
  | { kind: 'bn'; name: string }
  | { kind: 'relu' }
  | { kind: 'maxpool'; size: number; stride: number }
  /** Global average pooling over height and width: [b,h,w,c] -> [b,c]. */
  | { kind: 'avgpool' }
  | { kind: 'flatten' }
  | { kind: 'dense'; name: string; units: number; bias: boolean; role: 'fc' | 'output' }
  /** Inverted dropout (training mode only). */
  | { kind: 'dropout'; rate: number }
  /**
   * out = body(x) + shortcut(x); an empty shortcut is the identity. The ReLU after the sum is
   * a separate layer that follows the block.
   */
  | { kind: 'residual'; name: string; body: LayerSpec[]; shortcut: LayerSpec[] };

export interface ModelSpec {
  arch: string;
  /** Input shape without the batch dimension, NHWC order: [h, w, c]. */
  input: [number, number, number];
  layers: LayerSpec[];
}

/** A parameter or buffer tensor that a spec implies, in bundle order. */
export interface TensorDecl {
  name: string;
  role: WeightRole;
  /** conv: [kh, kw, in, out]; dense: [in, out]; bias and batch norm: [units]. */
  shape: number[];
  /** The layer this tensor belongs to (for listings). */
  layer: string;
  /** For Glorot initialization of conv/dense kernels (receptive field included). */
  fanIn?: number;
  fanOut?: number;
  /** Constant initial value (biases 0, gamma 1, beta 0, running mean 0, running var 1). */
  fill?: number;
  /** For batch norm: which of its tensors this is. */
  bnPart?: 'gamma' | 'beta' | 'mean' | 'var';
}

type Shape = number[];

function convOut(size: number, kernel: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** Walks the layers from `shape`, appending the tensors they declare; returns the output shape. */
function walk(layers: LayerSpec[], shape: Shape, out: TensorDecl[], where: string): Shape {
  let s = shape;
  for (const l of layers) {
    switch (l.kind) {
      case 'conv': {
        const [h, w, c] = s as [number, number, number];
        if (s.length !== 3) throw new Error(`${where}: conv '${l.name}' needs a [h,w,c] input, got [${s}]`);
        const k = l.kernel;
        out.push({ name: `${l.name}.weight`, role: l.role, shape: [k, k, c, l.filters], layer: l.name, fanIn: c * k * k, fanOut: l.filters * k * k });
        if (l.bias) out.push({ name: `${l.name}.bias`, role: 'bias', shape: [l.filters], layer: l.name, fill: 0 });
        s = [convOut(h, k, l.stride, l.padding), convOut(w, k, l.stride, l.padding), l.filters];
        break;
      }
      case 'bn': {
        const c = s[s.length - 1] as number;
        out.push({ name: `${l.name}.gamma`, role: 'batchnorm', shape: [c], layer: l.name, fill: 1, bnPart: 'gamma' });
        out.push({ name: `${l.name}.beta`, role: 'batchnorm', shape: [c], layer: l.name, fill: 0, bnPart: 'beta' });
        out.push({ name: `${l.name}.mean`, role: 'buffer', shape: [c], layer: l.name, fill: 0, bnPart: 'mean' });
        out.push({ name: `${l.name}.var`, role: 'buffer', shape: [c], layer: l.name, fill: 1, bnPart: 'var' });
        break;
      }
      case 'relu':
      case 'dropout':
        break;
      case 'maxpool': {
        const [h, w, c] = s as [number, number, number];
        s = [convOut(h, l.size, l.stride, 'valid'), convOut(w, l.size, l.stride, 'valid'), c];
        break;
      }
      case 'avgpool':
        if (s.length !== 3) throw new Error(`${where}: avgpool needs a [h,w,c] input, got [${s}]`);
        s = [s[2] as number];
        break;
      case 'flatten':
        s = [s.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        if (s.length !== 1) throw new Error(`${where}: dense '${l.name}' needs a flat input, got [${s}] (add a flatten)`);
        const n = s[0] as number;
        out.push({ name: `${l.name}.weight`, role: l.role, shape: [n, l.units], layer: l.name, fanIn: n, fanOut: l.units });
        if (l.bias) out.push({ name: `${l.name}.bias`, role: 'bias', shape: [l.units], layer: l.name, fill: 0 });
        s = [l.units];
        break;
      }
      case 'residual': {
        const body = walk(l.body, s, out, `${where}/${l.name}`);
        const short = walk(l.shortcut, s, out, `${where}/${l.name}.shortcut`);
        if (body.join() !== short.join()) {
          throw new Error(`${where}: residual '${l.name}' body gives [${body}] but shortcut gives [${short}]`);
        }
        s = body;
        break;
      }
    }
  }
  return s;
}

/** Every tensor the spec declares, in bundle order, and the output shape. */
export function declareTensors(spec: ModelSpec): { tensors: TensorDecl[]; output: number[] } {
  const tensors: TensorDecl[] = [];
  const output = walk(spec.layers, [...spec.input], tensors, spec.arch);
  return { tensors, output };
}
