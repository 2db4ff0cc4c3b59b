/** Tags of clusters and node groups: TagResource, UntagResource, ListTagsForResource by ARN. */
import type { EmulatorContext } from "./context.js";
import { EksError } from "./errors.js";
import { stringMap, type Json } from "./request.js";

/** EKS tag rules (EKS API reference, TagResource): 128-character keys, 256-character values, these characters. */
const MAX_TAGS_PER_RESOURCE = 50;
const TAG_TEXT = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;

export class TagOperations {
  constructor(private readonly context: EmulatorContext) {}

  listTagsForResource(arn: string): Json {
    return { tags: { ...this.taggable(arn).tags } };
  }

  tagResource(arn: string, body: Json): Json {
    const resource = this.taggable(arn);
    const tags = stringMap(body.tags);
    if (Object.keys(tags).length === 0) throw new EksError("BadRequestException", "tags must name at least one tag");
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const merged = { ...resource.tags, ...tags };
    if (Object.keys(merged).length > MAX_TAGS_PER_RESOURCE) throw new EksError("BadRequestException", `a resource may carry at most ${MAX_TAGS_PER_RESOURCE} tags`);
    resource.tags = merged;
    return {};
  }

  untagResource(arn: string, query: URLSearchParams): Json {
    const resource = this.taggable(arn);
    const keys = query.getAll("tagKeys");
    if (keys.length === 0) throw new EksError("BadRequestException", "tagKeys must name at least one key");
    const tags = { ...resource.tags };
    for (const key of keys) delete tags[key];
    resource.tags = tags;
    return {};
  }

  /** Tags of a cluster or node group, found by the ARN DescribeCluster / DescribeNodegroup report. */
  private taggable(arn: string): { tags: Record<string, string> } {
    const { state } = this.context;
    const found = [...state.clusters.values()].find((cluster) => cluster.arn === arn) ?? [...state.nodegroups.values()].find((group) => group.arn === arn);
    if (!found) throw new EksError("NotFoundException", `Resource not found: ${arn}`);
    return found;
  }
}

function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > 128 || !TAG_TEXT.test(key) || key.toLowerCase().startsWith("aws:")) {
    throw new EksError("BadRequestException", `invalid tag key "${key}": 1 to 128 letters, digits, spaces or + - = . _ : / @, not starting with aws:`);
  }
  if (value.length > 256 || !TAG_TEXT.test(value)) throw new EksError("BadRequestException", `invalid value for tag ${key}: at most 256 letters, digits, spaces or + - = . _ : / @`);
}
