/** A spec a human must fix. `problems` holds one line per problem, each starting with the field path. */
export class SpecError extends Error {
  readonly problems: string[];

  constructor(problems: string[], heading = 'Invalid spec') {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${heading} (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SpecError';
    this.problems = [...problems];
  }
}
