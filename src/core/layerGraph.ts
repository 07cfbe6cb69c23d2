// Which layers a layer's output depends on: one walk for the three places that cut a
// backbone (the freeze view's layer table, the model summary's TF.js model, the Keras graph
// trimmed before it is built), each telling it a layer's inbound layers its own way.

/**
 * `from` and every layer upstream of it, following `inboundOf` (the names a layer's inbound
 * nodes read from; nothing for a name that is not a layer). Names, not layers: the callers
 * only ask whether a layer is kept.
 */
export function upstreamLayers(from: string, inboundOf: (name: string) => Iterable<string>): Set<string> {
  const keep = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const n = stack.pop()!;
    if (keep.has(n)) continue;
    keep.add(n);
    for (const inbound of inboundOf(n)) stack.push(inbound);
  }
  return keep;
}
