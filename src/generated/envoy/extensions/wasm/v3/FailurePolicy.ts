// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto

export const FailurePolicy = {
  UNSPECIFIED: 'UNSPECIFIED',
  FAIL_RELOAD: 'FAIL_RELOAD',
  FAIL_CLOSED: 'FAIL_CLOSED',
  FAIL_OPEN: 'FAIL_OPEN',
} as const;

export type FailurePolicy =
  | 'UNSPECIFIED'
  | 0
  | 'FAIL_RELOAD'
  | 1
  | 'FAIL_CLOSED'
  | 2
  | 'FAIL_OPEN'
  | 3

export type FailurePolicy__Output = typeof FailurePolicy[keyof typeof FailurePolicy]
