// The record connection events travel as, and where they go (JSON log, headless output).

export type EventType = 'new_connection' | 'connection_closed';

export type ConnectionEvent = Record<string, string | number | object>;

/** Receives events in order; implementations report their own failures and never throw. */
export interface EventSink {
  write(event: ConnectionEvent): void;
  flush(): void;
  close(): void;
}
