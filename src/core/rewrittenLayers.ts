// Transfer Lab's Keras rewrite (engine/keras/kerasRewrites.ts) runs some Keras layers as a few
// stock TF.js layers: the parts are named `<layer>__<part>` (`conv__linear` holds the weights,
// `conv__gate`, `conv__hsig`, …) and come before the part that keeps the Keras name. Users and
// their experiment files speak of the Keras layer, so "from layer X on" means from X's first
// part: otherwise `"unfreezeFrom": "X"` would leave X's own weights (in `X__linear`) frozen.

/** Index in `names` (layers in model order) where "from `layer` on" starts; -1 if `layer` is not there. */
export function firstPartIndex(names: readonly string[], layer: string): number {
  const at = names.indexOf(layer);
  if (at < 0) return -1;
  const prefix = `${layer}__`;
  const first = names.findIndex((n, i) => i < at && n.startsWith(prefix));
  return first >= 0 ? first : at;
}
