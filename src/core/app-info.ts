// AppInfo: what deep packet inspection learned about one connection (shared by dpi, tracking, outputs).

/** Application protocol names as they appear in events and the UI. */
export type AppProtocol =
  | 'HTTP' | 'HTTPS' | 'TLS' | 'QUIC' | 'DNS' | 'mDNS' | 'LLMNR' | 'SSH'
  | 'NTP' | 'DHCP' | 'SSDP' | 'STUN' | 'NetBIOS' | 'SNMP' | 'BitTorrent' | 'MQTT' | 'FTP';

/** Keys of `dpi_details` in connection_closed events; classifiers set only the keys that apply. */
export interface AppDetails {
  sni?: string;
  alpn?: string[];
  tls_version?: string;
  http_host?: string;
  http_method?: string;
  http_path?: string;
  http_status?: number;
  dns_queries?: string[];
  dns_answers?: string[];
  dns_rcode?: string;
  ssh_client_banner?: string;
  ssh_server_banner?: string;
  ssh_software?: string;
  quic_version?: string;
  [key: string]: string | number | boolean | string[] | undefined;
}

/**
 * The application-level view of one connection. Created by the DPI engine when a classifier first
 * recognises the flow and updated in place while the classifier keeps inspecting.
 */
export interface AppInfo {
  protocol: AppProtocol;
  /** SNI, else HTTP Host, else the first DNS query name. */
  domain: string | undefined;
  details: AppDetails;
  /**
   * Protocol state the classifier derived (e.g. DNS_QUERY, DNS_RESPONSE, BANNER, KEYEXCHANGE,
   * AUTHENTICATION, ESTABLISHED for SSH, QUIC_INITIAL … QUIC_CLOSED), or undefined to keep the
   * transport state.
   */
  state: string | undefined;
  /**
   * How the label was reached: 'content' (a handshake or message parsed), 'mid-stream' (the protocol's
   * framing recognised without a handshake), 'port' (a guess from the port alone, never shown as a fact).
   */
  confidence: DpiConfidence;
}

export type DpiConfidence = 'content' | 'mid-stream' | 'port';

export function newAppInfo(protocol: AppProtocol, confidence: DpiConfidence = 'content'): AppInfo {
  return { protocol, domain: undefined, details: {}, state: undefined, confidence };
}

/** Longest string we keep from the wire (banners, names, paths). */
export const MAX_WIRE_STRING = 256;
/** Most entries kept in a list detail such as dns_queries. */
export const MAX_LIST_ENTRIES = 32;
