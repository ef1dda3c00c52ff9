import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ListeningSocket {
  /** Dotted IPv4, or IPv6 in full hex groups (`0:0:0:0:0:ffff:7f00:1`). */
  address: string;
  port: number;
  inode: number;
}

const LISTEN = '0A';

/** Every TCP socket in LISTEN state on this machine (this network namespace), from /proc/net/tcp{,6}. */
export async function listeningSockets(): Promise<ListeningSocket[]> {
  const sockets: ListeningSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
    for (const line of lines) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (state !== LISTEN || !local || !inode) continue;
      const [hexAddress, hexPort] = local.split(':') as [string, string];
      sockets.push({
        address: decodeAddress(hexAddress),
        port: Number.parseInt(hexPort, 16),
        inode: Number(inode),
      });
    }
  }
  return sockets;
}

/** The inodes of the sockets a process holds open. */
export async function socketInodesOf(pid: number): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(Number(inode));
  }
  return inodes;
}

/** 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopback(address: string): boolean {
  if (address.startsWith('127.')) return true;
  return address === '0:0:0:0:0:0:0:1' || /^0:0:0:0:0:ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(address);
}

/** The kernel prints each 32-bit word of the address in host (little-endian) byte order. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(':');
}
