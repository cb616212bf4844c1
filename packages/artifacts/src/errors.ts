/** Every failure to read or write an artifact names the file and what is wrong with it. */
export class ArtifactError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'ArtifactError';
  }
}
