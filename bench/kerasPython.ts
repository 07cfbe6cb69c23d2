// The Keras side of `npm run bench`: a Python with TensorFlow, made once in the cache folder if there is none.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot, env, log } from './harness';

export function kerasPython(): { python?: string; why?: string } {
  if (process.env.BENCH_NO_KERAS === '1') return { why: 'BENCH_NO_KERAS=1' };
  const candidates = [process.env.BENCH_KERAS_PYTHON, path.join(cacheRoot, 'keras-venv', 'bin', 'python')].filter(Boolean) as string[];
  const works = (py: string) => spawnSync(py, ['-c', 'import tensorflow'], { env, encoding: 'utf8', timeout: 120_000 }).status === 0;
  for (const py of candidates) if (fs.existsSync(py) && works(py)) return { python: py };
  const venv = path.join(cacheRoot, 'keras-venv');
  log(`setting up Keras: python3 -m venv ${venv} && pip install tensorflow-cpu==2.21.0 pillow (a few minutes, once)`);
  const mk = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0) return { why: `python3 -m venv failed: ${(mk.stderr || '').trim().split('\n').pop()}` };
  const py = path.join(venv, 'bin', 'python');
  // Few retries: where only a local index is reachable, each unreachable lookup fails fast.
  const pip = spawnSync(py, ['-m', 'pip', 'install', '-q', '--retries', '1', '--timeout', '15', 'tensorflow-cpu==2.21.0', 'pillow'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (pip.status !== 0 || !works(py)) return { why: `pip install tensorflow-cpu failed: ${(pip.stderr || '').trim().split('\n').pop()}` };
  return { python: py };
}
