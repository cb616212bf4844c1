import { randomBytes } from 'node:crypto';
import { copyFileSync, createReadStream, fsyncSync, lstatSync, mkdirSync, openSync, closeSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { checkObjectName, type RemoteBackend } from './backend';

/**
 * A remote store on a shared filesystem (NFS, CephFS, ...): objects are files under `root`,
 * written under `root/tmp/` and renamed into place, so a reader never sees a partial one.
 */
export class FileBackend implements RemoteBackend {
  constructor(readonly root: string) {}

  get where(): string {
    return `file://${this.root}`;
  }

  private path(name: string): string {
    return join(this.root, checkObjectName(name));
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const st = lstatSync(this.path(name));
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  async read(name: string): Promise<Readable | undefined> {
    const file = this.path(name);
    try {
      if (!lstatSync(file).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return createReadStream(file);
  }

  private publish(name: string, write: (tmp: string) => void): void {
    const target = this.path(name);
    const tmp = join(this.root, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dirname(tmp), { recursive: true });
    mkdirSync(dirname(target), { recursive: true });
    try {
      write(tmp);
      // Durable before it becomes visible: a crash after the rename never leaves an empty file.
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  async putFile(name: string, file: string): Promise<void> {
    this.publish(name, (tmp) => copyFileSync(file, tmp));
  }

  async putText(name: string, text: string): Promise<void> {
    this.publish(name, (tmp) => writeFileSync(tmp, text));
  }

  async remove(name: string): Promise<void> {
    rmSync(this.path(name), { force: true });
  }
}
