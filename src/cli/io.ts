/** Where a CLI command writes, and what it may be given instead of connecting (tests). */
import type { Client } from '@temporalio/client';
import type { Config } from '../config';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  config?: Config;
  /** Injected by tests; otherwise connects from config. */
  client?: Client;
}
