import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The EICAR test file, built at run time from its published text so that no antivirus on a
 * developer's machine quarantines a file of this repository. 68 bytes, MD5 44d88612….
 */
export function eicar(): Buffer {
  const parts = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS', '-TEST-FILE!$H+H*'];
  return Buffer.from(parts.join(''), 'latin1');
}

/** The one signature the test database holds: EICAR by MD5 and size (ClamAV's .hdb format). */
const EICAR_SIGNATURE = '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature';

export interface Clamd {
  /** The unix socket it listens on (`CLAMD_SOCKET`). */
  socket: string;
  stop(): Promise<void>;
}

/** Why clamd cannot run here, or null when it can (Debian's `clamav-daemon`, installed by .ci/run). */
export function clamdUnavailable(): string | null {
  const probe = spawnSync('clamd', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `clamd is not installed (apt-get install clamav-daemon): ${probe.error.message}`;
  return probe.status === 0 ? null : `clamd --version failed: ${probe.stderr.trim()}`;
}

/**
 * Starts a clamd of its own: a temporary config and a database that knows only EICAR (ClamAV's
 * signatures cannot be downloaded here, and no freshclam runs), on a unix socket, resolving once
 * it answers PING.
 */
export async function startClamd(opts: { streamMaxLength?: string; socket?: string } = {}): Promise<Clamd> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-clamd-'));
  const socket = opts.socket ?? join(dir, 'clamd.sock');
  await mkdir(join(dir, 'db'));
  await writeFile(join(dir, 'db', 'eicar.hdb'), `${EICAR_SIGNATURE}\n`);
  const config = [
    'Foreground yes',
    `LocalSocket ${socket}`,
    `DatabaseDirectory ${join(dir, 'db')}`,
    `StreamMaxLength ${opts.streamMaxLength ?? '256M'}`,
    'MaxFileSize 256M',
    'MaxScanSize 256M',
    `LogFile ${join(dir, 'clamd.log')}`,
  ].join('\n');
  await writeFile(join(dir, 'clamd.conf'), `${config}\n`);
  const child = spawn('clamd', ['-c', join(dir, 'clamd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + 60_000;
  while (!(existsSync(socket) && (await pings(socket)))) {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`clamd did not answer within 60 s: ${stderr}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    socket,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function pings(socket: string): Promise<boolean> {
  return new Promise((done) => {
    const client = connect(socket);
    let reply = '';
    client.on('connect', () => client.write('zPING\0'));
    client.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('\0')) {
        client.destroy();
        done(reply.startsWith('PONG'));
      }
    });
    client.on('error', () => done(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}
