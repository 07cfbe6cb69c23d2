// What the run log says about the layers a planner left to TensorFlow.js: by class, with
// their names, so a slow family shows at once which layers the fast path does not know.

/** Layer names by class, in the order met. */
export type LayersByClass = Record<string, string[]>;

export function addByClass(into: LayersByClass, className: string, name: string): void {
  (into[className] ??= []).push(name);
}

/** "Cropping2D x 4 (cropping2d, cropping2d_1, ...)"; classes by count, names up to `names` each. */
export function describeByClass(layers: LayersByClass, names = 5): string {
  return Object.entries(layers)
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
    .map(([cls, list]) => `${cls} x ${list.length} (${list.slice(0, names).join(', ')}${list.length > names ? `, and ${list.length - names} more` : ''})`)
    .join('; ');
}

export const countOf = (layers: LayersByClass) => Object.values(layers).reduce((n, l) => n + l.length, 0);
