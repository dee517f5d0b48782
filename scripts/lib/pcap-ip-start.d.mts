// Types of pcap-ip-start.mjs, for the TypeScript tests that import it.

/** Offset of the IP header in the frame d[s, e) of link type `linkType`, or -1 when it carries no IP. */
export declare function ipStart(d: Uint8Array, s: number, e: number, linkType: number): number;
