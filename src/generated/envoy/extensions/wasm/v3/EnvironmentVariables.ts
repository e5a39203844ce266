// Original file: /work/main/protos/envoy/extensions/wasm/v3/wasm.proto


export interface EnvironmentVariables {
  'host_env_keys'?: (string)[];
  'key_values'?: ({[key: string]: string});
}

export interface EnvironmentVariables__Output {
  'host_env_keys': (string)[];
  'key_values': ({[key: string]: string});
}
