// Command line → Config (commander); every flag the monitor accepts, with its validation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RustnetError } from './core/errors.js';
import { parseDnsServer } from './enrich/reverse-dns.js';
import { LOG_LEVELS, type LogLevel } from './output/logger.js';

export interface Config {
  interface: string | undefined;
  bpfFilter: string;
  read: string | undefined;
  tui: boolean;
  /** Colours on screen (off with --no-color or a non-empty NO_COLOR). */
  color: boolean;
  /** --read in the UI: times the capture's own pace; 0 = as fast as possible. */
  replaySpeed: number;
  jsonLog: string | undefined;
  refreshIntervalMs: number;
  showLocalhost: boolean;
  dpi: boolean;
  resolveDns: boolean;
  showPtrLookups: boolean;
  /** Resolver for --resolve-dns, as ADDR:PORT (IPv6 in brackets); undefined: the system's. */
  dnsServer: string | undefined;
  logLevel: LogLevel | undefined;
  sandbox: boolean;
  sandboxStrict: boolean;
  bufferSizeMb: number;
  maxConnections: number;
  /** --pcap-export / --pcapng-export: every captured frame to this file. */
  pcapExport: string | undefined;
  pcapngExport: string | undefined;
}

export const VERSION = '0.1.0';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

function speed(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1_000_000) {
    throw new InvalidArgumentError('--replay-speed must be a number from 0 (as fast as possible) to 1000000');
  }
  return n;
}

function buildCommand(): Command {
  return new Command('rustnet-ts')
    .description('Watch every network connection on this machine, live: process, destination, protocol, rates and TCP health.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .option('-i, --interface <name>', 'interface to capture on ("any" = all interfaces on Linux; default: the interface of the default route)')
    .option('-f, --bpf-filter <expr>', 'BPF filter (pcap-filter syntax), applied in the kernel; with --read, applied to the file through tcpdump')
    .option('--read <file>', 'replay a pcap or pcapng file instead of capturing live (packet timestamps drive the clock)')
    .option('--no-tui', 'no screen: write connection events (to --json-log, or standard output) until end of file or a signal')
    .option('--replay-speed <n>', 'with --read in the UI: play the capture at N times its own pace (0 = as fast as possible); it then holds the final state until you quit', speed, 1)
    .option('--no-color', 'no colours on screen (also when the NO_COLOR environment variable is set)')
    .option('--json-log <file>', 'append new_connection/connection_closed events as JSON lines to FILE ("-" = standard output)')
    .option('-r, --refresh-interval <ms>', 'UI refresh and bookkeeping tick in milliseconds', integer('--refresh-interval', 50, 60000), 1000)
    .option('--no-localhost', 'hide connections to or from 127.0.0.0/8 and ::1 (the default)')
    .option('--show-localhost', 'show connections to or from 127.0.0.0/8 and ::1')
    .option('--no-dpi', 'disable deep packet inspection (HTTP host, TLS/QUIC SNI, DNS, SSH …)')
    .option('--resolve-dns', 'look up remote addresses\' names (reverse DNS) in the background; names seen in DNS answers on the wire are used either way')
    .option('--dns-server <addr>', 'with --resolve-dns, ask this resolver (ADDR[:PORT], IPv6 as [ADDR]:PORT) instead of the system\'s')
    .option('--show-ptr-lookups', 'with --resolve-dns, also show the PTR lookups rustnet-ts itself sends (hidden by default)')
    .addOption(new Option('-l, --log-level <level>', 'write a diagnostic log to logs/rustnet_<time>.log at this level (off by default)').choices(LOG_LEVELS))
    .option('--no-sandbox', 'started as root, keep root\'s full rights; by default the monitor drops to the sudo user (or nobody) with only cap_net_raw, cap_dac_read_search and cap_sys_ptrace (Linux, through setpriv)')
    .option('--sandbox-strict', 'exit (status 1) when that drop cannot be applied (not root, no setpriv, another OS, the kernel refuses); without it a failed drop continues with full rights and says so')
    .option('--buffer-size <MB>', 'kernel capture buffer in MiB (holds bursts while we are busy)', integer('--buffer-size', 1, 4096), 8)
    .option('--pcap-export <file>', 'write every captured frame to FILE as classic pcap (created 0600, replaced if it exists); works with --read too')
    .option('--pcapng-export <file>', 'write every captured frame to FILE as pcapng, each packet commented with its process, PID and DPI application/host where known')
    .option('--max-connections <n>', 'most connections tracked at once; the stalest are evicted beyond it', integer('--max-connections', 1, 10_000_000), 100_000)
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
}

/** The same regular file (by device and inode once both exist; else by resolved path). /dev/null may be shared. */
function samePath(a: string, b: string): boolean {
  const sa = fs.statSync(a, { throwIfNoEntry: false });
  const sb = fs.statSync(b, { throwIfNoEntry: false });
  if (sa !== undefined && sb !== undefined) return sa.isFile() && sa.dev === sb.dev && sa.ino === sb.ino;
  return path.resolve(a) === path.resolve(b);
}

/** Parses argv (without node and script). Help and version print and return null. Throws RustnetError USAGE. */
export function parseArgs(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): Config | null {
  const cmd = buildCommand();
  let errorText = '';
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: write, writeErr: (s) => { errorText += s; }, outputError: (s) => { errorText += s; } });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return null;
      const line = (errorText.trim().split('\n')[0] ?? err.message).replace(/^error: /, '');
      throw new RustnetError('USAGE', `${line} (see --help)`);
    }
    throw err;
  }
  const o = cmd.opts();
  const config: Config = {
    interface: o.interface as string | undefined,
    bpfFilter: ((o.bpfFilter as string | undefined) ?? '').trim(),
    read: o.read as string | undefined,
    tui: o.tui as boolean,
    color: (o.color as boolean) && (process.env.NO_COLOR ?? '') === '',
    replaySpeed: o.replaySpeed as number,
    jsonLog: o.jsonLog as string | undefined,
    refreshIntervalMs: o.refreshInterval as number,
    showLocalhost: o.showLocalhost === true,
    dpi: o.dpi as boolean,
    resolveDns: o.resolveDns === true,
    showPtrLookups: o.showPtrLookups === true,
    dnsServer: o.dnsServer === undefined ? undefined : parseDnsServer(o.dnsServer as string),
    logLevel: o.logLevel as LogLevel | undefined,
    sandbox: o.sandbox as boolean,
    sandboxStrict: o.sandboxStrict === true,
    bufferSizeMb: o.bufferSize as number,
    maxConnections: o.maxConnections as number,
    pcapExport: o.pcapExport as string | undefined,
    pcapngExport: o.pcapngExport as string | undefined,
  };
  if (config.read !== undefined && config.interface !== undefined) {
    throw new RustnetError('USAGE', '--read and --interface cannot be combined: a replay reads the file only (see --help)');
  }
  if (config.dnsServer !== undefined && !config.resolveDns) {
    throw new RustnetError('USAGE', '--dns-server only applies with --resolve-dns (see --help)');
  }
  const exportFile = config.pcapExport ?? config.pcapngExport;
  if (config.pcapExport !== undefined && config.pcapngExport !== undefined) {
    throw new RustnetError('USAGE', '--pcap-export and --pcapng-export cannot be combined: choose one (pcapng keeps everything pcap does, plus comments) (see --help)');
  }
  if (exportFile !== undefined && (exportFile === '' || exportFile === '-')) {
    throw new RustnetError('USAGE', 'capture export needs a file name (standard output is not supported) (see --help)');
  }
  if (exportFile !== undefined && [config.read, config.jsonLog].some((f) => f !== undefined && samePath(f, exportFile))) {
    throw new RustnetError('USAGE', `${exportFile} is both the capture export and an input or the JSON log: give the export a file of its own (see --help)`);
  }
  if (config.sandboxStrict && !config.sandbox) {
    throw new RustnetError('USAGE', '--sandbox-strict and --no-sandbox contradict each other: choose one (see --help)');
  }
  return config;
}
