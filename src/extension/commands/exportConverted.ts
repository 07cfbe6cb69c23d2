// Export Model as TFLite (float32, int8) or SavedModel: the bundled CLI converts the run's model
// with TensorFlow in a Python that has it (transferLab.pythonPath, else python3/python on PATH),
// under a cancellable progress notification; the user then sees the converted model's test
// accuracy next to the original's (from the export.json written beside it), as a warning when
// the conversion lost too much. No Python with TensorFlow: the CLI's message, with the way to the setting.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as v from 'valibot';
import {
  CONVERTED_EXPORT_RECORD,
  ConvertedExportSchema,
  describeAccuracy,
  TENSORFLOW_PIP,
  type ConvertedExport,
  type ConvertedFormat,
} from '../../core/convertedExport';
import { exportKerasFiles } from './exportKeras';
import type { Services } from '../services';

export interface ConvertedOutcome {
  targetDir: string;
  files: string[];
  readme: undefined;
  /** export.json as written beside the model. */
  record: ConvertedExport;
}

async function readRecord(targetDir: string): Promise<ConvertedExport> {
  const file = path.join(targetDir, CONVERTED_EXPORT_RECORD);
  const parsed = v.safeParse(ConvertedExportSchema, JSON.parse(await fs.readFile(file, 'utf8')) as unknown);
  if (!parsed.success) throw new Error(`${file}: not the export record Transfer Lab writes (${parsed.issues[0].message})`);
  return parsed.output;
}

/** The failure, with the way out: the setting and the pip command when there is no Python with TensorFlow. */
function reportFailure(name: string, message: string): void {
  const noPython = message.includes(TENSORFLOW_PIP);
  const actions = noPython ? ['Open Settings', 'Copy pip Command'] : [];
  void vscode.window.showErrorMessage(`Transfer Lab: could not convert ${name}: ${message}`, ...actions).then(async (pick) => {
    if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'transferLab.pythonPath');
    if (pick === 'Copy pip Command') await vscode.env.clipboard.writeText(TENSORFLOW_PIP);
  });
}

export async function exportConvertedModel(
  s: Services,
  runDir: string,
  name: string,
  targetDir: string,
  format: ConvertedFormat,
): Promise<ConvertedOutcome | undefined> {
  let files: string[];
  try {
    files = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: converting ${name} to ${format} with TensorFlow`, cancellable: true },
      (_progress, token) => exportKerasFiles(s, runDir, targetDir, format, token),
    );
  } catch (e) {
    if (e instanceof vscode.CancellationError) {
      s.output.appendLine(`[export] ${name}: the ${format} conversion was cancelled`);
      return undefined;
    }
    reportFailure(name, (e as Error).message);
    return undefined;
  }
  const record = await readRecord(targetDir);
  const accuracy = describeAccuracy(record);
  s.output.appendLine(`[export] ${name}: wrote ${files.join(', ')} to ${targetDir}; ${accuracy}`);
  const text = `Transfer Lab: exported ${name} to ${vscode.workspace.asRelativePath(targetDir)} as ${record.modelFile}: ${accuracy}.`;
  const shown = record.flagged ? vscode.window.showWarningMessage(text, 'Reveal') : vscode.window.showInformationMessage(text, 'Reveal');
  void shown.then((pick) => (pick ? vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(targetDir, record.modelFile))) : undefined));
  return { targetDir, files, readme: undefined, record };
}
