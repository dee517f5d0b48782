// Big- and little-endian integer reads without bounds checks (callers check lengths first).

export function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

export function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** The native decoder behind Buffer#toString('latin1'): present on every Node Buffer, just not in the typings. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}
const hasLatin1Slice = typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function';

/**
 * b[start..end) one character per byte. Calls the native decoder directly: Buffer#toString goes through
 * a JS wrapper (argument checks, an encoding lookup) that costs more per short string than the decoding,
 * and which the optimising compiler inlines into every hot caller, making each of those slower to compile.
 */
export function latin1String(b: Buffer, start: number, end: number): string {
  return hasLatin1Slice ? (b as unknown as Latin1Slicer).latin1Slice(start, end) : b.toString('latin1', start, end);
}
