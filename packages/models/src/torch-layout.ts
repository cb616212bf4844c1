import type { MaskBundle, WeightBundle } from '@lth/artifacts';
import type { LayerSpec, ModelSpec } from './spec';
import { maskedTensors, type PlainTensor } from './masked';
import type { SafeTensor } from './safetensors';

/**
 * A model spec as PyTorch sees it: every layer with the shapes it works on, resolved once for
 * both the state_dict conversion and the generated module (torch-module.ts), so the two agree.
 */
export type TorchOp =
  | {
      op: 'conv';
      name: string;
      inC: number;
      outC: number;
      kernel: number;
      stride: number;
      /** TensorFlow 'same' padding as explicit [top, bottom, left, right]: asymmetric for stride 2 on even sizes. */
      pad: [number, number, number, number];
      bias: boolean;
    }
  | { op: 'bn'; name: string; channels: number; dims: 1 | 2 }
  | { op: 'relu' }
  | { op: 'maxpool'; size: number; stride: number }
  | { op: 'avgpool' }
  | { op: 'flatten' }
  /** `fromHWC`: the input is a flattened [h, w, c] map (our order HWC, PyTorch's CHW). */
  | { op: 'dense'; name: string; inF: number; outF: number; bias: boolean; fromHWC?: [number, number, number] }
  | { op: 'dropout'; rate: number }
  | { op: 'residual'; name: string; body: TorchOp[]; shortcut: TorchOp[] };

function samePad(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The spec's layers with shapes; `state.flat` remembers a flatten until the dense that consumes it. */
function plan(layers: LayerSpec[], shape: number[], state: { flat?: [number, number, number] }): { ops: TorchOp[]; shape: number[] } {
  const ops: TorchOp[] = [];
  let s = shape;
  for (const l of layers) {
    switch (l.kind) {
      case 'conv': {
        const [h, w, c] = s as [number, number, number];
        const ph = l.padding === 'same' ? samePad(h, l.kernel, l.stride) : [0, 0];
        const pw = l.padding === 'same' ? samePad(w, l.kernel, l.stride) : [0, 0];
        ops.push({
          op: 'conv',
          name: l.name,
          inC: c,
          outC: l.filters,
          kernel: l.kernel,
          stride: l.stride,
          pad: [ph[0]!, ph[1]!, pw[0]!, pw[1]!],
          bias: l.bias,
        });
        s = [Math.floor((h + ph[0]! + ph[1]! - l.kernel) / l.stride) + 1, Math.floor((w + pw[0]! + pw[1]! - l.kernel) / l.stride) + 1, l.filters];
        break;
      }
      case 'bn':
        ops.push({ op: 'bn', name: l.name, channels: s[s.length - 1]!, dims: s.length === 3 ? 2 : 1 });
        break;
      case 'relu':
      case 'avgpool':
      case 'flatten':
        ops.push({ op: l.kind });
        if (l.kind === 'avgpool') s = [s[2]!];
        if (l.kind === 'flatten') {
          if (s.length === 3) state.flat = s as [number, number, number];
          s = [s.reduce((a, b) => a * b, 1)];
        }
        break;
      case 'maxpool':
        ops.push({ op: 'maxpool', size: l.size, stride: l.stride });
        s = [Math.floor((s[0]! - l.size) / l.stride) + 1, Math.floor((s[1]! - l.size) / l.stride) + 1, s[2]!];
        break;
      case 'dense':
        ops.push({ op: 'dense', name: l.name, inF: s[0]!, outF: l.units, bias: l.bias, ...(state.flat ? { fromHWC: state.flat } : {}) });
        delete state.flat;
        s = [l.units];
        break;
      case 'dropout':
        ops.push({ op: 'dropout', rate: l.rate });
        break;
      case 'residual': {
        const body = plan(l.body, s, state);
        const shortcut = plan(l.shortcut, s, state);
        ops.push({ op: 'residual', name: l.name, body: body.ops, shortcut: shortcut.ops });
        s = body.shape;
        break;
      }
    }
  }
  return { ops, shape: s };
}

export function torchPlan(spec: ModelSpec): TorchOp[] {
  return plan(spec.layers, [...spec.input], {}).ops;
}

/** Our conv kernel [kh, kw, in, out] as PyTorch's OIHW. */
function toOIHW(v: Float32Array | Uint8Array, k: number, inC: number, outC: number): Float32Array | Uint8Array {
  const out = new (v.constructor as Float32ArrayConstructor | Uint8ArrayConstructor)(v.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) out[((o * inC + i) * k + y) * k + x] = v[((y * k + x) * inC + i) * outC + o]!;
  return out;
}

/**
 * Our dense kernel [in, out] as PyTorch's [out, in]. After a flatten of an [h, w, c] map our
 * input index is (y*w + x)*c + ch (HWC) and PyTorch's, flattening NCHW, (ch*h + y)*w + x.
 */
function toOutIn(v: Float32Array | Uint8Array, inF: number, outF: number, hwc?: [number, number, number]): Float32Array | Uint8Array {
  const out = new (v.constructor as Float32ArrayConstructor | Uint8ArrayConstructor)(v.length);
  const [h, w, c] = hwc ?? [1, 1, inF];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        const r = (y * w + x) * c + ch;
        const q = hwc ? (ch * h + y) * w + x : r;
        for (let o = 0; o < outF; o++) out[o * inF + q] = v[r * outF + o]!;
      }
  return out;
}

/**
 * The (masked) weights as the state_dict of the module torch-module.ts generates: Conv2d
 * weights OIHW, Linear weights [out, in] (rows permuted to CHW after a flatten), BatchNorm
 * `weight`/`bias`/`running_mean`/`running_var`/`num_batches_tracked`, and with a mask one
 * uint8 `<layer>.weight_mask` per masked weight, in the weight's layout (1 = kept).
 * `num_batches_tracked` is the bundle's iteration where known, else 0 (PyTorch reads it only
 * with momentum=None).
 */
export function torchStateDict(bundle: WeightBundle, mask: MaskBundle | undefined, spec: ModelSpec): SafeTensor[] {
  const values = maskedTensors(bundle, mask, 'export safetensors');
  const masks = new Map((mask?.tensors ?? []).map((m) => [m.name, m.values]));
  const get = (name: string): PlainTensor => {
    const t = values.get(name);
    if (!t) throw new Error(`export safetensors: weight bundle for '${spec.arch}' lacks tensor '${name}'`);
    return t;
  };
  const out: SafeTensor[] = [];
  const f32 = (name: string, shape: number[], data: Float32Array | Uint8Array) => out.push({ name, dtype: 'F32', shape, data: data as Float32Array });
  const weight = (name: string, shape: number[], convert: (v: Float32Array | Uint8Array) => Float32Array | Uint8Array) => {
    f32(`${name}.weight`, shape, convert(get(`${name}.weight`).values));
    const m = masks.get(`${name}.weight`);
    if (m) out.push({ name: `${name}.weight_mask`, dtype: 'U8', shape, data: convert(m) as Uint8Array });
  };
  const walk = (ops: TorchOp[]) => {
    for (const op of ops) {
      if (op.op === 'conv') {
        weight(op.name, [op.outC, op.inC, op.kernel, op.kernel], (v) => toOIHW(v, op.kernel, op.inC, op.outC));
        if (op.bias) f32(`${op.name}.bias`, [op.outC], get(`${op.name}.bias`).values);
      } else if (op.op === 'dense') {
        weight(op.name, [op.outF, op.inF], (v) => toOutIn(v, op.inF, op.outF, op.fromHWC));
        if (op.bias) f32(`${op.name}.bias`, [op.outF], get(`${op.name}.bias`).values);
      } else if (op.op === 'bn') {
        for (const [ours, theirs] of [
          ['gamma', 'weight'],
          ['beta', 'bias'],
          ['mean', 'running_mean'],
          ['var', 'running_var'],
        ] as const) {
          f32(`${op.name}.${theirs}`, [op.channels], get(`${op.name}.${ours}`).values);
        }
        out.push({ name: `${op.name}.num_batches_tracked`, dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(bundle.meta.iteration ?? 0)) });
      } else if (op.op === 'residual') {
        walk(op.body);
        walk(op.shortcut);
      }
    }
  };
  walk(torchPlan(spec));
  return out;
}
