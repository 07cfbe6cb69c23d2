// The CLI's choice of native TensorFlow build: --device, else TRANSFER_LAB_NATIVE_DEVICE, else
// auto (the extension's setting transferLab.nativeDevice, for scripts and CI).
import { NATIVE_DEVICES, type NativeDevicePreference } from '../core/nativeDevice';
import { UsageError } from './args';

export const NATIVE_DEVICE_ENV = 'TRANSFER_LAB_NATIVE_DEVICE';

export interface NativeDeviceOption {
  device: NativeDevicePreference;
  /** What set it, named in the backend's reasons ("--device", the variable, or the default). */
  setBy: string;
}

export function nativeDeviceOption(flag: string | undefined, env: NodeJS.ProcessEnv): NativeDeviceOption {
  const fromEnv = env[NATIVE_DEVICE_ENV]?.trim() || undefined;
  const [value, setBy] = flag !== undefined ? [flag, '--device'] : fromEnv !== undefined ? [fromEnv, NATIVE_DEVICE_ENV] : ['auto', '--device'];
  if (!(NATIVE_DEVICES as readonly string[]).includes(value)) {
    throw new UsageError(
      `${setBy}: '${value}' is not one of ${NATIVE_DEVICES.join(', ')} (the build of native TensorFlow: auto picks the GPU one when a CUDA device is visible)`,
    );
  }
  return { device: value as NativeDevicePreference, setBy };
}
