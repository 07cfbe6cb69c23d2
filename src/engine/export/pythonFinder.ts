// The Python that converts exports with TensorFlow: the one the user named (transferLab.pythonPath,
// or the CLI's --python), else python3, else python on PATH, whichever can import TensorFlow with
// Keras 3 (the Keras that reads model.keras). Says what was tried and the one pip command when none can.
import { spawn } from 'node:child_process';
import { TENSORFLOW_PIP } from '../../core/convertedExport';

export class PythonNotFoundError extends Error {}

export interface FoundPython {
  python: string;
  tensorflow: string;
}

const PROBE = 'import tensorflow as tf, keras; print(tf.__version__, keras.__version__)';

/** One candidate: its versions, or why it does not do. */
function probe(python: string): Promise<FoundPython | string> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, timeout: 180_000 });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'not found' : e.message));
    child.on('close', (code) => {
      const [tfVersion, kerasVersion] = out.trim().split('\n').pop()?.split(' ') ?? [];
      if (code !== 0 || !tfVersion) {
        const last = err.trim().split('\n').pop() ?? `exit code ${code}`;
        return resolve(/No module named/.test(last) ? `no tensorflow (${last})` : last);
      }
      if (!kerasVersion?.startsWith('3.')) return resolve(`TensorFlow ${tfVersion} with Keras ${kerasVersion}: needs Keras 3 (TensorFlow 2.16 or later)`);
      resolve({ python, tensorflow: tfVersion });
    });
  });
}

/** The first Python that can convert; throws PythonNotFoundError naming each one tried and why. */
export async function findTensorflowPython(configured: string | undefined): Promise<FoundPython> {
  const candidates = configured ? [configured] : ['python3', 'python'];
  const tried: string[] = [];
  for (const c of candidates) {
    const found = await probe(c);
    if (typeof found !== 'string') return found;
    tried.push(`${c} (${found})`);
  }
  const where = configured
    ? 'then point transferLab.pythonPath (CLI: --python PATH) at that Python'
    : 'then set transferLab.pythonPath (CLI: --python PATH) to that Python, or put it on PATH as python3';
  throw new PythonNotFoundError(
    `No Python with TensorFlow to convert the model: tried ${tried.join(', ')}. Install it with \`${TENSORFLOW_PIP}\` (a venv is fine), ${where}.`,
  );
}
