// The logs pane's prompt (search, keep/hide lines matching, time window) while it is open:
// typing edits it, Enter applies, Esc cancels.
import type { KeyContext } from '../keys/commands.js';
import type { KeyHandler } from '../keys/handler-stack.js';
import { edited } from '../keys/keyName.js';

export function logPromptKeys({ store }: KeyContext): KeyHandler {
  return (event) => {
    const { logs, pane, actions } = store.getState();
    const prompt = logs.prompt;
    if (!prompt || pane !== 'logs') return false;
    if (event.name === 'return') actions.submitLogPrompt();
    else if (event.name === 'escape') actions.cancelLogPrompt();
    else {
      const text = edited(prompt.text, event);
      if (text !== null) actions.editLogPrompt(text.slice(0, 200));
    }
    return true;
  };
}
