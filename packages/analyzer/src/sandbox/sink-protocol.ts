// What the fake-internet sink writes to its log (one JSON object per line), and its configuration.

export interface SinkConfig {
  logPath: string;
  caCertPem: string;
  caKeyPem: string;
  /** The single TCP port every other TCP destination is DNAT-ed to. */
  tcpPort: number;
  decoyPort: number;
  dnsPort: number;
  /** Bytes of a body or stream to keep. */
  maxCapture: number;
  /** When set, each connection and DNS query is attributed to the process of this host uid owning it. */
  ownerUid?: number;
  /**
   * The names the DNS sink resolves (case-insensitive); every other name gets NXDOMAIN, as a real
   * resolver answers a made-up name. Absent: every name resolves.
   */
  dnsAnswers?: string[];
}

export type SinkRecord =
  | {
      t: 'dns';
      ts: number;
      name: string;
      qtype: string;
      answer?: string;
      /** Set when the name was not resolved (strict DNS). */
      rcode?: 'NXDOMAIN';
      transport: 'udp' | 'tcp';
      /** The querying process (host pid), when the sink could tell. */
      pid?: number;
    }
  | {
      t: 'http';
      ts: number;
      method: string;
      host: string;
      path: string;
      tls: boolean;
      headers: Record<string, string>;
      body: string;
      bodySize: number;
      address: string;
      port: number;
      clientPort?: number;
    }
  | { t: 'tcp'; ts: number; address: string; port: number; data: string; clientPort?: number }
  | {
      t: 'tls';
      ts: number;
      sni: string;
      intercepted: boolean;
      address: string;
      port: number;
      clientPort?: number;
    }
  /** An accepted connection; `pid` is the connecting process (host pid), when the sink could tell. */
  | { t: 'conn'; ts: number; address: string; port: number; clientPort: number; pid?: number }
  | { t: 'decoy'; ts: number; tool: string; argv: string[]; cwd?: string; pid?: number };

export const SINK_TCP_PORT = 15001;
export const SINK_READY_LINE = 'sink-ready';
