// Up/down rates over a short sliding window of per-tick samples; they fall to zero once traffic stops.

import { RATE_SAMPLES, type Connection } from './connection.js';

/** Span of samples a rate is computed over. */
export const RATE_WINDOW_MICROS = 3_000_000;

/** Starts the ring with (first packet time, 0, 0) so the first rate covers the connection's whole life. */
function initRates(c: Connection): Float64Array {
  const r = new Float64Array(RATE_SAMPLES * 3);
  r[0] = c.firstSeenMicros;
  c.rateSamples = r;
  c.rateSampleCount = 1;
  c.rateSampleHead = 0;
  return r;
}

/** Records a sample at `nowMicros` and recomputes sendRateBps/receiveRateBps (bytes per second). */
export function sampleRates(c: Connection, nowMicros: number): void {
  const r = c.rateSamples ?? initRates(c);
  const head = (c.rateSampleHead + 1) % RATE_SAMPLES;
  r[head * 3] = nowMicros;
  r[head * 3 + 1] = c.bytesSent;
  r[head * 3 + 2] = c.bytesReceived;
  c.rateSampleHead = head;
  if (c.rateSampleCount < RATE_SAMPLES) c.rateSampleCount++;
  // Oldest sample still inside the window (at least one step back).
  let base = (head - 1 + RATE_SAMPLES) % RATE_SAMPLES;
  for (let k = 2; k < c.rateSampleCount; k++) {
    const i = (head - k + RATE_SAMPLES) % RATE_SAMPLES;
    if (nowMicros - r[i * 3]! > RATE_WINDOW_MICROS) break;
    base = i;
  }
  const dt = nowMicros - r[base * 3]!;
  if (dt <= 0) return;
  c.sendRateBps = ((c.bytesSent - r[base * 3 + 1]!) * 1e6) / dt;
  c.receiveRateBps = ((c.bytesReceived - r[base * 3 + 2]!) * 1e6) / dt;
}
