/** A tiny typed client for the simulator's admin API (/_sim/*), for the demo, tests and scripts. */
import type { AppStatus, CallFilter, CallRecord, FaultSpec, FaultState, SeedResult, SeedSpec } from './api';
import type { TokenBucketSpec } from './core/throttle';
import type { PagerDutyAlertFilter } from './pagerduty/model';
import type { PagerDutyAlert } from './pagerduty/state';
import type { AutoUpgradeTargetResult, AutoUpgradeTargetSpec } from './rds/auto-upgrade-target';
import type { BlueGreenFaultResult, BlueGreenFaultSpec } from './rds/blue-green-faults';

export interface ThrottleState {
  /** The RDS API's token bucket per account and region; null = no throttling. */
  rds: TokenBucketSpec | null;
  /** Tokens left per `account|region` bucket used so far. */
  tokens: Record<string, number>;
}

export class SimAdminError extends Error {
  override name = 'SimAdminError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class SimAdminClient {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, okStatuses: number[] = [200]): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!okStatuses.includes(res.status)) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new SimAdminError(`simulator ${method} ${path} answered ${res.status}: ${detail}`, res.status);
    }
    return JSON.parse(text) as T;
  }

  health(): Promise<{ ok: boolean; now: string; speed: number }> {
    return this.request('GET', '/_sim/health');
  }

  seed(spec: SeedSpec): Promise<SeedResult> {
    return this.request('POST', '/_sim/seed', spec);
  }

  faults(spec: FaultSpec): Promise<FaultState> {
    return this.request('POST', '/_sim/faults', spec);
  }

  /** Turns RDS request throttling on (a token bucket per account and region) or off (null). */
  throttle(rds: TokenBucketSpec | null): Promise<ThrottleState> {
    return this.request('POST', '/_sim/throttle', { rds });
  }

  throttleState(): Promise<ThrottleState> {
    return this.request('GET', '/_sim/throttle');
  }

  calls(filter: CallFilter = {}): Promise<CallRecord[]> {
    const q = new URLSearchParams();
    if (filter.service) q.set('service', filter.service);
    if (filter.action) q.set('action', filter.action);
    if (filter.account) q.set('account', filter.account);
    if (filter.principal) q.set('principal', filter.principal);
    if (filter.since !== undefined) q.set('since', String(filter.since));
    if (filter.mutationsOnly) q.set('mutationsOnly', 'true');
    const qs = q.toString();
    return this.request('GET', `/_sim/calls${qs ? `?${qs}` : ''}`);
  }

  async reset(): Promise<void> {
    await this.request('POST', '/_sim/reset', {});
  }

  /** Moves simulated time forward; returns the new simulated now (ISO). */
  async advance(seconds: number): Promise<string> {
    return (await this.request<{ now: string }>('POST', '/_sim/advance', { seconds })).now;
  }

  state(): Promise<{ now: string; state: unknown }> {
    return this.request('GET', '/_sim/state');
  }

  /**
   * RDS designates another minor as a major's automatic upgrade target (ValidUpgradeTarget AutoUpgrade, the pending
   * db-upgrade action, AutoMinorVersionUpgrade in the window), e.g. `{ engine: 'postgres', majorVersion: '15', target: '15.10' }`.
   */
  autoUpgradeTarget(spec: AutoUpgradeTargetSpec): Promise<AutoUpgradeTargetResult> {
    return this.request('POST', '/_sim/auto-upgrade-target', spec);
  }

  /**
   * Arms a blue/green deployment fault (sim/src/rds/blue-green-faults.ts) on a deployment or on a source instance, e.g.
   * `{ region: 'eu-west-2', deployment: 'bgd-…', fault: 'switchover-rollback' }` or `{ region, source: 'db', fault: 'guardrail', guardrail: 'long-running-ddl' }`.
   */
  blueGreenFault(spec: BlueGreenFaultSpec): Promise<BlueGreenFaultResult> {
    return this.request('POST', '/_sim/blue-green/fault', spec);
  }

  /** PagerDuty alerts received on POST /v2/enqueue, newest first; `routingKey` is the full key. */
  pagerDutyAlerts(filter: PagerDutyAlertFilter = {}): Promise<PagerDutyAlert[]> {
    const q = new URLSearchParams();
    if (filter.routingKey) q.set('routing_key', filter.routingKey);
    if (filter.dedupKey) q.set('dedup_key', filter.dedupKey);
    if (filter.status) q.set('status', filter.status);
    const qs = q.toString();
    return this.request('GET', `/_sim/pagerduty/alerts${qs ? `?${qs}` : ''}`);
  }

  /** The URL to configure as ORCHESTRATOR_PAGERDUTY_EVENTS_URL. */
  pagerDutyEventsUrl(): string {
    return `${this.baseUrl}/v2/enqueue`;
  }

  /** The app status probe: healthy only while the instance is `available` and not in a blue/green switchover. */
  appStatus(region: string, instanceId: string): Promise<AppStatus> {
    return this.request('GET', `/_sim/app/${encodeURIComponent(region)}/${encodeURIComponent(instanceId)}/status`, undefined, [200, 503]);
  }

  /** The status page of the application on an instance (`account`: where the instance lives, default 123456789012). */
  appStatusUrl(region: string, instanceId: string, account?: string): string {
    return `${this.baseUrl}/_sim/app/${encodeURIComponent(region)}/${encodeURIComponent(instanceId)}/status${account ? `?account=${account}` : ''}`;
  }
}
