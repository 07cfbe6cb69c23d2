// A short-lived worker thread of the extension host: which catalog backbones are already here
// (bundled, in our model cache, or in Keras's). That check reads and stats cache files with
// the CLI's blocking code (cli/catalogCommand.ts, the one place its rules live); here it runs
// off the host's thread, which must never wait on the disk. One answer, then the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { catalogListing, type CatalogListing } from '../cli/catalogCommand';

/** What the host sends (as workerData) and gets back (one message). */
export interface CatalogCheckRequest {
  cacheDir: string;
}
export type CatalogCheckReply = [id: string, availability: CatalogListing['availability']][];

const { cacheDir } = workerData as CatalogCheckRequest;
const reply: CatalogCheckReply = catalogListing(cacheDir).map((l) => [l.id, l.availability]);
parentPort?.postMessage(reply);
