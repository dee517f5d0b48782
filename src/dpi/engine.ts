// DpiEngine: picks a classifier for a flow from its first payloads and drives it until it is done.

import type { DpiContext, FlowInspection, PayloadInspector } from '../core/dpi-port.js';
import type { AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession } from './classifier.js';

/** Payload packets a flow may show without any classifier claiming it before we give up. */
const MAX_UNCLAIMED_PAYLOADS = 8;

class FlowState implements FlowInspection {
  app: AppInfo | null = null;
  done = false;
  session: ClassifierSession | null = null;
  /** Bit i set = classifier i rejected this flow. */
  rejected = 0;
  unclaimed = 0;
}

export class DpiEngine implements PayloadInspector {
  private readonly classifiers: readonly Classifier[];

  constructor(classifiers: readonly Classifier[]) {
    if (classifiers.length > 30) throw new Error('at most 30 classifiers');
    this.classifiers = classifiers;
  }

  begin(): FlowInspection {
    return new FlowState();
  }

  inspect(flow: FlowInspection, buf: Uint8Array, off: number, len: number, ctx: DpiContext): void {
    const st = flow as FlowState;
    if (st.done || len <= 0) return;
    try {
      if (st.session === null && !this.claim(st, buf, off, len, ctx)) return;
      const session = st.session!;
      const verdict = session.feed(buf, off, len, ctx);
      if (session.app !== null) st.app = session.app;
      if (verdict === Verdict.DONE) {
        st.done = true;
        st.session = null;
      } else if (verdict === Verdict.REJECT) {
        st.session = null;
        st.app = null;
        if (++st.unclaimed >= MAX_UNCLAIMED_PAYLOADS) st.done = true;
      }
    } catch {
      // A classifier must never throw; if one does, stop inspecting this flow rather than crash.
      st.done = true;
      st.session = null;
    }
  }

  /** Choose the classifier with the best score for this payload (content beats port). */
  private claim(st: FlowState, buf: Uint8Array, off: number, len: number, ctx: DpiContext): boolean {
    const bit = ctx.transport === 6 ? Transport.TCP : ctx.transport === 17 ? Transport.UDP : 0;
    let best = -1;
    let bestScore: number = Score.NO;
    const list = this.classifiers;
    for (let i = 0; i < list.length; i++) {
      if ((list[i]!.transports & bit) === 0 || (st.rejected & (1 << i)) !== 0) continue;
      const score = list[i]!.detect(buf, off, len, ctx);
      if (score > bestScore) {
        bestScore = score;
        best = i;
        if (score === Score.CONTENT) break;
      }
    }
    if (best < 0) {
      if (++st.unclaimed >= MAX_UNCLAIMED_PAYLOADS) st.done = true;
      return false;
    }
    st.rejected |= 1 << best;
    st.session = list[best]!.start();
    return true;
  }
}
