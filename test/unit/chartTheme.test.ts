import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartColors, parseColor, themeKind } from '../../webview/lib/theme';

test('the theme kind comes from the classes VS Code puts on body', () => {
  assert.equal(themeKind('vscode-light'), 'light');
  assert.equal(themeKind('vscode-dark foo'), 'dark');
  assert.equal(themeKind('vscode-high-contrast'), 'high-contrast');
  assert.equal(themeKind('vscode-high-contrast vscode-high-contrast-light'), 'high-contrast-light');
  assert.equal(themeKind(''), 'dark');
});

test('theme colours parse in the forms the --vscode-* variables hold', () => {
  assert.deepEqual(parseColor('#fff'), { r: 255, g: 255, b: 255, a: 1 });
  assert.deepEqual(parseColor(' #0F4A85 '), { r: 15, g: 74, b: 133, a: 1 });
  assert.deepEqual(parseColor('#00000080'), { r: 0, g: 0, b: 0, a: 128 / 255 });
  assert.deepEqual(parseColor('rgba(1, 2, 3, 0.5)'), { r: 1, g: 2, b: 3, a: 0.5 });
  assert.deepEqual(parseColor('rgb(1 2 3 / 50%)'), { r: 1, g: 2, b: 3, a: 0.5 });
  assert.equal(parseColor('rgb(300, 0, 0)'), undefined);
  assert.equal(parseColor('var(--x)'), undefined);
  assert.equal(parseColor(''), undefined);
});

test('chart colours read the variables, and fall back per theme when one is missing or unparsable', () => {
  const vars: Record<string, string> = { '--vscode-foreground': '#292929', '--vscode-contrastBorder': '#0f4a85', '--vscode-charts-blue': 'bogus' };
  const hcl = chartColors('high-contrast-light', (n) => vars[n] ?? '', ['--vscode-charts-blue']);
  assert.equal(hcl.foreground, '#292929');
  assert.equal(hcl.grid, '#0f4a85', 'high contrast draws gridlines in the contrast border colour');
  assert.equal(hcl.series['--vscode-charts-blue'], '#0f4a85', 'an unparsable series colour falls back');
  const dark = chartColors('dark', () => '', []);
  assert.equal(dark.foreground, '#cccccc');
  assert.notEqual(dark.grid, hcl.grid);
});
