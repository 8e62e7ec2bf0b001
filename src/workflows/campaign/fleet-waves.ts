/**
 * The running children of one fleet stage (fleet.ts): its waves or window groups started in turn, each instance in
 * a workflow of its own, through batch workflows (fleet-batch.ts) in runs started since FLEET_BATCHES_PATCH; the
 * counts, the failure threshold, pause passed on, and a stage that stops cancelling what still runs.
 */
import { CancellationScope, CancelledFailure, ChildWorkflowFailure, ParentClosePolicy, condition, isCancellation, setHandler, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { fleetBatchProgressSignal, fleetPauseSignal, type FleetBatchEnded, type FleetInstanceStart, type FleetInstanceReport, type FleetInstanceResult, type ResolvedStage, type StageReport } from '../../api';
import { DEFAULT_INSTANCES_PER_WORKFLOW, MEMBERS_STARTED_PER_TASK, batchesOf, countStates, describeCounts, fleetBatchId, type FleetEntry, type WindowGroup } from '../../domain/fleet';
import { batchMemberIds, endedOf, type BatchMemberId } from '../../domain/fleet-batch-input';
import { formatDuration } from '../../domain/duration';
import { precheckInstant } from '../../domain/plan';
import { describeWindow, describeWindowGroup } from '../../domain/window-group';
import { iso, nowMs } from '../shared/clock';
import { describeError } from '../shared/failures';
import { fleetMember, repeatedByCampaign, startFleetBatch, type upgradeFleetBatch } from './fleet-batch';
import { upgradeFleetInstance } from './fleet-instance';
import { terraformChangeText } from '../../domain/estate';
import type { StageRun } from './stage-run';
import { BLUE_GREEN_FOLLOW_UP } from './blue-green';
import { terraformOwns } from './terraform';

/** The running children of one fleet stage (its instances, or its batches), the counts, the threshold, and pause passed on. */
export class FleetWaves {
  private readonly running = new Map<string, ChildWorkflowHandle<typeof upgradeFleetInstance> | ChildWorkflowHandle<typeof upgradeFleetBatch>>();
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
  /** Whether this run starts its instances through batches (FLEET_BATCHES_PATCH, decided when the run started). */
  private readonly batched: boolean;
  private readonly byWorkflowId: Map<string, FleetInstanceReport>;
  /** Each batch's members in order, to read the ends it reports by member (its progress signals). */
  private readonly batchMembers = new Map<string, BatchMemberId[]>();
  private byKey?: Map<string, FleetInstanceReport>;

  constructor(private readonly st: StageRun) {
    this.s = st.stage;
    this.report = st.report;
    this.forwarded = st.run.people.paused;
    this.batched = st.fleetBatches;
    this.byWorkflowId = new Map(this.fleet.instances.map((i) => [i.workflowId, i]));
    // Counted once here, then kept as each instance changes state (set): counting the whole fleet again at every
    // change made a campaign of 10,000 instances count 100 million states on each replay.
    this.fleet.counts = countStates(this.fleet.instances);
    // A batch reports its failed instances early (the threshold counts them); its result reports every instance
    // (an end the campaign cannot place yet is counted from there).
    const ids = (batch?: string) => (batch === undefined ? [] : (this.batchMembers.get(batch) ?? []));
    if (this.batched) setHandler(fleetBatchProgressSignal, ({ ended, batch }) => ended.forEach((e) => this.batchEnded(endedOf(e, ids(batch)))));
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
    const left = this.fleet.counts.pending;
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
    if (this.batched) {
      const batches = batchesOf(entries, this.s.fleet!.instancesPerWorkflow ?? DEFAULT_INSTANCES_PER_WORKFLOW);
      // A few batches per workflow task: their inputs (every member's) must fit in one task's completion.
      for (let first = 0; first < batches.length; ) {
        let last = first + 1;
        for (let members = batches[first].length; last < batches.length && members + batches[last].length <= MEMBERS_STARTED_PER_TASK; last++) members += batches[last].length;
        const from = first;
        await this.scope.run(() => Promise.all(batches.slice(from, last).map((b, i) => this.startBatch(wave, from + i + 1, batches.length, b, window))));
        first = last;
      }
    } else {
      await this.scope.run(() => Promise.all(entries.map((e) => this.start(wave, e, window))));
    }
  }

  private member(wave: number, e: FleetEntry, window?: WindowGroup['window']): FleetInstanceStart {
    return fleetMember(this.st, wave, e, this.instance(e.member).workflowId, window);
  }

  private async start(wave: number, e: FleetEntry, window?: WindowGroup['window']): Promise<void> {
    const r = this.instance(e.member);
    const m = this.member(wave, e, window);
    const handle = await startChild(upgradeFleetInstance, {
      workflowId: m.workflowId,
      // A parent that closes (terminated by hand) asks its instances to stop and compensate.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      // What the Temporal UI says of the child: its instance and wave, and the campaign it belongs to.
      staticSummary: m.summary,
      staticDetails: m.details,
      args: [m.input],
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

  /** Some instances of a wave, started by a batch workflow of their own (fleet-batch.ts). */
  private async startBatch(wave: number, batch: number, batches: number, entries: FleetEntry[], window?: WindowGroup['window']): Promise<void> {
    const members = entries.map((e) => this.member(wave, e, window));
    // Known before the start: a progress signal may come in the same workflow task as the batch's start.
    const ids = batchMemberIds(members);
    this.batchMembers.set(fleetBatchId(workflowInfo().workflowId, this.s.name, wave, batch), ids);
    const { id, handle, ended } = await startFleetBatch(this.st, { wave, batch, batches, members, ids, paused: this.st.run.people.paused });
    if (handle) this.running.set(id, handle);
    for (const m of members) this.set(this.byWorkflowId.get(m.workflowId)!, { state: 'running' });
    this.results.push(
      ended.then((all) => {
        this.running.delete(id);
        this.batchMembers.delete(id);
        for (const e of all) this.batchEnded(e);
      }),
    );
  }

  /** An instance of a batch ended (reported by a progress signal, then again by the batch's result: counted once). */
  private batchEnded(e: FleetBatchEnded | undefined): void {
    const r = e && this.byWorkflowId.get(e.workflowId);
    if (!r || r.state !== 'running') return;
    this.ended(r, e.result ?? { instanceId: r.instanceId, region: r.region, state: e.state, note: e.note, followUps: [] });
  }

  private ended(r: FleetInstanceReport, result?: FleetInstanceResult, err?: unknown): void {
    this.running.delete(r.workflowId);
    const state = result?.state ?? (isCancellation(err) ? 'aborted' : 'failed');
    const note = result?.note ?? (err instanceof ChildWorkflowFailure ? describeError(err.cause ?? err) : err ? describeError(err) : undefined);
    this.set(r, { state, note, downtimeSeconds: result?.downtimeSeconds, window: result?.window ?? r.window });
    for (const f of (result?.followUps ?? []).filter(repeatedByCampaign)) {
      // What a Blue/Green upgrade leaves running (the old blue, or the green copy) is named as it is, never deleted;
      // a failed compensation is named with its stage and instance.
      this.st.status.followUps.push(f.startsWith(BLUE_GREEN_FOLLOW_UP) ? f : `${this.s.name}/${r.instanceId}: ${f}`);
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
      // With batches, `running` holds the batches: the instances still running are counted.
      const runningNow = () => (this.batched ? this.fleet.counts.running : this.running.size);
      const summary = `${this.s.name}: ${runningNow()} instance(s) to finish (Terraform change asked)`;
      while (!(await condition(() => done, this.st.settings.reminderIntervalMs, { summary }))) {
        await this.st.notify('reminder', `${this.s.name}: ${runningNow()} instance(s) still running; those waiting for the Terraform change need: ${this.terraformAsk}`);
      }
      await all;
    } else {
      await Promise.all(this.results);
    }
    // Every one has settled: the next wave awaits its own only (awaiting every earlier wave's again made each of a
    // campaign's hundreds of batches cost a promise per earlier batch, each with the SDK's stack capture).
    this.results.length = 0;
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
    // An index, not a search: a wave of thousands looked each of them up in the whole list.
    this.byKey ??= new Map(this.fleet.instances.map((i) => [`${i.region}/${i.instanceId}`, i]));
    return this.byKey.get(`${m.region}/${m.instanceId}`)!;
  }

  private set(r: FleetInstanceReport, change: Partial<FleetInstanceReport>): void {
    const before = r.state;
    Object.assign(r, JSON.parse(JSON.stringify(change)) as Partial<FleetInstanceReport>);
    if (r.state !== before) {
      this.fleet.counts[before] -= 1;
      this.fleet.counts[r.state] += 1;
    }
  }
}
