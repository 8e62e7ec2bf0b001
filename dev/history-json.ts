/**
 * History <-> proto3 JSON (the format of `temporal workflow show --output json` and of the Web UI's
 * download), for the recorded histories in test/histories (written by dev/record-histories.ts, read by the replay test and the bench).
 *
 * Why not `historyToJSON`/`historyFromJSON` from @temporalio/common/lib/proto-utils: in this install
 * npm keeps two copies of protobufjs 8 (under @temporalio/common and under @temporalio/proto, because
 * grpc's proto-loader holds the top-level slot with protobufjs 7), and common's protojson rejects the
 * types built by proto's copy ("TypeError: type must be a Type"). The Worker's replay of a JSON history
 * goes through the same function. Using the protojson of the protobufjs that @temporalio/proto itself
 * resolves works with either layout.
 */
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve('@temporalio/proto/package.json'))] })) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Accepts both the current (EVENT_TYPE_...) and the older PascalCase (WorkflowExecutionStarted) enum spelling. */
export function historyFromJSON(json: unknown): History {
  const h = json as { events?: Record<string, unknown>[] };
  if (!h || !Array.isArray(h.events)) throw new TypeError('Invalid history, expected an object with an array of events');
  const constant = (s: string) => s.replace(/[^\b][A-Z]/g, (m) => `${m[0]}_${m[1]}`).toUpperCase();
  const events = h.events.map((e) => {
    const t = e.eventType;
    return typeof t === 'string' && !t.startsWith('EVENT_TYPE') ? { ...e, eventType: `EVENT_TYPE_${constant(t)}` } : e;
  });
  const loaded = protojson.fromJson(historyType, { events }, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('Invalid history');
  return loaded as History;
}
