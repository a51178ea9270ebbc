// Runs `topicdesk <command>` as `npx topicdesk` does: the CLI in a child process, configured by the
// environment only.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
}

/**
 * Runs the CLI with only the variables given (plus PATH/HOME), so no DATABASE_URL or .env value leaks
 * in; killed after `timeoutMs` (30 s: a test's command; a bench's may take longer).
 */
export const cli = (
  args: string[],
  env: Record<string, string>,
  { timeoutMs = 30_000 }: { readonly timeoutMs?: number } = {},
): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        // Set (even empty) so that a developer's .env cannot fill them in.
        DATABASE_URL: '',
        DATABASE_OWNER_URL: '',
        PUBLIC_URL: '',
        TELEGRAM_MODE: 'webhook',
        LOG_LEVEL: 'silent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Decoded across chunks: a character split between two chunks stays whole in a long output.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines: stdout.split('\n').filter(Boolean) });
    });
  });
