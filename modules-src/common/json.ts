// A small, strict JSON parser (RFC 8259) for plugin / VM configuration.
//
// The proxy-runtime SDK has no JSON support and AssemblyScript 0.14 has no
// JSON built in, so the modules share this one. parseJson() returns null for
// anything that is not exactly one valid JSON value (surrounded by optional
// whitespace). Objects keep their keys in order; a repeated key is rejected.

export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class JsonValue {
  kind: JsonKind;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  // Array elements.
  items: JsonValue[] = [];
  // Object members, keys[i] -> values[i].
  keys: string[] = [];
  values: JsonValue[] = [];

  constructor(kind: JsonKind) {
    this.kind = kind;
  }

  isObject(): bool {
    return this.kind == JsonKind.Object;
  }

  // Member of an object, or null when absent (or when this is not an object).
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }
}

// Nesting deeper than this is rejected instead of risking a stack overflow.
const MAX_DEPTH: i32 = 64;

class Parser {
  text: string;
  pos: i32 = 0;
  failed: bool = false;

  constructor(text: string) {
    this.text = text;
  }

  fail(): JsonValue {
    this.failed = true;
    return new JsonValue(JsonKind.Null);
  }

  atEnd(): bool {
    return this.pos >= this.text.length;
  }

  peek(): i32 {
    return this.atEnd() ? -1 : this.text.charCodeAt(this.pos);
  }

  skipWhitespace(): void {
    while (!this.atEnd()) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  // Consumes `word` if it is next; used for true / false / null.
  literal(word: string): bool {
    if (this.pos + word.length > this.text.length) return false;
    if (this.text.substring(this.pos, this.pos + word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  parseValue(depth: i32): JsonValue {
    if (depth > MAX_DEPTH) return this.fail();
    this.skipWhitespace();
    const c = this.peek();
    if (c == 0x7b /* { */) return this.parseObject(depth);
    if (c == 0x5b /* [ */) return this.parseArray(depth);
    if (c == 0x22 /* " */) {
      const s = this.parseString();
      const v = new JsonValue(JsonKind.String);
      v.stringValue = s;
      return v;
    }
    if (c == 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.literal("true")) {
      const v = new JsonValue(JsonKind.Bool);
      v.boolValue = true;
      return v;
    }
    if (this.literal("false")) return new JsonValue(JsonKind.Bool);
    if (this.literal("null")) return new JsonValue(JsonKind.Null);
    return this.fail();
  }

  parseObject(depth: i32): JsonValue {
    const obj = new JsonValue(JsonKind.Object);
    this.pos++; // {
    this.skipWhitespace();
    if (this.peek() == 0x7d /* } */) {
      this.pos++;
      return obj;
    }
    while (!this.failed) {
      this.skipWhitespace();
      if (this.peek() != 0x22) return this.fail();
      const key = this.parseString();
      if (this.failed) break;
      if (obj.get(key) !== null) return this.fail(); // duplicate key
      this.skipWhitespace();
      if (this.peek() != 0x3a /* : */) return this.fail();
      this.pos++;
      const value = this.parseValue(depth + 1);
      if (this.failed) break;
      obj.keys.push(key);
      obj.values.push(value);
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d /* } */) return obj;
      if (c != 0x2c /* , */) return this.fail();
    }
    return obj;
  }

  parseArray(depth: i32): JsonValue {
    const arr = new JsonValue(JsonKind.Array);
    this.pos++; // [
    this.skipWhitespace();
    if (this.peek() == 0x5d /* ] */) {
      this.pos++;
      return arr;
    }
    while (!this.failed) {
      const value = this.parseValue(depth + 1);
      if (this.failed) break;
      arr.items.push(value);
      this.skipWhitespace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d /* ] */) return arr;
      if (c != 0x2c /* , */) return this.fail();
    }
    return arr;
  }

  hexDigit(): i32 {
    const c = this.peek();
    this.pos++;
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
    if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
    this.failed = true;
    return 0;
  }

  // Parses a string starting at the opening quote. AssemblyScript strings are
  // UTF-16, so \uXXXX escapes (surrogate pairs included) map to code units.
  parseString(): string {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.atEnd()) {
        this.failed = true;
        return "";
      }
      const c = this.peek();
      if (c == 0x22 /* " */) {
        out += this.text.substring(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.failed = true; // raw control characters are not allowed
        return "";
      }
      if (c != 0x5c /* \ */) {
        this.pos++;
        continue;
      }
      out += this.text.substring(runStart, this.pos);
      this.pos++; // backslash
      const e = this.peek();
      this.pos++;
      if (e == 0x22) out += "\"";
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75 /* u */) {
        let code = 0;
        for (let i = 0; i < 4; i++) code = (code << 4) | this.hexDigit();
        if (this.failed) return "";
        out += String.fromCharCode(code);
      } else {
        this.failed = true;
        return "";
      }
      runStart = this.pos;
    }
    return out; // not reached
  }

  digits(): i32 {
    const start = this.pos;
    while (!this.atEnd()) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos - start;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  parseNumber(): JsonValue {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) {
      this.pos++;
    } else if (this.digits() == 0) {
      return this.fail();
    }
    if (this.peek() == 0x2e /* . */) {
      this.pos++;
      if (this.digits() == 0) return this.fail();
    }
    if (this.peek() == 0x65 || this.peek() == 0x45 /* e E */) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail();
    }
    const v = new JsonValue(JsonKind.Number);
    v.numberValue = parseFloat(this.text.substring(start, this.pos));
    return v;
  }
}

// Parses `text` as a single JSON value; null if it is not valid JSON.
export function parseJson(text: string): JsonValue | null {
  const parser = new Parser(text);
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.failed || !parser.atEnd()) return null;
  return value;
}

// True when `v` is a JSON number holding a non-negative integer that fits
// into 53 bits (exactly representable as f64).
export function isNonNegativeInteger(v: JsonValue): bool {
  if (v.kind != JsonKind.Number) return false;
  const n = v.numberValue;
  return n >= 0 && n <= 9007199254740991.0 && Math.floor(n) == n;
}
