/**
 * One error type for every simulated service. Each protocol handler renders it the way its service
 * does (RDS/Route 53: <ErrorResponse><Error><Type/><Code/><Message/>; EC2: <Response><Errors>...;
 * Statuspage: JSON), so the SDK turns `code` into the exception it would get from AWS.
 */
export class SimError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'SimError';
  }
}

export const notFound = (code: string, message: string): SimError => new SimError(code, message, 404);
export const invalid = (code: string, message: string): SimError => new SimError(code, message, 400);
