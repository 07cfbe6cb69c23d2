// Placeholder until this feature lands; registers nothing.
import type { Services } from './services';

export function registerLayerTree(_s: Services): void {}
