import type { LayerSpec } from './spec';

/** One layer of a dense chain, by bundle tensor names. */
export interface DenseChainStep {
  weight: string;
  bias?: string;
  /** A ReLU follows the layer. */
  relu: boolean;
}

/**
 * The model as a plain chain of dense layers, flatten -> (dense [relu] [dropout 0])* with no
 * ReLU after the last one, or null for anything else (convolutions, batch norm, dropout that
 * drops, two ReLUs in a row). Such a model's training step can run as one native call
 * (@lth/compute's nativeDenseStep; LeNet-300-100 is one).
 */
export function denseChain(layers: readonly LayerSpec[]): DenseChainStep[] | null {
  if (layers[0]?.kind !== 'flatten') return null;
  const chain: DenseChainStep[] = [];
  for (const l of layers.slice(1)) {
    const last = chain[chain.length - 1];
    if (l.kind === 'dense') chain.push({ weight: `${l.name}.weight`, ...(l.bias ? { bias: `${l.name}.bias` } : {}), relu: false });
    else if (l.kind === 'relu' && last && !last.relu) last.relu = true;
    else if (l.kind === 'dropout' && l.rate === 0) continue;
    else return null;
  }
  const last = chain[chain.length - 1];
  return last && !last.relu ? chain : null;
}

/** One convolution of a conv chain, by bundle tensor names; a 2x2 max-pool may follow its ReLU. */
export interface ConvChainStep {
  weight: string;
  bias?: string;
  pool: boolean;
}

/** A conv net as the native conv-net step trains it: convolutions, then a dense chain. */
export interface ConvChain {
  convs: ConvChainStep[];
  dense: DenseChainStep[];
}

/**
 * The model as (conv 3x3 stride 1 'same' -> relu [-> maxpool 2x2 stride 2])+ -> flatten -> a
 * dense chain (denseChain's rules), or null for anything else (batch norm, residual blocks,
 * dropout that drops, other kernels or pools). The paper's Conv-2/4/6 without dropout are such
 * nets; their training step can run as one native call (@lth/compute's nativeConvNetStep).
 */
export function convChain(layers: readonly LayerSpec[]): ConvChain | null {
  const convs: ConvChainStep[] = [];
  let i = 0;
  for (; layers[i]?.kind === 'conv';) {
    const c = layers[i]!;
    if (c.kind !== 'conv' || c.kernel !== 3 || c.stride !== 1 || c.padding !== 'same' || layers[i + 1]?.kind !== 'relu') return null;
    const next = layers[i + 2];
    const pool = next?.kind === 'maxpool';
    if (next?.kind === 'maxpool' && (next.size !== 2 || next.stride !== 2)) return null;
    convs.push({ weight: `${c.name}.weight`, ...(c.bias ? { bias: `${c.name}.bias` } : {}), pool });
    i += pool ? 3 : 2;
  }
  const dense = convs.length ? denseChain(layers.slice(i)) : null;
  return dense ? { convs, dense } : null;
}
