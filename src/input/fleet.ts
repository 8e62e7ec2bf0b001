/**
 * A stage's instances: one (`instanceId`), a list (`instances`) or a selection (`select`: tags, engine,
 * current version, in one or more regions and accounts), and for a fleet how it runs in waves.
 */
import type { FleetOrder, ResolvedFleet } from '../api';
import { DEFAULT_INSTANCES_PER_WORKFLOW, MAX_INSTANCES_PER_WORKFLOW } from '../domain/fleet';
import { ENGINE_VERSION_PATTERN, Problems, describe, isMissing, isObject, join, readAwsAccess, readInstanceId, readInteger, readObject, readRegion, readString } from './fields';

export interface StageInstances {
  instanceId: string;
  fleet?: ResolvedFleet;
}

const ONE_OF = ['instanceId', 'instances', 'select'] as const;

/** Reads instanceId / instances / select / waves of a stage (`o` is the stage object, `path` its path). */
export function readStageInstances(p: Problems, o: Record<string, unknown>, path: string, requiresApproval: boolean): StageInstances {
  const given = ONE_OF.filter((k) => !isMissing(o[k]));
  if (given.length === 0) {
    p.add(
      join(path, 'instanceId'),
      'is required: name the instance (e.g. "notify-production"), or for a fleet list `instances` or give `select` (e.g. { tags: { environment: "staging" } })',
    );
    return { instanceId: '' };
  }
  if (given.length > 1) {
    p.add(path, `give exactly one of instanceId, instances and select; this stage has ${given.join(' and ')}`);
    return { instanceId: '' };
  }
  if (given[0] === 'instanceId') {
    if (!isMissing(o.waves)) p.add(join(path, 'waves'), 'applies to a fleet stage only (one with `instances` or `select`); a stage with one instanceId has no waves');
    return { instanceId: readInstanceId(p, o.instanceId, join(path, 'instanceId')) };
  }
  const fleet: ResolvedFleet = { order: 'listed', failureThreshold: 1, instancesPerWorkflow: DEFAULT_INSTANCES_PER_WORKFLOW };
  if (given[0] === 'instances') {
    fleet.instanceIds = readInstances(p, o.instances, join(path, 'instances'));
  } else {
    fleet.select = readSelect(p, o.select, join(path, 'select'));
    fleet.order = 'smallest-first';
  }
  readWaves(p, o.waves, join(path, 'waves'), fleet, requiresApproval);
  return { instanceId: '', fleet };
}

function readInstances(p: Problems, value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    p.add(path, `expected a non-empty list of instance identifiers, e.g. ["notify-staging-1", "notify-staging-2"], got ${describe(value)}`);
    return [];
  }
  const seen = new Map<string, number>();
  const ids: string[] = [];
  value.forEach((item, i) => {
    const id = readInstanceId(p, item, `${path}[${i}]`);
    if (!id) return;
    const first = seen.get(id);
    if (first !== undefined) p.add(`${path}[${i}]`, `"${id}" is already listed at ${path}[${first}]`);
    else {
      seen.set(id, i);
      ids.push(id);
    }
  });
  return ids;
}

function readSelect(p: Problems, value: unknown, path: string): NonNullable<ResolvedFleet['select']> {
  const select: NonNullable<ResolvedFleet['select']> = { tags: {}, engine: 'postgres', from: [] };
  const o = readObject(p, value, path, ['tags', 'engine', 'engineVersion', 'from']);
  if (!o) return select;
  if (!isMissing(o.tags)) {
    if (!isObject(o.tags)) {
      p.add(join(path, 'tags'), `expected tag keys and values, e.g. { environment: "staging", team: "notify" }, got ${describe(o.tags)}`);
    } else {
      for (const [key, v] of Object.entries(o.tags)) {
        // AWS tag keys: 1-128 characters; values 0-256; both case-sensitive.
        if (key.length === 0 || key.length > 128) p.add(join(join(path, 'tags'), key), 'a tag key has 1 to 128 characters');
        else if (typeof v !== 'string' || v.length > 256) p.add(join(join(path, 'tags'), key), `expected the tag's value as text (up to 256 characters), got ${describe(v)}`);
        else select.tags[key] = v;
      }
    }
  }
  if (!isMissing(o.engine)) {
    const engine = readString(p, o.engine, join(path, 'engine'), { required: false, example: '"postgres"' });
    if (engine !== undefined && engine !== 'postgres') p.add(join(path, 'engine'), `"${engine}": this campaign upgrades PostgreSQL minor versions; use "postgres" or leave it out`);
  }
  if (!isMissing(o.engineVersion)) {
    if (typeof o.engineVersion === 'number') {
      p.add(join(path, 'engineVersion'), `got the number ${o.engineVersion}; write the version as quoted text (e.g. "15.10"), because a number loses trailing zeros`);
    } else {
      const v = readString(p, o.engineVersion, join(path, 'engineVersion'), { required: false, example: '"15.5"' });
      if (v && !ENGINE_VERSION_PATTERN.test(v)) p.add(join(path, 'engineVersion'), `"${v}" is not a PostgreSQL minor version; use major.minor, e.g. "15.5"`);
      else if (v) select.engineVersion = v;
    }
  }
  if (Object.keys(select.tags).length === 0 && select.engineVersion === undefined && !p.list.some((x) => x.startsWith(path))) {
    p.add(path, 'needs tags or engineVersion: a selection of every PostgreSQL instance of an account is too wide to be a mistake worth risking; e.g. { tags: { environment: "staging" } }');
  }
  if (!isMissing(o.from)) {
    const fromPath = join(path, 'from');
    if (!Array.isArray(o.from) || o.from.length === 0) {
      p.add(fromPath, `expected a non-empty list of places, e.g. [{ region: "eu-west-2" }, { region: "eu-west-1", aws: { roleArn: "arn:aws:iam::222222222222:role/rds-orchestrator" } }], got ${describe(o.from)}`);
    } else {
      const seen = new Set<string>();
      o.from.forEach((raw, i) => {
        const itemPath = `${fromPath}[${i}]`;
        const item = readObject(p, raw, itemPath, ['region', 'aws']);
        if (!item) return;
        const region = readRegion(p, item.region, join(itemPath, 'region'));
        const aws = readAwsAccess(p, item.aws, join(itemPath, 'aws'));
        const key = `${region} ${aws?.roleArn ?? aws?.profile ?? ''}`;
        if (seen.has(key)) p.add(itemPath, `${region}${aws ? ` with ${aws.roleArn ?? aws.profile}` : ''} is listed twice`);
        seen.add(key);
        select.from.push(aws ? { region, aws } : { region });
      });
    }
  }
  return select;
}

function readOrder(p: Problems, value: unknown, path: string, fleet: ResolvedFleet): FleetOrder {
  if (value === 'listed') {
    if (!fleet.instanceIds) p.add(path, '"listed" needs `instances` (a selection has no list order); use "smallest-first" or { tag: "wave" }');
    return 'listed';
  }
  if (value === 'smallest-first') return value;
  if (isObject(value) && Object.keys(value).length === 1 && typeof value.tag === 'string' && value.tag.length > 0) return { tag: value.tag };
  p.add(path, `expected "listed", "smallest-first" or { tag: "wave" } (instances in order of the tag's value, a new value starting a new wave), got ${describe(value)}`);
  return fleet.order;
}

function readWaves(p: Problems, value: unknown, path: string, fleet: ResolvedFleet, requiresApproval: boolean): void {
  if (!requiresApproval) fleet.maxConcurrent = 1;
  if (isMissing(value)) return;
  const o = readObject(p, value, path, ['maxConcurrent', 'order', 'failureThreshold', 'instancesPerWorkflow']);
  if (!o) return;
  if (!isMissing(o.maxConcurrent)) {
    if (requiresApproval) {
      p.add(
        join(path, 'maxConcurrent'),
        "a stage that requires approval upgrades each instance in its own maintenance window: its waves are the window groups (one announcement each), so it takes no maxConcurrent; leave it out (or spread the instances' windows)",
      );
    } else {
      fleet.maxConcurrent = readInteger(p, o.maxConcurrent, join(path, 'maxConcurrent'), 1, 1, 100);
    }
  }
  if (!isMissing(o.order)) fleet.order = readOrder(p, o.order, join(path, 'order'), fleet);
  fleet.failureThreshold = readInteger(p, o.failureThreshold, join(path, 'failureThreshold'), 1, 1);
  fleet.instancesPerWorkflow = readInteger(p, o.instancesPerWorkflow, join(path, 'instancesPerWorkflow'), DEFAULT_INSTANCES_PER_WORKFLOW, 1, MAX_INSTANCES_PER_WORKFLOW);
}
