// DpiEngine: picks a classifier for a flow from its first payloads and drives it until it is done.

import type { DpiContext, FlowInspection, PayloadInspector } from '../core/dpi-port.js';
import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession } from './classifier.js';

/** Payload packets a flow may show without any classifier claiming it before we give up. */
export const MAX_UNCLAIMED_PAYLOADS = 4;

class FlowState implements FlowInspection {
  app: AppInfo | null = null;
  done = false;
  session: ClassifierSession | null = null;
  /** Bit i set = classifier i was already tried on this flow (and is not tried again). */
  tried = 0;
  unclaimed = 0;
  /** Payloads inspected so far (a session started later is told it joined after the flow's start). */
  seen = 0;
  /** The port guess was looked for (it is looked for once, and only when content gave no label). */
  guessed = false;
  /** What the ports alone suggest (confidence 'port'), shown while content says nothing. */
  guess: AppInfo | null = null;
}

export class DpiEngine implements PayloadInspector {
  /** Payloads on which a classifier threw (a bug of ours: should stay 0). */
  classifierErrors = 0;
  private readonly classifiers: readonly Classifier[];
  /** Indexes into `classifiers` of those that take TCP / UDP, so a claim only asks the relevant ones. */
  private readonly tcp: number[];
  private readonly udp: number[];

  constructor(classifiers: readonly Classifier[]) {
    if (classifiers.length > 30) throw new Error('at most 30 classifiers');
    this.classifiers = classifiers;
    this.tcp = classifiers.flatMap((c, i) => ((c.transports & Transport.TCP) !== 0 ? [i] : []));
    this.udp = classifiers.flatMap((c, i) => ((c.transports & Transport.UDP) !== 0 ? [i] : []));
  }

  begin(): FlowInspection {
    return new FlowState();
  }

  inspect(flow: FlowInspection, buf: Uint8Array, off: number, len: number, ctx: DpiContext): void {
    const st = flow as FlowState;
    if (st.done || len <= 0) return;
    try {
      if (st.session !== null || this.claim(st, buf, off, len, ctx)) {
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
      }
      // Nothing recognised from the content (yet, or at all): what the port suggests, marked as a guess.
      if (st.app === null) st.app = this.portGuess(st, ctx);
    } catch {
      // A classifier must never throw; if one does, stop inspecting this flow rather than crash, and
      // count it so tests (and the summary) can tell.
      this.classifierErrors++;
      st.done = true;
      st.session = null;
    }
    st.seen++;
  }

  /** Choose the classifier with the best score for this payload (content beats framing beats port). */
  private claim(st: FlowState, buf: Uint8Array, off: number, len: number, ctx: DpiContext): boolean {
    const indexes = ctx.transport === 6 ? this.tcp : ctx.transport === 17 ? this.udp : [];
    let best = -1;
    let bestScore: number = Score.NO;
    const list = this.classifiers;
    for (let k = 0; k < indexes.length; k++) {
      const i = indexes[k]!;
      if ((st.tried & (1 << i)) !== 0) continue;
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
    st.tried |= 1 << best;
    st.session = list[best]!.start(bestScore, st.seen);
    return true;
  }

  /**
   * The first port guess of the flow's classifiers, made once per flow and only for flows whose content
   * gave no label: flows recognised from their first payload (nearly all) never pay for it.
   */
  private portGuess(st: FlowState, ctx: DpiContext): AppInfo | null {
    if (st.guessed) return st.guess;
    st.guessed = true;
    const indexes = ctx.transport === 6 ? this.tcp : ctx.transport === 17 ? this.udp : [];
    for (let k = 0; k < indexes.length; k++) {
      const c = this.classifiers[indexes[k]!]!;
      const protocol = c.guess === undefined ? undefined : c.guess(ctx);
      if (protocol !== undefined) {
        st.guess = newAppInfo(protocol, 'port');
        break;
      }
    }
    return st.guess;
  }
}
