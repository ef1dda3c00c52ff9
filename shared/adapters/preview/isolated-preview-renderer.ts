import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../../ports/logger.js';
import {
  PreviewFailedError,
  type PreviewFailureReason,
  type PreviewRenderer,
} from '../../ports/preview-renderer.js';
import { drawsPreviewOf } from './pdfjs-canvas-preview-renderer.js';
import { readSource } from './read-source.js';
import type { RenderHostOptions, RenderReply, RenderRequest } from './render-host-protocol.js';

export interface IsolatedPreviewRendererOptions extends RenderHostOptions {
  readonly logger: Logger;
  /** Larger sources are not read: `too-large`. @default 104857600 (100 MiB) */
  readonly maxSourceBytes?: number;
  /** The host is killed (and restarted for the next render) after this long: `timeout`. @default 20000 */
  readonly timeoutMs?: number;
  /** Child processes, each drawing one preview at a time. @default 1 */
  readonly processes?: number;
  /**
   * Memory each child may use, in bytes: its data segment is limited to this (`ulimit -d`, so
   * allocations beyond it fail inside the child), its JS heap to three quarters of it, and a child whose
   * resident memory still passes it is killed. Such a render fails with `resource-limit`.
   * @default 805306368 (768 MiB: with the parent, within the render function's 1024 MB)
   */
  readonly maxMemoryBytes?: number;
  /**
   * The host module (`render-host`), when it is bundled apart from this file.
   * @default the `render-host` beside this module (`.ts` under tsx, `.js` when bundled)
   */
  readonly hostModule?: string;
}

interface Host {
  child: ChildProcess | null;
  busy: boolean;
  /** Files the current child has drawn: what an earlier file left in its heap counts against the next. */
  drawn: number;
}

const MiB = 1024 * 1024;
/** How often a drawing child's resident memory is read. */
const MEMORY_POLL_MS = 10;
/**
 * A child whose data segment stays above this share of the ceiling after a render is replaced:
 * V8 and WebAssembly do not give memory back, so a warm child gives each new file less room
 * (on pdf.js's corpus it grew from ~480 to ~750 MB over 90 PDFs, and files that draw in a fresh
 * process failed in it).
 */
const RECYCLE_SHARE = 0.7;
/** A failure while memory stood this close to the ceiling is the ceiling's, not the file's. */
const NEAR_CEILING_SHARE = 0.85;

/** A host that exits while drawing a file was killed by it: the file is the verdict. */
const crashReason = (mimeType: string): PreviewFailureReason =>
  mimeType === 'application/pdf' ? 'corrupt' : 'undecodable';

/**
 * Draws previews in child processes (`render-host`, which runs the pdf.js and canvas renderer),
 * one file at a time each. The service's process survives files that crash the native canvas
 * code, the time limit is hard (the child is killed), and a host that dies is started again on
 * the next render, the way the issue asks a browser to be restarted. Each host is started on
 * first use and kept warm; an idle host does not keep the parent alive.
 */
export function createIsolatedPreviewRenderer(
  opts: IsolatedPreviewRendererOptions,
): PreviewRenderer & { close(): void } {
  const maxSourceBytes = opts.maxSourceBytes ?? 100 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const maxMemoryBytes = opts.maxMemoryBytes ?? 768 * MiB;
  const hosts: Host[] = Array.from({ length: opts.processes ?? 1 }, () => ({
    child: null,
    busy: false,
    drawn: 0,
  }));
  const waiting: ((host: Host) => void)[] = [];
  const hostOptions: RenderHostOptions = {
    maxSourcePixels: opts.maxSourcePixels,
    maxAspect: opts.maxAspect,
    pdfjsDistDir: opts.pdfjsDistDir,
  };
  let nextId = 1;
  let closed = false;

  const start = (host: Host): ChildProcess => {
    const module = opts.hostModule ?? defaultHostModule();
    const nodeArgs = [
      `--max-old-space-size=${Math.max(64, Math.floor((maxMemoryBytes / MiB) * 0.75))}`,
      // TypeScript sources (tests, `npm start`) load through tsx; a bundled host needs nothing.
      ...(module.endsWith('.ts') ? ['--import', tsxLoader()] : []),
    ];
    const child = fork(module, [JSON.stringify(hostOptions)], {
      ...memoryLimitedLaunch(nodeArgs, maxMemoryBytes),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The host parses untrusted files and needs no cloud access: code exploited through a
      // hostile PDF or image must not find the function's credentials in its environment.
      env: hostEnvironment(process.env),
    });
    child.on('error', (error) => opts.logger.error('preview host failed', { error: String(error) }));
    // A host that dies while idle is started again by the next render.
    child.on('exit', () => {
      if (host.child === child) host.child = null;
    });
    idle(child);
    host.drawn = 0;
    return child;
  };

  const acquire = (): Promise<Host> => {
    const free = hosts.find((host) => !host.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((take) => waiting.push(take));
  };
  const release = (host: Host) => {
    const next = waiting.shift();
    if (next) next(host);
    else host.busy = false;
  };

  const draw = (host: Host, request: RenderRequest): Promise<RenderReply> => {
    host.child ??= start(host);
    const child = host.child;
    busy(child);
    return new Promise<RenderReply>((resolve, reject) => {
      let overMemory = false;
      /** The most data-segment memory seen while drawing: a crash at the ceiling is the ceiling's doing. */
      let peakData = 0;
      const finish = () => {
        clearTimeout(timer);
        clearInterval(watch);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (host.child === child && child.connected) idle(child);
      };
      const onMessage = (reply: RenderReply) => {
        if (reply.id !== request.id) return;
        finish();
        host.drawn += 1;
        const after = memoryOf(child.pid)?.dataBytes ?? 0;
        peakData = Math.max(peakData, after);
        // An allocation refused near the ceiling surfaces as any error inside a library (pdf.js
        // calls it a corrupt file): a verdict reached there is the memory's, not the file's.
        const verdict: RenderReply =
          !reply.ok && reply.reason !== null && peakData >= maxMemoryBytes * NEAR_CEILING_SHARE
            ? {
                id: reply.id,
                ok: false,
                reason: 'resource-limit',
                message: overCeiling(maxMemoryBytes).message,
              }
            : reply;
        // A child that ran out of memory may be left in any state, and one that holds most of
        // the ceiling leaves the next file too little: either way the next render gets a new one.
        if ((!verdict.ok && verdict.reason === 'resource-limit') || after > maxMemoryBytes * RECYCLE_SHARE)
          retire(host, child);
        resolve(verdict);
      };
      const onExit = (code: number | null, signal: string | null) => {
        finish();
        if (host.child === child) host.child = null;
        // V8 aborts when its heap is full; code that cannot map memory under the limit may die
        // of SIGSEGV instead, which is told from a damaged file by the memory it held at the end.
        const memory =
          overMemory ||
          signal === 'SIGABRT' ||
          code === 134 ||
          (signal !== null && peakData >= maxMemoryBytes * 0.9);
        opts.logger.warn('preview host died while drawing', {
          mimeType: request.mimeType,
          code,
          signal,
          overMemory: memory,
        });
        reject(
          memory
            ? overCeiling(maxMemoryBytes)
            : new PreviewFailedError(crashReason(request.mimeType), 'The renderer crashed on this file.', {
                cause: { code, signal },
              }),
        );
      };
      const timer = setTimeout(() => {
        finish();
        retire(host, child);
        reject(new PreviewFailedError('timeout', `The preview took longer than ${timeoutMs} ms.`));
      }, timeoutMs);
      // Memory the data-segment limit does not see (or where no limit could be set) is caught here.
      const watch = setInterval(() => {
        const usage = memoryOf(child.pid);
        if (!usage) return;
        peakData = Math.max(peakData, usage.dataBytes);
        if (usage.residentBytes <= maxMemoryBytes) return;
        overMemory = true;
        child.kill('SIGKILL'); // `exit` follows and answers
      }, MEMORY_POLL_MS);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(request, (error) => {
        if (!error) return;
        finish();
        retire(host, child);
        reject(new Error('The preview host could not be reached.', { cause: error }));
      });
    });
  };

  const retire = (host: Host, child: ChildProcess) => {
    if (host.child === child) host.child = null;
    child.kill('SIGKILL');
  };

  return {
    supports: drawsPreviewOf,

    async render(input) {
      if (closed) throw new Error('The preview renderer is closed.');
      if (!drawsPreviewOf(input.mimeType))
        throw new PreviewFailedError('unsupported', `No preview for ${input.mimeType}.`);
      // Refused by its size before it waits; read only once a process is free, so the sources held
      // in this process are at most one per render process, however many previews wait.
      if (input.size !== undefined && input.size > maxSourceBytes)
        await readSource(input.bytes, maxSourceBytes, input.size); // throws too-large, the stream destroyed
      const host = await acquire();
      try {
        const bytes = await readSource(input.bytes, maxSourceBytes, input.size);
        const request = { bytes, mimeType: input.mimeType, width: input.width };
        const warm = host.child !== null && host.drawn > 0;
        let reply = await draw(host, { id: nextId++, ...request }).catch((error: unknown) => error);
        // Over the ceiling in a process that drew other files first: WebAssembly memory never
        // shrinks and heaps fragment, so the file gets one try in a fresh process before it is
        // judged too big (a fresh one is what the first try of a file in a new process had).
        if (warm && isResourceLimit(reply)) {
          opts.logger.info('preview retried in a fresh render process', { mimeType: input.mimeType });
          reply = await draw(host, { id: nextId++, ...request }).catch((error: unknown) => error);
        }
        if (reply instanceof Error) throw reply;
        if (!isReply(reply)) throw new Error('The preview host gave no answer.');
        if (reply.ok) return { png: reply.png, width: reply.width, height: reply.height };
        if (reply.reason) throw new PreviewFailedError(reply.reason, reply.message);
        throw new Error(`The preview host failed: ${reply.message}`);
      } finally {
        release(host);
      }
    },

    close() {
      closed = true;
      for (const host of hosts) {
        host.child?.kill();
        host.child = null;
      }
    },
  };
}

const isResourceLimit = (outcome: unknown) =>
  (outcome instanceof PreviewFailedError && outcome.reason === 'resource-limit') ||
  (isReply(outcome) && !outcome.ok && outcome.reason === 'resource-limit');

const isReply = (outcome: unknown): outcome is RenderReply =>
  typeof outcome === 'object' && outcome !== null && 'ok' in outcome && 'id' in outcome;

const overCeiling = (maxMemoryBytes: number) =>
  new PreviewFailedError(
    'resource-limit',
    `Drawing this file needs more than ${Math.round(maxMemoryBytes / MiB)} MiB; it is not previewed.`,
  );

/**
 * How to start the host with its data segment limited (Linux, where `/bin/sh` is): the shell
 * sets `ulimit -d` and execs Node in its place, so the child keeps its pid and IPC channel.
 * `ulimit -v` would not do: V8 and WebAssembly reserve many GiB of address space they never use.
 * Elsewhere the host starts as is, and only the resident-memory watch holds it.
 */
function memoryLimitedLaunch(nodeArgs: string[], maxMemoryBytes: number) {
  if (process.platform !== 'linux' || !existsSync('/bin/sh')) return { execArgv: nodeArgs };
  const kib = Math.floor(maxMemoryBytes / 1024);
  return {
    execPath: '/bin/sh',
    execArgv: ['-c', `ulimit -d ${kib} && exec "$0" "$@"`, process.execPath, ...nodeArgs],
  };
}

/** A process's resident and data-segment memory from /proc, or null where it cannot be read. */
function memoryOf(pid: number | undefined): { residentBytes: number; dataBytes: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kib = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
    const [resident, data] = [kib('VmRSS'), kib('VmData')];
    return Number.isNaN(resident) ? null : { residentBytes: resident * 1024, dataBytes: (data || 0) * 1024 };
  } catch {
    return null;
  }
}

/** An idle host must not keep the service (or a test run) alive; a working one must. */
function idle(child: ChildProcess): void {
  child.unref();
  (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
}
function busy(child: ChildProcess): void {
  child.ref();
  (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
}

function defaultHostModule(): string {
  const here = fileURLToPath(import.meta.url);
  const host = here.replace(/isolated-preview-renderer\.(ts|js|mjs)$/, 'render-host.$1');
  if (host === here)
    throw new Error(
      `The preview host module cannot be found beside ${here} (a bundle?): bundle ` +
        'shared/adapters/preview/render-host.ts on its own and name it with PREVIEW_HOST_MODULE.',
    );
  return host;
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** The parent's environment without credentials or secrets of any kind. */
export function hostEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = /^(AWS_|S3_|DYNAMODB_|FILESTORE_SECRET|FILESTORE_DEV_JWT|JWT_|TENANT_ROLE|SECRETS_)/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.test(name)));
}
