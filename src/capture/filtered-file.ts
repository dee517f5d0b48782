// Applies a BPF filter to a capture file by running it through tcpdump into a temporary file.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RustnetError } from '../core/errors.js';

export interface FilteredFile {
  path: string;
  /** Removes the temporary copy. */
  dispose(): void;
}

/** Writes the packets of `input` that match `filter` to a temporary pcap file. */
export function filterCaptureFile(input: string, filter: string): FilteredFile {
  if (!fs.existsSync(input)) throw new RustnetError('FILE_NOT_FOUND', `cannot read ${input}: no such file`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-ts-'));
  const out = path.join(dir, 'filtered.pcap');
  const dispose = (): void => fs.rmSync(dir, { recursive: true, force: true });
  // -Z root: Debian's tcpdump otherwise drops to its own user and cannot write our 0700 folder.
  const run = spawnSync('tcpdump', ['-n', '-Z', 'root', '-r', input, '-w', out, '--', filter], { encoding: 'utf8' });
  if (run.error !== undefined) {
    dispose();
    const code = (run.error as NodeJS.ErrnoException).code;
    throw new RustnetError('BAD_FILTER', code === 'ENOENT'
      ? '--bpf-filter with --read needs tcpdump (apt-get install tcpdump), or drop the filter'
      : `could not run tcpdump to apply the filter: ${run.error.message}`);
  }
  if (run.status !== 0) {
    dispose();
    const reason = run.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('reading from'))[0] ?? 'tcpdump failed';
    throw new RustnetError('BAD_FILTER', `cannot apply BPF filter '${filter}' to ${input}: ${reason.replace(/^tcpdump: /, '')}`);
  }
  return { path: out, dispose };
}
