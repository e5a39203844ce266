// Original file: /work/main/protos/envoy/config/overload/v3/overload.proto


export interface ScaledTrigger {
  'scaling_threshold'?: (number | string);
  'saturation_threshold'?: (number | string);
}

export interface ScaledTrigger__Output {
  'scaling_threshold': (number);
  'saturation_threshold': (number);
}
