/**
 * The call log: every request the simulator answered, AWS or not, as GET /_sim/calls lists it, with what
 * CloudTrail's record of an AWS call needs beyond the entry kept beside it (sim/src/cloudtrail/record.ts).
 */

/** `S`: the names of the services that log calls (the simulator's list is in sim/src/api.ts). */
export interface CallRecord<S extends string = string> {
  seq: number;
  service: S;
  action: string;
  region: string;
  /**
   * AWS calls: the account the call was served from (the caller's); '-' when its credentials were refused
   * as unknown. Statuspage: the page id. PagerDuty: the routing key, masked but for its last four characters.
   */
  account: string;
  /** AWS calls: the caller's ARN (IAM user, or `arn:aws:sts::<account>:assumed-role/<role>/<session>`); absent when unknown. */
  principal?: string;
  /** AWS calls: the access key id the request was signed with. */
  accessKeyId?: string;
  params: Record<string, string>;
  /** Simulated time, ISO. */
  at: string;
  isMutation: boolean;
  httpStatus: number;
  errorCode?: string;
  /**
   * Set when an injected fault answered instead of the service (a timeout or reset: no answer, httpStatus 0), or,
   * for `lost`, when the service answered (httpStatus is its answer, a change was made) but the answer was never sent.
   */
  fault?: 'throttle' | 'error' | 'timeout' | 'reset' | 'lost';
  /** AWS calls: the request id of the answer (its `x-amzn-RequestId` header and the body's RequestId). */
  requestId?: string;
}

/**
 * What CloudTrail's record of an AWS call needs beyond its log entry, kept beside it (not in /_sim/calls): the
 * request in full (the log entry's params are shortened), the answer of a change, the caller and where it came from.
 */
export interface CallDetails {
  /** Query-protocol parameters in request order, passwords masked. */
  form?: Array<[string, string]>;
  /** A REST/JSON request body (Route 53, CloudTrail), whole. */
  body?: string;
  /** The 2xx answer of a mutation, for CloudTrail's responseElements. */
  response?: string;
  errorMessage?: string;
  userAgent?: string;
  sourceIp?: string;
  /** The caller's unique id (AIDA… user, AROA…:session), its AssumeRole session if any. */
  userId?: string;
  session?: { roleArn: string; sessionName: string; assumedRoleId: string; issuedAt: number };
}

export interface CallFilter {
  service?: string;
  action?: string;
  account?: string;
  principal?: string;
  /** Only calls with seq greater than this. */
  since?: number;
  mutationsOnly?: boolean;
}

const MAX_CALLS = 20_000;

export class CallLog {
  calls: CallRecord[] = [];
  private readonly details = new WeakMap<CallRecord, CallDetails>();
  private seq = 0;

  /** `at` is the simulated time of the call. */
  record(call: Omit<CallRecord, 'seq' | 'at'>, at: number, details?: CallDetails): CallRecord {
    const rec: CallRecord = { ...call, seq: ++this.seq, at: new Date(at).toISOString() };
    if (details) this.details.set(rec, details);
    this.calls.push(rec);
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
    return rec;
  }

  detailsOf(call: CallRecord): CallDetails | undefined {
    return this.details.get(call);
  }

  list(filter: CallFilter = {}): CallRecord[] {
    return this.calls.filter(
      (c) =>
        (filter.service === undefined || c.service === filter.service) &&
        (filter.action === undefined || c.action === filter.action) &&
        (filter.account === undefined || c.account === filter.account) &&
        (filter.principal === undefined || c.principal === filter.principal) &&
        (filter.since === undefined || c.seq > filter.since) &&
        (!filter.mutationsOnly || c.isMutation),
    );
  }

  /** Forgets every call; the sequence goes on, so a `since` taken before still means "after that". */
  clear(): void {
    this.calls = [];
  }
}
