import { s3Errors } from './errors.js';
import { checkedTags } from './object-properties.js';
import { checkVersionId } from './objects.js';
import { type RequestContext, target } from './request.js';
import { S3_XMLNS, sendXml, textOf } from './xml.js';
import { elements, readXmlRequest } from './xml-request.js';

/** GetObjectTagging, PutObjectTagging, DeleteObjectTagging: tags change, bytes and ETag stay. */
export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  checkVersionId(ctx);
  const meta = await ctx.state.objects.head(bucket, key);
  if (!meta) throw s3Errors.noSuchKey(undefined, { Key: key });
  sendXml(ctx.res, 200, {
    Tagging: {
      '@_xmlns': S3_XMLNS,
      TagSet: { Tag: meta.tags.map((tag) => ({ Key: tag.key, Value: tag.value })) },
    },
  });
}

export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  checkVersionId(ctx);
  const tagging = await readXmlRequest(ctx, 'Tagging');
  const tagSet = tagging.TagSet;
  const tags = checkedTags(
    elements(tagSet && typeof tagSet === 'object' ? (tagSet as Record<string, unknown>) : {}, 'Tag').map(
      (tag) => {
        const tagKey = textOf(tag.Key);
        const value = textOf(tag.Value);
        if (tagKey === undefined || value === undefined) throw s3Errors.malformedXml();
        return { key: tagKey, value };
      },
    ),
  );
  await ctx.state.objects.update(bucket, key, (meta) => ({ ...meta, tags }));
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  const { bucket, key } = target(ctx);
  checkVersionId(ctx);
  await ctx.state.objects.update(bucket, key, (meta) => ({ ...meta, tags: [] }));
  ctx.res.writeHead(204);
  ctx.res.end();
}
