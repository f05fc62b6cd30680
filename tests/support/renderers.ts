/**
 * What tests of external renderers share: the faulty test renderer and the command line of a
 * `generate --generator-cmd` run.
 *
 * @module
 */

/** The test renderer whose first argument chooses how it misbehaves (tests/renderers/faulty.py). */
export const FAULTY = "python3 tests/renderers/faulty.py";

/**
 * The words of a quiet, confirmed `generate` through an external renderer, seed 7.
 *
 * @param out The output folder.
 * @param command The renderer's command.
 * @param extra More flags.
 * @returns The words after `dsgen`.
 */
export function rendererGenerateArgs(out: string, command: string, extra: string[] = []): string[] {
  return [
    "generate",
    "--generator-cmd",
    command,
    "--output-dir",
    out,
    "--seed",
    "7",
    "--yes",
    "--quiet",
    ...extra,
  ];
}
