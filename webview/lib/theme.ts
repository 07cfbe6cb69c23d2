// The chart's colours from VS Code's theme: the --vscode-* CSS variables a webview gets, read
// again whenever the theme changes (a canvas does not restyle itself the way CSS does). Pure:
// the variables come through a getter, so it is tested in plain Node.

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

/** The theme from body's class list (VS Code sets vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light). */
export function themeKind(bodyClass: string): ThemeKind {
  const classes = bodyClass.split(/\s+/);
  if (classes.includes('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.includes('vscode-high-contrast')) return 'high-contrast';
  if (classes.includes('vscode-light')) return 'light';
  return 'dark';
}

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** A CSS colour as the theme variables hold them: #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(); undefined otherwise. */
export function parseColor(css: string): Rgba | undefined {
  const s = css.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(s);
  if (hex) {
    const h = hex[1].length <= 4 ? [...hex[1]].map((c) => c + c).join('') : hex[1];
    const byte = (i: number) => parseInt(h.slice(i * 2, i * 2 + 2), 16);
    return { r: byte(0), g: byte(1), b: byte(2), a: h.length === 8 ? byte(3) / 255 : 1 };
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(s);
  if (fn) {
    const alpha = fn[4] === undefined ? 1 : fn[4].endsWith('%') ? parseFloat(fn[4]) / 100 : parseFloat(fn[4]);
    const [r, g, b] = [fn[1], fn[2], fn[3]].map(Number);
    if ([r, g, b].every((c) => c <= 255) && alpha <= 1) return { r, g, b, a: alpha };
  }
  return undefined;
}

/** One colour per series: the theme's chart palette, with a dash pattern so series differ without colour too. */
export const PALETTE: readonly { variable: string; dash: number[] }[] = [
  { variable: '--vscode-charts-blue', dash: [] },
  { variable: '--vscode-charts-orange', dash: [6, 3] },
  { variable: '--vscode-charts-green', dash: [2, 3] },
  { variable: '--vscode-charts-purple', dash: [8, 3, 2, 3] },
  { variable: '--vscode-charts-red', dash: [12, 4] },
  { variable: '--vscode-charts-yellow', dash: [1, 2] },
];

export const paletteEntry = (i: number) => PALETTE[i % PALETTE.length];

/** What a chart draws with besides its series: text, muted text (ticks), gridlines, and the marker. */
export interface ChartColors {
  theme: ThemeKind;
  foreground: string;
  muted: string;
  grid: string;
  marker: string;
  /** Each series variable resolved. */
  series: Record<string, string>;
}

/** Fallbacks per theme, for a variable the webview lacks (older VS Code, or a theme that leaves it out). */
export const FALLBACK: Record<ThemeKind, { foreground: string; muted: string; grid: string; series: string }> = {
  dark: { foreground: '#cccccc', muted: '#9d9d9d', grid: '#454545', series: '#3794ff' },
  light: { foreground: '#3b3b3b', muted: '#717171', grid: '#d4d4d4', series: '#005fb8' },
  'high-contrast': { foreground: '#ffffff', muted: '#ffffff', grid: '#6fc3df', series: '#3794ff' },
  'high-contrast-light': { foreground: '#292929', muted: '#292929', grid: '#0f4a85', series: '#0f4a85' },
};

/** Resolves the colours a chart needs; `read` returns a CSS variable's value ('' when unset). */
export function chartColors(theme: ThemeKind, read: (variable: string) => string, seriesVariables: readonly string[]): ChartColors {
  const f = FALLBACK[theme];
  const pick = (fallback: string, ...variables: string[]) => {
    for (const name of variables) {
      const value = read(name).trim();
      if (parseColor(value)) return value;
    }
    return fallback;
  };
  const series: Record<string, string> = {};
  for (const name of seriesVariables) series[name] = pick(f.series, name);
  return {
    theme,
    foreground: pick(f.foreground, '--vscode-foreground'),
    muted: pick(f.muted, '--vscode-descriptionForeground', '--vscode-foreground'),
    // High contrast themes draw borders with contrastBorder; the others with the widget border.
    grid: pick(f.grid, ...(theme.startsWith('high-contrast') ? ['--vscode-contrastBorder'] : []), '--vscode-editorWidget-border', '--vscode-panel-border'),
    marker: pick(f.foreground, '--vscode-editorWarning-foreground', '--vscode-foreground'),
    series,
  };
}
