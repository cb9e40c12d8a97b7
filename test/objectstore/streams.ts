import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** A generated stream of `size` bytes in `chunkSize` chunks, hashed as it is produced. */
export interface GeneratedStream {
  stream: Readable;
  /** SHA-256 of everything produced so far (complete once the stream has ended). */
  digest(): string;
  produced(): number;
}

/**
 * Generates `size` pseudo-random bytes without holding them: one random block, with each chunk
 * stamped with its index so no two chunks are equal. `failAfter` makes the stream error after
 * that many bytes (a source that breaks mid-upload); `holdEndUntil` delays the end of the stream
 * until the promise resolves (a writer that is still uploading).
 */
export function generatedStream(
  size: number,
  opts: { chunkSize?: number; failAfter?: number; holdEndUntil?: Promise<void> } = {},
): GeneratedStream {
  const chunkSize = opts.chunkSize ?? 1024 * 1024;
  const block = randomBytes(chunkSize);
  const hash = createHash('sha256');
  let produced = 0;
  let index = 0;
  let hex: string | undefined;
  let ending = false;
  const stream = new Readable({
    highWaterMark: chunkSize,
    read() {
      if (opts.failAfter !== undefined && produced >= opts.failAfter) {
        this.destroy(new Error(`generated source failed after ${produced} bytes`));
        return;
      }
      if (produced >= size) {
        if (ending) return;
        ending = true;
        const end = (): void => {
          hex = hash.digest('hex');
          this.push(null);
        };
        if (opts.holdEndUntil === undefined) end();
        else void opts.holdEndUntil.then(end);
        return;
      }
      const n = Math.min(chunkSize, size - produced);
      const chunk = Buffer.allocUnsafe(n);
      block.copy(chunk, 0, 0, n);
      if (n >= 4) chunk.writeUInt32BE(index % 2 ** 32, 0);
      index += 1;
      hash.update(chunk);
      produced += n;
      this.push(chunk);
    },
  });
  return {
    stream,
    digest: () => {
      if (hex === undefined) throw new Error('generated stream has not ended');
      return hex;
    },
    produced: () => produced,
  };
}

/** Reads a stream to its end, returning its SHA-256 and length without keeping the bytes. */
export async function hashStream(stream: AsyncIterable<Buffer>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Reads a stream into one Buffer (small objects only). */
export async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Samples this process's RSS and heap every `intervalMs` and keeps the peaks. */
export class MemorySampler {
  readonly baselineRss: number;
  readonly baselineHeap: number;
  peakRss: number;
  peakHeap: number;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 20) {
    const m = process.memoryUsage();
    this.baselineRss = this.peakRss = m.rss;
    this.baselineHeap = this.peakHeap = m.heapUsed;
    this.timer = setInterval(() => {
      this.sample();
    }, intervalMs);
  }

  sample(): void {
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
  }

  stop(): { rssGrowth: number; heapGrowth: number; peakRss: number } {
    clearInterval(this.timer);
    this.sample();
    return {
      rssGrowth: this.peakRss - this.baselineRss,
      heapGrowth: this.peakHeap - this.baselineHeap,
      peakRss: this.peakRss,
    };
  }
}

export const MIB = 1024 * 1024;
