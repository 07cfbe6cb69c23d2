// The command line of `npm run bench` (bench/suite.ts): which sections run, which zoo families.
import { selectFamilies, ZOO_FAMILIES } from './zoo';

export const USAGE = 'usage: node out/bench/suite.js [--only mobilenet|onednn|zoo] [--families id,...] [--quick]';
export type Only = 'mobilenet' | 'onednn' | 'zoo';
export interface SuiteArgs {
  only?: Only;
  families?: string[];
  quick: boolean;
}

export function parseArgs(argv: string[]): SuiteArgs {
  const out: SuiteArgs = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--only') {
      const v = value();
      if (v !== 'mobilenet' && v !== 'onednn' && v !== 'zoo') throw new Error(`--only ${v}: expected mobilenet, onednn or zoo. ${USAGE}`);
      out.only = v;
    } else if (flag === '--families') {
      out.families = (value() ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const { unknown } = selectFamilies(out.families);
      if (unknown.length || out.families.length === 0)
        throw new Error(`--families: no zoo family ${unknown.join(', ') || '(none given)'}; there are ${ZOO_FAMILIES.map((f) => f.id).join(', ')}`);
      out.only ??= 'zoo';
    } else if (flag === '--quick') out.quick = true;
    else throw new Error(`unknown argument ${argv[i]}. ${USAGE}\nzoo families: ${ZOO_FAMILIES.map((f) => f.id).join(', ')}`);
  }
  return out;
}
