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

/** A failure the CLI reports as one line with its exit code (2 usage or spec, 3 refused, 4 not found, 5 ended badly). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
