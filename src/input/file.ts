/**
 * Reads a campaign or restore spec from a YAML or JSON file for the CLI. Node side only (uses node:fs);
 * the result is unvalidated: pass it to validateCampaignSpec / validateRestoreSpec.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve as resolvePath } from 'node:path';
import { YAMLParseError, parse as parseYaml } from 'yaml';

export class SpecFileError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = 'SpecFileError';
    this.path = path;
  }
}

function lineAndColumn(text: string, position: number): { line: number; col: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, col: position - before.lastIndexOf('\n') };
}

/**
 * Offset of the first JSON syntax error, or -1. Node 20's JSON.parse messages do not always say where the
 * error is ("Unexpected token '}', ... is not valid JSON"), so the file is scanned to find the line.
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const readString = (): void => {
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail();
      i += c === '\\' ? 2 : 1;
    }
    fail();
  };
  const readValue = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          skipSpace();
          if (text[i] !== '"') fail();
          readString();
          skipSpace();
          if (text[i] !== ':') fail();
          i++;
        }
        readValue();
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return readString();
    const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
    literal.lastIndex = i;
    if (!literal.exec(text)) fail();
    i = literal.lastIndex;
  };
  try {
    readValue();
    skipSpace();
    if (i < text.length) fail();
    return -1;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    throw offset;
  }
}

function jsonProblem(text: string, error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const reported = /at position (\d+)/.exec(message);
  const offset = reported ? Number(reported[1]) : jsonErrorOffset(text);
  if (offset < 0) return message;
  const { line, col } = lineAndColumn(text, offset);
  const shown = text.split('\n')[line - 1]?.trim() ?? '';
  const found = offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : 'unexpected end of file';
  return `line ${line}, column ${col}: ${found}${shown ? ` here: ${shown}` : ''}`;
}

function yamlProblem(error: unknown): string {
  if (error instanceof YAMLParseError) {
    const at = error.linePos?.[0];
    // The yaml message already ends with "at line L, column C" and a code excerpt; keep its first line.
    const firstLine = error.message.split('\n')[0].replace(/:$/, '');
    return at && !/ at line \d+/.test(firstLine) ? `line ${at.line}, column ${at.col}: ${firstLine}` : firstLine;
  }
  return error instanceof Error ? error.message : String(error);
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SpecFileError(path, `Spec file ${path} is not valid JSON: ${jsonProblem(text, error)}`);
  }
}

function parseYamlText(path: string, text: string, what = 'YAML'): unknown {
  try {
    // Duplicate keys are errors (the yaml default), so a repeated field cannot silently override another.
    return parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new SpecFileError(path, `Spec file ${path} is not valid ${what}: ${yamlProblem(error)}`);
  }
}

/**
 * Reads and parses a spec file: .json as JSON, .yaml/.yml as YAML, anything else as JSON and then YAML.
 * @throws SpecFileError naming the file when it is missing, unreadable, empty or does not parse (with line).
 */
export function loadSpecFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SpecFileError(path, `Spec file not found: ${path} (check the path; it is relative to ${process.cwd()})`);
    if (code === 'EISDIR') throw new SpecFileError(path, `Spec file ${path} is a directory; give the path of a .yaml or .json file`);
    throw new SpecFileError(path, `Cannot read spec file ${path}: ${(error as Error).message}`);
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new SpecFileError(path, `Spec file ${path} is empty`);

  const extension = extname(path).toLowerCase();
  let value: unknown;
  if (extension === '.json') {
    value = parseJson(path, text);
  } else if (extension === '.yaml' || extension === '.yml') {
    value = parseYamlText(path, text);
  } else {
    try {
      value = JSON.parse(text);
    } catch {
      value = parseYamlText(path, text, 'JSON or YAML');
    }
  }
  if (value === null || value === undefined) throw new SpecFileError(path, `Spec file ${path} holds no value (only comments?)`);
  return inlineAllowedSigners(path, value);
}

/** `allowedSigners: { file }` is read here, relative to the spec file, so the run carries the list itself. */
function inlineAllowedSigners(specPath: string, value: unknown): unknown {
  const spec = value as { allowedSigners?: { file?: unknown } };
  const file = typeof spec === 'object' && spec?.allowedSigners && typeof spec.allowedSigners === 'object' ? spec.allowedSigners.file : undefined;
  if (typeof file !== 'string') return value;
  const where = isAbsolute(file) ? file : resolvePath(dirname(specPath), file);
  let text: string;
  try {
    text = readFileSync(where, 'utf8');
  } catch (error) {
    throw new SpecFileError(specPath, `${specPath}: allowedSigners.file ${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the path is relative to the spec file`);
  }
  return { ...(value as object), allowedSigners: { source: where, text } };
}
