// COPY … TO STDOUT / FROM STDIN on a plain pg client, without pg-copy-streams (not a dependency):
// a pg "submittable" speaks the COPY sub-protocol on the client's connection. Bench use only.
import { once } from 'node:events';
import type pg from 'pg';

interface WireConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  readonly stream: NodeJS.WritableStream & { readonly writableNeedDrain: boolean };
}

const chunkBytes = 1 << 20;

class CopyCommand {
  readonly done: Promise<number>;
  /** COPY TO STDOUT: the data, in chunks of about 1 MiB. */
  readonly chunks: Buffer[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private rows = 0;
  private error: Error | undefined;
  private settle: { resolve: (n: number) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly text: string,
    private readonly source?: readonly Buffer[],
  ) {
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  submit(connection: WireConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: WireConnection): void {
    void (async () => {
      try {
        for (const chunk of this.source ?? []) {
          if (this.error) return;
          connection.sendCopyFromChunk(chunk);
          if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
        }
        connection.endCopyFrom();
      } catch (error) {
        connection.sendCopyFail(String(error));
      }
    })();
  }

  handleCopyData(message: { chunk: Buffer }): void {
    this.pending.push(Buffer.from(message.chunk));
    this.pendingBytes += message.chunk.length;
    if (this.pendingBytes >= chunkBytes) this.flush();
  }

  handleCommandComplete(message: { text: string }): void {
    this.flush();
    this.rows = Number(/(\d+)$/.exec(message.text)?.[1] ?? 0);
  }

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    if (this.error) this.settle?.reject(this.error);
    else this.settle?.resolve(this.rows);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}

  private flush() {
    if (this.pendingBytes === 0) return;
    this.chunks.push(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

const run = async (pool: pg.Pool, command: CopyCommand): Promise<number> => {
  const client = await pool.connect();
  try {
    client.query(command as unknown as pg.Submittable);
    return await command.done;
  } finally {
    client.release();
  }
};

/** `COPY (query) TO STDOUT` in text format: the rows as COPY's own bytes, ready for copyIn. */
export const copyOut = async (
  pool: pg.Pool,
  query: string,
): Promise<{ rows: number; chunks: Buffer[]; bytes: number }> => {
  const command = new CopyCommand(`COPY (${query}) TO STDOUT`);
  const rows = await run(pool, command);
  return { rows, chunks: command.chunks, bytes: command.chunks.reduce((n, c) => n + c.length, 0) };
};

/** `COPY table (columns) FROM STDIN` of text-format chunks; resolves to the number of rows copied. */
export const copyIn = (pool: pg.Pool, target: string, chunks: readonly Buffer[]): Promise<number> =>
  run(pool, new CopyCommand(`COPY ${target} FROM STDIN`, chunks));
