// Parsed JSON from outside (files, messages, settings) is checked before use; this is the one
// test that a value is a JSON object (not null, not an array) that every such check starts from.

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
