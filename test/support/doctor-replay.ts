// The doctor view's store in a test: its host answering as the lab did (doctor-fixture.ts), and
// Date pinned to the moment of the recording, running on from there (timers stay real), so the
// rules that read the clock find what they found on the lab. Undone when the test ends.
import { onTestFinished, vi } from 'vitest';
import type { AppStore } from '../../src/store/app-store.js';
import { doctorStoreOn, loadRecording, type DoctorRecording, type Phase } from './doctor-fixture.js';
import { ReplayHost } from './recorded-host.js';

/** `changed`: the recording as a test wants it (a command taken out, so the host cannot answer it). */
export function replayDoctor(phase: Phase, options: { readonly?: boolean; changed?: (recording: DoctorRecording) => DoctorRecording } = {}): { store: AppStore; host: ReplayHost } {
  const recording = (options.changed ?? ((r) => r))(loadRecording());
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(new Date(recording.at));
  onTestFinished(() => void vi.useRealTimers());
  const host = new ReplayHost(recording, phase);
  const { store, cleanup } = doctorStoreOn(host, phase, options);
  onTestFinished(cleanup);
  return { store, host };
}
