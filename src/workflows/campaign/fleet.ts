/**
 * A fleet stage: every instance it selected is upgraded by a child workflow of its own
 * (fleet-instance.ts), in waves.
 *
 *   preview, staging (no approval): waves of `maxConcurrent` in the stage's order; the next wave starts when
 *     the previous one ended.
 *   production (approval): each instance's first window with the notice, grouped by window; one approval
 *     covers every instance and its window; one status-page maintenance per window group; a group's
 *     instances start at the group's pre-check time (each checks AWS's pending maintenance itself).
 *
 * Before each wave: the failure threshold (failed instances since the team last decided) stops the stage
 * and asks the team to continue or abort. Pause holds before the next wave and is passed on to running
 * instances (they hold at their next checkpoint); abort cancels every running instance, each compensating
 * its own changes, and the campaign cancels the announcements.
 */
import { CancellationScope, CancelledFailure, ChildWorkflowFailure, ParentClosePolicy, condition, isCancellation, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { fleetPauseSignal, type FleetInstanceReport, type FleetInstanceResult, type ResolvedStage, type StageReport } from '../../api';
import { countStates, describeCounts, memberKey, orderMembers, planWaves, type FleetEntry, type WindowGroup } from '../../domain/fleet';
import { formatDuration } from '../../domain/duration';
import { precheckInstant } from '../../domain/plan';
import { describeWindow, describeWindowGroup } from '../../domain/window-group';
import { iso, nowIso, nowMs } from '../shared/clock';
import { describeError } from '../shared/failures';
import { announceWindowGroups, obtainApprovalForWindows } from './fleet-approval';
import { upgradeFleetInstance } from './fleet-instance';
import { terraformChangeText } from '../../domain/estate';
import type { StageRun } from './stage-run';
import { BLUE_GREEN_FOLLOW_UP } from './blue-green';
import { terraformOwns } from './terraform';

export async function runFleetStage(st: StageRun, entries: FleetEntry[]): Promise<void> {
  const { stage: s, report } = st;
  const fleet = report.fleet!;
  const target = st.target;
  report.status = 'running';
  report.startedAt = nowIso();
  st.setState('running');
  const todo = entries.length;
  st.step('stage-started', `${fleet.selection}: ${todo} instance(s) → ${target} (${s.method}), ${describeCounts(fleet.counts)}`);
  await st.notify('stage-started', `${s.name} started: ${todo} instance(s) → ${target} (${s.method}; ${fleet.selection})`);
  await st.checkpoint();

  const waves = new FleetWaves(st);
  try {
    if (s.requiresApproval) {
      const groups = await obtainApprovalForWindows(st, entries);
      await st.checkpoint();
      const announced = s.statusPage.enabled ? await announceWindowGroups(st, groups) : [];
      await waves.runWindowGroups(groups);
      for (const id of announced) st.saga.drop(id);
    } else {
      const ordered = orderMembers(
        entries.map((e) => e.member),
        s.fleet!.order,
      );
      const byKey = new Map(entries.map((e) => [memberKey(e.member), e]));
      await waves.runWaves(planWaves(ordered, s.fleet!).map((w) => w.map((m) => byKey.get(memberKey(m))!)));
    }
  } catch (err) {
    // The team aborted at the threshold, or the stage failed: no instance keeps running on its own.
    await waves.cancelRunning();
    throw err;
  } finally {
    waves.stopForwarding();
  }
  const counts = countStates(fleet.instances);
  report.status = 'completed';
  report.endedAt = nowIso();
  const followUp = `${s.name}: ${s.infraCodeHint}`;
  st.status.followUps.push(followUp);
  for (const i of fleet.instances.filter((x) => x.state === 'failed')) st.status.followUps.push(`${s.name}: ${i.region}/${i.instanceId} was not upgraded: ${i.note}`);
  st.step('stage-completed', `${describeCounts(counts)}. ${followUp}`);
  await st.notify('stage-completed', `${s.name} completed: ${describeCounts(counts)} at ${target}. Follow-up: ${s.infraCodeHint}`);
}

/** The running children of one fleet stage, the counts, the threshold, and pause passed on. */
class FleetWaves {
  private readonly running = new Map<string, ChildWorkflowHandle<typeof upgradeFleetInstance>>();
  private readonly results: Promise<void>[] = [];
  private failedSinceDecision = 0;
  /** What the team was asked to change in Terraform for the running wave (a Terraform-owned stage). */
  private terraformAsk?: string;
  private forwarded: boolean;
  private readonly forwarding = new CancellationScope();
  /** Children run in their own scope: a stage that stops (abort, a failure) cancels the ones still running. */
  private readonly scope = new CancellationScope();

  private readonly s: ResolvedStage;
  private readonly report: StageReport;

  constructor(private readonly st: StageRun) {
    this.s = st.stage;
    this.report = st.report;
    this.forwarded = st.run.people.paused;
    this.forwarding.run(() => this.forwardPause()).catch(() => undefined);
  }

  private get fleet() {
    return this.report.fleet!;
  }

  stopForwarding(): void {
    this.forwarding.cancel();
  }

  /** Pause and resume reach the instances already running (they hold at their next checkpoint). */
  private async forwardPause(): Promise<void> {
    for (;;) {
      await condition(() => this.st.run.people.paused !== this.forwarded);
      this.forwarded = this.st.run.people.paused;
      await Promise.all([...this.running.values()].map((h) => h.signal(fleetPauseSignal, { paused: this.forwarded }).catch(() => undefined)));
    }
  }

  async runWaves(waves: FleetEntry[][]): Promise<void> {
    this.fleet.waves = waves.length;
    waves.forEach((w, i) => w.forEach((e) => (this.instance(e.member).wave = i + 1)));
    for (let i = 0; i < waves.length; i++) {
      await this.beforeWave(i + 1, waves.length - i);
      await this.startWave(i + 1, waves[i]);
      await this.waitForAll();
      this.afterWave(i + 1);
    }
    await this.afterLastWave();
  }

  /** An abort cancelled the stage: its instances ended compensated; nothing more starts. */
  private stopIfCancelled(): void {
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the campaign was aborted');
  }

  /** A production stage: each window group is a wave, started at its pre-check time; earlier groups may still run. */
  async runWindowGroups(groups: { group: WindowGroup; entries: FleetEntry[] }[]): Promise<void> {
    this.fleet.waves = groups.length;
    const estate = this.st.estateGuard;
    for (let i = 0; i < groups.length; i++) {
      const { group, entries } = groups[i];
      // Instances with read replicas start at once: their replicas go first, in their own windows.
      const replicasFirst = estate && entries.some((e) => e.member.readReplicaIds?.length);
      const startAt = replicasFirst ? nowMs() : precheckInstant(group.window, this.s);
      if (startAt > nowMs()) {
        const named = describeWindowGroup({ start: group.window.startMs, end: group.window.endMs, instances: entries.map((e) => e.member.instanceId) }, `\`${this.st.run.command('status')} --all\` lists them`);
        this.st.setState('waiting-for-window', { kind: 'precheck', description: `${this.s.name}: wave ${i + 1}, window group ${named}`, until: iso(startAt) });
        this.st.step('waiting-for-precheck', `wave ${i + 1}: ${iso(startAt)}`);
        await this.wakeAt(startAt, `pre-check of wave ${i + 1}, ${formatDuration(this.s.precheckBeforeMs)} before window group ${named}`);
      }
      this.stopIfCancelled();
      await this.beforeWave(i + 1, groups.length - i);
      await this.startWave(i + 1, entries, group.window);
    }
    await this.waitForAll();
    this.afterWave(groups.length);
    await this.afterLastWave();
  }

  /** Sleeps until `atMs`, but keeps counting the instances that end meanwhile. */
  private async wakeAt(atMs: number, summary: string): Promise<void> {
    await this.st.sleep(atMs - nowMs(), summary);
    this.st.setState('running');
  }

  /** Holds while paused; over the failure threshold, asks the team to continue (counting anew) or abort. */
  private async beforeWave(wave: number, wavesLeft: number): Promise<void> {
    await this.st.checkpoint();
    const left = this.fleet.instances.filter((i) => i.state === 'pending').length;
    await this.stopAtThreshold(`before wave ${wave}`, `Continue with the remaining ${left} instance(s) in ${wavesLeft} wave(s)?`);
  }

  /** Failures of the last wave count too: over the threshold, the campaign does not go on to its next stage unasked. */
  private afterLastWave(): Promise<void> {
    return this.stopAtThreshold('after its last wave', 'Count the stage as done (the failed instances become follow-ups) and go on with the campaign?');
  }

  private async stopAtThreshold(when: string, question: string): Promise<void> {
    const threshold = this.s.fleet!.failureThreshold;
    if (this.failedSinceDecision < threshold) return;
    const failed = this.fleet.instances.filter((i) => i.state === 'failed');
    const names = failed.slice(-5).map((i) => `${i.instanceId} (${i.note})`);
    await this.st.notify('escalation', `${this.s.name}: ${this.failedSinceDecision} instance(s) failed, the threshold of ${threshold} is reached; the stage stopped ${when}`);
    await this.st.ask(`${this.failedSinceDecision} instance(s) failed since the last decision (threshold ${threshold}): ${names.join('; ')}. ${question}`, 'escalation');
    this.failedSinceDecision = 0;
  }

  private async startWave(wave: number, entries: FleetEntry[], window?: WindowGroup['window']): Promise<void> {
    this.fleet.currentWave = wave;
    this.st.setState('running');
    const names = entries.slice(0, 10).map((e) => e.member.instanceId);
    const more = entries.length > names.length ? ` and ${entries.length - names.length} more` : '';
    this.st.step('wave-started', `wave ${wave}/${this.fleet.waves}: ${names.join(', ')}${more}`);
    if (this.terraform) await this.askTerraform(wave, entries, window);
    // All of a wave's children in one workflow task (awaiting each start would take a task per child:
    // 333 children took 52 s in the bench).
    await this.scope.run(() => Promise.all(entries.map((e) => this.start(wave, e, window))));
  }

  private async start(wave: number, e: FleetEntry, window?: WindowGroup['window']): Promise<void> {
    const r = this.instance(e.member);
    const handle = await startChild(upgradeFleetInstance, {
      workflowId: r.workflowId,
      // A parent that closes (terminated by hand) asks its instances to stop and compensate.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      // What the Temporal UI says of the child: its instance and wave, and the campaign it belongs to.
      staticSummary: `${memberKey(e.member)} → ${this.st.target}: ${this.s.name} wave ${wave}`,
      staticDetails: `campaign ${this.st.settings.campaignId}, stage ${this.s.name} (${this.s.method}), wave ${wave}${window ? `, window ${describeWindow(window.startMs, window.endMs)}` : ''}`,
      args: [
        {
          campaignId: this.st.settings.campaignId,
          parentWorkflowId: workflowInfo().workflowId,
          targetEngineVersion: this.st.target,
          requester: this.st.settings.requester,
          stage: e.stage,
          wave,
          blackouts: this.st.settings.blackouts,
          pollIntervalMs: this.st.settings.pollIntervalMs,
          window: window ? { startMs: window.startMs, endMs: window.endMs } : undefined,
          paused: this.st.run.people.paused || undefined,
        },
      ],
    });
    this.running.set(r.workflowId, handle);
    this.set(r, { state: 'running' });
    this.results.push(
      handle.result().then(
        (result) => this.ended(r, result),
        (err) => this.ended(r, undefined, err),
      ),
    );
  }

  private ended(r: FleetInstanceReport, result?: FleetInstanceResult, err?: unknown): void {
    this.running.delete(r.workflowId);
    const state = result?.state ?? (isCancellation(err) ? 'aborted' : 'failed');
    const note = result?.note ?? (err instanceof ChildWorkflowFailure ? describeError(err.cause ?? err) : err ? describeError(err) : undefined);
    this.set(r, { state, note, downtimeSeconds: result?.downtimeSeconds, window: result?.window ?? r.window });
    for (const f of result?.followUps ?? []) {
      if (f.startsWith('Compensation failed')) this.st.status.followUps.push(`${this.s.name}/${r.instanceId}: ${f}`);
      // What a Blue/Green upgrade leaves running (the old blue, or the green copy): named, never deleted.
      else if (f.startsWith(BLUE_GREEN_FOLLOW_UP)) this.st.status.followUps.push(f);
    }
    if (state === 'failed') {
      this.failedSinceDecision += 1;
      this.st.step('instance-failed', `${r.region}/${r.instanceId}: ${note}`);
    }
  }

  /**
   * A Terraform-owned stage (`changes: terraform`): the team is asked once per wave for the change of every
   * instance in it (each instance's own run waits until AWS shows its flag so, and for the change back after
   * its window); reminders come from here, not from each instance.
   */
  private get terraform(): boolean {
    return terraformOwns(this.s) && this.s.method === 'maintenance-window';
  }

  private async askTerraform(wave: number, entries: FleetEntry[], window?: WindowGroup['window']): Promise<void> {
    const ids = entries.map((e) => e.member.instanceId);
    const before = window ? ` before their window ${describeWindow(window.startMs, window.endMs)}` : ' before their next maintenance window';
    const text = `${terraformChangeText(ids, true)}${before}; after their window, ${terraformChangeText(ids, false, this.st.target)}`;
    this.terraformAsk = text;
    this.st.step('infra-change-requested', `wave ${wave}: ${text}`);
    await this.st.notify('infra-change-needed', `${this.s.name} wave ${wave} (Terraform owns the flag): ${text}. Each instance goes on when AWS shows the flag as asked.`);
  }

  /** Waits until every started instance ended (a stage that stops cancels those still running first). */
  private async waitForAll(): Promise<void> {
    if (this.terraform && this.terraformAsk) {
      let done = false;
      const all = Promise.all(this.results).then(() => (done = true));
      const summary = `${this.s.name}: ${this.running.size} instance(s) to finish (Terraform change asked)`;
      while (!(await condition(() => done, this.st.settings.reminderIntervalMs, { summary }))) {
        await this.st.notify('reminder', `${this.s.name}: ${this.running.size} instance(s) still running; those waiting for the Terraform change need: ${this.terraformAsk}`);
      }
      await all;
    } else {
      await Promise.all(this.results);
    }
    this.stopIfCancelled();
  }

  private afterWave(wave: number): void {
    this.st.step('wave-ended', `wave ${wave}/${this.fleet.waves}: ${describeCounts(this.fleet.counts)}`);
  }

  /** Stops the stage: cancels every running instance and waits for each to compensate. */
  async cancelRunning(): Promise<void> {
    this.scope.cancel();
    await Promise.allSettled(this.results);
  }

  private instance(m: { region: string; instanceId: string }): FleetInstanceReport {
    return this.fleet.instances.find((i) => i.region === m.region && i.instanceId === m.instanceId)!;
  }

  private set(r: FleetInstanceReport, change: Partial<FleetInstanceReport>): void {
    Object.assign(r, JSON.parse(JSON.stringify(change)) as Partial<FleetInstanceReport>);
    this.fleet.counts = countStates(this.fleet.instances);
  }
}
