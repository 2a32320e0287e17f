// A small builder over the ONNX protobuf messages: declare inputs, add initializers and nodes by name,
// declare outputs, then `build` into a ModelProto. Large initializers can go to an external data file
// (ONNX's external data: location, offset, length), so no .onnx file nears protobuf's 2 GB limit and the
// weights never have to be concatenated into one buffer.
import {
  AttributeType, DataType, encodeModel, type AttributeProto, type Dimension, type ModelProto, type NodeProto,
  type OperatorSetId, type TensorProto, type ValueInfoProto,
} from './proto';

export type Dim = number | string;
export type AttrValue = number | string | number[] | { floats: number[] } | { float: number } | TensorProto;

/** An initializer's bytes: one buffer, or parts that are written back to back (never joined in memory). */
export interface Weight {
  readonly name: string;
  readonly dataType: DataType;
  readonly dims: readonly number[];
  readonly parts: readonly Uint8Array[];
}

export const weightBytes = (w: Weight) => w.parts.reduce((s, p) => s + p.byteLength, 0);

export interface BuildOptions {
  /**
   * Name of the external data file (beside the .onnx); undefined keeps every initializer inline. Files past
   * the first are NAME_1, NAME_2 ... (transformers.js's chunk naming), each at most `externalChunkBytes`.
   */
  externalData?: string;
  /** Most bytes of one external data file (default 1 GiB; a tensor never straddles two files). */
  externalChunkBytes?: number;
  /** Initializers of at least this many bytes go to the external file (default 1 KiB). */
  externalThreshold?: number;
  /** ONNX Runtime maps external data faster when each tensor starts on this boundary (default 4096). */
  externalAlign?: number;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface ExternalFile { readonly name: string; readonly parts: Uint8Array[]; bytes: number }

/** A built model: the .onnx bytes and, when asked for, the external data files as parts. */
export interface OnnxModelFiles {
  readonly onnx: Uint8Array;
  readonly external: readonly ExternalFile[];
}

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { float })`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.TENSOR, t: v };
}

const dims = (shape: readonly Dim[]): Dimension[] => shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
const valueInfo = (name: string, elemType: DataType, shape: readonly Dim[]): ValueInfoProto =>
  ({ name, type: { tensorType: { elemType, shape: { dim: dims(shape) } } } });

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly weights: Weight[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly opsets = new Map<string, number>();
  private counter = 0;

  constructor(readonly name: string, opset: number) {
    this.opsets.set('', opset);
  }

  /** Declare an operator set besides the default one (e.g. com.microsoft for MatMulNBits). */
  useDomain(domain: string, version: number): this {
    this.opsets.set(domain, version);
    return this;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: value ${name} is defined twice`);
    this.names.add(name);
    return name;
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let n = `${prefix}`;
    while (this.names.has(n)) n = `${prefix}_${++this.counter}`;
    return n;
  }

  input(name: string, elemType: DataType, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, shape));
    return name;
  }

  output(value: string, elemType: DataType, shape: readonly Dim[]): void {
    if (!this.names.has(value)) throw new Error(`ONNX graph ${this.name}: output ${value} is never computed`);
    this.outputs.push(valueInfo(value, elemType, shape));
  }

  weight(name: string, dataType: DataType, shape: readonly number[], data: ArrayBufferView | readonly Uint8Array[]): string {
    const parts = Array.isArray(data) ? (data as Uint8Array[]) : [bytesOf(data as ArrayBufferView)];
    this.weights.push({ name: this.claim(name), dataType, dims: [...shape], parts });
    return name;
  }

  /** Small constants (shapes, axes, scalars) as initializers. */
  constInt64(name: string, values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.weight(this.fresh(name), DataType.INT64, shape, BigInt64Array.from(values.map(BigInt)));
  }

  constFloat(name: string, values: readonly number[] | Float32Array, shape: readonly number[] = [values.length]): string {
    return this.weight(this.fresh(name), DataType.FLOAT, shape, Float32Array.from(values));
  }

  /**
   * Add a node; returns its output names (`outputs` names them, or fresh names from the op type).
   * Attribute numbers are ints; wrap floats as { float } so an integral float never becomes an INT.
   */
  node(
    opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {},
    opts: { outputs?: readonly string[] | number; domain?: string; name?: string } = {},
  ): string[] {
    for (const i of inputs) if (i !== '' && !this.names.has(i)) throw new Error(`ONNX graph ${this.name}: ${opType} reads ${i} before it is defined`);
    const outs = typeof opts.outputs === 'object'
      ? opts.outputs.map((o) => this.claim(o))
      : Array.from({ length: opts.outputs ?? 1 }, () => this.claim(this.fresh(`${opts.name ?? opType}_out`)));
    const domain = opts.domain ?? '';
    if (!this.opsets.has(domain)) throw new Error(`ONNX graph ${this.name}: domain ${domain} not declared (useDomain)`);
    this.nodes.push({
      input: [...inputs], output: outs, name: this.fresh(`node_${opts.name ?? opType}`), opType, domain,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    this.names.add(this.nodes[this.nodes.length - 1].name);
    return outs;
  }

  /** One-output shorthand. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: { domain?: string; name?: string; output?: string } = {}): string {
    return this.node(opType, inputs, attrs, { ...opts, outputs: opts.output ? [opts.output] : 1 })[0];
  }

  /** The weights in declaration order (for tests and size reports). */
  get initializers(): readonly Weight[] {
    return this.weights;
  }

  build(opts: BuildOptions = {}): OnnxModelFiles {
    const threshold = opts.externalThreshold ?? 1024;
    const align = opts.externalAlign ?? 4096;
    const chunk = opts.externalChunkBytes ?? 2 ** 30;
    const external: ExternalFile[] = [];
    const initializer: TensorProto[] = this.weights.map((w) => {
      const bytes = weightBytes(w);
      if (!opts.externalData || bytes < threshold) {
        const rawData = w.parts.length === 1 ? w.parts[0] : concat(w.parts, bytes);
        return { name: w.name, dims: [...w.dims], dataType: w.dataType, rawData };
      }
      let file = external[external.length - 1];
      let pad = file ? (align - (file.bytes % align)) % align : 0;
      if (!file || (file.bytes > 0 && file.bytes + pad + bytes > chunk)) {
        file = { name: external.length ? `${opts.externalData}_${external.length}` : opts.externalData, parts: [], bytes: 0 };
        external.push(file);
        pad = 0;
      }
      if (pad) file.parts.push(new Uint8Array(pad));
      const at = file.bytes + pad;
      file.parts.push(...w.parts);
      file.bytes = at + bytes;
      return {
        name: w.name, dims: [...w.dims], dataType: w.dataType, dataLocation: 1,
        externalData: [{ key: 'location', value: file.name }, { key: 'offset', value: String(at) }, { key: 'length', value: String(bytes) }],
      };
    });
    const model: ModelProto = {
      irVersion: 8,
      opsetImport: [...this.opsets].map(([domain, version]): OperatorSetId => ({ domain, version })),
      producerName: 'compression-lab',
      producerVersion: '0.1.0',
      docString: opts.docString,
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const onnx = encodeModel(model);
    return { onnx, external };
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}
