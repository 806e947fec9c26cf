// The DynamoDB global table, twinned in DynamoDB Local (it keeps a database
// per access key and region): a replicator between one table per region that
// does what global tables do, for the tests that need one
// (global_table.test.mjs, edge_devices_regions.test.mjs).
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";

/// The local stack's DynamoDB credentials: DynamoDB Local keeps a database per access key and region.
export const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Replicates every write of each region's stream to the other regions after
/// `lagMs`, keeping for each key the latest write (by when the replicator read
/// it, within 100 ms of the write: stream times have a resolution of seconds;
/// ties go to the greater region name), as global tables resolve concurrent
/// writes. Its own writes are recognised in the target's stream and not sent back.
export class Replicator {
  constructor(endpoint, regions, lagMs, table) {
    this.table = table;
    this.regions = regions;
    this.lagMs = lagMs;
    this.tables = new Map(regions.map((r) => [r, new DynamoDBClient({ region: r, endpoint, credentials: CREDENTIALS })]));
    this.streams = new Map(regions.map((r) => [r, new DynamoDBStreamsClient({ region: r, endpoint, credentials: CREDENTIALS })]));
    this.winners = new Map(); // key -> { time, region }
    this.echoes = new Set(); // `${region}|${key}|${image}` written by the replicator
    this.pending = new Set();
    this.passes = new Map(regions.map((r) => [r, 0])); // reads of each region's stream completed
    this.running = true;
  }

  async start(streamArns) {
    this.loops = this.regions.map((region) => this.follow(region, streamArns.get(region)));
  }

  async follow(region, streamArn) {
    const streams = this.streams.get(region);
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    let iterators = await Promise.all(StreamDescription.Shards.map(async (shard) => (await streams.send(new GetShardIteratorCommand({
      StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON",
    }))).ShardIterator));
    while (this.running) {
      const next = [];
      for (const iterator of iterators) {
        if (!iterator) continue;
        const { Records, NextShardIterator } = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        for (const record of Records) this.received(region, record);
        next.push(NextShardIterator);
      }
      iterators = next;
      this.passes.set(region, this.passes.get(region) + 1);
      await sleep(100);
    }
  }

  received(region, record) {
    const keys = JSON.stringify(record.dynamodb.Keys);
    const image = record.dynamodb.NewImage ?? null;
    const echo = `${region}|${keys}|${JSON.stringify(image)}`;
    if (this.echoes.delete(echo)) return;
    const write = { time: Date.now(), region, keys: record.dynamodb.Keys, image };
    const winner = this.winners.get(keys);
    if (!winner || write.time > winner.time || (write.time === winner.time && region > winner.region)) this.winners.set(keys, write);
    const delivery = sleep(this.lagMs).then(() => this.deliver(keys, write));
    this.pending.add(delivery);
    delivery.finally(() => this.pending.delete(delivery));
  }

  async deliver(keys, write) {
    // A later write to the same key, from anywhere, wins over this one.
    if (this.winners.get(keys) !== write || !this.running) return;
    for (const target of this.regions) {
      if (target === write.region) continue;
      this.echoes.add(`${target}|${keys}|${JSON.stringify(write.image)}`);
      const table = this.tables.get(target);
      if (write.image) await table.send(new PutItemCommand({ TableName: this.table, Item: write.image }));
      else await table.send(new DeleteItemCommand({ TableName: this.table, Key: write.keys }));
    }
  }

  /// Returns once every write made before the call has reached every replica. A write is
  /// only pending once its region's stream has been read, which on a loaded machine can be
  /// after the test has moved on: so first wait until each region has read its stream in a
  /// pass that began after this call (the pass under way may have read before the last
  /// write), then for the deliveries.
  async settle() {
    const began = new Map(this.regions.map((r) => [r, this.passes.get(r)]));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const behind = this.regions.filter((r) => this.passes.get(r) < began.get(r) + 2);
      if (behind.length === 0) break;
      if (Date.now() > deadline) throw new Error(`replicator: no read of the ${behind.join(", ")} stream for 30 s`);
      await sleep(20);
    }
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async stop() {
    this.running = false;
    await Promise.allSettled(this.loops ?? []);
  }
}

