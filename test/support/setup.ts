// Per-worker setup. Ink treats a `CI` variable as "not interactive" and renders only the last
// frame; component tests need the interactive behaviour, so drop it here (the global setup
// has already read it to decide whether lab tests may skip).
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
