import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { checkObjectName, type RemoteBackend } from './backend';

/**
 * A remote store in an S3 bucket (AWS S3, MinIO, Ceph RGW, R2, ...). The endpoint, region and
 * credentials come from the AWS SDK's standard chain (AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/config, instance roles);
 * AWS_S3_FORCE_PATH_STYLE=true selects path-style addressing, which MinIO-like servers need.
 * A PUT is atomic on S3: readers see the whole object or none.
 */
export class S3Backend implements RemoteBackend {
  private readonly client: S3Client;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const pathStyle = /^(1|true|yes)$/i.test(env['AWS_S3_FORCE_PATH_STYLE'] ?? '');
    this.client = new S3Client({ forcePathStyle: pathStyle });
  }

  get where(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  private key(name: string): string {
    const n = checkObjectName(name);
    return this.prefix ? `${this.prefix}/${n}` : n;
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return r.ContentLength;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw describe(err, this.where);
    }
  }

  async read(name: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      const body = r.Body;
      if (!body) return undefined;
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw describe(err, this.where);
    }
  }

  async putFile(name: string, file: string): Promise<void> {
    const ContentLength = statSync(file).size;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: createReadStream(file), ContentLength }));
    } catch (err) {
      throw describe(err, this.where);
    }
  }

  async putText(name: string, text: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: text, ContentType: 'application/json' }));
    } catch (err) {
      throw describe(err, this.where);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
    } catch (err) {
      if (!isMissing(err)) throw describe(err, this.where);
    }
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** The SDK's error with the bucket named (never the credentials: the SDK does not print them). */
function describe(err: unknown, where: string): Error {
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return new Error(`remote store ${where}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${status}`, { cause: err });
}
