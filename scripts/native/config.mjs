// Where the offline native build reads and writes, and which versions it pins. Every step
// module imports these; nothing here touches the disk.

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG_NAME = '@tensorflow/tfjs-node';
export const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
export const TF_PIP_SPEC = 'tensorflow-cpu==2.21.0';
export const TF_VERSION = '2.21.0';
export const NAPI_VERSION = 8; // tfjs-node 4.22 lists napi_versions 3..8; node-pre-gyp picks 8 on Node >= 16
export const MODULE_PATH = path.join(PKG_DIR, 'lib', `napi-v${NAPI_VERSION}`);
export const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
export const CACHE_ROOT = process.env.TRANSFER_LAB_CACHE
  ? path.resolve(process.env.TRANSFER_LAB_CACHE)
  : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'native');
export const CACHE_DIR = path.join(CACHE_ROOT, `tensorflow-cpu-${TF_VERSION}-${process.platform}-${process.arch}`);
export const LOG_DIR = path.join(CACHE_ROOT, 'logs');
// TensorFlow's C++ logging (CPU feature banner etc.) would drown the progress lines.
export const CHILD_ENV = { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' };
