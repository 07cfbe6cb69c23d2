// Placeholder until this feature lands; registers nothing.
import type { Services } from './services';

export function registerWorkflows(_s: Services): void {}
