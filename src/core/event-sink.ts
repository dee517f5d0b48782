// The record connection events travel as, and where they go (JSON log, headless output).

export type EventType = 'new_connection' | 'connection_closed';

/** Keys whose value is undefined are absent from the JSON form. */
export type ConnectionEvent = Record<string, string | number | object | undefined>;

/** Receives events in order; implementations report their own failures and never throw. */
export interface EventSink {
  write(event: ConnectionEvent): void;
  flush(): void;
  close(): void;
}
