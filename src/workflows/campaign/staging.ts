/**
 * staging (runbook: "upgrade now while a low-rate availability probe hits a status endpoint; measure the
 * downtime; over a minute, discuss with the team"): start the probe, apply the upgrade now, wait until
 * available at the target, take the probe's longest outage as the measured downtime.
 */
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import { summarized } from '../shared/activity-summary';
import type { Activities, ProbeResult } from '../../api';
import { formatDuration } from '../../domain/duration';
import { probeTarget } from '../../domain/probe';
import { nowMs } from '../shared/clock';
import { HEARTBEAT_TIMEOUT, PREFLIGHT_ROUNDS } from '../shared/aws-calls';
import { NON_RETRYABLE_TYPES } from '../shared/failures';
import { upgradeReplicasNow } from './replicas';
import type { StageRun } from './stage-run';
import { AVAILABLE } from '../../domain/instance-status';

export async function upgradeNowUnderProbe(st: StageRun): Promise<void> {
  const { report } = st;
  // Read replicas first (RDS refuses the source before them), before the probe measures the instance's downtime.
  if (st.estateGuard) await upgradeReplicasNow(st);
  report.mechanism = 'apply-now';
  const target = st.target;
  const result = await probeWhile(st, `upgrading ${st.stage.instanceId} now`, async () => {
    const deadline = nowMs() + st.stage.probe!.maxDurationMs;
    const r = await st.aws('upgrade-now', () => st.a.applyUpgradeNow({ where: st.where, instanceId: st.stage.instanceId, targetVersion: target }));
    st.step('upgrade-triggered', r.detail);
    const info = await st.waitForInstance('waiting-for-upgrade', deadline, { status: AVAILABLE, engineVersion: target });
    st.step('upgraded', `${st.stage.instanceId} is ${info.status} at ${info.engineVersion}`);
  });
  await decideOnMeasuredDowntime(st, result);
}

/**
 * Runs `change` (an upgrade now, a Blue/Green switchover) while the stage's probe measures the instance's
 * availability; the probe stops once the instance is at the target and settled. The probe runs in its own
 * scope: when the change fails first, the probe is cancelled with it.
 */
export async function probeWhile(st: StageRun, doing: string, change: () => Promise<void>): Promise<ProbeResult> {
  const { stage: s } = st;
  const probeCfg = s.probe!;
  const target = st.target;
  const probe = summarized(proxyActivities<Activities>({
    startToCloseTimeout: probeCfg.maxDurationMs + 5 * 60_000,
    // The probe heartbeats its totals every 2 s: a probe lost with its worker resumes on another within seconds.
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  }));
  const what = probeTarget(probeCfg);
  const database = probeCfg.postgres && { where: st.where, instanceId: s.instanceId, access: probeCfg.postgres };
  if (database) {
    // Before the upgrade: a probe that cannot log in would only say so once the upgrade had started.
    const identity = await st.aws('probe-login', () => st.a.describeDatabase({ target: database }), { maxRounds: PREFLIGHT_ROUNDS });
    st.step('probe-login', `${probeCfg.postgres!.database} on ${s.instanceId} answers (PostgreSQL ${identity.serverVersion})`);
  }
  st.step('probe-started', probeCfg.postgres ? `${probeCfg.ratePerSecond}/s ${what}` : `${probeCfg.ratePerSecond}/s GET ${probeCfg.url}`);
  st.setState('running', { kind: 'probe', description: `${doing} while probing ${what}` });
  const stopWhen = { region: st.where, instanceId: s.instanceId, engineVersion: target, settleSeconds: Math.ceil(probeCfg.settleMs / 1000) };
  const common = { ratePerSecond: probeCfg.ratePerSecond, requestTimeoutMs: probeCfg.requestTimeoutMs, stopWhen, maxDurationSeconds: Math.ceil(probeCfg.maxDurationMs / 1000) };
  const probeScope = new CancellationScope();
  // The SQL probe connects to the instance's own database (its endpoint is read from RDS by the activity).
  const probeResult = probeScope.run(() =>
    database
      ? probe.runSqlAvailabilityProbe({ ...common, target: database })
      : probe.runAvailabilityProbe({ url: probeCfg.url!, ...common }),
  );
  // Keeps an unhandled rejection away when the upgrade fails first; the result is awaited below.
  probeResult.catch(() => undefined);
  try {
    await change();
  } catch (err) {
    probeScope.cancel();
    throw err;
  }
  return probeResult;
}

export async function decideOnMeasuredDowntime(st: StageRun, result: ProbeResult): Promise<void> {
  const { stage: s, report } = st;
  report.downtimeSeconds = Math.round(result.longestOutageSeconds * 10) / 10;
  report.probe = { requests: result.requests, failures: result.failures, longestOutageSeconds: result.longestOutageSeconds, unobservedSeconds: result.unobservedSeconds };
  const unobserved = result.unobservedSeconds ? ` (includes ${result.unobservedSeconds}s nobody probed: a worker restart)` : '';
  st.step('probe-finished', `${result.requests} requests, ${result.failures} failed, longest outage ${result.longestOutageSeconds}s${unobserved}`);
  st.setState('running');
  if (result.longestOutageSeconds * 1000 <= s.downtimeThresholdMs) return;
  const threshold = formatDuration(s.downtimeThresholdMs);
  await st.notify('escalation', `${s.name}: measured downtime ${result.longestOutageSeconds}s is over the ${threshold} threshold`);
  await st.ask(`measured downtime ${result.longestOutageSeconds}s exceeds the ${threshold} threshold; discuss with the team. Continue to the next stage?`);
}
