// Original file: /work/main/protos/envoy/service/extension/v3/config_discovery.proto


export interface EcdsDummy {
}

export interface EcdsDummy__Output {
}
