import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/**
 * `npm start` in a child process (node with tsx's loader, so the pid is the stack itself and
 * SIGKILL reaches it, not a wrapper), on free ports and the given data directory. `crash()` is
 * `kill -9`: no shutdown code runs; DynamoDB Local's Java process exits by itself once its
 * parent is gone (its standard input closes), and `crash` waits for that before it resolves.
 */
export interface ChildStack {
  url: string;
  dynamoEndpoint: string;
  crash(): Promise<void>;
  /** SIGTERM: the stack's own shutdown. */
  stop(): Promise<void>;
  output(): string;
}

export async function startChildStack(env: Record<string, string>): Promise<ChildStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_NO_WARNINGS: '1',
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      PORT: '0',
      S3_PORT: '0',
      DYNAMODB_PORT: '0',
      FILESTORE_MAINTENANCE_INTERVAL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = await new Promise<RegExpExecArray>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`The stack did not start in 120 s:\n${output}`)), 120_000);
    const check = () => {
      const match = /Stowage ready at (\S+) \(S3 (\S+), DynamoDB (\S+)\)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      fail(new Error(`The stack exited before it was ready:\n${output}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    const descendants = await descendantsOf(child);
    child.kill(signal);
    await exited;
    await Promise.all(descendants.map(gone));
  };
  return {
    url: ready[1] as string,
    dynamoEndpoint: ready[3] as string,
    crash: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    output: () => output,
  };
}

/** Every process below this one (DynamoDB Local's Java), from /proc. */
async function descendantsOf(child: ChildProcess): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [p, parent] of parents)
      if (parent === pid) {
        found.push(p);
        walk(p);
      }
  };
  if (child.pid) walk(child.pid);
  return found;
}

async function gone(pid: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    // Gone, or a zombie nobody reaps yet (its files and sockets are released already).
    if (stat === null || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Process ${pid} is still running 30 s after its parent died.`);
}
