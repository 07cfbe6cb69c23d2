// Where the test tools live (installed by scripts/setup-test-env.mjs) and how to start them:
// code-server (a real VS Code: server + web workbench) and headless Chromium driving it.
// Every process started here is owned by the returned session and killed by close().
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CODE_SERVER_VERSION = '4.100.3';
export const cacheRoot = process.env.TRANSFER_LAB_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'transfer-lab');
export const codeServerDir = path.join(cacheRoot, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerEntry = path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** CHROMIUM_PATH when set (it must exist), else Debian's/Ubuntu's Chromium. */
export function findChromium() {
  if (process.env.CHROMIUM_PATH) return fs.existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : undefined;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((c) => fs.existsSync(c));
}

// Process groups of the code-server instances still running: killed when this process
// ends, however it ends (test failure, timeout, Ctrl-C), so no server is left behind.
const liveGroups = new Map(); // process group id -> temp dir
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
function killAll() {
  for (const [pid, dir] of liveGroups) {
    killGroup(pid, 'SIGKILL');
    if (process.env.TRANSFER_LAB_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  }
  liveGroups.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForHttp(url, timeoutMs, proc) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode} before serving ${url}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url} within ${timeoutMs} ms`);
}

/** A fresh user settings.json: no startup editor, tips or telemetry; workspace trust as opts.untrusted asks. */
function writeUserSettings(userDataDir, opts) {
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        // opts.untrusted: the folder opens in Restricted Mode, without asking.
        ...(opts.untrusted
          ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false }
          : { 'security.workspace.trust.enabled': false }),
        'telemetry.telemetryLevel': 'off',
        'workbench.tips.enabled': false,
        ...opts.settings,
      },
      null,
      2,
    ),
  );
}

/** Installs a VSIX into the fresh extensions dir (code-server's --install-extension). */
async function installVsix(common, vsix) {
  await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [codeServerEntry, ...common, '--install-extension', vsix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--install-extension failed (${code}): ${out}`))));
  });
}

/** The workbench URL: the folder, and the extension development/tests paths as the `payload` query. */
function workbenchUrl(port, opts) {
  // code-server's CLI has no --extensionDevelopmentPath; the web workbench takes the same
  // arguments from its `payload` query parameter, as VS Code's own web test runner does.
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [];
  if (opts.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(opts.extensionDevelopmentPath)]);
  if (opts.extensionTestsPath) payload.push(['extensionTestsPath', remote(opts.extensionTestsPath)]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(opts.workspace)}${payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
}

/**
 * Starts code-server on a free loopback port with a fresh user-data and extensions dir.
 * opts: { workspace, settings, untrusted, extraArgs, env, installVsix, extensionDevelopmentPath, extensionTestsPath }
 * close() kills the process group and removes the temp dirs (TRANSFER_LAB_KEEP_TMP=1 keeps them).
 */
export async function startCodeServer(opts) {
  if (!fs.existsSync(codeServerEntry)) throw new Error(`code-server is not installed (${codeServerEntry}); run npm run setup:test-env`);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-vscode-'));
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(base, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, opts);
  const logFile = path.join(base, 'code-server.log');
  const logStream = fs.createWriteStream(logFile);
  // --config: its own (empty) config file, so neither ~/.config/code-server/config.yaml (a
  // user's password or cert settings) is read nor a new one is written to the home folder.
  const configFile = path.join(base, 'config.yaml');
  fs.writeFileSync(configFile, '');
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check'];
  if (opts.installVsix) await installVsix(common, opts.installVsix);
  const port = await freePort();
  const args = [
    codeServerEntry,
    ...common,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    ...(opts.untrusted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    ...(opts.extraArgs ?? []),
    opts.workspace,
  ];
  // Its own process group (detached), so close() can kill code-server together with the
  // extension host and every trainer process the extension started.
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, detached: true });
  liveGroups.set(proc.pid, base);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.stdout.pipe(logStream, { end: false });
  proc.stderr.pipe(logStream, { end: false });
  const url = workbenchUrl(port, opts);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, proc);
  } catch (e) {
    killGroup(proc.pid, 'SIGKILL');
    liveGroups.delete(proc.pid);
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
    throw new Error(`${e instanceof Error ? e.message : e}\ncode-server log (${logFile}):\n${tail}`);
  }
  return {
    url,
    port,
    base,
    userDataDir,
    extensionsDir,
    logFile,
    /** True while the code-server process runs. */
    get running() {
      return proc.exitCode === null && proc.signalCode === null;
    },
    async close() {
      // The whole process group: code-server, its extension host and the trainers under it.
      killGroup(proc.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
      // The group may outlive its leader (extension host, trainers): always finish it off.
      killGroup(proc.pid, 'SIGKILL');
      liveGroups.delete(proc.pid);
      await new Promise((r) => logStream.end(r));
      // Temp user-data/extensions dirs go too, unless kept for a look (the log is in there).
      if (process.env.TRANSFER_LAB_KEEP_TMP === '1') console.log(`# kept ${base}`);
      else fs.rmSync(base, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Launches headless Chromium through playwright-core (never downloads a browser). */
export async function launchBrowser() {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      process.env.CHROMIUM_PATH
        ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`
        : 'no Chromium found: apt-get install chromium (then npm run setup:test-env), or set CHROMIUM_PATH',
    );
  }
  const { chromium } = createRequire(import.meta.url)('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
