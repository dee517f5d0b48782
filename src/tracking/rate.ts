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

/** Writes one sample after the head. */
function push(c: Connection, r: Float64Array, timeMicros: number, sent: number, received: number): void {
  const head = (c.rateSampleHead + 1) % RATE_SAMPLES;
  r[head * 3] = timeMicros;
  r[head * 3 + 1] = sent;
  r[head * 3 + 2] = received;
  c.rateSampleHead = head;
  if (c.rateSampleCount < RATE_SAMPLES) c.rateSampleCount++;
}

/**
 * Records a sample at `nowMicros` and recomputes sendRateBps/receiveRateBps (bytes per second).
 * `previousTickMicros`: the tick before this one. The table takes no sample of a connection that stayed
 * idle with both rates at zero; when its traffic resumes, the ticks it skipped are filled in with its
 * unchanged byte counts (the samples they would have taken), so rates read exactly as with a sample on
 * every tick.
 */
export function sampleRates(c: Connection, nowMicros: number, previousTickMicros = -Infinity): void {
  const r = c.rateSamples ?? initRates(c);
  const lastTime = r[c.rateSampleHead * 3]!;
  if (previousTickMicros > lastTime && previousTickMicros < nowMicros) {
    const step = nowMicros - previousTickMicros;
    // Only skipped ticks still inside the window (plus one before it) can matter.
    let first = previousTickMicros;
    let n = 1;
    while (n < RATE_SAMPLES - 1 && first - step > lastTime && nowMicros - (first - step) <= RATE_WINDOW_MICROS + step) {
      first -= step;
      n++;
    }
    const sent = r[c.rateSampleHead * 3 + 1]!;
    const received = r[c.rateSampleHead * 3 + 2]!;
    for (let k = 0; k < n; k++) push(c, r, first + k * step, sent, received);
  }
  push(c, r, nowMicros, c.bytesSent, c.bytesReceived);
  const head = c.rateSampleHead;
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
