// The interface carrying the IPv4 default route, from /proc/net/route.

import * as fs from 'node:fs';

const RTF_UP = 0x1;

/** Parses /proc/net/route text: the first up default route's interface, never loopback; else null. */
export function parseDefaultRoute(text: string): string | null {
  let best: string | null = null;
  let bestMetric = Infinity;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    if (dest !== '00000000' || mask !== '00000000' || iface === 'lo') continue;
    if ((parseInt(flags, 16) & RTF_UP) === 0) continue;
    const m = parseInt(metric, 10);
    if (m < bestMetric) {
      best = iface;
      bestMetric = m;
    }
  }
  return best;
}

export function readDefaultRouteInterface(routeFile = '/proc/net/route'): string | null {
  try {
    return parseDefaultRoute(fs.readFileSync(routeFile, 'utf8'));
  } catch {
    return null;
  }
}
