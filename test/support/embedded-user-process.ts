// A process on the embedded PostgreSQL as the app and every CLI command are: it starts the server
// or joins it (startEmbeddedPostgres), queries it every 20 ms until a line (or the end) on stdin
// tells it to leave, then leaves. Prints a JSON line when it is on the server and one when done,
// with every query that failed in between.
// Usage: node --import tsx test/support/embedded-user-process.ts <dataDir> <port>
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';

const [dataDir, port] = process.argv.slice(2);
const server = await startEmbeddedPostgres({
  dataDir: dataDir!,
  port: Number(port),
  unsafeFast: true,
  log: (line) => process.stderr.write(`${line}\n`),
});
const pool = new pg.Pool({ connectionString: server.url, max: 1 });
pool.on('error', () => undefined); // a dropped idle connection: the next query says so
let leaving = false;
process.stdin.on('data', () => {
  leaving = true;
});
process.stdin.on('end', () => {
  leaving = true;
});
const failures: string[] = [];
let queries = 0;
const query = async () => {
  try {
    await pool.query('SELECT 1');
    queries += 1;
  } catch (error) {
    failures.push((error as Error).message);
  }
};
await query();
console.log(JSON.stringify({ on: true, started: server.started, port: server.port }));
while (!leaving) {
  await new Promise((r) => setTimeout(r, 20));
  await query();
}
await pool.end();
await server.stop();
console.log(JSON.stringify({ done: true, queries, failures }));
