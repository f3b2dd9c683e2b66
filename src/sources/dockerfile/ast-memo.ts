import { Instruction } from 'dockerfile-ast';

/**
 * dockerfile-ast recomputes an instruction's arguments from the raw text on every call, and
 * almost every getter goes through it: `getArgumentsContent()`, `getFlags()`,
 * `getJSONStrings()`, `getHeredocs()`, and the parser itself while it looks for heredocs. A
 * 30-line `RUN` chain is scanned character by character a dozen times; on the lint benchmark
 * corpus that was a quarter of all CPU time.
 *
 * An instruction's text, range and escape character are fixed when it is constructed (nothing
 * in dockerfile-ast reassigns them), so its raw arguments are too: compute them once per
 * instance. Callers get a copy of the array because dockerfile-ast's own
 * `ModifiableInstruction.getArguments()` shifts the flags off the array it receives; the
 * `Argument` objects inside are never mutated.
 */
type Args = ReturnType<Instruction['getRawArguments']>;

const MEMO = Symbol('smcl.rawArguments');
const PATCHED = Symbol('smcl.rawArgumentsPatched');
const proto = Instruction.prototype as unknown as {
  getRawArguments(this: Instruction & { [MEMO]?: Args }): Args;
  [PATCHED]?: true;
};

if (!proto[PATCHED]) {
  const compute = proto.getRawArguments;
  proto.getRawArguments = function memoisedRawArguments(this: Instruction & { [MEMO]?: Args }): Args {
    const own = this[MEMO] ?? (this[MEMO] = compute.call(this));
    return own.slice();
  };
  proto[PATCHED] = true;
}
