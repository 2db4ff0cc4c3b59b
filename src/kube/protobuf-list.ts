// Pods read as the API server's protobuf rather than its JSON. Every built-in kind can be served
// as `application/vnd.kubernetes.protobuf`, the encoding kube-controller-manager, the scheduler
// and the kubelets ask for. For the operator it has two advantages at 60,000 pods:
// - the API server encodes a page several times faster than as JSON, and on a cluster whose API
//   server is busy that time is the read's;
// - a pod's fields come as length-prefixed parts, so everything slim.ts does not keep
//   (managedFields, containers, most of the status) is stepped over without being parsed. JSON.parse
//   has to build every object and string of a pod before any of it can be dropped.
//
// The decoding of the wire format (varints, lengths, strings, skipping a field) is protobufjs's
// Reader. What is read of a pod is decided here, by field number: the numbers are those of
// k8s.io/api/core/v1 and k8s.io/apimachinery/pkg/apis/meta/v1 `generated.proto`, which Kubernetes
// never renumbers (a renumbered field would break every client of its protobuf API). Each decoded
// pod holds the fields slimPod reads, in the shape of the JSON API, and goes through slimPod like
// a pod read as JSON: slim.ts stays the one list of what is kept.
import protobuf from "protobufjs/minimal.js";
import type { V1OwnerReference, V1Pod, V1PodCondition, V1Volume } from "@kubernetes/client-node";

/** The content type of the API server's protobuf, and the four bytes every such body starts with ("k8s\0"). */
export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((byte, at) => bytes[at] === byte);
}

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

type Reader = protobuf.Reader;

/** A key (field number and wire type) as it is written before the field's value. */
function key(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** An int64 as a number: protobufjs gives a Long when the long package is loaded, a number when not. */
function int64(reader: Reader): number {
  const value = reader.int64() as unknown as number | { toNumber(): number };
  return typeof value === "number" ? value : value.toNumber();
}

/**
 * A string field of a Go struct that the JSON API leaves out when empty (`omitempty`). Its
 * protobuf is written even when empty, so "" here means the JSON would not have the field.
 */
function present(value: string): string | undefined {
  return value === "" ? undefined : value;
}

/** The end of the length-delimited value the reader is at, its length read. */
function ending(reader: Reader): number {
  const length = reader.uint32();
  return reader.pos + length;
}

function skip(reader: Reader, tag: number): void {
  reader.skipType(tag & 7);
}

/** k8s.io.apimachinery.pkg.apis.meta.v1.Time, as the JSON API writes it (RFC 3339, whole seconds). */
function time(reader: Reader, end: number): string {
  let seconds = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === key(1, VARINT)) seconds = int64(reader);
    else skip(reader, tag);
  }
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** A map<string, string> entry: key 1, value 2. */
function entry(reader: Reader, end: number, into: Record<string, string>): void {
  let name = "";
  let value = "";
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === key(1, LENGTH_DELIMITED)) name = reader.string();
    else if (tag === key(2, LENGTH_DELIMITED)) value = reader.string();
    else skip(reader, tag);
  }
  into[name] = value;
}

function ownerReference(reader: Reader, end: number): V1OwnerReference {
  const owner: Partial<V1OwnerReference> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === key(1, LENGTH_DELIMITED)) owner.kind = reader.string();
    else if (tag === key(3, LENGTH_DELIMITED)) owner.name = reader.string();
    else if (tag === key(4, LENGTH_DELIMITED)) owner.uid = reader.string();
    else if (tag === key(5, LENGTH_DELIMITED)) owner.apiVersion = reader.string();
    else if (tag === key(6, VARINT)) owner.controller = reader.bool();
    else skip(reader, tag);
  }
  return owner as V1OwnerReference;
}

/** ObjectMeta without what slimPod drops for pods (managedFields, finalizers, resourceVersion, times but deletion's). */
function objectMeta(reader: Reader, end: number): NonNullable<V1Pod["metadata"]> {
  const meta: NonNullable<V1Pod["metadata"]> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case key(1, LENGTH_DELIMITED):
        meta.name = present(reader.string());
        break;
      case key(3, LENGTH_DELIMITED):
        meta.namespace = present(reader.string());
        break;
      case key(5, LENGTH_DELIMITED):
        meta.uid = present(reader.string());
        break;
      case key(9, LENGTH_DELIMITED):
        meta.deletionTimestamp = time(reader, ending(reader)) as unknown as Date;
        break;
      case key(10, VARINT):
        meta.deletionGracePeriodSeconds = int64(reader);
        break;
      case key(11, LENGTH_DELIMITED):
        entry(reader, ending(reader), (meta.labels ??= {}));
        break;
      case key(12, LENGTH_DELIMITED):
        entry(reader, ending(reader), (meta.annotations ??= {}));
        break;
      case key(13, LENGTH_DELIMITED):
        (meta.ownerReferences ??= []).push(ownerReference(reader, ending(reader)));
        break;
      default:
        skip(reader, tag);
    }
  }
  return meta;
}

/** A Volume: its name, and an empty emptyDir when it is one (the only source slimPod keeps). */
function volume(reader: Reader, end: number): V1Volume {
  const kept: V1Volume = { name: "" };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === key(1, LENGTH_DELIMITED)) kept.name = reader.string();
    else if (tag === key(2, LENGTH_DELIMITED)) {
      // VolumeSource, whose fields the JSON API writes inline in the Volume.
      const sourceEnd = ending(reader);
      while (reader.pos < sourceEnd) {
        const source = reader.uint32();
        if (source === key(2, LENGTH_DELIMITED)) kept.emptyDir = {};
        skip(reader, source);
      }
    } else skip(reader, tag);
  }
  return kept;
}

function podSpec(reader: Reader, end: number): NonNullable<V1Pod["spec"]> {
  const spec: NonNullable<V1Pod["spec"]> = { containers: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case key(1, LENGTH_DELIMITED):
        (spec.volumes ??= []).push(volume(reader, ending(reader)));
        break;
      case key(4, VARINT):
        spec.terminationGracePeriodSeconds = int64(reader);
        break;
      case key(10, LENGTH_DELIMITED):
        spec.nodeName = present(reader.string());
        break;
      case key(24, LENGTH_DELIMITED):
        spec.priorityClassName = present(reader.string());
        break;
      default:
        skip(reader, tag);
    }
  }
  return spec;
}

function podCondition(reader: Reader, end: number): V1PodCondition {
  const condition: V1PodCondition = { type: "", status: "" };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === key(1, LENGTH_DELIMITED)) condition.type = reader.string();
    else if (tag === key(2, LENGTH_DELIMITED)) condition.status = reader.string();
    else skip(reader, tag);
  }
  return condition;
}

function podStatus(reader: Reader, end: number): NonNullable<V1Pod["status"]> {
  const status: NonNullable<V1Pod["status"]> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case key(1, LENGTH_DELIMITED):
        status.phase = present(reader.string());
        break;
      case key(2, LENGTH_DELIMITED):
        (status.conditions ??= []).push(podCondition(reader, ending(reader)));
        break;
      case key(9, LENGTH_DELIMITED):
        status.qosClass = present(reader.string());
        break;
      default:
        skip(reader, tag);
    }
  }
  return status;
}

/** One Pod message: the fields slimPod reads, in the JSON API's shape. */
export function decodePod(bytes: Uint8Array): V1Pod {
  const reader = protobuf.Reader.create(bytes);
  const pod: V1Pod = {};
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === key(1, LENGTH_DELIMITED)) pod.metadata = objectMeta(reader, ending(reader));
    else if (tag === key(2, LENGTH_DELIMITED)) pod.spec = podSpec(reader, ending(reader));
    else if (tag === key(3, LENGTH_DELIMITED)) pod.status = podStatus(reader, ending(reader));
    else skip(reader, tag);
  }
  return pod;
}

/** Where a field starts and its value ends, in bytes that may not hold all of it yet. */
interface FieldAt {
  tag: number;
  /** The value's first byte (after the key, and the length of a length-delimited value). */
  start: number;
  /** One past the value's last byte; may be beyond the bytes at hand. */
  end: number;
}

/** The field at the start of `bytes`, or undefined when its key or length has not all arrived. */
function fieldAt(bytes: Uint8Array): FieldAt | undefined {
  const reader = protobuf.Reader.create(bytes);
  try {
    const tag = reader.uint32();
    if ((tag & 7) === LENGTH_DELIMITED) {
      const length = reader.uint32();
      return { tag, start: reader.pos, end: reader.pos + length };
    }
    reader.skipType(tag & 7);
    return { tag, start: reader.pos, end: reader.pos };
  } catch (error) {
    // protobufjs's Reader throws a RangeError when a value runs past the end of its bytes.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** A body's bytes as they arrive: what has come and is not used yet, and whether the body has ended. */
class ArrivingBytes {
  pending: Buffer = Buffer.alloc(0);
  ended = false;

  constructor(
    private readonly chunks: AsyncIterator<Buffer | string>,
    private readonly abandon: () => void,
  ) {}

  async more(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return;
    }
    const chunk = typeof next.value === "string" ? Buffer.from(next.value, "latin1") : next.value;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /**
   * The next field, once its value has arrived whole; with `headerOnly`, once its key and length
   * have (the envelope's `raw`, whose value is read field by field). Undefined at the end of the body.
   */
  async field(headerOnly = false): Promise<FieldAt | undefined> {
    for (;;) {
      const found = this.pending.length > 0 ? fieldAt(this.pending) : undefined;
      if (found && (headerOnly || found.end <= this.pending.length)) return found;
      if (this.ended) {
        if (this.pending.length === 0) return undefined;
        throw new SyntaxError("a protobuf list body ends inside a field");
      }
      await this.more();
    }
  }

  consume(bytes: number): void {
    this.pending = this.pending.subarray(bytes);
  }

  /** Stops before the end: the rest is not read, and its source is closed. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.abandon();
    await this.chunks.return?.();
  }
}

/** The continue token in a ListMeta's bytes ("" when it has none). */
function listContinue(bytes: Uint8Array): string {
  const reader = protobuf.Reader.create(bytes);
  let token = "";
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === key(3, LENGTH_DELIMITED)) token = reader.string();
    else skip(reader, tag);
  }
  return token;
}

/** A page of a protobuf list: its continue token ("" on the last page) and its items, decoded as they are reached. */
export interface ProtobufPage<T> {
  continue: string;
  items: AsyncIterable<T>;
}

/**
 * A list body in protobuf, read as it arrives. The body is the four magic bytes, then a
 * runtime.Unknown: its `typeMeta` (field 1), then `raw` (field 2), the list itself, then its
 * content type and encoding. The list is its ListMeta (field 1, the continue token in ListMeta's
 * field 3), then its items (field 2), in that order as the API server writes it.
 *
 * As with JSON pages (raw-list.ts, readListBody), the page is returned once its continue token has
 * arrived, and each item is decoded as its bytes complete: listAll asks for the next page first,
 * and what is held is the chunk that arrived and the item being decoded. A list whose items came
 * before its ListMeta would still be read right: its items are held until the token is known.
 */
export async function readProtobufListBody<T>(body: AsyncIterable<Buffer | string>, decode: (item: Uint8Array) => T, abandon: () => void = () => undefined): Promise<ProtobufPage<T>> {
  const arriving = new ArrivingBytes(body[Symbol.asyncIterator](), abandon);
  try {
    while (arriving.pending.length < MAGIC.length && !arriving.ended) await arriving.more();
    if (!startsWithMagic(arriving.pending)) throw new SyntaxError("a protobuf response does not start with the Kubernetes magic bytes");
    arriving.consume(MAGIC.length);
    // The envelope's fields up to raw, whose value is read field by field below.
    let rawLeft: number | undefined;
    while (rawLeft === undefined) {
      const header = await arriving.field(true);
      if (!header) throw new SyntaxError("a protobuf list response has no object in its envelope");
      if (header.tag === key(2, LENGTH_DELIMITED)) {
        rawLeft = header.end - header.start;
        arriving.consume(header.start);
      } else {
        const field = await arriving.field();
        arriving.consume(field!.end);
      }
    }
    let left = rawLeft;
    /** The list's next field, its value whole, or undefined at the end of the list. */
    const next = async (): Promise<{ tag: number; value: Buffer } | undefined> => {
      if (left === 0) return undefined;
      const field = await arriving.field();
      if (!field || field.end > left) throw new SyntaxError("a protobuf list's field runs past the end of the list");
      const value = arriving.pending.subarray(field.start, field.end);
      arriving.consume(field.end);
      left -= field.end;
      return { tag: field.tag, value };
    };
    let token: string | undefined;
    const early: Buffer[] = [];
    while (token === undefined) {
      const field = await next();
      if (!field) token = "";
      else if (field.tag === key(1, LENGTH_DELIMITED)) token = listContinue(field.value);
      else if (field.tag === key(2, LENGTH_DELIMITED)) early.push(field.value);
    }
    async function* items(): AsyncGenerator<T> {
      try {
        for (const item of early) yield decode(item);
        early.length = 0;
        for (let field = await next(); field; field = await next()) if (field.tag === key(2, LENGTH_DELIMITED)) yield decode(field.value);
        // What follows the list in the envelope (its content type) is read and dropped.
        while (!arriving.ended) {
          arriving.consume(arriving.pending.length);
          await arriving.more();
        }
      } finally {
        await arriving.close();
      }
    }
    return { continue: token, items: items() };
  } catch (error) {
    await arriving.close();
    throw error;
  }
}

/**
 * A Status in protobuf (the body of a refusal when protobuf was asked for) as the JSON the API
 * server would have sent, so that readKubeError reads its reason and message the same way.
 * Status: status 2, message 3, reason 4, code 6. Undefined when the body is not one.
 */
export function protobufStatusAsJson(body: Uint8Array): string | undefined {
  try {
    if (!startsWithMagic(body)) return undefined;
    const envelope = protobuf.Reader.create(body.subarray(MAGIC.length));
    let raw: Uint8Array | undefined;
    while (envelope.pos < envelope.len) {
      const tag = envelope.uint32();
      if (tag === key(2, LENGTH_DELIMITED)) raw = envelope.bytes();
      else skip(envelope, tag);
    }
    if (!raw) return undefined;
    const reader = protobuf.Reader.create(raw);
    const status: Record<string, string | number> = { kind: "Status", apiVersion: "v1" };
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === key(2, LENGTH_DELIMITED)) status.status = reader.string();
      else if (tag === key(3, LENGTH_DELIMITED)) status.message = reader.string();
      else if (tag === key(4, LENGTH_DELIMITED)) status.reason = reader.string();
      else if (tag === key(6, VARINT)) status.code = reader.int32();
      else skip(reader, tag);
    }
    return JSON.stringify(status);
  } catch {
    return undefined;
  }
}
