// The command line and environment of setup-native.mjs, read in one place so a typo is an
// error (an ignored `--gpux` would silently build for the CPU) and the tests can call it.

import { StepError } from './step.mjs';

const FLAGS = ['--gpu', '--if-missing', '--system-cuda'];

/** { gpu, ifMissing, systemCuda, optional, wheel, cudaWheels } from argv (after the script) and env. */
export function parseSetupOptions(argv, env) {
  const unknown = argv.filter((a) => !FLAGS.includes(a));
  if (unknown.length) {
    throw new StepError(
      'options',
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(' ')}`,
      `setup:native takes ${FLAGS.join(', ')} (e.g. \`npm run setup:native -- --gpu\`); the wheels come from TRANSFER_LAB_TF_WHEEL and TRANSFER_LAB_CUDA_WHEELS.`,
    );
  }
  const gpu = argv.includes('--gpu');
  const systemCuda = argv.includes('--system-cuda');
  if (systemCuda && !gpu) throw new StepError('options', '--system-cuda is for the GPU build only', 'Add --gpu, or drop --system-cuda.');
  if (env.TRANSFER_LAB_CUDA_WHEELS && !gpu) {
    throw new StepError('options', 'TRANSFER_LAB_CUDA_WHEELS is set but --gpu is not', 'Add --gpu to build for the GPU, or unset TRANSFER_LAB_CUDA_WHEELS.');
  }
  return {
    gpu,
    ifMissing: argv.includes('--if-missing'),
    // The CUDA libraries installed on the system (found through ld.so.conf / LD_LIBRARY_PATH) instead of the nvidia-*-cu12 wheels.
    systemCuda,
    optional: env.TRANSFER_LAB_NATIVE_OPTIONAL === '1',
    wheel: env.TRANSFER_LAB_TF_WHEEL || undefined,
    cudaWheels: env.TRANSFER_LAB_CUDA_WHEELS || undefined,
  };
}
