/**
 * A recorded history in the shape SDK core also writes: a local activity's marker in one workflow task and the
 * commands the workflow gave after the activity in the next. Core does so when a workflow task is heartbeated
 * while a local activity runs and a query is answered meanwhile (reproduced with the SDK 1.24 worker: a local
 * activity of about the heartbeat's length, queried every few milliseconds, gave this shape in 6 of 60 runs).
 * On replay core resolves the activity in the first task, so the workflow's next steps run a task early: a
 * `patched()` asked there answers false (core has not yet told it of a marker written in the next task) and the
 * replay fails as nondeterministic. A workflow that decides its patches when the run starts replays either shape.
 *
 * Works on the recorded JSON (proto3 JSON, test/histories): every local activity marker followed by another
 * command of the same workflow task gets a workflow task of its own after it (scheduled, started, completed, as
 * core writes them), and every event id after it moves by three.
 */
type Json = Record<string, unknown>;
interface JsonHistory {
  events: Json[];
}

const SHIFT = 3;

/** The id fields of an event's attributes (scheduledEventId, startedEventId, workflowTaskCompletedEventId, ...). */
function shiftIds(value: unknown, after: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shiftIds(v, after));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Json).map(([k, v]) => {
      if (/EventId$/.test(k) && (typeof v === 'string' || typeof v === 'number') && Number(v) > after) return [k, typeof v === 'string' ? String(Number(v) + SHIFT) : v + SHIFT];
      return [k, shiftIds(v, after)];
    }),
  );
}

const attributesOf = (e: Json): Json | undefined => Object.entries(e).find(([k]) => k.endsWith('EventAttributes'))?.[1] as Json | undefined;
const isLocalActivityMarker = (e: Json) => (e.markerRecordedEventAttributes as Json | undefined)?.markerName === 'core_local_activity';

/** The history split after each local activity marker that other commands of its workflow task follow. */
export function splitAfterLocalActivityMarkers(history: JsonHistory): { history: JsonHistory; splits: number } {
  let events = history.events.map((e) => ({ ...e }));
  let splits = 0;
  for (let i = 0; i < events.length - 1; i++) {
    const marker = events[i];
    if (!isLocalActivityMarker(marker)) continue;
    const completedId = String(attributesOf(marker)?.workflowTaskCompletedEventId);
    const next = attributesOf(events[i + 1]);
    if (!next || String(next.workflowTaskCompletedEventId) !== completedId) continue;
    const completed = events.find((e) => String(e.eventId) === completedId)!;
    const started = events.find((e) => String(e.eventId) === String((completed.workflowTaskCompletedEventAttributes as Json).startedEventId))!;
    const scheduled = events.find((e) => String(e.eventId) === String((completed.workflowTaskCompletedEventAttributes as Json).scheduledEventId))!;
    const at = Number(marker.eventId);
    const id = (n: number) => String(at + n);
    const time = marker.eventTime;
    const inserted: Json[] = [
      { eventId: id(1), eventTime: time, eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', workflowTaskScheduledEventAttributes: { ...(scheduled.workflowTaskScheduledEventAttributes as Json), attempt: 1 } },
      { eventId: id(2), eventTime: time, eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED', workflowTaskStartedEventAttributes: { ...(started.workflowTaskStartedEventAttributes as Json), scheduledEventId: id(1) } },
      { eventId: id(3), eventTime: time, eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', workflowTaskCompletedEventAttributes: { ...(completed.workflowTaskCompletedEventAttributes as Json), scheduledEventId: id(1), startedEventId: id(2) } },
    ];
    const before = events.slice(0, i + 1).map((e) => shiftIds(e, at) as Json);
    const after = events.slice(i + 1).map((e) => {
      const moved = shiftIds(e, at) as Json;
      moved.eventId = String(Number(e.eventId) + SHIFT);
      // The rest of the first task's commands now follow the new task.
      const attrs = attributesOf(moved);
      if (attrs && String(attrs.workflowTaskCompletedEventId) === completedId) attrs.workflowTaskCompletedEventId = id(3);
      return moved;
    });
    events = [...before, ...inserted, ...after];
    splits++;
    i += SHIFT;
  }
  return { history: { ...history, events }, splits };
}
