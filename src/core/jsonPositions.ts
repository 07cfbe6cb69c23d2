// Where each field of a JSON text is, and where the text stops being JSON, from one pass of
// jsonc-parser's visitor: JSON.parse's messages carry no position (Node 20), and a problem
// or a diagnostic must point at the field it is about. Plain JSON only: comments and
// trailing commas are errors here, as they are for JSON.parse, which reads the values.
import { printParseErrorCode, visit, type JSONPath } from 'jsonc-parser';

export type JsonValueType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export interface JsonField {
  /** `train.epochs`, `head.dense[0]`; '' for the root value. */
  path: string;
  /** Where the field starts (its key for a property, its first character for a list item or the root). */
  offset: number;
  /** 1-based line and column (UTF-16 code units, like VS Code) of `offset`. */
  line: number;
  column: number;
  /** Where its value is, once the value has been read. */
  value?: { offset: number; length: number; type: JsonValueType };
}

/** What the reader expected next: the context a syntax error's message needs. */
export type JsonExpectation = 'key' | 'colon' | 'value' | 'separator' | 'end';

export interface JsonSyntaxError {
  code: ReturnType<typeof printParseErrorCode>;
  offset: number;
  line: number;
  column: number;
  expecting: JsonExpectation;
  /** The innermost object or list open at the error, if any. */
  container?: 'object' | 'array';
  /** The last property name read in that object. */
  key?: string;
  /** The literal read just before (a stray digit after a number makes the number invalid). */
  previous?: { offset: number; length: number; line: number; column: number; type: JsonValueType };
}

export interface JsonOutline {
  /** Each JSON path's field; of a key given twice, the last (the one JSON.parse keeps). */
  fields: Map<string, JsonField>;
  /** Keys given again in the same object, at the later occurrences. */
  duplicates: JsonField[];
  /** The first syntax error, if the text is not JSON. */
  error?: JsonSyntaxError;
}

/** `['train', 'epochs']` -> `train.epochs`; `['head', 'dense', 0]` -> `head.dense[0]`. */
export function pathOf(segments: JSONPath): string {
  return segments.reduce<string>((p, s) => (typeof s === 'number' ? `${p}[${s}]` : p ? `${p}.${s}` : s), '');
}

/** `head.dense[0]` -> `head.dense` -> `head` -> ''; undefined above the root. */
export function parentPath(p: string): string | undefined {
  if (p === '') return undefined;
  const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
  return cut <= 0 ? '' : p.slice(0, cut);
}

/** Reads the text once: its fields, its duplicate keys and its first syntax error. */
export function outlineJson(text: string): JsonOutline {
  const outliner = new Outliner(text);
  visit(text, outliner, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return { fields: outliner.fields, duplicates: outliner.duplicates, error: outliner.error };
}

/** The field at `jsonPath`, else its nearest ancestor that the text has (a missing field is reported at its parent). */
export function locateJsonPath(fields: ReadonlyMap<string, JsonField>, jsonPath: string): JsonField | undefined {
  for (let p: string | undefined = jsonPath; p !== undefined; p = parentPath(p)) {
    const field = fields.get(p);
    if (field) return field;
  }
  return undefined;
}

/** The innermost field whose key or value covers `offset`. */
export function jsonFieldAt(fields: ReadonlyMap<string, JsonField>, offset: number): JsonField | undefined {
  let best: JsonField | undefined;
  for (const field of fields.values()) {
    const end = field.value ? field.value.offset + field.value.length : field.offset;
    if (field.offset <= offset && offset < end && (!best || field.offset >= best.offset)) best = field;
  }
  return best;
}

interface Frame {
  kind: 'object' | 'array';
  start: number;
  /** The field this object or list is the value of. */
  field: JsonField;
  keys: Set<string>;
  key?: string;
}

/** jsonc-parser's visitor callbacks, keeping the fields and the state a syntax error is reported in. */
class Outliner {
  readonly fields = new Map<string, JsonField>();
  readonly duplicates: JsonField[] = [];
  error?: JsonSyntaxError;
  private readonly frames: Frame[] = [];
  private expecting: JsonExpectation = 'value';
  private previous?: JsonSyntaxError['previous'];
  /** The property whose value comes next. */
  private property?: JsonField;

  constructor(private readonly text: string) {}

  private get top(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }

  onObjectProperty = (key: string, offset: number, _length: number, line: number, character: number, path: () => JSONPath): void => {
    const field: JsonField = { path: pathOf([...path(), key]), offset, line: line + 1, column: character + 1 };
    const frame = this.top!;
    if (frame.keys.has(key)) this.duplicates.push(field);
    frame.keys.add(key);
    frame.key = key;
    this.fields.set(field.path, field);
    this.property = field;
    this.expecting = 'colon';
  };

  onSeparator = (separator: string): void => {
    this.expecting = separator === ',' && this.top?.kind === 'object' ? 'key' : 'value';
  };

  onObjectBegin = (offset: number, _length: number, line: number, character: number, path: () => JSONPath): void => {
    this.begin('object', offset, line, character, path);
  };

  onArrayBegin = (offset: number, _length: number, line: number, character: number, path: () => JSONPath): void => {
    this.begin('array', offset, line, character, path);
  };

  onObjectEnd = (offset: number): void => this.end(offset);

  onArrayEnd = (offset: number): void => this.end(offset);

  onLiteralValue = (value: unknown, offset: number, length: number, line: number, character: number, path: () => JSONPath): void => {
    const type: JsonValueType = value === null ? 'null' : (typeof value as 'string' | 'number' | 'boolean');
    this.valueStarts(offset, line, character, path).value = { offset, length, type };
    this.previous = { offset, length, line: line + 1, column: character + 1, type };
    this.expecting = this.frames.length === 0 ? 'end' : 'separator';
  };

  onError = (code: Parameters<typeof printParseErrorCode>[0], offset: number, _length: number, line: number, character: number): void => {
    if (this.error) return;
    const top = this.top;
    this.error = { code: printParseErrorCode(code), offset, line: line + 1, column: character + 1, expecting: this.expecting, previous: this.previous };
    if (top) Object.assign(this.error, { container: top.kind, key: top.key });
  };

  /** A property's value belongs to the field its key started; a list item or the root is a field of its own. */
  private valueStarts(offset: number, line: number, character: number, path: () => JSONPath): JsonField {
    if (this.top?.kind === 'object' && this.property) return this.property;
    const field: JsonField = { path: pathOf(path()), offset, line: line + 1, column: character + 1 };
    this.fields.set(field.path, field);
    return field;
  }

  private begin(kind: Frame['kind'], offset: number, line: number, character: number, path: () => JSONPath): void {
    const field = this.valueStarts(offset, line, character, path);
    this.frames.push({ kind, start: offset, field, keys: new Set() });
    this.expecting = kind === 'object' ? 'key' : 'value';
  }

  private end(offset: number): void {
    // jsonc-parser ends an object or list the file leaves open too; it stays open for the error that follows.
    if (this.text[offset] !== (this.top?.kind === 'object' ? '}' : ']')) return;
    const frame = this.frames.pop()!;
    frame.field.value = { offset: frame.start, length: offset + 1 - frame.start, type: frame.kind };
    this.expecting = this.frames.length === 0 ? 'end' : 'separator';
  }
}
