// Driving the real console in tmux: start a session, type, read the screen, wait for text.
import { execa } from 'execa';

export function tmuxSession(name: string) {
  const tmux = (...args: string[]) => execa('tmux', args, { reject: false });
  const screen = async (escapes = false) => String((await tmux('capture-pane', '-t', name, '-p', ...(escapes ? ['-e'] : []))).stdout);
  return {
    tmux,
    screen,
    start: (command: string) => tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', command),
    kill: () => tmux('kill-session', '-t', name),
    display: async (format: string) => String((await tmux('display-message', '-p', '-t', name, format)).stdout).trim(),
    /** A pause after each key, as a person types (Esc followed at once by a key reads as Alt+key). */
    keys: async (...k: string[]) => {
      await tmux('send-keys', '-t', name, ...k);
      await new Promise((r) => setTimeout(r, 120));
    },
    async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = await screen();
        if (pattern.test(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`screen never matched ${pattern}:\n${last}`);
    },
  };
}
