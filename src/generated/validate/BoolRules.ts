// Original file: /work/main/protos/validate/validate.proto


export interface BoolRules {
  'const'?: (boolean);
}

export interface BoolRules__Output {
  'const': (boolean);
}
