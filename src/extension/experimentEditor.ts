// Placeholder until this feature lands; registers nothing.
import type { Services } from './services';

export function registerExperimentEditor(_s: Services): void {}
