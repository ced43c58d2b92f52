// An operation for tests and benches, as a planner would make it: the fields a test cares about
// given, the rest plain (a low-risk, unprotected operation in development on host lab, made by
// root from "test", stopping on failure, with a fresh id unless one is given).
import { newOperationId, type Operation } from '../../src/core/ops/operation.js';

export function testOperation(overrides: Partial<Operation> = {}): Operation {
  const environment = overrides.environment !== undefined ? overrides.environment : 'development';
  return {
    id: overrides.id ?? newOperationId(environment),
    kind: 'test',
    title: 'a test operation',
    host: 'lab',
    environment,
    environments: environment ? [environment] : [],
    target: 'nothing',
    details: [],
    risk: 'low',
    protected: false,
    phrase: null,
    createdAt: new Date().toISOString(),
    createdBy: { user: 'root', from: 'test' },
    preflight: [],
    steps: [],
    onFailure: 'stop',
    ...overrides,
  };
}
