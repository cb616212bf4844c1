/** True when `id` is forced by one of the patterns (exact id, source name, or group name). */
export function isForced(id: string, force: readonly string[]): boolean {
  // `seed=1/round[2].train` is forced by itself, `round[2].train`, `train`, `round` or `*`.
  const bare = id.replace(/^[^/]*\//, '');
  const source = bare.replace(/^[^.[]+\[\d+\]\./, '');
  const group = /^([^.[]+)\[\d+\]\./.exec(bare)?.[1];
  return force.some((f) => f === id || f === bare || f === source || f === group || f === '*');
}
