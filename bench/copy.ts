// COPY … TO STDOUT / FROM STDIN on a plain pg client, without pg-copy-streams (not a dependency):
// a pg "submittable" speaks the COPY sub-protocol on the client's connection. Bench use only.
// The data goes through a file, in chunks of about 1 MiB, never all in memory: at 5 M events the
// log's COPY text is several GiB.
import { once } from 'node:events';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
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
  /** COPY TO STDOUT: bytes written to the file. */
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private rows = 0;
  private error: Error | undefined;
  private settle: { resolve: (n: number) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly text: string,
    /** COPY FROM STDIN: the file to send; COPY TO STDOUT: the descriptor to write to. */
    private readonly io: { readonly from: string } | { readonly to: number },
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
        if (!('from' in this.io)) throw new Error('COPY FROM STDIN without a file');
        for await (const chunk of createReadStream(this.io.from, { highWaterMark: chunkBytes })) {
          if (this.error) return;
          connection.sendCopyFromChunk(chunk as Buffer);
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

  /** A synchronous write: while it runs, no more COPY data is read off the socket (back-pressure). */
  private flush() {
    if (this.pendingBytes === 0 || !('to' in this.io)) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    for (let off = 0; off < data.length; ) off += writeSync(this.io.to, data, off);
    this.bytes += data.length;
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

/** `COPY (query) TO STDOUT` in text format into `file` (created or truncated): COPY's own bytes, ready for copyIn. */
export const copyOut = async (
  pool: pg.Pool,
  query: string,
  file: string,
): Promise<{ rows: number; file: string; bytes: number }> => {
  const fd = openSync(file, 'w');
  try {
    const command = new CopyCommand(`COPY (${query}) TO STDOUT`, { to: fd });
    const rows = await run(pool, command);
    return { rows, file, bytes: command.bytes };
  } finally {
    closeSync(fd);
  }
};

/** `COPY table (columns) FROM STDIN` of a file copyOut wrote; resolves to the number of rows copied. */
export const copyIn = (pool: pg.Pool, target: string, file: string): Promise<number> =>
  run(pool, new CopyCommand(`COPY ${target} FROM STDIN`, { from: file }));
