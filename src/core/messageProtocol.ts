// The one rule for every message boundary (trainer <-> host: protocol.ts; host <-> webviews:
// dashboardMessages.ts, dashboardViewMessages.ts, compareMessages.ts, layerTreeMessages.ts):
// - a message is a JSON object `{ type, protocol, ...fields }`; `type` is kebab-case
//   ('run-event', 'open-dashboard'), fields are camelCase;
// - `protocol` is the boundary's version constant (`<BOUNDARY>_PROTOCOL`, the trainer's is
//   PROTOCOL_VERSION), carried by every message in both directions, so a side from another
//   build is recognised on any message, not only on the first one;
// - each boundary's module defines its messages as valibot schemas and infers the TS types
//   from them (v.InferOutput), so what is sent and what is checked cannot drift apart;
// - the receiving side parses everything with `parseMessage` before use: deeply, every
//   nested field. What fails is refused with an error naming the message type and the field.
import * as v from 'valibot';
import { isRecord } from './json';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; /** The other side is from another build. */ mismatch?: true };

/** A message of one boundary: `{ type, protocol, ...entries }`. */
export function message<const P extends number, const T extends string, const E extends v.ObjectEntries>(protocol: P, type: T, entries: E) {
  return v.object({ type: v.literal(type), protocol: v.literal(protocol), ...entries });
}

/** The message without its `protocol`: what senders write; `versioned` adds it. */
export type Unversioned<M> = M extends unknown ? Omit<M, 'protocol'> : never;

export function versioned<M extends { protocol: number }>(protocol: M['protocol'], m: Unversioned<M>): M {
  return { ...m, protocol } as unknown as M;
}

/** Every message received goes through here: the version first (a clear mismatch), then the whole shape. */
export function parseMessage<S extends v.GenericSchema>(schema: S, protocol: number, raw: unknown): Parsed<v.InferOutput<S>> {
  if (!isRecord(raw)) return { ok: false, error: `not a message object: ${preview(raw)}` };
  const type = typeof raw.type === 'string' ? raw.type : undefined;
  if (typeof raw.protocol === 'number' && raw.protocol !== protocol) {
    return { ok: false, mismatch: true, error: `'${type}' message of protocol ${raw.protocol}, expected ${protocol}: the other side is from another version` };
  }
  const result = v.safeParse(schema, raw);
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, error: describeIssue(result.issues[0]) };
}

/** "'run-event' / 'epoch' message: event.valLoss: Invalid type: Expected number but received "x"". */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const at = v.getDotPath(issue);
  if (at === 'type') return `unknown message type ${preview(issue.input)}`;
  // The objects along the path, outermost first: the message, then any nested typed record.
  const along = issue.path?.length ? issue.path.map((p) => p.input) : [issue.input];
  const types = along.flatMap((x) => (isRecord(x) && typeof x.type === 'string' ? [`'${x.type}'`] : []));
  return `${types.join(' / ') || 'untyped'} message: ${at ?? '(the message)'}: ${issue.message}`;
}

const preview = (x: unknown): string => (JSON.stringify(x) ?? String(x)).slice(0, 200);

// ---- pieces the boundaries share ----

/** A whole number >= 0 (counts, indexes, epochs). */
export const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/**
 * A measured value (loss, accuracy, a rate). JSON, which carries every message, turns NaN and
 * ±Infinity into null: null reads back as NaN, so a diverged loss stays a number that says so.
 */
export const measured = v.pipe(
  v.nullable(v.number()),
  v.transform((n): number => n ?? NaN),
);

/** Compile-time proof that a schema describes exactly a type declared elsewhere. */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Assert<T extends true> = T;
