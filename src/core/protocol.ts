import * as v from 'valibot';
import { RunEventSchema } from './runEvents';
import { StudyEventSchema, StudyGridSchema } from './studyFile';
import { ProbeFileSchema } from './probeFile';
import type { BackboneSpec } from './experiment';
import type { LayerSummary, Prediction } from './layerSummary';
import { PREPROCESSING_MODES } from './preprocessing';
import { NativeDevicePreferenceSchema, NativeDeviceReportSchema, describeNativeDevice } from './nativeDevice';
import { count, measured, message, parseMessage, type Assert, type Parsed, type SameShape } from './messageProtocol';

// The host <-> trainer protocol: defined once, imported by both sides (design.md), under the
// rule of messageProtocol.ts. Messages travel over Node's IPC channel (child_process.fork)
// as JSON. Every message received from the other side goes through `parse*Message` before use.

export const PROTOCOL_VERSION = 1;

const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export const BackendNameSchema = v.picklist(BACKENDS);
const BackendPreferenceSchema = v.picklist(['auto', ...BACKENDS]);
export type BackendName = v.InferOutput<typeof BackendNameSchema>;
export type BackendPreference = v.InferOutput<typeof BackendPreferenceSchema>;
export const BACKEND_ORDER: readonly BackendName[] = BACKENDS;

const OneDnnChoiceSchema = v.object({
  enabled: v.boolean(),
  reason: v.string(),
  /** environment: the user's TF_ENABLE_ONEDNN_OPTS; verdict: a remembered crash; default: the policy. */
  source: v.optional(v.picklist(['environment', 'verdict', 'default'])),
});
/** Whether TensorFlow's oneDNN kernels are on in a trainer, why, and who decided (engine/oneDnnPolicy.ts). */
export type OneDnnChoice = v.InferOutput<typeof OneDnnChoiceSchema>;

/** Why a backend in the order was not used; fallbacks are always reported. */
const BackendAttemptSchema = v.object({ backend: BackendNameSchema, error: v.string() });
export type BackendAttempt = v.InferOutput<typeof BackendAttemptSchema>;

export const EnvironmentReportSchema = v.object({
  backend: BackendNameSchema,
  requested: BackendPreferenceSchema,
  /** Backends tried before `backend` and why each failed (empty when the first worked). */
  fallbacks: v.array(BackendAttemptSchema),
  tfjsVersion: v.string(),
  /** Version of the native TensorFlow library when backend is 'tensorflow'. */
  tensorflowVersion: v.optional(v.string()),
  /**
   * Native backend only: whether TensorFlow's oneDNN kernels are on and why; from a trainer
   * also how many models are remembered with oneDNN off on this machine, and in which file.
   */
  oneDnn: v.optional(v.object({ ...OneDnnChoiceSchema.entries, rememberedOff: v.optional(count), verdictFile: v.optional(v.string()) })),
  /** Native backend only: CPU or GPU build, why, and the CUDA devices visible (nativeDevice.ts). */
  nativeDevice: v.optional(NativeDeviceReportSchema),
  /** The kernel self-check (backend.checkKernels): results right, and its time. */
  kernels: v.optional(v.object({ ok: v.boolean(), ms: measured })),
  /** Where the tfjs packages were loaded from. */
  tfjsRoot: v.string(),
  threads: count,
  loadMs: measured,
  memory: v.object({ rssMB: measured, heapUsedMB: measured, systemTotalMB: measured, systemFreeMB: measured }),
  node: v.string(),
  platform: v.string(),
  pid: count,
});
export type EnvironmentReport = v.InferOutput<typeof EnvironmentReportSchema>;

export const CUT_ORIGINS = ['spec', 'catalog', 'model card', 'classifier head removed', 'model output'] as const;
const shape = v.array(v.nullable(count));
const LayerSummarySchema = v.object({
  kind: v.picklist(['layers', 'graph']),
  cutAt: v.string(),
  cutFrom: v.optional(v.picklist(CUT_ORIGINS)),
  inputShape: v.tuple([count, count, count]),
  rows: v.array(
    v.object({
      index: count,
      name: v.string(),
      className: v.string(),
      outputShape: v.union([shape, v.array(shape)]),
      params: count,
      trainable: v.boolean(),
      inbound: v.array(v.string()),
      isCut: v.boolean(),
      afterCut: v.boolean(),
    }),
  ),
  source: v.string(),
  fineTunable: v.boolean(),
  preprocessing: v.optional(
    v.object({
      mode: v.picklist(PREPROCESSING_MODES),
      from: v.picklist([
        'experiment file',
        'catalog',
        'model card',
        'preprocessing.json',
        'model.json metadata',
        'architecture (guessed)',
        'model layers',
        'assumed',
      ]),
    }),
  ),
  notes: v.optional(v.array(v.string())),
});
export type _LayerSummarySchemaIsLayerSummary = Assert<SameShape<v.InferOutput<typeof LayerSummarySchema>, LayerSummary>>;

const PredictionSchema = v.object({
  file: v.string(),
  top: v.array(v.object({ label: v.string(), probability: measured })),
  error: v.optional(v.string()),
});
export type _PredictionSchemaIsPrediction = Assert<SameShape<v.InferOutput<typeof PredictionSchema>, Prediction>>;

const text = v.pipe(v.string(), v.minLength(1));
const backboneChoices = { cutAt: v.optional(v.string()), preprocessing: v.optional(v.picklist(PREPROCESSING_MODES)), weights: v.optional(v.string()) };
const BackboneSchema = v.union([
  v.object({ catalog: v.string(), ...backboneChoices }),
  v.object({ path: v.string(), ...backboneChoices }),
  v.object({ url: v.string(), ...backboneChoices }),
]);
export type _BackboneSchemaIsBackboneSpec = Assert<SameShape<v.InferOutput<typeof BackboneSchema>, BackboneSpec>>;

const JobSchema = v.variant('kind', [
  v.object({ kind: v.literal('environment') }),
  v.object({
    kind: v.literal('run'),
    /** Absolute path of the *.tlexp.json file. */
    experimentFile: text,
    /** Absolute folder that holds run folders. */
    runsDir: text,
    /** Absolute folder for downloaded backbones and activation caches. */
    cacheDir: text,
  }),
  v.object({
    kind: v.literal('inspect'),
    backbone: BackboneSchema,
    /** Folder that relative backbone paths resolve against (the experiment file's). */
    baseDir: text,
    cacheDir: text,
  }),
  v.object({
    kind: v.literal('predict'),
    /** A run folder, its model/ folder or a model.json. */
    target: text,
    images: v.array(text),
    cacheDir: text,
  }),
  v.object({
    kind: v.literal('study'),
    /** Absolute path of the *.tlexp.json file (a resumed study uses the one its study.json names). */
    experimentFile: text,
    runsDir: text,
    cacheDir: text,
    grid: StudyGridSchema,
    /** A study folder whose unfinished cells to run, instead of a new study. */
    resume: v.optional(text),
  }),
  /** The layer probe (engine/probe/runProbe.ts) of the experiment's backbone, or of `backbone`, on the experiment's dataset. */
  v.object({
    kind: v.literal('probe'),
    experimentFile: text,
    backbone: v.optional(BackboneSchema),
    /** Where probe.json goes; null: not written (the wizard's probe, before the experiment exists). */
    probesDir: v.nullable(text),
    cacheDir: text,
    maxPerClass: v.optional(count),
  }),
]);
/** A job is one unit of work for one trainer process. */
export type Job = v.InferOutput<typeof JobSchema>;

const TrainerOptionsSchema = v.object({
  backend: BackendPreferenceSchema,
  /** Folder whose node_modules holds @tensorflow/tfjs-node (setting transferLab.nativeBackendPath). */
  nativeBackendPath: v.optional(v.string()),
  /** Where Install Native Backend puts its installs (the extension's global storage). */
  nativeInstallDir: v.optional(v.string()),
  /** CPU or GPU build of native TensorFlow (setting transferLab.nativeDevice); absent: auto. */
  nativeDevice: v.optional(NativeDevicePreferenceSchema),
});
export type TrainerOptions = v.InferOutput<typeof TrainerOptionsSchema>;

const P = PROTOCOL_VERSION;

// host -> trainer
const HostMessageSchema = v.variant('type', [message(P, 'start', { job: JobSchema, options: TrainerOptionsSchema }), message(P, 'cancel', {})]);
export type HostMessage = v.InferOutput<typeof HostMessageSchema>;

// trainer -> host
const TrainerMessageSchema = v.variant('type', [
  message(P, 'hello', { pid: count }),
  message(P, 'log', { level: v.picklist(['info', 'warn', 'error']), message: v.string() }),
  message(P, 'environment', { report: EnvironmentReportSchema }),
  /** Sent before TensorFlow loads: the oneDNN choice and the machine and model its verdict is kept under. */
  message(P, 'kernels', { oneDnn: OneDnnChoiceSchema, machine: v.string(), model: v.string() }),
  message(P, 'run-event', { event: RunEventSchema }),
  /** A study's progress (the cells' own run events travel as 'run-event'). */
  message(P, 'study-event', { event: StudyEventSchema }),
  message(P, 'layers', { summary: LayerSummarySchema }),
  /** A predict job's model is loaded: its folder and classes (a folder's true classes are named by these). */
  message(P, 'predictor', { modelDir: v.string(), labels: v.array(v.string()) }),
  /** A predict job's progress: one batch's predictions, and how many of `total` images are done. */
  message(P, 'prediction-batch', { predictions: v.array(PredictionSchema), done: count, total: count }),
  /** A predict job's answer: every prediction made (fewer than asked when it was cancelled). */
  message(P, 'predictions', { predictions: v.array(PredictionSchema) }),
  message(P, 'probe-progress', { message: v.string(), done: v.optional(count), total: v.optional(count) }),
  message(P, 'probe', { probe: ProbeFileSchema, file: v.optional(v.string()) }),
  message(P, 'failed', { message: v.string(), hint: v.optional(v.string()) }),
  message(P, 'done', {}),
]);
export type TrainerMessage = v.InferOutput<typeof TrainerMessageSchema>;

/** Validates a message from the trainer, every nested field; the error names the message and the field. */
export const parseTrainerMessage = (raw: unknown): Parsed<TrainerMessage> => parseMessage(TrainerMessageSchema, PROTOCOL_VERSION, raw);

/** Validates a message from the host. */
export const parseHostMessage = (raw: unknown): Parsed<HostMessage> => parseMessage(HostMessageSchema, PROTOCOL_VERSION, raw);

/** One line that says which backend runs and, if it is a fallback, why. */
export function describeBackend(report: EnvironmentReport): string {
  const base = `backend ${report.backend} (TensorFlow.js ${report.tfjsVersion}${
    report.tensorflowVersion ? `, TensorFlow ${report.tensorflowVersion}` : ''
  }${report.nativeDevice ? describeNativeDevice(report.nativeDevice) : ''}${report.oneDnn && !report.oneDnn.enabled ? ', oneDNN off' : ''}, ${report.threads} threads, loaded in ${Math.round(report.loadMs)} ms)`;
  if (report.fallbacks.length === 0) return base;
  const why = report.fallbacks.map((f) => `${f.backend}: ${f.error}`).join('; ');
  return `${base}; fell back because ${why}`;
}
