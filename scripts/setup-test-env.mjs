// Installs what the VS Code tests need, once (idempotent, cached):
//   code-server 4.100.3 (= VS Code 1.100.3 as server + web workbench, from npm, because
//   desktop VS Code cannot be downloaded offline), into
//   ${TRANSFER_LAB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/transfer-lab}/code-server-4.100.3/
//   and checks for a system Chromium (CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser)
//   that playwright-core drives (never `npx playwright install`).
// The recipe is code-server's own postinstall minus its downloads (ripgrep comes from
// Debian instead of GitHub); see /work/shared/notes/environment.md section 2 / the README.
// A marker file is written only after a smoke check (the server starts and serves the
// workbench), so a second run takes well under a second.
//
//   node scripts/setup-test-env.mjs [--force]      (npm run setup:test-env)
// Debian packages needed: chromium (tests), dataset-fashion-mnist (the engine tests' images),
// ripgrep and libkrb5-dev (install only). Run as root with apt-get (a fresh Debian machine,
// CI), they are installed, saying so (scripts/debianPackages.mjs); otherwise the script says
// the exact command.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODE_SERVER_VERSION, cacheRoot, codeServerDir, codeServerEntry, findChromium } from '../test/support/testEnv.mjs';
import { ensureDebianPackages, MissingPackagesError } from './debianPackages.mjs';
import { FASHION_MNIST_DIR } from './fashionMnist.mjs';

const marker = path.join(codeServerDir, '.transfer-lab-ready');
const lockDir = path.join(cacheRoot, `code-server-${CODE_SERVER_VERSION}.lock`);
const force = process.argv.includes('--force');
const isRoot = process.getuid?.() === 0;
const started = Date.now();
const log = (m) => console.log(`[setup:test-env] ${m}`);
const secs = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

class SetupError extends Error {}

function run(cmd, args, cwd, extraEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_yes: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      // code-server's (and node-gyp's) scripts refuse to run as root without it.
      ...(isRoot ? { npm_config_unsafe_perm: 'true' } : {}),
      ...extraEnv,
    },
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`.trim().split('\n').slice(-25).join('\n');
    throw new SetupError(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}:\n${tail}`);
  }
  return r.stdout;
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const hasGssapi = () => ['/usr/include/gssapi/gssapi.h', '/usr/include/gssapi.h'].some((f) => fs.existsSync(f));

const ensurePackages = (missing, why, hint) => ensureDebianPackages(missing, why, log, hint);

/** The real images the engine tests train on (scripts/fashionMnist.mjs reads them). */
function ensureFashionMnist() {
  if (process.env.FASHION_MNIST_DIR || fs.existsSync(FASHION_MNIST_DIR)) return;
  ensurePackages(['dataset-fashion-mnist'], 'the Fashion-MNIST images the tests train on', 'or set FASHION_MNIST_DIR to a folder with its IDX files.');
}

function ensureChromium() {
  if (process.env.CHROMIUM_PATH && !fs.existsSync(process.env.CHROMIUM_PATH)) {
    throw new SetupError(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`);
  }
  if (!findChromium()) ensurePackages(['chromium'], 'the browser the tests drive', 'or point CHROMIUM_PATH at a Chromium/Chrome binary.');
  const chromium = findChromium();
  if (!chromium) throw new SetupError('Chromium is still missing after apt-get install chromium');
  const r = spawnSync(chromium, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new SetupError(`${chromium} --version failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
  return `${chromium} (${r.stdout.trim()})`;
}

/** One installer at a time (several terminals or CI steps may start this together). */
async function withLock(fn) {
  fs.mkdirSync(cacheRoot, { recursive: true });
  const until = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const age = Date.now() - fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
      if (age > 20 * 60_000) {
        log(`removing a stale lock (${lockDir})`);
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until) throw new SetupError(`another setup:test-env holds ${lockDir}; remove it if no setup runs`);
      log('another setup:test-env is installing code-server; waiting');
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function installCodeServer() {
  const missing = [];
  if (!which('rg')) missing.push('ripgrep');
  if (!hasGssapi()) missing.push('libkrb5-dev');
  ensurePackages(missing, 'needed to install code-server offline');

  fs.rmSync(codeServerDir, { recursive: true, force: true });
  fs.mkdirSync(codeServerDir, { recursive: true });
  fs.writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({ name: 'transfer-lab-code-server', private: true }));
  log(`npm install --ignore-scripts code-server@${CODE_SERVER_VERSION} (its postinstall would download ripgrep from GitHub)`);
  run('npm', ['install', '--ignore-scripts', '--no-save', `code-server@${CODE_SERVER_VERSION}`], codeServerDir);
  const pkg = path.join(codeServerDir, 'node_modules', 'code-server');
  const vscodeDir = path.join(pkg, 'lib', 'vscode');
  log(`[${secs()}] lib/vscode: npm install --omit=dev --ignore-scripts`);
  run('npm', ['install', '--omit=dev', '--ignore-scripts'], vscodeDir);
  const rgDir = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgDir, { recursive: true });
  fs.copyFileSync(which('rg'), path.join(rgDir, 'rg'));
  fs.chmodSync(path.join(rgDir, 'rg'), 0o755);
  log(`[${secs()}] lib/vscode: npm rebuild (native modules; ripgrep copied from ${which('rg')})`);
  run('npm', ['rebuild'], vscodeDir);
  const asar = path.join(vscodeDir, 'node_modules.asar');
  if (!fs.existsSync(asar)) fs.symlinkSync('node_modules', asar);
  log(`[${secs()}] lib/vscode/extensions: npm install --omit=dev (built-in extensions)`);
  run('npm', ['install', '--omit=dev'], path.join(vscodeDir, 'extensions'));
  // argon2 is hoisted next to code-server; build it here rather than fetch a prebuilt one.
  log(`[${secs()}] npm rebuild --build-from-source (argon2)`);
  run('npm', ['rebuild', '--build-from-source'], codeServerDir);
}

/** The installed server prints its version, starts, and serves the workbench page. */
async function smokeCheck() {
  // Its own empty config, as the tests use: otherwise a first run on a fresh machine writes
  // ~/.config/code-server/config.yaml and says so before the version line.
  const config = path.join(fs.mkdtempSync(path.join(cacheRoot, 'version-')), 'config.yaml');
  fs.writeFileSync(config, '');
  const printed = run(process.execPath, [codeServerEntry, '--config', config, '--version'], codeServerDir);
  fs.rmSync(path.dirname(config), { recursive: true, force: true });
  const version = printed.split('\n').find((l) => l.includes(CODE_SERVER_VERSION));
  if (!version) throw new SetupError(`code-server --version printed: ${printed.trim().slice(0, 300)}`);
  const rg = path.join(codeServerDir, 'node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg');
  run(rg, ['--version'], codeServerDir);
  const { startCodeServer } = await import('../test/support/testEnv.mjs');
  const workspace = fs.mkdtempSync(path.join(cacheRoot, 'smoke-'));
  const server = await startCodeServer({ workspace });
  try {
    const res = await fetch(server.url);
    const html = await res.text();
    if (res.status !== 200 || !html.includes('workbench')) throw new SetupError(`the workbench page answered ${res.status}`);
  } finally {
    await server.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
  return version;
}

try {
  ensureFashionMnist();
  const chromium = ensureChromium();
  if (!force && fs.existsSync(marker) && fs.existsSync(codeServerEntry)) {
    log(`code-server ${CODE_SERVER_VERSION} ready (cached in ${codeServerDir}); chromium ${chromium}`);
  } else {
    await withLock(async () => {
      if (!force && fs.existsSync(marker) && fs.existsSync(codeServerEntry)) return; // another run finished it
      log(`installing code-server ${CODE_SERVER_VERSION} into ${codeServerDir}`);
      fs.rmSync(marker, { force: true });
      installCodeServer();
      log(`[${secs()}] smoke check: start the server and load the workbench`);
      const version = await smokeCheck();
      fs.writeFileSync(marker, `${version}\n${new Date().toISOString()}\n`);
    });
    log(`code-server ${CODE_SERVER_VERSION} ready in ${secs()} (${codeServerDir}); chromium ${chromium}`);
  }
} catch (e) {
  const message = e instanceof Error ? (e instanceof SetupError || e instanceof MissingPackagesError ? e.message : (e.stack ?? e.message)) : String(e);
  console.error(`[setup:test-env] FAILED: ${message}`);
  process.exit(1);
}
