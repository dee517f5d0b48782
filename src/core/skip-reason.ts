// Why a frame was not tracked: codes the decoder and tracker return, with names for counters.

export const Skip = {
  OK: 0,
  TRUNCATED_LINK: 1,
  UNSUPPORTED_LINK: 2,
  UNSUPPORTED_ETHERTYPE: 3,
  TRUNCATED_IP: 4,
  BAD_IP_HEADER: 5,
  TRUNCATED_TRANSPORT: 6,
  BAD_TRANSPORT_HEADER: 7,
  BAD_ARP: 8,
  UNMATCHED_FRAGMENT: 9,
  LOCALHOST_FILTERED: 10,
  /** A bug of ours threw on this frame: counted and skipped so one bad frame cannot stop the monitor. */
  INTERNAL_ERROR: 11,
  /** PPPoE discovery (0x8863): session set-up between client and concentrator, no user traffic. */
  PPPOE_DISCOVERY: 12,
  /** PPP inside a PPPoE session carrying something other than IP or MPLS (LCP, IPCP, authentication...). */
  UNSUPPORTED_PPP_PROTOCOL: 13,
  /** Under the bottom MPLS label, something other than IPv4/IPv6 (a pseudowire, an Ethernet frame...). */
  UNSUPPORTED_MPLS_PAYLOAD: 14,
  /** More stacked VLAN tags or MPLS labels than any real network uses: taken as garbage, not walked further. */
  BAD_LINK_HEADER: 15,
} as const;

/** Counter names, indexed by Skip code (Skip.OK has none). */
export const SKIP_NAMES: readonly string[] = [
  'ok',
  'truncated_link_header',
  'unsupported_link_type',
  'unsupported_ethertype',
  'truncated_ip_header',
  'bad_ip_header',
  'truncated_transport_header',
  'bad_transport_header',
  'bad_arp',
  'unmatched_fragment',
  'localhost_filtered',
  'internal_error',
  'pppoe_discovery',
  'unsupported_ppp_protocol',
  'unsupported_mpls_payload',
  'bad_link_header',
];

/** Skip codes that mean the frame was malformed (as opposed to unsupported or filtered). */
export function isMalformed(code: number): boolean {
  return code === Skip.TRUNCATED_LINK || code === Skip.BAD_LINK_HEADER || code === Skip.TRUNCATED_IP ||
    code === Skip.BAD_IP_HEADER || code === Skip.TRUNCATED_TRANSPORT || code === Skip.BAD_TRANSPORT_HEADER || code === Skip.BAD_ARP;
}
