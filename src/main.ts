#!/usr/bin/env -S node --min-semi-space-size=16
// Composition root: argv → config → packet source, outputs and session; the only place that knows the source.
//
// The young generation starts at its full default size (16 MB semi-spaces) instead of growing there from
// 1 MB: while it grows, each of a dozen extra scavenges copies every young connection and its DPI state
// (measured on the bench replay: 39 → 26 scavenges, 30 ms less collection with DPI on; peak RSS unchanged).

import * as fs from 'node:fs';
import { ReplaySource } from './capture/replay-source.js';
import { VERSION, parseArgs, type Config } from './cli.js';
import { RustnetError } from './core/errors.js';
import type { EventSink } from './core/event-sink.js';
import type { PacketSource } from './core/packet-source.js';
import type { LiveSource } from './capture/live-source.js';
import { DpiEngine } from './dpi/engine.js';
import { defaultClassifiers } from './dpi/default-classifiers.js';
import { readDefaultRouteInterface } from './host/default-route.js';
import { interfaceKind } from './host/interface-kind.js';
import { readServices } from './host/services-file.js';
import { readInterfaceCounters } from './host/interface-stats.js';
import { Hostnames } from './enrich/hostnames.js';
import { InterfaceMonitor } from './enrich/interface-monitor.js';
import { ProcessAttribution } from './enrich/process-attribution.js';
import { linuxProcessHost } from './host/process-host.js';
import { sockDiagAvailable } from './host/sock-diag.js';
import { PassiveDns } from './enrich/passive-dns.js';
import { ReverseDns } from './enrich/reverse-dns.js';
import { ServiceNames } from './core/service-names.js';
import { LocalAddresses } from './host/local-addresses.js';
import { CaptureExport, connectionComment } from './output/capture-export.js';
import { JsonEventLog } from './output/json-event-log.js';
import { openLogger, type DiagnosticLog } from './output/logger.js';
import { Session, bindProcessEvents, type Enricher, type FrameObserver } from './pipeline/session.js';
import type { ConnectionKey, SideTables } from './core/side-tables.js';
import type { SourceInfo } from './core/snapshot.js';
import { reducePrivileges } from './privilege-drop.js';
import { describePrivileges } from './host/privileges.js';
import type { TerminalUi } from './ui/terminal-ui.js';
import type { StatusFacts } from './ui/traffic-history.js';

/** How often live capture re-reads the host's addresses. */
const ADDRESS_REFRESH_MICROS = 5_000_000;

function say(line: string): void {
  process.stderr.write(`rustnet-ts: ${line}\n`);
}

function summary(session: Session): string {
  const c = session.monitor.counters();
  const reasons = Object.entries(c.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
  const t = session.monitor.table;
  return `${c.framesSeen} frames, ${c.framesDecoded} decoded, ${c.framesSkipped} skipped${reasons ? ` (${reasons})` : ''}; ` +
    `${t.totalCreated} connections${t.evicted ? `, ${t.evicted} evicted at the --max-connections cap` : ''}; ` +
    `TCP retransmits ${t.totals.retransmits}, out-of-order ${t.totals.outOfOrder}, fast retransmits ${t.totals.fastRetransmits}`;
}

function pickInterface(config: Config, listDevices: () => { name: string; flags?: string; addresses: unknown[] }[]): string {
  if (config.interface !== undefined) return config.interface;
  const viaRoute = readDefaultRouteInterface();
  if (viaRoute !== null) return viaRoute;
  // No default route: the first interface that is up, has an address, and is not loopback.
  const candidate = listDevices().find((d) => !(d.flags ?? '').includes('LOOPBACK') && d.addresses.length > 0 && d.name !== 'any');
  if (candidate !== undefined) return candidate.name;
  throw new RustnetError('BAD_INTERFACE', `no default route and no usable interface found; choose one with -i (available: ${listDevices().map((d) => d.name).join(', ')})`);
}

/** Live capture only: the host's addresses tell which side of a connection is local; they change now and then. */
function addressRefresher(local: LocalAddresses): Enricher {
  let last = 0;
  return {
    apply(nowMicros) {
      if (nowMicros - last >= ADDRESS_REFRESH_MICROS) {
        if (last !== 0) local.refresh();
        last = nowMicros;
      }
      return false;
    },
  };
}

/** The JSON log (headless: standard output unless --json-log says otherwise), and at debug level a copy of every event in the diagnostic log. */
function eventSinks(config: Config, logger: DiagnosticLog): EventSink[] {
  const sinks: EventSink[] = [];
  // With a screen, events go only where --json-log sends them (standard output is the screen).
  const target = config.jsonLog ?? (config.tui ? undefined : '-');
  if (target !== undefined) {
    sinks.push(JsonEventLog.open(target, (message) => {
      say(message);
      logger.error(message);
    }));
  }
  if (!logger.isLevelEnabled('debug')) return sinks;
  const copy: EventSink = {
    write: (event) => logger.debug({ connection: event }, event.event),
    flush: () => {},
    backlogged: false,
    whenWritable: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  sinks.push(copy);
  return sinks;
}

/**
 * --pcap-export / --pcapng-export: opens the file once the source is open (its link type is known then) and keeps
 * the exporter in `opened` for the closing summary. A replay can wait for the file; live capture drops instead.
 */
function captureExport(config: Config, logger: DiagnosticLog, opened: CaptureExport<ConnectionKey>[]):
  ((info: SourceInfo, side: SideTables) => FrameObserver) | undefined {
  const file = config.pcapngExport ?? config.pcapExport;
  if (file === undefined) return undefined;
  const format = config.pcapngExport !== undefined ? 'pcapng' : 'pcap';
  return (info, side) => {
    const exporter = CaptureExport.open<ConnectionKey>(file, {
      format,
      linkType: info.linkType,
      interfaceName: info.kind === 'live' ? info.name : undefined,
      interfaceDescription: info.kind === 'live' ? info.description : `replay of ${info.name}`,
      application: `rustnet-ts ${VERSION}`,
      canWait: info.kind === 'replay',
      comment: format === 'pcapng' ? connectionComment(side) : undefined,
      onWarning: (message) => {
        say(message);
        logger.error(message);
      },
    });
    opened.push(exporter);
    return exporter;
  };
}

/** What the Statistics panel shows beside the Snapshot. */
/** The Statistics panel's "Process detection" on Linux: where sockets come from, then how they meet processes. */
function linuxProcessDetection(): string {
  return sockDiagAvailable() ? 'sock_diag + procfs (/proc/*/fd)' : 'procfs (/proc/net, /proc/*/fd)';
}

function statusFacts(config: Config, replay: ReplaySource | null, capture: LiveSource | null): StatusFacts {
  let progress: StatusFacts['replay'] = null;
  if (replay !== null) {
    const p = replay.progress();
    progress = { file: config.read!, progress: p.ended ? 'finished, holding the final state (q q to quit)' : `${Math.floor(p.fraction * 100)}%` };
  }
  return {
    processDetection: replay !== null ? 'none (a replay\'s sockets are gone)' : process.platform === 'linux' ? linuxProcessDetection() : 'not supported on this platform',
    privileges: describePrivileges(),
    localhostHidden: !config.showLocalhost,
    kernelDrops: capture?.stats().dropped ?? null,
    replay: progress,
  };
}

/**
 * While a screen is up, nothing may be written over it: what goes to stderr meanwhile is held (bounded) and
 * written once the terminal is restored.
 */
interface StderrHold {
  release(): void;
}

function holdStderr(): StderrHold {
  const original = process.stderr.write.bind(process.stderr);
  const held: string[] = [];
  let size = 0;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (size < 64 * 1024) {
      held.push(text);
      size += text.length;
    }
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stderr.write;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      process.stderr.write = original;
      for (const text of held) original(text);
    },
  };
}

/**
 * Live capture: the kernel's drop counters, read every tick. A change is written to the diagnostic log and,
 * headless, said on stderr once per tick (a screen shows the count in its Statistics panel).
 */
function dropReporter(source: LiveSource, logger: DiagnosticLog, headless: boolean): Enricher {
  let lastDropped = 0;
  return {
    apply() {
      const s = source.stats();
      const dropped = s.dropped ?? 0;
      if (dropped !== lastDropped) {
        const ifDropped = s.interfaceDropped ?? 0;
        logger.info({ kernelDropped: dropped, interfaceDropped: ifDropped, received: s.received }, 'kernel dropped frames');
        if (headless) {
          say(`warning: the kernel dropped ${dropped - lastDropped} frames since the last tick (${dropped} in all, ` +
            `${s.received} captured${ifDropped > 0 ? `, ${ifDropped} dropped by the interface` : ''}); a larger --buffer-size holds longer bursts`);
        }
        lastDropped = dropped;
      }
      return false;
    },
  };
}

/** The closing summary's capture counts. */
function dropSummary(source: LiveSource): string {
  const s = source.stats();
  if (s.dropped === null) return `${s.received} frames captured; kernel drops: not known`;
  return `${s.received} frames captured, kernel drops ${s.dropped}` +
    `${s.interfaceDropped !== null && s.interfaceDropped > 0 ? `, interface drops ${s.interfaceDropped}` : ''}`;
}

async function liveSource(config: Config): Promise<{ source: LiveSource; device: string }> {
  // The libpcap binding loads only for live capture.
  const { LiveSource, listDevices } = await import('./capture/live-source.js');
  const device = pickInterface(config, listDevices);
  const source = new LiveSource({ device, filter: config.bpfFilter, bufferBytes: config.bufferSizeMb * 1024 * 1024, describe: interfaceKind });
  return { source, device };
}

export async function main(argv: string[]): Promise<number> {
  const config = parseArgs(argv);
  if (config === null) return 0;
  if (config.tui && !(process.stdout.isTTY && process.stdin.isTTY)) {
    throw new RustnetError('USAGE', 'the terminal UI needs a terminal; run with --no-tui to write events instead (add --json-log FILE to keep them in a file)');
  }
  if (config.tui && config.jsonLog === '-') {
    throw new RustnetError('USAGE', '--json-log - writes to standard output, which the screen uses; give a file, or add --no-tui');
  }
  if (config.read !== undefined && !fs.existsSync(config.read)) {
    throw new RustnetError('FILE_NOT_FOUND', `cannot read ${config.read}: no such file`);
  }
  // Started as root, this process only runs the monitor as a reduced child and returns its exit status.
  const privileges = await reducePrivileges(config, argv);
  if (privileges.exitCode !== null) return privileges.exitCode;
  const { logger, file } = await openLogger(config.logLevel, undefined, privileges.logStartedAt);
  if (file !== undefined) logger.info({ config }, 'rustnet-ts starting');
  privileges.report(logger);
  const live = config.read === undefined;
  const capture = live ? await liveSource(config) : null;
  // In the UI a replay plays at the capture's pace (times --replay-speed); headless it runs as fast as it can.
  const replay = live ? null : new ReplaySource(config.read!, config.bpfFilter, { speed: config.tui ? config.replaySpeed : 0 });
  const source = capture?.source ?? replay!;
  let screen: TerminalUi | null = null;
  const local = live ? new LocalAddresses() : null;
  const hostnames = new Hostnames(new PassiveDns(),
    config.resolveDns ? new ReverseDns({ server: config.dnsServer }) : null, config.dpi);
  const enrichers: Enricher[] = [hostnames];
  if (local !== null) enrichers.push(addressRefresher(local));
  if (capture !== null) {
    enrichers.push(dropReporter(capture.source, logger, !config.tui));
    // Process attribution needs the host's /proc: live capture only (a replay's sockets are long gone).
    if (process.platform === 'linux') {
      enrichers.push(new InterfaceMonitor(() => readInterfaceCounters(), capture.device));
      enrichers.push(new ProcessAttribution(linuxProcessHost(), setImmediate, undefined, (message) => {
        say(message);
        logger.info({}, message);
      }));
    } else {
      const message = 'process attribution and interface statistics are not supported on this platform';
      say(message);
      logger.info({}, message);
    }
  }
  const exports: CaptureExport<ConnectionKey>[] = [];
  const session = new Session(source, () => eventSinks(config, logger), {
    maxConnections: config.maxConnections,
    showLocalhost: config.showLocalhost,
    localAddresses: local,
    inspector: config.dpi ? new DpiEngine(defaultClassifiers()) : null,
    tickIntervalMs: config.refreshIntervalMs,
    enrichers,
    // Our own reverse lookups are traffic too; they would fill the log with PTR queries of its own making.
    eventFilter: config.showPtrLookups ? undefined : (row) => !(row.app !== null && hostnames.isOwnLookup(row.app.details.dns_queries)),
    services: new ServiceNames(readServices()),
    readers: config.tui ? [{ render: (snapshot) => screen?.render(snapshot) }] : [],
    // Live: the kernel's clock, which stamps the frames (see LiveSource.clock).
    clock: capture !== null ? () => capture.source.clock() : replay !== null && !replay.packetClock ? () => replay.clock() : undefined,
    // A replay in the UI holds its final state until the user quits.
    holdAtEnd: config.tui && replay !== null,
    frameObserver: captureExport(config, logger, exports),
  });
  // Handlers go in before the source opens: a signal sent as soon as capture starts must stop us cleanly.
  const unbind = bindProcessEvents(session);
  let stderr: StderrHold | null = null;
  try {
    // The source opens before any screen: a missing privilege or a bad file is said on a normal terminal.
    const info = session.open();
    if (info.kind === 'live') {
      logger.info({ device: info.name, linkType: info.linkType, kind: info.description, filter: info.filter }, 'live capture started');
      if (!config.tui) say(`capturing on ${info.name} (${info.description})${info.filter ? ` with filter '${info.filter}'` : ''}; Ctrl+C to stop`);
    } else {
      logger.info({ file: info.name, format: info.description, linkType: info.linkType }, 'replaying capture file');
    }
    if (config.tui) {
      stderr = holdStderr();
      // Loaded only for a screen: headless runs, and the root parent of a privilege drop, never need blessed.
      const { TerminalUi } = await import('./ui/terminal-ui.js');
      screen = new TerminalUi({ color: config.color, refreshIntervalMs: config.refreshIntervalMs, facts: () => statusFacts(config, replay, capture?.source ?? null), onQuit: () => session.stop() });
    }
    const end = await session.run();
    screen?.destroy();
    stderr?.release();
    const stats: ReturnType<PacketSource['stats']> = source.stats();
    logger.info({ counters: session.monitor.counters(), received: stats.received, kernelDropped: stats.dropped, interfaceDropped: stats.interfaceDropped },
      live ? 'live capture stopped' : 'replay finished');
    say(capture !== null ? `${summary(session)}; ${dropSummary(capture.source)}` : summary(session));
    for (const e of exports) {
      say(e.summary());
      logger.info({ file: e.path, format: e.format, written: e.framesWritten, dropped: e.framesDropped, failure: e.failure }, 'capture export closed');
    }
    if (end.failure !== null) {
      say(end.failure.message);
      if (end.failure.exitCode === 70 && process.env.RUSTNET_DEBUG) process.stderr.write(`${end.failure.stack ?? ''}\n`);
      return end.failure.exitCode === 70 ? 70 : 1;
    }
    return 0;
  } finally {
    screen?.destroy();
    stderr?.release();
    hostnames.close();
    unbind();
    logger.flush();
  }
}

// Everything is written and closed by the time main settles; exiting explicitly also ends a process whose
// JSON log reader stopped reading (the abandoned write would otherwise keep it alive).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof RustnetError) {
      say(err.message);
      process.exit(err.exitCode);
    }
    say(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.RUSTNET_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exit(70);
  },
);
