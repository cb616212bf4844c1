import type { ModelRef, NamedTensor, WeightBundle } from './tensors';

/**
 * Several checkpoints of one model in one `tensors` artifact (content 'checkpoint'): tensor
 * names are `<iteration>/<tensor>` and meta.info.iterations lists the iterations, ascending.
 * The trainer writes it; rewinders select one iteration from it (rewinding to w_k).
 */
export function packCheckpoints(model: ModelRef, checkpoints: ReadonlyArray<{ iteration: number; bundle: WeightBundle }>): WeightBundle {
  const sorted = [...checkpoints].sort((a, b) => a.iteration - b.iteration);
  const tensors: NamedTensor<Float32Array>[] = [];
  for (const { iteration, bundle } of sorted) {
    for (const t of bundle.tensors) tensors.push({ ...t, name: `${iteration}/${t.name}` });
  }
  return { meta: { content: 'checkpoint', model, info: { iterations: sorted.map((c) => c.iteration) } }, tensors };
}

export function checkpointIterations(bundle: WeightBundle): number[] {
  const its = bundle.meta.info?.['iterations'];
  return Array.isArray(its) ? (its as number[]) : [];
}

/** The weights at one iteration of a checkpoint bundle, with an error listing those it has. */
export function selectCheckpoint(bundle: WeightBundle, iteration: number): WeightBundle {
  const its = checkpointIterations(bundle);
  if (bundle.meta.content !== 'checkpoint') throw new Error(`bundle holds '${bundle.meta.content}' weights, not checkpoints`);
  if (!its.includes(iteration)) {
    throw new Error(`no checkpoint at iteration ${iteration} (saved: ${its.length ? its.join(', ') : 'none'}); add it to the trainer's 'checkpoints'`);
  }
  const prefix = `${iteration}/`;
  const tensors = bundle.tensors.filter((t) => t.name.startsWith(prefix)).map((t) => ({ ...t, name: t.name.slice(prefix.length) }));
  return { meta: { content: 'checkpoint', model: bundle.meta.model, iteration }, tensors };
}
