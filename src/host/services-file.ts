// The host's /etc/services as a port/protocol → service name table, so names follow the local system.

import * as fs from 'node:fs';

/**
 * Parses services(5) text: `name port/protocol [aliases…] [# comment]`. Keys are `${port}/${proto}` for
 * tcp and udp only; the first line for a key wins, as getservbyport(3) returns the first match.
 */
export function parseServices(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = hash === -1 ? raw : raw.slice(0, hash);
    const f = line.trim().split(/\s+/);
    const name = f[0];
    const portProto = f[1];
    if (name === undefined || name === '' || portProto === undefined) continue;
    const m = /^(\d{1,5})\/(tcp|udp)$/i.exec(portProto);
    if (m === null) continue;
    const port = Number(m[1]);
    if (port > 65535) continue;
    const key = `${port}/${(m[2] ?? '').toLowerCase()}`;
    if (!out.has(key)) out.set(key, name);
  }
  return out;
}

/** Reads and parses the services file; null when it is missing or unreadable (containers often lack it). */
export function readServices(path = '/etc/services'): Map<string, string> | null {
  try {
    return parseServices(fs.readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}
