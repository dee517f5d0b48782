// Copy text to the user's clipboard: the desktop's (clipboardy) when there is a display, else the terminal's
// own through the OSC 52 escape sequence, which most terminal emulators (and tmux with set-clipboard on) honour.

/** What happened, for the status line. */
export interface CopyResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface ClipboardDeps {
  readonly env: NodeJS.ProcessEnv;
  /** The desktop clipboard (clipboardy's write); rejects when no tool or display works. */
  readonly desktopWrite: (text: string) => Promise<void>;
  /** Writes raw bytes to the terminal. */
  readonly terminalWrite: (bytes: string) => void;
}

/** The OSC 52 sequence that asks the terminal to put `text` on the clipboard ('c'). */
export function osc52(text: string, env: NodeJS.ProcessEnv): string {
  const seq = `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
  // Inside tmux the sequence must be passed through to the outer terminal.
  return env.TMUX !== undefined && env.TMUX !== '' ? `\x1bPtmux;${seq.replace(/\x1b/g, '\x1b\x1b')}\x1b\\` : seq;
}

export async function copyText(text: string, deps: ClipboardDeps): Promise<CopyResult> {
  const hasDisplay = (deps.env.DISPLAY ?? '') !== '' || (deps.env.WAYLAND_DISPLAY ?? '') !== '';
  let why = 'no display for a clipboard tool';
  if (hasDisplay) {
    try {
      await deps.desktopWrite(text);
      return { ok: true, message: `copied ${text} to the clipboard` };
    } catch (err) {
      why = `clipboard tool failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
    }
  }
  try {
    deps.terminalWrite(osc52(text, deps.env));
    return { ok: true, message: `sent ${text} to the terminal's clipboard (OSC 52; ${why})` };
  } catch (err) {
    return { ok: false, message: `copy failed: ${why}, and the terminal write failed (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** clipboardy's write, loaded on first use (it spawns xsel/wl-copy; nothing to load when never used). */
export async function clipboardyWrite(text: string): Promise<void> {
  const { default: clipboard } = await import('clipboardy');
  await clipboard.write(text);
}
