// Test support: hand-built ConnectionRow, InterfaceRow and Snapshot values for the UI tests; each file overrides the defaults.

import type { ConnectionRow, InterfaceRow, Snapshot } from '../../src/core/snapshot.js';

const SEC = 1_000_000;

/**
 * A quiet outgoing TCP connection 192.168.1.10:50000 → 93.184.216.34:443 (https) and nothing more: no
 * traffic, no DPI, no process, no hostnames. First and last seen at `id` milliseconds, so rows built
 * with rising ids are in chronological order.
 */
export function connectionRow(over: Partial<ConnectionRow> & { id: number }): ConnectionRow {
  return {
    protocol: 'TCP', family: 4, localAddr: '192.168.1.10', localPort: 50000, remoteAddr: '93.184.216.34',
    remotePort: 443, hasPorts: true, state: 'ESTABLISHED', direction: 'outgoing', service: 'https', app: null,
    bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, sendRateBps: 0, receiveRateBps: 0,
    tcp: null, firstSeenMicros: over.id * 1000, lastSeenMicros: over.id * 1000, timeoutMicros: 600 * SEC,
    closedAtMicros: undefined, closeReason: undefined, pid: undefined, processName: undefined,
    processUnit: undefined, containerId: undefined, containerName: undefined, localHostname: undefined,
    remoteHostname: undefined, ...over,
  };
}

/**
 * Row 1: firefox (pid 4242) on HTTPS to GitHub from port 51234, with traffic, rates and TCP counters that
 * are all non-zero; first seen at `t0`, last seen a minute later.
 */
export function githubRow(t0: number, over: Partial<ConnectionRow> = {}): ConnectionRow {
  return connectionRow({
    id: 1, localPort: 51234, remoteAddr: '140.82.112.3',
    app: { protocol: 'HTTPS', domain: 'github.com', details: { sni: 'github.com', alpn: ['h2'], tls_version: 'TLS 1.3' } },
    bytesSent: 12_345, bytesReceived: 1_234_567, packetsSent: 120, packetsReceived: 950,
    sendRateBps: 2048, receiveRateBps: 153_600,
    tcp: { retransmits: 3, outOfOrder: 1, fastRetransmits: 2, dupAcks: 7 },
    firstSeenMicros: t0, lastSeenMicros: t0 + 60 * SEC, pid: 4242, processName: 'firefox',
    ...over,
  });
}

/** An interface that is up, not the captured one, with 1000 bytes and 10 packets each way and no errors. */
export function interfaceRow(over: Partial<InterfaceRow>): InterfaceRow {
  return {
    name: 'eth0', captured: false, up: true, rxBytes: 1000, txBytes: 1000, rxPackets: 10, txPackets: 10, rxErrors: 0,
    txErrors: 0, rxDropped: 0, txDropped: 0, rxRateBps: 0, txRateBps: 0, collisions: 0, operState: 'up', ...over,
  };
}

/**
 * Generation 1 of a live capture on eth0 holding `connections` (all created, none evicted) and nothing
 * else: no closed rows, no interfaces, zero counters. The time is required: every view reads it.
 */
export function snapshotOf(connections: readonly ConnectionRow[], over: Partial<Snapshot> & { nowMicros: number }): Snapshot {
  return {
    generation: 1,
    source: { kind: 'live', name: 'eth0', linkType: 1, description: 'Ethernet', filter: '' },
    connections, recentlyClosed: [], tcp: { retransmits: 0, outOfOrder: 0, fastRetransmits: 0 },
    capture: { framesSeen: 0, framesDecoded: 0, framesMalformed: 0, framesSkipped: 0, skipped: {} },
    connectionsCreated: connections.length, connectionsEvicted: 0, interfaces: [], ...over,
  };
}
