import { createRequire } from 'node:module';
import AjvModule from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
// Both packages are CommonJS with a default export; ESM sees it under .default.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as new (o: object) => import('ajv').default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: unknown) => void;

type Validate = ((log: unknown) => boolean) & { errors?: unknown };
let validate: Validate | undefined;

/** Validates a SARIF log against the official SARIF 2.1.0 schema; returns the errors (empty when valid). */
export function sarifErrors(log: unknown): string {
  if (!validate) {
    const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    validate = ajv.compile(schema) as unknown as Validate;
  }
  return validate!(log) ? '' : JSON.stringify(validate!.errors);
}
