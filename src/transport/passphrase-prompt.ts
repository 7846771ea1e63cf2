/**
 * Asking for a key passphrase on the terminal without echoing it. Only used when both stdin and
 * stderr are TTYs; in CI the passphrase comes from `passphrase_env` or the key is reported unreadable.
 */

/** Asks for a secret; resolves undefined when the user gives up (Ctrl-C, Ctrl-D, end of input). */
export type SecretPrompt = (question: string) => Promise<string | undefined>;

/** A prompt on the controlling terminal, or undefined when there is none to ask on. */
export function terminalPrompt(): SecretPrompt | undefined {
  const input = process.stdin;
  const output = process.stderr;
  if (!input.isTTY || !output.isTTY) return undefined;
  return (question) => readHidden(input, output, question);
}

function readHidden(input: NodeJS.ReadStream, output: NodeJS.WriteStream, question: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const wasRaw = input.isRaw;
    let answer = '';
    output.write(question);
    input.setRawMode(true);
    input.resume();
    const finish = (value: string | undefined): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch === '\u0015') answer = '';
        else if (ch >= ' ') answer += ch;
      }
    };
    input.on('data', onData);
  });
}
