/**
 * How a service plugs into the engine (sim/src/core/engine.ts): the state members it keeps, the durations it
 * uses, its clock tick, what it seeds, its API and any admin routes or other HTTP endpoints. The engine knows
 * services only through these.
 */
import type http from 'node:http';
import type { AwsProtocol } from './aws-protocol';
import type { IdentityProvider } from './identity';
import type { StatePart } from './state';

/** One member of POST /_sim/seed's body, applied by the service that owns it (the engine runs them in its seed order). */
export interface SeedStep {
  readonly member: string;
  run(spec: Record<string, unknown>, result: Record<string, unknown[]>, now: number): void;
}

/** A seed step typed by its service's part of the seed spec and of the answer. */
export function seedStep<Spec, Result>(member: keyof Spec & string, run: (spec: Spec, result: Result, now: number) => void): SeedStep {
  return { member, run: (spec, result, now) => run(spec as Spec, result as Result, now) };
}

export interface AdminRequest {
  query: URLSearchParams;
  body: string;
  /** A pattern route's groups, decoded. */
  match: string[];
}

export interface AdminAnswer {
  /** Default 200. */
  status?: number;
  body: unknown;
}

/** An endpoint of the admin API under /_sim (JSON). */
export interface AdminRoute {
  method: 'GET' | 'POST';
  /** The path (exact), or a pattern and how it is shown in the list of endpoints. */
  path: string | { pattern: RegExp; shown: string };
  handle(req: AdminRequest): AdminAnswer;
}

export interface HttpRequest {
  method: string;
  url: URL;
  body: string;
  req: http.IncomingMessage;
}

/** An HTTP API that is not AWS's (Statuspage, PagerDuty), on its own paths. */
export interface HttpEndpoint {
  matches(pathname: string): boolean;
  handle(request: HttpRequest, res: http.ServerResponse): void;
}

export interface SimService {
  readonly name: string;
  readonly state?: StatePart<object>;
  /** Default durations, in simulated seconds before `speed` divides them (options may override them). */
  readonly durations?: Readonly<Record<string, number>>;
  /** Brings the service up to the current simulated time. */
  tick?(): void;
  /** After POST /_sim/reset emptied the state: what else the service starts afresh. */
  reset?(): void;
  readonly seed?: { readonly results: readonly string[]; readonly steps: readonly SeedStep[] };
  readonly protocols?: readonly AwsProtocol[];
  readonly adminRoutes?: readonly AdminRoute[];
  readonly httpEndpoints?: readonly HttpEndpoint[];
  /** Who a request is (one service provides it: STS). */
  readonly identity?: IdentityProvider;
}
