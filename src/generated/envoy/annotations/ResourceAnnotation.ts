// Original file: /work/main/protos/envoy/annotations/resource.proto


export interface ResourceAnnotation {
  'type'?: (string);
}

export interface ResourceAnnotation__Output {
  'type': (string);
}
