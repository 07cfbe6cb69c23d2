// Series i's colour (the theme's value now) and dash, for views that style a series themselves
// (the Study panel's lines and legend swatches); the palette is theme.ts's, shared with chart.ts.
import { FALLBACK, paletteEntry, themeKind } from './theme';

export function seriesStyle(i: number): { color: string; dash: number[] } {
  const { variable, dash } = paletteEntry(i);
  return { color: getComputedStyle(document.body).getPropertyValue(variable).trim() || FALLBACK[themeKind(document.body.className)].series, dash };
}
