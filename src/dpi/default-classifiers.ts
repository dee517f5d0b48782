// The classifiers the monitor runs; among equal scores the earlier one wins.

import { bittorrentClassifier } from './bittorrent.js';
import type { Classifier } from './classifier.js';
import { dhcpClassifier } from './dhcp.js';
import { dnsClassifier } from './dns.js';
import { ftpClassifier } from './ftp.js';
import { gquicClassifier } from './gquic.js';
import { httpClassifier } from './http.js';
import { mqttClassifier } from './mqtt.js';
import { netbiosClassifier } from './netbios.js';
import { ntpClassifier } from './ntp.js';
import { quicClassifier } from './quic.js';
import { snmpClassifier } from './snmp.js';
import { ssdpClassifier } from './ssdp.js';
import { sshClassifier } from './ssh.js';
import { stunClassifier } from './stun.js';
import { tlsClassifier } from './tls.js';

export function defaultClassifiers(): Classifier[] {
  // Most common traffic first: a CONTENT match ends the search early.
  return [
    tlsClassifier, httpClassifier, dnsClassifier, quicClassifier, gquicClassifier, sshClassifier, stunClassifier, ntpClassifier,
    dhcpClassifier, ssdpClassifier, netbiosClassifier, snmpClassifier, bittorrentClassifier, mqttClassifier, ftpClassifier,
  ];
}
