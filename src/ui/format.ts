// Numbers, times and endpoints as the screens show them. Pure; no terminal knowledge.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1024-based size with three significant digits: "0 B", "512 B", "1.50 KB", "12.3 MB", "100 GB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let unit = 0;
  let v = n;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(v)} B`;
  const text = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${text} ${UNITS[unit]}`;
}

/** Bytes per second: "0 B/s", "2.40 KB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A count with thousands separators: 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const s = Math.round(n).toString();
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A duration in microseconds, two units at most: "0s", "45s", "3m 05s", "2h 10m", "3d 4h". */
export function formatDuration(micros: number): string {
  if (!Number.isFinite(micros) || micros < 0) return '—';
  const total = Math.floor(micros / 1_000_000);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Address and port joined the usual way: "10.0.0.1:443", "[2001:db8::1]:443"; no port for portless protocols. */
export function formatEndpoint(addr: string, port: number | string | undefined): string {
  if (port === undefined || port === '') return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `s` cut to `width` characters, ending in '…' when cut; padded with spaces to `width` when `pad`. */
export function fit(s: string, width: number, pad = false): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
  return pad ? s.padEnd(width) : s;
}
