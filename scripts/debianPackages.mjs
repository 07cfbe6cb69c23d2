// Debian packages the tests need (the browser, code-server's build needs, the Fashion-MNIST
// images, python3-venv for the Keras fixtures). The README's `npm test` sets itself up: as
// root with apt-get it installs what is missing, saying what and why; otherwise it stops
// with the exact command to run. TRANSFER_LAB_NO_APT=1 turns the installing off (then the
// command is printed, as for a non-root user).
import { spawnSync } from 'node:child_process';

export class MissingPackagesError extends Error {}

const canInstall = () =>
  process.getuid?.() === 0 && process.env.TRANSFER_LAB_NO_APT !== '1' && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;

/** The packages of `names` that dpkg does not have installed. */
export function missingPackages(names) {
  return names.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
}

/**
 * Installs `missing` (with apt-get, as root) or throws MissingPackagesError with the command
 * to run. `why` says what they are for; `log` prints a line; `hint` adds an alternative.
 */
export function ensureDebianPackages(missing, why, log, hint = '') {
  if (missing.length === 0) return;
  if (!canInstall()) {
    throw new MissingPackagesError(
      `missing system packages (${why}): ${missing.join(', ')}.\n` +
        `  Install them:  sudo apt-get install -y ${missing.join(' ')}   (Debian/Ubuntu)${hint ? `\n  ${hint}` : ''}\n` +
        '  (Run as root with apt-get, npm test installs them itself; TRANSFER_LAB_NO_APT=1 turns that off.)',
    );
  }
  log(`installing Debian packages (${why}): ${missing.join(' ')}  [apt-get, as root; TRANSFER_LAB_NO_APT=1 to refuse]`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const install = () => apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  if (install().status !== 0) {
    // A fresh machine's package lists may be empty or stale: update once, then try again.
    if (apt(['update', '-qq']).status !== 0 || install().status !== 0) {
      throw new MissingPackagesError(`apt-get install ${missing.join(' ')} failed (${why}); run it yourself and see why`);
    }
  }
  const still = missingPackages(missing);
  if (still.length) throw new MissingPackagesError(`apt-get reported success but ${still.join(', ')} is still not installed`);
}
