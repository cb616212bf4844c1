import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';

/** Thrown when an export would replace a file and overwriting was not asked for. */
export class ExportTargetExistsError extends Error {
  constructor(readonly file: string) {
    super(`${file} exists and is not overwritten (overwrite: true replaces it)`);
    this.name = 'ExportTargetExistsError';
  }
}

/**
 * Writes `file` whole or not at all: a temporary file beside it, fsynced, then renamed into
 * place (overwrite) or hard-linked (no overwrite: the link fails if the file exists, so a file
 * that appears meanwhile is never replaced). The temporary file is removed in every case.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, overwrite: boolean): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await fs.open(tmp, 'wx');
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (overwrite) await fs.rename(tmp, file);
    else {
      await fs.link(tmp, file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new ExportTargetExistsError(file) : err;
      });
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}
