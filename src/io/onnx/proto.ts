// The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, IR version 10) that a model file needs,
// as a protobufjs JSON descriptor: field names and numbers exactly as the schema gives them, so protobufjs
// does the wire encoding and we never paste bytes. Only messages an inference graph uses are listed
// (no training info, functions or sparse tensors); decoding a file with more skips those fields.
import protobuf from 'protobufjs/light.js';
import { FormatError } from '../errors';

/** TensorProto.DataType */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10,
  DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface StringStringEntry { key: string; value: string }

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataType;
  rawData?: Uint8Array;
  /** TensorProto.DataLocation: 0 DEFAULT (raw_data), 1 EXTERNAL (external_data says where). */
  dataLocation?: 0 | 1;
  externalData?: StringStringEntry[];
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeProto[];
}

export interface Dimension { dimValue?: number; dimParam?: string }

export interface ValueInfoProto {
  name: string;
  type: { tensorType: { elemType: DataType; shape: { dim: Dimension[] } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetId { domain: string; version: number }

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProto;
  metadataProps?: StringStringEntry[];
}

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        TensorProto: {
          fields: {
            dims: f(1, 'int64', 'repeated'),
            dataType: f(2, 'int32'),
            floatData: f(4, 'float', 'repeated'),
            int32Data: f(5, 'int32', 'repeated'),
            stringData: f(6, 'bytes', 'repeated'),
            int64Data: f(7, 'int64', 'repeated'),
            name: f(8, 'string'),
            rawData: f(9, 'bytes'),
            doubleData: f(10, 'double', 'repeated'),
            uint64Data: f(11, 'uint64', 'repeated'),
            docString: f(12, 'string'),
            externalData: f(13, 'StringStringEntryProto', 'repeated'),
            dataLocation: f(14, 'int32'),
          },
        },
        AttributeProto: {
          fields: {
            name: f(1, 'string'),
            f: f(2, 'float'),
            i: f(3, 'int64'),
            s: f(4, 'bytes'),
            t: f(5, 'TensorProto'),
            floats: f(7, 'float', 'repeated'),
            ints: f(8, 'int64', 'repeated'),
            strings: f(9, 'bytes', 'repeated'),
            tensors: f(10, 'TensorProto', 'repeated'),
            docString: f(13, 'string'),
            type: f(20, 'int32'),
            refAttrName: f(21, 'string'),
          },
        },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'),
            output: f(2, 'string', 'repeated'),
            name: f(3, 'string'),
            opType: f(4, 'string'),
            attribute: f(5, 'AttributeProto', 'repeated'),
            docString: f(6, 'string'),
            domain: f(7, 'string'),
          },
        },
        TensorShapeProto: {
          fields: { dim: f(1, 'Dimension', 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string'), denotation: f(3, 'string') },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: f(1, 'Tensor'), denotation: f(6, 'string') },
          nested: { Tensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), docString: f(3, 'string') } },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'),
            name: f(2, 'string'),
            initializer: f(5, 'TensorProto', 'repeated'),
            docString: f(10, 'string'),
            input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'),
            valueInfo: f(13, 'ValueInfoProto', 'repeated'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            domain: f(4, 'string'),
            modelVersion: f(5, 'int64'),
            docString: f(6, 'string'),
            graph: f(7, 'GraphProto'),
            opsetImport: f(8, 'OperatorSetIdProto', 'repeated'),
            metadataProps: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;
const ModelType = () => (modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto'));

/** Serialise a model to the bytes of a .onnx file. The caller keeps it under protobuf's 2 GB limit (external data). */
export function encodeModel(model: ModelProto): Uint8Array {
  const T = ModelType();
  return T.encode(T.fromObject(model)).finish();
}

/** Parse .onnx bytes (for inspection and tests); int64 fields come back as numbers. Damaged bytes: FormatError. */
export function decodeModel(bytes: Uint8Array, name = 'model.onnx'): ModelProto {
  const T = ModelType();
  let decoded;
  try {
    decoded = T.decode(bytes);
  } catch (e) {
    // protobufjs reports a field running past the end as a RangeError ("index out of range: 23 + 116 > 132")
    throw new FormatError('ONNX', name, `protobuf does not decode: ${(e as Error).message}`);
  }
  return T.toObject(decoded, { longs: Number, defaults: false, arrays: true }) as ModelProto;
}
