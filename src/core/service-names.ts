// Port → service name (the host's /etc/services, else built-in IANA names), for the service column and `service_name`.

const SERVICES = new Map<number, string>([
  [20, 'ftp-data'], [21, 'ftp'], [22, 'ssh'], [23, 'telnet'], [25, 'smtp'], [53, 'domain'], [67, 'bootps'],
  [68, 'bootpc'], [69, 'tftp'], [80, 'http'], [88, 'kerberos'], [110, 'pop3'], [111, 'sunrpc'], [119, 'nntp'],
  [123, 'ntp'], [137, 'netbios-ns'], [138, 'netbios-dgm'], [139, 'netbios-ssn'], [143, 'imap'], [161, 'snmp'],
  [162, 'snmptrap'], [179, 'bgp'], [194, 'irc'], [389, 'ldap'], [443, 'https'], [445, 'microsoft-ds'],
  [465, 'submissions'], [500, 'isakmp'], [514, 'syslog'], [515, 'printer'], [546, 'dhcpv6-client'],
  [547, 'dhcpv6-server'], [587, 'submission'], [631, 'ipp'], [636, 'ldaps'], [853, 'domain-s'], [873, 'rsync'],
  [989, 'ftps-data'], [990, 'ftps'], [993, 'imaps'], [995, 'pop3s'], [1080, 'socks'], [1194, 'openvpn'],
  [1433, 'ms-sql-s'], [1521, 'oracle'], [1701, 'l2tp'], [1723, 'pptp'], [1812, 'radius'], [1883, 'mqtt'],
  [1900, 'ssdp'], [2049, 'nfs'], [2375, 'docker'], [3128, 'squid'], [3306, 'mysql'], [3389, 'ms-wbt-server'],
  [3478, 'stun'], [4500, 'ipsec-nat-t'], [5060, 'sip'], [5061, 'sips'], [5222, 'xmpp-client'], [5353, 'mdns'],
  [5355, 'llmnr'], [5432, 'postgresql'], [5672, 'amqp'], [5900, 'vnc'], [6379, 'redis'], [6443, 'kubernetes'],
  [6881, 'bittorrent'], [8080, 'http-alt'], [8443, 'https-alt'], [8883, 'secure-mqtt'], [9000, 'cslistener'],
  [9090, 'websm'], [9200, 'elasticsearch'], [11211, 'memcache'], [27017, 'mongodb'], [51820, 'wireguard'],
]);

/**
 * Port → service names: the host's own table (/etc/services, keyed `port/tcp` or `port/udp`) where it has
 * the port, else the built-in table above (hosts and containers without /etc/services).
 */
export class ServiceNames {
  /** Per transport, by port number: rows look names up for every connection, so no key text is built. */
  private readonly tcp = new Map<number, string>();
  private readonly udp = new Map<number, string>();

  constructor(host: ReadonlyMap<string, string> | null = null) {
    for (const [port, name] of SERVICES) {
      this.tcp.set(port, name);
      this.udp.set(port, name);
    }
    for (const [key, name] of host ?? []) {
      const [port, transport] = key.split('/');
      (transport === 'tcp' ? this.tcp : this.udp).set(Number(port), name);
    }
  }

  name(port: number, transport: 'tcp' | 'udp'): string | undefined {
    return (transport === 'tcp' ? this.tcp : this.udp).get(port);
  }

  /** The service a connection uses: the remote port's name, else the local port's. */
  forConnection(transport: 'tcp' | 'udp', localPort: number, remotePort: number): string | undefined {
    return this.name(remotePort, transport) ?? this.name(localPort, transport);
  }
}
