// The wire types of the EventStoreDB stand-in: the message classes and gRPC service definitions that
// ship, generated, inside @eventstore/db-client, so the stand-in speaks exactly the client's protocol.
// They are CommonJS built by protoc, whose exports Node cannot name statically: loaded with require.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const generated = (name: string): unknown => require(`@eventstore/db-client/generated/${name}.js`);

export const streamsPb = generated(
  'streams_pb',
) as typeof import('@eventstore/db-client/generated/streams_pb.js');
export const sharedPb = generated(
  'shared_pb',
) as typeof import('@eventstore/db-client/generated/shared_pb.js');
export const statusPb = generated(
  'status_pb',
) as typeof import('@eventstore/db-client/generated/status_pb.js');
export const featuresPb = generated(
  'serverfeatures_pb',
) as typeof import('@eventstore/db-client/generated/serverfeatures_pb.js');
export const streamsGrpc = generated(
  'streams_grpc_pb',
) as typeof import('@eventstore/db-client/generated/streams_grpc_pb.js');
export const featuresGrpc = generated(
  'serverfeatures_grpc_pb',
) as typeof import('@eventstore/db-client/generated/serverfeatures_grpc_pb.js');
export const anyPb =
  require('google-protobuf/google/protobuf/any_pb.js') as typeof import('google-protobuf/google/protobuf/any_pb.js');
export const emptyPb =
  require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
export const timestampPb =
  require('google-protobuf/google/protobuf/timestamp_pb.js') as typeof import('google-protobuf/google/protobuf/timestamp_pb.js');

export type ReadReq = import('@eventstore/db-client/generated/streams_pb.js').ReadReq;
export type ReadResp = import('@eventstore/db-client/generated/streams_pb.js').ReadResp;
export type AppendReq = import('@eventstore/db-client/generated/streams_pb.js').AppendReq;
export type AppendResp = import('@eventstore/db-client/generated/streams_pb.js').AppendResp;
export type BatchAppendReq = import('@eventstore/db-client/generated/streams_pb.js').BatchAppendReq;
export type BatchAppendResp = import('@eventstore/db-client/generated/streams_pb.js').BatchAppendResp;
export type UUID = import('@eventstore/db-client/generated/shared_pb.js').UUID;
export type StreamIdentifier = import('@eventstore/db-client/generated/shared_pb.js').StreamIdentifier;

/** A stream name as the wire carries it (bytes, UTF-8). */
export const streamIdentifier = (name: string): StreamIdentifier =>
  new sharedPb.StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));

export const streamNameOf = (id: StreamIdentifier | undefined): string =>
  id ? Buffer.from(id.getStreamName_asU8()).toString('utf8') : '';

/** An event id off the wire: the client sends the string form, other clients the structured one. */
export const uuidOf = (id: UUID | undefined): string => {
  if (!id) return '';
  if (id.hasStructured()) {
    const s = id.getStructured()!;
    const hex =
      BigInt.asUintN(64, BigInt(s.getMostSignificantBits())).toString(16).padStart(16, '0') +
      BigInt.asUintN(64, BigInt(s.getLeastSignificantBits())).toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return id.getString();
};

/** An event id for the wire, in the form the reader asked for (ReadReq's uuid_option). */
export const uuidFor = (id: string, structured: boolean): UUID => {
  const out = new sharedPb.UUID();
  if (!structured) return out.setString(id);
  const hex = id.replaceAll('-', '');
  const s = new sharedPb.UUID.Structured()
    .setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString())
    .setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  return out.setStructured(s);
};

export const empty = () => new emptyPb.Empty();
export const sharedEmpty = () => new sharedPb.Empty();

/** A google.rpc.Status whose details carry one of the server's typed error messages (BatchAppend errors). */
export const rpcStatus = (
  code: number,
  message: string,
  detail: { serializeBinary(): Uint8Array },
  typeName: string,
) => {
  const any = new anyPb.Any();
  any.pack(detail.serializeBinary(), typeName);
  return new statusPb.Status().setCode(code).setMessage(message).setDetails(any);
};
