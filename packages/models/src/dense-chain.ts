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
