// train.py: the experiment as a Keras 3 job, from its four parts (each a module of Python
// text). It is the same file for every experiment: job.json and splits.json beside it say
// what to train, so the script can be read once and trusted for all of them.
import { TRAIN_PY_DATA } from './trainPyData';
import { TRAIN_PY_MAIN } from './trainPyMain';
import { TRAIN_PY_MODEL } from './trainPyModel';
import { TRAIN_PY_RUN_FOLDER } from './trainPyRunFolder';

export const TRAIN_PY = [TRAIN_PY_DATA, TRAIN_PY_MODEL, TRAIN_PY_RUN_FOLDER, TRAIN_PY_MAIN].map((part) => part.trim()).join('\n\n\n') + '\n';
