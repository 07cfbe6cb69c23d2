// What `transfer-lab demo --json` prints on stdout: one JSON document per line, each with a
// `type`, as `run --json` and `study --json` do. The study's events come as they happen
// (StudyEventSchema, studyFile.ts), then exactly one `summary` line, so a reader can take
// the last line, or filter on `type`, without telling an event from the result by its shape.
import * as v from 'valibot';
import { measured } from './messageProtocol';
import { BackendNameSchema } from './protocol';
import { StudyEventSchema, StudyFileSchema } from './studyFile';

export const DemoSummarySchema = v.object({
  type: v.literal('summary'),
  status: v.picklist(['completed', 'cancelled', 'failed']),
  backend: BackendNameSchema,
  /** Wall time of the whole demo, loading included. */
  seconds: measured,
  studyDir: v.string(),
  study: StudyFileSchema,
});
export type DemoSummary = v.InferOutput<typeof DemoSummarySchema>;

export const DemoLineSchema = v.variant('type', [...StudyEventSchema.options, DemoSummarySchema]);
export type DemoLine = v.InferOutput<typeof DemoLineSchema>;

/** One line of output: JSON.stringify escapes newlines inside strings, so a line is always a whole document. */
export const demoLine = (line: DemoLine): string => JSON.stringify(line);

/** Reads one line back (for scripts and tests); the error names the line's type and the field. */
export function parseDemoLine(text: string): { ok: true; value: DemoLine } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: `not a JSON document: ${text.slice(0, 80)}` };
  }
  const parsed = v.safeParse(DemoLineSchema, raw);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issue = parsed.issues[0];
  const type = typeof (raw as { type?: unknown } | null)?.type === 'string' ? `'${(raw as { type: string }).type}'` : 'untyped';
  return { ok: false, error: `${type} line: ${v.getDotPath(issue) ?? '(the line)'}: ${issue.message}` };
}
