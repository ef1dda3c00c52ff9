import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  RenderHostOptions,
  RenderReply,
  RenderRequest,
} from '../../shared/adapters/preview/render-host-protocol.js';

const HOST_MODULE = fileURLToPath(new URL('../../shared/adapters/preview/render-host.ts', import.meta.url));
const tsxLoader = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * The preview render host (`render-host`) forked the way `createIsolatedPreviewRenderer` forks
 * it, but with its pid in hand, so its peak memory can be read from `/proc`.
 */
export interface RenderHostChild {
  pid: number;
  render(bytes: Uint8Array, mimeType: string, width: number): Promise<RenderReply>;
  /** `VmHWM` (peak resident set) of the child, in bytes. */
  peakRss(): Promise<number>;
  close(): void;
}

export function forkRenderHost(options: RenderHostOptions = {}): RenderHostChild {
  const child = fork(HOST_MODULE, [JSON.stringify(options)], {
    execArgv: ['--import', tsxLoader()],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  return {
    pid: child.pid as number,
    render(bytes, mimeType, width) {
      const request: RenderRequest = { id: nextId++, bytes: new Uint8Array(bytes), mimeType, width };
      return new Promise((resolve, reject) => {
        const onMessage = (reply: RenderReply) => {
          if (reply.id !== request.id) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(reply);
        };
        const onExit = (code: number | null) => reject(new Error(`The render host exited (${code}).`));
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send(request);
      });
    },
    peakRss: () => peakRssOf(child),
    close: () => child.kill(),
  };
}

/** A Node child with the same tsx loader that does nothing: the floor under the host's memory. */
export async function idleNodePeakRss(): Promise<number> {
  const child = spawn(process.execPath, ['--import', tsxLoader(), '-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return await peakRssOf(child);
  } finally {
    child.kill();
  }
}

async function peakRssOf(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`No VmHWM in /proc/${child.pid}/status.`);
  return Number(kb) * 1024;
}
