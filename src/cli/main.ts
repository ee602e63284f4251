#!/usr/bin/env node
// The scalpel command line. Commands are thin: parse flags, call the library, print. Every error
// ends here: printed without a stack (unless --debug) and turned into the documented exit code.
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { scalpelVersion } from '../util/package-root.js';
import { planCommand } from './commands/plan.js';
import { runCommand } from './commands/run.js';
import { stagesCommand } from './commands/stages.js';
import { validateCommand } from './commands/validate.js';
import { sweepCommand } from './commands/sweep.js';
import { compareCommand } from './commands/compare.js';
import { reportCommand } from './commands/report.js';
import { workerCommand } from './commands/worker.js';
import { exitAfterFlush } from './exit.js';
import { exitCodeOf, formatError } from './report-error.js';

function buildProgram(): Command {
  const program = new Command('scalpel')
    .description(
      'Declarative, reproducible pruning pipelines for TensorFlow.js models (iCBS built in)',
    )
    .version(scalpelVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a stage failed, 2 invalid input (recipe, flags, files), 130 interrupted.',
    );
  for (const cmd of [
    validateCommand(),
    planCommand(),
    runCommand(),
    stagesCommand(),
    sweepCommand(),
    compareCommand(),
    reportCommand(),
    workerCommand(),
  ])
    program.addCommand(cmd);
  // Commander would call process.exit itself; we want our exit codes (2 for usage errors).
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const debug = argv.includes('--debug');
  const program = buildProgram();
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      exitAfterFlush(ExitCode.invalidInput);
      return;
    }
    await program.parseAsync(argv);
    exitAfterFlush(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed the message (or the help/version) already.
      const ok =
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help';
      exitAfterFlush(ok ? ExitCode.ok : ExitCode.invalidInput);
      return;
    }
    process.stderr.write(formatError(e, debug) + '\n');
    exitAfterFlush(exitCodeOf(e));
  }
}

void main(process.argv);
