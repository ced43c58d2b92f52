// The key handler stack: handlers by priority, each consuming a key or passing it down; pushed
// by mounted components, gone when they unmount or turn inactive. And the console on it: keys
// of one chunk go where the keys before them led.
import { Text, type Key } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { createHandlerStack, KeyPriority, type KeyEvent } from '../../components/keys/handler-stack.js';
import { KeypressProvider } from '../../components/keys/KeypressProvider.js';
import { splitKeys } from '../../components/keys/split-keys.js';
import { useKeyHandler } from '../../components/keys/useKeyHandler.js';
import { makeStore, renderConsole, settle } from '../support/console.js';

/** No modifier, no special key. */
const PLAIN = {} as Key;
const press = (name: string): KeyEvent => ({ input: name, key: PLAIN, name, pasted: false });

describe('the handler stack', () => {
  it('offers a key from the highest priority down until a handler consumes it', () => {
    const stack = createHandlerStack();
    const seen: string[] = [];
    stack.push((e) => (seen.push(`keymap ${e.name}`), true), KeyPriority.keymap);
    stack.push((e) => (seen.push(`dialog ${e.name}`), e.name === 'y'), KeyPriority.dialog);
    stack.push((e) => (seen.push(`view ${e.name}`), false), KeyPriority.view);
    expect(stack.dispatch(press('y'))).toBe(true);
    expect(seen).toEqual(['dialog y']);
    seen.length = 0;
    expect(stack.dispatch(press('j'))).toBe(true);
    expect(seen).toEqual(['dialog j', 'view j', 'keymap j']);
  });

  it('of equal priorities asks the one pushed last first, and forgets a removed one', () => {
    const stack = createHandlerStack();
    const seen: string[] = [];
    stack.push(() => (seen.push('first'), true), KeyPriority.view);
    const remove = stack.push(() => (seen.push('second'), true), KeyPriority.view);
    stack.dispatch(press('a'));
    remove();
    stack.dispatch(press('a'));
    expect(seen).toEqual(['second', 'first']);
    expect(createHandlerStack().dispatch(press('a'))).toBe(false);
  });

  it('does not offer the key to a handler removed by a handler above it', () => {
    const stack = createHandlerStack();
    const seen: string[] = [];
    const removeLower = stack.push(() => (seen.push('lower'), true), KeyPriority.keymap);
    stack.push(() => (removeLower(), seen.push('upper'), false), KeyPriority.dialog);
    expect(stack.dispatch(press('a'))).toBe(false);
    expect(seen).toEqual(['upper']);
  });
});

describe('keys as the operator pressed them', () => {
  it('splits a chunk into single keys, Enter and Backspace included, marked as pasted', () => {
    expect(splitKeys('jR\r\x7f', PLAIN).map((e) => [e.name, e.pasted])).toEqual([['j', true], ['R', true], ['return', true], ['backspace', true]]);
    expect(splitKeys('j', PLAIN).map((e) => [e.name, e.pasted])).toEqual([['j', false]]);
  });

  it('treats Esc then a key arriving as Alt+key as the two keys', () => {
    expect(splitKeys('j', { ...PLAIN, meta: true }).map((e) => e.name)).toEqual(['escape', 'j']);
  });
});

function Handler({ name, priority, consume, log, active }: { name: string; priority: number; consume: boolean; log: string[]; active?: boolean }) {
  useKeyHandler(
    (e) => {
      log.push(`${name} ${e.name}`);
      return consume;
    },
    { priority, ...(active === undefined ? {} : { active }) },
  );
  return <Text>{name}</Text>;
}

describe('handlers pushed by components', () => {
  it('are asked by priority while mounted, and gone once unmounted', async () => {
    const log: string[] = [];
    const tree = (view: boolean) => (
      <KeypressProvider>
        <Handler name="keymap" priority={KeyPriority.keymap} consume log={log} />
        {view ? <Handler name="view" priority={KeyPriority.view} consume log={log} /> : null}
      </KeypressProvider>
    );
    const { stdin, rerender, unmount } = render(tree(true));
    await settle();
    stdin.write('j');
    await settle();
    expect(log).toEqual(['view j']);
    rerender(tree(false));
    await settle();
    stdin.write('k');
    await settle();
    expect(log).toEqual(['view j', 'keymap k']);
    unmount();
  });

  it('pass a key they do not consume to the handlers below', async () => {
    const log: string[] = [];
    const { stdin, unmount } = render(
      <KeypressProvider>
        <Handler name="keymap" priority={KeyPriority.keymap} consume log={log} />
        <Handler name="view" priority={KeyPriority.view} consume={false} log={log} />
      </KeypressProvider>,
    );
    await settle();
    stdin.write('j');
    await settle();
    expect(log).toEqual(['view j', 'keymap j']);
    unmount();
  });

  it('are not asked while inactive, and are again once active', async () => {
    const log: string[] = [];
    const tree = (active: boolean) => (
      <KeypressProvider>
        <Handler name="keymap" priority={KeyPriority.keymap} consume log={log} />
        <Handler name="wizard" priority={KeyPriority.view} consume log={log} active={active} />
      </KeypressProvider>
    );
    const { stdin, rerender, unmount } = render(tree(false));
    await settle();
    stdin.write('a');
    await settle();
    rerender(tree(true));
    await settle();
    stdin.write('b');
    await settle();
    expect(log).toEqual(['keymap a', 'wizard b']);
    unmount();
  });

  it('get a chunk key by key, until the chunk guard drops the rest', async () => {
    const log: string[] = [];
    const guard = () => () => log.at(-1) === 'keymap x';
    const { stdin, unmount } = render(
      <KeypressProvider chunkGuard={guard}>
        <Handler name="keymap" priority={KeyPriority.keymap} consume log={log} />
      </KeypressProvider>,
    );
    await settle();
    stdin.write('jxy');
    await settle();
    expect(log).toEqual(['keymap j', 'keymap x']);
    unmount();
  });
});

describe('the console on the handler stack', () => {
  it('sends the keys of one chunk where the keys before them led: the palette, a filter', async () => {
    const { store } = makeStore();
    const { stdin, unmount } = renderConsole(store);
    stdin.write(':dev\r');
    await settle();
    expect(store.getState().selectedEnv).toBe('development');
    expect(store.getState().overlay).toBeNull();
    stdin.write('/PROD\r');
    await settle();
    expect(store.getState().selectedEnv).toBe('production');
    expect(store.getState().filter.environments).toBe('PROD');
    expect(store.getState().overlay).toBeNull();
    unmount();
  });

  it('takes Esc then a key arriving as Alt+key as the two keys', async () => {
    const { store } = makeStore();
    const { stdin, lastFrame, unmount } = renderConsole(store);
    stdin.write('?');
    await settle();
    expect(lastFrame()).toMatch(/Keys (\(dimmed|that work here)/);
    stdin.write('\x1bj');
    await settle();
    expect(store.getState().overlay).toBeNull();
    expect(store.getState().selectedEnv).toBe('development');
    unmount();
  });

  it('at a terminal too small still quits on q, but not on a pasted chunk holding q', async () => {
    const { store } = makeStore();
    const { stdout, stdin, quitCalled, unmount } = renderConsole(store);
    Object.defineProperty(stdout, 'columns', { value: 50, configurable: true });
    stdout.emit('resize');
    await settle();
    stdin.write('jq');
    await settle();
    expect(quitCalled()).toBe(false);
    expect(store.getState().selectedEnv).toBe('production');
    stdin.write('q');
    await settle();
    expect(quitCalled()).toBe(true);
    unmount();
  });
});
