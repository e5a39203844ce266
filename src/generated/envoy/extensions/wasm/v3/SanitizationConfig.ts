// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto


export interface SanitizationConfig {
}

export interface SanitizationConfig__Output {
}
