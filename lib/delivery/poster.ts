/**
 * The port to API Gateway's `@connections` API (SPEC §4): posting frames to a connection, asking
 * whether it is open, closing it. Adapter: lib/aws/connection-poster.ts; locally, the emulator's.
 */
export interface ConnectionPoster {
  /** 'gone' when API Gateway answers 410: the connection is closed, or not yet open. */
  post(connectionId: string, data: string): Promise<'delivered' | 'gone'>;
  /** Whether API Gateway would take a post now (`GET @connections`), without sending anything. */
  isOpen(connectionId: string): Promise<boolean>;
  /** Closes the connection; 'gone' when API Gateway answers 410: already closed, or not open yet. */
  close(connectionId: string): Promise<'closed' | 'gone'>;
}

/** Warnings about deliveries that failed after a message was safely stored. */
export interface DeliveryLog {
  warn(message: string, details: Record<string, unknown>): void;
}
