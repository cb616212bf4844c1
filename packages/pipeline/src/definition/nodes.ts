import type { AnyStageDef } from '@lth/artifacts';
import type { InputBinding } from './refs';

/** One expanded, validated stage of a pipeline. */
export interface PlanNode {
  /** Expanded id: `train`, `round[2].prune`. Stable across runs, so it names the stage in the cache. */
  id: string;
  uses: string;
  def: AnyStageDef;
  /** Where the stage comes from, for people (its registry entry's package). */
  package: string;
  /** What its code fingerprint is computed from: its module file, else its package. */
  code: string;
  /** The parsed config (output of the stage's zod schema). */
  config: unknown;
  /** The stage's `with` after interpolation (what the schema parsed). */
  rawConfig: unknown;
  /** Port → binding; a `many` port gets a list (possibly empty). */
  inputs: Record<string, InputBinding | InputBinding[]>;
  deps: string[];
  /** Position of the stage in the pipeline file, for messages. */
  where: string;
  /** Matrix axes this stage collects across (`over:`); its list inputs gather every variant's. */
  over?: string[];
}

export interface Plan {
  name: string;
  file: string;
  params: Record<string, unknown>;
  /** The matrix axes and their values, when the pipeline has a `matrix:`. */
  matrix?: Record<string, unknown[]>;
  /** Stages in a topological order (every stage after its inputs). */
  nodes: PlanNode[];
}
